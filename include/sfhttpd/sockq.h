/*
 * sockq.h - are the bytes a socket was handed still readable from the
 * page cache? sendfile hands file pages to TCP by reference: until the
 * peer acknowledges them they sit in our send queue (and may be sent
 * again), and when the peer is a socket on this host (loopback) they sit
 * by reference in its receive queue until it reads them. A file may only
 * change under a response that continues when neither holds a byte.
 *
 * The send queue is SIOCOUTQ. The local peer's receive queue comes from
 * the kernel's socket diagnostics (NETLINK_SOCK_DIAG, inet_diag: what ss
 * shows): the peer is the socket whose local address and port are our
 * remote ones, and whose remote ones are our local ones.
 */
#ifndef SFHTTPD_SOCKQ_H
#define SFHTTPD_SOCKQ_H

struct sf_sockq;

/* A prober with its own netlink socket (opened on first use). NULL only
 * when out of memory. */
struct sf_sockq *sf_sockq_new(void);
/* NULL-safe. */
void sf_sockq_free(struct sf_sockq *q);

/*
 * Bytes of sock's stream that may still be read from the page cache: its
 * unacknowledged (or unsent) bytes, plus, for a TCP peer on this host,
 * what that peer has received and not read yet. 0 when nothing is held
 * (then a change to the file can no longer reach this peer), > 0 while
 * bytes are held, -errno when it cannot be told: SIOCOUTQ fails, or the
 * peer is on this host (a loopback address, or our own address) but its
 * socket cannot be found (another network namespace, NAT) or queried.
 * A Unix socket's SIOCOUTQ already counts what its peer has not read.
 */
long long sf_sockq_held(struct sf_sockq *q, int sock);

#endif
