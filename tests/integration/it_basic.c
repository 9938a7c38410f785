/*
 * it_basic.c - statuses and headers of ordinary requests against the real
 * binary: the 200 header set, HEAD, Content-Type by extension and for
 * sniffed HTML, Last-Modified/ETag, error pages, OPTIONS, 405/501, and the
 * Connection header.
 */
#include "harness.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define DATED_MTIME 1000000000 /* Sun, 09 Sep 2001 01:46:40 GMT */

static const char hello_html[] =
    "<!doctype html>\n<title>hello</title>\n<p>Hello from the test.</p>\n";
static const char noext_html[] =
    "<!DOCTYPE html>\n<html><head><title>sniff</title></head>\n"
    "<body><script>alert(1)</script><p>not to be run</p></body></html>\n";
static const char index_html[] = "<!doctype html><title>root</title>root index\n";

static void
tree_up(void)
{
    char p[PATH_MAX];

    it_suite_tree();
    it_put(it_suite.root, "hello.html", hello_html);
    it_put(it_suite.root, "index.html", index_html);
    it_put(it_suite.root, "noext", noext_html);
    it_put(it_suite.root, "note.txt", "just text\n");
    it_put(it_suite.root, "with space.txt", "space\n");
    it_put(it_suite.root, "caf\xc3\xa9.txt", "cafe\n");
    it_put_pattern(it_suite.root, "img.png", 3000, 11);
    it_join(p, sizeof(p), it_suite.root, "dated.txt");
    it_write_str(p, "dated\n");
    it_set_mtime(p, DATED_MTIME);
    it_join(p, sizeof(p), it_suite.root, "etag.txt");
    it_write_str(p, "version one\n");
    it_set_mtime(p, DATED_MTIME);
}

/* An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"); its time in *t. */
static bool
imf_fixdate(const char *s, time_t *t)
{
    struct tm tm;
    char again[64];
    const char *end;

    if (s == NULL || strlen(s) != 29)
        return false;
    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == NULL || *end != '\0')
        return false;
    *t = timegm(&tm);
    /* Reformatting must give the same text: catches a wrong weekday,
     * missing zero padding or a non-English month. */
    gmtime_r(t, &tm);
    strftime(again, sizeof(again), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return strcmp(again, s) == 0;
}

/* After a response on a kept-alive connection, the connection must either
 * be closed (when the server said Connection: close) or serve the next
 * request correctly; both prove the previous response's framing. */
static void
assert_next_ok(struct it_conn *c, const struct it_response *prev)
{
    struct it_response r;
    enum it_rd rc;

    if (it_header_has(prev, "Connection", "close")) {
        ck_assert_msg(it_conn_wait_closed(c, 5000, NULL),
                      "Connection: close sent but connection stays open");
        return;
    }
    it_conn_send_str(c, "GET /note.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    rc = it_read_response(c, &r, false);
    ck_assert_msg(rc == IT_OK, "next request on the connection: rc %d, head %s", (int)rc, r.head);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "just text\n");
    it_response_free(&r);
}

START_TEST(t_get_200_headers)
{
    struct it_response r;
    const char *v;
    time_t t;
    char cl[32];

    it_get(it_suite.srv.port, "/hello.html", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(r.minor, 1);
    ck_assert_str_eq(r.body, hello_html);

    v = it_header(&r, "Date");
    ck_assert_msg(imf_fixdate(v, &t), "Date not IMF-fixdate: %s", v);
    ck_assert_msg(llabs((long long)(t - time(NULL))) < 300, "Date far off: %s", v);
    v = it_header(&r, "Server");
    ck_assert_msg(v != NULL && strncmp(v, "sfhttpd", 7) == 0, "Server: %s", v);
    ck_assert_str_eq(it_header(&r, "Content-Type") ? it_header(&r, "Content-Type") : "",
                     "text/html; charset=utf-8");
    snprintf(cl, sizeof(cl), "%zu", strlen(hello_html));
    ck_assert_str_eq(it_header(&r, "Content-Length"), cl);
    v = it_header(&r, "Last-Modified");
    ck_assert_msg(imf_fixdate(v, &t), "Last-Modified not IMF-fixdate: %s", v);
    v = it_header(&r, "ETag");
    ck_assert_msg(v != NULL && strlen(v) >= 3 && v[0] == '"' && v[strlen(v) - 1] == '"' &&
                      strchr(v + 1, '"') == v + strlen(v) - 1,
                  "ETag not a strong quoted tag: %s", v);
    ck_assert_str_eq(it_header(&r, "Accept-Ranges") ? it_header(&r, "Accept-Ranges") : "", "bytes");
    ck_assert_str_eq(
        it_header(&r, "X-Content-Type-Options") ? it_header(&r, "X-Content-Type-Options") : "",
        "nosniff");
    /* One of each: a duplicated framing or identity header is a bug. */
    ck_assert_uint_eq(it_header_count(&r, "Content-Length"), 1);
    ck_assert_uint_eq(it_header_count(&r, "Content-Type"), 1);
    ck_assert_uint_eq(it_header_count(&r, "Date"), 1);
    ck_assert_uint_eq(it_header_count(&r, "ETag"), 1);
    ck_assert_ptr_null(it_header(&r, "Transfer-Encoding"));
    it_response_free(&r);
}
END_TEST

START_TEST(t_head_matches_get)
{
    struct it_conn c;
    struct it_response g, h;
    static const char *const same[] = {"Content-Type", "Content-Length", "Last-Modified",
                                       "ETag",         "Accept-Ranges",  "X-Content-Type-Options"};

    it_conn_open(&c, it_suite.srv.port);
    it_conn_send_str(&c, "GET /hello.html HTTP/1.1\r\nHost: t\r\n\r\n");
    ck_assert_int_eq(it_read_response(&c, &g, false), IT_OK);
    it_conn_send_str(&c, "HEAD /hello.html HTTP/1.1\r\nHost: t\r\n\r\n");
    ck_assert_int_eq(it_read_response(&c, &h, true), IT_OK);
    ck_assert_int_eq(h.status, 200);
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        const char *a = it_header(&g, same[i]), *b = it_header(&h, same[i]);
        ck_assert_msg(a != NULL && b != NULL && strcmp(a, b) == 0, "%s: GET '%s' HEAD '%s'",
                      same[i], a ? a : "(none)", b ? b : "(none)");
    }
    /* Any body bytes after the HEAD response would corrupt this one. */
    assert_next_ok(&c, &h);
    it_conn_close(&c);
    it_response_free(&g);
    it_response_free(&h);
}
END_TEST

START_TEST(t_content_types)
{
    static const struct {
        const char *path;
        const char *type; /* exact, or a prefix when ending in '*' */
    } cases[] = {
        {"/hello.html", "text/html; charset=utf-8"},
        {"/index.html", "text/html; charset=utf-8"},
        {"/img.png", "image/png"},
        {"/note.txt", "text/plain*"},
        {"/noext", "text/plain; charset=utf-8"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct it_response r;
        const char *v, *want = cases[i].type;
        size_t wl = strlen(want);

        it_get(it_suite.srv.port, cases[i].path, &r);
        ck_assert_int_eq(r.status, 200);
        v = it_header(&r, "Content-Type");
        ck_assert_msg(v != NULL, "%s: no Content-Type", cases[i].path);
        if (want[wl - 1] == '*')
            ck_assert_msg(strncasecmp(v, want, wl - 1) == 0, "%s: Content-Type %s", cases[i].path,
                          v);
        else
            ck_assert_msg(strcasecmp(v, want) == 0, "%s: Content-Type '%s', want '%s'",
                          cases[i].path, v, want);
        ck_assert_msg(strcasestr(v, "html") == NULL || strstr(cases[i].path, ".html"),
                      "%s: sniffed as active type %s", cases[i].path, v);
        it_response_free(&r);
    }
}
END_TEST

START_TEST(t_last_modified_and_etag)
{
    struct it_response a, b, c;
    char p[PATH_MAX], e1[256];

    it_get(it_suite.srv.port, "/dated.txt", &a);
    ck_assert_int_eq(a.status, 200);
    ck_assert_str_eq(it_header(&a, "Last-Modified") ? it_header(&a, "Last-Modified") : "",
                     "Sun, 09 Sep 2001 01:46:40 GMT");
    it_response_free(&a);

    it_get(it_suite.srv.port, "/etag.txt", &a);
    it_get(it_suite.srv.port, "/etag.txt", &b);
    ck_assert_ptr_nonnull(it_header(&a, "ETag"));
    ck_assert_ptr_nonnull(it_header(&b, "ETag"));
    ck_assert_str_eq(it_header(&a, "ETag"), it_header(&b, "ETag"));
    snprintf(e1, sizeof(e1), "%s", it_header(&a, "ETag"));

    /* A new version (other size and mtime) must get another tag. */
    it_join(p, sizeof(p), it_suite.root, "etag.txt");
    it_write_str(p, "version two, longer\n");
    it_set_mtime(p, DATED_MTIME + 3600);
    it_get(it_suite.srv.port, "/etag.txt", &c);
    ck_assert_int_eq(c.status, 200);
    ck_assert_str_eq(c.body, "version two, longer\n");
    ck_assert_ptr_nonnull(it_header(&c, "ETag"));
    ck_assert_msg(strcmp(e1, it_header(&c, "ETag")) != 0,
                  "ETag unchanged after the file changed: %s", e1);
    ck_assert_str_eq(it_header(&c, "Last-Modified"), "Sun, 09 Sep 2001 02:46:40 GMT");
    it_response_free(&a);
    it_response_free(&b);
    it_response_free(&c);
}
END_TEST

/* A status, its HTML error body and the framing around it. */
static void
assert_error_page(struct it_conn *c, const char *req, int status)
{
    struct it_response r;
    const char *ct;
    enum it_rd rc;
    char code[8];

    it_conn_send_str(c, req);
    rc = it_read_response(c, &r, false);
    ck_assert_msg(rc == IT_OK, "%s: rc %d", req, (int)rc);
    ck_assert_msg(r.status == status, "%s: status %d, want %d", req, r.status, status);
    ct = it_header(&r, "Content-Type");
    ck_assert_msg(ct != NULL && strncasecmp(ct, "text/html", 9) == 0, "%s: error Content-Type %s",
                  req, ct ? ct : "(none)");
    ck_assert_msg(r.content_length > 0 && r.content_length < 4096, "%s: error body length %lld",
                  req, (long long)r.content_length);
    snprintf(code, sizeof(code), "%d", status);
    ck_assert_msg(strstr(r.body, code) != NULL, "%s: body lacks %s: %s", req, code, r.body);
    ck_assert_msg(strcasestr(r.body, "<html") || strcasestr(r.body, "<!doctype"),
                  "%s: body is not HTML: %s", req, r.body);
    ck_assert_str_eq(
        it_header(&r, "X-Content-Type-Options") ? it_header(&r, "X-Content-Type-Options") : "",
        "nosniff");
    ck_assert_ptr_nonnull(it_header(&r, "Date"));
    ck_assert_ptr_nonnull(it_header(&r, "Server"));
    assert_next_ok(c, &r);
    it_response_free(&r);
}

START_TEST(t_not_found)
{
    struct it_conn c;

    it_conn_open(&c, it_suite.srv.port);
    assert_error_page(&c, "GET /missing.html HTTP/1.1\r\nHost: t\r\n\r\n", 404);
    it_conn_close(&c);
    it_conn_open(&c, it_suite.srv.port);
    assert_error_page(&c, "GET /no/such/dir/file HTTP/1.1\r\nHost: t\r\n\r\n", 404);
    it_conn_close(&c);
    it_conn_open(&c, it_suite.srv.port);
    assert_error_page(&c, "GET /hello.html/extra HTTP/1.1\r\nHost: t\r\n\r\n", 404);
    it_conn_close(&c);
}
END_TEST

START_TEST(t_head_404_has_no_body)
{
    struct it_conn c;
    struct it_response r;

    it_conn_open(&c, it_suite.srv.port);
    it_conn_send_str(&c, "HEAD /missing HTTP/1.1\r\nHost: t\r\n\r\n");
    ck_assert_int_eq(it_read_response(&c, &r, true), IT_OK);
    ck_assert_int_eq(r.status, 404);
    assert_next_ok(&c, &r);
    it_response_free(&r);
    it_conn_close(&c);
}
END_TEST

START_TEST(t_options)
{
    static const char *const reqs[] = {
        "OPTIONS /hello.html HTTP/1.1\r\nHost: t\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n",
    };

    for (size_t i = 0; i < 2; i++) {
        struct it_conn c;
        struct it_response r;

        it_conn_open(&c, it_suite.srv.port);
        it_conn_send_str(&c, reqs[i]);
        ck_assert_int_eq(it_read_response(&c, &r, false), IT_OK);
        ck_assert_msg(r.status == 204, "%s -> %d", reqs[i], r.status);
        ck_assert_str_eq(it_header(&r, "Allow") ? it_header(&r, "Allow") : "",
                         "GET, HEAD, OPTIONS");
        /* RFC 9110 8.6: no Content-Length in a 204. */
        ck_assert_msg(it_header(&r, "Content-Length") == NULL, "204 carries Content-Length: %s",
                      it_header(&r, "Content-Length"));
        ck_assert_ptr_nonnull(it_header(&r, "Date"));
        assert_next_ok(&c, &r);
        it_response_free(&r);
        it_conn_close(&c);
    }
}
END_TEST

static const char *const not_allowed[] = {"POST", "PUT", "DELETE", "PATCH"};

START_TEST(t_method_not_allowed)
{
    struct it_conn c;
    struct it_response r;
    char req[256];
    const char *allow;

    snprintf(req, sizeof(req), "%s /hello.html HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n",
             not_allowed[_i]);
    it_conn_open(&c, it_suite.srv.port);
    it_conn_send_str(&c, req);
    ck_assert_int_eq(it_read_response(&c, &r, false), IT_OK);
    ck_assert_msg(r.status == 405, "%s -> %d", not_allowed[_i], r.status);
    allow = it_header(&r, "Allow");
    ck_assert_msg(allow != NULL && strstr(allow, "GET") && strstr(allow, "HEAD"), "%s: Allow %s",
                  not_allowed[_i], allow ? allow : "(none)");
    ck_assert_msg(strstr(allow, not_allowed[_i]) == NULL, "Allow lists %s", not_allowed[_i]);
    ck_assert_msg(r.content_length > 0, "405 without an HTML body");
    assert_next_ok(&c, &r);
    it_response_free(&r);
    it_conn_close(&c);
    /* The file is still there and unchanged. */
    it_get(it_suite.srv.port, "/hello.html", &r);
    ck_assert_str_eq(r.body, hello_html);
    it_response_free(&r);
}
END_TEST

START_TEST(t_unknown_methods)
{
    static const struct {
        const char *method;
        int a, b; /* accepted statuses */
    } cases[] = {
        {"BREW", 501, 400},
        {"PROPFIND", 405, 501},
        {"TRACE", 405, 501},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct it_response r;
        char req[256];
        enum it_rd rc;

        snprintf(req, sizeof(req), "%s /hello.html HTTP/1.1\r\nHost: t\r\n\r\n", cases[i].method);
        rc = it_request(it_suite.srv.port, req, &r);
        ck_assert_msg(rc == IT_OK, "%s: rc %d", cases[i].method, (int)rc);
        ck_assert_msg(r.status == cases[i].a || r.status == cases[i].b, "%s -> %d, want %d or %d",
                      cases[i].method, r.status, cases[i].a, cases[i].b);
        ck_assert_msg(strstr(r.body, "Hello") == NULL, "%s served the file", cases[i].method);
        it_response_free(&r);
    }
}
END_TEST

START_TEST(t_connection_close)
{
    struct it_conn c;
    struct it_response r;

    it_conn_open(&c, it_suite.srv.port);
    it_conn_send_str(&c, "GET /note.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    ck_assert_int_eq(it_read_response(&c, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(it_header_has(&r, "Connection", "close"), "no Connection: close in the response");
    ck_assert_msg(it_conn_wait_closed(&c, 5000, NULL), "server kept the connection");
    it_response_free(&r);
    it_conn_close(&c);
}
END_TEST

START_TEST(t_keepalive_default)
{
    struct it_conn c;
    struct it_response r;

    it_conn_open(&c, it_suite.srv.port);
    for (int i = 0; i < 5; i++) {
        it_conn_send_str(&c, "GET /hello.html HTTP/1.1\r\nHost: t\r\n\r\n");
        ck_assert_int_eq(it_read_response(&c, &r, false), IT_OK);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.body, hello_html);
        ck_assert_msg(!it_header_has(&r, "Connection", "close"),
                      "HTTP/1.1 request %d answered with Connection: close", i);
        it_response_free(&r);
    }
    it_conn_close(&c);
}
END_TEST

START_TEST(t_paths_decoded)
{
    static const struct {
        const char *path;
        const char *body;
    } cases[] = {
        {"/note.txt?x=1&y=2", "just text\n"},
        {"/with%20space.txt", "space\n"},
        {"/caf%C3%A9.txt", "cafe\n"},
        {"/caf%c3%a9.txt", "cafe\n"},
        {"/%6eote.txt", "just text\n"},
        {"/./note.txt", "just text\n"},
        {"/x/../note.txt", "just text\n"},
        {"/", index_html},
        {"/?q=1", index_html},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct it_response r;

        it_get(it_suite.srv.port, cases[i].path, &r);
        ck_assert_msg(r.status == 200, "%s -> %d", cases[i].path, r.status);
        ck_assert_str_eq(r.body, cases[i].body);
        it_response_free(&r);
    }
}
END_TEST

START_TEST(t_bad_percent_encoding)
{
    static const char *const paths[] = {"/%zz", "/note%2.txt", "/note.txt%", "/%g0"};

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct it_response r;

        it_get(it_suite.srv.port, paths[i], &r);
        ck_assert_msg(r.status == 400, "%s -> %d, want 400", paths[i], r.status);
        it_response_free(&r);
    }
}
END_TEST

/* -w N is accepted (one process until workers exist) and serves. */
START_TEST(t_workers_flag)
{
    struct it_server s;
    struct it_response r;
    const char *argv[] = {"-w",           "2",   "-l",          "127.0.0.1:0",
                          "--access-log", "off", it_suite.root, NULL};

    it_server_start(&s, argv);
    for (int i = 0; i < 4; i++) {
        it_get(s.port, "/hello.html", &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.body, hello_html);
        it_response_free(&r);
    }
    it_server_stop(&s);
}
END_TEST

/* -t checks a config: 0 when good; 1 naming file:line when not. */
START_TEST(t_config_check)
{
    char good[PATH_MAX], bad[PATH_MAX], out[PATH_MAX], text[2 * PATH_MAX], want[PATH_MAX + 8];
    char msg[4096] = "";
    FILE *f;
    size_t n;

    it_join(good, sizeof(good), it_suite.base, "good.conf");
    it_join(bad, sizeof(bad), it_suite.base, "bad.conf");
    it_join(out, sizeof(out), it_suite.base, "check.out");
    /* as root, a start needs a user that can reach the root (and the
     * temporary folder is the test's own): -t checks that too */
    snprintf(text, sizeof(text), "[server]\nlisten = 127.0.0.1:0\n%s\n[site]\nroot = %s\n",
             getuid() == 0 ? "user = root\n" : "", it_suite.root);
    it_write_str(good, text);
    snprintf(text, sizeof(text),
             "[server]\nlisten = 127.0.0.1:0\nno_such_key = 1\n\n[site]\nroot = %s\n",
             it_suite.root);
    it_write_str(bad, text);
    {
        const char *argv[] = {SFHTTPD_BIN, "-t", "-c", good, NULL};
        ck_assert_int_eq(it_run(argv, 30, out), 0);
    }
    {
        const char *argv[] = {SFHTTPD_BIN, "-t", "-c", bad, NULL};
        ck_assert_int_eq(it_run(argv, 30, out), 1);
    }
    f = fopen(out, "r");
    ck_assert_ptr_nonnull(f);
    n = fread(msg, 1, sizeof(msg) - 1, f);
    msg[n] = '\0';
    fclose(f);
    snprintf(want, sizeof(want), "%s:3", bad);
    ck_assert_msg(strstr(msg, want) != NULL || strstr(msg, "bad.conf:3") != NULL,
                  "-t output does not name %s: %s", want, msg);
}
END_TEST

static Suite *
basic_suite(void)
{
    Suite *s = suite_create("it_basic");
    TCase *tc = tcase_create("basic");
    TCase *tw = tcase_create("flags");

    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, tree_up, it_suite_tree_down);
    tcase_add_checked_fixture(tc, it_suite_srv_up, it_suite_srv_down);
    tcase_add_test(tc, t_get_200_headers);
    tcase_add_test(tc, t_head_matches_get);
    tcase_add_test(tc, t_content_types);
    tcase_add_test(tc, t_last_modified_and_etag);
    tcase_add_test(tc, t_not_found);
    tcase_add_test(tc, t_head_404_has_no_body);
    tcase_add_test(tc, t_options);
    tcase_add_loop_test(tc, t_method_not_allowed, 0,
                        (int)(sizeof(not_allowed) / sizeof(not_allowed[0])));
    tcase_add_test(tc, t_unknown_methods);
    tcase_add_test(tc, t_connection_close);
    tcase_add_test(tc, t_keepalive_default);
    tcase_add_test(tc, t_paths_decoded);
    tcase_add_test(tc, t_bad_percent_encoding);
    suite_add_tcase(s, tc);

    tcase_set_timeout(tw, 120);
    tcase_add_unchecked_fixture(tw, tree_up, it_suite_tree_down);
    tcase_add_test(tw, t_workers_flag);
    tcase_add_test(tw, t_config_check);
    suite_add_tcase(s, tw);
    return s;
}

int
main(void)
{
    return it_main(basic_suite());
}
