/*
 * test_fneg.c - missing names remembered (fneg.h): a second lookup of a
 * missing name opens nothing (the file cache counts no second miss) and
 * answers -ENOENT; its creation, reported by inotify, makes the next
 * lookup find the file; an index name probed in a folder, a folder moved
 * away, a queue overflow; names in folders that cannot be watched are
 * not remembered; the LRU bound.
 */
#include "sfhttpd/fneg.h"
#include "sfhttpd/fcache.h"
#include "sfhttpd/fwatch.h"
#include "sfhttpd/log.h"
#include "unit_util.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tdir[256], root[300];
static int rootfd = -1;
static struct sf_log lg;
static struct sf_fcache *fc;
static struct sf_fneg *neg;

static void
setup(void)
{
    unit_tmpdir(tdir, sizeof(tdir), "sf_fneg");
    snprintf(root, sizeof(root), "%s/root", tdir);
    ck_assert_int_eq(mkdir(root, 0755), 0);
    rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(rootfd, 0);
    memset(&lg, 0, sizeof(lg));
    lg.err_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    lg.access_fd = -1;
    lg.level = SF_LOG_WARN;
    struct sf_fcache_opts o = {.max_entries = 64, .small_file_size = 4096, .guard = SF_GUARD_OFF};
    fc = sf_fcache_new(&o, &lg);
    ck_assert_ptr_nonnull(fc);
    ck_assert_int_ge(sf_fcache_inotify_fd(fc), 0);
}

static void
teardown(void)
{
    sf_fneg_free(neg);
    neg = NULL;
    sf_fcache_free(fc);
    fc = NULL;
    close(lg.err_fd);
    close(rootfd);
    unit_rmtree(tdir);
}

static void
put(const char *rel, const char *text)
{
    char p[600];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void
mk(const char *rel)
{
    char p[600];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    ck_assert_int_eq(mkdir(p, 0755), 0);
}

/* Look rel up; the file (put by the caller) or NULL with *err. */
static struct sf_file *
get(const char *rel, int *err)
{
    int dirfd;
    struct sf_file *f = sf_fneg_get(neg, fc, 0, rootfd, root, rel, 0, err, &dirfd);
    if (dirfd >= 0)
        close(dirfd);
    return f;
}

static void
assert_missing(const char *rel)
{
    int err = 0;
    ck_assert_ptr_null(get(rel, &err));
    ck_assert_int_eq(err, -ENOENT);
}

static uint64_t
misses(void)
{
    struct sf_fcache_stats st;
    sf_fcache_stats(fc, &st);
    return st.misses;
}

static struct sf_fneg_stats
nstats(void)
{
    struct sf_fneg_stats st;
    sf_fneg_stats(neg, &st);
    return st;
}

START_TEST(test_remembered_then_created)
{
    neg = sf_fneg_new(sf_fcache_fwatch(fc), 16);
    ck_assert_ptr_nonnull(neg);
    assert_missing("nope.txt");
    ck_assert_uint_eq(misses(), 1);
    ck_assert_uint_eq(nstats().entries, 1);
    /* the folder stays watched for it */
    struct sf_fcache_stats st;
    sf_fcache_stats(fc, &st);
    ck_assert_uint_eq(st.watches, 1);
    for (int i = 0; i < 5; i++)
        assert_missing("nope.txt");
    /* answered from memory: no open tried again */
    ck_assert_uint_eq(misses(), 1);
    ck_assert_uint_eq(nstats().hits, 5);
    /* created: reported, forgotten, found */
    put("nope.txt", "here now\n");
    sf_fcache_sync(fc);
    ck_assert_uint_eq(nstats().entries, 0);
    int err = 0;
    struct sf_file *f = get("nope.txt", &err);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->st.st_size, 9);
    sf_fcache_put(fc, f);
}
END_TEST

START_TEST(test_index_probe)
{
    neg = sf_fneg_new(sf_fcache_fwatch(fc), 16);
    mk("d");
    assert_missing("d/index.html");
    assert_missing("d/index.html");
    ck_assert_uint_eq(misses(), 1);
    put("d/index.html", "<p>hi</p>\n");
    sf_fcache_sync(fc);
    int err = 0;
    struct sf_file *f = get("d/index.html", &err);
    ck_assert_ptr_nonnull(f);
    sf_fcache_put(fc, f);
}
END_TEST

START_TEST(test_folder_moved)
{
    neg = sf_fneg_new(sf_fcache_fwatch(fc), 16);
    mk("a");
    mk("b");
    put("b/x.txt", "x\n");
    assert_missing("a/x.txt");
    ck_assert_uint_eq(nstats().entries, 1);
    /* a folder holding x.txt moved in under the name: the entry goes */
    char from[600], to[600], aside[600];
    snprintf(from, sizeof(from), "%s/b", root);
    snprintf(to, sizeof(to), "%s/a", root);
    snprintf(aside, sizeof(aside), "%s/old-a", root);
    ck_assert_int_eq(rename(to, aside), 0);
    ck_assert_int_eq(rename(from, to), 0);
    sf_fcache_sync(fc);
    ck_assert_uint_eq(nstats().entries, 0);
    int err = 0;
    struct sf_file *f = get("a/x.txt", &err);
    ck_assert_ptr_nonnull(f);
    sf_fcache_put(fc, f);
}
END_TEST

START_TEST(test_unwatchable_not_remembered)
{
    neg = sf_fneg_new(sf_fcache_fwatch(fc), 16);
    /* no such folder: no watch to hold, nothing remembered */
    assert_missing("nodir/x.txt");
    ck_assert_uint_eq(nstats().entries, 0);
    assert_missing("nodir/x.txt");
    ck_assert_uint_eq(misses(), 2);
    /* a file in the way (ENOTDIR) is not remembered either */
    put("f.txt", "f\n");
    int err = 0;
    ck_assert_ptr_null(get("f.txt/x", &err));
    ck_assert_int_eq(err, -ENOTDIR);
    ck_assert_uint_eq(nstats().entries, 0);
}
END_TEST

START_TEST(test_bound)
{
    neg = sf_fneg_new(sf_fcache_fwatch(fc), 2);
    assert_missing("m1");
    assert_missing("m2");
    assert_missing("m1"); /* m1 used last: m2 goes first */
    assert_missing("m3");
    ck_assert_uint_eq(nstats().entries, 2);
    uint64_t before = misses();
    assert_missing("m1");
    assert_missing("m3");
    ck_assert_uint_eq(misses(), before);
    assert_missing("m2");
    ck_assert_uint_eq(misses(), before + 1);
}
END_TEST

START_TEST(test_null_is_plain_lookup)
{
    ck_assert_ptr_null(neg);
    assert_missing("nope.txt");
    assert_missing("nope.txt");
    ck_assert_uint_eq(misses(), 2);
    struct sf_fneg_stats st = nstats();
    ck_assert_uint_eq(st.entries, 0);
}
END_TEST

static Suite *
fneg_suite(void)
{
    Suite *s = suite_create("fneg");
    TCase *tc = tcase_create("fneg");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_remembered_then_created);
    tcase_add_test(tc, test_index_probe);
    tcase_add_test(tc, test_folder_moved);
    tcase_add_test(tc, test_unwatchable_not_remembered);
    tcase_add_test(tc, test_bound);
    tcase_add_test(tc, test_null_is_plain_lookup);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run_mode(fneg_suite(), true);
}
