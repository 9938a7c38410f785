/*
 * privs.c - user/group resolution, the root policy, and the privilege
 * drop of the workers (privs.h). Only CAP_LEASE survives the switch: a
 * worker must take read leases on files it does not own (fcache.h).
 */
#include "sfhttpd/privs.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The place of the rule "as root, say who the workers run as": the
 * [server] header, else the file. */
static const char *
server_place(const struct sf_config *cfg)
{
    return cfg->server_at ? cfg->server_at : cfg->path;
}

/* nobody:nogroup (Debian's names; nobody's own group elsewhere). */
static int
fallback_ids(const struct sf_config *cfg, struct sf_ids *ids, FILE *errs)
{
    const struct passwd *pw = getpwnam(SF_PRIVS_FALLBACK_USER);
    if (!pw || pw->pw_uid == 0) {
        sf_config_problem(
            errs, server_place(cfg), NULL, NULL,
            "started as root without a user, and there is no user " SF_PRIVS_FALLBACK_USER
            " to run the workers as: set user = NAME in "
            "[server] (or -u NAME; user = root keeps root)");
        return -1;
    }
    ids->uid = pw->pw_uid;
    ids->gid = pw->pw_gid;
    snprintf(ids->user, sizeof(ids->user), "%s", SF_PRIVS_FALLBACK_USER);
    const struct group *gr = getgrnam(SF_PRIVS_FALLBACK_GROUP);
    if (gr) {
        ids->gid = gr->gr_gid;
        snprintf(ids->group, sizeof(ids->group), "%s", SF_PRIVS_FALLBACK_GROUP);
    } else if ((gr = getgrgid(ids->gid)) != NULL) {
        snprintf(ids->group, sizeof(ids->group), "%s", gr->gr_name);
    } else {
        snprintf(ids->group, sizeof(ids->group), "%ld", (long)ids->gid);
    }
    ids->drop = true;
    ids->fallback = true;
    return 0;
}

int
sf_privs_resolve(const struct sf_config *cfg, struct sf_ids *ids, FILE *errs)
{
    memset(ids, 0, sizeof(*ids));
    bool root = geteuid() == 0;
    ids->uid = geteuid();
    ids->gid = getegid();
    if (!cfg->user) {
        if (cfg->group) {
            sf_config_problem(errs, cfg->group_at, "group", cfg->group, "needs user = NAME too");
            return -1;
        }
        if (root && cfg->path)
            return fallback_ids(cfg, ids, errs);
        return 0; /* quick mode as root stays root (the caller says so) */
    }
    const struct passwd *pw = getpwnam(cfg->user);
    if (!pw) {
        sf_config_problem(errs, cfg->user_at, "user", cfg->user, "no such user");
        return -1;
    }
    ids->uid = pw->pw_uid;
    ids->gid = pw->pw_gid;
    snprintf(ids->user, sizeof(ids->user), "%s", cfg->user);
    if (cfg->group) {
        const struct group *gr = getgrnam(cfg->group);
        if (!gr) {
            sf_config_problem(errs, cfg->group_at, "group", cfg->group, "no such group");
            return -1;
        }
        ids->gid = gr->gr_gid;
        snprintf(ids->group, sizeof(ids->group), "%s", cfg->group);
    }
    if (root) {
        ids->drop = ids->uid != 0 || ids->gid != 0;
        return 0;
    }
    if (ids->uid != geteuid()) {
        sf_config_problem(errs, cfg->user_at, "user", cfg->user,
                          "running as uid %ld, not root: cannot switch (start as root, or "
                          "leave user out)",
                          (long)geteuid());
        return -1;
    }
    return 0;
}

int
sf_privs_become(const struct sf_ids *ids)
{
    gid_t gid = ids->gid;
    if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
        setresuid(ids->uid, ids->uid, ids->uid) != 0)
        return -errno;
    return 0;
}

static void
give(const char *path, const struct sf_ids *ids)
{
    if (!path || strcmp(path, "-") == 0 || strcmp(path, "off") == 0)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return; /* the worker reports it when it opens the file */
    if (fchown(fd, ids->uid, ids->gid) != 0) {
        /* also reported later, if it matters */
    }
    close(fd);
}

void
sf_privs_prepare_logs(const struct sf_config *cfg, const struct sf_ids *ids)
{
    if (!ids->drop)
        return;
    give(cfg->error_log, ids);
    give(cfg->access_log, ids);
    for (size_t i = 0; i < cfg->nsites; i++)
        give(cfg->sites[i].access_log, ids);
}

int
sf_privs_drop(const struct sf_ids *ids, struct sf_log *log)
{
    if (!ids->drop)
        return 0;
    gid_t gid = ids->gid;
    if (setgroups(1, &gid) != 0) {
        sf_log_errno(log, SF_LOG_ERROR, errno, "user %s: setgroups", ids->user);
        return -1;
    }
    capng_clear(CAPNG_SELECT_BOTH);
    if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_LEASE) != 0) {
        sf_log_msg(log, SF_LOG_ERROR, "user %s: cannot keep CAP_LEASE", ids->user);
        return -1;
    }
    int rc =
        capng_change_id((int)ids->uid, (int)ids->gid, CAPNG_CLEAR_BOUNDING | CAPNG_CLEAR_AMBIENT);
    if (rc != 0) {
        sf_log_errno(log, SF_LOG_ERROR, errno, "user %s: switching to uid %ld gid %ld failed (%d)",
                     ids->user, (long)ids->uid, (long)ids->gid, rc);
        return -1;
    }
    uid_t r, e, s;
    gid_t rg, eg, sg;
    if (getresuid(&r, &e, &s) != 0 || getresgid(&rg, &eg, &sg) != 0 || r != ids->uid ||
        e != ids->uid || s != ids->uid || rg != ids->gid || eg != ids->gid || sg != ids->gid ||
        (ids->uid != 0 && setuid(0) == 0)) {
        sf_log_msg(log, SF_LOG_ERROR, "user %s: the switch did not take", ids->user);
        return -1;
    }
    return 0;
}
