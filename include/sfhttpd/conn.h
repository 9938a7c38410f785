/*
 * conn.h - one client connection and its state machine: read a request
 * head into a fixed buffer, hand it to the file handler, send the
 * response, then keep-alive or close. sf_conn_new and sf_conn_close are
 * the only constructor and destructor.
 */
#ifndef SFHTTPD_CONN_H
#define SFHTTPD_CONN_H

#include <sys/socket.h>

struct sf_server;
struct sf_conn;

#include <stdbool.h>

/* Take ownership of the accepted, non-blocking socket fd and start
 * serving it. proxy_protocol: the listener expects a PROXY header before
 * the first request. Returns NULL (and closes fd) when out of memory. */
struct sf_conn *sf_conn_new(struct sf_server *srv, int fd, const struct sockaddr *sa,
                            socklen_t salen, bool proxy_protocol);

/* Free the connection and close its socket. */
void sf_conn_close(struct sf_conn *c);

/* Graceful stop: close the connection now when idle between requests,
 * else let the current response finish and close after it. */
void sf_conn_drain(struct sf_conn *c);
/* sf_conn_drain for every connection of srv. */
void sf_conn_drain_all(struct sf_server *srv);

#endif
