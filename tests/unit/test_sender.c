/*
 * test_sender.c - unit tests for the sender over real sockets: an
 * AF_UNIX socketpair (SEQPACKET where one record must mean one write) or
 * a loopback TCP pair, the sending end non-blocking with a small send
 * buffer, the other end read here. Each response is reassembled from what
 * the peer received and compared byte for byte with its head and
 * segments; after every call the bytes received must equal head_sent +
 * body_sent, and body_sent must equal the finished segments plus
 * cur_done. Every loop is bounded.
 */
#include "sfhttpd/sender.h"

#include "sfhttpd/common.h"
#include "sfhttpd/response.h"
#include "unit_util.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DATE "Sun, 06 Nov 1994 08:49:37 GMT"
#define MAX_CALLS 200000
#define BIG_BUDGET ((size_t)1 << 30)

/* ---- sockets ---- */

static void
set_sender_opts(int s, int sndbuf)
{
    if (sndbuf > 0)
        ck_assert_int_eq(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
    int fl = fcntl(s, F_GETFL);
    ck_assert_int_ge(fl, 0);
    ck_assert_int_eq(fcntl(s, F_SETFL, fl | O_NONBLOCK), 0);
}

/* sv[0] sends (non-blocking, sndbuf if > 0), sv[1] is the peer. */
static void
unix_pair(int sv[2], int type, int sndbuf)
{
    ck_assert_int_eq(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), 0);
    set_sender_opts(sv[0], sndbuf);
}

static void
tcp_pair(int sv[2], int sndbuf)
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(l, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(l, 1), 0);
    socklen_t alen = sizeof(a);
    ck_assert_int_eq(getsockname(l, (struct sockaddr *)&a, &alen), 0);
    sv[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(sv[1], 0);
    ck_assert_int_eq(connect(sv[1], (struct sockaddr *)&a, sizeof(a)), 0);
    sv[0] = accept(l, NULL, NULL);
    ck_assert_int_ge(sv[0], 0);
    close(l);
    set_sender_opts(sv[0], sndbuf);
}

/* Read everything the peer has now (bounded). */
static size_t
drain(int peer, struct sf_buf *out)
{
    char buf[65536];
    size_t got = 0;
    for (int i = 0; i < 100000; i++) {
        ssize_t n = recv(peer, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            ck_assert_int_eq(sf_buf_append(out, buf, (size_t)n), 0);
            got += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        ck_assert(n == 0 || errno == EAGAIN || errno == EWOULDBLOCK);
        break;
    }
    return got;
}

/* TCP over loopback delivers asynchronously: read until want bytes in
 * total have arrived or a bounded wait runs out. */
static void
drain_until(int peer, struct sf_buf *out, size_t want)
{
    for (int i = 0; i < 2000 && out->len < want; i++) {
        if (drain(peer, out) == 0)
            usleep(1000);
    }
}

/* ---- files and responses ---- */

static unsigned char
pattern(uint64_t i)
{
    /* not periodic at any small stride, so an offset error shows */
    return (unsigned char)((i * 2654435761u) >> 13 ^ i >> 8);
}

/* A temporary file of n pattern bytes, already unlinked. */
static int
temp_file(size_t n)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/sf_sender_XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    unsigned char *buf = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(buf);
    for (size_t i = 0; i < n; i++)
        buf[i] = pattern(i);
    size_t off = 0;
    for (int k = 0; k < 1000 && off < n; k++) {
        ssize_t w = write(fd, buf + off, n - off);
        ck_assert_int_gt(w, 0);
        off += (size_t)w;
    }
    ck_assert_uint_eq(off, n);
    free(buf);
    return fd;
}

/* A 200 head promising cl body bytes. */
static void
head(struct sf_response *r, uint64_t cl)
{
    sf_response_begin(r, 200, DATE);
    sf_response_header(r, "Content-Length", "%llu", (unsigned long long)cl);
    sf_response_end_head(r, true, false);
    ck_assert(!r->st.head_overflow);
    r->st.content_length = cl;
}

static uint64_t
body_len(const struct sf_response *r)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < r->st.nseg; i++)
        n += r->seg[i].len;
    return n;
}

/* The bytes r must put on the wire: its head, then every segment unless
 * no_body. File segments read their bytes from pattern(). */
static void
expected(const struct sf_response *r, struct sf_buf *want)
{
    ck_assert_int_eq(sf_buf_append(want, r->head, r->st.head_len), 0);
    if (r->st.no_body)
        return;
    for (unsigned i = 0; i < r->st.nseg; i++) {
        const struct sf_seg *s = &r->seg[i];
        if (s->fd >= 0) {
            ck_assert_int_eq(sf_buf_reserve(want, (size_t)s->len), 0);
            for (uint64_t k = 0; k < s->len; k++)
                want->data[want->len++] = (char)pattern(s->off + k);
        } else {
            const char *base = s->p ? s->p : r->mem.data;
            ck_assert_int_eq(sf_buf_append(want, base + s->off, (size_t)s->len), 0);
        }
    }
}

/* The sender's bookkeeping must match what the peer has. */
static void
check_progress(const struct sf_response *r, size_t received, bool exact)
{
    ck_assert_uint_le(r->st.head_sent, r->st.head_len);
    uint64_t done = 0;
    for (unsigned i = 0; i < r->st.cur && i < r->st.nseg; i++)
        done += r->seg[i].len;
    ck_assert_uint_le(r->st.cur, r->st.nseg);
    if (r->st.cur < r->st.nseg)
        ck_assert_uint_lt(r->st.cur_done, r->seg[r->st.cur].len);
    else
        ck_assert_uint_eq(r->st.cur_done, 0);
    ck_assert_uint_eq(r->st.body_sent, done + r->st.cur_done);
    if (r->st.body_sent > 0)
        ck_assert_uint_eq(r->st.head_sent, r->st.head_len);
    ck_assert_msg(exact ? received == r->st.head_sent + r->st.body_sent
                        : received <= r->st.head_sent + r->st.body_sent,
                  "peer has %zu bytes, sender says %zu head + %llu body", received, r->st.head_sent,
                  (unsigned long long)r->st.body_sent);
}

struct run {
    enum sf_io rc;
    int err;
    unsigned calls;
    unsigned agains;
    size_t max_per_call;
};

/* Call the sender until it is done or fails, reading the peer after each
 * call and checking the bookkeeping. tcp: wait for in-flight bytes. */
static struct run
pump(struct sf_response *r, int sock, int peer, size_t budget, struct sf_buf *got, bool tcp)
{
    struct run x = {.rc = SF_IO_AGAIN};
    while (x.calls < MAX_CALLS) {
        size_t before = r->st.head_sent + (size_t)r->st.body_sent;
        x.err = 0;
        x.rc = sf_sender_send(r, sock, budget, &x.err);
        x.calls++;
        size_t sent = r->st.head_sent + (size_t)r->st.body_sent - before;
        if (sent > x.max_per_call)
            x.max_per_call = sent;
        drain(peer, got);
        if (x.rc == SF_IO_ERR)
            break;
        if (tcp && x.rc == SF_IO_OK)
            drain_until(peer, got, r->st.head_sent + (size_t)r->st.body_sent);
        /* over TCP, bytes may still be in flight after a call */
        check_progress(r, got->len, !tcp || x.rc == SF_IO_OK);
        if (x.rc != SF_IO_AGAIN)
            break;
        x.agains++;
    }
    ck_assert_uint_lt(x.calls, MAX_CALLS);
    return x;
}

static void
assert_same(const struct sf_buf *got, const struct sf_buf *want)
{
    ck_assert_msg(got->len == want->len, "received %zu bytes, want %zu", got->len, want->len);
    size_t i = 0;
    while (i < got->len && got->data[i] == want->data[i])
        i++;
    ck_assert_msg(i == got->len, "first difference at byte %zu of %zu", i, got->len);
}

/* Send r whole and compare; returns the run. */
static struct run
send_and_compare(struct sf_response *r, int sv[2], size_t budget, bool tcp)
{
    struct sf_buf want = {0}, got = {0};
    expected(r, &want);
    struct run x = pump(r, sv[0], sv[1], budget, &got, tcp);
    ck_assert_msg(x.rc == SF_IO_OK, "rc %d err %d", (int)x.rc, x.err);
    ck_assert_uint_eq(r->st.head_sent, r->st.head_len);
    ck_assert_uint_eq(r->st.body_sent, r->st.no_body ? 0 : body_len(r));
    assert_same(&got, &want);
    sf_buf_free(&want);
    sf_buf_free(&got);
    return x;
}

/* ---- head and memory ---- */

START_TEST(test_head_only)
{
    int sv[2];
    unix_pair(sv, SOCK_STREAM, 0);
    struct sf_response r;
    sf_response_init(&r);
    head(&r, 0);
    struct run x = send_and_compare(&r, sv, BIG_BUDGET, false);
    ck_assert_uint_eq(x.calls, 1);
    ck_assert_uint_eq(r.st.body_sent, 0);
    /* done is done: another call sends nothing */
    int err = 0;
    ck_assert_int_eq(sf_sender_send(&r, sv[0], BIG_BUDGET, &err), SF_IO_OK);
    struct sf_buf more = {0};
    ck_assert_uint_eq(drain(sv[1], &more), 0);
    sf_response_free(&r);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(test_head_and_mem_one_write)
{
    /* SEQPACKET keeps record boundaries: one record = one sendmsg */
    static const char ext[] = "EXTERNAL";
    int sv[2];
    unix_pair(sv, SOCK_SEQPACKET, 0);
    struct sf_response r;
    sf_response_init(&r);
    ck_assert_int_eq(sf_buf_puts(&r.mem, "hello world"), 0);
    sf_response_add_mem(&r, 0, 5);
    sf_response_add_ext(&r, ext, 8);
    sf_response_add_mem(&r, 5, 6);
    head(&r, 19);

    struct sf_buf want = {0};
    expected(&r, &want);
    int err = 0;
    ck_assert_int_eq(sf_sender_send(&r, sv[0], BIG_BUDGET, &err), SF_IO_OK);
    char buf[8192];
    ssize_t n = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT);
    ck_assert_int_eq(n, (ssize_t)want.len);
    ck_assert_mem_eq(buf, want.data, want.len);
    ck_assert_mem_eq(buf + r.st.head_len, "helloEXTERNAL world", 19);
    /* nothing else: it was one write */
    ck_assert_int_eq(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), -1);
    ck_assert_int_eq(errno, EAGAIN);
    ck_assert_uint_eq(r.st.body_sent, 19);
    ck_assert_uint_eq(r.st.cur, 3);
    sf_buf_free(&want);
    sf_response_free(&r);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(test_many_mem_segments)
{
    /* more memory segments than one gather write takes, in a small send
     * buffer: several writes, partial ones, resumed inside segments */
    int sv[2];
    unix_pair(sv, SOCK_STREAM, 4096);
    struct sf_response r;
    sf_response_init(&r);
    for (int i = 0; i < 3000; i++)
        ck_assert_int_eq(sf_buf_printf(&r.mem, "line %05d of the generated body\n", i), 0);
    size_t step = r.mem.len / 50;
    size_t off = 0;
    for (int i = 0; i < 50 && off < r.mem.len; i++) {
        size_t len = i == 49 ? r.mem.len - off : step - (size_t)(i % 7);
        sf_response_add_mem(&r, off, len);
        off += len;
        if (i % 5 == 0)
            sf_response_add_ext(&r, "--ext--", 7);
    }
    head(&r, body_len(&r));
    struct run x = send_and_compare(&r, sv, BIG_BUDGET, false);
    ck_assert_uint_gt(x.agains, 0);
    sf_response_free(&r);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(test_partial_head)
{
    /* a head larger than the send buffer takes: resumed from head_sent */
    int sv[2];
    unix_pair(sv, SOCK_STREAM, 1);
    struct sf_response r;
    sf_response_init(&r);
    sf_response_begin(&r, 200, DATE);
    for (int i = 0; i < 40; i++)
        sf_response_header(&r, "X-Filler", "%064d", i);
    sf_response_header(&r, "Content-Length", "3");
    sf_response_end_head(&r, true, false);
    ck_assert(!r.st.head_overflow);
    ck_assert_int_eq(sf_buf_puts(&r.mem, "abc"), 0);
    sf_response_add_mem(&r, 0, 3);
    /* fill the socket first so that the head must go out in pieces */
    char junk[1024];
    memset(junk, 'j', sizeof(junk));
    size_t queued = 0;
    for (int i = 0; i < 10000; i++) {
        ssize_t w = send(sv[0], junk, sizeof(junk), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0)
            break;
        queued += (size_t)w;
    }
    ck_assert_uint_gt(queued, 0);
    int err = 0;
    ck_assert_int_eq(sf_sender_send(&r, sv[0], BIG_BUDGET, &err), SF_IO_AGAIN);
    ck_assert_uint_lt(r.st.head_sent, r.st.head_len);
    ck_assert_uint_eq(r.st.body_sent, 0);
    /* read the junk back, then the rest */
    struct sf_buf got = {0};
    for (int i = 0; i < 1000 && got.len < queued; i++)
        drain(sv[1], &got);
    ck_assert_uint_ge(got.len, queued);
    size_t early = got.len - queued; /* head bytes already received */
    struct sf_buf want = {0};
    expected(&r, &want);
    struct sf_buf rest = {0};
    ck_assert_int_eq(sf_buf_append(&rest, got.data + queued, early), 0);
    struct run x = pump(&r, sv[0], sv[1], BIG_BUDGET, &rest, false);
    ck_assert_int_eq(x.rc, SF_IO_OK);
    assert_same(&rest, &want);
    sf_buf_free(&got);
    sf_buf_free(&rest);
    sf_buf_free(&want);
    sf_response_free(&r);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

/* ---- file ranges ---- */

#define FILE_SIZE 300000

static const int sndbufs[] = {0, 1, 4096, 32768};

START_TEST(test_file_range)
{
    int sv[2];
    unix_pair(sv, SOCK_STREAM, sndbufs[_i]);
    int fd = temp_file(FILE_SIZE);
    struct sf_response r;
    sf_response_init(&r);
    sf_response_add_file(&r, fd, 1234, 250000);
    head(&r, 250000);
    struct run x = send_and_compare(&r, sv, BIG_BUDGET, false);
    if (sndbufs[_i] > 0 && sndbufs[_i] <= 4096)
        ck_assert_uint_gt(x.agains, 0);
    ck_assert_uint_eq(r.st.body_sent, 250000);
    /* the file offset is not the sender's business */
    ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), FILE_SIZE);
    close(fd);
    sf_response_free(&r);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(test_whole_file)
{
    int sv[2];
    unix_pair(sv, SOCK_STREAM, sndbufs[_i]);
    int fd = temp_file(FILE_SIZE);
    struct sf_response r;
    sf_response_init(&r);
    sf_response_add_file(&r, fd, 0, FILE_SIZE);
    head(&r, FILE_SIZE);
    send_and_compare(&r, sv, BIG_BUDGET, false);
    close(fd);
    sf_response_free(&r);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

/* multipart/byteranges: part headers in mem, file ranges between them,
 * the closing delimiter, in the order of the ranges given */
static void
multipart(struct sf_response *r, int fd, const uint64_t (*ranges)[2], size_t n)
{
    size_t off[SF_RANGES_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        off[i] = r->mem.len;
        ck_assert_int_eq(sf_buf_printf(&r->mem,
                                       "\r\n--SFHTTPD0123456789\r\nContent-Type: text/plain\r\n"
                                       "Content-Range: bytes %llu-%llu/%d\r\n\r\n",
                                       (unsigned long long)ranges[i][0],
                                       (unsigned long long)(ranges[i][0] + ranges[i][1] - 1),
                                       FILE_SIZE),
                         0);
    }
    off[n] = r->mem.len;
    ck_assert_int_eq(sf_buf_puts(&r->mem, "\r\n--SFHTTPD0123456789--\r\n"), 0);
    for (size_t i = 0; i < n; i++) {
        sf_response_add_mem(r, off[i], off[i + 1] - off[i]);
        sf_response_add_file(r, fd, ranges[i][0], ranges[i][1]);
    }
    sf_response_add_mem(r, off[n], r->mem.len - off[n]);
    head(r, body_len(r));
}

static const uint64_t mp_ranges[][2] = {
    {0, 1},        {1, 100},    {5000, 20000}, {299990, 10}, {150000, 65536},
    {100, 100000}, {299999, 1}, {7, 3},        {65535, 2},   {4096, 4096},
};

START_TEST(test_multipart)
{
    int sv[2];
    unix_pair(sv, SOCK_STREAM, sndbufs[_i]);
    int fd = temp_file(FILE_SIZE);
    struct sf_response r;
    sf_response_init(&r);
    multipart(&r, fd, mp_ranges, SF_ARRAY_LEN(mp_ranges));
    ck_assert_uint_eq(r.st.nseg, 2 * SF_ARRAY_LEN(mp_ranges) + 1);
    send_and_compare(&r, sv, BIG_BUDGET, false);
    close(fd);
    sf_response_free(&r);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(test_multipart_max_ranges)
{
    /* the most segments a response holds, in a small buffer */
    int sv[2];
    unix_pair(sv, SOCK_STREAM, 4096);
    int fd = temp_file(FILE_SIZE);
    uint64_t ranges[SF_RANGES_MAX][2];
    for (size_t i = 0; i < SF_RANGES_MAX; i++) {
        ranges[i][0] = (i * 4099) % (FILE_SIZE - 3000);
        ranges[i][1] = 1 + (i * 37) % 3000;
    }
    struct sf_response r;
    sf_response_init(&r);
    multipart(&r, fd, (const uint64_t(*)[2])ranges, SF_RANGES_MAX);
    ck_assert_uint_eq(r.st.nseg, 2 * SF_RANGES_MAX + 1);
    struct run x = send_and_compare(&r, sv, BIG_BUDGET, false);
    ck_assert_uint_gt(x.agains, 0);
    close(fd);
    sf_response_free(&r);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(test_multipart_tcp)
{
    /* the real transport, with MSG_MORE between head/part headers and
     * file bytes */
    int sv[2];
    tcp_pair(sv, sndbufs[_i]);
    int fd = temp_file(FILE_SIZE);
    struct sf_response r;
    sf_response_init(&r);
    multipart(&r, fd, mp_ranges, SF_ARRAY_LEN(mp_ranges));
    send_and_compare(&r, sv, BIG_BUDGET, true);
    close(fd);
    sf_response_free(&r);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

/* ---- budget ---- */

enum body_kind { MEM, FILE_, MIXED };

static const struct {
    enum body_kind kind;
    size_t budget;
} budget_cases[] = {
    {MEM, 1},     {MEM, 7},     {MEM, 100},    {MEM, 1000},   {MEM, 4096},  {FILE_, 1},
    {FILE_, 7},   {FILE_, 100}, {FILE_, 1000}, {FILE_, 4096}, {MIXED, 1},   {MIXED, 13},
    {MIXED, 100}, {MIXED, 999}, {MIXED, 4096}, {MIXED, 8192}, {MEM, 65536}, {FILE_, 65536},
};

static void
budget_body(struct sf_response *r, enum body_kind kind, int fd)
{
    static const uint64_t ranges[][2] = {{10, 3000}, {20000, 1}, {40000, 5000}};
    switch (kind) {
    case MEM:
        for (int i = 0; i < 400; i++)
            ck_assert_int_eq(sf_buf_printf(&r->mem, "%03d:memory body bytes.\n", i), 0);
        sf_response_add_mem(r, 0, r->mem.len / 3);
        sf_response_add_ext(r, "[ext]", 5);
        sf_response_add_mem(r, r->mem.len / 3, r->mem.len - r->mem.len / 3);
        head(r, body_len(r));
        break;
    case FILE_:
        sf_response_add_file(r, fd, 333, 9000);
        head(r, 9000);
        break;
    case MIXED: multipart(r, fd, ranges, SF_ARRAY_LEN(ranges)); break;
    }
}

START_TEST(test_budget)
{
    /* a big, drained buffer: the budget is the only limit, so every call
     * but the last sends exactly the budget and says AGAIN */
    size_t budget = budget_cases[_i].budget;
    int sv[2];
    unix_pair(sv, SOCK_STREAM, 0);
    int fd = temp_file(FILE_SIZE);
    struct sf_response r;
    sf_response_init(&r);
    budget_body(&r, budget_cases[_i].kind, fd);
    size_t total = r.st.head_len + (size_t)body_len(&r);
    struct run x = send_and_compare(&r, sv, budget, false);
    ck_assert_msg(x.max_per_call <= budget, "%zu bytes in one call, budget %zu", x.max_per_call,
                  budget);
    unsigned calls = (unsigned)((total + budget - 1) / budget);
    ck_assert_msg(x.calls == calls, "%u calls, want %u (total %zu, budget %zu)", x.calls, calls,
                  total, budget);
    ck_assert_uint_eq(x.agains, calls - 1);
    close(fd);
    sf_response_free(&r);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

static const enum body_kind kinds[] = {MEM, FILE_, MIXED};

START_TEST(test_budget_exact)
{
    /* a budget of exactly the response: done in one call; one byte less:
     * AGAIN with one byte left */
    for (int less = 0; less <= 1; less++) {
        int sv[2];
        unix_pair(sv, SOCK_STREAM, 0);
        int fd = temp_file(FILE_SIZE);
        struct sf_response r;
        sf_response_init(&r);
        budget_body(&r, kinds[_i], fd);
        size_t total = r.st.head_len + (size_t)body_len(&r);
        int err = 0;
        enum sf_io rc = sf_sender_send(&r, sv[0], total - (size_t)less, &err);
        ck_assert_int_eq(rc, less ? SF_IO_AGAIN : SF_IO_OK);
        struct sf_buf got = {0};
        drain(sv[1], &got);
        ck_assert_uint_eq(got.len, total - (size_t)less);
        check_progress(&r, got.len, true);
        ck_assert_int_eq(sf_sender_send(&r, sv[0], 1, &err), SF_IO_OK);
        drain(sv[1], &got);
        ck_assert_uint_eq(got.len, total);
        sf_buf_free(&got);
        close(fd);
        sf_response_free(&r);
        close(sv[0]);
        close(sv[1]);
    }
}
END_TEST

START_TEST(test_budget_head_only_first)
{
    /* a budget of the head: the head goes, no body byte, AGAIN */
    int sv[2];
    unix_pair(sv, SOCK_STREAM, 0);
    int fd = temp_file(FILE_SIZE);
    struct sf_response r;
    sf_response_init(&r);
    sf_response_add_file(&r, fd, 0, 100);
    head(&r, 100);
    int err = 0;
    ck_assert_int_eq(sf_sender_send(&r, sv[0], r.st.head_len, &err), SF_IO_AGAIN);
    ck_assert_uint_eq(r.st.head_sent, r.st.head_len);
    ck_assert_uint_eq(r.st.body_sent, 0);
    /* a budget of 0 does nothing */
    ck_assert_int_eq(sf_sender_send(&r, sv[0], 0, &err), SF_IO_AGAIN);
    ck_assert_uint_eq(r.st.body_sent, 0);
    struct sf_buf got = {0};
    ck_assert_uint_eq(drain(sv[1], &got), r.st.head_len);
    sf_buf_free(&got);
    close(fd);
    sf_response_free(&r);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

/* ---- no body ---- */

START_TEST(test_no_body)
{
    int sv[2];
    unix_pair(sv, SOCK_STREAM, 0);
    int fd = temp_file(1000);
    struct sf_response r;
    sf_response_init(&r);
    ck_assert_int_eq(sf_buf_puts(&r.mem, "not to be sent"), 0);
    sf_response_add_mem(&r, 0, r.mem.len);
    sf_response_add_file(&r, fd, 0, 1000);
    head(&r, 1014);
    r.st.no_body = true; /* HEAD */
    struct run x = send_and_compare(&r, sv, BIG_BUDGET, false);
    ck_assert_uint_eq(x.calls, 1);
    ck_assert_uint_eq(r.st.body_sent, 0);
    close(fd);
    sf_response_free(&r);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(test_error_head_request)
{
    /* sf_response_error for HEAD: head only on the wire, small budget */
    int sv[2];
    unix_pair(sv, SOCK_STREAM, 0);
    struct sf_response r;
    sf_response_init(&r);
    sf_response_error(&r, 404, DATE, true, false, true, NULL);
    ck_assert_uint_gt(r.st.content_length, 0);
    send_and_compare(&r, sv, 10, false);
    ck_assert_uint_eq(r.st.body_sent, 0);
    sf_response_reset(&r);
    sf_response_error(&r, 404, DATE, true, false, false, NULL);
    send_and_compare(&r, sv, 10, false);
    ck_assert_uint_eq(r.st.body_sent, r.st.content_length);
    sf_response_free(&r);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

/* ---- a file shorter than promised ---- */

static const struct {
    size_t file;       /* file size */
    bool mem_first;    /* a memory part before the range */
    uint64_t off, len; /* the range promised */
    uint64_t sent;     /* body bytes that go out before the error */
} short_cases[] = {
    {1000, false, 500, 1000, 500},      {1000, false, 0, 1001, 1000}, {1000, false, 1000, 1, 0},
    {1000, false, 5000, 10, 0},         {0, false, 0, 10, 0},         {1000, true, 900, 200, 110},
    {100000, false, 0, 200000, 100000},
};

START_TEST(test_file_short)
{
    int sv[2];
    unix_pair(sv, SOCK_STREAM, 0);
    int fd = temp_file(short_cases[_i].file);
    struct sf_response r;
    sf_response_init(&r);
    if (short_cases[_i].mem_first) {
        ck_assert_int_eq(sf_buf_puts(&r.mem, "0123456789"), 0);
        sf_response_add_mem(&r, 0, 10);
    }
    sf_response_add_file(&r, fd, short_cases[_i].off, short_cases[_i].len);
    head(&r, body_len(&r));
    struct sf_buf got = {0};
    struct run x = pump(&r, sv[0], sv[1], BIG_BUDGET, &got, false);
    ck_assert_int_eq(x.rc, SF_IO_ERR);
    ck_assert_int_eq(x.err, -ENODATA);
    ck_assert_uint_eq(r.st.body_sent, short_cases[_i].sent);
    ck_assert_uint_eq(got.len, r.st.head_len + short_cases[_i].sent);
    sf_buf_free(&got);
    close(fd);
    sf_response_free(&r);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

/* ---- the peer gone ---- */

START_TEST(test_peer_closed_mem)
{
    /* MSG_NOSIGNAL: an error, not SIGPIPE, even with SIGPIPE's default */
    signal(SIGPIPE, SIG_DFL);
    int sv[2];
    unix_pair(sv, SOCK_STREAM, 0);
    struct sf_response r;
    sf_response_init(&r);
    ck_assert_int_eq(sf_buf_puts(&r.mem, "body"), 0);
    sf_response_add_mem(&r, 0, 4);
    head(&r, 4);
    close(sv[1]);
    int err = 0;
    ck_assert_int_eq(sf_sender_send(&r, sv[0], BIG_BUDGET, &err), SF_IO_ERR);
    ck_assert_msg(err == -EPIPE || err == -ECONNRESET, "err %d", err);
    ck_assert_uint_eq(r.st.body_sent, 0);
    sf_response_free(&r);
    close(sv[0]);
}
END_TEST

START_TEST(test_peer_closed_mid_file)
{
    /* sendfile(2) has no MSG_NOSIGNAL: the kernel raises SIGPIPE for it.
     * The server ignores SIGPIPE process-wide (worker.c, master.c), and
     * so does this test. */
    signal(SIGPIPE, SIG_IGN);
    int sv[2];
    unix_pair(sv, SOCK_STREAM, 4096);
    int fd = temp_file(FILE_SIZE);
    struct sf_response r;
    sf_response_init(&r);
    sf_response_add_file(&r, fd, 0, FILE_SIZE);
    head(&r, FILE_SIZE);
    int err = 0;
    /* some of the file out, then the peer reads a little and goes */
    enum sf_io rc = sf_sender_send(&r, sv[0], BIG_BUDGET, &err);
    ck_assert_int_eq(rc, SF_IO_AGAIN);
    ck_assert_uint_gt(r.st.body_sent, 0);
    char buf[100];
    ck_assert_int_gt(recv(sv[1], buf, sizeof(buf), 0), 0);
    close(sv[1]);
    uint64_t sent = r.st.body_sent;
    rc = sf_sender_send(&r, sv[0], BIG_BUDGET, &err);
    ck_assert_int_eq(rc, SF_IO_ERR);
    ck_assert_msg(err == -EPIPE || err == -ECONNRESET, "err %d", err);
    ck_assert_uint_eq(r.st.body_sent, sent);
    close(fd);
    sf_response_free(&r);
    close(sv[0]);
}
END_TEST

START_TEST(test_peer_closed_tcp)
{
    /* over TCP: the peer closes with unread bytes, so it answers RST */
    signal(SIGPIPE, SIG_IGN);
    int sv[2];
    tcp_pair(sv, 4096);
    int fd = temp_file(FILE_SIZE);
    struct sf_response r;
    sf_response_init(&r);
    ck_assert_int_eq(sf_buf_puts(&r.mem, "part"), 0);
    for (int i = 0; i < 20; i++) {
        sf_response_add_mem(&r, 0, 4);
        sf_response_add_file(&r, fd, 0, FILE_SIZE);
    }
    head(&r, body_len(&r));
    int err = 0;
    enum sf_io rc = sf_sender_send(&r, sv[0], BIG_BUDGET, &err);
    ck_assert_int_eq(rc, SF_IO_AGAIN);
    close(sv[1]);
    for (int i = 0; i < 2000 && rc == SF_IO_AGAIN; i++) {
        usleep(1000);
        rc = sf_sender_send(&r, sv[0], BIG_BUDGET, &err);
    }
    ck_assert_int_eq(rc, SF_IO_ERR);
    ck_assert_msg(err == -EPIPE || err == -ECONNRESET, "err %d", err);
    close(fd);
    sf_response_free(&r);
    close(sv[0]);
}
END_TEST

static Suite *
sender_suite(void)
{
    Suite *s = suite_create("sender");

    TCase *tc = tcase_create("mem");
    tcase_add_test(tc, test_head_only);
    tcase_add_test(tc, test_head_and_mem_one_write);
    tcase_add_test(tc, test_many_mem_segments);
    tcase_add_test(tc, test_partial_head);
    tcase_add_test(tc, test_no_body);
    tcase_add_test(tc, test_error_head_request);
    suite_add_tcase(s, tc);

    tc = tcase_create("file");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_file_range, 0, (int)SF_ARRAY_LEN(sndbufs));
    tcase_add_loop_test(tc, test_whole_file, 0, (int)SF_ARRAY_LEN(sndbufs));
    tcase_add_loop_test(tc, test_multipart, 0, (int)SF_ARRAY_LEN(sndbufs));
    tcase_add_test(tc, test_multipart_max_ranges);
    tcase_add_loop_test(tc, test_multipart_tcp, 0, (int)SF_ARRAY_LEN(sndbufs));
    tcase_add_loop_test(tc, test_file_short, 0, (int)SF_ARRAY_LEN(short_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("budget");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_budget, 0, (int)SF_ARRAY_LEN(budget_cases));
    tcase_add_loop_test(tc, test_budget_exact, 0, (int)SF_ARRAY_LEN(kinds));
    tcase_add_test(tc, test_budget_head_only_first);
    suite_add_tcase(s, tc);

    tc = tcase_create("peer");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_peer_closed_mem);
    tcase_add_test(tc, test_peer_closed_mid_file);
    tcase_add_test(tc, test_peer_closed_tcp);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run_mode(sender_suite(), true);
}
