/*
 * config_load.c - the config loader: reads an INI file line by line, with
 * its sections and includes, and hands each "key = value" to the row of
 * its section's key table (config_server.c, config_site.c).
 *
 * The reader is our own, not inih: it knows every line's number and when
 * a section starts, so every problem is reported as "FILE:LINE: message"
 * and reading goes on, so one run shows them all. The syntax is the one
 * inih gave the files before: ';' or '#' starts a comment line, ';' after
 * a blank starts an inline comment, a key and its value are split at the
 * first '=' or ':' (':' only after a one-word key) and trimmed, a UTF-8
 * BOM and CRLF line ends are fine, a line holds at most CONFIG_MAX_LINE
 * bytes. Indented lines are plain lines (no continuation lines).
 *
 * Relative paths (site roots, log files) are made absolute against the
 * config file's folder: the server may chdir later, and the meaning of a
 * config file should not depend on where it was started from.
 */
#include "config_int.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- sections ------------------------------------------------------------------ */

static void
begin_section(struct loader *l, const char *name)
{
    struct sf_config *cfg = l->cfg;
    l->site = NULL;
    l->sect = SECT_BAD; /* keys of a bad section are skipped quietly */
    if (strcmp(name, "server") == 0) {
        l->sect = SECT_SERVER;
        if (!cfg->server_at)
            config_note_at(l, &cfg->server_at);
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
    config_site_init(l->site, cfg, name);
    config_note_at(l, &l->site->at);
    l->sites[cfg->nsites] = (struct site_lines){.section = l->lineno};
    cfg->nsites++;
    l->sect = SECT_SITE;
}

/* ---- keys ------------------------------------------------------------------------ */

/* The row of name in keys, or of "name MATCH" for a KEY_ARG row (then
 * *arg is MATCH); NULL for an unknown key. */
static const struct key *
find_key(const struct key *keys, size_t n, const char *name, const char **arg)
{
    *arg = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct key *k = &keys[i];
        size_t len = strlen(k->name);
        if (strcmp(name, k->name) == 0)
            return k;
        if ((k->flags & KEY_ARG) && strncmp(name, k->name, len) == 0 && name[len] == ' ') {
            *arg = name + len + strspn(name + len, " ");
            return k;
        }
    }
    return NULL;
}

/* "name = v" in the current [server] or site section. */
static void
set_key(struct loader *l, const char *name, const char *v)
{
    bool server = l->sect == SECT_SERVER;
    const struct key *keys = server ? config_server_keys : config_site_keys;
    size_t n = server ? config_nserver_keys : config_nsite_keys;
    int *lines = server ? l->server_keys : l->sites[l->site - l->cfg->sites].keys;
    void *obj = server ? (void *)l->cfg : (void *)l->site;
    const char *arg;
    const struct key *k = find_key(keys, n, name, &arg);
    if (!k) {
        config_err(l, l->lineno, "unknown key '%s' in [%s]", name,
                   server ? "server" : l->site->name);
        return;
    }
    size_t i = (size_t)(k - keys);
    if (!arg && !(k->flags & KEY_REPEAT)) {
        if (lines[i] < 0) {
            config_err(l, l->lineno, "duplicate key '%s' (first set in another file)", name);
            return;
        }
        if (lines[i]) {
            config_err(l, l->lineno, "duplicate key '%s' (first on line %d)", name, lines[i]);
            return;
        }
    }
    if (!arg)
        lines[i] = l->lineno;
    int nerr = l->nerr;
    k->set(l, k, obj, arg, v);
    /* remember where a value the start-up checks may refuse came from */
    if (l->nerr == nerr && k->at)
        config_note_at(l, (char **)((char *)obj + k->at));
}

/* Close and free a loader (its line buffer and folder too); its error
 * count. */
static int
loader_free(struct loader *l)
{
    if (l->in)
        fclose(l->in);
    int nerr = l->nerr;
    free(l->line);
    free(l->dir);
    free(l);
    return nerr;
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
    return loader_free(l);
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

static void
on_value(struct loader *l, const char *name, const char *value)
{
    if (strcmp(name, CONFIG_INCLUDE_KEY) == 0) {
        include(l, value);
        return;
    }
    switch (l->sect) {
    case SECT_NONE:
        config_err(l, l->lineno, "'%s' outside a section (add [server] or [site] above it)", name);
        break;
    case SECT_SERVER:
    case SECT_SITE: set_key(l, name, value); break;
    case SECT_BAD: break;
    }
}

/* ---- lines ----------------------------------------------------------------------- */

/*
 * The first of chars in s, or the ';' of an inline comment (one after a
 * blank), or the end of s: where a section name, a key or a value ends.
 */
static char *
scan(char *s, const char *chars)
{
    bool was_space = false;
    for (; *s; s++) {
        if (strchr(chars, *s) || (was_space && *s == ';'))
            break;
        was_space = isspace((unsigned char)*s);
    }
    return s;
}

/* s without leading and trailing white space (s is changed). */
static char *
trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    *e = '\0';
    return s;
}

/*
 * A line with no separator, or a ':' after a key of several words:
 * "expected KEY = VALUE", and when it reads "WORD VALUE" (a key without
 * its '='), the line it probably meant.
 */
static void
expected_key_value(struct loader *l, const char *p, bool has_eq)
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
    /* the value ends before an inline comment (" ;") */
    for (const char *c = v; c < end; c++) {
        if (*c == ';' && c > v && isblank((unsigned char)c[-1])) {
            end = c;
            break;
        }
    }
    while (end > v && isblank((unsigned char)end[-1]))
        end--;
    if (has_eq) {
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

/* "[name]": trimmed, nothing but a comment after it. */
static void
section_line(struct loader *l, char *p)
{
    char *end = scan(p + 1, "]");
    if (*end != ']') {
        config_err(l, l->lineno, "section header without ']'");
        l->sect = SECT_BAD;
        return;
    }
    const char *rest = end + 1 + strspn(end + 1, " \t\r\n");
    if (*rest && *rest != ';' && *rest != '#') {
        config_err(l, l->lineno, "text after section header");
        l->sect = SECT_BAD;
        return;
    }
    char *s = p + 1;
    while (s < end && isblank((unsigned char)*s))
        s++;
    char *e = end;
    while (e > s && isblank((unsigned char)e[-1]))
        e--;
    if (e - s >= 256) {
        config_err(l, l->lineno, "section name too long");
        l->sect = SECT_BAD;
        return;
    }
    *e = '\0';
    begin_section(l, s);
}

/* One line (leading blanks gone): blank, comment, section or key. */
static void
parse_line(struct loader *l, char *p)
{
    if (*p == '\r' || *p == '\n')
        p = trim(p); /* blank, or text after a stray CR: a line of its own */
    if (!*p || *p == ';' || *p == '#')
        return;
    if (*p == '[') {
        section_line(l, p);
        return;
    }
    /* split at the first '=' or ':'. A ':' first is fine after a one-word
     * key ("listen: 127.0.0.1:80"); after more words it would make
     * "listen 127.0.0.1:80" the key "listen 127.0.0.1" */
    char *eq = scan(p, "=");
    char *colon = scan(p, ":");
    bool has_eq = *eq == '=';
    char *sep = *colon == ':' && (!has_eq || colon < eq) ? colon : has_eq ? eq : NULL;
    if (!sep) {
        expected_key_value(l, p, false);
        return;
    }
    if (sep == p) {
        config_err(l, l->lineno, "missing key before '%c'", *sep);
        return;
    }
    char *e = sep;
    while (e > p && isblank((unsigned char)e[-1]))
        e--;
    if (sep == colon && (memchr(p, ' ', (size_t)(e - p)) || memchr(p, '\t', (size_t)(e - p)))) {
        expected_key_value(l, p, has_eq);
        return;
    }
    char *v = sep + 1;
    *scan(v, "") = '\0'; /* an inline comment */
    *sep = '\0';
    on_value(l, trim(p), trim(v));
}

/* Parse the file l->file into l->cfg. l->in is open, l->dir is set. */
static void
parse_file(struct loader *l)
{
    struct sf_config *cfg = l->cfg;
    ssize_t n;
    while ((n = getline(&l->line, &l->cap, l->in)) >= 0) {
        l->lineno++;
        char *p = l->line;
        if (l->lineno == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
            p += 3;
        p += strspn(p, " \t");
        size_t len = strlen(p);
        if ((ssize_t)len != n - (p - l->line))
            config_err(l, l->lineno, "NUL byte in line");
        else if (len + 1 > CONFIG_MAX_LINE)
            config_err(l, l->lineno, "line longer than %d bytes", CONFIG_MAX_LINE - 3);
        else
            parse_line(l, p);
    }
    if (ferror(l->in))
        config_err(l, 0, "read error: %s", strerror(errno));
    for (size_t i = l->first_site; i < cfg->nsites; i++) {
        /* section 0: a site of an included file, checked by its loader */
        if (!l->sites[i].section)
            continue;
        for (size_t k = 0; k < config_nsite_keys; k++) {
            const struct key *key = &config_site_keys[k];
            if ((key->flags & KEY_REQUIRED) && !*(char **)config_field(key, &cfg->sites[i]))
                config_err(l, l->sites[i].section, "[%s]: missing %s", cfg->sites[i].name,
                           key->name);
        }
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
    return loader_free(l);
}
