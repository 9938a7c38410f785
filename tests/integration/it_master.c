/*
 * it_master.c - the master and its workers, end to end: worker processes
 * and their restart, reloads under load (zero failed requests, the new
 * config visible), a bad config on reload, graceful stop with a slow
 * download, log reopen, pid_file, systemd socket activation, a Unix
 * socket listener and the privilege drop (as root: uid nobody, only
 * CAP_LEASE, leases still taken).
 *
 * Every wait is bounded, and only PIDs this test started are signalled:
 * the server's (the master) directly; a worker only after checking that
 * the master is its parent.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG_SIZE (8u << 20)
#define LEASE_SIZE (64u << 10)

static char g_conf[PATH_MAX];

static void
tree_up(void)
{
    it_suite_tree();
    it_put(it_suite.root, "a.txt", "alpha\n");
    it_put_pattern(it_suite.root, "big.bin", BIG_SIZE, 7);
    it_put_pattern(it_suite.root, "lease.bin", LEASE_SIZE, 8);
    it_join(g_conf, sizeof(g_conf), it_suite.base, "master.conf");
}

/* A config with `workers` workers; server_extra and site_extra are
 * appended to [server] and [site]. As root, user defaults to root. */
static void
write_conf(int workers, const char *server_extra, const char *site_extra)
{
    char text[4 * PATH_MAX];
    bool user_given = strstr(server_extra, "user =") != NULL;

    snprintf(text, sizeof(text),
             "[server]\nlisten = 127.0.0.1:0\naccess_log = off\nworkers = %d\n"
             "shutdown_timeout = 10\n%s%s\n[site]\nroot = %s\n%s",
             workers, getuid() == 0 && !user_given ? "user = root\n" : "", server_extra,
             it_suite.root, site_extra);
    it_write_str(g_conf, text);
}

static void
start_conf(struct it_server *s, int workers, const char *server_extra, const char *site_extra)
{
    write_conf(workers, server_extra, site_extra);
    it_server_start_conf(s, g_conf);
}

/* ---- processes ------------------------------------------------------- */

/* A line of /proc/pid/status ("Uid:", "CapEff:"), value into out. */
static bool
proc_status(pid_t pid, const char *key, char *out, size_t cap)
{
    char path[64], line[256];
    bool found = false;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
    f = fopen(path, "re");
    if (f == NULL)
        return false;
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, key, strlen(key)) == 0) {
            snprintf(out, cap, "%s", line + strlen(key) + strspn(line + strlen(key), " \t"));
            out[strcspn(out, "\n")] = '\0';
            found = true;
        }
    }
    fclose(f);
    return found;
}

/* Wait (bounded) until the server's output contains needle. */
static bool
wait_log(const struct it_server *s, const char *needle, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    char *buf = malloc(1 << 20);
    bool found = false;

    ck_assert_ptr_nonnull(buf);
    while (!found) {
        it_server_log(s, buf, 1 << 20);
        found = strstr(buf, needle) != NULL;
        if (found || it_now_ms() > deadline)
            break;
        it_sleep_ms(20);
    }
    free(buf);
    return found;
}

static int
count_in_log(const struct it_server *s, const char *needle)
{
    char *buf = malloc(1 << 20);
    int n = 0;

    ck_assert_ptr_nonnull(buf);
    it_server_log(s, buf, 1 << 20);
    for (const char *p = buf; (p = strstr(p, needle)) != NULL; p++)
        n++;
    free(buf);
    return n;
}

static void
expect_body(int port, const char *path, const char *body)
{
    struct it_response r;

    it_get(port, path, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, body);
    it_response_free(&r);
}

/* ---- workers --------------------------------------------------------- */

START_TEST(t_two_workers)
{
    struct it_server s;
    pid_t kids[64];

    start_conf(&s, 2, "", "");
    ck_assert_int_eq(it_wait_children(s.pid, kids, 64, 2, 5000), 2);
    for (int i = 0; i < 6; i++)
        expect_body(s.port, "/a.txt", "alpha\n");
    it_server_stop(&s);
}
END_TEST

START_TEST(t_killed_worker_restarts)
{
    struct it_server s;
    pid_t kids[64], now[64];
    bool replaced = false;

    start_conf(&s, 2, "", "");
    it_server_expect(&s, "killed by signal 9");
    ck_assert_int_eq(it_wait_children(s.pid, kids, 64, 2, 5000), 2);
    /* kids[0] is a child of our server: ours to kill */
    ck_assert_int_eq(kill(kids[0], SIGKILL), 0);
    for (int64_t end = it_now_ms() + 5000; !replaced && it_now_ms() < end;) {
        int n = it_children_of(s.pid, now, 64);
        bool gone = true;
        for (int i = 0; i < n; i++)
            gone = gone && now[i] != kids[0];
        replaced = n == 2 && gone;
        if (!replaced)
            it_sleep_ms(20);
    }
    ck_assert_msg(replaced, "the killed worker was not replaced within 5 s");
    ck_assert(wait_log(&s, "restarting it", 2000));
    for (int i = 0; i < 6; i++)
        expect_body(s.port, "/a.txt", "alpha\n");
    it_server_stop(&s);
}
END_TEST

/* ---- reload under load ------------------------------------------------- */

struct load_stats {
    long requests, failures, retries;
    char first_failure[160];
};

/* Read one response to GET /a.txt: 1 complete and right, 0 closed before
 * any byte (an idle keep-alive connection the server closed: a client
 * retries that on a new connection), -1 anything else. */
static int
read_one(int fd)
{
    char buf[4096];
    size_t len = 0;

    for (;;) {
        ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
        if (n <= 0)
            return len == 0 ? 0 : -1;
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end == NULL)
            continue;
        const char *cl = strstr(buf, "Content-Length: ");
        if (strncmp(buf, "HTTP/1.1 200 ", 13) != 0 || cl == NULL)
            return -1;
        size_t want = (size_t)atol(cl + 16), have = len - (size_t)(end + 4 - buf);
        if (have == want)
            return strcmp(end + 4, "alpha\n") == 0 ? 1 : -1;
        if (have > want)
            return -1;
    }
}

static int
connect_port(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {5, 0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void
note_failure(struct load_stats *st, const char *what)
{
    if (st->failures++ == 0)
        snprintf(st->first_failure, sizeof(st->first_failure), "%s (%s)", what, strerror(errno));
}

/* A client: keep-alive GETs until the deadline; a request that meets a
 * closed idle connection is retried once on a new connection. */
static void
load_client(int port, int64_t until, struct load_stats *st)
{
    static const char req[] = "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n";
    int fd = -1;

    while (it_now_ms() < until) {
        bool fresh = fd < 0;
        if (fd < 0 && (fd = connect_port(port)) < 0) {
            note_failure(st, "connect");
            it_sleep_ms(10);
            continue;
        }
        int rc = send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)sizeof(req) - 1
                     ? read_one(fd)
                     : 0;
        if (rc == 1) {
            st->requests++;
            continue;
        }
        close(fd);
        fd = -1;
        if (rc == 0 && !fresh) {
            st->retries++;
            continue;
        }
        note_failure(st, rc == 0 ? "closed before a response on a new connection" : "bad response");
    }
    if (fd >= 0)
        close(fd);
}

static const char *
cache_control(int port)
{
    static char value[128];
    struct it_response r;
    const char *v;

    it_get(port, "/a.txt", &r);
    ck_assert_int_eq(r.status, 200);
    v = it_header(&r, "Cache-Control");
    snprintf(value, sizeof(value), "%s", v ? v : "");
    it_response_free(&r);
    return value;
}

START_TEST(t_reload_under_load)
{
    enum { CLIENTS = 4, RELOADS = 3 };
    struct it_server s;
    struct load_stats *st = mmap(NULL, CLIENTS * sizeof(*st), PROT_READ | PROT_WRITE,
                                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t pids[CLIENTS];
    int64_t until;
    long total = 0, failed = 0, retried = 0;

    ck_assert(st != MAP_FAILED);
    memset(st, 0, CLIENTS * sizeof(*st));
    start_conf(&s, 2, "", "cache_control = max-age=0\n");
    ck_assert_str_eq(cache_control(s.port), "max-age=0");
    until = it_now_ms() + 3500;
    for (int i = 0; i < CLIENTS; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            load_client(s.port, until, &st[i]);
            _exit(0);
        }
    }
    for (int k = 1; k <= RELOADS; k++) {
        char extra[64], want[32];
        it_sleep_ms(700);
        snprintf(want, sizeof(want), "max-age=%d", k);
        snprintf(extra, sizeof(extra), "cache_control = %s\n", want);
        write_conf(2, "", extra);
        ck_assert_int_eq(kill(s.pid, SIGHUP), 0);
        /* the new workers answer with the new value (bounded) */
        bool seen = false;
        for (int64_t end = it_now_ms() + 5000; !seen && it_now_ms() < end;) {
            seen = strcmp(cache_control(s.port), want) == 0;
            if (!seen)
                it_sleep_ms(20);
        }
        ck_assert_msg(seen, "reload %d: Cache-Control not updated within 5 s", k);
    }
    for (int i = 0; i < CLIENTS; i++) {
        int status;
        bool done = false;
        for (int64_t end = it_now_ms() + 15000; !done && it_now_ms() < end;) {
            done = waitpid(pids[i], &status, WNOHANG) == pids[i];
            if (!done)
                it_sleep_ms(20);
        }
        if (!done) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], &status, 0);
        }
        ck_assert_msg(done && WIFEXITED(status) && WEXITSTATUS(status) == 0, "client %d", i);
        total += st[i].requests;
        failed += st[i].failures;
        retried += st[i].retries;
    }
    fprintf(stderr,
            "it_master: reload under load: %ld requests, %ld failed, %ld retried on a "
            "closed idle keep-alive connection\n",
            total, failed, retried);
    for (int i = 0; i < CLIENTS; i++)
        ck_assert_msg(st[i].failures == 0, "client %d: %ld failures, first: %s", i, st[i].failures,
                      st[i].first_failure);
    ck_assert_int_gt(total, 0);
    ck_assert_int_eq(count_in_log(&s, "configuration reloaded"), RELOADS);
    ck_assert_str_eq(cache_control(s.port), "max-age=3");
    munmap(st, CLIENTS * sizeof(*st));
    it_server_stop(&s);
}
END_TEST

START_TEST(t_reload_bad_config_keeps_old)
{
    struct it_server s;
    pid_t before[64], after[64];

    start_conf(&s, 2, "", "cache_control = max-age=5\n");
    it_server_expect(&s, "reload");
    ck_assert_int_eq(it_wait_children(s.pid, before, 64, 2, 5000), 2);
    it_write_str(g_conf, "[server]\nlisten = 127.0.0.1:0\nbogus_key = 1\n");
    ck_assert_int_eq(kill(s.pid, SIGHUP), 0);
    ck_assert(wait_log(&s, "reload failed: still running the old configuration", 5000));
    ck_assert(wait_log(&s, "unknown key 'bogus_key'", 100));
    ck_assert_int_eq(it_children_of(s.pid, after, 64), 2);
    ck_assert(after[0] == before[0] || after[0] == before[1]);
    ck_assert_str_eq(cache_control(s.port), "max-age=5");
    it_server_stop(&s);
}
END_TEST

/* ---- stop ------------------------------------------------------------- */

START_TEST(t_graceful_stop_finishes_download)
{
    struct it_server s;
    struct it_conn c;
    struct it_response r;
    char sha[65];
    int fd = -1;

    start_conf(&s, 2, "", "");
    it_conn_open_opts(&c, s.port, 4096, 10000);
    it_conn_send_str(&c, "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n");
    ck_assert_int_eq(it_read_head(&c, &r, false), IT_OK);
    ck_assert_int_eq(it_read_body(&c, &r, 65536), IT_OK);
    it_server_term(&s);
    for (int i = 0; i < 100; i++) {
        fd = it_try_connect(s.port);
        if (fd < 0)
            break;
        close(fd);
        it_sleep_ms(20);
    }
    ck_assert_msg(fd < 0, "still accepting 2 s after SIGTERM");
    it_server_assert_alive(&s);
    ck_assert_int_eq(it_read_body(&c, &r, UINT64_MAX), IT_OK);
    ck_assert(r.complete);
    it_pattern_sha256(BIG_SIZE, 7, sha);
    ck_assert_str_eq(r.sha256, sha);
    it_response_free(&r);
    it_conn_close(&c);
    it_server_stop(&s);
}
END_TEST

/* SIGQUIT: stop at once; a download in progress is cut, not finished. */
START_TEST(t_sigquit_stops_now)
{
    struct it_server s;
    struct it_conn c;
    struct it_response r;

    start_conf(&s, 2, "", "");
    it_conn_open_opts(&c, s.port, 4096, 10000);
    it_conn_send_str(&c, "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n");
    ck_assert_int_eq(it_read_head(&c, &r, false), IT_OK);
    ck_assert_int_eq(it_read_body(&c, &r, 65536), IT_OK);
    ck_assert_int_eq(kill(s.pid, SIGQUIT), 0);
    /* the slow reader had most of the file still to come */
    ck_assert_int_ne(it_read_body(&c, &r, UINT64_MAX), IT_OK);
    ck_assert(!r.complete);
    ck_assert_uint_lt(r.body_len, BIG_SIZE);
    it_response_free(&r);
    it_conn_close(&c);
    it_server_stop(&s); /* reaps it: exit status 0 */
}
END_TEST

/* An IPv6 listener beside an IPv4 one (skipped where ::1 is missing). */
START_TEST(t_ipv6_listener)
{
    struct it_server s;
    char *log = malloc(1 << 16);
    const char *at;
    int port6 = 0, fd;

    fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in6 probe = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    if (fd < 0 || bind(fd, (struct sockaddr *)&probe, sizeof(probe)) != 0) {
        fprintf(stderr, "it_master: no ::1 here, IPv6 listener test skipped\n");
        if (fd >= 0)
            close(fd);
        free(log);
        return;
    }
    close(fd);
    start_conf(&s, 2, "listen = [::1]:0\n", "");
    ck_assert_ptr_nonnull(log);
    ck_assert(wait_log(&s, "listening on http://[::1]:", 5000));
    it_server_log(&s, log, 1 << 16);
    at = strstr(log, "listening on http://[::1]:");
    ck_assert_ptr_nonnull(at);
    port6 = atoi(at + strlen("listening on http://[::1]:"));
    ck_assert_int_gt(port6, 0);

    struct sockaddr_in6 sa = {.sin6_family = AF_INET6,
                              .sin6_port = htons((uint16_t)port6),
                              .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    struct timeval tv = {5, 0};
    char buf[4096];
    size_t got = 0;
    static const char req[] = "GET /a.txt HTTP/1.1\r\nHost: [::1]\r\nConnection: close\r\n\r\n";
    fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req) - 1);
    for (ssize_t n;
         got < sizeof(buf) - 1 && (n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0;)
        got += (size_t)n;
    buf[got] = '\0';
    close(fd);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 200 ", 13) == 0, "over IPv6: %.80s", buf);
    ck_assert_ptr_nonnull(strstr(buf, "\r\n\r\nalpha\n"));
    free(log);
    it_server_stop(&s);
}
END_TEST

/* ---- logs, pid file ----------------------------------------------------- */

static bool
wait_file_has(const char *path, const char *needle, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    char buf[8192];

    for (;;) {
        FILE *f = fopen(path, "re");
        size_t n = 0;
        if (f != NULL) {
            n = fread(buf, 1, sizeof(buf) - 1, f);
            fclose(f);
        }
        buf[n] = '\0';
        if (strstr(buf, needle) != NULL)
            return true;
        if (it_now_ms() > deadline)
            return false;
        it_sleep_ms(50);
    }
}

START_TEST(t_usr1_reopens_logs)
{
    struct it_server s;
    char log[PATH_MAX], moved[PATH_MAX], extra[2 * PATH_MAX];

    it_join(log, sizeof(log), it_suite.base, "access.log");
    it_join(moved, sizeof(moved), it_suite.base, "access.log.1");
    snprintf(extra, sizeof(extra), "access_log = %s\n", log);
    /* access_log is given twice otherwise: drop the default line */
    write_conf(2, extra, "");
    {
        char text[4 * PATH_MAX];
        FILE *f = fopen(g_conf, "re");
        size_t n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
        text[n] = '\0';
        char *off = strstr(text, "access_log = off\n");
        memmove(off, off + 17, strlen(off + 17) + 1);
        it_write_str(g_conf, text);
    }
    it_server_start_conf(&s, g_conf);
    expect_body(s.port, "/a.txt?first", "alpha\n");
    ck_assert_msg(wait_file_has(log, "/a.txt?first", 5000), "no access line within 5 s");
    ck_assert_int_eq(rename(log, moved), 0);
    ck_assert_int_eq(kill(s.pid, SIGUSR1), 0);
    ck_assert(wait_log(&s, "log files reopened", 5000));
    /* every worker reopens; give both a moment before the next request */
    for (int64_t end = it_now_ms() + 5000;
         count_in_log(&s, "log files reopened") < 3 && it_now_ms() < end;)
        it_sleep_ms(20);
    expect_body(s.port, "/a.txt?second", "alpha\n");
    ck_assert_msg(wait_file_has(log, "/a.txt?second", 5000), "new access.log not written");
    ck_assert(!wait_file_has(moved, "/a.txt?second", 0));
    it_server_stop(&s);
}
END_TEST

/* The pid file holds the pid signals go to, and is gone once the server
 * has stopped, in one process (workers = 0) and under a master (2). As
 * root the processes serve as nobody, who may not remove a file from the
 * suite's folder (root's, 0755): the single process then leaves the
 * removal to a child that stays root, and waits for it, so neither the
 * file nor a process outlives the stop. */
START_TEST(t_pid_file)
{
    static const int workers[] = {0, 2};
    struct it_server s;
    char path[PATH_MAX], extra[2 * PATH_MAX], buf[64] = "";
    pid_t kids[64];
    struct stat st;
    FILE *f;

    it_join(path, sizeof(path), it_suite.base, "sfhttpd.pid");
    snprintf(extra, sizeof(extra), "pid_file = %s\n%s", path,
             getuid() == 0 ? "user = nobody\n" : "");
    start_conf(&s, workers[_i], extra, "");
    /* written right after the listening line: wait for it (bounded) */
    for (int64_t end = it_now_ms() + 5000; it_now_ms() < end; it_sleep_ms(10)) {
        f = fopen(path, "re");
        if (f == NULL)
            continue;
        bool got = fgets(buf, sizeof(buf), f) != NULL;
        fclose(f);
        if (got)
            break;
    }
    ck_assert_int_eq(atol(buf), (long)s.pid);
    expect_body(s.port, "/a.txt", "alpha\n");
    int n = it_children_of(s.pid, kids, 64);
    if (workers[_i] == 0 && getuid() == 0) {
        /* the keeper: root, but with two capabilities and one pipe */
        char v[128] = "", b[128] = "", fds[64];
        ck_assert_int_eq(n, 1);
        /* it sheds them right after the fork: wait for it (bounded) */
        for (int64_t end = it_now_ms() + 5000; it_now_ms() < end; it_sleep_ms(10))
            if (proc_status(kids[0], "CapEff:", v, sizeof(v)) &&
                proc_status(kids[0], "CapBnd:", b, sizeof(b)) &&
                strcmp(v, "000000000000000a") == 0 && strcmp(b, "0000000000000000") == 0)
                break;
        ck_assert_msg(strcmp(v, "000000000000000a") == 0, "keeper CapEff: %s", v);
        ck_assert_msg(strcmp(b, "0000000000000000") == 0, "keeper CapBnd: %s", b);
        ck_assert(proc_status(kids[0], "Uid:", v, sizeof(v)));
        ck_assert_msg(strcmp(v, "0\t0\t0\t0") == 0, "keeper Uid: %s", v);
        snprintf(fds, sizeof(fds), "/proc/%ld/fd", (long)kids[0]);
        DIR *dir = opendir(fds);
        int open_fds = 0;
        ck_assert_ptr_nonnull(dir);
        for (struct dirent *de; (de = readdir(dir)) != NULL;)
            open_fds += de->d_name[0] != '.';
        closedir(dir);
        ck_assert_int_eq(open_fds, 1);
        ck_assert(proc_status(s.pid, "Uid:", v, sizeof(v)));
        ck_assert_msg(strcmp(v, "65534\t65534\t65534\t65534") == 0, "server Uid: %s", v);
    }
    it_server_stop(&s);
    ck_assert_msg(stat(path, &st) != 0, "workers = %d: the pid file is left after the stop",
                  workers[_i]);
    for (int i = 0; i < n; i++)
        ck_assert_msg(kill(kids[i], 0) != 0, "child %ld outlives the server", (long)kids[i]);
}
END_TEST

/* --daemon: the command returns at once, a detached master (parent 1,
 * its own session) serves, writes its pid file and removes it on SIGTERM. */
START_TEST(t_daemon)
{
    char pidf[PATH_MAX], errf[PATH_MAX], extra[3 * PATH_MAX], buf[64] = "";
    struct stat st;
    long pid = 0;
    int port = 0;

    it_join(pidf, sizeof(pidf), it_suite.base, "daemon.pid");
    it_join(errf, sizeof(errf), it_suite.base, "daemon.log");
    /* a daemon's output goes nowhere we read: pick a free port up front */
    {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(sa);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
        port = ntohs(sa.sin_port);
        close(fd);
    }
    snprintf(extra, sizeof(extra), "pid_file = %s\nerror_log = %s\n", pidf, errf);
    write_conf(1, extra, "");
    {
        /* the listen line of write_conf is port 0: name ours instead */
        char text[4 * PATH_MAX], line[64];
        FILE *f = fopen(g_conf, "re");
        size_t n;
        ck_assert_ptr_nonnull(f);
        n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
        text[n] = '\0';
        char *at = strstr(text, "listen = 127.0.0.1:0\n");
        ck_assert_ptr_nonnull(at);
        snprintf(line, sizeof(line), "listen = 127.0.0.1:%d\n", port);
        char out[4 * PATH_MAX];
        snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - text), text, line,
                 at + strlen("listen = 127.0.0.1:0\n"));
        it_write_str(g_conf, out);
    }
    const char *argv[] = {SFHTTPD_BIN, "--daemon", "-c", g_conf, NULL};
    ck_assert_int_eq(it_run(argv, 10, NULL), 0);
    for (int64_t end = it_now_ms() + 5000; it_now_ms() < end && pid == 0; it_sleep_ms(10)) {
        FILE *f = fopen(pidf, "re");
        if (f != NULL) {
            if (fgets(buf, sizeof(buf), f) != NULL)
                pid = atol(buf);
            fclose(f);
        }
    }
    ck_assert_int_gt(pid, 1);
    /* detached: not our child */
    ck_assert_int_eq(waitpid((pid_t)pid, NULL, WNOHANG), -1);
    expect_body(port, "/a.txt", "alpha\n");
    ck_assert_int_eq(kill((pid_t)pid, SIGTERM), 0);
    bool gone = false;
    for (int64_t end = it_now_ms() + 10000; it_now_ms() < end && !gone; it_sleep_ms(20))
        gone = kill((pid_t)pid, 0) != 0 && stat(pidf, &st) != 0;
    if (!gone)
        kill((pid_t)pid, SIGKILL);
    ck_assert_msg(gone, "daemon still running or pid file left 10 s after SIGTERM");
}
END_TEST

/* ---- listeners ---------------------------------------------------------- */

START_TEST(t_socket_activation)
{
    struct it_server s;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    char script[256];
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(fd, 64), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    /* the shell puts the socket on fd 3 and execs in place: LISTEN_PID is
     * the server's pid */
    snprintf(script, sizeof(script),
             "exec 3<&%d %d<&-; LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" \"$@\"", fd, fd);
    const char *wrapper[] = {"sh", "-c", script, NULL};
    const char *argv[] = {"-w", "2", "--access-log", "off", it_suite.root, NULL};
    it_server_start_wrapped(&s, wrapper, argv);
    close(fd);
    ck_assert_int_eq(s.port, ntohs(sa.sin_port));
    ck_assert(wait_log(&s, "(socket activation)", 100));
    for (int i = 0; i < 4; i++)
        expect_body(s.port, "/a.txt", "alpha\n");
    it_server_stop(&s);
}
END_TEST

START_TEST(t_unix_socket)
{
    struct it_server s;
    char path[PATH_MAX], spec[PATH_MAX + 8], buf[4096];
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct stat st;
    size_t len = 0;
    ssize_t n;
    int fd;

    it_join(path, sizeof(path), it_suite.base, "s.sock");
    snprintf(spec, sizeof(spec), "unix:%s", path);
    const char *argv[] = {"-w",           "2",   "-l",          "127.0.0.1:0", "-l", spec,
                          "--access-log", "off", it_suite.root, NULL};
    it_server_start(&s, argv);
    ck_assert(wait_log(&s, "listening on unix:", 1000));
    ck_assert_uint_lt(strlen(path), sizeof(sun.sun_path));
    memcpy(sun.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    {
        struct timeval tv = {5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    }
    static const char req[] = "GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    ck_assert_int_eq(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
    while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(fd);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 200 ", 13) == 0, "got: %s", buf);
    ck_assert_ptr_nonnull(strstr(buf, "\r\n\r\nalpha\n"));
    it_server_stop(&s);
    ck_assert_msg(stat(path, &st) != 0, "the socket file is still there after the stop");
}
END_TEST

/* ---- privileges ----------------------------------------------------------- */

START_TEST(t_privilege_drop)
{
    struct it_server s;
    struct it_conn c;
    struct it_response r;
    pid_t kids[64];
    char v[128], sha[65];

    if (getuid() != 0) {
        fprintf(stderr, "it_master: t_privilege_drop SKIPPED: not root\n");
        return;
    }
    start_conf(&s, 2, "user = nobody\n", "");
    ck_assert_int_eq(it_wait_children(s.pid, kids, 64, 2, 5000), 2);
    for (int i = 0; i < 2; i++) {
        /* a worker switches right after the fork: wait for it (bounded) */
        for (int64_t end = it_now_ms() + 5000; it_now_ms() < end; it_sleep_ms(10)) {
            ck_assert(proc_status(kids[i], "Uid:", v, sizeof(v)));
            if (strncmp(v, "0\t", 2) != 0)
                break;
        }
        ck_assert(proc_status(kids[i], "Uid:", v, sizeof(v)));
        ck_assert_msg(strcmp(v, "65534\t65534\t65534\t65534") == 0, "worker Uid: %s", v);
        ck_assert(proc_status(kids[i], "Gid:", v, sizeof(v)));
        ck_assert_msg(strcmp(v, "65534\t65534\t65534\t65534") == 0, "worker Gid: %s", v);
        ck_assert(proc_status(kids[i], "CapEff:", v, sizeof(v)));
        ck_assert_msg(strcmp(v, "0000000010000000") == 0, "worker CapEff: %s", v);
        ck_assert(proc_status(kids[i], "CapBnd:", v, sizeof(v)));
        ck_assert_msg(strcmp(v, "0000000000000000") == 0, "worker CapBnd: %s", v);
    }
    /* a root-owned file larger than small_file_size: sent under a lease */
    it_conn_open(&c, s.port);
    it_conn_send_str(&c, "GET /lease.bin HTTP/1.1\r\nHost: t\r\n\r\n");
    ck_assert_int_eq(it_read_response(&c, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 200);
    it_pattern_sha256(LEASE_SIZE, 8, sha);
    ck_assert_str_eq(r.sha256, sha);
    it_response_free(&r);
    it_conn_close(&c);
    /* no fallback: "guarded by stat only (no lease)" would be a warning,
     * which it_server_stop fails on as well */
    ck_assert_int_eq(count_in_log(&s, "guarded by stat only"), 0);
    it_server_term(&s);
    for (int64_t end = it_now_ms() + 10000;
         count_in_log(&s, "file cache:") < 2 && it_now_ms() < end;)
        it_sleep_ms(20);
    ck_assert_int_eq(count_in_log(&s, " 0 files guarded by stat"), 2);
    it_server_stop(&s);
}
END_TEST

static Suite *
master_suite(void)
{
    Suite *s = suite_create("it_master");
    TCase *tc = tcase_create("master");

    tcase_add_checked_fixture(tc, tree_up, it_suite_tree_down);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, t_two_workers);
    tcase_add_test(tc, t_killed_worker_restarts);
    tcase_add_test(tc, t_reload_under_load);
    tcase_add_test(tc, t_reload_bad_config_keeps_old);
    tcase_add_test(tc, t_graceful_stop_finishes_download);
    tcase_add_test(tc, t_sigquit_stops_now);
    tcase_add_test(tc, t_daemon);
    tcase_add_test(tc, t_ipv6_listener);
    tcase_add_test(tc, t_usr1_reopens_logs);
    tcase_add_loop_test(tc, t_pid_file, 0, 2);
    tcase_add_test(tc, t_socket_activation);
    tcase_add_test(tc, t_unix_socket);
    tcase_add_test(tc, t_privilege_drop);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return it_main(master_suite());
}
