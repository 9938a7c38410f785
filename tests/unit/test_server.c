/*
 * test_server.c - unit tests for server: sf_server_open over a config of
 * three sites (in a mkdtemp directory), then sf_server_dispatch as a
 * table of raw requests against the site that answers, the status and a
 * header line of the response (site by Host, by an absolute URL's
 * authority, wildcards, strict_hosts' 421, a site's own MIME table,
 * keep-alive), the health path (before any site, from memory, 503 while
 * draining), the parse-error path, a head too large (500, logged), and
 * the added / gone reports reaching the owner.
 */
#include "sfhttpd/server.h"

#include "sfhttpd/common.h"
#include "sfhttpd/config.h"
#include "sfhttpd/request.h"
#include "sfhttpd/response.h"

#include <check.h>
#include <event2/event.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit_util.h"

static char base[256], logpath[PATH_MAX];
static struct sf_config cfg;
static struct sf_server srv;

/* The owner's side of the bookkeeping. */
static struct sf_server_conn *added_last, *gone_last;
static int added_n, gone_n;

static void
on_added(void *owner, struct sf_server_conn *sc)
{
    ck_assert_ptr_eq(owner, &srv);
    added_last = sc;
    added_n++;
}

static void
on_gone(void *owner, struct sf_server_conn *sc)
{
    ck_assert_ptr_eq(owner, &srv);
    gone_last = sc;
    gone_n++;
}

static void
put(const char *rel, const char *content)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", base, rel);
    FILE *f = fopen(path, "we");
    ck_assert_msg(f != NULL, "%s", path);
    fputs(content, f);
    fclose(f);
}

static void
setup(void)
{
    unit_tmpdir(base, sizeof(base), "sf_server");
    const char *dirs[] = {"a", "b", "c"};
    for (size_t i = 0; i < 3; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s", base, dirs[i]);
        ck_assert_int_eq(mkdir(p, 0755), 0);
    }
    put("a/f.txt", "site a\n");
    put("a/notes.md", "# a\n");
    put("b/f.txt", "site b\n");
    put("b/notes.md", "# b\n");
    put("c/f.txt", "site c\n");
    put("a/healthz", "FILE\n"); /* never what the health path answers */
    snprintf(logpath, sizeof(logpath), "%s/error.log", base);
    char conf[PATH_MAX], text[4 * PATH_MAX + 512];
    snprintf(conf, sizeof(conf), "%s/t.conf", base);
    snprintf(text, sizeof(text),
             "[server]\nstrict_hosts = on\naccess_log = off\nerror_log = %s\nlog_level = debug\n"
             "health_path = /healthz\n"
             "[site a]\nroot = %s/a\nserver_names = a.test\n"
             "[site b]\nroot = %s/b\nserver_names = b.test *.b.test\n"
             "mime_types = md text/x-test-markdown\n"
             "[site c]\nroot = %s/c\nserver_names = c.test\n",
             logpath, base, base, base);
    put("t.conf", text);

    sf_config_defaults(&cfg);
    ck_assert_int_eq(sf_config_load(&cfg, conf, stderr), 0);
    ck_assert_uint_eq(cfg.nsites, 3);
    /* site c: more header lines than a response head holds */
    char line[200];
    memset(line, 'x', sizeof(line));
    for (size_t i = 0; i < 30 && cfg.sites[2].nadd_headers < SF_CONFIG_MAX_ADD_HEADERS; i++) {
        int n = snprintf(line, sizeof(line), "X-Filler-%02zu: ", i);
        memset(line + n, 'v', 160);
        line[n + 160] = '\0';
        cfg.sites[2].add_headers[cfg.sites[2].nadd_headers++] = strdup(line);
    }

    memset(&srv, 0, sizeof(srv));
    srv.cfg = &cfg;
    srv.base = event_base_new();
    ck_assert_ptr_nonnull(srv.base);
    ck_assert_int_eq(event_base_priority_init(srv.base, 2), 0);
    ck_assert_int_eq(sf_log_open(&srv.log, &cfg), 0);
    srv.conn_added = on_added;
    srv.conn_gone = on_gone;
    srv.owner = &srv;
    added_n = gone_n = 0;
    added_last = gone_last = NULL;
    ck_assert_int_eq(sf_server_open(&srv), 0);
    ck_assert_ptr_nonnull(srv.fc);
    ck_assert_ptr_nonnull(srv.mime);
    ck_assert_ptr_null(srv.site_mime[0]);
    ck_assert_ptr_nonnull(srv.site_mime[1]);
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_ge(srv.rootfd[i], 0);
}

static void
teardown(void)
{
    sf_server_close(&srv);
    for (size_t i = 0; i < SF_CONFIG_MAX_SITES; i++)
        ck_assert_int_eq(srv.rootfd[i], -1);
    ck_assert_ptr_null(srv.fc);
    sf_log_close(&srv.log);
    event_base_free(srv.base);
    sf_config_free(&cfg);
    unit_rmtree(base);
}

static bool
log_has(const char *needle)
{
    sf_log_flush(&srv.log);
    char buf[16384];
    int fd = open(logpath, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return strstr(buf, needle) != NULL;
}

/* Parse raw (until its head is complete) into *p, in buf. */
static void
parse(const char *raw, char *buf, struct sf_parser *p)
{
    struct sf_limits lim = {
        .max_header_size = cfg.max_header_size,
        .max_uri_length = cfg.max_uri_length,
        .max_headers = cfg.max_headers,
        .max_body_size = cfg.max_body_size,
    };
    size_t n = strlen(raw);
    memcpy(buf, raw, n);
    sf_request_init(p, &lim);
    struct sf_reqbuf rb = {.buf = buf, .cap = cfg.max_header_size + SF_REQUEST_SLACK, .wpos = n};
    enum sf_next nx = sf_request_next(p, &rb);
    ck_assert_msg(nx == SF_NEXT_DONE, "parse %s: %d", raw, nx);
}

static bool
head_has(const struct sf_response *r, const char *s)
{
    return memmem(r->head, r->st.head_len, s, strlen(s)) != NULL;
}

/* ---------------------------------------------------------- dispatch */

static const struct {
    const char *req;
    bool keep_alive;
    int site;
    int status;
    const char *header; /* a line the head must hold, or NULL */
} cases[] = {
    {"GET /f.txt HTTP/1.1\r\nHost: a.test\r\n\r\n", true, 0, 200, "Content-Length: 7\r\n"},
    {"GET /f.txt HTTP/1.1\r\nHost: b.test\r\n\r\n", true, 1, 200, "Content-Length: 7\r\n"},
    {"GET /f.txt HTTP/1.1\r\nHost: B.Test.:8080\r\n\r\n", true, 1, 200, NULL},
    {"GET /f.txt HTTP/1.1\r\nHost: www.b.test\r\n\r\n", true, 1, 200, NULL},
    {"GET http://b.test/f.txt HTTP/1.1\r\nHost: a.test\r\n\r\n", true, 1, 200, NULL},
    {"GET /f.txt HTTP/1.1\r\nHost: other.test\r\n\r\n", true, -1, 421, NULL},
    {"HEAD /f.txt HTTP/1.1\r\nHost: other.test\r\n\r\n", true, -1, 421, NULL},
    {"GET /f.txt HTTP/1.0\r\n\r\n", false, -1, 421, NULL},
    {"GET /notes.md HTTP/1.1\r\nHost: b.test\r\n\r\n", true, 1, 200,
     "Content-Type: text/x-test-markdown"},
    {"GET /missing HTTP/1.1\r\nHost: a.test\r\n\r\n", true, 0, 404, NULL},
    {"GET /f.txt HTTP/1.1\r\nHost: a.test\r\n\r\n", false, 0, 200, "Connection: close\r\n"},
    {"GET /f.txt HTTP/1.1\r\nHost: c.test\r\n\r\n", true, 2, 500, NULL},
    /* the health path: before any site, whatever the Host (strict_hosts
     * would say 421), from memory (a/healthz says "FILE\n") */
    {"GET /healthz HTTP/1.1\r\nHost: a.test\r\n\r\n", true, -1, 200, "Cache-Control: no-store\r\n"},
    {"GET /healthz HTTP/1.1\r\nHost: other.test\r\n\r\n", true, -1, 200, "Content-Length: 3\r\n"},
    {"HEAD /healthz HTTP/1.1\r\nHost: other.test\r\n\r\n", true, -1, 200, "Content-Length: 3\r\n"},
    {"GET /healthz?deep=1 HTTP/1.0\r\n\r\n", false, -1, 200,
     "Content-Type: text/plain; charset=utf-8\r\n"},
    {"GET http://x.test/healthz HTTP/1.1\r\nHost: x.test\r\n\r\n", true, -1, 200, NULL},
    {"GET /healthz HTTP/1.1\r\nHost: c.test\r\n\r\n", true, -1, 200, NULL}, /* no add_header */
    /* anything else is the site's: other paths, escapes, other methods */
    {"GET /healthz/ HTTP/1.1\r\nHost: a.test\r\n\r\n", true, 0, 404, NULL},
    {"GET /healthzz HTTP/1.1\r\nHost: a.test\r\n\r\n", true, 0, 404, NULL},
    {"GET /health HTTP/1.1\r\nHost: a.test\r\n\r\n", true, 0, 404, NULL},
    {"GET /Healthz HTTP/1.1\r\nHost: a.test\r\n\r\n", true, 0, 404, NULL},
    {"GET /%68ealthz HTTP/1.1\r\nHost: a.test\r\n\r\n", true, 0, 200, "Content-Length: 5\r\n"},
    {"POST /healthz HTTP/1.1\r\nHost: a.test\r\nContent-Length: 0\r\n\r\n", true, 0, 405, NULL},
};

START_TEST(test_dispatch_table)
{
    char *buf = malloc(cfg.max_header_size + SF_REQUEST_SLACK);
    struct sf_parser *p = malloc(sizeof(*p));
    struct sf_response *r = malloc(sizeof(*r));
    ck_assert(buf && p && r);
    parse(cases[_i].req, buf, p);
    sf_response_init(r);
    struct sf_dispatch d = {
        .buf = buf, .p = p, .keep_alive = cases[_i].keep_alive, .peer = "192.0.2.7"};
    int site = sf_server_dispatch(&srv, &d, r);
    ck_assert_msg(site == cases[_i].site, "%s: site %d, want %d", cases[_i].req, site,
                  cases[_i].site);
    ck_assert_msg(r->st.status == cases[_i].status, "%s: status %d, want %d", cases[_i].req,
                  r->st.status, cases[_i].status);
    ck_assert(!r->st.head_overflow);
    ck_assert(head_has(r, "Date: "));
    if (cases[_i].header)
        ck_assert_msg(head_has(r, cases[_i].header), "%s: no %s in\n%.*s", cases[_i].req,
                      cases[_i].header, (int)r->st.head_len, r->head);
    if (!cases[_i].keep_alive)
        ck_assert(head_has(r, "Connection: close\r\n"));
    if (strncmp(cases[_i].req, "HEAD", 4) == 0)
        ck_assert(r->st.no_body);
    if (cases[_i].status == 500)
        ck_assert(log_has("response head too large for /f.txt"));
    if (site == 1 && strstr(cases[_i].req, "notes.md") == NULL)
        ck_assert(r->st.file != NULL); /* from the cache, of b's root */
    sf_response_free(r);
    free(r);
    free(p);
    free(buf);
}
END_TEST

/* A site without mime_types uses the shared table. */
START_TEST(test_shared_mime)
{
    char *buf = malloc(cfg.max_header_size + SF_REQUEST_SLACK);
    struct sf_parser *p = malloc(sizeof(*p));
    struct sf_response *r = malloc(sizeof(*r));
    ck_assert(buf && p && r);
    parse("GET /notes.md HTTP/1.1\r\nHost: a.test\r\n\r\n", buf, p);
    sf_response_init(r);
    struct sf_dispatch d = {.buf = buf, .p = p, .keep_alive = true, .peer = "-"};
    ck_assert_int_eq(sf_server_dispatch(&srv, &d, r), 0);
    ck_assert_int_eq(r->st.status, 200);
    ck_assert(head_has(r, "Content-Type: "));
    ck_assert(!head_has(r, "text/x-test-markdown"));
    sf_response_free(r);
    free(r);
    free(p);
    free(buf);
}
END_TEST

/* A request that failed to parse gets its error page, never keep-alive,
 * no site, and a debug line naming the client. */
START_TEST(test_parse_error)
{
    static const int statuses[] = {400, 414, 431};
    char *buf = malloc(cfg.max_header_size + SF_REQUEST_SLACK);
    struct sf_parser *p = malloc(sizeof(*p));
    struct sf_response *r = malloc(sizeof(*r));
    ck_assert(buf && p && r);
    for (size_t i = 0; i < SF_ARRAY_LEN(statuses); i++) {
        parse("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", buf, p);
        sf_response_init(r);
        struct sf_dispatch d = {
            .buf = buf, .p = p, .error = statuses[i], .keep_alive = true, .peer = "192.0.2.9"};
        ck_assert_int_eq(sf_server_dispatch(&srv, &d, r), -1);
        ck_assert_int_eq(r->st.status, statuses[i]);
        ck_assert(head_has(r, "Connection: close\r\n"));
        ck_assert_ptr_null(r->st.file);
        sf_response_free(r);
    }
    ck_assert(log_has("192.0.2.9: bad request: 400 Bad Request"));
    ck_assert(log_has("192.0.2.9: bad request: 431 "));
    free(r);
    free(p);
    free(buf);
}
END_TEST

/* One GET or HEAD of the health path: its status, Content-Length and
 * body (from memory: no file, no fd). */
static void
health_case(const char *req, int status, const char *body)
{
    char *buf = malloc(cfg.max_header_size + SF_REQUEST_SLACK);
    struct sf_parser *p = malloc(sizeof(*p));
    struct sf_response *r = malloc(sizeof(*r));
    char cl[64];
    ck_assert(buf && p && r);
    parse(req, buf, p);
    sf_response_init(r);
    struct sf_dispatch d = {.buf = buf, .p = p, .keep_alive = true, .peer = "-"};
    ck_assert_int_eq(sf_server_dispatch(&srv, &d, r), -1);
    ck_assert_int_eq(r->st.status, status);
    ck_assert_ptr_null(r->st.file);
    ck_assert_int_eq(r->st.fd, -1);
    ck_assert(head_has(r, "Cache-Control: no-store\r\n"));
    ck_assert(head_has(r, "Content-Type: text/plain; charset=utf-8\r\n"));
    snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", strlen(body));
    ck_assert(head_has(r, cl));
    ck_assert_uint_eq(r->st.content_length, strlen(body));
    if (strncmp(req, "HEAD", 4) == 0) {
        ck_assert(r->st.no_body);
    } else {
        ck_assert(!r->st.no_body);
        ck_assert_uint_eq(r->st.nseg, 1);
        ck_assert_int_eq(r->seg[0].fd, -1);
        ck_assert_uint_eq(r->seg[0].len, strlen(body));
        ck_assert(memcmp(r->seg[0].p, body, strlen(body)) == 0);
    }
    sf_response_free(r);
    free(r);
    free(p);
    free(buf);
}

/* 200 "ok\n"; while draining 503 "draining\n", and files still served. */
START_TEST(test_health_and_drain)
{
    health_case("GET /healthz HTTP/1.1\r\nHost: a.test\r\n\r\n", 200, "ok\n");
    health_case("HEAD /healthz HTTP/1.1\r\nHost: a.test\r\n\r\n", 200, "ok\n");
    srv.draining = true;
    health_case("GET /healthz HTTP/1.1\r\nHost: a.test\r\n\r\n", 503, "draining\n");
    health_case("HEAD /healthz?x HTTP/1.1\r\nHost: b.test\r\n\r\n", 503, "draining\n");
    char *buf = malloc(cfg.max_header_size + SF_REQUEST_SLACK);
    struct sf_parser *p = malloc(sizeof(*p));
    struct sf_response *r = malloc(sizeof(*r));
    ck_assert(buf && p && r);
    parse("GET /f.txt HTTP/1.1\r\nHost: a.test\r\n\r\n", buf, p);
    sf_response_init(r);
    struct sf_dispatch d = {.buf = buf, .p = p, .keep_alive = true, .peer = "-"};
    ck_assert_int_eq(sf_server_dispatch(&srv, &d, r), 0);
    ck_assert_int_eq(r->st.status, 200);
    ck_assert(head_has(r, "Content-Length: 7\r\n"));
    sf_response_free(r);
    free(r);
    free(p);
    free(buf);
}
END_TEST

/* The bookkeeping calls reach the owner with the connection's node. */
START_TEST(test_conn_reports)
{
    struct sf_server_conn a = {0}, b = {0};
    sf_server_conn_added(&srv, &a);
    sf_server_conn_added(&srv, &b);
    ck_assert_int_eq(added_n, 2);
    ck_assert_ptr_eq(added_last, &b);
    sf_server_conn_gone(&srv, &a);
    ck_assert_int_eq(gone_n, 1);
    ck_assert_ptr_eq(gone_last, &a);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("server");
    TCase *tc = tcase_create("dispatch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_dispatch_table, 0, (int)SF_ARRAY_LEN(cases));
    tcase_add_test(tc, test_shared_mime);
    tcase_add_test(tc, test_parse_error);
    tcase_add_test(tc, test_health_and_drain);
    tcase_add_test(tc, test_conn_reports);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
