/*
 * unit_util.h - small helpers shared by the unit suites: a scratch
 * folder made and removed (the suites that touch files), a monotonic
 * clock, a bounded poll and a bounded wait for a child (the suites that
 * fork children and wait on file descriptors).
 */
#ifndef SF_UNIT_UTIL_H
#define SF_UNIT_UTIL_H

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Run every test of s, each in a child of its own (CK_FORK) when fork is
 * set whatever CK_FORK in the environment says (for suites whose tests
 * must not share a process); the exit status for main. */
static inline int
unit_run_mode(Suite *s, bool fork)
{
    SRunner *sr = srunner_create(s);
    if (fork)
        srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static inline int
unit_run(Suite *s)
{
    return unit_run_mode(s, false);
}

/* A fresh folder $TMPDIR/NAME.XXXXXX ($TMPDIR default /tmp) into out;
 * fails the test when it cannot be made. */
static inline void
unit_tmpdir(char *out, size_t cap, const char *name)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    ck_assert_int_lt(snprintf(out, cap, "%s/%s.XXXXXX", tmp, name), (int)cap);
    ck_assert_ptr_nonnull(mkdtemp(out));
}

static inline int
unit_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

/* Remove the tree at path (no symbolic link followed); a missing one is
 * fine. */
static inline void
unit_rmtree(const char *path)
{
    if (path && path[0])
        nftw(path, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write text to path (created or truncated, 0644); fails the test on
 * error. */
static inline void
unit_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "create %s: %m", path);
    ck_assert(fputs(text, f) != EOF || !text[0]);
    ck_assert_int_eq(fclose(f), 0);
}

/* Write text to dir/rel, or make the folder dir/rel (0755). */
static inline void
unit_put(const char *dir, const char *rel, const char *text)
{
    char path[4096];
    ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", dir, rel), (int)sizeof(path));
    unit_write(path, text);
}

static inline void
unit_mkdir(const char *dir, const char *rel)
{
    char path[4096];
    ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", dir, rel), (int)sizeof(path));
    ck_assert_msg(mkdir(path, 0755) == 0, "mkdir %s: %m", path);
}

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
