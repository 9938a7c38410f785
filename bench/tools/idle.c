/*
 * idle - open many keep-alive connections, make one request on each, and
 * hold them idle until told to close them.
 *
 *   idle [-p PENDING] [-s STALL_S] [-m SETUP_MAX_S] [-H HOLD_MAX_S] HOST PORT PATH COUNT
 *
 * Opens COUNT connections to HOST:PORT (at most PENDING connecting or
 * waiting for their response at a time, default 100, so no listen backlog
 * overflows), sends "GET PATH" on each and reads the whole response
 * (status 200 and Content-Length required). Then prints
 *
 *   ready ok=N failed=N setup_ms=T first_error=...
 *
 * on standard output and holds the connections open. Setup ends when every
 * connection has its response, when nothing progressed for STALL_S seconds
 * (default 5: a server at its connection limit that stopped accepting), or
 * after SETUP_MAX_S (default 60); connections still waiting then count as
 * failed and are closed. While holding, connections the server closes are
 * counted. On SIGUSR1 it prints "status held=N server_closed=N" and goes
 * on holding. On SIGTERM or SIGINT (or after HOLD_MAX_S, default 300) it
 * prints "closing held=N server_closed=N", closes every connection,
 * prints "closed close_ms=T" and exits 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum state { CONNECTING, READING, IDLE, DEAD };

struct conn {
    int fd;
    enum state st;
    size_t hlen;    /* bytes of head collected */
    long long need; /* body bytes still expected, -1 until the head is in */
    char head[2048];
};

static volatile sig_atomic_t stop, report;
static struct conn *conns;
static int nconns;
static int ok, failed, server_closed, pending;
static char first_error[160];
static char request[1024];
static size_t request_len;

static void
on_signal(int sig)
{
    if (sig == SIGUSR1)
        report = 1;
    else
        stop = 1;
}

static int
count_held(void)
{
    int held = 0;
    for (int i = 0; i < nconns; i++)
        held += conns[i].st == IDLE;
    return held;
}

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
fail(struct conn *c, const char *why, int err)
{
    if (!first_error[0])
        snprintf(first_error, sizeof(first_error), "%s%s%s", why, err ? ": " : "",
                 err ? strerror(err) : "");
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->st = DEAD;
    failed++;
    pending--;
}

/* Parse the collected head: 0 incomplete, 1 complete (need set), -1 bad. */
static int
parse_head(struct conn *c, size_t *body_start)
{
    char *end = memmem(c->head, c->hlen, "\r\n\r\n", 4);
    if (!end)
        return c->hlen >= sizeof(c->head) ? -1 : 0;
    *end = '\0';
    *body_start = (size_t)(end - c->head) + 4;
    if (strncmp(c->head, "HTTP/1.1 200 ", 13) != 0)
        return -1;
    for (char *line = strstr(c->head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "content-length:", 15) == 0) {
            c->need = strtoll(line + 17, NULL, 10);
            return c->need >= 0 ? 1 : -1;
        }
    }
    return -1;
}

static void
on_readable(struct conn *c)
{
    char buf[65536];

    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (c->st == IDLE) {
            /* an idle connection has nothing to read: EOF or error */
            if (n > 0 && !first_error[0])
                snprintf(first_error, sizeof(first_error),
                         "unexpected bytes on an idle connection");
            close(c->fd);
            c->fd = -1;
            c->st = DEAD;
            server_closed++;
            return;
        }
        if (n <= 0) {
            fail(c, n == 0 ? "server closed before the response was complete" : "read",
                 n ? errno : 0);
            return;
        }
        size_t off = 0;
        if (c->need < 0) {
            size_t room = sizeof(c->head) - c->hlen, take = (size_t)n < room ? (size_t)n : room;
            size_t old = c->hlen, start;
            memcpy(c->head + c->hlen, buf, take);
            c->hlen += take;
            int rc = parse_head(c, &start);
            if (rc < 0) {
                fail(c, "bad response head (want 200 with Content-Length)", 0);
                return;
            }
            if (rc == 0)
                continue;
            off = start - old;
        }
        c->need -= (long long)((size_t)n - off);
        if (c->need < 0) {
            fail(c, "more bytes than Content-Length", 0);
            return;
        }
        if (c->need == 0) {
            c->st = IDLE;
            ok++;
            pending--;
            return;
        }
    }
}

static void
on_connected(struct conn *c, int ep)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err) {
        fail(c, "connect", err);
        return;
    }
    ssize_t n = write(c->fd, request, request_len);
    if (n != (ssize_t)request_len) {
        fail(c, "write", n < 0 ? errno : 0);
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)(c - conns)};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
        fail(c, "epoll_ctl", errno);
        return;
    }
    c->st = READING;
}

static int
start_conn(struct conn *c, int ep, const struct sockaddr_in *sa)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    c->need = -1;
    c->hlen = 0;
    pending++;
    if (c->fd < 0) {
        fail(c, "socket", errno);
        return -1;
    }
    if (connect(c->fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 && errno != EINPROGRESS) {
        fail(c, "connect", errno);
        return -1;
    }
    c->st = CONNECTING;
    struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)(c - conns)};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        fail(c, "epoll_ctl", errno);
        return -1;
    }
    return 0;
}

static void
dispatch(int ep, int timeout_ms)
{
    struct epoll_event evs[256];
    int n = epoll_wait(ep, evs, 256, timeout_ms);
    for (int i = 0; i < n; i++) {
        struct conn *c = &conns[evs[i].data.u32];
        if (c->st == CONNECTING)
            on_connected(c, ep);
        else if (c->st == READING || c->st == IDLE)
            on_readable(c);
    }
}

int
main(int argc, char **argv)
{
    int maxpending = 100, opt;
    double stall_s = 5, setup_max_s = 60, hold_max_s = 300;

    while ((opt = getopt(argc, argv, "p:s:m:H:")) != -1) {
        switch (opt) {
        case 'p': maxpending = atoi(optarg); break;
        case 's': stall_s = atof(optarg); break;
        case 'm': setup_max_s = atof(optarg); break;
        case 'H': hold_max_s = atof(optarg); break;
        default: goto usage;
        }
    }
    if (argc - optind != 4 || maxpending < 1)
        goto usage;
    const char *host = argv[optind], *path = argv[optind + 2];
    int port = atoi(argv[optind + 1]);
    nconns = atoi(argv[optind + 3]);
    if (nconns < 1 || nconns > 1000000 || port < 1 || port > 65535)
        goto usage;

    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "idle: bad IPv4 address '%s'\n", host);
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)nconns + 16) {
        fprintf(stderr, "idle: RLIMIT_NOFILE %llu is too low for %d connections\n",
                (unsigned long long)rl.rlim_cur, nconns);
        return 2;
    }
    int len = snprintf(request, sizeof(request),
                       "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: sfhttpd-bench-idle\r\n\r\n",
                       path, host, port);
    if (len < 0 || (size_t)len >= sizeof(request))
        goto usage;
    request_len = (size_t)len;

    conns = calloc((size_t)nconns, sizeof(*conns));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!conns || ep < 0) {
        perror("idle: setup");
        return 2;
    }
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    act.sa_handler = on_signal;
    sigaction(SIGUSR1, &act, NULL);
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    signal(SIGPIPE, SIG_IGN);

    double t0 = now_ms(), last_progress = t0;
    int started = 0, last_done = 0;
    while (!stop) {
        while (pending < maxpending && started < nconns)
            start_conn(&conns[started++], ep, &sa);
        if (ok + failed + server_closed != last_done) {
            last_done = ok + failed + server_closed;
            last_progress = now_ms();
        }
        if (ok + failed >= nconns)
            break;
        double t = now_ms();
        if (t - last_progress > stall_s * 1e3 || t - t0 > setup_max_s * 1e3)
            break;
        dispatch(ep, 100);
    }
    /* whatever still waits for its response now counts as failed */
    for (int i = 0; i < started; i++) {
        if (conns[i].st == CONNECTING || conns[i].st == READING)
            fail(&conns[i], "no response before the setup ended", 0);
    }
    failed += nconns - started;
    printf("ready ok=%d failed=%d setup_ms=%.1f first_error=%s\n", ok, failed, now_ms() - t0,
           first_error[0] ? first_error : "none");
    fflush(stdout);

    double hold_start = now_ms();
    while (!stop && now_ms() - hold_start < hold_max_s * 1e3) {
        dispatch(ep, 200);
        if (report) {
            report = 0;
            printf("status held=%d server_closed=%d\n", count_held(), server_closed);
            fflush(stdout);
        }
    }

    printf("closing held=%d server_closed=%d\n", count_held(), server_closed);
    fflush(stdout);
    double c0 = now_ms();
    for (int i = 0; i < nconns; i++) {
        if (conns[i].fd >= 0)
            close(conns[i].fd);
    }
    printf("closed close_ms=%.1f\n", now_ms() - c0);
    fflush(stdout);
    close(ep);
    free(conns);
    return 0;

usage:
    fprintf(stderr, "usage: idle [-p PENDING] [-s STALL_S] [-m SETUP_MAX_S] [-H HOLD_MAX_S] HOST "
                    "PORT PATH COUNT\n");
    return 2;
}
