/*
 * sitehdr.h - the headers a site's configuration adds to its responses
 * (cache_control, expires and their per-path rules; add_header).
 */
#ifndef SFHTTPD_SITEHDR_H
#define SFHTTPD_SITEHDR_H

#include <time.h>

#include "sfhttpd/config.h"
#include "sfhttpd/resolve.h"
#include "sfhttpd/response.h"

/* Cache-Control and Expires for the file path names on site s, added to
 * out: the first rule (cache_control / expires MATCH) that sets each,
 * else the site's own; with only expires, Cache-Control: max-age too.
 * now is the Date's second. */
void sf_sitehdr_cache(struct sf_response *out, const struct sf_site *s, const struct sf_path *path,
                      time_t now);

/* The site's add_header lines, put into the finished head of o before
 * its blank line: one place covers every response the handler builds
 * (files, 304, ranges, listings, redirects, error pages). Too many bytes
 * set o->st.head_overflow, which the caller turns into a 500. */
void sf_sitehdr_add(const struct sf_site *s, struct sf_response *o);

#endif
