/*
 * coding.c - Accept-Encoding negotiation (RFC 9110 §12.5.3): which of the
 * precompressed variants we can serve (br, zstd, gzip) does the client
 * accept? Pure: takes the header bytes, returns a bit mask.
 *
 * Each comma-separated element is "token [ OWS ; OWS q=qvalue ]". An
 * element that does not fit (bad token characters, a parameter other than
 * q, a qvalue outside the RFC grammar such as "q=abc", "q=1.5" or
 * "q=0.1234") is ignored as a whole, as are empty elements. An explicitly
 * named coding overrides "*"; if a coding (or "*") is named twice, the
 * last well-formed element wins.
 */
#include "sfhttpd/coding.h"
#include "sfhttpd/common.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

static const char *const names[SF_CODING_COUNT] = {"br", "zstd", "gzip"};
static const char *const suffixes[SF_CODING_COUNT] = {".br", ".zst", ".gz"};

const char *
sf_coding_name(enum sf_coding c)
{
    assert((unsigned)c < SF_CODING_COUNT);
    return names[c];
}

const char *
sf_coding_suffix(enum sf_coding c)
{
    assert((unsigned)c < SF_CODING_COUNT);
    return suffixes[c];
}

static bool
token_is(const char *t, size_t n, const char *name)
{
    if (strlen(name) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = t[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (ch != name[i])
            return false;
    }
    return true;
}

int
sf_coding_by_name(const char *s, size_t n)
{
    for (int c = 0; c < SF_CODING_COUNT; c++)
        if (token_is(s, n, names[c]))
            return c;
    return -1;
}

/*
 * qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), as
 * thousandths; -1 if s (n bytes) is not one.
 */
static int
parse_qvalue(const char *s, size_t n)
{
    if (n == 0 || (s[0] != '0' && s[0] != '1'))
        return -1;
    int q = (s[0] - '0') * 1000;
    if (n == 1)
        return q;
    if (s[1] != '.' || n > 5)
        return -1;
    int scale = 100;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        q += (s[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

/*
 * Parse one element (without its commas) into its token and q. Returns
 * false for an empty or malformed element.
 */
static bool
parse_element(const char *p, const char *end, const char **tok, size_t *toklen, int *q)
{
    sf_trim_ows(&p, &end);
    const char *t = p;
    while (p < end && sf_is_tchar((unsigned char)*p))
        p++;
    if (p == t)
        return false;
    *tok = t;
    *toklen = (size_t)(p - t);
    *q = 1000;
    while (p < end && sf_is_ows(*p))
        p++;
    if (p == end)
        return true;
    if (*p++ != ';')
        return false;
    while (p < end && sf_is_ows(*p))
        p++;
    if (end - p < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=')
        return false;
    *q = parse_qvalue(p + 2, (size_t)(end - p - 2));
    return *q >= 0;
}

unsigned
sf_coding_accepted(const char *p, size_t len)
{
    int q[SF_CODING_COUNT];
    int star = -1; /* -1: not named */

    if (!p)
        return 0;
    for (int c = 0; c < SF_CODING_COUNT; c++)
        q[c] = -1;

    const char *end = p + len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *elem_end = comma ? comma : end;
        const char *tok;
        size_t n;
        int eq;

        if (parse_element(p, elem_end, &tok, &n, &eq)) {
            int c = sf_coding_by_name(tok, n);
            if (token_is(tok, n, "*"))
                star = eq;
            else if (token_is(tok, n, "x-gzip"))
                q[SF_CODING_GZIP] = eq;
            else if (c >= 0)
                q[c] = eq;
        }
        p = comma ? comma + 1 : end;
    }

    unsigned mask = 0;
    for (int c = 0; c < SF_CODING_COUNT; c++) {
        int v = q[c] >= 0 ? q[c] : star;
        if (v > 0)
            mask |= 1u << c;
    }
    return mask;
}

bool
sf_coding_original(const char *rel, char *out, size_t cap)
{
    size_t n = strlen(rel);
    for (unsigned c = 0; c < SF_CODING_COUNT; c++) {
        const char *sfx = sf_coding_suffix((enum sf_coding)c);
        size_t k = strlen(sfx);
        if (n > k && n - k < cap && strcmp(rel + n - k, sfx) == 0) {
            memcpy(out, rel, n - k);
            out[n - k] = '\0';
            return true;
        }
    }
    return false;
}

size_t
sf_coding_etag(char *out, size_t cap, const char *etag, size_t len, int coding)
{
    assert(len + 6 <= cap);
    memcpy(out, etag, len);
    if (coding < 0 || len < 2)
        return len;
    const char *name = sf_coding_name((enum sf_coding)coding);
    size_t n = strlen(name);
    out[len - 1] = '-';
    memcpy(out + len, name, n);
    out[len + n] = '"';
    return len + n + 1;
}
