/*
 * request.c - the llhttp wrapper. Turns bytes into one request head at a
 * time: method, target, version and the headers a file server needs, as
 * spans into the connection's buffer, with the limits that protect the
 * worker (header size, URI length, header count, body size). Every head
 * byte passes our own scanner (request_syntax.c) before llhttp sees it;
 * the framing headers are judged here, and the body is decoded here too
 * (llhttp parses heads only: it is reset for each message). And the read
 * buffer's bookkeeping around it (sf_request_next): where a message ends,
 * which bytes a body may reuse, when a head cannot fit, where the next
 * pipelined request starts. Pure: no I/O.
 */
#include "request_int.h"

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

static const struct {
    const char *name;
    size_t len;
} hdr_names[SF_HDR_COUNT] = {
    [SF_HDR_HOST] = {"host", 4},
    [SF_HDR_RANGE] = {"range", 5},
    [SF_HDR_IF_RANGE] = {"if-range", 8},
    [SF_HDR_IF_MATCH] = {"if-match", 8},
    [SF_HDR_IF_NONE_MATCH] = {"if-none-match", 13},
    [SF_HDR_IF_MODIFIED_SINCE] = {"if-modified-since", 17},
    [SF_HDR_IF_UNMODIFIED_SINCE] = {"if-unmodified-since", 19},
    [SF_HDR_ACCEPT_ENCODING] = {"accept-encoding", 15},
    [SF_HDR_ACCEPT] = {"accept", 6},
    [SF_HDR_USER_AGENT] = {"user-agent", 10},
    [SF_HDR_REFERER] = {"referer", 7},
    [SF_HDR_EXPECT] = {"expect", 6},
};

static inline struct sf_parser *
parser_of(llhttp_t *ll)
{
    return ll->data;
}

static inline uint32_t
off_of(const struct sf_parser *p, const char *at)
{
    return (uint32_t)(at - p->base);
}

/* Grow a span with a piece that continues it in the buffer. */
static void
span_add(struct sf_parser *p, struct sf_span *s, const char *at, size_t len)
{
    if (s->len == 0)
        s->off = off_of(p, at);
    s->len += (uint32_t)len;
}

static int
fail(struct sf_parser *p, int status)
{
    if (!p->r.status)
        p->r.status = status;
    return HPE_USER;
}

static int
on_method(llhttp_t *ll, const char *at, size_t len)
{
    struct sf_parser *p = parser_of(ll);
    span_add(p, &p->r.line, at, len);
    return 0;
}

static int
on_url(llhttp_t *ll, const char *at, size_t len)
{
    struct sf_parser *p = parser_of(ll);
    span_add(p, &p->r.target, at, len);
    return 0;
}

static int
on_url_complete(llhttp_t *ll)
{
    struct sf_parser *p = parser_of(ll);
    p->r.url_done = true;
    /* checked here, not as pieces arrive in on_url, so that a target both
     * too long and malformed gets one answer however the reads split it */
    if (p->r.target.len > p->limits.max_uri_length)
        return fail(p, 414);
    return 0;
}

static int
on_version(llhttp_t *ll, const char *at, size_t len)
{
    struct sf_parser *p = parser_of(ll);
    /* the request line runs from the method to the end of the version */
    p->r.line.len = off_of(p, at) + (uint32_t)len - p->r.line.off;
    return 0;
}

static int
on_header_field(llhttp_t *ll, const char *at, size_t len)
{
    struct sf_parser *p = parser_of(ll);
    span_add(p, &p->r.field, at, len);
    return 0;
}

static bool
name_is(const struct sf_parser *p, const char *name, size_t len)
{
    const char *f = p->base + p->r.field.off;
    /* name is lower case: its first letter is compared before the call
     * (of all tchars, only a letter's two cases | 0x20 give that letter) */
    return p->r.field.len == len && (f[0] | 0x20) == name[0] && strncasecmp(f, name, len) == 0;
}

static int
on_header_field_complete(llhttp_t *ll)
{
    struct sf_parser *p = parser_of(ll);
    if (++p->r.nheaders > p->limits.max_headers)
        return fail(p, 431);
    p->r.cur = -1;
    for (int h = 0; h < SF_HDR_COUNT; h++) {
        if (name_is(p, hdr_names[h].name, hdr_names[h].len)) {
            p->r.cur = h;
            break;
        }
    }
    if (p->r.cur == SF_HDR_HOST)
        p->r.nhost++;
    /* keep the first of a repeated header */
    if (p->r.cur >= 0 && (p->r.present & (1u << p->r.cur)))
        p->r.cur = -1;
    if (p->r.cur >= 0)
        p->r.hdr[p->r.cur] = (struct sf_span){0, 0};
    /* the framing headers: every line counts, not the first */
    struct sf_framing *f = &p->r.frame;
    f->cur = name_is(p, "transfer-encoding", 17) ? 'T' : name_is(p, "content-length", 14) ? 'C' : 0;
    f->val = (struct sf_span){0, 0};
    return 0;
}

static int
on_header_value(llhttp_t *ll, const char *at, size_t len)
{
    struct sf_parser *p = parser_of(ll);
    if (p->r.cur >= 0)
        span_add(p, &p->r.hdr[p->r.cur], at, len);
    if (p->r.frame.cur)
        span_add(p, &p->r.frame.val, at, len);
    return 0;
}

/* Drop trailing OWS (llhttp drops the leading one). */
static void
trim(const struct sf_parser *p, struct sf_span *s)
{
    while (s->len > 0 &&
           (p->base[s->off + s->len - 1] == ' ' || p->base[s->off + s->len - 1] == '\t'))
        s->len--;
}

static int
on_header_value_complete(llhttp_t *ll)
{
    struct sf_parser *p = parser_of(ll);
    if (p->r.cur >= 0) {
        trim(p, &p->r.hdr[p->r.cur]);
        p->r.present |= 1u << p->r.cur;
    }
    struct sf_framing *f = &p->r.frame;
    if (f->cur) {
        trim(p, &f->val);
        const char *v = p->base + f->val.off;
        if (f->cur == 'T') {
            f->te_lines++;
            sf_request_read_te(f, v, f->val.len);
        } else {
            f->cl_lines++;
            sf_request_read_cl(f, v, f->val.len);
        }
        f->cur = 0;
    }
    p->r.cur = -1;
    p->r.field = (struct sf_span){0, 0};
    return 0;
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
classify_target(struct sf_parser *p)
{
    struct sf_request *r = &p->r;
    const char *t = p->base + r->target.off;
    size_t len = r->target.len;
    if (len == 0)
        return 400;
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
    while (i < len && t[i] != '/' && t[i] != '?' && t[i] != '#')
        i++;
    if (i == skip || !sf_request_host_valid(t + skip, i - skip))
        return 400;
    r->form = SF_TARGET_ABSOLUTE;
    r->path = (struct sf_span){r->target.off + (uint32_t)i, (uint32_t)(len - i)};
    return 0;
}

static int
on_headers_complete(llhttp_t *ll)
{
    struct sf_parser *p = parser_of(ll);
    struct sf_request *r = &p->r;
    r->method = (uint8_t)llhttp_get_method(ll);
    r->major = ll->http_major;
    r->minor = ll->http_minor;
    if (r->major != 1)
        return fail(p, r->major >= 2 ? 505 : 400);
    if (r->target.len > p->limits.max_uri_length)
        return fail(p, 414);
    int rc = classify_target(p);
    if (rc)
        return fail(p, rc);
    if (r->nhost > 1 || (r->minor >= 1 && r->nhost == 0))
        return fail(p, 400);
    if (r->nhost == 1 &&
        !sf_request_host_valid(p->base + r->hdr[SF_HDR_HOST].off, r->hdr[SF_HDR_HOST].len))
        return fail(p, 400);
    rc = framing(p);
    if (rc)
        return fail(p, rc);
    /* no protocol switch here: answer, then close, for the bytes after an
     * Upgrade or CONNECT request belong to the other protocol */
    r->keep_alive = llhttp_should_keep_alive(ll) && !ll->upgrade;
    if (ll->upgrade)
        r->body = SF_BODY_NONE;
    if (r->body != SF_BODY_NONE && (r->present & (1u << SF_HDR_EXPECT)) &&
        r->hdr[SF_HDR_EXPECT].len == 12 &&
        strncasecmp(p->base + r->hdr[SF_HDR_EXPECT].off, "100-continue", 12) == 0) {
        /* a file server wants no body: send the final answer instead of
         * 100 Continue (RFC 9110 §10.1.1), and close rather than read it */
        r->expect_continue = true;
        r->keep_alive = false;
    }
    return HPE_PAUSED;
}

/* Wipe the request for the next message on the same connection. */
static void
reset(struct sf_parser *p)
{
    p->r = (struct sf_request){.cur = -1};
    /* llhttp saw the last head only: start it afresh for the next */
    llhttp_reset(&p->ll);
}

/* One settings table for every parser: llhttp keeps a pointer to it. */
static const llhttp_settings_t settings = {
    .on_method = on_method,
    .on_url = on_url,
    .on_url_complete = on_url_complete,
    .on_version = on_version,
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
};

void
sf_request_init(struct sf_parser *p, const struct sf_limits *lim)
{
    memset(p, 0, sizeof(*p));
    p->limits = *lim;
    llhttp_init(&p->ll, HTTP_REQUEST, &settings);
    p->ll.data = p;
    reset(p);
}

/*
 * llhttp stopped on a method it does not know. The answer waits for the
 * whole request line: 501 (or 505) when it is well-formed, 400 when not.
 */
static enum sf_parse
method_verdict(struct sf_parser *p, enum sf_scan sc, size_t stop, size_t *pos)
{
    struct sf_request *r = &p->r;
    const struct sf_syntax *y = &r->syn;
    *pos = stop;
    if (y->line_done) {
        r->line = (struct sf_span){y->line_off, y->line_len};
        r->status = y->major == 1 && y->minor <= 1 ? 501 : y->major >= 2 ? 505 : 400;
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
    p->base = buf;
    if (r->head_done)
        return feed_body(p, buf, from, to, pos);
    /* an incomplete head is never parsed past the limit: what a client
     * sent beyond it must not change the answer, however reads split it */
    size_t lim = p->limits.max_header_size;
    if (to > lim)
        to = from > lim ? from : lim;
    /* our scanner first: llhttp sees only the bytes it accepted */
    size_t stop;
    enum sf_scan sc = sf_request_scan_head(&r->syn, buf, from, to, &stop);
    if (r->bad_method)
        return method_verdict(p, sc, stop, pos);
    llhttp_errno_t e = llhttp_execute(&p->ll, buf + from, stop - from);
    if (e == HPE_PAUSED) {
        /* the head is complete: both parsers must agree where it ends */
        *pos = (size_t)(llhttp_get_error_pos(&p->ll) - buf);
        if (sc != SF_SCAN_END || *pos != stop)
            return stop_with(p, 400, *pos, pos);
        r->head_done = true;
        r->head_end = (uint32_t)*pos;
        return SF_PARSE_HEAD;
    }
    if (e == HPE_OK) {
        if (sc == SF_SCAN_BAD || sc == SF_SCAN_END)
            return stop_with(p, 400, stop, pos); /* END: llhttp disagrees */
        *pos = stop;
        return SF_PARSE_MORE;
    }
    const char *ep = llhttp_get_error_pos(&p->ll);
    size_t at = ep ? (size_t)(ep - buf) : stop;
    switch (e) {
    case HPE_INVALID_METHOD: r->bad_method = true; return method_verdict(p, sc, stop, pos);
    case HPE_INVALID_VERSION:
        /* llhttp stopped inside a version our scanner accepted so far */
        return stop_with(p, r->syn.major >= 2 ? 505 : 400, at, pos);
    default: return stop_with(p, 400, at, pos);
    }
}

/* Give up on a head that does not fit: 400 before any target, 414
 * inside the target, else 431. */
static enum sf_next
overflow(struct sf_parser *p)
{
    if (!p->r.status)
        p->r.status = p->r.url_done ? 431 : p->r.target.len ? 414 : 400;
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
