/*
 * test_sockq.c - unit tests for sockq: what a socket still holds by
 * reference. A TCP peer on this host that has not read is found through
 * inet_diag (IPv4, IPv6, and an IPv4 client of a dual-stack listener,
 * whose accepted socket has IPv4-mapped addresses); once it reads,
 * nothing is held. A Unix socket's unread bytes count through SIOCOUTQ.
 * Every wait is bounded.
 */
#include "sfhttpd/sockq.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit_util.h"

#define WAIT_MS 5000

/* A connected TCP pair on the loopback of family (AF_INET, AF_INET6, or
 * 0: an IPv4 client of a dual-stack [::] listener); sv[0] the accepted
 * (server) end. False when the family is not available. */
static bool
tcp_pair(int family, int sv[2])
{
    int lf = family == AF_INET ? AF_INET : AF_INET6;
    int l = socket(lf, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_storage ss = {0};
    socklen_t len;
    ck_assert_int_ge(l, 0);
    if (lf == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*a);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        int off = 0;
        setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
        a->sin6_family = AF_INET6;
        a->sin6_addr = family == 0 ? in6addr_any : in6addr_loopback;
        len = sizeof(*a);
    }
    if (bind(l, (struct sockaddr *)&ss, len) != 0) {
        close(l);
        return false;
    }
    ck_assert_int_eq(listen(l, 1), 0);
    ck_assert_int_eq(getsockname(l, (struct sockaddr *)&ss, &len), 0);
    if (family == 0) {
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = ((struct sockaddr_in6 *)&ss)->sin6_port,
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        sv[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_eq(connect(sv[1], (struct sockaddr *)&a, sizeof(a)), 0);
    } else {
        sv[1] = socket(lf, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_eq(connect(sv[1], (struct sockaddr *)&ss, len), 0);
    }
    sv[0] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    ck_assert_int_ge(sv[0], 0);
    close(l);
    return true;
}

static int
outq(int s)
{
    int q = -1;
    ck_assert_int_eq(ioctl(s, SIOCOUTQ, &q), 0);
    return q;
}

/* _i: 0 IPv4, 1 IPv6, 2 IPv4 client of a dual-stack listener. */
START_TEST(test_tcp_peer_unread)
{
    static const int fam[] = {AF_INET, AF_INET6, 0};
    int sv[2];
    char buf[64];
    if (!tcp_pair(fam[_i], sv))
        return; /* no IPv6 loopback here */
    struct sf_sockq *q = sf_sockq_new();
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(sf_sockq_held(q, sv[0]), 0);
    ck_assert_int_eq(write(sv[0], "0123456789", 10), 10);
    /* acknowledged at once on loopback: our queue empties, the bytes sit
     * in the peer's receive queue */
    long long end = now_ms() + WAIT_MS;
    while (outq(sv[0]) != 0 && now_ms() < end)
        usleep(1000);
    ck_assert_int_eq(outq(sv[0]), 0);
    ck_assert_int_eq(sf_sockq_held(q, sv[0]), 10);
    ck_assert_int_eq(read(sv[1], buf, 4), 4);
    ck_assert_int_eq(sf_sockq_held(q, sv[0]), 6);
    ck_assert_int_eq(read(sv[1], buf, sizeof(buf)), 6);
    ck_assert_int_eq(sf_sockq_held(q, sv[0]), 0);
    /* the client's own end: its peer (our sv[0]) has nothing unread */
    ck_assert_int_eq(sf_sockq_held(q, sv[1]), 0);
    close(sv[0]);
    close(sv[1]);
    sf_sockq_free(q);
}
END_TEST

/* A Unix socket: SIOCOUTQ counts what the peer has not read. */
START_TEST(test_unix)
{
    int sv[2];
    char buf[16];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    struct sf_sockq *q = sf_sockq_new();
    ck_assert_int_eq(write(sv[0], "abcd", 4), 4);
    ck_assert_int_gt(sf_sockq_held(q, sv[0]), 0);
    ck_assert_int_eq(read(sv[1], buf, sizeof(buf)), 4);
    ck_assert_int_eq(sf_sockq_held(q, sv[0]), 0);
    close(sv[0]);
    close(sv[1]);
    sf_sockq_free(q);
}
END_TEST

/* Not a socket: it cannot be told. */
START_TEST(test_not_socket)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    struct sf_sockq *q = sf_sockq_new();
    ck_assert_int_lt(sf_sockq_held(q, p[0]), 0);
    close(p[0]);
    close(p[1]);
    sf_sockq_free(q);
    sf_sockq_free(NULL);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("sockq");
    TCase *tc = tcase_create("sockq");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_tcp_peer_unread, 0, 3);
    tcase_add_test(tc, test_unix);
    tcase_add_test(tc, test_not_socket);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
