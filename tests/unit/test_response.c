/*
 * test_response.c - unit tests for response building: the exact bytes of
 * the status line and the fixed headers for every status, the Connection
 * header for HTTP/1.0 and 1.1, header lines, the refusal of CR/LF (an
 * assert, so those tests expect SIGABRT), head overflow at SF_HEAD_MAX,
 * error pages (body, Content-Length, HEAD, 204/304), the segment queue
 * and reset.
 */
#include "sfhttpd/response.h"

#include "sfhttpd/common.h"
#include "unit_util.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DATE "Sun, 06 Nov 1994 08:49:37 GMT"

/* What sf_response_begin must write for status/reason. */
static size_t
begin_bytes(char *out, size_t cap, int status, const char *reason)
{
    int n = snprintf(out, cap,
                     "HTTP/1.1 %d %s\r\nServer: sfhttpd/" SFHTTPD_VERSION "\r\nDate: " DATE
                     "\r\nX-Content-Type-Options: nosniff\r\n",
                     status, reason);
    ck_assert(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

static void
assert_head(const struct sf_response *r, const char *want, size_t want_len)
{
    ck_assert_msg(r->st.head_len == want_len && memcmp(r->head, want, want_len) == 0,
                  "head:\n%.*s\nwant:\n%.*s", (int)r->st.head_len, r->head, (int)want_len, want);
}

/* ---- status line and fixed headers ---- */

static const struct {
    int status;
    const char *reason;
} statuses[] = {
    {200, "OK"},
    {204, "No Content"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {416, "Range Not Satisfiable"},
    {421, "Misdirected Request"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {503, "Service Unavailable"},
    {505, "HTTP Version Not Supported"},
    /* anything else */
    {0, "Unknown"},
    {100, "Unknown"},
    {302, "Unknown"},
    {418, "Unknown"},
    {599, "Unknown"},
    {999, "Unknown"},
};

START_TEST(test_reason_table)
{
    ck_assert_str_eq(sf_response_reason(statuses[_i].status), statuses[_i].reason);
}
END_TEST

START_TEST(test_begin_table)
{
    struct sf_response r;
    sf_response_init(&r);
    sf_response_begin(&r, statuses[_i].status, DATE);
    char want[512];
    size_t n = begin_bytes(want, sizeof(want), statuses[_i].status, statuses[_i].reason);
    assert_head(&r, want, n);
    ck_assert_int_eq(r.st.status, statuses[_i].status);
    ck_assert(!r.st.head_overflow);
    ck_assert_int_eq(r.st.no_body, statuses[_i].status == 204 || statuses[_i].status == 304);
    sf_response_free(&r);
}
END_TEST

START_TEST(test_begin_restarts_head)
{
    struct sf_response r;
    sf_response_init(&r);
    sf_response_begin(&r, 304, DATE);
    sf_response_header(&r, "ETag", "\"x\"");
    ck_assert(r.st.no_body);
    sf_response_begin(&r, 200, DATE);
    char want[512];
    size_t n = begin_bytes(want, sizeof(want), 200, "OK");
    assert_head(&r, want, n);
    ck_assert(!r.st.no_body);
    sf_response_free(&r);
}
END_TEST

/* ---- end of head: Connection ---- */

static const struct {
    bool keep_alive;
    bool http10;
    const char *tail;
} conn_cases[] = {
    {false, false, "Connection: close\r\n\r\n"},
    {false, true, "Connection: close\r\n\r\n"},
    {true, false, "\r\n"},
    {true, true, "Connection: keep-alive\r\n\r\n"},
};

START_TEST(test_end_head_table)
{
    struct sf_response r;
    sf_response_init(&r);
    sf_response_begin(&r, 200, DATE);
    sf_response_header(&r, "Content-Length", "%d", 0);
    sf_response_end_head(&r, conn_cases[_i].keep_alive, conn_cases[_i].http10);
    char want[512];
    size_t n = begin_bytes(want, sizeof(want), 200, "OK");
    n += (size_t)snprintf(want + n, sizeof(want) - n, "Content-Length: 0\r\n%s",
                          conn_cases[_i].tail);
    assert_head(&r, want, n);
    ck_assert(!r.st.head_overflow);
    sf_response_free(&r);
}
END_TEST

/* ---- header lines ---- */

START_TEST(test_headers)
{
    struct sf_response r;
    sf_response_init(&r);
    sf_response_begin(&r, 206, DATE);
    sf_response_header(&r, "Content-Type", "%s", "text/plain; charset=utf-8");
    sf_response_header(&r, "Content-Range", "bytes %llu-%llu/%llu", 0ULL, 99ULL,
                       18446744073709551615ULL);
    sf_response_header(&r, "X-Empty", "%s", "");
    sf_response_header(&r, "X-Literal", "100%% <&> \t\x80\xff");
    sf_response_line(&r, "Accept-Ranges: bytes");
    sf_response_line(&r, "");
    sf_response_end_head(&r, true, false);
    char want[1024];
    size_t n = begin_bytes(want, sizeof(want), 206, "Partial Content");
    static const char rest[] = "Content-Type: text/plain; charset=utf-8\r\n"
                               "Content-Range: bytes 0-99/18446744073709551615\r\n"
                               "X-Empty: \r\n"
                               "X-Literal: 100% <&> \t\x80\xff\r\n"
                               "Accept-Ranges: bytes\r\n"
                               "\r\n"
                               "\r\n";
    memcpy(want + n, rest, sizeof(rest) - 1);
    n += sizeof(rest) - 1;
    assert_head(&r, want, n);
    ck_assert(!r.st.head_overflow);
    sf_response_free(&r);
}
END_TEST

/* CR or LF in a value would split the head: the code asserts (asserts
 * stay on), so each of these must end in SIGABRT. */
static const char *const bad_values[] = {
    "a\rb", "a\nb", "\r\n", "x\r\nSet-Cookie: evil=1", "trailing\n", "\r", "\n\n",
};

START_TEST(test_put_headers)
{
    /* the copying calls write what the printf one writes */
    struct sf_response r, want;
    sf_response_init(&r);
    sf_response_init(&want);
    sf_response_begin(&r, 206, DATE);
    sf_response_begin(&want, 206, DATE);
    sf_response_put(&r, "ETag", "\"abc\"xyz", 5);
    sf_response_header(&want, "ETag", "%s", "\"abc\"");
    sf_response_puts(&r, "Content-Type", "text/plain; charset=utf-8");
    sf_response_header(&want, "Content-Type", "%s", "text/plain; charset=utf-8");
    sf_response_puts(&r, "X-Empty", "");
    sf_response_header(&want, "X-Empty", "%s", "");
    static const uint64_t nums[] = {0, 1, 9, 10, 4096, 18446744073709551615ULL};
    for (size_t i = 0; i < SF_ARRAY_LEN(nums); i++) {
        sf_response_put_u64(&r, "Content-Length", nums[i]);
        sf_response_header(&want, "Content-Length", "%llu", (unsigned long long)nums[i]);
    }
    sf_response_put_range(&r, 0, 99, 18446744073709551615ULL);
    sf_response_header(&want, "Content-Range", "bytes 0-99/18446744073709551615");
    sf_response_put_range(&r, 5, 5, 6);
    sf_response_header(&want, "Content-Range", "bytes 5-5/6");
    sf_response_end_head(&r, false, false);
    sf_response_end_head(&want, false, false);
    ck_assert(!r.st.head_overflow);
    assert_head(&r, want.head, want.st.head_len);
    sf_response_free(&r);
    sf_response_free(&want);
}
END_TEST

START_TEST(test_put_overflow)
{
    /* a value that does not fit leaves the head as it was, flagged */
    struct sf_response r;
    sf_response_init(&r);
    sf_response_begin(&r, 200, DATE);
    size_t before = r.st.head_len;
    static char v[SF_HEAD_MAX];
    memset(v, 'v', sizeof(v));
    sf_response_put(&r, "X-Big", v, SF_HEAD_MAX - before - 8);
    ck_assert(r.st.head_overflow);
    ck_assert_uint_eq(r.st.head_len, before);
    sf_response_free(&r);
}
END_TEST

START_TEST(test_put_crlf_aborts)
{
    struct sf_response r;
    sf_response_init(&r);
    sf_response_begin(&r, 200, DATE);
    sf_response_puts(&r, "X-Bad", bad_values[_i]);
    ck_abort_msg("value %d accepted", _i);
}
END_TEST

START_TEST(test_header_crlf_aborts)
{
    struct sf_response r;
    sf_response_init(&r);
    sf_response_begin(&r, 200, DATE);
    sf_response_header(&r, "X-Bad", "%s", bad_values[_i]);
    /* not reached */
    ck_abort_msg("value %d accepted", _i);
}
END_TEST

START_TEST(test_header_crlf_in_format_aborts)
{
    struct sf_response r;
    sf_response_init(&r);
    sf_response_begin(&r, 200, DATE);
    sf_response_header(&r, "X-Bad", "a\r\nb: %d", 1);
    ck_abort_msg("CRLF in the format accepted");
}
END_TEST

START_TEST(test_line_crlf_aborts)
{
    struct sf_response r;
    sf_response_init(&r);
    sf_response_begin(&r, 200, DATE);
    sf_response_line(&r, bad_values[_i]);
    ck_abort_msg("line %d accepted", _i);
}
END_TEST

/* ---- overflow at SF_HEAD_MAX ---- */

/* A header "X: aaa...\r\n" that brings the head to exactly len bytes. */
static void
fill_to(struct sf_response *r, size_t len)
{
    size_t fixed = r->st.head_len + strlen("X: \r\n");
    ck_assert_uint_ge(len, fixed);
    size_t k = len - fixed;
    char *v = malloc(k + 1);
    ck_assert_ptr_nonnull(v);
    memset(v, 'a', k);
    v[k] = '\0';
    sf_response_header(r, "X", "%s", v);
    free(v);
}

START_TEST(test_head_fills_to_max_minus_one)
{
    /* the largest head that fits: SF_HEAD_MAX - 1 bytes (vsnprintf needs
     * room for its terminator) */
    struct sf_response r;
    sf_response_init(&r);
    sf_response_begin(&r, 200, DATE);
    fill_to(&r, SF_HEAD_MAX - 3);
    ck_assert(!r.st.head_overflow);
    ck_assert_uint_eq(r.st.head_len, SF_HEAD_MAX - 3);
    sf_response_end_head(&r, true, false);
    ck_assert(!r.st.head_overflow);
    ck_assert_uint_eq(r.st.head_len, SF_HEAD_MAX - 1);
    ck_assert_mem_eq(r.head + r.st.head_len - 5, "a\r\n\r\n", 5);
    sf_response_free(&r);
}
END_TEST

START_TEST(test_head_overflow_end_head)
{
    /* one byte more and the blank line does not fit */
    struct sf_response r;
    sf_response_init(&r);
    sf_response_begin(&r, 200, DATE);
    fill_to(&r, SF_HEAD_MAX - 2);
    ck_assert(!r.st.head_overflow);
    sf_response_end_head(&r, true, false);
    ck_assert(r.st.head_overflow);
    ck_assert_uint_lt(r.st.head_len, SF_HEAD_MAX);
    sf_response_free(&r);
}
END_TEST

START_TEST(test_head_overflow_header)
{
    struct sf_response r;
    sf_response_init(&r);
    sf_response_begin(&r, 200, DATE);
    size_t before = r.st.head_len;
    char *v = malloc(SF_HEAD_MAX + 1);
    ck_assert_ptr_nonnull(v);
    memset(v, 'v', SF_HEAD_MAX);
    v[SF_HEAD_MAX] = '\0';
    sf_response_header(&r, "X-Big", "%s", v);
    free(v);
    ck_assert(r.st.head_overflow);
    ck_assert_uint_lt(r.st.head_len, SF_HEAD_MAX);
    /* what was there before is still intact */
    char want[512];
    size_t n = begin_bytes(want, sizeof(want), 200, "OK");
    ck_assert_uint_eq(n, before);
    ck_assert_mem_eq(r.head, want, n);
    /* and it stays set */
    sf_response_header(&r, "A", "b");
    sf_response_end_head(&r, true, false);
    ck_assert(r.st.head_overflow);
    sf_response_free(&r);
}
END_TEST

START_TEST(test_head_overflow_line)
{
    struct sf_response r;
    sf_response_init(&r);
    sf_response_begin(&r, 200, DATE);
    size_t before = r.st.head_len;
    char *v = malloc(SF_HEAD_MAX);
    ck_assert_ptr_nonnull(v);
    memset(v, 'l', SF_HEAD_MAX - 1);
    v[SF_HEAD_MAX - 1] = '\0';
    sf_response_line(&r, v);
    free(v);
    ck_assert(r.st.head_overflow);
    ck_assert_uint_eq(r.st.head_len, before);
    sf_response_free(&r);
}
END_TEST

START_TEST(test_head_overflow_many_headers)
{
    /* many small headers: the first that does not fit sets the flag, and
     * the head never passes the buffer */
    struct sf_response r;
    sf_response_init(&r);
    sf_response_begin(&r, 200, DATE);
    int i;
    for (i = 0; i < 1000 && !r.st.head_overflow; i++) {
        sf_response_header(&r, "X-Header-Number", "%d", i);
        ck_assert_uint_lt(r.st.head_len, SF_HEAD_MAX);
    }
    ck_assert(r.st.head_overflow);
    ck_assert_int_gt(i, 100);
    sf_response_free(&r);
}
END_TEST

/* ---- error responses ---- */

static const struct {
    int status;
    bool head_only;
    bool keep_alive;
    bool http10;
    const char *extra;
} error_cases[] = {
    {404, false, true, false, NULL},
    {404, true, true, false, NULL},
    {400, false, false, false, NULL},
    {400, false, false, true, NULL},
    {403, false, true, true, NULL},
    {405, false, true, false, "Allow: GET, HEAD"},
    {405, true, false, true, "Allow: GET, HEAD"},
    {408, false, false, false, NULL},
    {413, false, false, false, NULL},
    {414, true, false, false, NULL},
    {416, false, true, false, "Content-Range: bytes */10000"},
    {416, true, true, false, "Content-Range: bytes */10000"},
    {431, false, false, false, NULL},
    {500, false, true, false, NULL},
    {500, true, true, true, NULL},
    {501, false, false, false, NULL},
    {503, false, false, false, "Retry-After: 5"},
    {505, false, false, true, NULL},
    {999, false, true, false, NULL},
    /* no body and no Content-Length, with or without HEAD */
    {204, false, true, false, NULL},
    {204, true, false, false, NULL},
    {304, false, true, false, NULL},
    {304, true, true, true, NULL},
    {304, false, false, false, "ETag: \"abc\""},
};

START_TEST(test_error_table)
{
    int status = error_cases[_i].status;
    bool head_only = error_cases[_i].head_only;
    bool has_body = status != 204 && status != 304;
    const char *reason = sf_response_reason(status);

    struct sf_response r;
    sf_response_init(&r);
    sf_response_error(&r, status, DATE, error_cases[_i].keep_alive, error_cases[_i].http10,
                      head_only, error_cases[_i].extra);

    ck_assert_int_eq(r.st.status, status);
    ck_assert(!r.st.head_overflow);
    ck_assert_int_eq(r.st.fd, -1);

    /* the body: a small HTML page naming the status, or nothing */
    if (has_body) {
        char title[128];
        snprintf(title, sizeof(title), "<title>%d %s</title>", status, reason);
        char h1[128];
        snprintf(h1, sizeof(h1), "<h1>%d %s</h1>", status, reason);
        ck_assert_uint_gt(r.mem.len, 0);
        ck_assert_mem_eq(r.mem.data, "<!doctype html>\n", 16);
        ck_assert_ptr_nonnull(memmem(r.mem.data, r.mem.len, title, strlen(title)));
        ck_assert_ptr_nonnull(memmem(r.mem.data, r.mem.len, h1, strlen(h1)));
    } else {
        ck_assert_uint_eq(r.mem.len, 0);
    }
    ck_assert_uint_eq(r.st.content_length, r.mem.len);

    /* the head, byte for byte */
    char want[1024];
    size_t n = begin_bytes(want, sizeof(want), status, reason);
    if (error_cases[_i].extra)
        n += (size_t)snprintf(want + n, sizeof(want) - n, "%s\r\n", error_cases[_i].extra);
    if (has_body)
        n += (size_t)snprintf(want + n, sizeof(want) - n,
                              "Content-Type: text/html; charset=utf-8\r\n"
                              "Content-Length: %zu\r\n",
                              r.mem.len);
    if (!error_cases[_i].keep_alive)
        n += (size_t)snprintf(want + n, sizeof(want) - n, "Connection: close\r\n");
    else if (error_cases[_i].http10)
        n += (size_t)snprintf(want + n, sizeof(want) - n, "Connection: keep-alive\r\n");
    n += (size_t)snprintf(want + n, sizeof(want) - n, "\r\n");
    assert_head(&r, want, n);
    if (!has_body)
        ck_assert_ptr_null(memmem(r.head, r.st.head_len, "Content-Length", 14));

    /* HEAD, 204 and 304: no body segment */
    if (head_only || !has_body) {
        ck_assert(r.st.no_body);
        ck_assert_uint_eq(r.st.nseg, 0);
    } else {
        ck_assert(!r.st.no_body);
        ck_assert_uint_eq(r.st.nseg, 1);
        ck_assert_int_eq(r.seg[0].fd, -1);
        ck_assert_ptr_null(r.seg[0].p);
        ck_assert_uint_eq(r.seg[0].off, 0);
        ck_assert_uint_eq(r.seg[0].len, r.mem.len);
    }
    sf_response_free(&r);
}
END_TEST

START_TEST(test_error_replaces_response)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    struct sf_response r;
    sf_response_init(&r);
    sf_response_begin(&r, 200, DATE);
    sf_response_header(&r, "X-Old", "1");
    r.st.head_overflow = true;
    ck_assert_int_eq(sf_buf_puts(&r.mem, "old bytes"), 0);
    sf_response_add_mem(&r, 0, 9);
    sf_response_add_file(&r, p[0], 0, 100);
    r.st.fd = p[0];
    r.st.content_length = 109;

    sf_response_error(&r, 500, DATE, false, false, false, NULL);
    /* the owned fd is closed, the old head and segments are gone */
    ck_assert_int_eq(fcntl(p[0], F_GETFD), -1);
    ck_assert_int_eq(errno, EBADF);
    ck_assert_int_eq(r.st.fd, -1);
    ck_assert(!r.st.head_overflow);
    ck_assert_ptr_null(memmem(r.head, r.st.head_len, "X-Old", 5));
    ck_assert_ptr_null(memmem(r.mem.data, r.mem.len, "old bytes", 9));
    ck_assert_uint_eq(r.st.nseg, 1);
    ck_assert_int_eq(r.seg[0].fd, -1);
    ck_assert_uint_eq(r.seg[0].len, r.mem.len);
    ck_assert_uint_eq(r.st.content_length, r.mem.len);
    close(p[1]);
    sf_response_free(&r);
}
END_TEST

START_TEST(test_error_then_reuse)
{
    /* an error page, reset, another: the second body is the second's only */
    struct sf_response r;
    sf_response_init(&r);
    sf_response_error(&r, 431, DATE, false, false, false, NULL);
    size_t first = r.mem.len;
    sf_response_reset(&r);
    sf_response_error(&r, 404, DATE, true, false, false, NULL);
    ck_assert_uint_lt(r.mem.len, first);
    ck_assert_ptr_null(memmem(r.mem.data, r.mem.len, "431", 3));
    ck_assert_uint_eq(r.st.content_length, r.mem.len);
    sf_response_free(&r);
}
END_TEST

/* ---- segments ---- */

START_TEST(test_segments)
{
    static const char ext[] = "external";
    struct sf_response r;
    sf_response_init(&r);
    ck_assert_int_eq(sf_buf_puts(&r.mem, "0123456789"), 0);

    sf_response_add_mem(&r, 2, 3);
    sf_response_add_file(&r, 7, 100, 5000);
    sf_response_add_ext(&r, ext, 4);
    sf_response_add_file(&r, 9, 1ULL << 40, UINT64_MAX - (1ULL << 40));
    sf_response_add_mem(&r, 0, 10);
    /* empty ones are not queued */
    sf_response_add_mem(&r, 10, 0);
    sf_response_add_file(&r, 7, 5, 0);
    sf_response_add_ext(&r, ext, 0);

    static const struct {
        int fd;
        bool ext;
        uint64_t off, len;
    } want[] = {
        {-1, false, 2, 3},  {7, false, 100, 5000},
        {-1, true, 0, 4},   {9, false, 1ULL << 40, UINT64_MAX - (1ULL << 40)},
        {-1, false, 0, 10},
    };
    ck_assert_uint_eq(r.st.nseg, SF_ARRAY_LEN(want));
    for (unsigned i = 0; i < r.st.nseg; i++) {
        ck_assert_int_eq(r.seg[i].fd, want[i].fd);
        ck_assert_ptr_eq(r.seg[i].p, want[i].ext ? ext : NULL);
        ck_assert_uint_eq(r.seg[i].off, want[i].off);
        ck_assert_uint_eq(r.seg[i].len, want[i].len);
    }
    ck_assert_uint_eq(r.st.cur, 0);
    ck_assert_uint_eq(r.st.cur_done, 0);
    sf_response_free(&r);
}
END_TEST

START_TEST(test_segments_fill)
{
    struct sf_response r;
    sf_response_init(&r);
    for (unsigned i = 0; i < SF_SEG_MAX; i++)
        sf_response_add_file(&r, 3, i, 1);
    ck_assert_uint_eq(r.st.nseg, SF_SEG_MAX);
    ck_assert_uint_eq(r.seg[SF_SEG_MAX - 1].off, SF_SEG_MAX - 1);
    sf_response_free(&r);
}
END_TEST

START_TEST(test_segments_overfull_aborts)
{
    struct sf_response r;
    sf_response_init(&r);
    for (unsigned i = 0; i < SF_SEG_MAX; i++)
        sf_response_add_ext(&r, "x", 1);
    sf_response_add_ext(&r, "x", 1);
    ck_abort_msg("segment %u accepted", (unsigned)SF_SEG_MAX + 1);
}
END_TEST

START_TEST(test_add_mem_past_end_aborts)
{
    struct sf_response r;
    sf_response_init(&r);
    ck_assert_int_eq(sf_buf_puts(&r.mem, "abc"), 0);
    sf_response_add_mem(&r, 1, 3);
    ck_abort_msg("memory segment past mem.len accepted");
}
END_TEST

/* ---- reset and free ---- */

START_TEST(test_reset)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    struct sf_response r;
    sf_response_init(&r);
    ck_assert_int_eq(r.st.fd, -1);
    ck_assert_ptr_null(r.st.file);

    sf_response_begin(&r, 206, DATE);
    sf_response_end_head(&r, true, false);
    r.st.head_sent = 10;
    r.st.head_overflow = true;
    ck_assert_int_eq(sf_buf_printf(&r.mem, "%s", "generated body"), 0);
    sf_response_add_mem(&r, 0, r.mem.len);
    sf_response_add_file(&r, p[0], 0, 10);
    r.st.fd = p[0];
    r.st.cur = 1;
    r.st.cur_done = 3;
    r.st.content_length = 24;
    r.st.body_sent = 17;
    r.st.no_body = true;
    char *data = r.mem.data;
    size_t cap = r.mem.cap;

    sf_response_reset(&r);
    /* the owned fd is closed */
    ck_assert_int_eq(fcntl(p[0], F_GETFD), -1);
    ck_assert_int_eq(errno, EBADF);
    ck_assert_int_eq(r.st.fd, -1);
    /* mem keeps its allocation, emptied */
    ck_assert_ptr_eq(r.mem.data, data);
    ck_assert_uint_eq(r.mem.cap, cap);
    ck_assert_uint_eq(r.mem.len, 0);
    /* everything else is back to the start */
    ck_assert_int_eq(r.st.status, 0);
    ck_assert_uint_eq(r.st.head_len, 0);
    ck_assert_uint_eq(r.st.head_sent, 0);
    ck_assert(!r.st.head_overflow);
    ck_assert_uint_eq(r.st.nseg, 0);
    ck_assert_uint_eq(r.st.cur, 0);
    ck_assert_uint_eq(r.st.cur_done, 0);
    ck_assert_uint_eq(r.st.content_length, 0);
    ck_assert_uint_eq(r.st.body_sent, 0);
    ck_assert(!r.st.no_body);
    ck_assert_ptr_null(r.st.file);

    /* reset again with nothing owned: harmless; the write end is ours */
    sf_response_reset(&r);
    ck_assert_int_eq(fcntl(p[1], F_GETFD), 0);
    close(p[1]);

    /* reusable */
    sf_response_error(&r, 404, DATE, true, false, false, NULL);
    ck_assert_uint_eq(r.st.nseg, 1);
    sf_response_free(&r);
}
END_TEST

/* A big generated body (a listing of a large folder) gives its buffer
 * back when the response ends; a small one keeps it for the next. */
START_TEST(test_reset_frees_big_body)
{
    static char chunk[1024];
    memset(chunk, 'x', sizeof(chunk));
    struct sf_response r;
    sf_response_init(&r);
    for (int i = 0; i < 1024; i++) /* 1 MiB, a listing of some thousand files */
        ck_assert_int_eq(sf_buf_append(&r.mem, chunk, sizeof(chunk)), 0);
    sf_response_begin(&r, 200, DATE);
    sf_response_end_head(&r, true, false);
    sf_response_add_mem(&r, 0, r.mem.len);
    ck_assert_uint_gt(r.mem.cap, SF_RESPONSE_MEM_KEEP);
    sf_response_reset(&r);
    ck_assert_ptr_null(r.mem.data);
    ck_assert_uint_eq(r.mem.cap, 0);
    ck_assert_uint_eq(r.mem.len, 0);
    /* and the response is reusable */
    sf_response_error(&r, 404, DATE, true, false, false, NULL);
    ck_assert_uint_gt(r.mem.len, 0);
    ck_assert_uint_le(r.mem.cap, SF_RESPONSE_MEM_KEEP);
    char *data = r.mem.data;
    sf_response_reset(&r);
    ck_assert_ptr_eq(r.mem.data, data); /* an error page's buffer stays */
    sf_response_free(&r);
}
END_TEST

/* The bound itself: a buffer of SF_RESPONSE_MEM_KEEP bytes stays, one
 * byte more of room is released. */
START_TEST(test_reset_keep_bound)
{
    struct sf_response r;
    sf_response_init(&r);
    ck_assert_int_eq(sf_buf_reserve(&r.mem, SF_RESPONSE_MEM_KEEP), 0);
    ck_assert_uint_eq(r.mem.cap, SF_RESPONSE_MEM_KEEP);
    r.mem.len = SF_RESPONSE_MEM_KEEP;
    sf_response_reset(&r);
    ck_assert_ptr_nonnull(r.mem.data);
    ck_assert_uint_eq(r.mem.cap, SF_RESPONSE_MEM_KEEP);
    ck_assert_uint_eq(r.mem.len, 0);
    ck_assert_int_eq(sf_buf_reserve(&r.mem, SF_RESPONSE_MEM_KEEP + 1), 0);
    ck_assert_uint_gt(r.mem.cap, SF_RESPONSE_MEM_KEEP);
    sf_response_reset(&r);
    ck_assert_ptr_null(r.mem.data);
    ck_assert_uint_eq(r.mem.cap, 0);
    sf_response_free(&r);
}
END_TEST

START_TEST(test_free)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    struct sf_response r;
    sf_response_init(&r);
    ck_assert_int_eq(sf_buf_puts(&r.mem, "body"), 0);
    r.st.fd = p[0];
    sf_response_free(&r);
    ck_assert_ptr_null(r.mem.data);
    ck_assert_uint_eq(r.mem.cap, 0);
    ck_assert_int_eq(r.st.fd, -1);
    ck_assert_int_eq(fcntl(p[0], F_GETFD), -1);
    close(p[1]);
    /* a freed response can be freed again */
    sf_response_free(&r);
}
END_TEST

static Suite *
response_suite(void)
{
    Suite *s = suite_create("response");

    TCase *tc = tcase_create("head");
    tcase_add_loop_test(tc, test_reason_table, 0, (int)SF_ARRAY_LEN(statuses));
    tcase_add_loop_test(tc, test_begin_table, 0, (int)SF_ARRAY_LEN(statuses));
    tcase_add_test(tc, test_begin_restarts_head);
    tcase_add_loop_test(tc, test_end_head_table, 0, (int)SF_ARRAY_LEN(conn_cases));
    tcase_add_test(tc, test_headers);
    tcase_add_test(tc, test_put_headers);
    tcase_add_test(tc, test_put_overflow);
    tcase_add_loop_test_raise_signal(tc, test_put_crlf_aborts, SIGABRT, 0,
                                     (int)SF_ARRAY_LEN(bad_values));
    tcase_add_loop_test_raise_signal(tc, test_header_crlf_aborts, SIGABRT, 0,
                                     (int)SF_ARRAY_LEN(bad_values));
    tcase_add_test_raise_signal(tc, test_header_crlf_in_format_aborts, SIGABRT);
    tcase_add_loop_test_raise_signal(tc, test_line_crlf_aborts, SIGABRT, 0,
                                     (int)SF_ARRAY_LEN(bad_values));
    suite_add_tcase(s, tc);

    tc = tcase_create("overflow");
    tcase_add_test(tc, test_head_fills_to_max_minus_one);
    tcase_add_test(tc, test_head_overflow_end_head);
    tcase_add_test(tc, test_head_overflow_header);
    tcase_add_test(tc, test_head_overflow_line);
    tcase_add_test(tc, test_head_overflow_many_headers);
    suite_add_tcase(s, tc);

    tc = tcase_create("error");
    tcase_add_loop_test(tc, test_error_table, 0, (int)SF_ARRAY_LEN(error_cases));
    tcase_add_test(tc, test_error_replaces_response);
    tcase_add_test(tc, test_error_then_reuse);
    suite_add_tcase(s, tc);

    tc = tcase_create("segments");
    tcase_add_test(tc, test_segments);
    tcase_add_test(tc, test_segments_fill);
    tcase_add_test_raise_signal(tc, test_segments_overfull_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, test_add_mem_past_end_aborts, SIGABRT);
    tcase_add_test(tc, test_reset);
    tcase_add_test(tc, test_reset_frees_big_body);
    tcase_add_test(tc, test_reset_keep_bound);
    tcase_add_test(tc, test_free);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run_mode(response_suite(), true);
}
