/*
 * config_int.h - PRIVATE to the config module (src/config*.c); nothing
 * else may include it. The public face is include/sfhttpd/config.h.
 *
 * The module is split by job:
 *   config.c         the loader: line reader, sections, include, defaults
 *                    and the programmatic API (add_listen, quick sites, free)
 *   config_value.c   value, path and address parsing (pure: no loader)
 *   config_server.c  the [server] key table and its handlers
 *   config_site.c    the [site ...] keys and their handlers
 *   config_check.c   sf_config_validate and sf_config_dump
 *
 * This header holds what they share: the loader state, the [server] key
 * table, the name tables the dump prints, and the helpers.
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

/* ---- the [server] key table (config_server.c) ---------------------------- */

enum kind {
    K_INT,
    K_UINT,
    K_SIZE,
    K_MS,
    K_WORKERS,
    K_LISTEN,
    K_LEVEL,
    K_GUARD,
    K_ACCESS_LOG,
    K_ERROR_LOG,
    K_BOOL,
    K_LOG_FORMAT,
    K_MASTER, /* auto|on|off */
    K_NAME,   /* a user or group name */
    K_PATH,   /* a file path made absolute */
};

struct key {
    const char *name;
    enum kind kind;
    size_t off; /* offset of the field in struct sf_config */
    unsigned long long min, max;
};

/* The number of entries in config_server_keys; the definition is checked
 * against it at compile time. */
#define CONFIG_NSERVER_KEYS 31

/* Every [server] key, in dump order. */
extern const struct key config_server_keys[CONFIG_NSERVER_KEYS];

/* Value names, indexed by enum sf_log_level, enum sf_guard and
 * enum sf_symlinks; the parsers and sf_config_dump share them. */
extern const char *const config_level_names[4];
extern const char *const config_guard_names[3];
extern const char *const config_symlink_names[3];

/* ---- the loader (config.c) ----------------------------------------------- */

enum site_key {
    S_ROOT = 0,
    S_INDEX,
    S_LISTING,
    S_DOTFILES,
    S_SYMLINKS,
    S_PRECOMPRESSED,
    S_CACHE_CONTROL,
    S_SERVER_NAMES,
    S_DEFAULT,
    S_ACCESS_LOG,
    S_COUNT
};

enum section { SECT_NONE, SECT_SERVER, SECT_SITE, SECT_BAD };

/* Where each key and section was first seen, for "duplicate" messages. */
struct site_lines {
    int section;
    int keys[S_COUNT];
};

/* The state of reading one config file (an included file has its own). */
struct loader {
    struct sf_config *cfg;
    const char *file; /* as given, for messages */
    char *dir;        /* absolute folder of the file */
    FILE *in;
    FILE *errs;
    int nerr;
    int lineno;
    char *line; /* getline buffer */
    size_t cap;
    enum section sect;
    struct sf_site *site;                 /* the current site section */
    size_t first_site;                    /* sites before this came from elsewhere */
    int server_keys[CONFIG_NSERVER_KEYS]; /* -1: set in another file */
    struct site_lines sites[SF_CONFIG_MAX_SITES];
    /* include: the file that included this one, how deep, and this
     * file's identity for the cycle check */
    struct loader *parent;
    int depth;
    dev_t dev;
    ino_t ino;
};

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

/* ---- values, paths and addresses (config_value.c) ------------------------ */

/* The index of s in names (case-insensitive), or -1. */
int config_lookup(const char *s, const char *const *names, size_t n);

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

/* ---- key handlers (config_server.c, config_site.c) ----------------------- */

/* Apply "name = v" of [server] at line l->lineno, reporting errors. */
void config_server_key(struct loader *l, const char *name, const char *v);

/* Apply "name = v" to the current site l->site, reporting errors. */
void config_site_key(struct loader *l, const char *name, const char *v);

#endif
