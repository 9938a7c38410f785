/*
 * cond.h - conditional requests (RFC 9110 §13): If-Match,
 * If-Unmodified-Since, If-None-Match, If-Modified-Since and If-Range.
 * Pure functions over header values and the representation's validators.
 */
#ifndef SFHTTPD_COND_H
#define SFHTTPD_COND_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* A header value: p == NULL means the header was absent. */
struct sf_hval {
    const char *p;
    size_t len;
};

struct sf_cond_headers {
    struct sf_hval if_match;
    struct sf_hval if_none_match;
    struct sf_hval if_modified_since;
    struct sf_hval if_unmodified_since;
};

/* Validators of the selected representation. etag includes the quotes,
 * e.g. "\"5f3a-1a2b\"" (strong). */
struct sf_validators {
    const char *etag;
    size_t etag_len;
    time_t last_modified;
};

/*
 * Evaluate the preconditions in RFC 9110 §13.2.2 order for a GET or HEAD
 * (get_or_head true) or another method. Returns 0 to proceed, 304 (Not
 * Modified, GET/HEAD only) or 412 (Precondition Failed).
 * If-Match uses strong comparison and "*"; If-None-Match weak comparison,
 * lists and "*"; If-Modified-Since is ignored when If-None-Match is
 * present, and invalid dates are ignored. If-Unmodified-Since is ignored
 * when If-Match is present.
 */
int sf_cond_eval(const struct sf_cond_headers *h, const struct sf_validators *v,
                 bool get_or_head);

/*
 * If-Range (§13.1.5): true when the Range header should be honoured:
 * the value is a strong ETag equal (strong comparison) to v->etag, or an
 * HTTP date exactly equal to v->last_modified. A weak ETag or a bad value
 * gives false. An absent header (p == NULL) gives true.
 */
bool sf_cond_if_range(struct sf_hval if_range, const struct sf_validators *v);

/* Build a strong ETag, quotes included, from size and mtime (ns
 * precision) into out (cap >= 48); returns its length. No inode, so
 * replicas with the same file agree. */
size_t sf_cond_etag(char *out, size_t cap, unsigned long long size,
                    long long mtime_sec, long mtime_nsec);

#endif
