/*
 * resolve.h - from a request target to an open file beneath the site
 * root. Decoding and normalisation are pure; confinement is the kernel's
 * (openat2 with RESOLVE_BENEATH), never a string-prefix check.
 */
#ifndef SFHTTPD_RESOLVE_H
#define SFHTTPD_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* Longest decoded path we accept (bytes, without NUL). */
#define SF_PATH_MAX 8192

enum sf_symlinks {
    SF_SYMLINKS_BENEATH = 0, /* follow symlinks that stay beneath the root */
    SF_SYMLINKS_FOLLOW,      /* follow any symlink (the request path itself
                                never holds ".." or a leading '/': those
                                are refused with -EXDEV) */
    SF_SYMLINKS_NONE         /* refuse any symlink in the path */
};

struct sf_path {
    char rel[SF_PATH_MAX + 1]; /* decoded, normalised, relative to the root,
                                  no leading '/', "" for the root itself,
                                  "dir/" style trailing slash kept off */
    size_t len;                /* strlen(rel) */
    bool trailing_slash;       /* the decoded path ended with '/' */
    size_t query_off;          /* offset of '?' in the raw target, or the
                                  target length when there is no query */
};

/*
 * Decode the path of an origin-form target (starting with '/'; the
 * caller strips scheme and authority from absolute-form first): stop at
 * '?' or '#', percent-decode, then remove dot segments (RFC 3986 §5.2.4)
 * and collapse repeated slashes. ".." that would climb above the root is
 * refused with 400, not clamped.
 *
 * Returns 0 on success; 400 for: a target not starting with '/', a bad
 * or truncated %XX, an encoded or raw NUL, a decoded control character
 * (< 0x20 or 0x7f), a backslash (raw or %5C, which Windows tools treat
 * as a separator), ".." that climbs above the root; 414 if the decoded
 * path is longer than SF_PATH_MAX.
 * An encoded slash (%2F) decodes to '/' and is then normalised like any
 * other separator.
 */
int sf_resolve_path(const char *target, size_t len, struct sf_path *out);

/* True when some segment of rel starts with '.', except a first segment
 * exactly ".well-known". */
bool sf_resolve_is_hidden(const char *rel);

/* The how of sf_resolve_open / sf_resolve_stat: an enum sf_symlinks,
 * optionally with SF_RESOLVE_NO_HIDDEN. */
#define SF_RESOLVE_POLICY 0x0fu /* the enum sf_symlinks part */
#define SF_RESOLVE_NO_HIDDEN                                                                       \
    0x10u /* dotfiles = deny: refuse a path that                                                   \
             names, or reaches through links, a                                                    \
             hidden segment */

/*
 * Open rel beneath the directory rootfd with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS, plus RESOLVE_NO_SYMLINKS for SF_SYMLINKS_NONE)
 * and O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC (a FIFO or device
 * never blocks the worker). rel == "" opens the root itself (".").
 * how is the symlink policy, with SF_RESOLVE_NO_HIDDEN for dotfiles =
 * deny: then rel must hold no hidden segment (sf_resolve_is_hidden), and
 * a path through symlinks is resolved link by link into a path without
 * links, which must not hold one either and is what gets opened (with
 * RESOLVE_NO_SYMLINKS, so a link swapped in meanwhile fails the open);
 * a path without links still costs one openat2.
 * On success sets *fd and *st (fstat) and returns 0. Returns -errno on
 * failure: -ENOENT / -ENOTDIR for missing and for a hidden target, -EXDEV
 * when the path would leave the root (an escaping symlink), -ELOOP for a
 * refused symlink, -EACCES for permissions.
 */
int sf_resolve_open(int rootfd, const char *rel, unsigned how, int *fd, struct stat *st);

/* The folder part of a root-relative path into out: "a/b" for "a/b/c",
 * "" for "c". */
void sf_resolve_dirname(const char *rel, char out[SF_PATH_MAX + 1]);

/* sf_resolve_open for a file to send: 0 with *fd and *st when it is a
 * regular file; a directory gives -EISDIR with its fd in *dirfd (the
 * caller's to close), anything else (FIFO, device, socket) -EPERM with
 * nothing open; or sf_resolve_open's -errno. */
int sf_resolve_open_regular(int rootfd, const char *rel, unsigned how, int *fd, struct stat *st,
                            int *dirfd);

/* The stat of what sf_resolve_open(rootfd, rel, how) would open, found
 * the same way (the links rel holds followed by the same policy, never
 * outside the root unless it is SF_SYMLINKS_FOLLOW) but without opening
 * the file for reading (O_PATH). 0 or the same -errno. */
int sf_resolve_stat(int rootfd, const char *rel, unsigned how, struct stat *st);

/*
 * Open the folder dirfd itself (O_PATH) the way every file to serve is
 * opened, with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), and close
 * it again: whether this kernel confines paths at all. 0, or openat2's
 * -errno: -ENOSYS on Linux before 5.6 (and under valgrind 3.19), -ENOSYS
 * or -EPERM when a seccomp filter blocks the call (older container
 * profiles); startup.h refuses to start then.
 */
int sf_resolve_probe(int dirfd);

/* Map an errno from sf_resolve_open to the HTTP status to send: 404 for
 * missing, escaping, refused-symlink or over-long paths, 403 for
 * permissions and for things that cannot be opened as files (a Unix
 * socket: ENXIO), 503 for EMFILE and ENFILE (out of descriptors: the
 * caller adds Retry-After), 500 else. */
int sf_resolve_status(int neg_errno);

#endif
