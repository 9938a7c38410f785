/*
 * unit_util.h - small helpers shared by the unit suites that fork
 * children and wait on file descriptors (fcache, lease): a monotonic
 * clock, a bounded poll and a bounded wait for a child.
 */
#ifndef SF_UNIT_UTIL_H
#define SF_UNIT_UTIL_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline long long
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True when fd becomes readable within ms. */
static inline bool
readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    long long end = now_ms() + ms;
    for (;;) {
        int left = (int)(end - now_ms());
        int r = poll(&p, 1, left > 0 ? left : 0);
        if (r > 0)
            return true;
        if (r == 0 || errno != EINTR)
            return false;
    }
}

/* The child's exit status (128 + signal when killed), or -1 when it
 * still runs after ms (then it is killed and reaped when
 * kill_on_timeout), -2 when waitpid fails. */
static inline int
wait_child(pid_t pid, int ms, bool kill_on_timeout)
{
    long long end = now_ms() + ms;
    for (;;) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (r < 0 && errno != EINTR)
            return -2;
        if (now_ms() >= end)
            break;
        usleep(5000);
    }
    if (kill_on_timeout) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    return -1;
}

#endif
