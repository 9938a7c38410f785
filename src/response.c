/*
 * response.c - building a response: the head in a fixed buffer, copied
 * together from strings made before (the date once a second, a file's
 * validators once per version) with no printf on the hot path; the body
 * as a queue of segments; error pages.
 */
#include "sfhttpd/response.h"
#include "sfhttpd/fcache.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void
sf_response_init(struct sf_response *r)
{
    r->st = (struct sf_response_state){.fd = -1};
    r->mem = (struct sf_buf){0};
}

void
sf_response_reset(struct sf_response *r)
{
    if (r->st.fd >= 0)
        close(r->st.fd);
    if (r->st.file)
        sf_fcache_put(r->st.fc, r->st.file);
    r->st = (struct sf_response_state){.fd = -1};
    /* a big generated body goes back now, not when the connection ends */
    if (r->mem.cap > SF_RESPONSE_MEM_KEEP)
        sf_buf_free(&r->mem);
    r->mem.len = 0;
}

void
sf_response_free(struct sf_response *r)
{
    sf_response_reset(r);
    sf_buf_free(&r->mem);
}

const char *
sf_response_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 421: return "Misdirected Request";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

/* Whether n more bytes fit; the head always keeps one byte spare (it
 * never fills the buffer, as the vsnprintf it replaced never did). */
static bool
fits(const struct sf_response *r, size_t n)
{
    return n < sizeof(r->head) - r->st.head_len;
}

/* Append n bytes at p to the head, or mark it overflowed. */
static void
put(struct sf_response *r, const void *p, size_t n)
{
    if (!fits(r, n)) {
        r->st.head_overflow = true;
        return;
    }
    memcpy(r->head + r->st.head_len, p, n);
    r->st.head_len += n;
}

/* A string literal, its length known when compiled. */
#define PUT_LIT(r, lit) put((r), (lit), sizeof(lit) - 1)

static void
head_vappend(struct sf_response *r, const char *fmt, va_list ap)
{
    size_t room = sizeof(r->head) - r->st.head_len;
    int n = vsnprintf(r->head + r->st.head_len, room, fmt, ap);
    if (n < 0 || (size_t)n >= room) {
        r->st.head_overflow = true;
        return;
    }
    r->st.head_len += (size_t)n;
}

static bool
has_crlf(const char *v, size_t len)
{
    return memchr(v, '\r', len) || memchr(v, '\n', len);
}

void
sf_response_begin(struct sf_response *r, int status, const char *date)
{
    r->st.status = status;
    r->st.head_len = 0;
    r->st.no_body = (status == 204 || status == 304);
    char code[SF_U64_DIGITS];
    const char *reason = sf_response_reason(status);
    PUT_LIT(r, "HTTP/1.1 ");
    put(r, code, sf_fmt_u64(code, (uint64_t)(unsigned)status));
    PUT_LIT(r, " ");
    put(r, reason, strlen(reason));
    PUT_LIT(r, "\r\nServer: sfhttpd/" SFHTTPD_VERSION "\r\nDate: ");
    put(r, date, strlen(date));
    PUT_LIT(r, "\r\nX-Content-Type-Options: nosniff\r\n");
}

void
sf_response_header(struct sf_response *r, const char *name, const char *fmt, ...)
{
    size_t mark = r->st.head_len;
    put(r, name, strlen(name));
    PUT_LIT(r, ": ");
    va_list ap;
    va_start(ap, fmt);
    head_vappend(r, fmt, ap);
    va_end(ap);
    PUT_LIT(r, "\r\n");
    /* a value must never split the head: refuse CR and LF */
    if (r->st.head_len >= mark + 2 && has_crlf(r->head + mark, r->st.head_len - mark - 2)) {
        assert(!"header value with CR or LF");
        r->st.head_len = mark;
        r->st.head_overflow = true;
    }
}

void
sf_response_put(struct sf_response *r, const char *name, const char *v, size_t len)
{
    if (has_crlf(v, len)) {
        assert(!"header value with CR or LF");
        r->st.head_overflow = true;
        return;
    }
    size_t nlen = strlen(name);
    if (!fits(r, nlen + len + 4)) {
        r->st.head_overflow = true;
        return;
    }
    char *p = r->head + r->st.head_len;
    memcpy(p, name, nlen);
    memcpy(p + nlen, ": ", 2);
    memcpy(p + nlen + 2, v, len);
    memcpy(p + nlen + 2 + len, "\r\n", 2);
    r->st.head_len += nlen + len + 4;
}

void
sf_response_puts(struct sf_response *r, const char *name, const char *v)
{
    sf_response_put(r, name, v, strlen(v));
}

void
sf_response_put_u64(struct sf_response *r, const char *name, uint64_t v)
{
    char d[SF_U64_DIGITS];
    sf_response_put(r, name, d, sf_fmt_u64(d, v));
}

void
sf_response_put_range(struct sf_response *r, uint64_t first, uint64_t last, uint64_t size)
{
    char v[6 + 3 * SF_U64_DIGITS + 2];
    size_t n = 6;
    memcpy(v, "bytes ", 6);
    n += sf_fmt_u64(v + n, first);
    v[n++] = '-';
    n += sf_fmt_u64(v + n, last);
    v[n++] = '/';
    n += sf_fmt_u64(v + n, size);
    sf_response_put(r, "Content-Range", v, n);
}

void
sf_response_line(struct sf_response *r, const char *line)
{
    size_t n = strlen(line);
    if (has_crlf(line, n)) {
        assert(!"header line with CR or LF");
        r->st.head_overflow = true;
        return;
    }
    if (!fits(r, n + 2)) {
        r->st.head_overflow = true;
        return;
    }
    put(r, line, n);
    PUT_LIT(r, "\r\n");
}

void
sf_response_end_head(struct sf_response *r, bool keep_alive, bool http10)
{
    if (!keep_alive)
        PUT_LIT(r, "Connection: close\r\n\r\n");
    else if (http10)
        PUT_LIT(r, "Connection: keep-alive\r\n\r\n");
    else
        PUT_LIT(r, "\r\n");
}

void
sf_response_add_file(struct sf_response *r, int fd, uint64_t off, uint64_t len)
{
    assert(r->st.nseg < SF_SEG_MAX);
    if (len == 0)
        return;
    r->seg[r->st.nseg++] = (struct sf_seg){.fd = fd, .off = off, .len = len};
}

void
sf_response_add_mem(struct sf_response *r, size_t off, size_t len)
{
    assert(r->st.nseg < SF_SEG_MAX);
    assert(off + len <= r->mem.len);
    if (len == 0)
        return;
    r->seg[r->st.nseg++] = (struct sf_seg){.fd = -1, .off = off, .len = len};
}

void
sf_response_add_ext(struct sf_response *r, const void *p, size_t len)
{
    assert(r->st.nseg < SF_SEG_MAX);
    if (len == 0)
        return;
    r->seg[r->st.nseg++] = (struct sf_seg){.fd = -1, .p = p, .off = 0, .len = len};
}

void
sf_response_hold(struct sf_response *r, struct sf_fcache *fc, struct sf_file *f)
{
    assert(!r->st.file);
    r->st.file = f;
    r->st.fc = fc;
}

void
sf_response_error(struct sf_response *r, int status, const char *date, bool keep_alive, bool http10,
                  bool head_only, const char *extra_header)
{
    sf_response_reset(r);
    const char *reason = sf_response_reason(status);
    if (status != 204 && status != 304) {
        sf_buf_printf(&r->mem,
                      "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>%d %s</title>"
                      "</head>\n<body><h1>%d %s</h1><hr><p>sfhttpd</p></body></html>\n",
                      status, reason, status, reason);
    }
    sf_response_begin(r, status, date);
    if (extra_header)
        sf_response_line(r, extra_header);
    if (r->mem.len > 0) {
        sf_response_puts(r, "Content-Type", "text/html; charset=utf-8");
        sf_response_put_u64(r, "Content-Length", r->mem.len);
    }
    sf_response_end_head(r, keep_alive, http10);
    r->st.content_length = r->mem.len;
    if (head_only || r->st.no_body)
        r->st.no_body = true;
    else
        sf_response_add_mem(r, 0, r->mem.len);
}
