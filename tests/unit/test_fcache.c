/*
 * test_fcache.c - unit tests for fcache against a scratch tree in a
 * mkdtemp directory: reference counts and fd lifetime, LRU eviction,
 * invalidation by inotify (rename over, write in place, unlink, sidecar,
 * parent rename), directories and other non-files, small-file snapshots,
 * guards, and what the cache does on a lease break (forked writers
 * blocked in open(O_WRONLY)) and on a stale break signal. Whom a break
 * cuts is lbreak's (test_lbreak.c); the watch tree is fwatch's
 * (test_fwatch.c).
 *
 * The error log goes to a file outside the docroot so tests can assert
 * on its lines. Every wait is bounded; only children forked here are
 * killed, by PID.
 */
#include "sfhttpd/fcache.h"
#include "sfhttpd/common.h"
#include "sfhttpd/lease.h"
#include "sfhttpd/log.h"

#include <check.h>

#include "unit_util.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 5000

/* The runner's directory (an unchecked fixture: removed even when a test
 * fails); each test makes its own tree in it. */
static char base[256];

/* Per test. */
static char tdir[512], root[600], logpath[600];
static int rootfd = -1;
static struct sf_log lg;
static struct sf_fcache *fc;

static void
setup_base(void)
{
    unit_tmpdir(base, sizeof(base), "sf_fcache");
}

static void
teardown_base(void)
{
    unit_rmtree(base);
}

static void
setup_tree(void)
{
    snprintf(tdir, sizeof(tdir), "%s/t.XXXXXX", base);
    ck_assert_ptr_nonnull(mkdtemp(tdir));
    snprintf(root, sizeof(root), "%s/root", tdir);
    snprintf(logpath, sizeof(logpath), "%s/error.log", tdir);
    ck_assert_int_eq(mkdir(root, 0755), 0);
    rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(rootfd, 0);
    memset(&lg, 0, sizeof(lg));
    lg.err_fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ck_assert_int_ge(lg.err_fd, 0);
    lg.access_fd = -1;
    lg.level = SF_LOG_DEBUG;
    fc = NULL;
}

static void
teardown_tree(void)
{
    sf_fcache_free(fc);
    fc = NULL;
    close(lg.err_fd); /* filled by hand: only the error log is used */
    close(rootfd);
    rootfd = -1;
    unit_rmtree(tdir);
}

/* A cache over the test's tree. With CK_FORK=no a lease signal left by
 * an earlier test must not show up here: drain it. */
static struct sf_fcache *
new_cache(size_t max, size_t small, enum sf_guard guard)
{
    struct sf_fcache_opts o = {.max_entries = max, .small_file_size = small, .guard = guard};
    struct sf_fcache *c = sf_fcache_new(&o, &lg);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_ge(sf_fcache_inotify_fd(c), 0);
    if (guard == SF_GUARD_LEASE) {
        ck_assert_int_ge(sf_fcache_signal_fd(c), 0);
        int fds[8];
        bool overflow;
        while (sf_lease_read_breaks(sf_fcache_signal_fd(c), fds, 8, &overflow) > 0 || overflow)
            ;
    }
    return c;
}

/* ---------------------------------------------------------- helpers */

/* snprintf that must fit (vsnprintf: no truncation warnings for paths
 * the test knows are short). */
static void __attribute__((format(printf, 3, 4))) fmt(char *out, size_t cap, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(out, cap, f, ap);
    va_end(ap);
    ck_assert(n >= 0 && (size_t)n < cap);
}

static void
rel_path(char *out, size_t cap, const char *rel)
{
    fmt(out, cap, "%s/%s", root, rel);
}

static struct sf_file *
get_sym(const char *rel, enum sf_symlinks sym, int *err)
{
    int dirfd = -2;
    struct sf_file *f = sf_fcache_get(fc, 0, rootfd, root, rel, sym, err, &dirfd);
    if (*err != -EISDIR)
        ck_assert_int_eq(dirfd, -1);
    else if (dirfd >= 0)
        close(dirfd);
    ck_assert((f != NULL) == (*err == 0));
    return f;
}

static struct sf_file *
get_ok(const char *rel)
{
    int err;
    struct sf_file *f = get_sym(rel, SF_SYMLINKS_BENEATH, &err);
    ck_assert_msg(f, "get %s: %s", rel, strerror(-err));
    return f;
}

static struct sf_fcache_stats
stats(void)
{
    struct sf_fcache_stats s;
    sf_fcache_stats(fc, &s);
    return s;
}

static bool
fd_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

static int
count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static bool
fd_has(int fd, const char *content)
{
    char buf[256];
    ssize_t n = pread(fd, buf, sizeof(buf), 0);
    return n == (ssize_t)strlen(content) && memcmp(buf, content, (size_t)n) == 0;
}

/* Wait (bounded) for inotify events, then let the cache read them. */
static void
pump_inotify(void)
{
    ck_assert_msg(readable(sf_fcache_inotify_fd(fc), WAIT_MS), "no inotify event");
    sf_fcache_sync(fc);
}

static bool
log_has(const char *needle)
{
    char buf[8192];
    int fd = open(logpath, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return strstr(buf, needle) != NULL;
}

/* A child that opens rel for writing (blocking while a lease is held),
 * optionally replaces the content, and exits 0. */
static pid_t
spawn_writer(const char *rel, const char *content)
{
    char path[1024];
    rel_path(path, sizeof(path), rel);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(path, O_WRONLY);
        if (fd < 0)
            _exit(2);
        if (content) {
            size_t n = strlen(content);
            if (ftruncate(fd, 0) != 0 || write(fd, content, n) != (ssize_t)n)
                _exit(3);
        }
        close(fd);
        _exit(0);
    }
    return pid;
}

/* ------------------------------------------------------- refcounts */

/* small_file_budget: snapshots stop at the worker's budget, and the
 * bytes of an evicted snapshot come back to it. */
START_TEST(test_snapshot_budget)
{
    struct sf_fcache_opts o = {.max_entries = 1,
                               .small_file_size = 4096,
                               .small_file_budget = 4096,
                               .guard = SF_GUARD_OFF};
    fc = sf_fcache_new(&o, &lg);
    ck_assert_ptr_nonnull(fc);
    char text[3001];
    memset(text, 'x', 3000);
    text[3000] = '\0';
    unit_put(root, "a.txt", text);
    unit_put(root, "b.txt", text);
    unit_put(root, "c.txt", text);
    struct sf_file *a = get_ok("a.txt");
    ck_assert_ptr_nonnull(a->mem); /* 3000 of 4096 */
    sf_fcache_put(fc, a);
    struct sf_file *b = get_ok("b.txt");
    ck_assert_ptr_null(b->mem); /* a's copy still counted when b came */
    ck_assert_int_ge(b->fd, 0);
    sf_fcache_put(fc, b); /* b evicted a: its 3000 bytes are back */
    struct sf_file *c = get_ok("c.txt");
    ck_assert_ptr_nonnull(c->mem);
    sf_fcache_put(fc, c);
}
END_TEST

START_TEST(test_refcount_hit)
{
    fc = new_cache(16, 0, SF_GUARD_LEASE);
    unit_put(root, "a.txt", "alpha");
    int fds0 = count_fds();

    struct sf_file *f1 = get_ok("a.txt");
    ck_assert_int_eq(stats().misses, 1);
    ck_assert_int_eq(stats().hits, 0);
    struct sf_file *f2 = get_ok("a.txt");
    ck_assert_ptr_eq(f1, f2);
    ck_assert_int_eq(stats().misses, 1);
    ck_assert_int_eq(stats().hits, 1);
    ck_assert_int_eq(count_fds(), fds0 + 1); /* one fd for both */
    ck_assert(fd_has(f1->fd, "alpha"));
    ck_assert_int_eq(f1->st.st_size, 5);
    ck_assert_uint_gt(f1->etag_len, 2);
    ck_assert_int_eq(f1->etag[0], '"');
    /* Last-Modified made once, with the entry */
    char lm[SF_HTTPDATE_LEN + 1];
    sf_httpdate_format(f1->st.st_mtim.tv_sec, lm);
    ck_assert_str_eq(f1->lastmod, lm);

    sf_fcache_put(fc, f1);
    sf_fcache_put(fc, f2);
    /* the cache keeps its own reference */
    ck_assert_int_eq(stats().entries, 1);
    ck_assert(fd_open(f1->fd));
    struct sf_file *f3 = get_ok("a.txt");
    ck_assert_ptr_eq(f3, f1);
    ck_assert_int_eq(stats().hits, 2);
    ck_assert_int_eq(stats().misses, 1);

    /* what the caller records sticks to the entry */
    sf_fcache_set_type(f3, "text/plain");
    sf_fcache_set_variants(f3, 5u);
    sf_fcache_put(fc, f3);
    struct sf_file *f4 = get_ok("a.txt");
    ck_assert_str_eq(f4->ctype, "text/plain");
    ck_assert(f4->variants_known);
    ck_assert_uint_eq(f4->variants, 5u);
    sf_fcache_put(fc, f4);
    ck_assert_int_eq(count_fds(), fds0 + 1);
}
END_TEST

/* An abort callback: counts its calls. Like a connection's, it detaches
 * nothing (lbreak.h): the owner detaches later. */
struct rec {
    int calls;
};

static void
on_abort(void *arg)
{
    struct rec *r = arg;
    r->calls++;
}

/* How a reference outlives the entry's place in the cache. */
enum holder { HOLD_GET, HOLD_REF, HOLD_USER };
/* How the entry leaves the cache. */
enum dropper { DROP_EVICT, DROP_UNLINK, DROP_RENAME_OVER };

struct hold_case {
    enum holder hold;
    enum dropper drop;
};

static const struct hold_case hold_cases[] = {
    {HOLD_GET, DROP_EVICT},  {HOLD_GET, DROP_UNLINK},  {HOLD_GET, DROP_RENAME_OVER},
    {HOLD_REF, DROP_EVICT},  {HOLD_REF, DROP_UNLINK},  {HOLD_REF, DROP_RENAME_OVER},
    {HOLD_USER, DROP_EVICT}, {HOLD_USER, DROP_UNLINK}, {HOLD_USER, DROP_RENAME_OVER},
};

START_TEST(test_dropped_while_held)
{
    const struct hold_case *c = &hold_cases[_i];
    fc = new_cache(1, 0, SF_GUARD_LEASE);
    unit_mkdir(root, "d");
    unit_put(root, "d/a.txt", "old");
    unit_put(root, "d/b.txt", "bee");

    struct sf_file *f = get_ok("d/a.txt");
    struct rec r = {0};
    struct sf_file_user u = {.sending = true, .sock = -1, .abort = on_abort, .arg = &r};
    if (c->hold == HOLD_REF) {
        sf_fcache_ref(f);
        sf_fcache_put(fc, f);
    } else if (c->hold == HOLD_USER) {
        sf_fcache_attach(f, &u);
        ck_assert_ptr_eq(u.file, f);
        sf_fcache_put(fc, f);
    }
    int fd = f->fd;
    char path[1024], tmp[1024];
    rel_path(path, sizeof(path), "d/a.txt");
    rel_path(tmp, sizeof(tmp), "d/new");
    switch (c->drop) {
    case DROP_EVICT: {
        struct sf_file *b = get_ok("d/b.txt");
        sf_fcache_put(fc, b);
        ck_assert_int_eq(stats().evictions, 1);
        ck_assert_int_eq(stats().entries, 1);
        break;
    }
    case DROP_UNLINK:
        ck_assert_int_eq(unlink(path), 0);
        pump_inotify();
        ck_assert_int_eq(stats().entries, 0);
        break;
    case DROP_RENAME_OVER:
        unit_put(root, "d/new", "new content");
        pump_inotify(); /* the creation of d/new */
        ck_assert_int_eq(rename(tmp, path), 0);
        pump_inotify();
        ck_assert_int_eq(stats().entries, 0);
        break;
    }
    ck_assert_uint_ge(stats().invalidations + stats().evictions, 1);
    /* an in-flight response keeps its bytes, and its lease */
    ck_assert(fd_open(fd));
    ck_assert(fd_has(fd, "old"));
    ck_assert_int_eq(fcntl(fd, F_GETLEASE), F_RDLCK);
    ck_assert_int_eq(r.calls, 0);

    if (c->hold == HOLD_USER)
        sf_fcache_detach(&u);
    else
        sf_fcache_put(fc, f);
    ck_assert(!fd_open(fd));
    ck_assert_ptr_null(u.file);
    sf_fcache_detach(&u); /* NULL-safe once detached */
}
END_TEST

/* ---------------------------------------------------------- eviction */

struct evict_case {
    size_t max;
    const char *ops;  /* files to get (and put at once), in order */
    const char *want; /* H or M for each */
    unsigned evictions;
};

static const struct evict_case evict_cases[] = {
    {2, "abc", "MMM", 1},       {2, "abcc", "MMMH", 1},
    {2, "abca", "MMMM", 2},   /* a was the least recently used */
    {2, "abacb", "MMHMM", 2}, /* a used again: b goes, then a */
    {2, "abaca", "MMHMH", 1},   {1, "aab", "MHM", 1},
    {3, "abcabc", "MMMHHH", 0}, {3, "abcdabcd", "MMMMMMMM", 5},
    {0, "aa", "MM", 2}, /* nothing kept, still usable */
};

START_TEST(test_evict_table)
{
    const struct evict_case *c = &evict_cases[_i];
    fc = new_cache(c->max, 0, SF_GUARD_LEASE);
    for (const char *p = "abcd"; *p; p++) {
        char name[2] = {*p, 0};
        unit_put(root, name, name);
    }
    for (size_t i = 0; c->ops[i]; i++) {
        char name[2] = {c->ops[i], 0};
        uint64_t hits = stats().hits, misses = stats().misses;
        struct sf_file *f = get_ok(name);
        ck_assert(fd_has(f->fd, name));
        bool hit = stats().hits == hits + 1;
        ck_assert_msg(hit || stats().misses == misses + 1, "neither hit nor miss");
        ck_assert_msg(hit == (c->want[i] == 'H'), "%s with max %zu, op %zu (%s): got %s", c->ops,
                      c->max, i, name, hit ? "hit" : "miss");
        ck_assert_uint_le(stats().entries, c->max);
        sf_fcache_put(fc, f);
        ck_assert_uint_le(stats().entries, c->max);
    }
    ck_assert_uint_eq(stats().evictions, c->evictions);
}
END_TEST

/* ----------------------------------------------------- invalidation */

enum change { CH_RENAME_OVER, CH_WRITE, CH_UNLINK, CH_SIDECAR, CH_RENAME_PARENT, CH_CHMOD };

struct inval_case {
    const char *name;
    const char *rel;
    enum change ch;
    int err; /* of the next get */
    bool same_inode;
    const char *content; /* after, when err == 0 */
    const char *sfx;     /* CH_SIDECAR: ".gz" unless set */
};

static const struct inval_case inval_cases[] = {
    {"rename over", "d/file.txt", CH_RENAME_OVER, 0, false, "new!", NULL},
    {"write in place", "d/file.txt", CH_WRITE, 0, true, "written", NULL},
    {"unlink", "d/file.txt", CH_UNLINK, -ENOENT, false, NULL, NULL},
    {"sidecar .gz", "d/file.txt", CH_SIDECAR, 0, true, "old", NULL},
    {"sidecar .br", "d/file.txt", CH_SIDECAR, 0, true, "old", ".br"},
    {"sidecar .zst", "d/file.txt", CH_SIDECAR, 0, true, "old", ".zst"},
    {"rename parent", "d/file.txt", CH_RENAME_PARENT, -ENOENT, false, NULL, NULL},
    {"chmod", "d/file.txt", CH_CHMOD, 0, true, "old", NULL},
    {"rename over, root", "file.txt", CH_RENAME_OVER, 0, false, "new!", NULL},
    {"write in place, root", "file.txt", CH_WRITE, 0, true, "written", NULL},
    {"unlink, root", "file.txt", CH_UNLINK, -ENOENT, false, NULL, NULL},
    {"sidecar .gz, root", "file.txt", CH_SIDECAR, 0, true, "old", NULL},
};

/* Index: case * 4 + guard (OFF, LEASE) * 2 + held. */
START_TEST(test_inval_table)
{
    const struct inval_case *c = &inval_cases[_i / 4];
    enum sf_guard guard = (_i / 2) % 2 ? SF_GUARD_LEASE : SF_GUARD_OFF;
    bool held = _i % 2;
    fc = new_cache(16, 0, guard);
    unit_mkdir(root, "d");
    unit_put(root, c->rel, "old");

    struct sf_file *f = get_ok(c->rel);
    ino_t ino = f->st.st_ino;
    int fd = f->fd;
    ck_assert_int_eq(fcntl(fd, F_GETLEASE), guard == SF_GUARD_LEASE ? F_RDLCK : F_UNLCK);
    if (!held)
        sf_fcache_put(fc, f);
    ck_assert_int_eq(stats().misses, 1);

    char path[1024], other[1024];
    rel_path(path, sizeof(path), c->rel);
    switch (c->ch) {
    case CH_RENAME_OVER:
        fmt(other, sizeof(other), "%s.new", path);
        int wfd = open(other, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ck_assert_int_ge(wfd, 0);
        ck_assert_int_eq(write(wfd, "new!", 4), 4);
        close(wfd);
        ck_assert_int_eq(rename(other, path), 0);
        break;
    case CH_WRITE:
        if (guard == SF_GUARD_LEASE) {
            /* the writer waits for the lease: the signal comes first */
            pid_t pid = spawn_writer(c->rel, "written");
            ck_assert_msg(readable(sf_fcache_signal_fd(fc), WAIT_MS), "no lease break");
            sf_fcache_on_signal(fc);
            ck_assert_int_eq(stats().lease_breaks, 1);
            ck_assert_int_eq(wait_child(pid, WAIT_MS, true), 0);
        } else {
            int w = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
            ck_assert_int_ge(w, 0);
            ck_assert_int_eq(write(w, "written", 7), 7);
            close(w);
        }
        break;
    case CH_UNLINK: ck_assert_int_eq(unlink(path), 0); break;
    case CH_SIDECAR:
        fmt(other, sizeof(other), "%s%s", path, c->sfx ? c->sfx : ".gz");
        int gfd = open(other, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ck_assert_int_ge(gfd, 0);
        close(gfd);
        break;
    case CH_RENAME_PARENT:
        rel_path(path, sizeof(path), "d");
        rel_path(other, sizeof(other), "d.old");
        ck_assert_int_eq(rename(path, other), 0);
        break;
    case CH_CHMOD: ck_assert_int_eq(chmod(path, 0600), 0); break;
    }
    pump_inotify();
    ck_assert_msg(stats().entries == 0, "%s: still cached", c->name);

    if (held) {
        ck_assert(fd_open(fd));
        ck_assert(fd_has(fd, c->ch == CH_WRITE ? "written" : "old"));
        sf_fcache_put(fc, f);
    }
    ck_assert(!fd_open(fd));
    if (!held)
        ck_assert_uint_eq(stats().watches, 0);

    int err;
    struct sf_file *g = get_sym(c->rel, SF_SYMLINKS_BENEATH, &err);
    ck_assert_msg(err == c->err, "%s: get = %d, want %d", c->name, err, c->err);
    ck_assert_int_eq(stats().misses, 2);
    ck_assert_int_eq(stats().hits, 0);
    if (g) {
        ck_assert(fd_has(g->fd, c->content));
        ck_assert_int_eq(g->st.st_size, (off_t)strlen(c->content));
        ck_assert(c->same_inode ? g->st.st_ino == ino : g->st.st_ino != ino);
        ck_assert(!g->variants_known);
        sf_fcache_put(fc, g);
        /* and now it is cached again */
        g = get_ok(c->rel);
        ck_assert_int_eq(stats().hits, 1);
        sf_fcache_put(fc, g);
    } else {
        ck_assert_uint_eq(stats().watches, 0);
    }
}
END_TEST

/* Changes to other names leave the entry cached. */
START_TEST(test_unrelated_change_keeps)
{
    fc = new_cache(16, 0, SF_GUARD_LEASE);
    unit_mkdir(root, "d");
    unit_put(root, "d/file.txt", "old");
    sf_fcache_put(fc, get_ok("d/file.txt"));
    unit_put(root, "d/other.txt", "x");
    unit_put(root, "d/file.txt.old", "x");
    unit_put(root, "file.txt", "x");
    unit_mkdir(root, "d/file");
    pump_inotify();
    ck_assert_int_eq(stats().entries, 1);
    ck_assert_int_eq(stats().invalidations, 0);
    sf_fcache_put(fc, get_ok("d/file.txt"));
    ck_assert_int_eq(stats().hits, 1);
}
END_TEST

/* A directory moved while a file beneath it is in flight: the watch of
 * its subdirectory must not stand for the new directory of that name. */
START_TEST(test_moved_dir_rewatched)
{
    fc = new_cache(16, 0, SF_GUARD_OFF);
    unit_mkdir(root, "d");
    unit_mkdir(root, "d/e");
    unit_put(root, "d/e/f.txt", "one");
    struct sf_file *f = get_ok("d/e/f.txt"); /* in flight */

    char a[1024], b[1024];
    rel_path(a, sizeof(a), "d");
    rel_path(b, sizeof(b), "d.old");
    ck_assert_int_eq(rename(a, b), 0);
    pump_inotify();
    ck_assert_int_eq(stats().entries, 0);

    /* the new release */
    unit_mkdir(root, "d");
    unit_mkdir(root, "d/e");
    unit_put(root, "d/e/f.txt", "two");
    pump_inotify();
    struct sf_file *g = get_ok("d/e/f.txt");
    ck_assert(fd_has(g->fd, "two"));
    sf_fcache_put(fc, g);

    /* and the next one, by rename over */
    unit_put(root, "d/e/f.new", "three");
    rel_path(a, sizeof(a), "d/e/f.new");
    rel_path(b, sizeof(b), "d/e/f.txt");
    ck_assert_int_eq(rename(a, b), 0);
    if (readable(sf_fcache_inotify_fd(fc), 1000))
        sf_fcache_sync(fc);
    g = get_ok("d/e/f.txt");
    ck_assert_msg(fd_has(g->fd, "three"), "stale entry served after the directory was replaced");
    sf_fcache_put(fc, g);
    sf_fcache_put(fc, f);
}
END_TEST

/* A folder symlink swapped by rename (mv -T) while a download from it is
 * in flight: the next request sees the new target, and a deletion and a
 * rename over inside the new target are seen too. */
START_TEST(test_symlink_swap)
{
    fc = new_cache(16, 0, SF_GUARD_OFF);
    unit_mkdir(root, "releases");
    unit_mkdir(root, "releases/v1");
    unit_mkdir(root, "releases/v2");
    unit_put(root, "releases/v1/secret.txt", "one");
    unit_put(root, "releases/v2/secret.txt", "two");
    unit_put(root, "releases/v1/page.txt", "one");
    unit_put(root, "releases/v2/page.txt", "two");
    char a[1024], b[1024];
    rel_path(a, sizeof(a), "current");
    ck_assert_int_eq(symlink("releases/v1", a), 0);
    struct sf_file *f = get_ok("current/secret.txt"); /* in flight */
    ck_assert(fd_has(f->fd, "one"));

    rel_path(a, sizeof(a), "current.tmp");
    rel_path(b, sizeof(b), "current");
    ck_assert_int_eq(symlink("releases/v2", a), 0);
    ck_assert_int_eq(rename(a, b), 0);
    pump_inotify();
    struct sf_file *g = get_ok("current/secret.txt");
    ck_assert(fd_has(g->fd, "two"));
    sf_fcache_put(fc, g);
    g = get_ok("current/page.txt");
    sf_fcache_put(fc, g);

    rel_path(a, sizeof(a), "releases/v2/secret.txt");
    ck_assert_int_eq(unlink(a), 0);
    pump_inotify();
    int err;
    g = get_sym("current/secret.txt", SF_SYMLINKS_BENEATH, &err);
    ck_assert_msg(!g, "a file deleted from the new target was still served");
    ck_assert_int_eq(err, -ENOENT);

    unit_put(root, "releases/v2/page.new", "three");
    rel_path(a, sizeof(a), "releases/v2/page.new");
    rel_path(b, sizeof(b), "releases/v2/page.txt");
    ck_assert_int_eq(rename(a, b), 0);
    pump_inotify();
    g = get_ok("current/page.txt");
    ck_assert_msg(fd_has(g->fd, "three"), "a rename over in the new target was missed");
    sf_fcache_put(fc, g);
    ck_assert(fd_has(f->fd, "one")); /* the download goes on from v1 */
    sf_fcache_put(fc, f);
}
END_TEST

/* The lowest free descriptor number: a soft RLIMIT_NOFILE of it makes
 * the next open fail with EMFILE until one below it is closed. */
static int
lowest_free_fd(void)
{
    int fd = dup(0);
    ck_assert_int_ge(fd, 0);
    close(fd);
    return fd;
}

static void
set_soft_limit(rlim_t n)
{
    struct rlimit rl;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rl.rlim_cur = n;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

/* Out of descriptors: a miss lets go of the least recently used entries
 * no response uses and opens again; with every entry in use the miss
 * fails with -EMFILE (a 503, not a 500) and leaves nothing behind, so
 * that it works again as soon as the limit allows. */
START_TEST(test_emfile_reclaim)
{
    fc = new_cache(1000, 0, SF_GUARD_OFF);
    char name[32];
    struct sf_file *held[10];
    struct rlimit saved;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
    for (int i = 0; i < 40; i++) {
        fmt(name, sizeof(name), "f%02d.txt", i);
        unit_put(root, name, "x");
    }
    for (int i = 0; i < 30; i++) {
        fmt(name, sizeof(name), "f%02d.txt", i);
        struct sf_file *f = get_ok(name);
        if (i >= 20)
            held[i - 20] = f;
        else
            sf_fcache_put(fc, f);
    }
    ck_assert_uint_eq(stats().entries, 30);

    set_soft_limit((rlim_t)lowest_free_fd());
    struct sf_file *f = get_ok("f30.txt");
    ck_assert_uint_ge(stats().reclaimed, 1);
    ck_assert_uint_eq(stats().entries, 30 - 16 + 1); /* at least 16 go */
    for (int i = 0; i < 10; i++)
        ck_assert(fd_open(held[i]->fd) && fd_has(held[i]->fd, "x"));
    sf_fcache_put(fc, f);

    /* nothing left to let go: every entry is in use */
    while (sf_fcache_reclaim(fc) > 0)
        ;
    ck_assert_uint_eq(stats().entries, 10);
    set_soft_limit((rlim_t)lowest_free_fd());
    int err;
    ck_assert_ptr_null(get_sym("f31.txt", SF_SYMLINKS_BENEATH, &err));
    ck_assert_int_eq(err, -EMFILE);
    ck_assert_uint_eq(stats().entries, 10);

    /* load drops (here: the limit comes back): served again */
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
    f = get_ok("f31.txt");
    sf_fcache_put(fc, f);
    for (int i = 0; i < 10; i++)
        sf_fcache_put(fc, held[i]);
}
END_TEST

/* ---------------------------------------- directories and non-files */

struct err_case {
    const char *rel;
    enum sf_symlinks sym;
    int err;
};

static const struct err_case err_cases[] = {
    {"dir", SF_SYMLINKS_BENEATH, -EISDIR},         {"", SF_SYMLINKS_BENEATH, -EISDIR},
    {"link_dir", SF_SYMLINKS_BENEATH, -EISDIR},    {"fifo", SF_SYMLINKS_BENEATH, -EPERM},
    {"sock", SF_SYMLINKS_BENEATH, -ENXIO},         {"missing", SF_SYMLINKS_BENEATH, -ENOENT},
    {"dir/missing", SF_SYMLINKS_BENEATH, -ENOENT}, {"missing/x", SF_SYMLINKS_BENEATH, -ENOENT},
    {"file.txt/x", SF_SYMLINKS_BENEATH, -ENOTDIR}, {"link_out", SF_SYMLINKS_BENEATH, -EXDEV},
    {"link_abs", SF_SYMLINKS_BENEATH, -EXDEV},     {"link_in", SF_SYMLINKS_NONE, -ELOOP},
    {"link_in", SF_SYMLINKS_BENEATH, 0},           {"link_out", SF_SYMLINKS_FOLLOW, 0},
    {"dir/inner.txt", SF_SYMLINKS_NONE, 0},
};

START_TEST(test_err_table)
{
    const struct err_case *c = &err_cases[_i];
    fc = new_cache(16, 0, SF_GUARD_LEASE);
    unit_mkdir(root, "dir");
    unit_put(root, "dir/inner.txt", "inner");
    unit_put(root, "file.txt", "file");
    char path[1024], out[1024];
    rel_path(path, sizeof(path), "fifo");
    ck_assert_int_eq(mkfifo(path, 0644), 0);
    snprintf(out, sizeof(out), "%s/outside.txt", tdir);
    int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(ofd, 0);
    close(ofd);
    rel_path(path, sizeof(path), "link_out");
    ck_assert_int_eq(symlink("../outside.txt", path), 0);
    rel_path(path, sizeof(path), "link_abs");
    ck_assert_int_eq(symlink(out, path), 0);
    rel_path(path, sizeof(path), "link_in");
    ck_assert_int_eq(symlink("file.txt", path), 0);
    rel_path(path, sizeof(path), "link_dir");
    ck_assert_int_eq(symlink("dir", path), 0);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(s, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    rel_path(sun.sun_path, sizeof(sun.sun_path), "sock");
    ck_assert_int_eq(bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0);

    int fds0 = count_fds();
    int err = 1, dirfd = -2;
    struct sf_file *f = sf_fcache_get(fc, 0, rootfd, root, c->rel, c->sym, &err, &dirfd);
    ck_assert_msg(err == c->err, "\"%s\": err %d, want %d", c->rel, err, c->err);
    if (c->err == 0) {
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(dirfd, -1);
        ck_assert_int_eq(stats().entries, 1);
        sf_fcache_put(fc, f);
        ck_assert_int_eq(count_fds(), fds0 + 1);
    } else {
        ck_assert_ptr_null(f);
        if (c->err == -EISDIR) {
            struct stat st;
            ck_assert_int_ge(dirfd, 0);
            ck_assert_int_eq(fstat(dirfd, &st), 0);
            ck_assert(S_ISDIR(st.st_mode));
            close(dirfd);
        } else {
            ck_assert_int_eq(dirfd, -1);
        }
        ck_assert_int_eq(stats().entries, 0);
        ck_assert_uint_eq(stats().watches, 0); /* no watch left behind */
        ck_assert_int_eq(count_fds(), fds0);
    }
    close(s);
}
END_TEST

/* ------------------------------------------------------ small files */

struct small_case {
    size_t size, small;
    enum sf_guard guard;
    bool mem;
};

static const struct small_case small_cases[] = {
    {0, 16, SF_GUARD_LEASE, true},  {1, 16, SF_GUARD_LEASE, true},
    {16, 16, SF_GUARD_LEASE, true}, {17, 16, SF_GUARD_LEASE, false},
    {16, 0, SF_GUARD_LEASE, false}, {5000, 8192, SF_GUARD_LEASE, true},
    {16, 16, SF_GUARD_OFF, true},   {17, 16, SF_GUARD_OFF, false},
    {16, 16, SF_GUARD_STAT, false}, /* no lease: no true snapshot */
};

START_TEST(test_small_table)
{
    const struct small_case *c = &small_cases[_i];
    fc = new_cache(16, c->small, c->guard);
    unsigned char *want = malloc(c->size + 1);
    ck_assert_ptr_nonnull(want);
    for (size_t i = 0; i < c->size; i++)
        want[i] = (unsigned char)(i * 7 + 3); /* NULs included */
    char path[1024];
    rel_path(path, sizeof(path), "s.bin");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, want, c->size), (ssize_t)c->size);
    close(fd);

    struct sf_file *f = get_ok("s.bin");
    ck_assert_int_eq(f->st.st_size, (off_t)c->size);
    ck_assert_msg((f->mem != NULL) == c->mem, "size %zu, small %zu, guard %d: mem %p", c->size,
                  c->small, (int)c->guard, (const void *)f->mem);
    if (f->mem)
        ck_assert_int_eq(memcmp(f->mem, want, c->size), 0);
    sf_fcache_put(fc, f);
    /* a hit shares the snapshot */
    struct sf_file *g = get_ok("s.bin");
    ck_assert_ptr_eq(g->mem, f->mem);
    sf_fcache_put(fc, g);
    free(want);
}
END_TEST

/* Wire images: a new head gets a new image, twice in one second (the
 * first head of a second may carry the last second's Date, the worker's
 * clock being read when it woke, and the next one this second's), not a
 * third time; the current head finds its image, which holds head then
 * body. */
START_TEST(test_image_twice_a_second)
{
    enum { SIZE = 10000 };
    fc = new_cache(16, 16384, SF_GUARD_LEASE);
    char body[SIZE];
    for (size_t i = 0; i < SIZE; i++)
        body[i] = (char)('a' + i % 26);
    char path[1024];
    rel_path(path, sizeof(path), "i.bin");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, body, SIZE), SIZE);
    close(fd);
    struct sf_file *f = get_ok("i.bin");
    ck_assert_ptr_nonnull(f->mem);
    static const char *const heads[] = {
        "HTTP/1.1 200 OK\r\nDate: Sat, 05 Dec 2026 15:00:00 GMT\r\n\r\n",
        "HTTP/1.1 200 OK\r\nDate: Sat, 05 Dec 2026 15:00:01 GMT\r\n\r\n",
        "HTTP/1.1 200 OK\r\nDate: Sat, 05 Dec 2026 15:00:02 GMT\r\n\r\n",
    };
    size_t hlen = strlen(heads[0]);
    /* all within one second of the wall clock: tried again when it ticked */
    bool done = false;
    for (int round = 0; round < 5 && !done; round++) {
        time_t t0 = time(NULL);
        int a = sf_fcache_image(fc, f, heads[0], hlen);
        int b = sf_fcache_image(fc, f, heads[1], hlen);
        int c = sf_fcache_image(fc, f, heads[2], hlen);
        int again = sf_fcache_image(fc, f, heads[1], hlen);
        if (time(NULL) != t0)
            continue;
        if (round == 0)
            ck_assert_int_ge(a, 0); /* the first ever */
        ck_assert_msg(b >= 0, "round %d: no image for the second head of a second", round);
        ck_assert_int_eq(c, -1);
        ck_assert_int_eq(again, b);
        char got[SIZE + 128];
        ck_assert_int_eq(pread(b, got, sizeof(got), 0), (ssize_t)(hlen + SIZE));
        ck_assert_int_eq(memcmp(got, heads[1], hlen), 0);
        ck_assert_int_eq(memcmp(got + hlen, body, SIZE), 0);
        done = true;
    }
    ck_assert_msg(done, "the wall clock ticked in every round");
    sf_fcache_put(fc, f);
}
END_TEST

/* A cache full of files (a site with more files than the cache): a file
 * sent whole a second time gets its image by evicting the least recently
 * used file, the one sent once does not; the descriptors stay within
 * max_entries. */
START_TEST(test_image_in_a_full_cache)
{
    static char body[10001];
    memset(body, 'i', sizeof(body) - 1);
    fc = new_cache(2, 16384, SF_GUARD_LEASE);
    unit_put(root, "old.txt", "old");
    unit_put(root, "new.txt", "new");
    unit_put(root, "i.bin", body);
    sf_fcache_put(fc, get_ok("old.txt"));
    sf_fcache_put(fc, get_ok("new.txt"));
    struct sf_file *f = get_ok("i.bin"); /* evicts old.txt */
    ck_assert_ptr_nonnull(f->mem);
    ck_assert_uint_eq(stats().entries, 2);
    static const char head[] = "HTTP/1.1 200 OK\r\n\r\n";
    size_t hlen = strlen(head);
    uint64_t ev = stats().evictions;
    /* all within one second of the wall clock (two images a second) */
    bool done = false;
    for (int round = 0; round < 5 && !done; round++) {
        time_t t0 = time(NULL);
        int first = sf_fcache_image(fc, f, head, hlen);
        int second = sf_fcache_image(fc, f, head, hlen);
        if (time(NULL) != t0 && round < 4)
            continue;
        if (round == 0)
            ck_assert_int_eq(first, -1); /* sent once: nothing evicted for it */
        ck_assert_int_ge(second, 0);
        ck_assert_int_eq(sf_fcache_image(fc, f, head, hlen), second);
        char got[sizeof(body) + 64];
        ck_assert_int_eq(pread(second, got, sizeof(got), 0), (ssize_t)(hlen + sizeof(body) - 1));
        ck_assert_int_eq(memcmp(got + hlen, body, sizeof(body) - 1), 0);
        done = true;
    }
    ck_assert(done);
    /* new.txt, the least recently used, made room */
    ck_assert_uint_eq(stats().evictions, ev + 1);
    ck_assert_uint_eq(stats().entries, 1);
    ck_assert_uint_eq(stats().images, 1);
    uint64_t misses = stats().misses;
    sf_fcache_put(fc, get_ok("new.txt"));
    ck_assert_uint_eq(stats().misses, misses + 1);
    sf_fcache_put(fc, f);
}
END_TEST

/* ----------------------------------------------------------- guards */

struct guard_case {
    enum sf_guard guard;
    int lease;
    bool unchanged_after; /* sf_fcache_unchanged after an append */
};

static const struct guard_case guard_cases[] = {
    {SF_GUARD_LEASE, F_RDLCK, true},
    {SF_GUARD_STAT, F_UNLCK, false},
    {SF_GUARD_OFF, F_UNLCK, true},
};

START_TEST(test_guard_table)
{
    const struct guard_case *c = &guard_cases[_i];
    fc = new_cache(16, 0, c->guard);
    ck_assert_int_eq(sf_fcache_signal_fd(fc) >= 0, c->guard == SF_GUARD_LEASE);
    unit_put(root, "g.txt", "guarded");
    struct sf_file *f = get_ok("g.txt");
    ck_assert_int_eq((int)f->guard, (int)c->guard);
    ck_assert_int_eq(fcntl(f->fd, F_GETLEASE), c->lease);
    ck_assert(sf_fcache_unchanged(f));
    ck_assert_int_eq(stats().stat_fallbacks, 0);

    if (c->guard != SF_GUARD_LEASE) { /* a leased file is written by a child in other tests */
        char path[1024];
        rel_path(path, sizeof(path), "g.txt");
        int w = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        ck_assert_int_ge(w, 0);
        ck_assert_int_eq(write(w, "!", 1), 1);
        close(w);
        ck_assert_int_eq(sf_fcache_unchanged(f), c->unchanged_after);
    }
    sf_fcache_put(fc, f);

    if (c->guard == SF_GUARD_STAT) {
        /* even before inotify says so, a hit checks fstat */
        struct sf_file *g = get_ok("g.txt");
        ck_assert_int_eq(stats().hits, 0);
        ck_assert_int_eq(stats().misses, 2);
        ck_assert_int_eq(g->st.st_size, 8);
        ck_assert(sf_fcache_unchanged(g));
        sf_fcache_put(fc, g);
    }
}
END_TEST

/* Guarded by stat: losing the name (rename over, unlink) leaves the bytes
 * alone, so an in-flight send goes on; a chmod (ctime, links kept) or a
 * same-size rewrite does not. */
START_TEST(test_stat_guard_keeps_renamed)
{
    fc = new_cache(16, 0, SF_GUARD_STAT);
    char path[1024], other[1024];
    unit_put(root, "r.txt", "version1");
    unit_put(root, "new.txt", "version2");
    struct sf_file *f = get_ok("r.txt");
    rel_path(path, sizeof(path), "r.txt");
    rel_path(other, sizeof(other), "new.txt");
    ck_assert_int_eq(rename(other, path), 0);
    ck_assert_msg(sf_fcache_unchanged(f), "rename over the name cut the old file");
    sf_fcache_put(fc, f);

    f = get_ok("r.txt");
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_msg(sf_fcache_unchanged(f), "unlink cut the file");
    sf_fcache_put(fc, f);

    unit_put(root, "c.txt", "chmoded!");
    f = get_ok("c.txt");
    rel_path(path, sizeof(path), "c.txt");
    usleep(20000); /* let ctime move on a coarse clock */
    ck_assert_int_eq(chmod(path, 0600), 0);
    ck_assert(!sf_fcache_unchanged(f));
    sf_fcache_put(fc, f);
}
END_TEST

/* No lease while someone has the file open for writing: stat instead,
 * said once in the log. */
START_TEST(test_lease_fallback)
{
    fc = new_cache(16, 4096, SF_GUARD_LEASE);
    unit_put(root, "w.txt", "being written");
    char path[1024];
    rel_path(path, sizeof(path), "w.txt");
    int w = open(path, O_WRONLY | O_CLOEXEC);
    ck_assert_int_ge(w, 0);

    struct sf_file *f = get_ok("w.txt");
    ck_assert_int_eq((int)f->guard, (int)SF_GUARD_STAT);
    ck_assert_int_eq(fcntl(f->fd, F_GETLEASE), F_UNLCK);
    ck_assert_ptr_null(f->mem); /* not a true snapshot without a lease */
    ck_assert_int_eq(stats().stat_fallbacks, 1);
    ck_assert(log_has("[warn]"));
    ck_assert(log_has("w.txt: guarded by stat only (no lease): Resource temporarily unavailable"));
    ck_assert(sf_fcache_unchanged(f));
    ck_assert_int_eq(write(w, "!", 1), 1);
    ck_assert(!sf_fcache_unchanged(f));
    close(w);
    sf_fcache_put(fc, f);
}
END_TEST

/* ------------------------------------------------------ lease breaks */

/* What the cache does on a break, whomever lbreak cuts: the entry leaves
 * at once, the lease goes (the writer proceeds), the break is counted and
 * logged, a cut user stays attached (holding the old fd) until its owner
 * detaches it, and the next request opens the file anew. */
struct break_case {
    const char *name;
    bool sending;
    bool snapshot;
    unsigned cut;
};

static const struct break_case break_cases[] = {
    {"a user sending", true, false, 1},
    {"an idle user, no socket", false, false, 0},
    {"a user sending from a snapshot", true, true, 0},
};

START_TEST(test_break_table)
{
    const struct break_case *c = &break_cases[_i];
    fc = new_cache(16, c->snapshot ? 4096 : 0, SF_GUARD_LEASE);
    unit_put(root, "big.bin", "0123456789");

    /* the test keeps a reference so it can look at the fd afterwards */
    struct sf_file *f = get_ok("big.bin");
    ck_assert_int_eq(fcntl(f->fd, F_GETLEASE), F_RDLCK);
    ck_assert_int_eq(f->mem != NULL, c->snapshot);
    struct rec r = {0};
    struct sf_file_user u = {.sending = c->sending, .sock = -1, .abort = on_abort, .arg = &r};
    sf_fcache_attach(f, &u);

    pid_t pid = spawn_writer("big.bin", NULL);
    ck_assert_msg(readable(sf_fcache_signal_fd(fc), WAIT_MS), "no lease-break signal");
    ck_assert_int_eq(wait_child(pid, 50, false), -1); /* the writer waits for us */
    sf_fcache_on_signal(fc);

    ck_assert_msg(r.calls == (int)c->cut, "%s: abort called %d times", c->name, r.calls);
    ck_assert_ptr_eq(u.file, f); /* still attached: its owner detaches */
    ck_assert_int_eq(u.sending, c->sending && !c->cut);
    ck_assert_int_eq(fcntl(f->fd, F_GETLEASE), F_UNLCK);
    ck_assert_int_eq(wait_child(pid, WAIT_MS, true), 0); /* released at once */
    struct sf_fcache_stats s = stats();
    ck_assert_int_eq(s.lease_breaks, 1);
    ck_assert_int_eq(s.responses_cut, c->cut);
    ck_assert_int_eq(s.entries, 0);
    ck_assert(log_has(c->cut ? "[warn]" : "[info]"));
    ck_assert(log_has(c->cut ? "lease broken: big.bin is being changed: 1 response(s) cut"
                             : "lease broken: big.bin is being changed: 0 response(s) cut"));

    /* nothing more to read: a second call changes nothing */
    sf_fcache_on_signal(fc);
    ck_assert_int_eq(stats().lease_breaks, 1);
    ck_assert_int_eq(r.calls, (int)c->cut);

    /* the next request opens the file anew, with a new lease */
    struct sf_file *g = get_ok("big.bin");
    ck_assert_ptr_ne(g, f);
    ck_assert_int_eq(stats().misses, 2);
    ck_assert_int_eq(fcntl(g->fd, F_GETLEASE), F_RDLCK);
    sf_fcache_put(fc, g);

    int fd = f->fd;
    sf_fcache_put(fc, f);
    ck_assert(fd_open(fd)); /* the user's reference */
    sf_fcache_detach(&u);
    ck_assert(!fd_open(fd));
}
END_TEST

/* Several users of one file, as several connections downloading it: one
 * break cuts every one that sends, each once; all stay attached, and the
 * fd closes with the last detach. */
START_TEST(test_break_many_users)
{
    enum { N = 50 };
    fc = new_cache(16, 0, SF_GUARD_LEASE);
    unit_put(root, "m.bin", "many users");
    struct sf_file *f = get_ok("m.bin");
    int fd = f->fd;
    static struct rec r[N];
    static struct sf_file_user u[N];
    for (int i = 0; i < N; i++) {
        r[i].calls = 0;
        u[i] = (struct sf_file_user){
            .sending = i % 5 != 4, .sock = -1, .abort = on_abort, .arg = &r[i]};
        sf_fcache_attach(f, &u[i]);
    }
    sf_fcache_put(fc, f);

    pid_t pid = spawn_writer("m.bin", "changed");
    ck_assert(readable(sf_fcache_signal_fd(fc), WAIT_MS));
    sf_fcache_on_signal(fc);
    ck_assert_int_eq(wait_child(pid, WAIT_MS, true), 0);
    for (int i = 0; i < N; i++) {
        ck_assert_msg(r[i].calls == (i % 5 != 4), "user %d: abort called %d times", i, r[i].calls);
        ck_assert_ptr_eq(u[i].file, f);
    }
    ck_assert_int_eq(stats().responses_cut, N - N / 5);
    ck_assert_int_eq(stats().lease_breaks, 1);
    ck_assert(log_has("lease broken: m.bin is being changed: 40 response(s) cut"));
    for (int i = 0; i < N; i++) {
        ck_assert(fd_open(fd));
        sf_fcache_detach(&u[i]);
    }
    ck_assert(!fd_open(fd));
}
END_TEST

/* A signal naming an fd whose entry is gone, now reused by another
 * leased entry: ignored. */
START_TEST(test_stale_signal_reused_fd)
{
    fc = new_cache(16, 0, SF_GUARD_LEASE);
    unit_put(root, "a.txt", "aaaa");
    unit_put(root, "b.txt", "bbbb");
    struct sf_file *a = get_ok("a.txt");
    int x = a->fd;
    sf_fcache_put(fc, a);

    pid_t pid = spawn_writer("a.txt", NULL);
    ck_assert(readable(sf_fcache_signal_fd(fc), WAIT_MS)); /* names x */
    ck_assert_int_eq(wait_child(pid, 50, false), -1);

    /* a leaves (a sidecar appeared) before the signal is handled */
    unit_put(root, "a.txt.gz", "");
    pump_inotify();
    ck_assert_int_eq(stats().entries, 0);
    ck_assert(!fd_open(x));
    ck_assert_int_eq(wait_child(pid, WAIT_MS, true), 0); /* lease gone with the fd */

    struct sf_file *b = get_ok("b.txt");
    ck_assert_int_eq(b->fd, x); /* the fd number is reused */
    sf_fcache_put(fc, b);

    sf_fcache_on_signal(fc);
    ck_assert_int_eq(stats().lease_breaks, 0);
    ck_assert_int_eq(stats().entries, 1);
    ck_assert_int_eq(fcntl(x, F_GETLEASE), F_RDLCK);
    b = get_ok("b.txt");
    ck_assert_int_eq(stats().hits, 1);
    sf_fcache_put(fc, b);
}
END_TEST

/* The fd of a dropped entry reused by a plain open: a writer of the
 * first file no longer waits, and nothing is signalled. */
START_TEST(test_stale_no_lease)
{
    fc = new_cache(16, 0, SF_GUARD_LEASE);
    unit_put(root, "a.txt", "aaaa");
    unit_put(root, "b.txt", "bbbb");
    struct sf_file *a = get_ok("a.txt");
    int x = a->fd;
    sf_fcache_put(fc, a);
    unit_put(root, "a.txt.gz", "");
    pump_inotify();
    ck_assert(!fd_open(x));
    char path[1024];
    rel_path(path, sizeof(path), "b.txt");
    int y = open(path, O_RDONLY | O_CLOEXEC);
    ck_assert_int_eq(y, x);

    pid_t pid = spawn_writer("a.txt", "changed");
    ck_assert_int_eq(wait_child(pid, WAIT_MS, true), 0);
    ck_assert(!readable(sf_fcache_signal_fd(fc), 100));
    sf_fcache_on_signal(fc);
    ck_assert_int_eq(stats().lease_breaks, 0);
    ck_assert(fd_has(y, "bbbb"));
    close(y);
}
END_TEST

/* ------------------------------------------------------------- free */

START_TEST(test_free_closes_all)
{
    unit_mkdir(root, "d");
    unit_put(root, "d/a", "a");
    unit_put(root, "b", "b");
    unit_put(root, "c", "c");
    int fds0 = count_fds();
    fc = new_cache(16, 0, SF_GUARD_LEASE);
    const char *names[] = {"d/a", "b", "c"};
    for (size_t i = 0; i < 3; i++)
        sf_fcache_put(fc, get_ok(names[i]));
    ck_assert_int_eq(stats().entries, 3);
    ck_assert_uint_eq(stats().watches, 2);
    sf_fcache_free(fc);
    fc = NULL;
    ck_assert_int_eq(count_fds(), fds0);
    sf_fcache_free(NULL);
}
END_TEST

static Suite *
fcache_suite(void)
{
    Suite *s = suite_create("fcache");
    TCase *tc;

    tc = tcase_create("refs");
    tcase_add_unchecked_fixture(tc, setup_base, teardown_base);
    tcase_add_checked_fixture(tc, setup_tree, teardown_tree);
    tcase_add_test(tc, test_refcount_hit);
    tcase_add_test(tc, test_snapshot_budget);
    tcase_add_loop_test(tc, test_dropped_while_held, 0, (int)SF_ARRAY_LEN(hold_cases));
    tcase_add_loop_test(tc, test_evict_table, 0, (int)SF_ARRAY_LEN(evict_cases));
    tcase_add_test(tc, test_free_closes_all);
    tcase_add_test(tc, test_emfile_reclaim);
    suite_add_tcase(s, tc);

    tc = tcase_create("inotify");
    tcase_set_timeout(tc, 30);
    tcase_add_unchecked_fixture(tc, setup_base, teardown_base);
    tcase_add_checked_fixture(tc, setup_tree, teardown_tree);
    tcase_add_loop_test(tc, test_inval_table, 0, (int)SF_ARRAY_LEN(inval_cases) * 4);
    tcase_add_test(tc, test_unrelated_change_keeps);
    tcase_add_test(tc, test_moved_dir_rewatched);
    tcase_add_test(tc, test_symlink_swap);
    suite_add_tcase(s, tc);

    tc = tcase_create("open");
    tcase_add_unchecked_fixture(tc, setup_base, teardown_base);
    tcase_add_checked_fixture(tc, setup_tree, teardown_tree);
    tcase_add_loop_test(tc, test_err_table, 0, (int)SF_ARRAY_LEN(err_cases));
    tcase_add_loop_test(tc, test_small_table, 0, (int)SF_ARRAY_LEN(small_cases));
    tcase_add_test(tc, test_image_twice_a_second);
    tcase_add_test(tc, test_image_in_a_full_cache);
    tcase_add_test(tc, test_stat_guard_keeps_renamed);
    tcase_add_loop_test(tc, test_guard_table, 0, (int)SF_ARRAY_LEN(guard_cases));
    tcase_add_test(tc, test_lease_fallback);
    suite_add_tcase(s, tc);

    tc = tcase_create("lease");
    tcase_set_timeout(tc, 30);
    tcase_add_unchecked_fixture(tc, setup_base, teardown_base);
    tcase_add_checked_fixture(tc, setup_tree, teardown_tree);
    tcase_add_loop_test(tc, test_break_table, 0, (int)SF_ARRAY_LEN(break_cases));
    tcase_add_test(tc, test_break_many_users);
    tcase_add_test(tc, test_stale_signal_reused_fd);
    tcase_add_test(tc, test_stale_no_lease);
    suite_add_tcase(s, tc);

    return s;
}

int
main(void)
{
    return unit_run(fcache_suite());
}
