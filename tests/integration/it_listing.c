/*
 * it_listing.c - listings end to end: the listing cache (a request for an
 * unchanged folder reads no directory: the worker is traced with strace
 * for getdents64, and the page goes out with sendfile from the cache),
 * every change finished before a request is seen by that request (names,
 * sizes, times, a subfolder's contents, a link's target), the
 * max_listing_entries limit and its notes, the cache turned off, HEAD and
 * keep-alive from the cache, the symlink policies in a listing (follow,
 * none, dotfiles allowed), and a plain wget -r that fetches no page twice
 * in another order.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NBIG 3000

static void
path_of(char *out, size_t cap, const char *rel)
{
    it_join(out, cap, it_suite.root, rel);
}

static void
put(const char *rel, const char *text)
{
    char p[PATH_MAX];
    path_of(p, sizeof(p), rel);
    it_write_str(p, text);
}

static void
mkd(const char *rel)
{
    char p[PATH_MAX];
    path_of(p, sizeof(p), rel);
    it_mkdir(p);
}

static void
ln(const char *target, const char *rel)
{
    char p[PATH_MAX];
    path_of(p, sizeof(p), rel);
    ck_assert_msg(symlink(target, p) == 0, "symlink %s: %s", p, strerror(errno));
}

static void
tree_up(void)
{
    it_suite_tree();
    mkd("big");
    for (int i = 0; i < NBIG; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "big/file-%04d.txt", (i * 7919) % NBIG);
        put(rel, "x");
    }
    mkd("live");
    mkd("live/sub");
    put("live/a.txt", "a");
    put("live/r-old", "r");
    mkd("trunc");
    for (int i = 0; i < 120; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "trunc/t%03d", i);
        put(rel, "t");
    }
    /* links of every kind, for the policies */
    it_put(it_suite.base, "secret", "secret!\n");
    mkd(".git");
    put(".git/config", "[core]\n");
    put("inner.txt", "inner\n");
    mkd("ldir");
    ln("../inner.txt", "ldir/in");
    ln("/etc/passwd", "ldir/out");
    ln("../../secret", "ldir/up");
    ln("../.git/config", "ldir/git");
    /* a small tree for wget */
    mkd("tree");
    mkd("tree/a");
    mkd("tree/b");
    put("tree/one.txt", "1\n");
    put("tree/a/two.txt", "22\n");
    put("tree/b/three.txt", "333\n");
}

/* A config file with extra [server] lines and the given site sections. */
static void
write_conf(char *conf, size_t cap, const char *name, const char *server, const char *sites)
{
    char text[8 * PATH_MAX];
    it_join(conf, cap, it_suite.base, name);
    snprintf(text, sizeof(text), "[server]\nlisten = 127.0.0.1:0\naccess_log = off\n%s%s\n%s",
             getuid() == 0 ? "user = root\n" : "", server, sites);
    it_write_str(conf, text);
}

static char *
get_body(int port, const char *path, const char *host, int want)
{
    char req[1024];
    struct it_response r;
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path,
             host ? host : "t");
    ck_assert_int_eq(it_request(port, req, &r), IT_OK);
    ck_assert_msg(r.status == want, "GET %s: %d, want %d", path, r.status, want);
    ck_assert_msg(r.complete, "GET %s: incomplete body", path);
    char *b = strdup(r.body);
    ck_assert_ptr_nonnull(b);
    it_response_free(&r);
    return b;
}

static size_t
count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* ---- no directory read for an unchanged folder ------------------------ */

/* Attach strace to pid (tracing syscalls) and wait until it is attached. */
static pid_t
trace_start(pid_t pid, const char *syscalls, const char *out, const char *err)
{
    char p[32], e[128];
    snprintf(p, sizeof(p), "%d", (int)pid);
    snprintf(e, sizeof(e), "trace=%s", syscalls);
    ck_assert_msg(it_run((const char *const[]){"sh", "-c", "command -v strace", NULL}, 10, NULL) ==
                      0,
                  "strace is missing (scripts/deps installs it)");
    const char *argv[] = {"strace", "-f", "-e", e, "-o", out, "-p", p, NULL};
    pid_t st = it_spawn(argv, err);
    int64_t end = it_now_ms() + 10000;
    for (;;) {
        char buf[4096] = {0};
        FILE *f = fopen(err, "r");
        if (f) {
            size_t n = fread(buf, 1, sizeof(buf) - 1, f);
            buf[n] = '\0';
            fclose(f);
        }
        if (strstr(buf, "attached"))
            return st;
        ck_assert_msg(it_now_ms() < end, "strace did not attach: %s", buf);
        it_sleep_ms(20);
    }
}

static char *
read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    static const size_t cap = 8 << 20;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Stop the server and return its output (malloc'ed), which by then
 * holds the caches' counters (logged as a worker closes). */
static char *
stop_with_counters(struct it_server *srv)
{
    static const size_t cap = 1 << 20;
    char *log = malloc(cap);
    ck_assert_ptr_nonnull(log);
    it_server_term(srv);
    int64_t end = it_now_ms() + 20000;
    while (it_server_log(srv, log, cap), !strstr(log, "listing cache:") && it_now_ms() < end)
        it_sleep_ms(20);
    it_server_stop(srv);
    return log;
}

START_TEST(t_cached_reads_no_directory)
{
    struct it_server srv;
    char out[PATH_MAX], err[PATH_MAX];
    it_server_start_dir(&srv, it_suite.root);

    /* the first request of each order reads or renders */
    char *first = get_body(srv.port, "/big/", NULL, 200);
    ck_assert_uint_eq(count(first, "<tr><td><a href=\"./file-"), NBIG);
    char *first_size = get_body(srv.port, "/big/?sort=size&order=desc", NULL, 200);
    char *first_json = get_body(srv.port, "/big/?format=json", NULL, 200);

    it_join(out, sizeof(out), it_suite.base, "strace.out");
    it_join(err, sizeof(err), it_suite.base, "strace.err");
    pid_t st = trace_start(srv.pid, "getdents64,openat2,sendfile", out, err);
    for (int i = 0; i < 3; i++) {
        char *again = get_body(srv.port, "/big/", NULL, 200);
        ck_assert_str_eq(again, first);
        free(again);
    }
    char *again = get_body(srv.port, "/big/?sort=size&order=desc", NULL, 200);
    ck_assert_str_eq(again, first_size);
    free(again);
    again = get_body(srv.port, "/big/?format=json", NULL, 200);
    ck_assert_str_eq(again, first_json);
    free(again);
    /* a marker in the trace (its openat2), then a change: read again */
    free(get_body(srv.port, "/--marker--", NULL, 404));
    put("big/file-0001.txt", "grown");
    char *changed = get_body(srv.port, "/big/?format=json", NULL, 200);
    ck_assert_ptr_nonnull(
        strstr(changed, "{\"name\":\"file-0001.txt\",\"type\":\"file\",\"size\":5,"));
    free(changed);
    it_finish(st, SIGINT, 10000);

    char *trace = read_file(out);
    const char *mark = strstr(trace, "--marker--");
    ck_assert_msg(mark != NULL, "the trace missed the marker request:\n%.3000s", trace);
    size_t before = 0;
    for (const char *p = trace; (p = strstr(p, "getdents64(")) != NULL && p < mark; p++)
        before++;
    ck_assert_msg(before == 0, "%zu getdents64 calls for cached listings:\n%.3000s", before, trace);
    /* the five cached pages went out with sendfile (from the cache's memfd) */
    size_t sends = 0;
    for (const char *p = trace; (p = strstr(p, "sendfile(")) != NULL && p < mark; p++)
        sends++;
    ck_assert_msg(sends >= 5, "only %zu sendfile calls before the marker:\n%.3000s", sends, trace);
    ck_assert_msg(strstr(mark, "getdents64(") != NULL, "the changed folder was not read again");
    free(trace);
    free(first);
    free(first_size);
    free(first_json);

    char *log = stop_with_counters(&srv);
    ck_assert_msg(
        strstr(log, "listing cache: 5 hits, 2 renders, 2 folder reads (0 uncached), 1 drops"), "%s",
        log);
    free(log);
}
END_TEST

/* ---- a change finished before a request is seen by it ----------------- */

static char *
live_json(int port)
{
    return get_body(port, "/live/?format=json", NULL, 200);
}

static void
assert_has(const char *js, const char *needle, int round)
{
    ck_assert_msg(strstr(js, needle) != NULL, "round %d: no %s in\n%s", round, needle, js);
}

START_TEST(t_changes_seen_at_once)
{
    struct it_server srv;
    char p[PATH_MAX], q[PATH_MAX], want[256];
    it_server_start_dir(&srv, it_suite.root);
    free(live_json(srv.port));
    for (int i = 0; i < 20; i++) {
        char *js;
        /* a new name */
        snprintf(p, sizeof(p), "live/n%02d", i);
        put(p, "n");
        js = live_json(srv.port);
        snprintf(want, sizeof(want), "{\"name\":\"n%02d\",", i);
        assert_has(js, want, i);
        free(js);
        /* a size */
        char text[64];
        memset(text, 'z', sizeof(text));
        text[i + 2] = '\0';
        put("live/a.txt", text);
        js = live_json(srv.port);
        snprintf(want, sizeof(want), "{\"name\":\"a.txt\",\"type\":\"file\",\"size\":%d,", i + 2);
        assert_has(js, want, i);
        free(js);
        /* a time */
        path_of(p, sizeof(p), "live/a.txt");
        it_set_mtime(p, 1000000000 + i * 86400);
        js = live_json(srv.port);
        snprintf(want, sizeof(want), "\"mtime\":\"2001-09-%02dT01:46:40Z\"}", 9 + i);
        assert_has(js, want, i);
        free(js);
        /* a rename */
        path_of(p, sizeof(p), "live/r-old");
        snprintf(want, sizeof(want), "live/r%02d", i);
        path_of(q, sizeof(q), want);
        ck_assert_int_eq(rename(p, q), 0);
        js = live_json(srv.port);
        snprintf(want, sizeof(want), "{\"name\":\"r%02d\",", i);
        assert_has(js, want, i);
        ck_assert(strstr(js, "\"r-old\"") == NULL);
        free(js);
        ck_assert_int_eq(rename(q, p), 0);
        /* a subfolder's contents (its mtime; no event in live/) */
        snprintf(want, sizeof(want), "live/sub/s%02d", i);
        put(want, "s");
        path_of(p, sizeof(p), "live/sub");
        it_set_mtime(p, 1500000000 + i);
        js = live_json(srv.port);
        snprintf(want, sizeof(want),
                 "{\"name\":\"sub\",\"type\":\"dir\",\"mtime\":\"2017-07-14T02:40:%02dZ\"}", i);
        assert_has(js, want, i);
        free(js);
        /* a link's target elsewhere grows */
        snprintf(text, sizeof(text), "%.*s", i + 1, "0123456789abcdefghijklmnop");
        put("inner.txt", text);
        if (i == 0)
            ln("../inner.txt", "live/link");
        js = live_json(srv.port);
        snprintf(want, sizeof(want), "{\"name\":\"link\",\"type\":\"file\",\"size\":%d,", i + 1);
        assert_has(js, want, i);
        free(js);
    }
    /* a name deleted */
    path_of(p, sizeof(p), "live/n05");
    ck_assert_int_eq(unlink(p), 0);
    char *js = live_json(srv.port);
    ck_assert(strstr(js, "\"n05\"") == NULL);
    free(js);
    put("inner.txt", "inner\n");
    it_server_stop(&srv);
}
END_TEST

/* ---- max_listing_entries --------------------------------------------- */

START_TEST(t_truncated)
{
    struct it_server srv;
    char conf[PATH_MAX], sites[2 * PATH_MAX];
    snprintf(sites, sizeof(sites), "[site]\nroot = %s\nlisting = on\n", it_suite.root);
    write_conf(conf, sizeof(conf), "trunc.conf", "max_listing_entries = 50\n", sites);
    it_server_start_conf(&srv, conf);
    char *page = get_body(srv.port, "/trunc/", NULL, 200);
    ck_assert_uint_eq(count(page, "<tr><td>"), 50);
    ck_assert_ptr_nonnull(
        strstr(page, "<p class=\"note\">Truncated: this folder holds more than 50 names"));
    free(page);
    char *js = get_body(srv.port, "/trunc/?format=json", NULL, 200);
    ck_assert_uint_eq(count(js, "{\"name\":"), 50);
    ck_assert_ptr_nonnull(strstr(js, ",\n{\"truncated\":true}\n]\n"));
    free(js);
    /* a folder within the limit says nothing of the kind */
    page = get_body(srv.port, "/tree/", NULL, 200);
    ck_assert_ptr_null(strstr(page, "Truncated"));
    free(page);
    it_server_stop(&srv);
}
END_TEST

/* ---- the cache off ---------------------------------------------------- */

START_TEST(t_cache_off)
{
    struct it_server srv;
    char conf[PATH_MAX], sites[2 * PATH_MAX];
    snprintf(sites, sizeof(sites), "[site]\nroot = %s\nlisting = on\n", it_suite.root);
    write_conf(conf, sizeof(conf), "off.conf", "listing_cache_size = 0\n", sites);
    it_server_start_conf(&srv, conf);
    for (int i = 0; i < 3; i++) {
        char *js = get_body(srv.port, "/tree/?format=json", NULL, 200);
        ck_assert_ptr_nonnull(strstr(js, "{\"name\":\"one.txt\","));
        free(js);
    }
    char *log = stop_with_counters(&srv);
    ck_assert_msg(strstr(log, "listing cache: 0 hits, 0 renders, 3 folder reads (3 uncached)"),
                  "%s", log);
    free(log);
}
END_TEST

/* ---- HEAD and keep-alive from the cache ------------------------------- */

START_TEST(t_head_and_keepalive)
{
    struct it_server srv;
    struct it_conn c;
    struct it_response r[3];
    it_server_start_dir(&srv, it_suite.root);
    it_conn_open(&c, srv.port);
    /* three pipelined: a GET that fills the cache, a HEAD and a GET from it */
    it_conn_send_str(&c, "GET /tree/ HTTP/1.1\r\nHost: t\r\n\r\n"
                         "HEAD /tree/ HTTP/1.1\r\nHost: t\r\n\r\n"
                         "GET /tree/ HTTP/1.1\r\nHost: t\r\n\r\n");
    ck_assert_int_eq(it_read_response(&c, &r[0], false), IT_OK);
    ck_assert_int_eq(it_read_response(&c, &r[1], true), IT_OK);
    ck_assert_int_eq(it_read_response(&c, &r[2], false), IT_OK);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(r[i].status, 200);
        ck_assert_int_eq(r[i].content_length, r[0].content_length);
        ck_assert_ptr_nonnull(it_header(&r[i], "Content-Security-Policy"));
    }
    ck_assert_uint_eq(r[1].body_len, 0);
    ck_assert_str_eq(r[0].sha256, r[2].sha256);
    for (int i = 0; i < 3; i++)
        it_response_free(&r[i]);
    it_conn_close(&c);
    it_server_stop(&srv);
}
END_TEST

/* ---- symlink policies ------------------------------------------------- */

START_TEST(t_link_policies)
{
    struct it_server srv;
    char conf[PATH_MAX], sites[4 * PATH_MAX];
    struct stat pw;
    snprintf(sites, sizeof(sites),
             "[site follow]\nroot = %s\nlisting = on\nsymlinks = follow\nserver_names = follow.t\n"
             "[site none]\nroot = %s\nlisting = on\nsymlinks = none\nserver_names = none.t\n"
             "[site dots]\nroot = %s\nlisting = on\ndotfiles = allow\nserver_names = dots.t\n",
             it_suite.root, it_suite.root, it_suite.root);
    write_conf(conf, sizeof(conf), "links.conf", "", sites);
    it_server_start_conf(&srv, conf);
    ck_assert_int_eq(stat("/etc/passwd", &pw), 0);
    char want[128];

    /* follow: anywhere, except a hidden target */
    char *js = get_body(srv.port, "/ldir/?format=json", "follow.t", 200);
    snprintf(want, sizeof(want), "{\"name\":\"out\",\"type\":\"file\",\"size\":%lld,",
             (long long)pw.st_size);
    ck_assert_msg(strstr(js, want), "%s", js);
    ck_assert_msg(strstr(js, "{\"name\":\"up\",\"type\":\"file\",\"size\":8,"), "%s", js);
    ck_assert_msg(!strstr(js, "\"git\""), "%s", js);
    free(js);
    free(get_body(srv.port, "/ldir/up", "follow.t", 200));
    free(get_body(srv.port, "/ldir/git", "follow.t", 404));

    /* none: no link is listed or served */
    js = get_body(srv.port, "/ldir/?format=json", "none.t", 200);
    ck_assert_str_eq(js, "[]\n");
    free(js);
    free(get_body(srv.port, "/ldir/in", "none.t", 404));

    /* dotfiles allowed: the link to .git is listed and served, escapes not */
    js = get_body(srv.port, "/ldir/?format=json", "dots.t", 200);
    ck_assert_msg(strstr(js, "{\"name\":\"git\",\"type\":\"file\",\"size\":7,"), "%s", js);
    ck_assert_msg(strstr(js, "{\"name\":\"in\",\"type\":\"file\",\"size\":6,"), "%s", js);
    ck_assert_msg(!strstr(js, "\"out\"") && !strstr(js, "\"up\""), "%s", js);
    free(js);
    free(get_body(srv.port, "/ldir/git", "dots.t", 200));
    it_server_stop(&srv);
}
END_TEST

/* ---- wget -r fetches each listing once -------------------------------- */

START_TEST(t_wget_plain)
{
    struct it_server srv;
    char alog[PATH_MAX], dir[PATH_MAX], wlog[PATH_MAX], url[128];
    it_join(alog, sizeof(alog), it_suite.base, "wget-access.log");
    it_join(dir, sizeof(dir), it_suite.base, "wget-out");
    it_join(wlog, sizeof(wlog), it_suite.base, "wget.log");
    const char *sargv[] = {"-l", "127.0.0.1:0", "--access-log", alog, it_suite.root, NULL};
    it_server_start(&srv, sargv);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/tree/", srv.port);
    /* plain: robots on, no reject pattern */
    const char *argv[] = {"wget",      "-r",           "-np", "-nH", "-nv", "--no-proxy",
                          "--tries=1", "--timeout=20", "-P",  dir,   url,   NULL};
    int rc = it_run(argv, 120, wlog);
    it_server_stop(&srv);
    ck_assert_int_eq(rc, 0);
    char *log = read_file(alog);
    ck_assert_msg(!strstr(log, "sort=") && !strstr(log, "order="), "wget fetched sort orders:\n%s",
                  log);
    ck_assert_uint_eq(count(log, "\"GET /tree/ HTTP/1.1\" 200"), 1);
    ck_assert_uint_eq(count(log, "\"GET /tree/a/ HTTP/1.1\" 200"), 1);
    ck_assert_uint_eq(count(log, "\"GET /tree/b/three.txt HTTP/1.1\" 200"), 1);
    /* three listings, three files, robots.txt */
    ck_assert_uint_eq(count(log, "\"GET "), 7);
    free(log);
}
END_TEST

static Suite *
listing_suite(void)
{
    Suite *s = suite_create("it_listing");
    TCase *tc = tcase_create("listing");
    tcase_set_timeout(tc, 300);
    tcase_add_unchecked_fixture(tc, tree_up, it_suite_tree_down);
    tcase_add_test(tc, t_cached_reads_no_directory);
    tcase_add_test(tc, t_changes_seen_at_once);
    tcase_add_test(tc, t_truncated);
    tcase_add_test(tc, t_cache_off);
    tcase_add_test(tc, t_head_and_keepalive);
    tcase_add_test(tc, t_link_policies);
    tcase_add_test(tc, t_wget_plain);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return it_main(listing_suite());
}
