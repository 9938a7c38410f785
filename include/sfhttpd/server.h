/*
 * server.h - what one worker serves requests with, and request dispatch.
 * struct sf_server holds the worker's serving state (config, event loop,
 * logs, site root fds, MIME tables, the open-file cache, the date cache,
 * the PRNG); it is the only mutable state of a worker besides its
 * connections, listeners and signals (worker.c). Connections (conn.h)
 * need from it only the loop, the config and the log, plus two calls:
 * sf_server_dispatch for each request, and the added / gone reports that
 * let the worker keep its connections.
 */
#ifndef SFHTTPD_SERVER_H
#define SFHTTPD_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

#include "sfhttpd/config.h"
#include "sfhttpd/fdlimit.h"
#include "sfhttpd/httpdate.h"
#include "sfhttpd/log.h"
#include "sfhttpd/pool.h"
#include "sfhttpd/slab.h"

struct event;
struct event_base;
struct sf_conn;
struct sf_fcache;
struct sf_lcache;
struct sf_fneg;
struct sf_mime;
struct sf_parser;
struct sf_response;
struct sf_snapshots;

/* A connection as its owner keeps it: conn embeds one, fills c, and hands
 * it over with sf_server_conn_added; only the owner uses link. */
struct sf_server_conn {
    struct sf_conn *c;
    bool idle; /* kept alive with no request in flight
                  (sf_server_conn_idle) */
    TAILQ_ENTRY(sf_server_conn) link, idle_link;
};

/* The owner's bookkeeping: told of every connection started and freed. */
typedef void (*sf_server_conn_fn)(void *owner, struct sf_server_conn *sc);

struct sf_server {
    /* set by the owner before sf_server_open */
    const struct sf_config *cfg;
    struct event_base *base;
    struct sf_log log; /* open */
    sf_server_conn_fn conn_added, conn_gone;
    sf_server_conn_fn conn_idle; /* sc->idle changed */
    /* the owner's, for conn.c (sf_conn_mem_init): where connections
     * live, and the in-flight state of their requests */
    struct sf_slab connslab;
    struct sf_pool reqpool;
    const struct timeval *idle_tv; /* the keep-alive timeout as a libevent
                                 common timeout, or NULL */
    void *owner;
    bool draining; /* a stop is coming (drain_delay): the
                      health path answers 503; the owner sets it */
    /* opened by sf_server_open */
    int rootfd[SF_CONFIG_MAX_SITES];
    struct sf_mime *mime;
    struct sf_mime *site_mime[SF_CONFIG_MAX_SITES]; /* a site's own table
                                 when it has mime_types, else NULL: mime */
    struct sf_fdlimit fds;                          /* the descriptor budget in force: the
                                                       max_connections and open_file_cache_max
                                                       to go by (fdlimit.h) */
    struct sf_fcache *fc;
    struct sf_lcache *lc;       /* listings, invalidated by fc's watches */
    struct sf_fneg *neg;        /* missing names, dropped by fc's watches */
    struct sf_snapshots *snaps; /* copies of files changing under a
                                 response (snapshot.h), for conn */
    struct event *fc_inotify, *fc_signal, *fc_hashed;
    struct event *iter_end; /* marks the end of a loop iteration's pass */
    bool in_iter;           /* an fd callback of this iteration ran */
    bool need_sync;         /* this iteration's wait may not have
                               reported the inotify fd: read it first */
    unsigned iter_accepts;  /* connections accepted this iteration */
    char date[SF_HTTPDATE_LEN + 1];
    time_t date_sec;
    uint64_t wake_ms; /* the wall clock (ms) read when a connection's
                         callback began, used for the whole of it; 0
                         outside one (read the clock then) */
    uint64_t rng;
    size_t health_len; /* strlen(cfg->health_path), 0: none */
};

/*
 * Open what serving needs: every site's root (O_PATH), the MIME tables,
 * the snapshot pool, the open-file cache (with its lease-break rescue),
 * the listing cache and the file cache's events (inotify, lease breaks,
 * finished hashes) on srv->base (at priority 0,
 * before connections), and the iteration marker (see sf_server_woken). The fields marked above must
 * be set; the rest zeroed. Returns 0, or -1 with the reason logged; either way sf_server_close
 * (called only after sf_server_open) undoes it.
 */
int sf_server_open(struct sf_server *srv);
/* Log the caches' counters and close what sf_server_open opened.
 * Every connection must be closed first. Leaves cfg, base and log. */
void sf_server_close(struct sf_server *srv);

/* What conn hands over for one request. */
struct sf_dispatch {
    const char *buf; /* the bytes the parser's spans index */
    const struct sf_parser *p;
    int error;        /* 0: p holds a request whose head parsed;
                         else the status for one that did not */
    bool keep_alive;  /* the connection may stay open after it */
    bool pipelined;   /* read with the request before it, not
                         reported by the iteration's wait */
    const char *peer; /* the client, for the log */
};

/*
 * Build the whole response to one request into out (reset). A GET or
 * HEAD of cfg->health_path (the path byte for byte, the query aside, any
 * Host) is answered first, from memory, without a site or a file: 200
 * "ok\n", or 503 "draining\n" while srv->draining, text/plain with
 * Cache-Control: no-store. Else pick the site by Host (or an absolute
 * URL's authority), 421 when none answers (strict_hosts), else the file
 * handler with that site's root, MIME table and the cache; a head too
 * large becomes a 500. For d->error, the error page for that status
 * (never keep-alive). Returns the index of the answering site in
 * cfg->sites, or -1 (no site: an error, 421, the health path). Never
 * fails.
 */
int sf_server_dispatch(struct sf_server *srv, const struct sf_dispatch *d, struct sf_response *out);

/*
 * Freshness without a read per request. A change finished before a
 * request arrived must be seen by that request. The inotify fd sits in
 * the loop's epoll set at priority 0: a change finished before the wait
 * returned makes it ready in that wait, and libevent runs priority 0
 * (which applies it) before any connection, in an iteration of its own.
 * A request is read only after its socket was reported readable, so its
 * first bytes were there when the wait returned; a change finished
 * before the client started sending is therefore applied first. What
 * that misses is read explicitly (sf_fcache_sync): a request pipelined
 * behind another in one read (d->pipelined), and an iteration whose wait
 * may have been cut short (as many ready events as libevent's smallest
 * batch, 32: the inotify fd may be among those left for the next wait).
 *
 * Every fd callback of a connection or a listener calls sf_server_woken
 * first; sf_server_dispatch does the rest. Returns how many connections
 * were accepted before in this iteration (the caller counts them with
 * sf_server_accepted): only the first accepted connection is known to
 * have been ready when the wait returned. A later one whose request is
 * known to be there (TCP_DEFER_ACCEPT) is served at once after
 * sf_server_sync_next: the next request dispatched reads the file news
 * first (one read, cheaper than a wait for the connection: its epoll
 * registration, the wait, and the removal at close).
 */
void sf_server_woken(struct sf_server *srv);
unsigned sf_server_accepted(struct sf_server *srv);
void sf_server_sync_next(struct sf_server *srv);

/* Report a connection started / freed to the owner (conn.c calls these,
 * once each per connection). */
void sf_server_conn_added(struct sf_server *srv, struct sf_server_conn *sc);
void sf_server_conn_gone(struct sf_server *srv, struct sf_server_conn *sc);
/* A kept-alive connection became idle (no request in flight, nothing
 * buffered: the owner may close it to make room) or busy again. */
void sf_server_conn_idle(struct sf_server *srv, struct sf_server_conn *sc, bool idle);

#endif
