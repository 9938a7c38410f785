/*
 * it_lease.c - lease-guarded transfers (issue 4): when a file changes while
 * it is being sent, the response is cut short (a reset) instead of ending
 * as a complete-looking body that mixes two versions, and the writer is
 * not held up.
 *
 * Every test uses a deliberately slow reader: a raw socket with a small
 * SO_RCVBUF (set before connect), which reads the head, then the body in
 * small steps, and stops reading at a trigger offset so that the server is
 * still sending (its send buffer is at most 4 MiB on loopback, the files
 * are 16-32 MiB). Then the test process itself acts as the writer
 * (truncate, rewrite, append, rename, unlink, cp) and drains the rest.
 * Every received byte is compared with the deterministic pattern the file
 * held before the change (harness it_fill_pattern).
 *
 * What is asserted, per the issue and design.md ("Files: the open-file
 * cache and leases"):
 *  - with a lease, a cut happens before the writer proceeds, so the bytes
 *    the client gets after the writer's call returns are at most what sat
 *    in its own receive buffer (getsockopt SO_RCVBUF, doubled by Linux);
 *  - a truncated transfer never carries a byte that is not original;
 *  - an in-place rewrite changes at most the receive buffer's worth;
 *  - rename over and unlink do not cut, and the next request sees the new
 *    file at once (new body and ETag);
 *  - without a lease (file_guard = stat, EACCES, EAGAIN) changes are still
 *    detected by fstat before each chunk;
 *  - one fd and one lease per file, shared by concurrent responses;
 *  - a break cuts only the responses of its own file;
 *  - also cut: a response the server has wholly queued in its socket but
 *    the client has not yet acknowledged (Connection: close and
 *    keep-alive), a range response, and a precompressed variant (in
 *    each the reader waits inside the writer's call, so its socket
 *    cannot drain within lease_break_wait: it_rescue.c has the
 *    completions from a snapshot);
 *  - a file merely touched breaks the lease too; touch opens with
 *    O_NONBLOCK, so it does not wait and the reader drains at once: the
 *    download is then cut or completed from a snapshot, never mixed;
 *  - one break cuts fifty downloads of its file, each once: one "lease
 *    broken" line reporting fifty, one "cut" line each, and every
 *    connection is freed (the server's sockets go back to its listener).
 * The writer's blocking time is measured and printed (asserted only to be
 * far below the kernel's 45 s lease-break-time); t_writer_block_times
 * prints its median and maximum over TRIALS trials.
 */
#include "harness.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define BIG_SIZE (32 * MIB)
#define TRIAL_SIZE (16 * MIB)
/* Where the slow reader stops reading and the writer acts. */
#define TRIGGER (1 * MIB)
/* Requested SO_RCVBUF of the slow reader (Linux doubles it). */
#define SLOW_RCVBUF (64 * 1024)
#define DL_TIMEOUT_MS 10000
/* The writer must never wait anywhere near lease-break-time (45 s). */
#define WRITER_MAX_MS 10000.0
#define TRIALS 150
#define NFILL 998 /* (i): plus alpha and bravo = 1,000 cached files */

static char g_base[PATH_MAX];

/* ---- small utilities -------------------------------------------------- */

static double
now_ms_f(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
note(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("it_lease: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
}

static void
write_conf_site(const char *path, const char *root, const char *extra, const char *site_extra)
{
    char text[4096];
    int n =
        snprintf(text, sizeof(text),
                 "[server]\nlisten = 127.0.0.1:0\naccess_log = off\n%s%s\n[site]\nroot = %s\n%s",
                 getuid() == 0 ? "user = root\n" : "", extra, root, site_extra);

    ck_assert(n > 0 && (size_t)n < sizeof(text));
    it_write_str(path, text);
}

static void
write_conf(const char *path, const char *root, const char *extra)
{
    write_conf_site(path, root, extra, "");
}

/* Overwrite size bytes of fd in place (no truncation) with pattern seed. */
static void
rewrite_fd(int fd, uint64_t size, uint32_t seed)
{
    unsigned char *buf = malloc(MIB);

    ck_assert_ptr_nonnull(buf);
    for (uint64_t off = 0; off < size;) {
        size_t n = size - off < MIB ? (size_t)(size - off) : (size_t)MIB;
        it_fill_pattern(buf, n, off, seed);
        ck_assert_msg(pwrite(fd, buf, n, (off_t)off) == (ssize_t)n, "pwrite: %s", strerror(errno));
        off += n;
    }
    free(buf);
}

static void
assert_small_ok(int port, const char *path, const char *body)
{
    struct it_response r;

    it_get(port, path, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, body);
    it_response_free(&r);
}

/* GET path fully; assert 200 and the body of pattern (size, seed). The
 * ETag goes to etag (when not NULL). */
static void
get_pattern(int port, const char *path, uint64_t size, uint32_t seed, char *etag, size_t ecap)
{
    struct it_response *r = malloc(sizeof(*r));
    char want[65];
    const char *e;

    ck_assert_ptr_nonnull(r);
    it_get(port, path, r);
    ck_assert_msg(r->status == 200, "GET %s: status %d", path, r->status);
    ck_assert_msg(r->content_length == (int64_t)size, "GET %s: Content-Length %lld, want %llu",
                  path, (long long)r->content_length, (unsigned long long)size);
    ck_assert(r->complete);
    it_pattern_sha256(size, seed, want);
    ck_assert_msg(strcmp(r->sha256, want) == 0, "GET %s: body is not pattern %u of %llu bytes",
                  path, seed, (unsigned long long)size);
    e = it_header(r, "ETag");
    ck_assert_msg(e != NULL, "GET %s: no ETag", path);
    if (etag != NULL)
        snprintf(etag, ecap, "%s", e);
    it_response_free(r);
    free(r);
}

/* ---- the slow download ------------------------------------------------ */

enum dl_end { DL_OPEN = 0, DL_DONE, DL_EOF, DL_RESET, DL_TIMEOUT, DL_ERROR };

static const char *const dl_end_name[] = {"still open", "complete", "EOF (FIN)",
                                          "reset",      "timeout",  "error"};

struct dl {
    struct it_conn c;
    int64_t cl;
    uint64_t got;
    uint64_t base; /* file offset of the first body byte (a range) */
    uint32_t seed; /* the content expected: pattern seed of the original */
    uint64_t ndiff, first_diff;
    enum dl_end end;
    int err;
    int rcvbuf; /* actual SO_RCVBUF */
    struct it_sha256 sha;
    char sha256[65];
    char etag[128];
    unsigned char rbuf[65536], want[65536];
};

static void
dl_take(struct dl *d, const unsigned char *p, size_t n)
{
    ck_assert_msg(d->got + n <= (uint64_t)d->cl, "more body bytes than Content-Length");
    it_fill_pattern(d->want, n, d->base + d->got, d->seed);
    if (memcmp(p, d->want, n) != 0) {
        for (size_t i = 0; i < n; i++) {
            if (p[i] != d->want[i]) {
                if (d->ndiff == 0)
                    d->first_diff = d->base + d->got + i;
                d->ndiff++;
            }
        }
    }
    it_sha256_update(&d->sha, p, n);
    d->got += n;
    if (d->got == (uint64_t)d->cl) {
        d->end = DL_DONE;
        it_sha256_hex(&d->sha, d->sha256);
    }
}

/*
 * Start GET path on a slow connection (extra: more header lines, each
 * ending in CRLF, or ""); expects status want and a body of size bytes:
 * pattern seed from file offset base on.
 */
static struct dl *
dl_start_req(int port, const char *path, uint64_t size, uint32_t seed, bool keepalive,
             const char *extra, int want, uint64_t base)
{
    struct dl *d = calloc(1, sizeof(*d));
    struct it_response *r = malloc(sizeof(*r));
    socklen_t sl = sizeof(d->rcvbuf);
    char req[1024];
    const char *e;

    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_nonnull(r);
    d->seed = seed;
    d->base = base;
    it_sha256_init(&d->sha);
    it_conn_open_opts(&d->c, port, SLOW_RCVBUF, DL_TIMEOUT_MS);
    ck_assert_int_eq(getsockopt(d->c.fd, SOL_SOCKET, SO_RCVBUF, &d->rcvbuf, &sl), 0);
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n%s%s\r\n", path,
             keepalive ? "" : "Connection: close\r\n", extra);
    it_conn_send_str(&d->c, req);
    ck_assert_msg(it_read_head(&d->c, r, false) == IT_OK, "GET %s: no response head", path);
    ck_assert_msg(r->status == want, "GET %s: status %d, want %d", path, r->status, want);
    ck_assert_msg(r->content_length == (int64_t)size, "GET %s: Content-Length %lld, want %llu",
                  path, (long long)r->content_length, (unsigned long long)size);
    if (strstr(extra, "Accept-Encoding") != NULL)
        ck_assert_msg(it_header_has(r, "Content-Encoding", "gzip"),
                      "GET %s: no Content-Encoding: gzip", path);
    d->cl = r->content_length;
    e = it_header(r, "ETag");
    snprintf(d->etag, sizeof(d->etag), "%s", e != NULL ? e : "");
    it_response_free(r);
    free(r);
    /* body bytes that came with the head */
    if (d->c.len > d->c.off) {
        dl_take(d, d->c.buf + d->c.off, d->c.len - d->c.off);
        d->c.off = d->c.len = 0;
    }
    return d;
}

static struct dl *
dl_start_opts(int port, const char *path, uint64_t size, uint32_t seed, bool keepalive)
{
    return dl_start_req(port, path, size, seed, keepalive, "", 200, 0);
}

static struct dl *
dl_start(int port, const char *path, uint64_t size, uint32_t seed)
{
    return dl_start_opts(port, path, size, seed, false);
}

/*
 * Read until d->got reaches upto or the transfer ends. slow: 16 KiB per
 * recv and a 1 ms pause after each; otherwise as fast as possible. Every
 * wait is bounded by the socket's SO_RCVTIMEO.
 */
static void
dl_read(struct dl *d, uint64_t upto, bool slow)
{
    while (d->end == DL_OPEN && d->got < upto) {
        uint64_t left = (uint64_t)d->cl - d->got;
        size_t want = slow ? 16384 : sizeof(d->rbuf);
        ssize_t n;

        if (upto - d->got < want)
            want = (size_t)(upto - d->got);
        if (left < want)
            want = (size_t)left;
        n = recv(d->c.fd, d->rbuf, want, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0) {
            dl_take(d, d->rbuf, (size_t)n);
            if (slow)
                it_sleep_ms(1);
        } else if (n == 0) {
            d->end = DL_EOF;
        } else if (errno == ECONNRESET) {
            d->end = DL_RESET;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            d->end = DL_TIMEOUT;
        } else {
            d->end = DL_ERROR;
            d->err = errno;
        }
    }
}

static void
dl_drain(struct dl *d)
{
    dl_read(d, UINT64_MAX, false);
}

static void
dl_free(struct dl *d)
{
    it_conn_close(&d->c);
    free(d);
}

/* The transfer was cut: fewer than Content-Length bytes, then EOF/reset. */
static void
assert_cut(const struct dl *d, const char *what)
{
    ck_assert_msg(d->end == DL_EOF || d->end == DL_RESET,
                  "%s: expected a cut (reset/EOF), got %s after %llu of %lld bytes%s%s", what,
                  dl_end_name[d->end], (unsigned long long)d->got, (long long)d->cl,
                  d->end == DL_ERROR ? ": " : "", d->end == DL_ERROR ? strerror(d->err) : "");
    ck_assert_msg(d->got < (uint64_t)d->cl, "%s: cut, but all %lld bytes arrived", what,
                  (long long)d->cl);
}

static void
assert_intact(const struct dl *d, const char *what)
{
    char want[65];

    ck_assert_msg(d->end == DL_DONE, "%s: expected the whole body, got %s after %llu of %lld bytes",
                  what, dl_end_name[d->end], (unsigned long long)d->got, (long long)d->cl);
    ck_assert_msg(d->ndiff == 0, "%s: %llu bytes differ from the original (first at %llu)", what,
                  (unsigned long long)d->ndiff, (unsigned long long)d->first_diff);
    ck_assert_uint_eq(d->base, 0);
    it_pattern_sha256((uint64_t)d->cl, d->seed, want);
    ck_assert_msg(strcmp(d->sha256, want) == 0, "%s: sha256 %s, want %s", what, d->sha256, want);
}

static void
assert_all_original(const struct dl *d, const char *what)
{
    ck_assert_msg(d->ndiff == 0,
                  "%s: %llu received bytes differ from the original (first at offset %llu)", what,
                  (unsigned long long)d->ndiff, (unsigned long long)d->first_diff);
}

/*
 * With a lease the cut happens before the writer's call returns: what the
 * client got afterwards can only be what already sat in its own receive
 * buffer.
 */
static void
assert_after_within_rcvbuf(const struct dl *d, uint64_t got_before, const char *what)
{
    uint64_t after = d->got - got_before;

    ck_assert_msg(after <= (uint64_t)d->rcvbuf,
                  "%s: %llu bytes arrived after the writer's call returned, more than the "
                  "client's receive buffer (%d): the server kept sending after the break",
                  what, (unsigned long long)after, d->rcvbuf);
}

/* ---- the server's log and /proc --------------------------------------- */

/* Lines of the server's output containing a (and b when not NULL); the
 * first one is copied to first (when not NULL). */
static size_t
log_count(const struct it_server *s, const char *a, const char *b, char *first, size_t fcap)
{
    size_t cap = 4u << 20, n = 0;
    char *log = malloc(cap), *line, *save = NULL;

    ck_assert_ptr_nonnull(log);
    it_server_log(s, log, cap);
    if (first != NULL && fcap > 0)
        first[0] = '\0';
    for (line = strtok_r(log, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        if (strstr(line, a) == NULL || (b != NULL && strstr(line, b) == NULL))
            continue;
        if (n == 0 && first != NULL)
            snprintf(first, fcap, "%s", line);
        n++;
    }
    free(log);
    return n;
}

/* Wait (bounded) until at least want such lines exist; their count. */
static size_t
log_wait(const struct it_server *s, const char *a, const char *b, size_t want, char *first,
         size_t fcap)
{
    int64_t deadline = it_now_ms() + 3000;
    size_t n;

    while ((n = log_count(s, a, b, first, fcap)) < want && it_now_ms() < deadline)
        it_sleep_ms(10);
    return n;
}

/* True when the text after "lease broken" in line, with every occurrence
 * of name blanked out, holds the number n as a token of its own. */
static bool
reports_number(const char *line, const char *name, unsigned n)
{
    char buf[1024], *p, *q;
    size_t nl = strlen(name);

    p = strstr(line, "lease broken");
    if (p == NULL)
        return false;
    snprintf(buf, sizeof(buf), "%s", p);
    while ((q = strstr(buf, name)) != NULL)
        memset(q, ' ', nl);
    for (p = buf; *p != '\0'; p++) {
        char *end;
        unsigned long v;

        if (*p < '0' || *p > '9' || (p > buf && (isalnum((unsigned char)p[-1]) || p[-1] == '.')))
            continue;
        v = strtoul(p, &end, 10);
        if (!isalnum((unsigned char)*end) && v == n)
            return true;
        p = end - 1;
    }
    return false;
}

/* Exactly one "lease broken" line naming name, reporting ncut responses. */
static void
assert_one_break(const struct it_server *s, const char *name, unsigned ncut)
{
    char line[1024];
    size_t n = log_wait(s, "lease broken", name, 1, line, sizeof(line));

    ck_assert_msg(n == 1, "%zu \"lease broken\" lines for %s, want 1", n, name);
    ck_assert_msg(reports_number(line, name, ncut), "lease broken line does not report %u cut: %s",
                  ncut, line);
}

/* Entries of /proc/PID/fd that link to target (exact) or, when under is
 * true, to anything beneath the directory target. */
static int
count_fds(pid_t pid, const char *target, bool under)
{
    char dpath[64], lpath[PATH_MAX], link[PATH_MAX];
    size_t tl = strlen(target);
    struct dirent *de;
    DIR *dir;
    int n = 0;

    snprintf(dpath, sizeof(dpath), "/proc/%d/fd", (int)pid);
    dir = opendir(dpath);
    ck_assert_msg(dir != NULL, "opendir %s: %s", dpath, strerror(errno));
    while ((de = readdir(dir)) != NULL) {
        ssize_t k;

        if (de->d_name[0] == '.')
            continue;
        snprintf(lpath, sizeof(lpath), "%s/%s", dpath, de->d_name);
        k = readlink(lpath, link, sizeof(link) - 1);
        if (k <= 0)
            continue;
        link[k] = '\0';
        if (under ? strncmp(link, target, tl) == 0 && link[tl] == '/' : strcmp(link, target) == 0)
            n++;
    }
    closedir(dir);
    return n;
}

/* Sockets the process pid has open (its listeners and connections). */
static int
count_sockets(pid_t pid)
{
    char dpath[64], lpath[PATH_MAX], link[PATH_MAX];
    struct dirent *de;
    DIR *dir;
    int n = 0;

    snprintf(dpath, sizeof(dpath), "/proc/%d/fd", (int)pid);
    dir = opendir(dpath);
    ck_assert_msg(dir != NULL, "opendir %s: %s", dpath, strerror(errno));
    while ((de = readdir(dir)) != NULL) {
        ssize_t k;

        if (de->d_name[0] == '.')
            continue;
        snprintf(lpath, sizeof(lpath), "%s/%s", dpath, de->d_name);
        k = readlink(lpath, link, sizeof(link) - 1);
        if (k <= 0)
            continue;
        link[k] = '\0';
        if (strncmp(link, "socket:", 7) == 0)
            n++;
    }
    closedir(dir);
    return n;
}

/* ---- writers, timed ---------------------------------------------------- */

/* How the writer breaks in: open(O_WRONLY|O_TRUNC), truncate(2), or a
 * plain open(O_WRONLY) (nothing changed: the time is the lease's alone). */
enum trunc_how { TRUNC_OPEN, TRUNC_CALL, OPEN_WRITE };

static const char *const how_name[] = {"open(O_WRONLY|O_TRUNC)", "truncate()", "open(O_WRONLY)"};

/* Truncate path to 0 bytes (or only open it for writing); returns how
 * long the call blocked (ms). */
static double
timed_truncate(const char *path, enum trunc_how how)
{
    double t0 = now_ms_f(), t1;

    if (how == OPEN_WRITE) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        t1 = now_ms_f();
        ck_assert_msg(fd >= 0, "open(O_WRONLY) %s: %s", path, strerror(errno));
        close(fd);
    } else if (how == TRUNC_OPEN) {
        int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        t1 = now_ms_f();
        ck_assert_msg(fd >= 0, "open(O_WRONLY|O_TRUNC) %s: %s", path, strerror(errno));
        close(fd);
    } else {
        int rc = truncate(path, 0);
        t1 = now_ms_f();
        ck_assert_msg(rc == 0, "truncate %s: %s", path, strerror(errno));
    }
    return t1 - t0;
}

static void
assert_writer_fast(double ms, const char *what)
{
    ck_assert_msg(ms < WRITER_MAX_MS, "%s: the writer blocked %.3f ms (lease not released?)", what,
                  ms);
}

/* ---- fixtures ---------------------------------------------------------- */

static void
base_up(void)
{
    it_tmpdir(g_base, sizeof(g_base));
}

static void
base_down(void)
{
    it_rmtree(g_base);
}

static void
start_quick(struct it_server *s, const char *root)
{
    it_server_start_dir(s, root);
}

/* ---- tests ------------------------------------------------------------- */

/* No writer: a slow download completes intact; the file is held under
 * exactly one read lease by the server while it is sent. */
START_TEST(t_slow_no_writer)
{
    char dir[PATH_MAX], root[PATH_MAX], p[PATH_MAX];
    struct it_server srv;
    struct stat st;
    struct dl *d;

    it_subtree_new(g_base, dir, sizeof(dir), root, sizeof(root));
    it_join(p, sizeof(p), root, "calm.bin");
    it_write_pattern(p, BIG_SIZE, 1);
    ck_assert_int_eq(stat(p, &st), 0);
    start_quick(&srv, root);

    d = dl_start(srv.port, "/calm.bin", BIG_SIZE, 1);
    dl_read(d, TRIGGER, true);
    ck_assert_int_eq(d->end, DL_OPEN);
    ck_assert_msg(it_count_leases(srv.pid, &st) == 1,
                  "the server holds %d read leases on the file being sent, want 1",
                  it_count_leases(srv.pid, &st));
    /* the rest slowly too: 16 KiB steps with pauses */
    dl_read(d, UINT64_MAX, true);
    assert_intact(d, "slow download, no writer");
    dl_free(d);
    it_server_stop(&srv);
}
END_TEST

/* (a) truncate mid-transfer: _i 0 = open(O_WRONLY|O_TRUNC), 1 = truncate(). */
START_TEST(t_truncate_mid_transfer)
{
    char dir[PATH_MAX], root[PATH_MAX], p[PATH_MAX], what[64];
    struct it_server srv;
    struct it_response r;
    struct dl *d;
    uint64_t before;
    double ms;

    snprintf(what, sizeof(what), "(a) truncate by %s", _i == 0 ? "open(O_TRUNC)" : "truncate()");
    it_subtree_new(g_base, dir, sizeof(dir), root, sizeof(root));
    it_put_pattern(root, "trunc.bin", BIG_SIZE, 2);
    it_put(root, "small.txt", "still serving\n");
    it_join(p, sizeof(p), root, "trunc.bin");
    start_quick(&srv, root);
    it_server_expect(&srv, "lease broken");

    d = dl_start(srv.port, "/trunc.bin", BIG_SIZE, 2);
    dl_read(d, TRIGGER, true);
    ck_assert_int_eq(d->end, DL_OPEN);
    it_sleep_ms(50);
    before = d->got;
    ms = timed_truncate(p, _i == 0 ? TRUNC_OPEN : TRUNC_CALL);
    dl_drain(d);
    note("%s: writer blocked %.3f ms; client got %llu of %lld bytes (%llu after the writer), "
         "ended by %s, rcvbuf %d",
         what, ms, (unsigned long long)d->got, (long long)d->cl,
         (unsigned long long)(d->got - before), dl_end_name[d->end], d->rcvbuf);
    assert_cut(d, what);
    assert_all_original(d, what);
    assert_after_within_rcvbuf(d, before, what);
    assert_writer_fast(ms, what);
    dl_free(d);

    /* the server keeps serving: the (now empty) file and another one */
    it_server_assert_alive(&srv);
    it_get(srv.port, "/trunc.bin", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(r.content_length, 0);
    it_response_free(&r);
    assert_small_ok(srv.port, "/small.txt", "still serving\n");
    assert_one_break(&srv, "trunc.bin", 1);
    it_server_stop(&srv);
}
END_TEST

/*
 * (a) for other kinds of response: _i 0, a single range (206, bytes from
 * 1 MiB on); _i 1, a precompressed variant (precompressed = gzip: the
 * response sends FILE.gz, and it is FILE.gz that is truncated).
 */
START_TEST(t_truncate_range_and_variant)
{
    char dir[PATH_MAX], root[PATH_MAX], p[PATH_MAX], conf[PATH_MAX], what[64];
    const char *name = _i == 0 ? "range.bin" : "pre.bin.gz";
    struct it_server srv;
    struct dl *d;
    uint64_t before;
    double ms;

    snprintf(what, sizeof(what), "(a) truncate, %s", _i == 0 ? "range response" : "gzip variant");
    it_subtree_new(g_base, dir, sizeof(dir), root, sizeof(root));
    it_join(conf, sizeof(conf), dir, "a.conf");
    if (_i == 0) {
        it_join(p, sizeof(p), root, "range.bin");
        it_write_pattern(p, BIG_SIZE, 16);
        write_conf(conf, root, "");
    } else {
        it_join(p, sizeof(p), root, "pre.bin");
        it_write_pattern(p, BIG_SIZE, 17);
        it_join(p, sizeof(p), root, "pre.bin.gz"); /* not real gzip: never decoded */
        it_write_pattern(p, BIG_SIZE, 18);
        write_conf_site(conf, root, "", "precompressed = gzip\n");
    }
    it_server_start_conf(&srv, conf);
    it_server_expect(&srv, "lease broken");

    if (_i == 0)
        d = dl_start_req(srv.port, "/range.bin", BIG_SIZE - MIB, 16, false,
                         "Range: bytes=1048576-\r\n", 206, MIB);
    else
        d = dl_start_req(srv.port, "/pre.bin", BIG_SIZE, 18, false, "Accept-Encoding: gzip\r\n",
                         200, 0);
    dl_read(d, TRIGGER, true);
    ck_assert_int_eq(d->end, DL_OPEN);
    it_sleep_ms(50);
    before = d->got;
    ms = timed_truncate(p, TRUNC_OPEN);
    dl_drain(d);
    note("%s: writer blocked %.3f ms; client got %llu of %lld bytes, ended by %s", what, ms,
         (unsigned long long)d->got, (long long)d->cl, dl_end_name[d->end]);
    assert_cut(d, what);
    assert_all_original(d, what);
    assert_after_within_rcvbuf(d, before, what);
    assert_writer_fast(ms, what);
    dl_free(d);
    assert_one_break(&srv, name, 1);
    it_server_stop(&srv);
}
END_TEST

/* (b) same-size rewrite in place (open O_WRONLY without O_TRUNC). */
START_TEST(t_rewrite_same_size)
{
    char dir[PATH_MAX], root[PATH_MAX], p[PATH_MAX], etag2[128];
    const char *what = "(b) same-size rewrite";
    struct it_server srv;
    struct dl *d;
    uint64_t before;
    double t0, ms, all_ms;
    int fd;

    it_subtree_new(g_base, dir, sizeof(dir), root, sizeof(root));
    it_join(p, sizeof(p), root, "rewrite.bin");
    it_write_pattern(p, BIG_SIZE, 3);
    start_quick(&srv, root);
    it_server_expect(&srv, "lease broken");

    d = dl_start(srv.port, "/rewrite.bin", BIG_SIZE, 3);
    dl_read(d, TRIGGER, true);
    ck_assert_int_eq(d->end, DL_OPEN);
    it_sleep_ms(50);
    before = d->got;
    t0 = now_ms_f();
    fd = open(p, O_WRONLY | O_CLOEXEC);
    ms = now_ms_f() - t0;
    ck_assert_msg(fd >= 0, "open(O_WRONLY) %s: %s", p, strerror(errno));
    rewrite_fd(fd, BIG_SIZE, 4);
    close(fd);
    all_ms = now_ms_f() - t0;
    dl_drain(d);
    note("%s: open blocked %.3f ms (whole rewrite %.1f ms); client got %llu of %lld bytes "
         "(%llu after the writer), %llu differ (first at %llu), ended by %s, rcvbuf %d",
         what, ms, all_ms, (unsigned long long)d->got, (long long)d->cl,
         (unsigned long long)(d->got - before), (unsigned long long)d->ndiff,
         (unsigned long long)d->first_diff, dl_end_name[d->end], d->rcvbuf);
    assert_cut(d, what);
    ck_assert_msg(d->ndiff <= (uint64_t)d->rcvbuf,
                  "%s: %llu received bytes differ from the original, more than the receive "
                  "buffer (%d)",
                  what, (unsigned long long)d->ndiff, d->rcvbuf);
    assert_after_within_rcvbuf(d, before, what);
    assert_writer_fast(ms, what);
    /* the next request gets the new bytes and a new ETag */
    get_pattern(srv.port, "/rewrite.bin", BIG_SIZE, 4, etag2, sizeof(etag2));
    ck_assert_msg(strcmp(etag2, d->etag) != 0, "%s: ETag unchanged (%s)", what, etag2);
    dl_free(d);
    assert_one_break(&srv, "rewrite.bin", 1);
    it_server_stop(&srv);
}
END_TEST

/*
 * (b), the response already handed to the kernel: a 2 MiB file is wholly
 * queued in the server's socket (its send buffer grows to 4 MiB on
 * loopback) while the client has read only 64 KiB. The server is done
 * sending, but its socket still holds unacknowledged bytes that reference
 * the page cache, so an in-place rewrite must still cut the response.
 * _i: 0 Connection: close (the server must not just close and let the
 * orphaned socket deliver the rest), 1 keep-alive (the connection idles,
 * waiting for the next request).
 */
START_TEST(t_rewrite_fully_queued)
{
    char dir[PATH_MAX], root[PATH_MAX], p[PATH_MAX], what[96];
    struct it_server srv;
    struct dl *d;
    uint64_t before;
    double t0, ms;
    int fd;

    snprintf(what, sizeof(what), "(b) rewrite of a fully queued response, %s",
             _i == 0 ? "Connection: close" : "keep-alive");
    it_subtree_new(g_base, dir, sizeof(dir), root, sizeof(root));
    it_join(p, sizeof(p), root, "queued.bin");
    it_write_pattern(p, 2 * MIB, 14);
    start_quick(&srv, root);
    it_server_expect(&srv, "lease broken");

    d = dl_start_opts(srv.port, "/queued.bin", 2 * MIB, 14, _i == 1);
    dl_read(d, 64 * KIB, true);
    ck_assert_int_eq(d->end, DL_OPEN);
    /* let the server queue the rest and finish its sendfile calls */
    it_sleep_ms(300);
    before = d->got;
    t0 = now_ms_f();
    fd = open(p, O_WRONLY | O_CLOEXEC);
    ms = now_ms_f() - t0;
    ck_assert_msg(fd >= 0, "open(O_WRONLY) %s: %s", p, strerror(errno));
    rewrite_fd(fd, 2 * MIB, 15);
    close(fd);
    dl_drain(d);
    note("%s: open blocked %.3f ms; client got %llu of %lld bytes (%llu after the writer), "
         "%llu differ, ended by %s",
         what, ms, (unsigned long long)d->got, (long long)d->cl,
         (unsigned long long)(d->got - before), (unsigned long long)d->ndiff, dl_end_name[d->end]);
    ck_assert_msg(d->end != DL_DONE || d->ndiff == 0,
                  "%s: a complete body mixing two versions (%llu bytes differ, first at %llu)",
                  what, (unsigned long long)d->ndiff, (unsigned long long)d->first_diff);
    assert_cut(d, what);
    ck_assert_msg(d->ndiff <= (uint64_t)d->rcvbuf, "%s: %llu bytes differ, more than rcvbuf %d",
                  what, (unsigned long long)d->ndiff, d->rcvbuf);
    assert_after_within_rcvbuf(d, before, what);
    assert_writer_fast(ms, what);
    dl_free(d);
    get_pattern(srv.port, "/queued.bin", 2 * MIB, 15, NULL, 0);
    assert_one_break(&srv, "queued.bin", 1);
    it_server_stop(&srv);
}
END_TEST

/* (c) append: a cut, or exactly Content-Length original bytes. */
START_TEST(t_append)
{
    char dir[PATH_MAX], root[PATH_MAX], p[PATH_MAX];
    const char *what = "(c) append";
    struct it_server srv;
    unsigned char *buf;
    struct dl *d;
    uint64_t before;
    double t0, ms;
    int fd;

    it_subtree_new(g_base, dir, sizeof(dir), root, sizeof(root));
    it_join(p, sizeof(p), root, "append.bin");
    it_write_pattern(p, BIG_SIZE, 5);
    start_quick(&srv, root);
    it_server_expect(&srv, "lease broken");

    d = dl_start(srv.port, "/append.bin", BIG_SIZE, 5);
    dl_read(d, TRIGGER, true);
    ck_assert_int_eq(d->end, DL_OPEN);
    it_sleep_ms(50);
    before = d->got;
    t0 = now_ms_f();
    fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
    ms = now_ms_f() - t0;
    ck_assert_msg(fd >= 0, "open(O_APPEND) %s: %s", p, strerror(errno));
    buf = malloc(MIB);
    ck_assert_ptr_nonnull(buf);
    it_fill_pattern(buf, MIB, 0, 6);
    ck_assert_int_eq(write(fd, buf, MIB), (ssize_t)MIB);
    free(buf);
    close(fd);
    dl_drain(d);
    note("%s: open blocked %.3f ms; client got %llu of %lld bytes, ended by %s", what, ms,
         (unsigned long long)d->got, (long long)d->cl, dl_end_name[d->end]);
    assert_all_original(d, what);
    if (d->end == DL_DONE) {
        assert_intact(d, what);
    } else {
        assert_cut(d, what);
        assert_after_within_rcvbuf(d, before, what);
    }
    assert_writer_fast(ms, what);
    /* the next request sees the longer file */
    {
        struct it_response r;
        it_get(srv.port, "/append.bin", &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_int_eq(r.content_length, (int64_t)(BIG_SIZE + MIB));
        ck_assert(r.complete);
        it_response_free(&r);
    }
    if (d->end != DL_DONE)
        assert_one_break(&srv, "append.bin", 1);
    dl_free(d);
    it_server_stop(&srv);
}
END_TEST

/* (d) rename a new file over it: no cut; the next request sees the new
 * file (body and ETag) at once, while the old transfer finishes intact. */
START_TEST(t_rename_over)
{
    char dir[PATH_MAX], root[PATH_MAX], p[PATH_MAX], tmp[PATH_MAX], etag2[128], etag3[128];
    const char *what = "(d) rename over";
    struct it_server srv;
    struct dl *d;
    double t0, ms;

    it_subtree_new(g_base, dir, sizeof(dir), root, sizeof(root));
    it_join(p, sizeof(p), root, "deploy.bin");
    it_join(tmp, sizeof(tmp), root, "deploy.bin.new");
    it_write_pattern(p, BIG_SIZE, 7);
    start_quick(&srv, root);

    d = dl_start(srv.port, "/deploy.bin", BIG_SIZE, 7);
    dl_read(d, TRIGGER, true);
    ck_assert_int_eq(d->end, DL_OPEN);
    it_write_pattern(tmp, 2 * MIB, 8);
    t0 = now_ms_f();
    ck_assert_msg(rename(tmp, p) == 0, "rename: %s", strerror(errno));
    ms = now_ms_f() - t0;
    /* the very next request: the new file, a new ETag */
    get_pattern(srv.port, "/deploy.bin", 2 * MIB, 8, etag2, sizeof(etag2));
    ck_assert_msg(strcmp(etag2, d->etag) != 0, "%s: new file, same ETag %s", what, etag2);
    ck_assert_int_eq(d->end, DL_OPEN);
    dl_drain(d);
    note("%s: rename took %.3f ms; in-flight got %llu of %lld bytes, ended by %s", what, ms,
         (unsigned long long)d->got, (long long)d->cl, dl_end_name[d->end]);
    assert_intact(d, what);
    ck_assert_uint_eq(log_count(&srv, "lease broken", NULL, NULL, 0), 0);
    get_pattern(srv.port, "/deploy.bin", 2 * MIB, 8, etag3, sizeof(etag3));
    ck_assert_str_eq(etag3, etag2);
    dl_free(d);
    it_server_stop(&srv);
}
END_TEST

/* (e) unlink mid-transfer: no cut; the next request gets 404. */
START_TEST(t_unlink_mid_transfer)
{
    char dir[PATH_MAX], root[PATH_MAX], p[PATH_MAX];
    const char *what = "(e) unlink";
    struct it_server srv;
    struct it_response r;
    struct dl *d;

    it_subtree_new(g_base, dir, sizeof(dir), root, sizeof(root));
    it_join(p, sizeof(p), root, "gone.bin");
    it_write_pattern(p, BIG_SIZE, 9);
    start_quick(&srv, root);

    d = dl_start(srv.port, "/gone.bin", BIG_SIZE, 9);
    dl_read(d, TRIGGER, true);
    ck_assert_int_eq(d->end, DL_OPEN);
    ck_assert_msg(unlink(p) == 0, "unlink: %s", strerror(errno));
    ck_assert_int_eq(it_request(srv.port, "GET /gone.bin HTTP/1.1\r\nHost: t\r\n\r\n", &r), IT_OK);
    ck_assert_msg(r.status == 404, "%s: next request got %d, want 404", what, r.status);
    it_response_free(&r);
    ck_assert_int_eq(d->end, DL_OPEN);
    dl_drain(d);
    assert_intact(d, what);
    ck_assert_uint_eq(log_count(&srv, "lease broken", NULL, NULL, 0), 0);
    dl_free(d);
    it_server_stop(&srv);
}
END_TEST

/* The real uid of pid, from /proc/PID/status; -1 when unknown. */
static long
proc_uid(pid_t pid)
{
    char path[64], line[256];
    long uid = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "re");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "Uid:", 4) == 0) {
            uid = strtol(line + 4, NULL, 10);
            break;
        }
    fclose(f);
    return uid;
}

/*
 * (f) No lease: _i / 2 picks how (0: file_guard = stat in the config; 1:
 * EACCES, the server runs as uid 65534 on root's file; 2: EAGAIN, a writer
 * holds the file open for writing before the first request), _i % 2 the
 * change (0: truncate, 1: same-size rewrite). fstat before each chunk
 * must still catch it.
 */
START_TEST(t_no_lease_fallback)
{
    static const char *const mode_name[] = {"file_guard = stat", "EACCES (server uid 65534)",
                                            "EAGAIN (writer opened first)"};
    static const char *const wrapper[] = {
        "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--pdeathsig", "KILL", NULL};
    int mode = _i / 2;
    bool rewrite = _i % 2 == 1;
    char dir[PATH_MAX], root[PATH_MAX], p[PATH_MAX], conf[PATH_MAX], what[128], line[1024];
    struct it_server srv;
    struct stat st;
    struct dl *d;
    int wfd = -1;
    double t0, ms;

    snprintf(what, sizeof(what), "(f) %s, %s", mode_name[mode],
             rewrite ? "same-size rewrite" : "truncate");
    if (mode == 1) {
        const char *probe[] = {"setpriv",     "--reuid=65534", "--regid=65534", "--clear-groups",
                               "--pdeathsig", "KILL",          "true",          NULL};
        if (getuid() != 0) {
            note("%s: SKIPPED: the test runs as uid %d, not root, so it cannot make a file the "
                 "server does not own",
                 what, (int)getuid());
            return;
        }
        if (it_run(probe, 10, NULL) != 0) {
            note("%s: SKIPPED: setpriv cannot switch to uid 65534 here", what);
            return;
        }
    }
    it_subtree_new(g_base, dir, sizeof(dir), root, sizeof(root));
    ck_assert_int_eq(chmod(g_base, 0755), 0);
    ck_assert_int_eq(chmod(dir, 0755), 0);
    ck_assert_int_eq(chmod(root, 0755), 0);
    it_join(p, sizeof(p), root, "small.txt");
    it_write_str(p, "still serving\n");
    ck_assert_int_eq(chmod(p, 0644), 0);
    it_join(p, sizeof(p), root, "guard.bin");
    it_write_pattern(p, BIG_SIZE, 10);
    ck_assert_int_eq(chmod(p, 0644), 0);
    ck_assert_int_eq(stat(p, &st), 0);

    if (mode == 0) {
        it_join(conf, sizeof(conf), dir, "stat.conf");
        write_conf(conf, root, "file_guard = stat\n");
        it_server_start_conf(&srv, conf);
    } else if (mode == 1) {
        const char *argv[] = {"-l", "127.0.0.1:0", "--access-log", "off", root, NULL};
        it_server_start_wrapped(&srv, wrapper, argv);
        ck_assert_msg(proc_uid(srv.pid) == 65534, "server runs as uid %ld, want 65534",
                      proc_uid(srv.pid));
    } else {
        wfd = open(p, O_WRONLY | O_CLOEXEC);
        ck_assert_msg(wfd >= 0, "open(O_WRONLY) %s: %s", p, strerror(errno));
        start_quick(&srv, root);
    }
    it_server_expect(&srv, "guarded by stat");
    it_server_expect(&srv, "file shrank");
    it_server_expect(&srv, "file changed");

    d = dl_start(srv.port, "/guard.bin", BIG_SIZE, 10);
    dl_read(d, TRIGGER, true);
    ck_assert_int_eq(d->end, DL_OPEN);
    ck_assert_msg(it_count_leases(srv.pid, &st) == 0, "%s: the server holds a lease on the file",
                  what);
    it_sleep_ms(50);
    t0 = now_ms_f();
    if (!rewrite) {
        if (wfd >= 0)
            ck_assert_msg(ftruncate(wfd, 0) == 0, "ftruncate: %s", strerror(errno));
        else
            ck_assert_msg(truncate(p, 0) == 0, "truncate: %s", strerror(errno));
    } else {
        int fd = wfd >= 0 ? wfd : open(p, O_WRONLY | O_CLOEXEC);
        ck_assert_msg(fd >= 0, "open(O_WRONLY) %s: %s", p, strerror(errno));
        rewrite_fd(fd, BIG_SIZE, 11);
        if (fd != wfd)
            close(fd);
    }
    ms = now_ms_f() - t0;
    dl_drain(d);
    note("%s: writer took %.3f ms; client got %llu of %lld bytes, %llu differ, ended by %s", what,
         ms, (unsigned long long)d->got, (long long)d->cl, (unsigned long long)d->ndiff,
         dl_end_name[d->end]);
    assert_cut(d, what);
    if (!rewrite)
        assert_all_original(d, what);
    dl_free(d);
    if (mode != 0) {
        ck_assert_msg(log_wait(&srv, "guarded by stat", "guard.bin", 1, line, sizeof(line)) >= 1,
                      "%s: no \"guarded by stat\" line for guard.bin", what);
        note("%s: logged: %s", what, line);
    }
    it_server_assert_alive(&srv);
    assert_small_ok(srv.port, "/small.txt", "still serving\n");
    ck_assert_uint_eq(log_count(&srv, "lease broken", NULL, NULL, 0), 0);
    if (wfd >= 0)
        close(wfd);
    it_server_stop(&srv);
}
END_TEST

/* (g) two slow downloads of one file share one fd and one lease, and one
 * truncate cuts both. */
START_TEST(t_two_downloads_one_fd)
{
    char dir[PATH_MAX], root[PATH_MAX], p[PATH_MAX], real[PATH_MAX];
    const char *what = "(g) two downloads";
    struct it_server srv;
    struct stat st;
    struct dl *d1, *d2;
    uint64_t b1, b2;
    int nfd, nlease;
    double ms;

    it_subtree_new(g_base, dir, sizeof(dir), root, sizeof(root));
    it_join(p, sizeof(p), root, "shared.bin");
    it_write_pattern(p, BIG_SIZE, 12);
    ck_assert_ptr_nonnull(realpath(p, real));
    ck_assert_int_eq(stat(p, &st), 0);
    start_quick(&srv, root);
    it_server_expect(&srv, "lease broken");

    d1 = dl_start(srv.port, "/shared.bin", BIG_SIZE, 12);
    d2 = dl_start(srv.port, "/shared.bin", BIG_SIZE, 12);
    dl_read(d1, TRIGGER, true);
    dl_read(d2, TRIGGER, true);
    ck_assert_int_eq(d1->end, DL_OPEN);
    ck_assert_int_eq(d2->end, DL_OPEN);
    nfd = count_fds(srv.pid, real, false);
    nlease = it_count_leases(srv.pid, &st);
    note("%s: server has %d fd(s) and %d lease(s) on the file", what, nfd, nlease);
    ck_assert_msg(nfd == 1, "%s: the server has the file open %d times, want once", what, nfd);
    ck_assert_msg(nlease == 1, "%s: the server holds %d leases on the file, want 1", what, nlease);
    it_sleep_ms(50);
    b1 = d1->got;
    b2 = d2->got;
    ms = timed_truncate(p, TRUNC_OPEN);
    dl_drain(d1);
    dl_drain(d2);
    note("%s: writer blocked %.3f ms; got %llu and %llu of %lld bytes, ended by %s and %s", what,
         ms, (unsigned long long)d1->got, (unsigned long long)d2->got, (long long)d1->cl,
         dl_end_name[d1->end], dl_end_name[d2->end]);
    assert_cut(d1, "(g) first download");
    assert_cut(d2, "(g) second download");
    assert_all_original(d1, "(g) first download");
    assert_all_original(d2, "(g) second download");
    assert_after_within_rcvbuf(d1, b1, "(g) first download");
    assert_after_within_rcvbuf(d2, b2, "(g) second download");
    assert_writer_fast(ms, what);
    dl_free(d1);
    dl_free(d2);
    assert_one_break(&srv, "shared.bin", 2);
    it_server_stop(&srv);
}
END_TEST

/*
 * (h) A cached file changed by `cp other file` (in place: same inode) or by
 * an editor's save (write a temporary file, rename it over) is served
 * fresh on the very next request, body and ETag. _i / 2: 0 a small file
 * (in-memory snapshot), 1 a 100 KiB one (fd); _i % 2: 0 cp, 1 editor. All
 * versions have the same size, so only the content and mtime change.
 */
START_TEST(t_cached_file_fresh)
{
    uint64_t size = _i / 2 == 0 ? 4 * KIB : 100 * KIB;
    bool editor = _i % 2 == 1;
    char dir[PATH_MAX], root[PATH_MAX], p[PATH_MAX], src[PATH_MAX], etag[128], etag2[128];
    char what[96];
    struct it_server srv;

    snprintf(what, sizeof(what), "(h) %llu-byte file changed by %s", (unsigned long long)size,
             editor ? "an editor's rename-save" : "cp");
    it_subtree_new(g_base, dir, sizeof(dir), root, sizeof(root));
    it_join(p, sizeof(p), root, "page.bin");
    it_write_pattern(p, size, 20);
    start_quick(&srv, root);
    it_server_expect(&srv, "lease broken"); /* cp's open(O_TRUNC) breaks the lease */

    get_pattern(srv.port, "/page.bin", size, 20, etag, sizeof(etag));
    get_pattern(srv.port, "/page.bin", size, 20, etag2, sizeof(etag2));
    ck_assert_str_eq(etag2, etag);
    for (uint32_t round = 1; round <= 5; round++) {
        uint32_t seed = 20 + round;

        /* Distinct mtimes: the ETag is made of size and mtime, and this
         * test is about the cache, not about the clock's granularity. */
        it_sleep_ms(10);
        if (editor) {
            it_join(src, sizeof(src), root, ".page.bin.swp");
            it_write_pattern(src, size, seed);
            ck_assert_msg(rename(src, p) == 0, "rename: %s", strerror(errno));
        } else {
            const char *argv[] = {"cp", src, p, NULL};
            char name[32];
            snprintf(name, sizeof(name), "src%u.bin", round);
            it_join(src, sizeof(src), dir, name);
            it_write_pattern(src, size, seed);
            ck_assert_msg(it_run(argv, 20, NULL) == 0, "cp %s %s failed", src, p);
        }
        get_pattern(srv.port, "/page.bin", size, seed, etag2, sizeof(etag2));
        ck_assert_msg(strcmp(etag2, etag) != 0, "%s, round %u: ETag unchanged (%s)", what, round,
                      etag2);
        snprintf(etag, sizeof(etag), "%s", etag2);
        get_pattern(srv.port, "/page.bin", size, seed, etag2, sizeof(etag2));
        ck_assert_str_eq(etag2, etag);
    }
    it_server_stop(&srv);
}
END_TEST

/*
 * (h), deploys that swap a directory or a symlink above a cached file: the
 * file's own directory is renamed away and another takes its name (_i 0),
 * the same one level higher (_i 1), or a symlink in the docroot is
 * repointed by rename (_i 2). The path now names another file: the very
 * next request must get it (body and ETag).
 */
START_TEST(t_cached_path_swapped)
{
    static const char *const url[] = {"/sub/x.bin", "/a/b/x.bin", "/cur/x.bin"};
    char dir[PATH_MAX], root[PATH_MAX], p[PATH_MAX], q[PATH_MAX], etag[128], etag2[128];
    struct it_server srv;

    it_subtree_new(g_base, dir, sizeof(dir), root, sizeof(root));
    if (_i == 0) {
        it_join(p, sizeof(p), root, "sub");
        it_mkdir(p);
        it_put_pattern(root, "sub/x.bin", 100 * KIB, 40);
        it_join(p, sizeof(p), root, "sub.new");
        it_mkdir(p);
        it_put_pattern(root, "sub.new/x.bin", 100 * KIB, 41);
    } else if (_i == 1) {
        const char *dirs[] = {"a", "a/b", "a.new", "a.new/b"};
        for (size_t k = 0; k < 4; k++) {
            it_join(p, sizeof(p), root, dirs[k]);
            it_mkdir(p);
        }
        it_put_pattern(root, "a/b/x.bin", 100 * KIB, 40);
        it_put_pattern(root, "a.new/b/x.bin", 100 * KIB, 41);
    } else {
        it_join(p, sizeof(p), root, "v1");
        it_mkdir(p);
        it_join(p, sizeof(p), root, "v2");
        it_mkdir(p);
        it_put_pattern(root, "v1/x.bin", 100 * KIB, 40);
        it_put_pattern(root, "v2/x.bin", 100 * KIB, 41);
        it_join(p, sizeof(p), root, "cur");
        ck_assert_int_eq(symlink("v1", p), 0);
        it_join(p, sizeof(p), root, "cur.new");
        ck_assert_int_eq(symlink("v2", p), 0);
    }
    /* Both versions have one size and were written within one tick of the
     * file system's clock: give the old one another mtime, as a real
     * deploy would, since the ETag is made of size and mtime. */
    it_join(p, sizeof(p), root, _i == 0 ? "sub/x.bin" : _i == 1 ? "a/b/x.bin" : "v1/x.bin");
    it_set_mtime(p, 1000000000);
    start_quick(&srv, root);

    get_pattern(srv.port, url[_i], 100 * KIB, 40, etag, sizeof(etag));
    get_pattern(srv.port, url[_i], 100 * KIB, 40, etag2, sizeof(etag2));
    ck_assert_str_eq(etag2, etag);
    if (_i == 0) {
        it_join(p, sizeof(p), root, "sub");
        it_join(q, sizeof(q), root, "sub.old");
        ck_assert_int_eq(rename(p, q), 0);
        it_join(q, sizeof(q), root, "sub.new");
        ck_assert_int_eq(rename(q, p), 0);
    } else if (_i == 1) {
        it_join(p, sizeof(p), root, "a");
        it_join(q, sizeof(q), root, "a.old");
        ck_assert_int_eq(rename(p, q), 0);
        it_join(q, sizeof(q), root, "a.new");
        ck_assert_int_eq(rename(q, p), 0);
    } else {
        it_join(p, sizeof(p), root, "cur");
        it_join(q, sizeof(q), root, "cur.new");
        ck_assert_int_eq(rename(q, p), 0);
    }
    get_pattern(srv.port, url[_i], 100 * KIB, 41, etag2, sizeof(etag2));
    ck_assert_msg(strcmp(etag2, etag) != 0, "%s: ETag unchanged after the swap", url[_i]);
    it_server_stop(&srv);
}
END_TEST

/*
 * (i) 1,000 cached files, each holding a lease (998 of 20 KiB, larger
 * than small_file_size, and alpha and bravo of 32 MiB). Slow downloads of
 * alpha and bravo; truncating alpha cuts only alpha's.
 */
START_TEST(t_thousand_cached_one_break)
{
    char dir[PATH_MAX], root[PATH_MAX], p[PATH_MAX], conf[PATH_MAX], real[PATH_MAX];
    char(*sha)[65] = calloc(NFILL, 65);
    struct it_response *r = malloc(sizeof(*r));
    struct it_server srv;
    struct it_conn c;
    struct dl *da, *db;
    uint64_t ba;
    int nfd, nlease;
    double ms;

    ck_assert_ptr_nonnull(sha);
    ck_assert_ptr_nonnull(r);
    it_subtree_new(g_base, dir, sizeof(dir), root, sizeof(root));
    ck_assert_ptr_nonnull(realpath(root, real));
    for (int i = 0; i < NFILL; i++) {
        char name[32];
        snprintf(name, sizeof(name), "fill-%03d.bin", i);
        it_join(p, sizeof(p), root, name);
        it_write_pattern(p, 20 * KIB, 1000 + (uint32_t)i);
        it_pattern_sha256(20 * KIB, 1000 + (uint32_t)i, sha[i]);
    }
    it_put_pattern(root, "alpha.bin", BIG_SIZE, 30);
    it_put_pattern(root, "bravo.bin", BIG_SIZE, 31);
    it_join(conf, sizeof(conf), dir, "i.conf");
    write_conf(conf, root, "open_file_cache_max = 2000\n");
    it_server_start_conf(&srv, conf);
    it_server_expect(&srv, "lease broken");

    /* request each once, fully, on one kept-alive connection */
    it_conn_open_opts(&c, srv.port, 0, 10000);
    for (int i = 0; i < NFILL; i++) {
        char req[128];
        snprintf(req, sizeof(req), "GET /fill-%03d.bin HTTP/1.1\r\nHost: t\r\n\r\n", i);
        it_conn_send_str(&c, req);
        ck_assert_int_eq(it_read_response(&c, r, false), IT_OK);
        ck_assert_int_eq(r->status, 200);
        ck_assert_str_eq(r->sha256, sha[i]);
        it_response_free(r);
    }
    it_conn_close(&c);
    get_pattern(srv.port, "/alpha.bin", BIG_SIZE, 30, NULL, 0);
    get_pattern(srv.port, "/bravo.bin", BIG_SIZE, 31, NULL, 0);
    nfd = count_fds(srv.pid, real, true);
    nlease = it_count_leases(srv.pid, NULL);
    note("(i) after 1,000 requests: %d fds on files in the docroot, %d read leases held", nfd,
         nlease);
    ck_assert_msg(nfd >= NFILL + 2, "(i) only %d cached files open, want %d", nfd, NFILL + 2);
    ck_assert_msg(nlease >= NFILL + 2, "(i) only %d leases held, want %d", nlease, NFILL + 2);

    da = dl_start(srv.port, "/alpha.bin", BIG_SIZE, 30);
    db = dl_start(srv.port, "/bravo.bin", BIG_SIZE, 31);
    dl_read(da, TRIGGER, true);
    dl_read(db, TRIGGER, true);
    ck_assert_int_eq(da->end, DL_OPEN);
    ck_assert_int_eq(db->end, DL_OPEN);
    it_sleep_ms(50);
    ba = da->got;
    it_join(p, sizeof(p), root, "alpha.bin");
    ms = timed_truncate(p, TRUNC_OPEN);
    dl_drain(da);
    dl_drain(db);
    note("(i) writer blocked %.3f ms; alpha got %llu (%s), bravo got %llu (%s) of %lld", ms,
         (unsigned long long)da->got, dl_end_name[da->end], (unsigned long long)db->got,
         dl_end_name[db->end], (long long)da->cl);
    assert_cut(da, "(i) alpha");
    assert_all_original(da, "(i) alpha");
    assert_after_within_rcvbuf(da, ba, "(i) alpha");
    assert_intact(db, "(i) bravo");
    assert_writer_fast(ms, "(i)");
    dl_free(da);
    dl_free(db);
    assert_one_break(&srv, "alpha.bin", 1);
    ck_assert_uint_eq(log_count(&srv, "lease broken", NULL, NULL, 0), 1);
    nlease = it_count_leases(srv.pid, NULL);
    ck_assert_msg(nlease >= NFILL + 1, "(i) after the break only %d leases held, want %d", nlease,
                  NFILL + 1);
    for (int i = 0; i < NFILL; i += 97) {
        char path[64];
        snprintf(path, sizeof(path), "/fill-%03d.bin", i);
        get_pattern(srv.port, path, 20 * KIB, 1000 + (uint32_t)i, NULL, 0);
    }
    it_server_stop(&srv);
    free(sha);
    free(r);
}
END_TEST

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/*
 * (a), repeated: how long the writer blocks while a slow download of its
 * file is in flight, over TRIALS trials rotating open(O_WRONLY|O_TRUNC),
 * truncate() and a plain open(O_WRONLY); next to the same call on an
 * identical file nobody serves (the cost of the call itself). Each trial
 * also checks the cut, and that the next download (of a new file under
 * the same name) is the new content.
 */
START_TEST(t_writer_block_times)
{
    enum { NHOW = 3 };
    char dir[PATH_MAX], root[PATH_MAX], p[PATH_MAX], base[PATH_MAX];
    double *ms[NHOW + 1], *bms[NHOW + 1];
    int n[NHOW + 1] = {0};
    int64_t deadline = it_now_ms() + 200000;
    struct it_server srv;

    for (int h = 0; h <= NHOW; h++) {
        ms[h] = calloc(TRIALS, sizeof(double));
        bms[h] = calloc(TRIALS, sizeof(double));
        ck_assert_ptr_nonnull(ms[h]);
        ck_assert_ptr_nonnull(bms[h]);
    }
    it_subtree_new(g_base, dir, sizeof(dir), root, sizeof(root));
    it_join(p, sizeof(p), root, "trial.bin");
    it_join(base, sizeof(base), dir, "baseline.bin");
    start_quick(&srv, root);
    it_server_expect(&srv, "lease broken");
    for (int t = 0; t < TRIALS && it_now_ms() < deadline; t++) {
        enum trunc_how how = (enum trunc_how)(t % NHOW);
        uint32_t seed = 200 + (uint32_t)t;
        char what[64];
        struct dl *d;
        uint64_t before;
        double w, b;

        snprintf(what, sizeof(what), "trial %d (%s)", t, how_name[how]);
        unlink(p);
        it_write_pattern(p, TRIAL_SIZE, seed);
        it_write_pattern(base, TRIAL_SIZE, seed);
        d = dl_start(srv.port, "/trial.bin", TRIAL_SIZE, seed);
        dl_read(d, 512 * KIB, true);
        ck_assert_int_eq(d->end, DL_OPEN);
        it_sleep_ms(20);
        before = d->got;
        w = timed_truncate(p, how);
        b = timed_truncate(base, how);
        dl_drain(d);
        assert_cut(d, what);
        assert_all_original(d, what);
        assert_after_within_rcvbuf(d, before, what);
        assert_writer_fast(w, what);
        dl_free(d);
        ms[how][n[how]] = w;
        bms[how][n[how]++] = b;
        ms[NHOW][n[NHOW]] = w;
        bms[NHOW][n[NHOW]++] = b;
    }
    ck_assert_msg(n[NHOW] >= 30, "only %d trials in the time limit", n[NHOW]);
    ck_assert_uint_eq(log_wait(&srv, "lease broken", "trial.bin", (size_t)n[NHOW], NULL, 0),
                      (size_t)n[NHOW]);
    for (int h = 0; h <= NHOW; h++) {
        int k = n[h];

        qsort(ms[h], (size_t)k, sizeof(double), cmp_double);
        qsort(bms[h], (size_t)k, sizeof(double), cmp_double);
        note("writer blocking time, %s, %d trials (16 MiB file, download in flight): median "
             "%.3f ms, p90 %.3f ms, max %.3f ms, min %.3f ms; same call on an unserved file: "
             "median %.3f ms, max %.3f ms",
             h == NHOW ? "all kinds" : how_name[h], k, ms[h][k / 2], ms[h][k * 9 / 10],
             ms[h][k - 1], ms[h][0], bms[h][k / 2], bms[h][k - 1]);
        free(ms[h]);
        free(bms[h]);
    }
    it_server_stop(&srv);
}
END_TEST

/* `touch` (an open for writing, then utimensat) breaks the lease too,
 * although no byte changes. touch's open is O_NONBLOCK (EWOULDBLOCK
 * while the lease breaks, then utimensat), so the reader drains at once
 * and the download is either completed from a snapshot or cut; either
 * way with the original bytes only. */
START_TEST(t_touch_breaks)
{
    char dir[PATH_MAX], root[PATH_MAX], p[PATH_MAX];
    const char *what = "touch";
    const char *argv[] = {"touch", p, NULL};
    struct it_server srv;
    struct dl *d;
    double t0, ms;

    it_subtree_new(g_base, dir, sizeof(dir), root, sizeof(root));
    it_join(p, sizeof(p), root, "touched.bin");
    it_write_pattern(p, BIG_SIZE, 13);
    start_quick(&srv, root);
    it_server_expect(&srv, "lease broken");

    d = dl_start(srv.port, "/touched.bin", BIG_SIZE, 13);
    dl_read(d, TRIGGER, true);
    ck_assert_int_eq(d->end, DL_OPEN);
    it_sleep_ms(50);
    t0 = now_ms_f();
    ck_assert_msg(it_run(argv, 60, NULL) == 0, "touch %s failed", p);
    ms = now_ms_f() - t0;
    dl_drain(d);
    note("%s: the touch process took %.3f ms (fork and exec included); client got %llu of %lld "
         "bytes, ended by %s",
         what, ms, (unsigned long long)d->got, (long long)d->cl, dl_end_name[d->end]);
    assert_all_original(d, what);
    if (d->end == DL_DONE) {
        assert_intact(d, what);
    } else {
        /* touch did not wait: the reader drained the socket meanwhile,
         * so more than its receive buffer may follow the call */
        assert_cut(d, what);
    }
    assert_writer_fast(ms, what);
    dl_free(d);
    get_pattern(srv.port, "/touched.bin", BIG_SIZE, 13, NULL, 0);
    assert_one_break(&srv, "touched.bin", 1);
    it_server_stop(&srv);
}
END_TEST

/*
 * (j) Fifty downloads of one file, one break. Each is mid-transfer when
 * the file is truncated: every one is cut, with only original bytes and,
 * after the writer's call returned, at most its own receive buffer. The
 * server cuts them in one pass (one "lease broken" line reporting 50, one
 * "cut after" line per download), frees each connection (its sockets go
 * back to the listener alone), serves the new content at once, and
 * counts 50 responses cut when it stops.
 */
START_TEST(t_fifty_downloads_one_break)
{
    enum { N = 50 };
    char dir[PATH_MAX], root[PATH_MAX], p[PATH_MAX], line[1024];
    const char *what = "(j) fifty downloads";
    struct it_server srv;
    struct dl *d[N];
    uint64_t before[N];
    int socks0, socks;
    int64_t deadline;
    double ms;

    it_subtree_new(g_base, dir, sizeof(dir), root, sizeof(root));
    it_join(p, sizeof(p), root, "many.bin");
    it_write_pattern(p, TRIAL_SIZE, 14);
    start_quick(&srv, root);
    it_server_expect(&srv, "lease broken");
    socks0 = count_sockets(srv.pid);

    for (int i = 0; i < N; i++)
        d[i] = dl_start(srv.port, "/many.bin", TRIAL_SIZE, 14);
    for (int i = 0; i < N; i++) {
        dl_read(d[i], 256 * KIB, false);
        ck_assert_msg(d[i]->end == DL_OPEN, "%s: download %d ended early (%s)", what, i,
                      dl_end_name[d[i]->end]);
    }
    ck_assert_int_eq(count_sockets(srv.pid), socks0 + N);
    it_sleep_ms(50);
    for (int i = 0; i < N; i++)
        before[i] = d[i]->got;
    ms = timed_truncate(p, TRUNC_OPEN);
    for (int i = 0; i < N; i++)
        dl_drain(d[i]);
    note("%s: writer blocked %.3f ms; the first got %llu of %lld bytes, ended by %s", what, ms,
         (unsigned long long)d[0]->got, (long long)d[0]->cl, dl_end_name[d[0]->end]);
    for (int i = 0; i < N; i++) {
        char name[64];

        snprintf(name, sizeof(name), "%s, download %d", what, i);
        assert_cut(d[i], name);
        assert_all_original(d[i], name);
        assert_after_within_rcvbuf(d[i], before[i], name);
        dl_free(d[i]);
    }
    assert_writer_fast(ms, what);
    assert_one_break(&srv, "many.bin", N);
    ck_assert_uint_eq(log_wait(&srv, "cut after", "/many.bin", N, NULL, 0), N);
    ck_assert_uint_eq(log_count(&srv, "cut after", "/many.bin", NULL, 0), N);

    /* every connection freed: only the listener's sockets are left */
    deadline = it_now_ms() + 5000;
    while ((socks = count_sockets(srv.pid)) != socks0 && it_now_ms() < deadline)
        it_sleep_ms(10);
    ck_assert_msg(socks == socks0, "%s: the server has %d sockets, %d before the downloads", what,
                  socks, socks0);

    it_write_pattern(p, TRIAL_SIZE, 15);
    get_pattern(srv.port, "/many.bin", TRIAL_SIZE, 15, NULL, 0);

    it_server_term(&srv);
    ck_assert_msg(log_wait(&srv, "file cache:", NULL, 1, line, sizeof(line)) == 1,
                  "%s: no file-cache line at the stop", what);
    ck_assert_msg(strstr(line, " 1 lease breaks, 50 responses cut") != NULL,
                  "%s: the stop line does not count 50 cuts: %s", what, line);
    it_server_stop(&srv);
}
END_TEST

static Suite *
lease_suite(void)
{
    Suite *s = suite_create("it_lease");
    TCase *tc = tcase_create("lease");

    tcase_set_timeout(tc, 300);
    tcase_add_unchecked_fixture(tc, base_up, base_down);
    tcase_add_test(tc, t_slow_no_writer);
    tcase_add_loop_test(tc, t_truncate_mid_transfer, 0, 2);
    tcase_add_loop_test(tc, t_truncate_range_and_variant, 0, 2);
    tcase_add_test(tc, t_rewrite_same_size);
    tcase_add_loop_test(tc, t_rewrite_fully_queued, 0, 2);
    tcase_add_test(tc, t_append);
    tcase_add_test(tc, t_rename_over);
    tcase_add_test(tc, t_unlink_mid_transfer);
    tcase_add_loop_test(tc, t_no_lease_fallback, 0, 6);
    tcase_add_test(tc, t_two_downloads_one_fd);
    tcase_add_loop_test(tc, t_cached_file_fresh, 0, 4);
    tcase_add_loop_test(tc, t_cached_path_swapped, 0, 3);
    tcase_add_test(tc, t_thousand_cached_one_break);
    tcase_add_test(tc, t_touch_breaks);
    tcase_add_test(tc, t_fifty_downloads_one_break);
    tcase_add_test(tc, t_writer_block_times);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return it_main(lease_suite());
}
