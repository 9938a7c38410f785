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
    struct sf_fcache *fc;
    struct event *fc_inotify, *fc_signal;
    int rootfd[SF_CONFIG_MAX_SITES];
    struct evconnlistener *lis[SF_CONFIG_MAX_LISTEN];
    size_t nlis;
    bool accepting;
    struct event *sig_int, *sig_term, *tick, *stop_timer, *resume_accept;
    char date[SF_HTTPDATE_LEN + 1];
    time_t date_sec;
    uint64_t rng;
    struct sf_conn_list conns;
    unsigned nconns;
    bool stopping;
    bool accept_error_logged;
};

/*
 * Run a worker in this process until SIGINT/SIGTERM and a graceful drain
 * (bounded by shutdown_timeout). Opens the listeners from cfg, prints
 * "listening on http://ADDR:PORT/" per listener at info level. Returns
 * the process exit status (0 after a clean stop, 1 when start-up failed,
 * with the reason logged).
 */
int sf_worker_run(const struct sf_config *cfg);

/* Refresh srv->date when the second changed. */
void sf_worker_update_date(struct sf_server *srv);

/* Called by conn.c when a connection is freed (for accept throttling and
 * the graceful-stop drain). */
void sf_worker_conn_gone(struct sf_server *srv);

#endif
