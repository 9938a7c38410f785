/*
 * it_siteconf.c - per-site settings from a config file, end to end:
 * custom error pages (error_page) and cache headers (cache_control and
 * expires, for the site, a path prefix and an extension), also on 304.
 */
#include <check.h>
#include <unistd.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static char g_base[PATH_MAX];
static struct it_server srv;

static void
setup(void)
{
    char root[PATH_MAX], p[PATH_MAX], conf[PATH_MAX], text[4 * PATH_MAX];

    it_tmpdir(g_base, sizeof(g_base));
    it_join(root, sizeof(root), g_base, "www");
    it_mkdir(root);
    it_join(p, sizeof(p), root, "assets");
    it_mkdir(p);
    it_join(p, sizeof(p), root, "errors");
    it_mkdir(p);
    it_put(root, "a.txt", "plain\n");
    it_put(root, "style.css", "body{}\n");
    it_put(root, "assets/app.js", "1;\n");
    it_put(root, "assets/app.css", "p{}\n");
    it_put(root, "errors/404.html", "<h1>not here</h1>\n");
    it_join(conf, sizeof(conf), g_base, "site.conf");
    snprintf(text, sizeof(text),
             "[server]\nlisten = 127.0.0.1:0\naccess_log = off\n%s\n"
             "[site]\nroot = %s\n"
             "cache_control = public, max-age=60\n"
             "cache_control /assets/ = public, max-age=31536000, immutable\n"
             "expires *.css = 7d\n"
             "error_page = 404 410 /errors/404.html\n"
             "error_page = 403 /errors/missing.html\n",
             getuid() == 0 ? "user = root\n" : "", root);
    it_write_str(conf, text);
    it_server_start_conf(&srv, conf);
}

static void
teardown(void)
{
    it_server_stop(&srv);
    it_rmtree(g_base);
}

/* Seconds from now that an Expires header names (within a minute's
 * tolerance of the date formatting and the test's own pace). */
static long long
expires_in(const struct it_response *r)
{
    const char *e = it_header(r, "Expires");
    ck_assert_ptr_nonnull(e);
    struct tm tm = {0};
    char mon[4];
    static const char *const months = "JanFebMarAprMayJunJulAugSepOctNovDec";
    ck_assert_int_eq(sscanf(e, "%*3s, %d %3s %d %d:%d:%d GMT", &tm.tm_mday, mon, &tm.tm_year,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec),
                     6);
    const char *m = strstr(months, mon);
    ck_assert_ptr_nonnull(m);
    tm.tm_mon = (int)(m - months) / 3;
    tm.tm_year -= 1900;
    return (long long)(timegm(&tm) - time(NULL));
}

START_TEST(t_site_cache_control)
{
    struct it_response r;
    it_get(srv.port, "/a.txt", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(it_header(&r, "Cache-Control"), "public, max-age=60");
    ck_assert_ptr_null(it_header(&r, "Expires"));
    it_response_free(&r);
}
END_TEST

START_TEST(t_prefix_rule_wins)
{
    struct it_response r;
    it_get(srv.port, "/assets/app.js", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(it_header(&r, "Cache-Control"), "public, max-age=31536000, immutable");
    it_response_free(&r);
    /* the prefix rule sets Cache-Control, the extension rule Expires */
    it_get(srv.port, "/assets/app.css", &r);
    ck_assert_str_eq(it_header(&r, "Cache-Control"), "public, max-age=31536000, immutable");
    long long s = expires_in(&r);
    ck_assert_msg(s > 7 * 86400 - 60 && s <= 7 * 86400 + 1, "Expires %lld s ahead", s);
    it_response_free(&r);
}
END_TEST

START_TEST(t_extension_expires)
{
    struct it_response r;
    it_get(srv.port, "/style.css", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(it_header(&r, "Cache-Control"), "public, max-age=60");
    long long s = expires_in(&r);
    ck_assert_msg(s > 7 * 86400 - 60 && s <= 7 * 86400 + 1, "Expires %lld s ahead", s);
    it_response_free(&r);
}
END_TEST

START_TEST(t_304_keeps_cache_headers)
{
    struct it_response r;
    char raw[512];
    it_get(srv.port, "/style.css", &r);
    const char *etag = it_header(&r, "ETag");
    ck_assert_ptr_nonnull(etag);
    snprintf(raw, sizeof(raw), "GET /style.css HTTP/1.1\r\nHost: t\r\nIf-None-Match: %s\r\n\r\n",
             etag);
    it_response_free(&r);
    ck_assert_int_eq(it_request(srv.port, raw, &r), IT_OK);
    ck_assert_int_eq(r.status, 304);
    ck_assert_str_eq(it_header(&r, "Cache-Control"), "public, max-age=60");
    ck_assert_ptr_nonnull(it_header(&r, "Expires"));
    ck_assert_ptr_nonnull(it_header(&r, "ETag"));
    it_response_free(&r);
}
END_TEST

START_TEST(t_custom_404)
{
    struct it_response r;
    it_get(srv.port, "/nope.html", &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(r.body, "<h1>not here</h1>\n");
    ck_assert_str_eq(it_header(&r, "Content-Type"), "text/html; charset=utf-8");
    ck_assert_str_eq(it_header(&r, "Content-Length"), "18");
    it_response_free(&r);
    /* HEAD gets the status and length, no body */
    ck_assert_int_eq(it_request(srv.port, "HEAD /nope HTTP/1.1\r\nHost: t\r\n\r\n", &r), IT_OK);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(it_header(&r, "Content-Length"), "18");
    ck_assert_uint_eq(r.body_len, 0);
    it_response_free(&r);
}
END_TEST

START_TEST(t_missing_error_page_falls_back)
{
    struct it_response r;
    /* a folder with no index and listing off: 403, whose page is missing */
    it_get(srv.port, "/errors/", &r);
    ck_assert_int_eq(r.status, 403);
    ck_assert_ptr_nonnull(strstr(r.body, "403 Forbidden"));
    it_response_free(&r);
}
END_TEST

static Suite *
siteconf_suite(void)
{
    Suite *s = suite_create("siteconf");
    TCase *tc = tcase_create("siteconf");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, t_site_cache_control);
    tcase_add_test(tc, t_prefix_rule_wins);
    tcase_add_test(tc, t_extension_expires);
    tcase_add_test(tc, t_304_keeps_cache_headers);
    tcase_add_test(tc, t_custom_404);
    tcase_add_test(tc, t_missing_error_page_falls_back);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return it_main(siteconf_suite());
}
