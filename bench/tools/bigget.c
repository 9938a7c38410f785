/*
 * bigget - download a large file over several connections at once and
 * throw the body away inside the kernel.
 *
 *   bigget HOST PORT PATH SIZE CONCURRENCY SECONDS MAX_ROUNDS
 *
 * A round starts CONCURRENCY downloads of PATH at the same time (one new
 * connection each) and waits for all of them. Rounds repeat until SECONDS
 * have passed (at least one round, at most MAX_ROUNDS). The head is read
 * normally (status 200 and Content-Length == SIZE are required); the body
 * is received with recv(MSG_TRUNC), which on TCP drops the data without
 * copying it to user space, so the client costs as little as a client can.
 * Prints one line:
 *
 *   bytes=B seconds=S downloads=N failed=N MBps=M first_error=...
 *
 * where MBps = body bytes of complete downloads / time spent in rounds / 10^6.
 * Each round has a 300 s limit; a download that does not finish counts as
 * failed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXCONC 64
#define DISCARD (16u << 20)

struct dl {
    int fd;
    int state; /* 0 connecting, 1 head, 2 body, 3 done */
    size_t hlen;
    long long left;
    char head[4096];
};

static char first_error[160];
static char request[1024];
static size_t request_len;
static char *sink;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
bad(struct dl *d, const char *why, int err)
{
    if (!first_error[0])
        snprintf(first_error, sizeof(first_error), "%s%s%s", why, err ? ": " : "",
                 err ? strerror(err) : "");
    close(d->fd);
    d->fd = -1;
    d->state = 3;
    return -1;
}

/* Returns 1 when the download completed, 0 to wait, -1 on failure. */
static int
step(struct dl *d, int ep, long long size)
{
    if (d->state == 0) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err)
            return bad(d, "connect", err);
        if (write(d->fd, request, request_len) != (ssize_t)request_len)
            return bad(d, "write", errno);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = d};
        epoll_ctl(ep, EPOLL_CTL_MOD, d->fd, &ev);
        d->state = 1;
        return 0;
    }
    while (d->state == 1) {
        ssize_t n = recv(d->fd, d->head + d->hlen, sizeof(d->head) - 1 - d->hlen, 0);
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n <= 0)
            return bad(d, n ? "recv" : "server closed during the head", n ? errno : 0);
        d->hlen += (size_t)n;
        d->head[d->hlen] = '\0';
        char *end = strstr(d->head, "\r\n\r\n");
        if (!end) {
            if (d->hlen >= sizeof(d->head) - 1)
                return bad(d, "response head too long", 0);
            continue;
        }
        if (strncmp(d->head, "HTTP/1.1 200 ", 13) != 0)
            return bad(d, "status is not 200", 0);
        long long cl = -1;
        for (char *l = strstr(d->head, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
            if (strncasecmp(l + 2, "content-length:", 15) == 0)
                cl = strtoll(l + 17, NULL, 10);
        }
        if (cl != size)
            return bad(d, "Content-Length is not the expected size", 0);
        d->left = size - (long long)(d->hlen - (size_t)(end + 4 - d->head));
        d->state = 2;
    }
    while (d->state == 2 && d->left > 0) {
        size_t want = d->left < DISCARD ? (size_t)d->left : DISCARD;
        ssize_t n = recv(d->fd, sink, want, MSG_TRUNC);
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n <= 0)
            return bad(d, n ? "recv" : "server closed during the body", n ? errno : 0);
        d->left -= n;
    }
    if (d->left < 0)
        return bad(d, "more bytes than Content-Length", 0);
    close(d->fd);
    d->fd = -1;
    d->state = 3;
    return 1;
}

int
main(int argc, char **argv)
{
    if (argc != 8)
        goto usage;
    const char *host = argv[1], *path = argv[3];
    int port = atoi(argv[2]), conc = atoi(argv[5]), max_rounds = atoi(argv[7]);
    long long size = atoll(argv[4]);
    double seconds = atof(argv[6]);
    if (port < 1 || port > 65535 || conc < 1 || conc > MAXCONC || size < 0 || max_rounds < 1 ||
        seconds < 0)
        goto usage;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        goto usage;
    int len = snprintf(request, sizeof(request),
                       "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: "
                       "sfhttpd-bench-bigget\r\nConnection: close\r\n\r\n",
                       path, host, port);
    if (len < 0 || (size_t)len >= sizeof(request))
        goto usage;
    request_len = (size_t)len;
    /* never touched: MSG_TRUNC does not copy, so this costs no memory */
    sink = malloc(DISCARD);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!sink || ep < 0) {
        perror("bigget: setup");
        return 2;
    }

    static struct dl dls[MAXCONC];
    long long bytes = 0;
    int downloads = 0, failed = 0, rounds = 0;
    double spent = 0, t_start = now_s();
    while (rounds < max_rounds && (rounds == 0 || now_s() - t_start < seconds)) {
        double r0 = now_s();
        int active = 0;
        for (int i = 0; i < conc; i++) {
            struct dl *d = &dls[i];
            memset(d, 0, sizeof(*d));
            d->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (d->fd < 0 ||
                (connect(d->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS)) {
                bad(d, "connect", errno);
                failed++;
                continue;
            }
            struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = d};
            epoll_ctl(ep, EPOLL_CTL_ADD, d->fd, &ev);
            active++;
        }
        while (active > 0 && now_s() - r0 < 300) {
            struct epoll_event evs[MAXCONC];
            int n = epoll_wait(ep, evs, MAXCONC, 1000);
            for (int i = 0; i < n; i++) {
                struct dl *d = evs[i].data.ptr;
                if (d->state == 3)
                    continue;
                int rc = step(d, ep, size);
                if (rc != 0) {
                    active--;
                    downloads++;
                    if (rc > 0)
                        bytes += size;
                    else
                        failed++;
                }
            }
        }
        for (int i = 0; i < conc; i++) {
            if (dls[i].state != 3) {
                bad(&dls[i], "download did not finish in 300 s", 0);
                downloads++;
                failed++;
            }
        }
        spent += now_s() - r0;
        rounds++;
    }
    printf("bytes=%lld seconds=%.6f downloads=%d failed=%d MBps=%.1f first_error=%s\n", bytes,
           spent, downloads, failed, spent > 0 ? bytes / spent / 1e6 : 0.0,
           first_error[0] ? first_error : "none");
    return failed ? 1 : 0;

usage:
    fprintf(stderr, "usage: bigget HOST PORT PATH SIZE CONCURRENCY SECONDS MAX_ROUNDS\n");
    return 2;
}
