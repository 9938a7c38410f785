/*
 * startup.h - what a start checks on this machine before it binds or
 * forks, in one place, so that `sfhttpd -t`, a start and a reload refuse
 * the same configurations with the same words (sf_config_problem lines:
 * FILE:LINE where the value came from a file):
 *
 *   - the kernel confines paths: openat2(2) with RESOLVE_BENEATH opens a
 *     site root (sf_resolve_probe). ENOSYS (Linux before 5.6) or ENOSYS
 *     or EPERM from a seccomp filter refuse the start, as there is no
 *     other way to open a file beneath a root;
 *   - who the workers run as (privs.h): the user and group exist, a user
 *     other than ours needs root; started as root with a config file and
 *     no user, nobody:nogroup, provided that it can reach every root
 *     (else the start is refused, naming the root and the fix);
 *   - error_log, access_log (server and sites) and pid_file: the folder
 *     exists, the path is not a symbolic link (they are opened with
 *     O_NOFOLLOW), and the file (or, to create it, the folder) is
 *     writable by the starting user, who opens them before any switch;
 *     the pid file is written beside its name and renamed, so its folder
 *     must be writable;
 *   - each listen address: a socket of its family can be made and bound
 *     to the address with port 0 (so the address is one of this host's),
 *     and a port below net.ipv4.ip_unprivileged_port_start needs
 *     CAP_NET_BIND_SERVICE. Whether the port itself is free is not tried:
 *     that would take it, and a -t before a reload would find it held by
 *     the running server. A start reports a port in use when it binds. A
 *     Unix socket: its folder is writable, its path holds no other file.
 *     Skipped when systemd passes the sockets (LISTEN_FDS);
 *   - each site root can be reached by the workers' user: every folder
 *     down to it searchable, and the root readable when listing = on.
 *     When the workers switch user this runs in a child process switched
 *     to that user (sf_privs_become), so the kernel answers, ACLs and
 *     groups included.
 *
 * What can only fail later is not guessed: a port in use, a file inside
 * a root that the user cannot read (403 for that file).
 */
#ifndef SFHTTPD_STARTUP_H
#define SFHTTPD_STARTUP_H

#include <stddef.h>
#include <stdio.h>

#include "sfhttpd/config.h"
#include "sfhttpd/listen.h"
#include "sfhttpd/log.h"
#include "sfhttpd/privs.h"

/*
 * First thing at start: close every descriptor inherited above stderr
 * (close_range; /proc/self/fd where the kernel has none), except the
 * sockets systemd passes for this process (LISTEN_PID, LISTEN_FDS from
 * fd 3 on, left for sf_listen_inherit), so that neither the master nor a
 * worker holds a file of whoever started it. Opens /dev/null on 0, 1 or
 * 2 when one is closed. Every descriptor sfhttpd opens afterwards is
 * close-on-exec.
 */
void sf_startup_close_fds(void);

/*
 * Run every check above for cfg (validated) and decide ids (privs.h).
 * Each problem goes to errs as one line. Returns the number of problems
 * (0: a start can go ahead with ids).
 */
int sf_startup_check(const struct sf_config *cfg, struct sf_ids *ids, FILE *errs);

/*
 * The one info line a start logs about ids, into buf: "" when there is
 * nothing to say, else the fallback to nobody ("no user set: serving as
 * nobody:nogroup ...") or quick mode staying root.
 */
void sf_startup_note(const struct sf_config *cfg, const struct sf_ids *ids, char *buf, size_t cap);

/*
 * At a start: sf_startup_check with each problem logged at error level
 * (to stderr as "sfhttpd: ..." when log is NULL, e.g. when the error log
 * itself could not be opened), then the note at info. With no problem and
 * a log: the soft RLIMIT_NOFILE raised to the hard one, and the
 * descriptor budget logged (fdlimit.h). Returns the number of problems.
 */
int sf_startup_prepare(const struct sf_config *cfg, struct sf_ids *ids, struct sf_log *log);

/*
 * Quick mode only (no config file): log "serving FOLDER on URL..." with
 * the URLs of the listeners just opened, in the words of someone who
 * gave a folder on the command line.
 */
void sf_startup_announce(const struct sf_config *cfg, const struct sf_listen_set *set,
                         struct sf_log *log);

#endif
