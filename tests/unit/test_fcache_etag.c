/*
 * test_fcache_etag.c - unit tests for the open-file cache's content ETags
 * (etag = content; fcache_etag.c) against a scratch tree: a snapshot is
 * hashed at once, a bigger file by the hashing thread while the mtime
 * ETag is sent, equal bytes give equal tags whatever the mtimes, a new
 * version a new tag; the attribute is written under the lease, found
 * again after the change its own write reports, and ignored for another
 * version; without a lease it is not written; a lease break cancels a
 * hash in progress; freeing the cache with a hash in progress closes
 * everything. Sites without the bit keep mtime ETags.
 *
 * Where the filesystem has no user attributes the attribute checks are
 * skipped with a message. Every wait is bounded.
 */
#include "sfhttpd/fcache.h"

#include "sfhttpd/common.h"
#include "sfhttpd/cond.h"
#include "sfhttpd/etag.h"
#include "sfhttpd/lease.h"
#include "sfhttpd/log.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "unit_util.h"

#define WAIT_MS 30000
#define BIG (1024 * 1024 + 17)

static char tdir[256], root[300], logpath[300];
static int rootfd = -1;
static struct sf_log lg;
static struct sf_fcache *fc;
static bool have_xattr;

static void
setup(void)
{
    unit_tmpdir(tdir, sizeof(tdir), "sf_fcetag");
    snprintf(root, sizeof(root), "%s/root", tdir);
    snprintf(logpath, sizeof(logpath), "%s/error.log", tdir);
    ck_assert_int_eq(mkdir(root, 0755), 0);
    rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(rootfd, 0);
    memset(&lg, 0, sizeof(lg));
    lg.err_fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    lg.access_fd = -1;
    lg.level = SF_LOG_DEBUG;
    /* does this filesystem keep user attributes? */
    have_xattr = setxattr(root, "user.sfhttpd.probe", "1", 1, 0) == 0;
    fc = NULL;
}

static void
teardown(void)
{
    sf_fcache_free(fc);
    fc = NULL;
    close(lg.err_fd);
    close(rootfd);
    unit_rmtree(tdir);
}

/* A cache whose site 0 has content ETags (site 1 does not). */
static struct sf_fcache *
new_cache(size_t small, enum sf_guard guard)
{
    struct sf_fcache_opts o = {
        .max_entries = 64, .small_file_size = small, .guard = guard, .content_etag_sites = 1};
    struct sf_fcache *c = sf_fcache_new(&o, &lg);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_ge(sf_fcache_hasher_fd(c), 0);
    if (guard == SF_GUARD_LEASE) {
        int fds[8];
        bool overflow;
        while (sf_lease_read_breaks(sf_fcache_signal_fd(c), fds, 8, &overflow) > 0 || overflow)
            ;
    }
    return c;
}

static void
path_of(char *out, size_t cap, const char *rel)
{
    int n = snprintf(out, cap, "%s/%s", root, rel);
    ck_assert(n > 0 && (size_t)n < cap);
}

/* rel with n bytes of pattern seed (written elsewhere and renamed in, as
 * a deploy does), its mtime set to sec. The expected content ETag goes
 * to tag. */
static void
put(const char *rel, size_t n, unsigned seed, long long sec, char *tag)
{
    char path[512], tmp[520];
    path_of(path, sizeof(path), rel);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    unsigned char *b = malloc(n);
    ck_assert_ptr_nonnull(b);
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(i * seed + (i >> 10));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, b, n), (ssize_t)n);
    struct timespec ts[2] = {{sec, 0}, {sec, 123}};
    ck_assert_int_eq(futimens(fd, ts), 0);
    close(fd);
    ck_assert_int_eq(rename(tmp, path), 0);
    if (tag) {
        struct sf_etag_hash h;
        sf_etag_hash_mem(b, n, &h);
        sf_etag_format(tag, 64, &h);
    }
    free(b);
}

static struct sf_file *
get_site(unsigned site, const char *rel)
{
    int err, dirfd;
    struct sf_file *f =
        sf_fcache_get(fc, site, rootfd, root, rel, SF_SYMLINKS_BENEATH, &err, &dirfd);
    ck_assert_msg(f, "get %s: %s", rel, strerror(-err));
    return f;
}

static struct sf_file *
get(const char *rel)
{
    return get_site(0, rel);
}

static struct sf_fcache_stats
stats(void)
{
    struct sf_fcache_stats s;
    sf_fcache_stats(fc, &s);
    return s;
}

/* The mtime ETag of f's version. */
static void
mtime_tag(const struct sf_file *f, char *out)
{
    sf_cond_etag(out, 48, (unsigned long long)f->st.st_size, (long long)f->st.st_mtim.tv_sec,
                 f->st.st_mtim.tv_nsec);
}

/* Take the hashes the thread finished until f has its content ETag
 * (bounded). */
static void
wait_hashed(const struct sf_file *f)
{
    long long end = now_ms() + WAIT_MS;
    while (f->etag_alt_len == 0 && now_ms() < end) {
        if (readable(sf_fcache_hasher_fd(fc), 100))
            sf_fcache_on_hashed(fc);
    }
    ck_assert_msg(f->etag_alt_len > 0, "no content ETag after %d ms", WAIT_MS);
}

/* Let the cache read what inotify has (bounded wait for it). */
static void
pump_inotify(void)
{
    ck_assert_msg(readable(sf_fcache_inotify_fd(fc), WAIT_MS), "no inotify event");
    sf_fcache_sync(fc);
}

static bool
has_record(const char *rel)
{
    char path[512], rec[SF_ETAG_RECORD_MAX];
    path_of(path, sizeof(path), rel);
    return getxattr(path, SF_ETAG_XATTR, rec, sizeof(rec)) > 0;
}

START_TEST(test_snapshot_hashed_at_once)
{
    char want[64], mt[48];
    fc = new_cache(4096, SF_GUARD_LEASE);
    put("s.txt", 1000, 3, 1600000000, want);
    struct sf_file *f = get("s.txt");
    ck_assert_ptr_nonnull(f->mem);
    ck_assert_str_eq(f->etag, want);
    ck_assert_uint_eq(f->etag_len, SF_ETAG_CONTENT_LEN);
    mtime_tag(f, mt);
    ck_assert_str_eq(f->etag_alt, mt);
    ck_assert_uint_eq(f->etag_alt_len, strlen(mt));
    ck_assert_uint_eq(stats().hashed, 1);
    ck_assert_uint_eq(stats().hash_stored, have_xattr ? 1 : 0);
    ck_assert_int_eq(has_record("s.txt"), have_xattr);
    sf_fcache_put(fc, f);
}
END_TEST

START_TEST(test_other_site_keeps_mtime)
{
    char mt[48];
    fc = new_cache(4096, SF_GUARD_LEASE);
    put("m.txt", 1000, 3, 1600000000, NULL);
    struct sf_file *f = get_site(1, "m.txt");
    mtime_tag(f, mt);
    ck_assert_str_eq(f->etag, mt);
    ck_assert_uint_eq(f->etag_alt_len, 0);
    ck_assert_uint_eq(stats().hashed + stats().hash_stored, 0);
    ck_assert(!has_record("m.txt"));
    sf_fcache_put(fc, f);
}
END_TEST

/* Sizes: a snapshot (hashed at once) and a file for the thread. */
static const size_t copy_sizes[] = {1000, BIG};

START_TEST(test_copies_agree)
{
    size_t n = copy_sizes[_i];
    char want[64], want2[64];
    fc = new_cache(4096, SF_GUARD_LEASE);
    put("a.bin", n, 5, 1500000000, want);
    put("b.bin", n, 5, 1700000000, NULL);  /* the same bytes, another mtime */
    put("c.bin", n, 6, 1500000000, want2); /* other bytes, a's size and mtime */
    struct sf_file *a = get("a.bin"), *b = get("b.bin"), *c = get("c.bin");
    if (n > 4096) {
        /* until the thread is done: the mtime ETag, nothing else */
        char mt[48];
        mtime_tag(a, mt);
        ck_assert_str_eq(a->etag, mt);
        ck_assert_uint_eq(a->etag_alt_len, 0);
        wait_hashed(a);
        wait_hashed(b);
        wait_hashed(c);
    }
    ck_assert_str_eq(a->etag, want);
    ck_assert_str_eq(b->etag, want);
    ck_assert_str_eq(c->etag, want2);
    ck_assert_str_ne(a->etag, c->etag);
    ck_assert_str_ne(a->etag_alt, b->etag_alt); /* the mtime tags differ */
    ck_assert_str_eq(a->etag_alt, c->etag_alt); /* and do not see the bytes */
    ck_assert_uint_eq(stats().hashed, 3);
    sf_fcache_put(fc, a);
    sf_fcache_put(fc, b);
    sf_fcache_put(fc, c);
}
END_TEST

/* A big file: hashed by the thread, stored; its own attribute write is a
 * change inotify reports, so the entry is opened again once, and then
 * takes its hash from the attribute without hashing. A new version gets
 * a new tag. */
START_TEST(test_thread_store_reuse_change)
{
    char want[64], want2[64];
    fc = new_cache(4096, SF_GUARD_LEASE);
    put("big.bin", BIG, 7, 1600000000, want);
    struct sf_file *f = get("big.bin");
    wait_hashed(f);
    ck_assert_str_eq(f->etag, want);
    ck_assert_uint_eq(stats().hashed, 1);
    sf_fcache_put(fc, f);
    if (!have_xattr) {
        fprintf(stderr, "test_thread_store_reuse_change: no user attributes: reuse skipped\n");
    } else {
        ck_assert_uint_eq(stats().hash_stored, 1);
        ck_assert(has_record("big.bin"));
        pump_inotify(); /* our own write: the entry goes */
        f = get("big.bin");
        ck_assert_str_eq(f->etag, want); /* at once */
        ck_assert_uint_gt(f->etag_alt_len, 0);
        ck_assert_uint_eq(stats().hash_reused, 1);
        ck_assert_uint_eq(stats().hashed, 1);
        ck_assert_uint_eq(stats().hash_stored, 1);
        sf_fcache_put(fc, f);
    }
    put("big.bin", BIG, 8, 1600000000, want2); /* same size and mtime, new bytes */
    pump_inotify();
    f = get("big.bin");
    wait_hashed(f);
    ck_assert_str_eq(f->etag, want2);
    ck_assert_str_ne(want, want2);
    sf_fcache_put(fc, f);
}
END_TEST

/* A record for another version (as a copy keeps it after the file was
 * edited) is not taken: the file is hashed and the record replaced. */
START_TEST(test_stale_record)
{
    char want[64], path[512];
    if (!have_xattr) {
        fprintf(stderr, "test_stale_record: no user attributes: skipped\n");
        return;
    }
    fc = new_cache(4096, SF_GUARD_LEASE);
    put("e.txt", 500, 9, 1600000000, want);
    path_of(path, sizeof(path), "e.txt");
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    st.st_mtim.tv_sec -= 1;
    struct sf_etag_hash bogus = {1, 2}, back;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ck_assert_int_eq(sf_etag_xattr_set(fd, &st, &bogus), 0);
    struct sf_file *f = get("e.txt");
    ck_assert_str_eq(f->etag, want);
    ck_assert_uint_eq(stats().hashed, 1);
    ck_assert_uint_eq(stats().hash_reused, 0);
    ck_assert_int_eq(fstat(fd, &st), 0);
    ck_assert_int_eq(sf_etag_xattr_get(fd, &st, &back), 0);
    ck_assert_uint_ne(back.hi, 1);
    close(fd);
    sf_fcache_put(fc, f);
}
END_TEST

/* Without a lease (file_guard = stat) the thread's hash counts once the
 * stat after it equals the entry's; nothing is written. */
START_TEST(test_no_lease_no_store)
{
    char want[64];
    fc = new_cache(4096, SF_GUARD_STAT);
    put("n.bin", BIG, 4, 1600000000, want);
    struct sf_file *f = get("n.bin");
    ck_assert_ptr_null(f->mem);
    wait_hashed(f);
    ck_assert_str_eq(f->etag, want);
    ck_assert_uint_eq(stats().hash_stored, 0);
    ck_assert(!has_record("n.bin"));
    sf_fcache_put(fc, f);
}
END_TEST

/* A file the thread cannot finish for the test's length (1 TiB, sparse)
 * is being hashed when a writer opens it: the break uncaches the entry
 * and cancels its hash; the entry keeps its mtime ETag, and the writer
 * proceeds. */
START_TEST(test_break_cancels_hash)
{
    char path[512];
    fc = new_cache(4096, SF_GUARD_LEASE);
    path_of(path, sizeof(path), "tera.bin");
    int w = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    ck_assert_int_ge(w, 0);
    ck_assert_int_eq(ftruncate(w, 1LL << 40), 0);
    close(w);
    struct sf_file *f = get("tera.bin");
    ck_assert_int_eq(fcntl(f->fd, F_GETLEASE), F_RDLCK);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(path, O_WRONLY);
        _exit(fd >= 0 ? 0 : 2);
    }
    ck_assert_msg(readable(sf_fcache_signal_fd(fc), WAIT_MS), "no lease-break signal");
    sf_fcache_on_signal(fc);
    ck_assert_int_eq(wait_child(pid, WAIT_MS, true), 0);
    ck_assert_uint_eq(stats().lease_breaks, 1);
    ck_assert_msg(readable(sf_fcache_hasher_fd(fc), WAIT_MS), "the hash was not stopped");
    sf_fcache_on_hashed(fc);
    ck_assert_uint_eq(f->etag_alt_len, 0);
    ck_assert_uint_eq(stats().hashed, 0);
    sf_fcache_put(fc, f);
}
END_TEST

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

/* Freeing the cache while the thread hashes: every fd closes. */
START_TEST(test_free_while_hashing)
{
    char path[512];
    path_of(path, sizeof(path), "tera.bin");
    int w = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    ck_assert_int_ge(w, 0);
    ck_assert_int_eq(ftruncate(w, 1LL << 40), 0);
    close(w);
    put("x.bin", BIG, 2, 1600000000, NULL);
    int fds0 = count_fds();
    fc = new_cache(4096, SF_GUARD_LEASE);
    sf_fcache_put(fc, get("tera.bin"));
    sf_fcache_put(fc, get("x.bin")); /* queued behind it */
    sf_fcache_free(fc);
    fc = NULL;
    ck_assert_int_eq(count_fds(), fds0);
}
END_TEST

static Suite *
fcache_etag_suite(void)
{
    Suite *s = suite_create("fcache_etag");
    TCase *tc = tcase_create("content");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_snapshot_hashed_at_once);
    tcase_add_test(tc, test_other_site_keeps_mtime);
    tcase_add_loop_test(tc, test_copies_agree, 0, (int)SF_ARRAY_LEN(copy_sizes));
    tcase_add_test(tc, test_thread_store_reuse_change);
    tcase_add_test(tc, test_stale_record);
    tcase_add_test(tc, test_no_lease_no_store);
    tcase_add_test(tc, test_break_cancels_hash);
    tcase_add_test(tc, test_free_while_hashing);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(fcache_etag_suite());
}
