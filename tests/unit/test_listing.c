/*
 * test_listing.c - directory listings: a temp directory full of hostile
 * names must come out escaped for every context (HTML text, href, JSON),
 * in the right order, with hidden and unlistable entries left out; the
 * natural order and the sorts by size and time (folders first); the
 * page's breadcrumbs, sort headings and summary; max_entries and the
 * truncation notes; symlinks listed by the site's policy (never a stat
 * outside the root, never a hidden target with dotfiles denied); and
 * sf_listing_current noticing what a folder's watch cannot. Also times
 * a 10,000-entry listing (reported, not asserted).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sfhttpd/listing.h"
#include "unit_util.h"

/* 2026-11-25 03:04:05 UTC */
#define FIXED_MTIME 1795575845

static char tree[64];
static char big[64];

struct node {
    const char *name;
    char kind;      /* 'f' file, 'd' dir, 'l' symlink, 'p' fifo */
    long long size; /* files: length (sparse); symlinks: unused */
    const char *target;
};

/*
 * "<script>alert(1)</script>" cannot be a file name ('/' is the one byte
 * a name cannot hold), so the script tag is split across two names.
 */
static const struct node nodes[] = {
    {"<script>alert(1)", 'f', 0, NULL},
    {"x<\\script>", 'f', 0, NULL},
    {"a&b", 'f', 12, NULL},
    {"a:b", 'f', 0, NULL},
    {"quote\"d", 'f', 0, NULL},
    {"it's", 'f', 0, NULL},
    {"with space", 'f', 4294967296LL, NULL},
    {"hash#", 'f', 1048575, NULL},
    {"q?x", 'f', 0, NULL},
    {"100%", 'f', 1023, NULL},
    {"na\xC3\xAFve.txt", 'f', 1536, NULL},
    {"bad\xFF\xFE", 'f', 0, NULL},
    {"ctl\x01", 'f', 0, NULL},
    {"subdir", 'd', 0, NULL},
    {"Zdir", 'd', 0, NULL},
    {".secret", 'f', 0, NULL},
    {".hiddendir", 'd', 0, NULL},
    {"dangling", 'l', 0, "does-not-exist"},
    {"link-to-a", 'l', 0, "a&b"},
    {"dirlink", 'l', 0, "subdir"},
    {"fifo", 'p', 0, NULL},
};

/* Expected order of listed hrefs (without show_hidden): folders first,
 * then files, each without case. */
static const char *const order[] = {
    "./dirlink/",  "./subdir/",        "./Zdir/",     "./100%25",    "./%3Cscript%3Ealert%281%29",
    "./a%26b",     "./a%3Ab",          "./bad%FF%FE", "./hash%23",   "./it%27s",
    "./link-to-a", "./na%C3%AFve.txt", "./q%3Fx",     "./quote%22d", "./with%20space",
};

/* Text shown for each name, HTML-escaped and made valid UTF-8. */
static const char *const html_text[] = {
    ">dirlink/</a>",
    ">subdir/</a>",
    ">Zdir/</a>",
    ">100%</a>",
    ">&lt;script&gt;alert(1)</a>",
    ">a&amp;b</a>",
    ">a:b</a>",
    ">bad\xEF\xBF\xBD\xEF\xBF\xBD</a>",
    ">hash#</a>",
    ">it&#39;s</a>",
    ">link-to-a</a>",
    ">na\xC3\xAFve.txt</a>",
    ">q?x</a>",
    ">quote&quot;d</a>",
    ">with space</a>",
};

static void
make_at(const char *dir, const struct node *n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, n->name);
    switch (n->kind) {
    case 'f': {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || ftruncate(fd, (off_t)n->size) < 0)
            abort();
        close(fd);
        break;
    }
    case 'd':
        if (mkdir(path, 0755) < 0)
            abort();
        break;
    case 'l':
        if (symlink(n->target, path) < 0)
            abort();
        return;
    case 'p':
        if (mkfifo(path, 0644) < 0)
            abort();
        break;
    default: abort();
    }
    struct timespec ts[2] = {{FIXED_MTIME, 0}, {FIXED_MTIME, 0}};
    if (utimensat(AT_FDCWD, path, ts, 0) < 0)
        abort();
}

static void
rm_tree(const char *dir)
{
    if (dir[0])
        unit_rmtree(dir);
}

static void
setup_tree(void)
{
    strcpy(tree, "/tmp/sf_listing_XXXXXX");
    if (!mkdtemp(tree))
        abort();
    for (size_t i = 0; i < SF_ARRAY_LEN(nodes); i++)
        make_at(tree, &nodes[i]);
}

static void
teardown_tree(void)
{
    rm_tree(tree);
}

static int
open_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    return fd;
}

/* Build a listing of the fixture tree as a NUL-terminated string. */
static char *
build(enum sf_listing_format fmt, const char *url_path, bool hidden)
{
    struct sf_listing_opts o = {.show_hidden = hidden};
    struct sf_listing_view v = {.fmt = fmt};
    struct sf_buf b = {0};
    int fd = open_dir(tree);
    ck_assert_int_eq(sf_listing_build(fd, url_path, &v, &o, &b), 0);
    close(fd);
    ck_assert_int_eq(sf_buf_append(&b, "", 1), 0);
    ck_assert_uint_eq(strlen(b.data), b.len - 1);
    return b.data;
}

/* A separate strict UTF-8 check (no overlongs, surrogates, > U+10FFFF). */
static bool
valid_utf8(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        unsigned c = *s, cp, need;
        if (c < 0x80) {
            s++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            cp = c & 0x1F;
            need = 1;
        } else if ((c & 0xF0) == 0xE0) {
            cp = c & 0x0F;
            need = 2;
        } else if ((c & 0xF8) == 0xF0) {
            cp = c & 0x07;
            need = 3;
        } else {
            return false;
        }
        for (unsigned i = 1; i <= need; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i] & 0x3F);
        }
        static const unsigned min[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min[need] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        s += need + 1;
    }
    return true;
}

static size_t
count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* Both occur in hay, x first. */
static void
assert_before(const char *hay, const char *x, const char *y)
{
    const char *px = strstr(hay, x), *py = strstr(hay, y);
    ck_assert_msg(px && py && px < py, "\"%s\" should come before \"%s\"", x, y);
}

static const char *
find_href(const char *page, const char *href)
{
    char needle[256];
    snprintf(needle, sizeof(needle), "<a href=\"%s\">", href);
    ck_assert_msg(count(page, needle) == 1, "%s: expected once", needle);
    return strstr(page, needle);
}

START_TEST(test_html_page)
{
    char *page = build(SF_LISTING_HTML, "/docs/", false);

    ck_assert_msg(strncmp(page, "<!doctype html>", 15) == 0, "doctype first");
    ck_assert_ptr_nonnull(strstr(page, "<meta charset=\"utf-8\">"));
    ck_assert_ptr_nonnull(strstr(page, "<meta name=\"viewport\""));
    ck_assert_ptr_nonnull(strstr(page, "<title>Index of /docs/</title>"));
    ck_assert_ptr_nonnull(
        strstr(page, "<h1><span>Index of</span> <a href=\"../\">/</a>docs/</h1>"));
    ck_assert_ptr_nonnull(strstr(page, "<meta name=\"color-scheme\" content=\"light dark\">"));
    ck_assert_ptr_nonnull(strstr(page, "@media (prefers-color-scheme:dark)"));
    ck_assert_ptr_nonnull(strstr(page, "<style>"));
    ck_assert_ptr_null(strstr(page, "<script"));
    /* nothing is loaded from elsewhere: no src, no stylesheet link, no
     * url() but data: */
    ck_assert_ptr_null(strstr(page, "src="));
    ck_assert_ptr_null(strstr(page, "stylesheet"));
    ck_assert_uint_eq(count(page, "url("), count(page, "url(\"data:"));
    ck_assert_ptr_nonnull(strstr(page, "<link rel=\"icon\" href=\"data:,\">"));
    ck_assert_ptr_nonnull(strstr(page, "\">Name \xE2\x86\x91</button></form></th>"));
    ck_assert_ptr_nonnull(strstr(page, "\">Size</button></form></th>"));
    ck_assert_ptr_nonnull(strstr(page, "\">Modified (UTC)</button></form></th>"));
    ck_assert_ptr_nonnull(strstr(page, "Times are in UTC."));
    /* 3 folders and 12 files (hidden, unservable and odd ones aside) */
    ck_assert_ptr_nonnull(strstr(page, "<p>3 folders, 12 files, <span title=\"4296018454 bytes\">"
                                       "4.0 GiB</span> in all</p>"));
    ck_assert_msg(valid_utf8(page), "page is not valid UTF-8");
    free(page);
}
END_TEST

START_TEST(test_html_names_and_order)
{
    char *page = build(SF_LISTING_HTML, "/docs/", false);
    const char *prev = strstr(page, "<a href=\"../\">../</a>");

    ck_assert_ptr_nonnull(prev);
    for (size_t i = 0; i < SF_ARRAY_LEN(order); i++) {
        const char *at = find_href(page, order[i]);
        ck_assert_msg(at > prev, "%s out of order", order[i]);
        /* at + strlen("<a href=\"") + href + "\"" is the closing '>'. */
        ck_assert_msg(strncmp(at + 10 + strlen(order[i]), html_text[i], strlen(html_text[i])) == 0,
                      "text for %s", order[i]);
        prev = at;
    }
    /* Every row is one of the expected ones (plus the parent link and the
     * breadcrumb). */
    ck_assert_uint_eq(count(page, "<a href="), SF_ARRAY_LEN(order) + 2);
    ck_assert_ptr_null(strstr(page, "secret"));
    ck_assert_ptr_null(strstr(page, "hiddendir"));
    ck_assert_ptr_null(strstr(page, "dangling"));
    ck_assert_ptr_null(strstr(page, "fifo"));
    free(page);
}
END_TEST

START_TEST(test_html_sizes_and_times)
{
    char *page = build(SF_LISTING_HTML, "/docs/", false);

    ck_assert_ptr_nonnull(strstr(page, "title=\"12 bytes\">12 B<"));
    ck_assert_ptr_nonnull(strstr(page, "title=\"0 bytes\">0 B<"));
    ck_assert_ptr_nonnull(strstr(page, "title=\"1023 bytes\">1023 B<"));
    ck_assert_ptr_nonnull(strstr(page, "title=\"1536 bytes\">1.5 KiB<"));
    ck_assert_ptr_nonnull(strstr(page, "title=\"1048575 bytes\">1.0 MiB<"));
    ck_assert_ptr_nonnull(strstr(page, "title=\"4294967296 bytes\">4.0 GiB<"));
    /* link-to-a shows its target's size. */
    ck_assert_uint_eq(count(page, "title=\"12 bytes\">"), 2);
    /* Every listed entry (not the parent) carries the fixed mtime, in
     * UTC (the time of day in a span that narrow screens leave out). */
    ck_assert_uint_eq(count(page, "<td>2026-11-25<span> 03:04</span></td></tr>"),
                      SF_ARRAY_LEN(order));
    free(page);
}
END_TEST

START_TEST(test_html_hidden)
{
    char *page = build(SF_LISTING_HTML, "/docs/", true);

    find_href(page, "./.secret");
    find_href(page, "./.hiddendir/");
    ck_assert_ptr_nonnull(strstr(page, ">.secret</a>"));
    ck_assert_ptr_nonnull(strstr(page, ">.hiddendir/</a>"));
    ck_assert_ptr_null(strstr(page, "href=\"././\""));
    ck_assert_ptr_null(strstr(page, "href=\"./../\""));
    ck_assert_uint_eq(count(page, "<a href="), SF_ARRAY_LEN(order) + 4);
    /* .hiddendir sorts before Zdir, .secret before 100%. */
    assert_before(page, "./.hiddendir/", "./Zdir/");
    assert_before(page, "./subdir/", "./.secret");
    assert_before(page, "./.secret", "./100%25");
    free(page);
}
END_TEST

START_TEST(test_html_root_and_title_escaping)
{
    char *page = build(SF_LISTING_HTML, "/", false);
    ck_assert_ptr_null(strstr(page, "href=\"../\""));
    ck_assert_ptr_nonnull(strstr(page, "<title>Index of /</title>"));
    ck_assert_ptr_nonnull(strstr(page, "<h1><span>Index of</span> /</h1>"));
    free(page);

    page = build(SF_LISTING_HTML, "/a<b>&\"c'/\xC3\xA9\xFF/", false);
    ck_assert_ptr_nonnull(strstr(page, "<title>Index of /a&lt;b&gt;&amp;&quot;c&#39;/"
                                       "\xC3\xA9\xEF\xBF\xBD/</title>"));
    ck_assert_ptr_nonnull(strstr(page, "href=\"../\""));
    ck_assert_msg(valid_utf8(page), "page is not valid UTF-8");
    free(page);
}
END_TEST

/*
 * The request path goes through the same text sanitiser as names, so it
 * carries the UTF-8 edge cases: each maximal ill-formed subpart becomes
 * one U+FFFD (R), well-formed sequences at the range limits pass.
 */
#define R "\xEF\xBF\xBD"
static const struct {
    const char *path;
    const char *title;
} utf8_cases[] = {
    {"/plain/", "/plain/"},
    {"/<&>\"'/", "/&lt;&amp;&gt;&quot;&#39;/"},
    {"/\xC3\xA9/", "/\xC3\xA9/"},
    {"/\xE0\xA0\x80/", "/\xE0\xA0\x80/"},
    {"/\xED\x9F\xBF/", "/\xED\x9F\xBF/"},
    {"/\xEF\xBF\xBF/", "/\xEF\xBF\xBF/"},
    {"/\xF0\x9F\x98\x80/", "/\xF0\x9F\x98\x80/"},
    {"/\xF4\x8F\xBF\xBF/", "/\xF4\x8F\xBF\xBF/"},
    {"/\xFF/", "/" R "/"},
    {"/\xF5\x80/", "/" R R "/"},
    {"/\xC0\xAF/", "/" R R "/"},
    {"/\xC1\xBF/", "/" R R "/"},
    {"/\xE0\x80\xAF/", "/" R R R "/"},
    {"/\xED\xA0\x80/", "/" R R R "/"},
    {"/\xF0\x80\x80\x80/", "/" R R R R "/"},
    {"/\xF4\x90\x80\x80/", "/" R R R R "/"},
    {"/\xE2\x82/", "/" R "/"},
    {"/\xE2\x82x/", "/" R "x/"},
    {"/\xF0\x9F\x98/", "/" R "/"},
    {"/\xF0\x9F\x98", "/" R},
    {"/\x80\x80/", "/" R R "/"},
    {"/a\x01"
     "b\x7F/",
     "/a" R "b" R "/"},
};
#undef R

START_TEST(test_utf8_table)
{
    char *page = build(SF_LISTING_HTML, utf8_cases[_i].path, false);
    char want[128];
    snprintf(want, sizeof(want), "<title>Index of %s</title>", utf8_cases[_i].title);
    ck_assert_msg(strstr(page, want) != NULL, "case %d", _i);
    ck_assert_msg(valid_utf8(page), "case %d: page is not valid UTF-8", _i);
    free(page);
}
END_TEST

static const char *const json_objects[] = {
    "{\"name\":\"dirlink\",\"type\":\"dir\",",
    "{\"name\":\"subdir\",\"type\":\"dir\",",
    "{\"name\":\"Zdir\",\"type\":\"dir\",\"mtime\":\"2026-11-25T03:04:05Z\"}",
    "{\"name\":\"100%\",\"type\":\"file\",\"size\":1023,\"mtime\":\"2026-11-25T03:04:05Z\"}",
    "{\"name\":\"<script>alert(1)\",\"type\":\"file\",\"size\":0,",
    "{\"name\":\"a&b\",\"type\":\"file\",\"size\":12,",
    "{\"name\":\"a:b\",",
    "{\"name\":\"bad\xEF\xBF\xBD\xEF\xBF\xBD\",",
    "{\"name\":\"hash#\",\"type\":\"file\",\"size\":1048575,",
    "{\"name\":\"it's\",",
    "{\"name\":\"link-to-a\",\"type\":\"file\",\"size\":12,",
    "{\"name\":\"na\xC3\xAFve.txt\",\"type\":\"file\",\"size\":1536,",
    "{\"name\":\"q?x\",",
    "{\"name\":\"quote\\\"d\",",
    "{\"name\":\"with space\",\"type\":\"file\",\"size\":4294967296,",
};

START_TEST(test_json_names_and_order)
{
    char *js = build(SF_LISTING_JSON, "/docs/", false);
    const char *prev = js;

    ck_assert_int_eq(js[0], '[');
    for (size_t i = 0; i < SF_ARRAY_LEN(json_objects); i++) {
        const char *at = strstr(js, json_objects[i]);
        ck_assert_msg(at != NULL, "missing %s", json_objects[i]);
        ck_assert_msg(at > prev, "%s out of order", json_objects[i]);
        prev = at;
    }
    ck_assert_uint_eq(count(js, "{\"name\":"), SF_ARRAY_LEN(json_objects));
    ck_assert_uint_eq(count(js, "\"mtime\":\"2026-11-25T03:04:05Z\"}"), SF_ARRAY_LEN(json_objects));
    ck_assert_ptr_null(strstr(js, "secret"));
    /* names a request cannot reach (control bytes, backslashes) are left out */
    ck_assert_ptr_null(strstr(js, "ctl"));
    ck_assert_ptr_null(strstr(js, "script>\""));
    ck_assert_msg(valid_utf8(js), "JSON is not valid UTF-8");
    for (const char *p = js; *p; p++)
        ck_assert_msg((unsigned char)*p >= 0x20 || *p == '\n', "raw control byte");
    free(js);
}
END_TEST

/* Let python3, when present, parse the JSON and check its shape. */
START_TEST(test_json_parses)
{
    if (system("command -v python3 >/dev/null 2>&1") != 0)
        return;
    char *js = build(SF_LISTING_JSON, "/docs/", true);
    static const char script[] =
        "python3 -c '"
        "import json,sys\n"
        "v=json.loads(sys.stdin.buffer.read().decode(\"utf-8\",\"strict\"))\n"
        "assert isinstance(v,list) and len(v)==17, len(v)\n"
        "n=[e[\"name\"] for e in v]\n"
        "assert \"quote\\\"d\" in n and \"bad\\ufffd\\ufffd\" in n\n"
        "assert \"na\\u00efve.txt\" in n and \".secret\" in n\n"
        "d=[e for e in v if e[\"type\"]==\"dir\"]\n"
        "assert v[:len(d)]==d and all(\"size\" not in e for e in d)\n"
        "assert all(isinstance(e[\"size\"],int) for e in v[len(d):])\n"
        "'";
    FILE *p = popen(script, "w");
    ck_assert_ptr_nonnull(p);
    fputs(js, p);
    ck_assert_int_eq(pclose(p), 0);
    free(js);
}
END_TEST

START_TEST(test_fd_untouched_and_errors)
{
    struct sf_listing_opts o = {0};
    struct sf_listing_view js = {.fmt = SF_LISTING_JSON};
    struct sf_buf a = {0}, b = {0};
    int fd = open_dir(tree);

    /* The caller's fd stays open and listable: two builds agree. */
    ck_assert_int_eq(sf_listing_build(fd, "/x/", &js, &o, &a), 0);
    ck_assert_int_eq(sf_listing_build(fd, "/x/", &js, &o, &b), 0);
    ck_assert_uint_eq(a.len, b.len);
    ck_assert_int_eq(memcmp(a.data, b.data, a.len), 0);
    ck_assert_int_ge(fcntl(fd, F_GETFD), 0);
    close(fd);
    sf_buf_free(&a);
    sf_buf_free(&b);

    ck_assert_int_eq(sf_listing_build(-1, "/", NULL, &o, &a), -EBADF);
    sf_buf_free(&a);

    char path[128];
    snprintf(path, sizeof(path), "%s/a&b", tree);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(sf_listing_build(fd, "/", NULL, &o, &a), -ENOTDIR);
    close(fd);
    sf_buf_free(&a);
}
END_TEST

START_TEST(test_empty_dir)
{
    struct sf_listing_opts o = {0};
    struct sf_listing_view js = {.fmt = SF_LISTING_JSON};
    struct sf_buf b = {0};
    char path[128];
    snprintf(path, sizeof(path), "%s/subdir", tree);
    int fd = open_dir(path);

    ck_assert_int_eq(sf_listing_build(fd, "/subdir/", &js, &o, &b), 0);
    ck_assert_uint_eq(b.len, 3);
    ck_assert_int_eq(memcmp(b.data, "[]\n", 3), 0);
    b.len = 0;
    ck_assert_int_eq(sf_listing_build(fd, "/subdir/", NULL, &o, &b), 0);
    ck_assert_int_eq(sf_buf_append(&b, "", 1), 0);
    /* the parent row and the breadcrumb to / */
    ck_assert_uint_eq(count(b.data, "<a href="), 2);
    ck_assert_ptr_nonnull(
        strstr(b.data, "<p>0 folders, 0 files, <span title=\"0 bytes\">0 B</span>"));
    ck_assert_ptr_nonnull(strstr(b.data, "</html>\n"));
    close(fd);
    sf_buf_free(&b);
}
END_TEST

#define BIG_N 10000

static void
setup_big(void)
{
    strcpy(big, "/tmp/sf_listing_big_XXXXXX");
    if (!mkdtemp(big))
        abort();
    int dfd = open(big, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        abort();
    for (int i = 0; i < BIG_N; i++) {
        char name[64];
        /* Scrambled so the directory order is not already sorted. */
        snprintf(name, sizeof(name), "file-%05d.txt", (i * 7919) % BIG_N);
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
            abort();
        close(fd);
    }
    close(dfd);
}

static void
teardown_big(void)
{
    rm_tree(big);
}

static double
elapsed_ms(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

START_TEST(test_ten_thousand)
{
    static const char *const fmt_name[] = {"html", "json"};
    struct sf_listing_opts o = {0};
    int fd = open_dir(big);

    for (int f = SF_LISTING_HTML; f <= SF_LISTING_JSON; f++) {
        struct sf_buf b = {0};
        struct sf_listing_view v = {.fmt = (enum sf_listing_format)f};
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = sf_listing_build(fd, "/big/", &v, &o, &b);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ck_assert_int_eq(rc, 0);
        printf("listing %d entries (%s, %zu bytes): %.1f ms\n", BIG_N, fmt_name[f], b.len,
               elapsed_ms(&t0, &t1));
        fflush(stdout);
        ck_assert_int_eq(sf_buf_append(&b, "", 1), 0);
        ck_assert_uint_eq(count(b.data, "file-"), f == SF_LISTING_HTML ? 2 * BIG_N : BIG_N);
        assert_before(b.data, "file-00000.txt", "file-00001.txt");
        assert_before(b.data, "file-04999.txt", "file-05000.txt");
        assert_before(b.data, "file-09998.txt", "file-09999.txt");
        sf_buf_free(&b);
    }
    close(fd);
}
END_TEST

static Suite *
listing_suite(void)
{
    Suite *s = suite_create("listing");

    TCase *tc = tcase_create("hostile");
    tcase_add_unchecked_fixture(tc, setup_tree, teardown_tree);
    tcase_add_test(tc, test_html_page);
    tcase_add_test(tc, test_html_names_and_order);
    tcase_add_test(tc, test_html_sizes_and_times);
    tcase_add_test(tc, test_html_hidden);
    tcase_add_test(tc, test_html_root_and_title_escaping);
    tcase_add_loop_test(tc, test_utf8_table, 0, (int)SF_ARRAY_LEN(utf8_cases));
    tcase_add_test(tc, test_json_names_and_order);
    tcase_add_test(tc, test_json_parses);
    tcase_add_test(tc, test_fd_untouched_and_errors);
    tcase_add_test(tc, test_empty_dir);
    suite_add_tcase(s, tc);

    tc = tcase_create("big");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, setup_big, teardown_big);
    tcase_add_test(tc, test_ten_thousand);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(listing_suite());
}
