/*
 * fdlimit.h - the descriptor budget of a worker. A start raises the soft
 * RLIMIT_NOFILE to the hard one; what that allows, less a reserve, sizes
 * max_connections and open_file_cache_max when they are auto, and caps a
 * value given in the file that cannot fit (with a warning that names the
 * numbers). The formula (README and sfhttpd.conf(5) say the same):
 *
 *   reserve   = 24 + listeners + sites + log files + listing folders
 *   available = nofile - reserve
 *   max_connections + open_file_cache_max <= available
 *
 * 24 covers the worker's own descriptors (stdin, stdout, stderr, epoll,
 * libevent's signal pair, inotify, the lease signalfd) and headroom for
 * accept and the passing opens of a request (the folder being listed, a
 * precompressed sidecar being probed, a dup of a cached listing page).
 * Listing folders: listing_cache_max when some site lists folders and the
 * listing cache is on (each folder kept holds a memfd), at most a quarter
 * of what the fixed part leaves; the listing cache is held to that number.
 * A connection counts one, its socket: the file it sends is the cache's
 * (fdlimit.c says when it is not). An auto value is at most
 * SF_FDLIMIT_AUTO_MAX; when the values do not fit, the cache gives way
 * first (down to a third of available), then max_connections; so with
 * both auto the cache gets what 10000 connections leave, but at least a
 * third, and the connections the rest. Never below 1.
 *
 * The budget is what the server plans by, not a promise: when an open
 * still fails with EMFILE or ENFILE the file cache lets go of what no
 * response uses and the open is tried again (fcache.h), and a request
 * that still cannot be served is answered 503 with Retry-After.
 */
#ifndef SFHTTPD_FDLIMIT_H
#define SFHTTPD_FDLIMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "sfhttpd/config.h"

struct sf_log;

#define SF_FDLIMIT_BASE 24
#define SF_FDLIMIT_AUTO_MAX 10000 /* the most an auto value takes */

struct sf_fdlimit {
    unsigned long long soft, hard; /* RLIMIT_NOFILE */
    unsigned long long was;        /* the soft limit before sf_fdlimit_raise */
    unsigned reserve;
    unsigned max_connections;
    size_t open_file_cache_max;
    size_t listing_cache_max;    /* folders the listing cache may keep */
    unsigned capped_connections; /* a given max_connections that was
                                    capped (0: none) */
    size_t capped_cache;         /* the same for open_file_cache_max */
};

/* Raise the soft RLIMIT_NOFILE to the hard limit (where the hard limit is
 * unlimited, to fs.nr_open). Fills fl's soft, hard and was. Returns 0 or
 * the -errno of getrlimit/setrlimit (fl then holds the limits as they
 * are). */
int sf_fdlimit_raise(struct sf_fdlimit *fl);

/* The budget of cfg under a limit of nofile descriptors (pure: the
 * formula above). Fills every field of fl but soft, hard and was. */
void sf_fdlimit_plan(const struct sf_config *cfg, unsigned long long nofile, struct sf_fdlimit *fl);

/* The budget of cfg under the limits in force now (getrlimit). */
void sf_fdlimit_get(const struct sf_config *cfg, struct sf_fdlimit *fl);

/* One line of the budget, as -T prints it after "; limits: ":
 * "nofile 1024/4096 (soft/hard), max_connections N, open_file_cache_max
 * N, listing_cache_max N, reserve N". Returns snprintf's count. */
int sf_fdlimit_format(const struct sf_fdlimit *fl, char *buf, size_t cap);

/* Log the budget at info (with the raise, if any) and a warning for each
 * capped value. */
void sf_fdlimit_log(const struct sf_fdlimit *fl, struct sf_log *log);

#endif
