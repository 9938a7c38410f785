/*
 * config.c - the config loader: defaults, the INI file with its sections
 * and includes, and the programmatic API (sf_config_defaults,
 * sf_config_add_listen, sf_config_add_quick_site, sf_config_free).
 *
 * The rest of the module: config_value.c parses values and addresses,
 * config_server.c and config_site.c handle the keys of [server] and
 * [site ...], config_check.c validates and dumps (config_int.h).
 *
 * inih splits lines into sections and key = value pairs, but it tells its
 * handler neither the line number nor when a section starts (Debian builds
 * it without INI_HANDLER_LINENO or INI_CALL_HANDLER_ON_NEW_SECTION), and
 * it reports only the first syntax error. So inih reads through our
 * reader, which counts lines, tracks section headers, reports malformed
 * lines itself and hands inih a blank line in their place. It also strips
 * leading blanks, which turns off inih's indented continuation lines: an
 * indented "key = value" is just a key. Every problem is reported as
 * "FILE:LINE: message" and parsing goes on, so one run shows them all.
 *
 * Relative paths (site roots, log files) are made absolute against the
 * config file's folder: the server may chdir later, and the meaning of a
 * config file should not depend on where it was started from.
 */
#include "config_int.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_PRECOMPRESSED "br, zstd, gzip"

/* Out of memory while loading the config: this is start-up, give up. */
_Noreturn void
config_oom(void)
{
    fputs("sfhttpd: out of memory\n", stderr);
    abort();
}

void *
config_xalloc(void *p)
{
    if (!p)
        config_oom();
    return p;
}

char *
config_xstrdup(const char *s)
{
    return config_xalloc(strdup(s));
}

void
config_err(struct loader *l, int line, const char *fmt, ...)
{
    l->nerr++;
    if (!l->errs)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (line > 0)
        fprintf(l->errs, "%s:%d: ", l->file, line);
    else
        fprintf(l->errs, "%s: ", l->file);
    vfprintf(l->errs, fmt, ap);
    fputc('\n', l->errs);
    va_end(ap);
}

/* ---- defaults and programmatic changes ---------------------------------- */

static void
site_defaults(struct sf_site *site)
{
    *site = (struct sf_site){0};
    site->index[0] = config_xstrdup("index.html");
    site->nindex = 1;
    site->symlinks = SF_SYMLINKS_BENEATH;
    site->precompressed = config_xstrdup(DEFAULT_PRECOMPRESSED);
    site->expires = -1;
}

static void
site_free(struct sf_site *site)
{
    free(site->name);
    free(site->root);
    for (size_t i = 0; i < site->nindex; i++)
        free(site->index[i]);
    free(site->precompressed);
    free(site->cache_control);
    for (size_t i = 0; i < site->nrules; i++) {
        free(site->rules[i].match);
        free(site->rules[i].cache_control);
    }
    for (size_t i = 0; i < site->nerror_pages; i++)
        free(site->error_pages[i].path);
    for (size_t i = 0; i < site->nnames; i++)
        free(site->names[i].name);
    for (size_t i = 0; i < site->nadd_headers; i++)
        free(site->add_headers[i]);
    for (size_t i = 0; i < site->nmime_types; i++) {
        free(site->mime_types[i].ext);
        free(site->mime_types[i].type);
    }
    free(site->access_log);
    free(site->at);
    free(site->root_at);
    free(site->access_log_at);
    *site = (struct sf_site){0};
}

void
sf_config_defaults(struct sf_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->listen[0] = config_xstrdup(DEFAULT_LISTEN);
    cfg->nlisten = 1;
    cfg->listen_is_default = true;
    cfg->backlog = 511;
    cfg->workers = 1;
    cfg->master = -1;
    cfg->listen_v6only[0] = true;
    cfg->header_timeout_ms = 10000;
    cfg->keepalive_timeout_ms = 15000;
    cfg->send_timeout_ms = 60000;
    cfg->shutdown_timeout_ms = 10000;
    cfg->max_header_size = 8192;
    cfg->max_uri_length = 8192;
    cfg->max_headers = 100;
    cfg->send_chunk = 2 * MIB;
    cfg->max_ranges = 16;
    cfg->max_connections = 10000;
    cfg->max_body_size = MIB;
    cfg->file_guard = SF_GUARD_LEASE;
    cfg->open_file_cache_max = 10000;
    cfg->small_file_size = 4 * KIB;
    cfg->max_listing_entries = 10000;
    cfg->listing_cache_size = 32 * MIB;
    cfg->listing_cache_max = 256;
    cfg->access_log = config_xstrdup("-");
    cfg->error_log = config_xstrdup("-");
    cfg->log_level = SF_LOG_INFO;
}

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
            free(cfg->listen[i]);
            free(cfg->listen_at[i]);
            cfg->listen[i] = NULL;
            cfg->listen_at[i] = NULL;
        }
        cfg->nlisten = 0;
        cfg->listen_is_default = false;
    }
    cfg->listen_proxy[cfg->nlisten] = o.proxy_protocol;
    cfg->listen_backlog[cfg->nlisten] = o.backlog;
    cfg->listen_v6only[cfg->nlisten] = o.v6only;
    cfg->listen[cfg->nlisten++] = copy;
    return 0;
}

int
sf_config_add_quick_site(struct sf_config *cfg, const char *root)
{
    if (cfg->nsites >= SF_CONFIG_MAX_SITES)
        return -E2BIG;
    char *cwd = NULL;
    if (root[0] != '/' && !(cwd = config_current_dir()))
        return -errno;
    struct sf_site site = {
        .name = strdup("site"),
        .root = config_make_absolute(cwd ? cwd : "/", root),
        .index = {strdup("index.html")},
        .nindex = 1,
        .listing = true,
        .dotfiles = false,
        .symlinks = SF_SYMLINKS_BENEATH,
        .precompressed = strdup(DEFAULT_PRECOMPRESSED),
        .expires = -1,
    };
    free(cwd);
    if (!site.name || !site.root || !site.index[0] || !site.precompressed) {
        site_free(&site);
        return -ENOMEM;
    }
    cfg->sites[cfg->nsites++] = site;
    return 0;
}

void
sf_config_free(struct sf_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->path);
    for (size_t i = 0; i < cfg->nlisten; i++) {
        free(cfg->listen[i]);
        free(cfg->listen_at[i]);
    }
    free(cfg->server_at);
    free(cfg->user_at);
    free(cfg->group_at);
    free(cfg->pid_file_at);
    free(cfg->access_log_at);
    free(cfg->error_log_at);
    free(cfg->access_log);
    free(cfg->error_log);
    free(cfg->user);
    free(cfg->group);
    free(cfg->pid_file);
    for (size_t i = 0; i < cfg->nsites; i++)
        site_free(&cfg->sites[i]);
    memset(cfg, 0, sizeof(*cfg));
}

/* ---- sections and lines ----------------------------------------------------- */

/* Remember the current line as "FILE:LINE" in *dst (the start-up checks
 * name it when they refuse a value). */
static void
note_at(struct loader *l, char **dst)
{
    char *at;
    if (asprintf(&at, "%s:%d", l->file, l->lineno) < 0)
        config_oom();
    free(*dst);
    *dst = at;
}

static void
begin_section(struct loader *l, const char *name)
{
    struct sf_config *cfg = l->cfg;
    l->site = NULL;
    l->sect = SECT_BAD; /* keys of a bad section are skipped quietly */
    if (strcmp(name, "server") == 0) {
        l->sect = SECT_SERVER;
        if (!cfg->server_at)
            note_at(l, &cfg->server_at);
        return;
    }
    /* the name is trimmed, so "site " is always followed by a name */
    if (strcmp(name, "site") != 0 && strncmp(name, "site ", 5) != 0) {
        config_err(l, l->lineno, "unknown section [%s] (expected [server] or [site ...])", name);
        return;
    }
    for (size_t i = 0; i < cfg->nsites; i++) {
        if (strcmp(cfg->sites[i].name, name) != 0)
            continue;
        if (i >= l->first_site && l->sites[i].section)
            config_err(l, l->lineno, "duplicate section [%s] (first on line %d)", name,
                       l->sites[i].section);
        else
            config_err(l, l->lineno, "duplicate section [%s]", name);
        return;
    }
    if (cfg->nsites == SF_CONFIG_MAX_SITES) {
        config_err(l, l->lineno, "more than %d sites", SF_CONFIG_MAX_SITES);
        return;
    }
    l->site = &cfg->sites[cfg->nsites];
    site_defaults(l->site);
    l->site->name = config_xstrdup(name);
    note_at(l, &l->site->at);
    l->sites[cfg->nsites] = (struct site_lines){.section = l->lineno};
    cfg->nsites++;
    l->sect = SECT_SITE;
}

/*
 * Like inih's own scan: the first of chars in s, stopping at an inline
 * comment (';' after a blank). Returns NULL when there is none.
 */
static char *
find_before_comment(char *s, const char *chars)
{
    bool was_space = false;
    for (; *s; s++) {
        if (strchr(chars, *s))
            return s;
        if (was_space && *s == ';')
            return NULL;
        was_space = isspace((unsigned char)*s);
    }
    return NULL;
}

/*
 * A line with no separator, or a ':' after a key of several words:
 * "expected KEY = VALUE", and when it reads "WORD VALUE" (a key without
 * its '='), the line it probably meant.
 */
static void
expected_key_value(struct loader *l, const char *p, const char *eq)
{
    size_t word = strspn(p, "abcdefghijklmnopqrstuvwxyz_");
    const char *v = p + word + strspn(p + word, " \t");
    bool apart = v > p + word; /* "WORD VALUE" or "WORD: VALUE" */
    if (*v == ':') {
        apart = true;
        v++;
    }
    v += strspn(v, " \t");
    const char *end = v + strcspn(v, "\r\n");
    /* the value ends before an inline comment (" ;"), as inih has it */
    for (const char *c = v; c < end; c++) {
        if (*c == ';' && c > v && isblank((unsigned char)c[-1])) {
            end = c;
            break;
        }
    }
    while (end > v && isblank((unsigned char)end[-1]))
        end--;
    if (eq) {
        config_err(l, l->lineno, "expected KEY = VALUE (a key cannot hold ':')");
        return;
    }
    if (word == 0 || !apart || v == end || *v == ';' || *v == '#' || end - v > 100) {
        config_err(l, l->lineno, "expected KEY = VALUE");
        return;
    }
    config_err(l, l->lineno, "expected KEY = VALUE (did you mean '%.*s = %.*s'?)", (int)word, p,
               (int)(end - v), v);
}

/* Check one line (leading blanks gone) before inih sees it: handle a
 * section header, report a malformed line. False means "hide it". */
static bool
check_line(struct loader *l, char *p)
{
    if (!*p || *p == ';' || *p == '#' || *p == '\n' || *p == '\r')
        return true;
    if (*p == '[') {
        char *end = find_before_comment(p + 1, "]");
        if (!end) {
            config_err(l, l->lineno, "section header without ']'");
            l->sect = SECT_BAD;
            return false;
        }
        const char *rest = end + 1 + strspn(end + 1, " \t\r\n");
        if (*rest && *rest != ';' && *rest != '#') {
            config_err(l, l->lineno, "text after section header");
            l->sect = SECT_BAD;
            return false;
        }
        char name[256];
        char *s = p + 1;
        while (s < end && isblank((unsigned char)*s))
            s++;
        char *e = end;
        while (e > s && isblank((unsigned char)e[-1]))
            e--;
        if ((size_t)(e - s) >= sizeof(name)) {
            config_err(l, l->lineno, "section name too long");
            l->sect = SECT_BAD;
            return false;
        }
        memcpy(name, s, (size_t)(e - s));
        name[e - s] = '\0';
        begin_section(l, name);
        return true;
    }
    /* inih splits at the first '=' or ':'. A ':' first is fine after a
     * one-word key ("listen: 127.0.0.1:80"); after more words it would
     * make "listen 127.0.0.1:80" the key "listen 127.0.0.1" */
    char *eq = find_before_comment(p, "=");
    char *colon = find_before_comment(p, ":");
    char *sep = colon && (!eq || colon < eq) ? colon : eq;
    if (!sep) {
        expected_key_value(l, p, NULL);
        return false;
    }
    if (sep == p) {
        config_err(l, l->lineno, "missing key before '%c'", *sep);
        return false;
    }
    char *e = sep;
    while (e > p && isblank((unsigned char)e[-1]))
        e--;
    if (sep == colon && (memchr(p, ' ', (size_t)(e - p)) || memchr(p, '\t', (size_t)(e - p)))) {
        expected_key_value(l, p, eq);
        return false;
    }
    return true;
}

/* inih's fgets-style reader: one physical line per call, counted. */
static char *
read_line(char *str, int num, void *stream)
{
    struct loader *l = stream;
    ssize_t n = getline(&l->line, &l->cap, l->in);
    if (n < 0)
        return NULL;
    l->lineno++;
    char *p = l->line;
    if (l->lineno == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;
    p += strspn(p, " \t");
    size_t len = strlen(p);
    /* a bad line reaches inih as a blank one */
    str[0] = '\0';
    if ((ssize_t)len != n - (p - l->line))
        config_err(l, l->lineno, "NUL byte in line");
    else if (len + 1 > (size_t)num)
        config_err(l, l->lineno, "line longer than %d bytes", num - 3);
    else if (check_line(l, p))
        memcpy(str, p, len + 1);
    return str;
}

/* ---- include ------------------------------------------------------------------ */

#define MAX_INCLUDE_DEPTH 8

static void parse_file(struct loader *l);

/* Read one included file (path absolute, from glob) with a loader of its
 * own, so that its messages name it and its own line numbers. Returns the
 * child's error count. */
static int
include_file(struct loader *parent, const char *path)
{
    struct loader *l = config_xalloc(calloc(1, sizeof(*l)));
    struct stat st;
    l->cfg = parent->cfg;
    l->file = path;
    l->errs = parent->errs;
    l->first_site = l->cfg->nsites;
    l->parent = parent;
    l->depth = parent->depth + 1;
    /* a [server] key seen in any file may not be set again in another */
    for (size_t i = 0; i < SF_ARRAY_LEN(l->server_keys); i++)
        l->server_keys[i] = parent->server_keys[i] ? -1 : 0;
    l->in = fopen(path, "re");
    if (!l->in) {
        config_err(parent, parent->lineno, "include: %s: %s", path, strerror(errno));
        goto out;
    }
    if (fstat(fileno(l->in), &st) < 0) {
        config_err(parent, parent->lineno, "include: %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        config_err(parent, parent->lineno, "include: %s: not a regular file", path);
        goto out;
    }
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    for (const struct loader *p = parent; p; p = p->parent) {
        if (p->dev == st.st_dev && p->ino == st.st_ino) {
            config_err(parent, parent->lineno,
                       "include: %s is already being read (an include cycle)", path);
            goto out;
        }
    }
    if (l->depth > MAX_INCLUDE_DEPTH) {
        config_err(parent, parent->lineno, "include: %s: includes nested more than %d deep", path,
                   MAX_INCLUDE_DEPTH);
        goto out;
    }
    l->dir = config_dir(path);
    if (!l->dir)
        config_oom(); /* path is absolute: only memory can be missing */
    parse_file(l);
    for (size_t i = 0; i < SF_ARRAY_LEN(l->server_keys); i++) {
        if (l->server_keys[i] && !parent->server_keys[i])
            parent->server_keys[i] = -1;
    }
out:
    if (l->in)
        fclose(l->in);
    int nerr = l->nerr;
    free(l->line);
    free(l->dir);
    free(l);
    return nerr;
}

static int
on_glob_error(const char *path, int error)
{
    (void)path;
    return error != ENOENT && error != ENOTDIR; /* a missing folder: no match */
}

/*
 * "include = PATTERN": at the top of a file or in [server]. PATTERN is a
 * glob(3) pattern relative to this file's folder; the files it matches are
 * read in sorted order, as if their text stood here, except that each
 * starts outside any section and this file's section goes on afterwards.
 * A pattern that matches nothing is fine (an empty conf.d/); a plain path
 * without wildcards must exist.
 */
static void
include(struct loader *l, const char *v)
{
    if (l->sect == SECT_BAD)
        return;
    if (l->sect != SECT_NONE && l->sect != SECT_SERVER) {
        config_err(l, l->lineno, "include: only allowed at the top of a file or in [server]");
        return;
    }
    if (!*v) {
        config_err(l, l->lineno, "include: empty pattern");
        return;
    }
    char *pattern = config_xalloc(config_make_absolute(l->dir, v));
    bool wild = strpbrk(v, "*?[") != NULL;
    glob_t g = {0};
    int rc = glob(pattern, GLOB_MARK, on_glob_error, &g);
    if (rc == GLOB_NOMATCH) {
        if (!wild)
            config_err(l, l->lineno, "include: %s: %s", pattern, strerror(ENOENT));
    } else if (rc == GLOB_NOSPACE) {
        config_oom();
    } else if (rc != 0) {
        config_err(l, l->lineno, "include: %s: a folder on the way cannot be read", pattern);
    } else {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            const char *path = g.gl_pathv[i];
            size_t len = strlen(path);
            if (wild && len && path[len - 1] == '/')
                continue; /* GLOB_MARK marks a folder that matched */
            l->nerr += include_file(l, path);
        }
    }
    globfree(&g);
    free(pattern);
}

/* After a key was taken: remember its line for the values whose
 * problems only the start-up checks can see (startup.h). */
static void
note_value_at(struct loader *l, const char *name)
{
    struct sf_config *cfg = l->cfg;
    if (l->sect == SECT_SITE) {
        if (strcmp(name, "root") == 0)
            note_at(l, &l->site->root_at);
        else if (strcmp(name, "access_log") == 0)
            note_at(l, &l->site->access_log_at);
        return;
    }
    static const struct {
        const char *name;
        size_t off;
    } keys[] = {
        {"user", offsetof(struct sf_config, user_at)},
        {"group", offsetof(struct sf_config, group_at)},
        {"pid_file", offsetof(struct sf_config, pid_file_at)},
        {"access_log", offsetof(struct sf_config, access_log_at)},
        {"error_log", offsetof(struct sf_config, error_log_at)},
    };
    if (l->sect != SECT_SERVER)
        return;
    if (strcmp(name, "listen") == 0 && cfg->nlisten > 0) {
        note_at(l, &cfg->listen_at[cfg->nlisten - 1]);
        return;
    }
    for (size_t i = 0; i < SF_ARRAY_LEN(keys); i++)
        if (strcmp(name, keys[i].name) == 0)
            note_at(l, (char **)((char *)cfg + keys[i].off));
}

static int
on_value(void *user, const char *section, const char *name, const char *value)
{
    struct loader *l = user;
    (void)section; /* ours, from read_line, carries the line number */
    if (strcmp(name, "include") == 0) {
        include(l, value);
        return 1;
    }
    int nerr = l->nerr;
    switch (l->sect) {
    case SECT_NONE:
        config_err(l, l->lineno, "'%s' outside a section (add [server] or [site] above it)", name);
        break;
    case SECT_SERVER: config_server_key(l, name, value); break;
    case SECT_SITE: config_site_key(l, name, value); break;
    case SECT_BAD: break;
    }
    if (l->nerr == nerr)
        note_value_at(l, name);
    return 1;
}

/* Parse the file l->file into l->cfg. l->in is open, l->dir is set. */
static void
parse_file(struct loader *l)
{
    struct sf_config *cfg = l->cfg;
    int rc = ini_parse_stream(read_line, l, on_value, l);
    if (ferror(l->in))
        config_err(l, 0, "read error: %s", strerror(errno));
    else if (rc == -2)
        config_oom();
    else if (rc > 0)
        config_err(l, rc, "syntax error");
    for (size_t i = l->first_site; i < cfg->nsites; i++) {
        /* section 0: a site of an included file, checked by its loader */
        if (!cfg->sites[i].root && l->sites[i].section)
            config_err(l, l->sites[i].section, "[%s]: missing root", cfg->sites[i].name);
    }
}

int
sf_config_load(struct sf_config *cfg, const char *path, FILE *errs)
{
    struct loader *l = config_xalloc(calloc(1, sizeof(*l)));
    struct stat st;
    l->cfg = cfg;
    l->file = path;
    l->errs = errs;
    l->first_site = cfg->nsites;
    l->in = fopen(path, "re");
    if (!l->in) {
        config_err(l, 0, "%s", strerror(errno));
        goto out;
    }
    if (fstat(fileno(l->in), &st) == 0) {
        l->dev = st.st_dev;
        l->ino = st.st_ino;
    }
    l->dir = config_dir(path);
    if (!l->dir) {
        config_err(l, 0, "cannot find the current directory: %s", strerror(errno));
        goto out;
    }
    free(cfg->path);
    cfg->path = config_xstrdup(path);
    parse_file(l);
out:
    if (l->in)
        fclose(l->in);
    int nerr = l->nerr;
    free(l->line);
    free(l->dir);
    free(l);
    return nerr;
}
