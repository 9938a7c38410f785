/*
 * fcache_int.h - the open-file cache's records, shared by its two files:
 * fcache.c (the table, lookups, guards, snapshots, what fwatch and
 * lbreak report) and fcache_etag.c (each entry's ETags: from size and
 * mtime, or from the bytes, hashed at once or by the helper thread).
 * Not a public header: the cache's face is fcache.h.
 */
#ifndef SFHTTPD_FCACHE_INT_H
#define SFHTTPD_FCACHE_INT_H

#include "sfhttpd/fcache.h"
#include "sfhttpd/hasher.h"

#define NBUCKETS 16384 /* power of two */

struct entry {
    struct sf_file pub; /* first: users see only this */
    struct sf_fcache *fc;
    unsigned site;
    char *rel;
    uint32_t hash;
    struct entry *hnext;
    struct entry *lprev, *lnext; /* LRU, most recent first */
    unsigned refs;
    bool cached;
    bool content;              /* its site has etag = content */
    struct sf_fwatch_dir *dir; /* NULL when unwatched: revalidate on each hit */
    struct sf_lbreak_file lb;  /* its lease (lb.fd) and users */
    unsigned char *snap;       /* pub.mem, owned */
    size_t snap_len;           /* its bytes, counted in the budget */
    struct sf_hasher_job *job; /* with the hasher, holding a reference on
                                  the entry (NULL: none); freed when reported */
    /* its wire image (fimage.c): a sealed memfd of img_hlen head bytes
     * (a copy in img_head) then the whole snapshot; img_fd -1: none */
    int img_fd;
    size_t img_hlen;
    char *img_head;
    int64_t img_sec;             /* the second of its last making */
    unsigned img_made;           /* images made in that second (two at most) */
    unsigned img_asks;           /* images asked for, ever (counted to two) */
    struct entry *iprev, *inext; /* entries with an image, oldest first */
};

struct sf_fcache {
    struct sf_fcache_opts o;
    struct sf_log *log;
    struct sf_fwatch *fw;
    struct sf_lbreak *lb;     /* NULL unless the guard is the lease */
    struct sf_hasher *hasher; /* NULL unless a site has etag = content */
    struct entry *buckets[NBUCKETS];
    struct entry *lru_head, *lru_tail;
    size_t nentries;
    size_t snap_bytes; /* held by snapshots and images: small_file_budget */
    size_t nimages;    /* descriptors held by images: within max_entries */
    struct entry *img_oldest, *img_newest;
    struct sf_fcache_stats st;
};

/* e's ETags, once its bytes are guarded (and a small file snapshot): the
 * mtime ETag; for a content site the content ETag from the attribute, or
 * hashed now (a snapshot), or later by the hasher thread (which then
 * holds a reference on e). */
void fcache_etag_set(struct sf_fcache *fc, struct entry *e);
/* e left the cache: its hash, if still coming, is not wanted. */
void fcache_etag_forget(struct sf_fcache *fc, struct entry *e);
/* The hasher's report (sf_hasher_fn; arg is the cache). */
void fcache_etag_on_hashed(void *arg, struct sf_hasher_job *j);

/* Close e's wire image, if it has one (fimage.c). */
void fimage_drop(struct sf_fcache *fc, struct entry *e);
/* Close the oldest image; false when there is none. */
bool fimage_drop_oldest(struct sf_fcache *fc);
/* Take the least recently used file other than keep out of the cache
 * (an eviction); false when there is none. */
bool fcache_evict_lru(struct sf_fcache *fc, const struct entry *keep);

#endif
