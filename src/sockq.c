/*
 * sockq.c - what a socket still holds by reference (see sockq.h): its
 * send queue, and the receive queue of its peer when the peer is a TCP
 * socket on this host, asked through inet_diag with an exact lookup (no
 * dump: one request, one answer).
 */
#include "sfhttpd/sockq.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct sf_sockq {
    int nl; /* NETLINK_SOCK_DIAG, or -1 until first used */
    uint32_t seq;
};

struct sf_sockq *
sf_sockq_new(void)
{
    struct sf_sockq *q = calloc(1, sizeof(*q));
    if (q)
        q->nl = -1;
    return q;
}

void
sf_sockq_free(struct sf_sockq *q)
{
    if (!q)
        return;
    if (q->nl >= 0)
        close(q->nl);
    free(q);
}

/* One end of a TCP connection, reduced to a family and raw address
 * (an IPv4-mapped IPv6 address becomes IPv4: its peer is an IPv4 socket). */
struct end {
    int family;
    uint32_t addr[4]; /* network order, as inet_diag wants */
    uint16_t port;    /* network order */
};

static bool
to_end(const struct sockaddr_storage *ss, struct end *e)
{
    memset(e, 0, sizeof(*e));
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)ss;
        e->family = AF_INET;
        memcpy(e->addr, &a->sin_addr, 4);
        e->port = a->sin_port;
        return true;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)ss;
        e->port = a->sin6_port;
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
            e->family = AF_INET;
            memcpy(e->addr, a->sin6_addr.s6_addr + 12, 4);
        } else {
            e->family = AF_INET6;
            memcpy(e->addr, &a->sin6_addr, 16);
        }
        return true;
    }
    return false;
}

/* The peer must be on this host: a loopback address, or our own. */
static bool
surely_local(const struct end *local, const struct end *peer)
{
    if (peer->family == AF_INET && (ntohl(peer->addr[0]) >> 24) == 127)
        return true;
    if (peer->family == AF_INET6) {
        static const uint32_t lo6[4] = {0, 0, 0, 0};
        if (memcmp(peer->addr, lo6, 12) == 0 && ntohl(peer->addr[3]) == 1)
            return true;
    }
    return peer->family == local->family && memcmp(peer->addr, local->addr, 16) == 0;
}

/* The receive queue of the TCP socket whose local end is peer and whose
 * remote end is local: >= 0 bytes, -ENOENT when there is none on this
 * host (in our network namespace), or another -errno. */
static long long
peer_rqueue(struct sf_sockq *q, const struct end *local, const struct end *peer)
{
    if (q->nl < 0) {
        q->nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        if (q->nl < 0)
            return -errno;
    }
    struct {
        struct nlmsghdr nh;
        struct inet_diag_req_v2 r;
    } req = {
        .nh = {.nlmsg_len = sizeof(req),
               .nlmsg_type = SOCK_DIAG_BY_FAMILY,
               .nlmsg_flags = NLM_F_REQUEST,
               .nlmsg_seq = ++q->seq},
        .r = {.sdiag_family = (uint8_t)peer->family,
              .sdiag_protocol = IPPROTO_TCP,
              .idiag_states = ~0u,
              .id = {.idiag_sport = peer->port,
                     .idiag_dport = local->port,
                     .idiag_cookie = {INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE}}},
    };
    memcpy(req.r.id.idiag_src, peer->addr, sizeof(req.r.id.idiag_src));
    memcpy(req.r.id.idiag_dst, local->addr, sizeof(req.r.id.idiag_dst));
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    ssize_t n;
    do
        n = sendto(q->nl, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel));
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    /* the kernel answers at once, within sendto: the read cannot block
     * for long, but a stray old answer (another seq) is skipped */
    for (;;) {
        union {
            struct nlmsghdr nh;
            char buf[1024];
        } ans;
        do
            n = recv(q->nl, &ans, sizeof(ans), MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        for (struct nlmsghdr *h = &ans.nh; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_seq != q->seq)
                continue;
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);
                return e->error ? e->error : -ENOENT;
            }
            if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
                h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
                return -EPROTO;
            const struct inet_diag_msg *m = NLMSG_DATA(h);
            return (long long)m->idiag_rqueue;
        }
    }
}

long long
sf_sockq_held(struct sf_sockq *q, int sock)
{
    int out = 0;
    if (ioctl(sock, SIOCOUTQ, &out) != 0)
        return -errno;
    if (out > 0)
        return out;
    struct sockaddr_storage la, ra;
    socklen_t ll = sizeof(la), rl = sizeof(ra);
    struct end local, peer;
    if (getsockname(sock, (struct sockaddr *)&la, &ll) != 0 ||
        getpeername(sock, (struct sockaddr *)&ra, &rl) != 0)
        return errno == ENOTCONN ? 0 : -errno; /* gone: nothing left to reach it */
    if (!to_end(&la, &local) || !to_end(&ra, &peer))
        return 0; /* a Unix socket: SIOCOUTQ counted its peer's unread bytes */
    long long rq = peer_rqueue(q, &local, &peer);
    if (rq == -ENOENT && !surely_local(&local, &peer))
        return 0; /* a remote peer: what it acknowledged it has */
    return rq;
}
