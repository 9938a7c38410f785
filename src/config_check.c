/*
 * config_check.c - the checks of a finished configuration
 * (sf_config_validate, whoever built it: file, quick mode or both) and
 * the dump of its effective values in config-file syntax
 * (sf_config_dump).
 */
#include "config_int.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

static void verr(FILE *errs, int *nerr, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
verr(FILE *errs, int *nerr, const char *fmt, ...)
{
    (*nerr)++;
    if (!errs)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(errs, fmt, ap);
    fputc('\n', errs);
    va_end(ap);
}

/* A command-line flag ("-l", "--error-log"), not a place in a file: flags
 * never hold ':', places always do once they have a line. */
static bool
is_flag(const char *at)
{
    return at[0] == '-' && at[1] && !strchr(at, ':');
}

void
sf_config_problem(FILE *errs, const char *at, const char *key, const char *value, const char *fmt,
                  ...)
{
    if (!errs)
        return;
    if (!at)
        fputs("sfhttpd: ", errs);
    else if (is_flag(at))
        fprintf(errs, "sfhttpd: %s%s", at, value ? " " : ": ");
    else
        fprintf(errs, "%s: ", at);
    if (at && is_flag(at)) {
        if (value)
            fprintf(errs, "%s: ", value);
    } else if (key) {
        fprintf(errs, "%s%s%s: ", key, value ? " " : "", value ? value : "");
    }
    va_list ap;
    va_start(ap, fmt);
    vfprintf(errs, fmt, ap);
    va_end(ap);
    fputc('\n', errs);
}

/* The root of a site: missing, relative, not a folder. Quick mode (no
 * config file) says it in its own words: the folder on the command line. */
static void
validate_root(const struct sf_config *cfg, const struct sf_site *site, FILE *errs, int *nerr)
{
    const char *name = site->name ? site->name : "site";
    struct stat st;
    int err = 0;
    if (!site->root) {
        verr(errs, nerr, "[%s]: missing root", name);
        return;
    }
    if (site->root[0] != '/') {
        verr(errs, nerr, "[%s]: root %s is not an absolute path", name, site->root);
        return;
    }
    if (stat(site->root, &st) < 0)
        err = errno;
    else if (!S_ISDIR(st.st_mode))
        err = ENOTDIR;
    if (!err)
        return;
    if (cfg->path && !site->root_at) {
        verr(errs, nerr, "[%s]: root %s: %s", name, site->root, strerror(err));
        return;
    }
    (*nerr)++;
    if (cfg->path)
        sf_config_problem(errs, site->root_at, "root", site->root, "%s", strerror(err));
    else if (err == ENOENT)
        sf_config_problem(errs, NULL, NULL, NULL, "no such folder: %s", site->root);
    else if (err == ENOTDIR)
        sf_config_problem(errs, NULL, NULL, NULL, "not a folder: %s", site->root);
    else
        sf_config_problem(errs, NULL, NULL, NULL, "cannot serve %s: %s", site->root, strerror(err));
}

/* A server name of site i that an earlier site (or site i itself) gives. */
static void
validate_names(const struct sf_config *cfg, size_t i, FILE *errs, int *nerr)
{
    const struct sf_site *site = &cfg->sites[i];
    const char *name = site->name ? site->name : "site";
    for (size_t a = 0; a < site->nnames; a++) {
        const char *n = site->names[a].name;
        bool dup = false;
        for (size_t j = 0; j <= i && !dup; j++) {
            const struct sf_site *o = &cfg->sites[j];
            size_t upto = j == i ? a : o->nnames;
            for (size_t b = 0; b < upto && !dup; b++)
                dup = strcmp(o->names[b].name, n) == 0;
        }
        if (dup)
            verr(errs, nerr, "[%s]: server name %s given twice", name, n);
    }
}

/* Where site i's access lines go, in which format ("off": nowhere). */
static const char *
site_log(const struct sf_config *cfg, size_t i, enum sf_log_format *fmt)
{
    const struct sf_site *site = &cfg->sites[i];
    *fmt = site->access_log_format_set ? site->access_log_format : cfg->access_log_format;
    return site->access_log ? site->access_log : cfg->access_log;
}

/* One access log, one format: site i must not write its destination in
 * another format than the server (whose lines with no site go to its
 * access_log) or an earlier site. */
static void
validate_log_format(const struct sf_config *cfg, size_t i, FILE *errs, int *nerr)
{
    const struct sf_site *site = &cfg->sites[i];
    enum sf_log_format fmt, other;
    const char *path = site_log(cfg, i, &fmt);
    if (!path || !cfg->access_log || strcmp(path, "off") == 0)
        return;
    const char *by = NULL;
    if (strcmp(path, cfg->access_log) == 0 && fmt != cfg->access_log_format) {
        other = cfg->access_log_format;
        by = "[server]";
    }
    for (size_t j = 0; !by && j < i; j++) {
        const char *p = site_log(cfg, j, &other);
        if (strcmp(p, path) == 0 && other != fmt)
            by = cfg->sites[j].name ? cfg->sites[j].name : "site";
    }
    if (!by)
        return;
    (*nerr)++;
    sf_config_problem(errs, site->at, NULL, NULL,
                      "[%s]: access_log_format %s, but its access log %s is written in %s by "
                      "%s%s%s: one file takes one format (give the site its own access_log)",
                      site->name ? site->name : "site", config_log_format_names[fmt],
                      strcmp(path, "-") == 0 ? "- (standard output)" : path,
                      config_log_format_names[other], by[0] == '[' ? "" : "[", by,
                      by[0] == '[' ? "" : "]");
}

int
sf_config_validate(const struct sf_config *cfg, FILE *errs)
{
    int nerr = 0;
    if (cfg->nlisten == 0)
        verr(errs, &nerr, "no listen address");
    for (size_t i = 0; i < cfg->nlisten; i++) {
        const struct sf_listen *ln = &cfg->listen[i];
        struct sockaddr_storage ss;
        unsigned sslen;
        if (sf_config_parse_addr(ln->addr, &ss, &sslen) && ln->at) {
            nerr++;
            sf_config_problem(errs, ln->at, "listen", ln->addr, "not an address");
        } else if (sf_config_parse_addr(ln->addr, &ss, &sslen)) {
            verr(errs, &nerr, "listen: '%s' is not an address", ln->addr);
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(ln->addr, cfg->listen[j].addr) == 0)
                verr(errs, &nerr, "listen: '%s' given twice", ln->addr);
        }
    }
    if (cfg->master == 0 && cfg->workers > 1)
        verr(errs, &nerr, "master = off needs workers = 0 or 1 (workers = %d)", cfg->workers);
    if (cfg->master == 1 && cfg->workers == 0)
        verr(errs, &nerr, "master = on needs workers >= 1");
    /* values set after loading (the command line, a program) */
    for (size_t i = 0; i < config_nserver_keys; i++) {
        const struct key *k = &config_server_keys[i];
        if (k->names) {
            long long v = config_get_number(k, cfg);
            if (v < 0 || (size_t)v >= k->nnames)
                verr(errs, &nerr, "%s: bad value %lld", k->name, v);
        } else if (k->max) {
            long long n = config_get_number(k, cfg);
            bool is_auto = n == 0 && (k->flags & KEY_AUTO);
            if (!is_auto &&
                (n < 0 || (unsigned long long)n < k->min || (unsigned long long)n > k->max))
                verr(errs, &nerr, "%s: %lld out of range (%llu..%llu)", k->name, n, k->min, k->max);
        }
    }
    if (!cfg->access_log || !cfg->error_log)
        verr(errs, &nerr, "no access_log or error_log destination");
    if (cfg->nsites == 0)
        verr(errs, &nerr, "no site configured");
    for (size_t i = 0; i < cfg->nsites; i++) {
        const struct sf_site *site = &cfg->sites[i];
        const char *name = site->name ? site->name : "site";
        validate_root(cfg, site, errs, &nerr);
        if (site->nindex > SF_CONFIG_MAX_INDEX)
            verr(errs, &nerr, "[%s]: more than %d index names", name, SF_CONFIG_MAX_INDEX);
        for (size_t j = 0; j < i; j++) {
            if (site->name && cfg->sites[j].name && strcmp(site->name, cfg->sites[j].name) == 0)
                verr(errs, &nerr, "duplicate site [%s]", name);
            if (site->is_default && cfg->sites[j].is_default)
                verr(errs, &nerr, "[%s]: a second default site", name);
        }
        validate_names(cfg, i, errs, &nerr);
        validate_log_format(cfg, i, errs, &nerr);
    }
    return nerr;
}

void
sf_config_dump(const struct sf_config *cfg, FILE *out)
{
    fprintf(out, "; effective configuration%s%s\n", cfg->path ? " from " : "",
            cfg->path ? cfg->path : "");
    fputs("[server]\n", out);
    config_keys_dump(config_server_keys, config_nserver_keys, cfg, out);
    for (size_t i = 0; i < cfg->nsites; i++) {
        const struct sf_site *site = &cfg->sites[i];
        fprintf(out, "\n[%s]\n", site->name ? site->name : "site");
        config_keys_dump(config_site_keys, config_nsite_keys, site, out);
    }
}
