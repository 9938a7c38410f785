/*
 * daemon.c - what a start does to the process itself: --daemon's detach
 * and the pid file (daemon.h), for master.c's single process and master
 * alike, with the keeper that removes the pid file of a single process
 * no longer allowed to.
 */
#include "sfhttpd/daemon.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Written to a temporary name and renamed: a reader never sees it empty.
 * Never through a symbolic link: the temporary file is created new
 * (O_EXCL, O_NOFOLLOW), and a link at the pid file's own path is refused
 * rather than replaced (startup.h checks it too). */
int
sf_daemon_write_pid(const char *path, struct sf_log *log)
{
    char tmp[4096];
    struct stat st;
    if (!path)
        return 0;
    if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof(tmp)) {
        sf_log_msg(log, SF_LOG_ERROR, "pid_file %s: path too long", path);
        return -1;
    }
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        sf_log_msg(log, SF_LOG_ERROR,
                   "pid_file %s: is a symbolic link (log and pid files are never opened through "
                   "one: name the file itself)",
                   path);
        return -1;
    }
    unlink(tmp); /* a stale one of an earlier process with our pid */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0) {
        sf_log_errno(log, SF_LOG_ERROR, errno, "pid_file %s", tmp);
        return -1;
    }
    bool ok = dprintf(fd, "%ld\n", (long)getpid()) > 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        sf_log_errno(log, SF_LOG_ERROR, errno, "pid_file %s", path);
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* path holds pid: it is ours to remove, not a later server's. */
static bool
holds_pid(const char *path, pid_t pid)
{
    char buf[32];
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    char *end;
    long v = strtol(buf, &end, 10);
    return end != buf && *end == '\n' && v == (long)pid;
}

/* The keeper: nothing of the server's open (its sockets must close when
 * it exits), no signal (the group's SIGINT and systemd's SIGTERM are for
 * the server: the keeper ends when the server does), only the two
 * capabilities an unlink can need; then wait for the pipe to close. */
static _Noreturn void
keep(const char *path, pid_t server, int rfd)
{
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    if (rfd > 0)
        close_range(0, (unsigned)rfd - 1, 0);
    close_range((unsigned)rfd + 1, ~0U, 0);
    prctl(PR_SET_NAME, "sfhttpd-pidfile");
    capng_clear(CAPNG_SELECT_BOTH);
    capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_DAC_OVERRIDE, CAP_FOWNER, -1);
    capng_apply(CAPNG_SELECT_BOTH);
    for (;;) {
        char buf[64];
        ssize_t n = read(rfd, buf, sizeof(buf));
        if (n == 0 || (n < 0 && errno != EINTR))
            break;
    }
    if (holds_pid(path, server))
        unlink(path);
    _exit(0);
}

int
sf_daemon_keep_pid(struct sf_pid_keeper *k, const char *path, struct sf_log *log)
{
    int p[2];
    k->pid = 0;
    k->fd = -1;
    if (!path)
        return 0;
    if (pipe2(p, O_CLOEXEC) != 0) {
        sf_log_errno(log, SF_LOG_ERROR, errno, "pid_file %s: pipe for its keeper", path);
        return -1;
    }
    pid_t server = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        sf_log_errno(log, SF_LOG_ERROR, errno, "pid_file %s: fork of its keeper", path);
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0)
        keep(path, server, p[0]);
    close(p[0]);
    k->pid = pid;
    k->fd = p[1];
    return 0;
}

void
sf_daemon_remove_pid(const char *path, struct sf_pid_keeper *k)
{
    if (k && k->pid > 0) {
        close(k->fd);
        while (waitpid(k->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        k->pid = 0;
        k->fd = -1;
        return;
    }
    if (path && holds_pid(path, getpid()))
        unlink(path);
}

/* Detach: double fork, a new session, / as the folder, stdin and stdout
 * on /dev/null (stderr stays: it may be the error log). */
int
sf_daemon_detach(struct sf_log *log)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        sf_log_errno(log, SF_LOG_ERROR, errno, "--daemon: fork");
        return -1;
    }
    if (pid > 0)
        _exit(0);
    setsid();
    pid = fork();
    if (pid < 0)
        _exit(1);
    if (pid > 0)
        _exit(0);
    if (chdir("/") != 0)
        sf_log_errno(log, SF_LOG_WARN, errno, "--daemon: chdir /");
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        close(fd);
    }
    return 0;
}
