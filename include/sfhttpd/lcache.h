/*
 * lcache.h - the per-worker listing cache: directory listings, read once
 * and rendered once per format and order, kept until the folder changes.
 *
 * A folder's entry holds what sf_listing_read read (names and stats) and
 * the pages rendered from it, in one sealed memfd that responses send
 * with sendfile from a dup of its descriptor: any number of connections
 * share one copy, and a page dropped while still being sent lives on in
 * the kernel until the last of them is done.
 *
 * Freshness: before its directory is read, the folder is watched through
 * the file cache's watch tree (fwatch.h), and the entry is dropped as soon
 * as a name in it is created, deleted, moved, written or has its
 * attributes changed (every event that can change a row), and with
 * everything beneath a folder that is itself moved or deleted. What a
 * watch on the folder cannot see - a subfolder's mtime (it changes with
 * the subfolder's own contents) and a symlink's target (which may be
 * anywhere) - is checked by stat on every hit (sf_listing_current); so a
 * hit costs no directory read, only one stat per subfolder and link.
 * Where no watch can be had (no inotify, watches exhausted) the folder is
 * not cached: every request reads it. Not seen either way: a file in the
 * folder written through another hard link elsewhere.
 *
 * A change finished before a request arrives is seen by that request as
 * long as the inotify queue is read first (sf_fcache_sync, which the file
 * handler calls for every request).
 */
#ifndef SFHTTPD_LCACHE_H
#define SFHTTPD_LCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sfhttpd/common.h"
#include "sfhttpd/listing.h"

struct sf_log;
struct sf_fwatch;
struct sf_lcache;

struct sf_lcache_opts {
    size_t max_bytes; /* listing_cache_size: entries' and pages' bytes
                         together; 0 turns the cache off */
    size_t max_dirs;  /* listing_cache_max: folders kept */
};

/* A cache that hears of changes from fw (which must outlive it); NULL
 * only when out of memory. log gets debug lines. */
struct sf_lcache *sf_lcache_new(const struct sf_lcache_opts *o, struct sf_fwatch *fw,
                                struct sf_log *log);
/* Drop every entry (and its watch). NULL-safe. */
void sf_lcache_free(struct sf_lcache *lc);

/* One listing to serve. */
struct sf_lcache_req {
    unsigned site;
    const char *root_path;       /* the site root's absolute path (watches) */
    int dirfd;                   /* the folder, open (not closed here) */
    const char *url_path;        /* as sf_listing_render wants it */
    struct sf_listing_opts opts; /* opts.rel names the folder: the key */
    struct sf_listing_view view;
};

/* Where the page is. */
struct sf_lcache_body {
    int fd; /* >= 0: a descriptor the caller owns (close it), the
               page at [off, off + len); -1: the page was appended
               to the caller's buffer, len bytes */
    uint64_t off;
    size_t len;
    bool truncated; /* the listing stopped at max_entries */
};

/*
 * The page q asks for: from the cache, or read and rendered (and kept
 * when the folder can be watched and it fits). lc NULL: never cached.
 * Returns 0 with *out, or -errno from sf_listing_read (-EACCES, -ENOMEM).
 */
int sf_lcache_get(struct sf_lcache *lc, const struct sf_lcache_req *q, struct sf_buf *buf,
                  struct sf_lcache_body *out);

struct sf_lcache_stats {
    uint64_t hits;      /* pages served from the cache */
    uint64_t renders;   /* pages rendered from a kept entry (no read) */
    uint64_t reads;     /* directories read (sf_listing_read) */
    uint64_t uncached;  /* of those, read for one response only */
    uint64_t drops;     /* entries dropped by a change */
    uint64_t evictions; /* entries dropped for room */
    size_t dirs, bytes; /* held now */
};
void sf_lcache_stats(const struct sf_lcache *lc, struct sf_lcache_stats *out);

#endif
