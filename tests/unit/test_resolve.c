/*
 * test_resolve.c - unit tests for resolve: tables of request targets and
 * the decoded path or status they give, the hidden-file rule, the errno
 * to status map, and sf_resolve_open against a scratch tree built in a
 * mkdtemp directory (files, directories, a FIFO, symlinks in and out).
 */
#include "sfhttpd/resolve.h"
#include "sfhttpd/common.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit_util.h"

#define NOQ SIZE_MAX /* query_off expected to be the target length */

struct path_case {
    const char *in;
    size_t len; /* 0: strlen(in) */
    int rc;
    const char *rel; /* checked when rc == 0 */
    bool slash;
    size_t qoff;
};

static const struct path_case path_cases[] = {
    /* plain paths */
    {"/", 0, 0, "", true, NOQ},
    {"/index.html", 0, 0, "index.html", false, NOQ},
    {"/a/b/c", 0, 0, "a/b/c", false, NOQ},
    {"/a%20b", 0, 0, "a b", false, NOQ},
    {"/a%7e%7E", 0, 0, "a~~", false, NOQ},
    {"/%80%ff", 0, 0, "\x80\xff", false, NOQ},
    {"/abc", 2, 0, "a", false, NOQ},

    /* trailing slash */
    {"/dir/", 0, 0, "dir", true, NOQ},
    {"/dir/.", 0, 0, "dir", true, NOQ},
    {"/dir/./", 0, 0, "dir", true, NOQ},
    {"/dir%2f", 0, 0, "dir", true, NOQ},
    {"/dir/%2e", 0, 0, "dir", true, NOQ},
    {"/dir/sub/..", 0, 0, "dir", true, NOQ},
    {"/dir/sub/../", 0, 0, "dir", true, NOQ},
    {"/dir/..", 0, 0, "", true, NOQ},
    {"/.", 0, 0, "", true, NOQ},
    {"//", 0, 0, "", true, NOQ},

    /* dot segments and repeated slashes */
    {"/a/b/../c", 0, 0, "a/c", false, NOQ},
    {"/a/./b", 0, 0, "a/b", false, NOQ},
    {"/./a", 0, 0, "a", false, NOQ},
    {"//a///b//", 0, 0, "a/b", true, NOQ},
    {"///etc/passwd", 0, 0, "etc/passwd", false, NOQ},
    {"/a/%2e%2e/b", 0, 0, "b", false, NOQ},
    {"/a/b/%2E%2e/../c", 0, 0, "c", false, NOQ},
    {"/%2e/a", 0, 0, "a", false, NOQ},

    /* names that only look like dot segments */
    {"/...", 0, 0, "...", false, NOQ},
    {"/.../x", 0, 0, ".../x", false, NOQ},
    {"/..a", 0, 0, "..a", false, NOQ},
    {"/a..", 0, 0, "a..", false, NOQ},
    {"/a..b/..c./c..", 0, 0, "a..b/..c./c..", false, NOQ},
    {"/.a/b.", 0, 0, ".a/b.", false, NOQ},
    /* overlong UTF-8 for '.' is not '.': the bytes stay literal */
    {"/%c0%ae%c0%ae/etc", 0, 0, "\xc0\xae\xc0\xae/etc", false, NOQ},
    {"/%C0%AE/%c0%2e", 0, 0, "\xc0\xae/\xc0.", false, NOQ},
    {"/%e0%80%ae%e0%80%ae", 0, 0, "\xe0\x80\xae\xe0\x80\xae", false, NOQ},

    /* encoded slash is a separator */
    {"/a%2fb", 0, 0, "a/b", false, NOQ},
    {"/a%2Fb%2F", 0, 0, "a/b", true, NOQ},
    {"/a%2f%2f..%2fb", 0, 0, "b", false, NOQ},

    /* ".." above the root, in every spelling */
    {"/..", 0, 400, NULL, false, NOQ},
    {"/../", 0, 400, NULL, false, NOQ},
    {"/../etc/passwd", 0, 400, NULL, false, NOQ},
    {"/%2e%2e", 0, 400, NULL, false, NOQ},
    {"/%2E%2e", 0, 400, NULL, false, NOQ},
    {"/%2e%2E/", 0, 400, NULL, false, NOQ},
    {"/.%2e", 0, 400, NULL, false, NOQ},
    {"/%2e.", 0, 400, NULL, false, NOQ},
    {"/%2e%2e/", 0, 400, NULL, false, NOQ},
    {"/%2e%2e%2f", 0, 400, NULL, false, NOQ},
    {"%2f..", 0, 400, NULL, false, NOQ},
    {"/a/../../x", 0, 400, NULL, false, NOQ},
    {"/a/b/../../../c", 0, 400, NULL, false, NOQ},
    {"/a/%2e%2e/%2e%2e/etc/passwd", 0, 400, NULL, false, NOQ},
    {"/a%2f..%2f..%2fetc", 0, 400, NULL, false, NOQ},
    {"/./..", 0, 400, NULL, false, NOQ},
    {"//..//", 0, 400, NULL, false, NOQ},
    {"/a/..?/b", 0, 0, "", true, 5},

    /* NUL */
    {"/a%00b", 0, 400, NULL, false, NOQ},
    {"/a%00", 0, 400, NULL, false, NOQ},
    {"/%00", 0, 400, NULL, false, NOQ},
    {"/index.html%00.txt", 0, 400, NULL, false, NOQ},
    {"/a\0b", 4, 400, NULL, false, NOQ},
    {"/\0", 2, 400, NULL, false, NOQ},

    /* bad or truncated escapes */
    {"/a%zz", 0, 400, NULL, false, NOQ},
    {"/a%z1", 0, 400, NULL, false, NOQ},
    {"/a%1z", 0, 400, NULL, false, NOQ},
    {"/a%g0", 0, 400, NULL, false, NOQ},
    {"/a%%41", 0, 400, NULL, false, NOQ},
    {"/a%2", 0, 400, NULL, false, NOQ},
    {"/a%", 0, 400, NULL, false, NOQ},
    {"/%", 0, 400, NULL, false, NOQ},
    {"/a%2?x", 0, 400, NULL, false, 4},
    {"/a%?x", 0, 400, NULL, false, 3},
    {"/a%41", 3, 400, NULL, false, NOQ},
    {"/a% 1", 0, 400, NULL, false, NOQ},

    /* backslashes */
    {"/a\\b", 0, 400, NULL, false, NOQ},
    {"/..\\", 0, 400, NULL, false, NOQ},
    {"/a%5cb", 0, 400, NULL, false, NOQ},
    {"/a%5C..%5C..%5Cwin.ini", 0, 400, NULL, false, NOQ},

    /* control characters, raw and encoded */
    {"/a%01", 0, 400, NULL, false, NOQ},
    {"/a%1f", 0, 400, NULL, false, NOQ},
    {"/a%7f", 0, 400, NULL, false, NOQ},
    {"/a%0d%0aSet-Cookie:x", 0, 400, NULL, false, NOQ},
    {"/a\x01", 0, 400, NULL, false, NOQ},
    {"/a\tb", 0, 400, NULL, false, NOQ},
    {"/a\x7f", 0, 400, NULL, false, NOQ},
    {"/a\r\n", 0, 400, NULL, false, NOQ},

    /* not origin-form */
    {"", 0, 400, NULL, false, NOQ},
    {"a", 0, 400, NULL, false, NOQ},
    {"*", 0, 400, NULL, false, NOQ},
    {"http://host/", 0, 400, NULL, false, NOQ},
    {"?x", 0, 400, NULL, false, 0},
    {"#f", 0, 400, NULL, false, NOQ},
    {"\\a", 0, 400, NULL, false, NOQ},

    /* query and fragment are cut and never decoded */
    {"/a?b=1", 0, 0, "a", false, 2},
    {"/a/?x", 0, 0, "a", true, 3},
    {"/?", 0, 0, "", true, 1},
    {"/a#frag", 0, 0, "a", false, NOQ},
    {"/a?x#y", 0, 0, "a", false, 2},
    {"/a#y?x", 0, 0, "a", false, NOQ},
    {"/a?../../etc/passwd", 0, 0, "a", false, 2},
    {"/a?%zz%00\\", 0, 0, "a", false, 2},
    {"/a#%zz", 0, 0, "a", false, NOQ},
    {"/a%3fb", 0, 0, "a?b", false, NOQ},
    {"/a%23b", 0, 0, "a#b", false, NOQ},
    {"/a%3F?q", 0, 0, "a?", false, 5},
};

START_TEST(test_path_table)
{
    const struct path_case *tc = &path_cases[_i];
    size_t len = tc->len ? tc->len : strlen(tc->in);
    size_t qoff = tc->qoff == NOQ ? len : tc->qoff;
    struct sf_path p;

    memset(&p, 0xAA, sizeof(p));
    int rc = sf_resolve_path(tc->in, len, &p);
    ck_assert_msg(rc == tc->rc, "case %d \"%s\": rc %d, want %d", _i, tc->in, rc, tc->rc);
    ck_assert_msg(p.query_off == qoff, "case %d \"%s\": query_off %zu, want %zu", _i, tc->in,
                  p.query_off, qoff);
    if (rc != 0) {
        ck_assert_str_eq(p.rel, "");
        ck_assert_uint_eq(p.len, 0);
        return;
    }
    ck_assert_msg(strcmp(p.rel, tc->rel) == 0, "case %d \"%s\": rel \"%s\", want \"%s\"", _i,
                  tc->in, p.rel, tc->rel);
    ck_assert_uint_eq(p.len, strlen(tc->rel));
    ck_assert_msg(p.trailing_slash == tc->slash, "case %d \"%s\": trailing_slash %d", _i, tc->in,
                  p.trailing_slash);
}
END_TEST

/* A path of exactly SF_PATH_MAX decoded bytes passes; one more is 414. */
static void
fill(char *buf, const char *unit, size_t units)
{
    size_t n = strlen(unit);

    buf[0] = '/';
    for (size_t i = 0; i < units; i++)
        memcpy(buf + 1 + i * n, unit, n);
    buf[1 + units * n] = '\0';
}

START_TEST(test_path_length)
{
    static char buf[3 * (SF_PATH_MAX + 8)];
    struct sf_path p;

    fill(buf, "a", SF_PATH_MAX - 1);
    ck_assert_int_eq(sf_resolve_path(buf, strlen(buf), &p), 0);
    ck_assert_uint_eq(p.len, SF_PATH_MAX - 1);
    ck_assert_uint_eq(strlen(p.rel), SF_PATH_MAX - 1);

    fill(buf, "a", SF_PATH_MAX);
    ck_assert_int_eq(sf_resolve_path(buf, strlen(buf), &p), 414);

    /* the limit is on decoded bytes, not on the raw target */
    fill(buf, "%61", SF_PATH_MAX - 1);
    ck_assert_int_eq(sf_resolve_path(buf, strlen(buf), &p), 0);
    ck_assert_uint_eq(p.len, SF_PATH_MAX - 1);
    fill(buf, "%61", SF_PATH_MAX);
    ck_assert_int_eq(sf_resolve_path(buf, strlen(buf), &p), 414);

    /* ... and is checked before normalisation shrinks the path */
    fill(buf, "a/../", SF_PATH_MAX / 5 + 1);
    ck_assert_int_eq(sf_resolve_path(buf, strlen(buf), &p), 414);
    fill(buf, "/", SF_PATH_MAX);
    ck_assert_int_eq(sf_resolve_path(buf, strlen(buf), &p), 414);

    /* a long query does not count */
    fill(buf, "a", 10);
    buf[11] = '?';
    memset(buf + 12, 'q', 2 * SF_PATH_MAX);
    buf[12 + 2 * SF_PATH_MAX] = '\0';
    ck_assert_int_eq(sf_resolve_path(buf, strlen(buf), &p), 0);
    ck_assert_uint_eq(p.query_off, 11);
    ck_assert_uint_eq(p.len, 10);
}
END_TEST

struct hidden_case {
    const char *rel;
    bool hidden;
};

static const struct hidden_case hidden_cases[] = {
    {"", false},
    {"index.html", false},
    {"a/b/c.txt", false},
    {".git", true},
    {".git/config", true},
    {"a/.env", true},
    {"a/b/.htaccess", true},
    {"a/.git/b", true},
    {".well-known", false},
    {".well-known/x", false},
    {".well-known/acme-challenge/tok", false},
    {".well-known/.x", true},
    {".well-known/a/.b", true},
    {"a/.well-known/x", true},
    {".well-knownx/a", true},
    {".well-know/a", true},
    {".WELL-KNOWN/a", true},
    {"...", true},
    {"a/...", true},
    {".../a", true},
    {"a..b", false},
    {"a/b.", false},
    {"a/b.c/d", false},
    {"x.well-known", false},
};

START_TEST(test_hidden_table)
{
    const struct hidden_case *tc = &hidden_cases[_i];

    ck_assert_msg(sf_resolve_is_hidden(tc->rel) == tc->hidden, "\"%s\": want %d", tc->rel,
                  tc->hidden);
}
END_TEST

struct status_case {
    int neg_errno;
    int status;
};

static const struct status_case status_cases[] = {
    {-ENOENT, 404}, {-ENOTDIR, 404}, {-EXDEV, 404},  {-ELOOP, 404},  {-ENAMETOOLONG, 404},
    {-EACCES, 403}, {-EPERM, 403},   {-ENXIO, 403},  {-ENODEV, 403}, {-EOPNOTSUPP, 403},
    {-EIO, 500},    {-EMFILE, 503},  {-ENFILE, 503}, {-EINVAL, 500}, {-ENOMEM, 500},
};

START_TEST(test_status_table)
{
    ck_assert_int_eq(sf_resolve_status(status_cases[_i].neg_errno), status_cases[_i].status);
}
END_TEST

/* sf_resolve_open against a scratch tree:
 *   base/secret
 *   base/root/{file.txt, dir/inner.txt, fifo, link_*}
 */
static char base[64];
static char root[96];
static int rootfd = -1;

static const char *const tree_links[][2] = {
    {"link_in", "file.txt"},
    {"link_dir", "dir"},
    {"link_rel_up", "dir/../file.txt"},
    {"link_abs", "/etc/passwd"},
    {"link_out", "../secret"},
    {"link_out_deep", "dir/../../secret"},
    {"link_magic", "/proc/self/root/etc/passwd"},
    {"link_dangling", "nope"},
    /* for dotfiles = deny (SF_RESOLVE_NO_HIDDEN) */
    {"dir/link_git", "../.git/config"},
    {"link_git_dir", ".git"},
    {"dir/link_up", ".."},
    {"link_wk", ".well-known/x"},
    {"dir/link_wk_up", "../.well-known/x"},
    {"link_chain", "dir/link_sib"},
    {"dir/link_sib", "../file.txt"},
    {"link_chain_git", "dir/link_git"},
    {"link_loop_a", "link_loop_b"},
    {"link_loop_b", "link_loop_a"},
    {"link_out_hidden", "../.hid"},
    {"link_out_up", "../root/file.txt"},
    {"link_out_up_git", "../root/.git/config"},
};

static void
setup_tree(void)
{
    char path[256];

    unit_tmpdir(base, sizeof(base), "sf_resolve");
    snprintf(root, sizeof(root), "%s/root", base);
    ck_assert_int_eq(mkdir(root, 0755), 0);
    unit_put(base, "secret", "secret\n");
    unit_put(root, "file.txt", "hello\n");
    snprintf(path, sizeof(path), "%s/dir", root);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    unit_put(path, "inner.txt", "inner\n");
    unit_put(base, ".hid", "hidden outside\n");
    snprintf(path, sizeof(path), "%s/.git", root);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    unit_put(path, "config", "git config\n");
    snprintf(path, sizeof(path), "%s/.well-known", root);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    unit_put(path, "x", "well known\n");
    snprintf(path, sizeof(path), "%s/fifo", root);
    ck_assert_int_eq(mkfifo(path, 0644), 0);
    for (size_t i = 0; i < SF_ARRAY_LEN(tree_links); i++) {
        snprintf(path, sizeof(path), "%s/%s", root, tree_links[i][0]);
        ck_assert_int_eq(symlink(tree_links[i][1], path), 0);
    }
    rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(rootfd, 0);
}

static void
unlink_at(const char *dir, const char *name, int flags)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (unlinkat(AT_FDCWD, path, flags) < 0 && errno != ENOENT)
        fprintf(stderr, "cleanup: %s: %s\n", path, strerror(errno));
}

static void
teardown_tree(void)
{
    char dir[160];

    if (rootfd >= 0)
        close(rootfd);
    rootfd = -1;
    for (size_t i = 0; i < SF_ARRAY_LEN(tree_links); i++)
        unlink_at(root, tree_links[i][0], 0);
    unlink_at(root, "fifo", 0);
    snprintf(dir, sizeof(dir), "%s/.git", root);
    unlink_at(dir, "config", 0);
    unlink_at(root, ".git", AT_REMOVEDIR);
    snprintf(dir, sizeof(dir), "%s/.well-known", root);
    unlink_at(dir, "x", 0);
    unlink_at(root, ".well-known", AT_REMOVEDIR);
    unlink_at(base, ".hid", 0);
    snprintf(dir, sizeof(dir), "%s/dir", root);
    unlink_at(dir, "inner.txt", 0);
    unlink_at(root, "dir", AT_REMOVEDIR);
    unlink_at(root, "file.txt", 0);
    unlink_at(base, "secret", 0);
    unlink_at(base, "root", AT_REMOVEDIR);
    if (rmdir(base) < 0)
        fprintf(stderr, "cleanup: %s: %s\n", base, strerror(errno));
}

#define F_REG 1
#define F_DIR 2
#define F_FIFO 3

#define B_NH (SF_SYMLINKS_BENEATH | SF_RESOLVE_NO_HIDDEN)
#define F_NH (SF_SYMLINKS_FOLLOW | SF_RESOLVE_NO_HIDDEN)
#define N_NH (SF_SYMLINKS_NONE | SF_RESOLVE_NO_HIDDEN)

struct open_case {
    const char *rel;
    unsigned policy;
    int rc;     /* 0 or -errno */
    int kind;   /* F_* when rc == 0 */
    int status; /* sf_resolve_status(rc) when rc != 0 */
};

static const struct open_case open_cases[] = {
    {"file.txt", SF_SYMLINKS_BENEATH, 0, F_REG, 0},
    {"dir", SF_SYMLINKS_BENEATH, 0, F_DIR, 0},
    {"dir/inner.txt", SF_SYMLINKS_BENEATH, 0, F_REG, 0},
    {"", SF_SYMLINKS_BENEATH, 0, F_DIR, 0},
    {"", SF_SYMLINKS_NONE, 0, F_DIR, 0},
    {"", SF_SYMLINKS_FOLLOW, 0, F_DIR, 0},
    {"fifo", SF_SYMLINKS_BENEATH, 0, F_FIFO, 0},
    {"missing", SF_SYMLINKS_BENEATH, -ENOENT, 0, 404},
    {"dir/missing", SF_SYMLINKS_BENEATH, -ENOENT, 0, 404},
    {"missing/x", SF_SYMLINKS_BENEATH, -ENOENT, 0, 404},
    {"file.txt/x", SF_SYMLINKS_BENEATH, -ENOTDIR, 0, 404},

    /* symlinks that stay inside */
    {"link_in", SF_SYMLINKS_BENEATH, 0, F_REG, 0},
    {"link_dir/inner.txt", SF_SYMLINKS_BENEATH, 0, F_REG, 0},
    {"link_rel_up", SF_SYMLINKS_BENEATH, 0, F_REG, 0},
    {"link_in", SF_SYMLINKS_FOLLOW, 0, F_REG, 0},
    {"link_in", SF_SYMLINKS_NONE, -ELOOP, 0, 404},
    {"link_dir/inner.txt", SF_SYMLINKS_NONE, -ELOOP, 0, 404},
    {"link_dangling", SF_SYMLINKS_BENEATH, -ENOENT, 0, 404},

    /* symlinks that leave */
    {"link_abs", SF_SYMLINKS_BENEATH, -EXDEV, 0, 404},
    {"link_out", SF_SYMLINKS_BENEATH, -EXDEV, 0, 404},
    {"link_out_deep", SF_SYMLINKS_BENEATH, -EXDEV, 0, 404},
    {"link_magic", SF_SYMLINKS_BENEATH, -EXDEV, 0, 404},
    {"link_abs", SF_SYMLINKS_NONE, -ELOOP, 0, 404},
    {"link_out", SF_SYMLINKS_NONE, -ELOOP, 0, 404},
    {"link_out", SF_SYMLINKS_FOLLOW, 0, F_REG, 0},
    {"link_magic", SF_SYMLINKS_FOLLOW, -ELOOP, 0, 404},

    /* a rel that did not come from sf_resolve_path is still refused */
    {"../secret", SF_SYMLINKS_BENEATH, -EXDEV, 0, 404},
    {"../secret", SF_SYMLINKS_FOLLOW, -EXDEV, 0, 404},
    {"../secret", SF_SYMLINKS_NONE, -EXDEV, 0, 404},
    {"dir/../../secret", SF_SYMLINKS_FOLLOW, -EXDEV, 0, 404},
    {"dir/..", SF_SYMLINKS_FOLLOW, -EXDEV, 0, 404},
    {"/etc/passwd", SF_SYMLINKS_BENEATH, -EXDEV, 0, 404},
    {"/etc/passwd", SF_SYMLINKS_FOLLOW, -EXDEV, 0, 404},

    /* dotfiles = deny: what a path reaches through links counts too */
    {"dir/link_git", SF_SYMLINKS_BENEATH, 0, F_REG, 0},
    {"dir/link_git", B_NH, -ENOENT, 0, 404},
    {"dir/link_git", F_NH, -ENOENT, 0, 404},
    {"dir/link_git", N_NH, -ELOOP, 0, 404},
    {"link_git_dir/config", B_NH, -ENOENT, 0, 404},
    {"link_git_dir", B_NH, -ENOENT, 0, 404},
    {"dir/link_up/.git/config", B_NH, -ENOENT, 0, 404},
    {"link_chain_git", B_NH, -ENOENT, 0, 404},
    {".git/config", B_NH, -ENOENT, 0, 404},
    {".git/config", SF_SYMLINKS_BENEATH, 0, F_REG, 0},
    {"link_out_up_git", F_NH, -ENOENT, 0, 404},
    {"link_out_hidden", F_NH, -ENOENT, 0, 404},
    {"link_out_hidden", SF_SYMLINKS_FOLLOW, 0, F_REG, 0},
    /* links that stay visible are still followed by policy */
    {"file.txt", B_NH, 0, F_REG, 0},
    {"", B_NH, 0, F_DIR, 0},
    {"link_in", B_NH, 0, F_REG, 0},
    {"link_dir/inner.txt", B_NH, 0, F_REG, 0},
    {"link_rel_up", B_NH, 0, F_REG, 0},
    {"link_chain", B_NH, 0, F_REG, 0},
    {"dir/link_up", B_NH, 0, F_DIR, 0},
    {"dir/link_up/file.txt", B_NH, 0, F_REG, 0},
    {"link_wk", B_NH, 0, F_REG, 0},
    {"dir/link_wk_up", B_NH, 0, F_REG, 0},
    {"link_in", N_NH, -ELOOP, 0, 404},
    {"link_dangling", B_NH, -ENOENT, 0, 404},
    {"link_loop_a", B_NH, -ELOOP, 0, 404},
    {"link_loop_a", F_NH, -ELOOP, 0, 404},
    {"fifo", B_NH, 0, F_FIFO, 0},
    /* the walk applies the policy as the kernel does */
    {"link_abs", B_NH, -EXDEV, 0, 404},
    {"link_out", B_NH, -EXDEV, 0, 404},
    {"link_out_deep", B_NH, -EXDEV, 0, 404},
    {"link_magic", B_NH, -EXDEV, 0, 404},
    {"link_out", F_NH, 0, F_REG, 0},
    {"link_out_up", F_NH, 0, F_REG, 0},
    {"link_abs", F_NH, 0, F_REG, 0},
    {"link_magic", F_NH, -ELOOP, 0, 404},
    {"../secret", B_NH, -EXDEV, 0, 404},
    {"../secret", F_NH, -EXDEV, 0, 404},
};

START_TEST(test_open_table)
{
    const struct open_case *tc = &open_cases[_i];
    struct stat st;
    int fd = 12345;

    int rc = sf_resolve_open(rootfd, tc->rel, tc->policy, &fd, &st);
    ck_assert_msg(rc == tc->rc, "case %d \"%s\" policy %d: rc %d (%s), want %d", _i, tc->rel,
                  tc->policy, rc, strerror(-rc), tc->rc);
    if (rc != 0) {
        ck_assert_int_eq(fd, -1);
        ck_assert_int_eq(sf_resolve_status(rc), tc->status);
        return;
    }
    ck_assert_int_ge(fd, 0);
    switch (tc->kind) {
    case F_REG: ck_assert(S_ISREG(st.st_mode)); break;
    case F_DIR: ck_assert(S_ISDIR(st.st_mode)); break;
    case F_FIFO: ck_assert(S_ISFIFO(st.st_mode)); break;
    default: ck_abort();
    }
    int fdflags = fcntl(fd, F_GETFD);
    int flflags = fcntl(fd, F_GETFL);
    ck_assert(fdflags >= 0 && (fdflags & FD_CLOEXEC));
    ck_assert(flflags >= 0 && (flflags & O_NONBLOCK));
    ck_assert_int_eq(flflags & O_ACCMODE, O_RDONLY);
    close(fd);
}
END_TEST

/* The file that opens is the file asked for, and st matches it. */
START_TEST(test_open_content)
{
    struct stat st, want;
    char buf[16] = {0};
    int fd;

    ck_assert_int_eq(sf_resolve_open(rootfd, "link_in", SF_SYMLINKS_BENEATH, &fd, &st), 0);
    ck_assert_int_eq(fstatat(rootfd, "file.txt", &want, 0), 0);
    ck_assert_uint_eq(st.st_ino, want.st_ino);
    ck_assert_int_eq(st.st_size, 6);
    ck_assert_int_eq(read(fd, buf, sizeof(buf) - 1), 6);
    ck_assert_str_eq(buf, "hello\n");
    close(fd);

    ck_assert_int_eq(sf_resolve_open(rootfd, "", SF_SYMLINKS_BENEATH, &fd, &st), 0);
    ck_assert_int_eq(fstat(rootfd, &want), 0);
    ck_assert_uint_eq(st.st_ino, want.st_ino);
    close(fd);
}
END_TEST

/* Opening a FIFO with no writer must return at once, and reading it must
 * not block either. */
START_TEST(test_open_fifo)
{
    struct stat st;
    char c;
    int fd;

    ck_assert_int_eq(sf_resolve_open(rootfd, "fifo", SF_SYMLINKS_BENEATH, &fd, &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));
    ssize_t n = read(fd, &c, 1);
    ck_assert(n == 0 || (n < 0 && errno == EAGAIN));
    close(fd);
}
END_TEST

/* sf_resolve_open_regular: a file opens, a folder gives its fd with
 * -EISDIR, a FIFO -EPERM with nothing left open, a missing name -ENOENT. */
START_TEST(test_open_regular)
{
    struct stat st;
    int fd = -1, dirfd = -1;

    ck_assert_int_eq(
        sf_resolve_open_regular(rootfd, "file.txt", SF_SYMLINKS_BENEATH, &fd, &st, &dirfd), 0);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(sf_resolve_open_regular(rootfd, "dir", SF_SYMLINKS_BENEATH, &fd, &st, &dirfd),
                     -EISDIR);
    ck_assert_int_ge(dirfd, 0);
    ck_assert_int_ge(fcntl(dirfd, F_GETFD), 0);
    close(dirfd);
    int before = dup(0);
    close(before);
    ck_assert_int_eq(sf_resolve_open_regular(rootfd, "fifo", SF_SYMLINKS_BENEATH, &fd, &st, &dirfd),
                     -EPERM);
    int after = dup(0);
    ck_assert_int_eq(after, before); /* the FIFO's fd was closed */
    close(after);
    ck_assert_int_eq(sf_resolve_open_regular(rootfd, "nope", SF_SYMLINKS_BENEATH, &fd, &st, &dirfd),
                     -ENOENT);
}
END_TEST

/* sf_resolve_dirname: the folder part of a root-relative path. */
START_TEST(test_dirname)
{
    static const char *const cases[][2] = {
        {"a/b/c", "a/b"}, {"c", ""}, {"", ""}, {"a/", "a"}, {"dir/file.txt", "dir"},
    };
    char out[SF_PATH_MAX + 1];
    for (size_t i = 0; i < SF_ARRAY_LEN(cases); i++) {
        sf_resolve_dirname(cases[i][0], out);
        ck_assert_str_eq(out, cases[i][1]);
    }
}
END_TEST

/* sf_resolve_stat finds what sf_resolve_open opens, by the same rules. */
START_TEST(test_stat_table)
{
    const struct open_case *tc = &open_cases[_i];
    struct stat st, want;
    int fd;

    int rc = sf_resolve_stat(rootfd, tc->rel, tc->policy, &st);
    int orc = sf_resolve_open(rootfd, tc->rel, tc->policy, &fd, &want);
    ck_assert_msg(rc == orc, "case %d \"%s\": stat %d, open %d", _i, tc->rel, rc, orc);
    if (orc == 0) {
        ck_assert_uint_eq(st.st_ino, want.st_ino);
        ck_assert_uint_eq(st.st_dev, want.st_dev);
        close(fd);
    }
}
END_TEST

/* The file a walked link opens is its target, not the link. */
START_TEST(test_walk_content)
{
    struct stat st;
    char buf[16] = {0};
    int fd;

    ck_assert_int_eq(sf_resolve_open(rootfd, "link_chain", B_NH, &fd, &st), 0);
    ck_assert_int_eq(read(fd, buf, sizeof(buf) - 1), 6);
    ck_assert_str_eq(buf, "hello\n");
    int fl = fcntl(fd, F_GETFL);
    ck_assert(fl >= 0 && (fl & O_NONBLOCK) && (fl & O_ACCMODE) == O_RDONLY);
    ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);
}
END_TEST

/* The pure half and the kernel half together: a hostile target is
 * stopped by one or the other. */
START_TEST(test_resolve_then_open)
{
    struct sf_path p;
    struct stat st;
    int fd;

    ck_assert_int_eq(sf_resolve_path("/dir/./inner.txt?x", 18, &p), 0);
    ck_assert_int_eq(sf_resolve_open(rootfd, p.rel, SF_SYMLINKS_NONE, &fd, &st), 0);
    close(fd);

    ck_assert_int_eq(sf_resolve_path("/dir/%2e%2e/%2e%2e/secret", 25, &p), 400);

    ck_assert_int_eq(sf_resolve_path("/link_out", 9, &p), 0);
    int rc = sf_resolve_open(rootfd, p.rel, SF_SYMLINKS_BENEATH, &fd, &st);
    ck_assert_int_eq(sf_resolve_status(rc), 404);
}
END_TEST

static Suite *
resolve_suite(void)
{
    Suite *s = suite_create("resolve");
    TCase *tc;

    tc = tcase_create("path");
    tcase_add_loop_test(tc, test_path_table, 0, (int)SF_ARRAY_LEN(path_cases));
    tcase_add_test(tc, test_path_length);
    suite_add_tcase(s, tc);

    tc = tcase_create("hidden");
    tcase_add_loop_test(tc, test_hidden_table, 0, (int)SF_ARRAY_LEN(hidden_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("status");
    tcase_add_loop_test(tc, test_status_table, 0, (int)SF_ARRAY_LEN(status_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("open");
    /* The tree is read-only to the tests: build it once, in the parent, so
     * it is removed even when a test fails. */
    tcase_add_unchecked_fixture(tc, setup_tree, teardown_tree);
    tcase_add_loop_test(tc, test_open_table, 0, (int)SF_ARRAY_LEN(open_cases));
    tcase_add_test(tc, test_open_content);
    tcase_add_loop_test(tc, test_stat_table, 0, (int)SF_ARRAY_LEN(open_cases));
    tcase_add_test(tc, test_walk_content);
    tcase_add_test(tc, test_open_fifo);
    tcase_add_test(tc, test_open_regular);
    tcase_add_test(tc, test_dirname);
    tcase_add_test(tc, test_resolve_then_open);
    suite_add_tcase(s, tc);

    return s;
}

int
main(void)
{
    return unit_run(resolve_suite());
}
