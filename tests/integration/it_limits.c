/*
 * it_limits.c - file descriptors: never stuck. The real binary under a
 * low RLIMIT_NOFILE (set in the child before exec, by prlimit(1)): -T
 * prints the budget it would run with (and `auto` for the sized keys);
 * a start logs it; many concurrent connections over many distinct files
 * are all answered, never 500; then the server's limit is squeezed from
 * outside (prlimit(2)) to the descriptors it holds, so that opens fail
 * with EMFILE for real: a miss lets go of unused cache entries and is
 * served, so does an accept (without a pause), a miss with nothing to let
 * go gets 503 with Retry-After, accept then pauses (logged once) instead
 * of spinning, and as soon as load drops a
 * waiting connection and new ones get /index.html with 200. Idle
 * keep-alive connections pin no file descriptor the cache does not count
 * (the plan counts one descriptor per connection, fdlimit.c).
 */
#include "harness.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define NFILES 300
#define FILE_SIZE 8192 /* above small_file_size: each cached file holds an fd */
#define NBIG 3
#define BIG_SIZE (4u << 20)

static char g_base[PATH_MAX];
static char g_root[PATH_MAX];
static struct it_server srv;

static void
tree_up(void)
{
    char p[PATH_MAX], name[64];
    it_tmpdir(g_base, sizeof(g_base));
    it_join(g_root, sizeof(g_root), g_base, "www");
    it_mkdir(g_root);
    it_join(p, sizeof(p), g_root, "index.html");
    it_write_str(p, "<!doctype html><title>home</title>\n");
    it_join(p, sizeof(p), g_root, "f");
    it_mkdir(p);
    for (int i = 0; i < NFILES; i++) {
        snprintf(name, sizeof(name), "f/%03d.bin", i);
        it_join(p, sizeof(p), g_root, name);
        it_write_pattern(p, FILE_SIZE, (uint32_t)i + 1);
    }
    for (int i = 0; i < NBIG; i++) {
        snprintf(name, sizeof(name), "big%d.bin", i);
        it_join(p, sizeof(p), g_root, name);
        it_write_pattern(p, BIG_SIZE, 1000 + (uint32_t)i);
    }
}

static void
tree_down(void)
{
    it_rmtree(g_base);
}

/* Quick mode on g_root under RLIMIT_NOFILE soft:hard. */
static void
start_limited(const char *nofile)
{
    char opt[64];
    snprintf(opt, sizeof(opt), "--nofile=%s", nofile);
    const char *wrap[] = {"prlimit", opt, "--", NULL};
    const char *argv[] = {"-l", "127.0.0.1:0", "--access-log", "off", g_root, NULL};
    it_server_start_wrapped(&srv, wrap, argv);
    it_server_expect(&srv, "max_connections (");
    it_server_expect(&srv, "accept: pausing");
}

static void
srv_down(void)
{
    if (srv.pid > 0)
        it_server_stop(&srv);
}

/* sfhttpd ARGS... under nofile, its stdout (without stderr) into out. */
static void
run_dump(const char *nofile, const char *conf, char *out, size_t cap)
{
    char opt[64], path[PATH_MAX], cmd[PATH_MAX * 3];
    snprintf(opt, sizeof(opt), "--nofile=%s", nofile);
    it_join(path, sizeof(path), g_base, "dump.txt");
    snprintf(cmd, sizeof(cmd), "exec prlimit %s -- '%s' %s%s%s -T 2>/dev/null >'%s'", opt,
             SFHTTPD_BIN, conf ? "-c '" : "'", conf ? conf : g_root, "'", path);
    const char *argv[] = {"sh", "-c", cmd, NULL};
    ck_assert_int_eq(it_run(argv, 20, NULL), 0);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    fclose(f);
}

static const char *
last_line(const char *text)
{
    size_t n = strlen(text);
    ck_assert_uint_gt(n, 1);
    ck_assert_int_eq(text[n - 1], '\n');
    const char *p = text + n - 1;
    while (p > text && p[-1] != '\n')
        p--;
    return p;
}

/* -T under nofile 64:64 and 64:128 (raised to 128): the limits line of
 * the formula (quick mode: one listener, one site, logs to stdio, listing
 * on: reserve = 24 + 1 + 1 + min(256, (nofile - 26) / 4)), and the sized
 * keys dumped as auto. */
START_TEST(t_dump_limits_line)
{
    char out[16384];
    run_dump("64:64", NULL, out, sizeof(out));
    ck_assert_str_eq(last_line(out), "; limits: nofile 64/64 (soft/hard), max_connections 20, "
                                     "open_file_cache_max 9, listing_cache_max 9, reserve 35\n");
    ck_assert_ptr_nonnull(strstr(out, "\nmax_connections = auto\n"));
    ck_assert_ptr_nonnull(strstr(out, "\nopen_file_cache_max = auto\n"));
    ck_assert_ptr_nonnull(strstr(out, "\nlisting_cache_max = 256\n"));
    /* 128: left 102, listing 25, reserve 51, available 77: the cache a
     * third (25), the connections the rest (52) */
    run_dump("64:128", NULL, out, sizeof(out));
    ck_assert_str_eq(last_line(out), "; limits: nofile 128/128 (soft/hard), max_connections 52, "
                                     "open_file_cache_max 25, listing_cache_max 25, reserve 51\n");
}
END_TEST

/* Given values: dumped as given; the limits line shows them capped. */
START_TEST(t_dump_given_values)
{
    char conf[PATH_MAX], out[16384];
    it_join(conf, sizeof(conf), g_base, "given.conf");
    FILE *f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "[server]\nlisten = 127.0.0.1:0\nmax_connections = 500\nopen_file_cache_max = 2k\n"
            "[site]\nroot = %s\n",
            g_root);
    fclose(f);
    run_dump("1024:1024", conf, out, sizeof(out));
    ck_assert_ptr_nonnull(strstr(out, "\nmax_connections = 500\n"));
    ck_assert_ptr_nonnull(strstr(out, "\nopen_file_cache_max = 2k\n"));
    /* no listing: reserve 26, available 998, one per connection and one
     * per cached file: the connections fit, the cache gives way to what
     * they leave, 998 - 500 = 498 */
    ck_assert_str_eq(last_line(out),
                     "; limits: nofile 1024/1024 (soft/hard), max_connections 500, "
                     "open_file_cache_max 498, listing_cache_max 256, reserve 26\n");
}
END_TEST

/* A start under 64:128 logs the raise and the budget. */
START_TEST(t_start_logs_budget)
{
    start_limited("64:128");
    char log[16384];
    it_server_log(&srv, log, sizeof(log));
    ck_assert_msg(strstr(log, "RLIMIT_NOFILE soft limit raised from 64 to the hard limit: nofile "
                              "128/128 (soft/hard), max_connections 52"),
                  "%s", log);
}
END_TEST

static int
get_status(struct it_conn *c, const char *path, bool keep, struct it_response *r)
{
    char req[256];
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n%s\r\n", path,
             keep ? "" : "Connection: close\r\n");
    it_conn_send_str(c, req);
    ck_assert_int_eq(it_read_response(c, r, false), IT_OK);
    return r->status;
}

/* Many concurrent connections (four times max_connections) over many
 * distinct files (thirty times the cache), in rounds: every answer is 200
 * (503 would be allowed, 500 never), and afterwards /index.html is 200. */
START_TEST(t_many_files_many_connections)
{
    enum { NCONN = 80, ROUNDS = 8 };
    start_limited("64:64");
    int n200 = 0, n503 = 0, n_reclaimed = 0;
    for (int round = 0; round < ROUNDS; round++) {
        static struct it_conn c[NCONN];
        char req[128];
        for (int i = 0; i < NCONN; i++) {
            it_conn_open_opts(&c[i], srv.port, 0, 10000);
            snprintf(req, sizeof(req), "GET /f/%03d.bin HTTP/1.1\r\nHost: t\r\n\r\n",
                     (round * NCONN + i) % NFILES);
            it_conn_send_str(&c[i], req);
        }
        for (int i = 0; i < NCONN; i++) {
            struct it_response r;
            /* a second request on the same connection, kept alive */
            ck_assert_int_eq(it_read_response(&c[i], &r, false), IT_OK);
            ck_assert_msg(r.status == 200 || r.status == 503, "status %d", r.status);
            n200 += r.status == 200;
            n503 += r.status == 503;
            if (r.status == 200)
                ck_assert_uint_eq(r.body_len, FILE_SIZE);
            it_response_free(&r);
            snprintf(req, sizeof(req), "/f/%03d.bin", (round * NCONN + i + 7) % NFILES);
            /* at max_connections the server closes the longest-idle
             * kept-alive connection to admit a new one (issue 10), as a
             * client may expect any time: then it reconnects, once */
            char line[256];
            snprintf(line, sizeof(line), "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                     req);
            if (it_conn_try_send(&c[i], line, strlen(line)) != 0 ||
                it_read_response(&c[i], &r, false) == IT_EOF) {
                n_reclaimed++;
                it_conn_close(&c[i]);
                it_conn_open_opts(&c[i], srv.port, 0, 10000);
                it_conn_send_str(&c[i], line);
                ck_assert_int_eq(it_read_response(&c[i], &r, false), IT_OK);
            }
            int st = r.status;
            ck_assert_msg(st == 200 || st == 503, "status %d", st);
            n200 += st == 200;
            n503 += st == 503;
            it_response_free(&r);
            it_conn_close(&c[i]);
        }
    }
    printf("it_limits: %d answers 200, %d 503, %d idle connections reclaimed\n", n200, n503,
           n_reclaimed);
    ck_assert_int_eq(n200 + n503, NCONN * ROUNDS * 2);
    struct it_response r;
    it_get(srv.port, "/index.html", &r);
    ck_assert_int_eq(r.status, 200);
    it_response_free(&r);
}
END_TEST

/* The lowest descriptor number pid has free; its highest in *high. */
static int
free_fd(pid_t pid, int *high)
{
    char dir[64];
    static bool used[4096];
    memset(used, 0, sizeof(used));
    *high = -1;
    snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd >= 0 && fd < 4096) {
            used[fd] = true;
            *high = fd > *high ? fd : *high;
        }
    }
    closedir(d);
    int fd = 0;
    while (fd < 4096 && used[fd])
        fd++;
    return fd;
}

static int
lowest_free_fd(pid_t pid)
{
    int high;
    return free_fd(pid, &high);
}

/* How many of pid's descriptors below limit are files of g_root/f. */
static int
cached_below(pid_t pid, int limit)
{
    char link[128], target[PATH_MAX], prefix[PATH_MAX];
    int n = 0;
    it_join(prefix, sizeof(prefix), g_root, "f/");
    for (int fd = 0; fd < limit; fd++) {
        snprintf(link, sizeof(link), "/proc/%ld/fd/%d", (long)pid, fd);
        ssize_t len = readlink(link, target, sizeof(target) - 1);
        if (len <= 0)
            continue;
        target[len] = '\0';
        n += strncmp(target, prefix, strlen(prefix)) == 0;
    }
    return n;
}

/* Keep-alive connections, each served a different small file (a
 * snapshot) and then idle, hold no file of their own: the server has no
 * more of those files open than the cache keeps (9 under 64), though 15
 * were sent and the connections that got them are all still open. */
START_TEST(t_idle_connections_pin_no_files)
{
    enum { NIDLE = 15, CACHE = 9 };
    start_limited("64:64");
    struct it_conn c[NIDLE];
    struct it_response r;
    char path[64];
    for (int i = 0; i < NIDLE; i++) {
        it_conn_open(&c[i], srv.port);
        snprintf(path, sizeof(path), "/f/%03d.bin", 20 + i);
        ck_assert_int_eq(get_status(&c[i], path, true, &r), 200);
        ck_assert_uint_eq(r.body_len, FILE_SIZE);
        it_response_free(&r);
    }
    int files = cached_below(srv.pid, 4096);
    printf("it_limits: %d files open with %d idle connections served %d files\n", files, NIDLE,
           NIDLE);
    ck_assert_msg(files <= CACHE, "%d files open", files);
    /* all still open and served */
    for (int i = 0; i < NIDLE; i++) {
        ck_assert_int_eq(get_status(&c[i], "/index.html", true, &r), 200);
        it_response_free(&r);
        it_conn_close(&c[i]);
    }
}
END_TEST

static void
set_server_nofile(rlim_t soft, rlim_t hard)
{
    struct rlimit rl = {soft, hard};
    ck_assert_int_eq(prlimit(srv.pid, RLIMIT_NOFILE, &rl, NULL), 0);
}

static size_t
count_in_log(const char *needle)
{
    static char log[1 << 20];
    it_server_log(&srv, log, sizeof(log));
    size_t n = 0;
    for (const char *p = log; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* EMFILE for real: the server squeezed to the descriptors it holds. */
START_TEST(t_squeezed_evicts_then_503_then_recovers)
{
    start_limited("64:64");
    struct it_conn a, big[NBIG], late;
    struct it_response r, rb[NBIG];
    char path[64];
    it_conn_open(&a, srv.port);
    /* downloads in flight: their entries are in use, never let go */
    for (int i = 0; i < NBIG; i++) {
        char req[128];
        it_conn_open_opts(&big[i], srv.port, 4096, 10000);
        snprintf(req, sizeof(req), "GET /big%d.bin HTTP/1.1\r\nHost: t\r\n\r\n", i);
        it_conn_send_str(&big[i], req);
        ck_assert_int_eq(it_read_head(&big[i], &rb[i], false), IT_OK);
        ck_assert_int_eq(rb[i].status, 200);
        ck_assert_int_eq(it_read_body(&big[i], &rb[i], 8192), IT_OK);
    }
    /* fill the cache with files nobody is using (as many as it keeps:
     * they push the downloads' entries out, which stay open, in use) */
    for (int i = 0; i < 9; i++) {
        snprintf(path, sizeof(path), "/f/%03d.bin", i);
        ck_assert_int_eq(get_status(&a, path, true, &r), 200);
        it_response_free(&r);
    }

    /* 1. no descriptor left below the limit, some of the ones below it
     * cached files nobody uses: a miss lets go of them and is served */
    int low = lowest_free_fd(srv.pid);
    ck_assert_int_gt(cached_below(srv.pid, low), 0);
    set_server_nofile((rlim_t)low, 64);
    for (int i = 100; i < 110; i++) {
        snprintf(path, sizeof(path), "/f/%03d.bin", i);
        ck_assert_msg(get_status(&a, path, true, &r) == 200, "%s: %d", path, r.status);
        ck_assert_uint_eq(r.body_len, FILE_SIZE);
        it_response_free(&r);
    }

    /* and an accept that runs out lets them go and accepts at once (it
     * pauses only with nothing to let go, 3. below): unused files cached
     * below the limit again, the limit squeezed to them */
    set_server_nofile(64, 64);
    for (int i = 110; i < 114; i++) {
        snprintf(path, sizeof(path), "/f/%03d.bin", i);
        ck_assert_int_eq(get_status(&a, path, true, &r), 200);
        it_response_free(&r);
    }
    low = lowest_free_fd(srv.pid);
    ck_assert_int_ge(cached_below(srv.pid, low), 3);
    set_server_nofile((rlim_t)low, 64);
    struct it_conn early;
    it_conn_open(&early, srv.port);
    ck_assert_int_eq(get_status(&early, "/f/120.bin", false, &r), 200);
    ck_assert_uint_eq(r.body_len, FILE_SIZE);
    it_response_free(&r);
    it_conn_close(&early);
    ck_assert_uint_eq(count_in_log("accept: pausing"), 0);

    /* 2. nothing to let go: drop the unused entries (a change to their
     * files, noticed at the next request, which is a 404 and keeps
     * nothing), then squeeze again: 503 with Retry-After, not 500 */
    for (int i = 100; i <= 120; i++) {
        char p[PATH_MAX];
        snprintf(path, sizeof(path), "f/%03d.bin", i);
        it_join(p, sizeof(p), g_root, path);
        it_set_mtime(p, 1000000000 + i);
    }
    ck_assert_int_eq(get_status(&a, "/missing.txt", true, &r), 404);
    it_response_free(&r);
    set_server_nofile((rlim_t)lowest_free_fd(srv.pid), 64);
    ck_assert_int_eq(get_status(&a, "/f/200.bin", true, &r), 503);
    ck_assert_str_eq(it_header(&r, "Retry-After"), "1");
    it_response_free(&r);
    ck_assert_int_eq(get_status(&a, "/index.html", true, &r), 503);
    it_response_free(&r);

    /* 3. a new connection cannot be accepted: accept pauses, said once */
    it_conn_open(&late, srv.port);
    it_conn_send_str(&late, "GET /index.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    for (int i = 0; i < 20 && count_in_log("accept: pausing") == 0; i++)
        it_sleep_ms(100);
    it_sleep_ms(500); /* more failed accepts of the same burst */
    ck_assert_uint_eq(count_in_log("accept: pausing"), 1);

    /* 4. load drops: the downloads end (their sockets and files close),
     * and the idle connections go */
    for (int i = 0; i < NBIG; i++) {
        it_response_free(&rb[i]);
        it_conn_abort(&big[i]);
    }
    ck_assert_int_eq(it_read_response(&late, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 200);
    it_response_free(&r);
    it_conn_close(&late);
    ck_assert_int_eq(get_status(&a, "/index.html", true, &r), 200);
    it_response_free(&r);
    it_conn_close(&a);
    set_server_nofile(64, 64);
    for (int i = 0; i < 5; i++) {
        it_get(srv.port, "/index.html", &r);
        ck_assert_int_eq(r.status, 200);
        it_response_free(&r);
        snprintf(path, sizeof(path), "/f/%03d.bin", 250 + i);
        it_get(srv.port, path, &r);
        ck_assert_int_eq(r.status, 200);
        it_response_free(&r);
    }
}
END_TEST

static Suite *
limits_suite(void)
{
    Suite *s = suite_create("it_limits");
    TCase *tc = tcase_create("limits");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, tree_up, tree_down);
    tcase_add_checked_fixture(tc, NULL, srv_down);
    tcase_add_test(tc, t_dump_limits_line);
    tcase_add_test(tc, t_dump_given_values);
    tcase_add_test(tc, t_start_logs_budget);
    tcase_add_test(tc, t_many_files_many_connections);
    tcase_add_test(tc, t_idle_connections_pin_no_files);
    tcase_add_test(tc, t_squeezed_evicts_then_503_then_recovers);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return it_main(limits_suite());
}
