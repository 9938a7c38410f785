/*
 * hasher.h - a worker's helper thread that hashes files (etag.h) off the
 * event loop: a queue of jobs, one thread, and an eventfd that wakes the
 * loop when results are ready. Everything else stays on the worker's
 * thread: it submits, cancels, and is told of each job, once, from
 * sf_hasher_on_ready (or sf_hasher_free).
 *
 * A job is the submitter's memory and names an fd that must stay open
 * until the job is reported. The thread only
 * reads the file (pread, then fstat); it takes no lease and blocks every
 * signal, so lease breaks and the worker's signals reach the worker's
 * thread alone.
 */
#ifndef SFHTTPD_HASHER_H
#define SFHTTPD_HASHER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "sfhttpd/etag.h"

struct sf_hasher;

struct sf_hasher_job {
    /* set by the submitter */
    int fd;
    uint64_t size; /* hash this many bytes from offset 0 */
    void *arg;     /* the submitter's, untouched */
    /* the result, to read when the job is reported */
    int rc;                   /* 0, -ECANCELED, or sf_etag_hash_fd's and
                                 fstat's -errno */
    struct sf_etag_hash hash; /* when rc == 0 */
    struct stat after;        /* fstat once hashed (rc == 0): the caller
                                 compares it with the stat it had before */
    /* the hasher's */
    struct sf_hasher_job *next, *prev;
    atomic_bool stop;
    bool queued; /* waiting for the thread */
};

/* Told of a finished, failed or cancelled job, on the worker's thread. */
typedef void (*sf_hasher_fn)(void *arg, struct sf_hasher_job *j);

/* A hasher with its thread (all signals blocked in it) and its eventfd.
 * NULL with *err = -errno when either cannot be had. */
struct sf_hasher *sf_hasher_new(sf_hasher_fn done, void *arg, int *err);
/* Stop the thread (a job in progress is abandoned) and report every job
 * not reported yet (unfinished ones with rc -ECANCELED), then free.
 * NULL-safe. */
void sf_hasher_free(struct sf_hasher *h);

/* The eventfd to poll for EV_READ. */
int sf_hasher_fd(const struct sf_hasher *h);

/* Queue j (fd and size set; not queued already). Never fails: the job's
 * memory is the caller's. */
void sf_hasher_submit(struct sf_hasher *h, struct sf_hasher_job *j);

/* Give up on j (its file changed): a queued job leaves the queue at once,
 * one being hashed stops at its next read. It is still reported, with rc
 * -ECANCELED unless it had already finished. */
void sf_hasher_cancel(struct sf_hasher *h, struct sf_hasher_job *j);

/* Report every job finished so far (on EV_READ of the fd). */
void sf_hasher_on_ready(struct sf_hasher *h);

struct sf_hasher_stats {
    uint64_t hashed; /* jobs finished with rc 0 */
    uint64_t bytes;  /* the bytes they hashed */
    uint64_t cancelled, failed;
};
void sf_hasher_stats(const struct sf_hasher *h, struct sf_hasher_stats *out);

#endif
