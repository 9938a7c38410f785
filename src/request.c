/*
 * request.c - the llhttp wrapper. Turns bytes into one request head at a
 * time: method, target, version and the headers a file server needs, as
 * spans into the connection's buffer, with the limits that protect the
 * worker (header size, URI length, header count, body size). Pure: no I/O.
 */
#include "sfhttpd/request.h"

#include <assert.h>
#include <string.h>
#include <strings.h>

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
    /* a chunked body's trailer: its bytes are being discarded */
    if (p->r.head_done)
        return 0;
    span_add(p, &p->r.field, at, len);
    return 0;
}

static int
on_header_field_complete(llhttp_t *ll)
{
    struct sf_parser *p = parser_of(ll);
    if (++p->r.nheaders > p->limits.max_headers)
        return fail(p, 431);
    p->r.cur = -1;
    /* trailer fields count against the limit but are never captured: the
     * caller discards body bytes, so their spans would not last */
    if (p->r.head_done)
        return 0;
    const char *f = p->base + p->r.field.off;
    for (int h = 0; h < SF_HDR_COUNT; h++) {
        if (hdr_names[h].len == p->r.field.len && strncasecmp(f, hdr_names[h].name, p->r.field.len) == 0) {
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
    return 0;
}

static int
on_header_value(llhttp_t *ll, const char *at, size_t len)
{
    struct sf_parser *p = parser_of(ll);
    if (p->r.cur >= 0)
        span_add(p, &p->r.hdr[p->r.cur], at, len);
    return 0;
}

static int
on_header_value_complete(llhttp_t *ll)
{
    struct sf_parser *p = parser_of(ll);
    if (p->r.cur >= 0) {
        struct sf_span *s = &p->r.hdr[p->r.cur];
        while (s->len > 0 && (p->base[s->off + s->len - 1] == ' ' ||
                              p->base[s->off + s->len - 1] == '\t'))
            s->len--;
        p->r.present |= 1u << p->r.cur;
    }
    p->r.cur = -1;
    p->r.field = (struct sf_span){0, 0};
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
    if (r->nhost == 1 && !sf_request_host_valid(p->base + r->hdr[SF_HDR_HOST].off,
                                                r->hdr[SF_HDR_HOST].len))
        return fail(p, 400);
    if ((ll->flags & F_CONTENT_LENGTH) && ll->content_length > p->limits.max_body_size)
        return fail(p, 413);
    /* no protocol switch here: answer, then close, for the bytes after an
     * Upgrade or CONNECT request belong to the other protocol (and llhttp
     * would stop on them with HPE_PAUSED_UPGRADE) */
    r->keep_alive = llhttp_should_keep_alive(ll) && !ll->upgrade;
    bool body = (ll->flags & F_CHUNKED) || ((ll->flags & F_CONTENT_LENGTH) && ll->content_length);
    if (body && (r->present & (1u << SF_HDR_EXPECT)) && r->hdr[SF_HDR_EXPECT].len == 12 &&
        strncasecmp(p->base + r->hdr[SF_HDR_EXPECT].off, "100-continue", 12) == 0) {
        /* a file server wants no body: send the final answer instead of
         * 100 Continue (RFC 9110 §10.1.1), and close rather than read it */
        r->expect_continue = true;
        r->keep_alive = false;
    }
    return HPE_PAUSED;
}

static int
on_body(llhttp_t *ll, const char *at, size_t len)
{
    struct sf_parser *p = parser_of(ll);
    (void)at;
    p->r.body_seen += len;
    if (p->r.body_seen > p->limits.max_body_size)
        return fail(p, 413);
    return 0;
}

static int
on_message_complete(llhttp_t *ll)
{
    (void)ll;
    return HPE_PAUSED;
}

void
sf_request_init(struct sf_parser *p, const struct sf_limits *lim)
{
    memset(p, 0, sizeof(*p));
    p->limits = *lim;
    llhttp_settings_init(&p->settings);
    p->settings.on_method = on_method;
    p->settings.on_url = on_url;
    p->settings.on_url_complete = on_url_complete;
    p->settings.on_version = on_version;
    p->settings.on_header_field = on_header_field;
    p->settings.on_header_field_complete = on_header_field_complete;
    p->settings.on_header_value = on_header_value;
    p->settings.on_header_value_complete = on_header_value_complete;
    p->settings.on_headers_complete = on_headers_complete;
    p->settings.on_body = on_body;
    p->settings.on_message_complete = on_message_complete;
    llhttp_init(&p->ll, HTTP_REQUEST, &p->settings);
    p->ll.data = p;
    sf_request_reset(p);
}

void
sf_request_reset(struct sf_parser *p)
{
    memset(&p->r, 0, sizeof(p->r));
    p->r.cur = -1;
}

/*
 * A method token that llhttp does not know: 501, where garbage is 400.
 * Returns 0 while the token runs to the end of the data, for the answer
 * depends on the byte after it; *tok is where the token starts.
 */
static int
unknown_method_status(const char *buf, size_t from, size_t to, size_t *tok)
{
    size_t i = from;
    while (i < to && (buf[i] == '\r' || buf[i] == '\n'))
        i++;
    size_t start = i;
    static const char tchar[] = "!#$%&'*+-.^_`|~";
    while (i < to && ((buf[i] >= 'A' && buf[i] <= 'Z') || (buf[i] >= 'a' && buf[i] <= 'z') ||
                      (buf[i] >= '0' && buf[i] <= '9') || (buf[i] && strchr(tchar, buf[i]))))
        i++;
    *tok = start;
    if (i > start && i == to)
        return 0;
    return (i > start && buf[i] == ' ') ? 501 : 400;
}

/* llhttp rejects "HTTP/2.0" itself; answer 505 for a well-formed newer version. */
static int
bad_version_status(const char *buf, size_t from, size_t to)
{
    for (size_t i = from; i + 6 < to; i++) {
        if (memcmp(buf + i, " HTTP/", 6) == 0) {
            char d = buf[i + 6];
            return (d >= '2' && d <= '9') ? 505 : 400;
        }
    }
    return 400;
}

enum sf_parse
sf_request_feed(struct sf_parser *p, const char *buf, size_t from, size_t to, size_t *pos)
{
    assert(from <= to);
    if (p->r.status) {
        *pos = from;
        return SF_PARSE_ERROR;
    }
    p->base = buf;
    size_t start = p->r.line.len ? p->r.line.off : from;
    /* an incomplete head is never parsed past the limit: what a client
     * sent beyond it must not change the answer, however reads split it */
    size_t lim = p->limits.max_header_size;
    if (!p->r.head_done && to > lim)
        to = from > lim ? from : lim;
    llhttp_errno_t e = llhttp_execute(&p->ll, buf + from, to - from);
    if (e == HPE_OK) {
        *pos = to;
        return SF_PARSE_MORE;
    }
    if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE) {
        *pos = (size_t)(llhttp_get_error_pos(&p->ll) - buf);
        if (e == HPE_PAUSED)
            llhttp_resume(&p->ll);
        else
            p->r.keep_alive = false; /* no protocol switch here: answer, then close */
        if (!p->r.head_done) {
            p->r.head_done = true;
            p->r.head_end = (uint32_t)*pos;
            if (*pos > p->limits.max_header_size) {
                /* it completed inside the slack: still over the limit */
                p->r.status = 431;
                p->r.keep_alive = false;
                return SF_PARSE_ERROR;
            }
            /* a message without a body completes at once */
            if (e == HPE_PAUSED_UPGRADE)
                return SF_PARSE_DONE;
            return SF_PARSE_HEAD;
        }
        return SF_PARSE_DONE;
    }
    const char *ep = llhttp_get_error_pos(&p->ll);
    *pos = ep ? (size_t)(ep - buf) : to;
    if (!p->r.status) {
        switch (e) {
        case HPE_INVALID_METHOD: {
            size_t tok;
            int st = unknown_method_status(buf, start, to, &tok);
            if (st == 0) {
                /* llhttp stops at the first byte no method it knows has,
                 * which may come before the token ends: wait for more.
                 * Its error is sticky, so the next feed lands here again
                 * and rescans from the token's start, kept in r.line. */
                p->r.line = (struct sf_span){(uint32_t)tok, (uint32_t)(to - tok)};
                *pos = to;
                return SF_PARSE_MORE;
            }
            p->r.status = st;
            break;
        }
        case HPE_INVALID_VERSION:
            /* look no further than the byte llhttp stopped at: what comes
             * after may not have arrived yet, and is another line anyway */
            p->r.status = bad_version_status(buf, start, *pos < to ? *pos + 1 : to);
            break;
        default: p->r.status = 400; break;
        }
    }
    p->r.keep_alive = false;
    return SF_PARSE_ERROR;
}

int
sf_request_overflow(struct sf_parser *p)
{
    if (!p->r.status)
        p->r.status = p->r.url_done ? 431 : p->r.target.len ? 414 : 400;
    p->r.keep_alive = false;
    return p->r.status;
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
            if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F') ||
                  ch == ':' || ch == '.'))
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
            if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  strchr(ok, ch)) || ch == '\0')
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
