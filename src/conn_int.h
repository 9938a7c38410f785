/*
 * conn_int.h - PRIVATE to the connection module (src/conn*.c); nothing
 * else may include it. The public face is include/sfhttpd/conn.h.
 *
 * The module is split by job, and calls go one way only:
 *   conn.c       the socket event and the state machine (sf_conn_run):
 *                read, handle, write, done, linger, close
 *   conn_file.c  what reaches a connection from its file's lease breaks
 *                (the cut, and the rescue's hold/save/resume), and the
 *                access-log line that both a cut and a finished response
 *                write
 * conn.c calls conn_file.c; conn_file.c calls nothing in conn.c. It
 * reaches the connection's own callback only through c->ev, which
 * sf_conn_new assigns once before anything can break a lease.
 */
#ifndef SFHTTPD_CONN_INT_H
#define SFHTTPD_CONN_INT_H

#include "sfhttpd/conn.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "sfhttpd/fcache.h"
#include "sfhttpd/reqstate.h"
#include "sfhttpd/server.h"
#include "sfhttpd/snapshot.h"

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
    struct sf_server *srv; /* dispatch and bookkeeping only */
    struct event_base *base;
    const struct sf_config *cfg;
    struct sf_log *log;
    struct sf_reqstate *w; /* while a request is in flight, else NULL */
    int fd;
    short ev_what;       /* what ev is assigned for (added or not) */
    bool in_wake;        /* in on_event, woken by I/O (see conn_arm) */
    bool in_request;     /* some byte of the current request arrived */
    bool draining;       /* graceful stop: close after this response */
    bool quiet_close;    /* the client asked to close after this request
                            and sent all of it: nothing can follow */
    bool pipelined;      /* the request was read with the one before */
    bool proxy_protocol; /* a PROXY header comes first (proxy.h) */
    enum sf_conn_state state;
    struct event ev;
    unsigned served;      /* responses completed on this connection */
    int site;             /* the answering site (cfg->sites), -1: none */
    uint64_t deadline_ms; /* absolute header deadline */
    uint64_t armed_ms;    /* the timeout ev was last added with; 0: ev not
                             added since it was assigned or deleted */
    uint64_t linger_until_ms;
    size_t linger_bytes;
    uint64_t started_ms; /* request start, wall-clock ms (access log) */
    /* a hold on the file of the response sent last while its bytes may
     * still sit in the socket (lease breaks) */
    struct sf_file_user tail;
    struct sf_snapshot *snap; /* the rest of w->cur's file after a break */
    struct sf_server_conn sc; /* the worker's hold on it */
    int local_port;           /* ours (vhost_combined): -1 not asked, 0 none */
    char peer[INET6_ADDRSTRLEN];
    signed char paced; /* its congestion control paces it (BBR): 1 yes,
                          -1 no, 0 not asked yet (conn_send_budget) */
};

/* Wall-clock milliseconds, uncached: durations of a request handled
 * within one loop iteration must not all read 0 (vDSO, no syscall). */
static inline uint64_t
conn_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Add c's event (assigned for c->ev_what) for at most ms milliseconds:
 * the keep-alive timeout on its common-timeout queue, not the timer
 * heap. Woken by I/O, the event (persistent, with a timeout) has just
 * been added again by libevent with the timeout it had, counted from
 * the wake: when that is ms, adding it once more would only move the
 * deadline by the time the callback has run, and it costs about half of
 * libevent's share of a keep-alive request (callgrind). */
static inline void
conn_arm(struct sf_conn *c, uint64_t ms)
{
    if (c->in_wake && c->armed_ms == ms)
        return;
    c->armed_ms = ms;
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    const struct timeval *ka = c->srv->idle_tv;
    event_add(&c->ev, ka && ms == c->cfg->keepalive_timeout_ms ? ka : &tv);
}

/* conn_file.c */

/* One access-log line for c's response (when its site logs); completed:
 * every byte of it (head and promised body) was handed to the socket. */
void conn_access_log(struct sf_conn *c, bool completed);

/* Reset c's socket at once but keep its fd (the close waits for the
 * connection's own callback): queued bytes are dropped, not sent. */
void conn_reset_now(struct sf_conn *c);

/* c's abort callback (lbreak.h's sf_file_abort_fn, arg c) and rescue
 * callbacks, for both of its file users (w->cur and tail). */
void conn_on_file_abort(void *arg);
extern const struct sf_file_rescue conn_file_rescue;

#endif
