/*
 * fneg.c - missing names remembered for the open-file cache (see fneg.h):
 * a hash table by (site, path) in LRU order, each entry holding the watch
 * of its folder, dropped by what fwatch reports.
 */
#include "sfhttpd/fneg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sfhttpd/common.h"
#include "sfhttpd/fcache.h"
#include "sfhttpd/fwatch.h"

#define NBUCKETS 4096 /* power of two */

struct neg {
    unsigned site;
    uint32_t hash;
    int err; /* -ENOENT */
    char *rel;
    struct sf_fwatch_dir *dir; /* the folder's watch, referenced */
    struct neg *hnext;
    struct neg *lprev, *lnext; /* most recent first */
};

struct sf_fneg {
    struct sf_fwatch *fw;
    size_t max, count;
    struct neg *buckets[NBUCKETS];
    struct neg *head, *tail;
    uint64_t hits;
};

static uint32_t
hash_key(unsigned site, const char *rel)
{
    return sf_hash_str(SF_HASH_INIT ^ site, rel);
}

static void
lru_unlink(struct sf_fneg *n, struct neg *e)
{
    if (e->lprev)
        e->lprev->lnext = e->lnext;
    else
        n->head = e->lnext;
    if (e->lnext)
        e->lnext->lprev = e->lprev;
    else
        n->tail = e->lprev;
    e->lprev = e->lnext = NULL;
}

static void
lru_front(struct sf_fneg *n, struct neg *e)
{
    e->lnext = n->head;
    e->lprev = NULL;
    if (n->head)
        n->head->lprev = e;
    n->head = e;
    if (!n->tail)
        n->tail = e;
}

static void
drop(struct sf_fneg *n, struct neg *e)
{
    struct neg **pp = &n->buckets[e->hash & (NBUCKETS - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(n, e);
    n->count--;
    sf_fwatch_put(n->fw, e->dir);
    free(e->rel);
    free(e);
}

static struct neg *
lookup(struct sf_fneg *n, unsigned site, const char *rel, uint32_t h)
{
    for (struct neg *e = n->buckets[h & (NBUCKETS - 1)]; e; e = e->hnext)
        if (e->hash == h && e->site == site && strcmp(e->rel, rel) == 0)
            return e;
    return NULL;
}

/* fwatch: names changed. */
static void
on_change(void *arg, unsigned site, const char *rel, unsigned what)
{
    struct sf_fneg *n = arg;
    if (what & SF_FWATCH_ALL) {
        while (n->head)
            drop(n, n->head);
        return;
    }
    if (what & SF_FWATCH_NAME) {
        struct neg *e = lookup(n, site, rel, hash_key(site, rel));
        if (e)
            drop(n, e);
    }
    if (what & SF_FWATCH_BENEATH) {
        size_t len = strlen(rel);
        for (struct neg *e = n->head, *next; e; e = next) {
            next = e->lnext;
            if (e->site == site &&
                (len == 0 || (strncmp(e->rel, rel, len) == 0 && e->rel[len] == '/')))
                drop(n, e);
        }
    }
}

/* Remember rel as missing: its folder watched first, then the name
 * checked again, so that a creation between the failed open and the
 * watch is not missed. The name itself, not a link's target: a link to
 * a missing file elsewhere is not remembered (its target's folder is not
 * the one watched). */
static void
remember(struct sf_fneg *n, unsigned site, int rootfd, const char *root_path, const char *rel,
         int err, uint32_t h)
{
    struct sf_fwatch_dir *d = sf_fwatch_get(n->fw, site, root_path, rel);
    struct stat st;
    struct neg *e = NULL;
    char *copy = NULL;
    if (!d || fstatat(rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 || (errno != ENOENT) ||
        !(e = malloc(sizeof(*e))) || !(copy = strdup(rel))) {
        free(e);
        sf_fwatch_put(n->fw, d);
        return;
    }
    *e = (struct neg){.site = site, .hash = h, .err = err, .rel = copy, .dir = d};
    e->hnext = n->buckets[h & (NBUCKETS - 1)];
    n->buckets[h & (NBUCKETS - 1)] = e;
    lru_front(n, e);
    n->count++;
    while (n->count > n->max && n->tail)
        drop(n, n->tail);
}

struct sf_file *
sf_fneg_get(struct sf_fneg *n, struct sf_fcache *fc, unsigned site, int rootfd,
            const char *root_path, const char *rel, unsigned how, int *err, int *dirfd)
{
    if (!n)
        return sf_fcache_get(fc, site, rootfd, root_path, rel, how, err, dirfd);
    /* most requests find no entry to look at: no hash for them */
    struct neg *e = n->count ? lookup(n, site, rel, hash_key(site, rel)) : NULL;
    if (e) {
        n->hits++;
        lru_unlink(n, e);
        lru_front(n, e);
        *err = e->err;
        *dirfd = -1;
        return NULL;
    }
    struct sf_file *f = sf_fcache_get(fc, site, rootfd, root_path, rel, how, err, dirfd);
    if (!f && *err == -ENOENT && n->max > 0)
        remember(n, site, rootfd, root_path, rel, *err, hash_key(site, rel));
    return f;
}

struct sf_fneg *
sf_fneg_new(struct sf_fwatch *fw, size_t max)
{
    struct sf_fneg *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->fw = fw;
    n->max = max;
    if (sf_fwatch_listen(fw, on_change, n) != 0) {
        free(n);
        return NULL;
    }
    return n;
}

void
sf_fneg_free(struct sf_fneg *n)
{
    if (!n)
        return;
    while (n->head)
        drop(n, n->head);
    sf_fwatch_unlisten(n->fw, on_change, n);
    free(n);
}

void
sf_fneg_stats(const struct sf_fneg *n, struct sf_fneg_stats *out)
{
    *out = (struct sf_fneg_stats){0};
    if (n) {
        out->hits = n->hits;
        out->entries = n->count;
    }
}
