/*
 * conn.h - one client connection and its state machine: read a request
 * head into a pooled buffer, hand it to the server (server.h), send the
 * response, then keep-alive or close. sf_conn_new and sf_conn_close are
 * the only constructor and destructor.
 */
#ifndef SFHTTPD_CONN_H
#define SFHTTPD_CONN_H

#include <stdbool.h>
#include <sys/socket.h>

#include "sfhttpd/server.h"

struct sf_conn;

/*
 * A worker's memory for connections, in srv (set up before the first
 * connection, srv->cfg and srv->base set): the slab the connections live in (slab.h)
 * and the pool of in-flight request state (reqstate.h). sf_conn_mem_trim
 * gives back what is spare (after many connections closed);
 * sf_conn_mem_free, once every connection is closed, everything.
 */
void sf_conn_mem_init(struct sf_server *srv);

static inline void
sf_conn_mem_trim(struct sf_server *srv)
{
    sf_pool_shrink(&srv->reqpool, 0);
    sf_slab_trim(&srv->connslab);
}

static inline void
sf_conn_mem_free(struct sf_server *srv)
{
    sf_pool_destroy(&srv->reqpool);
    sf_slab_destroy(&srv->connslab);
}

/* Take ownership of the accepted, non-blocking socket fd and start
 * serving it with srv's loop, config and log, dispatching each request to
 * srv (server.h); reported to srv's owner as added, and as gone when
 * freed. proxy_protocol: the listener expects a PROXY header before the
 * first request. Returns NULL (and closes fd) when out of memory, or when
 * the connection already ended. */
struct sf_conn *sf_conn_new(struct sf_server *srv, int fd, const struct sockaddr *sa,
                            socklen_t salen, bool proxy_protocol);

/* Free the connection and close its socket. Only its owner and its own
 * event callback call this, never code running inside its state machine
 * (which sets the state to close instead). */
void sf_conn_close(struct sf_conn *c);

/* Graceful stop: close the connection now when idle between requests,
 * else let the current response finish and close after it. */
void sf_conn_drain(struct sf_conn *c);

#endif
