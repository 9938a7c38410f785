/*
 * request_driver.h - drives sf_request_feed the way conn.c's step_read
 * and step_done do, over one fixed buffer of max_header_size +
 * SF_REQUEST_SLACK bytes, with
 * the input arriving in reads of a chosen size. Shared by test_request.c
 * and fuzz_request.c so both exercise exactly the connection's call
 * pattern: feed the new bytes; after SF_PARSE_HEAD feed again from *pos
 * even with nothing new; after SF_PARSE_MORE with the head done, drop the
 * body bytes by moving rpos and wpos back to head_end (while the head is
 * incomplete, keep what the parser left: a final CR, or bytes past the
 * limit); with the buffer full,
 * sf_request_overflow; after SF_PARSE_DONE, keep the pipelined bytes at
 * the front, sf_request_reset, and go on while the request is keep-alive.
 *
 * The driver also checks the parser's contract and reports the first
 * breach in drv_result.bad (NULL when none), so callers need no Check or
 * assert of their own for it.
 */
#ifndef SFHTTPD_TESTS_REQUEST_DRIVER_H
#define SFHTTPD_TESTS_REQUEST_DRIVER_H

#include "sfhttpd/request.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DRV_MAXREQ 8   /* requests recorded per run; the driver stops after */
#define DRV_STR 128    /* bytes kept of each recorded string */

struct drv_str {
    char s[DRV_STR];
    size_t len; /* the real length, which may exceed what s holds */
};

struct drv_req {
    int method;
    int major, minor;
    enum sf_target_form form;
    bool keep_alive;
    uint32_t present;
    unsigned nheaders;
    struct drv_str line, target, path;
    struct drv_str hdr[SF_HDR_COUNT];
};

struct drv_result {
    unsigned n;      /* requests completed (SF_PARSE_DONE) */
    int status;      /* 0, or the error status (from feed or overflow) */
    bool overflow;   /* status came from sf_request_overflow */
    bool eof;        /* input ran out without an error */
    bool closed;     /* stopped after a request that was not keep-alive */
    const char *bad; /* the first contract breach seen, or NULL */
    struct drv_req req[DRV_MAXREQ];
};

static inline void
drv_copy(struct drv_str *d, const char *buf, struct sf_span s)
{
    size_t n = s.len < DRV_STR - 1 ? s.len : DRV_STR - 1;
    memcpy(d->s, buf + s.off, n);
    d->s[n] = '\0';
    d->len = s.len;
}

static inline bool
drv_span_in(struct sf_span s, size_t lo, size_t hi)
{
    return s.off >= lo && (size_t)s.off + s.len <= hi;
}

/* Check the spans of a parsed head: all inside [0, head_end). */
static inline const char *
drv_check_head(const struct sf_parser *p, const char *buf, size_t wpos)
{
    const struct sf_request *r = &p->r;
    if (!r->head_done)
        return "head not marked done";
    if (r->head_end > wpos)
        return "head_end past the data";
    if (r->status != 0)
        return "status set on a good head";
    if (r->major != 1 || r->minor > 1)
        return "version other than 1.0 or 1.1 accepted";
    if (!drv_span_in(r->line, 0, r->head_end) || r->line.len == 0)
        return "request line outside the head";
    if (!drv_span_in(r->target, r->line.off, (size_t)r->line.off + r->line.len) || r->target.len == 0)
        return "target outside the request line";
    if (!drv_span_in(r->path, r->target.off, (size_t)r->target.off + r->target.len))
        return "path outside the target";
    if (r->target.len > p->limits.max_uri_length)
        return "target longer than max_uri_length accepted";
    if (r->nheaders > p->limits.max_headers)
        return "more than max_headers accepted";
    switch (r->form) {
    case SF_TARGET_ORIGIN:
        if (buf[r->target.off] != '/' || r->path.len != r->target.len)
            return "origin-form target without '/'";
        break;
    case SF_TARGET_ABSOLUTE:
        if (r->path.len && !strchr("/?#", buf[r->path.off]))
            return "absolute-form path not at '/', '?' or '#'";
        break;
    case SF_TARGET_ASTERISK:
        if (r->method != HTTP_OPTIONS || r->target.len != 1 || r->path.len != 0)
            return "asterisk-form other than OPTIONS *";
        break;
    default:
        return "unknown target form";
    }
    for (int h = 0; h < SF_HDR_COUNT; h++) {
        if (!(r->present & (1u << h)))
            continue;
        struct sf_span s = r->hdr[h];
        if (!drv_span_in(s, r->line.off + r->line.len, r->head_end))
            return "header value outside the head";
        if (s.len && (buf[s.off + s.len - 1] == ' ' || buf[s.off + s.len - 1] == '\t'))
            return "header value not trimmed";
        if (s.len && (buf[s.off] == ' ' || buf[s.off] == '\t'))
            return "header value with leading blank";
    }
    if (r->present & (1u << SF_HDR_HOST)) {
        if (!sf_request_host_valid(buf + r->hdr[SF_HDR_HOST].off, r->hdr[SF_HDR_HOST].len))
            return "invalid Host accepted";
    } else if (r->minor >= 1) {
        return "HTTP/1.1 without Host accepted";
    }
    return NULL;
}

static inline void
drv_record(struct drv_req *q, const struct sf_parser *p, const char *buf)
{
    const struct sf_request *r = &p->r;
    q->method = r->method;
    q->major = r->major;
    q->minor = r->minor;
    q->form = r->form;
    q->keep_alive = r->keep_alive;
    q->present = r->present;
    q->nheaders = r->nheaders;
    drv_copy(&q->line, buf, r->line);
    drv_copy(&q->target, buf, r->target);
    drv_copy(&q->path, buf, r->path);
    for (int h = 0; h < SF_HDR_COUNT; h++) {
        if (r->present & (1u << h))
            drv_copy(&q->hdr[h], buf, r->hdr[h]);
        else
            q->hdr[h] = (struct drv_str){{0}, 0};
    }
}

static inline bool
drv_status_ok(int status)
{
    return status == 400 || status == 413 || status == 414 || status == 431 || status == 501 ||
           status == 505;
}

/*
 * Run in[0, len) through a parser with limits lim, handing it over in reads
 * of at most chunk bytes (0: as much as fits). Fills *out.
 */
static inline void
drv_run(const char *in, size_t len, size_t chunk, const struct sf_limits *lim,
        struct drv_result *out)
{
    memset(out, 0, sizeof(*out));
    size_t cap = lim->max_header_size + SF_REQUEST_SLACK;
    char *buf = malloc(cap);
    struct sf_parser *p = malloc(sizeof(*p));
    if (!buf || !p) {
        out->bad = "out of memory";
        goto out;
    }
    sf_request_init(p, lim);
    size_t rpos = 0, wpos = 0, ip = 0;
    bool pending = false;
    unsigned idle = 0; /* feeds in a row that made no progress */
    for (;;) {
        if (rpos < wpos || pending) {
            size_t pos = (size_t)-1;
            enum sf_parse pr = sf_request_feed(p, buf, rpos, wpos, &pos);
            if (++idle > 8) {
                out->bad = "no progress";
                goto out;
            }
            pending = false;
            if (pr == SF_PARSE_ERROR) {
                if (!drv_status_ok(p->r.status))
                    out->bad = "error status out of the set";
                else if (p->r.keep_alive)
                    out->bad = "keep-alive after an error";
                else if (sf_request_feed(p, buf, wpos, wpos, &pos) != SF_PARSE_ERROR)
                    out->bad = "error not sticky";
                out->status = p->r.status;
                goto out;
            }
            if (pos < rpos || pos > wpos) {
                out->bad = "pos outside the fed bytes";
                goto out;
            }
            if (pos > rpos || pr == SF_PARSE_DONE)
                idle = 0;
            rpos = pos;
            if (p->r.status != 0) {
                out->bad = "status set without SF_PARSE_ERROR";
                goto out;
            }
            switch (pr) {
            case SF_PARSE_HEAD:
                if (pos != p->r.head_end)
                    out->bad = "SF_PARSE_HEAD with pos != head_end";
                else
                    out->bad = drv_check_head(p, buf, wpos);
                if (out->bad)
                    goto out;
                pending = true;
                continue;
            case SF_PARSE_DONE:
                out->bad = drv_check_head(p, buf, wpos);
                if (out->bad)
                    goto out;
                drv_record(&out->req[out->n++], p, buf);
                if (!p->r.keep_alive) {
                    out->closed = true;
                    goto out;
                }
                if (out->n == DRV_MAXREQ)
                    goto out;
                /* step_done: keep the pipelined bytes at the front */
                memmove(buf, buf + rpos, wpos - rpos);
                wpos -= rpos;
                rpos = 0;
                sf_request_reset(p);
                continue;
            case SF_PARSE_MORE: {
                /* bytes may be left only where an incomplete head met the
                 * limit, or a head's last byte is a CR (judged with the
                 * byte after it) */
                bool capped = !p->r.head_done && wpos > lim->max_header_size;
                size_t end = capped ? lim->max_header_size : wpos;
                if (pos != end && !(!p->r.head_done && pos + 1 == end && buf[pos] == '\r')) {
                    out->bad = "SF_PARSE_MORE with bytes left";
                    goto out;
                }
                break;
            }
            default:
                out->bad = "unknown sf_parse value";
                goto out;
            }
            if (p->r.head_done)
                rpos = wpos = p->r.head_end;
        }
        if (sf_request_full(p, wpos, cap)) {
            out->status = sf_request_overflow(p);
            out->overflow = true;
            if (!drv_status_ok(out->status) || p->r.keep_alive)
                out->bad = "bad overflow answer";
            goto out;
        }
        if (ip == len) {
            out->eof = true;
            goto out;
        }
        size_t n = cap - wpos;
        if (chunk && n > chunk)
            n = chunk;
        if (n > len - ip)
            n = len - ip;
        memcpy(buf + wpos, in + ip, n);
        ip += n;
        wpos += n;
        idle = 0;
    }
out:
    free(p);
    free(buf);
}

#endif
