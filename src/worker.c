/*
 * worker.c - one event loop: listeners, the connection list, signals for
 * a graceful stop, after drain_delay in a single process (SIGQUIT: at
 * once; SIGUSR1: reopen logs; SIGUSR2: the master's drain notice), the
 * per-second tick (access-log flush, and memory given back after a large
 * drop of connections), and accept throttling (max_connections, EMFILE).
 * At max_connections the longest-idle keep-alive connection is closed to
 * admit a new one; only when none is idle does the worker stop accepting,
 * until one idles or closes. The listening sockets come open from
 * listen.c: a worker never binds. What requests are served with (sites,
 * MIME tables, the file cache) is server.c's; connections report to the
 * worker through the server's added / gone calls.
 */
#include "sfhttpd/worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "sfhttpd/common.h"
#include "sfhttpd/conn.h"
#include "sfhttpd/fcache.h"
#include "sfhttpd/listen.h"
#include "sfhttpd/server.h"

#define ACCEPT_RETRY_MS 200
/* Give memory back (spare pooled request states, then malloc_trim) once
 * the connection count fell to half its peak, by at least this many. */
#define RECLAIM_MIN_DROP 256
/* In lis_flags beside enum sf_conn_flags, never passed on: the listener is
 * shared with other workers. */
#define LIS_SHARED (1u << 16)

struct worker {
    struct sf_server srv; /* what requests are served with */
    struct evconnlistener *lis[SF_CONFIG_MAX_LISTEN];
    unsigned lis_flags[SF_CONFIG_MAX_LISTEN]; /* enum sf_conn_flags of lis[i]'s
                                                 connections, and LIS_SHARED */
    size_t nlis;
    bool accepting;
    bool under_master; /* signals come from the master */
    struct event *sig_int, *sig_term, *tick, *stop_timer, *resume_accept;
    struct event *sig_quit, *sig_usr1, *sig_hup, *sig_usr2, *drain_timer;
    TAILQ_HEAD(, sf_server_conn) conns;
    /* kept-alive connections with nothing in flight, longest idle first */
    TAILQ_HEAD(, sf_server_conn) idle;
    unsigned nconns;
    bool stopping;
    bool accept_error_logged;
    int64_t last_accept_error_ms; /* monotonic; 0: none yet */
    bool reuse_logged;
    struct sf_reclaim reclaim;
};

static void
set_accepting(struct worker *w, bool on)
{
    if (w->accepting == on)
        return;
    for (size_t i = 0; i < w->nlis; i++) {
        if (on)
            evconnlistener_enable(w->lis[i]);
        else
            evconnlistener_disable(w->lis[i]);
    }
    w->accepting = on;
}

static void
on_conn_added(void *owner, struct sf_server_conn *sc)
{
    struct worker *w = owner;
    TAILQ_INSERT_TAIL(&w->conns, sc, link);
    w->nconns++;
    sf_reclaim_note(&w->reclaim, w->nconns);
}

/* Room for one more connection: below the limit, or an idle one to close. */
static bool
has_room(const struct worker *w)
{
    return w->nconns < w->srv.fds.max_connections || !TAILQ_EMPTY(&w->idle);
}

/* Accept again when stopped for want of room (not during an EMFILE
 * pause, whose timer resumes it). */
static void
maybe_resume(struct worker *w)
{
    if (!w->accepting && !w->stopping && has_room(w) && !evtimer_pending(w->resume_accept, NULL))
        set_accepting(w, true);
}

/* A kept-alive connection idled (to the back of the idle list: the front
 * is the longest idle) or got a request. */
static void
on_conn_idle(void *owner, struct sf_server_conn *sc)
{
    struct worker *w = owner;
    if (sc->idle) {
        TAILQ_INSERT_TAIL(&w->idle, sc, idle_link);
        maybe_resume(w);
    } else {
        TAILQ_REMOVE(&w->idle, sc, idle_link);
    }
}

/* A connection was freed: accept again below the limit, or end a
 * graceful stop with the last one. */
static void
on_conn_gone(void *owner, struct sf_server_conn *sc)
{
    struct worker *w = owner;
    TAILQ_REMOVE(&w->conns, sc, link);
    if (sc->idle)
        TAILQ_REMOVE(&w->idle, sc, idle_link);
    w->nconns--;
    if (w->stopping) {
        if (w->nconns == 0)
            event_base_loopexit(w->srv.base, NULL);
        return;
    }
    maybe_resume(w);
}

/* At max_connections: close the connection idle the longest, as a
 * client may do to us any time, to admit a new one. */
static void
make_room(struct worker *w)
{
    struct sf_server_conn *sc = TAILQ_FIRST(&w->idle);
    if (w->nconns < w->srv.fds.max_connections || !sc)
        return;
    if (!w->reuse_logged)
        sf_log_msg(&w->srv.log, SF_LOG_WARN,
                   "max_connections (%u) reached: closing the longest-idle keep-alive "
                   "connections to make room",
                   w->srv.fds.max_connections);
    w->reuse_logged = true;
    sf_conn_close(sc->c);
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    struct worker *w = arg;
    unsigned flags = 0;
    if (w->stopping) {
        close(fd);
        return;
    }
    for (size_t i = 0; i < w->nlis; i++)
        if (w->lis[i] == l)
            flags = w->lis_flags[i];
    make_room(w);
    sf_server_woken(&w->srv);
    /* only the first of a batch was surely there when the wait returned
     * (sf_server_woken): a later one with its request there (deferred
     * accept) is served after a read of the file news, the others wait
     * to be reported readable */
    bool later = sf_server_accepted(&w->srv) > 0 || (flags & LIS_SHARED);
    if (later && (flags & SF_CONN_DATA_READY))
        sf_server_sync_next(&w->srv);
    flags &= ~LIS_SHARED;
    sf_conn_new(&w->srv, fd, sa, (socklen_t)salen, flags);
    if (!has_room(w)) {
        if (!w->accept_error_logged)
            sf_log_msg(&w->srv.log, SF_LOG_WARN,
                       "max_connections (%u) reached, none idle: not accepting until one "
                       "idles or closes",
                       w->srv.fds.max_connections);
        w->accept_error_logged = true;
        set_accepting(w, false);
    }
}

static void
on_accept_error(struct evconnlistener *l, void *arg)
{
    struct worker *w = arg;
    int err = errno;
    (void)l;
    if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        /* out of descriptors: the cache gives back what no response uses
         * and the listener, still readable, is tried again at once (each
         * retry that fails frees more, or pauses); with nothing given back
         * accepting pauses instead of spinning; said once a burst
         * (failures less than a second apart) */
        size_t freed = sf_out_of_fds(-err) ? sf_fcache_reclaim(w->srv.fc) : 0;
        if (freed > 0) {
            sf_log_errno(&w->srv.log, SF_LOG_DEBUG, err, "accept: %zu cached file(s) let go",
                         freed);
            return;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
        if (!w->last_accept_error_ms || ms - w->last_accept_error_ms > 1000)
            sf_log_errno(&w->srv.log, SF_LOG_WARN, err, "accept: pausing for %d ms",
                         ACCEPT_RETRY_MS);
        w->last_accept_error_ms = ms;
        set_accepting(w, false);
        struct timeval tv = {0, ACCEPT_RETRY_MS * 1000};
        evtimer_add(w->resume_accept, &tv);
        return;
    }
    sf_log_errno(&w->srv.log, SF_LOG_DEBUG, err, "accept");
}

static void
on_resume_accept(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    (void)fd;
    (void)what;
    if (!w->stopping && has_room(w))
        set_accepting(w, true);
}

/* The tick runs just after each second boundary of the wall clock, so
 * that the access lines of a second leave every worker together (log.h).
 * Re-armed from the wall clock each time: libevent's timers run on a
 * coarse monotonic clock, and a tick that fires a little early finds the
 * second not over yet and comes back just after it. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    struct timespec now;
    (void)fd;
    (void)what;
    clock_gettime(CLOCK_REALTIME, &now);
    sf_log_tick(&w->srv.log, (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000);
    if (sf_reclaim_due(&w->reclaim, w->nconns)) {
        /* many connections went: the spare request states and slab
         * block go, and malloc hands back its free pages (what the
         * connections' requests left between what stays) */
        sf_conn_mem_trim(&w->srv);
        malloc_trim(0);
    }
    long us = 1000000L - now.tv_nsec / 1000 + 1000; /* 1 ms past it */
    struct timeval tv = {us / 1000000L, (suseconds_t)(us % 1000000L)};
    evtimer_add(w->tick, &tv);
}

static void
on_stop_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    (void)fd;
    (void)what;
    if (w->nconns)
        sf_log_msg(&w->srv.log, SF_LOG_WARN, "shutdown timeout: closing %u connection(s)",
                   w->nconns);
    event_base_loopexit(w->srv.base, NULL);
}

/* SIGQUIT: stop now; SIGUSR1: reopen the logs; SIGHUP: a single process
 * has no master to reload it. */
static void
on_other_signal(evutil_socket_t sig, short what, void *arg)
{
    struct worker *w = arg;
    (void)what;
    if (sig == SIGQUIT) {
        sf_log_msg(&w->srv.log, SF_LOG_INFO, "signal %d: stopping now", (int)sig);
        event_base_loopexit(w->srv.base, NULL);
    } else if (sig == SIGUSR1) {
        if (sf_log_reopen(&w->srv.log) == 0)
            sf_log_msg(&w->srv.log, SF_LOG_INFO, "log files reopened");
    } else {
        sf_log_msg(&w->srv.log, SF_LOG_INFO,
                   "signal %d: reloading needs a master process (workers >= 2, master = on "
                   "or --daemon); ignored",
                   (int)sig);
    }
}

/* The graceful stop proper: stop accepting, close idle connections,
 * give the others shutdown_timeout. */
static void
begin_stop(struct worker *w)
{
    w->stopping = true;
    for (size_t i = 0; i < w->nlis; i++)
        evconnlistener_free(w->lis[i]);
    w->nlis = 0;
    /* a drained connection may close at once, taking its node with it */
    for (struct sf_server_conn *sc = TAILQ_FIRST(&w->conns), *next; sc; sc = next) {
        next = TAILQ_NEXT(sc, link);
        sf_conn_drain(sc->c);
    }
    if (w->nconns == 0) {
        event_base_loopexit(w->srv.base, NULL);
        return;
    }
    unsigned ms = w->srv.cfg->shutdown_timeout_ms;
    struct timeval tv = {ms / 1000, (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(w->stop_timer, &tv);
}

/* A single process's drain_delay is over. */
static void
on_drain_end(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    (void)fd;
    (void)what;
    sf_log_msg(&w->srv.log, SF_LOG_INFO, "drain_delay over: stopping (%u connection(s) to drain)",
               w->nconns);
    begin_stop(w);
}

/* SIGTERM (and SIGINT in a single process). A single process with
 * drain_delay first serves on with the health path failing, then stops
 * gracefully; a second signal stops at once. Under a master the drain is
 * the master's (SIGUSR2, then this SIGTERM when it is over); SIGTERM
 * alone, as a reload's retiring worker gets, stops gracefully at once. */
static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct worker *w = arg;
    (void)what;
    if (!w->under_master)
        sd_notify(0, "STOPPING=1");
    if (w->stopping || (w->srv.draining && !w->under_master)) {
        sf_log_msg(&w->srv.log, SF_LOG_INFO, "signal %d again: stopping now", (int)sig);
        event_base_loopexit(w->srv.base, NULL);
        return;
    }
    unsigned ms = w->srv.cfg->drain_delay_ms;
    if (!w->under_master && ms) {
        sf_log_msg(&w->srv.log, SF_LOG_INFO,
                   "signal %d: draining for %u ms (health_path answers 503), then stopping",
                   (int)sig, ms);
        w->srv.draining = true;
        struct timeval tv = {ms / 1000, (suseconds_t)(ms % 1000) * 1000};
        evtimer_add(w->drain_timer, &tv);
        return;
    }
    sf_log_msg(&w->srv.log, SF_LOG_INFO, "signal %d: stopping (%u connection(s) to drain)",
               (int)sig, w->nconns);
    begin_stop(w);
}

/* SIGUSR2, from the master: a stop is coming; the health path fails
 * from now on while everything else is served as before. */
static void
on_drain(evutil_socket_t sig, short what, void *arg)
{
    struct worker *w = arg;
    (void)sig;
    (void)what;
    if (!w->srv.draining)
        sf_log_msg(&w->srv.log, SF_LOG_DEBUG, "draining: health_path answers 503");
    w->srv.draining = true;
}

/* What l's connections start with: a PROXY header, data already there
 * (TCP_DEFER_ACCEPT), TCP_NODELAY inherited from the listener (listen.c
 * sets it before listen(); a socket from systemd may lack it). Asked of
 * the socket itself. */
static unsigned
conn_flags(const struct worker *w, const struct sf_listener *l)
{
    unsigned flags = l->proxy_protocol ? SF_CONN_PROXY_PROTOCOL : 0;
    if (l->family == AF_UNIX)
        return flags;
    int v = 0;
    socklen_t len = sizeof(v);
    /* a socket shared with other workers: the connection that made it
     * readable may be theirs, ours may have come later (sf_server_woken) */
    if (l->slot < 0 && w->under_master && w->srv.cfg->workers > 1)
        flags |= LIS_SHARED;
    if (getsockopt(l->fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &v, &len) == 0 && v > 0)
        flags |= SF_CONN_DATA_READY;
    v = 0;
    len = sizeof(v);
    if (getsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0 && v > 0)
        flags |= SF_CONN_NODELAY;
    return flags;
}

/* Watch the listeners of our slot (taking their fds out of the set);
 * close the other slots' sockets, which are not ours to accept on. */
static int
take_listeners(struct worker *w, struct sf_listen_set *set, int slot)
{
    for (size_t i = 0; i < set->n; i++) {
        struct sf_listener *l = &set->l[i];
        if (l->fd < 0)
            continue;
        if ((l->slot >= 0 && l->slot != slot) || w->nlis == SF_CONFIG_MAX_LISTEN) {
            close(l->fd);
            l->fd = -1;
            continue;
        }
        /* backlog 0: listening already, with the configured backlog (-1
         * would make libevent listen again with 128) */
        struct evconnlistener *el = evconnlistener_new(
            w->srv.base, on_accept, w, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, l->fd);
        if (!el) {
            sf_log_msg(&w->srv.log, SF_LOG_ERROR, "listen %s: cannot watch socket", l->name);
            return -1;
        }
        w->lis_flags[w->nlis] = conn_flags(w, l);
        l->fd = -1;
        evconnlistener_set_error_cb(el, on_accept_error);
        w->lis[w->nlis++] = el;
    }
    return 0;
}

/* libevent handles these now: let them through (the lease signals stay
 * blocked: lbreak reads them from a signalfd). Under a master, SIGINT
 * (a terminal's Ctrl-C reaches the whole group) and SIGHUP are the
 * master's; SIGUSR2 is the master's drain notice, and stays blocked
 * (ignored) in a single process. */
static void
unblock_signals(bool under_master)
{
    static const int sigs[] = {SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGCHLD};
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaddset(&set, sigs[i]);
    if (under_master)
        sigaddset(&set, SIGUSR2);
    if (under_master) {
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
    }
    signal(SIGCHLD, SIG_DFL);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static int
add_signal(struct worker *w, struct event **ev, int sig, event_callback_fn fn)
{
    *ev = evsignal_new(w->srv.base, sig, fn, w);
    return *ev && evsignal_add(*ev, NULL) == 0 ? 0 : -1;
}

static int
start_signals(struct worker *w)
{
    if (add_signal(w, &w->sig_term, SIGTERM, on_signal) ||
        add_signal(w, &w->sig_quit, SIGQUIT, on_other_signal) ||
        add_signal(w, &w->sig_usr1, SIGUSR1, on_other_signal))
        return -1;
    if (w->under_master && add_signal(w, &w->sig_usr2, SIGUSR2, on_drain))
        return -1;
    if (!w->under_master && (add_signal(w, &w->sig_int, SIGINT, on_signal) ||
                             add_signal(w, &w->sig_hup, SIGHUP, on_other_signal)))
        return -1;
    unblock_signals(w->under_master);
    return 0;
}

static int
start(struct worker *w, const struct sf_worker_opts *o)
{
    if (sf_server_open(&w->srv) != 0)
        return -1;
    if (take_listeners(w, o->lis, o->slot) != 0)
        return -1;
    w->accepting = true;
    w->tick = evtimer_new(w->srv.base, on_tick, w);
    w->stop_timer = evtimer_new(w->srv.base, on_stop_timeout, w);
    w->resume_accept = evtimer_new(w->srv.base, on_resume_accept, w);
    w->drain_timer = evtimer_new(w->srv.base, on_drain_end, w);
    if (!w->tick || !w->stop_timer || !w->resume_accept || !w->drain_timer ||
        start_signals(w) != 0) {
        sf_log_msg(&w->srv.log, SF_LOG_ERROR, "out of memory creating events");
        return -1;
    }
    on_tick(-1, 0, w);
    return 0;
}

static void
free_event(struct event *ev)
{
    if (ev)
        event_free(ev);
}

int
sf_worker_run(const struct sf_config *cfg, const struct sf_worker_opts *o)
{
    struct worker w;
    memset(&w, 0, sizeof(w));
    w.srv.cfg = cfg;
    w.srv.conn_added = on_conn_added;
    w.srv.conn_gone = on_conn_gone;
    w.srv.conn_idle = on_conn_idle;
    w.reclaim.min_drop = RECLAIM_MIN_DROP;
    w.srv.owner = &w;
    w.under_master = o->under_master;
    w.srv.draining = o->draining;
    TAILQ_INIT(&w.conns);
    TAILQ_INIT(&w.idle);
    signal(SIGPIPE, SIG_IGN);
    if (sf_log_open(&w.srv.log, cfg) != 0)
        return 1;

    int status = 1;
    bool opened = false;
    struct event_config *ec = event_config_new();
    if (ec) {
        /* fold the del+add of a read<->write switch into one epoll_ctl */
        event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
        /* arm timeouts from the time now, not from when the loop woke:
         * after a long pass over many ready connections, a cached time
         * would make every timeout armed late in the pass fire early by
         * the pass's length (a clock read is a vDSO call, no syscall) */
        event_config_set_flag(ec, EVENT_BASE_FLAG_NO_CACHE_TIME);
        w.srv.base = event_base_new_with_config(ec);
        event_config_free(ec);
    }
    /* two priorities: file-change news (inotify, lease breaks) before
     * connections, so that a lease break is acted on before more bytes of
     * that file are sent */
    if (!w.srv.base || event_base_priority_init(w.srv.base, 2) != 0) {
        sf_log_msg(&w.srv.log, SF_LOG_ERROR, "cannot create the event loop");
        goto out;
    }
    opened = true;
    sf_conn_mem_init(&w.srv);
    sf_log_tee(&w.srv.log, true); /* a failing start is told on stderr too */
    if (start(&w, o) != 0)
        goto out;
    sf_log_tee(&w.srv.log, false);
    event_base_dispatch(w.srv.base);
    status = 0;

out:
    while (!TAILQ_EMPTY(&w.conns))
        sf_conn_close(TAILQ_FIRST(&w.conns)->c);
    sf_conn_mem_free(&w.srv);
    if (opened)
        sf_server_close(&w.srv);
    if (status == 0)
        sf_log_msg(&w.srv.log, SF_LOG_INFO, "stopped");
    for (size_t i = 0; i < w.nlis; i++)
        evconnlistener_free(w.lis[i]);
    free_event(w.sig_int);
    free_event(w.sig_term);
    free_event(w.sig_quit);
    free_event(w.sig_usr1);
    free_event(w.sig_hup);
    free_event(w.sig_usr2);
    free_event(w.drain_timer);
    free_event(w.tick);
    free_event(w.stop_timer);
    free_event(w.resume_accept);
    if (w.srv.base)
        event_base_free(w.srv.base);
    sf_log_close(&w.srv.log);
    return status;
}
