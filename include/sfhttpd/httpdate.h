/*
 * httpdate.h - HTTP dates (RFC 9110 §5.6.7). Pure functions.
 */
#ifndef SFHTTPD_HTTPDATE_H
#define SFHTTPD_HTTPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Length of an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT", without NUL. */
#define SF_HTTPDATE_LEN 29

/* Format t (UTC seconds) as IMF-fixdate into out, NUL-terminated. */
void sf_httpdate_format(time_t t, char out[SF_HTTPDATE_LEN + 1]);

/*
 * Parse an HTTP date of len bytes (not necessarily NUL-terminated) in any
 * of the three forms recipients must accept: IMF-fixdate, obsolete RFC 850
 * ("Sunday, 06-Nov-94 08:49:37 GMT"; two-digit years >50 years ahead are
 * taken as the past century) and asctime ("Sun Nov  6 08:49:37 1994").
 * Leading/trailing spaces/tabs are ignored. Returns true and sets *out on
 * success; false for anything invalid (bad day-of-month, hour 24, etc.).
 */
bool sf_httpdate_parse(const char *s, size_t len, time_t *out);

#endif
