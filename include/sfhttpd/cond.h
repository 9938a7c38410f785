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
    struct sf_hval if_range; /* for sf_cond_use_alt (sf_cond_eval ignores
                                it; sf_cond_if_range takes it) */
};

/* Validators of the selected representation. etag includes the quotes,
 * e.g. "\"5f3a-1a2b\"" (strong). alt_etag (NULL or length 0: none) is
 * another strong ETag of the very same bytes, which every comparison
 * accepts as well: the mtime ETag of a file whose content ETag is sent
 * (etag = content), which clients may hold from before the hash was in. */
struct sf_validators {
    const char *etag;
    size_t etag_len;
    time_t last_modified;
    const char *alt_etag;
    size_t alt_etag_len;
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
int sf_cond_eval(const struct sf_cond_headers *h, const struct sf_validators *v, bool get_or_head);

/*
 * If-Range (§13.1.5): true when the Range header should be honoured:
 * the value is a strong ETag equal (strong comparison) to v->etag, or an
 * HTTP date exactly equal to v->last_modified. A weak ETag or a bad value
 * gives false. An absent header (p == NULL) gives true.
 */
bool sf_cond_if_range(struct sf_hval if_range, const struct sf_validators *v);

/*
 * Which ETag the response to these headers carries: true for alt_etag,
 * when If-Match, If-None-Match or If-Range name it and none names etag
 * ("*" names both). A client that knows the version by the other tag must
 * get that tag back: a cache updates only stored responses whose strong
 * validator the 304 carries (RFC 9111 §4.3.4), and a client combines a
 * 206 with what it has only when the validators are equal (RFC 9110
 * §15.3.7.3). False when v has no alt_etag.
 */
bool sf_cond_use_alt(const struct sf_cond_headers *h, const struct sf_validators *v);

/* Build a strong ETag, quotes included, from size and mtime (ns
 * precision) into out (cap >= 48); returns its length. No inode, so
 * replicas with the same file agree. */
size_t sf_cond_etag(char *out, size_t cap, unsigned long long size, long long mtime_sec,
                    long mtime_nsec);

#endif
