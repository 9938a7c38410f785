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
 * CLOSE, also from outside (a lease break: conn_file.c), and only the
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
#include "conn_int.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sfhttpd/common.h"
#include "sfhttpd/pool.h"
#include "sfhttpd/proxy.h"
#include "sfhttpd/request.h"
#include "sfhttpd/response.h"
#include "sfhttpd/sender.h"
#include "sfhttpd/slab.h"

/* How long a closing connection reads and discards what the client still
 * sends, so that our last response is not destroyed by a reset. */
#define LINGER_MS 2000
/* How long a graceful stop waits for the first request of a connection
 * that was accepted but has sent nothing yet. */
#define DRAIN_GRACE_MS 1000
#define LINGER_MAX_BYTES (256 * 1024)

static void on_event(evutil_socket_t fd, short what, void *arg);
static void sf_conn_run(struct sf_conn *c);

/* The wall clock in ms: read once per callback (srv->wake_ms), a
 * callback running for microseconds. */
static uint64_t
now_ms(struct sf_conn *c)
{
    if (c->srv->wake_ms)
        return c->srv->wake_ms;
    struct timeval tv;
    event_base_gettimeofday_cached(c->base, &tv);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

/* Wait for what (EV_READ or EV_WRITE) for at most ms milliseconds. */
static void
wait_for(struct sf_conn *c, short what, uint64_t ms)
{
    if (c->ev_what != what) {
        event_del(&c->ev);
        event_assign(&c->ev, c->base, c->fd, what | EV_PERSIST, on_event, c);
        c->ev_what = what;
        c->armed_ms = 0;
    }
    conn_arm(c, ms);
}

/* a.b.c.d into out (INET_ADDRSTRLEN): what inet_ntop writes, without the
 * sprintf it costs once per connection */
static void
format_ipv4(const struct in_addr *a, char *out)
{
    const unsigned char *b = (const unsigned char *)&a->s_addr;
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        if (i)
            out[n++] = '.';
        n += sf_fmt_u64(out + n, b[i]);
    }
    out[n] = '\0';
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
    c->w = sf_reqstate_get(&c->srv->reqpool, c->fd, conn_on_file_abort, c);
    if (!c->w) {
        sf_log_msg(c->log, SF_LOG_ERROR, "%s: out of memory: closing", c->peer);
        c->state = SF_CONN_CLOSE;
        return false;
    }
    c->w->cur.rescue = &conn_file_rescue;
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
            unsigned flags)
{
    bool proxy_protocol = flags & SF_CONN_PROXY_PROTOCOL;
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
    c->paced = 0;
    /* assigned from the start, so that a lease break's wake (conn_file.c)
     * finds it; added only when the connection waits */
    event_assign(&c->ev, c->base, fd, EV_READ | EV_PERSIST, on_event, c);
    c->ev_what = EV_READ;
    c->armed_ms = 0;
    c->in_wake = false;
    if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in))
        format_ipv4(&((const struct sockaddr_in *)(const void *)sa)->sin_addr, c->peer);
    else if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6))
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, c->peer,
                  sizeof(c->peer));
    else
        strcpy(c->peer, "-");
    /* the last segment of a response must not wait for an ACK (Nagle);
     * MSG_MORE already merges head and first body bytes */
    if (!(flags & SF_CONN_NODELAY)) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    c->tail = (struct sf_file_user){
        .sock = fd, .abort = conn_on_file_abort, .rescue = &conn_file_rescue, .arg = c};
    c->sc.c = c;
    sf_server_conn_added(srv, &c->sc);
    c->state = proxy_protocol ? SF_CONN_PROXY : SF_CONN_READ;
    c->deadline_ms = now_ms(c) + cfg->header_timeout_ms;
    /* a PROXY header is read into the request's buffer */
    if (proxy_protocol && !work_get(c)) {
        sf_conn_close(c);
        return NULL;
    }
    if (!(flags & SF_CONN_DATA_READY)) {
        /* the request rarely arrives with the handshake: a read now would
         * find nothing */
        wait_for(c, EV_READ, cfg->header_timeout_ms);
        return c;
    }
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
    bool idle =
        (c->state == SF_CONN_READ && !c->in_request && (!c->w || c->w->rb.rpos == c->w->rb.wpos)) ||
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

/* Build the answer to what READ parsed: the request, or for a request
 * that failed to parse its error page (then close). */
static void
step_handle(struct sf_conn *c)
{
    assert(c->state == SF_CONN_HANDLE);
    int error = c->w->parser.r.status;
    bool ka = !error && c->w->parser.r.keep_alive && !c->draining;
    /* a request body not read yet (Expect: 100-continue) may still come */
    c->quiet_close = !error && !c->w->parser.r.keep_alive && !c->w->parser.r.expect_continue;
    c->w->parser.r.keep_alive = ka;
    struct sf_dispatch d = {.buf = c->w->rb.buf,
                            .p = &c->w->parser,
                            .error = error,
                            .keep_alive = ka,
                            .pipelined = c->pipelined,
                            .peer = c->peer};
    c->pipelined = false;
    c->site = sf_server_dispatch(c->srv, &d, &c->w->resp);
    if (c->w->resp.st.file && !c->w->resp.st.no_body) {
        /* from here until its bytes are acknowledged, a lease break on
         * this file must cut this connection */
        c->w->cur.sending = true;
        sf_fcache_attach(c->w->resp.st.file, &c->w->cur);
    }
    c->state = SF_CONN_WRITE;
}

/* Take the client's address from a PROXY header; v2 LOCAL (a health
 * check), v1 UNKNOWN and non-TCP families keep the socket's. */
static void
proxy_peer(struct sf_conn *c, const struct sf_proxy_info *info)
{
    char peer[INET6_ADDRSTRLEN];
    if (info->family == AF_UNSPEC || !inet_ntop(info->family, &info->src, peer, sizeof(peer)))
        return;
    if (sf_log_enabled(c->log, SF_LOG_DEBUG))
        sf_log_msg(c->log, SF_LOG_DEBUG, "%s: PROXY v%u header: client %s", c->peer, info->version,
                   peer);
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
/* End with a FIN, then read and drop what the client still sends for a
 * moment (LINGER_MS), so that a reset does not destroy what we sent. */
static void
start_linger(struct sf_conn *c)
{
    shutdown(c->fd, SHUT_WR);
    c->linger_until_ms = now_ms(c) + LINGER_MS;
    c->linger_bytes = 0;
    c->state = SF_CONN_LINGER;
    work_put(c, false);
}

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
                c->started_ms = now_ms(c);
                c->deadline_ms = now_ms(c) + c->cfg->header_timeout_ms;
            }
            return SF_IO_OK;
        }
        if (pr == SF_PROXY_BAD || c->w->rb.wpos == c->w->rb.cap) {
            sf_log_msg(c->log, SF_LOG_INFO, "%s: bad PROXY protocol header: closing", c->peer);
            /* a FIN rather than a reset, and what the client still sends
             * is read and dropped for a moment, as after a response */
            start_linger(c);
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
            c->started_ms = now_ms(c);
            c->deadline_ms = now_ms(c) + cfg->header_timeout_ms;
        }
    }
}

/*
 * Most bytes to send now, before the other connections get a turn:
 * send_chunk, or send_chunk_paced when the connection's congestion
 * control paces its packets itself (BBR; without an fq qdisc the kernel
 * spaces them with a per-socket timer). There a large chunk queued at
 * once is let out burst by burst from that timer, each burst re-arming
 * it, and on a virtual machine arming a timer is expensive: a 1 MiB
 * response over loopback cost 450 us of server CPU with 2 MiB per event
 * and 107 with 64 KiB, 13 timer arms per response against 1.5. Cubic
 * does not pace, and there the small chunk only adds trips through the
 * event loop (53 us against 68 at 128 KiB), hence two keys. The
 * congestion control is asked once per connection, and only when a
 * response is larger than send_chunk_paced.
 */
static size_t
conn_send_budget(struct sf_conn *c)
{
    const struct sf_config *cfg = c->cfg;
    if (c->paced == 0) {
        if (c->w->resp.st.content_length <= cfg->send_chunk_paced)
            return cfg->send_chunk;
        char name[16] = "";
        socklen_t len = sizeof(name) - 1;
        bool bbr = getsockopt(c->fd, IPPROTO_TCP, TCP_CONGESTION, name, &len) == 0 &&
                   strncmp(name, "bbr", 3) == 0;
        c->paced = bbr ? 1 : -1;
    }
    return c->paced > 0 ? cfg->send_chunk_paced : cfg->send_chunk;
}

static enum sf_io
step_write(struct sf_conn *c)
{
    assert(c->state == SF_CONN_WRITE);
    int err = 0;
    enum sf_io rc = sf_sender_send(&c->w->resp, c->fd, conn_send_budget(c), &err);
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
    conn_access_log(c, false);
    c->state = SF_CONN_CLOSE;
    return SF_IO_OK;
}

/* The response is out: log it, then the next request (SF_IO_AGAIN:
 * wait for it) or the close. */
static enum sf_io
step_done(struct sf_conn *c)
{
    assert(c->state == SF_CONN_DONE);
    conn_access_log(c, true);
    c->served++;
    bool ka = c->w->parser.r.keep_alive && !c->draining;
    /* bytes sent from a file by sendfile still reference its pages while
     * the socket holds them: a lease break must still be able to reset
     * it, so such a socket is not closed before the client is done */
    bool file_bytes = c->w->cur.file && !c->w->cur.file->mem;
    if (c->w->cur.file) {
        /* sent by sendfile, but maybe not yet acknowledged: keep watching
         * it. Bytes sent from a snapshot or a rescue's copy were copied,
         * and a hold on them would only pin a descriptor (fdlimit.c). */
        sf_fcache_detach(&c->tail);
        c->tail.sending = false;
        if (file_bytes && !c->snap)
            sf_fcache_attach(c->w->cur.file, &c->tail);
        sf_fcache_detach(&c->w->cur);
    }
    sf_response_reset(&c->w->resp);
    sf_snapshot_free(c->snap);
    c->snap = NULL;
    if (!ka && c->quiet_close && c->w->rb.wpos == c->w->rb.rpos && !file_bytes) {
        /* the client asked for the close and nothing of its is unread:
         * a plain close sends our bytes and a FIN, and no reset can
         * follow (that needs bytes arriving after it), so there is
         * nothing to linger for */
        c->state = SF_CONN_CLOSE;
        work_put(c, false);
        return SF_IO_OK;
    }
    if (!ka) {
        start_linger(c);
        return SF_IO_OK;
    }
    /* keep the pipelined bytes, at the front of the buffer */
    size_t left = sf_request_advance(&c->w->parser, &c->w->rb);
    c->in_request = left > 0;
    c->state = SF_CONN_READ;
    uint64_t now = now_ms(c);
    c->site = -1;
    if (left) {
        c->pipelined = true;
        c->started_ms = now_ms(c);
        c->deadline_ms = now + c->cfg->header_timeout_ms;
        return SF_IO_OK;
    }
    /* idle: wait for the next request under the keep-alive timeout rather
     * than trying a read that would almost always find nothing, owning
     * nothing of a request */
    work_put(c, true);
    c->deadline_ms = now + c->cfg->keepalive_timeout_ms;
    wait_for(c, EV_READ, c->cfg->keepalive_timeout_ms);
    return SF_IO_AGAIN;
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
        case SF_CONN_DONE: rc = step_done(c); break;
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
    sf_server_woken(c->srv);
    if (what & EV_TIMEOUT) {
        switch (c->state) {
        case SF_CONN_READ:
            if (c->in_request)
                sf_log_msg(c->log, SF_LOG_INFO, "%s: request header timeout", c->peer);
            c->state = SF_CONN_CLOSE;
            break;
        case SF_CONN_PROXY:
            sf_log_msg(c->log, SF_LOG_INFO, "%s: no PROXY protocol header within %u ms", c->peer,
                       c->cfg->header_timeout_ms);
            c->state = SF_CONN_CLOSE;
            break;
        case SF_CONN_WRITE:
            sf_log_msg(c->log, SF_LOG_INFO, "%s: send timeout after %llu bytes", c->peer,
                       (unsigned long long)c->w->resp.st.body_sent);
            conn_access_log(c, false);
            conn_reset_now(c); /* a FIN would wait behind the bytes not taken */
            c->state = SF_CONN_CLOSE;
            break;
        default: c->state = SF_CONN_CLOSE; break;
        }
    } else {
        c->srv->wake_ms = conn_wall_ms(); /* one clock read for the run */
        c->in_wake = true;
        sf_conn_run(c);
        c->in_wake = false;
        c->srv->wake_ms = 0;
    }
    if (c->state == SF_CONN_CLOSE)
        sf_conn_close(c);
    else if (c->draining && c->state == SF_CONN_READ && !c->in_request)
        sf_conn_close(c);
}
