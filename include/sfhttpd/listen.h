/*
 * listen.h - the listening sockets: opened by the master (or the single
 * process) before any privilege is dropped, inherited by the workers.
 *
 * A set holds one socket per listen line, or with reuseport one
 * SO_REUSEPORT socket per listen line and worker slot. systemd socket
 * activation (LISTEN_FDS) replaces the config's listen lines. A reload
 * builds a new set and takes over, by dup(2), every socket whose address
 * and socket options did not change, so the kernel's accept queue (and
 * every connection waiting in it) survives the reload.
 */
#ifndef SFHTTPD_LISTEN_H
#define SFHTTPD_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

#include "sfhttpd/config.h"
#include "sfhttpd/log.h"

struct sf_listener {
    int fd;              /* -1 once closed or taken by a worker */
    int family;          /* AF_INET, AF_INET6 or AF_UNIX */
    int slot;            /* reuseport: the worker slot it serves; -1: all */
    bool proxy_protocol; /* a PROXY header precedes the first request */
    bool inherited;      /* from systemd: never unlinked */
    bool owns_path;      /* a Unix socket path to unlink at close */
    char key[300];       /* the listen address and socket options */
    char name[300];      /* "http://127.0.0.1:8080/" or "unix:/path" */
};

struct sf_listen_set {
    struct sf_listener *l;
    size_t n, cap;
};

/*
 * Open the listeners cfg asks for: one per listen line, or nslots per
 * TCP line when cfg->reuseport. A socket of reuse with the same key (and
 * slot) is taken over with dup(2) instead of opened again; everything
 * else is bound anew (a Unix socket path is unlinked first) and logged
 * as "listening on NAME" at info level. With reuseport and port 0, the
 * sockets of one line share the port the first one got. Returns 0, or -1
 * with the reason logged (set then holds what was opened: close it).
 */
int sf_listen_open(struct sf_listen_set *set, const struct sf_config *cfg, int nslots,
                   const struct sf_listen_set *reuse, struct sf_log *log);

/*
 * systemd socket activation: when LISTEN_PID is this process and
 * LISTEN_FDS = n, take fds 3..3+n-1 as the listeners (in order; slot -1),
 * log each as "listening on ...", and unset the variables so that no
 * child sees them. A listener whose address equals one of cfg's listen
 * lines takes that line's proxy_protocol. Returns n (0: not activated),
 * or -1 with the reason logged.
 */
int sf_listen_inherit(struct sf_listen_set *set, const struct sf_config *cfg, struct sf_log *log);

/* A copy of every socket of src (dup(2)), for a reload while socket
 * activated. Returns 0 or -1 (logged). */
int sf_listen_dup(struct sf_listen_set *dst, const struct sf_listen_set *src, struct sf_log *log);

/* Unix socket paths of old that dst also listens on are dst's to unlink
 * from now on (call once dst replaced old). */
void sf_listen_hand_over(struct sf_listen_set *old, struct sf_listen_set *dst);

/* Close every socket still open, unlink the Unix socket paths the set
 * owns, free the array; NULL-safe, leaves the set empty. */
void sf_listen_close(struct sf_listen_set *set);

/* In a child: close every descriptor of the set without unlinking and
 * forget them (the parent still owns the sockets and paths). */
void sf_listen_forget(struct sf_listen_set *set);

/* The local TCP port of socket fd (a listener or an accepted
 * connection), in host order; 0 for none (a Unix socket) or on error. */
unsigned sf_listen_local_port(int fd);

#endif
