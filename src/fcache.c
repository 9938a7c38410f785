/*
 * fcache.c - the per-worker open-file cache, its inotify watches and its
 * leases (see fcache.h for the contract).
 *
 * Entries are found by (site, path) in a hash table and kept in LRU
 * order. Each holds one reference for the cache while cached and one per
 * response or user; the fd closes (and its lease goes) with the last.
 * Every ancestor directory of a cached file, up to the site root, is
 * watched (one watch per directory, reference-counted), and the watch is
 * placed *before* the file is opened, so no change can slip between the
 * open and the watch. A leased fd is found from a break signal through a
 * table indexed by fd.
 */
#include "sfhttpd/fcache.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <unistd.h>

#include "sfhttpd/common.h"
#include "sfhttpd/cond.h"
#include "sfhttpd/lease.h"
#include "sfhttpd/log.h"

#define NBUCKETS 16384 /* entries and directories; power of two */
#define WATCH_MASK                                                                          \
    (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY |     \
     IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_EXCL_UNLINK | IN_ONLYDIR)

struct dirw {
    int wd;               /* -1 once the kernel dropped or moved it */
    unsigned site;
    char *rel;            /* "" for the root, else "a/b" */
    unsigned refs;        /* entries in it + subdirectories watched */
    struct dirw *parent;
    struct dirw *hnext;   /* by (site, rel), while alive */
    struct dirw *wnext;   /* by wd */
    bool in_hash;
};

struct entry {
    struct sf_file pub;   /* first: users see only this */
    unsigned site;
    char *rel;
    uint32_t hash;
    struct entry *hnext;
    struct entry *lprev, *lnext; /* LRU, most recent first */
    unsigned refs;
    bool cached;
    bool leased;
    struct dirw *dir;     /* NULL when unwatched: revalidate on each hit */
    unsigned char *snap;  /* pub.mem, owned */
    int rootfd;
    struct sf_file_user *users;
};

struct sf_fcache {
    struct sf_fcache_opts o;
    struct sf_log *log;
    int ifd;              /* inotify, -1 when unavailable */
    int sigfd;            /* lease breaks, -1 when unavailable */
    struct entry *buckets[NBUCKETS];
    struct dirw *dbuckets[NBUCKETS];
    struct dirw *wbuckets[NBUCKETS];
    struct entry *lru_head, *lru_tail;
    size_t nentries;
    struct entry **byfd;  /* leased fds */
    size_t nbyfd;
    struct sf_fcache_stats st;
};

static inline struct entry *
entry_of(struct sf_file *f)
{
    return (struct entry *)(void *)f;
}

static uint32_t
hash_key(unsigned site, const char *rel)
{
    uint32_t h = 2166136261u ^ site;
    for (const unsigned char *p = (const unsigned char *)rel; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

/* ---------------------------------------------------------------- watches */

static void
dir_unhash(struct sf_fcache *fc, struct dirw *d)
{
    if (!d->in_hash)
        return;
    struct dirw **pp = &fc->dbuckets[hash_key(d->site, d->rel) & (NBUCKETS - 1)];
    while (*pp != d)
        pp = &(*pp)->hnext;
    *pp = d->hnext;
    d->in_hash = false;
}

static void
dir_unwd(struct sf_fcache *fc, struct dirw *d)
{
    if (d->wd < 0)
        return;
    struct dirw **pp = &fc->wbuckets[(unsigned)d->wd & (NBUCKETS - 1)];
    while (*pp && *pp != d)
        pp = &(*pp)->wnext;
    if (*pp)
        *pp = d->wnext;
    /* the kernel gives one wd per inode: remove it only when no other
     * path of ours still uses it */
    bool shared = false;
    for (struct dirw *o = fc->wbuckets[(unsigned)d->wd & (NBUCKETS - 1)]; o; o = o->wnext)
        if (o->wd == d->wd)
            shared = true;
    if (!shared)
        inotify_rm_watch(fc->ifd, d->wd);
    d->wd = -1;
}

static void
dir_put(struct sf_fcache *fc, struct dirw *d)
{
    while (d && --d->refs == 0) {
        struct dirw *parent = d->parent;
        dir_unhash(fc, d);
        dir_unwd(fc, d);
        free(d->rel);
        free(d);
        fc->st.watches--;
        d = parent;
    }
}

/* The folder part of a root-relative path: "a/b" for "a/b/c", "" for "c". */
static void
dirname_of(const char *rel, char out[SF_PATH_MAX + 1])
{
    snprintf(out, SF_PATH_MAX + 1, "%s", rel);
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
    else
        out[0] = '\0';
}

/* The watch of directory rel (site root-relative) and all its ancestors,
 * referenced; NULL when a watch cannot be had. */
static struct dirw *
dir_get(struct sf_fcache *fc, unsigned site, const char *root_path, const char *rel)
{
    if (fc->ifd < 0)
        return NULL;
    uint32_t h = hash_key(site, rel) & (NBUCKETS - 1);
    for (struct dirw *d = fc->dbuckets[h]; d; d = d->hnext) {
        if (d->site == site && strcmp(d->rel, rel) == 0) {
            d->refs++;
            return d;
        }
    }
    struct dirw *parent = NULL;
    if (rel[0]) {
        char up[SF_PATH_MAX + 1];
        dirname_of(rel, up);
        parent = dir_get(fc, site, root_path, up);
        if (!parent)
            return NULL;
    }
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s%s%s", root_path, rel[0] ? "/" : "", rel);
    struct dirw *d = calloc(1, sizeof(*d));
    char *copy = strdup(rel);
    int wd = (n > 0 && (size_t)n < sizeof(path) && d && copy)
                 ? inotify_add_watch(fc->ifd, path, WATCH_MASK)
                 : -1;
    if (wd < 0) {
        if (errno == ENOSPC && fc->st.watches > 0)
            sf_log_msg(fc->log, SF_LOG_DEBUG, "inotify watches exhausted at %zu",
                       fc->st.watches);
        free(d);
        free(copy);
        dir_put(fc, parent);
        return NULL;
    }
    *d = (struct dirw){.wd = wd, .site = site, .rel = copy, .refs = 1, .parent = parent};
    d->hnext = fc->dbuckets[h];
    fc->dbuckets[h] = d;
    d->in_hash = true;
    d->wnext = fc->wbuckets[(unsigned)wd & (NBUCKETS - 1)];
    fc->wbuckets[(unsigned)wd & (NBUCKETS - 1)] = d;
    fc->st.watches++;
    return d;
}

/* ---------------------------------------------------------------- entries */

static void
byfd_set(struct sf_fcache *fc, int fd, struct entry *e)
{
    if ((size_t)fd >= fc->nbyfd) {
        if (!e)
            return;
        size_t n = fc->nbyfd ? fc->nbyfd : 256;
        while (n <= (size_t)fd)
            n *= 2;
        struct entry **p = realloc(fc->byfd, n * sizeof(*p));
        if (!p)
            return; /* the break then finds nothing: the lease times out */
        memset(p + fc->nbyfd, 0, (n - fc->nbyfd) * sizeof(*p));
        fc->byfd = p;
        fc->nbyfd = n;
    }
    fc->byfd[fd] = e;
}

static void
entry_free(struct sf_fcache *fc, struct entry *e)
{
    assert(e->refs == 0 && !e->cached && !e->users);
    if (e->leased) {
        sf_lease_release(e->pub.fd);
        byfd_set(fc, e->pub.fd, NULL);
    }
    close(e->pub.fd);
    free(e->snap);
    dir_put(fc, e->dir);
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

static bool
same_version(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

bool
sf_fcache_unchanged(const struct sf_file *f)
{
    if (f->guard != SF_GUARD_STAT)
        return true;
    struct stat now;
    if (fstat(f->fd, &now) != 0)
        return false;
    if (same_version(&now, &f->st))
        return true;
    /* A rename over the name, or an unlink, only drops a link (and so
     * moves ctime): the bytes we send are the same, which is what a
     * deploy by rename wants. Any other ctime change (a write, truncate,
     * utimes) comes with a size or mtime change, or keeps the links. */
    return now.st_size == f->st.st_size && now.st_mtim.tv_sec == f->st.st_mtim.tv_sec &&
           now.st_mtim.tv_nsec == f->st.st_mtim.tv_nsec && now.st_nlink < f->st.st_nlink;
}

/* Read a small file whole while its lease is held: a true snapshot. */
static void
snapshot(struct entry *e)
{
    size_t size = (size_t)e->pub.st.st_size;
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf)
        return;
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread(e->pub.fd, buf + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got != size) {
        free(buf);
        return;
    }
    e->snap = buf;
    e->pub.mem = buf;
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
    fc->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fc->ifd < 0)
        sf_log_errno(log, SF_LOG_WARN, errno,
                     "inotify unavailable: cached files are revalidated by stat on each request");
    fc->sigfd = -1;
    if (o->guard == SF_GUARD_LEASE) {
        fc->sigfd = sf_lease_open_signalfd();
        if (fc->sigfd < 0) {
            sf_log_errno(log, SF_LOG_WARN, -fc->sigfd, "lease signals unavailable: using stat");
            fc->o.guard = SF_GUARD_STAT;
        }
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
    /* entries still referenced by responses are freed by their last put,
     * which the caller ensures happens before (connections close first) */
    if (fc->ifd >= 0)
        close(fc->ifd);
    if (fc->sigfd >= 0)
        close(fc->sigfd);
    free(fc->byfd);
    free(fc);
}

int
sf_fcache_inotify_fd(const struct sf_fcache *fc)
{
    return fc->ifd;
}

int
sf_fcache_signal_fd(const struct sf_fcache *fc)
{
    return fc->sigfd;
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
    assert(e->refs > 0);
    if (--e->refs == 0)
        entry_free(fc, e);
}

void
sf_fcache_set_type(struct sf_file *f, const char *ctype)
{
    f->ctype = ctype;
}

void
sf_fcache_set_variants(struct sf_file *f, unsigned mask)
{
    f->variants = mask;
    f->variants_known = true;
}

void
sf_fcache_attach(struct sf_fcache *fc, struct sf_file *f, struct sf_file_user *u)
{
    (void)fc;
    struct entry *e = entry_of(f);
    assert(!u->file);
    u->file = f;
    u->prev = NULL;
    u->next = e->users;
    if (e->users)
        e->users->prev = u;
    e->users = u;
    e->refs++;
}

void
sf_fcache_detach(struct sf_fcache *fc, struct sf_file_user *u)
{
    if (!u->file)
        return;
    struct entry *e = entry_of(u->file);
    if (u->prev)
        u->prev->next = u->next;
    else
        e->users = u->next;
    if (u->next)
        u->next->prev = u->prev;
    u->file = NULL;
    u->prev = u->next = NULL;
    sf_fcache_put(fc, &e->pub);
}

static void
evict(struct sf_fcache *fc)
{
    while (fc->nentries > fc->o.max_entries && fc->lru_tail) {
        fc->st.evictions++;
        uncache(fc, fc->lru_tail);
    }
}

struct sf_file *
sf_fcache_get(struct sf_fcache *fc, unsigned site, int rootfd, const char *root_path,
              const char *rel, enum sf_symlinks symlinks, int *err, int *dirfd)
{
    *err = 0;
    *dirfd = -1;
    uint32_t h = hash_key(site, rel);
    struct entry *e = lookup(fc, site, rel, h);
    if (e) {
        bool fresh = true;
        if (!e->dir) {
            /* no watch: the name may point elsewhere now */
            struct stat now;
            fresh = fstatat(rootfd, rel, &now, 0) == 0 && same_version(&now, &e->pub.st);
        }
        if (fresh && e->pub.guard == SF_GUARD_STAT)
            fresh = sf_fcache_unchanged(&e->pub);
        if (fresh) {
            fc->st.hits++;
            lru_unlink(fc, e);
            lru_front(fc, e);
            e->refs++;
            return &e->pub;
        }
        fc->st.invalidations++;
        uncache(fc, e);
    }
    fc->st.misses++;

    /* watch the directories first, so that no change after the open is
     * missed */
    char dir[SF_PATH_MAX + 1];
    dirname_of(rel, dir);
    struct dirw *d = dir_get(fc, site, root_path, dir);

    int fd;
    struct stat st;
    int rc = sf_resolve_open(rootfd, rel, symlinks, &fd, &st);
    if (rc) {
        dir_put(fc, d);
        *err = rc;
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        dir_put(fc, d);
        *dirfd = fd;
        *err = -EISDIR;
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        dir_put(fc, d);
        close(fd);
        *err = -EPERM;
        return NULL;
    }
    e = calloc(1, sizeof(*e));
    char *copy = strdup(rel);
    if (!e || !copy) {
        free(e);
        free(copy);
        dir_put(fc, d);
        close(fd);
        *err = -ENOMEM;
        return NULL;
    }
    e->pub.fd = fd;
    e->pub.guard = fc->o.guard;
    e->site = site;
    e->rel = copy;
    e->hash = h;
    e->dir = d;
    e->rootfd = rootfd;
    if (e->pub.guard == SF_GUARD_LEASE) {
        rc = sf_lease_take(fd);
        if (rc == 0) {
            e->leased = true;
            byfd_set(fc, fd, e);
            /* what we serve is what the lease protects */
            fstat(fd, &st);
        } else {
            e->pub.guard = SF_GUARD_STAT;
            fc->st.stat_fallbacks++;
            sf_log_errno(fc->log, SF_LOG_WARN, rc, "%s: guarded by stat only (no lease)", rel);
        }
    }
    e->pub.st = st;
    e->pub.etag_len = sf_cond_etag(e->pub.etag, sizeof(e->pub.etag),
                                   (unsigned long long)st.st_size, (long long)st.st_mtim.tv_sec,
                                   st.st_mtim.tv_nsec);
    if ((uint64_t)st.st_size <= fc->o.small_file_size &&
        (e->leased || e->pub.guard == SF_GUARD_OFF))
        snapshot(e);
    e->refs = 2; /* the cache's and the caller's */
    e->cached = true;
    e->hnext = fc->buckets[h & (NBUCKETS - 1)];
    fc->buckets[h & (NBUCKETS - 1)] = e;
    lru_front(fc, e);
    fc->nentries++;
    evict(fc);
    return &e->pub;
}

/* ------------------------------------------------------------- events */

static bool
has_suffix(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n > k && memcmp(s + n - k, suf, k) == 0;
}

/* dir (and every watched directory beneath it) was moved or deleted:
 * their watches no longer stand for their paths. A watch kept alive by an
 * in-flight entry must not be found again for a new directory of the same
 * name. */
static void
dir_unhash_prefix(struct sf_fcache *fc, unsigned site, const char *dir)
{
    size_t n = strlen(dir);
    for (size_t b = 0; b < NBUCKETS; b++) {
        for (struct dirw *d = fc->dbuckets[b], *next; d; d = next) {
            next = d->hnext;
            if (d->site == site &&
                (n == 0 || (strncmp(d->rel, dir, n) == 0 && (!d->rel[n] || d->rel[n] == '/'))))
                dir_unhash(fc, d);
        }
    }
}

/* The caller holds a reference on d: dropping entries may drop theirs. */
static void
on_name_event(struct sf_fcache *fc, struct dirw *d, const struct inotify_event *ev)
{
    if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)) {
        invalidate_prefix(fc, d->site, d->rel);
        dir_unhash_prefix(fc, d->site, d->rel);
        return;
    }
    if (!ev->len)
        return;
    char rel[SF_PATH_MAX + 1];
    int n = snprintf(rel, sizeof(rel), "%s%s%s", d->rel, d->rel[0] ? "/" : "", ev->name);
    if (n < 0 || (size_t)n >= sizeof(rel))
        return;
    if (sf_log_enabled(fc->log, SF_LOG_DEBUG))
        sf_log_msg(fc->log, SF_LOG_DEBUG, "inotify: %s changed (mask %#x)", rel, ev->mask);
    invalidate(fc, d->site, rel);
    /* a folder (or a symlink to one) that changed: everything beneath */
    if (ev->mask & (IN_ISDIR | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO))
        invalidate_prefix(fc, d->site, rel);
    /* a sidecar that appeared or changed: its original's variant set */
    static const char *const sfx[] = {".br", ".zst", ".gz"};
    for (size_t i = 0; i < 3; i++) {
        if (has_suffix(rel, (size_t)n, sfx[i])) {
            rel[(size_t)n - strlen(sfx[i])] = '\0';
            invalidate(fc, d->site, rel);
            break;
        }
    }
}

void
sf_fcache_on_inotify(struct sf_fcache *fc)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t len = read(fc->ifd, buf, sizeof(buf));
        if (len < 0 && errno == EINTR)
            continue;
        if (len <= 0)
            return;
        for (char *p = buf; p < buf + len;) {
            const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
            p += sizeof(*ev) + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                sf_log_msg(fc->log, SF_LOG_INFO, "inotify queue overflow: file cache emptied");
                while (fc->lru_head) {
                    fc->st.invalidations++;
                    uncache(fc, fc->lru_head);
                }
                continue;
            }
            /* dropping an entry can free its directory's watch (and the
             * next one in the chain): hold both while we look */
            struct dirw *d = fc->wbuckets[(unsigned)ev->wd & (NBUCKETS - 1)];
            if (d)
                d->refs++;
            while (d) {
                struct dirw *next = d->wnext;
                if (next)
                    next->refs++;
                if (d->wd == ev->wd)
                    on_name_event(fc, d, ev);
                dir_put(fc, d);
                d = next;
            }
        }
    }
}

void
sf_fcache_sync(struct sf_fcache *fc)
{
    if (fc->ifd >= 0)
        sf_fcache_on_inotify(fc);
}

/* Cut the users of e that still send its bytes or still have them
 * unacknowledged in their socket. Returns how many were cut. */
static unsigned
cut_users(struct entry *e)
{
    unsigned cut = 0;
    if (e->pub.mem)
        return 0; /* a snapshot taken under the lease: nothing to protect */
    /* an abort closes a connection, which detaches its user: rescan */
    for (bool again = true; again;) {
        again = false;
        for (struct sf_file_user *u = e->users; u; u = u->next) {
            int queued = 0;
            if (!u->sending && (ioctl(u->sock, SIOCOUTQ, &queued) != 0 || queued == 0))
                continue;
            /* stop looking at this user whatever abort does */
            u->sending = false;
            u->sock = -1;
            sf_file_abort_fn fn = u->abort;
            void *arg = u->arg;
            cut++;
            fn(arg);
            again = true;
            break;
        }
    }
    return cut;
}

static void
lease_broken(struct sf_fcache *fc, struct entry *e)
{
    e->refs++; /* keep e while its users go */
    unsigned cut = cut_users(e);
    /* let the writer go at once */
    sf_lease_release(e->pub.fd);
    byfd_set(fc, e->pub.fd, NULL);
    e->leased = false;
    fc->st.lease_breaks++;
    fc->st.responses_cut += cut;
    /* an edit nobody was downloading is routine; a cut download is not */
    sf_log_msg(fc->log, cut ? SF_LOG_WARN : SF_LOG_INFO,
               "lease broken: %s is being changed: %u response(s) cut", e->rel, cut);
    uncache(fc, e);
    sf_fcache_put(fc, &e->pub);
}

void
sf_fcache_on_signal(struct sf_fcache *fc)
{
    int fds[64];
    bool overflow = false;
    for (;;) {
        int n = sf_lease_read_breaks(fc->sigfd, fds, SF_ARRAY_LEN(fds), &overflow);
        if (n <= 0 && !overflow)
            return;
        for (int i = 0; i < n; i++) {
            int fd = fds[i];
            /* the fd may be stale: act only on a lease we hold that breaks */
            if (fd < 0 || (size_t)fd >= fc->nbyfd || !fc->byfd[fd])
                continue;
            if (sf_lease_breaking(fd))
                lease_broken(fc, fc->byfd[fd]);
        }
        if (overflow) {
            for (size_t fd = 0; fd < fc->nbyfd; fd++)
                if (fc->byfd[fd] && sf_lease_breaking((int)fd))
                    lease_broken(fc, fc->byfd[fd]);
        }
        if (n < (int)SF_ARRAY_LEN(fds) && !overflow)
            return;
        overflow = false;
    }
}

void
sf_fcache_stats(const struct sf_fcache *fc, struct sf_fcache_stats *out)
{
    *out = fc->st;
    out->entries = fc->nentries;
}
