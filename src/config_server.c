/*
 * config_server.c - the [server] section: the table of its keys (walked
 * by the loader, the defaults, sf_config_free, sf_config_validate and
 * sf_config_dump) and the setters and dumpers no generic one covers:
 * listen lines, log destinations, master, workers, user, group, pid_file.
 */
#include "config_int.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DAY_MS (24ULL * 3600 * 1000)

/* ---- listen ------------------------------------------------------------------ */

int
sf_config_add_listen(struct sf_config *cfg, const char *line)
{
    char addr[256], why[160];
    struct sf_listen_opts o;
    if (config_split_listen(line, addr, sizeof(addr), &o, why, sizeof(why), false))
        return -EINVAL;
    if (!cfg->listen_is_default && cfg->nlisten >= SF_CONFIG_MAX_LISTEN)
        return -E2BIG;
    char *copy = strdup(addr);
    if (!copy)
        return -ENOMEM;
    if (cfg->listen_is_default) {
        for (size_t i = 0; i < cfg->nlisten; i++) {
            free(cfg->listen[i].addr);
            free(cfg->listen[i].at);
            cfg->listen[i] = (struct sf_listen){0};
        }
        cfg->nlisten = 0;
        cfg->listen_is_default = false;
    }
    cfg->listen[cfg->nlisten++] = (struct sf_listen){.addr = copy, .opts = o};
    return 0;
}

static void
set_listen(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    struct sf_config *cfg = obj;
    char addr[256], why[160];
    struct sf_listen_opts o;
    (void)k;
    (void)arg;
    if (sf_config_parse_listen(v, addr, sizeof(addr), &o, why, sizeof(why))) {
        config_err(l, l->lineno, "listen: %s", why);
        return;
    }
    for (size_t i = 0; !cfg->listen_is_default && i < cfg->nlisten; i++) {
        if (strcmp(cfg->listen[i].addr, addr) == 0) {
            config_err(l, l->lineno, "listen: '%s' given twice", addr);
            return;
        }
    }
    int rc = sf_config_add_listen(cfg, v);
    if (rc == -E2BIG)
        config_err(l, l->lineno, "listen: more than %d addresses", SF_CONFIG_MAX_LISTEN);
    else if (rc)
        config_oom();
    else
        config_note_at(l, &cfg->listen[cfg->nlisten - 1].at);
}

static void
dump_listen(FILE *out, const struct key *k, const void *obj)
{
    const struct sf_config *cfg = obj;
    for (size_t i = 0; i < cfg->nlisten; i++) {
        const struct sf_listen *ln = &cfg->listen[i];
        fprintf(out, "%s = %s", k->name, ln->addr);
        if (ln->opts.proxy_protocol)
            fputs(" proxy_protocol", out);
        if (ln->opts.backlog)
            fprintf(out, " backlog=%d", ln->opts.backlog);
        if (ln->addr[0] == '[' && !ln->opts.v6only)
            fputs(" ipv6only=off", out);
        fputc('\n', out);
    }
}

static void
free_listen(const struct key *k, void *obj)
{
    struct sf_config *cfg = obj;
    (void)k;
    for (size_t i = 0; i < cfg->nlisten; i++) {
        free(cfg->listen[i].addr);
        free(cfg->listen[i].at);
        cfg->listen[i] = (struct sf_listen){0};
    }
    cfg->nlisten = 0;
}

/* ---- the other keys with setters of their own ---------------------------------- */

/* A log destination: "-", "off" (access log only) or a path made
 * absolute against the config folder. */
static void
set_log(struct loader *l, const struct key *k, void *obj, const char *v, bool can_be_off)
{
    if (!*v || (!can_be_off && strcasecmp(v, "off") == 0)) {
        config_err(l, l->lineno, "%s: '%s' is not %s", k->name, v,
                   can_be_off ? "a path, '-' or 'off'" : "a path or '-'");
        return;
    }
    char **dst = config_field(k, obj);
    char *dest = config_log_dest(l, v);
    free(*dst);
    *dst = dest;
}

static void
set_access_log(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    (void)arg;
    set_log(l, k, obj, v, true);
}

static void
set_error_log(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    (void)arg;
    set_log(l, k, obj, v, false);
}

static void
set_workers(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    (void)arg;
    int n, rc = sf_config_parse_workers(v, &n);
    if (rc == -EINVAL)
        config_err(l, l->lineno, "%s: '%s' is not a number or 'auto'", k->name, v);
    else if (rc)
        config_err(l, l->lineno, "%s: '%s' out of range (%llu..%llu)", k->name, v, k->min, k->max);
    else
        config_put_number(k, obj, (unsigned long long)n);
}

/* master = auto (-1) | on (1) | off (0) */
static void
set_master(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    struct sf_config *cfg = obj;
    bool b;
    (void)arg;
    if (strcasecmp(v, "auto") == 0)
        cfg->master = -1;
    else if (config_parse_bool(v, &b) == 0)
        cfg->master = b;
    else
        config_err(l, l->lineno, "%s: '%s' is not auto, on or off", k->name, v);
}

static void
dump_master(FILE *out, const struct key *k, const void *obj)
{
    const struct sf_config *cfg = obj;
    fprintf(out, "%s = %s\n", k->name, cfg->master < 0 ? "auto" : cfg->master ? "on" : "off");
}

/* user = NAME, group = NAME: must exist now (getpwnam/getgrnam). */
static void
set_name(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    bool user = strcmp(k->name, "user") == 0;
    (void)arg;
    if (!*v || (user ? getpwnam(v) == NULL : getgrnam(v) == NULL)) {
        config_err(l, l->lineno, "%s: no such %s '%s'", k->name, user ? "user" : "group", v);
        return;
    }
    char **dst = config_field(k, obj);
    free(*dst);
    *dst = config_xstrdup(v);
}

/* A file path, made absolute against the config folder. */
static void
set_path(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    (void)arg;
    if (!*v) {
        config_err(l, l->lineno, "%s: empty path", k->name);
        return;
    }
    char **dst = config_field(k, obj);
    free(*dst);
    *dst = config_xalloc(config_make_absolute(l->dir, v));
}

/* snapshot_dir = off | a folder: where reflink snapshots of files being
 * changed are made (O_TMPFILE, never linked); off (NULL) by default. */
static void
set_snapshot_dir(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    if (strcasecmp(v, "off") == 0) {
        char **dst = config_field(k, obj);
        free(*dst);
        *dst = NULL;
        return;
    }
    set_path(l, k, obj, arg, v);
}

static void
dump_snapshot_dir(FILE *out, const struct key *k, const void *obj)
{
    if (!*(char *const *)config_cfield(k, obj))
        fprintf(out, "%s = off\n", k->name);
    else
        config_dump_string(out, k, obj);
}

/* drain_delay = off | 0 | a time: how long a stop keeps serving (and
 * the health path failing) before the graceful stop. */
static void
set_drain_delay(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    unsigned long long n = 0;
    (void)arg;
    int rc = strcasecmp(v, "off") == 0 ? 0 : config_parse_ms(v, &n);
    if (rc == -EINVAL)
        config_err(l, l->lineno,
                   "%s: '%s' is not off or a time (seconds, fractions allowed, or a "
                   "number with ms)",
                   k->name, v);
    else if (rc || n > k->max)
        config_err(l, l->lineno, "%s: '%s' out of range (at most 1 hour)", k->name, v);
    else
        config_put_number(k, obj, n);
}

static void
dump_drain_delay(FILE *out, const struct key *k, const void *obj)
{
    if (config_get_number(k, obj) == 0)
        fprintf(out, "%s = off\n", k->name);
    else
        config_dump_ms(out, k, obj);
}

/* health_path = /PATH | off: a path a request names byte for byte (the
 * query aside), so no escapes, no query, no fragment, nothing a request
 * target could not carry as is. */
static void
set_health_path(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    char **dst = config_field(k, obj);
    (void)arg;
    if (strcasecmp(v, "off") == 0) {
        free(*dst);
        *dst = NULL;
        return;
    }
    size_t n = strlen(v);
    if (n == 0) {
        config_err(l, l->lineno, "%s: empty value", k->name);
        return;
    }
    bool ok = v[0] == '/' && n <= SF_CONFIG_MAX_HEALTH_PATH;
    for (size_t i = 0; ok && i < n; i++)
        ok = v[i] > 0x20 && v[i] < 0x7f && !strchr("?#%\\", v[i]);
    if (!ok) {
        config_err(l, l->lineno,
                   "%s: '%s' is not off or a path (starting with '/', at most %d bytes of "
                   "printable ASCII without '?', '#', '%%' or '\\')",
                   k->name, v, SF_CONFIG_MAX_HEALTH_PATH);
        return;
    }
    free(*dst);
    *dst = config_xstrdup(v);
}

/* max_connections, open_file_cache_max = auto | n: auto (stored as 0) is
 * worked out from RLIMIT_NOFILE at start (fdlimit.h). */
static void
set_auto(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    if (strcasecmp(v, "auto") == 0)
        config_put_number(k, obj, 0);
    else if (k->type == T_SIZE)
        config_set_size(l, k, obj, arg, v);
    else
        config_set_number(l, k, obj, arg, v);
}

static void
dump_auto(FILE *out, const struct key *k, const void *obj)
{
    if (config_get_number(k, obj) == 0)
        fprintf(out, "%s = auto\n", k->name);
    else if (k->type == T_SIZE)
        config_dump_size(out, k, obj);
    else
        config_dump_number(out, k, obj);
}

/* ---- the table ----------------------------------------------------------------- */

static const char *const guard_names[] = {"lease", "stat", "off"};
const char *const config_log_format_names[] = {"combined", "json", "vhost_combined"};

#define AT(f) .at = offsetof(struct sf_config, f)
#define NAMES(a) .names = a, .nnames = SF_ARRAY_LEN(a)
#define NUMBER config_set_number, config_dump_number
#define SIZE config_set_size, config_dump_size
#define TIME config_set_ms, config_dump_ms
#define BOOL config_set_bool, config_dump_bool
#define ENUM config_set_enum, config_dump_enum

const struct key config_server_keys[] = {
    {"listen", set_listen, dump_listen, .free = free_listen, .def = "127.0.0.1:8080",
     .flags = KEY_REPEAT},
    {"backlog", NUMBER, .def = "511", SERVER_FIELD(backlog), .min = 1, .max = 65535},
    {"workers", set_workers, config_dump_number, .def = "1", SERVER_FIELD(workers), .min = 0,
     .max = SF_CONFIG_MAX_WORKERS},
    {"master", set_master, dump_master, .def = "auto"},
    {"reuseport", BOOL, .def = "off", SERVER_FIELD(reuseport)},
    {"defer_accept", BOOL, .def = "on", SERVER_FIELD(defer_accept)},
    {"user", set_name, config_dump_string, SERVER_FIELD(user), AT(user_at)},
    {"group", set_name, config_dump_string, SERVER_FIELD(group), AT(group_at)},
    {"pid_file", set_path, config_dump_string, SERVER_FIELD(pid_file), AT(pid_file_at)},
    {"header_timeout", TIME, .def = "10", SERVER_FIELD(header_timeout_ms), .min = 1, .max = DAY_MS},
    {"keepalive_timeout", TIME, .def = "15", SERVER_FIELD(keepalive_timeout_ms), .min = 1,
     .max = DAY_MS},
    {"send_timeout", TIME, .def = "60", SERVER_FIELD(send_timeout_ms), .min = 1, .max = DAY_MS},
    {"shutdown_timeout", TIME, .def = "10", SERVER_FIELD(shutdown_timeout_ms), .min = 1,
     .max = DAY_MS},
    {"drain_delay", set_drain_delay, dump_drain_delay, .def = "off", SERVER_FIELD(drain_delay_ms),
     .max = 3600 * 1000},
    {"health_path", set_health_path, config_dump_string, SERVER_FIELD(health_path)},
    {"max_header_size", SIZE, .def = "8k", SERVER_FIELD(max_header_size), .min = KIB, .max = MIB},
    {"max_uri_length", SIZE, .def = "8k", SERVER_FIELD(max_uri_length), .min = 64, .max = MIB},
    {"max_headers", NUMBER, .def = "100", SERVER_FIELD(max_headers), .min = 1, .max = 1000},
    {"send_chunk", SIZE, .def = "2m", SERVER_FIELD(send_chunk), .min = 4 * KIB, .max = GIB},
    {"send_chunk_paced", SIZE, .def = "64k", SERVER_FIELD(send_chunk_paced), .min = 4 * KIB,
     .max = GIB},
    {"max_ranges", NUMBER, .def = "16", SERVER_FIELD(max_ranges), .min = 1, .max = 64},
    {"max_connections", set_auto, dump_auto, .def = "auto", SERVER_FIELD(max_connections), .min = 1,
     .max = 1000000, .what = "a number or auto", .flags = KEY_AUTO},
    {"max_body_size", SIZE, .def = "1m", SERVER_FIELD(max_body_size), .min = 0, .max = GIB},
    {"access_log", set_access_log, config_dump_string, .def = "-", SERVER_FIELD(access_log),
     AT(access_log_at)},
    {"error_log", set_error_log, config_dump_string, .def = "-", SERVER_FIELD(error_log),
     AT(error_log_at)},
    {"log_level", ENUM, .def = "info", SERVER_FIELD(log_level), NAMES(config_level_names)},
    {"file_guard", ENUM, .def = "lease", SERVER_FIELD(file_guard), NAMES(guard_names)},
    {"open_file_cache_max", set_auto, dump_auto, .def = "auto", SERVER_FIELD(open_file_cache_max),
     .min = 1, .max = 1000000, .what = "a size (a number, or with k, m or g) or auto",
     .flags = KEY_AUTO},
    {"small_file_size", SIZE, .def = "16k", SERVER_FIELD(small_file_size), .min = 0,
     .max = 16 * MIB},
    {"small_file_budget", SIZE, .def = "64m", SERVER_FIELD(small_file_budget), .min = 0,
     .max = 16 * GIB},
    {"snapshot_budget", SIZE, .def = "32m", SERVER_FIELD(snapshot_budget), .min = 0,
     .max = 64 * GIB},
    {"snapshot_dir", set_snapshot_dir, dump_snapshot_dir, SERVER_FIELD(snapshot_dir)},
    {"lease_break_wait", TIME, .def = "0.05", SERVER_FIELD(lease_break_wait_ms), .min = 0,
     .max = 10 * 1000},
    {"max_listing_entries", SIZE, .def = "10000", SERVER_FIELD(max_listing_entries), .min = 1,
     .max = 10000000},
    {"listing_cache_size", SIZE, .def = "32m", SERVER_FIELD(listing_cache_size), .min = 0,
     .max = 16 * GIB},
    {"listing_cache_max", SIZE, .def = "256", SERVER_FIELD(listing_cache_max), .min = 1,
     .max = 100000},
    {"strict_hosts", BOOL, .def = "off", SERVER_FIELD(strict_hosts)},
    {"access_log_format", ENUM, .def = "combined", SERVER_FIELD(access_log_format),
     NAMES(config_log_format_names), .what = "combined, vhost_combined or json"},
};
const size_t config_nserver_keys = SF_ARRAY_LEN(config_server_keys);
_Static_assert(SF_ARRAY_LEN(config_server_keys) <= CONFIG_MAX_KEYS, "raise CONFIG_MAX_KEYS");
_Static_assert(offsetof(struct sf_config, path) == 0, "offset 0 is never a place (key.at)");
