/*
 * fcache.h - the per-worker open-file cache. Maps (site, path) to an open
 * fd with its stat, ETag, content type, precompressed variants and, for
 * small files, an in-memory snapshot. Every connection sending a file
 * shares its entry (reference-counted) and its one read lease.
 *
 * Freshness: the directories of cached files are watched with inotify
 * (fwatch.h), and an entry leaves the cache as soon as its name is
 * created, deleted, moved, written or touched; where no watch can be had
 * the entry is revalidated by stat on every hit. A lease break (another
 * process opens the file for writing or truncates it) cuts every response
 * still sending from the file, or whose socket still holds unacknowledged
 * bytes of it, unless it can be completed from a snapshot (with a rescue:
 * opts.base set, lbreak.h), releases the lease so the writer proceeds,
 * and drops the entry; from the break on, requests open the file anew.
 */
#ifndef SFHTTPD_FCACHE_H
#define SFHTTPD_FCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "sfhttpd/config.h"
#include "sfhttpd/httpdate.h"
#include "sfhttpd/lbreak.h"
#include "sfhttpd/resolve.h"

struct event_base;
struct sf_log;
struct sf_fcache;
struct sf_fwatch;

/* Read-only for users. */
struct sf_file {
    int fd;
    struct stat st;
    char etag[48]; /* the ETag to send, quotes included */
    size_t etag_len;
    char etag_alt[48];                 /* another strong ETag of these same bytes,
                                          for conditionals: the mtime ETag once the
                                          content ETag is known (etag = content) */
    size_t etag_alt_len;               /* 0: none */
    char lastmod[SF_HTTPDATE_LEN + 1]; /* st_mtim as an IMF-fixdate */
    const char *ctype;                 /* set by the caller once (sf_fcache_set_type) */
    const unsigned char *mem;          /* snapshot of a small file read under the
                                          lease (or NULL): send it instead of fd */
    enum sf_guard guard;               /* what protects this entry's bytes */
    /* precompressed variants: bit (1 << enum sf_coding) for every
     * existing, fresh sidecar; valid when variants_known */
    bool variants_known;
    unsigned variants;
};

struct sf_fcache_opts {
    size_t max_entries;           /* open_file_cache_max, LRU beyond */
    size_t small_file_size;       /* files up to this are kept in memory */
    size_t small_file_budget;     /* ... while all such copies stay within this
                                     (0: no bound) */
    enum sf_guard guard;          /* file_guard */
    uint64_t content_etag_sites;  /* bit i: site i has etag = content */
    struct event_base *base;      /* NULL: a break cuts at once; else users
                                     with rescue callbacks may be kept */
    unsigned lease_break_wait_ms; /* how long a rescue waits (lbreak.h) */
};

/* Create a cache; NULL only when out of memory. Without inotify (or
 * when watches run out) entries are revalidated by stat on every hit.
 * log is used for warnings (stat-only fallback, lease breaks). */
struct sf_fcache *sf_fcache_new(const struct sf_fcache_opts *o, struct sf_log *log);
/* Release every lease and close every fd. Every reference (responses,
 * users) must have been put first. NULL-safe. */
void sf_fcache_free(struct sf_fcache *fc);

/* The inotify and signalfd descriptors the worker watches for EV_READ
 * (-1 when there is none), and their handlers. */
int sf_fcache_inotify_fd(const struct sf_fcache *fc);
int sf_fcache_signal_fd(const struct sf_fcache *fc);
/* And the hashing thread's eventfd (hasher.h; -1 unless a site has etag
 * = content); on EV_READ, sf_fcache_on_hashed. */
int sf_fcache_hasher_fd(const struct sf_fcache *fc);

/* The cache's watch tree, for another owner of what is read beneath the
 * roots (the listing cache, lcache.h): sf_fwatch_listen, get_dir, put.
 * It lives as long as the cache. */
struct sf_fwatch *sf_fcache_fwatch(struct sf_fcache *fc);

/* Apply every change the kernel has reported so far (one non-blocking
 * read of the inotify queue): on EV_READ of the inotify fd, and before a
 * request whose readiness the loop's wait may not have ordered after the
 * change (server.h, sf_server_woken, says when). */
void sf_fcache_sync(struct sf_fcache *fc);
/* Act on the lease breaks reported so far (lbreak.h). */
void sf_fcache_on_signal(struct sf_fcache *fc);
/*
 * Take the content hashes finished so far: each entry still cached, and
 * still the version that was hashed, from now on sends its content
 * ETag (with the mtime ETag kept as etag_alt).
 *
 * etag = content: an entry's content ETag comes from the file's
 * user.sfhttpd.etag attribute when that belongs to its size and mtime;
 * else a snapshot is hashed at once, and a bigger file by the hashing
 * thread, sending the mtime ETag until the hash is in. The bytes hashed
 * are one version: those the lease protects (a break cancels the hash),
 * or, without a lease, those whose stat did not change while hashing.
 * A worker holding the lease writes the attribute where it can (errors
 * ignored); that write is a change inotify reports, so the entry is
 * opened again once and then finds its hash in the attribute.
 */
void sf_fcache_on_hashed(struct sf_fcache *fc);

/*
 * Find or open the regular file rel beneath rootfd (site is a small
 * number naming the root; root_path its absolute path, for watches) as
 * sf_resolve_open(rootfd, rel, how) opens it (how: the symlink policy,
 * with SF_RESOLVE_NO_HIDDEN for dotfiles = deny; fixed per site).
 * Returns a referenced entry (release with sf_fcache_put or through a
 * user) or NULL with *err = -errno from sf_resolve_open, or -EISDIR for a
 * directory (with *dirfd set to an open fd of it, owned by the caller),
 * or -EPERM for something neither a file nor a directory.
 */
struct sf_file *sf_fcache_get(struct sf_fcache *fc, unsigned site, int rootfd,
                              const char *root_path, const char *rel, unsigned how, int *err,
                              int *dirfd);

/* Take / drop a reference. */
void sf_fcache_ref(struct sf_file *f);
void sf_fcache_put(struct sf_fcache *fc, struct sf_file *f);

/* Remember the content type computed for f (a string that outlives the
 * cache). */
static inline void
sf_fcache_set_type(struct sf_file *f, const char *ctype)
{
    f->ctype = ctype;
}

/* Record which precompressed variants exist for f. */
static inline void
sf_fcache_set_variants(struct sf_file *f, unsigned mask)
{
    f->variants = mask;
    f->variants_known = true;
}

/*
 * Out of descriptors (an open failed with EMFILE or ENFILE): let go of the
 * least recently used entries that no response is using, an eighth of the
 * cache and at least 16 (fewer when no more are unused). Returns how many
 * descriptors that closed. sf_fcache_get does this itself, and tries its
 * open once more; call it before retrying an open of your own (a listing).
 */
size_t sf_fcache_reclaim(struct sf_fcache *fc);

/*
 * Wire images: a whole small file of more than SF_FIMAGE_MIN bytes goes
 * out after its head with one sendfile from a sealed memfd holding that
 * head and then the snapshot, instead of a gather write that copies the
 * snapshot into the socket (fimage.c says why). Returns the descriptor of
 * f's image for the head head[0, hlen), valid until the next call into the
 * cache (send from it now, never keep it), or -1 when f has none for this
 * head and none can be made now: f not cached or without a snapshot, too
 * small, SF_FIMAGE_PER_SEC images already made for it this second (two:
 * the first head of a second may carry the last second's Date, read when
 * the worker woke; heads that alternate beyond that go by the gather
 * write until the next second), the cache's descriptors
 * (open_file_cache_max counts files and images) or small_file_budget
 * spent, or memfd_create failed. A new image replaces f's old one.
 */
#define SF_FIMAGE_MIN 8192
#define SF_FIMAGE_HEAD_MAX 1024
#define SF_FIMAGE_PER_SEC 2
int sf_fcache_image(struct sf_fcache *fc, struct sf_file *f, const char *head, size_t hlen);

/*
 * Attach u to f (taking a reference), so that a lease break on f cuts it
 * (lbreak.h): u->sending, u->sock, u->abort and u->arg must be set.
 * Detach drops it (and the reference); NULL-safe on a detached user
 * (u->file == NULL). A cut user stays attached until detached.
 */
void sf_fcache_attach(struct sf_file *f, struct sf_file_user *u);
void sf_fcache_detach(struct sf_file_user *u);

/*
 * For SF_GUARD_STAT entries: true when f's file still has the size,
 * mtime and ctime it had when cached (checked with fstat), or only lost
 * a link (renamed over or unlinked: the bytes are unchanged). Always
 * true for other guards.
 */
bool sf_fcache_unchanged(const struct sf_file *f);

struct sf_fcache_stats {
    uint64_t hits, misses, evictions, invalidations;
    uint64_t lease_breaks, responses_cut, stat_fallbacks;
    uint64_t reclaimed;                        /* entries let go for descriptors (reclaim) */
    uint64_t hashed, hash_reused, hash_stored; /* content ETags computed,
                                 read from the attribute, written to it */
    uint64_t responses_kept;                   /* completed from a snapshot after a break */
    uint64_t images;                           /* wire images made */
    size_t entries, watches;
};
void sf_fcache_stats(const struct sf_fcache *fc, struct sf_fcache_stats *out);

#endif
