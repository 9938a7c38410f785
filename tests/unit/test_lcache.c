/*
 * test_lcache.c - the listing cache against a scratch tree and a real
 * inotify watch tree: a second request for an unchanged folder reads no
 * directory (the cache's own read counter, which counts every
 * sf_listing_read) and is sent from the memfd; another order is rendered
 * from what was read; every kind of change that alters a row drops the
 * folder (a table: create, delete, rename in, out and over, write, touch,
 * mkdir, rmdir, a link made), and the next listing shows the change; what
 * no event reports (a subfolder's contents, a link's target) is caught on
 * the hit; a folder replaced under a watched parent; the bounds on
 * folders and bytes; an unwatchable folder is read every time; a page
 * dropped while being sent stays readable. Every wait is bounded.
 */
#include "sfhttpd/fwatch.h"
#include "sfhttpd/lcache.h"
#include "sfhttpd/log.h"
#include "sfhttpd/resolve.h"

#include <check.h>

#include "unit_util.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAIT_MS 5000

static char base[256], root[600], other[600];
static struct sf_log lg;
static struct sf_fwatch *fw;
static struct sf_lcache *lc;
static int rootfd = -1;

static void
ignore(void *arg, unsigned site, const char *rel, unsigned what)
{
    (void)arg, (void)site, (void)rel, (void)what;
}

static const char *
abs_path(int slot, const char *rel)
{
    static char buf[4][1024];
    snprintf(buf[slot], sizeof(buf[slot]), "%s%s%s", root, rel[0] ? "/" : "", rel);
    return buf[slot];
}

static void
start(size_t max_bytes, size_t max_dirs)
{
    unit_tmpdir(base, sizeof(base), "sf_lcache");
    snprintf(root, sizeof(root), "%s/root", base);
    snprintf(other, sizeof(other), "%s/other", base);
    ck_assert_int_eq(mkdir(root, 0755), 0);
    ck_assert_int_eq(mkdir(other, 0755), 0);
    memset(&lg, 0, sizeof(lg));
    lg.err_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    lg.access_fd = -1;
    lg.level = SF_LOG_DEBUG;
    fw = sf_fwatch_new(&lg, ignore, NULL);
    ck_assert_ptr_nonnull(fw);
    ck_assert_int_ge(sf_fwatch_fd(fw), 0);
    struct sf_lcache_opts o = {.max_bytes = max_bytes, .max_dirs = max_dirs};
    lc = sf_lcache_new(&o, fw, &lg);
    ck_assert_ptr_nonnull(lc);
    rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(rootfd, 0);
    unit_mkdir(root, "d");
    unit_put(root, "d/a.txt", "aaaa");
    unit_put(root, "d/b.txt", "bb");
    unit_mkdir(root, "d/sub");
}

static void
setup(void)
{
    start(1 << 20, 16);
}

static void
teardown(void)
{
    sf_lcache_free(lc);
    lc = NULL;
    ck_assert_uint_eq(sf_fwatch_count(fw), 0); /* every watch was put */
    sf_fwatch_free(fw);
    close(rootfd);
    close(lg.err_fd);
    unit_rmtree(base);
}

/* Wait (bounded) for events and apply them, as sf_fcache_sync does. */
static void
pump(void)
{
    ck_assert_msg(readable(sf_fwatch_fd(fw), WAIT_MS), "no inotify event");
    usleep(20000); /* a rename's pair arrives whole */
    sf_fwatch_read(fw);
}

struct page {
    char *text;   /* NUL-terminated */
    bool from_fd; /* sent from the cache's memfd */
    int fd;       /* kept open when keep_fd */
};

/* The listing of rel (JSON unless html), through the cache. */
static struct page
get_view(const char *rel, bool html, enum sf_listing_sort sort, bool desc, const char *root_path,
         bool keep_fd)
{
    int dfd = open(abs_path(1, rel), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(dfd, 0);
    char url[256];
    snprintf(url, sizeof(url), "/%s%s", rel, rel[0] ? "/" : "");
    struct sf_lcache_req q = {
        .site = 3,
        .root_path = root_path,
        .dirfd = dfd,
        .url_path = url,
        .opts = {.rootfd = rootfd, .rel = rel, .how = SF_SYMLINKS_BENEATH | SF_RESOLVE_NO_HIDDEN},
        .view = {html ? SF_LISTING_HTML : SF_LISTING_JSON, sort, desc},
    };
    struct sf_buf buf = {0};
    struct sf_lcache_body body;
    ck_assert_int_eq(sf_lcache_get(lc, &q, &buf, &body), 0);
    close(dfd);
    struct page p = {.from_fd = body.fd >= 0, .fd = -1};
    p.text = malloc(body.len + 1);
    ck_assert_ptr_nonnull(p.text);
    if (body.fd >= 0) {
        ck_assert_int_eq(pread(body.fd, p.text, body.len, (off_t)body.off), (ssize_t)body.len);
        if (keep_fd)
            p.fd = body.fd;
        else
            close(body.fd);
    } else {
        ck_assert_uint_eq(buf.len, body.len);
        memcpy(p.text, buf.data, body.len);
    }
    p.text[body.len] = '\0';
    sf_buf_free(&buf);
    return p;
}

static struct page
get(const char *rel)
{
    return get_view(rel, false, SF_LISTING_BY_NAME, false, root, false);
}

static struct sf_lcache_stats
stats(void)
{
    struct sf_lcache_stats st;
    sf_lcache_stats(lc, &st);
    return st;
}

START_TEST(test_hit_reads_nothing)
{
    struct page a = get("d");
    ck_assert(!a.from_fd);
    ck_assert_uint_eq(stats().reads, 1);
    for (int i = 0; i < 5; i++) {
        sf_fwatch_read(fw); /* nothing happened: nothing dropped */
        struct page b = get("d");
        ck_assert(b.from_fd);
        ck_assert_str_eq(a.text, b.text);
        free(b.text);
    }
    struct sf_lcache_stats st = stats();
    ck_assert_uint_eq(st.reads, 1);
    ck_assert_uint_eq(st.hits, 5);
    ck_assert_uint_eq(st.drops, 0);
    ck_assert_uint_eq(st.dirs, 1);
    ck_assert_uint_gt(st.bytes, strlen(a.text));
    ck_assert_ptr_nonnull(strstr(a.text, "{\"name\":\"a.txt\",\"type\":\"file\",\"size\":4,"));
    free(a.text);
}
END_TEST

/* Each format and order is rendered once from the one read. */
START_TEST(test_views_share_a_read)
{
    for (int round = 0; round < 2; round++) {
        for (int html = 0; html < 2; html++) {
            for (int s = 0; s < SF_LISTING_SORTS; s++) {
                for (int desc = 0; desc < 2; desc++) {
                    struct page p = get_view("d", html, (enum sf_listing_sort)s, desc, root, false);
                    ck_assert_int_eq(p.from_fd, round == 1);
                    ck_assert_ptr_nonnull(strstr(p.text, html ? "./a.txt" : "\"a.txt\""));
                    free(p.text);
                }
            }
        }
    }
    struct sf_lcache_stats st = stats();
    ck_assert_uint_eq(st.reads, 1);
    ck_assert_uint_eq(st.renders, 11);
    ck_assert_uint_eq(st.hits, 12);
}
END_TEST

enum change {
    CREATE,
    UNLINK,
    RENAME_IN,
    RENAME_OUT,
    RENAME_OVER,
    WRITE,
    TOUCH,
    CHMOD,
    MKDIR,
    RMDIR,
    SYMLINK,
    TRUNCATE
};

static const struct {
    const char *name;
    enum change ch;
    const char *after; /* in the listing after the change, or NULL */
    const char *gone;  /* no longer in it, or NULL */
} change_cases[] = {
    {"create", CREATE, "{\"name\":\"new.txt\",", NULL},
    {"unlink", UNLINK, NULL, "{\"name\":\"b.txt\","},
    {"rename in", RENAME_IN, "{\"name\":\"moved-in.txt\",", NULL},
    {"rename out", RENAME_OUT, NULL, "{\"name\":\"a.txt\","},
    {"rename over", RENAME_OVER, "{\"name\":\"a.txt\",\"type\":\"file\",\"size\":9,", NULL},
    {"write", WRITE, "{\"name\":\"b.txt\",\"type\":\"file\",\"size\":5,", NULL},
    {"touch", TOUCH,
     "{\"name\":\"b.txt\",\"type\":\"file\",\"size\":2,\"mtime\":\"2001-09-09T01:46:40Z\"}", NULL},
    {"chmod", CHMOD, "{\"name\":\"b.txt\",", NULL},
    {"mkdir", MKDIR, "{\"name\":\"newdir\",\"type\":\"dir\",", NULL},
    {"rmdir", RMDIR, NULL, "{\"name\":\"sub\","},
    {"symlink", SYMLINK, "{\"name\":\"ln\",\"type\":\"file\",\"size\":4,", NULL},
    {"truncate", TRUNCATE, "{\"name\":\"a.txt\",\"type\":\"file\",\"size\":1,", NULL},
};

START_TEST(test_changes_drop)
{
    struct page before = get("d");
    free(get("d").text);
    ck_assert_uint_eq(stats().reads, 1);
    char tmp[700];
    switch (change_cases[_i].ch) {
    case CREATE: unit_put(root, "d/new.txt", "n"); break;
    case UNLINK: ck_assert_int_eq(unlink(abs_path(0, "d/b.txt")), 0); break;
    case RENAME_IN: {
        snprintf(tmp, sizeof(tmp), "%s/x", other);
        FILE *f = fopen(tmp, "w");
        ck_assert_ptr_nonnull(f);
        fclose(f);
        ck_assert_int_eq(rename(tmp, abs_path(0, "d/moved-in.txt")), 0);
        break;
    }
    case RENAME_OUT:
        snprintf(tmp, sizeof(tmp), "%s/y", other);
        ck_assert_int_eq(rename(abs_path(0, "d/a.txt"), tmp), 0);
        break;
    case RENAME_OVER:
        unit_put(root, "tmp.txt", "123456789");
        ck_assert_int_eq(rename(abs_path(0, "tmp.txt"), abs_path(1, "d/a.txt")), 0);
        break;
    case WRITE: {
        int fd = open(abs_path(0, "d/b.txt"), O_WRONLY | O_APPEND | O_CLOEXEC);
        ck_assert_int_eq(write(fd, "xyz", 3), 3);
        close(fd);
        break;
    }
    case TOUCH: {
        struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
        ck_assert_int_eq(utimensat(AT_FDCWD, abs_path(0, "d/b.txt"), ts, 0), 0);
        break;
    }
    case CHMOD: ck_assert_int_eq(chmod(abs_path(0, "d/b.txt"), 0600), 0); break;
    case MKDIR: unit_mkdir(root, "d/newdir"); break;
    case RMDIR: ck_assert_int_eq(rmdir(abs_path(0, "d/sub")), 0); break;
    case SYMLINK: ck_assert_int_eq(symlink("a.txt", abs_path(0, "d/ln")), 0); break;
    case TRUNCATE: ck_assert_int_eq(truncate(abs_path(0, "d/a.txt"), 1), 0); break;
    }
    pump();
    ck_assert_msg(stats().drops == 1, "%s: not dropped", change_cases[_i].name);
    struct page after = get("d");
    ck_assert(!after.from_fd);
    ck_assert_uint_eq(stats().reads, 2);
    if (change_cases[_i].after)
        ck_assert_msg(strstr(after.text, change_cases[_i].after), "%s: %s", change_cases[_i].name,
                      after.text);
    if (change_cases[_i].gone) {
        ck_assert(strstr(before.text, change_cases[_i].gone));
        ck_assert_msg(!strstr(after.text, change_cases[_i].gone), "%s: %s", change_cases[_i].name,
                      after.text);
    }
    free(before.text);
    free(after.text);
}
END_TEST

/* No event reaches d's watch when d/sub's contents change, yet sub's
 * mtime is in d's listing: the hit looks. */
START_TEST(test_subfolder_mtime)
{
    free(get("d").text);
    unit_put(root, "d/sub/inner.txt", "x");
    struct timespec ts[2] = {{0, UTIME_OMIT}, {1234567890, 0}};
    ck_assert_int_eq(utimensat(AT_FDCWD, abs_path(0, "d/sub"), ts, 0), 0);
    /* d/sub is not watched (nothing from it was cached): no event */
    struct page p = get("d");
    ck_assert(!p.from_fd);
    ck_assert_uint_eq(stats().reads, 2);
    ck_assert_ptr_nonnull(
        strstr(p.text, "{\"name\":\"sub\",\"type\":\"dir\",\"mtime\":\"2009-02-13T23:31:30Z\"}"));
    free(p.text);
}
END_TEST

/* A link's target lives elsewhere: changed there, caught on the hit. */
START_TEST(test_link_target_elsewhere)
{
    unit_mkdir(root, "e");
    unit_put(root, "e/t.txt", "1");
    ck_assert_int_eq(symlink("../e/t.txt", abs_path(0, "d/ln")), 0);
    free(get("d").text);
    struct page p = get("d");
    ck_assert(p.from_fd);
    free(p.text);
    unit_put(root, "e/t.txt", "12345");
    p = get("d");
    ck_assert(!p.from_fd);
    ck_assert_ptr_nonnull(strstr(p.text, "{\"name\":\"ln\",\"type\":\"file\",\"size\":5,"));
    free(p.text);
}
END_TEST

/* The folder's parent renamed away and a new folder of the same path made:
 * the new one is listed, not the old. */
START_TEST(test_parent_replaced)
{
    unit_mkdir(root, "p");
    unit_mkdir(root, "p/q");
    unit_put(root, "p/q/old.txt", "o");
    free(get("p/q").text);
    char tmp[700];
    snprintf(tmp, sizeof(tmp), "%s/p-old", other);
    ck_assert_int_eq(rename(abs_path(0, "p"), tmp), 0);
    unit_mkdir(root, "p");
    unit_mkdir(root, "p/q");
    unit_put(root, "p/q/new.txt", "n");
    pump();
    struct page p = get("p/q");
    ck_assert_ptr_nonnull(strstr(p.text, "new.txt"));
    ck_assert_ptr_null(strstr(p.text, "old.txt"));
    free(p.text);
}
END_TEST

/* A folder deleted: its entry and everything beneath it go. */
START_TEST(test_folder_deleted)
{
    unit_mkdir(root, "d/sub/deep");
    free(get("d/sub/deep").text);
    free(get("d/sub").text);
    ck_assert_uint_eq(stats().dirs, 2);
    ck_assert_int_eq(rmdir(abs_path(0, "d/sub/deep")), 0);
    ck_assert_int_eq(rmdir(abs_path(0, "d/sub")), 0);
    pump();
    ck_assert_uint_eq(stats().dirs, 0);
}
END_TEST

START_TEST(test_max_dirs)
{
    unit_mkdir(root, "f1");
    unit_mkdir(root, "f2");
    unit_mkdir(root, "f3");
    free(get("f1").text);
    free(get("f2").text);
    free(get("f3").text);
    struct sf_lcache_stats st = stats();
    ck_assert_uint_eq(st.dirs, 2);
    ck_assert_uint_eq(st.evictions, 1);
    /* f1 went first (least recently used): f3 and f2 still hit */
    struct page p = get("f3");
    ck_assert(p.from_fd);
    free(p.text);
    p = get("f2");
    ck_assert(p.from_fd);
    free(p.text);
    p = get("f1");
    ck_assert(!p.from_fd);
    free(p.text);
    ck_assert_uint_eq(stats().reads, 4);
}
END_TEST

START_TEST(test_max_bytes)
{
    /* too small for any listing: served all the same, never kept */
    for (int i = 0; i < 3; i++) {
        struct page p = get("d");
        ck_assert(!p.from_fd);
        ck_assert_ptr_nonnull(strstr(p.text, "a.txt"));
        free(p.text);
    }
    struct sf_lcache_stats st = stats();
    ck_assert_uint_eq(st.reads, 3);
    ck_assert_uint_eq(st.dirs, 0);
    ck_assert_uint_eq(st.bytes, 0);
    ck_assert_uint_eq(st.evictions, 3);
}
END_TEST

/* The watch is placed by path: when that path is not the folder that is
 * open (as after a swap), nothing is kept. */
START_TEST(test_unwatchable)
{
    char fake_root[700];
    snprintf(fake_root, sizeof(fake_root), "%s", other);
    ck_assert_int_eq(mkdir(abs_path(0, "../other/d"), 0755), 0);
    for (int i = 0; i < 2; i++) {
        struct page p = get_view("d", false, SF_LISTING_BY_NAME, false, fake_root, false);
        ck_assert(!p.from_fd);
        ck_assert_ptr_nonnull(strstr(p.text, "a.txt"));
        free(p.text);
    }
    struct sf_lcache_stats st = stats();
    ck_assert_uint_eq(st.reads, 2);
    ck_assert_uint_eq(st.uncached, 2);
    ck_assert_uint_eq(st.dirs, 0);
}
END_TEST

/* A page dropped while a response still sends it stays whole. */
START_TEST(test_dropped_page_lives_on)
{
    free(get("d").text);
    struct page held = get_view("d", false, SF_LISTING_BY_NAME, false, root, true);
    ck_assert(held.from_fd && held.fd >= 0);
    unit_put(root, "d/new.txt", "n");
    pump();
    ck_assert_uint_eq(stats().dirs, 0);
    char again[8192];
    size_t n = strlen(held.text);
    ck_assert_uint_lt(n, sizeof(again));
    /* the page is at some offset of the memfd: find it by reading all */
    off_t size = lseek(held.fd, 0, SEEK_END);
    ck_assert_int_ge(size, (off_t)n);
    ck_assert_int_eq(pread(held.fd, again, n, size - (off_t)n), (ssize_t)n);
    ck_assert_int_eq(memcmp(again, held.text, n), 0);
    /* sealed: it cannot shrink under a sender */
    ck_assert_int_ne(ftruncate(held.fd, 0), 0);
    close(held.fd);
    free(held.text);
}
END_TEST

static void
small_dirs(void)
{
    start(1 << 20, 2);
}

static void
small_bytes(void)
{
    start(64, 16);
}

static Suite *
lcache_suite(void)
{
    Suite *s = suite_create("lcache");
    TCase *tc = tcase_create("cache");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_hit_reads_nothing);
    tcase_add_test(tc, test_views_share_a_read);
    tcase_add_loop_test(tc, test_changes_drop, 0, (int)SF_ARRAY_LEN(change_cases));
    tcase_add_test(tc, test_subfolder_mtime);
    tcase_add_test(tc, test_link_target_elsewhere);
    tcase_add_test(tc, test_parent_replaced);
    tcase_add_test(tc, test_folder_deleted);
    tcase_add_test(tc, test_unwatchable);
    tcase_add_test(tc, test_dropped_page_lives_on);
    suite_add_tcase(s, tc);

    tc = tcase_create("dirs");
    tcase_add_checked_fixture(tc, small_dirs, teardown);
    tcase_add_test(tc, test_max_dirs);
    suite_add_tcase(s, tc);

    tc = tcase_create("bytes");
    tcase_add_checked_fixture(tc, small_bytes, teardown);
    tcase_add_test(tc, test_max_bytes);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(lcache_suite());
}
