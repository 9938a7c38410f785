/*
 * daemon.h - --daemon's detach and the pid file. Errors are logged to
 * log (the start's, teeing to stderr).
 */
#ifndef SFHTTPD_DAEMON_H
#define SFHTTPD_DAEMON_H

#include <sys/types.h>

#include "sfhttpd/log.h"

/* Write our pid to path (nothing when path is NULL): to a temporary name
 * created new (O_EXCL, O_NOFOLLOW) and renamed over path, so a reader
 * never sees it empty; a symbolic link at path is refused. 0 or -1
 * (logged). */
int sf_daemon_write_pid(const char *path, struct sf_log *log);

/*
 * The keeper of a single process's pid file. A process that switches
 * user after writing it (privs.h) may no longer remove it from a folder
 * only root writes (/run). So before the switch sf_daemon_keep_pid forks
 * a child that stays root, with nothing open but a pipe from us, every
 * signal blocked and no capability but CAP_DAC_OVERRIDE and CAP_FOWNER;
 * when the pipe closes (sf_daemon_remove_pid, or our death by any cause)
 * it removes path if that still holds our pid, and exits. A master needs
 * none: it stays root (master.h).
 */
struct sf_pid_keeper {
    pid_t pid; /* 0: none */
    int fd;    /* our end of the pipe, or -1 */
};

/* Start k's keeper for path (none when path is NULL). 0, or -1 when no
 * pipe or process could be made (logged). */
int sf_daemon_keep_pid(struct sf_pid_keeper *k, const char *path, struct sf_log *log);

/* Remove the pid file at a stop: with k's keeper, close its pipe and wait
 * for it to remove path and exit; else (k NULL or keeping none) unlink
 * path ourselves. Only while path still holds our pid: a later server's
 * file is left alone. Nothing when path is NULL. */
void sf_daemon_remove_pid(const char *path, struct sf_pid_keeper *k);

/* Detach: double fork (the parents _exit(0)), a new session, / as the
 * folder, stdin and stdout on /dev/null (stderr stays: it may be the
 * error log). 0 in the detached process, -1 (logged) when the first
 * fork fails. */
int sf_daemon_detach(struct sf_log *log);

#endif
