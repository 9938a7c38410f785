/*
 * it_startup.c - what a person meets first: the README's first command
 * (scripts/serve) answers 200 as root and as a normal user; started as
 * root without a user, sfhttpd serves as nobody when nobody can reach the
 * roots and refuses with the fix otherwise; for every reason a start
 * refuses, `-t` fails with the same FILE:LINE line first, and the start
 * prints it on stderr as well as in a file error_log (once when the error
 * log is stderr); quick mode speaks of folders and URLs; a line without
 * '=' says "expected KEY = VALUE".
 *
 * Tests run as root (CI) and as a normal user. What a row needs root for
 * (switching to nobody), it gets by running the server as nobody through
 * setpriv(1) when the suite is root, and as the suite's own user when it
 * is not; only what truly needs root is skipped without it, with a line.
 * Every run is bounded; only PIDs this test started are signalled.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SF_DENY_OPENAT2
#error "SF_DENY_OPENAT2 must name the deny_openat2 helper (tests/integration/deny_openat2.c)"
#endif
#ifndef SFHTTPD_SOURCE_DIR
#error "SFHTTPD_SOURCE_DIR must name the source tree (conf/, www/, scripts/)"
#endif

#define NOBODY 65534
#define RUN_TIMEOUT_MS 10000

static char g_base[PATH_MAX]; /* 0755, so that nobody can look in */
static char g_www[PATH_MAX];
static char g_logs[PATH_MAX]; /* 01777: any user may create its log here */
static char g_conf[PATH_MAX];
static char g_errlog[PATH_MAX];

static void
tree_up(void)
{
    it_tmpdir(g_base, sizeof(g_base));
    ck_assert_int_eq(chmod(g_base, 0755), 0);
    it_join(g_www, sizeof(g_www), g_base, "www");
    it_mkdir(g_www);
    it_put(g_www, "index.html", "<h1>hello</h1>\n");
    it_join(g_logs, sizeof(g_logs), g_base, "logs");
    it_mkdir(g_logs);
    ck_assert_int_eq(chmod(g_logs, 01777), 0);
    it_join(g_errlog, sizeof(g_errlog), g_logs, "error.log");
    it_join(g_conf, sizeof(g_conf), g_base, "test.conf");
}

static void
tree_down(void)
{
    it_rmtree(g_base);
}

/* ---- helpers ------------------------------------------------------------- */

/* s with every "{B}" replaced by g_base, into out. */
static void
expand(const char *s, char *out, size_t cap)
{
    size_t n = 0;

    while (*s && n + 1 < cap) {
        if (strncmp(s, "{B}", 3) == 0) {
            int k = snprintf(out + n, cap - n, "%s", g_base);
            ck_assert(k > 0 && (size_t)k < cap - n);
            n += (size_t)k;
            s += 3;
        } else {
            out[n++] = *s++;
        }
    }
    ck_assert_msg(*s == '\0', "expand: too long");
    out[n] = '\0';
}

/* The number of the first line of text holding needle. */
static int
line_of(const char *text, const char *needle)
{
    const char *p = strstr(text, needle);
    int line = 1;

    ck_assert_msg(p != NULL, "'%s' not in:\n%s", needle, text);
    for (const char *q = text; q < p; q++)
        line += *q == '\n';
    return line;
}

static size_t
count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void
read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t len = 0;
    ssize_t n;

    buf[0] = '\0';
    if (fd < 0)
        return;
    while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(fd);
}

static void
copy_file(const char *from, const char *to, mode_t mode)
{
    static char buf[1 << 20];

    read_file(from, buf, sizeof(buf));
    ck_assert_msg(buf[0] != '\0', "cannot read %s", from);
    it_write_str(to, buf);
    ck_assert_int_eq(chmod(to, mode), 0);
}

/* The standard output of the last run(). */
static char g_stdout[65536];

/*
 * Run SFHTTPD_BIN with argv (NULL-terminated, after the program name)
 * through the command wrap (NULL-terminated, execs what follows it; NULL
 * for none), with stderr into err (cap bytes) and stdout into g_stdout.
 * Killed after RUN_TIMEOUT_MS (a start that should have failed). Its
 * exit status, or -1 when it was killed.
 */
static int
run_wrapped(const char *const wrap[], const char *const argv[], char *err, size_t cap)
{
    char path[] = "/tmp/sfhttpd-it-err-XXXXXX", opath[] = "/tmp/sfhttpd-it-out-XXXXXX";
    const char *av[64];
    size_t n = 0;
    pid_t parent = getpid(), pid;
    int status = 0, fd = mkostemp(path, O_CLOEXEC), ofd = mkostemp(opath, O_CLOEXEC);

    ck_assert_msg(fd >= 0 && ofd >= 0, "mkstemp: %s", strerror(errno));
    unlink(path);
    unlink(opath);
    for (size_t i = 0; wrap && wrap[i] && n < 32; i++)
        av[n++] = wrap[i];
    av[n++] = SFHTTPD_BIN;
    for (size_t i = 0; argv[i] && n < 63; i++)
        av[n++] = argv[i];
    av[n] = NULL;
    pid = fork();
    ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent || null < 0 || dup2(null, 0) < 0 || dup2(ofd, 1) < 0 ||
            dup2(fd, 2) < 0)
            _exit(127);
        execvp(av[0], (char **)(uintptr_t)av);
        dprintf(2, "exec %s: %s\n", av[0], strerror(errno));
        _exit(127);
    }
    int64_t end = it_now_ms() + RUN_TIMEOUT_MS;
    while (waitpid(pid, &status, WNOHANG) != pid) {
        if (it_now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            status = -1;
            break;
        }
        it_sleep_ms(10);
    }
    ssize_t len = pread(fd, err, cap - 1, 0);
    err[len > 0 ? len : 0] = '\0';
    close(fd);
    len = pread(ofd, g_stdout, sizeof(g_stdout) - 1, 0);
    g_stdout[len > 0 ? len : 0] = '\0';
    close(ofd);
    return status == -1 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* run_wrapped, as nobody through setpriv when as_nobody and the suite is
 * root. */
static int
run(bool as_nobody, const char *const argv[], char *err, size_t cap)
{
    static const char *const drop[] = {"setpriv", "--reuid=65534", "--regid=65534",
                                       "--clear-groups", NULL};
    return run_wrapped(as_nobody && getuid() == 0 ? drop : NULL, argv, err, cap);
}

/*
 * The heart of the suite: with g_conf, `-t` exits 1 and prints want
 * (a full "FILE:LINE: message" line or part of one), and a start exits 1
 * with the same words on stderr; with logged, they are in the error log
 * file too.
 */
static void
assert_refused(bool as_nobody, const char *want, bool logged)
{
    static char out[65536], log[65536];
    const char *check[] = {"-t", "-c", g_conf, NULL};
    const char *start[] = {"-c", g_conf, NULL};

    ck_assert_int_eq(run(as_nobody, check, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, want) != NULL, "-t does not say\n  %s\nit says:\n%s", want, out);
    ck_assert_msg(strstr(out, "configuration has") != NULL, "-t: %s", out);
    ck_assert_int_eq(run(as_nobody, start, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, want) != NULL, "the start's stderr does not say\n  %s\nit says:\n%s",
                  want, out);
    if (logged) {
        read_file(g_errlog, log, sizeof(log));
        ck_assert_msg(strstr(log, want) != NULL, "the error log does not say\n  %s\nit says:\n%s",
                      want, log);
    }
}

/* The Uid: line of /proc/PID/status ("R\tE\tS\tF"), false when gone. */
static bool
uid_of(pid_t pid, char *out, size_t cap)
{
    char path[64], buf[4096], *p;

    snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
    read_file(path, buf, sizeof(buf));
    p = strstr(buf, "\nUid:\t");
    if (p == NULL)
        return false;
    p += 6;
    snprintf(out, cap, "%.*s", (int)strcspn(p, "\n"), p);
    return true;
}

/* Wait (bounded) until pid's uids are all NOBODY. */
static void
assert_becomes_nobody(pid_t pid)
{
    char v[128] = "";

    for (int64_t end = it_now_ms() + 5000; it_now_ms() < end; it_sleep_ms(10)) {
        if (uid_of(pid, v, sizeof(v)) && strcmp(v, "65534\t65534\t65534\t65534") == 0)
            return;
    }
    ck_abort_msg("pid %ld runs with Uid: %s, not nobody", (long)pid, v);
}

static bool
skip_unless_root(const char *test)
{
    if (getuid() == 0)
        return false;
    fprintf(stderr, "it_startup: %s SKIPPED: needs root\n", test);
    return true;
}

/* GET / answers 200 with the body of file. */
static void
assert_serves(int port, const char *file)
{
    struct it_response r;
    char want[65], got[65];

    it_get(port, "/", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(it_file_sha256(file, want));
    snprintf(got, sizeof(got), "%s", r.sha256);
    ck_assert_str_eq(got, want);
    it_response_free(&r);
}

/* A normal user cannot take a lease on a file it does not own (a source
 * tree of root's): the server says so once per file, and that is right. */
static void
expect_no_lease_unless_owner(struct it_server *s, const char *file)
{
    struct stat st;

    if (geteuid() != 0 && stat(file, &st) == 0 && st.st_uid != geteuid())
        it_server_expect(s, "guarded by stat only (no lease)");
}

/* ---- every reason to refuse: -t and the start agree ------------------------- */

enum who {
    ANYONE,    /* the suite's user */
    AS_NOBODY, /* as nobody (setpriv) when root, else the suite's user */
    ROOT_ONLY, /* needs a root start: skipped without root */
};

struct refusal {
    const char *name;
    enum who who;
    const char *server;  /* lines for [server] ({B}: the test folder) */
    const char *site;    /* lines for [site] */
    const char *line_of; /* the line the message must name */
    const char *want;    /* the message after "FILE:LINE: " */
    bool logged;         /* the error log file can hold it */
    void (*prepare)(void);
};

static void
make_plain_file(void)
{
    char p[PATH_MAX];

    it_join(p, sizeof(p), g_base, "plain");
    it_write_str(p, "not a socket\n");
}

/* {B}/private (0700 root) holding www: only root (or its owner) gets in. */
static void
make_private_root(void)
{
    char p[PATH_MAX];

    it_join(p, sizeof(p), g_base, "private");
    it_mkdir(p);
    ck_assert_int_eq(chmod(p, 0700), 0);
    it_join(p, sizeof(p), g_base, "private/www");
    it_mkdir(p);
}

/* {B}/closed: a root nobody (or, not root, its owner) may not enter. */
static void
make_closed_root(void)
{
    char p[PATH_MAX];

    it_join(p, sizeof(p), g_base, "closed");
    it_mkdir(p);
    ck_assert_int_eq(chmod(p, getuid() == 0 ? 0700 : 0), 0);
}

/* {B}/nolist: a root that can be entered but not read. */
static void
make_unlistable_root(void)
{
    char p[PATH_MAX];

    it_join(p, sizeof(p), g_base, "nolist");
    it_mkdir(p);
    ck_assert_int_eq(chmod(p, 0111), 0);
}

/* {B}/ro.log: an error log the starting user cannot write. */
static void
make_readonly_log(void)
{
    char p[PATH_MAX];

    it_join(p, sizeof(p), g_base, "ro.log");
    it_write_str(p, "");
    ck_assert_int_eq(chmod(p, 0444), 0);
}

static const struct refusal refusals[] = {
    {"error_log folder", ANYONE, "error_log = {B}/nope/error.log\n", "",
     "error_log =", "error_log {B}/nope/error.log: no such folder: {B}/nope\n", false, NULL},
    {"access_log folder", ANYONE, "access_log = {B}/nope/access.log\n", "",
     "access_log =", "access_log {B}/nope/access.log: no such folder: {B}/nope\n", true, NULL},
    {"pid_file folder", ANYONE, "pid_file = {B}/run/sfhttpd.pid\n", "",
     "pid_file =", "pid_file {B}/run/sfhttpd.pid: no such folder: {B}/run\n", true, NULL},
    {"site access_log folder", ANYONE, "", "access_log = {B}/nope/site.log\n", "{B}/nope/site",
     "access_log {B}/nope/site.log: no such folder: {B}/nope\n", true, NULL},
    {"error_log not writable", AS_NOBODY, "error_log = {B}/ro.log\n", "",
     "error_log =", "error_log {B}/ro.log: ", false, make_readonly_log},
    /* 192.0.2.0/24 is TEST-NET-1: no host has it, and the bind fails
     * before any packet could leave */
    {"listen address not on this host", ANYONE, "listen = 192.0.2.1:8080\n", "", "192.0.2.1:8080",
     "listen 192.0.2.1:8080: not an address of this host\n", true, NULL},
    {"unix socket folder", ANYONE, "listen = unix:{B}/nope/s.sock\n", "",
     "unix:", "listen unix:{B}/nope/s.sock: no such folder: {B}/nope\n", true, NULL},
    {"unix socket path taken", ANYONE, "listen = unix:{B}/plain\n", "", "unix:",
     "listen unix:{B}/plain: {B}/plain exists and is not a socket\n", true, make_plain_file},
    {"group without user", ANYONE, "group = root\n", "",
     "group =", "group root: needs user = NAME too\n", true, NULL},
    {"user other than ours", AS_NOBODY, "user = root\n", "", "user =", "user root: running as uid ",
     true, NULL},
    {"root not enterable", AS_NOBODY, "", "", "root =",
     "root {B}/closed: cannot enter {B}/closed (Permission denied)\n", true, make_closed_root},
    {"root not listable", AS_NOBODY, "", "listing = on\n",
     "root =", "root {B}/nolist: cannot read it for the listing (Permission denied)\n", true,
     make_unlistable_root},
    {"root unreachable by user", ROOT_ONLY, "user = nobody\n", "", "root =",
     "root {B}/private/www: nobody cannot reach it: cannot enter {B}/private (Permission "
     "denied)\n",
     true, make_private_root},
    {"root without user, nobody cannot reach", ROOT_ONLY, "", "", "[server]",
     "started as root without a user, and nobody:nogroup cannot reach root {B}/private/www: "
     "cannot enter {B}/private (Permission denied): set user = NAME in [server]",
     true, make_private_root},
};

/* The root a row serves: the folder its prepare step made, else g_www. */
static const char *
row_root(const struct refusal *r, char *buf, size_t cap)
{
    if (r->prepare == make_private_root)
        it_join(buf, cap, g_base, "private/www");
    else if (r->prepare == make_closed_root)
        it_join(buf, cap, g_base, "closed");
    else if (r->prepare == make_unlistable_root)
        it_join(buf, cap, g_base, "nolist");
    else
        snprintf(buf, cap, "%s", g_www);
    return buf;
}

START_TEST(t_refusal)
{
    const struct refusal *r = &refusals[_i];
    static char server[2 * PATH_MAX], site[2 * PATH_MAX], text[8 * PATH_MAX], needle[2 * PATH_MAX];
    static char msg[4 * PATH_MAX], want[16 * PATH_MAX];
    char root[PATH_MAX];
    bool own_errlog, own_access;

    if (r->who == ROOT_ONLY && skip_unless_root(r->name))
        return;
    if (r->prepare)
        r->prepare();
    expand(r->server, server, sizeof(server));
    expand(r->site, site, sizeof(site));
    own_errlog = strstr(server, "error_log =") != NULL;
    own_access = strstr(server, "access_log =") != NULL;
    /* a root start without user would fall back to nobody: the rows
     * that are not about users say who (root) */
    snprintf(text, sizeof(text),
             "; %s\n[server]\nlisten = 127.0.0.1:0\n%s%s%s%s%s%s\n"
             "[site]\nroot = %s\n%s",
             r->name, own_access ? "" : "access_log = off\n",
             own_errlog ? "" : "error_log = ", own_errlog ? "" : g_errlog, own_errlog ? "" : "\n",
             getuid() == 0 && r->who == ANYONE && !strstr(server, "user =") &&
                     !strstr(server, "group =")
                 ? "user = root\n"
                 : "",
             server, row_root(r, root, sizeof(root)), site);
    it_write_str(g_conf, text);
    expand(r->line_of, needle, sizeof(needle));
    expand(r->want, msg, sizeof(msg));
    snprintf(want, sizeof(want), "%s:%d: %s", g_conf, line_of(text, needle), msg);
    assert_refused(r->who == AS_NOBODY, want, r->logged);
}
END_TEST

/* With error_log = - the reason is on stderr once, not twice. */
START_TEST(t_refusal_printed_once)
{
    char text[8 * PATH_MAX], want[8 * PATH_MAX];
    static char out[65536];
    const char *start[] = {"-c", g_conf, NULL};

    snprintf(text, sizeof(text),
             "[server]\nlisten = 127.0.0.1:0\naccess_log = off\n%spid_file = %s/run/x.pid\n"
             "\n[site]\nroot = %s\n",
             getuid() == 0 ? "user = root\n" : "", g_base, g_www);
    it_write_str(g_conf, text);
    snprintf(want, sizeof(want), "%s:%d: pid_file %s/run/x.pid: no such folder", g_conf,
             line_of(text, "pid_file"), g_base);
    ck_assert_int_eq(run(false, start, out, sizeof(out)), 1);
    ck_assert_msg(count(out, want) == 1, "want once: %s\n%s", want, out);
    ck_assert_msg(strstr(out, "[error]") != NULL, "not in the log's own format: %s", out);
}
END_TEST

/* A command-line value is named by its flag. */
START_TEST(t_refusal_of_a_flag)
{
    char text[8 * PATH_MAX];
    static char out[65536];
    const char *check[] = {"-t", "-c", g_conf, "-l", "192.0.2.1:8080", NULL};
    const char *start[] = {"-c", g_conf, "-l", "192.0.2.1:8080", NULL};
    const char *user[] = {"-t", "-u", "no-such-user-sf", g_www, NULL};
    static const char want[] = "sfhttpd: -l 192.0.2.1:8080: not an address of this host\n";

    snprintf(text, sizeof(text), "[server]\naccess_log = off\n%s\n[site]\nroot = %s\n",
             getuid() == 0 ? "user = root\n" : "", g_www);
    it_write_str(g_conf, text);
    ck_assert_int_eq(run(false, check, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, want) != NULL, "-t: %s", out);
    ck_assert_int_eq(run(false, start, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, want + 9) != NULL, "start: %s", out);
    ck_assert_int_eq(run(false, user, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "sfhttpd: -u no-such-user-sf: no such user\n") != NULL, "%s", out);
}
END_TEST

/* A port below 1024, without root: -t says so and the start fails
 * without binding anything. */
START_TEST(t_refusal_low_port)
{
    char text[8 * PATH_MAX], want[8 * PATH_MAX];
    int start_port = 1024;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re");

    if (f != NULL) {
        if (fscanf(f, "%d", &start_port) != 1)
            start_port = 1024;
        fclose(f);
    }
    if (start_port <= 80) {
        fprintf(stderr,
                "it_startup: t_refusal_low_port SKIPPED: ports from %d are "
                "unprivileged here\n",
                start_port);
        return;
    }
    snprintf(text, sizeof(text),
             "[server]\nlisten = 127.0.0.1:80\naccess_log = off\nerror_log = %s\n\n"
             "[site]\nroot = %s\n",
             g_errlog, g_www);
    it_write_str(g_conf, text);
    snprintf(want, sizeof(want),
             "%s:2: listen 127.0.0.1:80: port 80 needs root or CAP_NET_BIND_SERVICE", g_conf);
    assert_refused(true, want, true);
}
END_TEST

/* The checks pass a good config, and it starts. */
START_TEST(t_good_config_checks_and_starts)
{
    char text[8 * PATH_MAX], pidfile[PATH_MAX];
    static char out[65536];
    const char *check[] = {"-t", "-c", g_conf, NULL};
    struct it_server s;
    char index[PATH_MAX];

    it_join(pidfile, sizeof(pidfile), g_logs, "sfhttpd.pid");
    snprintf(text, sizeof(text),
             "[server]\nlisten = 127.0.0.1:0\nlisten = unix:%s/s.sock\naccess_log = %s/a.log\n"
             "error_log = %s\npid_file = %s\n%s\n[site]\nroot = %s\nlisting = on\n",
             g_logs, g_logs, g_errlog, pidfile, getuid() == 0 ? "user = root\n" : "", g_www);
    it_write_str(g_conf, text);
    ck_assert_int_eq(run(false, check, out, sizeof(out)), 0);
    ck_assert_msg(strstr(g_stdout, "configuration") && strstr(g_stdout, " OK\n"), "%s", g_stdout);
    {
        /* the harness reads the "listening on" line: error log on stderr */
        const char *argv[] = {"-c", g_conf, "--error-log", "-", NULL};
        it_server_start(&s, argv);
    }
    it_join(index, sizeof(index), g_www, "index.html");
    assert_serves(s.port, index);
    it_server_stop(&s);
}
END_TEST

/* ---- a kernel that cannot confine paths --------------------------------------- */

/*
 * Under a seccomp filter that fails openat2 with ENOSYS (Linux before
 * 5.6, older container profiles, valgrind 3.19) or EPERM (a profile's
 * default), every file open beneath a root would fail: -t and a start
 * (quick mode and a config, one process and a master) refuse with the
 * cause in one line and exit 1, and nothing listens; without the
 * filter the same configuration passes -t.
 */
START_TEST(t_refusal_without_openat2)
{
    static const char want[] = "openat2(2) is not available: Linux 5.6 or later is "
                               "needed, or a seccomp filter blocks it";
    static const char *const errnos[] = {"38", "1"}; /* ENOSYS, EPERM */
    static char out[65536];
    char text[8 * PATH_MAX];
    const char *check[] = {"-t", "-c", g_conf, NULL};
    const char *start[] = {"-c", g_conf, NULL};
    const char *quick[] = {"-l", "127.0.0.1:0", "--access-log", "off", g_www, NULL};
    const char *const *runs[] = {check, start, quick};

    for (int workers = 0; workers <= 2; workers += 2) {
        snprintf(text, sizeof(text),
                 "[server]\nlisten = 127.0.0.1:0\naccess_log = off\nworkers = %d\n%s\n"
                 "[site]\nroot = %s\n",
                 workers, getuid() == 0 ? "user = root\n" : "", g_www);
        it_write_str(g_conf, text);
        for (size_t e = 0; e < sizeof(errnos) / sizeof(errnos[0]); e++) {
            const char *wrap[] = {SF_DENY_OPENAT2, errnos[e], NULL};
            for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
                int rc = run_wrapped(wrap, runs[i], out, sizeof(out));
                ck_assert_msg(rc == 1, "workers %d, errno %s, run %zu: exit %d:\n%s", workers,
                              errnos[e], i, rc, out);
                ck_assert_msg(strstr(out, want) != NULL, "errno %s, run %zu says:\n%s", errnos[e],
                              i, out);
                ck_assert_msg(count(out, "openat2") == 1, "not one line:\n%s", out);
                ck_assert_msg(strstr(out, "listening on") == NULL, "it listened:\n%s", out);
            }
        }
    }
    /* without the filter the same configuration passes */
    ck_assert_msg(run(false, check, out, sizeof(out)) == 0, "-t without the filter:\n%s", out);
}
END_TEST

/* ---- root without user ------------------------------------------------------- */

/* Started as root with a config and no user: serves as nobody, says so
 * in one line, and -t tells the same. */
START_TEST(t_root_without_user_serves_as_nobody)
{
    char text[8 * PATH_MAX], index[PATH_MAX], log[16384];
    static char out[65536];
    const char *check[] = {"-t", "-c", g_conf, NULL};
    struct it_server s;

    if (skip_unless_root("t_root_without_user_serves_as_nobody"))
        return;
    snprintf(text, sizeof(text),
             "[server]\nlisten = 127.0.0.1:0\naccess_log = off\n\n[site]\nroot = %s\n", g_www);
    it_write_str(g_conf, text);
    ck_assert_int_eq(run(false, check, out, sizeof(out)), 0);
    ck_assert_msg(strstr(g_stdout, "sfhttpd: no user set: serving as nobody:nogroup after "
                                   "binding (it can reach every root; set user = NAME") != NULL,
                  "-t: %s", g_stdout);
    it_server_start_conf(&s, g_conf);
    assert_becomes_nobody(s.pid);
    it_join(index, sizeof(index), g_www, "index.html");
    assert_serves(s.port, index);
    it_server_log(&s, log, sizeof(log));
    ck_assert_int_eq(count(log, "no user set: serving as nobody:nogroup after binding"), 1);
    it_server_stop(&s);
}
END_TEST

/* The same under a master: the workers run as nobody. */
START_TEST(t_root_without_user_workers_as_nobody)
{
    char text[8 * PATH_MAX], index[PATH_MAX];
    struct it_server s;
    pid_t kids[8];
    int n = 0;

    if (skip_unless_root("t_root_without_user_workers_as_nobody"))
        return;
    snprintf(text, sizeof(text),
             "[server]\nlisten = 127.0.0.1:0\naccess_log = off\nworkers = 2\n\n[site]\nroot = %s\n",
             g_www);
    it_write_str(g_conf, text);
    it_server_start_conf(&s, g_conf);
    for (int64_t end = it_now_ms() + 5000; it_now_ms() < end && n < 2; it_sleep_ms(10))
        n = it_children_of(s.pid, kids, 8);
    ck_assert_int_eq(n, 2);
    assert_becomes_nobody(kids[0]);
    assert_becomes_nobody(kids[1]);
    it_join(index, sizeof(index), g_www, "index.html");
    assert_serves(s.port, index);
    it_server_stop(&s);
}
END_TEST

/* ---- quick mode's words ---------------------------------------------------------- */

START_TEST(t_quick_missing_folder)
{
    static char out[65536];
    char dir[PATH_MAX];
    const char *start[] = {"-l", "127.0.0.1:0", dir, NULL};
    const char *check[] = {"-t", dir, NULL};

    it_join(dir, sizeof(dir), g_base, "no-such-folder");
    ck_assert_int_eq(run(false, start, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "no such folder: ") != NULL && strstr(out, dir) != NULL, "%s", out);
    ck_assert_msg(strstr(out, "[site]") == NULL && strstr(out, "root") == NULL, "%s", out);
    ck_assert_int_eq(run(false, check, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "sfhttpd: no such folder: ") != NULL, "%s", out);
}
END_TEST

/* A folder the user may not enter: refused at once, in folder words
 * (it used to start and answer 403 to everything). */
START_TEST(t_quick_folder_not_enterable)
{
    static char out[65536];
    char dir[PATH_MAX], want[8 * PATH_MAX];
    const char *start[] = {"-l", "127.0.0.1:0", dir, NULL};

    make_closed_root();
    it_join(dir, sizeof(dir), g_base, "closed");
    snprintf(want, sizeof(want), ": cannot serve %s: cannot enter %s (Permission denied)\n", dir,
             dir);
    ck_assert_int_eq(run(true, start, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, want) != NULL, "want %s in:\n%s", want, out);
}
END_TEST

/* The start-up lines say which folder is served on which URLs. */
START_TEST(t_quick_serving_line)
{
    struct it_server s;
    char log[16384], want[8 * PATH_MAX];

    it_server_start_dir(&s, g_www);
    snprintf(want, sizeof(want), "serving %s on http://127.0.0.1:%d/\n", g_www, s.port);
    for (int64_t end = it_now_ms() + 5000; it_now_ms() < end; it_sleep_ms(10)) {
        it_server_log(&s, log, sizeof(log));
        if (strstr(log, want))
            break;
    }
    ck_assert_msg(strstr(log, want) != NULL, "want %s in:\n%s", want, log);
    it_server_stop(&s);
}
END_TEST

/* "listen 127.0.0.1:80" without '=': expected KEY = VALUE, at its line. */
START_TEST(t_line_without_equals)
{
    char text[8 * PATH_MAX], want[8 * PATH_MAX];

    snprintf(text, sizeof(text),
             "[server]\nerror_log = %s\nlisten 127.0.0.1:80\n\n[site]\nroot = %s\n", g_errlog,
             g_www);
    it_write_str(g_conf, text);
    snprintf(want, sizeof(want),
             "%s:3: expected KEY = VALUE (did you mean 'listen = 127.0.0.1:80'?)\n", g_conf);
    /* the config is not read: nothing is logged */
    assert_refused(false, want, false);
}
END_TEST

/* ---- the README's first command -------------------------------------------------- */

/*
 * scripts/serve's own command line, from the source tree, with only the
 * port changed: build/sfhttpd -c conf/sfhttpd.conf -l 127.0.0.1:0.
 */
START_TEST(t_serve_command_line)
{
    struct it_server s;
    const char *argv[] = {"-c", SFHTTPD_SOURCE_DIR "/conf/sfhttpd.conf", "-l", "127.0.0.1:0", NULL};
    static char out[65536];
    const char *check[] = {"-t", "-c", SFHTTPD_SOURCE_DIR "/conf/sfhttpd.conf", NULL};

    if (getuid() == 0 &&
        run(true, (const char *const[]){"-t", "-l", "127.0.0.1:0", SFHTTPD_SOURCE_DIR "/www", NULL},
            out, sizeof(out)) != 0) {
        /* then sfhttpd itself refuses (t_refusal shows how), and
         * scripts/serve serves with -u root: t_serve_script */
        fprintf(stderr, "it_startup: t_serve_command_line SKIPPED: nobody cannot read %s\n",
                SFHTTPD_SOURCE_DIR "/www");
        return;
    }
    ck_assert_int_eq(run(false, check, out, sizeof(out)), 0);
    it_server_start(&s, argv);
    it_server_expect(&s, "\"GET / HTTP/1.1\" 200 ");
    expect_no_lease_unless_owner(&s, SFHTTPD_SOURCE_DIR "/www/index.html");
    if (getuid() == 0)
        assert_becomes_nobody(s.pid);
    assert_serves(s.port, SFHTTPD_SOURCE_DIR "/www/index.html");
    it_server_stop(&s);
}
END_TEST

/* Start `sh DIR/scripts/serve -l 127.0.0.1:0` with the built binary (it
 * execs the server, so the pid is the server's). */
static void
start_serve(struct it_server *s, const char *dir)
{
    char script[2 * PATH_MAX];
    static char cmd[3 * PATH_MAX];
    const char *wrapper[] = {"sh", "-c", cmd, NULL};
    const char *argv[] = {"-l", "127.0.0.1:0", NULL};

    snprintf(script, sizeof(script), "%s/scripts/serve", dir);
    snprintf(cmd, sizeof(cmd), "SFHTTPD_SERVE_BIN=\"$0\" exec sh '%s' \"$@\"", script);
    it_server_start_wrapped(s, wrapper, argv);
    it_server_expect(s, "\"GET / HTTP/1.1\" 200 ");
    it_server_expect(s, "scripts/serve: user nobody cannot read ");
}

/* scripts/serve itself (only its build step left out), as root and as a
 * normal user: GET / answers 200 with www/index.html. */
START_TEST(t_serve_script)
{
    struct it_server s;

    start_serve(&s, SFHTTPD_SOURCE_DIR);
    expect_no_lease_unless_owner(&s, SFHTTPD_SOURCE_DIR "/www/index.html");
    assert_serves(s.port, SFHTTPD_SOURCE_DIR "/www/index.html");
    it_server_stop(&s);
}
END_TEST

/*
 * A checkout nobody can read (a clone under /root): sfhttpd refuses the
 * config as it is, naming the fix, and scripts/serve still serves, saying
 * that its workers run as root.
 */
START_TEST(t_serve_script_private_checkout)
{
    char co[PATH_MAX], p[PATH_MAX], q[PATH_MAX], text[65536], want[8 * PATH_MAX];
    char log[16384];
    struct it_server s;
    static const char *const dirs[] = {"private/co", "private/co/scripts", "private/co/conf",
                                       "private/co/www"};
    static const char *const files[] = {"scripts/serve", "conf/sfhttpd.conf", "www/index.html"};

    if (skip_unless_root("t_serve_script_private_checkout"))
        return;
    make_private_root();
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        it_join(p, sizeof(p), g_base, dirs[i]);
        it_mkdir(p);
    }
    it_join(co, sizeof(co), g_base, "private/co");
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        it_join(p, sizeof(p), SFHTTPD_SOURCE_DIR, files[i]);
        it_join(q, sizeof(q), co, files[i]);
        copy_file(p, q, 0755);
    }
    /* as it is, the copy's config is refused at its [server] line */
    it_join(p, sizeof(p), co, "conf/sfhttpd.conf");
    read_file(p, text, sizeof(text));
    snprintf(g_conf, sizeof(g_conf), "%s", p);
    snprintf(want, sizeof(want), "%s:%d: started as root without a user", p,
             line_of(text, "\n[server]") + 1);
    assert_refused(false, want, false);

    start_serve(&s, co);
    it_server_log(&s, log, sizeof(log));
    ck_assert_msg(strstr(log, "scripts/serve: user nobody cannot read ") != NULL, "%s", log);
    it_join(p, sizeof(p), co, "www/index.html");
    assert_serves(s.port, p);
    it_server_stop(&s);
}
END_TEST

static Suite *
startup_suite(void)
{
    Suite *s = suite_create("it_startup");
    TCase *tc = tcase_create("refusals");
    TCase *tr = tcase_create("root");
    TCase *tq = tcase_create("quick");
    TCase *ts = tcase_create("serve");

    tcase_add_checked_fixture(tc, tree_up, tree_down);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, t_refusal, 0, (int)(sizeof(refusals) / sizeof(refusals[0])));
    tcase_add_test(tc, t_refusal_printed_once);
    tcase_add_test(tc, t_refusal_of_a_flag);
    tcase_add_test(tc, t_refusal_low_port);
    tcase_add_test(tc, t_good_config_checks_and_starts);
    tcase_add_test(tc, t_refusal_without_openat2);
    suite_add_tcase(s, tc);

    tcase_add_checked_fixture(tr, tree_up, tree_down);
    tcase_set_timeout(tr, 60);
    tcase_add_test(tr, t_root_without_user_serves_as_nobody);
    tcase_add_test(tr, t_root_without_user_workers_as_nobody);
    suite_add_tcase(s, tr);

    tcase_add_checked_fixture(tq, tree_up, tree_down);
    tcase_set_timeout(tq, 60);
    tcase_add_test(tq, t_quick_missing_folder);
    tcase_add_test(tq, t_quick_folder_not_enterable);
    tcase_add_test(tq, t_quick_serving_line);
    tcase_add_test(tq, t_line_without_equals);
    suite_add_tcase(s, tq);

    tcase_add_checked_fixture(ts, tree_up, tree_down);
    tcase_set_timeout(ts, 60);
    tcase_add_test(ts, t_serve_command_line);
    tcase_add_test(ts, t_serve_script);
    tcase_add_test(ts, t_serve_script_private_checkout);
    suite_add_tcase(s, ts);
    return s;
}

int
main(void)
{
    return it_main(startup_suite());
}
