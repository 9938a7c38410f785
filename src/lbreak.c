/*
 * lbreak.c - lease breaks: the table from leased fd to file, the users of
 * each file, the cut and the rescue (see lbreak.h for the contract).
 * lease.c has the fcntl and signalfd wrappers, sockq.c the queue probes;
 * this is the policy on top of them.
 *
 * The table is indexed by fd, since a break signal names the fd; it grows
 * to the highest leased fd and is never shrunk. Pending breaks (users
 * waiting for their sockets to drain) are a list, checked by one timer
 * every millisecond until each is decided.
 */
#include "sfhttpd/lbreak.h"

#include <assert.h>
#include <errno.h>
#include <event2/event.h>
#include <linux/sockios.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "sfhttpd/common.h"
#include "sfhttpd/lease.h"
#include "sfhttpd/sockq.h"

#define TICK_US 1000

struct sf_lbreak {
    int sigfd;
    sf_lbreak_fn broken;
    void *arg;
    struct sf_lbreak_file **byfd; /* leased fds */
    size_t nbyfd;
    /* the rescue, when set up */
    struct event *tick;
    struct sf_sockq *sockq;
    uint64_t wait_ns;
    struct sf_lbreak_file *pending;
};

static uint64_t
mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Room in the table for fd; -ENOMEM when it cannot grow. */
static int
byfd_room(struct sf_lbreak *lb, int fd)
{
    if ((size_t)fd < lb->nbyfd)
        return 0;
    size_t n = lb->nbyfd ? lb->nbyfd : 256;
    while (n <= (size_t)fd)
        n *= 2;
    struct sf_lbreak_file **p = realloc(lb->byfd, n * sizeof(*p));
    if (!p)
        return -ENOMEM;
    memset(p + lb->nbyfd, 0, (n - lb->nbyfd) * sizeof(*p));
    lb->byfd = p;
    lb->nbyfd = n;
    return 0;
}

/* Cut the users of lf that still send its bytes or still have them
 * unacknowledged in their socket, in one pass: an abort only marks its
 * connection, which detaches later. Returns how many were cut. */
static unsigned
cut_users(struct sf_lbreak_file *lf)
{
    if (lf->snapshot)
        return 0; /* a copy read under the lease: nothing to protect */
    unsigned cut = 0;
    for (struct sf_file_user *u = lf->users; u; u = u->next) {
        int queued = 0;
        if (!u->sending && (u->sock < 0 || ioctl(u->sock, SIOCOUTQ, &queued) != 0 || queued == 0))
            continue;
        u->sending = false;
        u->sock = -1;
        cut++;
        u->abort(u->arg);
    }
    lf->ncut = cut;
    return cut;
}

static void
cut_one(struct sf_lbreak_file *lf, struct sf_file_user *u)
{
    u->sending = false;
    u->sock = -1;
    u->brk = SF_USER_CALM;
    lf->ncut++;
    u->abort(u->arg);
}

/* The end of a break: the lease goes (the cut sockets are reset already,
 * the kept ones drained), the kept users continue, the owner is told. */
static void
finish(struct sf_lbreak *lb, struct sf_lbreak_file *lf)
{
    lf->held_ns = mono_ns() - lf->since_ns;
    sf_lbreak_release(lb, lf);
    for (struct sf_file_user *u = lf->users; u; u = u->next) {
        if (u->brk == SF_USER_KEPT && u->sending) {
            lf->nkept++;
            u->rescue->resume(u->arg);
        }
        u->brk = SF_USER_CALM;
    }
    lb->broken(lb->arg, lf, lf->ncut);
}

/* Decide what can be decided for lf's waiting users; at the deadline cut
 * the rest. True when none waits any more. */
static bool
decide(struct sf_lbreak *lb, struct sf_lbreak_file *lf)
{
    uint64_t now = mono_ns();
    bool last = now >= lf->deadline_ns, waiting = false;
    for (struct sf_file_user *u = lf->users; u; u = u->next) {
        if (u->brk != SF_USER_WAIT)
            continue;
        if (u->sock < 0 && !u->sending) {
            u->brk = SF_USER_CALM; /* cut with a sibling meanwhile */
            continue;
        }
        long long held = u->sock >= 0 ? sf_sockq_held(lb->sockq, u->sock) : 0;
        if (held == 0) {
            uint64_t t0 = u->sending ? mono_ns() : 0;
            int rc = u->sending ? u->rescue->save(u->arg) : 0;
            lf->copy_ns += t0 ? mono_ns() - t0 : 0;
            if (rc != 0) {
                lf->ncut_room++;
                cut_one(lf, u);
            } else {
                u->brk = SF_USER_KEPT;
            }
        } else if (held < 0 || last) {
            lf->ncut_late++;
            cut_one(lf, u);
        } else {
            waiting = true;
        }
    }
    return !waiting;
}

/* Start a break with a rescue: cut who cannot be kept, hold the others,
 * decide at once what can be; pending (and the timer on) otherwise. */
static void
start(struct sf_lbreak *lb, struct sf_lbreak_file *lf)
{
    for (struct sf_file_user *u = lf->users; u; u = u->next) {
        if (u->brk != SF_USER_CALM || (!u->sending && u->sock < 0))
            continue;
        if (!u->rescue) {
            int queued = 0;
            if (u->sending || ioctl(u->sock, SIOCOUTQ, &queued) != 0 || queued != 0)
                cut_one(lf, u);
        } else if (u->sending && u->rescue->hold(u->arg) != 0) {
            lf->ncut_room++;
            cut_one(lf, u);
        } else {
            u->brk = SF_USER_WAIT;
        }
    }
    lf->deadline_ns = lf->since_ns + lb->wait_ns;
    if (decide(lb, lf)) {
        finish(lb, lf);
        return;
    }
    lf->breaking = true;
    lf->pnext = lb->pending;
    lb->pending = lf;
    if (!evtimer_pending(lb->tick, NULL)) {
        struct timeval tv = {0, TICK_US};
        evtimer_add(lb->tick, &tv);
    }
}

static void
unpend(struct sf_lbreak *lb, struct sf_lbreak_file *lf)
{
    struct sf_lbreak_file **pp = &lb->pending;
    while (*pp && *pp != lf)
        pp = &(*pp)->pnext;
    if (*pp)
        *pp = lf->pnext;
    lf->pnext = NULL;
    lf->breaking = false;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct sf_lbreak *lb = arg;
    (void)fd;
    (void)what;
    struct sf_lbreak_file *lf = lb->pending;
    while (lf) {
        struct sf_lbreak_file *next = lf->pnext;
        if (decide(lb, lf)) {
            unpend(lb, lf);
            finish(lb, lf); /* may free lf */
        }
        lf = next;
    }
    if (lb->pending) {
        struct timeval tv = {0, TICK_US};
        evtimer_add(lb->tick, &tv);
    }
}

static void
broken(struct sf_lbreak *lb, struct sf_lbreak_file *lf)
{
    if (lf->breaking)
        return; /* pending already */
    lf->since_ns = mono_ns();
    lf->ncut = lf->nkept = lf->ncut_room = lf->ncut_late = 0;
    lf->copy_ns = 0;
    if (lb->tick && !lf->snapshot) {
        start(lb, lf);
        return;
    }
    cut_users(lf);
    /* let the writer go at once: the cut sockets are reset already */
    sf_lbreak_release(lb, lf);
    lb->broken(lb->arg, lf, lf->ncut);
}

/* ------------------------------------------------------------------ API */

struct sf_lbreak *
sf_lbreak_new(sf_lbreak_fn fn, void *arg, int *err)
{
    struct sf_lbreak *lb = calloc(1, sizeof(*lb));
    if (!lb) {
        *err = -ENOMEM;
        return NULL;
    }
    lb->sigfd = sf_lease_open_signalfd();
    if (lb->sigfd < 0) {
        *err = lb->sigfd;
        free(lb);
        return NULL;
    }
    lb->broken = fn;
    lb->arg = arg;
    *err = 0;
    return lb;
}

void
sf_lbreak_free(struct sf_lbreak *lb)
{
    if (!lb)
        return;
    close(lb->sigfd);
    if (lb->tick)
        event_free(lb->tick);
    sf_sockq_free(lb->sockq);
    free(lb->byfd);
    free(lb);
}

int
sf_lbreak_rescue(struct sf_lbreak *lb, struct event_base *base, unsigned wait_ms)
{
    assert(!lb->tick);
    lb->sockq = sf_sockq_new();
    lb->tick = lb->sockq ? evtimer_new(base, on_tick, lb) : NULL;
    if (!lb->tick) {
        sf_sockq_free(lb->sockq);
        lb->sockq = NULL;
        return -ENOMEM;
    }
    /* before connections, as the signalfd */
    event_priority_set(lb->tick, 0);
    lb->wait_ns = (uint64_t)wait_ms * 1000000u;
    return 0;
}

int
sf_lbreak_fd(const struct sf_lbreak *lb)
{
    return lb->sigfd;
}

int
sf_lbreak_take(struct sf_lbreak *lb, struct sf_lbreak_file *lf, int fd)
{
    assert(lf->fd < 0 && fd >= 0);
    /* room first: a lease whose break we could not find would hold the
     * writer for the kernel's whole lease-break-time */
    int rc = byfd_room(lb, fd);
    if (rc == 0)
        rc = sf_lease_take(fd);
    if (rc)
        return rc;
    lb->byfd[fd] = lf;
    lf->fd = fd;
    return 0;
}

void
sf_lbreak_release(struct sf_lbreak *lb, struct sf_lbreak_file *lf)
{
    if (lf->fd < 0)
        return;
    if (lf->breaking)
        unpend(lb, lf);
    sf_lease_release(lf->fd);
    lb->byfd[lf->fd] = NULL;
    lf->fd = -1;
}

void
sf_lbreak_attach(struct sf_lbreak_file *lf, struct sf_file_user *u)
{
    u->prev = NULL;
    u->brk = SF_USER_CALM;
    u->next = lf->users;
    if (lf->users)
        lf->users->prev = u;
    lf->users = u;
}

void
sf_lbreak_detach(struct sf_lbreak_file *lf, struct sf_file_user *u)
{
    if (u->prev)
        u->prev->next = u->next;
    else
        lf->users = u->next;
    if (u->next)
        u->next->prev = u->prev;
    u->prev = u->next = NULL;
}

void
sf_lbreak_on_signal(struct sf_lbreak *lb)
{
    int fds[64];
    bool overflow = false;
    for (;;) {
        int n = sf_lease_read_breaks(lb->sigfd, fds, SF_ARRAY_LEN(fds), &overflow);
        if (n <= 0 && !overflow)
            return;
        for (int i = 0; i < n; i++) {
            int fd = fds[i];
            /* the fd may be stale: act only on a lease we hold that breaks */
            if (fd < 0 || (size_t)fd >= lb->nbyfd || !lb->byfd[fd])
                continue;
            if (sf_lease_breaking(fd))
                broken(lb, lb->byfd[fd]);
        }
        if (overflow) {
            for (size_t fd = 0; fd < lb->nbyfd; fd++)
                if (lb->byfd[fd] && sf_lease_breaking((int)fd))
                    broken(lb, lb->byfd[fd]);
        }
        if (n < (int)SF_ARRAY_LEN(fds) && !overflow)
            return;
        overflow = false;
    }
}
