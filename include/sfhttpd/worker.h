/*
 * worker.h - one worker: an event loop, its listeners, its connections,
 * its signals, and the serving state of server.h. Its only mutable state
 * lives in one struct of worker.c, passed explicitly.
 */
#ifndef SFHTTPD_WORKER_H
#define SFHTTPD_WORKER_H

#include <stdbool.h>

#include "sfhttpd/config.h"

struct sf_listen_set;

struct sf_worker_opts {
    struct sf_listen_set *lis; /* the open listeners (listen.h) */
    int slot;                  /* this worker's slot: it serves the
                                  listeners of slot -1 and of slot */
    bool under_master;         /* a master runs it: SIGINT and SIGHUP are
                                  the master's, SIGTERM comes from it */
};

/*
 * Run a worker in this process until SIGTERM (or SIGINT in a single
 * process) and a graceful drain (bounded by shutdown_timeout); SIGQUIT
 * stops at once; SIGUSR1 reopens the log files. Takes the listeners of
 * its slot out of o->lis (their fds become -1 there; the worker closes
 * them when it stops accepting) and closes the other slots' sockets.
 * Opens the logs from cfg. The signals above may be blocked on entry;
 * they are unblocked once handled. Returns the process exit status (0
 * after a clean stop, 1 when start-up failed, with the reason logged).
 */
int sf_worker_run(const struct sf_config *cfg, const struct sf_worker_opts *o);

#endif
