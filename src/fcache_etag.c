/*
 * fcache_etag.c - the open-file cache's ETags (fcache_int.h): the ETag
 * from size and mtime for every entry, and for a site with etag =
 * content the strong ETag of the bytes themselves (etag.h), computed
 * once per cached version: read from the file's attribute, hashed at
 * once from a small file's snapshot, or hashed by the worker's helper
 * thread (hasher.h) while the entry keeps the mtime ETag.
 *
 * A hash counts only for the version it was made from. With a lease the
 * bytes cannot change while it is held (a writer waits in open()), and a
 * break uncaches the entry, which cancels its hash; without one, the
 * file's stat after hashing must equal the stat the entry was opened
 * with. Both ETags stay valid for the entry's version: the content ETag
 * is sent, the mtime ETag kept as etag_alt, so a client that got the
 * mtime ETag before the hash was in still matches.
 */
#include "fcache_int.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sfhttpd/cond.h"
#include "sfhttpd/etag.h"
#include "sfhttpd/fversion.h"
#include "sfhttpd/log.h"

_Static_assert(SF_ETAG_CONTENT_LEN < sizeof(((struct sf_file *)0)->etag), "etag[] too small");

/* Send the content ETag of h; the mtime ETag becomes the alternative. */
static void
use(struct entry *e, const struct sf_etag_hash *h)
{
    struct sf_file *f = &e->pub;
    memcpy(f->etag_alt, f->etag, f->etag_len + 1);
    f->etag_alt_len = f->etag_len;
    f->etag_len = sf_etag_format(f->etag, sizeof(f->etag), h);
}

/* Keep h in the file's attribute, from a worker that holds the lease
 * (the hash is then surely of this version, and no other worker's
 * stat-guarded send can be looking at this file's ctime, which the
 * write moves). Never without one: the moved ctime would cut every
 * stat-guarded send of the file in flight, ours included (it_etag
 * t_stat_guard_stores_nothing), and a re-stat before the write cannot
 * close that. Where it cannot be written, it is simply not. */
static void
store(struct sf_fcache *fc, struct entry *e, const struct sf_etag_hash *h)
{
    if (e->lb.fd < 0)
        return;
    int rc = sf_etag_xattr_set(e->pub.fd, &e->pub.st, h);
    if (rc == 0)
        fc->st.hash_stored++;
    else if (!sf_etag_xattr_unwritable(rc))
        sf_log_errno(fc->log, SF_LOG_INFO, rc, "%s: cannot store its ETag", e->rel);
}

void
fcache_etag_set(struct sf_fcache *fc, struct entry *e)
{
    struct sf_file *f = &e->pub;
    const struct stat *st = &f->st;
    f->etag_len = sf_cond_etag(f->etag, sizeof(f->etag), (unsigned long long)st->st_size,
                               (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
    f->etag_alt_len = 0;
    if (!e->content)
        return;
    struct sf_etag_hash h;
    int rc = sf_etag_xattr_get(f->fd, st, &h);
    if (rc == 0) {
        fc->st.hash_reused++;
        use(e, &h);
        return;
    }
    if (f->mem) {
        /* the very bytes that will be sent */
        sf_etag_hash_mem(f->mem, (size_t)st->st_size, &h);
        fc->st.hashed++;
        use(e, &h);
        if (rc == -ENODATA)
            store(fc, e, &h);
        return;
    }
    /* once per file version, not per request: a job of its own keeps
     * the entries of files that are not hashed small */
    e->job = fc->hasher ? malloc(sizeof(*e->job)) : NULL;
    if (!e->job)
        return; /* the mtime ETag serves */
    *e->job = (struct sf_hasher_job){.fd = f->fd, .size = (uint64_t)st->st_size, .arg = e};
    e->refs++; /* the job's, put when it is reported */
    sf_hasher_submit(fc->hasher, e->job);
}

void
fcache_etag_forget(struct sf_fcache *fc, struct entry *e)
{
    if (e->job)
        sf_hasher_cancel(fc->hasher, e->job);
}

/* The job's bytes are the entry's version: under the lease, the same
 * size and mtime (sanity: nothing could write); without, the very same
 * stat as when the entry was opened. */
static bool
same_version(const struct entry *e, const struct stat *after)
{
    const struct stat *st = &e->pub.st;
    return e->lb.fd >= 0 ? sf_fversion_same_stamp(st, after) : sf_fversion_same(st, after);
}

void
fcache_etag_on_hashed(void *arg, struct sf_hasher_job *j)
{
    struct sf_fcache *fc = arg;
    struct entry *e = j->arg;
    assert(e->job == j && e->fc == fc);
    e->job = NULL;
    if (j->rc == 0 && e->cached && same_version(e, &j->after)) {
        fc->st.hashed++;
        use(e, &j->hash);
        store(fc, e, &j->hash);
    } else if (j->rc != 0 && j->rc != -ECANCELED && e->cached) {
        sf_log_errno(fc->log, SF_LOG_INFO, j->rc, "%s: not hashed: mtime ETag", e->rel);
    }
    free(j);
    sf_fcache_put(fc, &e->pub);
}
