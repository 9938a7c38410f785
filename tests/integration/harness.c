/*
 * harness.c - helpers shared by the integration tests (see harness.h).
 *
 * Nothing here knows about sfhttpd's internals: the server is a black box
 * reached through its command line, its stderr and a TCP socket. Every
 * wait is bounded (socket timeouts, deadlines on waitpid loops), so a
 * broken server makes a test fail, never hang.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_WAIT_MS 15000
#define STOP_WAIT_MS 20000

/* ---- time ---------------------------------------------------------- */

int64_t
it_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
it_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* ---- SHA-256 (nettle) ------------------------------------------------ */

void
it_sha256_init(struct it_sha256 *s)
{
    sha256_init(&s->ctx);
}

void
it_sha256_update(struct it_sha256 *s, const void *data, size_t n)
{
    sha256_update(&s->ctx, n, data);
}

void
it_sha256_hex(struct it_sha256 *s, char out[65])
{
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_digest(&s->ctx, sizeof(digest), digest);
    for (size_t i = 0; i < sizeof(digest); i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* ---- temporary trees ----------------------------------------------- */

void
it_put(const char *dir, const char *rel, const char *text)
{
    char p[PATH_MAX];
    it_join(p, sizeof(p), dir, rel);
    it_write_str(p, text);
}

void
it_put_pattern(const char *dir, const char *rel, uint64_t size, uint32_t seed)
{
    char p[PATH_MAX];
    it_join(p, sizeof(p), dir, rel);
    it_write_pattern(p, size, seed);
}

void
it_tree_new(char *base, size_t bcap, char *root, size_t rcap)
{
    it_tmpdir(base, bcap);
    ck_assert_int_eq(chmod(base, 0755), 0);
    it_join(root, rcap, base, "www");
    it_mkdir(root);
}

void
it_subtree_new(const char *parent, char *dir, size_t dcap, char *root, size_t rcap)
{
    int n = snprintf(dir, dcap, "%s/tXXXXXX", parent);

    ck_assert(n > 0 && (size_t)n < dcap);
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
    it_join(root, rcap, dir, "www");
    it_mkdir(root);
}

/* ---- a suite's fixture ----------------------------------------------- */

struct it_suite it_suite;

void
it_suite_tree(void)
{
    it_tree_new(it_suite.base, sizeof(it_suite.base), it_suite.root, sizeof(it_suite.root));
}

void
it_suite_tree_down(void)
{
    it_rmtree(it_suite.base);
}

void
it_suite_srv_up(void)
{
    it_server_start_dir(&it_suite.srv, it_suite.root);
}

void
it_suite_srv_down(void)
{
    it_server_stop(&it_suite.srv);
}

/* ---- processes ------------------------------------------------------- */

int
it_children_of(pid_t pid, pid_t *out, int max)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL && n < max) {
        char path[300], buf[512], *p;
        long ppid;
        FILE *f;

        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        f = fopen(path, "re");
        if (f == NULL)
            continue;
        p = fgets(buf, sizeof(buf), f);
        fclose(f);
        if (p == NULL || (p = strrchr(buf, ')')) == NULL)
            continue;
        if (sscanf(p + 1, " %*c %ld", &ppid) == 1 && ppid == (long)pid)
            out[n++] = (pid_t)atol(e->d_name);
    }
    closedir(d);
    return n;
}

int
it_wait_children(pid_t pid, pid_t *out, int max, int want, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    int n;

    while ((n = it_children_of(pid, out, max)) != want && it_now_ms() < deadline)
        it_sleep_ms(20);
    return n;
}

int
it_count_leases(pid_t pid, const struct stat *st)
{
    char dpath[64];
    struct dirent *e;
    DIR *d;
    int n = 0;

    snprintf(dpath, sizeof(dpath), "/proc/%d/fdinfo", (int)pid);
    d = opendir(dpath);
    ck_assert_msg(d != NULL, "opendir %s: %s", dpath, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        char path[384], line[512];
        FILE *f;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dpath, e->d_name);
        f = fopen(path, "re");
        if (f == NULL)
            continue; /* closed meanwhile */
        /* "lock:\t1: LEASE  ACTIVE    READ  4242 fe:01:1234567 0 EOF" */
        while (fgets(line, sizeof(line), f) != NULL) {
            char kind[32], state[32], mode[32], dev[64];
            unsigned maj, min;
            unsigned long long ino;

            if (strncmp(line, "lock:", 5) != 0 ||
                sscanf(line + 5, "%*[^:]: %31s %31s %31s %*d %63s", kind, state, mode, dev) != 4)
                continue;
            if (strcmp(kind, "LEASE") != 0 || strcmp(state, "ACTIVE") != 0 ||
                strcmp(mode, "READ") != 0 || sscanf(dev, "%x:%x:%llu", &maj, &min, &ino) != 3)
                continue;
            if (st != NULL && (ino != (unsigned long long)st->st_ino || maj != major(st->st_dev) ||
                               min != minor(st->st_dev)))
                continue;
            n++;
        }
        fclose(f);
    }
    closedir(d);
    return n;
}

void
it_tmpdir(char *out, size_t cap)
{
    ck_assert_uint_gt(cap, sizeof("/tmp/sfhttpd-it-XXXXXX"));
    snprintf(out, cap, "/tmp/sfhttpd-it-XXXXXX");
    ck_assert_msg(mkdtemp(out) != NULL, "mkdtemp: %s", strerror(errno));
}

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)ftw;
    if (type == FTW_DNR) {
        /* a folder its owner may not read (a test's mode 0 or 0111 one,
         * when not root): open it up, then remove it like any other */
        if (chmod(path, 0700) == 0)
            it_rmtree(path);
    } else if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void
it_rmtree(const char *path)
{
    if (path != NULL && path[0] != '\0')
        nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void
it_join(char *out, size_t cap, const char *dir, const char *rel)
{
    int n = snprintf(out, cap, "%s/%s", dir, rel);

    ck_assert_msg(n > 0 && (size_t)n < cap, "path too long: %s/%s", dir, rel);
}

void
it_mkdir(const char *path)
{
    ck_assert_msg(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", path, strerror(errno));
}

static void
write_all_fd(int fd, const void *p, size_t n, const char *path)
{
    const char *q = p;

    while (n > 0) {
        ssize_t w = write(fd, q, n);
        if (w < 0 && errno == EINTR)
            continue;
        ck_assert_msg(w > 0, "write %s: %s", path, strerror(errno));
        q += w, n -= (size_t)w;
    }
}

void
it_write_str(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
    write_all_fd(fd, s, strlen(s), path);
    close(fd);
}

static uint64_t
mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void
it_fill_pattern(void *buf, size_t len, uint64_t off, uint32_t seed)
{
    unsigned char *p = buf;
    uint64_t key = (uint64_t)seed << 40;

    for (size_t i = 0; i < len;) {
        uint64_t pos = off + i;
        uint64_t v = mix64(key ^ (pos >> 3));
        for (unsigned b = (unsigned)(pos & 7); b < 8 && i < len; b++, i++)
            p[i] = (unsigned char)(v >> (8 * b));
    }
}

void
it_write_pattern(const char *path, uint64_t size, uint32_t seed)
{
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = malloc(CHUNK);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    ck_assert_ptr_nonnull(buf);
    ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
    for (uint64_t off = 0; off < size;) {
        size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
        it_fill_pattern(buf, n, off, seed);
        write_all_fd(fd, buf, n, path);
        off += n;
    }
    close(fd);
    free(buf);
}

void
it_pattern_sha256(uint64_t size, uint32_t seed, char out[65])
{
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = malloc(CHUNK);
    struct it_sha256 s;

    ck_assert_ptr_nonnull(buf);
    it_sha256_init(&s);
    for (uint64_t off = 0; off < size;) {
        size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
        it_fill_pattern(buf, n, off, seed);
        it_sha256_update(&s, buf, n);
        off += n;
    }
    it_sha256_hex(&s, out);
    free(buf);
}

bool
it_file_sha256(const char *path, char out[65])
{
    unsigned char buf[65536];
    struct it_sha256 s;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return false;
    it_sha256_init(&s);
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            return false;
        }
        it_sha256_update(&s, buf, (size_t)n);
    }
    close(fd);
    it_sha256_hex(&s, out);
    return true;
}

void
it_set_mtime(const char *path, int64_t t)
{
    struct timespec ts[2] = {{(time_t)t, 0}, {(time_t)t, 0}};

    ck_assert_msg(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) == 0, "utimensat %s: %s", path,
                  strerror(errno));
}

/* ---- processes ----------------------------------------------------- */

/*
 * In the child after fork(): die with the parent (the test process), stdin
 * from /dev/null, stdout+stderr to out_fd, then exec. Never returns.
 */
static void
child_exec(pid_t parent, int out_fd, const char *path, const char *const argv[], bool search)
{
    char *av[64];
    size_t n = 0;
    int devnull;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    signal(SIGPIPE, SIG_DFL);
    devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
        _exit(127);
    /* A private copy: exec wants char *const[], the callers hold const. */
    av[n++] = strdup(path);
    for (; argv != NULL && argv[n - 1] != NULL && n < 63; n++)
        av[n] = strdup(argv[n - 1]);
    av[n] = NULL;
    if (search)
        execvp(path, av);
    else
        execv(path, av);
    dprintf(2, "harness: exec %s: %s\n", path, strerror(errno));
    _exit(127);
}

/* waitpid with a deadline; true when the child was reaped into *status. */
static bool
wait_bounded(pid_t pid, int *status, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;

    for (;;) {
        pid_t w = waitpid(pid, status, WNOHANG);
        if (w == pid)
            return true;
        if (w < 0 && errno != EINTR)
            return false;
        if (it_now_ms() >= deadline)
            return false;
        it_sleep_ms(10);
    }
}

static void
describe_status(int status, char *buf, size_t cap)
{
    if (WIFEXITED(status))
        snprintf(buf, cap, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, cap, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, cap, "wait status 0x%x", (unsigned)status);
}

int
it_run(const char *const argv[], int timeout_s, const char *out_path)
{
    pid_t parent = getpid(), pid;
    int status = 0;
    int fd = out_path != NULL ? open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                              : open("/dev/null", O_WRONLY | O_CLOEXEC);

    ck_assert_msg(fd >= 0, "open %s: %s", out_path ? out_path : "/dev/null", strerror(errno));
    pid = fork();
    ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0)
        child_exec(parent, fd, argv[0], argv + 1, true);
    close(fd);
    if (!wait_bounded(pid, &status, timeout_s * 1000)) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

pid_t
it_spawn(const char *const argv[], const char *out_path)
{
    pid_t parent = getpid(), pid;
    int fd = out_path != NULL ? open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                              : open("/dev/null", O_WRONLY | O_CLOEXEC);

    ck_assert_msg(fd >= 0, "open %s: %s", out_path ? out_path : "/dev/null", strerror(errno));
    pid = fork();
    ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0)
        child_exec(parent, fd, argv[0], argv + 1, true);
    close(fd);
    return pid;
}

int
it_finish(pid_t pid, int sig, int timeout_ms)
{
    int status = 0;

    ck_assert_int_gt(pid, 0);
    if (sig)
        kill(pid, sig);
    if (!wait_bounded(pid, &status, timeout_ms)) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- the server ---------------------------------------------------- */

size_t
it_server_log(const struct it_server *s, char *buf, size_t cap)
{
    size_t len = 0;

    while (len + 1 < cap) {
        ssize_t n = pread(s->log_fd, buf + len, cap - 1 - len, (off_t)len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return len;
}

/* The tail of the log, for failure messages. */
static const char *
log_tail(const struct it_server *s, char *buf, size_t cap)
{
    char *all = malloc(1 << 20);
    size_t len;

    if (all == NULL)
        return "";
    len = it_server_log(s, all, 1 << 20);
    snprintf(buf, cap, "%s", all + (len > cap - 1 ? len - (cap - 1) : 0));
    free(all);
    return buf;
}

/* Start path (searched in PATH when search) with argv (after the program
 * name): the server itself, or a wrapper that execs it in place. */
static void
server_start(struct it_server *s, const char *prog, const char *const argv[], bool search)
{
    char path[] = "/tmp/sfhttpd-it-log-XXXXXX";
    static const char needle[] = "listening on http://127.0.0.1:";
    pid_t parent = getpid();
    int64_t deadline;
    char buf[8192];

    memset(s, 0, sizeof(*s));
    s->log_fd = mkostemp(path, O_CLOEXEC);
    ck_assert_msg(s->log_fd >= 0, "mkstemp: %s", strerror(errno));
    /* Keep only our descriptor: the file vanishes with the test. */
    unlink(path);
    signal(SIGPIPE, SIG_IGN);
    s->pid = fork();
    ck_assert_msg(s->pid >= 0, "fork: %s", strerror(errno));
    if (s->pid == 0)
        child_exec(parent, s->log_fd, prog, argv, search);

    deadline = it_now_ms() + START_WAIT_MS;
    for (;;) {
        int status;
        const char *p;

        it_server_log(s, buf, sizeof(buf));
        p = strstr(buf, needle);
        if (p != NULL && strchr(p, '\n') != NULL) {
            s->port = atoi(p + sizeof(needle) - 1);
            ck_assert_msg(s->port > 0 && s->port < 65536, "bad port in startup line: %s", buf);
            return;
        }
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            char why[64];
            describe_status(status, why, sizeof(why));
            s->pid = 0;
            ck_abort_msg("server exited at startup (%s); output:\n%s", why, buf);
        }
        if (it_now_ms() > deadline) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
            s->pid = 0;
            ck_abort_msg("no 'listening on' line within %d ms; output:\n%s", START_WAIT_MS, buf);
        }
        it_sleep_ms(10);
    }
}

void
it_server_start(struct it_server *s, const char *const argv[])
{
    server_start(s, SFHTTPD_BIN, argv, false);
}

void
it_server_start_wrapped(struct it_server *s, const char *const wrapper[], const char *const argv[])
{
    const char *av[64];
    size_t n = 0;

    ck_assert_msg(wrapper != NULL && wrapper[0] != NULL, "empty wrapper");
    for (size_t i = 1; wrapper[i] != NULL; i++) {
        ck_assert_uint_lt(n, 60);
        av[n++] = wrapper[i];
    }
    av[n++] = SFHTTPD_BIN;
    for (size_t i = 0; argv != NULL && argv[i] != NULL; i++) {
        ck_assert_uint_lt(n, 62);
        av[n++] = argv[i];
    }
    av[n] = NULL;
    server_start(s, wrapper[0], av, true);
}

void
it_server_start_dir(struct it_server *s, const char *dir)
{
    const char *level = getenv("SFHTTPD_IT_LOG_LEVEL");
    const char *argv[] = {"-l", "127.0.0.1:0", "--access-log", "off", dir, NULL, NULL, NULL};

    /* SFHTTPD_IT_LOG_LEVEL=debug runs every server with debug logging. */
    if (level != NULL && level[0] != '\0') {
        argv[4] = "--log-level";
        argv[5] = level;
        argv[6] = dir;
    }
    it_server_start(s, argv);
}

void
it_asan_no_quarantine(void)
{
    const char *asan = getenv("ASAN_OPTIONS");
    char opts[512];
    snprintf(opts, sizeof(opts), "%s%squarantine_size_mb=0", asan ? asan : "",
             asan && *asan ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
}

void
it_server_start_conf(struct it_server *s, const char *conf)
{
    const char *argv[] = {"-c", conf, NULL};

    it_server_start(s, argv);
}

void
it_server_start_with(struct it_server *s, const char *dir, const char *server_extra,
                     const char *root)
{
    char conf[PATH_MAX], text[3 * PATH_MAX];
    int n = snprintf(text, sizeof(text),
                     "[server]\nlisten = 127.0.0.1:0\naccess_log = off\n%s%s\n[site]\nroot = %s\n",
                     getuid() == 0 ? "user = root\n" : "", server_extra, root);
    ck_assert(n > 0 && (size_t)n < sizeof(text));
    snprintf(conf, sizeof(conf), "%s/sfhttpd.conf", dir);
    it_write_str(conf, text);
    it_server_start_conf(s, conf);
}

void
it_server_expect(struct it_server *s, const char *substr)
{
    ck_assert_uint_lt(s->n_expect, IT_MAX_EXPECT);
    s->expect[s->n_expect++] = substr;
}

void
it_server_assert_alive(struct it_server *s)
{
    int status;
    char why[64], tail[2048];

    ck_assert_int_gt(s->pid, 0);
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
        s->pid = 0;
        describe_status(status, why, sizeof(why));
        ck_abort_msg("server died (%s); output tail:\n%s", why, log_tail(s, tail, sizeof(tail)));
    }
}

static bool
line_ok(const struct it_server *s, const char *line)
{
    static const char *const fatal[] = {"ERROR: AddressSanitizer", "runtime error:", "[error]",
                                        "[warn]", "LeakSanitizer"};

    for (size_t i = 0; i < s->n_expect; i++)
        if (strstr(line, s->expect[i]) != NULL)
            return true;
    for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
        if (strstr(line, fatal[i]) != NULL)
            return false;
    return strstr(line, "[info]") != NULL || strstr(line, "[debug]") != NULL;
}

void
it_server_term(struct it_server *s)
{
    ck_assert_msg(s->pid > 0, "server not running");
    if (s->termed)
        return;
    ck_assert_msg(kill(s->pid, SIGTERM) == 0, "kill: %s", strerror(errno));
    s->termed = true;
}

void
it_server_stop(struct it_server *s)
{
    size_t cap = 4u << 20, len, nbad = 0, used = 0;
    char *log, *line, *save = NULL, bad[3000] = "", why[64];
    int status = 0;

    it_server_term(s);
    if (!wait_bounded(s->pid, &status, STOP_WAIT_MS)) {
        char tail[2048];
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &status, 0);
        s->pid = 0;
        ck_abort_msg("server did not exit within %d ms of SIGTERM; tail:\n%s", STOP_WAIT_MS,
                     log_tail(s, tail, sizeof(tail)));
    }
    s->pid = 0;

    log = malloc(cap);
    ck_assert_ptr_nonnull(log);
    len = it_server_log(s, log, cap);
    close(s->log_fd);
    s->log_fd = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        describe_status(status, why, sizeof(why));
        ck_abort_msg("server did not exit cleanly after SIGTERM (%s); tail:\n%s", why,
                     log + (len > 2000 ? len - 2000 : 0));
    }
    for (line = strtok_r(log, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        if (line_ok(s, line))
            continue;
        nbad++;
        if (used < sizeof(bad) - 200) {
            int n = snprintf(bad + used, sizeof(bad) - used, "  %.180s\n", line);
            if (n > 0)
                used += (size_t)n;
        }
    }
    free(log);
    ck_assert_msg(nbad == 0, "server wrote %zu unexpected line(s):\n%s", nbad, bad);
}

/* ---- raw connections ----------------------------------------------- */

void
it_conn_open_opts(struct it_conn *c, int port, int rcvbuf, int timeout_ms)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    struct timeval tv;
    int fd;

    if (timeout_ms <= 0)
        timeout_ms = IT_IO_TIMEOUT_MS;
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    signal(SIGPIPE, SIG_IGN);
    c->fd = -1;
    c->off = c->len = 0;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
    if (rcvbuf > 0)
        ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect 127.0.0.1:%d: %s",
                  port, strerror(errno));
    c->fd = fd;
}

/* The local port of a connected socket. */
unsigned
it_local_port(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    return ntohs(a.sin_port);
}

/* The state (TCP_ESTABLISHED, TCP_SYN_RECV, ...) the kernel shows in
 * /proc/net/tcp for the IPv4 connection from client port cport to server
 * port sport on the server's side; -1 when it has no such entry. */
int
it_tcp_state(unsigned sport, unsigned cport)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    int state = -1;
    while (state < 0 && fgets(line, sizeof(line), f)) {
        unsigned la, lp, ra, rp, st;
        if (sscanf(line, " %*u: %x:%x %x:%x %x", &la, &lp, &ra, &rp, &st) == 5 && lp == sport &&
            rp == cport)
            state = (int)st;
    }
    fclose(f);
    return state;
}

int
it_tcp_state_wait(unsigned sport, unsigned cport)
{
    int64_t until = it_now_ms() + 5000;
    int st;
    while ((st = it_tcp_state(sport, cport)) < 0 && it_now_ms() < until)
        it_sleep_ms(5);
    return st;
}

int
it_try_connect(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    struct timeval tv = {IT_IO_TIMEOUT_MS / 1000, 0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

void
it_conn_open(struct it_conn *c, int port)
{
    it_conn_open_opts(c, port, 0, 0);
}

int
it_conn_try_send(struct it_conn *c, const void *p, size_t n)
{
    const char *q = p;

    while (n > 0) {
        ssize_t w = send(c->fd, q, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
        q += w, n -= (size_t)w;
    }
    return 0;
}

void
it_conn_send(struct it_conn *c, const void *p, size_t n)
{
    int rc = it_conn_try_send(c, p, n);

    ck_assert_msg(rc == 0, "send %zu bytes: %s", n, strerror(-rc));
}

void
it_conn_send_str(struct it_conn *c, const char *s)
{
    it_conn_send(c, s, strlen(s));
}

/*
 * Read more bytes into the buffer (compacting it first). >0 bytes read,
 * 0 on orderly close or reset, -1 on timeout or another error.
 */
static ssize_t
fill(struct it_conn *c)
{
    ssize_t n;

    if (c->off > 0) {
        memmove(c->buf, c->buf + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    if (c->len == sizeof(c->buf))
        return -1;
    do
        n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == ECONNRESET || errno == EPIPE))
        return 0;
    if (n > 0)
        c->len += (size_t)n;
    return n;
}

bool
it_conn_wait_closed(struct it_conn *c, int timeout_ms, size_t *drained)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    size_t total = c->len - c->off;
    bool closed = false;

    c->off = c->len = 0;
    for (;;) {
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int64_t left = deadline - it_now_ms();
        ssize_t n;

        /* poll first: the socket's own timeout may be longer than ours. */
        if (left <= 0 || poll(&pfd, 1, (int)left) == 0)
            break;
        n = fill(c);
        if (n == 0) {
            closed = true;
            break;
        }
        if (n > 0)
            total += (size_t)n;
        c->off = c->len = 0;
    }
    if (drained != NULL)
        *drained = total;
    return closed;
}

bool
it_conn_read_all(struct it_conn *c, char *buf, size_t cap, size_t *len)
{
    size_t got = 0;
    bool closed = false;

    for (;;) {
        size_t avail = c->len - c->off;
        size_t take = avail < cap - 1 - got ? avail : cap - 1 - got;
        ssize_t n;

        memcpy(buf + got, c->buf + c->off, take);
        got += take;
        c->off = c->len = 0;
        if (got + 1 >= cap)
            break;
        n = fill(c);
        if (n == 0) {
            closed = true;
            break;
        }
        if (n < 0)
            break;
    }
    buf[got] = '\0';
    if (len != NULL)
        *len = got;
    return closed;
}

void
it_conn_close(struct it_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

void
it_conn_abort(struct it_conn *c)
{
    struct linger lg = {1, 0};

    if (c->fd < 0)
        return;
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(c->fd);
    c->fd = -1;
}

/* ---- responses ----------------------------------------------------- */

static char *
trim(char *s, char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *end = '\0';
    return s;
}

/* Parse r->head (without the final CRLF CRLF) into status and headers. */
static enum it_rd
parse_head(struct it_response *r)
{
    char *p = r->hbuf, *eol, *end;

    memcpy(r->hbuf, r->head, r->head_len + 1);
    end = r->hbuf + r->head_len;
    eol = strstr(p, "\r\n");
    if (eol == NULL)
        eol = end;
    *eol = '\0';
    if (strncmp(p, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)p[7]) || p[8] != ' ' ||
        !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
        !isdigit((unsigned char)p[11]) || (p[12] != ' ' && p[12] != '\0'))
        return IT_BAD;
    r->minor = p[7] - '0';
    r->status = atoi(p + 9);
    snprintf(r->reason, sizeof(r->reason), "%s", p[12] ? p + 13 : "");
    p = eol < end ? eol + 2 : end;
    while (p < end) {
        char *colon;

        eol = strstr(p, "\r\n");
        if (eol == NULL)
            eol = end;
        *eol = '\0';
        /* Bare CR or LF inside a field, a continuation line, a line without
         * a colon or an empty name: all mean broken (or injected) framing. */
        if (strpbrk(p, "\r\n") != NULL || *p == ' ' || *p == '\t')
            return IT_BAD;
        colon = strchr(p, ':');
        if (colon == NULL || colon == p || r->n_hdr == IT_MAX_HEADERS)
            return IT_BAD;
        for (char *q = p; q < colon; q++)
            if (*q == ' ' || *q == '\t')
                return IT_BAD;
        *colon = '\0';
        r->hdr[r->n_hdr].name = p;
        r->hdr[r->n_hdr].value = trim(colon + 1, eol);
        r->n_hdr++;
        p = eol < end ? eol + 2 : end;
    }
    return IT_OK;
}

enum it_rd
it_read_head(struct it_conn *c, struct it_response *r, bool head_request)
{
    const char *cl, *te;
    char *endp;
    size_t hl;

    memset(r, 0, sizeof(*r));
    r->content_length = -1;
    it_sha256_init(&r->sha);
    for (;;) {
        unsigned char *b = c->buf + c->off;
        size_t avail = c->len - c->off;
        unsigned char *e = avail >= 4 ? memmem(b, avail, "\r\n\r\n", 4) : NULL;
        ssize_t n;

        if (e != NULL) {
            hl = (size_t)(e - b);
            break;
        }
        if (avail > IT_HEAD_MAX)
            return IT_BAD;
        n = fill(c);
        if (n == 0) {
            r->closed = true;
            return c->len == c->off ? IT_EOF : IT_BAD;
        }
        if (n < 0)
            return c->len == c->off ? IT_TIMEOUT : IT_BAD;
    }
    if (hl > IT_HEAD_MAX)
        return IT_BAD;
    memcpy(r->head, c->buf + c->off, hl);
    r->head[hl] = '\0';
    r->head_len = hl;
    c->off += hl + 4;
    if (parse_head(r) != IT_OK)
        return IT_BAD;

    te = it_header(r, "Transfer-Encoding");
    cl = it_header(r, "Content-Length");
    if (it_header_count(r, "Content-Length") > 1)
        return IT_BAD;
    if (cl != NULL) {
        errno = 0;
        long long v = strtoll(cl, &endp, 10);
        if (errno != 0 || endp == cl || *endp != '\0' || v < 0)
            return IT_BAD;
        r->content_length = v;
    }
    r->no_body = head_request || r->status / 100 == 1 || r->status == 204 || r->status == 304;
    if (!r->no_body && te != NULL)
        return IT_BAD; /* a static server never needs chunked responses */
    r->until_close = !r->no_body && cl == NULL;
    if (r->no_body || r->content_length == 0) {
        r->complete = true;
        it_sha256_hex(&r->sha, r->sha256);
    }
    return IT_OK;
}

static void
take_body(struct it_response *r, const unsigned char *p, size_t n)
{
    if (r->body == NULL) {
        r->body = malloc(IT_BODY_KEEP + 1);
        ck_assert_ptr_nonnull(r->body);
        r->body[0] = '\0';
    }
    if (r->body_kept < IT_BODY_KEEP && !r->no_hash) {
        size_t k = IT_BODY_KEEP - r->body_kept < n ? IT_BODY_KEEP - r->body_kept : n;
        memcpy(r->body + r->body_kept, p, k);
        r->body_kept += k;
        r->body[r->body_kept] = '\0';
    }
    if (!r->no_hash)
        it_sha256_update(&r->sha, p, n);
    r->body_len += n;
}

enum it_rd
it_read_body(struct it_conn *c, struct it_response *r, uint64_t limit)
{
    uint64_t want = r->until_close ? UINT64_MAX : (uint64_t)r->content_length;

    if (r->body == NULL) {
        /* Always leave a readable (empty) body behind. */
        r->body = malloc(IT_BODY_KEEP + 1);
        ck_assert_ptr_nonnull(r->body);
        r->body[0] = '\0';
    }
    if (r->complete)
        return IT_OK;
    if (limit > want)
        limit = want;
    while (r->body_len < limit) {
        size_t avail = c->len - c->off;
        ssize_t n;

        if (avail > 0) {
            size_t k = limit - r->body_len < avail ? (size_t)(limit - r->body_len) : avail;
            take_body(r, c->buf + c->off, k);
            c->off += k;
            continue;
        }
        n = fill(c);
        if (n == 0) {
            r->closed = true;
            if (r->until_close) {
                r->complete = true;
                it_sha256_hex(&r->sha, r->sha256);
                return IT_OK;
            }
            return IT_BAD;
        }
        if (n < 0)
            return IT_TIMEOUT;
    }
    if (r->body_len == want) {
        r->complete = true;
        it_sha256_hex(&r->sha, r->sha256);
    }
    return IT_OK;
}

enum it_rd
it_read_response(struct it_conn *c, struct it_response *r, bool head_request)
{
    enum it_rd rc = it_read_head(c, r, head_request);

    if (rc != IT_OK)
        return rc;
    return it_read_body(c, r, UINT64_MAX);
}

void
it_response_free(struct it_response *r)
{
    free(r->body);
    r->body = NULL;
}

const char *
it_header(const struct it_response *r, const char *name)
{
    for (size_t i = 0; i < r->n_hdr; i++)
        if (strcasecmp(r->hdr[i].name, name) == 0)
            return r->hdr[i].value;
    return NULL;
}

size_t
it_header_count(const struct it_response *r, const char *name)
{
    size_t n = 0;

    for (size_t i = 0; i < r->n_hdr; i++)
        n += strcasecmp(r->hdr[i].name, name) == 0;
    return n;
}

bool
it_header_has(const struct it_response *r, const char *name, const char *token)
{
    const char *v = it_header(r, name);

    return v != NULL && strcasestr(v, token) != NULL;
}

enum it_rd
it_request(int port, const char *raw, struct it_response *r)
{
    struct it_conn c;
    enum it_rd rc;

    it_conn_open(&c, port);
    it_conn_send_str(&c, raw);
    rc = it_read_response(&c, r, strncmp(raw, "HEAD ", 5) == 0);
    it_conn_close(&c);
    return rc;
}

void
it_get(int port, const char *path, struct it_response *r)
{
    char req[16384];
    enum it_rd rc;
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Connection: close\r\n\r\n",
                     path);

    ck_assert_msg(n > 0 && (size_t)n < sizeof(req), "path too long");
    rc = it_request(port, req, r);
    ck_assert_msg(rc == IT_OK, "GET %s: no complete response (rc %d): %s", path, (int)rc, r->head);
}

/* ---- running a suite ----------------------------------------------- */

int
it_main(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

long
it_rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    ck_assert_msg(f != NULL, "open %s", path);
    long kib = -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    ck_assert_int_gt(kib, 0);
    return kib;
}

long long
it_proc_io(pid_t pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
    FILE *f = fopen(path, "re");
    ck_assert_msg(f != NULL, "open %s", path);
    size_t n = strlen(key);
    long long v = -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, key, n) == 0 && line[n] == ':' && sscanf(line + n + 1, "%lld", &v) == 1)
            break;
    fclose(f);
    ck_assert_msg(v >= 0, "no %s in %s", key, path);
    return v;
}
