/*
 * config_server.c - the [server] section: the table of its keys (also
 * walked by sf_config_validate and sf_config_dump) and their handlers,
 * which report a bad value at the loader's current line.
 */
#include "config_int.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DAY_MS (24ULL * 3600 * 1000)

#define FIELD(f) offsetof(struct sf_config, f)

const struct key config_server_keys[] = {
    {"listen", K_LISTEN, FIELD(listen), 0, 0},
    {"backlog", K_INT, FIELD(backlog), 1, 65535},
    {"workers", K_WORKERS, FIELD(workers), 0, 4096},
    {"master", K_MASTER, FIELD(master), 0, 0},
    {"reuseport", K_BOOL, FIELD(reuseport), 0, 0},
    {"defer_accept", K_BOOL, FIELD(defer_accept), 0, 0},
    {"user", K_NAME, FIELD(user), 0, 0},
    {"group", K_NAME, FIELD(group), 0, 0},
    {"pid_file", K_PATH, FIELD(pid_file), 0, 0},
    {"header_timeout", K_MS, FIELD(header_timeout_ms), 1, DAY_MS},
    {"keepalive_timeout", K_MS, FIELD(keepalive_timeout_ms), 1, DAY_MS},
    {"send_timeout", K_MS, FIELD(send_timeout_ms), 1, DAY_MS},
    {"shutdown_timeout", K_MS, FIELD(shutdown_timeout_ms), 1, DAY_MS},
    {"max_header_size", K_SIZE, FIELD(max_header_size), KIB, MIB},
    {"max_uri_length", K_SIZE, FIELD(max_uri_length), 64, MIB},
    {"max_headers", K_UINT, FIELD(max_headers), 1, 1000},
    {"send_chunk", K_SIZE, FIELD(send_chunk), 4 * KIB, GIB},
    {"max_ranges", K_UINT, FIELD(max_ranges), 1, 64},
    {"max_connections", K_UINT, FIELD(max_connections), 1, 1000000},
    {"max_body_size", K_SIZE, FIELD(max_body_size), 0, GIB},
    {"access_log", K_ACCESS_LOG, FIELD(access_log), 0, 0},
    {"error_log", K_ERROR_LOG, FIELD(error_log), 0, 0},
    {"log_level", K_LEVEL, FIELD(log_level), 0, 0},
    {"file_guard", K_GUARD, FIELD(file_guard), 0, 0},
    {"open_file_cache_max", K_SIZE, FIELD(open_file_cache_max), 1, 1000000},
    {"small_file_size", K_SIZE, FIELD(small_file_size), 0, 16 * MIB},
    {"max_listing_entries", K_SIZE, FIELD(max_listing_entries), 1, 10000000},
    {"listing_cache_size", K_SIZE, FIELD(listing_cache_size), 0, 16 * GIB},
    {"listing_cache_max", K_SIZE, FIELD(listing_cache_max), 1, 100000},
    {"strict_hosts", K_BOOL, FIELD(strict_hosts), 0, 0},
    {"access_log_format", K_LOG_FORMAT, FIELD(access_log_format), 0, 0},
};
_Static_assert(SF_ARRAY_LEN(config_server_keys) == CONFIG_NSERVER_KEYS,
               "CONFIG_NSERVER_KEYS must match the table");

const char *const config_level_names[] = {"error", "warn", "info", "debug"};
const char *const config_guard_names[] = {"lease", "stat", "off"};
static const char *const log_format_names[] = {"combined", "json"};

static void *
field(struct sf_config *cfg, const struct key *k)
{
    return (char *)cfg + k->off;
}

static void
set_listen(struct loader *l, const char *v)
{
    struct sf_config *cfg = l->cfg;
    char addr[256], why[160];
    struct sf_listen_opts o;
    if (sf_config_parse_listen(v, addr, sizeof(addr), &o, why, sizeof(why))) {
        config_err(l, l->lineno, "listen: %s", why);
        return;
    }
    for (size_t i = 0; !cfg->listen_is_default && i < cfg->nlisten; i++) {
        if (strcmp(cfg->listen[i], addr) == 0) {
            config_err(l, l->lineno, "listen: '%s' given twice", addr);
            return;
        }
    }
    int rc = sf_config_add_listen(cfg, v);
    if (rc == -E2BIG)
        config_err(l, l->lineno, "listen: more than %d addresses", SF_CONFIG_MAX_LISTEN);
    else if (rc)
        config_oom();
}

/* A log destination: "-", "off" (access log only) or a path made
 * absolute against the config folder. */
static void
set_log(struct loader *l, const struct key *k, const char *v)
{
    char **dst = field(l->cfg, k);
    if (!*v || (k->kind == K_ERROR_LOG && strcasecmp(v, "off") == 0)) {
        config_err(l, l->lineno, "%s: '%s' is not %s", k->name, v,
                   k->kind == K_ERROR_LOG ? "a path or '-'" : "a path, '-' or 'off'");
        return;
    }
    char *path;
    if (strcmp(v, "-") == 0 || strcasecmp(v, "off") == 0)
        path = config_xstrdup(strcmp(v, "-") == 0 ? "-" : "off");
    else
        path = config_xalloc(config_make_absolute(l->dir, v));
    free(*dst);
    *dst = path;
}

static void
set_number(struct loader *l, const struct key *k, const char *v)
{
    unsigned long long n = 0;
    int rc;
    const char *what = "a number";
    switch (k->kind) {
    case K_SIZE:
        rc = config_parse_size(v, &n);
        what = "a size (bytes, or a number with k, m or g)";
        break;
    case K_MS:
        rc = config_parse_ms(v, &n);
        what = "a time (seconds, fractions allowed, or a number with ms)";
        break;
    case K_WORKERS:
        if (strcasecmp(v, "auto") == 0) {
            long cpus = sysconf(_SC_NPROCESSORS_ONLN);
            n = cpus > 0 ? (unsigned long long)cpus : 1;
            if (n > k->max)
                n = k->max;
            rc = 0;
            break;
        }
        rc = config_parse_number(v, &n);
        what = "a number or 'auto'";
        break;
    default: rc = config_parse_number(v, &n); break;
    }
    if (rc == -EINVAL) {
        config_err(l, l->lineno, "%s: '%s' is not %s", k->name, v, what);
        return;
    }
    if (rc || n < k->min || n > k->max) {
        if (k->kind == K_MS)
            config_err(l, l->lineno, "%s: '%s' out of range (more than 0, at most 1 day)", k->name,
                       v);
        else
            config_err(l, l->lineno, "%s: '%s' out of range (%llu..%llu)", k->name, v, k->min,
                       k->max);
        return;
    }
    switch (k->kind) {
    case K_INT:
    case K_WORKERS: *(int *)field(l->cfg, k) = (int)n; break;
    case K_SIZE: *(size_t *)field(l->cfg, k) = (size_t)n; break;
    default: *(unsigned *)field(l->cfg, k) = (unsigned)n; break;
    }
}

/* master = auto|on|off */
static void
set_master(struct loader *l, const char *v)
{
    bool b;
    if (strcasecmp(v, "auto") == 0)
        l->cfg->master = -1;
    else if (config_parse_bool(v, &b) == 0)
        l->cfg->master = b;
    else
        config_err(l, l->lineno, "master: '%s' is not auto, on or off", v);
}

/* user = NAME, group = NAME: must exist now (getpwnam/getgrnam). */
static void
set_name(struct loader *l, const struct key *k, const char *v)
{
    bool user = strcmp(k->name, "user") == 0;
    if (!*v || (user ? getpwnam(v) == NULL : getgrnam(v) == NULL)) {
        config_err(l, l->lineno, "%s: no such %s '%s'", k->name, user ? "user" : "group", v);
        return;
    }
    char **dst = field(l->cfg, k);
    free(*dst);
    *dst = config_xstrdup(v);
}

/* A file path, made absolute against the config folder. */
static void
set_path(struct loader *l, const struct key *k, const char *v)
{
    if (!*v) {
        config_err(l, l->lineno, "%s: empty path", k->name);
        return;
    }
    char **dst = field(l->cfg, k);
    free(*dst);
    *dst = config_xalloc(config_make_absolute(l->dir, v));
}

void
config_server_key(struct loader *l, const char *name, const char *v)
{
    size_t i = 0;
    while (i < SF_ARRAY_LEN(config_server_keys) && strcmp(config_server_keys[i].name, name) != 0)
        i++;
    if (i == SF_ARRAY_LEN(config_server_keys)) {
        config_err(l, l->lineno, "unknown key '%s' in [server]", name);
        return;
    }
    const struct key *k = &config_server_keys[i];
    if (k->kind != K_LISTEN && l->server_keys[i] < 0) {
        config_err(l, l->lineno, "duplicate key '%s' (first set in another file)", name);
        return;
    }
    if (k->kind != K_LISTEN && l->server_keys[i]) {
        config_err(l, l->lineno, "duplicate key '%s' (first on line %d)", name, l->server_keys[i]);
        return;
    }
    l->server_keys[i] = l->lineno;
    switch (k->kind) {
    case K_LISTEN: set_listen(l, v); break;
    case K_LEVEL: {
        int level = config_lookup(v, config_level_names, SF_ARRAY_LEN(config_level_names));
        if (level < 0)
            config_err(l, l->lineno, "log_level: '%s' is not error, warn, info or debug", v);
        else
            l->cfg->log_level = (enum sf_log_level)level;
        break;
    }
    case K_GUARD: {
        int g = config_lookup(v, config_guard_names, SF_ARRAY_LEN(config_guard_names));
        if (g < 0)
            config_err(l, l->lineno, "file_guard: '%s' is not lease, stat or off", v);
        else
            l->cfg->file_guard = (enum sf_guard)g;
        break;
    }
    case K_ACCESS_LOG:
    case K_ERROR_LOG: set_log(l, k, v); break;
    case K_BOOL:
        if (config_parse_bool(v, (bool *)field(l->cfg, k)))
            config_err(l, l->lineno, "%s: '%s' is not on or off", k->name, v);
        break;
    case K_LOG_FORMAT: {
        int f = config_lookup(v, log_format_names, SF_ARRAY_LEN(log_format_names));
        if (f < 0)
            config_err(l, l->lineno, "%s: '%s' is not combined or json", k->name, v);
        else
            l->cfg->access_log_format = (enum sf_log_format)f;
        break;
    }
    case K_MASTER: set_master(l, v); break;
    case K_NAME: set_name(l, k, v); break;
    case K_PATH: set_path(l, k, v); break;
    default: set_number(l, k, v); break;
    }
}
