/*
 * it_etag.c - etag = content end to end: two copies of one tree with
 * different mtimes (utimensat), served by two sfhttpd instances (one of
 * them with two workers), give the same ETags for a small file (hashed at
 * once), a big one (hashed by the helper thread: the first response
 * carries the mtime ETag, then the content ETag, polled for with a
 * bounded retry loop) and a precompressed variant (its own tag); a site
 * with the default etag = mtime beside it keeps mtime ETags. Conditionals
 * take either tag of the current version and answer with the one named;
 * a changed file gets a new tag; the hash is remembered in the file's
 * user.sfhttpd.etag attribute and a fresh instance sends it on its first
 * response (skipped, with a message, where the filesystem has no user
 * attributes).
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "harness.h"

#define BIG_SIZE (3u << 20)
#define SMALL "a small file, snapshotted and hashed at once\n"
#define POLL_TRIES 600 /* x 50 ms: a hang guard, not a timing claim */

static char g_base[PATH_MAX];
static struct it_server sa, sb;

/* A copy of the tree under g_base/name with every mtime set to t. */
static void
write_copy(const char *name, int64_t t)
{
    char d[PATH_MAX], p[PATH_MAX];
    it_join(d, sizeof(d), g_base, name);
    it_mkdir(d);
    it_join(p, sizeof(p), d, "small.txt");
    it_write_str(p, SMALL);
    it_set_mtime(p, t);
    it_join(p, sizeof(p), d, "big.bin");
    it_write_pattern(p, BIG_SIZE, 11);
    it_set_mtime(p, t);
    it_join(p, sizeof(p), d, "page.html");
    it_write_str(p, "<!doctype html><title>t</title><p>hello, precompressed world</p>\n");
    it_set_mtime(p, t);
    it_join(p, sizeof(p), d, "page.html.gz"); /* only its bytes matter here */
    it_write_str(p, "pretend gzip bytes of page.html\n");
    it_set_mtime(p, t + 1);
}

/* An instance serving g_base/copy with etag = content (and, for the
 * first, the same tree as site m.test with the default etag). */
static void
start(struct it_server *s, const char *copy, const char *name, const char *extra, bool mtime_site)
{
    char conf[PATH_MAX], text[4096];
    it_join(conf, sizeof(conf), g_base, name);
    snprintf(text, sizeof(text),
             "[server]\nlisten = 127.0.0.1:0\naccess_log = off\n%s%s\n"
             "[site]\nroot = %s\netag = content\ndefault = on\nprecompressed = gzip\n%s",
             getuid() == 0 ? "user = root\n" : "", extra, copy,
             mtime_site ? "\n[site m]\nroot = a\nserver_names = m.test\n" : "");
    it_write_str(conf, text);
    it_server_start_conf(s, conf);
}

static void
setup(void)
{
    it_tmpdir(g_base, sizeof(g_base));
    write_copy("a", 1500000000);
    write_copy("b", 1700000000); /* as git checkout or cp would: other mtimes */
    start(&sa, "a", "a.conf", "", true);
    start(&sb, "b", "b.conf", "workers = 2\n", false);
}

static void
teardown(void)
{
    if (sa.pid > 0)
        it_server_stop(&sa);
    if (sb.pid > 0)
        it_server_stop(&sb);
    it_rmtree(g_base);
}

/* GET path (Host h, extra header lines) into r; its ETag into tag. */
static int
get_tag(int port, const char *host, const char *path, const char *extra, char *tag, size_t cap,
        struct it_response *r)
{
    char raw[1024];
    snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n", path,
             host, extra ? extra : "");
    ck_assert_msg(it_request(port, raw, r) == IT_OK, "no response for %s", path);
    const char *e = it_header(r, "ETag");
    ck_assert_msg(e != NULL, "%s: no ETag", path);
    snprintf(tag, cap, "%s", e);
    return r->status;
}

static int
tag_of(int port, const char *path, const char *extra, char *tag, size_t cap)
{
    struct it_response r;
    int st = get_tag(port, "t.test", path, extra, tag, cap, &r);
    it_response_free(&r);
    return st;
}

/* "x3-" and 32 lower-case hex digits in quotes, then suffix"\"" */
static bool
is_content_tag(const char *t, const char *suffix)
{
    size_t n = strlen(t), k = strlen(suffix);
    if (n != 37 + k || strncmp(t, "\"x3-", 4) != 0 || t[n - 1] != '"' ||
        strncmp(t + 36, suffix, k) != 0)
        return false;
    for (size_t i = 4; i < 36; i++)
        if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
            return false;
    return true;
}

/* Ask for path until the content ETag comes (bounded); with two
 * workers, until POLL_SAME answers in a row carry it, so that every
 * worker has it. */
#define POLL_SAME 6
static void
poll_content(int port, const char *path, const char *extra, const char *suffix, char *tag,
             size_t cap)
{
    int same = 0;
    for (int i = 0; i < POLL_TRIES && same < POLL_SAME; i++) {
        ck_assert_int_eq(tag_of(port, path, extra, tag, cap), 200);
        if (is_content_tag(tag, suffix))
            same++;
        else {
            same = 0;
            it_sleep_ms(50);
        }
    }
    ck_assert_msg(same == POLL_SAME, "%s: still %s after %d tries", path, tag, POLL_TRIES);
}

START_TEST(t_copies_agree)
{
    char ta[128], tb[128], first[128], tm[128];
    /* small: the content ETag on the very first response */
    ck_assert_int_eq(tag_of(sa.port, "/small.txt", NULL, ta, sizeof(ta)), 200);
    ck_assert_int_eq(tag_of(sb.port, "/small.txt", NULL, tb, sizeof(tb)), 200);
    ck_assert_msg(is_content_tag(ta, ""), "small: %s", ta);
    ck_assert_str_eq(ta, tb);

    /* big: the first response cannot wait for the thread */
    ck_assert_int_eq(tag_of(sa.port, "/big.bin", NULL, first, sizeof(first)), 200);
    ck_assert_msg(!is_content_tag(first, ""), "big hashed before its first response: %s", first);
    poll_content(sa.port, "/big.bin", NULL, "", ta, sizeof(ta));
    poll_content(sb.port, "/big.bin", NULL, "", tb, sizeof(tb));
    ck_assert_str_eq(ta, tb);
    ck_assert_str_ne(ta, first);

    /* the variant: a tag of its own, equal on both */
    poll_content(sa.port, "/page.html", "Accept-Encoding: gzip\r\n", "-gzip", ta, sizeof(ta));
    poll_content(sb.port, "/page.html", "Accept-Encoding: gzip\r\n", "-gzip", tb, sizeof(tb));
    ck_assert_str_eq(ta, tb);
    poll_content(sa.port, "/page.html", NULL, "", tm, sizeof(tm));
    ck_assert_msg(strncmp(tm, ta, 36) != 0, "variant %s, identity %s", ta, tm);

    /* the same file through the etag = mtime site: the mtime ETag */
    struct it_response r;
    get_tag(sa.port, "m.test", "/big.bin", NULL, tm, sizeof(tm), &r);
    it_response_free(&r);
    ck_assert_str_eq(tm, first);
}
END_TEST

/* Either tag of the current version matches; the response carries the
 * one the client named. Another replica's mtime tag is another version
 * as far as this one can tell. */
START_TEST(t_conditionals)
{
    char mt[128], ct[128], other[128], got[128], hdr[512];
    struct it_response r;
    ck_assert_int_eq(tag_of(sa.port, "/big.bin", NULL, mt, sizeof(mt)), 200);
    ck_assert_int_eq(tag_of(sb.port, "/big.bin", NULL, other, sizeof(other)), 200);
    poll_content(sa.port, "/big.bin", NULL, "", ct, sizeof(ct));
    ck_assert_msg(!is_content_tag(mt, "") && !is_content_tag(other, ""), "%s %s", mt, other);

    snprintf(hdr, sizeof(hdr), "If-None-Match: %s\r\n", ct);
    ck_assert_int_eq(get_tag(sa.port, "t.test", "/big.bin", hdr, got, sizeof(got), &r), 304);
    it_response_free(&r);
    ck_assert_str_eq(got, ct);

    snprintf(hdr, sizeof(hdr), "If-None-Match: %s\r\n", mt);
    ck_assert_int_eq(get_tag(sa.port, "t.test", "/big.bin", hdr, got, sizeof(got), &r), 304);
    it_response_free(&r);
    ck_assert_str_eq(got, mt);

    snprintf(hdr, sizeof(hdr), "If-None-Match: %s\r\n", other);
    ck_assert_int_eq(get_tag(sa.port, "t.test", "/big.bin", hdr, got, sizeof(got), &r), 200);
    it_response_free(&r);
    ck_assert_str_eq(got, ct);

    /* small: If-None-Match with the content tag, from the other replica */
    ck_assert_int_eq(tag_of(sb.port, "/small.txt", NULL, ct, sizeof(ct)), 200);
    snprintf(hdr, sizeof(hdr), "If-None-Match: %s\r\n", ct);
    ck_assert_int_eq(get_tag(sa.port, "t.test", "/small.txt", hdr, got, sizeof(got), &r), 304);
    it_response_free(&r);

    /* a resume across replicas: If-Range with the content tag */
    poll_content(sb.port, "/big.bin", NULL, "", ct, sizeof(ct));
    snprintf(hdr, sizeof(hdr), "Range: bytes=100-199\r\nIf-Range: %s\r\n", ct);
    ck_assert_int_eq(get_tag(sa.port, "t.test", "/big.bin", hdr, got, sizeof(got), &r), 206);
    ck_assert_int_eq(r.content_length, 100);
    it_response_free(&r);
    ck_assert_str_eq(got, ct);
    /* with the mtime tag this replica sent first: 206 with that tag */
    snprintf(hdr, sizeof(hdr), "Range: bytes=100-199\r\nIf-Range: %s\r\n", mt);
    ck_assert_int_eq(get_tag(sa.port, "t.test", "/big.bin", hdr, got, sizeof(got), &r), 206);
    it_response_free(&r);
    ck_assert_str_eq(got, mt);
    /* with the other replica's mtime tag: the whole file */
    snprintf(hdr, sizeof(hdr), "Range: bytes=100-199\r\nIf-Range: %s\r\n", other);
    ck_assert_int_eq(get_tag(sa.port, "t.test", "/big.bin", hdr, got, sizeof(got), &r), 200);
    ck_assert_int_eq(r.content_length, BIG_SIZE);
    it_response_free(&r);
}
END_TEST

/* A deploy that changes bytes but keeps size and mtime (the case the
 * mtime ETag gets wrong): a new content ETag, small and big. */
START_TEST(t_changed_file)
{
    char before[128], after[128], p[PATH_MAX], tmp[PATH_MAX];
    ck_assert_int_eq(tag_of(sa.port, "/small.txt", NULL, before, sizeof(before)), 200);
    it_join(tmp, sizeof(tmp), g_base, "a/small.txt.new");
    it_join(p, sizeof(p), g_base, "a/small.txt");
    it_write_str(tmp, "A small file, snapshotted and hashed at once\n"); /* same size */
    it_set_mtime(tmp, 1500000000);
    ck_assert_int_eq(rename(tmp, p), 0);
    ck_assert_int_eq(tag_of(sa.port, "/small.txt", NULL, after, sizeof(after)), 200);
    ck_assert_msg(is_content_tag(after, ""), "%s", after);
    ck_assert_str_ne(before, after);

    poll_content(sa.port, "/big.bin", NULL, "", before, sizeof(before));
    it_join(tmp, sizeof(tmp), g_base, "a/big.bin.new");
    it_join(p, sizeof(p), g_base, "a/big.bin");
    it_write_pattern(tmp, BIG_SIZE, 12);
    it_set_mtime(tmp, 1500000000);
    ck_assert_int_eq(rename(tmp, p), 0);
    poll_content(sa.port, "/big.bin", NULL, "", after, sizeof(after));
    ck_assert_str_ne(before, after);
}
END_TEST

/* The hash lands in user.sfhttpd.etag (size, mtime, hash) and a fresh
 * instance sends it on its very first response. */
START_TEST(t_xattr_reused)
{
    char tag[128], p[PATH_MAX], rec[256], want[64];
    poll_content(sa.port, "/big.bin", NULL, "", tag, sizeof(tag));
    it_join(p, sizeof(p), g_base, "a/big.bin");
    ssize_t n = -1;
    for (int i = 0; i < POLL_TRIES && n < 0; i++) {
        n = getxattr(p, "user.sfhttpd.etag", rec, sizeof(rec) - 1);
        if (n < 0 && errno == ENOTSUP) {
            fprintf(stderr, "t_xattr_reused: no user attributes under %s: skipped\n", g_base);
            return;
        }
        if (n < 0)
            it_sleep_ms(50);
    }
    ck_assert_msg(n > 0, "no user.sfhttpd.etag on %s: %s", p, strerror(errno));
    rec[n] = '\0';
    snprintf(want, sizeof(want), "v1 size=%u mtime=1500000000.000000000 xxh128=", BIG_SIZE);
    ck_assert_msg(strncmp(rec, want, strlen(want)) == 0, "record %s", rec);
    ck_assert_msg(strncmp(rec + strlen(want), tag + 4, 32) == 0, "record %s, ETag %s", rec, tag);

    it_server_stop(&sa);
    start(&sa, "a", "a2.conf", "", false);
    char first[128];
    ck_assert_int_eq(tag_of(sa.port, "/big.bin", NULL, first, sizeof(first)), 200);
    ck_assert_str_eq(first, tag);
}
END_TEST

/*
 * file_guard = stat: the content ETag is computed and sent, but never
 * stored. Storing it would be unsafe: setting an attribute moves the
 * file's ctime, which is what the stat guard compares before each chunk
 * of every send of the file, so it would cut each stat-guarded download
 * of it in flight, in every worker, much as a user.* attribute set here
 * from outside cuts one (shown below); and an edit that keeps size and
 * mtime would hide behind the ctime the write moved.
 */
#define HUGE_SIZE (16u << 20) /* more than the loopback socket buffers hold */
START_TEST(t_stat_guard_stores_nothing)
{
    struct it_server sc;
    struct it_conn c;
    struct it_response r;
    char d[PATH_MAX], p[PATH_MAX], tag[128], rec[256];
    struct stat before, after;

    write_copy("c", 1600000000);
    it_join(d, sizeof(d), g_base, "c");
    it_put_pattern(d, "huge.bin", HUGE_SIZE, 12);
    it_join(p, sizeof(p), d, "big.bin");
    ck_assert_int_eq(stat(p, &before), 0);
    start(&sc, "c", "c.conf", "file_guard = stat\n", false);
    it_server_expect(&sc, "file changed");
    poll_content(sc.port, "/big.bin", NULL, "", tag, sizeof(tag));
    ck_assert_int_lt(getxattr(p, "user.sfhttpd.etag", rec, sizeof(rec)), 0);
    if (errno == ENOTSUP) {
        fprintf(stderr, "t_stat_guard_stores_nothing: no user attributes under %s: skipped\n",
                g_base);
        it_server_stop(&sc);
        return;
    }
    ck_assert_int_eq(errno, ENODATA);
    ck_assert_int_eq(stat(p, &after), 0);
    ck_assert_msg(before.st_ctim.tv_sec == after.st_ctim.tv_sec &&
                      before.st_ctim.tv_nsec == after.st_ctim.tv_nsec,
                  "the server moved big.bin's ctime");

    /* why: an attribute set while a stat-guarded download is in flight */
    it_join(p, sizeof(p), d, "huge.bin");
    it_conn_open_opts(&c, sc.port, 4096, 0);
    it_conn_send_str(&c, "GET /huge.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    ck_assert_int_eq(it_read_head(&c, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(it_read_body(&c, &r, 65536), IT_OK);
    ck_assert_int_eq(setxattr(p, "user.sfhttpd.test", "x", 1, 0), 0);
    ck_assert_int_eq(it_read_body(&c, &r, HUGE_SIZE), IT_BAD);
    ck_assert_msg(!r.complete && r.body_len < HUGE_SIZE, "got all %llu bytes",
                  (unsigned long long)r.body_len);
    it_response_free(&r);
    it_conn_close(&c);
    it_server_stop(&sc);
}
END_TEST

static Suite *
etag_suite(void)
{
    Suite *s = suite_create("it_etag");
    TCase *tc = tcase_create("content");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, t_copies_agree);
    tcase_add_test(tc, t_conditionals);
    tcase_add_test(tc, t_changed_file);
    tcase_add_test(tc, t_xattr_reused);
    tcase_add_test(tc, t_stat_guard_stores_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return it_main(etag_suite());
}
