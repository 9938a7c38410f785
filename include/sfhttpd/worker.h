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
    bool draining;             /* started while the master drains (a
                                  restart during drain_delay): the health
                                  path fails from the start */
};

/*
 * Run a worker in this process until SIGTERM (or SIGINT in a single
 * process) and a graceful drain (bounded by shutdown_timeout); SIGQUIT
 * stops at once; SIGUSR1 reopens the log files. In a single process
 * with drain_delay, the first SIGTERM/SIGINT first serves on for that
 * long with the health path answering 503 (a second one stops at once);
 * under a master, SIGUSR2 makes the health path answer 503 and SIGTERM
 * stops gracefully at once (the master times the drain). Takes the listeners of
 * its slot out of o->lis (their fds become -1 there; the worker closes
 * them when it stops accepting) and closes the other slots' sockets.
 * Opens the logs from cfg. The signals above may be blocked on entry;
 * they are unblocked once handled. Returns the process exit status (0
 * after a clean stop, 1 when start-up failed, with the reason logged).
 */
int sf_worker_run(const struct sf_config *cfg, const struct sf_worker_opts *o);

#endif
