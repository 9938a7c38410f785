/*
 * response.h - a response: status, a header block built into a fixed
 * buffer by copying (printf only where asked for), and a body that is a queue of segments,
 * each memory (bytes in the response's own buffer) or a file range (fd,
 * offset, length). One representation serves files, ranges,
 * multipart/byteranges, listings and error pages. No socket I/O here
 * (that is sender.c).
 */
#ifndef SFHTTPD_RESPONSE_H
#define SFHTTPD_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sfhttpd/common.h"

#define SF_HEAD_MAX 4096
/* multipart/byteranges: a part header and a file range per range, plus
 * the closing delimiter */
#define SF_RANGES_MAX 64
#define SF_SEG_MAX (2 * SF_RANGES_MAX + 2)

struct sf_seg {
    int fd;        /* -1 for memory */
    const char *p; /* memory: base (NULL = the response's mem) */
    uint64_t off;  /* file offset, or offset from the memory base */
    uint64_t len;
};

struct sf_file;
struct sf_fcache;

/*
 * A generated body (mem) whose buffer grew past this is freed when the
 * response ends; a smaller one keeps its buffer for the connection's next
 * response. Covers error pages and the part headers of the largest
 * multipart/byteranges answer (SF_RANGES_MAX parts, about 150 bytes each)
 * with room to spare; a big listing (megabytes for a folder of thousands
 * of files) must not stay with an idle connection.
 */
#define SF_RESPONSE_MEM_KEEP (16 * 1024)

/* The per-request state of a response: everything sf_response_reset
 * wipes, in one assignment. The buffers (head, seg, mem) are outside it,
 * so that no reset zero-fills them; only their fill counts are here. */
struct sf_response_state {
    int status;
    size_t head_len;
    bool head_overflow; /* a header did not fit: answer 500 instead */
    size_t head_sent;
    unsigned nseg;
    unsigned cur;            /* segment being sent */
    uint64_t cur_done;       /* bytes of seg[cur] already sent */
    int fd;                  /* a file this response owns, or -1 */
    struct sf_file *file;    /* a cached file this response holds a
                                reference to, or NULL */
    struct sf_fcache *fc;    /* where file goes back */
    uint64_t content_length; /* body bytes promised (what Content-Length says) */
    uint64_t body_sent;      /* body bytes actually written to the socket */
    bool no_body;            /* HEAD, 204, 304: head only */
};

struct sf_response {
    struct sf_response_state st;
    char head[SF_HEAD_MAX];        /* st.head_len bytes */
    struct sf_seg seg[SF_SEG_MAX]; /* st.nseg of them */
    struct sf_buf mem;             /* generated body bytes; the buffer is kept
                                      across requests up to SF_RESPONSE_MEM_KEEP */
};

/* Initialise once per connection (fd = -1, empty buffers). */
void sf_response_init(struct sf_response *r);
/* Close the owned fd, release the held file and wipe the state for the
 * next request; mem is emptied, its buffer freed when larger than
 * SF_RESPONSE_MEM_KEEP. */
void sf_response_reset(struct sf_response *r);
/* Free everything (at connection close). */
void sf_response_free(struct sf_response *r);

/* Start the head: status line, Date, Server, X-Content-Type-Options. */
void sf_response_begin(struct sf_response *r, int status, const char *date);
/* Append "Name: value\r\n" (value printf-formatted). Values must not
 * contain CR or LF; callers escape what comes from clients. */
void sf_response_header(struct sf_response *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same without formatting, the hot path's way: value is the len
 * bytes at v / the string v / v in decimal, copied. A value with CR or
 * LF is refused (assert; head_overflow). */
void sf_response_put(struct sf_response *r, const char *name, const char *v, size_t len);
void sf_response_puts(struct sf_response *r, const char *name, const char *v);
void sf_response_put_u64(struct sf_response *r, const char *name, uint64_t v);
/* "Content-Range: bytes first-last/size". */
void sf_response_put_range(struct sf_response *r, uint64_t first, uint64_t last, uint64_t size);
/* Append a whole "Name: value" line (no CRLF inside; it adds one). */
void sf_response_line(struct sf_response *r, const char *line);
/* Close the head: "Connection: close" or "keep-alive" as needed (HTTP/1.0
 * keep-alive needs it said), then the blank line. */
void sf_response_end_head(struct sf_response *r, bool keep_alive, bool http10);

/* Queue a file range / len bytes of mem from off / len bytes at p, which
 * must outlive the response (a cached file's snapshot). */
void sf_response_add_file(struct sf_response *r, int fd, uint64_t off, uint64_t len);
void sf_response_add_mem(struct sf_response *r, size_t off, size_t len);
void sf_response_add_ext(struct sf_response *r, const void *p, size_t len);

/* Hand the response a reference to a cached file (released on reset). */
void sf_response_hold(struct sf_response *r, struct sf_fcache *fc, struct sf_file *f);

/* A complete error response (small HTML body), replacing anything built
 * so far (the owned fd is closed). extra_header may be NULL, else one
 * "Name: value" line without CRLF (e.g. Allow). */
void sf_response_error(struct sf_response *r, int status, const char *date, bool keep_alive,
                       bool http10, bool head_only, const char *extra_header);

/* The reason phrase for a status ("Not Found"); "Unknown" for others. */
const char *sf_response_reason(int status);

#endif
