/*
 * cond.c - conditional requests (RFC 9110 §13): entity-tag lists and
 * their strong/weak comparison (§8.8.3.2), the precondition order of
 * §13.2.2, If-Range (§13.1.5), and the ETag we generate for files.
 */
#include "sfhttpd/cond.h"

#include "sfhttpd/common.h"
#include "sfhttpd/httpdate.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

/* An entity-tag: opaque points at the opening quote, len includes both. */
struct etag {
    const char *opaque;
    size_t len;
    bool weak;
};

static void
skip_ows(const char **p, const char *end)
{
    while (*p < end && sf_is_ows(**p))
        (*p)++;
}

/* etagc = %x21 / %x23-7E / obs-text */
static bool
is_etagc(unsigned char ch)
{
    return ch == 0x21 || (ch >= 0x23 && ch != 0x7f);
}

/* entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; advances *p on success. */
static bool
parse_etag(const char **p, const char *end, struct etag *e)
{
    const char *q = *p;
    e->weak = false;
    if (end - q >= 2 && q[0] == 'W' && q[1] == '/') {
        e->weak = true;
        q += 2;
    }
    if (q >= end || *q != '"')
        return false;
    const char *start = q++;
    while (q < end && is_etagc((unsigned char)*q))
        q++;
    if (q >= end || *q != '"')
        return false;
    q++;
    e->opaque = start;
    e->len = (size_t)(q - start);
    *p = q;
    return true;
}

static bool
etag_eq(const struct etag *a, const struct etag *b, bool strong)
{
    if (strong && (a->weak || b->weak))
        return false;
    return a->len == b->len && memcmp(a->opaque, b->opaque, a->len) == 0;
}

/* The representation's ETags: [0] its own, [1] the other one naming the
 * same bytes; a missing or bad one is left out (len 0). */
static void
current_etags(const struct sf_validators *v, struct etag cur[2])
{
    const char *tags[2] = {v->etag, v->alt_etag};
    size_t lens[2] = {v->etag_len, v->alt_etag_len};
    for (int i = 0; i < 2; i++) {
        cur[i].len = 0;
        if (!tags[i] || !lens[i])
            continue;
        const char *p = tags[i], *end = tags[i] + lens[i];
        if (!parse_etag(&p, end, &cur[i]) || p != end)
            cur[i].len = 0;
    }
}

/* Bits 1 and 2 for each of cur[0], cur[1] that e matches. */
static unsigned
matches(const struct etag *e, const struct etag cur[2], bool strong)
{
    unsigned m = 0;
    for (int i = 0; i < 2; i++)
        if (cur[i].len && etag_eq(e, &cur[i], strong))
            m |= 1u << i;
    return m;
}

/*
 * Which of the representation's ETags an If-Match / If-None-Match value
 * ("*" or a list of entity-tags, empty elements allowed) matches: bit 1
 * its own, bit 2 the other; "*" matches both. A malformed list matches
 * nothing: If-Match then fails safe (412) and If-None-Match serves the
 * full representation.
 */
static unsigned
list_find(struct sf_hval h, const struct sf_validators *v, bool strong)
{
    const char *p = h.p, *end = h.p + h.len;
    sf_trim_ows(&p, &end);
    /* We always have a current representation, so "*" always matches. */
    if (end - p == 1 && *p == '*')
        return 3;

    struct etag cur[2];
    current_etags(v, cur);
    unsigned found = 0;
    for (;;) {
        skip_ows(&p, end);
        if (p == end)
            break;
        if (*p != ',') {
            struct etag e;
            if (!parse_etag(&p, end, &e))
                return 0;
            found |= matches(&e, cur, strong);
            skip_ows(&p, end);
            if (p == end)
                break;
            if (*p != ',')
                return 0;
        }
        p++;
    }
    return found;
}

static bool
list_match(struct sf_hval h, const struct sf_validators *v, bool strong)
{
    return list_find(h, v, strong) != 0;
}

/* An HTTP-date header value; false when it is not a valid date. */
static bool
date_value(struct sf_hval h, time_t *t)
{
    return h.p && sf_httpdate_parse(h.p, h.len, t);
}

int
sf_cond_eval(const struct sf_cond_headers *h, const struct sf_validators *v, bool get_or_head)
{
    assert(h != NULL && v != NULL);
    time_t t;

    if (h->if_match.p) {
        if (!list_match(h->if_match, v, true))
            return 412;
    } else if (date_value(h->if_unmodified_since, &t) && v->last_modified > t) {
        return 412;
    }

    if (h->if_none_match.p) {
        if (list_match(h->if_none_match, v, false))
            return get_or_head ? 304 : 412;
    } else if (get_or_head && date_value(h->if_modified_since, &t) && v->last_modified <= t) {
        return 304;
    }
    return 0;
}

/* Which of v's ETags (bits as list_find's) the If-Range entity-tag at
 * [p, end) equals, by strong comparison; 0 for a weak or bad one. */
static unsigned
range_tag(const char *p, const char *end, const struct sf_validators *v)
{
    struct etag e, cur[2];
    if (!parse_etag(&p, end, &e) || p != end)
        return 0;
    current_etags(v, cur);
    return matches(&e, cur, true);
}

bool
sf_cond_if_range(struct sf_hval if_range, const struct sf_validators *v)
{
    assert(v != NULL);
    if (!if_range.p)
        return true;
    const char *p = if_range.p, *end = if_range.p + if_range.len;
    sf_trim_ows(&p, &end);
    if (p == end)
        return false;

    /* §13.1.5: a DQUOTE in the first three characters means an entity-tag. */
    if (*p == '"' || (end - p >= 2 && p[0] == 'W' && p[1] == '/'))
        return range_tag(p, end, v) != 0;
    time_t t;
    return sf_httpdate_parse(p, (size_t)(end - p), &t) && t == v->last_modified;
}

bool
sf_cond_use_alt(const struct sf_cond_headers *h, const struct sf_validators *v)
{
    if (!v->alt_etag || !v->alt_etag_len)
        return false;
    unsigned found = 0;
    if (h->if_match.p)
        found |= list_find(h->if_match, v, true);
    if (h->if_none_match.p)
        found |= list_find(h->if_none_match, v, false);
    if (h->if_range.p) {
        const char *p = h->if_range.p, *end = h->if_range.p + h->if_range.len;
        sf_trim_ows(&p, &end);
        found |= range_tag(p, end, v);
    }
    return found == 2;
}

size_t
sf_cond_etag(char *out, size_t cap, unsigned long long size, long long mtime_sec, long mtime_nsec)
{
    /* Fixed-width nanoseconds keep the seconds field unambiguous. Casts to
     * unsigned make negative inputs deterministic rather than undefined. */
    char tmp[48];
    int len = snprintf(tmp, sizeof(tmp), "\"%llx-%llx%08lx\"", size, (unsigned long long)mtime_sec,
                       (unsigned long)mtime_nsec & 0xffffffffUL);
    assert(len > 0 && (size_t)len < sizeof(tmp));
    assert((size_t)len < cap);
    memcpy(out, tmp, (size_t)len + 1);
    return (size_t)len;
}
