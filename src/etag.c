/*
 * etag.c - content hashes, content ETags and their extended-attribute
 * record (see etag.h).
 */
#include "sfhttpd/etag.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <xxhash.h>

static void
from_xxh(XXH128_hash_t x, struct sf_etag_hash *out)
{
    out->hi = x.high64;
    out->lo = x.low64;
}

void
sf_etag_hash_mem(const void *p, size_t n, struct sf_etag_hash *out)
{
    from_xxh(XXH3_128bits(p, n), out);
}

int
sf_etag_hash_fd(int fd, uint64_t size, void *buf, size_t cap, const atomic_bool *stop,
                struct sf_etag_hash *out)
{
    assert(cap > 0);
    XXH3_state_t *s = XXH3_createState();
    if (!s)
        return -ENOMEM;
    int rc = XXH3_128bits_reset(s) == XXH_OK ? 0 : -ENOMEM;
    for (uint64_t off = 0; rc == 0 && off < size;) {
        if (stop && atomic_load_explicit(stop, memory_order_relaxed)) {
            rc = -ECANCELED;
            break;
        }
        size_t want = size - off < cap ? (size_t)(size - off) : cap;
        ssize_t n = pread(fd, buf, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = -errno;
        else if (n == 0)
            rc = -EIO;
        else {
            XXH3_128bits_update(s, buf, (size_t)n);
            off += (uint64_t)n;
        }
    }
    if (rc == 0)
        from_xxh(XXH3_128bits_digest(s), out);
    XXH3_freeState(s);
    return rc;
}

size_t
sf_etag_format(char *out, size_t cap, const struct sf_etag_hash *h)
{
    assert(cap > SF_ETAG_CONTENT_LEN);
    int n = snprintf(out, cap, "\"x3-%016" PRIx64 "%016" PRIx64 "\"", h->hi, h->lo);
    assert(n == SF_ETAG_CONTENT_LEN);
    return (size_t)n;
}

size_t
sf_etag_record_format(char *out, size_t cap, const struct stat *st, const struct sf_etag_hash *h)
{
    assert(cap >= SF_ETAG_RECORD_MAX);
    int n = snprintf(out, cap, "v1 size=%llu mtime=%lld.%09ld xxh128=%016" PRIx64 "%016" PRIx64,
                     (unsigned long long)st->st_size, (long long)st->st_mtim.tv_sec,
                     (long)st->st_mtim.tv_nsec, h->hi, h->lo);
    assert(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

/* Parse "NNN" (decimal digits only) at *p; false without any digit or
 * on overflow. */
static bool
parse_dec(const char **p, const char *end, unsigned long long *out)
{
    unsigned long long v = 0;
    const char *q = *p;
    while (q < end && *q >= '0' && *q <= '9') {
        unsigned d = (unsigned)(*q - '0');
        if (v > (~0ULL - d) / 10)
            return false;
        v = v * 10 + d;
        q++;
    }
    if (q == *p)
        return false;
    *p = q;
    *out = v;
    return true;
}

static bool
parse_word(const char **p, const char *end, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(end - *p) < n || memcmp(*p, w, n) != 0)
        return false;
    *p += n;
    return true;
}

static bool
parse_hex64(const char **p, const char *end, uint64_t *out)
{
    uint64_t v = 0;
    if (end - *p < 16)
        return false;
    for (int i = 0; i < 16; i++) {
        char c = (*p)[i];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                                            : 16;
        if (d == 16)
            return false;
        v = v << 4 | d;
    }
    *p += 16;
    *out = v;
    return true;
}

bool
sf_etag_record_parse(const char *rec, size_t len, const struct stat *st, struct sf_etag_hash *out)
{
    const char *p = rec, *end = rec + len;
    unsigned long long size, sec, nsec;
    const char *ns;
    struct sf_etag_hash h;
    if (!parse_word(&p, end, "v1 size=") || !parse_dec(&p, end, &size) ||
        !parse_word(&p, end, " mtime=") || !parse_dec(&p, end, &sec) || !parse_word(&p, end, "."))
        return false;
    ns = p;
    if (!parse_dec(&p, end, &nsec) || p - ns != 9 || !parse_word(&p, end, " xxh128=") ||
        !parse_hex64(&p, end, &h.hi) || !parse_hex64(&p, end, &h.lo) || p != end)
        return false;
    if (st->st_size < 0 || size != (unsigned long long)st->st_size || st->st_mtim.tv_sec < 0 ||
        sec != (unsigned long long)st->st_mtim.tv_sec ||
        nsec != (unsigned long long)st->st_mtim.tv_nsec)
        return false;
    *out = h;
    return true;
}

int
sf_etag_xattr_get(int fd, const struct stat *st, struct sf_etag_hash *out)
{
    char rec[SF_ETAG_RECORD_MAX];
    ssize_t n = fgetxattr(fd, SF_ETAG_XATTR, rec, sizeof(rec));
    if (n < 0)
        return errno == ERANGE ? -ENODATA : -errno; /* too long: not ours */
    return sf_etag_record_parse(rec, (size_t)n, st, out) ? 0 : -ENODATA;
}

int
sf_etag_xattr_set(int fd, const struct stat *st, const struct sf_etag_hash *h)
{
    char rec[SF_ETAG_RECORD_MAX];
    size_t n = sf_etag_record_format(rec, sizeof(rec), st, h);
    return fsetxattr(fd, SF_ETAG_XATTR, rec, n, 0) == 0 ? 0 : -errno;
}

bool
sf_etag_xattr_unwritable(int err)
{
    switch (err < 0 ? -err : err) {
    case ENOTSUP:
    case EPERM:
    case EACCES:
    case EROFS:
    case ENOSPC:
    case EDQUOT:
    case E2BIG: return true;
    default: return false;
    }
}
