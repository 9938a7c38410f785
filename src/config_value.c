/*
 * config_value.c - parsing the values of config keys: booleans, numbers,
 * sizes, times and durations, log levels and worker counts (for the file
 * and the command line alike); paths made absolute against the config
 * file's folder; listen addresses and the options of a listen line.
 *
 * All of it is pure: memory in, a result out, no loader and no messages;
 * callers word their own errors.
 */
#include "config_int.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- values ------------------------------------------------------------ */

int
config_lookup(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(s, names[i]) == 0)
            return (int)i;
    }
    return -1;
}

int
config_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"on", "yes", "true", "1"};
    static const char *const no[] = {"off", "no", "false", "0"};
    if (config_lookup(s, yes, SF_ARRAY_LEN(yes)) >= 0)
        *out = true;
    else if (config_lookup(s, no, SF_ARRAY_LEN(no)) >= 0)
        *out = false;
    else
        return -EINVAL;
    return 0;
}

const char *const config_level_names[] = {"error", "warn", "info", "debug"};
_Static_assert(SF_ARRAY_LEN(config_level_names) == SF_LOG_DEBUG + 1, "a name for every level");

const char *
sf_config_level_name(enum sf_log_level lv)
{
    assert((unsigned)lv < SF_ARRAY_LEN(config_level_names));
    return config_level_names[lv];
}

int
sf_config_parse_level(const char *s, enum sf_log_level *lv)
{
    int i = config_lookup(s, config_level_names, SF_ARRAY_LEN(config_level_names));
    if (i < 0)
        return -EINVAL;
    *lv = (enum sf_log_level)i;
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

int
config_parse_number(const char *s, unsigned long long *out)
{
    int rc = parse_digits(&s, out);
    return rc ? rc : *s ? -EINVAL : 0;
}

int
sf_config_parse_workers(const char *s, int *n)
{
    unsigned long long v;
    if (strcasecmp(s, "auto") == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        v = cpus > 0 ? (unsigned long long)cpus : 1;
        if (v > SF_CONFIG_MAX_WORKERS)
            v = SF_CONFIG_MAX_WORKERS;
    } else {
        int rc = config_parse_number(s, &v);
        if (rc)
            return rc;
        if (v > SF_CONFIG_MAX_WORKERS)
            return -ERANGE;
    }
    *n = (int)v;
    return 0;
}

/* "8192", "8k", "2M", "1g" (binary multiples). */
int
config_parse_size(const char *s, unsigned long long *out)
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
int
config_parse_ms(const char *s, unsigned long long *out)
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

/* "30", "30s", "10m", "1h", "7d" (or "off", -1) into seconds. */
int
config_parse_duration(const char *v, long long *out)
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
char *
config_make_absolute(const char *base, const char *path)
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
char *
config_current_dir(void)
{
    return getcwd(NULL, 0);
}

/* The absolute folder holding the config file at path. */
char *
config_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *cwd = NULL;
    struct sf_buf b = {0};
    if (path[0] != '/') {
        cwd = config_current_dir();
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
    if (strlen(s) > 5 || config_parse_number(s, &v) || v > 65535)
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

/* ---- listen lines ------------------------------------------------------------ */

/* The options of a listen line, by enum listen_option (config_int.h). */
const char *const config_listen_option_names[] = {"proxy_protocol", "backlog", "ipv6only"};
enum listen_option { OPT_PROXY_PROTOCOL, OPT_BACKLOG, OPT_IPV6ONLY };
_Static_assert(SF_ARRAY_LEN(config_listen_option_names) == OPT_IPV6ONLY + 1,
               "a name for every option");
const size_t config_nlisten_options = SF_ARRAY_LEN(config_listen_option_names);

/* One "name=value" or bare "name" option of a listen line. */
static int
listen_option(const char *tok, const char *addr, struct sf_listen_opts *o, char *why, size_t whycap)
{
    const char *eq = strchr(tok, '=');
    size_t nlen = eq ? (size_t)(eq - tok) : strlen(tok);
    const char *v = eq ? eq + 1 : "on";
    unsigned long long n;
    bool b;
    int opt = -1;
    for (size_t i = 0; i < SF_ARRAY_LEN(config_listen_option_names); i++) {
        if (strlen(config_listen_option_names[i]) == nlen &&
            strncmp(tok, config_listen_option_names[i], nlen) == 0)
            opt = (int)i;
    }
    if (opt == OPT_PROXY_PROTOCOL && config_parse_bool(v, &b) == 0) {
        o->proxy_protocol = b;
    } else if (opt == OPT_BACKLOG && eq && config_parse_number(v, &n) == 0 && n >= 1 &&
               n <= 65535) {
        o->backlog = (int)n;
    } else if (opt == OPT_IPV6ONLY && config_parse_bool(v, &b) == 0) {
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
int
config_split_listen(const char *line, char *addr, size_t cap, struct sf_listen_opts *o, char *why,
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
        snprintf(why, whycap, "'%s' is not an address (IP:PORT, [IPv6]:PORT, :PORT or unix:/PATH)",
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
    return config_split_listen(line, addr, cap, o, why, whycap, true);
}
