/*
 * it_vhost.c - virtual hosts and per-site settings, end to end: sites
 * chosen by Host (exact, wildcard, case, port, IP literals), the default
 * site for unknown or missing hosts, absolute-form targets, strict_hosts
 * (421), add_header on 200/206/304/404, per-site mime_types, JSON access
 * lines checked by python3's json module, per-site access logs, and the
 * combined log read by goaccess.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static char g_base[PATH_MAX];
static struct it_server srv;

/* Three sites: a (own log, headers, a MIME override), b (wildcard and IP
 * literals), c (the default). */
static void
write_tree(void)
{
    char p[PATH_MAX];
    static const char *const files[][2] = {
        {"www-a/index.html", "site A\n"}, {"www-a/a.txt", "file of A\n"},
        {"www-a/notes.md", "# A\n"},      {"www-b/index.html", "site B\n"},
        {"www-b/notes.md", "# B\n"},      {"www-c/index.html", "site C\n"},
        {"www-c/only-c.txt", "only C\n"},
    };
    it_tmpdir(g_base, sizeof(g_base));
    static const char *const dirs[] = {"www-a", "www-b", "www-c"};
    for (size_t i = 0; i < 3; i++) {
        it_join(p, sizeof(p), g_base, dirs[i]);
        it_mkdir(p);
    }
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        it_join(p, sizeof(p), g_base, files[i][0]);
        it_write_str(p, files[i][1]);
    }
}

static void
start_with(const char *server_extra)
{
    char conf[PATH_MAX], text[8192];
    write_tree();
    it_join(conf, sizeof(conf), g_base, "vhost.conf");
    snprintf(text, sizeof(text),
             "[server]\nlisten = 127.0.0.1:0\naccess_log = server.log\n%s%s\n"
             "[site a]\nroot = www-a\nserver_names = a.test www.a.test\n"
             "add_header = X-Frame-Options: DENY\n"
             "add_header = Access-Control-Allow-Origin: *\n"
             "mime_types = md text/x-site-a\n"
             "access_log = a.log\n\n"
             "[site b]\nroot = www-b\nserver_names = *.b.test [::1] 127.0.0.2\n\n"
             "[site c]\nroot = www-c\ndefault = on\n",
             getuid() == 0 ? "user = root\n" : "", server_extra);
    it_write_str(conf, text);
    it_server_start_conf(&srv, conf);
}

static void
setup(void)
{
    start_with("access_log_format = json");
}

static void
setup_strict(void)
{
    start_with("strict_hosts = on");
}

static void
setup_combined(void)
{
    start_with("access_log_format = combined");
}

static void
teardown(void)
{
    if (srv.pid > 0)
        it_server_stop(&srv);
    it_rmtree(g_base);
}

/* GET path with this Host (none when host is NULL) over HTTP/1.1. */
static void
get_host(const char *host, const char *path, struct it_response *r)
{
    char raw[1024];
    snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\n%s%s%sConnection: close\r\n\r\n", path,
             host ? "Host: " : "", host ? host : "", host ? "\r\n" : "");
    ck_assert_msg(it_request(srv.port, raw, r) == IT_OK, "no response for %s %s", host, path);
}

/* The index page of whichever site answers for host. */
static char
site_for(const char *host)
{
    struct it_response r;
    get_host(host, "/", &r);
    ck_assert_msg(r.status == 200, "Host %s: status %d", host, r.status);
    ck_assert_msg(strncmp(r.body, "site ", 5) == 0, "Host %s: body %s", host, r.body);
    char site = r.body[5];
    it_response_free(&r);
    return site;
}

START_TEST(t_exact_and_case)
{
    ck_assert_int_eq(site_for("a.test"), 'A');
    ck_assert_int_eq(site_for("www.a.test"), 'A');
    ck_assert_int_eq(site_for("A.TEST"), 'A');
    ck_assert_int_eq(site_for("Www.A.Test:8080"), 'A');
    ck_assert_int_eq(site_for("a.test."), 'A');
}
END_TEST

START_TEST(t_wildcard)
{
    ck_assert_int_eq(site_for("x.b.test"), 'B');
    ck_assert_int_eq(site_for("X.Y.B.TEST:443"), 'B');
    /* the bare domain is not a subdomain: the default site */
    ck_assert_int_eq(site_for("b.test"), 'C');
    ck_assert_int_eq(site_for("xb.test"), 'C');
}
END_TEST

START_TEST(t_ip_literals)
{
    ck_assert_int_eq(site_for("[::1]"), 'B');
    ck_assert_int_eq(site_for("[::1]:8080"), 'B');
    ck_assert_int_eq(site_for("127.0.0.2:80"), 'B');
    ck_assert_int_eq(site_for("127.0.0.1"), 'C');
}
END_TEST

START_TEST(t_unknown_gets_default)
{
    ck_assert_int_eq(site_for("nope.test"), 'C');
    ck_assert_int_eq(site_for("a.test.evil"), 'C');
    /* HTTP/1.0 may leave Host out */
    struct it_response r;
    ck_assert_int_eq(it_request(srv.port, "GET / HTTP/1.0\r\n\r\n", &r), IT_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "site C\n");
    it_response_free(&r);
}
END_TEST

START_TEST(t_absolute_form)
{
    struct it_response r;
    /* the authority of the target wins over the Host header */
    ck_assert_int_eq(it_request(srv.port,
                                "GET http://a.test/a.txt HTTP/1.1\r\nHost: nope.test\r\n"
                                "Connection: close\r\n\r\n",
                                &r),
                     IT_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "file of A\n");
    it_response_free(&r);
    ck_assert_int_eq(it_request(srv.port,
                                "GET HTTP://Deep.B.Test:8080/ HTTP/1.1\r\nHost: a.test\r\n"
                                "Connection: close\r\n\r\n",
                                &r),
                     IT_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "site B\n");
    it_response_free(&r);
    /* a file only the default site has, asked of site a: 404 */
    ck_assert_int_eq(it_request(srv.port,
                                "GET http://a.test/only-c.txt HTTP/1.1\r\nHost: c.test\r\n"
                                "Connection: close\r\n\r\n",
                                &r),
                     IT_OK);
    ck_assert_int_eq(r.status, 404);
    it_response_free(&r);
}
END_TEST

static void
assert_site_headers(const struct it_response *r, bool present)
{
    if (!present) {
        ck_assert_ptr_null(it_header(r, "X-Frame-Options"));
        ck_assert_ptr_null(it_header(r, "Access-Control-Allow-Origin"));
        return;
    }
    ck_assert_msg(it_header(r, "X-Frame-Options"), "status %d: no X-Frame-Options:\n%s", r->status,
                  r->head);
    ck_assert_str_eq(it_header(r, "X-Frame-Options"), "DENY");
    ck_assert_uint_eq(it_header_count(r, "X-Frame-Options"), 1);
    ck_assert_str_eq(it_header(r, "Access-Control-Allow-Origin"), "*");
}

START_TEST(t_add_header)
{
    struct it_response r;
    char raw[512];
    get_host("a.test", "/a.txt", &r);
    ck_assert_int_eq(r.status, 200);
    assert_site_headers(&r, true);
    ck_assert_str_eq(r.body, "file of A\n");
    const char *etag = it_header(&r, "ETag");
    ck_assert_ptr_nonnull(etag);
    snprintf(
        raw, sizeof(raw),
        "GET /a.txt HTTP/1.1\r\nHost: a.test\r\nIf-None-Match: %s\r\nConnection: close\r\n\r\n",
        etag);
    it_response_free(&r);
    ck_assert_int_eq(it_request(srv.port, raw, &r), IT_OK);
    ck_assert_int_eq(r.status, 304);
    assert_site_headers(&r, true);
    it_response_free(&r);

    get_host("a.test", "/missing", &r);
    ck_assert_int_eq(r.status, 404);
    assert_site_headers(&r, true);
    it_response_free(&r);

    ck_assert_int_eq(it_request(srv.port,
                                "GET /a.txt HTTP/1.1\r\nHost: a.test\r\nRange: bytes=0-3\r\n"
                                "Connection: close\r\n\r\n",
                                &r),
                     IT_OK);
    ck_assert_int_eq(r.status, 206);
    assert_site_headers(&r, true);
    ck_assert_str_eq(r.body, "file");
    it_response_free(&r);

    ck_assert_int_eq(it_request(srv.port, "HEAD / HTTP/1.1\r\nHost: a.test\r\n\r\n", &r), IT_OK);
    ck_assert_int_eq(r.status, 200);
    assert_site_headers(&r, true);
    it_response_free(&r);

    /* other sites do not get them */
    get_host("x.b.test", "/", &r);
    ck_assert_int_eq(r.status, 200);
    assert_site_headers(&r, false);
    it_response_free(&r);
    get_host("nope.test", "/missing", &r);
    ck_assert_int_eq(r.status, 404);
    assert_site_headers(&r, false);
    it_response_free(&r);
}
END_TEST

START_TEST(t_mime_override)
{
    struct it_response r;
    get_host("a.test", "/notes.md", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(it_header(&r, "Content-Type"), "text/x-site-a; charset=utf-8");
    it_response_free(&r);
    /* the same extension on another site keeps the shared table's type */
    get_host("x.b.test", "/notes.md", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(it_header(&r, "Content-Type"), "text/markdown; charset=utf-8");
    it_response_free(&r);
    /* and site a's other types are the usual ones */
    get_host("a.test", "/a.txt", &r);
    ck_assert_str_eq(it_header(&r, "Content-Type"), "text/plain; charset=utf-8");
    it_response_free(&r);
}
END_TEST

/* ---- access logs ------------------------------------------------------------- */

static size_t
count_lines(const char *name)
{
    char p[PATH_MAX];
    it_join(p, sizeof(p), g_base, name);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    size_t n = 0;
    int ch;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

/* Wait (at most 5 s) for the periodic flush to bring n lines to name. */
static void
wait_lines(const char *name, size_t n)
{
    int64_t end = it_now_ms() + 5000;
    while (count_lines(name) < n && it_now_ms() < end)
        it_sleep_ms(50);
    ck_assert_msg(count_lines(name) == n, "%s: want %zu lines, have %zu", name, n,
                  count_lines(name));
}

/*
 * Parse a JSON-lines log with python3's json module and print one summary
 * per line: the fields as a JSON array (ASCII only), or "BAD ..." when a
 * line is not JSON or a field is missing or of the wrong type.
 */
static const char py_check[] =
    "import json, re, sys\n"
    "for line in open(sys.argv[1], 'rb'):\n"
    "    try:\n"
    "        d = json.loads(line.decode('utf-8'))\n"
    "    except Exception as e:\n"
    "        print('BAD', repr(e), repr(line)); continue\n"
    "    ok = re.fullmatch(r'\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z', d['time'])\n"
    "    ints = all(type(d[k]) is int and d[k] >= 0 for k in\n"
    "               ('status', 'bytes_sent', 'body_length', 'duration_ms'))\n"
    "    if not ok or not ints or type(d['completed']) is not bool:\n"
    "        print('BAD fields', repr(line)); continue\n"
    "    print(json.dumps([d['host'], d['method'], d['target'], d['protocol'], d['status'],\n"
    "                      d['bytes_sent'], d['body_length'], d['completed'], d['referer'],\n"
    "                      d['user_agent'], d['client']]))\n";

/* Run py_check on the log; its output (malloc'd, NUL-terminated). */
static char *
py_summary(const char *name)
{
    char script[PATH_MAX], log[PATH_MAX], cmd[3 * PATH_MAX];
    it_join(script, sizeof(script), g_base, "check.py");
    it_write_str(script, py_check);
    it_join(log, sizeof(log), g_base, name);
    snprintf(cmd, sizeof(cmd), "timeout 30 python3 '%s' '%s'", script, log);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    size_t n;
    while ((n = fread(out + len, 1, cap - 1 - len, p)) > 0)
        len += n;
    out[len] = '\0';
    ck_assert_int_eq(pclose(p), 0);
    ck_assert_msg(!strstr(out, "BAD"), "python3 rejected the log:\n%s", out);
    return out;
}

static void
assert_has(const char *hay, const char *needle)
{
    ck_assert_msg(strstr(hay, needle), "want\n  %s\nin\n%s", needle, hay);
}

START_TEST(t_json_log)
{
    struct it_response r;
    /* hostile bytes llhttp lets through in a header value: quotes,
     * backslashes, a tab, invalid and valid UTF-8 */
    ck_assert_int_eq(it_request(srv.port,
                                "GET /index.html?q=%22%5C HTTP/1.1\r\nHost: nope.test\r\n"
                                "User-Agent: q\"uo\te\\d \xff\xc3\xa9 \xe2\x82\xac\r\n"
                                "Referer: http://ref.test/x\r\nConnection: close\r\n\r\n",
                                &r),
                     IT_OK);
    ck_assert_int_eq(r.status, 200);
    it_response_free(&r);
    get_host("x.b.test", "/missing", &r);
    ck_assert_int_eq(r.status, 404);
    uint64_t len404 = r.body_len;
    it_response_free(&r);
    ck_assert_int_eq(it_request(srv.port, "HEAD / HTTP/1.0\r\n\r\n", &r), IT_OK);
    it_response_free(&r);

    /* a download cut short by the client: not completed */
    char big[PATH_MAX];
    it_join(big, sizeof(big), g_base, "www-c/big.bin");
    it_write_pattern(big, 64u << 20, 7);
    struct it_conn c;
    it_conn_open_opts(&c, srv.port, 4096, 0);
    it_conn_send_str(&c, "GET /big.bin HTTP/1.1\r\nHost: c.test\r\n\r\n");
    ck_assert_int_eq(it_read_head(&c, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 200);
    it_response_free(&r);
    it_conn_abort(&c);

    wait_lines("server.log", 4);
    char *s = py_summary("server.log");
    assert_has(s, "[\"nope.test\", \"GET\", \"/index.html?q=%22%5C\", \"HTTP/1.1\", 200, 7, 7, "
                  "true, \"http://ref.test/x\", \"q\\\"uo\\te\\\\d \\ufffd\\u00e9 \\u20ac\", "
                  "\"127.0.0.1\"]");
    char want[512];
    snprintf(want, sizeof(want),
             "[\"x.b.test\", \"GET\", \"/missing\", \"HTTP/1.1\", 404, %llu, %llu, true, null, "
             "null, \"127.0.0.1\"]",
             (unsigned long long)len404, (unsigned long long)len404);
    assert_has(s, want);
    /* HEAD: a length promised in the header, no body due, complete */
    assert_has(s, "[null, \"HEAD\", \"/\", \"HTTP/1.0\", 200, 0, 7, true, null, null, "
                  "\"127.0.0.1\"]");
    assert_has(s, "[\"c.test\", \"GET\", \"/big.bin\", \"HTTP/1.1\", 200, ");
    const char *cut = strstr(s, "\"/big.bin\"");
    unsigned long long sent = 0, promised = 0;
    char done[8] = "";
    ck_assert_int_eq(
        sscanf(cut, "\"/big.bin\", \"HTTP/1.1\", 200, %llu, %llu, %5[a-z]", &sent, &promised, done),
        3);
    ck_assert_uint_eq(promised, 64u << 20);
    ck_assert_uint_lt(sent, promised);
    ck_assert_str_eq(done, "false");
    free(s);
}
END_TEST

START_TEST(t_site_log)
{
    struct it_response r;
    static const char *const hosts[] = {"a.test", "x.b.test", "www.a.test:80", "nope.test",
                                        "A.TEST"};
    for (size_t i = 0; i < 5; i++) {
        get_host(hosts[i], "/", &r);
        ck_assert_int_eq(r.status, 200);
        it_response_free(&r);
    }
    wait_lines("a.log", 3);
    wait_lines("server.log", 2);
    char *s = py_summary("a.log");
    assert_has(s, "[\"a.test\", \"GET\", \"/\"");
    assert_has(s, "[\"www.a.test:80\", \"GET\", \"/\"");
    assert_has(s, "[\"A.TEST\", \"GET\", \"/\"");
    free(s);
    s = py_summary("server.log");
    assert_has(s, "[\"x.b.test\", \"GET\", \"/\"");
    assert_has(s, "[\"nope.test\", \"GET\", \"/\"");
    ck_assert_ptr_null(strstr(s, "a.test\""));
    free(s);
}
END_TEST

/* ---- strict_hosts ------------------------------------------------------------ */

START_TEST(t_strict_hosts)
{
    struct it_response r;
    get_host("nope.test", "/", &r);
    ck_assert_int_eq(r.status, 421);
    ck_assert_str_eq(r.reason, "Misdirected Request");
    assert_site_headers(&r, false);
    it_response_free(&r);
    get_host("b.test", "/", &r);
    ck_assert_int_eq(r.status, 421);
    it_response_free(&r);
    ck_assert_int_eq(it_request(srv.port, "GET / HTTP/1.0\r\n\r\n", &r), IT_OK);
    ck_assert_int_eq(r.status, 421);
    it_response_free(&r);
    /* named hosts still work, also on the same connection after a 421 */
    ck_assert_int_eq(site_for("a.test"), 'A');
    ck_assert_int_eq(site_for("x.b.test"), 'B');
    struct it_conn c;
    it_conn_open(&c, srv.port);
    it_conn_send_str(&c, "GET / HTTP/1.1\r\nHost: nope.test\r\n\r\n"
                         "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n");
    ck_assert_int_eq(it_read_response(&c, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 421);
    it_response_free(&r);
    ck_assert_int_eq(it_read_response(&c, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "site A\n");
    it_response_free(&r);
    it_conn_close(&c);
}
END_TEST

/* ---- goaccess reads the combined log ----------------------------------------- */

START_TEST(t_goaccess)
{
    struct it_response r;
    static const char *const reqs[][2] = {
        {"nope.test", "/"},          {"nope.test", "/missing"}, {"x.b.test", "/notes.md"},
        {"x.b.test", "/index.html"}, {NULL, "/only-c.txt"},
    };
    for (size_t i = 0; i < 5; i++) {
        get_host(reqs[i][0], reqs[i][1], &r);
        it_response_free(&r);
    }
    /* hostile bytes in the quoted fields */
    ck_assert_int_eq(it_request(srv.port,
                                "GET /?a=%22b HTTP/1.1\r\nHost: nope.test\r\n"
                                "User-Agent: x\"y\\z \xff\r\nReferer: \"r\"\r\n"
                                "Connection: close\r\n\r\n",
                                &r),
                     IT_OK);
    ck_assert_int_eq(r.status, 200);
    it_response_free(&r);
    /* stopping flushes what the last second left in the buffer */
    it_server_stop(&srv);
    ck_assert_uint_eq(count_lines("server.log"), 6);

    char log[PATH_MAX], out[PATH_MAX], report[PATH_MAX], cmd[4 * PATH_MAX];
    it_join(log, sizeof(log), g_base, "server.log");
    it_join(out, sizeof(out), g_base, "goaccess.out");
    it_join(report, sizeof(report), g_base, "report.json");
    const char *argv[] = {"goaccess", log, "--log-format=COMBINED", "--no-global-config", "-o",
                          report,     NULL};
    int rc = it_run(argv, 60, out);
    ck_assert_msg(rc == 0, "goaccess failed (%d); is it installed (scripts/deps)?", rc);
    snprintf(cmd, sizeof(cmd),
             "timeout 30 python3 -c 'import json,sys; g=json.load(open(sys.argv[1]))[\"general\"];"
             " print(g[\"total_requests\"], g[\"valid_requests\"], g[\"failed_requests\"])' '%s'",
             report);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    int total = -1, valid = -1, failed = -1;
    ck_assert_int_eq(fscanf(p, "%d %d %d", &total, &valid, &failed), 3);
    ck_assert_int_eq(pclose(p), 0);
    ck_assert_int_eq(total, 6);
    ck_assert_int_eq(valid, 6);
    ck_assert_int_eq(failed, 0);
}
END_TEST

static Suite *
vhost_suite(void)
{
    Suite *s = suite_create("vhost");
    TCase *tc = tcase_create("hosts");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, t_exact_and_case);
    tcase_add_test(tc, t_wildcard);
    tcase_add_test(tc, t_ip_literals);
    tcase_add_test(tc, t_unknown_gets_default);
    tcase_add_test(tc, t_absolute_form);
    tcase_add_test(tc, t_add_header);
    tcase_add_test(tc, t_mime_override);
    tcase_add_test(tc, t_json_log);
    tcase_add_test(tc, t_site_log);
    suite_add_tcase(s, tc);
    tc = tcase_create("strict");
    tcase_add_checked_fixture(tc, setup_strict, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, t_strict_hosts);
    suite_add_tcase(s, tc);
    tc = tcase_create("goaccess");
    tcase_add_checked_fixture(tc, setup_combined, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, t_goaccess);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return it_main(vhost_suite());
}
