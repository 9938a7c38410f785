/*
 * it_idle.c - idle keep-alive connections at scale, on the real binary
 * (issue 10): what one costs the server in memory, that the memory comes
 * back when they close (and a second wave does not grow it), and that at
 * max_connections a fresh client is still answered: the longest-idle
 * keep-alive connection is closed to make room for it, and only when none
 * is idle does the server wait, serving the newcomer as soon as one is.
 *
 * Memory is the server's resident set (VmRSS), which counts every page
 * its allocations touched; each connection makes one request first, so
 * whatever a request needs has been touched once for each of them.
 */
#include "harness.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Connections held per wave: enough that a per-connection cost of a few
 * hundred bytes stands far above the noise of a page or two (2,000 x 1 KiB
 * is 500 pages), bounded by the open-files limit (both ends here). */
#define NCONN_MAX 2000
/*
 * Bound on the resident memory one idle keep-alive connection adds. What
 * it must keep: its struct sf_conn (400 bytes in the worker's slab: the
 * libevent event, the peer's address, timers, the lease-break hold of the
 * last file sent), and libevent's state for its fd (a 32-byte evmap_io
 * slot and a pointer in the fd table; the keep-alive timer is on a common
 * timeout queue, not the timer heap): about 0.43 KiB. Anything a request
 * needs (the 12 KiB header buffer, the response with its 4 KiB head and segment queue, the parser)
 * comes from the worker's pools while the request is in flight, so 10 such
 * connections would already break this bound. 1 KiB leaves room for the
 * allocator's rounding and the pages the test itself makes the server
 * touch (kernel socket buffers are not in the resident set).
 */
#define IDLE_CONN_BYTES_MAX 1024
/* After the connections close: back within 5% of the start (issue 10's
 * target is 10%; what stays is libevent's slot per fd number, about 40
 * bytes each, 80 KiB here), and never less slack than this (a small base
 * resident set would make 5% a handful of pages). */
#define AFTER_SLACK_KIB 256

static char g_base[PATH_MAX];
static char g_root[PATH_MAX];
static struct it_server srv;
static struct it_conn g_scratch; /* reads one response at a time */

static void
tree_up(void)
{
    char p[PATH_MAX];
    it_tmpdir(g_base, sizeof(g_base));
    it_join(g_root, sizeof(g_root), g_base, "www");
    it_mkdir(g_root);
    it_join(p, sizeof(p), g_root, "f.txt");
    it_write_str(p, "hello, idle\n");
}

static void
tree_down(void)
{
    it_rmtree(g_base);
}

/* Raise the open-files limit to the hard one (the server inherits it);
 * the connections a wave can hold. */
static int
nconn_budget(void)
{
    struct rlimit rl;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rl.rlim_cur = rl.rlim_max;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    long n = rl.rlim_cur == RLIM_INFINITY ? NCONN_MAX : (long)rl.rlim_cur - 200;
    if (n > NCONN_MAX)
        n = NCONN_MAX;
    ck_assert_msg(n >= 200, "open-files hard limit too low (%ld)", (long)rl.rlim_max);
    return (int)n;
}

static void
start(const char *server_extra)
{
    it_server_start_with(&srv, g_base, server_extra, g_root);
}

/* A new connection to the server (with the harness's I/O timeouts). */
static int
dial(void)
{
    int fd = it_try_connect(srv.port);
    ck_assert_msg(fd >= 0, "connect: %s", strerror(-fd));
    struct timeval tv = {IT_IO_TIMEOUT_MS / 1000, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

/* GET /f.txt on fd, kept alive; the status, or -1 when closed first. */
static int
get(int fd)
{
    struct it_response r;
    g_scratch.fd = fd;
    g_scratch.off = g_scratch.len = 0;
    it_conn_send_str(&g_scratch, "GET /f.txt HTTP/1.1\r\nHost: h\r\n\r\n");
    enum it_rd rd = it_read_response(&g_scratch, &r, false);
    if (rd == IT_EOF)
        return -1;
    ck_assert_int_eq(rd, IT_OK);
    ck_assert(r.complete && !r.closed);
    ck_assert_uint_eq(g_scratch.off, g_scratch.len); /* nothing more came */
    int status = r.status;
    ck_assert_str_eq(r.body, "hello, idle\n");
    it_response_free(&r);
    return status;
}

/* True when the server has closed fd (EOF or reset), within timeout_ms. */
static bool
closed_by_server(int fd, int timeout_ms)
{
    g_scratch.fd = fd;
    g_scratch.off = g_scratch.len = 0;
    return it_conn_wait_closed(&g_scratch, timeout_ms, NULL);
}

/* Open n connections, one request each, and leave them idle. */
static void
wave_open(int *fds, int n)
{
    for (int i = 0; i < n; i++) {
        fds[i] = dial();
        ck_assert_int_eq(get(fds[i]), 200);
    }
}

static void
wave_close(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

/* Wait (at most 15 s: a hang guard) until the server's resident set is at
 * most limit KiB; the last value read. */
static long
rss_settles(long limit)
{
    long kib = it_rss_kib(srv.pid);
    for (int i = 0; i < 150 && kib > limit; i++) {
        it_sleep_ms(100);
        kib = it_rss_kib(srv.pid);
    }
    return kib;
}

/*
 * Two waves of idle keep-alive connections: each connection costs at most
 * IDLE_CONN_BYTES_MAX while idle, and after each wave closes the resident
 * set comes back near where it started.
 */
START_TEST(t_idle_memory)
{
    it_asan_no_quarantine();
    int n = nconn_budget();
    start("");
    int *fds = calloc((size_t)n, sizeof(*fds));
    ck_assert(fds != NULL);

    /* warm up: the file cache, the pools, the allocator */
    wave_open(fds, 8);
    wave_close(fds, 8);
    it_sleep_ms(300);
    long start_kib = it_rss_kib(srv.pid);
    long limit = start_kib + (start_kib / 20 > AFTER_SLACK_KIB ? start_kib / 20 : AFTER_SLACK_KIB);

    for (int wave = 1; wave <= 2; wave++) {
        long before = it_rss_kib(srv.pid);
        wave_open(fds, n);
        long held = it_rss_kib(srv.pid);
        long per_conn = (held - before) * 1024 / n;
        /* all still open and served */
        ck_assert_int_eq(get(fds[0]), 200);
        ck_assert_int_eq(get(fds[n - 1]), 200);
        wave_close(fds, n);
        long after = rss_settles(limit);
        fprintf(stderr,
                "it_idle: wave %d: %d idle connections: RSS %ld -> %ld KiB (%ld bytes per "
                "connection), %ld KiB after they closed (start %ld KiB)\n",
                wave, n, before, held, per_conn, after, start_kib);
        ck_assert_msg(per_conn <= IDLE_CONN_BYTES_MAX,
                      "wave %d: %ld bytes of RSS per idle connection (bound %d)", wave, per_conn,
                      IDLE_CONN_BYTES_MAX);
        ck_assert_msg(after <= limit,
                      "wave %d: RSS %ld KiB after the connections closed, started at %ld KiB", wave,
                      after, start_kib);
    }
    free(fds);
    it_server_stop(&srv);
}
END_TEST

#define K 8

/*
 * max_connections = K, all K held by idle keep-alive connections: a fresh
 * client is answered, and the connection closed to make room is the one
 * idle the longest (not the oldest: connection 0 made a second request
 * after the others, so connection 1 is the longest idle). The others stay
 * open and keep serving.
 */
START_TEST(t_limit_closes_longest_idle)
{
    start("max_connections = 8\n");
    it_server_expect(&srv, "closing the longest-idle keep-alive connections");
    int fds[K];
    wave_open(fds, K);
    ck_assert_int_eq(get(fds[0]), 200);

    int fresh = dial();
    ck_assert_int_eq(get(fresh), 200);
    ck_assert_msg(closed_by_server(fds[1], 5000), "the longest-idle connection stayed open");
    ck_assert_int_eq(get(fds[0]), 200);
    for (int i = 2; i < K; i++)
        ck_assert_int_eq(get(fds[i]), 200);
    /* and again: now the first newcomer is the longest idle (the others
     * were used after its request) */
    int fresh2 = dial();
    ck_assert_int_eq(get(fresh2), 200);
    ck_assert_msg(closed_by_server(fresh, 5000), "the longest-idle connection stayed open");
    ck_assert_int_eq(get(fds[2]), 200);
    ck_assert_int_eq(get(fds[0]), 200);

    close(fresh);
    close(fresh2);
    wave_close(fds, K);
    it_server_stop(&srv);
}
END_TEST

/*
 * max_connections = K, all K busy (a request head half sent, or nothing
 * sent yet on a new connection): none may be closed for a newcomer, which
 * waits in the backlog. As soon as one of them finishes its request and
 * idles, the newcomer is taken in and answered, and that one is closed.
 */
START_TEST(t_limit_waits_for_an_idle_one)
{
    /* defer_accept off: a new connection that has sent nothing is the
     * server's to hold (with it on, the kernel keeps such a connection
     * and it takes no slot) */
    start("max_connections = 8\ndefer_accept = off\n");
    it_server_expect(&srv, "closing the longest-idle keep-alive connections");
    it_server_expect(&srv, "none idle: not accepting");
    int fds[K];
    for (int i = 0; i < K; i++) {
        fds[i] = dial();
        if (i % 2 == 0) {
            g_scratch.fd = fds[i];
            it_conn_send_str(&g_scratch, "GET /f.txt HTTP/1.1\r\n");
        }
    }
    it_sleep_ms(200);   /* the server has read them (else they only wait longer) */
    int fresh = dial(); /* the kernel completes it; the server has no slot */
    g_scratch.fd = fresh;
    it_conn_send_str(&g_scratch, "GET /f.txt HTTP/1.1\r\nHost: h\r\n\r\n");
    it_sleep_ms(200);
    it_server_assert_alive(&srv);
    /* connection 0 completes its request: it is answered, then idle */
    g_scratch.fd = fds[0];
    g_scratch.off = g_scratch.len = 0;
    it_conn_send_str(&g_scratch, "Host: h\r\n\r\n");
    struct it_response r;
    ck_assert_int_eq(it_read_response(&g_scratch, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 200);
    it_response_free(&r);
    /* the newcomer's request is answered, and connection 0 made room */
    g_scratch.fd = fresh;
    g_scratch.off = g_scratch.len = 0;
    ck_assert_int_eq(it_read_response(&g_scratch, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 200);
    it_response_free(&r);
    ck_assert_msg(closed_by_server(fds[0], 5000), "the idle connection stayed open");
    /* the busy ones were left alone: finish one */
    g_scratch.fd = fds[2];
    g_scratch.off = g_scratch.len = 0;
    it_conn_send_str(&g_scratch, "Host: h\r\n\r\n");
    ck_assert_int_eq(it_read_response(&g_scratch, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 200);
    it_response_free(&r);

    close(fresh);
    wave_close(fds, K);
    it_server_stop(&srv);
}
END_TEST

static Suite *
idle_suite(void)
{
    Suite *s = suite_create("idle");
    TCase *tc = tcase_create("idle");
    tcase_set_timeout(tc, 180);
    tcase_add_unchecked_fixture(tc, tree_up, tree_down);
    tcase_add_test(tc, t_idle_memory);
    tcase_add_test(tc, t_limit_closes_longest_idle);
    tcase_add_test(tc, t_limit_waits_for_an_idle_one);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return it_main(idle_suite());
}
