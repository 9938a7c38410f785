/*
 * config_int.h - PRIVATE to the config module (src/config*.c); nothing
 * else may include it. The public face is include/sfhttpd/config.h.
 *
 * The module is split by job; each file calls only the ones below it:
 *   config_load.c    the loader: lines, sections, include, key dispatch
 *   config_check.c   sf_config_validate, sf_config_problem, sf_config_dump
 *   config.c         defaults, quick-mode sites, sf_config_free
 *   config_server.c  the [server] key table and its own setters
 *   config_site.c    the [site ...] key table and its own setters
 *   config_key.c     what every table row shares: generic setters and
 *                    dumpers by type, defaults/free/dump walks, errors
 *   config_value.c   value, path and address parsing (pure: no loader)
 *
 * Every key of every section is one row of a table (struct key): its
 * name, how a value is parsed and stored (set), how it is printed back
 * (dump), its default (as the text a file would give), where it lives in
 * the section's struct, and what a value must be. The loader, the
 * defaults, sf_config_free, sf_config_validate and sf_config_dump walk the
 * tables; nothing else lists keys. Adding a key is one row, plus a setter
 * (and a dumper) when no generic one fits.
 */
#ifndef SFHTTPD_CONFIG_INT_H
#define SFHTTPD_CONFIG_INT_H

#include "sfhttpd/config.h"
#include "sfhttpd/common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define KIB 1024ULL
#define MIB (1024ULL * 1024)
#define GIB (1024ULL * 1024 * 1024)

/* Longest line of a config file, its newline included (the limit inih,
 * which read the files before, had). */
#define CONFIG_MAX_LINE 200

/* Rows a table may have (the loader keeps a line number per row). */
#define CONFIG_MAX_KEYS 48

/* ---- the key tables ------------------------------------------------------- */

struct loader;
struct key;

/*
 * Parse v, the value of key k, into obj: the struct sf_config for
 * [server], the struct sf_site for a site. arg is the MATCH of
 * "name MATCH = v" for a KEY_ARG row, else NULL. A bad value is reported
 * with config_err (and counted); obj keeps its old value then.
 */
typedef void key_set_fn(struct loader *l, const struct key *k, void *obj, const char *arg,
                        const char *v);

/* Print k's lines of obj as a config file would hold them ("name = v\n";
 * nothing for an unset value, several lines for a repeatable key). */
typedef void key_dump_fn(FILE *out, const struct key *k, const void *obj);

/* Free what k holds in obj beyond a T_STR field (which is freed anyway). */
typedef void key_free_fn(const struct key *k, void *obj);

/* The C type of a row's field, for the generic setters and dumpers. */
enum key_type {
    T_NONE = 0, /* the row's own setter knows */
    T_BOOL,
    T_INT,
    T_UINT, /* unsigned, and enums (compatible with unsigned int) */
    T_SIZE,
    T_LLONG,
    T_STR, /* char *, owned */
};

#define KEY_TYPE_OF(x)                                                                             \
    _Generic((x), bool: T_BOOL, int: T_INT, unsigned: T_UINT, size_t: T_SIZE, long long: T_LLONG, \
             char *: T_STR)

/* A field of struct sf_config / struct sf_site, with its type. */
#define SERVER_FIELD(f)                                                                            \
    .off = offsetof(struct sf_config, f), .type = KEY_TYPE_OF(((struct sf_config *)0)->f)
#define SITE_FIELD(f)                                                                              \
    .off = offsetof(struct sf_site, f), .type = KEY_TYPE_OF(((struct sf_site *)0)->f)

/* row flags */
#define KEY_REPEAT 1u   /* may be given more than once (each line adds, or the last wins) */
#define KEY_ARG 2u      /* also "name MATCH = value" (repeatable), e.g. "expires *.css" */
#define KEY_REQUIRED 4u /* a site must set it (a T_STR field) */
#define KEY_AUTO 8u     /* a number where 0 stands for auto */

struct key {
    const char *name;
    key_set_fn *set;
    key_dump_fn *dump;
    key_free_fn *free; /* NULL: nothing beyond a T_STR field */
    const char *def;   /* the default, as a file would give it; NULL: zero */
    size_t off;        /* the field in obj */
    enum key_type type;
    size_t at;                   /* offset in obj of the char * that remembers
                                    where the value came from; 0: none (offset
                                    0 holds a name, never a place) */
    unsigned long long min, max; /* numbers: the range; max 0: none */
    const char *const *names;    /* enums: the value names, by value */
    size_t nnames;
    const char *what; /* what a value must be, for "is not ..." (NULL: the
                         setter's own words, or the names) */
    unsigned flags;
};

/* Every [server] key, in dump order (config_server.c). */
extern const struct key config_server_keys[];
extern const size_t config_nserver_keys;

/* Every site key, in dump order (config_site.c). */
extern const struct key config_site_keys[];
extern const size_t config_nsite_keys;

/* The loader's directive that reads more files ("include = PATTERN", at
 * the top of a file or in [server]; config_load.c). */
#define CONFIG_INCLUDE_KEY "include"

/* The options a listen line may carry after its address (config_value.c). */
extern const char *const config_listen_option_names[];
extern const size_t config_nlisten_options;

/* Indexed by enum sf_log_format: the [server] and site keys and the
 * checks share it. */
extern const char *const config_log_format_names[3];

/* ---- the loader (config_load.c) --------------------------------------- */

enum section { SECT_NONE, SECT_SERVER, SECT_SITE, SECT_BAD };

/* Where a site's section and each of its keys were first seen, for the
 * "duplicate" messages; 0: not in this file. */
struct site_lines {
    int section;
    int keys[CONFIG_MAX_KEYS]; /* by row of config_site_keys */
};

/* The state of reading one config file (an included file has its own). */
struct loader {
    struct sf_config *cfg;
    const char *file; /* as given, for messages */
    char *dir;        /* absolute folder of the file */
    FILE *in;
    FILE *errs;
    int nerr;
    int lineno; /* 0 while applying defaults */
    char *line; /* getline buffer */
    size_t cap;
    enum section sect;
    struct sf_site *site;             /* the current site section */
    size_t first_site;                /* sites before this came from elsewhere */
    int server_keys[CONFIG_MAX_KEYS]; /* by row; -1: set in another file */
    struct site_lines sites[SF_CONFIG_MAX_SITES];
    /* include: the file that included this one, how deep, and this
     * file's identity for the cycle check */
    struct loader *parent;
    int depth;
    dev_t dev;
    ino_t ino;
};

/* ---- shared by the rows (config_key.c) ------------------------------------ */

/* Out of memory at start-up: print a message and abort. */
_Noreturn void config_oom(void);

/* p, or config_oom() when p is NULL. */
void *config_xalloc(void *p);

/* strdup that cannot fail (aborts instead). */
char *config_xstrdup(const char *s);

/* Count an error in l and print "FILE:LINE: message" (or "FILE: message"
 * when line is 0) to l->errs, if any. */
void config_err(struct loader *l, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Remember the current line as "FILE:LINE" in *dst (replacing what was
 * there); nothing while applying defaults. */
void config_note_at(struct loader *l, char **dst);

/* A log destination as stored: "-", "off" (given in any case) or v made
 * absolute against l's folder. */
char *config_log_dest(struct loader *l, const char *v);

/* The field of row k in obj. */
void *config_field(const struct key *k, void *obj);
const void *config_cfield(const struct key *k, const void *obj);

/* A number field (T_BOOL ... T_LLONG) of obj, read or written. */
long long config_get_number(const struct key *k, const void *obj);
void config_put_number(const struct key *k, void *obj, unsigned long long n);

/* "A, B or C" from names, into buf (cut at cap). */
void config_join_names(char *buf, size_t cap, const char *const *names, size_t n, const char *last);

/* Generic setters by what the value is: a decimal number, a size (k, m,
 * g), a time in seconds into milliseconds, a boolean, one of k->names. */
key_set_fn config_set_number;
key_set_fn config_set_size;
key_set_fn config_set_ms;
key_set_fn config_set_bool;
key_set_fn config_set_enum;

/* Generic dumpers: a number, a size with the largest exact suffix, a time
 * in seconds, on/off, the name of an enum value, a string (when set, else
 * k->def when there is one). */
key_dump_fn config_dump_number;
key_dump_fn config_dump_size;
key_dump_fn config_dump_ms;
key_dump_fn config_dump_bool;
key_dump_fn config_dump_enum;
key_dump_fn config_dump_string;

/* Set every row's default in obj (cfg for the loader state the setters
 * may read). Aborts if a default does not parse: a bug in the table. */
void config_keys_defaults(const struct key *keys, size_t n, struct sf_config *cfg, void *obj);

/* Free what every row holds in obj (and its places). */
void config_keys_free(const struct key *keys, size_t n, void *obj);

/* Print every row of obj. */
void config_keys_dump(const struct key *keys, size_t n, const void *obj, FILE *out);

/* ---- values, paths and addresses (config_value.c) ------------------------ */

/* The index of s in names (case-insensitive), or -1. */
int config_lookup(const char *s, const char *const *names, size_t n);

/* The names of enum sf_log_level, by value. */
extern const char *const config_level_names[4];

/* The value parsers return 0 with *out set, -EINVAL for a malformed value
 * or -ERANGE for one too large. */

/* on|yes|true|1 or off|no|false|0. */
int config_parse_bool(const char *s, bool *out);

/* A decimal number, nothing else. */
int config_parse_number(const char *s, unsigned long long *out);

/* "8192", "8k", "2M", "1g" (binary multiples). */
int config_parse_size(const char *s, unsigned long long *out);

/* Seconds with an optional fraction and "s" or "ms" suffix, into
 * milliseconds rounded up. */
int config_parse_ms(const char *s, unsigned long long *out);

/* "30", "30s", "10m", "1h", "7d" or "off" (-1) into seconds; -EINVAL for
 * anything else, including more than ten years. */
int config_parse_duration(const char *v, long long *out);

/* base + "/" + path unless path is absolute, lexically tidied; the caller
 * frees it. NULL when out of memory. */
char *config_make_absolute(const char *base, const char *path);

/* The absolute current directory (free it), or NULL with errno set. */
char *config_current_dir(void);

/* The absolute folder holding the config file at path (free it), or NULL
 * when out of memory or the current directory is unknown. */
char *config_dir(const char *path);

/* sf_config_parse_listen, checking the address only when check_addr
 * (sf_config_add_listen leaves that to sf_config_validate). */
int config_split_listen(const char *line, char *addr, size_t cap, struct sf_listen_opts *o,
                        char *why, size_t whycap, bool check_addr);

/* ---- sites (config.c) ------------------------------------------------------- */

/* A site with every key's default and the given section name. */
void config_site_init(struct sf_site *site, struct sf_config *cfg, const char *name);

#endif
