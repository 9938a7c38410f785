/*
 * reqstate.h - what a connection needs only while a request is in
 * flight: the header buffer, the parser and the response, with the hold
 * on the cached file being sent. It comes from the worker's pool
 * (pool.h, srv->reqpool) with the first byte of a request and goes back
 * when the connection idles with no pipelined bytes buffered, or ends.
 * It goes back clean (buffer empty, parser and response reset), so that
 * the next get needs no initialisation: no zero-fill per request.
 */
#ifndef SFHTTPD_REQSTATE_H
#define SFHTTPD_REQSTATE_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>

#include "sfhttpd/lbreak.h"
#include "sfhttpd/request.h"
#include "sfhttpd/response.h"

struct sf_access;
struct sf_config;
struct sf_pool;

/* Free in-flight states a worker keeps for its next requests; more are
 * freed at once. */
#define SF_REQSTATE_KEEP 64

struct sf_reqstate {
    struct sf_reqbuf rb;     /* buf: max_header_size + SF_REQUEST_SLACK */
    struct sf_parser parser; /* with cfg's limits */
    struct sf_response resp;
    struct sf_file_user cur; /* the cached file being sent (lease breaks) */
    alignas(max_align_t) char buf[];
};

/* Set up p (empty) for the in-flight states of cfg's connections. */
void sf_reqstate_pool_init(struct sf_pool *p, const struct sf_config *cfg);
/* A clean state from p, its cur a hold for socket sock that calls
 * abort(arg) on a lease break; NULL when out of memory. */
struct sf_reqstate *sf_reqstate_get(struct sf_pool *p, int sock, sf_file_abort_fn abort, void *arg);
/* Give s back to p. clean: between requests (buffer empty, parser
 * advanced, response reset: the keep-alive path); else (a close, a
 * linger) it is cleaned here: the file hold let go, the response and
 * parser reset, the buffer emptied. */
void sf_reqstate_put(struct sf_pool *p, struct sf_reqstate *s, bool clean);

/* What the request in flight tells its access-log line (log.h): the
 * request line, Host, Referer, User-Agent, the status and the bytes. */
void sf_reqstate_access(const struct sf_reqstate *s, struct sf_access *a);

#endif
