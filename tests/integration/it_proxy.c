/*
 * it_proxy.c - the PROXY protocol end to end: a config-file server with
 * "listen = 127.0.0.1:0 proxy_protocol" and an access log in a file.
 * v1 (TCP4, TCP6, UNKNOWN) and v2 (TCP over IPv4/IPv6, LOCAL, TLVs)
 * headers before a request get it served, and the access log names the
 * client from the header (or the socket's own peer for LOCAL/UNKNOWN);
 * header and request in one write or in pieces; keep-alive requests
 * after one header; malformed headers, a plain HTTP request and silence
 * past header_timeout get the connection closed without one HTTP byte,
 * and the server keeps serving.
 */
#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define ACCESS_WAIT_MS 5000

static char g_base[PATH_MAX];
static char g_access[PATH_MAX];
static struct it_server srv;

/* v2 pieces: the signature, addresses and ports, as string literals */
#define SIG "\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A"
#define A4 "\xCB\x00\x71\x2A" /* 203.0.113.42 */
#define B4 "\x7F\x00\x00\x01" /* 127.0.0.1 */
#define A6 "\x20\x01\x0D\xB8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x42"
#define B6 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
#define PORTS "\x9C\x40\x00\x50" /* 40000 -> 80 */

static void
setup(void)
{
    char root[PATH_MAX], conf[PATH_MAX], text[4 * PATH_MAX];

    it_tmpdir(g_base, sizeof(g_base));
    it_join(root, sizeof(root), g_base, "www");
    it_mkdir(root);
    it_put(root, "a.txt", "hello\n");
    it_join(g_access, sizeof(g_access), g_base, "access.log");
    it_join(conf, sizeof(conf), g_base, "proxy.conf");
    snprintf(text, sizeof(text),
             "[server]\nlisten = 127.0.0.1:0 proxy_protocol\naccess_log = %s\n"
             "header_timeout = 1.5\n%s\n"
             "[site]\nroot = %s\n",
             g_access, getuid() == 0 ? "user = root\n" : "", root);
    it_write_str(conf, text);
    it_server_start_conf(&srv, conf);
}

static void
teardown(void)
{
    it_server_stop(&srv);
    it_rmtree(g_base);
}

/*
 * Wait (bounded: the log is flushed at least once a second) for the
 * access-log line whose request line holds marker, and copy it to line.
 */
static void
access_line(const char *marker, char *line, size_t cap)
{
    int64_t deadline = it_now_ms() + ACCESS_WAIT_MS;
    static char all[1 << 16];
    for (;;) {
        int fd = open(g_access, O_RDONLY | O_CLOEXEC);
        size_t len = 0;
        if (fd >= 0) {
            ssize_t n;
            while (len < sizeof(all) - 1 && (n = read(fd, all + len, sizeof(all) - 1 - len)) > 0)
                len += (size_t)n;
            close(fd);
        }
        all[len] = '\0';
        const char *hit = strstr(all, marker);
        if (hit) {
            const char *start = hit;
            while (start > all && start[-1] != '\n')
                start--;
            size_t n = strcspn(start, "\n");
            ck_assert_uint_lt(n, cap);
            memcpy(line, start, n);
            line[n] = '\0';
            return;
        }
        ck_assert_msg(it_now_ms() < deadline, "no access-log line for %s; log:\n%s", marker, all);
        it_sleep_ms(50);
    }
}

/* The access-log line for marker names client (combined format). */
static void
assert_client(const char *marker, const char *client)
{
    char line[4096], want[256];
    access_line(marker, line, sizeof(line));
    snprintf(want, sizeof(want), "%s - - [", client);
    ck_assert_msg(strncmp(line, want, strlen(want)) == 0, "%s: client should be %s: %s", marker,
                  client, line);
}

/* Send the pieces (with a pause between, so that they arrive apart),
 * then read one 200 response with the file's body. */
static void
exchange(const void *const parts[], const size_t lens[], size_t nparts)
{
    struct it_conn c;
    struct it_response r;
    it_conn_open(&c, srv.port);
    for (size_t i = 0; i < nparts; i++) {
        if (i)
            it_sleep_ms(100);
        it_conn_send(&c, parts[i], lens[i]);
    }
    ck_assert_int_eq(it_read_response(&c, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "hello\n");
    it_response_free(&r);
    it_conn_close(&c);
}

/* Header and request in one write. */
static void
one_write(const void *hdr, size_t hlen, const char *marker)
{
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "GET /a.txt?%s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", marker);
    char *buf = malloc(hlen + (size_t)n);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, hdr, hlen);
    memcpy(buf + hlen, req, (size_t)n);
    const void *parts[] = {buf};
    size_t lens[] = {hlen + (size_t)n};
    exchange(parts, lens, 1);
    free(buf);
}

/* The header, then the request in a second write. */
static void
two_writes(const void *hdr, size_t hlen, const char *marker)
{
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "GET /a.txt?%s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", marker);
    const void *parts[] = {hdr, req};
    size_t lens[] = {hlen, (size_t)n};
    exchange(parts, lens, 2);
}

/* Send bytes that are no PROXY header: the server must close without
 * writing anything. */
static void
assert_refused(const void *bytes, size_t len)
{
    struct it_conn c;
    size_t drained = 0;
    it_conn_open(&c, srv.port);
    /* the server may close before it has everything: a failed send is fine */
    (void)it_conn_try_send(&c, bytes, len);
    ck_assert_msg(it_conn_wait_closed(&c, 5000, &drained), "connection not closed");
    ck_assert_uint_eq(drained, 0);
    it_conn_close(&c);
}

/* The server still answers a good request after whatever came before. */
static void
assert_serving(void)
{
    static const char hdr[] = "PROXY TCP4 192.0.2.200 127.0.0.1 1 80\r\n";
    it_server_assert_alive(&srv);
    one_write(hdr, sizeof(hdr) - 1, "still-serving");
    assert_client("still-serving", "192.0.2.200");
}

START_TEST(t_v1_tcp4)
{
    static const char hdr[] = "PROXY TCP4 203.0.113.7 127.0.0.1 40000 80\r\n";
    one_write(hdr, sizeof(hdr) - 1, "v1-tcp4");
    assert_client("v1-tcp4", "203.0.113.7");
}
END_TEST

START_TEST(t_v1_tcp6)
{
    static const char hdr[] = "PROXY TCP6 2001:DB8:0:0::7 ::1 40000 80\r\n";
    one_write(hdr, sizeof(hdr) - 1, "v1-tcp6");
    assert_client("v1-tcp6", "2001:db8::7");
}
END_TEST

START_TEST(t_v1_unknown)
{
    static const char hdr[] = "PROXY UNKNOWN\r\n";
    one_write(hdr, sizeof(hdr) - 1, "v1-unknown");
    assert_client("v1-unknown", "127.0.0.1");
}
END_TEST

START_TEST(t_v1_pieces)
{
    static const char hdr[] = "PROXY TCP4 198.51.100.9 127.0.0.1 40000 80\r\n";
    two_writes(hdr, sizeof(hdr) - 1, "v1-two-writes");
    assert_client("v1-two-writes", "198.51.100.9");
    /* the header itself cut in three, the request in two */
    static const char req[] =
        "GET /a.txt?v1-five-writes HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    static const char *const cut[] = {"PROXY TCP4 198.51.1", "00.10 127.0.0.1 40000 80\r",
                                      "\nGET /a.t"};
    const void *parts[] = {cut[0], cut[1], cut[2], req + 8};
    size_t lens[] = {strlen(cut[0]), strlen(cut[1]), strlen(cut[2]), sizeof(req) - 1 - 8};
    exchange(parts, lens, 4);
    assert_client("v1-five-writes", "198.51.100.10");
}
END_TEST

START_TEST(t_v2_tcp4)
{
    static const char hdr[] = SIG "\x21\x11\x00\x0C" A4 B4 PORTS;
    one_write(hdr, sizeof(hdr) - 1, "v2-tcp4");
    assert_client("v2-tcp4", "203.0.113.42");
    two_writes(hdr, sizeof(hdr) - 1, "v2-tcp4-two-writes");
    assert_client("v2-tcp4-two-writes", "203.0.113.42");
}
END_TEST

START_TEST(t_v2_tcp6)
{
    static const char hdr[] = SIG "\x21\x21\x00\x24" A6 B6 PORTS;
    one_write(hdr, sizeof(hdr) - 1, "v2-tcp6");
    assert_client("v2-tcp6", "2001:db8::42");
}
END_TEST

START_TEST(t_v2_tlvs_and_pieces)
{
    /* ALPN "http/1.1" and an AUTHORITY TLV, skipped */
    static const char hdr[] = SIG "\x21\x11\x00\x21" A4 B4 PORTS "\x01\x00\x08http/1.1"
                                  "\x02\x00\x07"
                                  "a.b.com";
    one_write(hdr, sizeof(hdr) - 1, "v2-tlvs");
    assert_client("v2-tlvs", "203.0.113.42");
    /* cut inside the signature and inside the address block */
    static const char req[] =
        "GET /a.txt?v2-pieces HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    const void *parts[] = {hdr, hdr + 5, hdr + 20, req};
    size_t lens[] = {5, 15, sizeof(hdr) - 1 - 20, sizeof(req) - 1};
    exchange(parts, lens, 4);
    assert_client("v2-pieces", "203.0.113.42");
}
END_TEST

START_TEST(t_v2_local)
{
    /* LOCAL: a health check from the proxy; the block is ignored */
    static const char hdr[] = SIG "\x20\x11\x00\x0C" A4 B4 PORTS;
    one_write(hdr, sizeof(hdr) - 1, "v2-local");
    assert_client("v2-local", "127.0.0.1");
    static const char bare[] = SIG "\x20\x00\x00\x00";
    two_writes(bare, sizeof(bare) - 1, "v2-local-bare");
    assert_client("v2-local-bare", "127.0.0.1");
}
END_TEST

/* One header, then several requests on the connection: each is served
 * and logged with the header's client; no header comes again. */
START_TEST(t_keepalive)
{
    static const char first[] = "PROXY TCP4 203.0.113.99 127.0.0.1 40000 80\r\n"
                                "GET /a.txt?ka-1 HTTP/1.1\r\nHost: t\r\n\r\n";
    static const char second[] = "GET /a.txt?ka-2 HTTP/1.1\r\nHost: t\r\n\r\n"
                                 "GET /a.txt?ka-3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    struct it_conn c;
    struct it_response r;
    it_conn_open(&c, srv.port);
    it_conn_send(&c, first, sizeof(first) - 1);
    ck_assert_int_eq(it_read_response(&c, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 200);
    it_response_free(&r);
    it_conn_send(&c, second, sizeof(second) - 1);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(it_read_response(&c, &r, false), IT_OK);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.body, "hello\n");
        it_response_free(&r);
    }
    ck_assert(it_conn_wait_closed(&c, 5000, NULL));
    it_conn_close(&c);
    assert_client("ka-1", "203.0.113.99");
    assert_client("ka-2", "203.0.113.99");
    assert_client("ka-3", "203.0.113.99");
}
END_TEST

static const struct {
    const char *bytes;
    size_t len;
} bad[] = {
#define B(lit)                                                                                     \
    {                                                                                              \
        lit, sizeof(lit) - 1                                                                       \
    }
    /* a client talking to the listener directly */
    B("GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n"),
    /* v1 */
    B("PROXY TCP4 203.0.113.7 127.0.0.1 40000 80\nGET / HTTP/1.1\r\nHost: t\r\n\r\n"),
    B("PROXY TCP4 203.0.113.7  127.0.0.1 40000 80\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n"),
    B("PROXY TCP4 203.0.113.07 127.0.0.1 40000 80\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n"),
    B("PROXY TCP4 203.0.113.7 127.0.0.1 65536 80\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n"),
    B("PROXY TCP4 203.0.113.7 127.0.0.1 +4 80\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n"),
    B("PROXY TCP6 203.0.113.7 127.0.0.1 40000 80\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n"),
    B("PROXY TCP4 203.0.113.7 127.0.0.1 40000 80 \r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n"),
    B("PROXY TCP5 203.0.113.7 127.0.0.1 40000 80\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n"),
    B("PROXY UNKNOWN "
      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n"),
    /* v2 */
    B(SIG "\x11\x11\x00\x0C" A4 B4 PORTS "GET / HTTP/1.1\r\nHost: t\r\n\r\n"),
    B(SIG "\x22\x11\x00\x0C" A4 B4 PORTS "GET / HTTP/1.1\r\nHost: t\r\n\r\n"),
    B(SIG "\x21\x41\x00\x0C" A4 B4 PORTS "GET / HTTP/1.1\r\nHost: t\r\n\r\n"),
    B(SIG "\x21\x21\x00\x0C" A4 B4 PORTS "GET / HTTP/1.1\r\nHost: t\r\n\r\n"),
    B(SIG "\x21\x11\x00\x10" A4 B4 PORTS "\x04\x00\x09GET / HTTP/1.1\r\nHost: t\r\n\r\n"),
    B("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0B\x21\x11\x00\x0C" A4 B4 PORTS),
#undef B
};

START_TEST(t_malformed)
{
    assert_refused(bad[_i].bytes, bad[_i].len);
    assert_serving();
}
END_TEST

/* A v2 length that runs past the header buffer: refused once it is full. */
START_TEST(t_v2_too_long)
{
    static const char hdr[] = SIG "\x20\x00\xFF\xFF";
    size_t len = 64 * 1024;
    char *buf = calloc(1, len);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, hdr, sizeof(hdr) - 1);
    assert_refused(buf, len);
    free(buf);
    assert_serving();
}
END_TEST

/* Nothing, or half a header, within header_timeout (1.5 s): closed. */
START_TEST(t_timeout)
{
    struct it_conn silent, half;
    size_t drained = 1;
    int64_t t0 = it_now_ms();
    it_conn_open(&silent, srv.port);
    it_conn_open(&half, srv.port);
    it_conn_send_str(&half, "PROXY TCP4 203.0.113.7 127.0");
    ck_assert(it_conn_wait_closed(&silent, 6000, &drained));
    ck_assert_uint_eq(drained, 0);
    ck_assert(it_conn_wait_closed(&half, 6000, &drained));
    ck_assert_uint_eq(drained, 0);
    int64_t took = it_now_ms() - t0;
    ck_assert_msg(took >= 1000 && took < 5000, "closed after %lld ms", (long long)took);
    it_conn_close(&silent);
    it_conn_close(&half);
    assert_serving();
}
END_TEST

static Suite *
proxy_suite(void)
{
    Suite *s = suite_create("proxy");
    TCase *tc = tcase_create("proxy");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, t_v1_tcp4);
    tcase_add_test(tc, t_v1_tcp6);
    tcase_add_test(tc, t_v1_unknown);
    tcase_add_test(tc, t_v1_pieces);
    tcase_add_test(tc, t_v2_tcp4);
    tcase_add_test(tc, t_v2_tcp6);
    tcase_add_test(tc, t_v2_tlvs_and_pieces);
    tcase_add_test(tc, t_v2_local);
    tcase_add_test(tc, t_keepalive);
    tcase_add_loop_test(tc, t_malformed, 0, (int)(sizeof(bad) / sizeof(bad[0])));
    tcase_add_test(tc, t_v2_too_long);
    tcase_add_test(tc, t_timeout);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return it_main(proxy_suite());
}
