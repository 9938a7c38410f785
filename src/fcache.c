/*
 * fcache.c - the per-worker open-file cache: a hash table by (site, path)
 * in LRU order, and the lookup that opens, guards and snapshots a file
 * (see fcache.h for the contract). The inotify watch tree is fwatch's and
 * lease breaks are lbreak's: this file reacts to what they report by
 * dropping entries.
 *
 * Each entry holds one reference for the cache while cached and one per
 * response or user; the fd closes (and its lease goes) with the last. An
 * entry holds a reference on the watch of its directory, taken before the
 * file is opened. Its ETags are fcache_etag.c's (fcache_int.h).
 */
#include "fcache_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sfhttpd/coding.h"
#include "sfhttpd/common.h"
#include "sfhttpd/fversion.h"
#include "sfhttpd/fwatch.h"
#include "sfhttpd/log.h"

static inline struct entry *
entry_of(struct sf_file *f)
{
    return (struct entry *)(void *)f;
}

static uint32_t
hash_key(unsigned site, const char *rel)
{
    return sf_hash_str(SF_HASH_INIT ^ site, rel);
}

/* ---------------------------------------------------------------- entries */

static void
entry_free(struct sf_fcache *fc, struct entry *e)
{
    assert(e->refs == 0 && !e->cached && !e->lb.users && e->img_fd < 0);
    if (e->lb.fd >= 0)
        sf_lbreak_release(fc->lb, &e->lb);
    close(e->pub.fd);
    fc->snap_bytes -= e->snap_len;
    free(e->snap);
    sf_fwatch_put(fc->fw, e->dir);
    free(e->rel);
    free(e);
}

static void
lru_unlink(struct sf_fcache *fc, struct entry *e)
{
    if (e->lprev)
        e->lprev->lnext = e->lnext;
    else
        fc->lru_head = e->lnext;
    if (e->lnext)
        e->lnext->lprev = e->lprev;
    else
        fc->lru_tail = e->lprev;
    e->lprev = e->lnext = NULL;
}

static void
lru_front(struct sf_fcache *fc, struct entry *e)
{
    e->lnext = fc->lru_head;
    e->lprev = NULL;
    if (fc->lru_head)
        fc->lru_head->lprev = e;
    fc->lru_head = e;
    if (!fc->lru_tail)
        fc->lru_tail = e;
}

/* Take e out of the cache; it lives on while responses use it. */
static void
uncache(struct sf_fcache *fc, struct entry *e)
{
    if (!e->cached)
        return;
    struct entry **pp = &fc->buckets[e->hash & (NBUCKETS - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(fc, e);
    e->cached = false;
    fc->nentries--;
    fimage_drop(fc, e);
    fcache_etag_forget(fc, e);
    sf_fcache_put(fc, &e->pub);
}

static struct entry *
lookup(struct sf_fcache *fc, unsigned site, const char *rel, uint32_t h)
{
    for (struct entry *e = fc->buckets[h & (NBUCKETS - 1)]; e; e = e->hnext)
        if (e->hash == h && e->site == site && strcmp(e->rel, rel) == 0)
            return e;
    return NULL;
}

static void
invalidate(struct sf_fcache *fc, unsigned site, const char *rel)
{
    struct entry *e = lookup(fc, site, rel, hash_key(site, rel));
    if (e) {
        fc->st.invalidations++;
        uncache(fc, e);
    }
}

/* Drop every entry of site under dir ("" = the whole site). */
static void
invalidate_prefix(struct sf_fcache *fc, unsigned site, const char *dir)
{
    size_t n = strlen(dir);
    struct entry *e = fc->lru_head;
    while (e) {
        struct entry *next = e->lnext;
        if (e->site == site && (n == 0 || (strncmp(e->rel, dir, n) == 0 && e->rel[n] == '/'))) {
            fc->st.invalidations++;
            uncache(fc, e);
        }
        e = next;
    }
}

/* ------------------------------------------------------------- guards */

bool
sf_fcache_unchanged(const struct sf_file *f)
{
    struct stat now;
    return f->guard != SF_GUARD_STAT ||
           (fstat(f->fd, &now) == 0 && sf_fversion_unchanged(&f->st, &now));
}

/* Read a small file whole while its lease is held: a true snapshot. */
static void
snapshot(struct entry *e)
{
    e->snap = sf_read_whole(e->pub.fd, (size_t)e->pub.st.st_size);
    e->pub.mem = e->snap;
    e->lb.snapshot = e->snap != NULL;
}

/* A snapshot while the worker's copies stay within small_file_budget
 * (0: no bound); past it the file goes by sendfile. */
static void
snapshot_within_budget(struct sf_fcache *fc, struct entry *e)
{
    size_t size = (size_t)e->pub.st.st_size, budget = fc->o.small_file_budget;
    if (budget && size > budget - fc->snap_bytes && size > 0)
        return;
    snapshot(e);
    if (e->snap) {
        e->snap_len = size;
        fc->snap_bytes += size;
    }
}

/* ----------------------------------------------------------- lookup steps */

/* A cached entry still stands for its name: watched (inotify drops it
 * otherwise), or, unwatched, the name still leads to the same version;
 * and, guarded by stat, its bytes did not change. */
static bool
fresh(const struct entry *e, int rootfd)
{
    if (!e->dir) {
        struct stat now;
        if (fstatat(rootfd, e->rel, &now, 0) != 0 || !sf_fversion_same(&now, &e->pub.st))
            return false;
    }
    return sf_fcache_unchanged(&e->pub);
}

/* A new entry for the file rel, not cached yet: its directory watched
 * first (no change after the open is missed). NULL with *err as get says. */
static struct entry *
entry_open(struct sf_fcache *fc, unsigned site, int rootfd, const char *root_path, const char *rel,
           unsigned how, int *err, int *dirfd)
{
    struct sf_fwatch_dir *d = sf_fwatch_get(fc->fw, site, root_path, rel);
    int fd;
    struct stat st;
    *err = sf_resolve_open_regular(rootfd, rel, how, &fd, &st, dirfd);
    struct entry *e = *err ? NULL : calloc(1, sizeof(*e));
    char *copy = e ? strdup(rel) : NULL;
    if (!copy) {
        if (*err == 0) {
            *err = -ENOMEM;
            close(fd);
        }
        free(e);
        sf_fwatch_put(fc->fw, d);
        return NULL;
    }
    *e = (struct entry){.pub = {.fd = fd, .st = st, .guard = fc->o.guard},
                        .fc = fc,
                        .site = site,
                        .rel = copy,
                        .dir = d,
                        .lb = {.fd = -1},
                        .img_fd = -1,
                        .content = site < 64 && (fc->o.content_etag_sites >> site & 1)};
    return e;
}

/* Guard e's bytes as configured: a lease (or stat where none can be had),
 * a snapshot of a small file whose bytes cannot change under it, then
 * the ETags of what is guarded. */
static void
protect(struct sf_fcache *fc, struct entry *e)
{
    if (e->pub.guard == SF_GUARD_LEASE) {
        int rc = sf_lbreak_take(fc->lb, &e->lb, e->pub.fd);
        if (rc == 0) {
            /* what we serve is what the lease protects */
            fstat(e->pub.fd, &e->pub.st);
        } else {
            e->pub.guard = SF_GUARD_STAT;
            fc->st.stat_fallbacks++;
            sf_log_errno(fc->log, SF_LOG_WARN, rc, "%s: guarded by stat only (no lease)", e->rel);
        }
    }
    const struct stat *st = &e->pub.st;
    sf_httpdate_format(st->st_mtim.tv_sec, e->pub.lastmod);
    if ((uint64_t)st->st_size <= fc->o.small_file_size &&
        (e->lb.fd >= 0 || e->pub.guard == SF_GUARD_OFF))
        snapshot_within_budget(fc, e);
    fcache_etag_set(fc, e);
}

bool
fcache_evict_lru(struct sf_fcache *fc, const struct entry *keep)
{
    struct entry *v = fc->lru_tail;
    if (v == keep)
        v = v->lprev;
    if (!v)
        return false;
    fc->st.evictions++;
    uncache(fc, v);
    return true;
}

/* Put e in the cache, most recent first; evict beyond the limit. */
static void
insert(struct sf_fcache *fc, struct entry *e, uint32_t h)
{
    e->hash = h;
    e->refs += 2; /* the cache's and the caller's (the hasher may have one) */
    e->cached = true;
    e->hnext = fc->buckets[h & (NBUCKETS - 1)];
    fc->buckets[h & (NBUCKETS - 1)] = e;
    lru_front(fc, e);
    fc->nentries++;
    while (fc->nentries + fc->nimages > fc->o.max_entries && fimage_drop_oldest(fc)) {
    }
    while (fc->nentries > fc->o.max_entries && fc->lru_tail) {
        fc->st.evictions++;
        uncache(fc, fc->lru_tail);
    }
}

struct sf_file *
sf_fcache_get(struct sf_fcache *fc, unsigned site, int rootfd, const char *root_path,
              const char *rel, unsigned how, int *err, int *dirfd)
{
    *err = 0;
    *dirfd = -1;
    uint32_t h = hash_key(site, rel);
    struct entry *e = lookup(fc, site, rel, h);
    if (e && !e->lb.breaking && fresh(e, rootfd)) { /* breaking: open it anew */
        fc->st.hits++;
        lru_unlink(fc, e);
        lru_front(fc, e);
        e->refs++;
        return &e->pub;
    }
    if (e) {
        fc->st.invalidations++;
        uncache(fc, e);
    }
    fc->st.misses++;
    e = entry_open(fc, site, rootfd, root_path, rel, how, err, dirfd);
    if (!e && sf_out_of_fds(*err) && sf_fcache_reclaim(fc) > 0)
        e = entry_open(fc, site, rootfd, root_path, rel, how, err, dirfd);
    if (!e)
        return NULL;
    protect(fc, e);
    insert(fc, e, h);
    return &e->pub;
}

size_t
sf_fcache_reclaim(struct sf_fcache *fc)
{
    size_t want = fc->nentries / 8 > 16 ? fc->nentries / 8 : 16, n = 0;
    for (; n < want && fimage_drop_oldest(fc); n++) /* images first */
        fc->st.reclaimed++;
    for (struct entry *e = fc->lru_tail, *prev; e && n < want; e = prev) {
        prev = e->lprev;
        if (e->refs == 1) { /* the cache's own: no response uses it */
            fc->st.evictions++;
            fc->st.reclaimed++;
            uncache(fc, e);
            n++;
        }
    }
    return n;
}

/* --------------------------------------------------------------- news */

/* fwatch: names changed. */
static void
on_change(void *arg, unsigned site, const char *rel, unsigned what)
{
    struct sf_fcache *fc = arg;
    if (what & SF_FWATCH_ALL) {
        sf_log_msg(fc->log, SF_LOG_INFO, "inotify queue overflow: file cache emptied");
        while (fc->lru_head) {
            fc->st.invalidations++;
            uncache(fc, fc->lru_head);
        }
        return;
    }
    if (what & SF_FWATCH_NAME) {
        invalidate(fc, site, rel);
        /* a sidecar that appeared or changed: its original's variant set */
        char orig[SF_PATH_MAX + 1];
        if (sf_coding_original(rel, orig, sizeof(orig)))
            invalidate(fc, site, orig);
    }
    if (what & SF_FWATCH_BENEATH)
        invalidate_prefix(fc, site, rel);
}

/* lbreak: a lease broke; its users are cut and the lease is released. */
static void
on_break(void *arg, struct sf_lbreak_file *lf, unsigned cut)
{
    struct sf_fcache *fc = arg;
    struct entry *e = (struct entry *)(void *)((char *)lf - offsetof(struct entry, lb));
    fc->st.lease_breaks++;
    fc->st.responses_cut += cut;
    fc->st.responses_kept += lf->nkept;
    /* an edit nobody was downloading is routine; a cut download is not */
    sf_log_msg(fc->log, cut ? SF_LOG_WARN : SF_LOG_INFO,
               "lease broken: %s is being changed: %u response(s) cut (%u no room for a copy, "
               "%u not drained), %u completing from a snapshot; writer held %llu us "
               "(copies %llu us)",
               e->rel, cut, lf->ncut_room, lf->ncut_late, lf->nkept,
               (unsigned long long)(lf->held_ns / 1000), (unsigned long long)(lf->copy_ns / 1000));
    uncache(fc, e);
}

/* ------------------------------------------------------------------ API */

struct sf_fcache *
sf_fcache_new(const struct sf_fcache_opts *o, struct sf_log *log)
{
    struct sf_fcache *fc = calloc(1, sizeof(*fc));
    if (!fc)
        return NULL;
    fc->o = *o;
    fc->log = log;
    fc->fw = sf_fwatch_new(log, on_change, fc);
    if (!fc->fw) {
        free(fc);
        return NULL;
    }
    int err;
    if (o->guard == SF_GUARD_LEASE) {
        fc->lb = sf_lbreak_new(on_break, fc, &err);
        if (!fc->lb) {
            sf_log_errno(log, SF_LOG_WARN, -err, "lease signals unavailable: using stat");
            fc->o.guard = SF_GUARD_STAT;
        } else if (o->base && sf_lbreak_rescue(fc->lb, o->base, o->lease_break_wait_ms) != 0) {
            sf_log_msg(log, SF_LOG_WARN, "out of memory: lease breaks cut, never complete");
        }
    }
    if (o->content_etag_sites) {
        fc->hasher = sf_hasher_new(fcache_etag_on_hashed, fc, &err);
        if (!fc->hasher)
            sf_log_errno(log, SF_LOG_WARN, -err, "no hashing thread: big files keep mtime ETags");
    }
    return fc;
}

void
sf_fcache_free(struct sf_fcache *fc)
{
    if (!fc)
        return;
    while (fc->lru_head)
        uncache(fc, fc->lru_head);
    /* the hasher reports its jobs, putting their references; entries
     * still referenced by responses are freed by their last put, which
     * the caller ensures happens before (connections close first) */
    sf_hasher_free(fc->hasher);
    sf_fwatch_free(fc->fw);
    sf_lbreak_free(fc->lb);
    free(fc);
}

int
sf_fcache_inotify_fd(const struct sf_fcache *fc)
{
    return sf_fwatch_fd(fc->fw);
}

struct sf_fwatch *
sf_fcache_fwatch(struct sf_fcache *fc)
{
    return fc->fw;
}

int
sf_fcache_signal_fd(const struct sf_fcache *fc)
{
    return fc->lb ? sf_lbreak_fd(fc->lb) : -1;
}

int
sf_fcache_hasher_fd(const struct sf_fcache *fc)
{
    return fc->hasher ? sf_hasher_fd(fc->hasher) : -1;
}

void
sf_fcache_on_hashed(struct sf_fcache *fc)
{
    if (fc->hasher)
        sf_hasher_on_ready(fc->hasher);
}

void
sf_fcache_sync(struct sf_fcache *fc)
{
    sf_fwatch_read(fc->fw);
}

void
sf_fcache_on_signal(struct sf_fcache *fc)
{
    if (fc->lb)
        sf_lbreak_on_signal(fc->lb);
}

void
sf_fcache_ref(struct sf_file *f)
{
    entry_of(f)->refs++;
}

void
sf_fcache_put(struct sf_fcache *fc, struct sf_file *f)
{
    if (!f)
        return;
    struct entry *e = entry_of(f);
    assert(e->refs > 0 && e->fc == fc);
    if (--e->refs == 0)
        entry_free(fc, e);
}

void
sf_fcache_attach(struct sf_file *f, struct sf_file_user *u)
{
    struct entry *e = entry_of(f);
    assert(!u->file);
    u->file = f;
    sf_lbreak_attach(&e->lb, u);
    e->refs++;
}

void
sf_fcache_detach(struct sf_file_user *u)
{
    if (!u->file)
        return;
    struct entry *e = entry_of(u->file);
    sf_lbreak_detach(&e->lb, u);
    u->file = NULL;
    sf_fcache_put(e->fc, &e->pub);
}

void
sf_fcache_stats(const struct sf_fcache *fc, struct sf_fcache_stats *out)
{
    *out = fc->st;
    out->entries = fc->nentries;
    out->watches = sf_fwatch_count(fc->fw);
}
