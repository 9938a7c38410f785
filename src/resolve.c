/*
 * resolve.c - from a request target to an open file beneath the site root.
 *
 * sf_resolve_path() is pure: it cuts the query and fragment, percent-decodes
 * and removes dot segments in one pass into the fixed buffer of struct
 * sf_path, refusing anything a filesystem or a Windows tool could read as a
 * way out (NUL, controls, backslashes, ".." above the root). The string is
 * never trusted for confinement, though: sf_resolve_open() leaves that to
 * the kernel with openat2(RESOLVE_BENEATH), which also covers symlinks.
 * With dotfiles denied, a path through a link is resolved link by link so
 * that where it leads is checked too (see "links by hand").
 */
#include "sfhttpd/resolve.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
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

/* The openat2 resolve flags of a policy, with RESOLVE_NO_SYMLINKS added
 * when links are to be walked by hand (see walk_open). */
static uint64_t
resolve_flags(enum sf_symlinks policy, bool no_links)
{
    uint64_t r = RESOLVE_NO_MAGICLINKS | (no_links ? RESOLVE_NO_SYMLINKS : 0);
    switch (policy) {
    case SF_SYMLINKS_BENEATH: return r | RESOLVE_BENEATH;
    /* Symlinks may point anywhere; the request's own ".." were refused
     * by rel_is_safe and by sf_resolve_path. */
    case SF_SYMLINKS_FOLLOW: return r;
    case SF_SYMLINKS_NONE: return r | RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
    }
    assert(!"bad symlink policy");
    return r | RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
}

/* openat2, retried while a rename elsewhere races the lookup: an fd or
 * -errno. "" opens dirfd itself. */
static int
open2(int dirfd, const char *name, int flags, uint64_t resolve)
{
    struct open_how how;
    memset(&how, 0, sizeof(how));
    how.flags = (uint64_t)flags;
    how.resolve = resolve;
    long rc = -1;
    for (int tries = 0; tries < RESOLVE_RETRIES; tries++) {
        rc = syscall(SYS_openat2, dirfd, name[0] ? name : ".", &how, sizeof(how));
        if (rc >= 0 || (errno != EAGAIN && errno != EINTR))
            break;
    }
    return rc < 0 ? -errno : (int)rc;
}

int
sf_resolve_probe(int dirfd)
{
    assert(dirfd >= 0);

    /* the flags every open of a file to serve uses, on the folder itself */
    int fd =
        open2(dirfd, "", O_PATH | O_DIRECTORY | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
    if (fd < 0)
        return fd;
    close(fd);
    return 0;
}

/* ------------------------------------------------------ links by hand
 *
 * dotfiles = deny must hold for what a path reaches, not only for what it
 * says: "sub/link -> ../.git/config" names no hidden segment. The kernel
 * resolves links without telling where they led, so a path that holds a
 * link (RESOLVE_NO_SYMLINKS fails with ELOOP) is resolved here, one
 * component at a time, into a path without links: each component is
 * opened as itself (O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS), a link's
 * target is spliced in front of the rest, ".." drops the last component,
 * and the symlink policy is applied as the kernel applies it (beneath: no
 * absolute target, no ".." above the root; follow: anything but magic
 * links). The result is checked for hidden segments and opened with
 * RESOLVE_NO_SYMLINKS (plus RESOLVE_BENEATH inside the root): the kernel
 * then guarantees that the file opened sits at exactly the path checked,
 * so a link swapped in meanwhile makes the open fail instead of leading
 * somewhere unchecked.
 */

#define WALK_MAX_LINKS 40 /* the kernel's own limit */
#define WALK_MAX (2 * SF_PATH_MAX)

struct walk {
    int rootfd;
    int slash;    /* "/", opened once a link leaves the root */
    bool outside; /* cur is relative to slash, not rootfd */
    enum sf_symlinks policy;
    char cur[WALK_MAX + 1]; /* resolved so far: no links, no "..", no
                               leading '/' */
    size_t len;
    char rest[WALK_MAX + 1]; /* still to resolve, from roff */
    size_t roff;
};

static int
walk_base(const struct walk *w)
{
    return w->outside ? w->slash : w->rootfd;
}

/* Drop the last component of cur ("" stays "", as "/.." is "/"). */
static void
walk_up(struct walk *w)
{
    while (w->len > 0 && w->cur[w->len - 1] != '/')
        w->len--;
    if (w->len > 0)
        w->len--;
    w->cur[w->len] = '\0';
}

/* From now on cur is relative to "/" (follow only); set it to abs. */
static int
walk_go_outside(struct walk *w, const char *abs)
{
    if (w->slash < 0) {
        w->slash = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (w->slash < 0)
            return -errno;
    }
    abs += strspn(abs, "/");
    size_t n = strlen(abs);
    if (n > WALK_MAX)
        return -ENAMETOOLONG;
    memcpy(w->cur, abs, n + 1);
    w->len = n;
    w->outside = true;
    return 0;
}

/* ".." of the current path. */
static int
walk_dotdot(struct walk *w)
{
    if (w->len > 0 || w->outside) {
        walk_up(w);
        return 0;
    }
    if (w->policy != SF_SYMLINKS_FOLLOW)
        return -EXDEV;
    /* follow: the root's parent, by the root's absolute path */
    char proc[64], abs[WALK_MAX + 1];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w->rootfd);
    ssize_t n = readlink(proc, abs, sizeof(abs) - 1);
    if (n <= 0 || abs[0] != '/')
        return -ELOOP; /* cannot tell where that is: refuse */
    abs[n] = '\0';
    int rc = walk_go_outside(w, abs);
    if (rc == 0)
        walk_up(w);
    return rc;
}

/* Put target in front of what is still to resolve. */
static int
walk_splice(struct walk *w, const char *target)
{
    const char *left = w->rest + w->roff;
    size_t t = strlen(target), l = strlen(left);
    if (t + 1 + l > WALK_MAX)
        return -ENAMETOOLONG;
    char tmp[WALK_MAX + 1];
    memcpy(tmp, target, t);
    tmp[t] = '/';
    memcpy(tmp + t + 1, left, l + 1);
    memcpy(w->rest, tmp, t + l + 2);
    w->roff = 0;
    return 0;
}

/* The link open as fd (O_PATH) was met: follow it by policy. */
static int
walk_link(struct walk *w, int fd, unsigned *links)
{
    struct statfs sfs;
    if (fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC)
        return -ELOOP; /* magic links are refused, as RESOLVE_NO_MAGICLINKS */
    if (++*links > WALK_MAX_LINKS)
        return -ELOOP;
    char target[WALK_MAX + 1];
    ssize_t n = readlinkat(fd, "", target, sizeof(target));
    if (n < 0)
        return -errno;
    if (n == 0)
        return -ENOENT;
    if ((size_t)n >= sizeof(target))
        return -ENAMETOOLONG;
    target[n] = '\0';
    if (target[0] == '/') {
        if (w->policy != SF_SYMLINKS_FOLLOW)
            return -EXDEV;
        int rc = walk_go_outside(w, "");
        if (rc)
            return rc;
    }
    return walk_splice(w, target);
}

/* Resolve w->rest into w->cur, link by link. */
static int
walk_resolve(struct walk *w)
{
    unsigned links = 0;
    for (;;) {
        char *seg = w->rest + w->roff;
        size_t n = strcspn(seg, "/");
        if (n == 0 && seg[0] == '\0')
            return 0;
        w->roff += n + (seg[n] == '/');
        if (n == 0 || (n == 1 && seg[0] == '.'))
            continue;
        if (n == 2 && seg[0] == '.' && seg[1] == '.') {
            int rc = walk_dotdot(w);
            if (rc)
                return rc;
            continue;
        }
        size_t old = w->len;
        if (old + 1 + n > WALK_MAX)
            return -ENAMETOOLONG;
        if (old)
            w->cur[w->len++] = '/';
        memcpy(w->cur + w->len, seg, n);
        w->len += n;
        w->cur[w->len] = '\0';
        int fd =
            open2(walk_base(w), w->cur, O_PATH | O_NOFOLLOW | O_CLOEXEC,
                  RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | (w->outside ? 0 : RESOLVE_BENEATH));
        if (fd < 0)
            return fd;
        struct stat st;
        int rc = fstat(fd, &st) < 0 ? -errno : 0;
        if (rc == 0 && S_ISLNK(st.st_mode)) {
            w->len = old;
            w->cur[old] = '\0';
            rc = walk_link(w, fd, &links);
        }
        close(fd);
        if (rc)
            return rc;
    }
}

/* A hidden segment anywhere in an absolute path (outside the root no
 * ".well-known" is exempt: it is not the site's). */
static bool
any_hidden(const char *path)
{
    for (const char *s = path; *s; s++)
        if (*s == '.' && (s == path || s[-1] == '/'))
            return true;
    return false;
}

/* Open rel (which holds a link) as described above: an fd or -errno. */
static int
walk_open(int rootfd, const char *rel, enum sf_symlinks policy, int flags)
{
    struct walk *w = malloc(sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->rootfd = rootfd;
    w->slash = -1;
    w->outside = false;
    w->policy = policy;
    w->cur[0] = '\0';
    w->len = 0;
    w->roff = 0;
    int rc = -ENAMETOOLONG;
    size_t n = strlen(rel);
    if (n <= WALK_MAX) {
        memcpy(w->rest, rel, n + 1);
        rc = walk_resolve(w);
    }
    if (rc == 0 && (w->outside ? any_hidden(w->cur) : sf_resolve_is_hidden(w->cur)))
        rc = -ENOENT; /* as the request path's own hidden segments */
    if (rc == 0)
        rc =
            open2(walk_base(w), w->cur, flags,
                  RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | (w->outside ? 0 : RESOLVE_BENEATH));
    if (w->slash >= 0)
        close(w->slash);
    free(w);
    return rc;
}

/* Open rel by the policy in how, with flags: an fd or -errno. */
static int
resolve(int rootfd, const char *rel, unsigned how, int flags)
{
    enum sf_symlinks policy = (enum sf_symlinks)(how & SF_RESOLVE_POLICY);
    bool no_hidden = how & SF_RESOLVE_NO_HIDDEN;
    if (!rel_is_safe(rel))
        return -EXDEV;
    if (no_hidden && sf_resolve_is_hidden(rel))
        return -ENOENT;
    /* with no_hidden, a path without links costs the one openat2 it
     * always did; only a path through a link is walked */
    int fd = open2(rootfd, rel, flags, resolve_flags(policy, no_hidden));
    if (fd == -ELOOP && no_hidden && policy != SF_SYMLINKS_NONE)
        fd = walk_open(rootfd, rel, policy, flags);
    return fd;
}

int
sf_resolve_open(int rootfd, const char *rel, unsigned how, int *fd, struct stat *st)
{
    assert(rootfd >= 0);
    assert(rel != NULL && fd != NULL && st != NULL);

    *fd = -1;
    int f = resolve(rootfd, rel, how, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (f < 0)
        return f;
    if (fstat(f, st) < 0) {
        int err = errno;
        close(f);
        return -err;
    }
    *fd = f;
    return 0;
}

int
sf_resolve_stat(int rootfd, const char *rel, unsigned how, struct stat *st)
{
    assert(rootfd >= 0);
    assert(rel != NULL && st != NULL);

    int f = resolve(rootfd, rel, how, O_PATH | O_CLOEXEC);
    if (f < 0)
        return f;
    int rc = fstat(f, st) < 0 ? -errno : 0;
    close(f);
    return rc;
}

void
sf_resolve_dirname(const char *rel, char out[SF_PATH_MAX + 1])
{
    snprintf(out, SF_PATH_MAX + 1, "%s", rel);
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
    else
        out[0] = '\0';
}

int
sf_resolve_open_regular(int rootfd, const char *rel, unsigned how, int *fd, struct stat *st,
                        int *dirfd)
{
    int rc = sf_resolve_open(rootfd, rel, how, fd, st);
    if (rc)
        return rc;
    if (S_ISDIR(st->st_mode)) {
        *dirfd = *fd;
        return -EISDIR;
    }
    if (!S_ISREG(st->st_mode)) {
        close(*fd);
        return -EPERM;
    }
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
    case ENXIO: /* a Unix socket, or a device with nothing behind it */
    case ENODEV:
    case EOPNOTSUPP: return 403;
    case EMFILE:
    case ENFILE: return 503; /* out of descriptors: try again (fdlimit.h) */
    default: return 500;
    }
}
