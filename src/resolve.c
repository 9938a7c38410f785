/*
 * resolve.c - from a request target to an open file beneath the site root.
 *
 * sf_resolve_path() is pure: it cuts the query and fragment, percent-decodes
 * and removes dot segments in one pass into the fixed buffer of struct
 * sf_path, refusing anything a filesystem or a Windows tool could read as a
 * way out (NUL, controls, backslashes, ".." above the root). The string is
 * never trusted for confinement, though: sf_resolve_open() leaves that to
 * the kernel with openat2(RESOLVE_BENEATH), which also covers symlinks.
 */
#include "sfhttpd/resolve.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* openat2 with RESOLVE_BENEATH fails with EAGAIN when a rename elsewhere in
 * the mount races the lookup; the kernel expects the caller to retry. */
#define RESOLVE_RETRIES 8

static int
hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/*
 * The segment rel[start, o) is complete. Drop it if it is "." or empty,
 * drop it and its parent if it is "..". Returns the new end of rel, or -1
 * when ".." has no parent left to remove.
 */
static long
close_segment(char *rel, size_t start, size_t o)
{
    size_t n = o - start;

    if (n == 0 || (n == 1 && rel[start] == '.'))
        return start;
    if (n == 2 && rel[start] == '.' && rel[start + 1] == '.') {
        if (start == 0)
            return -1;
        /* rel[start - 1] is the '/' before this segment; the parent
         * begins after the '/' before that one, or at 0. */
        assert(rel[start - 1] == '/');
        size_t p = start - 1;
        while (p > 0 && rel[p - 1] != '/')
            p--;
        return p;
    }
    /* A real segment: the next one starts after a separator. */
    return o + 1;
}

/*
 * Decode and normalise target[0, pend), which starts with '/', into out.
 * Returns 0, 400 or 414 as sf_resolve_path; on error rel is left partly
 * written.
 */
static int
normalise(const char *target, size_t pend, struct sf_path *out)
{
    /*
     * rel is built in place. seg is where the current segment starts in
     * rel; every byte of rel, plus the leading '/' it lacks, comes from a
     * distinct decoded byte, so rel never outgrows the decoded length.
     * A separator is written to rel only once the segment before it is
     * known to be real (see close_segment), so collapsed and dot segments
     * leave nothing behind.
     */
    char *rel = out->rel;
    size_t dlen = 1; /* decoded bytes so far, counting the leading '/' */
    size_t seg = 0;
    size_t o = 0;
    bool last_was_dot = false;
    unsigned char prev = '/';

    for (size_t i = 1; i <= pend; i++) {
        unsigned char ch;

        if (i == pend) {
            ch = '/'; /* closes the last segment */
        } else if (target[i] == '%') {
            if (pend - i < 3)
                return 400;
            int hi = hexval((unsigned char)target[i + 1]);
            int lo = hexval((unsigned char)target[i + 2]);
            if (hi < 0 || lo < 0)
                return 400;
            ch = (unsigned char)(hi << 4 | lo);
            i += 2;
        } else {
            ch = (unsigned char)target[i];
        }

        if (ch < 0x20 || ch == 0x7f || ch == '\\')
            return 400;
        if (i < pend) {
            if (++dlen > SF_PATH_MAX)
                return 414;
            prev = ch;
        }

        if (ch != '/') {
            assert(o < SF_PATH_MAX);
            rel[o++] = (char)ch;
            continue;
        }

        size_t n = o - seg;
        last_was_dot =
            (n == 1 && rel[seg] == '.') || (n == 2 && rel[seg] == '.' && rel[seg + 1] == '.');
        long next = close_segment(rel, seg, o);
        if (next < 0)
            return 400;
        if ((size_t)next > seg) {
            assert(o < SF_PATH_MAX);
            rel[o] = '/';
        }
        seg = o = (size_t)next;
    }

    /* o is one past the separator after the last real segment. */
    assert(o == 0 || rel[o - 1] == '/');
    size_t rlen = o > 0 ? o - 1 : 0;
    rel[rlen] = '\0';
    out->len = rlen;
    /* "/dir/", "/dir%2F", "/dir/." and "/dir/sub/.." all name a
     * directory, and so does anything that normalises to the root. */
    out->trailing_slash = prev == '/' || last_was_dot || rlen == 0;
    return 0;
}

int
sf_resolve_path(const char *target, size_t len, struct sf_path *out)
{
    assert(target != NULL || len == 0);
    assert(out != NULL);

    /* The path ends at the first '?' or '#'; a '?' inside the fragment
     * does not start a query. */
    size_t pend = 0;
    while (pend < len && target[pend] != '?' && target[pend] != '#')
        pend++;
    out->query_off = (pend < len && target[pend] == '?') ? pend : len;

    int rc = 400;
    if (pend > 0 && target[0] == '/')
        rc = normalise(target, pend, out);
    if (rc != 0) {
        /* Never leave a half-decoded path behind for a careless caller. */
        out->rel[0] = '\0';
        out->len = 0;
        out->trailing_slash = false;
    }
    return rc;
}

bool
sf_resolve_is_hidden(const char *rel)
{
    assert(rel != NULL);

    const char *s = rel;

    if (strncmp(s, ".well-known", 11) == 0 && (s[11] == '/' || s[11] == '\0'))
        s += 11;
    for (; *s; s++) {
        if (*s == '.' && (s == rel || s[-1] == '/'))
            return true;
    }
    return false;
}

/* Defence in depth for callers that did not go through sf_resolve_path:
 * with SF_SYMLINKS_FOLLOW the kernel no longer confines the lookup, so an
 * absolute rel or a ".." segment must never reach openat2. */
static bool
rel_is_safe(const char *rel)
{
    if (rel[0] == '/')
        return false;
    for (const char *s = rel; *s; s++) {
        if ((s == rel || s[-1] == '/') && s[0] == '.' && s[1] == '.' &&
            (s[2] == '/' || s[2] == '\0'))
            return false;
    }
    return true;
}

int
sf_resolve_open(int rootfd, const char *rel, enum sf_symlinks policy, int *fd, struct stat *st)
{
    assert(rootfd >= 0);
    assert(rel != NULL && fd != NULL && st != NULL);

    *fd = -1;
    if (!rel_is_safe(rel))
        return -EXDEV;

    struct open_how how;
    memset(&how, 0, sizeof(how));
    how.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    switch (policy) {
    case SF_SYMLINKS_BENEATH: how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS; break;
    case SF_SYMLINKS_FOLLOW:
        /* Symlinks may point anywhere; the request's own ".." were
         * refused above and by sf_resolve_path. */
        how.resolve = RESOLVE_NO_MAGICLINKS;
        break;
    case SF_SYMLINKS_NONE:
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
        break;
    default: assert(!"bad symlink policy"); return -EINVAL;
    }

    const char *name = rel[0] ? rel : ".";
    long rc = -1;
    for (int tries = 0; tries < RESOLVE_RETRIES; tries++) {
        rc = syscall(SYS_openat2, rootfd, name, &how, sizeof(how));
        if (rc >= 0 || (errno != EAGAIN && errno != EINTR))
            break;
    }
    if (rc < 0)
        return -errno;

    int f = (int)rc;
    if (fstat(f, st) < 0) {
        int err = errno;
        close(f);
        return -err;
    }
    *fd = f;
    return 0;
}

int
sf_resolve_status(int neg_errno)
{
    switch (-neg_errno) {
    case ENOENT:
    case ENOTDIR:
    case EXDEV:
    case ELOOP:
    case ENAMETOOLONG: return 404;
    case EACCES:
    case EPERM:
    case ENXIO:      /* a Unix socket, or a device with nothing behind it */
    case ENODEV:
    case EOPNOTSUPP: return 403;
    default: return 500;
    }
}
