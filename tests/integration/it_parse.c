/*
 * it_parse.c - raw request bytes against the real binary: keep-alive,
 * pipelining (in one write, split, and past the header buffer's size),
 * HTTP/1.0, Host and target rules, version 505, malformed input, the size
 * limits (414, 431), request bodies that must be discarded without
 * desynchronising the connection, ambiguous framing, and the header
 * timeout.
 */
#include "harness.h"

#include <unistd.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
tree_up(void)
{
    it_suite_tree();
    it_put(it_suite.root, "a.txt", "A\n");
    it_put(it_suite.root, "b.txt", "B\n");
    it_put(it_suite.root, "c.txt", "C\n");
    it_put(it_suite.root, "index.html", "I\n");
    it_put_pattern(it_suite.root, "big.bin", 16u << 20, 9);
}

/* Read one response on c and check its status and (when body != NULL) body. */
static void
expect_resp(struct it_conn *c, bool head, int status, const char *body, struct it_response *out)
{
    struct it_response r;
    enum it_rd rc = it_read_response(c, &r, head);

    ck_assert_msg(rc == IT_OK, "expected %d: read rc %d, head '%s'", status, (int)rc, r.head);
    ck_assert_msg(r.status == status, "status %d, want %d (body %.200s)", r.status, status, r.body);
    if (body != NULL)
        ck_assert_str_eq(r.body, body);
    ck_assert_msg(it_header_has(&r, "X-Content-Type-Options", "nosniff"),
                  "%d response without X-Content-Type-Options: nosniff", r.status);
    if (out != NULL)
        *out = r;
    else
        it_response_free(&r);
}

/* Send raw bytes on a new connection; expect status, and when must_close
 * that the server then closes the connection. */
static void
expect_status(const char *raw, size_t len, int status, bool must_close)
{
    struct it_conn c;
    struct it_response r;
    enum it_rd rc;

    it_conn_open(&c, it_suite.srv.port);
    it_conn_send(&c, raw, len);
    rc = it_read_response(&c, &r, false);
    ck_assert_msg(rc == IT_OK, "request '%.80s': read rc %d", raw, (int)rc);
    ck_assert_msg(r.status == status, "request '%.80s': status %d, want %d", raw, r.status, status);
    ck_assert_msg(it_header_has(&r, "X-Content-Type-Options", "nosniff"),
                  "request '%.80s': %d without X-Content-Type-Options: nosniff", raw, r.status);
    if (must_close) {
        ck_assert_msg(it_header_has(&r, "Connection", "close"),
                      "request '%.80s': %d without Connection: close", raw, status);
        ck_assert_msg(it_conn_wait_closed(&c, 5000, NULL),
                      "request '%.80s': connection not closed after %d", raw, status);
    }
    it_response_free(&r);
    it_conn_close(&c);
}

static void
expect_status_str(const char *raw, int status, bool must_close)
{
    expect_status(raw, strlen(raw), status, must_close);
}

START_TEST(t_keepalive_reuse)
{
    struct it_conn c;

    it_conn_open(&c, it_suite.srv.port);
    it_conn_send_str(&c, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    expect_resp(&c, false, 200, "A\n", NULL);
    it_conn_send_str(&c, "GET /b.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    expect_resp(&c, false, 200, "B\n", NULL);
    it_conn_send_str(&c, "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n");
    expect_resp(&c, false, 404, NULL, NULL);
    it_conn_send_str(&c, "GET /c.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    expect_resp(&c, false, 200, "C\n", NULL);
    it_conn_close(&c);
}
END_TEST

static const char three[] = "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n"
                            "HEAD /b.txt HTTP/1.1\r\nHost: t\r\n\r\n"
                            "GET /c.txt HTTP/1.1\r\nHost: t\r\n\r\n";

static void
expect_three(struct it_conn *c)
{
    struct it_response r;

    expect_resp(c, false, 200, "A\n", NULL);
    expect_resp(c, true, 200, NULL, &r);
    ck_assert_int_eq(r.content_length, 2);
    it_response_free(&r);
    expect_resp(c, false, 200, "C\n", NULL);
}

START_TEST(t_pipelined_one_write)
{
    struct it_conn c;

    it_conn_open(&c, it_suite.srv.port);
    it_conn_send_str(&c, three);
    expect_three(&c);
    it_conn_close(&c);
}
END_TEST

/* The same bytes in 7-byte pieces, then byte by byte. */
START_TEST(t_pipelined_split)
{
    struct it_conn c;
    size_t n = strlen(three);

    it_conn_open(&c, it_suite.srv.port);
    for (size_t off = 0; off < n; off += 7) {
        it_conn_send(&c, three + off, n - off < 7 ? n - off : 7);
        it_sleep_ms(2);
    }
    expect_three(&c);
    for (size_t off = 0; off < n; off++) {
        it_conn_send(&c, three + off, 1);
        it_sleep_ms(1);
    }
    expect_three(&c);
    it_conn_close(&c);
}
END_TEST

/* 300 small requests in one write: far more bytes than the 8 KiB header
 * buffer, yet each request is small, so none may get 431. */
START_TEST(t_pipelined_many)
{
    enum { N = 300 };
    static const char *const bodies[] = {"A\n", "B\n", "C\n"};
    size_t cap = N * 64, len = 0;
    char *buf = malloc(cap);
    struct it_conn c;

    ck_assert_ptr_nonnull(buf);
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(buf + len, cap - len, "GET /%c.txt HTTP/1.1\r\nHost: t\r\n\r\n",
                                'a' + i % 3);
    ck_assert_uint_gt(len, 8192);
    it_conn_open_opts(&c, it_suite.srv.port, 0, 10000);
    it_conn_send(&c, buf, len);
    for (int i = 0; i < N; i++)
        expect_resp(&c, false, 200, bodies[i % 3], NULL);
    it_conn_close(&c);
    free(buf);
}
END_TEST

/* Connection: close on the second of three: the third is never answered. */
START_TEST(t_pipelined_close_stops)
{
    struct it_conn c;
    struct it_response r;

    it_conn_open(&c, it_suite.srv.port);
    it_conn_send_str(&c, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n"
                         "GET /b.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                         "GET /c.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    expect_resp(&c, false, 200, "A\n", NULL);
    expect_resp(&c, false, 200, "B\n", &r);
    ck_assert(it_header_has(&r, "Connection", "close"));
    it_response_free(&r);
    {
        size_t extra = 99;
        ck_assert(it_conn_wait_closed(&c, 5000, &extra));
        ck_assert_msg(extra == 0, "%zu bytes after the Connection: close response", extra);
    }
    it_conn_close(&c);
}
END_TEST

/* An HTTP/1.0 request for /a.txt that must be answered, then closed. */
static void
expect_http10_close(const char *raw)
{
    struct it_conn c;
    struct it_response r;

    it_conn_open(&c, it_suite.srv.port);
    it_conn_send_str(&c, raw);
    expect_resp(&c, false, 200, "A\n", &r);
    ck_assert_msg(!it_header_has(&r, "Connection", "keep-alive"), "'%.60s' answered keep-alive",
                  raw);
    ck_assert_msg(it_conn_wait_closed(&c, 5000, NULL), "'%.60s': connection left open", raw);
    it_response_free(&r);
    it_conn_close(&c);
}

START_TEST(t_http10_closes_by_default)
{
    expect_http10_close("GET /a.txt HTTP/1.0\r\n\r\n");
    /* close wins over keep-alive, as in 1.1 (RFC 9112 §9.3) */
    expect_http10_close("GET /a.txt HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n");
    expect_http10_close(
        "GET /a.txt HTTP/1.0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n");
}
END_TEST

START_TEST(t_http10_keepalive)
{
    struct it_conn c;
    struct it_response r;

    it_conn_open(&c, it_suite.srv.port);
    it_conn_send_str(&c, "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    expect_resp(&c, false, 200, "A\n", &r);
    ck_assert_msg(it_header_has(&r, "Connection", "keep-alive"),
                  "HTTP/1.0 keep-alive not confirmed (Connection: %s)",
                  it_header(&r, "Connection") ? it_header(&r, "Connection") : "none");
    it_response_free(&r);
    it_conn_send_str(&c, "GET /b.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    expect_resp(&c, false, 200, "B\n", NULL);
    /* Without the header the next one closes. */
    it_conn_send_str(&c, "GET /c.txt HTTP/1.0\r\n\r\n");
    expect_resp(&c, false, 200, "C\n", NULL);
    ck_assert(it_conn_wait_closed(&c, 5000, NULL));
    it_conn_close(&c);
}
END_TEST

static const char *const bad_host[] = {
    "GET /a.txt HTTP/1.1\r\n\r\n",
    "GET /a.txt HTTP/1.1\r\nHost: t\r\nHost: t\r\n\r\n",
    "GET /a.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "GET /a.txt HTTP/1.1\r\nHost: a b\r\n\r\n",
    "GET /a.txt HTTP/1.1\r\nHost: x/y\r\n\r\n",
    "GET /a.txt HTTP/1.1\r\nHost: x\\y\r\n\r\n",
    "GET /a.txt HTTP/1.1\r\nHost: a@b\r\n\r\n",
};

START_TEST(t_host_rules)
{
    expect_status_str(bad_host[_i], 400, false);
}
END_TEST

START_TEST(t_host_valid_forms)
{
    static const char *const ok[] = {
        "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\nHost: Example.COM\r\n\r\n",
        "GET /a.txt HTTP/1.0\r\n\r\n",
    };

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        expect_status_str(ok[i], 200, false);
}
END_TEST

START_TEST(t_target_forms)
{
    struct it_conn c;

    expect_status_str("GET a.txt HTTP/1.1\r\nHost: t\r\n\r\n", 400, false);
    expect_status_str("GET ?x=1 HTTP/1.1\r\nHost: t\r\n\r\n", 400, false);
    expect_status_str("GET * HTTP/1.1\r\nHost: t\r\n\r\n", 400, false);
    expect_status_str("OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n", 204, false);

    it_conn_open(&c, it_suite.srv.port);
    it_conn_send_str(&c, "GET http://127.0.0.1/a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    expect_resp(&c, false, 200, "A\n", NULL);
    it_conn_send_str(&c, "GET http://t/b.txt?q=1 HTTP/1.1\r\nHost: t\r\n\r\n");
    expect_resp(&c, false, 200, "B\n", NULL);
    it_conn_send_str(&c, "HEAD http://t:80/c.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    expect_resp(&c, true, 200, NULL, NULL);
    /* an empty path is "/", with a query or without (RFC 9112 §3.2.2) */
    it_conn_send_str(&c, "GET http://t?q=1 HTTP/1.1\r\nHost: t\r\n\r\n");
    expect_resp(&c, false, 200, "I\n", NULL);
    it_conn_send_str(&c, "GET http://t HTTP/1.1\r\nHost: t\r\n\r\n");
    expect_resp(&c, false, 200, "I\n", NULL);
    /* a later HTTP/1.x is served as 1.1 */
    it_conn_send_str(&c, "GET /a.txt HTTP/1.2\r\nHost: t\r\n\r\n");
    expect_resp(&c, false, 200, "A\n", NULL);
    it_conn_close(&c);

    /* a fragment is no part of any request-target: a proxy that kept
     * "#/../b.txt" as path bytes would route this to /b.txt */
    expect_status_str("GET /a.txt#/../b.txt HTTP/1.1\r\nHost: t\r\n\r\n", 400, true);
    expect_status_str("GET http://t/a.txt#x HTTP/1.1\r\nHost: t\r\n\r\n", 400, true);
}
END_TEST

/* Range and the conditionals decide what is sent: sent twice, they are
 * refused, as nginx refuses a repeated If-Match or If-None-Match. (One
 * list over two lines would mean "zz" or the real tag: 200 here, not the
 * 412 the first line alone gives.) */
START_TEST(t_repeated_conditionals)
{
    expect_status_str("GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Match: \"zz\"\r\nIf-Match: *\r\n\r\n",
                      400, true);
    expect_status_str(
        "GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"zz\"\r\nIf-None-Match: *\r\n\r\n", 400,
        true);
    expect_status_str(
        "GET /a.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-0\r\nRange: bytes=1-1\r\n\r\n", 400,
        true);
    /* once each, they work */
    expect_status_str("GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-Match: \"zz\"\r\n\r\n", 412, false);
    expect_status_str("GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"zz\"\r\n\r\n", 200,
                      false);
    expect_status_str("GET /a.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-0\r\n\r\n", 206, false);
}
END_TEST

START_TEST(t_version_505)
{
    struct it_response r;
    enum it_rd rc;

    expect_status_str("GET /a.txt HTTP/2.0\r\nHost: t\r\n\r\n", 505, false);
    rc = it_request(it_suite.srv.port, "GET /a.txt HTTP/3.0\r\nHost: t\r\n\r\n", &r);
    ck_assert_int_eq(rc, IT_OK);
    ck_assert_msg(r.status == 505 || r.status == 400, "HTTP/3.0 -> %d", r.status);
    it_response_free(&r);
}
END_TEST

/* clang-format off */
#define G(s) { s, sizeof(s) - 1 }
/* clang-format on */
static const struct {
    const char *raw;
    size_t len;
} garbage[] = {
    G("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
    G("HELLO\r\n\r\n"),
    G("GET / HTTX/1.1\r\nHost: t\r\n\r\n"),
    G("GET / HTTP/1.1\r\nBad Header Line\r\n\r\n"),
    G("GET /\x01 HTTP/1.1\r\nHost: t\r\n\r\n"),
    G("GET / HTTP/1.1\r\nHost: t\r\nX\x7f: y\r\n\r\n"),
    G("\x00\x00\x00\x00\r\n\r\n"),
};
#undef G

START_TEST(t_garbage_400_close)
{
    expect_status(garbage[_i].raw, garbage[_i].len, 400, true);
}
END_TEST

static char *
big_request(const char *fmt_head, size_t fill, const char *tail)
{
    size_t cap = fill + 512;
    char *buf = malloc(cap);
    size_t n;

    ck_assert_ptr_nonnull(buf);
    n = (size_t)snprintf(buf, cap, "%s", fmt_head);
    memset(buf + n, 'a', fill);
    snprintf(buf + n + fill, cap - n - fill, "%s", tail);
    return buf;
}

START_TEST(t_limits)
{
    char *req;
    size_t n;

    /* One 9 KiB header. */
    req = big_request("GET /a.txt HTTP/1.1\r\nHost: t\r\nX-Big: ", 9 * 1024, "\r\n\r\n");
    expect_status_str(req, 431, false);
    free(req);

    /* 9 KiB spread over 90 headers of 100 bytes. */
    req = malloc(16384);
    ck_assert_ptr_nonnull(req);
    n = (size_t)snprintf(req, 16384, "GET /a.txt HTTP/1.1\r\nHost: t\r\n");
    for (int i = 0; i < 90; i++) {
        n += (size_t)snprintf(req + n, 16384 - n, "X-H%02d: ", i);
        memset(req + n, 'v', 91);
        n += 91;
        memcpy(req + n, "\r\n", 2);
        n += 2;
    }
    snprintf(req + n, 16384 - n, "\r\n");
    expect_status_str(req, 431, false);
    free(req);

    /* A 9 KiB URI. */
    req = big_request("GET /", 9 * 1024, " HTTP/1.1\r\nHost: t\r\n\r\n");
    expect_status_str(req, 414, false);
    free(req);

    /* The server is still fine. */
    expect_status_str("GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", 200, false);
}
END_TEST

static char *
many_headers(int total)
{
    size_t cap = 64 * (size_t)total + 128, n;
    char *req = malloc(cap);

    ck_assert_ptr_nonnull(req);
    n = (size_t)snprintf(req, cap, "GET /a.txt HTTP/1.1\r\nHost: t\r\n");
    for (int i = 1; i < total; i++)
        n += (size_t)snprintf(req + n, cap - n, "X-H%d: v\r\n", i);
    snprintf(req + n, cap - n, "\r\n");
    return req;
}

START_TEST(t_header_count)
{
    char *req = many_headers(100);

    expect_status_str(req, 200, false);
    free(req);
    req = many_headers(101);
    expect_status_str(req, 431, false);
    free(req);
}
END_TEST

START_TEST(t_body_content_length_discarded)
{
    struct it_conn c;
    static const char smuggle[] = "GET /c.txt HTTP/1.1\r\nHost: t\r\n\r\n";
    char req[512];

    it_conn_open(&c, it_suite.srv.port);
    it_conn_send_str(&c, "GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n"
                         "hello world"
                         "GET /b.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    expect_resp(&c, false, 200, "A\n", NULL);
    expect_resp(&c, false, 200, "B\n", NULL);

    /* A body that looks like a request is still only a body. */
    snprintf(req, sizeof(req),
             "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n%s"
             "GET /b.txt HTTP/1.1\r\nHost: t\r\n\r\n",
             strlen(smuggle), smuggle);
    it_conn_send_str(&c, req);
    expect_resp(&c, false, 405, NULL, NULL);
    expect_resp(&c, false, 200, "B\n", NULL);
    it_conn_close(&c);
}
END_TEST

START_TEST(t_body_chunked_discarded)
{
    struct it_conn c;

    it_conn_open(&c, it_suite.srv.port);
    it_conn_send_str(&c, "GET /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "5\r\nhello\r\n"
                         "20;ext=1\r\nGET /c.txt HTTP/1.1\r\nHost: t\r\n\r\n\r\n"
                         "0\r\nX-Trailer: 1\r\n\r\n"
                         "GET /b.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    expect_resp(&c, false, 200, "A\n", NULL);
    expect_resp(&c, false, 200, "B\n", NULL);
    it_conn_send_str(&c, "POST /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "3\r\nabc\r\n0\r\n\r\n"
                         "GET /c.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    expect_resp(&c, false, 405, NULL, NULL);
    expect_resp(&c, false, 200, "C\n", NULL);
    it_conn_close(&c);
}
END_TEST

/* A 1 MiB body that arrives in pieces, after the head was answered or not. */
START_TEST(t_body_large_in_pieces)
{
    enum { BODY = 1 << 20, PIECE = 65536 };
    struct it_conn c;
    char *chunk = malloc(PIECE);
    char head[256];

    ck_assert_ptr_nonnull(chunk);
    memset(chunk, 'x', PIECE);
    it_conn_open_opts(&c, it_suite.srv.port, 0, 10000);
    snprintf(head, sizeof(head), "GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n",
             BODY);
    it_conn_send_str(&c, head);
    for (int sent = 0; sent < BODY; sent += PIECE) {
        it_conn_send(&c, chunk, PIECE);
        if (sent % (4 * PIECE) == 0)
            it_sleep_ms(5);
    }
    it_conn_send_str(&c, "GET /b.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    {
        /* The server may answer 200 and keep reading, or refuse a large body
         * (413) and close; it must never treat body bytes as a request. */
        struct it_response r;
        ck_assert_int_eq(it_read_response(&c, &r, false), IT_OK);
        ck_assert_msg(r.status == 200 || r.status == 413, "status %d", r.status);
        if (r.status == 200) {
            ck_assert_str_eq(r.body, "A\n");
            it_response_free(&r);
            expect_resp(&c, false, 200, "B\n", NULL);
        } else {
            it_response_free(&r);
        }
    }
    it_conn_close(&c);
    free(chunk);
}
END_TEST

/* Requests near the header buffer's size, pipelined behind small ones:
 * leftover bytes must move to the buffer's start, never count as one
 * oversized request. */
START_TEST(t_pipelined_near_limit)
{
    static const char small[] = "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n";
    char *big = big_request("GET /b.txt HTTP/1.1\r\nHost: t\r\nX-Pad: ", 7600, "\r\n\r\n");
    size_t cap = 3 * strlen(big) + 4 * sizeof(small), n = 0;
    char *all = malloc(cap);
    struct it_conn c;

    ck_assert_ptr_nonnull(all);
    n += (size_t)snprintf(all + n, cap - n, "%s%s%s%s%s", small, big, small, big, big);
    it_conn_open(&c, it_suite.srv.port);
    it_conn_send(&c, all, n);
    expect_resp(&c, false, 200, "A\n", NULL);
    expect_resp(&c, false, 200, "B\n", NULL);
    expect_resp(&c, false, 200, "A\n", NULL);
    expect_resp(&c, false, 200, "B\n", NULL);
    expect_resp(&c, false, 200, "B\n", NULL);
    it_conn_close(&c);
    free(all);
    free(big);
}
END_TEST

/* A 6000-byte target is within the 8 KiB URI limit: a plain 404. */
START_TEST(t_uri_below_limit)
{
    char *req = malloc(8192);
    size_t n;

    ck_assert_ptr_nonnull(req);
    n = (size_t)snprintf(req, 8192, "GET ");
    for (int i = 0; i < 60; i++) {
        req[n++] = '/';
        memset(req + n, 'a' + i % 26, 99);
        n += 99;
    }
    snprintf(req + n, 8192 - n, " HTTP/1.1\r\nHost: t\r\n\r\n");
    ck_assert_uint_eq(n, 4 + 6000);
    expect_status_str(req, 404, false);
    free(req);
}
END_TEST

/*
 * Expect: 100-continue (RFC 9110 10.1.1): the server must answer, either
 * 100 Continue (and then read the body) or a final status, without first
 * waiting for a body the client is holding back.
 */
START_TEST(t_expect_continue)
{
    static const char *const heads[] = {
        "POST /a.txt HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
        "GET /a.txt HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
    };
    static const int final[] = {405, 200};

    for (size_t i = 0; i < 2; i++) {
        struct it_conn c;
        struct it_response r;
        enum it_rd rc;

        it_conn_open_opts(&c, it_suite.srv.port, 0, 3000);
        it_conn_send_str(&c, heads[i]);
        rc = it_read_head(&c, &r, false);
        ck_assert_msg(rc == IT_OK,
                      "%s with Expect: 100-continue: no 100 or final status within 3 s "
                      "while the body is held back (rc %d)",
                      i == 0 ? "POST" : "GET", (int)rc);
        if (r.status == 100) {
            it_conn_send_str(&c, "hello");
            expect_resp(&c, false, final[i], NULL, NULL);
        } else {
            ck_assert_int_eq(r.status, final[i]);
            ck_assert_int_eq(it_read_body(&c, &r, UINT64_MAX), IT_OK);
            it_response_free(&r);
        }
        it_conn_close(&c);
    }
}
END_TEST

static const char *const ambiguous[] = {
    "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "GET /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
    "Content-Length: 3\r\n\r\n0\r\n\r\n",
    "GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
    "hello!",
    "GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"
    "hello",
    "GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n",
    "GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n",
    "GET /a.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\nxx",
};

START_TEST(t_ambiguous_framing)
{
    expect_status_str(ambiguous[_i], 400, true);
}
END_TEST

/* ---- header timeout, with its own server from a config file ---------- */

/* A server from a config file with every timeout at 1 s. */
static void
start_timeout_server(struct it_server *s)
{
    char conf[PATH_MAX + 64], text[2 * PATH_MAX];

    snprintf(conf, sizeof(conf), "%s/timeout.conf", it_suite.base);
    snprintf(text, sizeof(text),
             "[server]\nlisten = 127.0.0.1:0\nheader_timeout = 1\nkeepalive_timeout = 1\n"
             "send_timeout = 1\naccess_log = off\n%s\n[site]\nroot = %s\n",
             getuid() == 0 ? "user = root\n" : "", it_suite.root);
    it_write_str(conf, text);
    it_server_start_conf(s, conf);
}

START_TEST(t_header_timeout)
{
    struct it_server s;
    struct it_conn c;
    struct it_response r;
    size_t drained = 0;

    start_timeout_server(&s);

    /* The config server serves. */
    it_get(s.port, "/a.txt", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "A\n");
    it_response_free(&r);

    /* A partial request line, then silence: closed (maybe after a 408). */
    it_conn_open(&c, s.port);
    it_conn_send_str(&c, "GET /a.txt HT");
    ck_assert_msg(it_conn_wait_closed(&c, 5000, &drained),
                  "partial request not closed within 5 s (header_timeout = 1)");
    it_conn_close(&c);

    /* Headers trickling in too slowly (slowloris) are cut off as well. */
    it_conn_open(&c, s.port);
    it_conn_send_str(&c, "GET /a.txt HTTP/1.1\r\n");
    {
        bool closed = false;
        for (int i = 0; i < 10 && !closed; i++) {
            char line[32];
            snprintf(line, sizeof(line), "X-%d: y\r\n", i);
            if (it_conn_try_send(&c, line, strlen(line)) != 0)
                closed = true;
            else
                closed = it_conn_wait_closed(&c, 500, NULL);
        }
        ck_assert_msg(closed, "slowloris headers kept the connection 5 s");
    }
    it_conn_close(&c);

    /* Still serving. */
    it_get(s.port, "/b.txt", &r);
    ck_assert_str_eq(r.body, "B\n");
    it_response_free(&r);
    it_server_stop(&s);
}
END_TEST

/* keepalive_timeout: an idle kept-alive connection is closed. */
START_TEST(t_keepalive_timeout)
{
    struct it_server s;
    struct it_conn c;

    start_timeout_server(&s);
    it_conn_open(&c, s.port);
    it_conn_send_str(&c, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    expect_resp(&c, false, 200, "A\n", NULL);
    ck_assert_msg(it_conn_wait_closed(&c, 5000, NULL),
                  "idle keep-alive connection open 5 s (keepalive_timeout = 1)");
    it_conn_close(&c);
    it_server_stop(&s);
}
END_TEST

/* send_timeout: a client that stops reading is cut off; the body it then
 * drains ends early with a close, never hangs. */
START_TEST(t_send_timeout)
{
    struct it_server s;
    struct it_conn c;
    struct it_response r;
    enum it_rd rc;

    start_timeout_server(&s);
    it_conn_open_opts(&c, s.port, 4096, 5000);
    it_conn_send_str(&c, "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n");
    ck_assert_int_eq(it_read_head(&c, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 200);
    it_sleep_ms(3500);
    rc = it_read_body(&c, &r, UINT64_MAX);
    ck_assert_msg(rc == IT_BAD && r.body_len < (16u << 20),
                  "stalled reader not cut off: rc %d, %llu of %d bytes", (int)rc,
                  (unsigned long long)r.body_len, 16 << 20);
    it_response_free(&r);
    it_conn_close(&c);
    it_get(s.port, "/b.txt", &r);
    ck_assert_str_eq(r.body, "B\n");
    it_response_free(&r);
    it_server_stop(&s);
}
END_TEST

static Suite *
parse_suite(void)
{
    Suite *s = suite_create("it_parse");
    TCase *tc = tcase_create("parse");
    TCase *tt = tcase_create("timeout");

    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, tree_up, it_suite_tree_down);
    tcase_add_checked_fixture(tc, it_suite_srv_up, it_suite_srv_down);
    tcase_add_test(tc, t_keepalive_reuse);
    tcase_add_test(tc, t_pipelined_one_write);
    tcase_add_test(tc, t_pipelined_split);
    tcase_add_test(tc, t_pipelined_many);
    tcase_add_test(tc, t_pipelined_close_stops);
    tcase_add_test(tc, t_http10_closes_by_default);
    tcase_add_test(tc, t_http10_keepalive);
    tcase_add_loop_test(tc, t_host_rules, 0, (int)(sizeof(bad_host) / sizeof(bad_host[0])));
    tcase_add_test(tc, t_host_valid_forms);
    tcase_add_test(tc, t_target_forms);
    tcase_add_test(tc, t_repeated_conditionals);
    tcase_add_test(tc, t_version_505);
    tcase_add_loop_test(tc, t_garbage_400_close, 0, (int)(sizeof(garbage) / sizeof(garbage[0])));
    tcase_add_test(tc, t_limits);
    tcase_add_test(tc, t_header_count);
    tcase_add_test(tc, t_body_content_length_discarded);
    tcase_add_test(tc, t_body_chunked_discarded);
    tcase_add_test(tc, t_body_large_in_pieces);
    tcase_add_test(tc, t_pipelined_near_limit);
    tcase_add_test(tc, t_uri_below_limit);
    tcase_add_test(tc, t_expect_continue);
    tcase_add_loop_test(tc, t_ambiguous_framing, 0,
                        (int)(sizeof(ambiguous) / sizeof(ambiguous[0])));
    suite_add_tcase(s, tc);

    tcase_set_timeout(tt, 120);
    tcase_add_unchecked_fixture(tt, tree_up, it_suite_tree_down);
    tcase_add_test(tt, t_header_timeout);
    tcase_add_test(tt, t_keepalive_timeout);
    tcase_add_test(tt, t_send_timeout);
    suite_add_tcase(s, tt);
    return s;
}

int
main(void)
{
    return it_main(parse_suite());
}
