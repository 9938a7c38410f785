/*
 * worker.c - one event loop: listeners, the connection list, signals for
 * a graceful stop (SIGQUIT: at once; SIGUSR1: reopen logs), the
 * per-second tick (date, access-log flush), and accept throttling
 * (max_connections, EMFILE). The listening sockets come open from
 * listen.c: a worker never binds.
 */
#include "sfhttpd/worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "sfhttpd/conn.h"
#include "sfhttpd/listen.h"
#include "sfhttpd/fcache.h"
#include "sfhttpd/mime.h"

#define ACCEPT_RETRY_MS 200

void
sf_worker_update_date(struct sf_server *srv)
{
    struct timeval tv;
    event_base_gettimeofday_cached(srv->base, &tv);
    if (tv.tv_sec != srv->date_sec) {
        srv->date_sec = tv.tv_sec;
        sf_httpdate_format(tv.tv_sec, srv->date);
    }
}

static void
set_accepting(struct sf_server *srv, bool on)
{
    if (srv->accepting == on)
        return;
    for (size_t i = 0; i < srv->nlis; i++) {
        if (on)
            evconnlistener_enable(srv->lis[i]);
        else
            evconnlistener_disable(srv->lis[i]);
    }
    srv->accepting = on;
}

void
sf_worker_conn_gone(struct sf_server *srv)
{
    if (srv->stopping) {
        if (srv->nconns == 0)
            event_base_loopexit(srv->base, NULL);
        return;
    }
    if (!srv->accepting && srv->nconns < srv->cfg->max_connections &&
        !evtimer_pending(srv->resume_accept, NULL))
        set_accepting(srv, true);
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    struct sf_server *srv = arg;
    bool proxy = false;
    if (srv->stopping) {
        close(fd);
        return;
    }
    for (size_t i = 0; i < srv->nlis; i++)
        if (srv->lis[i] == l)
            proxy = srv->lis_proxy[i];
    sf_conn_new(srv, fd, sa, (socklen_t)salen, proxy);
    if (srv->nconns >= srv->cfg->max_connections) {
        if (!srv->accept_error_logged)
            sf_log_msg(&srv->log, SF_LOG_WARN,
                       "max_connections (%u) reached: not accepting until some close",
                       srv->cfg->max_connections);
        srv->accept_error_logged = true;
        set_accepting(srv, false);
    }
}

static void
on_accept_error(struct evconnlistener *l, void *arg)
{
    struct sf_server *srv = arg;
    int err = errno;
    (void)l;
    if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        /* out of descriptors: pause instead of spinning on a listener that
         * stays readable */
        if (!srv->accept_error_logged)
            sf_log_errno(&srv->log, SF_LOG_WARN, err, "accept: pausing for %d ms", ACCEPT_RETRY_MS);
        srv->accept_error_logged = true;
        set_accepting(srv, false);
        struct timeval tv = {0, ACCEPT_RETRY_MS * 1000};
        evtimer_add(srv->resume_accept, &tv);
        return;
    }
    sf_log_errno(&srv->log, SF_LOG_DEBUG, err, "accept");
}

static void
on_resume_accept(evutil_socket_t fd, short what, void *arg)
{
    struct sf_server *srv = arg;
    (void)fd;
    (void)what;
    if (!srv->stopping && srv->nconns < srv->cfg->max_connections)
        set_accepting(srv, true);
}

/* The tick runs just after each second boundary of the wall clock, so
 * that the access lines of a second leave every worker together (log.h).
 * Re-armed from the wall clock each time: libevent's timers run on a
 * coarse monotonic clock, and a tick that fires a little early finds the
 * second not over yet and comes back just after it. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct sf_server *srv = arg;
    struct timespec now;
    (void)fd;
    (void)what;
    clock_gettime(CLOCK_REALTIME, &now);
    sf_log_tick(&srv->log, (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000);
    long us = 1000000L - now.tv_nsec / 1000 + 1000; /* 1 ms past it */
    struct timeval tv = {us / 1000000L, (suseconds_t)(us % 1000000L)};
    evtimer_add(srv->tick, &tv);
}

static void
on_stop_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct sf_server *srv = arg;
    (void)fd;
    (void)what;
    if (srv->nconns)
        sf_log_msg(&srv->log, SF_LOG_WARN, "shutdown timeout: closing %u connection(s)",
                   srv->nconns);
    event_base_loopexit(srv->base, NULL);
}

/* SIGQUIT: stop now; SIGUSR1: reopen the logs; SIGHUP: a single process
 * has no master to reload it. */
static void
on_other_signal(evutil_socket_t sig, short what, void *arg)
{
    struct sf_server *srv = arg;
    (void)what;
    if (sig == SIGQUIT) {
        sf_log_msg(&srv->log, SF_LOG_INFO, "signal %d: stopping now", (int)sig);
        event_base_loopexit(srv->base, NULL);
    } else if (sig == SIGUSR1) {
        if (sf_log_reopen(&srv->log) == 0)
            sf_log_msg(&srv->log, SF_LOG_INFO, "log files reopened");
    } else {
        sf_log_msg(&srv->log, SF_LOG_INFO,
                   "signal %d: reloading needs a master process (workers >= 2, master = on "
                   "or --daemon); ignored",
                   (int)sig);
    }
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct sf_server *srv = arg;
    (void)what;
    if (!srv->under_master)
        sd_notify(0, "STOPPING=1");
    if (srv->stopping) {
        sf_log_msg(&srv->log, SF_LOG_INFO, "signal %d again: stopping now", (int)sig);
        event_base_loopexit(srv->base, NULL);
        return;
    }
    sf_log_msg(&srv->log, SF_LOG_INFO, "signal %d: stopping (%u connection(s) to drain)",
               (int)sig, srv->nconns);
    srv->stopping = true;
    for (size_t i = 0; i < srv->nlis; i++)
        evconnlistener_free(srv->lis[i]);
    srv->nlis = 0;
    sf_conn_drain_all(srv);
    if (srv->nconns == 0) {
        event_base_loopexit(srv->base, NULL);
        return;
    }
    unsigned ms = srv->cfg->shutdown_timeout_ms;
    struct timeval tv = {ms / 1000, (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(srv->stop_timer, &tv);
}

static void
on_fc_inotify(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sf_fcache_on_inotify(((struct sf_server *)arg)->fc);
}

static void
on_fc_signal(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sf_fcache_on_signal(((struct sf_server *)arg)->fc);
}

/* The open-file cache, its inotify fd and its lease-break signalfd. */
static int
start_cache(struct sf_server *srv)
{
    const struct sf_config *cfg = srv->cfg;
    struct sf_fcache_opts o = {
        .max_entries = cfg->open_file_cache_max,
        .small_file_size = cfg->small_file_size,
        .guard = cfg->file_guard,
    };
    srv->fc = sf_fcache_new(&o, &srv->log);
    if (!srv->fc) {
        sf_log_msg(&srv->log, SF_LOG_ERROR, "out of memory creating the file cache");
        return -1;
    }
    int ifd = sf_fcache_inotify_fd(srv->fc), sfd = sf_fcache_signal_fd(srv->fc);
    if (ifd >= 0) {
        srv->fc_inotify = event_new(srv->base, ifd, EV_READ | EV_PERSIST, on_fc_inotify, srv);
        if (!srv->fc_inotify || event_priority_set(srv->fc_inotify, 0) != 0 ||
            event_add(srv->fc_inotify, NULL) != 0)
            return -1;
    }
    if (sfd >= 0) {
        srv->fc_signal = event_new(srv->base, sfd, EV_READ | EV_PERSIST, on_fc_signal, srv);
        if (!srv->fc_signal || event_priority_set(srv->fc_signal, 0) != 0 ||
            event_add(srv->fc_signal, NULL) != 0)
            return -1;
    }
    return 0;
}

/* A MIME table of its own for each site with mime_types overrides. */
static int
start_site_mime(struct sf_server *srv)
{
    const struct sf_config *cfg = srv->cfg;
    for (size_t i = 0; i < cfg->nsites; i++) {
        const struct sf_site *site = &cfg->sites[i];
        if (site->nmime_types == 0)
            continue;
        srv->site_mime[i] = sf_mime_new(NULL);
        if (!srv->site_mime[i]) {
            sf_log_msg(&srv->log, SF_LOG_ERROR, "out of memory loading MIME types");
            return -1;
        }
        for (size_t j = 0; j < site->nmime_types; j++) {
            int rc = sf_mime_add(srv->site_mime[i], site->mime_types[j].ext,
                                 site->mime_types[j].type);
            if (rc) {
                sf_log_errno(&srv->log, SF_LOG_ERROR, rc, "[%s]: mime_types %s %s", site->name,
                             site->mime_types[j].ext, site->mime_types[j].type);
                return -1;
            }
        }
    }
    return 0;
}

/* Watch the listeners of our slot (taking their fds out of the set);
 * close the other slots' sockets, which are not ours to accept on. */
static int
take_listeners(struct sf_server *srv, struct sf_listen_set *set, int slot)
{
    for (size_t i = 0; i < set->n; i++) {
        struct sf_listener *l = &set->l[i];
        if (l->fd < 0)
            continue;
        if ((l->slot >= 0 && l->slot != slot) || srv->nlis == SF_CONFIG_MAX_LISTEN) {
            close(l->fd);
            l->fd = -1;
            continue;
        }
        struct evconnlistener *el = evconnlistener_new(
            srv->base, on_accept, srv, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, l->fd);
        if (!el) {
            sf_log_msg(&srv->log, SF_LOG_ERROR, "listen %s: cannot watch socket", l->name);
            return -1;
        }
        l->fd = -1;
        evconnlistener_set_error_cb(el, on_accept_error);
        srv->lis_proxy[srv->nlis] = l->proxy_protocol;
        srv->lis[srv->nlis++] = el;
    }
    return 0;
}

/* libevent handles these now: let them through (the lease signals stay
 * blocked: fcache reads them from a signalfd). Under a master, SIGINT
 * (a terminal's Ctrl-C reaches the whole group) and SIGHUP are the
 * master's. */
static void
unblock_signals(bool under_master)
{
    static const int sigs[] = {SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGCHLD};
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaddset(&set, sigs[i]);
    if (under_master) {
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
    }
    signal(SIGCHLD, SIG_DFL);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static int
add_signal(struct sf_server *srv, struct event **ev, int sig, event_callback_fn fn)
{
    *ev = evsignal_new(srv->base, sig, fn, srv);
    return *ev && evsignal_add(*ev, NULL) == 0 ? 0 : -1;
}

static int
start_signals(struct sf_server *srv)
{
    if (add_signal(srv, &srv->sig_term, SIGTERM, on_signal) ||
        add_signal(srv, &srv->sig_quit, SIGQUIT, on_other_signal) ||
        add_signal(srv, &srv->sig_usr1, SIGUSR1, on_other_signal))
        return -1;
    if (!srv->under_master && (add_signal(srv, &srv->sig_int, SIGINT, on_signal) ||
                               add_signal(srv, &srv->sig_hup, SIGHUP, on_other_signal)))
        return -1;
    unblock_signals(srv->under_master);
    return 0;
}

static int
start(struct sf_server *srv, const struct sf_worker_opts *o)
{
    const struct sf_config *cfg = srv->cfg;
    for (size_t i = 0; i < cfg->nsites; i++) {
        srv->rootfd[i] = open(cfg->sites[i].root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (srv->rootfd[i] < 0) {
            sf_log_errno(&srv->log, SF_LOG_ERROR, errno, "root %s", cfg->sites[i].root);
            return -1;
        }
    }
    srv->mime = sf_mime_new(NULL);
    if (!srv->mime) {
        sf_log_msg(&srv->log, SF_LOG_ERROR, "out of memory loading MIME types");
        return -1;
    }
    if (start_site_mime(srv) != 0)
        return -1;
    if (start_cache(srv) != 0)
        return -1;
    if (take_listeners(srv, o->lis, o->slot) != 0)
        return -1;
    srv->accepting = true;
    srv->tick = evtimer_new(srv->base, on_tick, srv);
    srv->stop_timer = evtimer_new(srv->base, on_stop_timeout, srv);
    srv->resume_accept = evtimer_new(srv->base, on_resume_accept, srv);
    if (!srv->tick || !srv->stop_timer || !srv->resume_accept || start_signals(srv) != 0) {
        sf_log_msg(&srv->log, SF_LOG_ERROR, "out of memory creating events");
        return -1;
    }
    on_tick(-1, 0, srv);
    return 0;
}

int
sf_worker_run(const struct sf_config *cfg, const struct sf_worker_opts *o)
{
    struct sf_server srv;
    memset(&srv, 0, sizeof(srv));
    srv.cfg = cfg;
    srv.under_master = o->under_master;
    for (size_t i = 0; i < SF_CONFIG_MAX_SITES; i++)
        srv.rootfd[i] = -1;
    TAILQ_INIT(&srv.conns);
    signal(SIGPIPE, SIG_IGN);
    if (sf_log_open(&srv.log, cfg) != 0)
        return 1;
    if (getrandom(&srv.rng, sizeof(srv.rng), 0) != sizeof(srv.rng))
        srv.rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

    int status = 1;
    struct event_config *ec = event_config_new();
    if (ec) {
        /* fold the del+add of a read<->write switch into one epoll_ctl */
        event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
        srv.base = event_base_new_with_config(ec);
        event_config_free(ec);
    }
    /* two priorities: file-change news (inotify, lease breaks) before
     * connections, so that a lease break is acted on before more bytes of
     * that file are sent */
    if (!srv.base || event_base_priority_init(srv.base, 2) != 0) {
        sf_log_msg(&srv.log, SF_LOG_ERROR, "cannot create the event loop");
        goto out;
    }
    sf_worker_update_date(&srv);
    sf_log_tee(&srv.log, true); /* a failing start is told on stderr too */
    if (start(&srv, o) != 0)
        goto out;
    sf_log_tee(&srv.log, false);
    event_base_dispatch(srv.base);
    status = 0;

out:
    while (!TAILQ_EMPTY(&srv.conns))
        sf_conn_close(TAILQ_FIRST(&srv.conns));
    if (srv.fc) {
        struct sf_fcache_stats st;
        sf_fcache_stats(srv.fc, &st);
        sf_log_msg(&srv.log, SF_LOG_INFO,
                   "file cache: %llu hits, %llu misses, %llu invalidations, %llu evictions, "
                   "%llu lease breaks, %llu responses cut, %llu files guarded by stat",
                   (unsigned long long)st.hits, (unsigned long long)st.misses,
                   (unsigned long long)st.invalidations, (unsigned long long)st.evictions,
                   (unsigned long long)st.lease_breaks, (unsigned long long)st.responses_cut,
                   (unsigned long long)st.stat_fallbacks);
    }
    if (status == 0)
        sf_log_msg(&srv.log, SF_LOG_INFO, "stopped");
    if (srv.fc_inotify)
        event_free(srv.fc_inotify);
    if (srv.fc_signal)
        event_free(srv.fc_signal);
    sf_fcache_free(srv.fc);
    for (size_t i = 0; i < srv.nlis; i++)
        evconnlistener_free(srv.lis[i]);
    if (srv.sig_int)
        event_free(srv.sig_int);
    if (srv.sig_term)
        event_free(srv.sig_term);
    if (srv.sig_quit)
        event_free(srv.sig_quit);
    if (srv.sig_usr1)
        event_free(srv.sig_usr1);
    if (srv.sig_hup)
        event_free(srv.sig_hup);
    if (srv.tick)
        event_free(srv.tick);
    if (srv.stop_timer)
        event_free(srv.stop_timer);
    if (srv.resume_accept)
        event_free(srv.resume_accept);
    for (size_t i = 0; i < SF_CONFIG_MAX_SITES; i++)
        if (srv.rootfd[i] >= 0)
            close(srv.rootfd[i]);
    sf_mime_free(srv.mime);
    for (size_t i = 0; i < SF_CONFIG_MAX_SITES; i++)
        sf_mime_free(srv.site_mime[i]);
    if (srv.base)
        event_base_free(srv.base);
    sf_log_close(&srv.log);
    return status;
}
