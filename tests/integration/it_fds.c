/*
 * it_fds.c - descriptors a server must not keep: whoever starts sfhttpd
 * may leave files open without close-on-exec (a shell's `exec 7>file`, a
 * careless supervisor); the server, and each worker under a master, must
 * not hold them, and every descriptor the server opens itself (logs,
 * sockets, cached files, inotify, signalfd, epoll) is close-on-exec.
 * systemd's sockets (LISTEN_FDS from fd 3) are kept and served.
 * Checked from the outside, in /proc/PID/fd and /proc/PID/fdinfo.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_marker[PATH_MAX]; /* the file the stray descriptors name */

static void
setup(void)
{
    it_suite_tree();
    it_put(it_suite.root, "a.txt", "alpha\n");
    /* above small_file_size: the cache keeps a descriptor for it */
    it_put_pattern(it_suite.root, "big.bin", 256 << 10, 3);
    it_join(g_marker, sizeof(g_marker), it_suite.base, "stray-marker");
    it_write_str(g_marker, "inherited\n");
}

static void
teardown(void)
{
    it_rmtree(it_suite.base);
}

/* What the descriptors of pid tell: how many point at the marker file,
 * and the ones above 2 without close-on-exec (listed into bad). The
 * descriptors in keep[] (nkeep) must be there, open. Returns the number
 * of open descriptors. */
static int
inspect(pid_t pid, int *stray, char *bad, size_t cap, const int *keep, int nkeep)
{
    char dir[64];
    int n = 0, found_keep = 0;
    size_t used = 0;
    snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
    DIR *d = opendir(dir);
    struct dirent *e;
    ck_assert_msg(d != NULL, "%s: %s", dir, strerror(errno));
    *stray = 0;
    bad[0] = '\0';
    while ((e = readdir(d)) != NULL) {
        char p[400], target[PATH_MAX], info[512];
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        int fd = atoi(e->d_name);
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        ssize_t k = readlink(p, target, sizeof(target) - 1);
        if (k < 0)
            continue; /* closed while we looked (opendir's own, for one) */
        target[k] = '\0';
        n++;
        *stray += strcmp(target, g_marker) == 0;
        for (int i = 0; i < nkeep; i++)
            found_keep += keep[i] == fd;
        if (fd <= 2)
            continue;
        snprintf(p, sizeof(p), "/proc/%ld/fdinfo/%d", (long)pid, fd);
        int f = open(p, O_RDONLY | O_CLOEXEC);
        if (f < 0)
            continue;
        ssize_t m = read(f, info, sizeof(info) - 1);
        close(f);
        if (m <= 0)
            continue;
        info[m] = '\0';
        const char *fl = strstr(info, "flags:");
        unsigned long flags = fl ? strtoul(fl + 6, NULL, 8) : 0;
        if (!(flags & O_CLOEXEC) && used + 200 < cap)
            used += (size_t)snprintf(bad + used, cap - used, " %d -> %s (flags 0%lo)", fd, target,
                                     flags);
    }
    closedir(d);
    ck_assert_msg(found_keep == nkeep, "pid %ld: %d of the %d kept descriptors are open", (long)pid,
                  found_keep, nkeep);
    return n;
}

static void
assert_clean(pid_t pid, const char *who, const int *keep, int nkeep)
{
    int stray;
    char bad[2048];
    int n = inspect(pid, &stray, bad, sizeof(bad), keep, nkeep);
    ck_assert_msg(n >= 3, "%s (pid %ld): only %d descriptors?", who, (long)pid, n);
    ck_assert_msg(stray == 0, "%s (pid %ld) still holds %d inherited descriptor(s) of %s", who,
                  (long)pid, stray, g_marker);
    ck_assert_msg(bad[0] == '\0', "%s (pid %ld): not close-on-exec:%s", who, (long)pid, bad);
}

/* Busy enough that every kind of descriptor exists: a kept-alive
 * connection (an accepted socket), a file in the cache, its folder
 * watched. The connection stays open for the look. */
static void
make_busy(int port, struct it_conn *c)
{
    struct it_response r;
    it_conn_open(c, port);
    for (int i = 0; i < 2; i++) {
        it_conn_send_str(c, "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n");
        ck_assert_int_eq(it_read_response(c, &r, false), IT_OK);
        ck_assert_int_eq(r.status, 200);
        ck_assert(r.complete);
        it_response_free(&r);
    }
}

/* The wrapper that leaves fds 7 (append) and 8 (read) on the marker, not
 * close-on-exec, then execs what follows it. */
static void
stray_script(char *out, size_t cap, const char *before_exec)
{
    int n = snprintf(out, cap, "exec 7>>'%s' 8<'%s'; %s exec \"$0\" \"$@\"", g_marker, g_marker,
                     before_exec);
    ck_assert(n > 0 && (size_t)n < cap);
}

/* The wrapper does what it says: what it execs finds fd 7 and 8 open on
 * the marker (so the tests below would see them, had the server kept
 * them). */
START_TEST(t_wrapper_passes_fds)
{
    char script[2 * PATH_MAX], out[PATH_MAX];
    stray_script(script, sizeof(script), "");
    it_join(out, sizeof(out), it_suite.base, "readlink.out");
    const char *argv[] = {"sh", "-c", script, "readlink", "/proc/self/fd/7", "/proc/self/fd/8",
                          NULL};
    ck_assert_int_eq(it_run(argv, 20, out), 0);
    char buf[3 * PATH_MAX] = "";
    FILE *f = fopen(out, "re");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char want[2 * PATH_MAX + 4];
    snprintf(want, sizeof(want), "%s\n%s\n", g_marker, g_marker);
    ck_assert_str_eq(buf, want);
}
END_TEST

/* One process (quick mode, one worker): nothing inherited stays. */
START_TEST(t_single_process)
{
    struct it_server s;
    struct it_conn c;
    char script[2 * PATH_MAX];
    stray_script(script, sizeof(script), "");
    const char *wrapper[] = {"sh", "-c", script, NULL};
    const char *argv[] = {"-l", "127.0.0.1:0", "--access-log", "off", it_suite.root, NULL};
    it_server_start_wrapped(&s, wrapper, argv);
    make_busy(s.port, &c);
    assert_clean(s.pid, "the server", NULL, 0);
    it_conn_close(&c);
    it_server_stop(&s);
}
END_TEST

/* A master and two workers, with a file access log: neither the master
 * nor a worker holds what was inherited. */
START_TEST(t_master_and_workers)
{
    struct it_server s;
    struct it_conn c[4];
    char script[2 * PATH_MAX], log[PATH_MAX];
    pid_t w[8];
    stray_script(script, sizeof(script), "");
    it_join(log, sizeof(log), it_suite.base, "access.log");
    const char *wrapper[] = {"sh", "-c", script, NULL};
    const char *argv[] = {"-w", "2", "-l", "127.0.0.1:0", "--access-log", log, it_suite.root, NULL};
    it_server_start_wrapped(&s, wrapper, argv);
    ck_assert_int_eq(it_wait_children(s.pid, w, 8, 2, 10000), 2);
    for (int i = 0; i < 4; i++)
        make_busy(s.port, &c[i]);
    assert_clean(s.pid, "the master", NULL, 0);
    assert_clean(w[0], "worker 1", NULL, 0);
    assert_clean(w[1], "worker 2", NULL, 0);
    for (int i = 0; i < 4; i++)
        it_conn_close(&c[i]);
    it_server_stop(&s);
}
END_TEST

/* systemd's socket at fd 3 stays (and serves); the strays beside it go. */
START_TEST(t_socket_activation)
{
    struct it_server s;
    struct it_conn c;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    char script[3 * PATH_MAX], pass[128];
    pid_t w[8];
    int fd = socket(AF_INET, SOCK_STREAM, 0); /* inherited on purpose */
    ck_assert_int_ge(fd, 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(fd, 64), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    snprintf(pass, sizeof(pass), "exec 3<&%d %d<&-; LISTEN_PID=$$ LISTEN_FDS=1", fd, fd);
    stray_script(script, sizeof(script), pass);
    const char *wrapper[] = {"sh", "-c", script, NULL};
    const char *argv[] = {"-w", "2", "--access-log", "off", it_suite.root, NULL};
    it_server_start_wrapped(&s, wrapper, argv);
    close(fd);
    ck_assert_int_eq(s.port, ntohs(sa.sin_port));
    ck_assert_int_eq(it_wait_children(s.pid, w, 8, 2, 10000), 2);
    make_busy(s.port, &c);
    /* the master keeps fd 3, the socket it was given */
    static const int keep[] = {3};
    char target[64] = "", p[64];
    snprintf(p, sizeof(p), "/proc/%ld/fd/3", (long)s.pid);
    ssize_t k = readlink(p, target, sizeof(target) - 1);
    ck_assert_int_gt(k, 0);
    target[k] = '\0';
    ck_assert_msg(strncmp(target, "socket:[", 8) == 0, "fd 3 of the master is %s", target);
    assert_clean(s.pid, "the master", keep, 1);
    assert_clean(w[0], "worker 1", NULL, 0);
    assert_clean(w[1], "worker 2", NULL, 0);
    it_conn_close(&c);
    it_server_stop(&s);
}
END_TEST

static Suite *
fds_suite(void)
{
    Suite *s = suite_create("fds");
    TCase *tc = tcase_create("inherited");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, t_wrapper_passes_fds);
    tcase_add_test(tc, t_single_process);
    tcase_add_test(tc, t_master_and_workers);
    tcase_add_test(tc, t_socket_activation);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return it_main(fds_suite());
}
