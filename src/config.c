/*
 * config.c - the server configuration: defaults, the INI file, quick-mode
 * sites, final validation and a dump of the effective values.
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
#include "sfhttpd/config.h"
#include "sfhttpd/common.h"
#include "sfhttpd/vhost.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <ini.h>
#include <limits.h>
#include <grp.h>
#include <pwd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_PRECOMPRESSED "br, zstd, gzip"
#define DAY_MS (24ULL * 3600 * 1000)
#define KIB 1024ULL
#define MIB (1024ULL * 1024)
#define GIB (1024ULL * 1024 * 1024)

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
    K_MASTER,   /* auto|on|off */
    K_NAME,     /* a user or group name */
    K_PATH,     /* a file path made absolute */
};

struct key {
    const char *name;
    enum kind kind;
    size_t off; /* offset of the field in struct sf_config */
    unsigned long long min, max;
};

#define FIELD(f) offsetof(struct sf_config, f)

static const struct key server_keys[] = {
    {"listen", K_LISTEN, FIELD(listen), 0, 0},
    {"backlog", K_INT, FIELD(backlog), 1, 65535},
    {"workers", K_WORKERS, FIELD(workers), 0, 4096},
    {"master", K_MASTER, FIELD(master), 0, 0},
    {"reuseport", K_BOOL, FIELD(reuseport), 0, 0},
    {"defer_accept", K_BOOL, FIELD(defer_accept), 0, 0},
    {"user", K_NAME, FIELD(user), 0, 0},
    {"group", K_NAME, FIELD(group), 0, 0},
    {"pid_file", K_PATH, FIELD(pid_file), 0, 0},
    {"header_timeout", K_MS, FIELD(header_timeout_ms), 1, DAY_MS},
    {"keepalive_timeout", K_MS, FIELD(keepalive_timeout_ms), 1, DAY_MS},
    {"send_timeout", K_MS, FIELD(send_timeout_ms), 1, DAY_MS},
    {"shutdown_timeout", K_MS, FIELD(shutdown_timeout_ms), 1, DAY_MS},
    {"max_header_size", K_SIZE, FIELD(max_header_size), KIB, MIB},
    {"max_uri_length", K_SIZE, FIELD(max_uri_length), 64, MIB},
    {"max_headers", K_UINT, FIELD(max_headers), 1, 1000},
    {"send_chunk", K_SIZE, FIELD(send_chunk), 4 * KIB, GIB},
    {"max_ranges", K_UINT, FIELD(max_ranges), 1, 64},
    {"max_connections", K_UINT, FIELD(max_connections), 1, 1000000},
    {"max_body_size", K_SIZE, FIELD(max_body_size), 0, GIB},
    {"access_log", K_ACCESS_LOG, FIELD(access_log), 0, 0},
    {"error_log", K_ERROR_LOG, FIELD(error_log), 0, 0},
    {"log_level", K_LEVEL, FIELD(log_level), 0, 0},
    {"file_guard", K_GUARD, FIELD(file_guard), 0, 0},
    {"open_file_cache_max", K_SIZE, FIELD(open_file_cache_max), 1, 1000000},
    {"small_file_size", K_SIZE, FIELD(small_file_size), 0, 16 * MIB},
    {"strict_hosts", K_BOOL, FIELD(strict_hosts), 0, 0},
    {"access_log_format", K_LOG_FORMAT, FIELD(access_log_format), 0, 0},
};

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

static const char *const site_keys[S_COUNT] = {
    "root",          "index",         "listing",      "dotfiles", "symlinks",
    "precompressed", "cache_control", "server_names", "default",  "access_log",
};

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const char *const guard_names[] = {"lease", "stat", "off"};
static const char *const symlink_names[] = {"beneath", "follow", "none"};
static const char *const coding_names[] = {"br", "zstd", "gzip"};
static const char *const log_format_names[] = {"combined", "json"};

enum section { SECT_NONE, SECT_SERVER, SECT_SITE, SECT_BAD };

/* Where each key and section was first seen, for "duplicate" messages. */
struct site_lines {
    int section;
    int keys[S_COUNT];
};

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
    struct sf_site *site; /* the current site section */
    size_t first_site;    /* sites before this came from elsewhere */
    int server_keys[SF_ARRAY_LEN(server_keys)]; /* -1: set in another file */
    struct site_lines sites[SF_CONFIG_MAX_SITES];
    /* include: the file that included this one, how deep, and this
     * file's identity for the cycle check */
    struct loader *parent;
    int depth;
    dev_t dev;
    ino_t ino;
};

/* Out of memory while loading the config: this is start-up, give up. */
static _Noreturn void
oom(void)
{
    fputs("sfhttpd: out of memory\n", stderr);
    abort();
}

static void *
xalloc(void *p)
{
    if (!p)
        oom();
    return p;
}

static char *
xstrdup(const char *s)
{
    return xalloc(strdup(s));
}

static void err(struct loader *l, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
err(struct loader *l, int line, const char *fmt, ...)
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

/* ---- values ------------------------------------------------------------ */

static int
lookup(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(s, names[i]) == 0)
            return (int)i;
    }
    return -1;
}

static int
parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"on", "yes", "true", "1"};
    static const char *const no[] = {"off", "no", "false", "0"};
    if (lookup(s, yes, SF_ARRAY_LEN(yes)) >= 0)
        *out = true;
    else if (lookup(s, no, SF_ARRAY_LEN(no)) >= 0)
        *out = false;
    else
        return -EINVAL;
    return 0;
}

/* Leading decimal digits of *s into *out; advances *s. */
static int
parse_digits(const char **s, unsigned long long *out)
{
    const char *p = *s;
    unsigned long long v = 0;
    if (!isdigit((unsigned char)*p))
        return -EINVAL;
    for (; isdigit((unsigned char)*p); p++) {
        if (v > (ULLONG_MAX - 9) / 10)
            return -ERANGE;
        v = v * 10 + (unsigned long long)(*p - '0');
    }
    *s = p;
    *out = v;
    return 0;
}

static int
parse_number(const char *s, unsigned long long *out)
{
    int rc = parse_digits(&s, out);
    return rc ? rc : *s ? -EINVAL : 0;
}

/* "8192", "8k", "2M", "1g" (binary multiples). */
static int
parse_size(const char *s, unsigned long long *out)
{
    unsigned long long v, mult = 1;
    int rc = parse_digits(&s, &v);
    if (rc)
        return rc;
    switch (tolower((unsigned char)*s)) {
    case '\0': break;
    case 'k': mult = KIB; break;
    case 'm': mult = MIB; break;
    case 'g': mult = GIB; break;
    default: return -EINVAL;
    }
    if (*s && s[1])
        return -EINVAL;
    if (v > ULLONG_MAX / mult)
        return -ERANGE;
    *out = v * mult;
    return 0;
}

/* Seconds with an optional fraction and an optional "s" or "ms" suffix,
 * into milliseconds, rounded up so that a tiny positive value stays
 * positive. */
static int
parse_ms(const char *s, unsigned long long *out)
{
    unsigned long long whole = 0, micro = 0, scale = 100000;
    bool digits = false;
    if (isdigit((unsigned char)*s)) {
        int rc = parse_digits(&s, &whole);
        if (rc)
            return rc;
        digits = true;
    }
    if (*s == '.') {
        for (s++; isdigit((unsigned char)*s); s++, scale /= 10) {
            micro += (unsigned long long)(*s - '0') * scale;
            digits = true;
        }
    }
    if (!digits)
        return -EINVAL;
    bool ms = false;
    if (strcasecmp(s, "ms") == 0)
        ms = true;
    else if (*s && strcasecmp(s, "s") != 0)
        return -EINVAL;
    if (whole > 1000000000ULL)
        return -ERANGE;
    if (ms)
        *out = whole + (micro + 999999) / 1000000;
    else
        *out = whole * 1000 + (micro + 999) / 1000;
    return 0;
}

/* Lexically tidy an absolute path: no "//", no "." segments, no trailing
 * slash. ".." is kept: it is the file system's to interpret. */
static void
tidy_path(char *p)
{
    char *w = p;
    const char *r = p;
    while (*r) {
        if (*r == '/') {
            while (*r == '/')
                r++;
            if (*r == '.' && (r[1] == '/' || r[1] == '\0')) {
                r++;
                continue;
            }
            *w++ = '/';
            continue;
        }
        *w++ = *r++;
    }
    if (w > p + 1 && w[-1] == '/')
        w--;
    if (w == p)
        *w++ = '/';
    *w = '\0';
}

/* base + "/" + path unless path is absolute; NULL when out of memory. */
static char *
make_absolute(const char *base, const char *path)
{
    struct sf_buf b = {0};
    if (path[0] != '/' && (sf_buf_puts(&b, base) || sf_buf_puts(&b, "/")))
        goto fail;
    if (sf_buf_puts(&b, path) || sf_buf_append(&b, "", 1))
        goto fail;
    tidy_path(b.data);
    return b.data;
fail:
    sf_buf_free(&b);
    return NULL;
}

/* The absolute current directory, or NULL. */
static char *
current_dir(void)
{
    return getcwd(NULL, 0);
}

/* The absolute folder holding the config file at path. */
static char *
config_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *cwd = NULL;
    struct sf_buf b = {0};
    if (path[0] != '/') {
        cwd = current_dir();
        if (!cwd)
            return NULL;
        if (sf_buf_puts(&b, cwd) || sf_buf_puts(&b, "/"))
            goto out;
    }
    if (slash && (sf_buf_append(&b, path, (size_t)(slash - path)) || sf_buf_puts(&b, "/")))
        goto out;
    if (sf_buf_append(&b, "", 1))
        goto out;
    tidy_path(b.data);
    free(cwd);
    return b.data;
out:
    free(cwd);
    sf_buf_free(&b);
    return NULL;
}

/* ---- addresses --------------------------------------------------------- */

static int
parse_port(const char *s, in_port_t *port)
{
    unsigned long long v;
    if (strlen(s) > 5 || parse_number(s, &v) || v > 65535)
        return -EINVAL;
    *port = htons((in_port_t)v);
    return 0;
}

/* "unix:/absolute/path" into a struct sockaddr_un. */
static int
parse_unix(const char *path, struct sockaddr_storage *ss, unsigned *sslen)
{
    struct sockaddr_un *sun = (struct sockaddr_un *)ss;
    size_t n = strlen(path);
    if (path[0] != '/' || n >= sizeof(sun->sun_path))
        return -EINVAL;
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, path, n + 1);
    *sslen = (unsigned)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    return 0;
}

int
sf_config_parse_addr(const char *s, struct sockaddr_storage *ss, unsigned *sslen)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *port;
    memset(ss, 0, sizeof(*ss));
    if (strncmp(s, "unix:", 5) == 0)
        return parse_unix(s + 5, ss, sslen);
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
            return -EINVAL;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = '\0';
        port = end + 2;
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1 || parse_port(port, &sin6->sin6_port))
            return -EINVAL;
        sin6->sin6_family = AF_INET6;
        *sslen = sizeof(*sin6);
        return 0;
    }
    const char *colon = strrchr(s, ':');
    if (colon) {
        if (memchr(s, ':', (size_t)(colon - s)) || (size_t)(colon - s) >= sizeof(host))
            return -EINVAL; /* a bare IPv6 address needs brackets */
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        port = colon + 1;
    } else {
        host[0] = '\0';
        port = s;
    }
    /* no name resolution: "localhost" is the one name we know */
    if (!host[0] || strcasecmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    else if (strcmp(host, "*") == 0)
        strcpy(host, "0.0.0.0");
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    if (inet_pton(AF_INET, host, &sin->sin_addr) != 1 || parse_port(port, &sin->sin_port))
        return -EINVAL;
    sin->sin_family = AF_INET;
    *sslen = sizeof(*sin);
    return 0;
}

/* ---- defaults and programmatic changes ---------------------------------- */

static void
site_defaults(struct sf_site *site)
{
    *site = (struct sf_site){0};
    site->index[0] = xstrdup("index.html");
    site->nindex = 1;
    site->symlinks = SF_SYMLINKS_BENEATH;
    site->precompressed = xstrdup(DEFAULT_PRECOMPRESSED);
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
    *site = (struct sf_site){0};
}

void
sf_config_defaults(struct sf_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->listen[0] = xstrdup(DEFAULT_LISTEN);
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
    cfg->access_log = xstrdup("-");
    cfg->error_log = xstrdup("-");
    cfg->log_level = SF_LOG_INFO;
}

/* One "name=value" or bare "name" option of a listen line. */
static int
listen_option(const char *tok, const char *addr, struct sf_listen_opts *o, char *why,
              size_t whycap)
{
    const char *eq = strchr(tok, '=');
    size_t nlen = eq ? (size_t)(eq - tok) : strlen(tok);
    const char *v = eq ? eq + 1 : "on";
    unsigned long long n;
    bool b;
    if (nlen == 14 && strncmp(tok, "proxy_protocol", nlen) == 0 && parse_bool(v, &b) == 0) {
        o->proxy_protocol = b;
    } else if (nlen == 7 && eq && strncmp(tok, "backlog", nlen) == 0 && parse_number(v, &n) == 0 &&
               n >= 1 && n <= 65535) {
        o->backlog = (int)n;
    } else if (nlen == 8 && strncmp(tok, "ipv6only", nlen) == 0 && parse_bool(v, &b) == 0) {
        if (addr[0] != '[') {
            snprintf(why, whycap, "ipv6only applies to [IPv6] addresses only");
            return -EINVAL;
        }
        o->v6only = b;
    } else {
        snprintf(why, whycap,
                 "'%s' is not an option (proxy_protocol, backlog=1..65535, ipv6only=on|off)", tok);
        return -EINVAL;
    }
    return 0;
}

/* sf_config_parse_listen, checking the address only when check_addr
 * (sf_config_add_listen leaves that to sf_config_validate). */
static int
split_listen(const char *line, char *addr, size_t cap, struct sf_listen_opts *o, char *why,
             size_t whycap, bool check_addr)
{
    char buf[512];
    *o = (struct sf_listen_opts){.v6only = true};
    if (snprintf(buf, sizeof(buf), "%s", line) >= (int)sizeof(buf)) {
        snprintf(why, whycap, "line too long");
        return -EINVAL;
    }
    char *save = NULL, *tok = strtok_r(buf, " \t", &save);
    struct sockaddr_storage ss;
    unsigned sslen;
    if (!tok || (check_addr && sf_config_parse_addr(tok, &ss, &sslen)) || strlen(tok) >= cap) {
        snprintf(why, whycap,
                 "'%s' is not an address (IP:PORT, [IPv6]:PORT, :PORT or unix:/PATH)",
                 tok ? tok : "");
        return -EINVAL;
    }
    strcpy(addr, tok);
    while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
        if (listen_option(tok, addr, o, why, whycap))
            return -EINVAL;
    }
    return 0;
}

int
sf_config_parse_listen(const char *line, char *addr, size_t cap, struct sf_listen_opts *o,
                       char *why, size_t whycap)
{
    return split_listen(line, addr, cap, o, why, whycap, true);
}

int
sf_config_add_listen(struct sf_config *cfg, const char *line)
{
    char addr[256], why[160];
    struct sf_listen_opts o;
    if (split_listen(line, addr, sizeof(addr), &o, why, sizeof(why), false))
        return -EINVAL;
    if (!cfg->listen_is_default && cfg->nlisten >= SF_CONFIG_MAX_LISTEN)
        return -E2BIG;
    char *copy = strdup(addr);
    if (!copy)
        return -ENOMEM;
    if (cfg->listen_is_default) {
        for (size_t i = 0; i < cfg->nlisten; i++) {
            free(cfg->listen[i]);
            cfg->listen[i] = NULL;
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
    if (root[0] != '/' && !(cwd = current_dir()))
        return -errno;
    struct sf_site site = {
        .name = strdup("site"),
        .root = make_absolute(cwd ? cwd : "/", root),
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
    for (size_t i = 0; i < cfg->nlisten; i++)
        free(cfg->listen[i]);
    free(cfg->access_log);
    free(cfg->error_log);
    free(cfg->user);
    free(cfg->group);
    free(cfg->pid_file);
    for (size_t i = 0; i < cfg->nsites; i++)
        site_free(&cfg->sites[i]);
    memset(cfg, 0, sizeof(*cfg));
}

/* ---- [server] ------------------------------------------------------------ */

static void *
field(struct sf_config *cfg, const struct key *k)
{
    return (char *)cfg + k->off;
}

static void
set_listen(struct loader *l, const char *v)
{
    struct sf_config *cfg = l->cfg;
    char addr[256], why[160];
    struct sf_listen_opts o;
    if (sf_config_parse_listen(v, addr, sizeof(addr), &o, why, sizeof(why))) {
        err(l, l->lineno, "listen: %s", why);
        return;
    }
    for (size_t i = 0; !cfg->listen_is_default && i < cfg->nlisten; i++) {
        if (strcmp(cfg->listen[i], addr) == 0) {
            err(l, l->lineno, "listen: '%s' given twice", addr);
            return;
        }
    }
    int rc = sf_config_add_listen(cfg, v);
    if (rc == -E2BIG)
        err(l, l->lineno, "listen: more than %d addresses", SF_CONFIG_MAX_LISTEN);
    else if (rc)
        oom();
}

/* A log destination: "-", "off" (access log only) or a path made
 * absolute against the config folder. */
static void
set_log(struct loader *l, const struct key *k, const char *v)
{
    char **dst = field(l->cfg, k);
    if (!*v || (k->kind == K_ERROR_LOG && strcasecmp(v, "off") == 0)) {
        err(l, l->lineno, "%s: '%s' is not %s", k->name, v,
            k->kind == K_ERROR_LOG ? "a path or '-'" : "a path, '-' or 'off'");
        return;
    }
    char *path;
    if (strcmp(v, "-") == 0 || strcasecmp(v, "off") == 0)
        path = xstrdup(strcmp(v, "-") == 0 ? "-" : "off");
    else
        path = xalloc(make_absolute(l->dir, v));
    free(*dst);
    *dst = path;
}

static void
set_number(struct loader *l, const struct key *k, const char *v)
{
    unsigned long long n = 0;
    int rc;
    const char *what = "a number";
    switch (k->kind) {
    case K_SIZE:
        rc = parse_size(v, &n);
        what = "a size (bytes, or a number with k, m or g)";
        break;
    case K_MS:
        rc = parse_ms(v, &n);
        what = "a time (seconds, fractions allowed, or a number with ms)";
        break;
    case K_WORKERS:
        if (strcasecmp(v, "auto") == 0) {
            long cpus = sysconf(_SC_NPROCESSORS_ONLN);
            n = cpus > 0 ? (unsigned long long)cpus : 1;
            if (n > k->max)
                n = k->max;
            rc = 0;
            break;
        }
        rc = parse_number(v, &n);
        what = "a number or 'auto'";
        break;
    default: rc = parse_number(v, &n); break;
    }
    if (rc == -EINVAL) {
        err(l, l->lineno, "%s: '%s' is not %s", k->name, v, what);
        return;
    }
    if (rc || n < k->min || n > k->max) {
        if (k->kind == K_MS)
            err(l, l->lineno, "%s: '%s' out of range (more than 0, at most 1 day)", k->name, v);
        else
            err(l, l->lineno, "%s: '%s' out of range (%llu..%llu)", k->name, v, k->min, k->max);
        return;
    }
    switch (k->kind) {
    case K_INT:
    case K_WORKERS: *(int *)field(l->cfg, k) = (int)n; break;
    case K_SIZE: *(size_t *)field(l->cfg, k) = (size_t)n; break;
    default: *(unsigned *)field(l->cfg, k) = (unsigned)n; break;
    }
}

/* master = auto|on|off */
static void
set_master(struct loader *l, const char *v)
{
    bool b;
    if (strcasecmp(v, "auto") == 0)
        l->cfg->master = -1;
    else if (parse_bool(v, &b) == 0)
        l->cfg->master = b;
    else
        err(l, l->lineno, "master: '%s' is not auto, on or off", v);
}

/* user = NAME, group = NAME: must exist now (getpwnam/getgrnam). */
static void
set_name(struct loader *l, const struct key *k, const char *v)
{
    bool user = strcmp(k->name, "user") == 0;
    if (!*v || (user ? getpwnam(v) == NULL : getgrnam(v) == NULL)) {
        err(l, l->lineno, "%s: no such %s '%s'", k->name, user ? "user" : "group", v);
        return;
    }
    char **dst = field(l->cfg, k);
    free(*dst);
    *dst = xstrdup(v);
}

/* A file path, made absolute against the config folder. */
static void
set_path(struct loader *l, const struct key *k, const char *v)
{
    if (!*v) {
        err(l, l->lineno, "%s: empty path", k->name);
        return;
    }
    char **dst = field(l->cfg, k);
    free(*dst);
    *dst = xalloc(make_absolute(l->dir, v));
}

static void
server_key(struct loader *l, const char *name, const char *v)
{
    size_t i = 0;
    while (i < SF_ARRAY_LEN(server_keys) && strcmp(server_keys[i].name, name) != 0)
        i++;
    if (i == SF_ARRAY_LEN(server_keys)) {
        err(l, l->lineno, "unknown key '%s' in [server]", name);
        return;
    }
    const struct key *k = &server_keys[i];
    if (k->kind != K_LISTEN && l->server_keys[i] < 0) {
        err(l, l->lineno, "duplicate key '%s' (first set in another file)", name);
        return;
    }
    if (k->kind != K_LISTEN && l->server_keys[i]) {
        err(l, l->lineno, "duplicate key '%s' (first on line %d)", name, l->server_keys[i]);
        return;
    }
    l->server_keys[i] = l->lineno;
    switch (k->kind) {
    case K_LISTEN: set_listen(l, v); break;
    case K_LEVEL: {
        int level = lookup(v, level_names, SF_ARRAY_LEN(level_names));
        if (level < 0)
            err(l, l->lineno, "log_level: '%s' is not error, warn, info or debug", v);
        else
            l->cfg->log_level = (enum sf_log_level)level;
        break;
    }
    case K_GUARD: {
        int g = lookup(v, guard_names, SF_ARRAY_LEN(guard_names));
        if (g < 0)
            err(l, l->lineno, "file_guard: '%s' is not lease, stat or off", v);
        else
            l->cfg->file_guard = (enum sf_guard)g;
        break;
    }
    case K_ACCESS_LOG:
    case K_ERROR_LOG: set_log(l, k, v); break;
    case K_BOOL:
        if (parse_bool(v, (bool *)field(l->cfg, k)))
            err(l, l->lineno, "%s: '%s' is not on or off", k->name, v);
        break;
    case K_LOG_FORMAT: {
        int f = lookup(v, log_format_names, SF_ARRAY_LEN(log_format_names));
        if (f < 0)
            err(l, l->lineno, "%s: '%s' is not combined or json", k->name, v);
        else
            l->cfg->access_log_format = (enum sf_log_format)f;
        break;
    }
    case K_MASTER: set_master(l, v); break;
    case K_NAME: set_name(l, k, v); break;
    case K_PATH: set_path(l, k, v); break;
    default: set_number(l, k, v); break;
    }
}

/* ---- [site ...] ------------------------------------------------------------ */

static void
set_root(struct loader *l, struct sf_site *site, const char *v)
{
    if (!*v) {
        err(l, l->lineno, "root: empty path");
        return;
    }
    char *root = xalloc(make_absolute(l->dir, v));
    struct stat st;
    if (stat(root, &st) < 0)
        err(l, l->lineno, "root: %s: %s", root, strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        err(l, l->lineno, "root: %s: %s", root, strerror(ENOTDIR));
    free(site->root);
    site->root = root;
}

static void
set_index(struct loader *l, struct sf_site *site, const char *v)
{
    char *copy = xstrdup(v);
    char *names[SF_CONFIG_MAX_INDEX];
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
        if (strchr(t, '/') || strcmp(t, ".") == 0 || strcmp(t, "..") == 0) {
            err(l, l->lineno, "index: '%s' is not a file name", t);
            goto out;
        }
        if (n == SF_CONFIG_MAX_INDEX) {
            err(l, l->lineno, "index: more than %d names", SF_CONFIG_MAX_INDEX);
            goto out;
        }
        names[n++] = t;
    }
    if (n == 0) {
        err(l, l->lineno, "index: no file name");
        goto out;
    }
    for (size_t i = 0; i < site->nindex; i++)
        free(site->index[i]);
    for (size_t i = 0; i < n; i++)
        site->index[i] = xstrdup(names[i]);
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
    char *copy = xstrdup(v);
    struct sf_buf out = {0};
    unsigned seen = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
        int c = lookup(t, coding_names, SF_ARRAY_LEN(coding_names));
        if (c < 0) {
            err(l, l->lineno, "precompressed: '%s' is not br, zstd, gzip or off", t);
            goto out;
        }
        if (seen & (1u << c))
            continue;
        seen |= 1u << c;
        if (sf_buf_printf(&out, "%s%s", out.len ? ", " : "", coding_names[c]))
            oom();
    }
    if (!seen) {
        err(l, l->lineno, "precompressed: empty list");
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
        err(l, l->lineno, "cache_control: empty value (leave the key out for none)");
        return;
    }
    for (const char *p = v; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            err(l, l->lineno, "cache_control: control character in value");
            return;
        }
    }
    free(site->cache_control);
    site->cache_control = xstrdup(v);
}

/* "30", "30s", "10m", "1h", "7d" (or "off", -1) into seconds. */
static int
parse_duration(const char *v, long long *out)
{
    if (strcasecmp(v, "off") == 0) {
        *out = -1;
        return 0;
    }
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || n < 0)
        return -EINVAL;
    long long mult = 1;
    if (*end == 's')
        end++;
    else if (*end == 'm')
        mult = 60, end++;
    else if (*end == 'h')
        mult = 3600, end++;
    else if (*end == 'd')
        mult = 86400, end++;
    if (*end || n > 10LL * 366 * 86400 / mult)
        return -EINVAL;
    *out = n * mult;
    return 0;
}

/* The rule for MATCH ("/prefix" or "*.ext"), created on first use. */
static struct sf_cache_rule *
rule_for(struct loader *l, struct sf_site *site, const char *match)
{
    bool ext = match[0] == '*' && match[1] == '.' && match[2] && !strchr(match + 2, '/');
    if (!ext && match[0] != '/') {
        err(l, l->lineno, "'%s': expected a path prefix (/...) or an extension (*.ext)", match);
        return NULL;
    }
    const char *m = ext ? match + 1 : match;
    for (size_t i = 0; i < site->nrules; i++)
        if (site->rules[i].is_ext == ext && strcmp(site->rules[i].match, m) == 0)
            return &site->rules[i];
    if (site->nrules == SF_CONFIG_MAX_RULES) {
        err(l, l->lineno, "more than %d cache rules in one site", SF_CONFIG_MAX_RULES);
        return NULL;
    }
    struct sf_cache_rule *r = &site->rules[site->nrules++];
    *r = (struct sf_cache_rule){.match = xstrdup(m), .is_ext = ext, .expires = -1};
    return r;
}

static bool
clean_value(struct loader *l, const char *key, const char *v)
{
    if (!*v) {
        err(l, l->lineno, "%s: empty value", key);
        return false;
    }
    for (const char *p = v; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            err(l, l->lineno, "%s: control character in value", key);
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
        err(l, l->lineno, "error_page: expected 'STATUS... /PATH', got '%s'", v);
        return;
    }
    *path++ = '\0';
    for (char *tok = strtok(buf, " \t"); tok; tok = strtok(NULL, " \t")) {
        char *end;
        long st = strtol(tok, &end, 10);
        if (*end || st < 400 || st > 599) {
            err(l, l->lineno, "error_page: '%s' is not a status from 400 to 599", tok);
            return;
        }
        if (site->nerror_pages == SF_CONFIG_MAX_ERROR_PAGES) {
            err(l, l->lineno, "more than %d error pages in one site", SF_CONFIG_MAX_ERROR_PAGES);
            return;
        }
        site->error_pages[site->nerror_pages++] =
            (struct sf_error_page){.status = (int)st, .path = xstrdup(path)};
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
    char *copy = xstrdup(v);
    char *save = NULL;
    bool any = false;
    for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
        char name[SF_VHOST_NAME_MAX + 1];
        const char *why;
        any = true;
        if (sf_vhost_name_parse(t, name, &why)) {
            err(l, l->lineno, "server_names: '%s': %s", t, why);
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
                    err(l, l->lineno, "server_names: '%s' given twice", t);
                else if (line)
                    err(l, l->lineno, "server_names: '%s' already names [%s] (line %d)", t, o->name,
                        line);
                else
                    err(l, l->lineno, "server_names: '%s' already names [%s]", t, o->name);
            }
        }
        if (dup)
            continue;
        if (site->nnames == SF_CONFIG_MAX_NAMES) {
            err(l, l->lineno, "server_names: more than %d names", SF_CONFIG_MAX_NAMES);
            break;
        }
        size_t n = strlen(name);
        site->names[site->nnames++] =
            (struct sf_server_name){.name = xstrdup(name), .len = n, .wildcard = name[0] == '*'};
    }
    if (!any)
        err(l, l->lineno, "server_names: no name");
    free(copy);
}

static void
set_default(struct loader *l, struct sf_site *site, const char *v)
{
    bool on;
    if (parse_bool(v, &on)) {
        err(l, l->lineno, "default: '%s' is not on or off", v);
        return;
    }
    for (size_t i = 0; on && i < l->cfg->nsites; i++) {
        const struct sf_site *o = &l->cfg->sites[i];
        if (o == site || !o->is_default)
            continue;
        int line = site_line(l, i, S_DEFAULT);
        if (line)
            err(l, l->lineno, "default: [%s] is already the default site (line %d)", o->name, line);
        else
            err(l, l->lineno, "default: [%s] is already the default site", o->name);
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
        err(l, l->lineno, "access_log: empty value (a path, '-' or 'off')");
        return;
    }
    if (strcmp(v, "-") == 0 || strcasecmp(v, "off") == 0)
        path = xstrdup(strcmp(v, "-") == 0 ? "-" : "off");
    else
        path = xalloc(make_absolute(l->dir, v));
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
        err(l, l->lineno, "add_header: expected 'Name: value', got '%s'", v);
        return;
    }
    for (size_t i = 0; i < nlen; i++) {
        if (!is_tchar((unsigned char)v[i])) {
            err(l, l->lineno, "add_header: '%.*s' is not a header name", (int)nlen, v);
            return;
        }
    }
    for (size_t i = 0; i < SF_ARRAY_LEN(reserved); i++) {
        if (strlen(reserved[i]) == nlen && strncasecmp(v, reserved[i], nlen) == 0) {
            err(l, l->lineno, "add_header: %.*s is set by the server", (int)nlen, v);
            return;
        }
    }
    const char *val = colon + 1 + strspn(colon + 1, " \t");
    if (!*val) {
        err(l, l->lineno, "add_header: %.*s: empty value", (int)nlen, v);
        return;
    }
    for (const char *p = val; *p; p++) {
        if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f) {
            err(l, l->lineno, "add_header: %.*s: control character in value", (int)nlen, v);
            return;
        }
    }
    size_t total = 0;
    for (size_t i = 0; i < site->nadd_headers; i++)
        total += strlen(site->add_headers[i]) + 2;
    struct sf_buf line = {0};
    if (sf_buf_printf(&line, "%.*s: %s", (int)nlen, v, val))
        oom();
    if (site->nadd_headers == SF_CONFIG_MAX_ADD_HEADERS)
        err(l, l->lineno, "add_header: more than %d headers in one site",
            SF_CONFIG_MAX_ADD_HEADERS);
    else if (total + line.len + 2 > SF_CONFIG_ADD_HEADERS_BYTES)
        err(l, l->lineno, "add_header: more than %d bytes of headers in one site",
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
        err(l, l->lineno, "mime_types: expected 'EXTENSION TYPE', got '%s'", v);
        return;
    }
    bool ok = elen <= 32;
    for (size_t i = 0; ok && i < elen; i++)
        ok = isalnum((unsigned char)ext[i]) || strchr("-_+.", ext[i]);
    if (!ok) {
        err(l, l->lineno, "mime_types: '%.*s' is not a file extension", (int)elen, ext);
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
        err(l, l->lineno, "mime_types: '%s' is not a media type (type/subtype)", type);
        return;
    }
    char low[33];
    for (size_t i = 0; i < elen; i++)
        low[i] = (char)tolower((unsigned char)ext[i]);
    low[elen] = '\0';
    for (size_t i = 0; i < site->nmime_types; i++) {
        if (strcmp(site->mime_types[i].ext, low) == 0) {
            err(l, l->lineno, "mime_types: '%s' given twice", low);
            return;
        }
    }
    if (site->nmime_types == SF_CONFIG_MAX_MIME_TYPES) {
        err(l, l->lineno, "mime_types: more than %d in one site", SF_CONFIG_MAX_MIME_TYPES);
        return;
    }
    site->mime_types[site->nmime_types++] =
        (struct sf_mime_type){.ext = xstrdup(low), .type = xstrdup(type)};
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
        if (parse_duration(v, &secs))
            err(l, l->lineno, "expires: '%s' is not a duration (30s, 10m, 1h, 7d) or off", v);
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
            r->cache_control = xstrdup(v);
        }
    } else if (parse_duration(v, &secs)) {
        err(l, l->lineno, "expires: '%s' is not a duration (30s, 10m, 1h, 7d) or off", v);
    } else {
        r->expires = secs;
    }
    return true;
}

static void
site_key(struct loader *l, const char *name, const char *v)
{
    struct sf_site *site = l->site;
    struct site_lines *lines = &l->sites[site - l->cfg->sites];
    if (site_rule_key(l, site, name, v))
        return;
    int i = 0;
    while (i < S_COUNT && strcmp(site_keys[i], name) != 0)
        i++;
    if (i == S_COUNT) {
        err(l, l->lineno, "unknown key '%s' in [%s]", name, site->name);
        return;
    }
    if (lines->keys[i]) {
        err(l, l->lineno, "duplicate key '%s' (first on line %d)", name, lines->keys[i]);
        return;
    }
    lines->keys[i] = l->lineno;
    switch ((enum site_key)i) {
    case S_ROOT: set_root(l, site, v); break;
    case S_INDEX: set_index(l, site, v); break;
    case S_LISTING:
        if (parse_bool(v, &site->listing))
            err(l, l->lineno, "listing: '%s' is not on or off", v);
        break;
    case S_DOTFILES:
        if (strcasecmp(v, "allow") == 0)
            site->dotfiles = true;
        else if (strcasecmp(v, "deny") == 0)
            site->dotfiles = false;
        else
            err(l, l->lineno, "dotfiles: '%s' is not allow or deny", v);
        break;
    case S_SYMLINKS: {
        int s = lookup(v, symlink_names, SF_ARRAY_LEN(symlink_names));
        if (s < 0)
            err(l, l->lineno, "symlinks: '%s' is not beneath, follow or none", v);
        else
            site->symlinks = (enum sf_symlinks)s;
        break;
    }
    case S_PRECOMPRESSED: set_precompressed(l, site, v); break;
    case S_CACHE_CONTROL: set_cache_control(l, site, v); break;
    case S_SERVER_NAMES: set_server_names(l, site, v); break;
    case S_DEFAULT: set_default(l, site, v); break;
    case S_ACCESS_LOG: set_site_access_log(l, site, v); break;
    case S_COUNT: break;
    }
}

/* ---- sections and lines ----------------------------------------------------- */

static void
begin_section(struct loader *l, const char *name)
{
    struct sf_config *cfg = l->cfg;
    l->site = NULL;
    l->sect = SECT_BAD; /* keys of a bad section are skipped quietly */
    if (strcmp(name, "server") == 0) {
        l->sect = SECT_SERVER;
        return;
    }
    /* the name is trimmed, so "site " is always followed by a name */
    if (strcmp(name, "site") != 0 && strncmp(name, "site ", 5) != 0) {
        err(l, l->lineno, "unknown section [%s] (expected [server] or [site ...])", name);
        return;
    }
    for (size_t i = 0; i < cfg->nsites; i++) {
        if (strcmp(cfg->sites[i].name, name) != 0)
            continue;
        if (i >= l->first_site && l->sites[i].section)
            err(l, l->lineno, "duplicate section [%s] (first on line %d)", name,
                l->sites[i].section);
        else
            err(l, l->lineno, "duplicate section [%s]", name);
        return;
    }
    if (cfg->nsites == SF_CONFIG_MAX_SITES) {
        err(l, l->lineno, "more than %d sites", SF_CONFIG_MAX_SITES);
        return;
    }
    l->site = &cfg->sites[cfg->nsites];
    site_defaults(l->site);
    l->site->name = xstrdup(name);
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
            err(l, l->lineno, "section header without ']'");
            l->sect = SECT_BAD;
            return false;
        }
        const char *rest = end + 1 + strspn(end + 1, " \t\r\n");
        if (*rest && *rest != ';' && *rest != '#') {
            err(l, l->lineno, "text after section header");
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
            err(l, l->lineno, "section name too long");
            l->sect = SECT_BAD;
            return false;
        }
        memcpy(name, s, (size_t)(e - s));
        name[e - s] = '\0';
        begin_section(l, name);
        return true;
    }
    char *eq = find_before_comment(p, "=:");
    if (!eq) {
        err(l, l->lineno, "expected 'key = value' or '[section]'");
        return false;
    }
    if (eq == p) {
        err(l, l->lineno, "missing key before '%c'", *eq);
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
        err(l, l->lineno, "NUL byte in line");
    else if (len + 1 > (size_t)num)
        err(l, l->lineno, "line longer than %d bytes", num - 3);
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
    struct loader *l = xalloc(calloc(1, sizeof(*l)));
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
        err(parent, parent->lineno, "include: %s: %s", path, strerror(errno));
        goto out;
    }
    if (fstat(fileno(l->in), &st) < 0) {
        err(parent, parent->lineno, "include: %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        err(parent, parent->lineno, "include: %s: not a regular file", path);
        goto out;
    }
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    for (const struct loader *p = parent; p; p = p->parent) {
        if (p->dev == st.st_dev && p->ino == st.st_ino) {
            err(parent, parent->lineno, "include: %s is already being read (an include cycle)",
                path);
            goto out;
        }
    }
    if (l->depth > MAX_INCLUDE_DEPTH) {
        err(parent, parent->lineno, "include: %s: includes nested more than %d deep", path,
            MAX_INCLUDE_DEPTH);
        goto out;
    }
    l->dir = config_dir(path);
    if (!l->dir)
        oom(); /* path is absolute: only memory can be missing */
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
        err(l, l->lineno, "include: only allowed at the top of a file or in [server]");
        return;
    }
    if (!*v) {
        err(l, l->lineno, "include: empty pattern");
        return;
    }
    char *pattern = xalloc(make_absolute(l->dir, v));
    bool wild = strpbrk(v, "*?[") != NULL;
    glob_t g = {0};
    int rc = glob(pattern, GLOB_MARK, on_glob_error, &g);
    if (rc == GLOB_NOMATCH) {
        if (!wild)
            err(l, l->lineno, "include: %s: %s", pattern, strerror(ENOENT));
    } else if (rc == GLOB_NOSPACE) {
        oom();
    } else if (rc != 0) {
        err(l, l->lineno, "include: %s: a folder on the way cannot be read", pattern);
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

static int
on_value(void *user, const char *section, const char *name, const char *value)
{
    struct loader *l = user;
    (void)section; /* ours, from read_line, carries the line number */
    if (strcmp(name, "include") == 0) {
        include(l, value);
        return 1;
    }
    switch (l->sect) {
    case SECT_NONE:
        err(l, l->lineno, "'%s' outside a section (add [server] or [site] above it)", name);
        break;
    case SECT_SERVER: server_key(l, name, value); break;
    case SECT_SITE: site_key(l, name, value); break;
    case SECT_BAD: break;
    }
    return 1;
}

/* Parse the file l->file into l->cfg. l->in is open, l->dir is set. */
static void
parse_file(struct loader *l)
{
    struct sf_config *cfg = l->cfg;
    int rc = ini_parse_stream(read_line, l, on_value, l);
    if (ferror(l->in))
        err(l, 0, "read error: %s", strerror(errno));
    else if (rc == -2)
        oom();
    else if (rc > 0)
        err(l, rc, "syntax error");
    for (size_t i = l->first_site; i < cfg->nsites; i++) {
        /* section 0: a site of an included file, checked by its loader */
        if (!cfg->sites[i].root && l->sites[i].section)
            err(l, l->sites[i].section, "[%s]: missing root", cfg->sites[i].name);
    }
}

int
sf_config_load(struct sf_config *cfg, const char *path, FILE *errs)
{
    struct loader *l = xalloc(calloc(1, sizeof(*l)));
    struct stat st;
    l->cfg = cfg;
    l->file = path;
    l->errs = errs;
    l->first_site = cfg->nsites;
    l->in = fopen(path, "re");
    if (!l->in) {
        err(l, 0, "%s", strerror(errno));
        goto out;
    }
    if (fstat(fileno(l->in), &st) == 0) {
        l->dev = st.st_dev;
        l->ino = st.st_ino;
    }
    l->dir = config_dir(path);
    if (!l->dir) {
        err(l, 0, "cannot find the current directory: %s", strerror(errno));
        goto out;
    }
    free(cfg->path);
    cfg->path = xstrdup(path);
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

/* ---- validation and dump ---------------------------------------------------- */

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
        if (sf_config_parse_addr(cfg->listen[i], &ss, &sslen))
            verr(errs, &nerr, "listen: '%s' is not an address", cfg->listen[i]);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->listen[i], cfg->listen[j]) == 0)
                verr(errs, &nerr, "listen: '%s' given twice", cfg->listen[i]);
        }
    }
    if (cfg->master == 0 && cfg->workers > 1)
        verr(errs, &nerr, "master = off needs workers = 0 or 1 (workers = %d)", cfg->workers);
    if (cfg->master == 1 && cfg->workers == 0)
        verr(errs, &nerr, "master = on needs workers >= 1");
    for (size_t i = 0; i < SF_ARRAY_LEN(server_keys); i++) {
        const struct key *k = &server_keys[i];
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
        struct stat st;
        if (!site->root)
            verr(errs, &nerr, "[%s]: missing root", name);
        else if (site->root[0] != '/')
            verr(errs, &nerr, "[%s]: root %s is not an absolute path", name, site->root);
        else if (stat(site->root, &st) < 0)
            verr(errs, &nerr, "[%s]: root %s: %s", name, site->root, strerror(errno));
        else if (!S_ISDIR(st.st_mode))
            verr(errs, &nerr, "[%s]: root %s: %s", name, site->root, strerror(ENOTDIR));
        if (site->nindex > SF_CONFIG_MAX_INDEX)
            verr(errs, &nerr, "[%s]: more than %d index names", name, SF_CONFIG_MAX_INDEX);
        for (size_t j = 0; j < i; j++) {
            if (site->name && cfg->sites[j].name && strcmp(site->name, cfg->sites[j].name) == 0)
                verr(errs, &nerr, "duplicate site [%s]", name);
            if (site->is_default && cfg->sites[j].is_default)
                verr(errs, &nerr, "[%s]: a second default site", name);
        }
        validate_names(cfg, i, errs, &nerr);
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
    for (size_t i = 0; i < SF_ARRAY_LEN(server_keys); i++) {
        const struct key *k = &server_keys[i];
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
                    (unsigned)cfg->file_guard < SF_ARRAY_LEN(guard_names)
                        ? guard_names[cfg->file_guard]
                        : "lease");
            break;
        case K_LEVEL:
            fprintf(out, "%s = %s\n", k->name,
                    (unsigned)cfg->log_level < SF_ARRAY_LEN(level_names)
                        ? level_names[cfg->log_level]
                        : "info");
            break;
        case K_BOOL: fprintf(out, "%s = %s\n", k->name, *(const bool *)p ? "on" : "off"); break;
        case K_LOG_FORMAT:
            fprintf(out, "%s = %s\n", k->name,
                    cfg->access_log_format == SF_LOG_FORMAT_JSON ? "json" : "combined");
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
                (unsigned)site->symlinks < SF_ARRAY_LEN(symlink_names)
                    ? symlink_names[site->symlinks]
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
                fprintf(out, "expires %s%s = %llds\n", r->is_ext ? "*" : "", r->match,
                        r->expires);
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
    }
}
