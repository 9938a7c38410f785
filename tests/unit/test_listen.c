/*
 * test_listen.c - unit tests for the listening sockets: listen-line
 * options (sf_config_parse_listen), then sockets opened through
 * sf_listen_open on 127.0.0.1:0, [::1]:0 (skipped without IPv6) and Unix
 * paths in a mkdtemp directory, each checked with getsockname and
 * getsockopt (backlog through TCP_INFO, IPV6_V6ONLY, SO_REUSEPORT,
 * TCP_DEFER_ACCEPT, O_NONBLOCK, FD_CLOEXEC); the hand-over across a
 * reload; and systemd socket activation (LISTEN_PID/LISTEN_FDS with a
 * socket dup2'ed to fd 3) in forked children, since fd 3 and the
 * environment are the process's own.
 *
 * Every wait is bounded; only children forked here are killed, by PID.
 */
#include "sfhttpd/listen.h"
#include "sfhttpd/common.h"
#include "sfhttpd/config.h"
#include "sfhttpd/log.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "unit_util.h"

#define WAIT_MS 3000

static char base[256], logpath[300];
static struct sf_log lg;
static struct sf_config cfg;
static struct sf_listen_set set, set2;

static void
setup(void)
{
    unit_tmpdir(base, sizeof(base), "sf_listen");
    snprintf(logpath, sizeof(logpath), "%s/error.log", base);
    memset(&lg, 0, sizeof(lg));
    lg.err_fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ck_assert_int_ge(lg.err_fd, 0);
    lg.access_fd = -1;
    lg.level = SF_LOG_DEBUG;
    sf_config_defaults(&cfg);
    memset(&set, 0, sizeof(set));
    memset(&set2, 0, sizeof(set2));
}

static void
teardown(void)
{
    sf_listen_close(&set);
    sf_listen_close(&set2);
    sf_config_free(&cfg);
    close(lg.err_fd);
    unit_rmtree(base);
}

/* ---------------------------------------------------------- helpers */

static bool
have_ipv6(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

/* "unix:BASE/name" into out. */
static void
unix_line(char *out, size_t cap, const char *name, const char *opts)
{
    snprintf(out, cap, "unix:%s/%s%s%s", base, name, opts ? " " : "", opts ? opts : "");
}

static void
add_listen(const char *line)
{
    ck_assert_msg(sf_config_add_listen(&cfg, line) == 0, "listen line '%s'", line);
}

static void
set_sun(struct sockaddr_un *sun, const char *path)
{
    size_t n = strlen(path);
    ck_assert_uint_lt(n, sizeof(sun->sun_path));
    memcpy(sun->sun_path, path, n + 1);
}

static int
sockopt(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof(v);
    ck_assert_int_eq(getsockopt(fd, level, name, &v, &len), 0);
    return v;
}

/* A TCP listener's accept backlog, as the kernel keeps it (TCP_INFO
 * reports it in tcpi_sacked for a socket in LISTEN). */
static unsigned
tcp_backlog(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    memset(&ti, 0, sizeof(ti));
    ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    ck_assert_int_eq(ti.tcpi_state, TCP_LISTEN);
    return ti.tcpi_sacked;
}

static unsigned
somaxconn(void)
{
    unsigned v = 4096;
    FILE *f = fopen("/proc/sys/net/core/somaxconn", "r");
    if (f) {
        if (fscanf(f, "%u", &v) != 1)
            v = 4096;
        fclose(f);
    }
    return v;
}

static unsigned
port_of(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

static ino_t
inode_of(int fd)
{
    struct stat st;
    ck_assert_int_eq(fstat(fd, &st), 0);
    return st.st_ino;
}

/* Connect to l's address and see the listener accept it: the socket is
 * really listening. Bounded by WAIT_MS. */
static void
check_accepts(const struct sf_listener *l)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    ck_assert_int_eq(getsockname(l->fd, (struct sockaddr *)&ss, &len), 0);
    int c = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(c, 0);
    ck_assert_msg(connect(c, (struct sockaddr *)&ss, len) == 0, "connect %s: %s", l->name,
                  strerror(errno));
    /* with TCP_DEFER_ACCEPT the listener waits for data */
    ck_assert_int_eq(send(c, "x", 1, MSG_NOSIGNAL), 1);
    /* with reuseport the kernel picks one socket of the group */
    struct pollfd p[8];
    nfds_t n = 0;
    for (size_t i = 0; i < set.n && n < 8; i++)
        if (set.l[i].fd >= 0 && strcmp(set.l[i].key, l->key) == 0)
            p[n++] = (struct pollfd){.fd = set.l[i].fd, .events = POLLIN};
    if (n == 0)
        p[n++] = (struct pollfd){.fd = l->fd, .events = POLLIN};
    ck_assert_int_eq(poll(p, n, WAIT_MS), 1);
    for (nfds_t i = 0; i < n; i++) {
        if (!(p[i].revents & POLLIN))
            continue;
        int a = accept4(p[i].fd, NULL, NULL, SOCK_CLOEXEC);
        ck_assert_int_ge(a, 0);
        close(a);
    }
    close(c);
}

static bool
log_has(const char *s)
{
    char buf[8192];
    int fd = open(logpath, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    ck_assert_int_ge(n, 0);
    buf[n] = '\0';
    return strstr(buf, s) != NULL;
}

/* ------------------------------------------------- listen-line table */

struct parse_case {
    const char *in;
    int rc;
    const char *addr;
    bool proxy;
    int backlog;
    bool v6only;
    const char *why; /* a substring of the reason, for errors */
};

static const struct parse_case parse_cases[] = {
    {"127.0.0.1:0", 0, "127.0.0.1:0", false, 0, true, NULL},
    {"127.0.0.1:8080 backlog=7", 0, "127.0.0.1:8080", false, 7, true, NULL},
    {"[::1]:0 ipv6only=off backlog=65535 proxy_protocol", 0, "[::1]:0", true, 65535, false, NULL},
    {"[::]:80  ipv6only=on", 0, "[::]:80", false, 0, true, NULL},
    {"unix:/run/x.sock proxy_protocol=off backlog=1", 0, "unix:/run/x.sock", false, 1, true, NULL},
    {":8080", 0, ":8080", false, 0, true, NULL},
    {"127.0.0.1:0 ipv6only=off", -EINVAL, NULL, false, 0, true, "ipv6only"},
    {"unix:/x.sock ipv6only=on", -EINVAL, NULL, false, 0, true, "ipv6only"},
    {"127.0.0.1:0 backlog=0", -EINVAL, NULL, false, 0, true, "backlog"},
    {"127.0.0.1:0 backlog=65536", -EINVAL, NULL, false, 0, true, "backlog"},
    {"127.0.0.1:0 backlog", -EINVAL, NULL, false, 0, true, "backlog"},
    {"127.0.0.1:0 reuseport", -EINVAL, NULL, false, 0, true, "'reuseport' is not an option"},
    {"127.0.0.1:99999", -EINVAL, NULL, false, 0, true, "not an address"},
    {"::1:80", -EINVAL, NULL, false, 0, true, "not an address"},
    {"unix:relative.sock", -EINVAL, NULL, false, 0, true, "not an address"},
    {"", -EINVAL, NULL, false, 0, true, "not an address"},
};

START_TEST(test_parse_listen)
{
    const struct parse_case *c = &parse_cases[_i];
    char addr[256] = "", why[256] = "";
    struct sf_listen_opts o;
    int rc = sf_config_parse_listen(c->in, addr, sizeof(addr), &o, why, sizeof(why));
    ck_assert_msg(rc == c->rc, "'%s': rc %d (%s)", c->in, rc, why);
    if (rc) {
        ck_assert_msg(strstr(why, c->why), "'%s': why '%s'", c->in, why);
        return;
    }
    ck_assert_str_eq(addr, c->addr);
    ck_assert_int_eq(o.proxy_protocol, c->proxy);
    ck_assert_int_eq(o.backlog, c->backlog);
    ck_assert_int_eq(o.v6only, c->v6only);
}
END_TEST

/* ------------------------------------------------------ opening table */

struct open_case {
    const char *name;
    const char *lines[3]; /* "@name" is a Unix socket BASE/name */
    bool reuseport, defer_accept;
    int nslots;
    bool ipv6; /* skipped without IPv6 */
    size_t n;  /* sockets expected */
    int family;
    int backlog; /* expected of the first socket (before somaxconn) */
    int v6only;  /* -1: not checked */
    bool proxy;
    const char *name_prefix;
};

static const struct open_case open_cases[] = {
    {"ipv4",
     {"127.0.0.1:0"},
     false,
     false,
     1,
     false,
     1,
     AF_INET,
     511,
     -1,
     false,
     "http://127.0.0.1:"},
    {"ipv4 backlog",
     {"127.0.0.1:0 backlog=7"},
     false,
     false,
     1,
     false,
     1,
     AF_INET,
     7,
     -1,
     false,
     "http://127.0.0.1:"},
    {"ipv4 proxy",
     {"localhost:0 proxy_protocol"},
     false,
     false,
     1,
     false,
     1,
     AF_INET,
     511,
     -1,
     true,
     "http://127.0.0.1:"},
    {"ipv6", {"[::1]:0"}, false, false, 1, true, 1, AF_INET6, 511, 1, false, "http://[::1]:"},
    /* the kernel makes a socket bound to a specific IPv6 address v6-only
     * whatever the option said: dual stack needs [::] */
    {"ipv6 bound v6only",
     {"[::1]:0 ipv6only=off"},
     false,
     false,
     1,
     true,
     1,
     AF_INET6,
     511,
     1,
     false,
     "http://[::1]:"},
    {"ipv6 dual",
     {"[::]:0 ipv6only=off backlog=9"},
     false,
     false,
     1,
     true,
     1,
     AF_INET6,
     9,
     0,
     false,
     "http://[::]:"},
    {"ipv6 any v6only",
     {"[::]:0"},
     false,
     false,
     1,
     true,
     1,
     AF_INET6,
     511,
     1,
     false,
     "http://[::]:"},
    {"reuseport",
     {"127.0.0.1:0"},
     true,
     false,
     3,
     false,
     3,
     AF_INET,
     511,
     -1,
     false,
     "http://127.0.0.1:"},
    {"reuseport no slots",
     {"127.0.0.1:0"},
     true,
     false,
     0,
     false,
     1,
     AF_INET,
     511,
     -1,
     false,
     "http://127.0.0.1:"},
    {"defer accept",
     {"127.0.0.1:0"},
     false,
     true,
     1,
     false,
     1,
     AF_INET,
     511,
     -1,
     false,
     "http://127.0.0.1:"},
    {"unix", {"@a.sock"}, false, false, 1, false, 1, AF_UNIX, 0, -1, false, "unix:/"},
    {"unix reuseport",
     {"@a.sock backlog=4"},
     true,
     false,
     4,
     false,
     1,
     AF_UNIX,
     0,
     -1,
     false,
     "unix:/"},
    {"two lines",
     {"127.0.0.1:0", "@b.sock"},
     false,
     false,
     1,
     false,
     2,
     AF_INET,
     511,
     -1,
     false,
     "http://127.0.0.1:"},
};

START_TEST(test_open_table)
{
    const struct open_case *c = &open_cases[_i];
    if (c->ipv6 && !have_ipv6()) {
        fprintf(stderr, "%s: skipped, no IPv6 loopback\n", c->name);
        return;
    }
    char line[400];
    for (int i = 0; i < 3 && c->lines[i]; i++) {
        if (c->lines[i][0] == '@') {
            char nm[64];
            const char *sp = strchr(c->lines[i], ' ');
            snprintf(nm, sizeof(nm), "%.*s",
                     (int)(sp ? sp - c->lines[i] - 1 : (long)strlen(c->lines[i]) - 1),
                     c->lines[i] + 1);
            unix_line(line, sizeof(line), nm, sp ? sp + 1 : NULL);
        } else {
            snprintf(line, sizeof(line), "%s", c->lines[i]);
        }
        add_listen(line);
    }
    cfg.reuseport = c->reuseport;
    cfg.defer_accept = c->defer_accept;
    ck_assert_int_eq(sf_listen_open(&set, &cfg, c->nslots, NULL, &lg), 0);
    ck_assert_uint_eq(set.n, c->n);

    const struct sf_listener *l = &set.l[0];
    ck_assert_int_ge(l->fd, 0);
    ck_assert_int_eq(l->family, c->family);
    ck_assert_int_eq(l->proxy_protocol, c->proxy);
    ck_assert(!l->inherited);
    ck_assert_msg(strncmp(l->name, c->name_prefix, strlen(c->name_prefix)) == 0, "name %s",
                  l->name);
    ck_assert(fcntl(l->fd, F_GETFL) & O_NONBLOCK);
    ck_assert(fcntl(l->fd, F_GETFD) & FD_CLOEXEC);
    ck_assert_int_eq(sockopt(l->fd, SOL_SOCKET, SO_ACCEPTCONN), 1);
    ck_assert_int_eq(sockopt(l->fd, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    char want[400];
    snprintf(want, sizeof(want), "listening on %s", l->name);
    ck_assert_msg(log_has(want), "no '%s' in the log", want);

    if (c->family != AF_UNIX) {
        unsigned port = port_of(l->fd);
        ck_assert_uint_ne(port, 0);
        snprintf(want, sizeof(want), "%s%u/", c->name_prefix, port);
        ck_assert_str_eq(l->name, want);
        unsigned max = somaxconn();
        ck_assert_uint_eq(tcp_backlog(l->fd),
                          (unsigned)c->backlog < max ? (unsigned)c->backlog : max);
        ck_assert_int_eq(sockopt(l->fd, SOL_SOCKET, SO_REUSEADDR), 1);
        ck_assert_int_eq(sockopt(l->fd, SOL_SOCKET, SO_REUSEPORT), c->reuseport);
        ck_assert_int_eq(l->owns_path, false);
        /* the kernel rounds the seconds to SYN retransmits: only on/off */
        int defer = sockopt(l->fd, IPPROTO_TCP, TCP_DEFER_ACCEPT);
        ck_assert_msg((defer > 0) == c->defer_accept, "TCP_DEFER_ACCEPT %d", defer);
        if (c->v6only >= 0)
            ck_assert_int_eq(sockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY), c->v6only);
        if (c->v6only == 0) {
            /* dual stack: an IPv4 client reaches it too */
            struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((in_port_t)port)};
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            int v4 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            ck_assert_int_eq(connect(v4, (struct sockaddr *)&a, sizeof(a)), 0);
            struct pollfd p = {.fd = l->fd, .events = POLLIN};
            ck_assert_int_eq(poll(&p, 1, WAIT_MS), 1);
            int s4 = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
            ck_assert_int_ge(s4, 0);
            close(s4);
            close(v4);
        }
    } else {
        struct stat st;
        ck_assert(l->owns_path);
        ck_assert_int_eq(lstat(l->name + 5, &st), 0);
        ck_assert(S_ISSOCK(st.st_mode));
        ck_assert_int_eq(l->slot, -1);
    }
    /* a reuseport line: one socket per slot, all on the first one's port */
    for (size_t i = 0; i < set.n; i++) {
        const struct sf_listener *k = &set.l[i];
        if (c->reuseport && k->family != AF_UNIX) {
            ck_assert_int_eq(k->slot, (int)i);
            ck_assert_uint_eq(port_of(k->fd), port_of(set.l[0].fd));
            ck_assert_str_eq(k->name, set.l[0].name);
        } else {
            ck_assert_int_eq(k->slot, -1);
        }
        check_accepts(k);
    }
    /* closing removes the Unix paths */
    char paths[3][300];
    size_t np = 0;
    for (size_t i = 0; i < set.n; i++)
        if (set.l[i].family == AF_UNIX)
            snprintf(paths[np++], sizeof(paths[0]), "%s", set.l[i].name + 5);
    sf_listen_close(&set);
    ck_assert_uint_eq(set.n, 0);
    ck_assert_ptr_null(set.l);
    for (size_t i = 0; i < np; i++)
        ck_assert_msg(access(paths[i], F_OK) != 0 && errno == ENOENT, "%s left behind", paths[i]);
}
END_TEST

/* ------------------------------------------------------- Unix sockets */

/* A socket file left by a process that died is replaced. */
START_TEST(test_unix_stale)
{
    char line[400];
    unix_line(line, sizeof(line), "stale.sock", NULL);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    set_sun(&sun, line + 5);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    close(fd); /* the file stays */
    /* nobody listens behind it */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), -1);
    ck_assert_int_eq(errno, ECONNREFUSED);
    close(fd);
    add_listen(line);
    ck_assert_int_eq(sf_listen_open(&set, &cfg, 1, NULL, &lg), 0);
    struct stat after;
    ck_assert_int_eq(lstat(sun.sun_path, &after), 0);
    ck_assert(S_ISSOCK(after.st_mode));
    check_accepts(&set.l[0]); /* the path now leads to the new listener */
    sf_listen_close(&set);
    ck_assert_int_ne(access(sun.sun_path, F_OK), 0);
}
END_TEST

/* Anything but a socket at the path is left alone, and the open fails. */
START_TEST(test_unix_not_socket)
{
    char line[400];
    unix_line(line, sizeof(line), "file", NULL);
    FILE *f = fopen(line + 5, "w");
    ck_assert_ptr_nonnull(f);
    fputs("keep me\n", f);
    fclose(f);
    add_listen(line);
    ck_assert_int_eq(sf_listen_open(&set, &cfg, 1, NULL, &lg), -1);
    ck_assert(log_has("removing the old socket"));
    sf_listen_close(&set);
    struct stat st;
    ck_assert_int_eq(lstat(line + 5, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_int_eq(st.st_size, 8);
}
END_TEST

/* A child's forget closes its copies but leaves the path to the parent. */
START_TEST(test_forget_keeps_path)
{
    char line[400];
    unix_line(line, sizeof(line), "f.sock", NULL);
    add_listen(line);
    ck_assert_int_eq(sf_listen_open(&set, &cfg, 1, NULL, &lg), 0);
    int fd = set.l[0].fd;
    sf_listen_forget(&set);
    ck_assert_int_eq(set.l[0].fd, -1);
    ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
    sf_listen_close(&set);
    ck_assert_int_eq(access(line + 5, F_OK), 0);
}
END_TEST

/* --------------------------------------------------------- reloading */

/* An unchanged line keeps its socket (the same open file, so the accept
 * queue survives); a live option (backlog) is applied to it; a changed
 * key opens a new socket. */
START_TEST(test_reload_takeover)
{
    add_listen("127.0.0.1:0 backlog=5");
    ck_assert_int_eq(sf_listen_open(&set, &cfg, 1, NULL, &lg), 0);
    unsigned port = port_of(set.l[0].fd);
    /* a client waiting in the old accept queue (it has sent its first
     * byte: defer_accept is on by default) */
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((in_port_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(write(c, "G", 1), 1);

    cfg.listen[0].opts.backlog = 12;
    ck_assert_int_eq(sf_listen_open(&set2, &cfg, 1, &set, &lg), 0);
    ck_assert_uint_eq(set2.n, 1);
    ck_assert_int_ne(set2.l[0].fd, set.l[0].fd);
    ck_assert_uint_eq(inode_of(set2.l[0].fd), inode_of(set.l[0].fd));
    ck_assert_str_eq(set2.l[0].name, set.l[0].name);
    ck_assert_uint_eq(tcp_backlog(set2.l[0].fd), 12);
    sf_listen_close(&set);
    struct pollfd p = {.fd = set2.l[0].fd, .events = POLLIN};
    ck_assert_int_eq(poll(&p, 1, WAIT_MS), 1);
    int s = accept4(set2.l[0].fd, NULL, NULL, SOCK_CLOEXEC);
    ck_assert_int_ge(s, 0);
    close(s);
    close(c);

    /* reuseport is part of the key: a new socket */
    cfg.reuseport = true;
    ck_assert_int_eq(sf_listen_open(&set, &cfg, 1, &set2, &lg), 0);
    ck_assert_uint_ne(inode_of(set.l[0].fd), inode_of(set2.l[0].fd));
    ck_assert_int_eq(sockopt(set.l[0].fd, SOL_SOCKET, SO_REUSEPORT), 1);
}
END_TEST

/* More worker slots after a reload on port 0: the slots taken over and
 * the new ones must still share one port. */
START_TEST(test_reload_reuseport_more_slots)
{
    add_listen("127.0.0.1:0");
    cfg.reuseport = true;
    ck_assert_int_eq(sf_listen_open(&set, &cfg, 1, NULL, &lg), 0);
    unsigned port = port_of(set.l[0].fd);
    ck_assert_int_eq(sf_listen_open(&set2, &cfg, 3, &set, &lg), 0);
    ck_assert_uint_eq(set2.n, 3);
    ck_assert_uint_eq(inode_of(set2.l[0].fd), inode_of(set.l[0].fd));
    for (size_t i = 0; i < set2.n; i++) {
        ck_assert_int_eq(set2.l[i].slot, (int)i);
        ck_assert_msg(port_of(set2.l[i].fd) == port, "slot %zu on port %u, not %u", i,
                      port_of(set2.l[i].fd), port);
    }
}
END_TEST

/* A Unix socket taken over is unlinked by the new set, not the old. */
START_TEST(test_reload_unix_hand_over)
{
    char line[400];
    unix_line(line, sizeof(line), "h.sock", NULL);
    add_listen(line);
    ck_assert_int_eq(sf_listen_open(&set, &cfg, 1, NULL, &lg), 0);
    ck_assert_int_eq(sf_listen_open(&set2, &cfg, 1, &set, &lg), 0);
    ck_assert_uint_eq(inode_of(set2.l[0].fd), inode_of(set.l[0].fd));
    ck_assert(!set2.l[0].owns_path);
    sf_listen_hand_over(&set, &set2);
    ck_assert(set2.l[0].owns_path);
    ck_assert(!set.l[0].owns_path);
    sf_listen_close(&set);
    ck_assert_int_eq(access(line + 5, F_OK), 0);
    check_accepts(&set2.l[0]);
    sf_listen_close(&set2);
    ck_assert_int_ne(access(line + 5, F_OK), 0);
}
END_TEST

/* sf_listen_dup: copies that never unlink. */
START_TEST(test_dup)
{
    char line[400];
    unix_line(line, sizeof(line), "d.sock", NULL);
    add_listen("127.0.0.1:0");
    add_listen(line);
    ck_assert_int_eq(sf_listen_open(&set, &cfg, 1, NULL, &lg), 0);
    ck_assert_int_eq(sf_listen_dup(&set2, &set, &lg), 0);
    ck_assert_uint_eq(set2.n, 2);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_ne(set2.l[i].fd, set.l[i].fd);
        ck_assert_uint_eq(inode_of(set2.l[i].fd), inode_of(set.l[i].fd));
        ck_assert(fcntl(set2.l[i].fd, F_GETFD) & FD_CLOEXEC);
        ck_assert(!set2.l[i].owns_path);
        ck_assert_str_eq(set2.l[i].name, set.l[i].name);
    }
    sf_listen_close(&set2);
    ck_assert_int_eq(access(line + 5, F_OK), 0);
}
END_TEST

/* ------------------------------------------------- socket activation */

enum act_kind { ACT_TCP = 0, ACT_UNIX, ACT_OTHER_PID, ACT_NOT_SOCKET, ACT_NOT_LISTENING };

struct act_case {
    const char *name;
    enum act_kind kind;
    int rc;
};

static const struct act_case act_cases[] = {
    {"tcp", ACT_TCP, 1},
    {"unix", ACT_UNIX, 1},
    {"other pid", ACT_OTHER_PID, 0},
    {"not a socket", ACT_NOT_SOCKET, -1},
    {"not listening", ACT_NOT_LISTENING, -1},
};

/* log_has without Check: in the activation child fd 3 is the socket,
 * and Check may report through fd 3. */
static bool
log_has_raw(const char *s)
{
    char buf[8192];
    int fd = open(logpath, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0)
        return false;
    buf[n] = '\0';
    return strstr(buf, s) != NULL;
}

/* In the child: returns 0 when all is well, else the number of the
 * first check that failed (the exit status). */
static int
activation_child(const struct act_case *c)
{
    struct sf_listen_set s = {0};
    int fd;
    char line[400], path[400] = "";
    /* fd 3 is about to become the socket: move the log out of the way */
    lg.err_fd = fcntl(lg.err_fd, F_DUPFD_CLOEXEC, 10);
    if (lg.err_fd < 0)
        return 1;
    if (c->kind == ACT_UNIX) {
        unix_line(line, sizeof(line), "act.sock", NULL);
        snprintf(path, sizeof(path), "%s", line + 5);
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sun.sun_path))
            return 2;
        memcpy(sun.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || listen(fd, 4))
            return 2;
    } else if (c->kind == ACT_NOT_SOCKET) {
        fd = open(logpath, O_RDONLY);
        if (fd < 0)
            return 2;
        snprintf(line, sizeof(line), "127.0.0.1:1");
    } else {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)))
            return 2;
        if (c->kind != ACT_NOT_LISTENING && listen(fd, 4))
            return 2;
        socklen_t alen = sizeof(a);
        if (getsockname(fd, (struct sockaddr *)&a, &alen))
            return 2;
        snprintf(line, sizeof(line), "127.0.0.1:%u", ntohs(a.sin_port));
    }
    /* the config names the same address, with proxy_protocol */
    strncat(line, " proxy_protocol", sizeof(line) - strlen(line) - 1);
    if (sf_config_add_listen(&cfg, line))
        return 3;
    if (fd != 3) {
        if (dup2(fd, 3) != 3)
            return 4;
        close(fd);
    }
    char pid[32];
    snprintf(pid, sizeof(pid), "%ld", (long)(c->kind == ACT_OTHER_PID ? getpid() + 1 : getpid()));
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "1", 1);
    int n = sf_listen_inherit(&s, &cfg, &lg);
    if (n != c->rc)
        return 5;
    if (getenv("LISTEN_FDS") || getenv("LISTEN_PID"))
        return 6; /* no child of ours may see them */
    if (n <= 0) {
        sf_listen_close(&s);
        return 0;
    }
    const struct sf_listener *l = &s.l[0];
    if (s.n != 1 || l->fd != 3 || !l->inherited || l->slot != -1 || !l->proxy_protocol)
        return 7;
    if (!(fcntl(3, F_GETFD) & FD_CLOEXEC) || !(fcntl(3, F_GETFL) & O_NONBLOCK))
        return 8;
    char want[420];
    if (c->kind == ACT_UNIX)
        snprintf(want, sizeof(want), "unix:%s", path);
    else
        snprintf(want, sizeof(want), "http://%.*s/", (int)(strchr(line, ' ') - line), line);
    if (l->family != (c->kind == ACT_UNIX ? AF_UNIX : AF_INET) || strcmp(l->name, want) != 0)
        return 9;
    if (!log_has_raw("(socket activation)"))
        return 10;
    sf_listen_close(&s);
    if (fcntl(3, F_GETFD) != -1)
        return 11;
    /* an inherited Unix socket's path belongs to systemd */
    if (c->kind == ACT_UNIX && access(path, F_OK) != 0)
        return 12;
    return 0;
}

START_TEST(test_activation)
{
    const struct act_case *c = &act_cases[_i];
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(activation_child(c));
    int rc = wait_child(pid, WAIT_MS, true);
    ck_assert_msg(rc == 0, "%s: child failed at check %d", c->name, rc);
}
END_TEST

/* Without LISTEN_FDS nothing is taken and fd 3 is left alone. */
START_TEST(test_activation_absent)
{
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    ck_assert_int_eq(sf_listen_inherit(&set, &cfg, &lg), 0);
    ck_assert_uint_eq(set.n, 0);
}
END_TEST

static Suite *
listen_suite(void)
{
    Suite *s = suite_create("listen");
    TCase *tc = tcase_create("parse");
    tcase_add_loop_test(tc, test_parse_listen, 0, (int)SF_ARRAY_LEN(parse_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("open");
    tcase_set_timeout(tc, 15);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_open_table, 0, (int)SF_ARRAY_LEN(open_cases));
    tcase_add_test(tc, test_unix_stale);
    tcase_add_test(tc, test_unix_not_socket);
    tcase_add_test(tc, test_forget_keeps_path);
    suite_add_tcase(s, tc);

    tc = tcase_create("reload");
    tcase_set_timeout(tc, 15);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_reload_takeover);
    tcase_add_test(tc, test_reload_reuseport_more_slots);
    tcase_add_test(tc, test_reload_unix_hand_over);
    tcase_add_test(tc, test_dup);
    suite_add_tcase(s, tc);

    tc = tcase_create("activation");
    tcase_set_timeout(tc, 15);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_activation, 0, (int)SF_ARRAY_LEN(act_cases));
    tcase_add_test(tc, test_activation_absent);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(listen_suite());
}
