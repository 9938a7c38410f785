/*
 * worker.h - one worker: an event loop, its listeners, its connections
 * and everything it owns (logs, MIME table, site root fds). The only
 * mutable state of a worker lives in its struct sf_server.
 */
#ifndef SFHTTPD_WORKER_H
#define SFHTTPD_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

#include "sfhttpd/config.h"
#include "sfhttpd/httpdate.h"
#include "sfhttpd/log.h"

struct event_base;
struct event;
struct evconnlistener;
struct sf_mime;
struct sf_conn;
struct sf_fcache;

TAILQ_HEAD(sf_conn_list, sf_conn);

struct sf_server {
    const struct sf_config *cfg;
    struct event_base *base;
    struct sf_log log;
    struct sf_mime *mime;
    struct sf_mime *site_mime[SF_CONFIG_MAX_SITES]; /* a site's own table
                                 when it has mime_types, else NULL: mime */
    struct sf_fcache *fc;
    struct event *fc_inotify, *fc_signal;
    int rootfd[SF_CONFIG_MAX_SITES];
    struct evconnlistener *lis[SF_CONFIG_MAX_LISTEN];
    bool lis_proxy[SF_CONFIG_MAX_LISTEN]; /* PROXY header on lis[i] */
    size_t nlis;
    bool accepting;
    bool under_master;      /* signals come from the master */
    struct event *sig_int, *sig_term, *tick, *stop_timer, *resume_accept;
    struct event *sig_quit, *sig_usr1, *sig_hup;
    char date[SF_HTTPDATE_LEN + 1];
    time_t date_sec;
    uint64_t rng;
    struct sf_conn_list conns;
    unsigned nconns;
    bool stopping;
    bool accept_error_logged;
};

struct sf_listen_set;

struct sf_worker_opts {
    struct sf_listen_set *lis; /* the open listeners (listen.h) */
    int slot;                  /* this worker's slot: it serves the
                                  listeners of slot -1 and of slot */
    bool under_master;         /* a master runs it: SIGINT and SIGHUP are
                                  the master's, SIGTERM comes from it */
};

/*
 * Run a worker in this process until SIGTERM (or SIGINT in a single
 * process) and a graceful drain (bounded by shutdown_timeout); SIGQUIT
 * stops at once; SIGUSR1 reopens the log files. Takes the listeners of
 * its slot out of o->lis (their fds become -1 there; the worker closes
 * them when it stops accepting) and closes the other slots' sockets.
 * Opens the logs from cfg. The signals above may be blocked on entry;
 * they are unblocked once handled. Returns the process exit status (0
 * after a clean stop, 1 when start-up failed, with the reason logged).
 */
int sf_worker_run(const struct sf_config *cfg, const struct sf_worker_opts *o);

/* Refresh srv->date when the second changed. */
void sf_worker_update_date(struct sf_server *srv);

/* Called by conn.c when a connection is freed (for accept throttling and
 * the graceful-stop drain). */
void sf_worker_conn_gone(struct sf_server *srv);

#endif
