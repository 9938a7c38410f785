/*
 * fwatch.c - the inotify watch tree (see fwatch.h for the contract).
 *
 * One struct dirw per watched directory, found by (site, path) for
 * sf_fwatch_get and by watch descriptor for events. Each holds a
 * reference on its parent, so a file's watch keeps the whole chain up to
 * the root alive. The kernel gives one watch descriptor per inode: two
 * paths of ours naming one directory (a symlinked folder) share it, and
 * it is removed only when neither uses it any more.
 */
#include "sfhttpd/fwatch.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "sfhttpd/common.h"
#include "sfhttpd/log.h"
#include "sfhttpd/resolve.h"

#define NBUCKETS 16384 /* power of two */
#define WATCH_MASK                                                                                 \
    (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY |            \
     IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_EXCL_UNLINK | IN_ONLYDIR)

struct dirw {
    int wd; /* -1 once the kernel dropped or moved it */
    unsigned site;
    char *rel;     /* "" for the root, else "a/b" */
    unsigned refs; /* files in it + subdirectories watched */
    struct dirw *parent;
    struct dirw *hnext; /* by (site, rel), while alive */
    struct dirw *wnext; /* by wd */
    bool in_hash;
};

#define MAX_OWNERS 3 /* the file cache, the listing cache, missing names */

struct sf_fwatch {
    int ifd; /* inotify, -1 when unavailable */
    struct sf_log *log;
    struct {
        sf_fwatch_fn changed;
        void *arg;
    } owners[MAX_OWNERS];
    size_t nowners;
    size_t count;
    struct dirw *dbuckets[NBUCKETS];
    struct dirw *wbuckets[NBUCKETS];
};

/* The public name of a watch is the opaque struct sf_fwatch_dir. */
static inline struct dirw *
dirw_of(struct sf_fwatch_dir *d)
{
    return (struct dirw *)(void *)d;
}

static uint32_t
dir_hash(unsigned site, const char *rel)
{
    return sf_hash_str(SF_HASH_INIT ^ site, rel) & (NBUCKETS - 1);
}

static void
dir_unhash(struct sf_fwatch *w, struct dirw *d)
{
    if (!d->in_hash)
        return;
    struct dirw **pp = &w->dbuckets[dir_hash(d->site, d->rel)];
    while (*pp != d)
        pp = &(*pp)->hnext;
    *pp = d->hnext;
    d->in_hash = false;
}

static void
dir_unwd(struct sf_fwatch *w, struct dirw *d)
{
    if (d->wd < 0)
        return;
    struct dirw **pp = &w->wbuckets[(unsigned)d->wd & (NBUCKETS - 1)];
    while (*pp && *pp != d)
        pp = &(*pp)->wnext;
    if (*pp)
        *pp = d->wnext;
    /* the kernel gives one wd per inode: remove it only when no other
     * path of ours still uses it */
    bool shared = false;
    for (struct dirw *o = w->wbuckets[(unsigned)d->wd & (NBUCKETS - 1)]; o; o = o->wnext)
        if (o->wd == d->wd)
            shared = true;
    if (!shared)
        inotify_rm_watch(w->ifd, d->wd);
    d->wd = -1;
}

static void
dir_put(struct sf_fwatch *w, struct dirw *d)
{
    while (d && --d->refs == 0) {
        struct dirw *parent = d->parent;
        dir_unhash(w, d);
        dir_unwd(w, d);
        free(d->rel);
        free(d);
        w->count--;
        d = parent;
    }
}

static struct dirw *
dir_find(struct sf_fwatch *w, unsigned site, const char *rel)
{
    for (struct dirw *d = w->dbuckets[dir_hash(site, rel)]; d; d = d->hnext)
        if (d->site == site && strcmp(d->rel, rel) == 0)
            return d;
    return NULL;
}

/* The watch of directory rel (site root-relative) and all its ancestors,
 * referenced; NULL when a watch cannot be had. */
static struct dirw *
dir_get(struct sf_fwatch *w, unsigned site, const char *root_path, const char *rel)
{
    if (w->ifd < 0)
        return NULL;
    uint32_t h = dir_hash(site, rel);
    struct dirw *found = dir_find(w, site, rel);
    if (found) {
        found->refs++;
        return found;
    }
    struct dirw *parent = NULL;
    if (rel[0]) {
        char up[SF_PATH_MAX + 1];
        sf_resolve_dirname(rel, up);
        parent = dir_get(w, site, root_path, up);
        if (!parent)
            return NULL;
    }
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s%s%s", root_path, rel[0] ? "/" : "", rel);
    struct dirw *d = calloc(1, sizeof(*d));
    char *copy = strdup(rel);
    int wd = (n > 0 && (size_t)n < sizeof(path) && d && copy)
                 ? inotify_add_watch(w->ifd, path, WATCH_MASK)
                 : -1;
    if (wd < 0) {
        if (errno == ENOSPC && w->count > 0)
            sf_log_msg(w->log, SF_LOG_DEBUG, "inotify watches exhausted at %zu", w->count);
        free(d);
        free(copy);
        dir_put(w, parent);
        return NULL;
    }
    *d = (struct dirw){.wd = wd, .site = site, .rel = copy, .refs = 1, .parent = parent};
    d->hnext = w->dbuckets[h];
    w->dbuckets[h] = d;
    d->in_hash = true;
    d->wnext = w->wbuckets[(unsigned)wd & (NBUCKETS - 1)];
    w->wbuckets[(unsigned)wd & (NBUCKETS - 1)] = d;
    w->count++;
    return d;
}

/* dir (and every watched directory beneath it) was moved or deleted, or
 * its name now leads elsewhere (a folder symlink swapped by rename):
 * their watches no longer stand for their paths. A watch kept alive by an
 * in-flight file must not be found again for a new directory of the same
 * name, nor report under that name (on_event ignores it). A hashed watch
 * always has a hashed parent, so without a watch of dir itself there is
 * none beneath it either: a file created or deleted costs no scan. */
static void
dir_unhash_prefix(struct sf_fwatch *w, unsigned site, const char *dir)
{
    size_t n = strlen(dir);
    if (!dir_find(w, site, dir))
        return;
    for (size_t b = 0; b < NBUCKETS; b++) {
        for (struct dirw *d = w->dbuckets[b], *next; d; d = next) {
            next = d->hnext;
            if (d->site == site &&
                (n == 0 || (strncmp(d->rel, dir, n) == 0 && (!d->rel[n] || d->rel[n] == '/'))))
                dir_unhash(w, d);
        }
    }
}

/* Tell every owner. */
static void
tell(struct sf_fwatch *w, unsigned site, const char *rel, unsigned what)
{
    for (size_t i = 0; i < w->nowners; i++)
        w->owners[i].changed(w->owners[i].arg, site, rel, what);
}

/* One event on the watch d. The caller holds a reference on d: the
 * owner's reaction may drop the references of its files. */
static void
on_event(struct sf_fwatch *w, struct dirw *d, const struct inotify_event *ev)
{
    if (!d->in_hash)
        return; /* no longer stands for its path (dir_unhash_prefix) */
    if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)) {
        tell(w, d->site, d->rel, SF_FWATCH_BENEATH);
        dir_unhash_prefix(w, d->site, d->rel);
        return;
    }
    if (!ev->len)
        return;
    char rel[SF_PATH_MAX + 1];
    int n = snprintf(rel, sizeof(rel), "%s%s%s", d->rel, d->rel[0] ? "/" : "", ev->name);
    if (n < 0 || (size_t)n >= sizeof(rel))
        return;
    if (sf_log_enabled(w->log, SF_LOG_DEBUG))
        sf_log_msg(w->log, SF_LOG_DEBUG, "inotify: %s changed (mask %#x)", rel, ev->mask);
    unsigned what = SF_FWATCH_NAME;
    /* a folder (or a symlink to one) that changed: everything beneath */
    if (ev->mask & (IN_ISDIR | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO))
        what |= SF_FWATCH_BENEATH;
    tell(w, d->site, rel, what);
    /* the name now leads to another folder, or nowhere: so do the watches
     * found by the paths beneath it */
    if (ev->mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO))
        dir_unhash_prefix(w, d->site, rel);
}

/* ------------------------------------------------------------------ API */

struct sf_fwatch *
sf_fwatch_new(struct sf_log *log, sf_fwatch_fn changed, void *arg)
{
    struct sf_fwatch *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->log = log;
    w->owners[0].changed = changed;
    w->owners[0].arg = arg;
    w->nowners = 1;
    w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->ifd < 0)
        sf_log_errno(log, SF_LOG_WARN, errno,
                     "inotify unavailable: cached files are revalidated by stat on each request");
    return w;
}

void
sf_fwatch_free(struct sf_fwatch *w)
{
    if (!w)
        return;
    if (w->ifd >= 0)
        close(w->ifd);
    free(w);
}

int
sf_fwatch_fd(const struct sf_fwatch *w)
{
    return w->ifd;
}

struct sf_fwatch_dir *
sf_fwatch_get(struct sf_fwatch *w, unsigned site, const char *root_path, const char *rel)
{
    char dir[SF_PATH_MAX + 1];
    sf_resolve_dirname(rel, dir);
    return (struct sf_fwatch_dir *)(void *)dir_get(w, site, root_path, dir);
}

int
sf_fwatch_listen(struct sf_fwatch *w, sf_fwatch_fn changed, void *arg)
{
    if (w->nowners == MAX_OWNERS)
        return -ENOSPC;
    w->owners[w->nowners].changed = changed;
    w->owners[w->nowners].arg = arg;
    w->nowners++;
    return 0;
}

void
sf_fwatch_unlisten(struct sf_fwatch *w, sf_fwatch_fn changed, void *arg)
{
    for (size_t i = 1; i < w->nowners; i++) {
        if (w->owners[i].changed == changed && w->owners[i].arg == arg) {
            memmove(&w->owners[i], &w->owners[i + 1], (w->nowners - i - 1) * sizeof(w->owners[0]));
            w->nowners--;
            return;
        }
    }
}

struct sf_fwatch_dir *
sf_fwatch_get_dir(struct sf_fwatch *w, unsigned site, const char *root_path, const char *dir)
{
    return (struct sf_fwatch_dir *)(void *)dir_get(w, site, root_path, dir);
}

void
sf_fwatch_put(struct sf_fwatch *w, struct sf_fwatch_dir *d)
{
    dir_put(w, d ? dirw_of(d) : NULL);
}

void
sf_fwatch_read(struct sf_fwatch *w)
{
    if (w->ifd < 0)
        return;
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t len = read(w->ifd, buf, sizeof(buf));
        if (len < 0 && errno == EINTR)
            continue;
        if (len <= 0)
            return;
        for (char *p = buf; p < buf + len;) {
            const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
            p += sizeof(*ev) + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                tell(w, 0, "", SF_FWATCH_ALL);
                continue;
            }
            /* the owner's reaction can free this watch (and the next one
             * in the chain): hold both while we look */
            struct dirw *d = w->wbuckets[(unsigned)ev->wd & (NBUCKETS - 1)];
            if (d)
                d->refs++;
            while (d) {
                struct dirw *next = d->wnext;
                if (next)
                    next->refs++;
                if (d->wd == ev->wd)
                    on_event(w, d, ev);
                dir_put(w, d);
                d = next;
            }
        }
    }
}

size_t
sf_fwatch_count(const struct sf_fwatch *w)
{
    return w->count;
}
