/*
 * config.h - the immutable server configuration: defaults, the INI file
 * (read by our own loader, src/config_load.c), and command-line overrides
 * applied by main.c.
 */
#ifndef SFHTTPD_CONFIG_H
#define SFHTTPD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "sfhttpd/coding.h"
#include "sfhttpd/resolve.h"

#define SF_CONFIG_MAX_LISTEN 16
#define SF_CONFIG_MAX_INDEX 8
#define SF_CONFIG_MAX_SITES 64
#define SF_CONFIG_MAX_RULES 32
#define SF_CONFIG_MAX_ERROR_PAGES 16
#define SF_CONFIG_MAX_NAMES 32       /* server_names of one site */
#define SF_CONFIG_MAX_ADD_HEADERS 32 /* add_header lines of one site */
#define SF_CONFIG_ADD_HEADERS_BYTES                                                                \
    2048                              /* their total size, so that a                               \
                                         response head still fits */
#define SF_CONFIG_MAX_MIME_TYPES 64   /* mime_types lines of one site */
#define SF_CONFIG_MAX_WORKERS 4096    /* workers = N, -w N */
#define SF_CONFIG_MAX_HEALTH_PATH 255 /* health_path bytes */

/* Cache headers for part of a site: "cache_control /assets/ = ..." (a
 * path prefix) or "expires *.css = 7d" (an extension). */
struct sf_cache_rule {
    char *match; /* "/assets/" (prefix) or ".css" (extension) */
    bool is_ext;
    char *cache_control; /* NULL: not set by this rule */
    long long expires;   /* seconds, or -1: not set by this rule */
};

struct sf_error_page {
    int status; /* 400..599 */
    char *path; /* "/404.html": a file of the site */
};

enum sf_log_level { SF_LOG_ERROR = 0, SF_LOG_WARN, SF_LOG_INFO, SF_LOG_DEBUG };

/* The name of a level ("error", "warn", "info", "debug"): log_level,
 * --log-level and the error log's lines all use these. */
const char *sf_config_level_name(enum sf_log_level lv);

/* A level by its name (any case) into *lv; 0 or -EINVAL. */
int sf_config_parse_level(const char *s, enum sf_log_level *lv);

/* workers = N (0..SF_CONFIG_MAX_WORKERS) or "auto" (any case: one per
 * online CPU, at most SF_CONFIG_MAX_WORKERS) into *n, for the config file
 * and -w alike. 0, -EINVAL (not a number or auto) or -ERANGE. */
int sf_config_parse_workers(const char *s, int *n);

/* access_log_format: the combined format of Apache and nginx, one JSON
 * object per line, or combined behind "SITE:PORT " as Apache's
 * vhost_combined (log.h). */
enum sf_log_format { SF_LOG_FORMAT_COMBINED = 0, SF_LOG_FORMAT_JSON, SF_LOG_FORMAT_VHOST_COMBINED };

/* One server_names entry: "example.com", "*.example.com" (any subdomain,
 * not the bare domain), "192.0.2.1" or "[2001:db8::1]"; stored lower-case. */
struct sf_server_name {
    char *name;
    size_t len;
    bool wildcard; /* name starts with "*." */
};

/* mime_types = EXT TYPE: a per-site Content-Type override. */
struct sf_mime_type {
    char *ext;  /* without the dot, lower-case */
    char *type; /* "text/markdown" (mime.c adds the charset) */
};

/* The options of one listen line (after the address, space separated):
 * "proxy_protocol" (or proxy_protocol=on|off), "backlog=N" (1..65535),
 * "ipv6only=on|off" (IPv6 addresses only). */
struct sf_listen_opts {
    bool proxy_protocol; /* default false */
    int backlog;         /* default 0: the [server] backlog */
    bool v6only;         /* default true */
};

/* One listen line: the address and its options. */
struct sf_listen {
    char *addr; /* "127.0.0.1:8080", "[::1]:80", "unix:/run/x.sock" */
    struct sf_listen_opts opts;
    char *at; /* where it came from (sf_config_problem):
                 "FILE:LINE", "-l", or NULL (the default) */
};

/* What protects a file being sent against changes (fcache.h). */
enum sf_guard {
    SF_GUARD_LEASE = 0, /* a read lease: the kernel tells us before a write */
    SF_GUARD_STAT,      /* compare fstat before each sendfile chunk */
    SF_GUARD_OFF        /* trust the file (an early EOF is still caught) */
};

/* What a site's ETags are made of (etag = mtime | content). */
enum sf_etag_mode {
    SF_ETAG_MTIME = 0, /* size and mtime (ns): free, equal on replicas only
                          when the deploy kept mtimes */
    SF_ETAG_CONTENT    /* a hash of the bytes (etag.h), equal wherever the
                          bytes are */
};

struct sf_site {
    char *name;                       /* section name, e.g. "site" or "site example" */
    char *root;                       /* absolute path (relative ones resolved against the
                                         config file's folder) */
    char *index[SF_CONFIG_MAX_INDEX]; /* default: "index.html" */
    size_t nindex;
    bool listing;              /* default off in a config file, on in quick mode */
    bool dotfiles;             /* true = allow; default false (deny -> 404) */
    enum sf_symlinks symlinks; /* default SF_SYMLINKS_BENEATH */
    enum sf_etag_mode etag;    /* default SF_ETAG_MTIME */
    enum sf_coding precompressed[SF_CODING_COUNT]; /* the variants to
                            look for, in the order given, parsed once at
                            load; default br, zstd, gzip (static.c sends
                            the smallest one the client accepts) */
    size_t nprecompressed;                         /* 0: precompressed = off */
    char *cache_control;                           /* NULL = no Cache-Control header */
    long long expires;                             /* Expires: now + this many seconds; -1 = none */
    struct sf_cache_rule rules[SF_CONFIG_MAX_RULES]; /* first match wins */
    size_t nrules;
    struct sf_error_page error_pages[SF_CONFIG_MAX_ERROR_PAGES];
    size_t nerror_pages;
    /* virtual hosts (vhost.h) */
    struct sf_server_name names[SF_CONFIG_MAX_NAMES]; /* server_names */
    size_t nnames;
    bool is_default;                              /* default = on: unknown hosts come here (else
                                                     the first site) */
    char *add_headers[SF_CONFIG_MAX_ADD_HEADERS]; /* "Name: value" lines
                            added to every response of the site */
    size_t nadd_headers;
    struct sf_mime_type mime_types[SF_CONFIG_MAX_MIME_TYPES];
    size_t nmime_types;
    char *access_log;                     /* path, "-", "off", or NULL: the server's */
    enum sf_log_format access_log_format; /* when access_log_format_set */
    bool access_log_format_set;           /* else the server's access_log_format */
    /* where values came from, for the start-up checks' messages (see
     * sf_config_problem): "FILE:LINE", or NULL */
    char *at; /* the section header */
    char *root_at;
    char *access_log_at;
};

struct sf_config {
    char *path;                                    /* config file, NULL in quick mode */
    struct sf_listen listen[SF_CONFIG_MAX_LISTEN]; /* listen lines */
    size_t nlisten;                                /* default: one, 127.0.0.1:8080 */
    bool listen_is_default;                        /* listen[] still holds only the
                                                      default: the next
                                                      sf_config_add_listen replaces it */
    int backlog;                                   /* default 511 */
    int workers;                                   /* default 1; 0 = single process */
    int master;                                    /* master = auto (-1, default: a
                                                      master when workers >= 2 or
                                                      --daemon) | on (1) | off (0) */
    bool reuseport;                                /* reuseport: one SO_REUSEPORT
                                                      socket per worker, default off */
    bool defer_accept;                             /* defer_accept: TCP_DEFER_ACCEPT,
                                                      default off */
    char *user;                                    /* user: workers switch to it when
                                                      started as root; NULL = unset */
    char *group;                                   /* group: default the user's own */
    char *pid_file;                                /* pid_file: NULL = none */
    /* timeouts in milliseconds (config keys take seconds, fractions ok) */
    unsigned header_timeout_ms;    /* header_timeout, default 10 s */
    unsigned keepalive_timeout_ms; /* keepalive_timeout, default 15 s */
    unsigned send_timeout_ms;      /* send_timeout, default 60 s */
    unsigned shutdown_timeout_ms;  /* shutdown_timeout, default 10 s */
    unsigned drain_delay_ms;       /* drain_delay: on SIGTERM, serve on
                                      this long (health_path answering
                                      503) before the graceful stop;
                                      default 0 (off) */
    char *health_path;             /* health_path: "/healthz", answered
                                      200 from memory for GET and HEAD
                                      whatever the Host; NULL = off
                                      (default) */
    /* limits */
    size_t max_header_size;   /* max_header_size, default 8192 */
    size_t max_uri_length;    /* max_uri_length, default 8192 */
    unsigned max_headers;     /* max_headers, default 100 */
    size_t send_chunk;        /* send_chunk, default 2 MiB */
    size_t send_chunk_paced;  /* send_chunk_paced: the same for a
                                 connection whose congestion control
                                 paces it (BBR), default 64 KiB */
    unsigned max_ranges;      /* max_ranges, default 16 */
    unsigned max_connections; /* max_connections per worker; 0 =
                                 auto (default): sized from
                                 RLIMIT_NOFILE (fdlimit.h) */
    size_t max_body_size;     /* max_body_size: a request body to
                                 read and discard, default 1 MiB;
                                 larger: 413 and close */
    /* the open-file cache */
    enum sf_guard file_guard;   /* file_guard = lease|stat|off,
                                   default lease */
    size_t open_file_cache_max; /* open_file_cache_max: entries
                                   per worker; 0 = auto (default):
                                   sized from RLIMIT_NOFILE */
    size_t small_file_size;     /* small_file_size: files up to
                                   this are sent from a snapshot
                                   in memory, default 16k (measured
                                   once the head went out without a
                                   wasted read: a 16 KiB file with
                                   its head in one writev beats head
                                   + sendfile, 3 syscalls to 4) */
    size_t small_file_budget;   /* small_file_budget: most bytes of
                                   such snapshots per worker; past
                                   it files go by sendfile; default
                                   64m, 0 = no bound */
    /* a lease break: completing what is in flight (README, LEASES) */
    size_t snapshot_budget;       /* snapshot_budget: bytes of the
                                     unsent rest of files being
                                     changed a worker may copy into
                                     memory at once, default 32m
                                     (copying it adds ~7-30 ms to the
                                     writer's wait, about the wait
                                     itself); 0 = none */
    char *snapshot_dir;           /* snapshot_dir: a folder on the
                                     files' file system where
                                     reflink clones are made; NULL
                                     (off, default) */
    unsigned lease_break_wait_ms; /* lease_break_wait: how long a
                                     break waits for sockets to
                                     drain, default 50 ms (a fast
                                     loopback client drains in a few
                                     ms; a 1 Gb/s one 4 MiB in ~35);
                                     0 = cut unless drained */
    /* listings */
    size_t max_listing_entries; /* max_listing_entries: names read
                                   from one folder for its listing,
                                   beyond that it says it is
                                   truncated; default 10000 */
    size_t listing_cache_size;  /* listing_cache_size: bytes of
                                   listings kept per worker (read
                                   entries and rendered pages),
                                   default 32m; 0 = off */
    size_t listing_cache_max;   /* listing_cache_max: folders kept
                                   per worker, default 256 */
    /* logs */
    char *access_log;                     /* path, "-" (stdout, default) or
                                             "off" */
    char *error_log;                      /* path or "-" (stderr, default) */
    enum sf_log_level log_level;          /* default SF_LOG_INFO */
    enum sf_log_format access_log_format; /* access_log_format =
                                            combined (default) | json |
                                            vhost_combined */
    bool strict_hosts;                    /* strict_hosts: 421 for a Host no
                                             site names, default off */
    struct sf_site sites[SF_CONFIG_MAX_SITES];
    size_t nsites;
    /* Where values came from, for the messages of the start-up checks
     * (sf_config_problem): "FILE:LINE" for a file's line, the flag ("-u",
     * "--error-log", "--access-log") for the command line, NULL for a
     * default. Owned strings. (A listen line's is listen[i].at.) */
    char *server_at; /* the [server] header */
    char *user_at;
    char *group_at;
    char *pid_file_at;
    char *access_log_at;
    char *error_log_at;
};

/* Fill cfg with the defaults listed above and no sites. */
void sf_config_defaults(struct sf_config *cfg);

/*
 * Load an INI file on top of the defaults already in cfg. Sections:
 * [server] with the keys listed in struct sf_config (listen may repeat),
 * and one or more sections named "site" or starting with "site " (site
 * keys: root, index (space separated list), listing (on|off), dotfiles
 * (allow|deny), symlinks (beneath|follow|none), precompressed (list or
 * off), cache_control, expires (a duration: 30s, 10m, 1h, 7d, or off),
 * "cache_control MATCH" / "expires MATCH" for a path prefix ("/assets/")
 * or an extension ("*.css"), error_page = STATUS... /PATH (repeatable),
 * server_names (space separated list), default (on|off), add_header =
 * NAME: VALUE (repeatable), mime_types = EXT TYPE (repeatable),
 * access_log (path, - or off) and access_log_format). A server name given in two sites, or a
 * second default site, is an error at the line that repeats it.
 * "include = PATTERN" (at the top of a file or in [server]) reads the
 * files a glob(3) pattern matches, relative to the including file's folder,
 * in sorted order, each starting outside any section; at most 8 levels
 * deep, a cycle is an error, no match is not (a plain missing path is).
 * Every problem (unknown section or key, bad value,
 * missing root, unreadable file) is reported to errs as
 * "FILE:LINE: message" (one line each, all of them). Returns the number of
 * errors (0 on success). Sizes accept k/m/g suffixes (KiB...); booleans
 * on/off/yes/no/true/false/1/0.
 */
int sf_config_load(struct sf_config *cfg, const char *path, FILE *errs);

/* Add a site for quick mode: root dir, listing on, precompressed on,
 * dotfiles denied, symlinks beneath. Returns 0 or -ENOMEM/-E2BIG. */
int sf_config_add_quick_site(struct sf_config *cfg, const char *root);

/* Append a listen line "ADDR [option...]" (replacing the default on
 * the first call after sf_config_defaults). Returns 0, -EINVAL (a bad
 * address or option), -E2BIG or -ENOMEM. */
int sf_config_add_listen(struct sf_config *cfg, const char *line);

/*
 * Split a listen line into its address (copied to addr, at most cap - 1
 * bytes) and options. Returns 0, or -EINVAL with a reason in why (e.g.
 * "unknown option 'x'", "'x' is not an address").
 */
int sf_config_parse_listen(const char *line, char *addr, size_t cap, struct sf_listen_opts *o,
                           char *why, size_t whycap);

/* Parse "host:port", "[v6]:port", ":port"/"port" (127.0.0.1) or
 * "unix:/absolute/path" into a sockaddr (struct sockaddr_storage *);
 * returns 0 or -EINVAL. */
struct sockaddr_storage;
int sf_config_parse_addr(const char *s, struct sockaddr_storage *ss, unsigned *sslen);

/* Final checks after load + overrides (at least one site, one listen, a
 * root that is a directory...), errors to errs, with FILE:LINE where the
 * value came from a file (sf_config_problem); a quick-mode folder that is
 * missing says "no such folder: PATH". Returns the number of errors. The
 * checks of the machine a start makes (users, folders, addresses) are
 * startup.h's. */
int sf_config_validate(const struct sf_config *cfg, FILE *errs);

/*
 * Print one problem with a configured value to errs (nothing when errs is
 * NULL), as one line:
 *   "FILE:LINE: KEY VALUE: message"   at is a place in a file
 *   "sfhttpd: FLAG VALUE: message"    at is a command-line flag ("-l")
 *   "sfhttpd: KEY VALUE: message"     at is NULL (a default)
 * key and value may be NULL (then "AT: message"); a place without a line
 * ("FILE") works too.
 */
void sf_config_problem(FILE *errs, const char *at, const char *key, const char *value,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The key tables the loader walks, by section. */
enum sf_config_keys {
    SF_CONFIG_KEYS_SERVER = 0, /* [server], and include (read there too) */
    SF_CONFIG_KEYS_SITE,       /* [site] and [site NAME] */
    SF_CONFIG_KEYS_LISTEN      /* the options after a listen address (and -l's) */
};

/* The name of the i-th key (from 0, in -T order) the loader knows in
 * sect, or NULL past the last: what the documentation must list
 * (tests/unit/test_docs.c). */
const char *sf_config_key_name(enum sf_config_keys sect, size_t i);

/* Print the effective configuration as INI (for -T). */
void sf_config_dump(const struct sf_config *cfg, FILE *out);

/* Free every string; NULL-safe; leaves cfg zeroed. */
void sf_config_free(struct sf_config *cfg);

#endif
