/*
 * lease.h - file read leases (F_SETLEASE F_RDLCK) and their break
 * notifications. The kernel tells us *before* another process opens a
 * leased file for writing or truncates it: the writer blocks until we
 * release the lease (or lease-break-time, 45 s, passes), so we can cut the
 * responses still sending from it and let the writer go.
 *
 * The break signal is a realtime signal, blocked in every thread from the
 * start and read through a signalfd registered in the event loop, so the
 * siginfo (and the fd whose lease breaks) is never lost. Plain SIGIO means
 * the realtime queue overflowed: every lease must be checked.
 */
#ifndef SFHTTPD_LEASE_H
#define SFHTTPD_LEASE_H

#include <stdbool.h>
#include <stddef.h>

/* The realtime signal used for lease breaks. */
int sf_lease_signal(void);

/*
 * Block the lease-break signal and SIGIO in the calling thread (call
 * before any other thread exists) and return a non-blocking signalfd for
 * them, or -errno.
 */
int sf_lease_open_signalfd(void);

/*
 * Take a read lease on fd (opened O_RDONLY): owner (this thread), signal,
 * then F_SETLEASE, in that order, every time, since a release resets the
 * first two. Returns 0, or -errno: -EAGAIN when someone has the file open
 * for writing, -EACCES when we neither own it nor have CAP_LEASE,
 * -EINVAL on filesystems without leases (NFS, FUSE, 9p...).
 */
int sf_lease_take(int fd);

/* Release the lease (the writer proceeds at once). Returns 0 or -errno. */
int sf_lease_release(int fd);

/* True when fd's lease is being broken (F_GETLEASE no longer F_RDLCK). */
bool sf_lease_breaking(int fd);

/*
 * Read the pending notifications from the signalfd into fds (up to n):
 * each is the fd named by a lease-break signal (it may be stale: closed
 * and reused; check it). Sets *overflow when SIGIO arrived (queue
 * overflow: check every lease). Returns the number of fds, or -errno.
 */
int sf_lease_read_breaks(int sigfd, int *fds, size_t n, bool *overflow);

#endif
