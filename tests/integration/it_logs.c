/*
 * it_logs.c - the server's own files, end to end against the real
 * server: a symbolic link at the path of access_log, error_log or
 * pid_file is refused by -t and by a start, with a message on stderr, and
 * nothing is written through it.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_base[PATH_MAX];
static struct it_server srv;

static void
setup(void)
{
    char p[PATH_MAX];
    it_tmpdir(g_base, sizeof(g_base));
    it_join(p, sizeof(p), g_base, "www");
    it_mkdir(p);
    it_join(p, sizeof(p), g_base, "www/a.txt");
    it_write_str(p, "0123456789abcdefghijklmnopqrstuvwxyz\n");
}

static void
teardown(void)
{
    if (srv.pid > 0)
        it_server_stop(&srv);
    it_rmtree(g_base);
}

/* The contents of a file of g_base (malloc'd, NUL-terminated; "" when
 * missing). */
static char *
slurp(const char *name)
{
    char p[PATH_MAX];
    it_join(p, sizeof(p), g_base, name);
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    ssize_t n;
    while (fd >= 0 && len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    if (fd >= 0)
        close(fd);
    buf[len] = '\0';
    return buf;
}

/* ---- symbolic links at the paths of logs and the pid file -------------------- */

static const char *const g_link_keys[] = {"access_log", "error_log", "pid_file"};

START_TEST(t_symlinks_refused)
{
    const char *key = g_link_keys[_i];
    char conf[PATH_MAX], text[2 * PATH_MAX], link_path[PATH_MAX], target[PATH_MAX], out[PATH_MAX];
    struct stat st;
    it_join(link_path, sizeof(link_path), g_base, "link");
    it_join(target, sizeof(target), g_base, "target");
    ck_assert_int_eq(symlink(target, link_path), 0);
    it_join(conf, sizeof(conf), g_base, "links.conf");
    snprintf(text, sizeof(text),
             "[server]\nlisten = 127.0.0.1:0\n%s%s = %s\n\n[site]\nroot = www\n",
             getuid() == 0 ? "user = root\n" : "", key, link_path);
    it_write_str(conf, text);
    it_join(out, sizeof(out), g_base, "out");

    char want[PATH_MAX + 64];
    snprintf(want, sizeof(want), "%s %s: is a symbolic link", key, link_path);
    /* -t says so, with the line of the key */
    const char *check[] = {SFHTTPD_BIN, "-t", "-c", conf, NULL};
    ck_assert_int_eq(it_run(check, 20, out), 1);
    char *said = slurp("out");
    char at[3 * PATH_MAX];
    snprintf(at, sizeof(at), "%s:%d: %s", conf, getuid() == 0 ? 4 : 3, want);
    ck_assert_msg(strstr(said, at) != NULL, "want '%s' in:\n%s", at, said);
    free(said);
    /* a start refuses, on stderr, and writes nothing through the link */
    const char *start[] = {SFHTTPD_BIN, "-c", conf, NULL};
    ck_assert_int_eq(it_run(start, 20, out), 1);
    said = slurp("out");
    ck_assert_msg(strstr(said, want) != NULL, "want '%s' in:\n%s", want, said);
    free(said);
    ck_assert_msg(stat(target, &st) != 0, "%s was created through the link", target);
    ck_assert_int_eq(lstat(link_path, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
}
END_TEST

static Suite *
logs_suite(void)
{
    Suite *s = suite_create("logs");
    TCase *tc = tcase_create("formats");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, t_symlinks_refused, 0,
                        (int)(sizeof(g_link_keys) / sizeof(g_link_keys[0])));
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return it_main(logs_suite());
}
