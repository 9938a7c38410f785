/*
 * daemon.h - --daemon's detach and the pid file. Errors are logged to
 * log (the start's, teeing to stderr).
 */
#ifndef SFHTTPD_DAEMON_H
#define SFHTTPD_DAEMON_H

#include "sfhttpd/log.h"

/* Write our pid to path (nothing when path is NULL): to a temporary name
 * created new (O_EXCL, O_NOFOLLOW) and renamed over path, so a reader
 * never sees it empty; a symbolic link at path is refused. 0 or -1
 * (logged). */
int sf_daemon_write_pid(const char *path, struct sf_log *log);

/* Remove the pid file (nothing when path is NULL). */
void sf_daemon_remove_pid(const char *path);

/* Detach: double fork (the parents _exit(0)), a new session, / as the
 * folder, stdin and stdout on /dev/null (stderr stays: it may be the
 * error log). 0 in the detached process, -1 (logged) when the first
 * fork fails. */
int sf_daemon_detach(struct sf_log *log);

#endif
