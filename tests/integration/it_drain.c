/*
 * it_drain.c - health_path and drain_delay end to end, in a single
 * process and under a master: the health path answers 200 "ok\n" from
 * memory for any Host (also when the site root is gone), is off by
 * default; on SIGTERM with drain_delay it answers 503 "draining\n" while
 * files are still served and new connections still accepted, for no
 * less than the delay; then the graceful stop begins (listeners closed,
 * in-flight responses finished). A second SIGTERM during the delay
 * stops at once; under a master every worker drains, a worker restarted
 * during the delay drains too, a reload is ignored during it, and a
 * reload's retiring workers never go through the delay.
 *
 * Every wait is bounded; only PIDs this test started are signalled (a
 * worker only after checking that our server is its parent).
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG_SIZE (8u << 20)
#define WAIT_MS 5000

static char g_conf[PATH_MAX];

static void
tree_up(void)
{
    it_suite_tree();
    it_put(it_suite.root, "a.txt", "alpha\n");
    /* a file at the health path's name: never what the health path says */
    it_put(it_suite.root, "healthz", "FILE\n");
    it_put_pattern(it_suite.root, "big.bin", BIG_SIZE, 11);
    it_join(g_conf, sizeof(g_conf), it_suite.base, "drain.conf");
}

/* Start a server with `workers` workers (1: a single process) and
 * server_extra in [server], site_extra in [site]. */
static void
start(struct it_server *s, int workers, const char *server_extra, const char *site_extra)
{
    char text[4 * PATH_MAX];

    snprintf(text, sizeof(text),
             "[server]\nlisten = 127.0.0.1:0\naccess_log = off\nworkers = %d\n"
             "shutdown_timeout = 10\n%s%s\n[site]\nroot = %s\n%s",
             workers, getuid() == 0 ? "user = root\n" : "", server_extra, it_suite.root,
             site_extra);
    it_write_str(g_conf, text);
    it_server_start_conf(s, g_conf);
}

/* One request on a new connection: the status, and the body into body
 * (NUL-terminated, cut to cap). */
static int
fetch(int port, const char *raw, char *body, size_t cap)
{
    struct it_response r;
    int status;

    ck_assert_int_eq(it_request(port, raw, &r), IT_OK);
    status = r.status;
    if (body)
        snprintf(body, cap, "%s", r.body ? r.body : "");
    it_response_free(&r);
    return status;
}

static int
get(int port, const char *path, char *body, size_t cap)
{
    char raw[512];

    snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: t.test\r\nConnection: close\r\n\r\n",
             path);
    return fetch(port, raw, body, cap);
}

/* Poll the health path (bounded) until it answers want. */
static bool
wait_health(int port, int want)
{
    for (int64_t end = it_now_ms() + WAIT_MS; it_now_ms() < end;) {
        if (get(port, "/healthz", NULL, 0) == want)
            return true;
        it_sleep_ms(10);
    }
    return false;
}

/* Connect and close until the port refuses (bounded by timeout_ms); the
 * milliseconds from t0 until it refused, or -1. */
static int64_t
wait_refused(int port, int64_t t0, int timeout_ms)
{
    for (int64_t end = it_now_ms() + timeout_ms; it_now_ms() < end;) {
        int fd = it_try_connect(port);
        if (fd < 0)
            return it_now_ms() - t0;
        close(fd);
        it_sleep_ms(10);
    }
    return -1;
}

/* The server process has ended (a zombie not reaped yet; it_server_stop
 * reaps it and checks the status), waiting at most timeout_ms. */
static bool
wait_exited(pid_t pid, int timeout_ms)
{
    for (int64_t end = it_now_ms() + timeout_ms; it_now_ms() < end;) {
        siginfo_t si = {0};
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
            return true;
        it_sleep_ms(10);
    }
    return false;
}

static size_t
count_in_log(const struct it_server *s, const char *needle)
{
    static char buf[1 << 18];
    size_t n = 0;

    it_server_log(s, buf, sizeof(buf));
    for (const char *p = buf; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* Bounded: until the log holds needle. */
static bool
wait_log(const struct it_server *s, const char *needle)
{
    for (int64_t end = it_now_ms() + WAIT_MS; it_now_ms() < end;) {
        if (count_in_log(s, needle) > 0)
            return true;
        it_sleep_ms(10);
    }
    return false;
}

/* Bounded: until n workers have logged the master's drain notice (at
 * log_level = debug). Not "503s in a row": on a loaded machine one worker
 * may take every connection before the other has read its notice. */
static bool
wait_drain_notices(const struct it_server *s, size_t n)
{
    for (int64_t end = it_now_ms() + WAIT_MS; it_now_ms() < end; it_sleep_ms(10))
        if (count_in_log(s, "draining: health_path answers 503") >= n)
            return true;
    return false;
}

/* Every one of n new connections gets want from the health path (under
 * a master they spread over the workers). */
static void
assert_health_all(int port, int want, int n)
{
    char body[64];

    for (int i = 0; i < n; i++) {
        int st = get(port, "/healthz", body, sizeof(body));
        ck_assert_msg(st == want, "health request %d: %d, want %d", i, st, want);
        ck_assert_str_eq(body, want == 200 ? "ok\n" : "draining\n");
    }
}

/* A download that stays in flight: a small receive buffer, 64 KiB read. */
static void
start_download(struct it_conn *c, struct it_response *r, int port)
{
    it_conn_open_opts(c, port, 4096, 10000);
    it_conn_send_str(c, "GET /big.bin HTTP/1.1\r\nHost: t.test\r\n\r\n");
    ck_assert_int_eq(it_read_head(c, r, false), IT_OK);
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(it_read_body(c, r, 65536), IT_OK);
}

/* ---- the health path ------------------------------------------------- */

/* 200 "ok\n", text/plain, no-store, for GET and HEAD, any Host (the site
 * itself is strict about hosts), HTTP/1.0 without Host, a query; the file
 * of that name is the site's and still reachable as /%68ealthz. */
START_TEST(t_health_ok)
{
    struct it_server s;
    struct it_response r;
    char body[64];

    start(&s, 1, "health_path = /healthz\nstrict_hosts = on\n", "server_names = t.test\n");
    ck_assert_int_eq(it_request(s.port,
                                "GET /healthz HTTP/1.1\r\nHost: lb-check.invalid\r\n"
                                "Connection: close\r\n\r\n",
                                &r),
                     IT_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "ok\n");
    ck_assert_str_eq(it_header(&r, "Content-Type"), "text/plain; charset=utf-8");
    ck_assert_str_eq(it_header(&r, "Cache-Control"), "no-store");
    ck_assert_int_eq(r.content_length, 3);
    it_response_free(&r);

    ck_assert_int_eq(it_request(s.port, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", &r), IT_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(r.content_length, 3);
    ck_assert_uint_eq(r.body_len, 0);
    it_response_free(&r);

    ck_assert_int_eq(fetch(s.port, "GET /healthz HTTP/1.0\r\n\r\n", body, sizeof(body)), 200);
    ck_assert_str_eq(body, "ok\n");
    ck_assert_int_eq(get(s.port, "/healthz?full=1", body, sizeof(body)), 200);
    ck_assert_str_eq(body, "ok\n");
    /* the site's own answers */
    ck_assert_int_eq(
        fetch(s.port, "GET /a.txt HTTP/1.1\r\nHost: other.invalid\r\nConnection: close\r\n\r\n",
              NULL, 0),
        421);
    ck_assert_int_eq(get(s.port, "/a.txt", body, sizeof(body)), 200);
    ck_assert_str_eq(body, "alpha\n");
    ck_assert_int_eq(get(s.port, "/%68ealthz", body, sizeof(body)), 200);
    ck_assert_str_eq(body, "FILE\n");
    ck_assert_int_eq(get(s.port, "/healthz/", NULL, 0), 404);
    it_server_stop(&s);
}
END_TEST

/* From memory: the site root removed under the running server, files
 * are gone (404) and the health path still says ok. */
START_TEST(t_health_without_files)
{
    struct it_server s;
    char body[64];

    start(&s, 1, "health_path = /healthz\n", "");
    ck_assert_int_eq(get(s.port, "/a.txt", NULL, 0), 200);
    it_rmtree(it_suite.root);
    ck_assert_int_eq(get(s.port, "/a.txt", NULL, 0), 404);
    ck_assert_int_eq(get(s.port, "/healthz", body, sizeof(body)), 200);
    ck_assert_str_eq(body, "ok\n");
    it_server_stop(&s);
}
END_TEST

/* Off by default: /healthz is the site's file. */
START_TEST(t_health_off_by_default)
{
    struct it_server s;
    char body[64];

    start(&s, 1, "", "");
    ck_assert_int_eq(get(s.port, "/healthz", body, sizeof(body)), 200);
    ck_assert_str_eq(body, "FILE\n");
    it_server_stop(&s);
}
END_TEST

/* ---- drain_delay in a single process ---------------------------------- */

START_TEST(t_drain_single)
{
    enum { DELAY_MS = 2000 };
    struct it_server s;
    struct it_conn k;
    struct it_response r;
    char body[64];

    start(&s, 1, "health_path = /healthz\ndrain_delay = 2\n", "");
    /* a kept-alive connection from before the stop */
    it_conn_open(&k, s.port);
    it_conn_send_str(&k, "GET /a.txt HTTP/1.1\r\nHost: t.test\r\n\r\n");
    ck_assert_int_eq(it_read_response(&k, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 200);
    it_response_free(&r);
    assert_health_all(s.port, 200, 1);

    int64_t t0 = it_now_ms();
    it_server_term(&s);
    ck_assert_msg(wait_health(s.port, 503), "the health path did not turn 503");
    ck_assert_int_eq(get(s.port, "/healthz", body, sizeof(body)), 503);
    ck_assert_str_eq(body, "draining\n");
    ck_assert_int_eq(it_request(s.port, "HEAD /healthz HTTP/1.1\r\nHost: t\r\n\r\n", &r), IT_OK);
    ck_assert_int_eq(r.status, 503);
    ck_assert_str_eq(it_header(&r, "Cache-Control"), "no-store");
    it_response_free(&r);
    /* everything else as before: new connections, files, the old one */
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(get(s.port, "/a.txt", body, sizeof(body)), 200);
        ck_assert_str_eq(body, "alpha\n");
    }
    it_conn_send_str(&k, "GET /a.txt HTTP/1.1\r\nHost: t.test\r\n\r\n");
    ck_assert_int_eq(it_read_response(&k, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "alpha\n");
    ck_assert(!it_header_has(&r, "Connection", "close"));
    it_response_free(&r);
    it_server_assert_alive(&s);

    /* then the graceful stop: no new connections, the idle one closed */
    int64_t refused = wait_refused(s.port, t0, DELAY_MS + WAIT_MS);
    ck_assert_msg(refused >= 0, "still accepting %d ms after SIGTERM", DELAY_MS + WAIT_MS);
    ck_assert_msg(refused >= DELAY_MS - 50, "stopped accepting %lld ms after SIGTERM (< %d)",
                  (long long)refused, DELAY_MS);
    ck_assert(it_conn_wait_closed(&k, WAIT_MS, NULL));
    it_conn_close(&k);
    ck_assert_int_eq(count_in_log(&s, "draining for 2000 ms"), 1);
    ck_assert(wait_log(&s, "drain_delay over: stopping"));
    it_server_stop(&s);
}
END_TEST

/* After the delay the listeners close while a download in flight goes
 * on to its end (the graceful stop as before). */
START_TEST(t_drain_then_graceful_stop)
{
    struct it_server s;
    struct it_conn c;
    struct it_response r;
    char sha[65];

    start(&s, 1, "health_path = /healthz\ndrain_delay = 0.5\n", "");
    start_download(&c, &r, s.port);
    int64_t t0 = it_now_ms();
    it_server_term(&s);
    ck_assert(wait_health(s.port, 503));
    ck_assert_msg(wait_refused(s.port, t0, WAIT_MS) >= 0, "still accepting after the delay");
    it_server_assert_alive(&s);
    ck_assert_int_eq(it_read_body(&c, &r, UINT64_MAX), IT_OK);
    ck_assert(r.complete);
    it_pattern_sha256(BIG_SIZE, 11, sha);
    ck_assert_str_eq(r.sha256, sha);
    it_response_free(&r);
    it_conn_close(&c);
    it_server_stop(&s);
}
END_TEST

/* A second SIGTERM during the delay stops at once: well before the
 * 30 s delay, a download in flight cut. */
START_TEST(t_drain_second_signal)
{
    struct it_server s;
    struct it_conn c;
    struct it_response r;

    start(&s, 1, "health_path = /healthz\ndrain_delay = 30\n", "");
    start_download(&c, &r, s.port);
    it_server_term(&s);
    ck_assert(wait_health(s.port, 503));
    ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
    ck_assert_msg(wait_exited(s.pid, WAIT_MS), "not stopped %d ms after a second SIGTERM", WAIT_MS);
    ck_assert_int_ne(it_read_body(&c, &r, UINT64_MAX), IT_OK);
    ck_assert(!r.complete);
    it_response_free(&r);
    it_conn_close(&c);
    ck_assert(wait_log(&s, "again: stopping now"));
    it_server_stop(&s);
}
END_TEST

/* drain_delay without a health path: files served for the delay (for a
 * balancer that learns of the stop elsewhere), /healthz is the file. */
START_TEST(t_drain_without_health_path)
{
    struct it_server s;
    char body[64];

    start(&s, 1, "drain_delay = 1\n", "");
    int64_t t0 = it_now_ms();
    it_server_term(&s);
    ck_assert_int_eq(get(s.port, "/healthz", body, sizeof(body)), 200);
    ck_assert_str_eq(body, "FILE\n");
    ck_assert_int_eq(get(s.port, "/a.txt", body, sizeof(body)), 200);
    int64_t refused = wait_refused(s.port, t0, 1000 + WAIT_MS);
    ck_assert(refused >= 1000 - 50);
    it_server_stop(&s);
}
END_TEST

/* ---- under a master ----------------------------------------------------- */

/* SIGTERM to the master: every worker's health path fails, files are
 * served, a reload is refused, and after the delay the port closes. */
START_TEST(t_master_drain)
{
    enum { DELAY_MS = 2000 };
    struct it_server s;
    pid_t kids[64];
    char body[64];

    /* debug: each worker logs the master's drain notice once */
    start(&s, 2, "health_path = /healthz\ndrain_delay = 2\nlog_level = debug\n", "");
    ck_assert_int_eq(it_wait_children(s.pid, kids, 64, 2, WAIT_MS), 2);
    assert_health_all(s.port, 200, 4);
    int64_t t0 = it_now_ms();
    it_server_term(&s);
    ck_assert_msg(wait_drain_notices(&s, 2), "not every worker got the drain notice");
    assert_health_all(s.port, 503, 12);
    ck_assert_int_eq(kill(s.pid, SIGHUP), 0);
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(get(s.port, "/a.txt", body, sizeof(body)), 200);
        ck_assert_str_eq(body, "alpha\n");
    }
    ck_assert_int_eq(it_children_of(s.pid, kids, 64), 2);
    int64_t refused = wait_refused(s.port, t0, DELAY_MS + WAIT_MS);
    ck_assert_msg(refused >= DELAY_MS - 50, "stopped accepting after %lld ms (delay %d)",
                  (long long)refused, DELAY_MS);
    ck_assert(wait_log(&s, "stopping, not reloading"));
    ck_assert_int_eq(count_in_log(&s, "configuration reloaded"), 0);
    it_server_stop(&s);
}
END_TEST

/* A second SIGTERM to the master during the delay: at once. */
START_TEST(t_master_second_signal)
{
    struct it_server s;
    struct it_conn c;
    struct it_response r;

    start(&s, 2, "health_path = /healthz\ndrain_delay = 30\n", "");
    start_download(&c, &r, s.port);
    it_server_term(&s);
    ck_assert(wait_health(s.port, 503));
    ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
    ck_assert_msg(wait_exited(s.pid, WAIT_MS), "not stopped %d ms after a second SIGTERM", WAIT_MS);
    ck_assert_int_ne(it_read_body(&c, &r, UINT64_MAX), IT_OK);
    ck_assert(!r.complete);
    it_response_free(&r);
    it_conn_close(&c);
    it_server_stop(&s);
}
END_TEST

/* A worker that dies during the delay is restarted, draining. */
START_TEST(t_master_restart_during_drain)
{
    struct it_server s;
    pid_t kids[64], now[64];
    bool replaced = false;

    start(&s, 2, "health_path = /healthz\ndrain_delay = 3\nlog_level = debug\n", "");
    it_server_expect(&s, "killed by signal 9");
    ck_assert_int_eq(it_wait_children(s.pid, kids, 64, 2, WAIT_MS), 2);
    it_server_term(&s);
    ck_assert(wait_drain_notices(&s, 2));
    ck_assert_int_eq(kill(kids[0], SIGKILL), 0); /* a child of our server */
    for (int64_t end = it_now_ms() + WAIT_MS; !replaced && it_now_ms() < end;) {
        int n = it_children_of(s.pid, now, 64);
        bool gone = true;
        for (int i = 0; i < n; i++)
            gone = gone && now[i] != kids[0];
        replaced = n == 2 && gone;
        if (!replaced)
            it_sleep_ms(20);
    }
    ck_assert_msg(replaced, "the killed worker was not replaced during the drain");
    /* the new worker fails the health path from its first request */
    assert_health_all(s.port, 503, 12);
    it_server_stop(&s);
}
END_TEST

/* A reload does not drain: the new workers serve the same sockets, the
 * old ones stop at once (not after the 30 s delay), the health path
 * stays ok. */
START_TEST(t_reload_skips_drain)
{
    struct it_server s;
    pid_t before[64], after[64];
    bool old_gone = false;

    start(&s, 2, "health_path = /healthz\ndrain_delay = 30\n", "");
    ck_assert_int_eq(it_wait_children(s.pid, before, 64, 2, WAIT_MS), 2);
    ck_assert_int_eq(kill(s.pid, SIGHUP), 0);
    for (int64_t end = it_now_ms() + WAIT_MS; !old_gone && it_now_ms() < end;) {
        int n = it_children_of(s.pid, after, 64);
        old_gone = n == 2;
        for (int i = 0; i < n; i++)
            old_gone = old_gone && after[i] != before[0] && after[i] != before[1];
        if (!old_gone) {
            assert_health_all(s.port, 200, 1);
            it_sleep_ms(20);
        }
    }
    ck_assert_msg(old_gone, "the old workers still run %d ms after the reload", WAIT_MS);
    assert_health_all(s.port, 200, 8);
    ck_assert_int_eq(count_in_log(&s, "draining"), 0);
    /* stop without the delay: a second SIGTERM once the drain began */
    it_server_term(&s);
    ck_assert(wait_health(s.port, 503));
    ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
    it_server_stop(&s);
}
END_TEST

static Suite *
drain_suite(void)
{
    Suite *s = suite_create("it_drain");
    TCase *tc = tcase_create("drain");

    tcase_add_checked_fixture(tc, tree_up, it_suite_tree_down);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, t_health_ok);
    tcase_add_test(tc, t_health_without_files);
    tcase_add_test(tc, t_health_off_by_default);
    tcase_add_test(tc, t_drain_single);
    tcase_add_test(tc, t_drain_then_graceful_stop);
    tcase_add_test(tc, t_drain_second_signal);
    tcase_add_test(tc, t_drain_without_health_path);
    tcase_add_test(tc, t_master_drain);
    tcase_add_test(tc, t_master_second_signal);
    tcase_add_test(tc, t_master_restart_during_drain);
    tcase_add_test(tc, t_reload_skips_drain);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return it_main(drain_suite());
}
