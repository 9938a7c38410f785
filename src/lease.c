/*
 * lease.c - read leases and the signalfd that reports their breaks.
 * Thin wrappers: the policy (what to cut, when to release) is lbreak's.
 */
#include "sfhttpd/lease.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

int
sf_lease_signal(void)
{
    return SIGRTMIN + 1;
}

int
sf_lease_open_signalfd(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sf_lease_signal());
    sigaddset(&set, SIGIO);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return -errno;
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int
sf_lease_take(int fd)
{
    struct f_owner_ex owner = {.type = F_OWNER_TID, .pid = gettid()};
    if (fcntl(fd, F_SETOWN_EX, &owner) != 0)
        return -errno;
    if (fcntl(fd, F_SETSIG, sf_lease_signal()) != 0)
        return -errno;
    if (fcntl(fd, F_SETLEASE, F_RDLCK) != 0)
        return -errno;
    return 0;
}

int
sf_lease_release(int fd)
{
    return fcntl(fd, F_SETLEASE, F_UNLCK) == 0 ? 0 : -errno;
}

bool
sf_lease_breaking(int fd)
{
    int t = fcntl(fd, F_GETLEASE);
    return t >= 0 && t != F_RDLCK;
}

int
sf_lease_read_breaks(int sigfd, int *fds, size_t n, bool *overflow)
{
    size_t k = 0;
    *overflow = false;
    for (;;) {
        struct signalfd_siginfo si[16];
        ssize_t r = read(sigfd, si, sizeof(si));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            return -errno;
        }
        for (size_t i = 0; i < (size_t)r / sizeof(si[0]); i++) {
            if ((int)si[i].ssi_signo == sf_lease_signal() && k < n)
                fds[k++] = (int)si[i].ssi_fd;
            else
                *overflow = true; /* SIGIO, or more breaks than room */
        }
    }
    return (int)k;
}
