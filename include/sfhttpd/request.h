/*
 * request.h - one HTTP/1.x request head, parsed from the connection's
 * buffer. Pure: it takes bytes and returns results; spans are
 * {offset, length} into the caller's buffer, which must not move while a
 * message is being parsed. sf_request_next also keeps the buffer: it says
 * where each message ends, drops body bytes, and sf_request_advance moves
 * pipelined bytes to the front, so requests come out one at a time, in
 * order. The connection (conn.c), the unit tests and the fuzzer all drive
 * the parser through these two calls only.
 *
 * Strict: every head byte is checked against RFC 9112's grammar as it
 * comes (no bare CR or LF, no obs-fold, no whitespace in or before a field
 * name, no control bytes), the framing headers are read by our own rules
 * (Transfer-Encoding exactly `chunked`, one plain Content-Length), and the
 * body's framing (Content-Length or chunked, with extensions and trailers)
 * is decoded here. Methods are llhttp's (enum llhttp_method, from its
 * header's method map); llhttp itself parses nothing.
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
    uint8_t st;    /* state */
    uint8_t ver;   /* request line: bytes of "HTTP/d.d" matched */
    uint8_t major; /* the version's digits as written */
    uint8_t minor;
    bool line_done;      /* the request line is complete and well-formed */
    uint32_t line_off;   /* where the request line starts */
    uint32_t line_len;   /* set with line_done */
    uint32_t method_len; /* set at the space after the method */
    uint32_t target_off; /* set at the target's first byte */
    uint32_t target_len; /* set at the space after the target */
    uint64_t chunk;      /* chunked: the size being read, then data left */
    uint64_t data;       /* chunked: data bytes so far */
    unsigned fields;     /* field lines so far (at their colon): the head's,
                            then a chunked body's trailers */
};

/* The framing headers, as read line by line (all lines, not the first). */
struct sf_framing {
    unsigned te_lines;    /* Transfer-Encoding field lines */
    unsigned cl_lines;    /* Content-Length field lines */
    bool te_bad;          /* a Transfer-Encoding value that is no coding list */
    bool te_last_chunked; /* the last coding so far is exactly "chunked" */
    unsigned te_codings;  /* codings listed, in all lines */
    unsigned te_chunked;  /* of which named "chunked" (with or without
                             parameters) */
    bool cl_bad;          /* a Content-Length value other than 1*DIGIT that
                             fits in 64 bits */
    uint64_t cl;          /* its value */
};

struct sf_limits {
    size_t max_header_size; /* the caller's buffer size; past it: 431 */
    size_t max_uri_length;  /* past it: 414 */
    unsigned max_headers;   /* past it: 431 */
    uint64_t max_body_size; /* a body to discard larger than this: 413 */
};

/* Everything known about the current request; wiped by sf_request_advance. */
struct sf_request {
    uint8_t method; /* enum llhttp_method (valid once method_read) */
    uint8_t major, minor;
    enum sf_target_form form;
    struct sf_span line;   /* the request line, for the access log */
    struct sf_span target; /* as sent */
    struct sf_span path;   /* the origin-form part of target ("/..."), also
                              for absolute-form; empty for "*" */
    struct sf_span hdr[SF_HDR_COUNT];
    uint32_t present; /* bit (1u << enum sf_hdr) when seen */
    unsigned nheaders;
    unsigned nhost;
    bool keep_alive;
    bool expect_continue; /* "Expect: 100-continue" with a body to come:
                             answer at once, then close, unread */
    bool head_done;       /* the head is parsed, body (if any) follows */
    uint32_t head_end;    /* offset just past the head */
    enum sf_body body;    /* set with head_done */
    uint64_t body_left;   /* SF_BODY_LENGTH: bytes still to come */
    uint64_t body_seen;   /* body (chunk data) bytes read and discarded */
    uint64_t body_wire;   /* bytes of a chunked body as sent: data, sizes,
                             extensions and trailers (bounded too) */
    int status;           /* 0, or the error status to answer with */
    /* parser scratch */
    bool method_read; /* the method's token is complete and looked up */
    bool line_read;   /* the request line is complete, its version judged */
    bool bad_method;  /* it is no method llhttp's map names: the answer
                         waits for the whole request line */
    struct sf_syntax syn;
    struct sf_framing frame;
};

struct sf_parser {
    struct sf_limits limits;
    struct sf_request r;
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
 *       `chunked` twice; Host rules; bad targets; a head that does not fit
 *       before any target
 *  501  a well-formed request line with a method llhttp's map does not
 *       name, or a well-formed Transfer-Encoding list ending in `chunked`
 *       that names other codings (`gzip, chunked`)
 *  505  a well-formed request line with HTTP/2 or later (any version
 *       other than 1.0 and 1.1 is decided at the line's end: 505 from 2
 *       up, else 400)
 *  413  a declared body (Content-Length, or a chunk's size) or chunk data
 *       past max_body_size
 *  414, 431  the size limits (a head that does not fit: 414 while inside
 *       the target, else 431)
 */

/*
 * Room a connection's buffer has beyond max_header_size: a head at the
 * limit still leaves space to read (and discard) a body, and a first
 * read may bring a complete head plus pipelined bytes.
 */
#define SF_REQUEST_SLACK 4096

/*
 * A connection's read buffer, as sf_request_next and sf_request_advance
 * manage it: bytes buf[0, rpos) are parsed, buf[rpos, wpos) are read but
 * not parsed yet, buf[wpos, cap) is room. The caller only reads into the
 * room and moves wpos; these functions move everything else. A head is
 * parsed in place from buf[0] (spans index buf, which must not move until
 * the answer is sent); the body's bytes are read into the room after the
 * head and dropped there.
 */
struct sf_reqbuf {
    char *buf;
    size_t cap;  /* max_header_size + SF_REQUEST_SLACK */
    size_t rpos; /* parsed up to here */
    size_t wpos; /* read up to here */
};

/* What the connection must do next (sf_request_next). */
enum sf_next {
    SF_NEXT_READ = 0, /* read more bytes into buf[wpos, cap) (never empty),
                         then call again. Left unparsed: nothing, or while
                         the head is incomplete a last CR (its meaning
                         depends on the byte after it). While a body is
                         being read, rpos = wpos = r.head_end: its bytes
                         were dropped and the room after the head is
                         reused */
    SF_NEXT_HEAD,     /* the head is parsed and must be answered before its
                         body is read: Expect: 100-continue (r.keep_alive is
                         false: the connection answers and closes, the body
                         unread). Calling again would go on with the body */
    SF_NEXT_DONE,     /* a whole message: head parsed, body (if any) read
                         and dropped; rpos is just past it. Answer it, then
                         sf_request_advance if the connection stays open */
    SF_NEXT_ERROR     /* r.status holds the answer (see above), keep_alive
                         is false: answer, then close. Every later call
                         says SF_NEXT_ERROR again */
};

/* Set up a parser for a new connection. */
void sf_request_init(struct sf_parser *p, const struct sf_limits *lim);

/*
 * Parse what b holds past rpos and say what the connection must do
 * (enum sf_next). Decides where the head and the message end, drops body
 * bytes, and gives up on a head that cannot fit: past max_header_size, or
 * a full buffer, is SF_NEXT_ERROR with 400, 414 or 431. Pure: no I/O.
 * b->cap must be the parser's max_header_size + SF_REQUEST_SLACK and a
 * message must start at buf[0] (sf_request_advance keeps it so).
 */
enum sf_next sf_request_next(struct sf_parser *p, struct sf_reqbuf *b);

/*
 * After the answer to SF_NEXT_DONE, on a connection that stays open: move
 * the bytes read after the message (the next, pipelined request) to the
 * front of the buffer (rpos 0, wpos their count) and wipe the request.
 * Returns that count: 0 when the connection is now idle.
 */
size_t sf_request_advance(struct sf_parser *p, struct sf_reqbuf *b);

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
