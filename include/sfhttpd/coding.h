/*
 * coding.h - Accept-Encoding negotiation for precompressed variants
 * (RFC 9110 §12.5.3). Pure.
 */
#ifndef SFHTTPD_CODING_H
#define SFHTTPD_CODING_H

#include <stdbool.h>
#include <stddef.h>

enum sf_coding { SF_CODING_BR = 0, SF_CODING_ZSTD, SF_CODING_GZIP, SF_CODING_COUNT };

/* "br", "zstd", "gzip" */
const char *sf_coding_name(enum sf_coding c);
/* File suffix: ".br", ".zst", ".gz" */
const char *sf_coding_suffix(enum sf_coding c);
/* When the path rel ends in a coding's suffix ("a.css.gz"), copy the
 * path it is a variant of ("a.css") to out (cap bytes) and return true. */
bool sf_coding_original(const char *rel, char *out, size_t cap);
/* The coding named by the n bytes at s (any case: "br", "ZSTD"), or -1. */
int sf_coding_by_name(const char *s, size_t n);

/*
 * Return a bit mask (1u << enum sf_coding) of the codings an
 * Accept-Encoding value (len bytes; p NULL = header absent) accepts with
 * q > 0. Tokens are case-insensitive; "*" accepts every coding not named
 * explicitly; "q=0" refuses; "x-gzip" counts as gzip; malformed
 * q-values make that element ignored. Absent header accepts nothing
 * (identity only).
 */
unsigned sf_coding_accepted(const char *p, size_t len);

/*
 * The ETag of a precompressed variant: the file's own ETag (len bytes,
 * quotes included) with "-" and the coding's name inside the closing
 * quote ("\"x3-...-br\""), written into out (cap bytes, room for len + 6);
 * coding -1 (none) or len < 2 copies it as it is. Returns the length,
 * no NUL written.
 */
size_t sf_coding_etag(char *out, size_t cap, const char *etag, size_t len, int coding);

#endif
