/*
 * fuzz_resolve.c - libFuzzer target for sf_resolve_path. The input is a
 * raw request target. Every result is checked three ways: the invariants
 * a caller relies on (no "." or ".." segment, no "//", no leading or
 * trailing '/', no NUL, control or backslash, len == strlen), agreement
 * with a deliberately naive second implementation kept in this file, and
 * idempotence (re-encoding rel and resolving it again gives rel back).
 */
#include "sfhttpd/resolve.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ref_result {
    int rc;
    char rel[SF_PATH_MAX + 1];
    bool slash;
    size_t qoff;
};

static int
ref_hex(uint8_t ch)
{
    static const char digits[] = "0123456789abcdef";
    const char *p;

    if (ch == '\0')
        return -1;
    if (ch >= 'A' && ch <= 'F')
        ch = (uint8_t)(ch - 'A' + 'a');
    p = strchr(digits, ch);
    return p ? (int)(p - digits) : -1;
}

/*
 * The same contract written the slow, obvious way: decode byte by byte
 * into dec[], and each time a segment ends push it on, or pop it off, an
 * explicit stack of (offset, length) pairs; join the stack at the end.
 */
static void
ref_resolve(const uint8_t *t, size_t len, struct ref_result *r)
{
    static uint8_t dec[SF_PATH_MAX + 2];
    static size_t segoff[SF_PATH_MAX + 1], seglen[SF_PATH_MAX + 1];
    size_t nseg = 0, dlen = 0, segstart = 1;
    bool last_dot = false;

    r->rc = 0;
    r->rel[0] = '\0';
    r->slash = false;
    r->qoff = len;
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '#')
            break;
        if (t[i] == '?') {
            r->qoff = i;
            break;
        }
    }
    size_t pend = 0;
    while (pend < len && t[pend] != '?' && t[pend] != '#')
        pend++;
    if (pend == 0 || t[0] != '/') {
        r->rc = 400;
        return;
    }
    dec[dlen++] = '/';
    for (size_t i = 1; i <= pend; i++) {
        int b;
        if (i == pend) {
            b = -1; /* end of path: close the last segment */
        } else if (t[i] == '%') {
            int h = i + 1 < pend ? ref_hex(t[i + 1]) : -1;
            int l = i + 2 < pend ? ref_hex(t[i + 2]) : -1;
            if (h < 0 || l < 0) {
                r->rc = 400;
                return;
            }
            b = h * 16 + l;
            i += 2;
        } else {
            b = t[i];
        }
        if (b >= 0) {
            if (b < 32 || b == 127 || b == '\\') {
                r->rc = 400;
                return;
            }
            if (dlen == SF_PATH_MAX) {
                r->rc = 414;
                return;
            }
            dec[dlen++] = (uint8_t)b;
            if (b != '/')
                continue;
        }
        /* a segment ended at dec[segend] */
        size_t segend = b >= 0 ? dlen - 1 : dlen;
        size_t n = segend - segstart;
        const uint8_t *s = dec + segstart;
        last_dot = false;
        if (n == 1 && s[0] == '.') {
            last_dot = true;
        } else if (n == 2 && s[0] == '.' && s[1] == '.') {
            last_dot = true;
            if (nseg == 0) {
                r->rc = 400;
                return;
            }
            nseg--;
        } else if (n > 0) {
            segoff[nseg] = segstart;
            seglen[nseg] = n;
            nseg++;
        }
        segstart = dlen;
    }
    size_t o = 0;
    for (size_t k = 0; k < nseg; k++) {
        if (k)
            r->rel[o++] = '/';
        memcpy(r->rel + o, dec + segoff[k], seglen[k]);
        o += seglen[k];
    }
    r->rel[o] = '\0';
    r->slash = dec[dlen - 1] == '/' || last_dot || o == 0;
}

static void
check_invariants(const struct sf_path *p)
{
    const char *rel = p->rel;

    assert(p->len <= SF_PATH_MAX);
    assert(p->len == strlen(rel));
    if (p->len == 0) {
        assert(p->trailing_slash);
        return;
    }
    assert(rel[0] != '/');
    assert(rel[p->len - 1] != '/');
    assert(strstr(rel, "//") == NULL);
    for (size_t i = 0; i < p->len; i++) {
        unsigned char ch = (unsigned char)rel[i];
        assert(ch >= 0x20 && ch != 0x7f && ch != '\\');
    }
    /* no segment is "." or ".." */
    for (const char *s = rel; s; s = strchr(s, '/')) {
        if (*s == '/')
            s++;
        size_t n = strcspn(s, "/");
        assert(!(n == 1 && s[0] == '.'));
        assert(!(n == 2 && s[0] == '.' && s[1] == '.'));
    }
}

static size_t
escape(const char *rel, size_t len, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    out[o++] = '/';
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)rel[i];
        if (ch == '%' || ch == '?' || ch == '#' || ch >= 0x80) {
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        } else {
            out[o++] = (char)ch;
        }
    }
    return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sf_path p, again;
    static struct ref_result ref;
    static char esc[3 * SF_PATH_MAX + 2];

    int rc = sf_resolve_path((const char *)data, size, &p);
    assert(rc == 0 || rc == 400 || rc == 414);
    assert(p.query_off <= size);
    assert(p.query_off == size || data[p.query_off] == '?');
    if (p.query_off < size)
        assert(memchr(data, '#', p.query_off) == NULL);

    ref_resolve(data, size, &ref);
    assert(rc == ref.rc);
    assert(p.query_off == ref.qoff);
    if (rc != 0)
        return 0;

    check_invariants(&p);
    assert(strcmp(p.rel, ref.rel) == 0);
    assert(p.trailing_slash == ref.slash);
    (void)sf_resolve_is_hidden(p.rel);

    size_t n = escape(p.rel, p.len, esc);
    rc = sf_resolve_path(esc, n, &again);
    /* escaping leaves the decoded length, and so the limit, unchanged */
    assert(rc == 0);
    assert(again.len == p.len && memcmp(again.rel, p.rel, p.len) == 0);
    assert(again.query_off == n);
    return 0;
}
