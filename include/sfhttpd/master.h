/*
 * master.h - how sfhttpd runs: one process, or a master that opens the
 * listening sockets, forks the workers, supervises, reloads and stops
 * them. Also the parts both share: privilege drop (user/group, keeping
 * only CAP_LEASE), pid_file, --daemon and systemd notification.
 *
 * Which one runs: workers = 0, or workers = 1 in the foreground with
 * master = auto (the default), is one process (tests, debugging,
 * containers); workers >= 2, master = on, or --daemon runs a master.
 *
 * Signals to the master: SIGHUP reloads (a bad config is logged and the
 * running one kept; new workers start with the new config and sockets
 * whose address did not change, old ones stop accepting and finish their
 * responses within shutdown_timeout, with no drain_delay: the new workers
 * serve the same sockets); SIGTERM/SIGINT stop gracefully within
 * shutdown_timeout (a second one: at once), SIGQUIT at once; SIGUSR1
 * reopens every process's log files. With drain_delay, SIGTERM/SIGINT
 * first tell the workers to fail the health path (SIGUSR2) and keep
 * everything serving for that long (listeners open, workers restarted,
 * SIGHUP ignored), then stop gracefully; a second one during the delay
 * stops at once. A worker that dies is
 * restarted (5 deaths within 10 s: back off from 1 s, doubling to 30 s).
 *
 * Root: with user set, workers (or the single process, after binding)
 * switch to it keeping only CAP_LEASE; user = root keeps root. Without
 * user, started as root with a config file, they switch to nobody:nogroup
 * when it can reach every root, and the start is refused otherwise;
 * quick mode runs on as root with an info line (startup.h).
 *
 * Before binding, a start runs the checks of startup.h (the same as -t);
 * until it serves, errors and warnings also go to stderr (sf_log_tee), so
 * that the reason a start fails reaches the terminal when error_log is a
 * file. A reload runs the same checks and keeps the old configuration
 * when they fail.
 */
#ifndef SFHTTPD_MASTER_H
#define SFHTTPD_MASTER_H

#include <stdbool.h>
#include <stdio.h>

#include "sfhttpd/config.h"

/* Build a complete, validated configuration from scratch into cfg (the
 * file and the command line, as at start-up), for a reload. Problems go
 * to errs, one per line; returns their number (cfg is then freed by the
 * caller either way with sf_config_free). */
typedef int sf_master_load_fn(struct sf_config *cfg, void *arg, FILE *errs);

struct sf_master_opts {
    sf_master_load_fn *load; /* NULL: SIGHUP only logs that it cannot */
    void *load_arg;
    bool daemon; /* --daemon: detach once listening */
};

/*
 * Run sfhttpd with cfg (validated; the caller keeps ownership) until it
 * is told to stop. Returns the exit status: 0 after a stop by signal, 1
 * when start-up failed (the reason logged).
 */
int sf_master_run(const struct sf_config *cfg, const struct sf_master_opts *o);

#endif
