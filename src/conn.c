/*
 * conn.c - a client connection. One raw libevent event on the socket
 * (no bufferevents: bodies never pass through user space), a header
 * buffer, parser and response taken from the worker's pool only while a
 * request is in flight (reqstate.h: an idle connection owns a few hundred
 * bytes, in the worker's slab), and a state machine driven by sf_conn_run:
 *
 *   READ -> HANDLE -> WRITE -> DONE -> READ (keep-alive)
 *                                   -> LINGER -> CLOSE
 *
 * READ reads and lets the parser say (sf_request_next) when there is
 * something to answer: a request, a head whose client waits for us
 * (Expect: 100-continue), or a parse error. HANDLE builds the answer
 * (server.h), WRITE sends it, DONE logs it and either keeps the
 * pipelined bytes for the next READ (sf_request_advance) or starts the
 * close. A step that must wait returns SF_IO_AGAIN; any state may become
 * CLOSE, also from outside (a lease break: on_file_abort), and only the
 * event callback frees.
 *
 * On a listener with proxy_protocol on, a connection starts in PROXY: it
 * reads the PROXY header (proxy.h) that names the real client, then READ.
 *
 * Timeouts ride on the connection's own event: the header timeout is an
 * absolute deadline from a request's first byte to its body's end (no
 * slowloris stretches it), the keep-alive timeout runs while idle, and
 * the send timeout restarts whenever the socket takes bytes (then: reset).
 */
#include "sfhttpd/conn.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sfhttpd/fcache.h"
#include "sfhttpd/listen.h"
#include "sfhttpd/pool.h"
#include "sfhttpd/proxy.h"
#include "sfhttpd/reqstate.h"
#include "sfhttpd/request.h"
#include "sfhttpd/response.h"
#include "sfhttpd/sender.h"
#include "sfhttpd/server.h"
#include "sfhttpd/snapshot.h"
#include "sfhttpd/slab.h"

/* How long a closing connection reads and discards what the client still
 * sends, so that our last response is not destroyed by a reset. */
#define LINGER_MS 2000
/* How long a graceful stop waits for the first request of a connection
 * that was accepted but has sent nothing yet. */
#define DRAIN_GRACE_MS 1000
#define LINGER_MAX_BYTES (256 * 1024)

enum sf_conn_state {
    SF_CONN_READ = 0,
    SF_CONN_PROXY,
    SF_CONN_HANDLE,
    SF_CONN_WRITE,
    SF_CONN_DONE,
    SF_CONN_LINGER,
    SF_CONN_CLOSE
};

/* An idle connection owns only this (and its socket and event). */
struct sf_conn {
    struct sf_server *srv;    /* dispatch and bookkeeping only */
    struct event_base *base;
    const struct sf_config *cfg;
    struct sf_log *log;
    struct sf_reqstate *w;    /* while a request is in flight, else NULL */
    int fd;
    short ev_what;            /* what ev is registered for, 0 = not yet */
    bool in_request;          /* some byte of the current request arrived */
    bool draining;            /* graceful stop: close after this response */
    bool proxy_protocol;      /* a PROXY header comes first (proxy.h) */
    enum sf_conn_state state;
    struct event ev;
    unsigned served;          /* responses completed on this connection */
    int site;                 /* the answering site (cfg->sites), -1: none */
    uint64_t deadline_ms;     /* absolute header deadline */
    uint64_t linger_until_ms;
    size_t linger_bytes;
    uint64_t started_ms;      /* request start, wall-clock ms (access log) */
    /* a hold on the file of the response sent last while its bytes may
     * still sit in the socket (lease breaks) */
    struct sf_file_user tail;
    struct sf_snapshot *snap; /* the rest of w->cur's file after a break */
    struct sf_server_conn sc; /* the worker's hold on it */
    int local_port;           /* ours (vhost_combined): -1 not asked, 0 none */
    char peer[INET6_ADDRSTRLEN];
};

static void on_event(evutil_socket_t fd, short what, void *arg);
static void sf_conn_run(struct sf_conn *c);
static void on_file_abort(void *arg);
static const struct sf_file_rescue file_rescue;

static uint64_t
now_ms(struct sf_conn *c)
{
    struct timeval tv;
    event_base_gettimeofday_cached(c->base, &tv);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

/* Wait for what (EV_READ or EV_WRITE) for at most ms milliseconds (the
 * keep-alive timeout: on its common-timeout queue, not the timer heap). */
static void
wait_for(struct sf_conn *c, short what, uint64_t ms)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    if (c->ev_what != what) {
        if (c->ev_what)
            event_del(&c->ev);
        event_assign(&c->ev, c->base, c->fd, what | EV_PERSIST, on_event, c);
        c->ev_what = what;
    }
    const struct timeval *ka = c->srv->idle_tv;
    event_add(&c->ev, ka && ms == c->cfg->keepalive_timeout_ms ? ka : &tv);
}

void
sf_conn_mem_init(struct sf_server *srv)
{
    sf_slab_init(&srv->connslab, sizeof(struct sf_conn));
    sf_reqstate_pool_init(&srv->reqpool, srv->cfg);
    unsigned ms = srv->cfg->keepalive_timeout_ms;
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    srv->idle_tv = event_base_init_common_timeout(srv->base, &tv);
}

/* Take the in-flight state for a request; false when out of memory (the
 * connection is then closing). */
static bool
work_get(struct sf_conn *c)
{
    assert(!c->w);
    c->w = sf_reqstate_get(&c->srv->reqpool, c->fd, on_file_abort, c);
    if (!c->w) {
        sf_log_msg(c->log, SF_LOG_ERROR, "%s: out of memory: closing", c->peer);
        c->state = SF_CONN_CLOSE;
        return false;
    }
    c->w->cur.rescue = &file_rescue;
    if (c->sc.idle)
        sf_server_conn_idle(c->srv, &c->sc, false);
    return true;
}

/* Give the in-flight state back (clean: see sf_reqstate_put). */
static void
work_put(struct sf_conn *c, bool clean)
{
    if (!c->w)
        return;
    sf_reqstate_put(&c->srv->reqpool, c->w, clean);
    c->w = NULL;
    /* kept alive, nothing in flight: closable to make room (worker.c) */
    if (clean && c->served > 0 && c->state == SF_CONN_READ && !c->draining)
        sf_server_conn_idle(c->srv, &c->sc, true);
}

struct sf_conn *
sf_conn_new(struct sf_server *srv, int fd, const struct sockaddr *sa, socklen_t salen,
            bool proxy_protocol)
{
    const struct sf_config *cfg = srv->cfg;
    struct sf_conn *c = sf_slab_alloc(&srv->connslab);
    if (!c) {
        close(fd);
        sf_log_msg(&srv->log, SF_LOG_ERROR, "out of memory: connection refused");
        return NULL;
    }
    c->srv = srv;
    c->base = srv->base;
    c->cfg = cfg;
    c->log = &srv->log;
    c->fd = fd;
    c->proxy_protocol = proxy_protocol;
    c->local_port = -1;
    if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in))
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, c->peer,
                  sizeof(c->peer));
    else if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6))
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, c->peer,
                  sizeof(c->peer));
    else
        strcpy(c->peer, "-");
    /* the last segment of a response must not wait for an ACK (Nagle);
     * MSG_MORE already merges head and first body bytes */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->tail = (struct sf_file_user){
        .sock = fd, .abort = on_file_abort, .rescue = &file_rescue, .arg = c};
    c->sc.c = c;
    sf_server_conn_added(srv, &c->sc);
    c->state = proxy_protocol ? SF_CONN_PROXY : SF_CONN_READ;
    c->deadline_ms = now_ms(c) + cfg->header_timeout_ms;
    if (!proxy_protocol || work_get(c))
        sf_conn_run(c);
    if (c->state == SF_CONN_CLOSE) {
        sf_conn_close(c);
        return NULL;
    }
    return c;
}

void
sf_conn_close(struct sf_conn *c)
{
    if (!c)
        return;
    if (c->ev_what)
        event_del(&c->ev);
    close(c->fd);
    work_put(c, false);
    sf_fcache_detach(&c->tail);
    sf_snapshot_free(c->snap);
    struct sf_server *srv = c->srv;
    sf_server_conn_gone(srv, &c->sc);
    sf_slab_free(&srv->connslab, c);
}

void
sf_conn_drain(struct sf_conn *c)
{
    c->draining = true;
    bool idle = (c->state == SF_CONN_READ && !c->in_request &&
                 (!c->w || c->w->rb.rpos == c->w->rb.wpos)) ||
                (c->state == SF_CONN_PROXY && c->w->rb.wpos == 0);
    if (!idle)
        return; /* its response finishes, then it closes */
    if (c->served > 0) {
        /* between requests on a kept-alive connection: a client that
         * reuses it now sees the close and retries, as HTTP allows */
        sf_conn_close(c);
        return;
    }
    /* Just accepted, its request not read yet (during a reload the old
     * worker may have taken it a moment before it stopped accepting):
     * closing now would lose that request. Give it a short grace. */
    uint64_t now = now_ms(c);
    if (c->deadline_ms > now + DRAIN_GRACE_MS)
        c->deadline_ms = now + DRAIN_GRACE_MS;
    wait_for(c, EV_READ, c->deadline_ms > now ? c->deadline_ms - now : 1);
}

/* Wall-clock milliseconds, uncached: durations of a request handled
 * within one loop iteration must not all read 0 (vDSO, no syscall). */
static uint64_t
wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One access-log line for the response; completed: every byte of it
 * (head and promised body) was handed to the socket. */
static void
access_log(struct sf_conn *c, bool completed)
{
    struct sf_log *l = c->log;
    if (!sf_log_access_on(l, c->site))
        return;
    uint64_t now = wall_ms();
    struct sf_access a = {
        .site = c->site,
        .client = c->peer,
        .when_ms = c->started_ms,
        .duration_ms = now > c->started_ms ? now - c->started_ms : 0,
        .completed = completed,
    };
    sf_reqstate_access(c->w, &a);
    if (sf_log_access_format(l, c->site) == SF_LOG_FORMAT_VHOST_COMBINED) {
        /* asked once per connection */
        if (c->local_port < 0)
            c->local_port = (int)sf_listen_local_port(c->fd);
        a.port = (unsigned)c->local_port;
    }
    sf_log_access(l, &a);
}

/* Build the answer to what READ parsed: the request, or for a request
 * that failed to parse its error page (then close). */
static void
step_handle(struct sf_conn *c)
{
    assert(c->state == SF_CONN_HANDLE);
    int error = c->w->parser.r.status;
    bool ka = !error && c->w->parser.r.keep_alive && !c->draining;
    c->w->parser.r.keep_alive = ka;
    struct sf_dispatch d = {
        .buf = c->w->rb.buf, .p = &c->w->parser, .error = error, .keep_alive = ka, .peer = c->peer};
    c->site = sf_server_dispatch(c->srv, &d, &c->w->resp);
    if (c->w->resp.st.file && !c->w->resp.st.no_body) {
        /* from here until its bytes are acknowledged, a lease break on
         * this file must cut this connection */
        c->w->cur.sending = true;
        sf_fcache_attach(c->w->resp.st.file, &c->w->cur);
    }
    c->state = SF_CONN_WRITE;
}

/*
 * Reset the socket at once but keep its fd (the close waits for the
 * connection's own callback): SO_LINGER 0 makes the close a reset, and a
 * connect to AF_UNSPEC disconnects a TCP socket now (Linux's
 * tcp_disconnect: a RST, and the send queue purged). A Unix socket
 * refuses the disconnect; its bytes already sit in the peer's receive
 * queue, where no close could recall them either.
 */
static void
reset_now(struct sf_conn *c)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    struct sockaddr sa = {.sa_family = AF_UNSPEC};
    connect(c->fd, &sa, sizeof(sa));
}

/* Make the connection's own callback run soon, from the event loop. */
static void
wake(struct sf_conn *c)
{
    if (!c->ev_what) {
        event_assign(&c->ev, c->base, c->fd, EV_READ | EV_PERSIST, on_event, c);
        c->ev_what = EV_READ;
    }
    event_active(&c->ev, c->ev_what, 0);
}

/*
 * A lease break: the file being sent is about to change, and its lease
 * goes as soon as the cut returns. Reset the connection now, so that its
 * queued bytes are dropped, not delivered, and mark it for closing; it
 * is freed when its own callback unwinds. This runs inside the cache's
 * pass over the file's users: it detaches nothing, only marks both of
 * its users as done, so that neither is cut again.
 */
static void
on_file_abort(void *arg)
{
    struct sf_conn *c = arg;
    if (c->state == SF_CONN_WRITE) {
        sf_log_msg(c->log, SF_LOG_INFO, "%s: %.*s cut after %llu of %llu bytes: file is changing",
                   c->peer, (int)c->w->parser.r.target.len,
                   c->w->rb.buf + c->w->parser.r.target.off,
                   (unsigned long long)c->w->resp.st.body_sent,
                   (unsigned long long)c->w->resp.st.content_length);
        access_log(c, false);
    }
    reset_now(c);
    if (c->w) {
        c->w->cur.sending = false;
        c->w->cur.sock = -1;
    }
    c->tail.sending = false;
    c->tail.sock = -1;
    c->state = SF_CONN_CLOSE;
    wake(c);
}

/* A lease break while sending (lbreak.h): plan a copy of the rest and
 * pause (no event until resumed), pushing out a tail MSG_MORE held back,
 * so that the socket can drain. */
static int
on_file_hold(void *arg)
{
    struct sf_conn *c = arg;
    if (c->state != SF_CONN_WRITE || c->snap)
        return -ECANCELED;
    int err;
    c->snap = sf_snapshot_plan(c->srv->snaps, &c->w->resp, c->w->cur.file->fd, &err);
    if (err)
        return err;
    if (c->ev_what)
        event_del(&c->ev);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return 0;
}

static int
on_file_save(void *arg)
{
    struct sf_conn *c = arg;
    return c->snap ? sf_snapshot_fill(c->snap, &c->w->resp, c->w->cur.file->fd) : 0;
}

static void
on_file_resume(void *arg)
{
    struct sf_conn *c = arg;
    wait_for(c, EV_WRITE, c->cfg->send_timeout_ms);
}

static const struct sf_file_rescue file_rescue = {on_file_hold, on_file_save, on_file_resume};

/* Take the client's address from a PROXY header; v2 LOCAL (a health
 * check), v1 UNKNOWN and non-TCP families keep the socket's. */
static void
proxy_peer(struct sf_conn *c, const struct sf_proxy_info *info)
{
    char peer[INET6_ADDRSTRLEN];
    if (info->family == AF_UNSPEC || !inet_ntop(info->family, &info->src, peer, sizeof(peer)))
        return;
    if (sf_log_enabled(c->log, SF_LOG_DEBUG))
        sf_log_msg(c->log, SF_LOG_DEBUG, "%s: PROXY v%u header: client %s", c->peer,
                   info->version, peer);
    memcpy(c->peer, peer, sizeof(c->peer));
}

/*
 * Read what the socket has into the header buffer after wpos. SF_IO_OK:
 * bytes arrived. SF_IO_AGAIN: none yet; the event now waits until the
 * connection's deadline. SF_IO_EOF / SF_IO_ERR: the client closed or the
 * read failed; the state is CLOSE (when is names what was cut short by a
 * close, for the debug log, or is NULL).
 */
static enum sf_io
read_more(struct sf_conn *c, const char *when)
{
    for (;;) {
        ssize_t n = read(c->fd, c->w->rb.buf + c->w->rb.wpos, c->w->rb.cap - c->w->rb.wpos);
        if (n > 0) {
            c->w->rb.wpos += (size_t)n;
            return SF_IO_OK;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            uint64_t now = now_ms(c);
            wait_for(c, EV_READ, c->deadline_ms > now ? c->deadline_ms - now : 1);
            return SF_IO_AGAIN;
        }
        if (n == 0) {
            if (when)
                sf_log_msg(c->log, SF_LOG_DEBUG, "%s: client closed %s", c->peer, when);
        } else {
            sf_log_errno(c->log, SF_LOG_DEBUG, errno, "%s: read", c->peer);
        }
        c->state = SF_CONN_CLOSE;
        return n == 0 ? SF_IO_EOF : SF_IO_ERR;
    }
}

/*
 * A listener with proxy_protocol on: the connection opens with a PROXY
 * header. Read it into the header buffer; the request usually comes in
 * the same segment, so what follows the header stays as the start of the
 * request. A malformed header (a client talking to us directly, or a
 * misconfigured proxy) gets no HTTP response, only a close: we cannot
 * know whom we would be answering.
 */
static enum sf_io
step_proxy(struct sf_conn *c)
{
    assert(c->state == SF_CONN_PROXY);
    for (;;) {
        struct sf_proxy_info info;
        size_t used = 0;
        enum sf_proxy_result pr = sf_proxy_parse(c->w->rb.buf, c->w->rb.wpos, &info, &used);
        if (pr == SF_PROXY_OK) {
            proxy_peer(c, &info);
            /* the request starts at the front, as sf_request_next wants */
            c->w->rb.wpos -= used;
            memmove(c->w->rb.buf, c->w->rb.buf + used, c->w->rb.wpos);
            c->w->rb.rpos = 0;
            c->site = -1;
            c->state = SF_CONN_READ;
            if (c->w->rb.wpos) {
                c->in_request = true;
                c->started_ms = wall_ms();
                c->deadline_ms = now_ms(c) + c->cfg->header_timeout_ms;
            }
            return SF_IO_OK;
        }
        if (pr == SF_PROXY_BAD || c->w->rb.wpos == c->w->rb.cap) {
            sf_log_msg(c->log, SF_LOG_INFO, "%s: bad PROXY protocol header: closing",
                       c->peer);
            /* a FIN rather than a reset, and what the client still sends
             * is read and dropped for a moment, as after a response */
            shutdown(c->fd, SHUT_WR);
            c->linger_until_ms = now_ms(c) + LINGER_MS;
            c->linger_bytes = 0;
            c->state = SF_CONN_LINGER;
            work_put(c, false);
            return SF_IO_OK;
        }
        /* the header deadline runs from the accept */
        enum sf_io rc = read_more(c, "in the PROXY header");
        if (rc != SF_IO_OK)
            return rc == SF_IO_AGAIN ? SF_IO_AGAIN : SF_IO_OK;
    }
}

/* Read until the parser has something to answer (a request, a head
 * whose client waits, or a parse error) or the socket runs dry. */
static enum sf_io
step_read(struct sf_conn *c)
{
    assert(c->state == SF_CONN_READ);
    const struct sf_config *cfg = c->cfg;
    if (!c->w && !work_get(c))
        return SF_IO_OK;
    for (;;) {
        switch (sf_request_next(&c->w->parser, &c->w->rb)) {
        case SF_NEXT_READ: break;
        case SF_NEXT_HEAD: /* Expect: 100-continue: answer before the body */
        case SF_NEXT_DONE:
        case SF_NEXT_ERROR: c->state = SF_CONN_HANDLE; return SF_IO_OK;
        }
        assert(c->w->rb.wpos < c->w->rb.cap);
        size_t before = c->w->rb.wpos;
        enum sf_io rc = read_more(c, c->in_request ? "mid-request" : NULL);
        if (rc == SF_IO_AGAIN && !c->in_request && c->w->rb.wpos == 0)
            work_put(c, true); /* nothing came: wait owning nothing */
        if (rc != SF_IO_OK)
            return rc == SF_IO_AGAIN ? SF_IO_AGAIN : SF_IO_OK;
        if (!c->in_request && c->w->rb.wpos > before) {
            /* the first byte of a request starts its clock */
            c->in_request = true;
            c->site = -1;
            c->started_ms = wall_ms();
            c->deadline_ms = now_ms(c) + cfg->header_timeout_ms;
        }
    }
}

static enum sf_io
step_write(struct sf_conn *c)
{
    assert(c->state == SF_CONN_WRITE);
    int err = 0;
    enum sf_io rc = sf_sender_send(&c->w->resp, c->fd, c->cfg->send_chunk, &err);
    if (rc == SF_IO_OK) {
        c->state = SF_CONN_DONE;
        return SF_IO_OK;
    }
    if (rc == SF_IO_AGAIN) {
        wait_for(c, EV_WRITE, c->cfg->send_timeout_ms);
        return SF_IO_AGAIN;
    }
    if (err == -ENODATA || err == -ESTALE) {
        sf_log_msg(c->log, SF_LOG_WARN,
                   "%s: file %s while sending %.*s: response cut after %llu of %llu bytes", c->peer,
                   err == -ENODATA ? "shrank" : "changed", (int)c->w->parser.r.target.len,
                   c->w->rb.buf + c->w->parser.r.target.off,
                   (unsigned long long)c->w->resp.st.body_sent,
                   (unsigned long long)c->w->resp.st.content_length);
        /* drop what is queued: it may already hold changed bytes */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    } else {
        sf_log_errno(c->log, SF_LOG_DEBUG, err, "%s: client gone after %llu bytes", c->peer,
                     (unsigned long long)c->w->resp.st.body_sent);
    }
    access_log(c, false);
    c->state = SF_CONN_CLOSE;
    return SF_IO_OK;
}

static void
step_done(struct sf_conn *c)
{
    assert(c->state == SF_CONN_DONE);
    access_log(c, true);
    c->served++;
    bool ka = c->w->parser.r.keep_alive && !c->draining;
    if (c->w->cur.file) {
        /* sent, but maybe not yet acknowledged: keep watching it */
        sf_fcache_detach(&c->tail);
        c->tail.sending = false;
        sf_fcache_attach(c->w->cur.file, &c->tail);
        sf_fcache_detach(&c->w->cur);
    }
    sf_response_reset(&c->w->resp);
    sf_snapshot_free(c->snap);
    c->snap = NULL;
    if (!ka) {
        shutdown(c->fd, SHUT_WR);
        c->linger_until_ms = now_ms(c) + LINGER_MS;
        c->linger_bytes = 0;
        c->state = SF_CONN_LINGER;
        work_put(c, false);
        return;
    }
    /* keep the pipelined bytes, at the front of the buffer */
    size_t left = sf_request_advance(&c->w->parser, &c->w->rb);
    c->in_request = left > 0;
    c->state = SF_CONN_READ;
    uint64_t now = now_ms(c);
    c->site = -1;
    if (left) {
        c->started_ms = wall_ms();
        c->deadline_ms = now + c->cfg->header_timeout_ms;
        return;
    }
    /* idle: wait for the next request under the keep-alive timeout rather
     * than trying a read that would almost always find nothing, owning
     * nothing of a request */
    work_put(c, true);
    c->deadline_ms = now + c->cfg->keepalive_timeout_ms;
    wait_for(c, EV_READ, c->cfg->keepalive_timeout_ms);
}

/* Read and drop what the client still sends, until EOF or a bound. */
static enum sf_io
step_linger(struct sf_conn *c)
{
    assert(c->state == SF_CONN_LINGER);
    char scratch[4096];
    for (;;) {
        ssize_t n = read(c->fd, scratch, sizeof(scratch));
        if (n > 0) {
            c->linger_bytes += (size_t)n;
            if (c->linger_bytes > LINGER_MAX_BYTES)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            uint64_t now = now_ms(c);
            if (now >= c->linger_until_ms)
                break;
            wait_for(c, EV_READ, c->linger_until_ms - now);
            return SF_IO_AGAIN;
        }
        break;
    }
    c->state = SF_CONN_CLOSE;
    return SF_IO_OK;
}

static void
sf_conn_run(struct sf_conn *c)
{
    for (;;) {
        enum sf_io rc = SF_IO_OK;
        switch (c->state) {
        case SF_CONN_READ: rc = step_read(c); break;
        case SF_CONN_PROXY: rc = step_proxy(c); break;
        case SF_CONN_HANDLE: step_handle(c); break;
        case SF_CONN_WRITE: rc = step_write(c); break;
        case SF_CONN_DONE: step_done(c); break;
        case SF_CONN_LINGER: rc = step_linger(c); break;
        case SF_CONN_CLOSE: return;
        }
        if (rc == SF_IO_AGAIN)
            return;
    }
}

static void
on_event(evutil_socket_t fd, short what, void *arg)
{
    struct sf_conn *c = arg;
    (void)fd;
    if (what & EV_TIMEOUT) {
        switch (c->state) {
        case SF_CONN_READ:
            if (c->in_request)
                sf_log_msg(c->log, SF_LOG_INFO, "%s: request header timeout", c->peer);
            c->state = SF_CONN_CLOSE;
            break;
        case SF_CONN_PROXY:
            sf_log_msg(c->log, SF_LOG_INFO, "%s: no PROXY protocol header within %u ms",
                       c->peer, c->cfg->header_timeout_ms);
            c->state = SF_CONN_CLOSE;
            break;
        case SF_CONN_WRITE:
            sf_log_msg(c->log, SF_LOG_INFO, "%s: send timeout after %llu bytes", c->peer,
                       (unsigned long long)c->w->resp.st.body_sent);
            access_log(c, false);
            reset_now(c); /* a FIN would wait behind the bytes not taken */
            c->state = SF_CONN_CLOSE;
            break;
        default:
            c->state = SF_CONN_CLOSE;
            break;
        }
    } else {
        sf_conn_run(c);
    }
    if (c->state == SF_CONN_CLOSE)
        sf_conn_close(c);
    else if (c->draining && c->state == SF_CONN_READ && !c->in_request)
        sf_conn_close(c);
}
