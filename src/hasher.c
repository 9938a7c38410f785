/*
 * hasher.c - the helper thread that hashes files for content ETags (see
 * hasher.h). One mutex guards the queue (doubly linked, so a cancel is
 * O(1)), the finished list and the job being hashed; the thread posts to
 * an eventfd after each job, and the worker's thread reports finished
 * jobs from its event loop. Stats are kept on the worker's thread, at
 * report time.
 */
#include "sfhttpd/hasher.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define READ_BUF (256 * 1024)
#define STACK_SIZE (256 * 1024)

struct sf_hasher {
    sf_hasher_fn done;
    void *arg;
    int efd;
    void *buf; /* the thread's read buffer */
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu */
    struct sf_hasher_job *qhead, *qtail; /* waiting, oldest first */
    struct sf_hasher_job *dhead, *dtail; /* finished, not reported */
    struct sf_hasher_job *running;
    bool quit;
    /* the worker's thread only */
    struct sf_hasher_stats st;
};

static void
unqueue(struct sf_hasher *h, struct sf_hasher_job *j)
{
    assert(j->queued);
    struct sf_hasher_job *prev = j->prev;
    if (prev)
        prev->next = j->next;
    else
        h->qhead = j->next;
    if (j->next)
        j->next->prev = prev;
    else
        h->qtail = prev;
    j->next = j->prev = NULL;
    j->queued = false;
}

/* Put j on the finished list and wake the worker (under mu). */
static void
finish(struct sf_hasher *h, struct sf_hasher_job *j)
{
    j->next = NULL;
    if (h->dtail)
        h->dtail->next = j;
    else
        h->dhead = j;
    h->dtail = j;
    uint64_t one = 1;
    /* a full counter (never, in practice) still leaves the fd readable */
    ssize_t n = write(h->efd, &one, sizeof(one));
    (void)n;
}

static void *
run(void *arg)
{
    struct sf_hasher *h = arg;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (!h->quit && !h->qhead)
            pthread_cond_wait(&h->cv, &h->mu);
        if (h->quit)
            break;
        struct sf_hasher_job *j = h->qhead;
        unqueue(h, j);
        h->running = j;
        pthread_mutex_unlock(&h->mu);
        j->rc = sf_etag_hash_fd(j->fd, j->size, h->buf, READ_BUF, &j->stop, &j->hash);
        if (j->rc == 0 && fstat(j->fd, &j->after) != 0)
            j->rc = -errno;
        pthread_mutex_lock(&h->mu);
        h->running = NULL;
        finish(h, j);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* Start the thread with every signal blocked in it. */
static int
start(struct sf_hasher *h)
{
    sigset_t all, old;
    pthread_attr_t attr;
    sigfillset(&all);
    int rc = pthread_attr_init(&attr);
    if (rc)
        return -rc;
    pthread_attr_setstacksize(&attr, STACK_SIZE);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&h->thread, &attr, run, h);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    h->started = rc == 0;
    return -rc;
}

struct sf_hasher *
sf_hasher_new(sf_hasher_fn done, void *arg, int *err)
{
    struct sf_hasher *h = calloc(1, sizeof(*h));
    void *buf = malloc(READ_BUF);
    if (!h || !buf) {
        free(h);
        free(buf);
        *err = -ENOMEM;
        return NULL;
    }
    h->done = done;
    h->arg = arg;
    h->buf = buf;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    h->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    *err = h->efd < 0 ? -errno : start(h);
    if (*err) {
        sf_hasher_free(h);
        return NULL;
    }
    return h;
}

/* Report the jobs finished so far; all: every job (the thread has ended),
 * those still queued cancelled. */
static void
report(struct sf_hasher *h, bool all)
{
    pthread_mutex_lock(&h->mu);
    while (all && h->qhead) {
        struct sf_hasher_job *j = h->qhead;
        unqueue(h, j);
        j->rc = -ECANCELED;
        finish(h, j);
    }
    struct sf_hasher_job *j = h->dhead;
    h->dhead = h->dtail = NULL;
    pthread_mutex_unlock(&h->mu);
    while (j) {
        /* done may submit j again: take the link first */
        struct sf_hasher_job *next = j->next;
        j->next = NULL;
        if (j->rc == 0) {
            h->st.hashed++;
            h->st.bytes += j->size;
        } else if (j->rc == -ECANCELED) {
            h->st.cancelled++;
        } else {
            h->st.failed++;
        }
        h->done(h->arg, j);
        j = next;
    }
}

void
sf_hasher_free(struct sf_hasher *h)
{
    if (!h)
        return;
    if (h->started) {
        pthread_mutex_lock(&h->mu);
        h->quit = true;
        if (h->running)
            atomic_store(&h->running->stop, true);
        pthread_cond_signal(&h->cv);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->thread, NULL);
    }
    if (h->efd >= 0)
        report(h, true);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    if (h->efd >= 0)
        close(h->efd);
    free(h->buf);
    free(h);
}

int
sf_hasher_fd(const struct sf_hasher *h)
{
    return h->efd;
}

void
sf_hasher_submit(struct sf_hasher *h, struct sf_hasher_job *j)
{
    assert(!j->queued && j->fd >= 0);
    atomic_store(&j->stop, false);
    j->rc = 0;
    j->next = NULL;
    pthread_mutex_lock(&h->mu);
    j->prev = h->qtail;
    if (h->qtail)
        h->qtail->next = j;
    else
        h->qhead = j;
    h->qtail = j;
    j->queued = true;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

void
sf_hasher_cancel(struct sf_hasher *h, struct sf_hasher_job *j)
{
    pthread_mutex_lock(&h->mu);
    if (j->queued) {
        unqueue(h, j);
        j->rc = -ECANCELED;
        finish(h, j);
    } else if (h->running == j) {
        atomic_store(&j->stop, true);
    }
    pthread_mutex_unlock(&h->mu);
}

void
sf_hasher_on_ready(struct sf_hasher *h)
{
    uint64_t n;
    ssize_t got = read(h->efd, &n, sizeof(n));
    (void)got; /* EAGAIN: a wake-up already consumed; the list says */
    report(h, false);
}

void
sf_hasher_stats(const struct sf_hasher *h, struct sf_hasher_stats *out)
{
    *out = h->st;
}
