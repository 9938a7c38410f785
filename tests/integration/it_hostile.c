/*
 * it_hostile.c - hostile clients at scale (issue 8 §6), against the real
 * binary on a loopback port, one process (workers = 1) so that its PID is
 * the worker whose CPU time, memory and descriptors /proc shows:
 *
 *  - 1,000 slowloris connections (a header byte a second), 1,000 that read
 *    a large file one byte a second, 1,000 that send a body a byte a
 *    second: each is closed by the server at its deadline (header_timeout
 *    bounds the whole request, head and body; send_timeout a response that
 *    makes no progress), while an honest client keeps being answered;
 *  - a connection flood past max_connections: no busy loop while at the
 *    limit (the worker's CPU time is a small fraction of the wall time),
 *    and a fresh client is served once the flood goes;
 *  - 10,000 pipelined requests in one write, answered in order, with the
 *    server's memory bounded (back-pressure, not buffering);
 *  - 10,000 concurrent keep-alive connections, each answered twice (by two
 *    workers: one sizes max_connections from RLIMIT_NOFILE, 6,658 under
 *    this machine's hard limit of 20,000).
 *
 * The honest client's latency (p50/p99) and the CPU and memory figures are
 * printed, never asserted against a time: the machine is shared. Every
 * loop is bounded in count and in time. The sanitizer build runs the same
 * numbers (about 45 s in all there, 30 s in the gcc build).
 */
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define N_SLOW 1000
#define N_PIPELINE 10000
#define N_KEEPALIVE 10000
#define N_FLOOD 2000
#define FLOOD_MAX_CONN 64
#define FLOOD_BACKLOG 300 /* not the default (511) nor libevent's (128) */

#define HEADER_TIMEOUT_S 3
#define SEND_TIMEOUT_S 3
#define TRICKLE_MS 1000          /* one byte a second */
#define MAX_PENDING_CONNECTS 200 /* under the listen backlog (511) */

#define SMALL_LEN 700      /* the honest client's file */
#define BIG_LEN (8u << 20) /* the slow readers' file: far beyond any socket buffer */
#define RANGE_LEN 16384    /* the pipelined requests' file */
#define RANGE_SEED 7u
#define BIG_SEED 3u
#define PAD_LEN 2000 /* bytes of padding in each pipelined request */

static char g_base[PATH_MAX];
static char g_root[PATH_MAX];
static char g_small[SMALL_LEN + 1];
static struct it_server srv;

/* ---- the tree and the server ---------------------------------------- */

static void
tree_up(void)
{
    char p[PATH_MAX];
    it_tmpdir(g_base, sizeof(g_base));
    it_join(g_root, sizeof(g_root), g_base, "www");
    it_mkdir(g_root);
    for (size_t i = 0; i < SMALL_LEN; i++)
        g_small[i] = (char)('a' + i % 26);
    g_small[SMALL_LEN - 1] = '\n';
    g_small[SMALL_LEN] = '\0';
    it_join(p, sizeof(p), g_root, "small.txt");
    it_write_str(p, g_small);
    it_join(p, sizeof(p), g_root, "big.bin");
    it_write_pattern(p, BIG_LEN, BIG_SEED);
    it_join(p, sizeof(p), g_root, "r.bin");
    it_write_pattern(p, RANGE_LEN, RANGE_SEED);
}

static void
tree_down(void)
{
    it_rmtree(g_base);
}

/* Start the server with the short timeouts (header_s: header_timeout in
 * seconds), max_conn connections (0: the default, sized from
 * RLIMIT_NOFILE), the backlog and extra [server] lines (NULL: none; by
 * default one process, workers = 1, so that its PID is the worker's). */
static void
start_server_opts(unsigned max_conn, int header_s, unsigned backlog, const char *extra)
{
    char conf[PATH_MAX], text[2 * PATH_MAX], level[64] = "", maxc[64] = "";
    /* SFHTTPD_IT_LOG_LEVEL=debug, as for every quick-mode server */
    const char *l = getenv("SFHTTPD_IT_LOG_LEVEL");
    if (l && *l)
        snprintf(level, sizeof(level), "log_level = %s\n", l);
    if (max_conn)
        snprintf(maxc, sizeof(maxc), "max_connections = %u\n", max_conn);
    it_join(conf, sizeof(conf), g_base, "hostile.conf");
    snprintf(text, sizeof(text),
             "[server]\nlisten = 127.0.0.1:0\naccess_log = off\n%s%s%s"
             "header_timeout = %d\nsend_timeout = %d\nkeepalive_timeout = 60\n"
             "%sbacklog = %u\n\n[site]\nroot = %s\n",
             getuid() == 0 ? "user = root\n" : "", level, extra ? extra : "workers = 1\n", header_s,
             SEND_TIMEOUT_S, maxc, backlog, g_root);
    it_write_str(conf, text);
    it_server_start_conf(&srv, conf);
}

static void
start_server(unsigned max_conn, int header_s)
{
    start_server_opts(max_conn, header_s, 511, NULL);
}

/* ---- /proc ------------------------------------------------------------ */

/* User + system CPU time of pid, in clock ticks (/proc/PID/stat fields
 * 14 and 15, counted after the command name's closing parenthesis). */
static long long
cpu_ticks(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "open %s", path);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    ck_assert(p != NULL);
    unsigned long long ut = 0, st = 0;
    int got = sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st);
    ck_assert_int_eq(got, 2);
    return (long long)(ut + st);
}

/* Open descriptors of pid. */
static int
nfds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    ck_assert_msg(d != NULL, "opendir %s", path);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* The processes whose parent is pid (a master's workers), from /proc. */
static size_t
children_of(pid_t pid, pid_t *out, size_t cap)
{
    DIR *d = opendir("/proc");
    ck_assert(d != NULL);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < cap) {
        char path[300], buf[512];
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[len] = '\0';
        const char *p = strrchr(buf, ')');
        int ppid = 0;
        if (p && sscanf(p + 2, "%*c %d", &ppid) == 1 && ppid == (int)pid)
            out[n++] = (pid_t)atol(e->d_name);
    }
    closedir(d);
    return n;
}

/* The server's descriptors once the count holds still for 300 ms (the
 * warm-up's connections may still be closing), at most 3 s. */
static int
settled_nfds_of(pid_t pid)
{
    int64_t end = it_now_ms() + 3000;
    int n = nfds(pid), same = 0;
    while (same < 6 && it_now_ms() < end) {
        it_sleep_ms(50);
        int m = nfds(pid);
        same = m == n ? same + 1 : 0;
        n = m;
    }
    return n;
}

static int
settled_nfds(void)
{
    return settled_nfds_of(srv.pid);
}

/* Wait (bounded) until the server holds at most want descriptors; the
 * count seen last. */
static int
wait_nfds_at_most(int want, int timeout_ms)
{
    int64_t end = it_now_ms() + timeout_ms;
    int n;
    while ((n = nfds(srv.pid)) > want && it_now_ms() < end)
        it_sleep_ms(50);
    return n;
}

/* The send queues (bytes not yet acknowledged by the peer) of the
 * server's established sockets on port, from /proc/net/tcp: how much
 * kernel memory its connections hold. */
struct sendq {
    unsigned n;
    uint64_t total, max;
};

static void
server_sendq(int port, struct sendq *q)
{
    char line[512];
    memset(q, 0, sizeof(*q));
    FILE *f = fopen("/proc/net/tcp", "r");
    ck_assert_msg(f != NULL, "open /proc/net/tcp");
    while (fgets(line, sizeof(line), f)) {
        unsigned lport, st;
        unsigned long tx;
        if (sscanf(line, " %*u: %*x:%x %*x:%*x %x %lx:", &lport, &st, &tx) != 3)
            continue;
        if ((int)lport != port || st != 1) /* TCP_ESTABLISHED */
            continue;
        q->n++;
        q->total += tx;
        q->max = tx > q->max ? tx : q->max;
    }
    fclose(f);
}

/* ---- sockets ---------------------------------------------------------- */

/* A non-blocking connect to the server; rcvbuf > 0 sets SO_RCVBUF first. */
static int
nb_connect(int port, int rcvbuf)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
    if (rcvbuf > 0)
        ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    ck_assert_msg(rc == 0 || errno == EINPROGRESS, "connect: %s", strerror(errno));
    return fd;
}

/*
 * A complete response at p[0, n)? Its length (head and Content-Length
 * body), 0 while incomplete, -1 when malformed. head gets the head
 * NUL-terminated (cap bytes at most), *status its status, *body where the
 * body starts and *blen its length.
 */
static long
parse_response(const char *p, size_t n, char *head, size_t cap, int *status, const char **body,
               size_t *blen)
{
    const char *end = memmem(p, n, "\r\n\r\n", 4);
    if (!end)
        return n > cap ? -1 : 0;
    size_t hlen = (size_t)(end - p) + 4;
    if (hlen >= cap || hlen < 12 || memcmp(p, "HTTP/1.1 ", 9) != 0)
        return -1;
    memcpy(head, p, hlen);
    head[hlen] = '\0';
    *status = atoi(head + 9);
    const char *cl = strcasestr(head, "\r\nContent-Length:");
    if (!cl)
        return -1;
    char *e;
    unsigned long len = strtoul(cl + 17, &e, 10);
    if (e == cl + 17)
        return -1;
    if (n < hlen + len)
        return 0;
    *body = p + hlen;
    *blen = len;
    return (long)(hlen + len);
}

static bool
is_small(int status, const char *body, size_t blen)
{
    return status == 200 && blen == SMALL_LEN && memcmp(body, g_small, SMALL_LEN) == 0;
}

static const char small_get[] = "GET /small.txt HTTP/1.1\r\nHost: h\r\n\r\n";

/* Fetch both files once, so that the descriptors the file cache keeps
 * are counted in the server's baseline. */
static void
warm_up(void)
{
    struct it_response r;
    it_get(srv.port, "/small.txt", &r);
    ck_assert_int_eq(r.status, 200);
    it_response_free(&r);
    it_get(srv.port, "/big.bin", &r);
    ck_assert_int_eq(r.status, 200);
    it_response_free(&r);
}

/* ---- the honest client ------------------------------------------------ */

#define HONEST_MAX 20000

struct honest {
    pthread_t th;
    int port;
    atomic_bool stop;
    unsigned ok, bad;
    unsigned slow_connects; /* connects that took a SYN retransmission (1 s) */
    char why[256];
    int64_t lat_us[HONEST_MAX];
    size_t n;
};

static int64_t
now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One request on a new connection, as a browser's first would be: 0 and
 * its latency, or -1 with why filled. */
static int
honest_one(struct honest *h, int64_t *us)
{
    char buf[4096], head[1024];
    size_t len = 0;
    int rc = -1;
    int64_t t0 = now_us();
    struct timeval tv = {10, 0}; /* hang guard */
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)h->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(h->why, sizeof(h->why), "socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        snprintf(h->why, sizeof(h->why), "connect: %s", strerror(errno));
        goto out;
    }
    /* a SYN dropped on a full accept queue is sent again after 1 s */
    if (now_us() - t0 >= 900000)
        h->slow_connects++;
    if (send(fd, small_get, sizeof(small_get) - 1, MSG_NOSIGNAL) !=
        (ssize_t)sizeof(small_get) - 1) {
        snprintf(h->why, sizeof(h->why), "send: %s", strerror(errno));
        goto out;
    }
    for (;;) {
        int status = 0;
        const char *body = NULL;
        size_t blen = 0;
        long got = parse_response(buf, len, head, sizeof(head), &status, &body, &blen);
        if (got > 0) {
            if (!is_small(status, body, blen)) {
                snprintf(h->why, sizeof(h->why), "status %d, body of %zu bytes", status, blen);
                goto out;
            }
            break;
        }
        if (got < 0 || len == sizeof(buf)) {
            snprintf(h->why, sizeof(h->why), "malformed response");
            goto out;
        }
        ssize_t n = recv(fd, buf + len, sizeof(buf) - len, 0);
        if (n <= 0) {
            snprintf(h->why, sizeof(h->why), "recv after %zu bytes: %s", len,
                     n == 0 ? "closed" : strerror(errno));
            goto out;
        }
        len += (size_t)n;
    }
    *us = now_us() - t0;
    rc = 0;
out:
    close(fd);
    return rc;
}

static void *
honest_run(void *arg)
{
    struct honest *h = arg;
    while (!atomic_load(&h->stop) && h->ok + h->bad < HONEST_MAX) {
        int64_t us;
        if (honest_one(h, &us) == 0) {
            h->lat_us[h->n++] = us;
            h->ok++;
        } else {
            h->bad++;
        }
        it_sleep_ms(20);
    }
    return NULL;
}

static void
honest_start(struct honest *h, int port)
{
    memset(h, 0, sizeof(*h));
    h->port = port;
    atomic_init(&h->stop, false);
    ck_assert_int_eq(pthread_create(&h->th, NULL, honest_run, h), 0);
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Stop the honest client, print its latencies, assert every answer. */
static void
honest_finish(struct honest *h, const char *scenario)
{
    atomic_store(&h->stop, true);
    pthread_join(h->th, NULL);
    qsort(h->lat_us, h->n, sizeof(h->lat_us[0]), cmp_i64);
    int64_t p50 = h->n ? h->lat_us[h->n / 2] : 0;
    int64_t p99 = h->n ? h->lat_us[(h->n * 99) / 100 < h->n ? (h->n * 99) / 100 : h->n - 1] : 0;
    int64_t max = h->n ? h->lat_us[h->n - 1] : 0;
    fprintf(stderr,
            "it_hostile: %s: honest client %u requests, %u failed; latency p50 %.2f ms, "
            "p99 %.2f ms, max %.2f ms; %u connect(s) waited for a SYN retransmission\n",
            scenario, h->ok, h->bad, p50 / 1000.0, p99 / 1000.0, max / 1000.0, h->slow_connects);
    ck_assert_msg(h->bad == 0, "%s: %u honest request(s) failed, last: %s", scenario, h->bad,
                  h->why);
    ck_assert_msg(h->ok >= 10, "%s: only %u honest requests were made", scenario, h->ok);
}

/* ---- slow clients ----------------------------------------------------- */

enum slow_kind { SLOW_HEAD, SLOW_READ, SLOW_BODY };

struct slow {
    int fd;
    bool connected;
    bool answered;   /* the server sent bytes (a slow head or body must get none) */
    int64_t t_start; /* the request's first byte went out */
    int64_t t_closed;
    int64_t next_ms;
    unsigned trickled;
    uint64_t got;
};

static void
slow_closed(struct slow *s, int ep, int64_t now)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);
    s->fd = -1;
    s->t_closed = now;
}

/* The connect completed: send what this kind sends at once. */
static void
slow_connected(struct slow *s, enum slow_kind kind, int ep, uint32_t idx, int64_t now)
{
    static const char big_get[] = "GET /big.bin HTTP/1.1\r\nHost: h\r\n\r\n";
    static const char post[] =
        "POST /small.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n";
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    ck_assert_msg(err == 0, "connect: %s", strerror(err));
    s->connected = true;
    /* a slow reader waits for the close only: its socket is always readable */
    struct epoll_event ev = {.events = kind == SLOW_READ ? EPOLLRDHUP : EPOLLIN | EPOLLRDHUP,
                             .data.u32 = idx};
    ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev), 0);
    const char *p = kind == SLOW_HEAD ? "G" : kind == SLOW_READ ? big_get : post;
    size_t n = kind == SLOW_HEAD ? 1 : kind == SLOW_READ ? sizeof(big_get) - 1 : sizeof(post) - 1;
    ck_assert_int_eq(send(s->fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
    s->t_start = now;
    s->next_ms = now + TRICKLE_MS;
}

/* A byte a second: the next byte of an endless head or body, or one byte
 * of the response read. */
static void
slow_trickle(struct slow *s, enum slow_kind kind, int ep, int64_t now)
{
    static const char head[] = "GET /small.txt HTTP/1.1\r\nX-Slow: ";
    char c;
    ssize_t n;
    s->next_ms = now + TRICKLE_MS;
    if (kind == SLOW_READ) {
        n = recv(s->fd, &c, 1, 0);
        if (n == 1)
            s->got++;
        else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            slow_closed(s, ep, now);
        return;
    }
    if (kind == SLOW_HEAD) {
        s->trickled++;
        c = s->trickled < sizeof(head) - 1 ? head[s->trickled] : 'a';
    } else {
        c = 'x';
    }
    n = send(s->fd, &c, 1, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        slow_closed(s, ep, now);
}

struct slow_result {
    unsigned closed, answered, early;
    struct sendq sq;        /* the server's send queues a second after the last
                               connect (slow readers) */
    int64_t min_ms, max_ms; /* from the request's first byte to the close */
    uint64_t got;           /* bytes the slow readers took */
};

/*
 * n slow clients of one kind: connect (at most MAX_PENDING_CONNECTS at a
 * time), start, trickle a byte a second, until the server has closed
 * every one or the time is up. early counts closes that came before the
 * deadline (timeout_ms after the request's first byte) could have passed.
 */
static void
slow_run(enum slow_kind kind, unsigned n, int port, int timeout_ms, struct slow_result *res)
{
    struct slow *s = calloc(n, sizeof(*s));
    ck_assert(s != NULL);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    ck_assert_int_ge(ep, 0);
    unsigned opened = 0, pending = 0, open_now = 0;
    int64_t end = it_now_ms() + 60000; /* hang guard, moved on as clients open */
    int64_t last_connect = 0;
    bool sampled = kind != SLOW_READ;
    memset(res, 0, sizeof(*res));
    res->min_ms = INT64_MAX;
    while (it_now_ms() < end) {
        while (opened < n && pending < MAX_PENDING_CONNECTS) {
            s[opened].fd = nb_connect(port, kind == SLOW_READ ? 4096 : 0);
            struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = opened};
            ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, s[opened].fd, &ev), 0);
            opened++;
            pending++;
            open_now++;
        }
        if (opened == n && open_now == 0)
            break;
        struct epoll_event evs[256];
        int ne = epoll_wait(ep, evs, 256, 20);
        int64_t now = it_now_ms();
        for (int i = 0; i < ne; i++) {
            struct slow *c = &s[evs[i].data.u32];
            if (c->fd < 0)
                continue;
            if (!c->connected) {
                slow_connected(c, kind, ep, evs[i].data.u32, now);
                pending--;
                end = now + timeout_ms + 30000;
                last_connect = now;
                continue;
            }
            if (kind != SLOW_READ && (evs[i].events & EPOLLIN)) {
                char buf[4096];
                ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
                if (r > 0) {
                    c->answered = true;
                    continue;
                }
                if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                    continue;
            }
            slow_closed(c, ep, now);
        }
        if (!sampled && opened == n && pending == 0 && now >= last_connect + 1000) {
            server_sendq(port, &res->sq);
            sampled = true;
        }
        for (unsigned i = 0; i < opened; i++)
            if (s[i].fd >= 0 && s[i].connected && s[i].next_ms <= now)
                slow_trickle(&s[i], kind, ep, now);
        open_now = 0;
        for (unsigned i = 0; i < opened; i++)
            open_now += s[i].fd >= 0;
    }
    for (unsigned i = 0; i < n; i++) {
        res->got += s[i].got;
        res->answered += s[i].answered;
        if (s[i].fd >= 0) {
            close(s[i].fd);
            continue;
        }
        res->closed++;
        int64_t d = s[i].t_closed - s[i].t_start;
        /* the server's clock starts when it reads the first byte, after we
         * sent it; a little slack for coarse timer granularity */
        if (d < timeout_ms - 100)
            res->early++;
        if (d < res->min_ms)
            res->min_ms = d;
        if (d > res->max_ms)
            res->max_ms = d;
    }
    close(ep);
    free(s);
}

static void
slow_scenario(enum slow_kind kind, const char *name, int timeout_ms)
{
    /* room for every slow client and the honest one */
    start_server(N_SLOW + 100, HEADER_TIMEOUT_S);
    warm_up();
    int base_fds = settled_nfds();
    struct honest *h = malloc(sizeof(*h));
    ck_assert(h != NULL);
    honest_start(h, srv.port);
    struct slow_result res;
    int64_t t0 = it_now_ms();
    slow_run(kind, N_SLOW, srv.port, timeout_ms, &res);
    int64_t took = it_now_ms() - t0;
    honest_finish(h, name);
    free(h);
    fprintf(stderr,
            "it_hostile: %s: %u/%u connections closed by the server, %lld..%lld ms after their "
            "first byte (deadline %d ms), whole run %lld ms\n",
            name, res.closed, N_SLOW, (long long)res.min_ms, (long long)res.max_ms, timeout_ms,
            (long long)took);
    if (kind == SLOW_READ) {
        fprintf(stderr,
                "it_hostile: %s: the slow readers took %llu bytes in all; the server's send "
                "queues held %llu KiB in all (%u sockets), %llu KiB at most\n",
                name, (unsigned long long)res.got, (unsigned long long)(res.sq.total / 1024),
                res.sq.n, (unsigned long long)(res.sq.max / 1024));
        /* A client that reads nothing may hold what the server lets the
         * kernel queue unsent (128 KiB, TCP_NOTSENT_LOWAT) plus what its
         * window took (its 4 KiB receive buffer); left alone, the kernel
         * grows a send buffer to tcp_wmem's maximum (4 MiB) and sendfile
         * fills it. */
        ck_assert_msg(res.sq.n > 0, "%s: no send queue sampled", name);
        ck_assert_msg(res.sq.max < 512 * 1024,
                      "%s: a stalled client holds %llu KiB of the server's send queue", name,
                      (unsigned long long)(res.sq.max / 1024));
    }
    ck_assert_msg(res.closed == N_SLOW, "%s: %u of %u connections still open", name,
                  N_SLOW - res.closed, N_SLOW);
    ck_assert_msg(res.early == 0, "%s: %u connections closed before their deadline", name,
                  res.early);
    ck_assert_msg(res.answered == 0, "%s: %u connections got response bytes", name, res.answered);
    /* and the server holds none of them any more */
    int left = wait_nfds_at_most(base_fds, 5000);
    ck_assert_msg(left <= base_fds, "%s: server holds %d descriptors, %d before", name, left,
                  base_fds);
    it_server_stop(&srv);
}

/* A header byte a second: closed at header_timeout after the first byte. */
START_TEST(t_slowloris)
{
    slow_scenario(SLOW_HEAD, "slowloris", HEADER_TIMEOUT_S * 1000);
}
END_TEST

/* A response read a byte a second: the socket takes no more bytes, and
 * the server gives up send_timeout after its last progress. */
START_TEST(t_slow_reader)
{
    slow_scenario(SLOW_READ, "slow readers", SEND_TIMEOUT_S * 1000);
}
END_TEST

/* A body sent a byte a second: header_timeout bounds the whole request. */
START_TEST(t_slow_body)
{
    slow_scenario(SLOW_BODY, "slow bodies", HEADER_TIMEOUT_S * 1000);
}
END_TEST

/* ---- a connection flood past max_connections -------------------------- */

#define FLOOD_IDLE_MS 5000

START_TEST(t_flood)
{
    /* the flood's partial heads must outlive the measured window */
    start_server_opts(FLOOD_MAX_CONN, 60, FLOOD_BACKLOG, NULL);
    it_server_expect(&srv, "max_connections");
    warm_up();
    int base_fds = settled_nfds();
    static const char partial[] = "GET /small.txt HTTP/1.1\r\n";
    int *fd = malloc(N_FLOOD * sizeof(*fd));
    bool *sent = calloc(N_FLOOD, sizeof(*sent));
    ck_assert(fd != NULL && sent != NULL);
    for (int i = 0; i < N_FLOOD; i++)
        fd[i] = nb_connect(srv.port, 0);
    /* send a partial head on every connection the kernel completed (the
     * rest wait in SYN retries: the accept queue is full) */
    int64_t settle = it_now_ms() + 2000;
    unsigned nsent = 0;
    while (it_now_ms() < settle) {
        for (int i = 0; i < N_FLOOD; i++) {
            if (sent[i])
                continue;
            struct pollfd p = {.fd = fd[i], .events = POLLOUT};
            if (poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) &&
                !(p.revents & (POLLERR | POLLHUP)) &&
                send(fd[i], partial, sizeof(partial) - 1, MSG_NOSIGNAL) > 0) {
                sent[i] = true;
                nsent++;
            }
        }
        it_sleep_ms(100);
    }
    int at_limit = nfds(srv.pid);
    /* the idle-at-limit window: a loop on a listener it cannot accept
     * from, or on connections with nothing to do, would burn a core */
    long hz = sysconf(_SC_CLK_TCK);
    long long c0 = cpu_ticks(srv.pid);
    int64_t w0 = it_now_ms();
    it_sleep_ms(FLOOD_IDLE_MS);
    long long c1 = cpu_ticks(srv.pid);
    int64_t w1 = it_now_ms();
    double frac = (double)(c1 - c0) / (double)hz / ((double)(w1 - w0) / 1000.0);
    fprintf(stderr,
            "it_hostile: flood: %d connections tried, %u completed (max_connections %d, "
            "backlog %d), server descriptors %d -> %d; worker CPU %.1f%% of %lld ms wall at "
            "the limit (%lld ticks of %ld Hz)\n",
            N_FLOOD, nsent, FLOOD_MAX_CONN, FLOOD_BACKLOG, base_fds, at_limit, frac * 100.0,
            (long long)(w1 - w0), c1 - c0, hz);
    /* past the limit, the kernel's accept queue holds the configured
     * backlog (+1) of connections whose handshake completed; the other
     * SYNs are dropped and retried */
    ck_assert_msg(nsent >= FLOOD_MAX_CONN + FLOOD_BACKLOG,
                  "only %u connections completed: the accept queue is not backlog = %d long", nsent,
                  FLOOD_BACKLOG);
    ck_assert_msg(at_limit >= base_fds + FLOOD_MAX_CONN &&
                      at_limit <= base_fds + FLOOD_MAX_CONN + 1,
                  "server at %d descriptors, %d before, max_connections %d", at_limit, base_fds,
                  FLOOD_MAX_CONN);
    ck_assert_msg(frac < 0.20, "worker used %.0f%% of a core while idle at max_connections",
                  frac * 100.0);
    /* the flood goes; a fresh client is served */
    for (int i = 0; i < N_FLOOD; i++)
        close(fd[i]);
    int64_t t_drop = it_now_ms();
    struct it_conn *c = malloc(sizeof(*c));
    ck_assert(c != NULL);
    it_conn_open(c, srv.port); /* 5 s receive timeout: the hang guard */
    int64_t connected = it_now_ms() - t_drop;
    struct it_response r;
    it_conn_send_str(c, small_get);
    ck_assert_int_eq(it_read_response(c, &r, false), IT_OK);
    int64_t served = it_now_ms() - t_drop;
    ck_assert_int_eq(r.status, 200);
    ck_assert(r.complete && r.body_len == SMALL_LEN && memcmp(r.body, g_small, SMALL_LEN) == 0);
    it_response_free(&r);
    it_conn_close(c);
    free(c);
    int left = wait_nfds_at_most(base_fds, 10000);
    fprintf(stderr,
            "it_hostile: flood: a fresh client connected %lld ms and was served %lld ms after the "
            "flood closed%s; server back to %d descriptors\n",
            (long long)connected, (long long)served,
            connected >= 900 ? " (its SYN met the still full accept queue and was sent again)" : "",
            left);
    ck_assert_int_le(left, base_fds);
    free(fd);
    free(sent);
    it_server_stop(&srv);
}
END_TEST

/* ---- 10,000 pipelined requests in one write --------------------------- */

struct writer {
    pthread_t th;
    int fd;
    const char *p;
    size_t len, sent;
    int err;
};

static void *
writer_run(void *arg)
{
    struct writer *w = arg;
    /* one send() of everything; the loop only resumes a partial one */
    while (w->sent < w->len) {
        ssize_t n = send(w->fd, w->p + w->sent, w->len - w->sent, MSG_NOSIGNAL);
        if (n <= 0) {
            w->err = n < 0 ? errno : EPIPE;
            break;
        }
        w->sent += (size_t)n;
    }
    return NULL;
}

/* count requests for bytes first..first+count-1 of r.bin, one a request,
 * padded to PAD_LEN: the whole batch as one buffer. */
static char *
pipeline_batch(unsigned first, unsigned count, size_t *len)
{
    size_t cap = (size_t)count * (PAD_LEN + 128);
    char *buf = malloc(cap), pad[PAD_LEN + 1];
    ck_assert(buf != NULL);
    memset(pad, 'p', PAD_LEN);
    pad[PAD_LEN] = '\0';
    size_t n = 0;
    for (unsigned i = first; i < first + count; i++) {
        int w = snprintf(
            buf + n, cap - n,
            "GET /r.bin HTTP/1.1\r\nHost: h\r\nRange: bytes=%u-%u\r\nX-Pad: %s\r\n\r\n", i, i, pad);
        ck_assert(w > 0 && (size_t)w < cap - n);
        n += (size_t)w;
    }
    *len = n;
    return buf;
}

/*
 * Send count pipelined requests in one write from a thread; wait
 * stall_ms before reading (the server must stop reading, not buffer),
 * then read and check every response in order. The largest RSS seen.
 */
static long
pipeline(int port, unsigned count, int stall_ms, size_t *req_bytes)
{
    size_t len;
    char *req = pipeline_batch(0, count, &len);
    unsigned char pat[RANGE_LEN];
    it_fill_pattern(pat, sizeof(pat), 0, RANGE_SEED);
    struct it_conn *c = malloc(sizeof(*c));
    ck_assert(c != NULL);
    it_conn_open_opts(c, port, 0, 30000);
    struct writer w = {.fd = c->fd, .p = req, .len = len};
    ck_assert_int_eq(pthread_create(&w.th, NULL, writer_run, &w), 0);
    it_sleep_ms(stall_ms);
    long peak = it_rss_kib(srv.pid);
    size_t cap = 1 << 20, have = 0, off = 0;
    char *buf = malloc(cap), head[1024], want[64];
    ck_assert(buf != NULL);
    int64_t end = it_now_ms() + 120000;
    unsigned i = 0;
    while (i < count) {
        ck_assert_msg(it_now_ms() < end, "pipeline: only %u of %u answered in time", i, count);
        int status = 0;
        const char *body = NULL;
        size_t blen = 0;
        long got = parse_response(buf + off, have - off, head, sizeof(head), &status, &body, &blen);
        ck_assert_msg(got >= 0, "pipeline: malformed response %u", i);
        if (got > 0) {
            snprintf(want, sizeof(want), "\r\nContent-Range: bytes %u-%u/%u\r\n", i, i, RANGE_LEN);
            ck_assert_msg(status == 206 && strstr(head, want) && blen == 1 &&
                              (unsigned char)body[0] == pat[i],
                          "pipeline: response %u out of order or wrong:\n%s", i, head);
            off += (size_t)got;
            i++;
            if (i % 1000 == 0) {
                long now = it_rss_kib(srv.pid);
                peak = now > peak ? now : peak;
            }
            continue;
        }
        if (off > 0) {
            memmove(buf, buf + off, have - off);
            have -= off;
            off = 0;
        }
        ssize_t n = recv(c->fd, buf + have, cap - have, 0);
        ck_assert_msg(n > 0, "pipeline: recv after %u responses: %s", i,
                      n == 0 ? "closed" : strerror(errno));
        have += (size_t)n;
    }
    pthread_join(w.th, NULL);
    ck_assert_msg(w.err == 0 && w.sent == len, "pipeline: sent %zu of %zu: %s", w.sent, len,
                  strerror(w.err));
    ck_assert_uint_eq(have, off); /* nothing more than the answers */
    it_conn_close(c);
    free(c);
    free(buf);
    free(req);
    *req_bytes = len;
    return peak;
}

START_TEST(t_pipeline)
{
    it_asan_no_quarantine();
    start_server(100, HEADER_TIMEOUT_S);
    size_t warm_bytes, bytes;
    /* warm up: the file cache, the allocator, the code */
    pipeline(srv.port, 200, 0, &warm_bytes);
    long before = it_rss_kib(srv.pid);
    int64_t t0 = it_now_ms();
    long peak = pipeline(srv.port, N_PIPELINE, 1000, &bytes);
    int64_t took = it_now_ms() - t0;
    long grown = peak - before;
    fprintf(stderr,
            "it_hostile: pipeline: %u requests (%zu bytes) in one write, answered in order in "
            "%lld ms; server RSS %ld KiB before, peak %ld KiB (+%ld KiB)\n",
            N_PIPELINE, bytes, (long long)took, before, peak, grown);
    /* A server that read ahead while the client did not read would hold
     * the requests it had not answered: up to all of them (20 MB). The
     * connection's buffer is max_header_size + 4 KiB; the bound leaves
     * room for the allocator and a sanitizer's shadow, far below the
     * requests' size. */
    long bound = (long)(bytes / 1024 / 10);
    ck_assert_msg(grown < bound,
                  "server RSS grew by %ld KiB over %zu request bytes (bound %ld KiB)", grown, bytes,
                  bound);
    it_server_stop(&srv);
}
END_TEST

/* ---- 10,000 concurrent keep-alive connections ------------------------- */

struct ka {
    int fd;
    bool connected;
    unsigned answered;
    size_t len;
    char buf[2048];
};

/* Read what c has; true when a whole response is in and it was right
 * (then the buffer is emptied), false while incomplete. Fails the test
 * on a close or a wrong answer. */
static bool
ka_read(struct ka *c, unsigned idx)
{
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return false;
    ck_assert_msg(n > 0, "keep-alive connection %u: %s after %u answers", idx,
                  n == 0 ? "closed" : strerror(errno), c->answered);
    c->len += (size_t)n;
    char head[1024];
    int status = 0;
    const char *body = NULL;
    size_t blen = 0;
    long got = parse_response(c->buf, c->len, head, sizeof(head), &status, &body, &blen);
    ck_assert_msg(got >= 0, "keep-alive connection %u: malformed response", idx);
    if (got == 0)
        return false;
    ck_assert_msg(is_small(status, body, blen) && (size_t)got == c->len,
                  "keep-alive connection %u: wrong answer %d", idx, status);
    c->len = 0;
    c->answered++;
    return true;
}

/* Until every connection has answered round times (bounded). */
static void
ka_wait(struct ka *k, unsigned n, int ep, unsigned round, int port, unsigned *opened)
{
    unsigned done = 0, pending = 0;
    for (unsigned i = 0; i < *opened; i++)
        done += k[i].answered >= round;
    int64_t end = it_now_ms() + 120000;
    while (done < n) {
        ck_assert_msg(it_now_ms() < end, "keep-alive round %u: %u of %u answered in time", round,
                      done, n);
        while (*opened < n && pending < MAX_PENDING_CONNECTS) {
            struct ka *c = &k[*opened];
            c->fd = nb_connect(port, 0);
            struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = *opened};
            ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev), 0);
            (*opened)++;
            pending++;
        }
        struct epoll_event evs[512];
        int ne = epoll_wait(ep, evs, 512, 100);
        for (int e = 0; e < ne; e++) {
            unsigned idx = evs[e].data.u32;
            struct ka *c = &k[idx];
            if (!c->connected) {
                int err = 0;
                socklen_t len = sizeof(err);
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                ck_assert_msg(err == 0, "keep-alive connection %u: connect: %s", idx,
                              strerror(err));
                c->connected = true;
                struct epoll_event ev = {.events = EPOLLIN, .data.u32 = idx};
                ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev), 0);
                ck_assert_int_eq(send(c->fd, small_get, sizeof(small_get) - 1, MSG_NOSIGNAL),
                                 (ssize_t)sizeof(small_get) - 1);
                continue;
            }
            if (ka_read(c, idx) && c->answered == round) {
                done++;
                if (round == 1)
                    pending--;
            }
        }
    }
}

START_TEST(t_keepalive_10k)
{
    struct rlimit rl;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    ck_assert_msg(rl.rlim_cur >= N_KEEPALIVE + 100,
                  "RLIMIT_NOFILE %llu is too low for %u connections",
                  (unsigned long long)rl.rlim_cur, N_KEEPALIVE);
    /*
     * A worker sizes max_connections from RLIMIT_NOFILE with two
     * descriptors a connection (a socket and a file) and a share for the
     * file cache: 6,658 under a limit of 20,000, the hard limit here (no
     * CAP_SYS_RESOURCE to raise it). Two workers on SO_REUSEPORT sockets,
     * which the kernel fills about evenly, hold 10,000.
     */
    start_server_opts(0, HEADER_TIMEOUT_S, 511, "workers = 2\nreuseport = on\n");
    pid_t w[8];
    size_t nw = 0;
    for (int64_t end = it_now_ms() + 5000; nw < 2 && it_now_ms() < end; it_sleep_ms(50))
        nw = children_of(srv.pid, w, 8);
    ck_assert_uint_eq(nw, 2);
    warm_up();
    int base[2], held[2];
    long rss0[2], rss1[2];
    for (int i = 0; i < 2; i++) {
        base[i] = settled_nfds_of(w[i]);
        rss0[i] = it_rss_kib(w[i]);
    }
    struct ka *k = calloc(N_KEEPALIVE, sizeof(*k));
    ck_assert(k != NULL);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    ck_assert_int_ge(ep, 0);
    unsigned opened = 0;
    int64_t t0 = it_now_ms();
    /* round 1: open them all, one request each, and keep them open */
    ka_wait(k, N_KEEPALIVE, ep, 1, srv.port, &opened);
    int64_t t1 = it_now_ms();
    for (int i = 0; i < 2; i++) {
        held[i] = nfds(w[i]);
        rss1[i] = it_rss_kib(w[i]);
    }
    /* round 2: every one of them asks again, all at once */
    for (unsigned i = 0; i < N_KEEPALIVE; i++)
        ck_assert_int_eq(send(k[i].fd, small_get, sizeof(small_get) - 1, MSG_NOSIGNAL),
                         (ssize_t)sizeof(small_get) - 1);
    ka_wait(k, N_KEEPALIVE, ep, 2, srv.port, &opened);
    int64_t t2 = it_now_ms();
    int conns = held[0] - base[0] + held[1] - base[1];
    long grown = rss1[0] - rss0[0] + rss1[1] - rss0[1];
    fprintf(stderr,
            "it_hostile: keep-alive: %u concurrent connections, each answered twice (round 1 "
            "%lld ms, round 2 %lld ms); two workers held %d + %d of them; worker RSS %ld + %ld "
            "KiB -> %ld + %ld KiB (%.2f KiB a connection)\n",
            N_KEEPALIVE, (long long)(t1 - t0), (long long)(t2 - t1), held[0] - base[0],
            held[1] - base[1], rss0[0], rss0[1], rss1[0], rss1[1], (double)grown / N_KEEPALIVE);
    ck_assert_msg(conns >= N_KEEPALIVE, "the workers held %d connections, not %u", conns,
                  N_KEEPALIVE);
    for (unsigned i = 0; i < N_KEEPALIVE; i++)
        close(k[i].fd);
    close(ep);
    free(k);
    it_server_stop(&srv);
}
END_TEST

/* One case a scenario, so that CK_RUN_CASE=NAME runs one alone. */
static void
add_case(Suite *s, const char *name, const TTest *t)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, 240);
    tcase_add_unchecked_fixture(tc, tree_up, tree_down);
    tcase_add_test(tc, t);
    suite_add_tcase(s, tc);
}

static Suite *
hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    add_case(s, "slowloris", t_slowloris);
    add_case(s, "slow_reader", t_slow_reader);
    add_case(s, "slow_body", t_slow_body);
    add_case(s, "flood", t_flood);
    add_case(s, "pipeline", t_pipeline);
    add_case(s, "keepalive", t_keepalive_10k);
    return s;
}

int
main(void)
{
    /* 10,000 connections need as many descriptors here and in the server
     * (which inherits the limit) */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        /* root may raise the hard limit too, when it is too low */
        rlim_t want = 2 * N_KEEPALIVE + 1000;
        struct rlimit up = {want, want};
        if (rl.rlim_max < want && setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl = up;
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    return it_main(hostile_suite());
}
