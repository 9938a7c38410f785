/*
 * test_listing_links.c - symlinks in a listing follow the site's policy:
 * a link is listed with the stat of what a request for it would reach,
 * never with the size and time of something outside the root (beneath),
 * never when it leads to a hidden name (dotfiles denied), not at all
 * with symlinks = none; and sf_listing_current notices what a watch on
 * the folder cannot: a subfolder's contents, a link retargeted, a
 * dangling link's target appearing elsewhere.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sfhttpd/listing.h"
#include "sfhttpd/resolve.h"
#include "unit_util.h"

static char base[64], root[96];
static int rootfd = -1;

static void
link_(const char *target, const char *rel)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    unlink(path);
    ck_assert_int_eq(symlink(target, path), 0);
}

static void
setup(void)
{
    char path[160];
    unit_tmpdir(base, sizeof(base), "sf_listing_links");
    snprintf(root, sizeof(root), "%s/root", base);
    ck_assert_int_eq(mkdir(root, 0755), 0);
    snprintf(path, sizeof(path), "%s/secret", base);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("secret\n", f); /* 7 bytes */
    fclose(f);
    unit_put(root, "inner.txt", "inner\n"); /* 6 bytes */
    unit_mkdir(root, ".git");
    unit_put(root, ".git/config", "[core]\n");
    unit_mkdir(root, ".well-known");
    unit_put(root, ".well-known/x", "well-known\n"); /* 11 bytes */
    unit_mkdir(root, "sub");
    link_("../inner.txt", "sub/in");
    link_("/etc/passwd", "sub/out");
    link_("../../secret", "sub/up");
    link_("../.git/config", "sub/git");
    link_("../.git", "sub/gitdir");
    link_("../.well-known/x", "sub/wk");
    link_("nope", "sub/dangling");
    link_("..", "sub/dirin");
    link_("loop", "sub/loop");
    rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(rootfd, 0);
}

static void
teardown(void)
{
    close(rootfd);
    unit_rmtree(base);
}

/* The JSON listing of root/rel under how. */
static char *
list(const char *rel, unsigned how, bool show_hidden)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    struct sf_listing_opts o = {
        .show_hidden = show_hidden, .rootfd = rootfd, .rel = rel, .how = how};
    struct sf_listing_view v = {.fmt = SF_LISTING_JSON};
    struct sf_buf b = {0};
    ck_assert_int_eq(sf_listing_build(fd, "/x/", &v, &o, &b), 0);
    close(fd);
    ck_assert_int_eq(sf_buf_append(&b, "", 1), 0);
    return b.data;
}

static bool
listed(const char *js, const char *name)
{
    char needle[64];
    snprintf(needle, sizeof(needle), "{\"name\":\"%s\",", name);
    return strstr(js, needle) != NULL;
}

static bool
listed_with(const char *js, const char *name, const char *rest)
{
    char needle[128];
    snprintf(needle, sizeof(needle), "{\"name\":\"%s\",%s", name, rest);
    return strstr(js, needle) != NULL;
}

#define B_NH (SF_SYMLINKS_BENEATH | SF_RESOLVE_NO_HIDDEN)
#define F_NH (SF_SYMLINKS_FOLLOW | SF_RESOLVE_NO_HIDDEN)

static const struct {
    unsigned how;
    bool show_hidden;
    const char *yes[6]; /* listed */
    const char *no[8];  /* left out */
} policy_cases[] = {
    /* quick mode: beneath, dotfiles denied */
    {B_NH, false, {"in", "wk", "dirin"}, {"out", "up", "git", "gitdir", "dangling", "loop"}},
    /* dotfiles allowed: the hidden targets are listed, escapes are not */
    {SF_SYMLINKS_BENEATH,
     true,
     {"in", "wk", "dirin", "git", "gitdir"},
     {"out", "up", "dangling", "loop"}},
    /* follow: anywhere, but not to a hidden name when denied */
    {F_NH, false, {"in", "wk", "dirin", "out", "up"}, {"git", "gitdir", "dangling", "loop"}},
    /* none: no link at all */
    {SF_SYMLINKS_NONE | SF_RESOLVE_NO_HIDDEN,
     false,
     {NULL},
     {"in", "wk", "dirin", "out", "up", "git", "dangling", "loop"}},
};

START_TEST(test_policy)
{
    char *js = list("sub", policy_cases[_i].how, policy_cases[_i].show_hidden);
    for (int k = 0; k < 6 && policy_cases[_i].yes[k]; k++)
        ck_assert_msg(listed(js, policy_cases[_i].yes[k]), "case %d: %s not listed:\n%s", _i,
                      policy_cases[_i].yes[k], js);
    for (int k = 0; k < 8 && policy_cases[_i].no[k]; k++)
        ck_assert_msg(!listed(js, policy_cases[_i].no[k]), "case %d: %s listed:\n%s", _i,
                      policy_cases[_i].no[k], js);
    free(js);
}
END_TEST

/* What a listed link shows is its target's own stat: sizes prove it. */
START_TEST(test_sizes)
{
    char *js = list("sub", B_NH, false);
    ck_assert(listed_with(js, "in", "\"type\":\"file\",\"size\":6,"));
    ck_assert(listed_with(js, "wk", "\"type\":\"file\",\"size\":11,"));
    ck_assert(listed_with(js, "dirin", "\"type\":\"dir\","));
    free(js);

    struct stat pw;
    ck_assert_int_eq(stat("/etc/passwd", &pw), 0);
    char want[64];
    snprintf(want, sizeof(want), "\"type\":\"file\",\"size\":%lld,", (long long)pw.st_size);
    js = list("sub", F_NH, false);
    ck_assert(listed_with(js, "out", want));
    ck_assert(listed_with(js, "up", "\"type\":\"file\",\"size\":7,"));
    free(js);
}
END_TEST

/* The root folder itself, rel "": links there resolve from the root. */
START_TEST(test_root_rel)
{
    link_("inner.txt", "rootlink");
    link_(".git/config", "rootgit");
    char *js = list("", B_NH, false);
    ck_assert(listed_with(js, "rootlink", "\"type\":\"file\",\"size\":6,"));
    ck_assert(!listed(js, "rootgit"));
    ck_assert(!listed(js, ".git"));
    free(js);
}
END_TEST

/* ------------------------------------------------- sf_listing_current */

static struct sf_listing *
read_sub(int *fd, struct sf_listing_opts *o)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/sub", root);
    *fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(*fd, 0);
    *o = (struct sf_listing_opts){.rootfd = rootfd, .rel = "sub", .how = B_NH};
    struct sf_listing *l;
    ck_assert_int_eq(sf_listing_read(*fd, o, &l), 0);
    ck_assert(sf_listing_current(l, *fd, o));
    return l;
}

static const char *const changes[] = {
    "a file appears in a subfolder",
    "a link is retargeted",
    "a dangling link's target appears elsewhere",
    "a listed link's target grows",
    "a link's target becomes hidden",
};

START_TEST(test_current)
{
    int fd;
    struct sf_listing_opts o;
    unit_mkdir(root, "sub/child");
    unit_mkdir(root, "other");
    link_("../other/later.txt", "sub/later");
    struct sf_listing *l = read_sub(&fd, &o);
    switch (_i) {
    case 0: unit_put(root, "sub/child/new.txt", "x"); break;
    case 1: link_("../.well-known/x", "sub/in"); break;
    case 2: unit_put(root, "other/later.txt", "later\n"); break;
    case 3: unit_put(root, "inner.txt", "inner and more\n"); break;
    case 4: link_("../.git", "sub/dirin"); break;
    }
    if (_i == 0) {
        /* the subfolder's mtime must move (same second or not) */
        char path[256];
        snprintf(path, sizeof(path), "%s/sub/child", root);
        struct timespec ts[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
        ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
    }
    ck_assert_msg(!sf_listing_current(l, fd, &o), "not noticed: %s", changes[_i]);
    sf_listing_free(l);
    close(fd);
}
END_TEST

/* A regular file of the folder is the watch's business: current says
 * nothing of it (so a hit costs no stat per file). */
START_TEST(test_current_files_are_watched)
{
    int fd;
    struct sf_listing_opts o;
    unit_put(root, "sub/plain.txt", "a");
    struct sf_listing *l = read_sub(&fd, &o);
    unit_put(root, "sub/plain.txt", "abcdef");
    ck_assert(sf_listing_current(l, fd, &o));
    sf_listing_free(l);
    close(fd);
}
END_TEST

static Suite *
links_suite(void)
{
    Suite *s = suite_create("listing_links");
    TCase *tc = tcase_create("links");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_policy, 0, (int)SF_ARRAY_LEN(policy_cases));
    tcase_add_test(tc, test_sizes);
    tcase_add_test(tc, test_root_rel);
    tcase_add_loop_test(tc, test_current, 0, (int)SF_ARRAY_LEN(changes));
    tcase_add_test(tc, test_current_files_are_watched);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(links_suite());
}
