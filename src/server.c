/*
 * server.c - a worker's serving state and request dispatch (see
 * server.h): opening the site roots, the MIME tables and the open-file
 * cache, and turning one parsed request into a response plan by picking
 * its site and handing it to the file handler.
 */
#include "sfhttpd/server.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "sfhttpd/fcache.h"
#include "sfhttpd/fneg.h"
#include "sfhttpd/lcache.h"
#include "sfhttpd/mime.h"
#include "sfhttpd/request.h"
#include "sfhttpd/response.h"
#include "sfhttpd/snapshot.h"
#include "sfhttpd/static.h"
#include "sfhttpd/vhost.h"

/* Refresh srv->date when the second changed. */
static void
update_date(struct sf_server *srv)
{
    time_t sec;
    if (srv->wake_ms) {
        sec = (time_t)(srv->wake_ms / 1000);
    } else {
        struct timeval tv;
        event_base_gettimeofday_cached(srv->base, &tv);
        sec = tv.tv_sec;
    }
    if (sec != srv->date_sec) {
        srv->date_sec = sec;
        sf_httpdate_format(sec, srv->date);
    }
}

static void
on_fc_inotify(evutil_socket_t fd, short what, void *arg)
{
    struct sf_server *srv = arg;
    (void)fd;
    (void)what;
    sf_fcache_sync(srv->fc);
    srv->need_sync = false;
}

/* The events of the smallest batch one epoll wait of libevent returns
 * (its INITIAL_NEVENT; a batch only grows): fewer ready events than this
 * were all reported. */
#define LOOP_BATCH_MIN 32

/* Runs after the connection callbacks of the iteration's pass. */
static void
on_iter_end(evutil_socket_t fd, short what, void *arg)
{
    struct sf_server *srv = arg;
    (void)fd;
    (void)what;
    srv->in_iter = false;
    srv->need_sync = false;
    srv->iter_accepts = 0;
}

void
sf_server_woken(struct sf_server *srv)
{
    if (srv->in_iter || !srv->iter_end)
        return;
    srv->in_iter = true;
    /* the callbacks still to run in this pass, and this one */
    int batch = event_base_get_num_events(srv->base, EVENT_BASE_COUNT_ACTIVE) + 1;
    srv->need_sync = batch >= LOOP_BATCH_MIN;
    /* queued behind them, at their priority: it runs when they are done */
    event_active(srv->iter_end, EV_TIMEOUT, 0);
}

unsigned
sf_server_accepted(struct sf_server *srv)
{
    return srv->iter_accepts++;
}

void
sf_server_sync_next(struct sf_server *srv)
{
    srv->need_sync = true;
}

static void
on_fc_signal(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sf_fcache_on_signal(((struct sf_server *)arg)->fc);
}

static void
on_fc_hashed(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sf_fcache_on_hashed(((struct sf_server *)arg)->fc);
}

/* fd's event at priority 0 (file-change news before connections), or
 * none for fd -1. */
static int
watch_fd(struct sf_server *srv, struct event **ev, int fd, event_callback_fn fn)
{
    if (fd < 0)
        return 0;
    *ev = event_new(srv->base, fd, EV_READ | EV_PERSIST, fn, srv);
    return *ev && event_priority_set(*ev, 0) == 0 && event_add(*ev, NULL) == 0 ? 0 : -1;
}

/* The open-file cache, its inotify fd, its lease-break signalfd and its
 * hashing thread's eventfd. */
static int
start_cache(struct sf_server *srv)
{
    const struct sf_config *cfg = srv->cfg;
    struct sf_fcache_opts o = {
        .max_entries = srv->fds.open_file_cache_max,
        .small_file_size = cfg->small_file_size,
        .small_file_budget = cfg->small_file_budget,
        .guard = cfg->file_guard,
        .base = srv->base,
        .lease_break_wait_ms = cfg->lease_break_wait_ms,
    };
    _Static_assert(SF_CONFIG_MAX_SITES <= 64, "content_etag_sites is a 64-bit mask");
    for (size_t i = 0; i < cfg->nsites; i++)
        if (cfg->sites[i].etag == SF_ETAG_CONTENT)
            o.content_etag_sites |= 1ULL << i;
    int err;
    srv->snaps = sf_snapshots_new(cfg->snapshot_budget, cfg->snapshot_dir, &err);
    if (!srv->snaps) {
        sf_log_msg(&srv->log, SF_LOG_ERROR, "out of memory creating the snapshot pool");
        return -1;
    }
    if (err)
        sf_log_errno(&srv->log, SF_LOG_WARN, err, "snapshot_dir %s: no reflink snapshots",
                     cfg->snapshot_dir);
    srv->fc = sf_fcache_new(&o, &srv->log);
    if (!srv->fc) {
        sf_log_msg(&srv->log, SF_LOG_ERROR, "out of memory creating the file cache");
        return -1;
    }
    struct sf_lcache_opts lo = {
        .max_bytes = cfg->listing_cache_size,
        .max_dirs = srv->fds.listing_cache_max,
    };
    srv->lc = sf_lcache_new(&lo, sf_fcache_fwatch(srv->fc), &srv->log);
    if (!srv->lc) {
        sf_log_msg(&srv->log, SF_LOG_ERROR, "out of memory creating the listing cache");
        return -1;
    }
    srv->neg = sf_fneg_new(sf_fcache_fwatch(srv->fc), srv->fds.open_file_cache_max);
    if (!srv->neg) {
        sf_log_msg(&srv->log, SF_LOG_ERROR, "out of memory creating the file cache");
        return -1;
    }
    if (watch_fd(srv, &srv->fc_inotify, sf_fcache_inotify_fd(srv->fc), on_fc_inotify) != 0 ||
        watch_fd(srv, &srv->fc_signal, sf_fcache_signal_fd(srv->fc), on_fc_signal) != 0 ||
        watch_fd(srv, &srv->fc_hashed, sf_fcache_hasher_fd(srv->fc), on_fc_hashed) != 0)
        return -1;
    /* at the connections' priority, the lowest */
    srv->iter_end = event_new(srv->base, -1, 0, on_iter_end, srv);
    if (!srv->iter_end ||
        event_priority_set(srv->iter_end, event_base_get_npriorities(srv->base) - 1) != 0)
        return -1;
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
            int rc =
                sf_mime_add(srv->site_mime[i], site->mime_types[j].ext, site->mime_types[j].type);
            if (rc) {
                sf_log_errno(&srv->log, SF_LOG_ERROR, rc, "[%s]: mime_types %s %s", site->name,
                             site->mime_types[j].ext, site->mime_types[j].type);
                return -1;
            }
        }
    }
    return 0;
}

int
sf_server_open(struct sf_server *srv)
{
    const struct sf_config *cfg = srv->cfg;
    for (size_t i = 0; i < SF_CONFIG_MAX_SITES; i++)
        srv->rootfd[i] = -1;
    if (getrandom(&srv->rng, sizeof(srv->rng), 0) != sizeof(srv->rng))
        srv->rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    update_date(srv);
    srv->health_len = cfg->health_path ? strlen(cfg->health_path) : 0;
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
    sf_fdlimit_get(cfg, &srv->fds); /* the start raised and logged it */
    return start_cache(srv);
}

void
sf_server_close(struct sf_server *srv)
{
    if (srv->fc) {
        struct sf_fcache_stats st;
        struct sf_fneg_stats ns;
        sf_fcache_stats(srv->fc, &st);
        sf_fneg_stats(srv->neg, &ns);
        sf_log_msg(&srv->log, SF_LOG_INFO,
                   "file cache: %llu hits, %llu misses, %llu invalidations, %llu evictions, "
                   "%llu lease breaks, %llu responses cut, %llu completed from snapshots, "
                   "%llu files guarded by stat, "
                   "%llu content ETags hashed (%llu read from the attribute, %llu stored), "
                   "%llu answered missing from memory",
                   (unsigned long long)st.hits, (unsigned long long)st.misses,
                   (unsigned long long)st.invalidations, (unsigned long long)st.evictions,
                   (unsigned long long)st.lease_breaks, (unsigned long long)st.responses_cut,
                   (unsigned long long)st.responses_kept, (unsigned long long)st.stat_fallbacks,
                   (unsigned long long)st.hashed, (unsigned long long)st.hash_reused,
                   (unsigned long long)st.hash_stored, (unsigned long long)ns.hits);
    }
    if (srv->lc) {
        struct sf_lcache_stats st;
        sf_lcache_stats(srv->lc, &st);
        sf_log_msg(&srv->log, SF_LOG_INFO,
                   "listing cache: %llu hits, %llu renders, %llu folder reads (%llu uncached), "
                   "%llu drops, %llu evictions",
                   (unsigned long long)st.hits, (unsigned long long)st.renders,
                   (unsigned long long)st.reads, (unsigned long long)st.uncached,
                   (unsigned long long)st.drops, (unsigned long long)st.evictions);
    }
    sf_lcache_free(srv->lc);
    srv->lc = NULL;
    sf_fneg_free(srv->neg);
    srv->neg = NULL;
    if (srv->iter_end)
        event_free(srv->iter_end);
    srv->iter_end = NULL;
    if (srv->fc_inotify)
        event_free(srv->fc_inotify);
    if (srv->fc_signal)
        event_free(srv->fc_signal);
    if (srv->fc_hashed)
        event_free(srv->fc_hashed);
    srv->fc_inotify = srv->fc_signal = srv->fc_hashed = NULL;
    sf_fcache_free(srv->fc);
    srv->fc = NULL;
    sf_snapshots_free(srv->snaps);
    srv->snaps = NULL;
    for (size_t i = 0; i < SF_CONFIG_MAX_SITES; i++) {
        if (srv->rootfd[i] >= 0)
            close(srv->rootfd[i]);
        srv->rootfd[i] = -1;
    }
    sf_mime_free(srv->mime);
    srv->mime = NULL;
    for (size_t i = 0; i < SF_CONFIG_MAX_SITES; i++) {
        sf_mime_free(srv->site_mime[i]);
        srv->site_mime[i] = NULL;
    }
}

/* The health path: answered before a site is chosen, from memory, so
 * that a load balancer's check works whatever Host it sends and never
 * waits on a disk; 503 once a stop is announced, so that the balancer
 * takes this server out before it stops accepting. False when r is not
 * a GET or HEAD of it. */
static bool
health(struct sf_server *srv, const struct sf_dispatch *d, struct sf_response *out)
{
    static const char ok[] = "ok\n", draining[] = "draining\n";
    const struct sf_request *r = &d->p->r;
    size_t n = r->path.len;
    const char *path = d->buf + r->path.off;
    if (n < srv->health_len || (r->method != HTTP_GET && r->method != HTTP_HEAD))
        return false;
    if (n > srv->health_len && path[srv->health_len] != '?')
        return false;
    if (memcmp(path, srv->cfg->health_path, srv->health_len) != 0)
        return false;
    const char *body = srv->draining ? draining : ok;
    size_t len = srv->draining ? sizeof(draining) - 1 : sizeof(ok) - 1;
    sf_response_begin(out, srv->draining ? 503 : 200, srv->date);
    sf_response_line(out, "Content-Type: text/plain; charset=utf-8");
    sf_response_line(out, "Cache-Control: no-store");
    sf_response_put_u64(out, "Content-Length", len);
    sf_response_end_head(out, d->keep_alive, r->major == 1 && r->minor == 0);
    out->st.content_length = len;
    if (r->method == HTTP_HEAD)
        out->st.no_body = true;
    else
        sf_response_add_ext(out, body, len);
    return true;
}

int
sf_server_dispatch(struct sf_server *srv, const struct sf_dispatch *d, struct sf_response *out)
{
    const struct sf_request *r = &d->p->r;
    update_date(srv);
    if (d->error) {
        bool http10 = r->major == 1 && r->minor == 0;
        sf_response_error(out, d->error, srv->date, false, http10, false, NULL);
        if (sf_log_enabled(&srv->log, SF_LOG_DEBUG))
            sf_log_msg(&srv->log, SF_LOG_DEBUG, "%s: bad request: %d %s", d->peer, d->error,
                       sf_response_reason(d->error));
        return -1;
    }
    if (srv->health_len && health(srv, d, out))
        return -1;
    /* the site: by the Host header, or the authority of an absolute URL */
    size_t hlen;
    const char *host = sf_vhost_request_host(d->p, d->buf, &hlen);
    int site = sf_vhost_select(srv->cfg, host, hlen);
    if (site < 0) {
        /* strict_hosts: no site answers for this host */
        sf_response_error(out, 421, srv->date, d->keep_alive, r->minor == 0, r->method == HTTP_HEAD,
                          NULL);
        return -1;
    }
    if (srv->need_sync || d->pipelined) {
        /* see sf_server_woken: what the loop's wait may not have told */
        sf_fcache_sync(srv->fc);
        srv->need_sync = false;
    }
    struct sf_static_in in = {
        .cfg = srv->cfg,
        .site = &srv->cfg->sites[site],
        .site_index = (unsigned)site,
        .rootfd = srv->rootfd[site],
        .fc = srv->fc,
        .lc = srv->lc,
        .neg = srv->neg,
        .mime = srv->site_mime[site] ? srv->site_mime[site] : srv->mime,
        .date = srv->date,
        .now = srv->date_sec,
        .rng = &srv->rng,
        .buf = d->buf,
        .p = d->p,
        .keep_alive = d->keep_alive,
    };
    sf_static_handle(&in, out);
    if (out->st.head_overflow) {
        sf_log_msg(&srv->log, SF_LOG_ERROR, "response head too large for %.*s", (int)r->target.len,
                   d->buf + r->target.off);
        sf_response_error(out, 500, srv->date, d->keep_alive, r->minor == 0, false, NULL);
    }
    return site;
}

void
sf_server_conn_added(struct sf_server *srv, struct sf_server_conn *sc)
{
    srv->conn_added(srv->owner, sc);
}

void
sf_server_conn_gone(struct sf_server *srv, struct sf_server_conn *sc)
{
    srv->conn_gone(srv->owner, sc);
}

void
sf_server_conn_idle(struct sf_server *srv, struct sf_server_conn *sc, bool idle)
{
    sc->idle = idle;
    if (srv->conn_idle)
        srv->conn_idle(srv->owner, sc);
}
