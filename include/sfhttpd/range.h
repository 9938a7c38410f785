/*
 * range.h - the Range request header (RFC 9110 §14.2). Pure functions.
 */
#ifndef SFHTTPD_RANGE_H
#define SFHTTPD_RANGE_H

#include <stddef.h>
#include <stdint.h>

/* One satisfiable byte range, both ends inclusive: first <= last < size. */
struct sf_range {
    uint64_t first;
    uint64_t last;
};

enum sf_range_result {
    SF_RANGE_IGNORE = 0,   /* no usable Range: serve 200 with the whole file */
    SF_RANGE_OK,           /* *n >= 1 ranges in out, sorted and coalesced */
    SF_RANGE_UNSATISFIABLE /* 416 with Content-Range: bytes * /size */
};

/*
 * Parse the value of a Range header (len bytes, not NUL-terminated) for a
 * representation of size bytes. Accepts "bytes=" (unit case-insensitive)
 * followed by a comma list of first-last, first- and -suffix specs, with
 * optional whitespace around commas; empty list elements are allowed as
 * RFC 9110 permits. End past EOF is clamped. Overlapping or adjacent
 * ranges are merged and the result sorted by first.
 *
 * Returns SF_RANGE_IGNORE for a syntactically invalid header, another
 * unit, more than max_ranges specs (before merging), or when the specs
 * together ask for more bytes than size (no amplification). Returns
 * SF_RANGE_UNSATISFIABLE when the syntax is valid but no spec overlaps
 * the file (every first >= size, or "-0", or size == 0). Otherwise
 * SF_RANGE_OK with *n ranges written to out (capacity cap, which must be
 * >= max_ranges).
 */
enum sf_range_result sf_range_parse(const char *s, size_t len, uint64_t size, unsigned max_ranges,
                                    struct sf_range *out, size_t cap, size_t *n);

#endif
