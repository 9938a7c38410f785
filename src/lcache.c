/*
 * lcache.c - the listing cache (see lcache.h for the contract): folders by
 * (site, path) in a hash table and in LRU order, each with its listing,
 * its watch and one memfd holding the pages rendered so far, appended one
 * after another (sealed against shrinking: a page once written stays put
 * while responses send it).
 */
#include "sfhttpd/lcache.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sfhttpd/fwatch.h"
#include "sfhttpd/log.h"
#include "sfhttpd/resolve.h"

#define NBUCKETS 1024 /* power of two */
#define NVIEWS (2 * SF_LISTING_SORTS * 2)

struct folder {
    unsigned site;
    char *rel;
    uint32_t hash;
    struct folder *hnext;
    struct folder *lprev, *lnext; /* LRU, most recent first */
    struct sf_fwatch_dir *watch;
    struct sf_listing *l;
    int memfd;
    uint64_t end; /* bytes written to memfd */
    struct {
        uint64_t off;
        size_t len; /* 0: not rendered yet (no page is empty) */
    } page[NVIEWS];
    size_t bytes; /* l's and memfd's */
};

struct sf_lcache {
    struct sf_lcache_opts o;
    struct sf_fwatch *fw;
    struct sf_log *log;
    struct folder *buckets[NBUCKETS];
    struct folder *head, *tail;
    size_t ndirs, bytes;
    struct sf_lcache_stats st;
};

static uint32_t
key_hash(unsigned site, const char *rel)
{
    return sf_hash_str(SF_HASH_INIT ^ site, rel);
}

static unsigned
view_index(const struct sf_listing_view *v)
{
    unsigned i = ((unsigned)v->fmt * SF_LISTING_SORTS + (unsigned)v->sort) * 2 + v->desc;
    assert(i < NVIEWS);
    return i;
}

static void
lru_unlink(struct sf_lcache *lc, struct folder *f)
{
    if (f->lprev)
        f->lprev->lnext = f->lnext;
    else
        lc->head = f->lnext;
    if (f->lnext)
        f->lnext->lprev = f->lprev;
    else
        lc->tail = f->lprev;
    f->lprev = f->lnext = NULL;
}

static void
lru_front(struct sf_lcache *lc, struct folder *f)
{
    f->lnext = lc->head;
    f->lprev = NULL;
    if (lc->head)
        lc->head->lprev = f;
    lc->head = f;
    if (!lc->tail)
        lc->tail = f;
}

static struct folder *
lookup(struct sf_lcache *lc, unsigned site, const char *rel, uint32_t h)
{
    for (struct folder *f = lc->buckets[h & (NBUCKETS - 1)]; f; f = f->hnext)
        if (f->hash == h && f->site == site && strcmp(f->rel, rel) == 0)
            return f;
    return NULL;
}

static void
drop(struct sf_lcache *lc, struct folder *f)
{
    struct folder **pp = &lc->buckets[f->hash & (NBUCKETS - 1)];
    while (*pp != f)
        pp = &(*pp)->hnext;
    *pp = f->hnext;
    lru_unlink(lc, f);
    lc->ndirs--;
    lc->bytes -= f->bytes;
    /* responses still sending a page hold their own dup of memfd */
    close(f->memfd);
    sf_listing_free(f->l);
    sf_fwatch_put(lc->fw, f->watch);
    free(f->rel);
    free(f);
}

/* Evict the least recently used beyond the bounds. */
static void
trim(struct sf_lcache *lc)
{
    while (lc->tail && (lc->bytes > lc->o.max_bytes || lc->ndirs > lc->o.max_dirs)) {
        lc->st.evictions++;
        drop(lc, lc->tail);
    }
}

/* ------------------------------------------------------------ changes */

static void
drop_changed(struct sf_lcache *lc, struct folder *f)
{
    lc->st.drops++;
    drop(lc, f);
}

/* fwatch: the name rel changed (its folder's listing shows it), or
 * everything beneath rel did. */
static void
on_change(void *arg, unsigned site, const char *rel, unsigned what)
{
    struct sf_lcache *lc = arg;
    if (what & SF_FWATCH_ALL) {
        while (lc->head)
            drop_changed(lc, lc->head);
        return;
    }
    if (what & SF_FWATCH_NAME) {
        char dir[SF_PATH_MAX + 1];
        sf_resolve_dirname(rel, dir);
        struct folder *f = lookup(lc, site, dir, key_hash(site, dir));
        if (f)
            drop_changed(lc, f);
    }
    if (what & SF_FWATCH_BENEATH) {
        size_t n = strlen(rel);
        for (struct folder *f = lc->head, *next; f; f = next) {
            next = f->lnext;
            if (f->site == site &&
                (n == 0 || (strncmp(f->rel, rel, n) == 0 && (!f->rel[n] || f->rel[n] == '/'))))
                drop_changed(lc, f);
        }
    }
}

/* ------------------------------------------------------------ serving */

/* The page [off, off + len) of f's memfd, for the caller to send. */
static int
serve_kept(struct folder *f, unsigned v, struct sf_lcache_body *out)
{
    int fd = fcntl(f->memfd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    out->fd = fd;
    out->off = f->page[v].off;
    out->len = f->page[v].len;
    out->truncated = sf_listing_truncated(f->l);
    return 0;
}

/* Keep the page p (len bytes) as f's view v, within the bounds. */
static void
keep(struct sf_lcache *lc, struct folder *f, unsigned v, const char *p, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(f->memfd, p + done, len - done, (off_t)(f->end + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* out of room: forget the partial page, keep the rest */
            sf_log_errno(lc->log, SF_LOG_DEBUG, n < 0 ? errno : ENOSPC,
                         "listing cache: cannot keep a page of %zu bytes", len);
            return;
        }
        done += (size_t)n;
    }
    f->page[v].off = f->end;
    f->page[v].len = len;
    f->end += len;
    f->bytes += len;
    lc->bytes += len;
    trim(lc); /* f is the most recent: others go first */
}

/* Read and render for this response only. */
static int
uncached(struct sf_lcache *lc, const struct sf_lcache_req *q, struct sf_buf *buf,
         struct sf_lcache_body *out)
{
    struct sf_listing *l;
    int rc = sf_listing_read(q->dirfd, &q->opts, &l);
    if (rc)
        return rc;
    if (lc) {
        lc->st.reads++;
        lc->st.uncached++;
    }
    size_t start = buf->len;
    rc = sf_listing_render(l, q->url_path, &q->view, buf);
    out->fd = -1;
    out->off = 0;
    out->len = buf->len - start;
    out->truncated = sf_listing_truncated(l);
    sf_listing_free(l);
    return rc;
}

/* The watch stands for the folder that is open: the path the watch was
 * placed on names the same directory as dirfd (it could have been
 * replaced between the open and the watch). */
static bool
watch_is_dirfd(const struct sf_lcache_req *q)
{
    char path[PATH_MAX];
    const char *rel = q->opts.rel;
    int n = snprintf(path, sizeof(path), "%s%s%s", q->root_path, rel[0] ? "/" : "", rel);
    struct stat a, b;
    return n > 0 && (size_t)n < sizeof(path) && stat(path, &a) == 0 && fstat(q->dirfd, &b) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* A new entry for the folder q names, watched before it is read. NULL
 * when it cannot be kept (*rc 0) or cannot be read (*rc -errno). */
static struct folder *
folder_new(struct sf_lcache *lc, const struct sf_lcache_req *q, uint32_t h, int *rc)
{
    *rc = 0;
    struct sf_fwatch_dir *w = sf_fwatch_get_dir(lc->fw, q->site, q->root_path, q->opts.rel);
    if (!w || !watch_is_dirfd(q)) {
        sf_fwatch_put(lc->fw, w);
        return NULL;
    }
    struct folder *f = calloc(1, sizeof(*f));
    char *rel = f ? strdup(q->opts.rel) : NULL;
    int memfd = rel ? memfd_create("sfhttpd-listing", MFD_CLOEXEC | MFD_ALLOW_SEALING) : -1;
    if (memfd < 0) {
        free(rel);
        free(f);
        sf_fwatch_put(lc->fw, w);
        return NULL;
    }
    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_SEAL);
    struct sf_listing *l;
    *rc = sf_listing_read(q->dirfd, &q->opts, &l);
    if (*rc) {
        close(memfd);
        free(rel);
        free(f);
        sf_fwatch_put(lc->fw, w);
        return NULL;
    }
    lc->st.reads++;
    *f = (struct folder){.site = q->site,
                         .rel = rel,
                         .hash = h,
                         .watch = w,
                         .l = l,
                         .memfd = memfd,
                         .bytes = sf_listing_bytes(l)};
    f->hnext = lc->buckets[h & (NBUCKETS - 1)];
    lc->buckets[h & (NBUCKETS - 1)] = f;
    lru_front(lc, f);
    lc->ndirs++;
    lc->bytes += f->bytes;
    return f;
}

int
sf_lcache_get(struct sf_lcache *lc, const struct sf_lcache_req *q, struct sf_buf *buf,
              struct sf_lcache_body *out)
{
    assert(q && q->opts.rel && buf && out);
    if (!lc || lc->o.max_bytes == 0 || lc->o.max_dirs == 0)
        return uncached(lc, q, buf, out);
    unsigned v = view_index(&q->view);
    uint32_t h = key_hash(q->site, q->opts.rel);
    struct folder *f = lookup(lc, q->site, q->opts.rel, h);
    if (f && !sf_listing_current(f->l, q->dirfd, &q->opts)) {
        drop_changed(lc, f);
        f = NULL;
    }
    if (f) {
        lru_unlink(lc, f);
        lru_front(lc, f);
        if (f->page[v].len && serve_kept(f, v, out) == 0) {
            lc->st.hits++;
            return 0;
        }
        lc->st.renders++;
    } else {
        int rc;
        f = folder_new(lc, q, h, &rc);
        if (rc)
            return rc;
        if (!f)
            return uncached(lc, q, buf, out);
    }
    /* this response sends the page from buf; later ones from the memfd */
    size_t start = buf->len;
    int rc = sf_listing_render(f->l, q->url_path, &q->view, buf);
    if (rc)
        return rc;
    out->fd = -1;
    out->off = 0;
    out->len = buf->len - start;
    out->truncated = sf_listing_truncated(f->l);
    if (!f->page[v].len)
        keep(lc, f, v, buf->data + start, out->len);
    return 0;
}

/* ---------------------------------------------------------------- API */

struct sf_lcache *
sf_lcache_new(const struct sf_lcache_opts *o, struct sf_fwatch *fw, struct sf_log *log)
{
    struct sf_lcache *lc = calloc(1, sizeof(*lc));
    if (!lc)
        return NULL;
    lc->o = *o;
    lc->fw = fw;
    lc->log = log;
    if (sf_fwatch_listen(fw, on_change, lc) != 0) {
        free(lc);
        return NULL;
    }
    return lc;
}

void
sf_lcache_free(struct sf_lcache *lc)
{
    if (!lc)
        return;
    while (lc->head)
        drop(lc, lc->head);
    sf_fwatch_unlisten(lc->fw, on_change, lc);
    free(lc);
}

void
sf_lcache_stats(const struct sf_lcache *lc, struct sf_lcache_stats *out)
{
    *out = lc->st;
    out->dirs = lc->ndirs;
    out->bytes = lc->bytes;
}
