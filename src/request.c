/*
 * request.c - turns bytes into one request head at a time: method,
 * target, version and the headers a file server needs, as spans into the
 * connection's buffer, with the limits that protect the worker (header
 * size, URI length, header count, body size). Every head byte passes our
 * scanner (request_syntax.c), which notes where the method, the target
 * and the request line end and counts the field lines; what those decide
 * is decided here as the bytes come, and once the scanner has accepted a
 * whole head its field lines are read in one pass. The framing headers are
 * judged here, and the body is decoded here too. And the read buffer's
 * bookkeeping around it (sf_request_next): where a message ends, which
 * bytes a body may reuse, when a head cannot fit, where the next
 * pipelined request starts. Pure: no I/O.
 */
#include "request_int.h"
#include "sfhttpd/common.h"

#include <assert.h>
#include <string.h>
#include <strings.h>

/* One step of the parser over new bytes (feed). */
enum sf_parse {
    SF_PARSE_MORE = 0, /* every byte consumed, need more. Two exceptions
                          while the head is incomplete: a last byte CR is
                          left (its meaning depends on the next byte: feed
                          it again with what follows), and bytes past
                          max_header_size are left (the head cannot fit) */
    SF_PARSE_HEAD,     /* head complete: *pos is r.head_end */
    SF_PARSE_DONE,     /* message complete: *pos is just past it */
    SF_PARSE_ERROR     /* r.status holds the answer */
};

/* The methods llhttp's header names, by their tokens (case-sensitive). */
static const struct {
    const char *name;
    uint8_t len;
    uint8_t num;
} methods[] = {
#define SF_METHOD(num, name, string) {#string, sizeof(#string) - 1, num},
    HTTP_METHOD_MAP(SF_METHOD)
#undef SF_METHOD
};

/* enum llhttp_method of the token m[0, len), or -1. */
static int
method_of(const char *m, size_t len)
{
    if (len == 3 && memcmp(m, "GET", 3) == 0)
        return HTTP_GET;
    for (size_t k = 0; k < sizeof(methods) / sizeof(methods[0]); k++)
        if (methods[k].len == len && memcmp(m, methods[k].name, len) == 0)
            return methods[k].num;
    return -1;
}

/* The field lines read besides enum sf_hdr's. */
enum {
    FL_TE = SF_HDR_COUNT, /* Transfer-Encoding */
    FL_CL,                /* Content-Length */
    FL_CONNECTION,
    FL_UPGRADE,
    FL_OTHER
};

/* name (lower case, n bytes) against the field name f[0, n). */
static inline bool
name_is(const char *f, const char *name, size_t n)
{
    /* of all tchars, only a letter's two cases | 0x20 give that letter */
    return (f[0] | 0x20) == name[0] && strncasecmp(f, name, n) == 0;
}

/* Which field the name f[0, len) is: enum sf_hdr, or FL_*. */
static int
field_of(const char *f, size_t len)
{
#define IS(s) name_is(f, s, sizeof(s) - 1)
    switch (len) {
    case 4: return IS("host") ? SF_HDR_HOST : FL_OTHER;
    case 5: return IS("range") ? SF_HDR_RANGE : FL_OTHER;
    case 6: return IS("accept") ? SF_HDR_ACCEPT : IS("expect") ? SF_HDR_EXPECT : FL_OTHER;
    case 7: return IS("referer") ? SF_HDR_REFERER : IS("upgrade") ? FL_UPGRADE : FL_OTHER;
    case 8: return IS("if-range") ? SF_HDR_IF_RANGE : IS("if-match") ? SF_HDR_IF_MATCH : FL_OTHER;
    case 10:
        return IS("user-agent") ? SF_HDR_USER_AGENT : IS("connection") ? FL_CONNECTION : FL_OTHER;
    case 13: return IS("if-none-match") ? SF_HDR_IF_NONE_MATCH : FL_OTHER;
    case 14: return IS("content-length") ? FL_CL : FL_OTHER;
    case 15: return IS("accept-encoding") ? SF_HDR_ACCEPT_ENCODING : FL_OTHER;
    case 17:
        return IS("if-modified-since")   ? SF_HDR_IF_MODIFIED_SINCE
               : IS("transfer-encoding") ? FL_TE
                                         : FL_OTHER;
    case 19: return IS("if-unmodified-since") ? SF_HDR_IF_UNMODIFIED_SINCE : FL_OTHER;
    default: return FL_OTHER;
    }
#undef IS
}

/* Connection options (RFC 9110 §7.6.1) that decide how a message ends. */
enum { C_CLOSE = 1, C_KEEP_ALIVE = 2, C_UPGRADE = 4 };

/* the headers that must not be repeated: each decides what is sent */
#define ONCE_HEADERS                                                                               \
    ((1u << SF_HDR_RANGE) | (1u << SF_HDR_IF_RANGE) | (1u << SF_HDR_IF_MATCH) |                    \
     (1u << SF_HDR_IF_NONE_MATCH) | (1u << SF_HDR_IF_MODIFIED_SINCE) |                             \
     (1u << SF_HDR_IF_UNMODIFIED_SINCE))

/* The options named in one Connection value: a comma list of tokens,
 * compared whole, case-insensitively, OWS around each. */
static unsigned
connection_options(const char *v, size_t len)
{
    unsigned o = 0;
    size_t i = 0;
    for (;;) {
        const char *comma = memchr(v + i, ',', len - i);
        const char *a = v + i, *b = comma ? comma : v + len;
        sf_trim_ows(&a, &b);
        size_t n = (size_t)(b - a);
        if (n == 5 && strncasecmp(a, "close", 5) == 0)
            o |= C_CLOSE;
        else if (n == 10 && strncasecmp(a, "keep-alive", 10) == 0)
            o |= C_KEEP_ALIVE;
        else if (n == 7 && strncasecmp(a, "upgrade", 7) == 0)
            o |= C_UPGRADE;
        if (!comma)
            return o;
        i = (size_t)(comma - v) + 1;
    }
}

/*
 * How the body is framed (RFC 9112 §6.1-6.3), with nothing a proxy could
 * read differently: 0 with r->body set, or the status to answer.
 */
static int
framing(struct sf_parser *p)
{
    struct sf_request *r = &p->r;
    const struct sf_framing *f = &r->frame;
    if (f->te_lines) {
        if (r->minor == 0)
            return 400; /* §6.1: Transfer-Encoding in HTTP/1.0 */
        if (f->cl_lines)
            return 400; /* §6.3: both: refuse rather than guess */
        if (f->te_bad || !f->te_last_chunked || f->te_chunked > 1)
            return 400; /* §6.3: chunked not last: length unknown */
        if (f->te_codings > 1)
            return 501; /* a coding we do not implement before chunked */
        r->body = SF_BODY_CHUNKED;
        sf_request_chunked_start(&r->syn);
        return 0;
    }
    if (f->cl_lines) {
        if (f->cl_lines > 1 || f->cl_bad)
            return 400;
        if (f->cl > p->limits.max_body_size)
            return 413;
        if (f->cl) {
            r->body = SF_BODY_LENGTH;
            r->body_left = f->cl;
        }
    }
    return 0;
}

static bool
has_prefix_ci(const char *s, size_t len, const char *pre)
{
    size_t n = strlen(pre);
    return len >= n && strncasecmp(s, pre, n) == 0;
}

/* Classify the target and find its path part. Returns 0 or 400. */
static int
classify_target(struct sf_request *r, const char *buf)
{
    const char *t = buf + r->target.off;
    size_t len = r->target.len;
    if (t[0] == '/') {
        r->form = SF_TARGET_ORIGIN;
        r->path = r->target;
        return 0;
    }
    if (len == 1 && t[0] == '*') {
        r->form = SF_TARGET_ASTERISK;
        r->path = (struct sf_span){r->target.off, 0};
        return r->method == HTTP_OPTIONS ? 0 : 400;
    }
    size_t skip;
    if (has_prefix_ci(t, len, "http://"))
        skip = 7;
    else if (has_prefix_ci(t, len, "https://"))
        skip = 8;
    else
        return 400;
    size_t i = skip;
    while (i < len && t[i] != '/' && t[i] != '?')
        i++;
    if (i == skip || !sf_request_host_valid(t + skip, i - skip))
        return 400;
    r->form = SF_TARGET_ABSOLUTE;
    r->path = (struct sf_span){r->target.off + (uint32_t)i, (uint32_t)(len - i)};
    return 0;
}

/*
 * The head buf[0, end) is complete and the scanner accepted every byte of
 * it (so each field line is `name ":" value CRLF`, with no CR inside and
 * no colon in the name): read its field lines, then judge it as a whole.
 * Returns 0, or the status to answer.
 */
static int
head_complete(struct sf_parser *p, const char *buf, size_t end)
{
    struct sf_request *r = &p->r;
    const struct sf_syntax *y = &r->syn;
    unsigned conn = 0;
    uint32_t repeated = 0;
    bool upgrade = false;
    r->nheaders = y->fields;
    /* past the request line's CRLF, up to the final CRLF */
    for (size_t i = y->line_off + y->line_len + 2; i < end - 2;) {
        const char *f = buf + i;
        const char *colon = memchr(f, ':', end - i);
        const char *cr = memchr(colon + 1, '\r', (size_t)(buf + end - colon - 1));
        assert(colon && cr);
        const char *v = colon + 1, *ve = cr;
        sf_trim_ows(&v, &ve);
        size_t vlen = (size_t)(ve - v);
        i = (size_t)(cr - buf) + 2;
        int h = field_of(f, (size_t)(colon - f));
        if (h < SF_HDR_COUNT) {
            if (h == SF_HDR_HOST)
                r->nhost++;
            /* keep the first of a repeated header, and note the repeat */
            if (r->present & (1u << h)) {
                repeated |= 1u << h;
            } else {
                r->hdr[h] = (struct sf_span){(uint32_t)(v - buf), (uint32_t)vlen};
                r->present |= 1u << h;
            }
            continue;
        }
        /* the framing and connection headers: every line counts */
        struct sf_framing *fr = &r->frame;
        switch (h) {
        case FL_TE:
            fr->te_lines++;
            sf_request_read_te(fr, v, vlen);
            break;
        case FL_CL:
            fr->cl_lines++;
            sf_request_read_cl(fr, v, vlen);
            break;
        case FL_CONNECTION: conn |= connection_options(v, vlen); break;
        case FL_UPGRADE: upgrade = true; break;
        default: break;
        }
    }
    /* A header that decides what is sent, sent twice, is ambiguous:
     * Range and the conditionals are one value each, and If-Match and
     * If-None-Match split over lines would have to be joined; 400, as
     * nginx answers a repeated If-Match, If-None-Match, If-Modified-Since
     * or If-Unmodified-Since. Accept-Encoding split over lines is read
     * as absent: the plain file, which no list can refuse in a way we
     * honour, rather than its first line, which a later one could
     * contradict (gzip, then gzip;q=0). */
    if (repeated & ONCE_HEADERS)
        return 400;
    if (repeated & (1u << SF_HDR_ACCEPT_ENCODING))
        r->present &= ~(1u << SF_HDR_ACCEPT_ENCODING);
    int rc = classify_target(r, buf);
    if (rc)
        return rc;
    if (r->nhost > 1 || (r->minor >= 1 && r->nhost == 0))
        return 400;
    if (r->nhost == 1 &&
        !sf_request_host_valid(buf + r->hdr[SF_HDR_HOST].off, r->hdr[SF_HDR_HOST].len))
        return 400;
    rc = framing(p);
    if (rc)
        return rc;
    /* HTTP/1.1 stays open unless told to close, 1.0 closes unless told
     * to stay; close wins over keep-alive in both (RFC 9112 §9.3). No
     * protocol switch here: answer, then close, for the bytes after an
     * Upgrade or CONNECT request belong to the other protocol */
    r->keep_alive = !(conn & C_CLOSE) && (r->minor >= 1 || (conn & C_KEEP_ALIVE));
    if ((upgrade && (conn & C_UPGRADE)) || r->method == HTTP_CONNECT) {
        r->keep_alive = false;
        r->body = SF_BODY_NONE;
    }
    /* a 1.0 client's Expect is ignored (RFC 9110 §10.1.1): its body is
     * read and dropped like any other */
    if (r->body != SF_BODY_NONE && r->minor >= 1 && (r->present & (1u << SF_HDR_EXPECT)) &&
        r->hdr[SF_HDR_EXPECT].len == 12 &&
        strncasecmp(buf + r->hdr[SF_HDR_EXPECT].off, "100-continue", 12) == 0) {
        /* a file server wants no body: send the final answer instead of
         * 100 Continue (RFC 9110 §10.1.1), and close rather than read it */
        r->expect_continue = true;
        r->keep_alive = false;
    }
    return 0;
}

/* Wipe the request for the next message on the same connection. */
static void
reset(struct sf_parser *p)
{
    p->r = (struct sf_request){0};
}

void
sf_request_init(struct sf_parser *p, const struct sf_limits *lim)
{
    *p = (struct sf_parser){.limits = *lim};
}

/*
 * The method is no method we know. The answer waits for the whole
 * request line: 501 (or 505) when it is well-formed, 400 when not.
 */
static enum sf_parse
method_verdict(struct sf_parser *p, enum sf_scan sc, size_t stop, size_t *pos)
{
    struct sf_request *r = &p->r;
    const struct sf_syntax *y = &r->syn;
    *pos = stop;
    if (y->line_done) {
        r->line = (struct sf_span){y->line_off, y->line_len};
        r->status = y->major == 1 ? 501 : y->major >= 2 ? 505 : 400;
    } else if (sc == SF_SCAN_BAD) {
        r->status = 400;
    } else {
        return SF_PARSE_MORE;
    }
    r->keep_alive = false;
    return SF_PARSE_ERROR;
}

static enum sf_parse
stop_with(struct sf_parser *p, int status, size_t at, size_t *pos)
{
    if (!p->r.status)
        p->r.status = status;
    p->r.keep_alive = false;
    *pos = at;
    return SF_PARSE_ERROR;
}

/* Body bytes buf[from, to), after the head: skipped, framing checked. */
static enum sf_parse
feed_body(struct sf_parser *p, const char *buf, size_t from, size_t to, size_t *pos)
{
    struct sf_request *r = &p->r;
    switch (r->body) {
    case SF_BODY_NONE: *pos = from; return SF_PARSE_DONE;
    case SF_BODY_LENGTH: {
        uint64_t n = to - from;
        if (n > r->body_left)
            n = r->body_left;
        r->body_left -= n;
        r->body_seen += n;
        *pos = from + (size_t)n;
        return r->body_left ? SF_PARSE_MORE : SF_PARSE_DONE;
    }
    case SF_BODY_CHUNKED: {
        size_t stop;
        int status;
        unsigned left =
            p->limits.max_headers > r->nheaders ? p->limits.max_headers - r->nheaders : 0;
        /* chunk extensions and trailers are not data, but a client must
         * not stream them forever either: the whole chunked body may be
         * max_body_size plus a head's worth of framing. The byte past
         * that is refused where it comes, like any bad byte, so the
         * scanner never sees it (the answer must not depend on reads) */
        uint64_t wire_max = p->limits.max_body_size + p->limits.max_header_size;
        assert(r->body_wire <= wire_max);
        size_t end =
            to - from > wire_max - r->body_wire ? from + (size_t)(wire_max - r->body_wire) : to;
        enum sf_scan sc = sf_request_scan_chunked(&r->syn, buf, from, end, p->limits.max_body_size,
                                                  left, &stop, &status);
        r->body_seen = r->syn.data;
        if (sc == SF_SCAN_BAD)
            return stop_with(p, status, stop, pos);
        r->body_wire += stop - from;
        if (sc == SF_SCAN_MORE && end < to)
            return stop_with(p, 413, end, pos);
        *pos = stop;
        if (sc == SF_SCAN_END) {
            r->nheaders += r->syn.fields;
            return SF_PARSE_DONE;
        }
        return SF_PARSE_MORE;
    }
    }
    return stop_with(p, 400, from, pos);
}

/*
 * Feed buf[from, to) (bytes not fed before). Returns as documented in
 * enum sf_parse and sets *pos to where parsing stopped. After
 * SF_PARSE_HEAD or SF_PARSE_DONE call again (after reset for DONE) with
 * from = *pos to go on. Spans index buf.
 */
static enum sf_parse
feed(struct sf_parser *p, const char *buf, size_t from, size_t to, size_t *pos)
{
    assert(from <= to);
    struct sf_request *r = &p->r;
    if (r->status) {
        *pos = from;
        return SF_PARSE_ERROR;
    }
    if (r->head_done)
        return feed_body(p, buf, from, to, pos);
    /* an incomplete head is never parsed past the limit: what a client
     * sent beyond it must not change the answer, however reads split it */
    size_t lim = p->limits.max_header_size;
    if (to > lim)
        to = from > lim ? from : lim;
    size_t stop;
    const struct sf_syntax *y = &r->syn;
    enum sf_scan sc = sf_request_scan_head(&r->syn, buf, from, to, &stop);
    /* what the accepted bytes decided, in the order they came: the
     * method, the target's length, the version, the field count; then
     * the first refused byte */
    if (y->method_len && !r->method_read) {
        r->method_read = true;
        r->line = (struct sf_span){y->line_off, y->method_len};
        int m = method_of(buf + y->line_off, y->method_len);
        if (m < 0)
            r->bad_method = true;
        else
            r->method = (uint8_t)m;
    }
    if (r->bad_method)
        return method_verdict(p, sc, stop, pos);
    if (y->target_len && !r->target.len) {
        r->target = (struct sf_span){y->target_off, y->target_len};
        if (y->target_len > p->limits.max_uri_length)
            return stop_with(p, 414, stop, pos);
    }
    if (y->line_done && !r->line_read) {
        r->line_read = true;
        r->line = (struct sf_span){y->line_off, y->line_len};
        r->major = y->major;
        /* a later 1.x is read as 1.1, the highest we implement (RFC 9110
         * §2.5) */
        r->minor = y->minor > 1 ? 1 : y->minor;
        if (r->major != 1)
            return stop_with(p, r->major >= 2 ? 505 : 400, stop, pos);
    }
    if (y->fields > p->limits.max_headers)
        return stop_with(p, 431, stop, pos);
    if (sc == SF_SCAN_BAD)
        return stop_with(p, 400, stop, pos);
    *pos = stop;
    if (sc == SF_SCAN_MORE)
        return SF_PARSE_MORE;
    int rc = head_complete(p, buf, stop);
    if (rc)
        return stop_with(p, rc, stop, pos);
    r->head_done = true;
    r->head_end = (uint32_t)stop;
    return SF_PARSE_HEAD;
}

/* Give up on a head that does not fit: 400 before any target (or after
 * a method we do not know), 414 inside the target, else 431. */
static enum sf_next
overflow(struct sf_parser *p)
{
    /* (r.target is set once the target is complete and, unlike the
     * scanner's state, outlives the head: a body's decoder reuses that) */
    const struct sf_request *r = &p->r;
    if (!r->status)
        p->r.status = r->bad_method ? 400 : r->target.len ? 431 : r->syn.target_off ? 414 : 400;
    p->r.keep_alive = false;
    return SF_NEXT_ERROR;
}

enum sf_next
sf_request_next(struct sf_parser *p, struct sf_reqbuf *b)
{
    struct sf_request *r = &p->r;
    assert(b->rpos <= b->wpos && b->wpos <= b->cap);
    assert(b->cap == p->limits.max_header_size + SF_REQUEST_SLACK);
    if (r->status)
        return SF_NEXT_ERROR;
    /* at most two feeds: the head's bytes, then at once its body's (a
     * bodiless message completes with no byte more) */
    bool body_now = false;
    while (b->rpos < b->wpos || body_now) {
        size_t pos;
        enum sf_parse pr = feed(p, b->buf, b->rpos, b->wpos, &pos);
        assert(pos >= b->rpos && pos <= b->wpos);
        b->rpos = pos;
        switch (pr) {
        case SF_PARSE_HEAD:
            assert(!body_now);
            if (r->expect_continue)
                return SF_NEXT_HEAD; /* the client waits for us first */
            body_now = true;
            continue;
        case SF_PARSE_DONE: return SF_NEXT_DONE;
        case SF_PARSE_ERROR: return SF_NEXT_ERROR;
        case SF_PARSE_MORE: break;
        }
        /* body bytes were read and dropped: reuse the room after the
         * head, whose spans must stay put until the answer is sent */
        if (r->head_done)
            b->rpos = b->wpos = r->head_end;
        break;
    }
    /* an incomplete head that reached the limit can never fit */
    if ((!r->head_done && b->wpos >= p->limits.max_header_size) || b->wpos >= b->cap)
        return overflow(p);
    return SF_NEXT_READ;
}

size_t
sf_request_advance(struct sf_parser *p, struct sf_reqbuf *b)
{
    assert(p->r.head_done && !p->r.status && b->rpos <= b->wpos);
    /* the pipelined bytes go to the front: the next head starts at 0 */
    size_t left = b->wpos - b->rpos;
    if (left && b->rpos)
        memmove(b->buf, b->buf + b->rpos, left);
    b->rpos = 0;
    b->wpos = left;
    reset(p);
    return left;
}

bool
sf_request_host_valid(const char *s, size_t len)
{
    if (len == 0)
        return false;
    size_t i = 0;
    if (s[0] == '[') {
        i = 1;
        while (i < len && s[i] != ']') {
            char ch = s[i];
            if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
                  (ch >= 'A' && ch <= 'F') || ch == ':' || ch == '.'))
                return false;
            i++;
        }
        if (i == len || i == 1)
            return false;
        i++; /* past ']' */
    } else {
        static const char ok[] = "-._~!$&'()*+,;=%";
        while (i < len && s[i] != ':') {
            char ch = s[i];
            if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= 'A' && ch <= 'Z') || strchr(ok, ch)) ||
                ch == '\0')
                return false;
            i++;
        }
        if (i == 0)
            return false;
    }
    if (i == len)
        return true;
    if (s[i] != ':')
        return false;
    for (i++; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}
