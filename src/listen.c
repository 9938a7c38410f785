/*
 * listen.c - listening sockets: TCP over IPv4 and IPv6, Unix sockets,
 * SO_REUSEPORT sets, TCP_DEFER_ACCEPT, systemd socket activation, and the
 * hand-over of unchanged sockets across a reload (see listen.h).
 *
 * Socket options that can change on a live socket (the backlog, the
 * deferred accept) are applied again to a socket taken over; those that
 * cannot (the address, IPV6_V6ONLY, SO_REUSEPORT) are part of its key, so
 * a change there opens a new socket.
 */
#include "sfhttpd/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

static struct sf_listener *
add(struct sf_listen_set *set, struct sf_log *log)
{
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 8;
        struct sf_listener *l = realloc(set->l, cap * sizeof(*l));
        if (!l) {
            sf_log_msg(log, SF_LOG_ERROR, "out of memory opening listeners");
            return NULL;
        }
        set->l = l;
        set->cap = cap;
    }
    struct sf_listener *l = &set->l[set->n++];
    memset(l, 0, sizeof(*l));
    l->fd = -1;
    l->slot = -1;
    return l;
}

/* "http://HOST:PORT/" for an inet address, "unix:PATH" for a Unix one. */
static void
describe(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        snprintf(out, cap, "http://%s:%u/", host, ntohs(in->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(out, cap, "http://[%s]:%u/", host, ntohs(in6->sin6_port));
    } else if (ss->ss_family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)ss;
        snprintf(out, cap, "unix:%.*s", (int)sizeof(un->sun_path), un->sun_path);
    } else {
        snprintf(out, cap, "(family %d)", ss->ss_family);
    }
}

/*
 * What a connection may queue in its socket beyond what the network has
 * taken (TCP_NOTSENT_LOWAT, inherited by accepted sockets). Without it the
 * kernel grows a send buffer to tcp_wmem's maximum (4 MiB) and sendfile
 * fills it, whether or not the client reads: measured, 1,000 clients that
 * read a byte a second pinned 2 MiB each, and the kernel's TCP memory
 * under pressure stalled every other connection for up to 1.5 s. Bytes in
 * flight (the window) are not limited by it, so a fast client's
 * throughput is not either.
 */
#define NOTSENT_LOWAT (128 * 1024)

/* The options that may change on a live socket. */
static void
apply_live_opts(int fd, int family, const struct sf_config *cfg, size_t i)
{
    if (family == AF_INET || family == AF_INET6) {
        int lowat = NOTSENT_LOWAT;
        setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat));
        int secs = 0;
        if (cfg->defer_accept)
            secs = (int)((cfg->header_timeout_ms + 999) / 1000);
        /* best effort: a kernel without it accepts at once */
        setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs));
    }
    const struct sf_listen_opts *o = &cfg->listen[i].opts;
    listen(fd, o->backlog ? o->backlog : cfg->backlog);
}

/* Remove a stale Unix socket at path; refuse to remove anything else. */
static int
unlink_stale(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode))
        return -EEXIST;
    return unlink(path) < 0 ? -errno : 0;
}

/* socket + options + bind + listen for one address; -errno on failure
 * (what names the step for the message). */
static int
bind_one(struct sockaddr_storage *ss, unsigned sslen, const struct sf_config *cfg, size_t i,
         const char **what)
{
    int one = 1, fd, rc;
    *what = "socket";
    fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (ss->ss_family != AF_UNIX) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        /* inherited by every accepted socket (before listen: none is
         * queued without it), so that no connection needs its own call */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        *what = "SO_REUSEPORT";
        if (cfg->reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
            goto fail;
    }
    if (ss->ss_family == AF_INET6) {
        int v6only = cfg->listen[i].opts.v6only;
        *what = "IPV6_V6ONLY";
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0)
            goto fail;
    }
    if (ss->ss_family == AF_UNIX) {
        *what = "removing the old socket";
        rc = unlink_stale(((struct sockaddr_un *)ss)->sun_path);
        if (rc) {
            close(fd);
            return rc;
        }
    }
    *what = "bind";
    if (bind(fd, (struct sockaddr *)ss, sslen) < 0)
        goto fail;
    *what = "listen";
    const struct sf_listen_opts *o = &cfg->listen[i].opts;
    if (listen(fd, o->backlog ? o->backlog : cfg->backlog) < 0)
        goto fail;
    apply_live_opts(fd, ss->ss_family, cfg, i);
    return fd;
fail:
    rc = -errno;
    close(fd);
    return rc;
}

static void
make_key(const struct sf_config *cfg, size_t i, char *key, size_t cap)
{
    const struct sf_listen *ln = &cfg->listen[i];
    bool tcp = strncmp(ln->addr, "unix:", 5) != 0;
    snprintf(key, cap, "%s%s%s", ln->addr,
             ln->addr[0] == '[' && !ln->opts.v6only ? " ipv6only=off" : "",
             tcp && cfg->reuseport ? " reuseport" : "");
}

/* Take over reuse's socket for key and slot, if there is one: its fd,
 * dup'ed into l. Returns 1 when taken, 0 when none, -1 on error. */
static int
take_over(struct sf_listener *l, const struct sf_listen_set *reuse, struct sf_log *log)
{
    for (size_t j = 0; reuse && j < reuse->n; j++) {
        const struct sf_listener *o = &reuse->l[j];
        if (o->fd < 0 || o->slot != l->slot || strcmp(o->key, l->key) != 0)
            continue;
        l->fd = fcntl(o->fd, F_DUPFD_CLOEXEC, 3);
        if (l->fd < 0) {
            sf_log_errno(log, SF_LOG_ERROR, errno, "listen %s: dup", o->name);
            return -1;
        }
        l->family = o->family;
        l->inherited = o->inherited;
        memcpy(l->name, o->name, sizeof(l->name));
        return 1;
    }
    return 0;
}

/* One socket for listen line i (and slot), opened or taken over. port:
 * for the second and later sockets of a reuseport line on port 0, the
 * port the first one got (0 otherwise), updated after the first. */
static int
open_line(struct sf_listen_set *set, const struct sf_config *cfg, size_t i, int slot,
          const struct sf_listen_set *reuse, struct sf_log *log, in_port_t *port)
{
    struct sf_listener *l = add(set, log);
    if (!l)
        return -1;
    l->slot = slot;
    l->proxy_protocol = cfg->listen[i].opts.proxy_protocol;
    make_key(cfg, i, l->key, sizeof(l->key));
    int rc = take_over(l, reuse, log);
    if (rc < 0)
        return -1;
    if (rc > 0) {
        apply_live_opts(l->fd, l->family, cfg, i);
        /* the slots opened anew after it (more workers than before) must
         * join the port it holds, not pick another for port 0 */
        unsigned got = sf_listen_local_port(l->fd);
        if (got)
            *port = htons((uint16_t)got);
        return 0;
    }
    struct sockaddr_storage ss;
    unsigned sslen;
    if (sf_config_parse_addr(cfg->listen[i].addr, &ss, &sslen) != 0) {
        sf_log_msg(log, SF_LOG_ERROR, "listen %s: not an address", cfg->listen[i].addr);
        return -1;
    }
    if (*port && ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&ss)->sin_port = *port;
    else if (*port && ss.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&ss)->sin6_port = *port;
    const char *what;
    l->fd = bind_one(&ss, sslen, cfg, i, &what);
    if (l->fd < 0) {
        sf_log_errno(log, SF_LOG_ERROR, l->fd, "listen %s: %s", cfg->listen[i].addr, what);
        l->fd = -1;
        return -1;
    }
    l->family = ss.ss_family;
    l->owns_path = ss.ss_family == AF_UNIX;
    socklen_t len = sizeof(ss);
    getsockname(l->fd, (struct sockaddr *)&ss, &len);
    describe(&ss, l->name, sizeof(l->name));
    if (ss.ss_family == AF_INET)
        *port = ((struct sockaddr_in *)&ss)->sin_port;
    else if (ss.ss_family == AF_INET6)
        *port = ((struct sockaddr_in6 *)&ss)->sin6_port;
    if (slot <= 0)
        sf_log_msg(log, SF_LOG_INFO, "listening on %s%s", l->name,
                   l->proxy_protocol ? " (PROXY protocol)" : "");
    return 0;
}

int
sf_listen_open(struct sf_listen_set *set, const struct sf_config *cfg, int nslots,
               const struct sf_listen_set *reuse, struct sf_log *log)
{
    for (size_t i = 0; i < cfg->nlisten; i++) {
        bool per_slot = cfg->reuseport && strncmp(cfg->listen[i].addr, "unix:", 5) != 0;
        int n = per_slot ? (nslots > 0 ? nslots : 1) : 1;
        in_port_t port = 0;
        for (int slot = 0; slot < n; slot++) {
            if (open_line(set, cfg, i, per_slot ? slot : -1, reuse, log, &port) != 0)
                return -1;
        }
    }
    return 0;
}

/* True when the socket's address is the one listen line i names. */
static bool
same_address(const struct sockaddr_storage *a, const char *spec)
{
    struct sockaddr_storage b;
    unsigned blen;
    if (sf_config_parse_addr(spec, &b, &blen) != 0 || a->ss_family != b.ss_family)
        return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)&b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)&b;
        return x->sin6_port == y->sin6_port &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
    }
    const struct sockaddr_un *x = (const void *)a, *y = (const void *)&b;
    return strncmp(x->sun_path, y->sun_path, sizeof(x->sun_path)) == 0;
}

int
sf_listen_inherit(struct sf_listen_set *set, const struct sf_config *cfg, struct sf_log *log)
{
    int n = sd_listen_fds(1);
    if (n < 0) {
        sf_log_errno(log, SF_LOG_ERROR, n, "socket activation (LISTEN_FDS)");
        return -1;
    }
    for (int k = 0; k < n; k++) {
        int fd = SD_LISTEN_FDS_START + k;
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0 ||
            getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
            sf_log_msg(log, SF_LOG_ERROR,
                       "socket activation: fd %d is not a listening stream "
                       "socket",
                       fd);
            return -1;
        }
        struct sf_listener *l = add(set, log);
        if (!l)
            return -1;
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        l->fd = fd;
        l->family = ss.ss_family;
        l->inherited = true;
        snprintf(l->key, sizeof(l->key), "fd:%d", fd);
        describe(&ss, l->name, sizeof(l->name));
        for (size_t i = 0; i < cfg->nlisten; i++)
            if (same_address(&ss, cfg->listen[i].addr))
                l->proxy_protocol = cfg->listen[i].opts.proxy_protocol;
        sf_log_msg(log, SF_LOG_INFO, "listening on %s (socket activation)", l->name);
    }
    return n;
}

int
sf_listen_dup(struct sf_listen_set *dst, const struct sf_listen_set *src, struct sf_log *log)
{
    for (size_t i = 0; i < src->n; i++) {
        struct sf_listener *l = add(dst, log);
        if (!l)
            return -1;
        *l = src->l[i];
        l->owns_path = false;
        l->fd = fcntl(src->l[i].fd, F_DUPFD_CLOEXEC, 3);
        if (l->fd < 0) {
            sf_log_errno(log, SF_LOG_ERROR, errno, "listen %s: dup", l->name);
            return -1;
        }
    }
    return 0;
}

void
sf_listen_hand_over(struct sf_listen_set *old, struct sf_listen_set *dst)
{
    for (size_t i = 0; i < old->n; i++) {
        struct sf_listener *o = &old->l[i];
        for (size_t j = 0; o->owns_path && j < dst->n; j++) {
            if (strcmp(dst->l[j].name, o->name) == 0) {
                dst->l[j].owns_path = true;
                o->owns_path = false;
            }
        }
    }
}

void
sf_listen_close(struct sf_listen_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++) {
        struct sf_listener *l = &set->l[i];
        if (l->fd >= 0)
            close(l->fd);
        if (l->owns_path && !l->inherited && strncmp(l->name, "unix:", 5) == 0)
            unlink(l->name + 5);
    }
    free(set->l);
    memset(set, 0, sizeof(*set));
}

void
sf_listen_forget(struct sf_listen_set *set)
{
    for (size_t i = 0; set && i < set->n; i++) {
        if (set->l[i].fd >= 0)
            close(set->l[i].fd);
        set->l[i].fd = -1;
        set->l[i].owns_path = false;
    }
}

unsigned
sf_listen_local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}
