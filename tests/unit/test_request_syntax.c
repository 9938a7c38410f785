/*
 * test_request_syntax.c - unit tests for the head scanner of
 * request_syntax.c (sf_request_scan_head), called directly.
 *
 * Every byte value is put at every position of a browser's request head.
 * Where the position is inside a method, a target, a field name or a
 * field value, the verdict must follow the byte classes of RFC 9112 and
 * RFC 9110 as written out here (tchar, VCHAR, a target's VCHAR but '#',
 * field-content): the head ends where it should, or the scanner stops at
 * exactly that byte. At
 * every position, whatever the byte, the head fed whole, fed a byte at a
 * time and fed in reads of 7 and 8 bytes must give the same verdict, stop
 * and state (with where the method, the target and the request line end
 * and the field count). A byte at a time the scanner only ever sees one byte and
 * takes its per-byte rules; whole, it skips values and targets a word at
 * a time: the two must not differ. Each input is a heap copy of exactly
 * its length, so a read past its end is an error under ASan.
 */
#include "../../src/request_int.h"

#include "sfhttpd/common.h"
#include "unit_util.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* Chrome's headers for a script, with a cookie; no 'H' in the target
 * (see T_TARGET) */
static const char head[] =
    "GET /static/js/app.min.js?v=20261207&lang=en-US~x HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36\r\n"
    "Accept: */*\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Sec-Fetch-Dest: script\r\n"
    "Cookie: session=abcdef0123456789abcdef0123456789; theme=dark\r\n"
    "\r\n";

enum role { R_METHOD, R_TARGET, R_VERSION, R_NAME, R_COLON, R_VALUE, R_CR, R_LF };

struct out {
    enum sf_scan sc;
    size_t stop;
    struct sf_syntax syn;
};

static const size_t feeds[] = {0, 1, 7, 8};

/* The role of each byte of the well-formed head h, and whether it is the
 * first of its element. */
static void
roles(const char *h, size_t len, enum role *role, bool *first)
{
    size_t i = 0;
    enum role cur = R_METHOD;
    bool start = true;
    for (; i < len && h[i] != '\r'; i++) {
        if (h[i] == ' ') {
            role[i] = R_VERSION; /* a separator: mutated, only agreement is checked */
            cur = cur == R_METHOD ? R_TARGET : R_VERSION;
            start = true;
            continue;
        }
        role[i] = cur;
        first[i] = start;
        start = false;
    }
    bool in_name = true;
    start = true;
    for (; i < len; i++) {
        if (h[i] == '\r' || h[i] == '\n') {
            role[i] = h[i] == '\r' ? R_CR : R_LF;
            in_name = start = true;
            continue;
        }
        if (in_name && h[i] == ':') {
            role[i] = R_COLON;
            in_name = false;
            continue;
        }
        role[i] = in_name ? R_NAME : R_VALUE;
        first[i] = start;
        start = false;
    }
}

/* Feed buf[0, len) in reads of chunk bytes (0: all at once) as the parser
 * does: each call scans from where the last one stopped to what has
 * arrived (a held-back CR is scanned again with the byte after it). */
static void
scan(const char *buf, size_t len, size_t chunk, struct out *o)
{
    memset(o, 0, sizeof(*o));
    size_t pos = 0, avail = 0;
    for (;;) {
        avail = chunk && len - avail > chunk ? avail + chunk : len;
        o->sc = sf_request_scan_head(&o->syn, buf, pos, avail, &o->stop);
        if (o->sc != SF_SCAN_MORE || avail == len)
            return;
        if (o->stop < pos)
            ck_abort_msg("stop %zu before the read's start %zu", o->stop, pos);
        pos = o->stop;
    }
}

static bool
ref_tchar(unsigned c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c && strchr("!#$%&'*+-.^_`|~", (int)c));
}

static bool
ref_vchar(unsigned c)
{
    return c >= 0x21 && c <= 0x7e;
}

/* a request-target's bytes: VCHAR but '#' (RFC 9112 §3.2 has no
 * fragment in any form) */
static bool
ref_target(unsigned c)
{
    return ref_vchar(c) && c != '#';
}

/* field-content bytes: HTAB, SP, VCHAR, obs-text */
static bool
ref_field(unsigned c)
{
    return c == '\t' || c == ' ' || ref_vchar(c) || c >= 0x80;
}

static void
same(const struct out *a, const struct out *b, size_t k, unsigned v, size_t chunk)
{
    /* (plain ifs: a passing ck_assert costs a write to Check's pipe) */
    if (a->sc != b->sc || a->stop != b->stop || a->syn.st != b->syn.st ||
        a->syn.ver != b->syn.ver || a->syn.major != b->syn.major || a->syn.minor != b->syn.minor ||
        a->syn.line_done != b->syn.line_done || a->syn.line_off != b->syn.line_off ||
        a->syn.line_len != b->syn.line_len || a->syn.method_len != b->syn.method_len ||
        a->syn.target_off != b->syn.target_off || a->syn.target_len != b->syn.target_len ||
        a->syn.fields != b->syn.fields)
        ck_abort_msg("byte 0x%02x at %zu: whole gives %d at %zu, reads of %zu give %d at %zu", v, k,
                     a->sc, a->stop, chunk, b->sc, b->stop);
}

/* The verdict a byte v at k must get when its role fixes it: 1 the head
 * is still whole, 0 the scanner stops at k, -1 not fixed here. */
static int
expected(enum role role, bool first, unsigned v)
{
    switch (role) {
    case R_METHOD: return ref_tchar(v) ? 1 : v == ' ' && !first ? -1 : 0;
    case R_TARGET: return ref_target(v) ? 1 : v == ' ' && !first ? -1 : 0;
    case R_NAME: return ref_tchar(v) || (v == ':' && !first) ? 1 : 0;
    case R_VALUE: return ref_field(v) ? 1 : 0;
    default: return -1;
    }
}

START_TEST(test_every_byte_everywhere)
{
    size_t len = sizeof(head) - 1;
    enum role role[sizeof(head)];
    bool first[sizeof(head)] = {false};
    roles(head, len, role, first);
    char *buf = malloc(len);
    ck_assert_ptr_nonnull(buf);
    unsigned checked = 0;
    for (size_t k = 0; k < len; k++) {
        for (unsigned v = 0; v < 256; v++) {
            memcpy(buf, head, len);
            buf[k] = (char)v;
            struct out whole, part;
            scan(buf, len, 0, &whole);
            for (size_t f = 1; f < SF_ARRAY_LEN(feeds); f++) {
                scan(buf, len, feeds[f], &part);
                same(&whole, &part, k, v, feeds[f]);
            }
            int e = expected(role[k], first[k], v);
            if (e == 1) {
                if (whole.sc != SF_SCAN_END || whole.stop != len)
                    ck_abort_msg("byte 0x%02x at %zu (role %d) refused: %d at %zu", v, k, role[k],
                                 whole.sc, whole.stop);
                checked++;
            } else if (e == 0) {
                if (whole.sc != SF_SCAN_BAD || whole.stop != k)
                    ck_abort_msg("byte 0x%02x at %zu (role %d): %d at %zu, not refused there", v, k,
                                 role[k], whole.sc, whole.stop);
                checked++;
            } else if (v == ' ' && (role[k] == R_METHOD || role[k] == R_TARGET)) {
                /* a space splits the element: the rest is not a version */
                if (whole.sc != SF_SCAN_BAD || whole.stop <= k)
                    ck_abort_msg("space at %zu: %d at %zu", k, whole.sc, whole.stop);
            }
        }
    }
    /* most positions are inside the four kinds of runs */
    ck_assert_uint_gt(checked, (unsigned)(len * 256 * 3 / 4));
    free(buf);
}
END_TEST

/* The unmodified head: its end, and the request line's state. */
START_TEST(test_browser_head)
{
    size_t len = sizeof(head) - 1;
    char *buf = malloc(len);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, head, len);
    for (size_t f = 0; f < SF_ARRAY_LEN(feeds); f++) {
        struct out o;
        scan(buf, len, feeds[f], &o);
        ck_assert_int_eq(o.sc, SF_SCAN_END);
        ck_assert_uint_eq(o.stop, len);
        ck_assert(o.syn.line_done);
        ck_assert_uint_eq(o.syn.line_off, 0);
        ck_assert_uint_eq(o.syn.line_len, strchr(head, '\r') - head);
        ck_assert_uint_eq(o.syn.major, 1);
        ck_assert_uint_eq(o.syn.minor, 1);
        /* where the method and the target end, and the field lines */
        ck_assert_uint_eq(o.syn.method_len, 3);
        ck_assert_uint_eq(o.syn.target_off, 4);
        ck_assert_uint_eq(o.syn.target_len, strstr(head, " HTTP/") - head - 4);
        ck_assert_uint_eq(o.syn.fields, 6);
    }
    /* cut anywhere before its end, the head needs more and has accepted
     * every byte (but a CR at the cut) */
    for (size_t cut = 0; cut < len; cut++) {
        struct out o;
        scan(buf, cut, 0, &o);
        ck_assert_int_eq(o.sc, SF_SCAN_MORE);
        ck_assert_uint_eq(o.stop, cut && buf[cut - 1] == '\r' ? cut - 1 : cut);
    }
    free(buf);
}
END_TEST

/* Long runs of one class, cut by one bad byte at every offset from a
 * word boundary: values and targets are skipped a word at a time, methods
 * and names eight table lookups to a branch. A colon ends a name early
 * (the rest is its value); a space splits a target or a method, and what
 * follows cannot be the rest of the line. */
static const struct {
    const char *what, *pre, *post;
    char fill;
    enum role role;
    bool starts;        /* the run is its element's first byte on (not a
                           target's, which has its '/' before it) */
    enum sf_scan whole; /* the verdict when the byte is accepted */
    unsigned fields;
    uint32_t method_len;
} runs[] = {
    {"value", "GET / HTTP/1.1\r\nX-Run: ", "\r\n\r\n", 'a', R_VALUE, true, SF_SCAN_END, 1, 3},
    {"target", "GET /", " HTT", 'b', R_TARGET, false, SF_SCAN_MORE, 0, 3},
    {"name", "GET / HTTP/1.1\r\n", ": v\r\n\r\n", 'n', R_NAME, true, SF_SCAN_END, 1, 3},
    {"method", "", " / HTTP/1.1\r\n\r\n", 'M', R_METHOD, true, SF_SCAN_END, 0, 64},
};

START_TEST(test_runs_cut_at_every_offset)
{
    size_t np = strlen(runs[_i].pre), nq = strlen(runs[_i].post), len = np + 64 + nq;
    char *buf = malloc(len);
    ck_assert_ptr_nonnull(buf);
    for (size_t at = 0; at < 64; at++) {
        for (unsigned v = 0; v < 256; v++) {
            memcpy(buf, runs[_i].pre, np);
            memset(buf + np, runs[_i].fill, 64);
            memcpy(buf + np + 64, runs[_i].post, nq);
            buf[np + at] = (char)v;
            int e = expected(runs[_i].role, runs[_i].starts && at == 0, v);
            struct out o;
            scan(buf, len, 0, &o);
            if (e < 0) {
                if (o.sc != SF_SCAN_BAD || o.stop <= np + at)
                    ck_abort_msg("%s, space at %zu: %d at %zu", runs[_i].what, at, o.sc, o.stop);
                continue;
            }
            enum sf_scan want = e ? runs[_i].whole : SF_SCAN_BAD;
            size_t at_stop = e ? len : np + at;
            if (o.sc != want || o.stop != at_stop)
                ck_abort_msg("%s, byte 0x%02x at %zu: %d at %zu, not %d at %zu", runs[_i].what, v,
                             at, o.sc, o.stop, want, at_stop);
            if (e && (o.syn.fields != runs[_i].fields || o.syn.method_len != runs[_i].method_len))
                ck_abort_msg("%s, byte 0x%02x at %zu: %u fields, a method of %u", runs[_i].what, v,
                             at, o.syn.fields, o.syn.method_len);
        }
    }
    free(buf);
}
END_TEST

static Suite *
syntax_suite(void)
{
    Suite *s = suite_create("request_syntax");
    TCase *tc = tcase_create("head");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_browser_head);
    tcase_add_loop_test(tc, test_runs_cut_at_every_offset, 0, SF_ARRAY_LEN(runs));
    tcase_add_test(tc, test_every_byte_everywhere);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(syntax_suite());
}
