/*
 * test_listing_sort.c - the orders of a listing and the parts of the page
 * that depend on them: the natural order (a table of names), the sorts by
 * name, size and time in both directions (folders first, ties by name),
 * the sort headings (forms, aria-sort, arrows), the breadcrumbs, and
 * max_entries with the truncation notes in HTML and JSON.
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

#define T0 1700000000

static char base[64];

static void
mk(const char *dir, const char *name, char kind, long long size, long long mtime)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (kind == 'd') {
        if (mkdir(path, 0755) < 0)
            abort();
    } else {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
            abort();
        close(fd);
    }
    struct timespec ts[2] = {{(time_t)mtime, 0}, {(time_t)mtime, 0}};
    if (utimensat(AT_FDCWD, path, ts, 0) < 0)
        abort();
}

static char sorts[128], natural[128], many[128];

/* Names without order in the table below. */
static const char *const natural_names[] = {"x10", "~t", "a1b10", "9",  "B", "x2",   "_u", "a",
                                            "01",  "X3", "a01b3", "10", "1", "a1b2", "x02"};
static const char *const natural_want[] = {"01",    "1", "9",   "10", "_u", "a",   "a1b2", "a01b3",
                                           "a1b10", "B", "x02", "x2", "X3", "x10", "~t"};

static void
setup(void)
{
    strcpy(base, "/tmp/sf_listing_sort_XXXXXX");
    if (!mkdtemp(base))
        abort();
    snprintf(sorts, sizeof(sorts), "%s/sorts", base);
    snprintf(natural, sizeof(natural), "%s/natural", base);
    snprintf(many, sizeof(many), "%s/many", base);
    mk(base, "sorts", 'd', 0, T0);
    mk(base, "natural", 'd', 0, T0);
    mk(base, "many", 'd', 0, T0);
    /* folders and files, each with its size and time */
    mk(sorts, "b-dir", 'd', 0, T0 + 5);
    mk(sorts, "A-dir", 'd', 0, T0 + 1);
    mk(sorts, "c10", 'd', 0, T0 + 3);
    mk(sorts, "c9", 'd', 0, T0 + 4);
    mk(sorts, "file10.txt", 'f', 10, T0 + 10);
    mk(sorts, "file2.txt", 'f', 300, T0 + 2);
    mk(sorts, "File1.txt", 'f', 20, T0 + 30);
    mk(sorts, "readme", 'f', 20, T0 + 20);
    mk(sorts, "zeta", 'f', 0, T0);
    mk(sorts, "007.txt", 'f', 5, T0 + 7);
    mk(sorts, "7.txt", 'f', 6, T0 + 6);
    for (size_t i = 0; i < SF_ARRAY_LEN(natural_names); i++)
        mk(natural, natural_names[i], 'f', 1, T0);
    for (int i = 0; i < 30; i++) {
        char name[32];
        snprintf(name, sizeof(name), "n%02d", i);
        mk(many, name, 'f', 1, T0);
    }
    for (int i = 0; i < 5; i++) {
        char name[32];
        snprintf(name, sizeof(name), ".h%d", i);
        mk(many, name, 'f', 1, T0);
    }
}

static void
teardown(void)
{
    unit_rmtree(base);
}

/* The listing of dir as a NUL-terminated string. */
static char *
render(const char *dir, const char *url, enum sf_listing_format fmt, enum sf_listing_sort sort,
       bool desc, size_t max)
{
    struct sf_listing_opts o = {.max_entries = max};
    struct sf_listing_view v = {fmt, sort, desc};
    struct sf_buf b = {0};
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(sf_listing_build(fd, url, &v, &o, &b), 0);
    close(fd);
    ck_assert_int_eq(sf_buf_append(&b, "", 1), 0);
    return b.data;
}

/* The names of a JSON listing, in order, joined by spaces. */
static void
json_names(const char *js, char *out, size_t cap)
{
    out[0] = '\0';
    for (const char *p = js; (p = strstr(p, "{\"name\":\"")) != NULL;) {
        p += 9;
        const char *q = strchr(p, '"');
        ck_assert_ptr_nonnull(q);
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s%.*s", n ? " " : "", (int)(q - p), p);
    }
}

/* The names the HTML rows link to, in order (hrefs "./NAME" or
 * "./NAME/"), joined by spaces. */
static void
html_names(const char *page, char *out, size_t cap)
{
    out[0] = '\0';
    for (const char *p = page; (p = strstr(p, "<a href=\"./")) != NULL;) {
        p += 11;
        const char *q = strchr(p, '"');
        ck_assert_ptr_nonnull(q);
        size_t len = (size_t)(q - p);
        if (len && p[len - 1] == '/')
            len--;
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s%.*s", n ? " " : "", (int)len, p);
    }
}

START_TEST(test_natural_order)
{
    char want[512] = "", got[512];
    for (size_t i = 0; i < SF_ARRAY_LEN(natural_want); i++) {
        size_t n = strlen(want);
        snprintf(want + n, sizeof(want) - n, "%s%s", i ? " " : "", natural_want[i]);
    }
    char *js = render(natural, "/n/", SF_LISTING_JSON, SF_LISTING_BY_NAME, false, 0);
    json_names(js, got, sizeof(got));
    ck_assert_str_eq(got, want);
    free(js);
    char *page = render(natural, "/n/", SF_LISTING_HTML, SF_LISTING_BY_NAME, false, 0);
    html_names(page, got, sizeof(got));
    ck_assert_str_eq(got, want);
    free(page);
}
END_TEST

static const struct {
    enum sf_listing_sort sort;
    bool desc;
    const char *want;
} sort_cases[] = {
    {SF_LISTING_BY_NAME, false,
     "A-dir b-dir c9 c10 007.txt 7.txt File1.txt file2.txt file10.txt readme zeta"},
    {SF_LISTING_BY_NAME, true,
     "c10 c9 b-dir A-dir zeta readme file10.txt file2.txt File1.txt 7.txt 007.txt"},
    {SF_LISTING_BY_SIZE, false,
     "A-dir b-dir c9 c10 zeta 007.txt 7.txt file10.txt File1.txt readme file2.txt"},
    {SF_LISTING_BY_SIZE, true,
     "A-dir b-dir c9 c10 file2.txt File1.txt readme file10.txt 7.txt 007.txt zeta"},
    {SF_LISTING_BY_MTIME, false,
     "A-dir c10 c9 b-dir zeta file2.txt 7.txt 007.txt file10.txt readme File1.txt"},
    {SF_LISTING_BY_MTIME, true,
     "b-dir c9 c10 A-dir File1.txt readme file10.txt 007.txt 7.txt file2.txt zeta"},
};

START_TEST(test_sorts)
{
    char got[512];
    char *js = render(sorts, "/s/", SF_LISTING_JSON, sort_cases[_i].sort, sort_cases[_i].desc, 0);
    json_names(js, got, sizeof(got));
    ck_assert_msg(strcmp(got, sort_cases[_i].want) == 0, "case %d: %s", _i, got);
    free(js);
    char *page = render(sorts, "/s/", SF_LISTING_HTML, sort_cases[_i].sort, sort_cases[_i].desc, 0);
    html_names(page, got, sizeof(got));
    ck_assert_msg(strcmp(got, sort_cases[_i].want) == 0, "case %d (html): %s", _i, got);
    free(page);
}
END_TEST

/* One read, rendered in every order in turn, gives what fresh reads give. */
START_TEST(test_render_again)
{
    struct sf_listing_opts o = {0};
    struct sf_listing *l;
    int fd = open(sorts, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(sf_listing_read(fd, &o, &l), 0);
    ck_assert_uint_eq(sf_listing_count(l), 11);
    ck_assert(!sf_listing_truncated(l));
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < SF_ARRAY_LEN(sort_cases); i++) {
            struct sf_listing_view v = {SF_LISTING_JSON, sort_cases[i].sort, sort_cases[i].desc};
            struct sf_buf b = {0};
            char got[512];
            ck_assert_int_eq(sf_listing_render(l, "/s/", &v, &b), 0);
            ck_assert_int_eq(sf_buf_append(&b, "", 1), 0);
            json_names(b.data, got, sizeof(got));
            ck_assert_msg(strcmp(got, sort_cases[i].want) == 0, "round %d case %zu: %s", round, i,
                          got);
            sf_buf_free(&b);
        }
    }
    ck_assert_uint_gt(sf_listing_bytes(l), 11 * 8);
    sf_listing_free(l);
    close(fd);
}
END_TEST

static const struct {
    enum sf_listing_sort sort;
    bool desc;
    const char *has[3];
} heading_cases[] = {
    {SF_LISTING_BY_NAME,
     false,
     {"<th class=\"n\" aria-sort=\"ascending\"><form><input type=\"hidden\" name=\"sort\" "
      "value=\"name\">"
      "<button name=\"order\" value=\"desc\">Name \xE2\x86\x91</button></form></th>",
      "<th class=\"s\"><form><input type=\"hidden\" name=\"sort\" value=\"size\">"
      "<button name=\"order\" value=\"desc\">Size</button></form></th>",
      "<th class=\"m\"><form><input type=\"hidden\" name=\"sort\" value=\"mtime\">"
      "<button name=\"order\" value=\"desc\">Modified (UTC)</button></form></th>"}},
    {SF_LISTING_BY_NAME,
     true,
     {"<th class=\"n\" aria-sort=\"descending\"><form><input type=\"hidden\" name=\"sort\" "
      "value=\"name\">"
      "<button name=\"order\" value=\"asc\">Name \xE2\x86\x93</button></form></th>",
      "<th class=\"s\"><form><input type=\"hidden\" name=\"sort\" value=\"size\">"
      "<button name=\"order\" value=\"desc\">Size</button></form></th>",
      NULL}},
    {SF_LISTING_BY_SIZE,
     true,
     {"<th class=\"n\"><form><input type=\"hidden\" name=\"sort\" value=\"name\">"
      "<button name=\"order\" value=\"asc\">Name</button></form></th>",
      "<th class=\"s\" aria-sort=\"descending\"><form><input type=\"hidden\" name=\"sort\" "
      "value=\"size\">"
      "<button name=\"order\" value=\"asc\">Size \xE2\x86\x93</button></form></th>",
      NULL}},
    {SF_LISTING_BY_MTIME,
     false,
     {"<th class=\"m\" aria-sort=\"ascending\"><form><input type=\"hidden\" name=\"sort\" "
      "value=\"mtime\">"
      "<button name=\"order\" value=\"desc\">Modified (UTC) \xE2\x86\x91</button></form></th>",
      "<th class=\"s\"><form><input type=\"hidden\" name=\"sort\" value=\"size\">"
      "<button name=\"order\" value=\"desc\">Size</button></form></th>",
      NULL}},
};

START_TEST(test_headings)
{
    char *page =
        render(sorts, "/s/", SF_LISTING_HTML, heading_cases[_i].sort, heading_cases[_i].desc, 0);
    for (int k = 0; k < 3 && heading_cases[_i].has[k]; k++)
        ck_assert_msg(strstr(page, heading_cases[_i].has[k]) != NULL, "case %d: no %s", _i,
                      heading_cases[_i].has[k]);
    /* no links to other orders (crawlers would fetch them): forms */
    ck_assert_ptr_null(strstr(page, "href=\"?"));
    ck_assert_ptr_null(strstr(page, "sort=size&"));
    /* exactly one heading is marked */
    const char *a = strstr(page, "aria-sort=");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_null(strstr(a + 1, "aria-sort="));
    free(page);
}
END_TEST

static const struct {
    const char *url;
    const char *h1;
} crumb_cases[] = {
    {"/", "<h1><span>Index of</span> /</h1>"},
    {"/a/", "<h1><span>Index of</span> <a href=\"../\">/</a>a/</h1>"},
    {"/a/b/c/", "<h1><span>Index of</span> <a href=\"../../../\">/</a><a href=\"../../\">a/</a>"
                "<a href=\"../\">b/</a>c/</h1>"},
    {"/<x>/&/", "<h1><span>Index of</span> <a href=\"../../\">/</a><a href=\"../\">&lt;x&gt;/</a>"
                "&amp;/</h1>"},
    {"/sp ace/\xC3\xA9\xFF/",
     "<h1><span>Index of</span> <a href=\"../../\">/</a><a href=\"../\">sp ace/</a>"
     "\xC3\xA9\xEF\xBF\xBD/</h1>"},
};

START_TEST(test_breadcrumbs)
{
    char *page = render(sorts, crumb_cases[_i].url, SF_LISTING_HTML, SF_LISTING_BY_NAME, false, 0);
    ck_assert_msg(strstr(page, crumb_cases[_i].h1) != NULL, "case %d: %.2000s", _i,
                  strstr(page, "<h1>"));
    /* a "../" row everywhere but at the root */
    bool parent = strstr(page, "<td><a href=\"../\">../</a></td>") != NULL;
    ck_assert_int_eq(parent, strcmp(crumb_cases[_i].url, "/") != 0);
    free(page);
}
END_TEST

START_TEST(test_summary)
{
    char *page = render(sorts, "/s/", SF_LISTING_HTML, SF_LISTING_BY_NAME, false, 0);
    ck_assert_ptr_nonnull(strstr(page, "<p>4 folders, 7 files, <span title=\"361 bytes\">361 B"
                                       "</span> in all</p>"));
    free(page);
    page = render(many, "/m/", SF_LISTING_HTML, SF_LISTING_BY_NAME, false, 0);
    ck_assert_ptr_nonnull(strstr(page, "<p>0 folders, 30 files, "));
    free(page);
}
END_TEST

static size_t
count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* max_entries bounds the names read: 30 shown and 5 hidden names. */
START_TEST(test_truncation)
{
    static const struct {
        size_t max;
        bool truncated;
    } cases[] = {{10, true}, {34, true}, {35, false}, {36, false}, {0, false}};
    for (size_t i = 0; i < SF_ARRAY_LEN(cases); i++) {
        char *page = render(many, "/m/", SF_LISTING_HTML, SF_LISTING_BY_NAME, false, cases[i].max);
        char *js = render(many, "/m/", SF_LISTING_JSON, SF_LISTING_BY_SIZE, true, cases[i].max);
        bool note =
            strstr(page, "<p class=\"note\">Truncated: this folder holds more than") != NULL;
        ck_assert_msg(note == cases[i].truncated, "max %zu: note %d", cases[i].max, note);
        ck_assert_int_eq(strstr(page, " in all (truncated)</p>") != NULL, cases[i].truncated);
        size_t rows = count(page, "<tr><td>");
        size_t objs = count(js, "{\"name\":");
        ck_assert_uint_eq(rows, objs);
        if (cases[i].truncated) {
            ck_assert_uint_le(rows, cases[i].max);
            char want[128];
            snprintf(want, sizeof(want), "more than %zu names, and only the first %zu read",
                     cases[i].max, cases[i].max);
            ck_assert_ptr_nonnull(strstr(page, want));
            /* the marker is the last element, after the entries */
            const char *m = strstr(js, ",\n{\"truncated\":true}\n]\n");
            ck_assert_ptr_nonnull(m);
            ck_assert_ptr_null(strstr(m, "{\"name\":"));
        } else {
            ck_assert_uint_eq(rows, 30);
            ck_assert_ptr_null(strstr(js, "truncated"));
        }
        free(page);
        free(js);
    }
}
END_TEST

/* The truncated JSON is still JSON (python3, when present). */
START_TEST(test_truncated_json_parses)
{
    if (system("command -v python3 >/dev/null 2>&1") != 0)
        return;
    char *js = render(many, "/m/", SF_LISTING_JSON, SF_LISTING_BY_NAME, false, 7);
    FILE *p = popen("python3 -c 'import json,sys\n"
                    "v=json.load(sys.stdin)\n"
                    "assert v[-1]=={\"truncated\":True}, v[-1]\n"
                    "assert all(\"name\" in e for e in v[:-1])\n"
                    "assert len(v)<=8\n'",
                    "w");
    ck_assert_ptr_nonnull(p);
    fputs(js, p);
    ck_assert_int_eq(pclose(p), 0);
    free(js);
}
END_TEST

START_TEST(test_empty_truncated)
{
    /* every name read was hidden: nothing shown, but still truncated */
    char dir[160];
    snprintf(dir, sizeof(dir), "%s/hid", base);
    mk(base, "hid", 'd', 0, T0);
    mk(dir, ".a", 'f', 1, T0);
    mk(dir, ".b", 'f', 1, T0);
    char *js = render(dir, "/h/", SF_LISTING_JSON, SF_LISTING_BY_NAME, false, 1);
    ck_assert_str_eq(js, "[\n{\"truncated\":true}\n]\n");
    free(js);
    js = render(dir, "/h/", SF_LISTING_JSON, SF_LISTING_BY_NAME, false, 2);
    ck_assert_str_eq(js, "[]\n");
    free(js);
}
END_TEST

static Suite *
sort_suite(void)
{
    Suite *s = suite_create("listing_sort");
    TCase *tc = tcase_create("orders");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_natural_order);
    tcase_add_loop_test(tc, test_sorts, 0, (int)SF_ARRAY_LEN(sort_cases));
    tcase_add_test(tc, test_render_again);
    tcase_add_loop_test(tc, test_headings, 0, (int)SF_ARRAY_LEN(heading_cases));
    tcase_add_loop_test(tc, test_breadcrumbs, 0, (int)SF_ARRAY_LEN(crumb_cases));
    tcase_add_test(tc, test_summary);
    tcase_add_test(tc, test_truncation);
    tcase_add_test(tc, test_truncated_json_parses);
    tcase_add_test(tc, test_empty_truncated);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(sort_suite());
}
