/*
 * range.c - the Range request header (RFC 9110 §14.2): parse a byte-range
 * set, clamp it to the representation, refuse sets that would amplify the
 * response, then sort and coalesce what is left so the sender sees a few
 * disjoint, ordered ranges.
 */
#include "sfhttpd/range.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>

static bool
is_ows(char ch)
{
    return ch == ' ' || ch == '\t';
}

static char
lower(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static void
skip_ows(const char **p, const char *end)
{
    while (*p < end && is_ows(**p))
        (*p)++;
}

/* 1*DIGIT into *v; false on no digits or on uint64 overflow. */
static bool
number(const char **p, const char *end, uint64_t *v)
{
    const char *q = *p;
    uint64_t acc = 0;
    while (q < end && *q >= '0' && *q <= '9') {
        unsigned dig = (unsigned)(*q - '0');
        if (acc > (UINT64_MAX - dig) / 10)
            return false;
        acc = acc * 10 + dig;
        q++;
    }
    if (q == *p)
        return false;
    *p = q;
    *v = acc;
    return true;
}

/*
 * One range-spec between *p and the next comma/OWS. Returns false for a
 * syntax error. Otherwise *sat tells whether it overlaps the file, and
 * if so *r is the spec clamped to [0, size).
 */
static bool
spec(const char **p, const char *end, uint64_t size, struct sf_range *r, bool *sat)
{
    uint64_t a, b;
    *sat = false;
    if (*p < end && **p == '-') {
        (*p)++;
        if (!number(p, end, &b))
            return false;
        /* A zero-length suffix or an empty file cannot be satisfied. */
        if (b == 0 || size == 0)
            return true;
        r->first = b >= size ? 0 : size - b;
        r->last = size - 1;
        *sat = true;
        return true;
    }
    if (!number(p, end, &a) || *p >= end || **p != '-')
        return false;
    (*p)++;
    b = UINT64_MAX;
    if (*p < end && **p >= '0' && **p <= '9') {
        if (!number(p, end, &b))
            return false;
        if (b < a)
            return false;
    }
    if (a >= size)
        return true;
    r->first = a;
    r->last = b < size - 1 ? b : size - 1;
    *sat = true;
    return true;
}

static int
cmp_first(const void *x, const void *y)
{
    const struct sf_range *a = x, *b = y;
    return a->first < b->first ? -1 : a->first > b->first;
}

/* Sort and merge overlapping or adjacent ranges in place; returns the new count. */
static size_t
coalesce(struct sf_range *r, size_t n)
{
    qsort(r, n, sizeof(*r), cmp_first);
    size_t k = 0;
    for (size_t i = 1; i < n; i++) {
        /* last < size <= UINT64_MAX, so last + 1 cannot wrap. */
        if (r[i].first <= r[k].last + 1) {
            if (r[i].last > r[k].last)
                r[k].last = r[i].last;
        } else {
            r[++k] = r[i];
        }
    }
    return k + 1;
}

enum sf_range_result
sf_range_parse(const char *s, size_t len, uint64_t size, unsigned max_ranges, struct sf_range *out,
               size_t cap, size_t *n)
{
    assert(n != NULL);
    assert(out != NULL || max_ranges == 0);
    assert(cap >= max_ranges);
    *n = 0;

    const char *p = s, *end = s + len;
    skip_ows(&p, end);
    static const char unit[] = "bytes=";
    for (size_t i = 0; i < sizeof(unit) - 1; i++, p++)
        if (p >= end || lower(*p) != unit[i])
            return SF_RANGE_IGNORE;

    size_t specs = 0, sat = 0;
    uint64_t total = 0;
    for (;;) {
        skip_ows(&p, end);
        if (p == end)
            break;
        if (*p != ',') {
            struct sf_range r;
            bool ok;
            if (!spec(&p, end, size, &r, &ok))
                return SF_RANGE_IGNORE;
            if (++specs > max_ranges)
                return SF_RANGE_IGNORE;
            if (ok) {
                /* Refuse a set that asks for more bytes than the file
                 * holds: overlapping specs are an amplification attack. */
                uint64_t rlen = r.last - r.first + 1;
                if (rlen > size - total)
                    return SF_RANGE_IGNORE;
                total += rlen;
                out[sat++] = r;
            }
            skip_ows(&p, end);
            if (p == end)
                break;
            if (*p != ',')
                return SF_RANGE_IGNORE;
        }
        p++; /* the comma; empty list elements are allowed */
    }
    if (specs == 0)
        return SF_RANGE_IGNORE;
    if (sat == 0)
        return SF_RANGE_UNSATISFIABLE;
    *n = coalesce(out, sat);
    return SF_RANGE_OK;
}
