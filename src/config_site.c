/*
 * config_site.c - the keys of a [site ...] section and their handlers:
 * root, index, listing, dotfiles, symlinks, precompressed, cache headers
 * and their per-path rules, error pages, server names, the default site,
 * extra headers, MIME types and the site's access log. Each handler
 * reports a bad value at the loader's current line.
 */
#include "config_int.h"
#include "sfhttpd/vhost.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *const site_keys[S_COUNT] = {
    "root",          "index",        "listing", "dotfiles",   "symlinks",          "precompressed",
    "cache_control", "server_names", "default", "access_log", "access_log_format",
};

const char *const config_symlink_names[] = {"beneath", "follow", "none"};
static const char *const coding_names[] = {"br", "zstd", "gzip"};

static void
set_root(struct loader *l, struct sf_site *site, const char *v)
{
    if (!*v) {
        config_err(l, l->lineno, "root: empty path");
        return;
    }
    char *root = config_xalloc(config_make_absolute(l->dir, v));
    struct stat st;
    if (stat(root, &st) < 0)
        config_err(l, l->lineno, "root: %s: %s", root, strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        config_err(l, l->lineno, "root: %s: %s", root, strerror(ENOTDIR));
    free(site->root);
    site->root = root;
}

static void
set_index(struct loader *l, struct sf_site *site, const char *v)
{
    char *copy = config_xstrdup(v);
    char *names[SF_CONFIG_MAX_INDEX];
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
        if (strchr(t, '/') || strcmp(t, ".") == 0 || strcmp(t, "..") == 0) {
            config_err(l, l->lineno, "index: '%s' is not a file name", t);
            goto out;
        }
        if (n == SF_CONFIG_MAX_INDEX) {
            config_err(l, l->lineno, "index: more than %d names", SF_CONFIG_MAX_INDEX);
            goto out;
        }
        names[n++] = t;
    }
    if (n == 0) {
        config_err(l, l->lineno, "index: no file name");
        goto out;
    }
    for (size_t i = 0; i < site->nindex; i++)
        free(site->index[i]);
    for (size_t i = 0; i < n; i++)
        site->index[i] = config_xstrdup(names[i]);
    site->nindex = n;
out:
    free(copy);
}

/* "off", or a list of br, zstd, gzip; stored as "br, gzip" in the order
 * given (the order of preference). */
static void
set_precompressed(struct loader *l, struct sf_site *site, const char *v)
{
    if (strcasecmp(v, "off") == 0 || strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0) {
        free(site->precompressed);
        site->precompressed = NULL;
        return;
    }
    char *copy = config_xstrdup(v);
    struct sf_buf out = {0};
    unsigned seen = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
        int c = config_lookup(t, coding_names, SF_ARRAY_LEN(coding_names));
        if (c < 0) {
            config_err(l, l->lineno, "precompressed: '%s' is not br, zstd, gzip or off", t);
            goto out;
        }
        if (seen & (1u << c))
            continue;
        seen |= 1u << c;
        if (sf_buf_printf(&out, "%s%s", out.len ? ", " : "", coding_names[c]))
            config_oom();
    }
    if (!seen) {
        config_err(l, l->lineno, "precompressed: empty list");
        goto out;
    }
    free(site->precompressed);
    site->precompressed = out.data;
    out = (struct sf_buf){0};
out:
    sf_buf_free(&out);
    free(copy);
}

static void
set_cache_control(struct loader *l, struct sf_site *site, const char *v)
{
    if (!*v) {
        config_err(l, l->lineno, "cache_control: empty value (leave the key out for none)");
        return;
    }
    for (const char *p = v; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            config_err(l, l->lineno, "cache_control: control character in value");
            return;
        }
    }
    free(site->cache_control);
    site->cache_control = config_xstrdup(v);
}

/* The rule for MATCH ("/prefix" or "*.ext"), created on first use. */
static struct sf_cache_rule *
rule_for(struct loader *l, struct sf_site *site, const char *match)
{
    bool ext = match[0] == '*' && match[1] == '.' && match[2] && !strchr(match + 2, '/');
    if (!ext && match[0] != '/') {
        config_err(l, l->lineno, "'%s': expected a path prefix (/...) or an extension (*.ext)",
                   match);
        return NULL;
    }
    const char *m = ext ? match + 1 : match;
    for (size_t i = 0; i < site->nrules; i++)
        if (site->rules[i].is_ext == ext && strcmp(site->rules[i].match, m) == 0)
            return &site->rules[i];
    if (site->nrules == SF_CONFIG_MAX_RULES) {
        config_err(l, l->lineno, "more than %d cache rules in one site", SF_CONFIG_MAX_RULES);
        return NULL;
    }
    struct sf_cache_rule *r = &site->rules[site->nrules++];
    *r = (struct sf_cache_rule){.match = config_xstrdup(m), .is_ext = ext, .expires = -1};
    return r;
}

static bool
clean_value(struct loader *l, const char *key, const char *v)
{
    if (!*v) {
        config_err(l, l->lineno, "%s: empty value", key);
        return false;
    }
    for (const char *p = v; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            config_err(l, l->lineno, "%s: control character in value", key);
            return false;
        }
    }
    return true;
}

/* error_page = 404 410 /gone.html */
static void
add_error_page(struct loader *l, struct sf_site *site, const char *v)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", v);
    char *path = strrchr(buf, ' ');
    if (!path || path[1] != '/') {
        config_err(l, l->lineno, "error_page: expected 'STATUS... /PATH', got '%s'", v);
        return;
    }
    *path++ = '\0';
    for (char *tok = strtok(buf, " \t"); tok; tok = strtok(NULL, " \t")) {
        char *end;
        long st = strtol(tok, &end, 10);
        if (*end || st < 400 || st > 599) {
            config_err(l, l->lineno, "error_page: '%s' is not a status from 400 to 599", tok);
            return;
        }
        if (site->nerror_pages == SF_CONFIG_MAX_ERROR_PAGES) {
            config_err(l, l->lineno, "more than %d error pages in one site",
                       SF_CONFIG_MAX_ERROR_PAGES);
            return;
        }
        site->error_pages[site->nerror_pages++] =
            (struct sf_error_page){.status = (int)st, .path = config_xstrdup(path)};
    }
}

/* A site's line number for key k, or 0 when it came from elsewhere. */
static int
site_line(const struct loader *l, size_t site, enum site_key k)
{
    return site >= l->first_site ? l->sites[site].keys[k] : 0;
}

/* server_names = example.com *.example.com 192.0.2.1 [2001:db8::1] */
static void
set_server_names(struct loader *l, struct sf_site *site, const char *v)
{
    struct sf_config *cfg = l->cfg;
    char *copy = config_xstrdup(v);
    char *save = NULL;
    bool any = false;
    for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
        char name[SF_VHOST_NAME_MAX + 1];
        const char *why;
        any = true;
        if (sf_vhost_name_parse(t, name, &why)) {
            config_err(l, l->lineno, "server_names: '%s': %s", t, why);
            continue;
        }
        bool dup = false;
        for (size_t i = 0; i < cfg->nsites && !dup; i++) {
            const struct sf_site *o = &cfg->sites[i];
            for (size_t j = 0; j < o->nnames && !dup; j++) {
                if (strcmp(o->names[j].name, name) != 0)
                    continue;
                dup = true;
                int line = site_line(l, i, S_SERVER_NAMES);
                if (o == site)
                    config_err(l, l->lineno, "server_names: '%s' given twice", t);
                else if (line)
                    config_err(l, l->lineno, "server_names: '%s' already names [%s] (line %d)", t,
                               o->name, line);
                else
                    config_err(l, l->lineno, "server_names: '%s' already names [%s]", t, o->name);
            }
        }
        if (dup)
            continue;
        if (site->nnames == SF_CONFIG_MAX_NAMES) {
            config_err(l, l->lineno, "server_names: more than %d names", SF_CONFIG_MAX_NAMES);
            break;
        }
        size_t n = strlen(name);
        site->names[site->nnames++] = (struct sf_server_name){
            .name = config_xstrdup(name), .len = n, .wildcard = name[0] == '*'};
    }
    if (!any)
        config_err(l, l->lineno, "server_names: no name");
    free(copy);
}

static void
set_default(struct loader *l, struct sf_site *site, const char *v)
{
    bool on;
    if (config_parse_bool(v, &on)) {
        config_err(l, l->lineno, "default: '%s' is not on or off", v);
        return;
    }
    for (size_t i = 0; on && i < l->cfg->nsites; i++) {
        const struct sf_site *o = &l->cfg->sites[i];
        if (o == site || !o->is_default)
            continue;
        int line = site_line(l, i, S_DEFAULT);
        if (line)
            config_err(l, l->lineno, "default: [%s] is already the default site (line %d)", o->name,
                       line);
        else
            config_err(l, l->lineno, "default: [%s] is already the default site", o->name);
        return;
    }
    site->is_default = on;
}

/* A site's access_log: "-", "off" or a path made absolute. */
static void
set_site_access_log(struct loader *l, struct sf_site *site, const char *v)
{
    char *path;
    if (!*v) {
        config_err(l, l->lineno, "access_log: empty value (a path, '-' or 'off')");
        return;
    }
    if (strcmp(v, "-") == 0 || strcasecmp(v, "off") == 0)
        path = config_xstrdup(strcmp(v, "-") == 0 ? "-" : "off");
    else
        path = config_xalloc(config_make_absolute(l->dir, v));
    free(site->access_log);
    site->access_log = path;
}

/* RFC 9110 tchar */
static bool
is_tchar(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* add_header = Name: value. Headers that frame the message are ours. */
static void
add_header(struct loader *l, struct sf_site *site, const char *v)
{
    static const char *const reserved[] = {
        "content-length", "transfer-encoding", "connection", "keep-alive",
        "upgrade",        "trailer",           "te",         "content-range"};
    const char *colon = strchr(v, ':');
    size_t nlen = colon ? (size_t)(colon - v) : 0;
    while (nlen > 0 && isblank((unsigned char)v[nlen - 1]))
        nlen--;
    if (!colon || nlen == 0) {
        config_err(l, l->lineno, "add_header: expected 'Name: value', got '%s'", v);
        return;
    }
    for (size_t i = 0; i < nlen; i++) {
        if (!is_tchar((unsigned char)v[i])) {
            config_err(l, l->lineno, "add_header: '%.*s' is not a header name", (int)nlen, v);
            return;
        }
    }
    for (size_t i = 0; i < SF_ARRAY_LEN(reserved); i++) {
        if (strlen(reserved[i]) == nlen && strncasecmp(v, reserved[i], nlen) == 0) {
            config_err(l, l->lineno, "add_header: %.*s is set by the server", (int)nlen, v);
            return;
        }
    }
    const char *val = colon + 1 + strspn(colon + 1, " \t");
    if (!*val) {
        config_err(l, l->lineno, "add_header: %.*s: empty value", (int)nlen, v);
        return;
    }
    for (const char *p = val; *p; p++) {
        if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f) {
            config_err(l, l->lineno, "add_header: %.*s: control character in value", (int)nlen, v);
            return;
        }
    }
    size_t total = 0;
    for (size_t i = 0; i < site->nadd_headers; i++)
        total += strlen(site->add_headers[i]) + 2;
    struct sf_buf line = {0};
    if (sf_buf_printf(&line, "%.*s: %s", (int)nlen, v, val))
        config_oom();
    if (site->nadd_headers == SF_CONFIG_MAX_ADD_HEADERS)
        config_err(l, l->lineno, "add_header: more than %d headers in one site",
                   SF_CONFIG_MAX_ADD_HEADERS);
    else if (total + line.len + 2 > SF_CONFIG_ADD_HEADERS_BYTES)
        config_err(l, l->lineno, "add_header: more than %d bytes of headers in one site",
                   SF_CONFIG_ADD_HEADERS_BYTES);
    else {
        site->add_headers[site->nadd_headers++] = line.data;
        return;
    }
    sf_buf_free(&line);
}

/* mime_types = md text/markdown */
static void
add_mime_type(struct loader *l, struct sf_site *site, const char *v)
{
    size_t elen = strcspn(v, " \t");
    const char *type = v + elen + strspn(v + elen, " \t");
    const char *ext = v;
    if (elen > 0 && *ext == '.')
        ext++, elen--;
    if (elen == 0 || !*type) {
        config_err(l, l->lineno, "mime_types: expected 'EXTENSION TYPE', got '%s'", v);
        return;
    }
    bool ok = elen <= 32;
    for (size_t i = 0; ok && i < elen; i++)
        ok = isalnum((unsigned char)ext[i]) || strchr("-_+.", ext[i]);
    if (!ok) {
        config_err(l, l->lineno, "mime_types: '%.*s' is not a file extension", (int)elen, ext);
        return;
    }
    /* type "/" subtype, each a token, then parameters or nothing */
    size_t t1 = 0;
    while (is_tchar((unsigned char)type[t1]))
        t1++;
    size_t t2 = t1 + 1;
    while (type[t1] == '/' && is_tchar((unsigned char)type[t2]))
        t2++;
    size_t t3 = t2 + strspn(type + t2, " ");
    ok = t1 > 0 && type[t1] == '/' && t2 > t1 + 1 && strlen(type) <= 200 &&
         (!type[t2] || type[t3] == ';');
    for (const char *p = type; ok && *p; p++)
        ok = (unsigned char)*p >= 0x20 && *p != 0x7f;
    if (!ok) {
        config_err(l, l->lineno, "mime_types: '%s' is not a media type (type/subtype)", type);
        return;
    }
    char low[33];
    for (size_t i = 0; i < elen; i++)
        low[i] = (char)tolower((unsigned char)ext[i]);
    low[elen] = '\0';
    for (size_t i = 0; i < site->nmime_types; i++) {
        if (strcmp(site->mime_types[i].ext, low) == 0) {
            config_err(l, l->lineno, "mime_types: '%s' given twice", low);
            return;
        }
    }
    if (site->nmime_types == SF_CONFIG_MAX_MIME_TYPES) {
        config_err(l, l->lineno, "mime_types: more than %d in one site", SF_CONFIG_MAX_MIME_TYPES);
        return;
    }
    site->mime_types[site->nmime_types++] =
        (struct sf_mime_type){.ext = config_xstrdup(low), .type = config_xstrdup(type)};
}

/* Keys that carry an argument or repeat: "cache_control MATCH",
 * "expires MATCH", "expires", "error_page", "add_header", "mime_types".
 * Returns false for others. */
static bool
site_rule_key(struct loader *l, struct sf_site *site, const char *name, const char *v)
{
    if (strcmp(name, "error_page") == 0) {
        add_error_page(l, site, v);
        return true;
    }
    if (strcmp(name, "add_header") == 0) {
        add_header(l, site, v);
        return true;
    }
    if (strcmp(name, "mime_types") == 0) {
        add_mime_type(l, site, v);
        return true;
    }
    long long secs;
    if (strcmp(name, "expires") == 0) {
        if (config_parse_duration(v, &secs))
            config_err(l, l->lineno, "expires: '%s' is not a duration (30s, 10m, 1h, 7d) or off",
                       v);
        else
            site->expires = secs;
        return true;
    }
    const char *match = NULL;
    bool cc = strncmp(name, "cache_control ", 14) == 0;
    if (cc)
        match = name + 14;
    else if (strncmp(name, "expires ", 8) == 0)
        match = name + 8;
    if (!match)
        return false;
    while (*match == ' ')
        match++;
    struct sf_cache_rule *r = rule_for(l, site, match);
    if (!r)
        return true;
    if (cc) {
        if (clean_value(l, "cache_control", v)) {
            free(r->cache_control);
            r->cache_control = config_xstrdup(v);
        }
    } else if (config_parse_duration(v, &secs)) {
        config_err(l, l->lineno, "expires: '%s' is not a duration (30s, 10m, 1h, 7d) or off", v);
    } else {
        r->expires = secs;
    }
    return true;
}

void
config_site_key(struct loader *l, const char *name, const char *v)
{
    struct sf_site *site = l->site;
    struct site_lines *lines = &l->sites[site - l->cfg->sites];
    if (site_rule_key(l, site, name, v))
        return;
    int i = 0;
    while (i < S_COUNT && strcmp(site_keys[i], name) != 0)
        i++;
    if (i == S_COUNT) {
        config_err(l, l->lineno, "unknown key '%s' in [%s]", name, site->name);
        return;
    }
    if (lines->keys[i]) {
        config_err(l, l->lineno, "duplicate key '%s' (first on line %d)", name, lines->keys[i]);
        return;
    }
    lines->keys[i] = l->lineno;
    switch ((enum site_key)i) {
    case S_ROOT: set_root(l, site, v); break;
    case S_INDEX: set_index(l, site, v); break;
    case S_LISTING:
        if (config_parse_bool(v, &site->listing))
            config_err(l, l->lineno, "listing: '%s' is not on or off", v);
        break;
    case S_DOTFILES:
        if (strcasecmp(v, "allow") == 0)
            site->dotfiles = true;
        else if (strcasecmp(v, "deny") == 0)
            site->dotfiles = false;
        else
            config_err(l, l->lineno, "dotfiles: '%s' is not allow or deny", v);
        break;
    case S_SYMLINKS: {
        int s = config_lookup(v, config_symlink_names, SF_ARRAY_LEN(config_symlink_names));
        if (s < 0)
            config_err(l, l->lineno, "symlinks: '%s' is not beneath, follow or none", v);
        else
            site->symlinks = (enum sf_symlinks)s;
        break;
    }
    case S_PRECOMPRESSED: set_precompressed(l, site, v); break;
    case S_CACHE_CONTROL: set_cache_control(l, site, v); break;
    case S_SERVER_NAMES: set_server_names(l, site, v); break;
    case S_DEFAULT: set_default(l, site, v); break;
    case S_ACCESS_LOG: set_site_access_log(l, site, v); break;
    case S_ACCESS_LOG_FORMAT: {
        int f = config_lookup(v, config_log_format_names, SF_ARRAY_LEN(config_log_format_names));
        if (f < 0) {
            config_err(l, l->lineno,
                       "access_log_format: '%s' is not combined, vhost_combined or json", v);
        } else {
            site->access_log_format = (enum sf_log_format)f;
            site->access_log_format_set = true;
        }
        break;
    }
    case S_COUNT: break;
    }
}
