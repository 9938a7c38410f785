/*
 * request.h - one HTTP/1.x request head, parsed by llhttp from the
 * connection's buffer. Pure: it takes bytes and returns results; spans are
 * {offset, length} into the caller's buffer, which must not move while a
 * message is being parsed. The parser pauses after the head and after
 * each message, so pipelined requests come out one at a time, in order.
 *
 * Strict: every head is also checked byte by byte against RFC 9112's
 * grammar before llhttp sees it (no bare CR or LF, no obs-fold, no
 * whitespace in or before a field name, no control bytes), the framing
 * headers are read by our own rules (Transfer-Encoding exactly `chunked`,
 * one plain Content-Length), and the body's framing (Content-Length or
 * chunked, with extensions and trailers) is decoded here, not by llhttp.
 * Anything a second parser on the path could read differently is an error,
 * and every error closes the connection.
 */
#ifndef SFHTTPD_REQUEST_H
#define SFHTTPD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <llhttp.h>

/* Headers a file server needs; the others are counted and skipped. */
enum sf_hdr {
    SF_HDR_HOST = 0,
    SF_HDR_RANGE,
    SF_HDR_IF_RANGE,
    SF_HDR_IF_MATCH,
    SF_HDR_IF_NONE_MATCH,
    SF_HDR_IF_MODIFIED_SINCE,
    SF_HDR_IF_UNMODIFIED_SINCE,
    SF_HDR_ACCEPT_ENCODING,
    SF_HDR_ACCEPT,
    SF_HDR_USER_AGENT,
    SF_HDR_REFERER,
    SF_HDR_EXPECT,
    SF_HDR_COUNT
};

struct sf_span {
    uint32_t off;
    uint32_t len;
};

enum sf_target_form { SF_TARGET_ORIGIN = 0, SF_TARGET_ABSOLUTE, SF_TARGET_ASTERISK };

/* How the body of the current request is framed. */
enum sf_body { SF_BODY_NONE = 0, SF_BODY_LENGTH, SF_BODY_CHUNKED };

/* Byte-level syntax state of the head or of a chunked body
 * (request_syntax.c); scratch, wiped with the request. */
struct sf_syntax {
    uint8_t st;         /* state */
    uint8_t ver;        /* request line: bytes of "HTTP/d.d" matched */
    uint8_t major;      /* the version's digits as written */
    uint8_t minor;
    bool line_done;     /* the request line is complete and well-formed */
    uint32_t line_off;  /* where the request line starts */
    uint32_t line_len;
    uint64_t chunk;     /* chunked: the size being read, then data left */
    uint64_t data;      /* chunked: data bytes so far */
    unsigned fields;    /* chunked: trailer fields so far */
};

/* The framing headers, as read line by line (all lines, not the first). */
struct sf_framing {
    unsigned te_lines;  /* Transfer-Encoding field lines */
    unsigned cl_lines;  /* Content-Length field lines */
    bool te_bad;        /* a Transfer-Encoding value that is no coding list */
    bool te_last_chunked; /* the last coding so far is exactly "chunked" */
    unsigned te_codings;  /* codings listed, in all lines */
    unsigned te_chunked;  /* of which named "chunked" (with or without
                             parameters) */
    bool cl_bad;        /* a Content-Length value other than 1*DIGIT that
                           fits in 64 bits */
    uint64_t cl;        /* its value */
    int8_t cur;         /* the field line being read: 0, 'T' or 'C' */
    struct sf_span val; /* its value */
};

struct sf_limits {
    size_t max_header_size; /* the caller's buffer size; past it: 431 */
    size_t max_uri_length;  /* past it: 414 */
    unsigned max_headers;   /* past it: 431 */
    uint64_t max_body_size; /* a body to discard larger than this: 413 */
};

/* Everything known about the current request; wiped by sf_request_reset. */
struct sf_request {
    uint8_t method;          /* enum llhttp_method */
    uint8_t major, minor;
    enum sf_target_form form;
    struct sf_span line;     /* the request line, for the access log */
    struct sf_span target;   /* as sent */
    struct sf_span path;     /* the origin-form part of target ("/..."), also
                                for absolute-form; empty for "*" */
    struct sf_span hdr[SF_HDR_COUNT];
    uint32_t present;        /* bit (1u << enum sf_hdr) when seen */
    unsigned nheaders;
    unsigned nhost;
    bool keep_alive;
    bool expect_continue;    /* "Expect: 100-continue" with a body to come:
                                answer at once, then close, unread */
    bool head_done;          /* the head is parsed, body (if any) follows */
    uint32_t head_end;       /* offset just past the head */
    enum sf_body body;       /* set with head_done */
    uint64_t body_left;      /* SF_BODY_LENGTH: bytes still to come */
    uint64_t body_seen;      /* body (chunk data) bytes read and discarded */
    uint64_t body_wire;      /* bytes of a chunked body as sent: data, sizes,
                                extensions and trailers (bounded too) */
    int status;              /* 0, or the error status to answer with */
    /* parser scratch */
    int cur;                 /* header being read, or -1 */
    struct sf_span field;
    bool url_done;
    bool bad_method;         /* llhttp knows no such method: the answer
                                waits for the whole request line */
    struct sf_syntax syn;
    struct sf_framing frame;
};

struct sf_parser {
    llhttp_t ll;
    llhttp_settings_t settings;
    const char *base;        /* buffer being parsed (valid during feed) */
    struct sf_limits limits;
    struct sf_request r;
};

enum sf_parse {
    SF_PARSE_MORE = 0, /* every byte consumed, need more. Two exceptions
                          while the head is incomplete: a last byte CR is
                          left (its meaning depends on the next byte: feed
                          it again with what follows), and bytes past
                          max_header_size are left (sf_request_full then
                          tells the caller to give up) */
    SF_PARSE_HEAD,     /* head complete: *pos is r.head_end */
    SF_PARSE_DONE,     /* message complete: *pos is just past it */
    SF_PARSE_ERROR     /* r.status holds the answer (400, 413, 414, 431,
                          501, 505); the connection must close after it */
};

/*
 * The answers, in the order they are decided (the first bad byte, in the
 * order the bytes come, decides, so the answer never depends on how reads
 * split them):
 *  400  any byte outside RFC 9112's grammar of the head or of a chunked
 *       body (bare CR or LF, obs-fold, whitespace in or before a field
 *       name, control bytes, a malformed chunk size, extension or trailer,
 *       chunk data not followed by CRLF); a request line that is not
 *       `method SP target SP HTTP/d.d CRLF`; Content-Length that is not one
 *       plain decimal, or with Transfer-Encoding; Transfer-Encoding in
 *       HTTP/1.0, malformed, or whose last coding is not `chunked`, or with
 *       `chunked` twice; Host rules; bad targets
 *  501  a well-formed request line with a method llhttp does not know, or
 *       a well-formed Transfer-Encoding list ending in `chunked` that names
 *       other codings (`gzip, chunked`)
 *  505  a well-formed request line with HTTP/2 or later
 *  413  a declared body (Content-Length, or a chunk's size) or chunk data
 *       past max_body_size
 *  414, 431  the size limits
 */

/* Set up a parser for a new connection. */
void sf_request_init(struct sf_parser *p, const struct sf_limits *lim);

/* Wipe the request for the next message on the same connection. */
void sf_request_reset(struct sf_parser *p);

/*
 * Feed buf[from, to) (bytes not fed before). Returns as documented in
 * enum sf_parse and sets *pos to where parsing stopped. After
 * SF_PARSE_HEAD or SF_PARSE_DONE call again (after sf_request_reset for
 * DONE) with from = *pos to go on. Spans index buf.
 */
enum sf_parse sf_request_feed(struct sf_parser *p, const char *buf, size_t from, size_t to,
                              size_t *pos);

/*
 * Room a connection's buffer has beyond max_header_size: a head at the
 * limit still leaves space to read (and discard) a body, and a first
 * read may bring a complete head plus pipelined bytes.
 */
#define SF_REQUEST_SLACK 4096

/* True when the caller must give up on the head: wpos bytes are
 * buffered (of cap = max_header_size + SF_REQUEST_SLACK) and the head
 * is still incomplete past the limit, or the buffer is full. */
static inline bool
sf_request_full(const struct sf_parser *p, size_t wpos, size_t cap)
{
    return (!p->r.head_done && wpos >= p->limits.max_header_size) || wpos >= cap;
}

/*
 * Give up on a head that does not fit (see sf_request_full): sets and
 * returns the status (400 before any target, 414 inside the target,
 * else 431).
 */
int sf_request_overflow(struct sf_parser *p);

/* The value of header h, or {NULL, 0} when absent. */
static inline const char *
sf_request_hdr(const struct sf_parser *p, const char *buf, enum sf_hdr h, size_t *len)
{
    if (!(p->r.present & (1u << h))) {
        *len = 0;
        return NULL;
    }
    *len = p->r.hdr[h].len;
    return buf + p->r.hdr[h].off;
}

/* True for a syntactically valid Host value: reg-name or IPv4 or
 * [IPv6], optional :port (digits). Empty is invalid. */
bool sf_request_host_valid(const char *s, size_t len);

#endif
