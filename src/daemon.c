/*
 * daemon.c - what a start does to the process itself: --daemon's detach
 * and the pid file (daemon.h), for master.c's single process and master
 * alike.
 */
#include "sfhttpd/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
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

void
sf_daemon_remove_pid(const char *path)
{
    if (path)
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
