/*
 * conn_file.c - what reaches a connection from outside its state
 * machine through the file it sends: a lease break's cut (on_file_abort)
 * and rescue (hold, save, resume: lbreak.h), and the access-log line,
 * which a cut writes as a finished response does. These run inside the
 * break handler's pass over a file's users, so they only mark the
 * connection and wake its own callback, which does the rest (conn.c).
 * Nothing here calls conn.c (conn_int.h).
 */
#include "conn_int.h"

#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "sfhttpd/listen.h"
#include "sfhttpd/log.h"

void
conn_access_log(struct sf_conn *c, bool completed)
{
    struct sf_log *l = c->log;
    if (!sf_log_access_on(l, c->site))
        return;
    uint64_t now = conn_wall_ms();
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

/*
 * SO_LINGER 0 makes the close a reset, and a connect to AF_UNSPEC
 * disconnects a TCP socket now (Linux's tcp_disconnect: a RST, and the
 * send queue purged). A Unix socket refuses the disconnect; its bytes
 * already sit in the peer's receive queue, where no close could recall
 * them either.
 */
void
conn_reset_now(struct sf_conn *c)
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
    assert(c->ev_what);
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
void
conn_on_file_abort(void *arg)
{
    struct sf_conn *c = arg;
    if (c->state == SF_CONN_WRITE) {
        sf_log_msg(c->log, SF_LOG_INFO, "%s: %.*s cut after %llu of %llu bytes: file is changing",
                   c->peer, (int)c->w->parser.r.target.len,
                   c->w->rb.buf + c->w->parser.r.target.off,
                   (unsigned long long)c->w->resp.st.body_sent,
                   (unsigned long long)c->w->resp.st.content_length);
        conn_access_log(c, false);
    }
    conn_reset_now(c);
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
    event_del(&c->ev);
    c->armed_ms = 0;
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

/* Breaks are handled by the worker's signal event, never inside a
 * connection's run, and a connection left in WRITE waits for EV_WRITE
 * (step_write): held there, its event is assigned for EV_WRITE still. */
static void
on_file_resume(void *arg)
{
    struct sf_conn *c = arg;
    assert(c->state == SF_CONN_WRITE && c->ev_what == EV_WRITE);
    conn_arm(c, c->cfg->send_timeout_ms);
}

const struct sf_file_rescue conn_file_rescue = {on_file_hold, on_file_save, on_file_resume};
