/*
 * request_int.h - PRIVATE to the request module (src/request*.c); nothing
 * else may include it. The public face is include/sfhttpd/request.h.
 *
 * The module is split by job:
 *   request.c         what the scanned bytes decide: the method, limits,
 *                     the field lines of a complete head, framing, the
 *                     feed loop, and the read buffer's bookkeeping
 *                     (sf_request_next / sf_request_advance)
 *   request_syntax.c  byte-level grammar (pure): the head scanner, the
 *                     chunked body decoder, and the Transfer-Encoding /
 *                     Content-Length value readers
 */
#ifndef SFHTTPD_REQUEST_INT_H
#define SFHTTPD_REQUEST_INT_H

#include "sfhttpd/request.h"

#include <stddef.h>
#include <stdint.h>

enum sf_scan {
    SF_SCAN_MORE = 0, /* bytes accepted up to *stop; need more */
    SF_SCAN_END,      /* the head / the message ends at *stop */
    SF_SCAN_BAD       /* buf[*stop] is the first byte that breaks the
                         grammar (or, for a chunked body, sets *status) */
};

/*
 * Check head bytes buf[from, to) (not scanned before) against RFC 9112:
 * empty lines (CRLF), then `method SP target SP HTTP/d.d CRLF` (method
 * 1*tchar, target 1*VCHAR), then field lines `name ":" value CRLF` (name
 * 1*tchar, value HT / SP / VCHAR / obs-text), then CRLF. MORE: *stop is
 * to, or to - 1 when buf[to - 1] is a CR (it is judged with the byte after
 * it, so it is never accepted alone). END: *stop is just past the head's
 * last LF. BAD: buf[*stop] is the offending byte (for a CR not followed by
 * LF, the CR). As the bytes that set them are accepted: s->method_len at
 * the space after the method, s->target_off at the target's first byte and
 * s->target_len at the space after it, s->line_done, s->line_len and the
 * version digits at the request line's CRLF, and s->fields counts the
 * field lines at their colons.
 */
enum sf_scan sf_request_scan_head(struct sf_syntax *s, const char *buf, size_t from, size_t to,
                                  size_t *stop);

/* Start decoding a chunked body (after the head). */
void sf_request_chunked_start(struct sf_syntax *s);

/*
 * Decode chunked body bytes buf[from, to) (RFC 9112 §7.1: chunk-size
 * 1*HEXDIG fitting in 64 bits; extensions `;name[=token|quoted-string]`
 * with no whitespace; data followed by exactly CRLF; trailer fields as in
 * the head; final CRLF). Streaming: every byte is consumed. MORE: need
 * more. END: the message ends at *stop. BAD: *status is 400, or 413 when
 * the data (declared or seen) passes max_body, or 431 when the trailer
 * fields pass max_fields.
 */
enum sf_scan sf_request_scan_chunked(struct sf_syntax *s, const char *buf, size_t from, size_t to,
                                     uint64_t max_body, unsigned max_fields, size_t *stop,
                                     int *status);

/*
 * Read one Transfer-Encoding field line's value (a coding list,
 * RFC 9112 §6.1, no empty elements) into f's counters; a value that is
 * not such a list sets f->te_bad.
 */
void sf_request_read_te(struct sf_framing *f, const char *v, size_t len);

/* Read one Content-Length field line's value: 1*DIGIT (OWS trimmed by
 * the caller), fitting in 64 bits, else f->cl_bad. */
void sf_request_read_cl(struct sf_framing *f, const char *v, size_t len);

#endif
