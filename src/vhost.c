/*
 * vhost.c - picking the site for a request by the host it names.
 *
 * It runs once per request, so it stays simple and cheap: the config
 * holds every name already lower-cased with its length (config.c does
 * that at load), the host is lower-cased once into a stack buffer, and a
 * loop of length checks and memcmp finds the site. With a handful of
 * sites that beats any index; with many it is still a few microseconds.
 */
#include "sfhttpd/vhost.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>

size_t
sf_vhost_default(const struct sf_config *cfg)
{
    for (size_t i = 0; i < cfg->nsites; i++)
        if (cfg->sites[i].is_default)
            return i;
    return 0;
}

/* The host without its port and one trailing dot, lower-cased into out.
 * Returns its length, or 0 when it cannot match any name. */
static size_t
normalise_host(const char *host, size_t len, char *out)
{
    size_t n = len;
    if (len > 0 && host[0] == '[') {
        const char *end = memchr(host, ']', len);
        if (!end)
            return 0;
        n = (size_t)(end - host) + 1;
    } else {
        const char *colon = memchr(host, ':', len);
        if (colon)
            n = (size_t)(colon - host);
        if (n > 0 && host[n - 1] == '.')
            n--;
    }
    if (n == 0 || n > SF_VHOST_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)host[i]);
    return n;
}

int
sf_vhost_select(const struct sf_config *cfg, const char *host, size_t len)
{
    if (cfg->nsites == 0)
        return -1;
    char h[SF_VHOST_NAME_MAX];
    size_t n = host ? normalise_host(host, len, h) : 0;
    if (n > 0) {
        /* exact names first, in any site */
        for (size_t i = 0; i < cfg->nsites; i++) {
            const struct sf_site *s = &cfg->sites[i];
            for (size_t j = 0; j < s->nnames; j++) {
                const struct sf_server_name *nm = &s->names[j];
                if (!nm->wildcard && nm->len == n && memcmp(nm->name, h, n) == 0)
                    return (int)i;
            }
        }
        /* then the longest wildcard: "*.example.com" compares its
         * ".example.com", which leaves at least one byte of subdomain */
        int best = -1;
        size_t best_len = 0;
        for (size_t i = 0; i < cfg->nsites; i++) {
            const struct sf_site *s = &cfg->sites[i];
            for (size_t j = 0; j < s->nnames; j++) {
                const struct sf_server_name *nm = &s->names[j];
                size_t sl = nm->len - 1;
                if (!nm->wildcard || sl >= n || sl <= best_len)
                    continue;
                if (memcmp(nm->name + 1, h + n - sl, sl) == 0) {
                    best = (int)i;
                    best_len = sl;
                }
            }
        }
        if (best >= 0)
            return best;
    }
    if (cfg->strict_hosts)
        return -1;
    return (int)sf_vhost_default(cfg);
}

const char *
sf_vhost_request_host(const struct sf_parser *p, const char *buf, size_t *len)
{
    const struct sf_request *r = &p->r;
    if (r->form == SF_TARGET_ABSOLUTE) {
        /* request.c checked the scheme and the authority; the path span
         * starts right after it */
        const char *t = buf + r->target.off;
        const char *sep = memmem(t, r->target.len, "://", 3);
        if (sep && r->path.off >= (uint32_t)(sep + 3 - buf)) {
            const char *a = sep + 3;
            *len = (size_t)(buf + r->path.off - a);
            return *len ? a : NULL;
        }
    }
    return sf_request_hdr(p, buf, SF_HDR_HOST, len);
}

static bool
is_label_char(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_';
}

int
sf_vhost_name_parse(const char *name, char *out, const char **why)
{
    size_t len = strlen(name);
    *why = NULL;
    if (len == 0) {
        *why = "empty name";
        return -EINVAL;
    }
    if (name[0] == '[') {
        char addr[INET6_ADDRSTRLEN + 1];
        unsigned char bin[16];
        if (name[len - 1] != ']' || len - 2 >= sizeof(addr)) {
            *why = "an IPv6 address needs brackets and no port: [2001:db8::1]";
            return -EINVAL;
        }
        memcpy(addr, name + 1, len - 2);
        addr[len - 2] = '\0';
        if (inet_pton(AF_INET6, addr, bin) != 1) {
            *why = "not an IPv6 address";
            return -EINVAL;
        }
    } else {
        if (strchr(name, ':')) {
            *why = "no port in server names (the port is ignored when matching)";
            return -EINVAL;
        }
        if (name[len - 1] == '.')
            len--;
        const char *p = name, *end = name + len;
        if (len >= 2 && name[0] == '*' && name[1] == '.')
            p += 2;
        if (p == end) {
            *why = "empty name";
            return -EINVAL;
        }
        /* dot-separated labels of 1..63 letters, digits, '-' or '_' */
        while (p < end) {
            const char *q = p;
            while (q < end && is_label_char((unsigned char)*q))
                q++;
            if (q == p || q - p > 63 || (q < end && *q != '.')) {
                *why = strchr(name + (name[0] == '*' ? 1 : 0), '*')
                           ? "a wildcard must be a leading \"*.\""
                           : "not a host name or IP address";
                return -EINVAL;
            }
            p = q < end ? q + 1 : q;
            if (q < end && p == end) {
                *why = "not a host name or IP address";
                return -EINVAL;
            }
        }
    }
    if (len > SF_VHOST_NAME_MAX) {
        *why = "name longer than 255 characters";
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i++)
        out[i] = (char)tolower((unsigned char)name[i]);
    out[len] = '\0';
    return 0;
}
