/*
 * it_security.c - confinement and hostile paths against the real binary:
 * a secret file beside the root never leaks whatever the path, symlinks
 * may not escape, dotfiles stay hidden (but /.well-known/ is served) and
 * no link leads to one, a listing never stats outside the root, a
 * FIFO or device gets 403 without hanging the server, directory redirects
 * keep the query and percent-encode Location, and no request can inject a
 * response header.
 */
#include "harness.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#define SECRET "TOP-SECRET-7d41c2e9"
#define INJ_DIR "inj\r\nX-Injected: 1"

static bool g_have_dev;

static void
put(const char *rel, const char *text)
{
    char p[PATH_MAX];

    it_join(p, sizeof(p), it_suite.root, rel);
    it_write_str(p, text);
}

static void
dir(const char *rel)
{
    char p[PATH_MAX];

    it_join(p, sizeof(p), it_suite.root, rel);
    it_mkdir(p);
}

static void
link_(const char *target, const char *rel)
{
    char p[PATH_MAX];

    it_join(p, sizeof(p), it_suite.root, rel);
    ck_assert_msg(symlink(target, p) == 0, "symlink %s", p);
}

static void
tree_up(void)
{
    char p[PATH_MAX], abs_secret[PATH_MAX];

    it_suite_tree();
    it_join(abs_secret, sizeof(abs_secret), it_suite.base, "secret");
    it_write_str(abs_secret, SECRET "\n");
    it_put(it_suite.base, "secret.txt", SECRET "\n");

    put("inner.txt", "inner\n");
    dir("sub");
    put("sub/file.txt", "sub file\n");
    link_("inner.txt", "link_in");
    link_("../inner.txt", "sub/link_sib");
    link_("sub", "link_dir_in");
    link_("../secret", "link_out");
    link_(abs_secret, "link_out_abs");
    link_("../../secret", "sub/link_up");
    link_("..", "linkdir_out");
    link_("/etc", "link_etc");
    put(".hidden", SECRET "\n");
    dir("sub/.git");
    put("sub/.git/config", SECRET "\n");
    dir(".well-known");
    put(".well-known/x", "well known\n");
    /* links that name no hidden segment but lead to one */
    link_("sub/.git/config", "link_git");
    link_(".git/config", "sub/link_git_here");
    link_("../.hidden", "sub/link_hidden");
    link_(".git", "sub/link_gitdir");
    link_("..", "sub/link_up_dir");
    link_(".well-known/x", "link_wk");
    /* a listing with links of every kind */
    dir("ldir");
    put("ldir/real.txt", "real\n");
    link_("../inner.txt", "ldir/in");
    link_("/etc/passwd", "ldir/out");
    link_("../../secret", "ldir/up");
    link_("../sub/.git/config", "ldir/git");
    link_("../.well-known/x", "ldir/wk");
    link_("../sub", "ldir/subdir");
    dir("dir");
    put("dir/index.html", "<!doctype html><title>dir</title>dir index\n");
    dir("noindex");
    put("noindex/listed.txt", "listed\n");
    dir("a b");
    put("a b/index.html", "space dir\n");
    dir("pct%dir");
    dir("q?dir");
    dir(INJ_DIR);

    it_join(p, sizeof(p), it_suite.root, "fifo");
    ck_assert_int_eq(mkfifo(p, 0644), 0);
    it_join(p, sizeof(p), it_suite.root, "null");
    g_have_dev = mknod(p, S_IFCHR | 0666, makedev(1, 3)) == 0;
    link_("fifo", "fifo_link");

    /* A Unix socket file (bind creates it; it stays after close). */
    {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);

        ck_assert_int_ge(fd, 0);
        it_join(p, sizeof(p), it_suite.root, "sock");
        ck_assert_uint_lt(strlen(p), sizeof(sa.sun_path));
        memcpy(sa.sun_path, p, strlen(p) + 1);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        close(fd);
    }
}

/* GET a raw target with Connection: close; the response must parse. */
static void
get_raw(const char *target, struct it_response *r)
{
    char req[4096];
    enum it_rd rc;

    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", target);
    rc = it_request(it_suite.srv.port, req, r);
    ck_assert_msg(rc == IT_OK, "GET %s: read rc %d (head '%s')", target, (int)rc, r->head);
    ck_assert_msg(it_header_has(r, "X-Content-Type-Options", "nosniff"),
                  "GET %s: %d without X-Content-Type-Options: nosniff", target, r->status);
}

static void
assert_no_leak(const char *target, const struct it_response *r)
{
    ck_assert_msg(strstr(r->body, SECRET) == NULL && strstr(r->head, SECRET) == NULL,
                  "GET %s leaked the secret (status %d)", target, r->status);
    if (r->status == 200)
        ck_assert_msg(strstr(r->body, "secret") == NULL,
                      "GET %s: 200 mentioning the secret: %.300s", target, r->body);
}

static const char *const traversal[] = {
    "/../secret",
    "/%2e%2e/secret",
    "/%2E%2E/secret",
    "/..%2fsecret",
    "/..%2Fsecret",
    "/%2e%2e%2fsecret",
    "//../secret",
    "/a/../../secret",
    "/..\\secret",
    "/..%5csecret",
    "/.%2e/secret",
    "/%2e./secret",
    "/./../secret",
    "/../../../../secret",
    "/sub/../../secret",
    "/sub/..%2f..%2fsecret",
    "/%252e%252e/secret",
    "/%c0%ae%c0%ae/secret",
    "/.../secret",
    "/..;/secret",
    "/../secret.txt",
    "/..%2f..%2f..%2f..%2f..%2f..%2f..%2fsecret",
    "/link_out",
    "/link_out_abs",
    "/sub/link_up",
    "/linkdir_out/secret",
    "/linkdir_out/www/../secret",
    "/link_dir_in/../../secret",
    "/.hidden",
    "/sub/.git/config",
    "/%2ehidden",
    "/sub/%2egit/config",
    "http://t/../secret",
    "http://t/%2e%2e/secret",
    "/..",
    "/../",
    "/%2e%2e",
    "/secret%00",
    "/%00/../secret",
    "/..%00/secret",
};

START_TEST(t_traversal_table)
{
    struct it_response r;

    get_raw(traversal[_i], &r);
    assert_no_leak(traversal[_i], &r);
    it_response_free(&r);
}
END_TEST

START_TEST(t_nul_rejected)
{
    static const char *const paths[] = {"/inner.txt%00", "/%00", "/inner.txt%00.html", "/secret%00",
                                        "/..%00/secret"};

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct it_response r;

        get_raw(paths[i], &r);
        ck_assert_msg(r.status == 400, "GET %s -> %d, want 400", paths[i], r.status);
        it_response_free(&r);
    }
}
END_TEST

static void
expect(const char *target, int status, const char *body)
{
    struct it_response r;

    get_raw(target, &r);
    ck_assert_msg(r.status == status, "GET %s -> %d, want %d", target, r.status, status);
    if (body != NULL)
        ck_assert_str_eq(r.body, body);
    assert_no_leak(target, &r);
    it_response_free(&r);
}

START_TEST(t_symlinks)
{
    expect("/link_in", 200, "inner\n");
    expect("/sub/link_sib", 200, "inner\n");
    expect("/link_dir_in/file.txt", 200, "sub file\n");
    expect("/link_out", 404, NULL);
    expect("/link_out_abs", 404, NULL);
    expect("/sub/link_up", 404, NULL);
    expect("/linkdir_out/secret", 404, NULL);
    expect("/linkdir_out/www/inner.txt", 404, NULL);
    expect("/link_etc/passwd", 404, NULL);
    expect("/link_etc/hostname", 404, NULL);
}
END_TEST

START_TEST(t_dotfiles)
{
    expect("/.hidden", 404, NULL);
    expect("/%2ehidden", 404, NULL);
    expect("/sub/.git/config", 404, NULL);
    expect("/sub/.git/", 404, NULL);
    expect("/sub/./.git/config", 404, NULL);
    expect("/.well-known/x", 200, "well known\n");
    expect("/%2ewell-known/x", 200, "well known\n");
}
END_TEST

/* dotfiles = deny holds for where a link leads, not only for its name. */
START_TEST(t_dotfile_links)
{
    expect("/link_git", 404, NULL);
    expect("/sub/link_git_here", 404, NULL);
    expect("/sub/link_hidden", 404, NULL);
    expect("/sub/link_gitdir/config", 404, NULL);
    expect("/sub/link_gitdir/", 404, NULL);
    expect("/sub/link_up_dir/sub/.git/config", 404, NULL);
    expect("/sub/link_up_dir/.hidden", 404, NULL);
    /* links to visible names still work, .well-known included */
    expect("/link_wk", 200, "well known\n");
    expect("/sub/link_up_dir/inner.txt", 200, "inner\n");
    expect("/sub/link_sib", 200, "inner\n");
    expect("/link_dir_in/file.txt", 200, "sub file\n");
}
END_TEST

/* A listing shows a link as what a request for it reaches, and leaves out
 * what the server refuses: no size or time from outside the root. */
START_TEST(t_listing_links)
{
    struct it_response r;
    struct stat pw;
    char size[64];

    get_raw("/ldir/?format=json", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "{\"name\":\"in\",\"type\":\"file\",\"size\":6,"), "%s", r.body);
    ck_assert_msg(strstr(r.body, "{\"name\":\"wk\",\"type\":\"file\",\"size\":11,"), "%s", r.body);
    ck_assert_msg(strstr(r.body, "{\"name\":\"subdir\",\"type\":\"dir\","), "%s", r.body);
    ck_assert_msg(strstr(r.body, "{\"name\":\"real.txt\","), "%s", r.body);
    ck_assert_msg(!strstr(r.body, "\"out\""), "escaping link listed: %s", r.body);
    ck_assert_msg(!strstr(r.body, "\"up\""), "escaping link listed: %s", r.body);
    ck_assert_msg(!strstr(r.body, "\"git\""), "link to a dotfile listed: %s", r.body);
    ck_assert_int_eq(stat("/etc/passwd", &pw), 0);
    snprintf(size, sizeof(size), "\"size\":%lld,", (long long)pw.st_size);
    if (pw.st_size != 6 && pw.st_size != 11 && pw.st_size != 5)
        ck_assert_msg(!strstr(r.body, size), "the size of /etc/passwd is listed: %s", r.body);
    it_response_free(&r);

    get_raw("/ldir/", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "href=\"./in\""));
    ck_assert_ptr_null(strstr(r.body, "href=\"./out\""));
    ck_assert_ptr_null(strstr(r.body, "href=\"./up\""));
    ck_assert_ptr_null(strstr(r.body, "href=\"./git\""));
    it_response_free(&r);
    /* and what is listed is served, what is not is refused */
    expect("/ldir/in", 200, "inner\n");
    expect("/ldir/wk", 200, "well known\n");
    expect("/ldir/out", 404, NULL);
    expect("/ldir/up", 404, NULL);
    expect("/ldir/git", 404, NULL);
}
END_TEST

START_TEST(t_special_files)
{
    struct it_conn c;
    struct it_response r;
    enum it_rd rc;

    /* A FIFO with no writer: opening it for reading would block. */
    it_conn_open_opts(&c, it_suite.srv.port, 0, 5000);
    it_conn_send_str(&c, "GET /fifo HTTP/1.1\r\nHost: t\r\n\r\n");
    rc = it_read_response(&c, &r, false);
    ck_assert_msg(rc == IT_OK, "GET /fifo: no response within 5 s (rc %d)", (int)rc);
    ck_assert_int_eq(r.status, 403);
    it_response_free(&r);
    it_conn_send_str(&c, "HEAD /fifo HTTP/1.1\r\nHost: t\r\n\r\n");
    rc = it_read_response(&c, &r, true);
    ck_assert_msg(rc == IT_OK || rc == IT_EOF, "HEAD /fifo: rc %d", (int)rc);
    if (rc == IT_OK)
        ck_assert_int_eq(r.status, 403);
    it_response_free(&r);
    it_conn_close(&c);

    /* Meanwhile the server is not stuck. */
    expect("/inner.txt", 200, "inner\n");
    if (g_have_dev)
        expect("/null", 403, NULL);
    expect("/fifo", 403, NULL);
    expect("/fifo_link", 403, NULL);
    expect("/inner.txt", 200, "inner\n");
    it_server_assert_alive(&it_suite.srv);
}
END_TEST

/* A Unix socket file is neither a regular file nor a directory: 403. */
START_TEST(t_socket_file)
{
    expect("/sock", 403, NULL);
    expect("/inner.txt", 200, "inner\n");
}
END_TEST

/* RFC 3986 5.2.4: remove dot segments from an absolute path. */
static void
remove_dots(const char *in, char *out, size_t cap)
{
    const char *segs[128], *p = in + 1;
    size_t lens[128], n = 0, len = 1;

    for (;;) {
        const char *e = strchr(p, '/');
        size_t l = e != NULL ? (size_t)(e - p) : strlen(p);
        bool dot = l == 1 && p[0] == '.', dotdot = l == 2 && p[0] == '.' && p[1] == '.';

        ck_assert_uint_lt(n, 127);
        if (dotdot && n > 0)
            n--;
        if (dot || dotdot) {
            if (e == NULL)
                segs[n] = p, lens[n++] = 0; /* keeps the trailing slash */
        } else {
            segs[n] = p, lens[n++] = l;
        }
        if (e == NULL)
            break;
        p = e + 1;
    }
    out[0] = '/';
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_lt(len + lens[i] + 2, cap);
        memcpy(out + len, segs[i], lens[i]);
        len += lens[i];
        if (i + 1 < n)
            out[len++] = '/';
    }
    out[len] = '\0';
}

/*
 * Where a client lands following Location loc from request target
 * (origin-form): the reference resolved per RFC 3986 5.2, path and query
 * only (an absolute URL's scheme and authority are dropped).
 */
static void
resolve_location(const char *target, const char *loc, char *out, size_t cap)
{
    char merged[4096], path[4096];
    const char *q;

    if (strncmp(loc, "http://", 7) == 0 || strncmp(loc, "https://", 8) == 0 ||
        strncmp(loc, "//", 2) == 0) {
        const char *p = strchr(strstr(loc, "//") + 2, '/');
        snprintf(merged, sizeof(merged), "%s", p != NULL ? p : "/");
    } else if (loc[0] == '/') {
        snprintf(merged, sizeof(merged), "%s", loc);
    } else {
        size_t dir = strcspn(target, "?");
        while (dir > 0 && target[dir - 1] != '/')
            dir--;
        snprintf(merged, sizeof(merged), "%.*s%s", (int)dir, target, loc);
    }
    q = strchr(merged, '?');
    snprintf(path, sizeof(path), "%.*s", q ? (int)(q - merged) : (int)strlen(merged), merged);
    remove_dots(path, out, cap);
    if (q != NULL)
        snprintf(out + strlen(out), cap - strlen(out), "%s", q);
}

static void
expect_redirect(const char *target, const char *want)
{
    struct it_response r;
    const char *loc;
    char got[4096];

    get_raw(target, &r);
    ck_assert_msg(r.status == 301, "GET %s -> %d, want 301", target, r.status);
    loc = it_header(&r, "Location");
    ck_assert_msg(loc != NULL, "GET %s: 301 without Location", target);
    resolve_location(target, loc, got, sizeof(got));
    ck_assert_msg(strcasecmp(got, want) == 0, "GET %s: Location '%s' leads to '%s', want '%s'",
                  target, loc, got, want);
    ck_assert_uint_eq(it_header_count(&r, "Location"), 1);
    it_response_free(&r);
}

START_TEST(t_directory_redirects)
{
    expect_redirect("/dir", "/dir/");
    expect_redirect("/dir?x=1", "/dir/?x=1");
    expect_redirect("/dir?a=1&b=%20", "/dir/?a=1&b=%20");
    expect_redirect("/sub", "/sub/");
    expect_redirect("/x/../dir", "/dir/");
    expect_redirect("/sub/../dir?x=1", "/dir/?x=1");
    expect_redirect("/noindex", "/noindex/");
    expect_redirect("/a%20b", "/a%20b/");
    expect_redirect("/pct%25dir", "/pct%25dir/");
    expect_redirect("/q%3Fdir", "/q%3Fdir/");
    expect_redirect("/.well-known", "/.well-known/");
    expect_redirect("/link_dir_in", "/link_dir_in/");
    {
        struct it_response r;
        enum it_rd rc = it_request(it_suite.srv.port, "HEAD /dir HTTP/1.1\r\nHost: t\r\n\r\n", &r);
        ck_assert_int_eq(rc, IT_OK);
        char got[4096];
        ck_assert_int_eq(r.status, 301);
        ck_assert_ptr_nonnull(it_header(&r, "Location"));
        resolve_location("/dir", it_header(&r, "Location"), got, sizeof(got));
        ck_assert_str_eq(got, "/dir/");
        it_response_free(&r);
    }
}
END_TEST

START_TEST(t_directory_index)
{
    struct it_response r;
    const char *ct;

    get_raw("/dir/", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "<!doctype html><title>dir</title>dir index\n");
    ct = it_header(&r, "Content-Type");
    ck_assert_msg(ct && strncasecmp(ct, "text/html", 9) == 0, "Content-Type %s", ct);
    it_response_free(&r);
    expect("/dir/?x=1", 200, "<!doctype html><title>dir</title>dir index\n");
    expect("/dir/index.html", 200, "<!doctype html><title>dir</title>dir index\n");
    expect("/a%20b/", 200, "space dir\n");

    /* No index: 403, or a listing while listings are on (quick mode). */
    get_raw("/noindex/", &r);
    ck_assert_msg(r.status == 403 || r.status == 200, "/noindex/ -> %d", r.status);
    if (r.status == 200) {
        ct = it_header(&r, "Content-Type");
        ck_assert_msg(ct && strncasecmp(ct, "text/html", 9) == 0, "listing type %s", ct);
        ck_assert_msg(strstr(r.body, "listed.txt") != NULL, "listing lacks listed.txt");
    }
    it_response_free(&r);

    /* A listing of the root must never show dotfiles or point outside. */
    get_raw("/", &r);
    ck_assert_msg(r.status == 403 || r.status == 200, "/ -> %d", r.status);
    if (r.status == 200) {
        ck_assert_msg(strstr(r.body, ".hidden") == NULL, "listing shows .hidden");
        assert_no_leak("/", &r);
    }
    it_response_free(&r);
}
END_TEST

static const char *const inject[] = {
    "/inj%0d%0aX-Injected:%201", "/inj%0D%0AX-Injected:%201?x=1", "/inj%0d%0aX-Injected:%201/",
    "/dir?%0d%0aX-Injected:1",   "/dir%0d%0aX-Injected:1",        "/nodir%0d%0aX-Injected:1",
    "/dir%0aX-Injected:1",       "/dir%0dX-Injected:1",           "/%0d%0aX-Injected:1/../dir",
    "/dir?x=%0d%0aX-Injected:1",
};

START_TEST(t_no_header_injection)
{
    struct it_response r;
    const char *loc;

    get_raw(inject[_i], &r);
    ck_assert_msg(it_header(&r, "X-Injected") == NULL, "GET %s: X-Injected appeared", inject[_i]);
    ck_assert_msg(strcasestr(r.head, "\nX-Injected") == NULL &&
                      strcasestr(r.head, "\rX-Injected") == NULL,
                  "GET %s: injected line in head:\n%s", inject[_i], r.head);
    loc = it_header(&r, "Location");
    if (loc != NULL)
        ck_assert_msg(strpbrk(loc, "\r\n") == NULL, "raw CR/LF in Location");
    it_response_free(&r);
}
END_TEST

/* The directory named with CR LF exists: the server may refuse control
 * bytes in paths (400), or redirect with them percent-encoded. */
START_TEST(t_injection_dir_redirect)
{
    struct it_response r;
    const char *loc;

    get_raw("/inj%0d%0aX-Injected:%201", &r);
    ck_assert_msg(r.status == 301 || r.status == 400, "status %d", r.status);
    loc = it_header(&r, "Location");
    if (r.status == 301) {
        ck_assert_ptr_nonnull(loc);
        ck_assert_msg(strcasestr(loc, "%0D%0A") != NULL && loc[strlen(loc) - 1] == '/',
                      "Location not percent-encoded: %s", loc);
    }
    ck_assert_ptr_null(it_header(&r, "X-Injected"));
    it_response_free(&r);
}
END_TEST

/* Names the file system cannot hold (a 256+ byte segment, a path past
 * PATH_MAX once decoded) are the client's problem: 4xx, never 5xx. */
START_TEST(t_long_names_not_5xx)
{
    static const size_t lens[] = {255, 256, 300, 1000};

    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        char target[1100];
        struct it_response r;

        target[0] = '/';
        memset(target + 1, 'n', lens[i]);
        target[1 + lens[i]] = '\0';
        get_raw(target, &r);
        ck_assert_msg(r.status >= 400 && r.status < 500,
                      "GET /<%zu-byte name> -> %d, want 4xx (404)", lens[i], r.status);
        it_response_free(&r);
    }
}
END_TEST

static Suite *
security_suite(void)
{
    Suite *s = suite_create("it_security");
    TCase *tc = tcase_create("security");

    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, tree_up, it_suite_tree_down);
    tcase_add_checked_fixture(tc, it_suite_srv_up, it_suite_srv_down);
    tcase_add_loop_test(tc, t_traversal_table, 0, (int)(sizeof(traversal) / sizeof(traversal[0])));
    tcase_add_test(tc, t_nul_rejected);
    tcase_add_test(tc, t_symlinks);
    tcase_add_test(tc, t_dotfiles);
    tcase_add_test(tc, t_dotfile_links);
    tcase_add_test(tc, t_listing_links);
    tcase_add_test(tc, t_special_files);
    tcase_add_test(tc, t_socket_file);
    tcase_add_test(tc, t_directory_redirects);
    tcase_add_test(tc, t_directory_index);
    tcase_add_loop_test(tc, t_no_header_injection, 0, (int)(sizeof(inject) / sizeof(inject[0])));
    tcase_add_test(tc, t_injection_dir_redirect);
    tcase_add_test(tc, t_long_names_not_5xx);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return it_main(security_suite());
}
