/*
 * privs.h - who the workers run as: user/group from the config, the
 * root policy (master.h), the switch itself (setgroups, setgid, setuid,
 * keeping only CAP_LEASE, with libcap-ng), and log files made writable
 * for the user they switch to.
 */
#ifndef SFHTTPD_PRIVS_H
#define SFHTTPD_PRIVS_H

#include <stdbool.h>
#include <sys/types.h>

#include "sfhttpd/config.h"
#include "sfhttpd/log.h"

struct sf_ids {
    bool drop;       /* switch to uid/gid (we are root, the user is not) */
    uid_t uid;
    gid_t gid;
    char user[64];   /* for messages */
};

/*
 * Decide who the workers run as. Started as root with a config file and
 * no user, it refuses (user = root must be said); quick mode (no config
 * file) stays root with an info line. Returns 0, or -1 with the reason
 * logged (unknown user or group, a user other than ours without root,
 * root refused).
 */
int sf_privs_resolve(const struct sf_config *cfg, struct sf_ids *ids,
                     struct sf_log *log);

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
