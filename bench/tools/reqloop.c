/*
 * reqloop - a fixed number of HTTP/1.1 GETs against 127.0.0.1, for
 * counting what a server spends per request (bench/count): unlike wrk it
 * stops after exactly N responses, so a count taken around it divides by
 * a known number.
 *
 *   reqloop -p PORT [-n N] [-c CONNS] [-k | -x] [-w PID] PATH
 *
 * -k (the default): CONNS keep-alive connections, each sending its next
 * request when the previous response is complete (no pipelining).
 * -x: a new connection per request, "Connection: close", read until the
 * server closes; CONNS of them at a time.
 * Every response must be a 200 with a Content-Length; the body is read
 * and dropped. Prints "requests=N" and exits 0, or says what went wrong
 * and exits 1. A connection that makes no progress for 10 s fails.
 *
 * -w PID (with one connection): before each request, and after each
 * connect, wait until the server PID is idle (asleep in epoll_wait, as
 * /proc says), so that it never finds the next request already waiting
 * when it finishes the last one (which a server slowed down by strace or
 * valgrind always would): every request then costs what it costs a
 * server that is not saturated, the same in every run. After a connect
 * it first waits up to 50 ms for the server to wake up and go back to
 * sleep, so that the request arrives after the accept has been handled
 * (as over a real network) unless the accept waits for data
 * (TCP_DEFER_ACCEPT).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXC 256
#define BUFSZ 65536

struct cl {
    int fd;
    size_t have;         /* bytes in buf */
    long long body_left; /* -1: still in the head */
    char buf[BUFSZ];
};

static int port;
static const char *path = "/";
static int close_mode;
static char req[1024];
static size_t req_len;
static int watch_pid;

static void
die(const char *what)
{
    fprintf(stderr, "reqloop: %s: %s\n", what, errno ? strerror(errno) : "failed");
    exit(1);
}

/* The server's voluntary context switches, and whether it sleeps in
 * epoll_wait / epoll_pwait (x86_64: 232, 281) right now. */
static long
server_state(int *idle)
{
    char p[64], buf[4096];
    *idle = 0;
    snprintf(p, sizeof(p), "/proc/%d/syscall", watch_pid);
    FILE *f = fopen(p, "r");
    if (!f)
        die("/proc/PID/syscall");
    long nr = -1;
    if (fscanf(f, "%ld", &nr) != 1)
        nr = -1;
    fclose(f);
    snprintf(p, sizeof(p), "/proc/%d/status", watch_pid);
    f = fopen(p, "r");
    if (!f)
        die("/proc/PID/status");
    long vol = -1;
    char state = '?';
    while (fgets(buf, sizeof(buf), f)) {
        if (sscanf(buf, "State: %c", &state) == 1)
            continue;
        if (sscanf(buf, "voluntary_ctxt_switches: %ld", &vol) == 1)
            break;
    }
    fclose(f);
    *idle = state == 'S' && (nr == 232 || nr == 281);
    return vol;
}

static void
wait_idle(void)
{
    int idle;
    for (long i = 0; i < 10L * 1000 * 100; i++) {
        server_state(&idle);
        if (idle)
            return;
        usleep(10);
    }
    errno = 0;
    die("server never idle for 10 s");
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* After a connect: let the server see it (or not, 50 ms) and rest. */
static void
settle(long before)
{
    int idle;
    double until = now_s() + 0.05;
    while (server_state(&idle) == before && now_s() < until)
        usleep(10);
    wait_idle();
}

static void
start(struct cl *c)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (c->fd < 0) {
        int idle;
        long before = watch_pid ? (wait_idle(), server_state(&idle)) : 0;
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
            die("connect");
        if (watch_pid)
            settle(before);
    } else if (watch_pid) {
        wait_idle();
    }
    if (write(c->fd, req, req_len) != (ssize_t)req_len)
        die("write");
    c->have = 0;
    c->body_left = -1;
}

/* Parse a complete head at the front of buf: its length, or 0. */
static size_t
head_done(struct cl *c)
{
    char *end = memmem(c->buf, c->have, "\r\n\r\n", 4);
    if (!end)
        return 0;
    size_t hlen = (size_t)(end - c->buf) + 4;
    if (c->have < 12 || memcmp(c->buf + 9, "200", 3) != 0) {
        errno = 0;
        fprintf(stderr, "reqloop: not a 200: %.*s\n", (int)(hlen < 80 ? hlen : 80), c->buf);
        exit(1);
    }
    char *cl = memmem(c->buf, hlen, "\r\nContent-Length: ", 18);
    if (!cl) {
        errno = 0;
        die("no Content-Length");
    }
    c->body_left = strtoll(cl + 18, NULL, 10);
    return hlen;
}

/* Bytes arrived or EOF. 1: the response is complete. */
static int
on_readable(struct cl *c)
{
    ssize_t n = read(c->fd, c->buf + c->have, BUFSZ - c->have);
    if (n < 0)
        die("read");
    if (n == 0) {
        if (close_mode && c->body_left == 0)
            return 1;
        errno = 0;
        die("closed early");
    }
    c->have += (size_t)n;
    if (c->body_left < 0) {
        size_t h = head_done(c);
        if (!h) {
            if (c->have == BUFSZ) {
                errno = 0;
                die("head too long");
            }
            return 0;
        }
        c->have -= h;
        memmove(c->buf, c->buf + h, c->have);
    }
    if ((long long)c->have > c->body_left) {
        errno = 0;
        die("more bytes than Content-Length");
    }
    c->body_left -= (long long)c->have;
    c->have = 0;
    /* close mode: complete at the server's EOF */
    return c->body_left == 0 && !close_mode;
}

int
main(int argc, char **argv)
{
    long n = 1000, conns = 1;
    int opt;
    while ((opt = getopt(argc, argv, "p:n:c:kxw:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'n': n = atol(optarg); break;
        case 'c': conns = atol(optarg); break;
        case 'k': close_mode = 0; break;
        case 'x': close_mode = 1; break;
        case 'w': watch_pid = atoi(optarg); break;
        default: goto usage;
        }
    }
    if (optind != argc - 1 || port <= 0 || n < 0 || conns < 1 || conns > MAXC ||
        (watch_pid && conns != 1))
        goto usage;
    path = argv[optind];
    req_len = (size_t)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n",
                               path, close_mode ? "Connection: close\r\n" : "");
    static struct cl cs[MAXC];
    struct pollfd pf[MAXC];
    long started = 0, done = 0;
    if (conns > n)
        conns = n;
    for (long i = 0; i < conns; i++) {
        cs[i].fd = -1;
        start(&cs[i]);
        started++;
    }
    while (done < n) {
        for (long i = 0; i < conns; i++)
            pf[i] = (struct pollfd){.fd = cs[i].fd, .events = POLLIN};
        int rc = poll(pf, (nfds_t)conns, 10000);
        if (rc == 0) {
            errno = 0;
            die("no progress for 10 s");
        }
        if (rc < 0 && errno != EINTR)
            die("poll");
        for (long i = 0; i < conns; i++) {
            if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (!on_readable(&cs[i]))
                continue;
            done++;
            if (close_mode) {
                close(cs[i].fd);
                cs[i].fd = -1;
            }
            if (started < n) {
                start(&cs[i]);
                started++;
            } else if (cs[i].fd >= 0) {
                close(cs[i].fd);
                cs[i].fd = -1;
            }
        }
    }
    printf("requests=%ld\n", done);
    return 0;
usage:
    fprintf(stderr, "usage: reqloop -p PORT [-n N] [-c CONNS] [-k | -x] [-w PID] PATH\n");
    return 2;
}
