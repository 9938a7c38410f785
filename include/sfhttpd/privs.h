/*
 * privs.h - who the workers run as: user/group from the config, the
 * root policy (as root without user: nobody, see startup.h), the switch
 * itself (setgroups, setgid, setuid, keeping only CAP_LEASE, with
 * libcap-ng), and log files made writable for the user they switch to.
 */
#ifndef SFHTTPD_PRIVS_H
#define SFHTTPD_PRIVS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "sfhttpd/config.h"
#include "sfhttpd/log.h"

/* Who the workers run as when sfhttpd is started as root with a config
 * file that names no user (and nobody can reach every root). */
#define SF_PRIVS_FALLBACK_USER "nobody"
#define SF_PRIVS_FALLBACK_GROUP "nogroup"

struct sf_ids {
    bool drop;     /* switch to uid/gid (we are root, the user is not) */
    bool fallback; /* no user was set: SF_PRIVS_FALLBACK_USER was picked */
    uid_t uid;
    gid_t gid;
    char user[64];  /* for messages; "" when no user was set */
    char group[64]; /* for messages; "" when it is the user's own */
};

/*
 * Decide who the workers run as. With user (and group) set: them, when
 * started as root; as anyone else, only that same user (no switch).
 * Started as root with a config file and no user: nobody:nogroup, marked
 * ids->fallback; the caller must then check that it can reach every
 * root and refuse otherwise (startup.h does). Quick mode (no config
 * file) as root without user stays root. Returns 0, or -1 with the
 * reason written to errs (sf_config_problem lines: an unknown user or
 * group, group without user, a user other than ours without root).
 */
int sf_privs_resolve(const struct sf_config *cfg, struct sf_ids *ids, FILE *errs);

/*
 * Switch this process to ids->uid/gid for good (setgroups to the one
 * group, setresgid, setresuid), keeping no capability: for a child that
 * only looks at the file system the way the workers will. Needs root.
 * Returns 0 or -errno.
 */
int sf_privs_become(const struct sf_ids *ids);

/* Create the configured log files that do not exist yet and give them to
 * ids->uid/gid, so that the workers can open and later reopen them after
 * the switch. A no-op unless ids->drop. */
void sf_privs_prepare_logs(const struct sf_config *cfg, const struct sf_ids *ids);

/*
 * Switch this process to ids (a no-op unless ids->drop): setgroups to the
 * one group, then setgid and setuid through capng_change_id, keeping only
 * CAP_LEASE (effective and permitted) and clearing the bounding and
 * ambient sets; then verify that root cannot be regained. Returns 0 or
 * -1 with the reason logged.
 */
int sf_privs_drop(const struct sf_ids *ids, struct sf_log *log);

#endif
