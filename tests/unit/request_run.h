/*
 * request_run.h - runs input through sf_request_next, the call conn.c
 * makes, and records what comes out. Shared by test_request.c and
 * fuzz_request.c. The runner only plays the socket: it hands over the
 * bytes in reads of a chosen size (into buf[wpos, cap), as read(2) would),
 * and after each whole message calls sf_request_advance while the request
 * is keep-alive. Where a message ends, what is dropped, kept or compacted
 * is all request.c's.
 *
 * Each result is also checked against request.h's contract (positions,
 * the held-back CR, spans inside the head, the set of error statuses,
 * errors sticky and never keep-alive, progress); the first breach goes to
 * rq_result.bad (NULL when none), so callers need no Check or assert of
 * their own for it.
 */
#ifndef SFHTTPD_TESTS_REQUEST_RUN_H
#define SFHTTPD_TESTS_REQUEST_RUN_H

#include "sfhttpd/request.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define RQ_MAXREQ 8 /* requests recorded per run; the run stops after */
#define RQ_STR 128  /* bytes kept of each recorded string */

struct rq_str {
    char s[RQ_STR];
    size_t len; /* the real length, which may exceed what s holds */
};

struct rq_req {
    int method;
    int major, minor;
    enum sf_target_form form;
    bool keep_alive;
    uint32_t present;
    unsigned nheaders;
    struct rq_str line, target, path;
    struct rq_str hdr[SF_HDR_COUNT];
};

struct rq_result {
    unsigned n;      /* requests completed (SF_NEXT_DONE) */
    unsigned heads;  /* SF_NEXT_HEAD answers (Expect: 100-continue) */
    int status;      /* 0, or the error status (SF_NEXT_ERROR) */
    bool eof;        /* input ran out without an error */
    bool closed;     /* stopped after a request that was not keep-alive */
    const char *bad; /* the first contract breach seen, or NULL */
    struct rq_req req[RQ_MAXREQ];
};

static inline void
rq_copy(struct rq_str *d, const char *buf, struct sf_span s)
{
    size_t n = s.len < RQ_STR - 1 ? s.len : RQ_STR - 1;
    memcpy(d->s, buf + s.off, n);
    d->s[n] = '\0';
    d->len = s.len;
}

static inline bool
rq_span_in(struct sf_span s, size_t lo, size_t hi)
{
    return s.off >= lo && (size_t)s.off + s.len <= hi;
}

/* Check the spans of a parsed head: all inside [0, head_end). */
static inline const char *
rq_check_head(const struct sf_parser *p, const char *buf, size_t wpos)
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
    if (!rq_span_in(r->line, 0, r->head_end) || r->line.len == 0)
        return "request line outside the head";
    if (!rq_span_in(r->target, r->line.off, (size_t)r->line.off + r->line.len) ||
        r->target.len == 0)
        return "target outside the request line";
    if (!rq_span_in(r->path, r->target.off, (size_t)r->target.off + r->target.len))
        return "path outside the target";
    if (r->target.len > p->limits.max_uri_length)
        return "target longer than max_uri_length accepted";
    if (r->nheaders > p->limits.max_headers)
        return "more than max_headers accepted";
    if (r->head_end > p->limits.max_header_size)
        return "head longer than max_header_size accepted";
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
    default: return "unknown target form";
    }
    for (int h = 0; h < SF_HDR_COUNT; h++) {
        if (!(r->present & (1u << h)))
            continue;
        struct sf_span s = r->hdr[h];
        if (!rq_span_in(s, r->line.off + r->line.len, r->head_end))
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
rq_record(struct rq_req *q, const struct sf_parser *p, const char *buf)
{
    const struct sf_request *r = &p->r;
    q->method = r->method;
    q->major = r->major;
    q->minor = r->minor;
    q->form = r->form;
    q->keep_alive = r->keep_alive;
    q->present = r->present;
    q->nheaders = r->nheaders;
    rq_copy(&q->line, buf, r->line);
    rq_copy(&q->target, buf, r->target);
    rq_copy(&q->path, buf, r->path);
    for (int h = 0; h < SF_HDR_COUNT; h++) {
        if (r->present & (1u << h))
            rq_copy(&q->hdr[h], buf, r->hdr[h]);
        else
            q->hdr[h] = (struct rq_str){{0}, 0};
    }
}

static inline bool
rq_status_ok(int status)
{
    return status == 400 || status == 413 || status == 414 || status == 431 || status == 501 ||
           status == 505;
}

/*
 * Check one answer of sf_request_next against its contract; b0 is the
 * buffer before the call. Returns the breach, or NULL.
 */
static inline const char *
rq_check_next(const struct sf_parser *p, enum sf_next nx, const struct sf_reqbuf *b0,
              const struct sf_reqbuf *b)
{
    const struct sf_request *r = &p->r;
    const struct sf_limits *lim = &p->limits;
    if (b->buf != b0->buf || b->cap != b0->cap || b->wpos > b->cap || b->rpos > b->wpos)
        return "buffer positions out of order";
    if (b->wpos > b0->wpos)
        return "bytes appeared that were not read";
    if (!r->head_done && b->rpos < b0->rpos)
        return "parsed bytes of an incomplete head taken back";
    if (nx != SF_NEXT_ERROR && r->status != 0)
        return "status set without SF_NEXT_ERROR";
    switch (nx) {
    case SF_NEXT_READ:
        if (b->wpos >= b->cap)
            return "SF_NEXT_READ with no room to read into";
        if (r->head_done) {
            /* body bytes are dropped: the room after the head is reused */
            if (b->rpos != r->head_end || b->wpos != r->head_end)
                return "SF_NEXT_READ in a body with bytes kept after the head";
        } else {
            if (b->wpos >= lim->max_header_size)
                return "SF_NEXT_READ for a head that can no longer fit";
            /* everything parsed, but a last CR, judged with the next byte */
            if (b->rpos != b->wpos && !(b->rpos + 1 == b->wpos && b->buf[b->rpos] == '\r'))
                return "SF_NEXT_READ with unparsed bytes left";
        }
        return NULL;
    case SF_NEXT_HEAD:
        if (!r->expect_continue || r->keep_alive)
            return "SF_NEXT_HEAD without Expect: 100-continue, or keep-alive";
        if (b->rpos != r->head_end)
            return "SF_NEXT_HEAD with rpos != head_end";
        return rq_check_head(p, b->buf, b->wpos);
    case SF_NEXT_DONE:
        if (b->rpos < r->head_end)
            return "SF_NEXT_DONE before the end of the head";
        return rq_check_head(p, b->buf, b->wpos);
    case SF_NEXT_ERROR:
        if (!rq_status_ok(r->status))
            return "error status out of the set";
        if (r->keep_alive)
            return "keep-alive after an error";
        return NULL;
    }
    return "unknown sf_next value";
}

/*
 * Run in[0, len) through a parser with limits lim, handing it over in reads
 * of at most chunk bytes (0: as much as fits). Fills *out.
 */
static inline void
rq_run(const char *in, size_t len, size_t chunk, const struct sf_limits *lim, struct rq_result *out)
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
    struct sf_reqbuf b = {.buf = buf, .cap = cap};
    size_t ip = 0;
    bool headed = false; /* SF_NEXT_HEAD seen for this message */
    for (;;) {
        struct sf_reqbuf b0 = b;
        enum sf_next nx = sf_request_next(p, &b);
        out->bad = rq_check_next(p, nx, &b0, &b);
        if (out->bad)
            goto out;
        switch (nx) {
        case SF_NEXT_ERROR:
            out->status = p->r.status;
            b0 = b;
            if (sf_request_next(p, &b) != SF_NEXT_ERROR || p->r.status != out->status ||
                b.rpos != b0.rpos || b.wpos != b0.wpos)
                out->bad = "error not sticky";
            goto out;
        case SF_NEXT_HEAD:
            /* conn.c answers and closes; go on to check the body too */
            if (headed) {
                out->bad = "SF_NEXT_HEAD twice for one message";
                goto out;
            }
            headed = true;
            out->heads++;
            continue;
        case SF_NEXT_DONE:
            if (b.rpos == 0) { /* a message starts at buf[0] */
                out->bad = "a message of no bytes";
                goto out;
            }
            rq_record(&out->req[out->n++], p, buf);
            if (!p->r.keep_alive) {
                out->closed = true;
                goto out;
            }
            if (out->n == RQ_MAXREQ)
                goto out;
            size_t left = b.wpos - b.rpos;
            if (sf_request_advance(p, &b) != left || b.rpos != 0 || b.wpos != left) {
                out->bad = "pipelined bytes not kept at the front";
                goto out;
            }
            headed = false;
            continue;
        case SF_NEXT_READ: break;
        }
        if (ip == len) {
            out->eof = true;
            goto out;
        }
        /* one read(2): at most chunk bytes into the room */
        size_t n = b.cap - b.wpos;
        if (chunk && n > chunk)
            n = chunk;
        if (n > len - ip)
            n = len - ip;
        memcpy(buf + b.wpos, in + ip, n);
        ip += n;
        b.wpos += n;
    }
out:
    free(p);
    free(buf);
}

#endif
