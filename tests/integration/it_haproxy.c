/*
 * it_haproxy.c - two sfhttpd replicas behind a real HAProxy (Debian's
 * haproxy, installed by scripts/deps), as the README's deployment
 * section configures it: PROXY protocol v2 to the replicas, an HTTP
 * check on health_path every 100 ms, retries and redispatch. Under load
 * through HAProxy (keep-alive clients and clients that open a connection
 * per request, small and 256 KiB files), one replica gets SIGTERM with a
 * drain_delay longer than the check needs to mark it down: not one
 * request may fail (every response 200 with the right body), HAProxy
 * must have taken the replica out by its health check (a 503 from the
 * health path, not a refused connection) without retrying or
 * redispatching a single request (its counters, read from its stats
 * socket), and the replica must exit 0. (Without drain_delay the retries
 * and redispatch hide the stop from these GETs, but HAProxy redispatches
 * hundreds of requests refused by the stopping replica; a request it
 * cannot retry would fail.)
 *
 * HAProxy is started by the test in the foreground (-db) on a socket the
 * test bound on an ephemeral loopback port (bind fd@3), and stopped by
 * its PID; every wait is bounded.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MID_SIZE (256u << 10)
#define MID_SEED 5
#define DRAIN_MS 2000
#define LOAD_MS 6000        /* the load runs this long ... */
#define TERM_AT_MS 1500     /* ... and the first replica gets SIGTERM here */
#define MAX_REQUESTS 200000 /* per client: the load is bounded in count too */
#define CLIENTS 4           /* even: keep-alive, odd: a connection per request */
#define IO_TIMEOUT_S 5

static unsigned char *g_mid; /* the expected bytes of /mid.bin */

static void
setup(void)
{
    it_suite_tree();
    it_put(it_suite.root, "a.txt", "alpha\n");
    it_put_pattern(it_suite.root, "mid.bin", MID_SIZE, MID_SEED);
    g_mid = malloc(MID_SIZE);
    ck_assert_ptr_nonnull(g_mid);
    it_fill_pattern(g_mid, MID_SIZE, 0, MID_SEED);
}

static void
teardown(void)
{
    free(g_mid);
    it_rmtree(it_suite.base);
}

/* A replica: PROXY protocol only, the health path, the drain delay, and
 * a header that says which replica answered. */
static void
start_replica(struct it_server *s, const char *name)
{
    char conf[PATH_MAX + 16], text[4 * PATH_MAX];

    snprintf(conf, sizeof(conf), "%s/%s.conf", it_suite.base, name);
    snprintf(text, sizeof(text),
             "[server]\nlisten = 127.0.0.1:0 proxy_protocol\naccess_log = off\n%s"
             "health_path = /healthz\ndrain_delay = %d.%03d\nshutdown_timeout = 10\n"
             "[site]\nroot = %s\nadd_header = X-Replica: %s\n",
             getuid() == 0 ? "user = root\n" : "", DRAIN_MS / 1000, DRAIN_MS % 1000, it_suite.root,
             name);
    it_write_str(conf, text);
    it_server_start_conf(s, conf);
}

/* ---- haproxy ------------------------------------------------------------ */

struct haproxy {
    pid_t pid;
    int port;
    char log[PATH_MAX];
    char sock[PATH_MAX];
};

/* The config of the README's deployment section, with the test's ports,
 * a check every 100 ms, and a stats socket to read HAProxy's counters. */
static void
write_haproxy_cfg(const char *path, const struct haproxy *h, int p1, int p2)
{
    char text[2 * PATH_MAX];

    snprintf(text, sizeof(text),
             "global\n"
             "    maxconn 2000\n"
             "    stats socket %s mode 600 level admin\n"
             "defaults\n"
             "    mode http\n"
             "    timeout connect 1s\n"
             "    timeout client 10s\n"
             "    timeout server 10s\n"
             "    timeout check 1s\n"
             "    retries 3\n"
             "    option redispatch 1\n"
             "    retry-on conn-failure empty-response response-timeout\n"
             "frontend fe\n"
             "    bind fd@3\n"
             "    default_backend be\n"
             "backend be\n"
             "    balance roundrobin\n"
             "    option httpchk GET /healthz\n"
             "    http-check expect status 200\n"
             "    default-server send-proxy-v2 check inter 100ms fall 2 rise 1\n"
             "    server s1 127.0.0.1:%d\n"
             "    server s2 127.0.0.1:%d\n",
             h->sock, p1, p2);
    it_write_str(path, text);
}

static void
haproxy_start(struct haproxy *h, int p1, int p2)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    char cfg[PATH_MAX];
    pid_t parent = getpid();

    memset(h, 0, sizeof(*h));
    it_join(h->log, sizeof(h->log), it_suite.base, "haproxy.log");
    it_join(h->sock, sizeof(h->sock), it_suite.base, "haproxy.sock");
    it_join(cfg, sizeof(cfg), it_suite.base, "haproxy.cfg");
    write_haproxy_cfg(cfg, h, p1, p2);
    ck_assert_msg(access("/usr/sbin/haproxy", X_OK) == 0,
                  "/usr/sbin/haproxy missing: run scripts/deps (it installs Debian's haproxy)");

    /* its listening socket, bound here on an ephemeral port: no race */
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(lfd, 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(lfd, 512), 0);
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
    h->port = ntohs(sa.sin_port);
    int out = open(h->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(out, 0);

    h->pid = fork();
    ck_assert_int_ge(h->pid, 0);
    if (h->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int devnull = open("/dev/null", O_RDONLY);
        /* dup2 leaves the copies without close-on-exec */
        if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 ||
            dup2(lfd, 3) < 0)
            _exit(127);
        execl("/usr/sbin/haproxy", "haproxy", "-db", "-f", cfg, (char *)NULL);
        dprintf(2, "exec haproxy: %s\n", strerror(errno));
        _exit(127);
    }
    close(out);
    close(lfd);
}

/* SIGTERM by PID (HAProxy's hard stop), wait at most 5 s, else SIGKILL. */
static void
haproxy_stop(struct haproxy *h)
{
    int status;

    if (h->pid <= 0)
        return;
    kill(h->pid, SIGTERM);
    for (int64_t end = it_now_ms() + 5000; it_now_ms() < end;) {
        if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
            h->pid = 0;
            return;
        }
        it_sleep_ms(10);
    }
    kill(h->pid, SIGKILL);
    waitpid(h->pid, &status, 0);
    h->pid = 0;
}

static char *
read_file(const char *path)
{
    static char buf[1 << 16];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* One command to HAProxy's stats socket; its answer into out. */
static bool
haproxy_cmd(const struct haproxy *h, const char *cmd, char *out, size_t cap)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct timeval tv = {IO_TIMEOUT_S, 0};
    size_t len = 0;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return false;
    if (strlen(h->sock) >= sizeof(sa.sun_path)) {
        close(fd);
        return false;
    }
    memcpy(sa.sun_path, h->sock, strlen(h->sock) + 1);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        send(fd, cmd, strlen(cmd), MSG_NOSIGNAL) != (ssize_t)strlen(cmd)) {
        close(fd);
        return false;
    }
    for (ssize_t n; len + 1 < cap && (n = recv(fd, out + len, cap - 1 - len, 0)) > 0;)
        len += (size_t)n;
    out[len] = '\0';
    close(fd);
    return len > 0;
}

/* A column of the "be,BACKEND," line of "show stat" (CSV, the header
 * line names the columns); -1 when not found. */
static long
stat_value(const char *csv, const char *row, const char *col)
{
    const char *hdr = strstr(csv, "# pxname,");
    const char *line = strstr(csv, row);
    int want = -1, i = 0;

    if (!hdr || !line)
        return -1;
    hdr += 2;
    for (const char *p = hdr; *p && *p != '\n'; i++) {
        const char *e = p + strcspn(p, ",\n");
        if ((size_t)(e - p) == strlen(col) && strncmp(p, col, (size_t)(e - p)) == 0)
            want = i;
        p = *e == ',' ? e + 1 : e;
    }
    if (want < 0)
        return -1;
    const char *p = line;
    for (i = 0; i < want && p; i++) {
        p = strchr(p, ',');
        p = p ? p + 1 : NULL;
    }
    return p ? atol(p) : -1;
}

/* ---- the load ------------------------------------------------------------ */

struct stats {
    long ok, failed, by_s1, by_s2, s1_after_term;
    char first_failure[200];
};

struct shared {
    int64_t term_at; /* when the first replica got SIGTERM (0: not yet) */
    struct stats st[CLIENTS];
};

static void
note_fail(struct stats *st, const char *path, const char *what)
{
    if (st->failed++ == 0)
        snprintf(st->first_failure, sizeof(st->first_failure), "%s: %s (errno %s)", path, what,
                 strerror(errno));
}

static int
connect_to(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {IO_TIMEOUT_S, 0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The value of header name in a head (names in any case: HAProxy sends
 * them in lower case), copied to out; false when absent. */
static bool
head_value(const char *head, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n")) {
        const char *f = p + 2;
        if (strncasecmp(f, name, n) == 0 && f[n] == ':') {
            f += n + 1;
            while (*f == ' ')
                f++;
            size_t len = strcspn(f, "\r");
            snprintf(out, cap, "%.*s", (int)(len < cap ? len : cap - 1), f);
            return true;
        }
    }
    return false;
}

/* Read one response to GET path on fd and check it: 200, Content-Length,
 * the body byte for byte. Which replica answered goes to *replica. 1:
 * right; 0: closed before any byte; -1: anything else (what into why). */
static int
read_checked(int fd, bool mid, char *replica, const char **why)
{
    static char buf[MID_SIZE + 8192];
    size_t len = 0, want_body = mid ? MID_SIZE : 6;
    char *end = NULL, v[64];

    while (end == NULL) {
        ssize_t n = recv(fd, buf + len, 8192 - 1 - len, 0);
        if (n <= 0) {
            *why = n == 0 ? "closed in the head" : "recv in the head";
            return len == 0 ? 0 : -1;
        }
        len += (size_t)n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end == NULL && len >= 8191) {
            *why = "head too long";
            return -1;
        }
    }
    size_t head_len = (size_t)(end + 4 - buf);
    end[2] = '\0'; /* the head, its last CRLF kept */
    if (strncmp(buf, "HTTP/1.1 200 ", 13) != 0) {
        *why = buf;
        return -1;
    }
    if (!head_value(buf, "content-length", v, sizeof(v)) || (size_t)atol(v) != want_body) {
        *why = "wrong Content-Length";
        return -1;
    }
    if (!head_value(buf, "x-replica", replica, 8))
        replica[0] = '\0';
    size_t have = len - head_len;
    memmove(buf, buf + head_len, have);
    while (have < want_body) {
        ssize_t n = recv(fd, buf + have, want_body - have, 0);
        if (n <= 0) {
            *why = "short body";
            return -1;
        }
        have += (size_t)n;
    }
    if (have != want_body || memcmp(buf, mid ? (const char *)g_mid : "alpha\n", want_body) != 0) {
        *why = "wrong body";
        return -1;
    }
    return 1;
}

/* One client until the deadline (or MAX_REQUESTS): keep-alive GETs on
 * one connection, or a new connection for each (Connection: close),
 * alternating a small and a 256 KiB file. */
static void
load_client(int port, int64_t until, bool keep_alive, struct shared *sh, struct stats *st)
{
    int fd = -1;

    for (long i = 0; i < MAX_REQUESTS && it_now_ms() < until; i++) {
        bool mid = i % 2 == 1;
        const char *path = mid ? "/mid.bin" : "/a.txt";
        char req[160], replica[8] = "";
        const char *why = "";
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: lb.test\r\n%s\r\n", path,
                 keep_alive ? "" : "Connection: close\r\n");
        if (fd < 0 && (fd = connect_to(port)) < 0) {
            note_fail(st, path, "connect");
            it_sleep_ms(10);
            continue;
        }
        int rc = send(fd, req, strlen(req), MSG_NOSIGNAL) == (ssize_t)strlen(req)
                     ? read_checked(fd, mid, replica, &why)
                     : -1;
        if (rc == 1) {
            st->ok++;
            if (strcmp(replica, "s1") == 0) {
                st->by_s1++;
                if (sh->term_at)
                    st->s1_after_term++;
            } else if (strcmp(replica, "s2") == 0) {
                st->by_s2++;
            }
        } else {
            note_fail(st, path, rc == 0 ? "closed before a response" : why);
        }
        if (!keep_alive || rc != 1) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close(fd);
}

/* Bounded: until HAProxy answers and both replicas have answered. */
static bool
wait_both_up(int port)
{
    bool s1 = false, s2 = false;

    for (int64_t end = it_now_ms() + 10000; !(s1 && s2) && it_now_ms() < end;) {
        int fd = connect_to(port);
        char replica[8] = "";
        const char *why;
        if (fd >= 0) {
            static const char req[] = "GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
            if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)sizeof(req) - 1 &&
                read_checked(fd, false, replica, &why) == 1) {
                s1 = s1 || strcmp(replica, "s1") == 0;
                s2 = s2 || strcmp(replica, "s2") == 0;
            }
            close(fd);
        }
        if (!(s1 && s2))
            it_sleep_ms(50);
    }
    return s1 && s2;
}

START_TEST(t_stop_one_replica_under_load)
{
    struct it_server s1, s2;
    struct haproxy h;
    pid_t pids[CLIENTS];
    struct shared *sh =
        mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    struct stats sum = {0};
    long ka = 0, nc = 0;
    static char csv[1 << 16];

    ck_assert(sh != MAP_FAILED);
    memset(sh, 0, sizeof(*sh));
    start_replica(&s1, "s1");
    start_replica(&s2, "s2");
    haproxy_start(&h, s1.port, s2.port);
    if (!wait_both_up(h.port)) {
        haproxy_stop(&h);
        ck_abort_msg("HAProxy did not serve from both replicas within 10 s; its output:\n%s",
                     read_file(h.log));
    }

    int64_t t0 = it_now_ms(), until = t0 + LOAD_MS;
    for (int i = 0; i < CLIENTS; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            load_client(h.port, until, i % 2 == 0, sh, &sh->st[i]);
            _exit(0);
        }
    }
    it_sleep_ms(TERM_AT_MS);
    sh->term_at = it_now_ms();
    it_server_term(&s1);
    it_server_stop(&s1); /* drains, then stops: exit 0, nothing but info lines */
    int64_t s1_gone = it_now_ms() - sh->term_at;

    for (int i = 0; i < CLIENTS; i++) {
        int status;
        bool done = false;
        for (int64_t end = until + 2 * IO_TIMEOUT_S * 1000; !done && it_now_ms() < end;) {
            done = waitpid(pids[i], &status, WNOHANG) == pids[i];
            if (!done)
                it_sleep_ms(20);
        }
        if (!done) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], &status, 0);
        }
        ck_assert_msg(done && WIFEXITED(status) && WEXITSTATUS(status) == 0, "client %d", i);
        struct stats *st = &sh->st[i];
        sum.ok += st->ok;
        sum.failed += st->failed;
        sum.by_s1 += st->by_s1;
        sum.by_s2 += st->by_s2;
        sum.s1_after_term += st->s1_after_term;
        if (i % 2 == 0)
            ka += st->ok;
        else
            nc += st->ok;
    }
    bool have_stats = haproxy_cmd(&h, "show stat\n", csv, sizeof(csv));
    long retr = have_stats ? stat_value(csv, "\nbe,BACKEND,", "wretr") : -1;
    long redis = have_stats ? stat_value(csv, "\nbe,BACKEND,", "wredis") : -1;
    long h5xx = have_stats ? stat_value(csv, "\nfe,FRONTEND,", "hrsp_5xx") : -1;
    haproxy_stop(&h);
    const char *hlog = read_file(h.log);
    fprintf(stderr,
            "it_haproxy: %ld requests through HAProxy (%ld keep-alive, %ld new-connection), "
            "%ld failed; s1 %ld (%ld after its SIGTERM), s2 %ld; s1 exited %lld ms after "
            "SIGTERM (drain_delay %d ms); HAProxy: %ld retries, %ld redispatches, %ld 5xx\n",
            sum.ok + sum.failed, ka, nc, sum.failed, sum.by_s1, sum.s1_after_term, sum.by_s2,
            (long long)s1_gone, DRAIN_MS, retr, redis, h5xx);
    for (int i = 0; i < CLIENTS; i++)
        ck_assert_msg(sh->st[i].failed == 0, "client %d: %ld failed, first: %s", i,
                      sh->st[i].failed, sh->st[i].first_failure);
    ck_assert_int_gt(ka, 0);
    ck_assert_int_gt(nc, 0);
    ck_assert_int_gt(sum.by_s1, 0);
    ck_assert_int_gt(sum.by_s2, 0);
    ck_assert_int_eq(sum.by_s1 + sum.by_s2, sum.ok);
    ck_assert_int_eq(h5xx, 0);
    /* and HAProxy never had to fall back on its retries: no request met a
     * replica that was no longer accepting */
    ck_assert_int_eq(retr, 0);
    ck_assert_int_eq(redis, 0);
    /* taken out by the health check's 503 while it still accepted, not
     * by a refused connection */
    ck_assert_msg(strstr(hlog, "Server be/s1 is DOWN, reason: Layer7 wrong status, code: 503") !=
                      NULL,
                  "HAProxy did not see s1's health path fail; its output:\n%s", hlog);
    ck_assert_msg(strstr(hlog, "Server be/s2 is DOWN") == NULL, "s2 went down:\n%s", hlog);
    munmap(sh, sizeof(*sh));
    it_server_stop(&s2);
}
END_TEST

static Suite *
haproxy_suite(void)
{
    Suite *s = suite_create("it_haproxy");
    TCase *tc = tcase_create("haproxy");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, t_stop_one_replica_under_load);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return it_main(haproxy_suite());
}
