/*
 * config_check.c - the checks of a finished configuration
 * (sf_config_validate, whoever built it: file, quick mode or both) and
 * the dump of its effective values in config-file syntax
 * (sf_config_dump).
 */
#include "config_int.h"

#include <errno.h>
#include <limits.h>
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

static unsigned long long
number_of(const struct sf_config *cfg, const struct key *k)
{
    const void *p = (const char *)cfg + k->off;
    switch (k->kind) {
    case K_INT:
    case K_WORKERS: return *(const int *)p < 0 ? ULLONG_MAX : (unsigned long long)*(const int *)p;
    case K_SIZE: return *(const size_t *)p;
    default: return *(const unsigned *)p;
    }
}

static bool
is_number_key(const struct key *k)
{
    return k->kind == K_INT || k->kind == K_UINT || k->kind == K_SIZE || k->kind == K_MS ||
           k->kind == K_WORKERS;
}

int
sf_config_validate(const struct sf_config *cfg, FILE *errs)
{
    int nerr = 0;
    if (cfg->nlisten == 0)
        verr(errs, &nerr, "no listen address");
    for (size_t i = 0; i < cfg->nlisten; i++) {
        struct sockaddr_storage ss;
        unsigned sslen;
        if (sf_config_parse_addr(cfg->listen[i], &ss, &sslen) && cfg->listen_at[i]) {
            nerr++;
            sf_config_problem(errs, cfg->listen_at[i], "listen", cfg->listen[i], "not an address");
        } else if (sf_config_parse_addr(cfg->listen[i], &ss, &sslen)) {
            verr(errs, &nerr, "listen: '%s' is not an address", cfg->listen[i]);
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->listen[i], cfg->listen[j]) == 0)
                verr(errs, &nerr, "listen: '%s' given twice", cfg->listen[i]);
        }
    }
    if (cfg->master == 0 && cfg->workers > 1)
        verr(errs, &nerr, "master = off needs workers = 0 or 1 (workers = %d)", cfg->workers);
    if (cfg->master == 1 && cfg->workers == 0)
        verr(errs, &nerr, "master = on needs workers >= 1");
    for (size_t i = 0; i < SF_ARRAY_LEN(config_server_keys); i++) {
        const struct key *k = &config_server_keys[i];
        if (!is_number_key(k))
            continue;
        unsigned long long n = number_of(cfg, k);
        if (n < k->min || n > k->max)
            verr(errs, &nerr, "%s: %llu out of range (%llu..%llu)", k->name, n, k->min, k->max);
    }
    if (!cfg->access_log || !cfg->error_log)
        verr(errs, &nerr, "no access_log or error_log destination");
    if ((unsigned)cfg->log_level > SF_LOG_DEBUG)
        verr(errs, &nerr, "log_level: bad value %d", (int)cfg->log_level);
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

static void
dump_ms(FILE *out, const char *name, unsigned ms)
{
    if (ms % 1000 == 0) {
        fprintf(out, "%s = %u\n", name, ms / 1000);
        return;
    }
    char frac[8];
    snprintf(frac, sizeof(frac), "%03u", ms % 1000);
    for (size_t n = strlen(frac); n > 1 && frac[n - 1] == '0'; n--)
        frac[n - 1] = '\0';
    fprintf(out, "%s = %u.%s\n", name, ms / 1000, frac);
}

static void
dump_size(FILE *out, const char *name, unsigned long long n)
{
    static const struct {
        unsigned long long mult;
        char suffix;
    } units[] = {{GIB, 'g'}, {MIB, 'm'}, {KIB, 'k'}};
    for (size_t i = 0; i < SF_ARRAY_LEN(units); i++) {
        if (n && n % units[i].mult == 0) {
            fprintf(out, "%s = %llu%c\n", name, n / units[i].mult, units[i].suffix);
            return;
        }
    }
    fprintf(out, "%s = %llu\n", name, n);
}

void
sf_config_dump(const struct sf_config *cfg, FILE *out)
{
    fprintf(out, "; effective configuration%s%s\n", cfg->path ? " from " : "",
            cfg->path ? cfg->path : "");
    fputs("[server]\n", out);
    for (size_t i = 0; i < cfg->nlisten; i++) {
        fprintf(out, "listen = %s", cfg->listen[i]);
        if (cfg->listen_proxy[i])
            fputs(" proxy_protocol", out);
        if (cfg->listen_backlog[i])
            fprintf(out, " backlog=%d", cfg->listen_backlog[i]);
        if (cfg->listen[i][0] == '[' && !cfg->listen_v6only[i])
            fputs(" ipv6only=off", out);
        fputc('\n', out);
    }
    for (size_t i = 0; i < SF_ARRAY_LEN(config_server_keys); i++) {
        const struct key *k = &config_server_keys[i];
        const void *p = (const char *)cfg + k->off;
        switch (k->kind) {
        case K_LISTEN: break;
        case K_MASTER:
            fprintf(out, "master = %s\n", cfg->master < 0 ? "auto" : cfg->master ? "on" : "off");
            break;
        case K_NAME:
        case K_PATH:
            if (*(char *const *)p)
                fprintf(out, "%s = %s\n", k->name, *(char *const *)p);
            break;
        case K_MS: dump_ms(out, k->name, *(const unsigned *)p); break;
        case K_SIZE: dump_size(out, k->name, *(const size_t *)p); break;
        case K_INT:
        case K_WORKERS: fprintf(out, "%s = %d\n", k->name, *(const int *)p); break;
        case K_UINT: fprintf(out, "%s = %u\n", k->name, *(const unsigned *)p); break;
        case K_ACCESS_LOG:
        case K_ERROR_LOG: {
            const char *s = *(char *const *)p;
            fprintf(out, "%s = %s\n", k->name, s ? s : "-");
            break;
        }
        case K_GUARD:
            fprintf(out, "%s = %s\n", k->name,
                    (unsigned)cfg->file_guard < SF_ARRAY_LEN(config_guard_names)
                        ? config_guard_names[cfg->file_guard]
                        : "lease");
            break;
        case K_LEVEL:
            fprintf(out, "%s = %s\n", k->name,
                    (unsigned)cfg->log_level < SF_ARRAY_LEN(config_level_names)
                        ? config_level_names[cfg->log_level]
                        : "info");
            break;
        case K_BOOL: fprintf(out, "%s = %s\n", k->name, *(const bool *)p ? "on" : "off"); break;
        case K_LOG_FORMAT:
            fprintf(out, "%s = %s\n", k->name,
                    (unsigned)cfg->access_log_format < SF_ARRAY_LEN(config_log_format_names)
                        ? config_log_format_names[cfg->access_log_format]
                        : "combined");
            break;
        }
    }
    for (size_t i = 0; i < cfg->nsites; i++) {
        const struct sf_site *site = &cfg->sites[i];
        fprintf(out, "\n[%s]\n", site->name ? site->name : "site");
        if (site->root)
            fprintf(out, "root = %s\n", site->root);
        fputs("index =", out);
        for (size_t j = 0; j < site->nindex; j++)
            fprintf(out, " %s", site->index[j]);
        fputc('\n', out);
        fprintf(out, "listing = %s\n", site->listing ? "on" : "off");
        fprintf(out, "dotfiles = %s\n", site->dotfiles ? "allow" : "deny");
        fprintf(out, "symlinks = %s\n",
                (unsigned)site->symlinks < SF_ARRAY_LEN(config_symlink_names)
                    ? config_symlink_names[site->symlinks]
                    : "beneath");
        fprintf(out, "precompressed = %s\n", site->precompressed ? site->precompressed : "off");
        if (site->cache_control)
            fprintf(out, "cache_control = %s\n", site->cache_control);
        if (site->expires >= 0)
            fprintf(out, "expires = %llds\n", site->expires);
        for (size_t j = 0; j < site->nrules; j++) {
            const struct sf_cache_rule *r = &site->rules[j];
            if (r->cache_control)
                fprintf(out, "cache_control %s%s = %s\n", r->is_ext ? "*" : "", r->match,
                        r->cache_control);
            if (r->expires >= 0)
                fprintf(out, "expires %s%s = %llds\n", r->is_ext ? "*" : "", r->match, r->expires);
        }
        for (size_t j = 0; j < site->nerror_pages; j++)
            fprintf(out, "error_page = %d %s\n", site->error_pages[j].status,
                    site->error_pages[j].path);
        if (site->nnames) {
            fputs("server_names =", out);
            for (size_t j = 0; j < site->nnames; j++)
                fprintf(out, " %s", site->names[j].name);
            fputc('\n', out);
        }
        fprintf(out, "default = %s\n", site->is_default ? "on" : "off");
        for (size_t j = 0; j < site->nadd_headers; j++)
            fprintf(out, "add_header = %s\n", site->add_headers[j]);
        for (size_t j = 0; j < site->nmime_types; j++)
            fprintf(out, "mime_types = %s %s\n", site->mime_types[j].ext, site->mime_types[j].type);
        if (site->access_log)
            fprintf(out, "access_log = %s\n", site->access_log);
        if (site->access_log_format_set &&
            (unsigned)site->access_log_format < SF_ARRAY_LEN(config_log_format_names))
            fprintf(out, "access_log_format = %s\n",
                    config_log_format_names[site->access_log_format]);
    }
}
