/*
 * config_site.c - the keys of a [site ...] section: their table (walked
 * by the loader, the defaults, sf_config_free and sf_config_dump) and the
 * setters, dumpers and frees of the keys no generic one covers: root,
 * index, precompressed, cache headers and their per-path rules, error
 * pages, server names, the default site, extra headers, MIME types and
 * the site's access log. Each setter reports a bad value at the loader's
 * current line.
 */
#include "config_int.h"
#include "sfhttpd/vhost.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* The line where site number i set key k in this file, or 0 (another
 * file, or not set). */
static int
site_line(const struct loader *l, size_t i, const struct key *k)
{
    return i >= l->first_site ? l->sites[i].keys[k - config_site_keys] : 0;
}

/* ---- root, index, precompressed --------------------------------------------- */

static void
set_root(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    struct sf_site *site = obj;
    (void)k;
    (void)arg;
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
set_index(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    struct sf_site *site = obj;
    char *copy = config_xstrdup(v);
    char *names[SF_CONFIG_MAX_INDEX];
    size_t n = 0;
    char *save = NULL;
    (void)k;
    (void)arg;
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

static void
dump_index(FILE *out, const struct key *k, const void *obj)
{
    const struct sf_site *site = obj;
    fprintf(out, "%s =", k->name);
    for (size_t j = 0; j < site->nindex; j++)
        fprintf(out, " %s", site->index[j]);
    fputc('\n', out);
}

static void
free_index(const struct key *k, void *obj)
{
    struct sf_site *site = obj;
    (void)k;
    for (size_t i = 0; i < site->nindex; i++)
        free(site->index[i]);
    site->nindex = 0;
}

/* "off", or a list of br, zstd, gzip: the codings in the order given
 * (the order of preference), each once. */
static void
set_precompressed(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    struct sf_site *site = obj;
    (void)k;
    (void)arg;
    if (strcasecmp(v, "off") == 0 || strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0) {
        site->nprecompressed = 0;
        return;
    }
    char *copy = config_xstrdup(v);
    enum sf_coding list[SF_CODING_COUNT];
    size_t n = 0;
    unsigned seen = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
        int c = sf_coding_by_name(t, strlen(t));
        if (c < 0) {
            const char *names[SF_CODING_COUNT];
            char what[64];
            for (int i = 0; i < SF_CODING_COUNT; i++)
                names[i] = sf_coding_name((enum sf_coding)i);
            config_join_names(what, sizeof(what), names, SF_CODING_COUNT, "off");
            config_err(l, l->lineno, "precompressed: '%s' is not %s", t, what);
            goto out;
        }
        if (seen & (1u << c))
            continue;
        seen |= 1u << c;
        list[n++] = (enum sf_coding)c;
    }
    if (n == 0) {
        config_err(l, l->lineno, "precompressed: empty list");
        goto out;
    }
    memcpy(site->precompressed, list, n * sizeof(list[0]));
    site->nprecompressed = n;
out:
    free(copy);
}

static void
dump_precompressed(FILE *out, const struct key *k, const void *obj)
{
    const struct sf_site *site = obj;
    fprintf(out, "%s = ", k->name);
    for (size_t i = 0; i < site->nprecompressed; i++)
        fprintf(out, "%s%s", i ? ", " : "", sf_coding_name(site->precompressed[i]));
    fputs(site->nprecompressed ? "\n" : "off\n", out);
}

/* ---- cache headers ---------------------------------------------------------------- */

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

/* A header value: not empty, no control characters. */
static bool
clean_value(struct loader *l, const char *key, const char *v, const char *empty)
{
    if (!*v) {
        config_err(l, l->lineno, "%s: empty value%s", key, empty);
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

/* cache_control = VALUE, or cache_control MATCH = VALUE for a rule */
static void
set_cache_control(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    struct sf_site *site = obj;
    char **dst = &site->cache_control;
    if (arg) {
        struct sf_cache_rule *r = rule_for(l, site, arg);
        if (!r)
            return;
        dst = &r->cache_control;
    }
    if (!clean_value(l, k->name, v, arg ? "" : " (leave the key out for none)"))
        return;
    free(*dst);
    *dst = config_xstrdup(v);
}

/* expires = DURATION, or expires MATCH = DURATION for a rule */
static void
set_expires(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    struct sf_site *site = obj;
    long long *dst = &site->expires;
    long long secs;
    if (arg) {
        struct sf_cache_rule *r = rule_for(l, site, arg);
        if (!r)
            return;
        dst = &r->expires;
    }
    if (config_parse_duration(v, &secs))
        config_err(l, l->lineno, "%s: '%s' is not a duration (30s, 10m, 1h, 7d) or off", k->name,
                   v);
    else
        *dst = secs;
}

/* The site's expires, then every rule (a rule's cache_control and
 * expires lines together, in the order the rules were made). */
static void
dump_expires(FILE *out, const struct key *k, const void *obj)
{
    const struct sf_site *site = obj;
    if (site->expires >= 0)
        fprintf(out, "%s = %llds\n", k->name, site->expires);
    for (size_t j = 0; j < site->nrules; j++) {
        const struct sf_cache_rule *r = &site->rules[j];
        if (r->cache_control)
            fprintf(out, "cache_control %s%s = %s\n", r->is_ext ? "*" : "", r->match,
                    r->cache_control);
        if (r->expires >= 0)
            fprintf(out, "%s %s%s = %llds\n", k->name, r->is_ext ? "*" : "", r->match, r->expires);
    }
}

static void
free_rules(const struct key *k, void *obj)
{
    struct sf_site *site = obj;
    (void)k;
    for (size_t i = 0; i < site->nrules; i++) {
        free(site->rules[i].match);
        free(site->rules[i].cache_control);
    }
    site->nrules = 0;
}

/* ---- error pages ------------------------------------------------------------------ */

/* error_page = 404 410 /gone.html */
static void
add_error_page(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    struct sf_site *site = obj;
    char buf[256];
    (void)k;
    (void)arg;
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

static void
dump_error_pages(FILE *out, const struct key *k, const void *obj)
{
    const struct sf_site *site = obj;
    for (size_t j = 0; j < site->nerror_pages; j++)
        fprintf(out, "%s = %d %s\n", k->name, site->error_pages[j].status,
                site->error_pages[j].path);
}

static void
free_error_pages(const struct key *k, void *obj)
{
    struct sf_site *site = obj;
    (void)k;
    for (size_t i = 0; i < site->nerror_pages; i++)
        free(site->error_pages[i].path);
    site->nerror_pages = 0;
}

/* ---- virtual hosts ---------------------------------------------------------------- */

/* server_names = example.com *.example.com 192.0.2.1 [2001:db8::1] */
static void
set_server_names(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    struct sf_site *site = obj;
    struct sf_config *cfg = l->cfg;
    char *copy = config_xstrdup(v);
    char *save = NULL;
    bool any = false;
    (void)arg;
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
                int line = site_line(l, i, k);
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
dump_server_names(FILE *out, const struct key *k, const void *obj)
{
    const struct sf_site *site = obj;
    if (!site->nnames)
        return;
    fprintf(out, "%s =", k->name);
    for (size_t j = 0; j < site->nnames; j++)
        fprintf(out, " %s", site->names[j].name);
    fputc('\n', out);
}

static void
free_server_names(const struct key *k, void *obj)
{
    struct sf_site *site = obj;
    (void)k;
    for (size_t i = 0; i < site->nnames; i++)
        free(site->names[i].name);
    site->nnames = 0;
}

static void
set_default(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    struct sf_site *site = obj;
    bool on;
    (void)arg;
    if (config_parse_bool(v, &on)) {
        config_err(l, l->lineno, "default: '%s' is not on or off", v);
        return;
    }
    for (size_t i = 0; on && i < l->cfg->nsites; i++) {
        const struct sf_site *o = &l->cfg->sites[i];
        if (o == site || !o->is_default)
            continue;
        int line = site_line(l, i, k);
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
set_site_access_log(struct loader *l, const struct key *k, void *obj, const char *arg,
                    const char *v)
{
    struct sf_site *site = obj;
    (void)k;
    (void)arg;
    if (!*v) {
        config_err(l, l->lineno, "access_log: empty value (a path, '-' or 'off')");
        return;
    }
    char *dest = config_log_dest(l, v);
    free(site->access_log);
    site->access_log = dest;
}

/* ---- headers and types ------------------------------------------------------------ */

/* add_header = Name: value. Headers that frame the message are ours. */
static void
add_header(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    static const char *const reserved[] = {
        "content-length", "transfer-encoding", "connection", "keep-alive",
        "upgrade",        "trailer",           "te",         "content-range"};
    struct sf_site *site = obj;
    (void)k;
    (void)arg;
    const char *colon = strchr(v, ':');
    size_t nlen = colon ? (size_t)(colon - v) : 0;
    while (nlen > 0 && isblank((unsigned char)v[nlen - 1]))
        nlen--;
    if (!colon || nlen == 0) {
        config_err(l, l->lineno, "add_header: expected 'Name: value', got '%s'", v);
        return;
    }
    for (size_t i = 0; i < nlen; i++) {
        if (!sf_is_tchar((unsigned char)v[i])) {
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

static void
dump_headers(FILE *out, const struct key *k, const void *obj)
{
    const struct sf_site *site = obj;
    for (size_t j = 0; j < site->nadd_headers; j++)
        fprintf(out, "%s = %s\n", k->name, site->add_headers[j]);
}

static void
free_headers(const struct key *k, void *obj)
{
    struct sf_site *site = obj;
    (void)k;
    for (size_t i = 0; i < site->nadd_headers; i++)
        free(site->add_headers[i]);
    site->nadd_headers = 0;
}

/* mime_types = md text/markdown */
static void
add_mime_type(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    struct sf_site *site = obj;
    (void)k;
    (void)arg;
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
    while (sf_is_tchar((unsigned char)type[t1]))
        t1++;
    size_t t2 = t1 + 1;
    while (type[t1] == '/' && sf_is_tchar((unsigned char)type[t2]))
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

static void
dump_mime_types(FILE *out, const struct key *k, const void *obj)
{
    const struct sf_site *site = obj;
    for (size_t j = 0; j < site->nmime_types; j++)
        fprintf(out, "%s = %s %s\n", k->name, site->mime_types[j].ext, site->mime_types[j].type);
}

static void
free_mime_types(const struct key *k, void *obj)
{
    struct sf_site *site = obj;
    (void)k;
    for (size_t i = 0; i < site->nmime_types; i++) {
        free(site->mime_types[i].ext);
        free(site->mime_types[i].type);
    }
    site->nmime_types = 0;
}

/* ---- access_log_format ------------------------------------------------------------ */

/* A site's format, when it gives one; else its lines take the server's. */
static void
set_log_format(struct loader *l, const struct key *k, void *obj, const char *arg, const char *v)
{
    struct sf_site *site = obj;
    int before = l->nerr;
    config_set_enum(l, k, obj, arg, v);
    if (l->nerr == before)
        site->access_log_format_set = true;
}

static void
dump_log_format(FILE *out, const struct key *k, const void *obj)
{
    const struct sf_site *site = obj;
    if (site->access_log_format_set)
        config_dump_enum(out, k, obj);
}

/* ---- the table ----------------------------------------------------------------- */

static const char *const dotfiles_names[] = {"deny", "allow"}; /* by the bool */
static const char *const symlinks_names[] = {"beneath", "follow", "none"};
_Static_assert(SF_ARRAY_LEN(symlinks_names) == SF_SYMLINKS_NONE + 1, "a name for every policy");
static const char *const etag_names[] = {"mtime", "content"};
_Static_assert(SF_ARRAY_LEN(etag_names) == SF_ETAG_CONTENT + 1, "a name for every ETag mode");

#define AT(f) .at = offsetof(struct sf_site, f)
#define NAMES(a) .names = a, .nnames = SF_ARRAY_LEN(a)

const struct key config_site_keys[] = {
    {"root", set_root, config_dump_string, SITE_FIELD(root), AT(root_at), .flags = KEY_REQUIRED},
    {"index", set_index, dump_index, .free = free_index, .def = "index.html"},
    {"listing", config_set_bool, config_dump_bool, .def = "off", SITE_FIELD(listing)},
    {"dotfiles", config_set_enum, config_dump_enum, .def = "deny", SITE_FIELD(dotfiles),
     NAMES(dotfiles_names), .what = "allow or deny"},
    {"symlinks", config_set_enum, config_dump_enum, .def = "beneath", SITE_FIELD(symlinks),
     NAMES(symlinks_names)},
    {"precompressed", set_precompressed, dump_precompressed, .def = "br, zstd, gzip"},
    /* cache_control MATCH rules are dumped and freed with expires' */
    {"cache_control", set_cache_control, config_dump_string, SITE_FIELD(cache_control),
     .flags = KEY_ARG},
    /* expires may repeat (the last wins), as it always could */
    {"expires", set_expires, dump_expires, .free = free_rules, .def = "off",
     .flags = KEY_ARG | KEY_REPEAT},
    {"error_page", add_error_page, dump_error_pages, .free = free_error_pages, .flags = KEY_REPEAT},
    {"server_names", set_server_names, dump_server_names, .free = free_server_names},
    {"default", set_default, config_dump_bool, .def = "off", SITE_FIELD(is_default)},
    {"add_header", add_header, dump_headers, .free = free_headers, .flags = KEY_REPEAT},
    {"mime_types", add_mime_type, dump_mime_types, .free = free_mime_types, .flags = KEY_REPEAT},
    {"access_log", set_site_access_log, config_dump_string, SITE_FIELD(access_log),
     AT(access_log_at)},
    {"access_log_format", set_log_format, dump_log_format, SITE_FIELD(access_log_format),
     NAMES(config_log_format_names), .what = "combined, vhost_combined or json"},
    {"etag", config_set_enum, config_dump_enum, .def = "mtime", SITE_FIELD(etag),
     NAMES(etag_names)},
};
const size_t config_nsite_keys = SF_ARRAY_LEN(config_site_keys);
_Static_assert(SF_ARRAY_LEN(config_site_keys) <= CONFIG_MAX_KEYS, "raise CONFIG_MAX_KEYS");
_Static_assert(offsetof(struct sf_site, name) == 0, "offset 0 is never a place (key.at)");
