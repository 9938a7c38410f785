/*
 * escape.h - what is valid UTF-8 and how JSON escapes a byte: one home
 * for the access log's JSON lines (log.c) and the JSON and HTML listings
 * (listing_page.c). Pure.
 */
#ifndef SFHTTPD_ESCAPE_H
#define SFHTTPD_ESCAPE_H

#include <stddef.h>

/*
 * The sequence at s (n >= 1 bytes): its length when it is well-formed
 * UTF-8 (1 for ASCII), else minus the length of its maximal ill-formed
 * subpart (at least 1). Unicode Table 3-7: no overlong forms, no
 * surrogates, nothing past U+10FFFF.
 */
int sf_utf8_seq(const unsigned char *s, size_t n);

/* The JSON form of the ASCII byte c (c < 0x80) into out: '"' and '\\'
 * with a backslash, C0 controls and DEL as \u00XX, any other byte as
 * itself. Returns its length: 1, 2 or 6. */
size_t sf_json_escape_ascii(unsigned char c, char out[6]);

#endif
