/*
 * test_docs.c - the documents list what the program knows. Every key of
 * the config loader's tables (sf_config_key_name: [server], [site], the
 * options of a listen line) and every row of the flag table (sf_flags)
 * must appear where a person looks for it:
 *   keys:            README.md's tables, conf/sfhttpd.conf, sfhttpd.conf(5)
 *   flags:           sfhttpd --help, README.md's flag table, sfhttpd(8)
 *   listen options:  all five (after -l ADDR:PORT too)
 * and the messages sfhttpd(8) quotes (-t, -V) are the program's own.
 * Each test names every missing key or flag at once.
 */
#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pwd.h>

#include "sfhttpd/config.h"
#include "sfhttpd/flags.h"
#include "unit_util.h"

/* ---- text -------------------------------------------------------------------- */

/* Everything f gives, as a string (f is the caller's to close). */
static char *
read_all(FILE *f)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    ck_assert(mem != NULL);
    int ch;
    while ((ch = fgetc(f)) != EOF)
        fputc(ch, mem);
    fclose(mem);
    return buf;
}

/* A file of the source tree, as a string. */
static char *
slurp(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", SFHTTPD_SOURCE_DIR, rel);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char *buf = read_all(f);
    fclose(f);
    return buf;
}

/* The output of a command (stdout), as a string. */
static char *
run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "cannot run %s", cmd);
    char *buf = read_all(p);
    pclose(p);
    return buf;
}

/* The next line of *s (the newline cut off; s moves past it), or NULL. */
static char *
next_line(char **s)
{
    if (!*s || !**s)
        return NULL;
    char *line = *s;
    char *nl = strchr(line, '\n');
    if (nl) {
        *nl = '\0';
        *s = nl + 1;
    } else {
        *s = line + strlen(line);
    }
    return line;
}

static bool
startswith(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool
is_name_char(int ch)
{
    return isalnum(ch) || ch == '_' || ch == '-';
}

/* word occurs in text with no name character on either side. */
static bool
has_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; (p = strstr(p, word)); p++) {
        bool left = p == text || !is_name_char((unsigned char)p[-1]);
        bool right = !is_name_char((unsigned char)p[n]);
        if (left && right)
            return true;
    }
    return false;
}

/* A set of names found in a document: one string, " a b c ". */
struct names {
    char *buf;
    size_t len;
    FILE *f;
};

static void
names_open(struct names *n)
{
    n->buf = NULL;
    n->f = open_memstream(&n->buf, &n->len);
    ck_assert(n->f != NULL);
    fputc(' ', n->f);
}

static void
names_add(struct names *n, const char *s, size_t len)
{
    if (len)
        fprintf(n->f, "%.*s ", (int)len, s);
}

static void
names_close(struct names *n)
{
    fclose(n->f);
}

static bool
names_has(const struct names *n, const char *name)
{
    char want[128];
    snprintf(want, sizeof(want), " %s ", name);
    return strstr(n->buf, want) != NULL;
}

/* Append to miss (", "-separated) every key of sect not in found. */
static void
missing_keys(enum sf_config_keys sect, const struct names *found, char *miss, size_t cap)
{
    const char *name;
    for (size_t i = 0; (name = sf_config_key_name(sect, i)); i++) {
        if (!names_has(found, name))
            snprintf(miss + strlen(miss), cap - strlen(miss), "%s%s", miss[0] ? ", " : "", name);
    }
}

/* Every listen option that text does not mention. */
static void
missing_options(const char *text, char *miss, size_t cap)
{
    const char *name;
    for (size_t i = 0; (name = sf_config_key_name(SF_CONFIG_KEYS_LISTEN, i)); i++) {
        if (!has_word(text, name))
            snprintf(miss + strlen(miss), cap - strlen(miss), "%s%s", miss[0] ? ", " : "", name);
    }
}

/* Every flag of the table not in found, as "-c/--config". */
static void
missing_flags(const struct names *found, char *miss, size_t cap)
{
    for (size_t i = 0; i < sf_nflags; i++) {
        const struct sf_flag *f = &sf_flags[i];
        char lng[64], shrt[4] = "";
        snprintf(lng, sizeof(lng), "--%s", f->name);
        if (f->id < 256)
            snprintf(shrt, sizeof(shrt), "-%c", f->id);
        if (!names_has(found, lng) || (shrt[0] && !names_has(found, shrt)))
            snprintf(miss + strlen(miss), cap - strlen(miss), "%s%s%s%s", miss[0] ? ", " : "", shrt,
                     shrt[0] ? "/" : "", lng);
    }
}

/* The flags ("-c", "--config") among the words of s[0..len). */
static void
add_flag_words(struct names *n, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '-' || (i > 0 && (is_name_char((unsigned char)s[i - 1]) || s[i - 1] == '-')))
            continue;
        size_t j = i + 1 + (i + 1 < len && s[i + 1] == '-');
        size_t k = j;
        while (k < len && is_name_char((unsigned char)s[k]))
            k++;
        if (k > j)
            names_add(n, s + i, k - i);
        i = k;
    }
}

/* ---- README.md ------------------------------------------------------------------ */

/* The first cell of a table row ("| `a`, `b` | ..."), escaped bars kept. */
static size_t
first_cell(const char *row, const char **start)
{
    const char *p = row + 1;
    const char *q = p;
    while (*q && !(*q == '|' && q[-1] != '\\'))
        q++;
    *start = p;
    return (size_t)(q - p);
}

enum readme_table { TABLE_NONE, TABLE_SERVER, TABLE_SITE, TABLE_FLAGS };

struct readme {
    struct names keys[2]; /* by enum sf_config_keys: server, site */
    struct names flags;
    char *listen_row; /* the [server] table's listen row */
    char *l_row;      /* the flag table's -l row */
};

static void
read_readme(struct readme *rd)
{
    char *text = slurp("README.md");
    char *s = text, *line;
    enum readme_table t = TABLE_NONE;
    bool in_rows = false;
    names_open(&rd->keys[0]);
    names_open(&rd->keys[1]);
    names_open(&rd->flags);
    rd->listen_row = rd->l_row = NULL;
    while ((line = next_line(&s))) {
        if (startswith(line, "`[server]`")) {
            t = TABLE_SERVER, in_rows = false;
            continue;
        }
        if (startswith(line, "`[site]`")) {
            t = TABLE_SITE, in_rows = false;
            continue;
        }
        if (startswith(line, "| flag |")) {
            t = TABLE_FLAGS, in_rows = true;
            continue;
        }
        if (t == TABLE_NONE)
            continue;
        if (line[0] != '|') {
            if (in_rows)
                t = TABLE_NONE;
            continue;
        }
        in_rows = true;
        const char *cell;
        size_t len = first_cell(line, &cell);
        if (t == TABLE_FLAGS) {
            add_flag_words(&rd->flags, cell, len);
            if (strstr(line, "--listen") && !rd->l_row)
                rd->l_row = strdup(line);
            continue;
        }
        /* every `name ...` span: its first word is a key */
        struct names *n = &rd->keys[t == TABLE_SERVER ? 0 : 1];
        for (const char *p = cell; p < cell + len; p++) {
            if (*p != '`')
                continue;
            const char *q = ++p;
            while (q < cell + len && (islower((unsigned char)*q) || *q == '_'))
                q++;
            names_add(n, p, (size_t)(q - p));
            if (t == TABLE_SERVER && q - p == 6 && strncmp(p, "listen", 6) == 0 && !rd->listen_row)
                rd->listen_row = strdup(line);
            while (q < cell + len && *q != '`')
                q++;
            p = q;
        }
    }
    names_close(&rd->keys[0]);
    names_close(&rd->keys[1]);
    names_close(&rd->flags);
    free(text);
}

static void
free_readme(struct readme *rd)
{
    free(rd->keys[0].buf);
    free(rd->keys[1].buf);
    free(rd->flags.buf);
    free(rd->listen_row);
    free(rd->l_row);
}

START_TEST(readme_lists_every_key)
{
    struct readme rd;
    read_readme(&rd);
    char server[2048] = "", site[2048] = "";
    missing_keys(SF_CONFIG_KEYS_SERVER, &rd.keys[0], server, sizeof(server));
    missing_keys(SF_CONFIG_KEYS_SITE, &rd.keys[1], site, sizeof(site));
    free_readme(&rd);
    ck_assert_msg(!server[0] && !site[0],
                  "README.md: [server] table lacks: %s; [site] table lacks: %s",
                  server[0] ? server : "-", site[0] ? site : "-");
}
END_TEST

START_TEST(readme_lists_every_flag)
{
    struct readme rd;
    read_readme(&rd);
    char miss[2048] = "", opts_key[512] = "", opts_flag[512] = "";
    missing_flags(&rd.flags, miss, sizeof(miss));
    missing_options(rd.listen_row ? rd.listen_row : "", opts_key, sizeof(opts_key));
    missing_options(rd.l_row ? rd.l_row : "", opts_flag, sizeof(opts_flag));
    free_readme(&rd);
    ck_assert_msg(!miss[0], "README.md: the flag table lacks: %s", miss);
    ck_assert_msg(!opts_key[0], "README.md: the listen row lacks the listen options: %s", opts_key);
    ck_assert_msg(!opts_flag[0], "README.md: the -l row lacks the listen options: %s", opts_flag);
}
END_TEST

/* ---- conf/sfhttpd.conf -------------------------------------------------------------- */

START_TEST(conf_lists_every_key)
{
    char *text = slurp("conf/sfhttpd.conf");
    char *s = text, *line;
    struct names keys[2];
    names_open(&keys[0]);
    names_open(&keys[1]);
    int sect = -1;
    char *server_text = NULL;
    size_t server_len = 0;
    FILE *st = open_memstream(&server_text, &server_len);
    ck_assert(st != NULL);
    while ((line = next_line(&s))) {
        if (strcmp(line, "[server]") == 0) {
            sect = 0;
            continue;
        }
        if (startswith(line, "[site")) {
            sect = 1;
            continue;
        }
        if (sect < 0)
            continue;
        if (sect == 0)
            fprintf(st, "%s\n", line);
        /* "key = v", "; key = v" (at its default, or an example), "key MATCH = v" */
        const char *p = line;
        if (*p == ';' || *p == '#')
            p++;
        while (*p == ' ')
            p++;
        const char *q = p;
        while (islower((unsigned char)*q) || *q == '_')
            q++;
        const char *r = q;
        if (*r == ' ' && r[1] != '=') {
            r++;
            while (*r && *r != ' ')
                r++;
        }
        if (q > p && startswith(r, " = "))
            names_add(&keys[sect], p, (size_t)(q - p));
    }
    names_close(&keys[0]);
    names_close(&keys[1]);
    fclose(st);
    char server[2048] = "", site[2048] = "", opts[512] = "";
    missing_keys(SF_CONFIG_KEYS_SERVER, &keys[0], server, sizeof(server));
    missing_keys(SF_CONFIG_KEYS_SITE, &keys[1], site, sizeof(site));
    missing_options(server_text, opts, sizeof(opts));
    free(keys[0].buf);
    free(keys[1].buf);
    free(server_text);
    free(text);
    ck_assert_msg(
        !server[0] && !site[0] && !opts[0],
        "conf/sfhttpd.conf: [server] lacks: %s; [site] lacks: %s; listen options missing: %s",
        server[0] ? server : "-", site[0] ? site : "-", opts[0] ? opts : "-");
}
END_TEST

/* ---- man pages ---------------------------------------------------------------------- */

/* A roff line with "\-" as "-" and "\(lq"/"\(rq" kept, into out. */
static void
unescape_roff(const char *line, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = line; *p && n + 1 < cap; p++) {
        if (p[0] == '\\' && p[1] == '-') {
            out[n++] = '-';
            p++;
        } else if (p[0] == '\\' && p[1] == 'f' && p[2]) {
            p += 2; /* a font change */
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

/* The first word of a macro line's arguments (".BI \"cache_control \" m" -> cache_control). */
static size_t
macro_first_word(const char *line, const char **start)
{
    const char *p = line;
    if (*p == '.') {
        while (*p && *p != ' ')
            p++;
    }
    while (*p == ' ' || *p == '"')
        p++;
    const char *q = p;
    while (islower((unsigned char)*q) || *q == '_')
        q++;
    *start = p;
    return (size_t)(q - p);
}

START_TEST(man5_lists_every_key)
{
    char *text = slurp("man/sfhttpd.conf.5");
    char *s = text, *line;
    struct names keys[2];
    names_open(&keys[0]);
    names_open(&keys[1]);
    int sect = -1, depth = 0;
    bool tag = false, in_listen = false;
    char *listen_text = NULL;
    size_t listen_len = 0;
    FILE *lt = open_memstream(&listen_text, &listen_len);
    ck_assert(lt != NULL);
    while ((line = next_line(&s))) {
        if (startswith(line, ".SH")) {
            sect = strstr(line, "[server]") || strstr(line, "INCLUDE") ? 0
                   : strstr(line, "[site")                             ? 1
                                                                       : -1;
            in_listen = false;
            continue;
        }
        if (sect < 0)
            continue;
        if (startswith(line, ".RS"))
            depth++;
        else if (startswith(line, ".RE"))
            depth--;
        if (in_listen)
            fprintf(lt, "%s\n", line);
        if (startswith(line, ".TP")) {
            tag = true;
            continue;
        }
        if (tag && depth == 0) {
            const char *w;
            size_t len = macro_first_word(line, &w);
            names_add(&keys[sect], w, len);
            in_listen = sect == 0 && len == 6 && strncmp(w, "listen", 6) == 0;
        }
        tag = false;
    }
    names_close(&keys[0]);
    names_close(&keys[1]);
    fclose(lt);
    char server[2048] = "", site[2048] = "", opts[512] = "";
    missing_keys(SF_CONFIG_KEYS_SERVER, &keys[0], server, sizeof(server));
    missing_keys(SF_CONFIG_KEYS_SITE, &keys[1], site, sizeof(site));
    missing_options(listen_text, opts, sizeof(opts));
    free(keys[0].buf);
    free(keys[1].buf);
    free(listen_text);
    free(text);
    ck_assert_msg(!server[0] && !site[0] && !opts[0],
                  "man/sfhttpd.conf.5: [server] lacks: %s; [site] lacks: %s; listen lacks the "
                  "options: %s",
                  server[0] ? server : "-", site[0] ? site : "-", opts[0] ? opts : "-");
}
END_TEST

START_TEST(man8_lists_every_flag)
{
    char *text = slurp("man/sfhttpd.8");
    char *s = text, *line;
    struct names flags;
    names_open(&flags);
    bool options = false, in_synopsis = false, tag = false, in_l = false;
    char *l_text = NULL, *synopsis = NULL;
    size_t l_len = 0, syn_len = 0;
    FILE *lt = open_memstream(&l_text, &l_len);
    FILE *syn = open_memstream(&synopsis, &syn_len);
    ck_assert(lt && syn);
    while ((line = next_line(&s))) {
        char u[1024];
        unescape_roff(line, u, sizeof(u));
        if (startswith(u, ".SH")) {
            options = strstr(u, "OPTIONS") != NULL;
            in_synopsis = strstr(u, "SYNOPSIS") != NULL;
            in_l = false;
            continue;
        }
        if (in_synopsis)
            fprintf(syn, "%s\n", u);
        if (!options)
            continue;
        if (startswith(u, ".TP")) {
            tag = true;
            in_l = false;
            continue;
        }
        if (tag) {
            add_flag_words(&flags, u, strlen(u));
            in_l = strstr(u, "--listen") != NULL;
        }
        if (in_l)
            fprintf(lt, "%s\n", u);
        tag = false;
    }
    names_close(&flags);
    fclose(lt);
    fclose(syn);
    char miss[2048] = "", opts[512] = "";
    missing_flags(&flags, miss, sizeof(miss));
    missing_options(l_text, opts, sizeof(opts));
    bool syn_opts = strstr(synopsis, "option") != NULL;
    free(flags.buf);
    free(l_text);
    free(synopsis);
    free(text);
    ck_assert_msg(!miss[0], "man/sfhttpd.8: OPTIONS lacks: %s", miss);
    ck_assert_msg(!opts[0], "man/sfhttpd.8: -l lacks the listen options: %s", opts);
    ck_assert_msg(syn_opts, "man/sfhttpd.8: the SYNOPSIS shows -l without its options");
}
END_TEST

/* ---- sfhttpd --help ------------------------------------------------------------------ */

START_TEST(help_lists_every_flag)
{
    char *text = run(SFHTTPD_BIN " --help");
    char *s = text, *line;
    struct names flags;
    names_open(&flags);
    char *l_text = NULL;
    size_t l_len = 0;
    FILE *lt = open_memstream(&l_text, &l_len);
    ck_assert(lt != NULL);
    bool in_l = false;
    while ((line = next_line(&s))) {
        const char *p = line;
        while (*p == ' ')
            p++;
        if (p > line && *p == '-') {
            /* the flag column ends at two blanks */
            const char *end = strstr(p, "  ");
            size_t len = end ? (size_t)(end - p) : strlen(p);
            add_flag_words(&flags, p, len);
            in_l = strstr(line, "--listen") != NULL;
        }
        if (in_l)
            fprintf(lt, "%s\n", line);
    }
    names_close(&flags);
    fclose(lt);
    char miss[2048] = "", opts[512] = "";
    missing_flags(&flags, miss, sizeof(miss));
    missing_options(l_text, opts, sizeof(opts));
    free(flags.buf);
    free(l_text);
    free(text);
    ck_assert_msg(!miss[0], "sfhttpd --help lacks: %s", miss);
    ck_assert_msg(!opts[0], "sfhttpd --help: -l lacks the listen options: %s", opts);
}
END_TEST

/* ---- the messages sfhttpd(8) quotes ------------------------------------------------- */

/* sfhttpd(8)'s quoted texts ("\(lq...\(rq"), rendered: macro names, quotes
 * and font changes dropped, one line each. */
static char *
man8_quotes(void)
{
    char *text = slurp("man/sfhttpd.8");
    char *s = text, *line;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    ck_assert(f != NULL);
    while ((line = next_line(&s))) {
        char u[1024], r[1024];
        unescape_roff(line, u, sizeof(u));
        /* a macro's arguments (quoted or blank-separated) join with
         * nothing between them; a text line is itself */
        const char *p = u;
        size_t n = 0;
        if (*p == '.') {
            while (*p && *p != ' ')
                p++;
            while (*p && n + 1 < sizeof(r)) {
                while (*p == ' ')
                    p++;
                if (*p == '"') {
                    for (p++; *p && *p != '"' && n + 1 < sizeof(r); p++)
                        r[n++] = *p;
                    if (*p)
                        p++;
                } else {
                    for (; *p && *p != ' ' && n + 1 < sizeof(r); p++)
                        r[n++] = *p;
                }
            }
        } else {
            for (; *p && n + 1 < sizeof(r); p++)
                r[n++] = *p;
        }
        r[n] = '\0';
        for (char *q = r; (q = strstr(q, "\\(lq")); q++) {
            char *end = strstr(q, "\\(rq");
            if (end)
                fprintf(f, "%.*s\n", (int)(end - q - 4), q + 4);
        }
    }
    fclose(f);
    free(text);
    return out;
}

/* The program's line with what varies replaced by the man page's word. */
static void
placeholder(char *line, const char *value, const char *word)
{
    char *p = strstr(line, value);
    if (!p)
        return;
    char rest[1024];
    snprintf(rest, sizeof(rest), "%s", p + strlen(value));
    sprintf(p, "%s%s", word, rest);
}

START_TEST(man8_quotes_the_programs_messages)
{
    char dir[] = "/tmp/sf_docs_XXXXXX";
    ck_assert(mkdtemp(dir) != NULL);
    char conf[256], cmd[1024];
    snprintf(conf, sizeof(conf), "%s/sfhttpd.conf", dir);
    FILE *f = fopen(conf, "w");
    ck_assert(f != NULL);
    struct passwd *pw = getpwuid(getuid());
    ck_assert(pw != NULL);
    fprintf(f, "[server]\nlisten = 127.0.0.1:0\nuser = %s\n[site]\nroot = %s\n", pw->pw_name, dir);
    fclose(f);
    snprintf(cmd, sizeof(cmd), SFHTTPD_BIN " -t -c %s 2>/dev/null | tail -n 1", conf);
    char *test = run(cmd);
    char *version = run(SFHTTPD_BIN " -V");
    unlink(conf);
    rmdir(dir);
    char *quotes = man8_quotes();
    char want[1024];
    snprintf(want, sizeof(want), "\n%s", test);
    placeholder(want, conf, "file");
    ck_assert_msg(strstr(want, "OK") != NULL, "sfhttpd -t did not pass: %s", test);
    char *all = NULL;
    ck_assert(asprintf(&all, "\n%s", quotes) > 0);
    ck_assert_msg(strstr(all, want) != NULL,
                  "man/sfhttpd.8 does not quote -t's \"%.*s\"; it quotes:\n%s",
                  (int)strcspn(want + 1, "\n"), want + 1, quotes);
    snprintf(want, sizeof(want), "\n%s", version);
    placeholder(want, SFHTTPD_VERSION, "version");
    ck_assert_msg(strstr(all, want) != NULL, "man/sfhttpd.8 does not quote -V's \"%.*s\"",
                  (int)strcspn(want + 1, "\n"), want + 1);
    free(all);
    free(quotes);
    free(test);
    free(version);
}
END_TEST

/* The iterator itself: the sections hold what the loader reads. */
/* docs/architecture.md's module map has a row ("| name |") for every
 * module in src/; the config's parts share the "config*" row. */
START_TEST(architecture_maps_every_module)
{
    char *doc = slurp("docs/architecture.md");
    char dir[4096], missing[2048] = "";
    snprintf(dir, sizeof(dir), "%s/src", SFHTTPD_SOURCE_DIR);
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 3 || strcmp(e->d_name + n - 2, ".c") != 0 || strncmp(e->d_name, "config", 6) == 0)
            continue;
        char row[300];
        snprintf(row, sizeof(row), "\n| %.*s |", (int)(n - 2), e->d_name);
        size_t len = strlen(missing);
        if (!strstr(doc, row))
            snprintf(missing + len, sizeof(missing) - len, " %.*s", (int)(n - 2), e->d_name);
    }
    closedir(d);
    bool config_row = strstr(doc, "\n| config* |") != NULL;
    free(doc);
    ck_assert_msg(!missing[0] && config_row, "docs/architecture.md's module map lacks:%s%s",
                  missing[0] ? missing : "", config_row ? "" : " config*");
}
END_TEST

START_TEST(key_names_walk_the_tables)
{
    ck_assert_str_eq(sf_config_key_name(SF_CONFIG_KEYS_SERVER, 0), "listen");
    ck_assert_str_eq(sf_config_key_name(SF_CONFIG_KEYS_SITE, 0), "root");
    ck_assert_str_eq(sf_config_key_name(SF_CONFIG_KEYS_LISTEN, 0), "proxy_protocol");
    bool include = false;
    const char *name;
    size_t n = 0;
    for (size_t i = 0; (name = sf_config_key_name(SF_CONFIG_KEYS_SERVER, i)); i++, n++)
        include |= strcmp(name, "include") == 0;
    ck_assert(include);
    ck_assert_uint_gt(n, 30);
}
END_TEST

static Suite *
docs_suite(void)
{
    Suite *s = suite_create("docs");
    TCase *tc = tcase_create("docs");
    tcase_add_test(tc, key_names_walk_the_tables);
    tcase_add_test(tc, readme_lists_every_key);
    tcase_add_test(tc, readme_lists_every_flag);
    tcase_add_test(tc, conf_lists_every_key);
    tcase_add_test(tc, man5_lists_every_key);
    tcase_add_test(tc, man8_lists_every_flag);
    tcase_add_test(tc, help_lists_every_flag);
    tcase_add_test(tc, man8_quotes_the_programs_messages);
    tcase_add_test(tc, architecture_maps_every_module);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(docs_suite());
}
