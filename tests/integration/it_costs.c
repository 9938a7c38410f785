/*
 * it_costs.c - what a request costs the server, counted from outside
 * (never timed): one read call per keep-alive request and per new
 * connection (/proc/PID/io syscr counts every read, also one that finds
 * nothing: no read of an empty socket, no read of the inotify queue per
 * request), and still every change finished before a request was sent
 * is seen by it, kept alive or pipelined; a silent new connection left
 * to the kernel (defer_accept) and, without that, not read before it is
 * readable; no lingering after a response
 * to a client that asked to close and sent everything (at the client's
 * EOF the server holds no socket for it any more), but a linger where
 * bytes may still follow (a request pipelined after the closing one);
 * and the server's end of a connection has TCP_NODELAY (inherited from
 * the listener: one setsockopt at start, none per connection), looked at
 * through a copy of the server's descriptor (pidfd_getfd).
 */
#include "harness.h"

#include <dirent.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/syscall.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAIT_MS 5000

static char g_base[PATH_MAX];
static char g_root[PATH_MAX];

static void
setup(void)
{
    char p[PATH_MAX];
    it_tmpdir(g_base, sizeof(g_base));
    it_join(g_root, sizeof(g_root), g_base, "www");
    it_mkdir(g_root);
    it_join(p, sizeof(p), g_root, "1k.bin");
    it_write_pattern(p, 1024, 1);
}

static void
teardown(void)
{
    it_rmtree(g_base);
}

/* The read calls pid has made so far (syscr of /proc/PID/io). */
static long long
reads_of(pid_t pid)
{
    return it_proc_io(pid, "syscr");
}

/* How many sockets pid holds (listeners included). */
static int
sockets_of(pid_t pid)
{
    char p[64];
    snprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(p);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        char fp[PATH_MAX], target[256];
        snprintf(fp, sizeof(fp), "%s/%s", p, e->d_name);
        ssize_t len = readlink(fp, target, sizeof(target) - 1);
        if (len > 0) {
            target[len] = '\0';
            n += strncmp(target, "socket:", 7) == 0;
        }
    }
    closedir(d);
    return n;
}

/* Wait (bounded) until pid holds want sockets. */
static bool
wait_sockets(pid_t pid, int want)
{
    int64_t until = it_now_ms() + WAIT_MS;
    while (sockets_of(pid) != want) {
        if (it_now_ms() > until)
            return false;
        it_sleep_ms(5);
    }
    return true;
}

static void
start(struct it_server *s)
{
    it_server_start_dir(s, g_root);
}

static void
get_1k(struct it_conn *c)
{
    struct it_response r;
    it_conn_send_str(c, "GET /1k.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert_int_eq(it_read_response(c, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, 1024);
    it_response_free(&r);
}

/* One request on a connection of its own, closed again: the server has
 * finished starting (it may still read its tables after saying it
 * listens) and 1k.bin is cached. */
static void
warm_up(struct it_server *s, int base)
{
    struct it_conn w;
    it_conn_open(&w, s->port);
    get_1k(&w);
    it_conn_close(&w);
    ck_assert(wait_sockets(s->pid, base));
}

/* By default (defer_accept = on) a connection that has sent nothing is
 * not handed to the server at all: the kernel holds it, half open on the
 * server's side (SYN_RECV), so it costs no wake-up; its first request
 * makes it accepted, and served, with one read. */
START_TEST(t_silent_client_waits_in_kernel)
{
    struct it_server s;
    start(&s);
    int base = sockets_of(s.pid);
    warm_up(&s, base);
    struct it_conn c;
    it_conn_open(&c, s.port);
    unsigned cport = it_local_port(c.fd);
    int st = it_tcp_state_wait((unsigned)s.port, cport);
    ck_assert_msg(st == TCP_SYN_RECV, "server side of a silent connection in state %d", st);
    ck_assert_int_eq(sockets_of(s.pid), base);
    long long before = reads_of(s.pid);
    get_1k(&c);
    ck_assert_int_eq(it_tcp_state((unsigned)s.port, cport), TCP_ESTABLISHED);
    ck_assert_int_eq(sockets_of(s.pid), base + 1);
    ck_assert_int_eq(reads_of(s.pid) - before, 1);
    it_conn_close(&c);
    it_server_stop(&s);
}
END_TEST

/* With defer_accept = off, an accepted connection that has sent nothing
 * is not read: the server waits until it is readable. */
START_TEST(t_no_read_before_data)
{
    struct it_server s;
    it_server_start_with(&s, g_base, "defer_accept = off\n", g_root);
    int base = sockets_of(s.pid);
    warm_up(&s, base);
    long long before = reads_of(s.pid);
    struct it_conn c;
    it_conn_open(&c, s.port);
    ck_assert_msg(wait_sockets(s.pid, base + 1), "connection not accepted");
    /* accepted and registered: nothing was read for it */
    ck_assert_int_eq(reads_of(s.pid), before);
    /* and it is served when the request comes */
    get_1k(&c);
    it_conn_close(&c);
    it_server_stop(&s);
}
END_TEST

/* A response to "Connection: close" with nothing after the request: the
 * server closes at once, without a shutdown and a lingering read. When
 * the client sees the end, the server's socket is already gone. */
START_TEST(t_close_without_linger)
{
    struct it_server s;
    start(&s);
    int base = sockets_of(s.pid);
    for (int i = 0; i < 3; i++) {
        struct it_conn c;
        struct it_response r;
        it_conn_open(&c, s.port);
        it_conn_send_str(&c, i == 2
                                 ? "GET /1k.bin HTTP/1.0\r\n\r\n"
                                 : "GET /1k.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        ck_assert_int_eq(it_read_response(&c, &r, false), IT_OK);
        ck_assert_int_eq(r.status, 200);
        ck_assert_uint_eq(r.body_len, 1024);
        it_response_free(&r);
        ck_assert(it_conn_wait_closed(&c, WAIT_MS, NULL));
        /* our end is still open: a lingering server would still hold its */
        ck_assert_int_eq(sockets_of(s.pid), base);
        it_conn_close(&c);
    }
    it_server_stop(&s);
}
END_TEST

/* Bytes after the closing request (a client that pipelined on): they
 * may still be arriving, and a close with unread bytes would be a reset
 * that can destroy the response, so the server lingers. */
START_TEST(t_linger_when_bytes_follow)
{
    struct it_server s;
    start(&s);
    int base = sockets_of(s.pid);
    struct it_conn c;
    struct it_response r;
    it_conn_open(&c, s.port);
    it_conn_send_str(&c, "GET /1k.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                         "GET /1k.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert_int_eq(it_read_response(&c, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, 1024);
    it_response_free(&r);
    size_t more = 1;
    ck_assert(it_conn_wait_closed(&c, WAIT_MS, &more));
    ck_assert_uint_eq(more, 0); /* one response only */
    /* the server half-closed and still reads what comes */
    ck_assert_int_eq(sockets_of(s.pid), base + 1);
    it_conn_close(&c);
    ck_assert_msg(wait_sockets(s.pid, base), "lingering socket not closed after the client's");
    it_server_stop(&s);
}
END_TEST

/* The server's socket for our connection c: a copy of its descriptor. */
static int
server_end(pid_t pid, const struct it_conn *c)
{
    struct sockaddr_in mine, peer;
    socklen_t len = sizeof(mine);
    ck_assert_int_eq(getsockname(c->fd, (struct sockaddr *)&mine, &len), 0);
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    ck_assert_int_ge(pfd, 0);
    int found = -1;
    for (int fd = 0; fd < 1024 && found < 0; fd++) {
        int copy = (int)syscall(SYS_pidfd_getfd, pfd, fd, 0);
        if (copy < 0)
            continue;
        len = sizeof(peer);
        if (getpeername(copy, (struct sockaddr *)&peer, &len) == 0 && peer.sin_family == AF_INET &&
            peer.sin_port == mine.sin_port && peer.sin_addr.s_addr == mine.sin_addr.s_addr)
            found = copy;
        else
            close(copy);
    }
    close(pfd);
    ck_assert_msg(found >= 0, "the server's end of the connection not found");
    return found;
}

START_TEST(t_nodelay)
{
    struct it_server s;
    start(&s);
    for (int i = 0; i < 2; i++) {
        struct it_conn c;
        it_conn_open(&c, s.port);
        get_1k(&c);
        int fd = server_end(s.pid, &c);
        int v = 0;
        socklen_t len = sizeof(v);
        ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
        ck_assert_int_eq(v, 1);
        close(fd);
        it_conn_close(&c);
    }
    it_server_stop(&s);
}
END_TEST

/* N keep-alive requests, one after the other: one read each. */
START_TEST(t_keepalive_one_read)
{
    enum { N = 200 };
    struct it_server s;
    start(&s);
    struct it_conn c;
    it_conn_open(&c, s.port);
    get_1k(&c); /* cached, buffers grown */
    long long before = reads_of(s.pid);
    for (int i = 0; i < N; i++)
        get_1k(&c);
    long long reads = reads_of(s.pid) - before;
    ck_assert_msg(reads <= N + 2, "%lld reads for %d requests", reads, N);
    it_conn_close(&c);
    it_server_stop(&s);
}
END_TEST

/* N new connections with Connection: close: one read each (the request;
 * none before it, no lingering read after it). A server slowed down by a
 * loaded machine may find two connections accepted in one loop pass, and
 * then reads its inotify queue once before serving the second (the order
 * guarantee of sf_server_woken); syscr counts that read too, so the count
 * is taken over up to three rounds and the best one must hold (the old
 * costs were two or three reads a connection in every round). */
START_TEST(t_close_one_read)
{
    enum { N = 50, ROUNDS = 3 };
    struct it_server s;
    start(&s);
    int base = sockets_of(s.pid);
    warm_up(&s, base);
    long long best = -1;
    for (int round = 0; round < ROUNDS && (best < 0 || best > N + 2); round++) {
        long long before = reads_of(s.pid);
        for (int i = 0; i < N; i++) {
            struct it_conn c;
            struct it_response r;
            it_conn_open(&c, s.port);
            it_conn_send_str(&c, "GET /1k.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            ck_assert_int_eq(it_read_response(&c, &r, false), IT_OK);
            ck_assert_int_eq(r.status, 200);
            it_response_free(&r);
            ck_assert(it_conn_wait_closed(&c, WAIT_MS, NULL));
            it_conn_close(&c);
        }
        ck_assert(wait_sockets(s.pid, base));
        long long reads = reads_of(s.pid) - before;
        if (best < 0 || reads < best)
            best = reads;
    }
    ck_assert_msg(best <= N + 2, "%lld reads for %d connections (best of %d rounds)", best, N,
                  ROUNDS);
    it_server_stop(&s);
}
END_TEST

/* Replace f.txt by rename (a deploy) with body. */
static void
deploy(const char *body)
{
    char tmp[PATH_MAX], f[PATH_MAX];
    it_join(tmp, sizeof(tmp), g_root, ".f.txt.new");
    it_join(f, sizeof(f), g_root, "f.txt");
    it_write_str(tmp, body);
    ck_assert_int_eq(rename(tmp, f), 0);
}

static void
expect_body(struct it_conn *c, const char *want, const char *what, int round)
{
    struct it_response r;
    ck_assert_int_eq(it_read_response(c, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(r.body && strcmp(r.body, want) == 0, "round %d, %s: got '%s', want '%s'", round,
                  what, r.body ? r.body : "", want);
    it_response_free(&r);
}

/* Without a read of the inotify queue per request: a change finished
 * before a request was sent is seen by it, on a kept-alive connection
 * and when the request is pipelined behind one sent before the change. */
START_TEST(t_fresh_without_a_read)
{
    static const char req[] = "GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n";
    struct it_server s;
    char v[64], old[64];
    deploy("version 0\n");
    start(&s);
    struct it_conn c;
    it_conn_open(&c, s.port);
    it_conn_send_str(&c, req);
    expect_body(&c, "version 0\n", "first", 0);
    for (int round = 1; round <= 40; round++) {
        snprintf(old, sizeof(old), "version %d\n", round - 1);
        snprintf(v, sizeof(v), "version %d\n", round);
        if (round % 2) {
            deploy(v);
            it_conn_send_str(&c, req);
            expect_body(&c, v, "kept alive", round);
        } else {
            /* the first was sent before the change: either version */
            it_conn_send_str(&c, req);
            deploy(v);
            it_conn_send_str(&c, req);
            struct it_response r;
            ck_assert_int_eq(it_read_response(&c, &r, false), IT_OK);
            ck_assert(r.body && (strcmp(r.body, old) == 0 || strcmp(r.body, v) == 0));
            it_response_free(&r);
            expect_body(&c, v, "pipelined after the change", round);
        }
    }
    it_conn_close(&c);
    it_server_stop(&s);
}
END_TEST

/* New connections that reach the server together, each with its request
 * sent after a change had finished (the server is stopped meanwhile, so
 * one wait of its loop reports them all): every one is answered from the
 * new version, also those after the first of the batch, which are served
 * at once (their requests are there: deferred accept) after a read of
 * the file news. Repeated with the change made while the server is held,
 * i.e. after the previous wait. */
START_TEST(t_batch_of_new_connections_fresh)
{
    enum { N = 6, ROUNDS = 4 };
    static const char req[] = "GET /f.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    struct it_server s;
    char v[64];
    deploy("version 0\n");
    start(&s);
    struct it_conn w;
    it_conn_open(&w, s.port);
    it_conn_send_str(&w, req);
    expect_body(&w, "version 0\n", "first", 0);
    it_conn_close(&w);
    for (int round = 1; round <= ROUNDS; round++) {
        struct it_conn c[N];
        ck_assert_int_eq(kill(s.pid, SIGSTOP), 0);
        snprintf(v, sizeof(v), "version %d\n", round);
        deploy(v);
        for (int i = 0; i < N; i++) {
            it_conn_open(&c[i], s.port);
            it_conn_send_str(&c[i], req);
        }
        ck_assert_int_eq(kill(s.pid, SIGCONT), 0);
        for (int i = 0; i < N; i++) {
            expect_body(&c[i], v, "new connection of a batch", round);
            it_conn_close(&c[i]);
        }
    }
    it_server_stop(&s);
}
END_TEST

/* The server's "file cache:" line at its stop (after it_server_term). */
static void
stop_line(struct it_server *s, char *out, size_t cap)
{
    static char log[1 << 20];
    int64_t until = it_now_ms() + WAIT_MS;
    for (;;) {
        it_server_log(s, log, sizeof(log));
        const char *l = strstr(log, "file cache:");
        if (l && strchr(l, '\n')) {
            snprintf(out, cap, "%.*s", (int)(strchr(l, '\n') - l), l);
            return;
        }
        ck_assert_msg(it_now_ms() < until, "no file cache line at the stop");
        it_sleep_ms(10);
    }
}

/* A repeated 404 is answered from memory (no watch, open and unwatch
 * again), and the name's creation makes the next request a 200. */
START_TEST(t_missing_remembered)
{
    static const char req[] = "GET /later.txt HTTP/1.1\r\nHost: x\r\n\r\n";
    struct it_server s;
    struct it_response r;
    char line[512], p[PATH_MAX];
    start(&s);
    struct it_conn c;
    it_conn_open(&c, s.port);
    for (int i = 0; i < 5; i++) {
        it_conn_send_str(&c, req);
        ck_assert_int_eq(it_read_response(&c, &r, false), IT_OK);
        ck_assert_int_eq(r.status, 404);
        it_response_free(&r);
    }
    it_join(p, sizeof(p), g_root, "later.txt");
    it_write_str(p, "made later\n");
    it_conn_send_str(&c, req);
    ck_assert_int_eq(it_read_response(&c, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "made later\n");
    it_response_free(&r);
    it_conn_close(&c);
    it_server_term(&s);
    stop_line(&s, line, sizeof(line));
    /* one open found it missing, four were spared */
    ck_assert_msg(strstr(line, " 4 answered missing from memory") != NULL, "%s", line);
    it_server_stop(&s);
}
END_TEST

static Suite *
costs_suite(void)
{
    Suite *s = suite_create("costs");
    TCase *tc = tcase_create("conn");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, t_silent_client_waits_in_kernel);
    tcase_add_test(tc, t_no_read_before_data);
    tcase_add_test(tc, t_close_without_linger);
    tcase_add_test(tc, t_linger_when_bytes_follow);
    tcase_add_test(tc, t_nodelay);
    tcase_add_test(tc, t_keepalive_one_read);
    tcase_add_test(tc, t_close_one_read);
    tcase_add_test(tc, t_fresh_without_a_read);
    tcase_add_test(tc, t_batch_of_new_connections_fresh);
    tcase_add_test(tc, t_missing_remembered);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return it_main(costs_suite());
}
