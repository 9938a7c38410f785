/*
 * it_pace.c - the send budget follows the connection's congestion control
 * (conn_send_budget): a socket paced by BBR gets send_chunk_paced per
 * writable event, one under cubic gets send_chunk. Each test runs in a
 * network namespace of its own (a user namespace too when not root), where
 * net.ipv4.tcp_congestion_control is the namespace's: the machine's
 * setting is not touched. Seen from outside: /proc/PID/io counts every
 * sendfile as a write call (syscw), so 1 MiB in chunks of at most 16 KiB
 * takes at least 64 of them, while with 2 MiB a wake fills the socket
 * (TCP_NOTSENT_LOWAT wakes it with at least 64 KiB free, and sendfile then
 * queues 64 KiB or more) and the response takes far fewer.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE (1024 * 1024)
#define SEED 11
#define PACED (16 * 1024)

static char g_base[PATH_MAX];
static char g_root[PATH_MAX];

static void
setup(void)
{
    it_tree_new(g_base, sizeof(g_base), g_root, sizeof(g_root));
    it_put_pattern(g_root, "big.bin", SIZE, SEED);
}

static void
teardown(void)
{
    it_rmtree(g_base);
}

static bool
write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text);
}

/* A network namespace of our own with lo up and congestion control cc;
 * false (and why, in why) when this machine cannot give one. */
static bool
enter_netns(const char *cc, char *why, size_t cap)
{
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (uid == 0) {
        if (unshare(CLONE_NEWNET) != 0) {
            snprintf(why, cap, "unshare(CLONE_NEWNET): %s", strerror(errno));
            return false;
        }
    } else {
        if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) {
            snprintf(why, cap, "unshare(CLONE_NEWUSER|CLONE_NEWNET): %s", strerror(errno));
            return false;
        }
        /* ourselves, mapped to ourselves: the server runs as we do */
        char map[64];
        snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
        bool ok =
            write_text("/proc/self/setgroups", "deny\n") && write_text("/proc/self/uid_map", map);
        snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
        if (!ok || !write_text("/proc/self/gid_map", map)) {
            snprintf(why, cap, "user namespace maps: %s", strerror(errno));
            return false;
        }
    }
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    bool up = s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0 &&
              (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) == 0);
    if (s >= 0)
        close(s);
    if (!up) {
        snprintf(why, cap, "lo up: %s", strerror(errno));
        return false;
    }
    char line[64];
    snprintf(line, sizeof(line), "%s\n", cc);
    if (!write_text("/proc/sys/net/ipv4/tcp_congestion_control", line)) {
        snprintf(why, cap, "tcp_congestion_control = %s: %s", cc, strerror(errno));
        return false;
    }
    return true;
}

/* Write calls the worker made to send big.bin once, whole and exact, under
 * congestion control cc with send_chunk_paced = 16k. */
static long long
writes_for_1m(const char *cc)
{
    char why[256];
    ck_assert_msg(enter_netns(cc, why, sizeof(why)), "%s", why);
    struct it_server s;
    char extra[64];
    snprintf(extra, sizeof(extra), "send_chunk_paced = %dk\n", PACED / 1024);
    it_server_start_with(&s, g_base, extra, g_root);
    struct it_conn c;
    it_conn_open(&c, s.port);
    long long w0 = it_proc_io(s.pid, "syscw");
    it_conn_send_str(&c, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    struct it_response r;
    ck_assert_int_eq(it_read_response(&c, &r, false), IT_OK);
    long long writes = it_proc_io(s.pid, "syscw") - w0;
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, SIZE);
    char want[65];
    it_pattern_sha256(SIZE, SEED, want);
    ck_assert_msg(r.complete && strcmp(r.sha256, want) == 0, "%s: wrong bytes", cc);
    it_response_free(&r);
    it_conn_close(&c);
    it_server_stop(&s);
    return writes;
}

START_TEST(t_bbr_sends_paced_chunks)
{
    long long writes = writes_for_1m("bbr");
    ck_assert_msg(writes >= SIZE / PACED,
                  "bbr: 1 MiB went out with %lld write calls, not %d or more", writes,
                  SIZE / PACED);
}
END_TEST

START_TEST(t_cubic_sends_whole_chunks)
{
    long long writes = writes_for_1m("cubic");
    ck_assert_msg(writes < SIZE / PACED, "cubic: 1 MiB went out with %lld write calls", writes);
}
END_TEST

static Suite *
pace_suite(void)
{
    Suite *s = suite_create("pace");
    TCase *tc = tcase_create("pace");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, t_bbr_sends_paced_chunks);
    tcase_add_test(tc, t_cubic_sends_whole_chunks);
    suite_add_tcase(s, tc);
    return s;
}

/* Whether a namespace with both congestion controls can be had here: a
 * child tries, so that this process keeps the machine's network. */
static bool
namespaces_work(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        char why[256] = "";
        bool ok = enter_netns("cubic", why, sizeof(why)) &&
                  write_text("/proc/sys/net/ipv4/tcp_congestion_control", "bbr\n");
        if (!ok)
            fprintf(stderr, "it_pace: skipped: %s\n",
                    why[0] ? why : "tcp_congestion_control = bbr: not available");
        _exit(ok ? 0 : 1);
    }
    if (pid < 0)
        return false;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return false;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int
main(void)
{
    if (!namespaces_work())
        return 77; /* ctest: skipped, with the reason on stderr */
    return it_main(pace_suite());
}
