/*
 * lbreak.c - lease breaks: the table from leased fd to file, the users of
 * each file, and the cut (see lbreak.h for the contract). lease.c has the
 * fcntl and signalfd wrappers; this is the policy on top of them.
 *
 * The table is indexed by fd, since a break signal names the fd; it grows
 * to the highest leased fd and is never shrunk.
 */
#include "sfhttpd/lbreak.h"

#include <assert.h>
#include <errno.h>
#include <linux/sockios.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "sfhttpd/common.h"
#include "sfhttpd/lease.h"

struct sf_lbreak {
    int sigfd;
    sf_lbreak_fn broken;
    void *arg;
    struct sf_lbreak_file **byfd; /* leased fds */
    size_t nbyfd;
};

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
    return cut;
}

static void
broken(struct sf_lbreak *lb, struct sf_lbreak_file *lf)
{
    unsigned cut = cut_users(lf);
    /* let the writer go at once: the cut sockets are reset already */
    sf_lbreak_release(lb, lf);
    lb->broken(lb->arg, lf, cut);
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
    free(lb->byfd);
    free(lb);
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
    sf_lease_release(lf->fd);
    lb->byfd[lf->fd] = NULL;
    lf->fd = -1;
}

void
sf_lbreak_attach(struct sf_lbreak_file *lf, struct sf_file_user *u)
{
    u->prev = NULL;
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
