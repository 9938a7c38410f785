/*
 * test_mime.c - Content-Type by extension (built-in table, mime.types
 * overrides, per-site additions) and by content (libmagic sniffing with
 * active types demoted to text/plain).
 */
#include "sfhttpd/mime.h"
#include "unit_util.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEXT_PLAIN "text/plain; charset=utf-8"
#define OCTET "application/octet-stream"

/* A table with only the built-in types, whatever the host has. */
static struct sf_mime *
builtin_only(void)
{
    struct sf_mime *m = sf_mime_new("/nonexistent/mime.types");
    ck_assert_ptr_nonnull(m);
    return m;
}

static void
check_ext(const struct sf_mime *m, const char *path, size_t len, const char *want)
{
    const char *got = sf_mime_by_ext(m, path, len);
    if (!want) {
        ck_assert_msg(got == NULL, "%.*s: want NULL, got %s", (int)len, path, got);
        return;
    }
    ck_assert_msg(got != NULL, "%.*s: want %s, got NULL", (int)len, path, want);
    ck_assert_msg(strcmp(got, want) == 0, "%.*s: want %s, got %s", (int)len, path, want, got);
}

static const struct {
    const char *path;
    const char *want;
} ext_cases[] = {
    {"index.html", "text/html; charset=utf-8"},
    {"/INDEX.HTML", "text/html; charset=utf-8"},
    {"page.Htm", "text/html; charset=utf-8"},
    {"a/b/style.CsS", "text/css; charset=utf-8"},
    {"app.js", "text/javascript; charset=utf-8"},
    {"mod.mjs", "text/javascript; charset=utf-8"},
    {"data.json", "application/json; charset=utf-8"},
    {"site.webmanifest", "application/manifest+json; charset=utf-8"},
    {"feed.xml", "application/xml; charset=utf-8"},
    {"logo.svg", "image/svg+xml; charset=utf-8"},
    {"readme.txt", TEXT_PLAIN},
    {"notes.md", "text/markdown; charset=utf-8"},
    {"t.csv", "text/csv; charset=utf-8"},
    {"pic.png", "image/png"},
    {"pic.JPG", "image/jpeg"},
    {"pic.jpeg", "image/jpeg"},
    {"anim.gif", "image/gif"},
    {"p.webp", "image/webp"},
    {"p.avif", "image/avif"},
    {"favicon.ico", "image/vnd.microsoft.icon"},
    {"f.woff", "font/woff"},
    {"f.woff2", "font/woff2"},
    {"f.ttf", "font/ttf"},
    {"f.otf", "font/otf"},
    {"doc.pdf", "application/pdf"},
    {"a.zip", "application/zip"},
    {"a.tar.gz", "application/gzip"},
    {"a.tar", "application/x-tar"},
    {"m.wasm", "application/wasm"},
    {"v.mp4", "video/mp4"},
    {"v.webm", "video/webm"},
    {"s.mp3", "audio/mpeg"},
    {"s.ogg", "audio/ogg"},
    {"s.wav", "audio/wav"},
    {"app.js.map", "application/json; charset=utf-8"},
    {".config.json", "application/json; charset=utf-8"},
    {"dir.d/x.css", "text/css; charset=utf-8"},
    /* no extension */
    {"noext", NULL},
    {"", NULL},
    {"/", NULL},
    {"dir/", NULL},
    {"a.d/file", NULL},
    {".bashrc", NULL},
    {"dir/.bashrc", NULL},
    {"..png", NULL},
    {"file.", NULL},
    {"x.unknownextension", NULL},
    {"x.abcdefghijklmnopqrstuvwxyz0123456789", NULL},
};

START_TEST(ext_table)
{
    struct sf_mime *m = builtin_only();
    for (size_t i = 0; i < sizeof(ext_cases) / sizeof(ext_cases[0]); i++)
        check_ext(m, ext_cases[i].path, strlen(ext_cases[i].path), ext_cases[i].want);
    sf_mime_free(m);
}
END_TEST

START_TEST(ext_uses_len)
{
    struct sf_mime *m = builtin_only();
    /* only the first len bytes count, the string need not end there */
    check_ext(m, "index.html.gz", 10, "text/html; charset=utf-8");
    check_ext(m, "a.png/b.gif", 5, "image/png");
    check_ext(m, "a.png/b.gif", 6, NULL);
    sf_mime_free(m);
}
END_TEST

static char *
write_temp(const void *content, size_t len)
{
    char *path = strdup("/tmp/test_mime_XXXXXX");
    ck_assert_ptr_nonnull(path);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
    close(fd);
    return path;
}

START_TEST(mime_types_override)
{
    static const char types[] = "# comment line\n"
                                "text/x-foo\tfoo FOO2 # trailing comment\n"
                                "image/x-png png\n"
                                "   \n"
                                "application/x-none\n"
                                "notatype bar\n"
                                "application/json dotted.json\n";
    char *path = write_temp(types, sizeof(types) - 1);
    struct sf_mime *m = sf_mime_new(path);
    ck_assert_ptr_nonnull(m);
    check_ext(m, "a.foo", 5, "text/x-foo; charset=utf-8");
    check_ext(m, "a.Foo2", 6, "text/x-foo; charset=utf-8");
    check_ext(m, "a.png", 5, "image/x-png");
    check_ext(m, "a.bar", 5, NULL);
    check_ext(m, "a.html", 6, "text/html; charset=utf-8");
    sf_mime_free(m);
    unlink(path);
    free(path);
}
END_TEST

START_TEST(system_mime_types)
{
    struct sf_mime *m = sf_mime_new(NULL);
    ck_assert_ptr_nonnull(m);
    const char *t = sf_mime_by_ext(m, "a.html", 6);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t, "text/html; charset=utf-8");
    t = sf_mime_by_ext(m, "a.js", 4);
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_nonnull(strstr(t, "javascript"));
    ck_assert_ptr_nonnull(strstr(t, "; charset=utf-8"));
    t = sf_mime_by_ext(m, "a.png", 5);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t, "image/png");
    sf_mime_free(m);
}
END_TEST

START_TEST(add_override)
{
    struct sf_mime *m = builtin_only();
    const char *before = sf_mime_by_ext(m, "a.png", 5);
    ck_assert_int_eq(sf_mime_add(m, "PNG", "image/apng"), 0);
    check_ext(m, "a.png", 5, "image/apng");
    /* a value handed out earlier stays valid */
    ck_assert_str_eq(before, "image/png");
    ck_assert_int_eq(sf_mime_add(m, ".gmi", "Text/Gemini"), 0);
    check_ext(m, "x.gmi", 5, "text/gemini; charset=utf-8");
    ck_assert_int_eq(sf_mime_add(m, "ics", "text/calendar; charset=utf-16"), 0);
    check_ext(m, "x.ics", 5, "text/calendar; charset=utf-16");
    ck_assert_int_lt(sf_mime_add(m, "", "text/plain"), 0);
    ck_assert_int_lt(sf_mime_add(m, "x", ""), 0);
    ck_assert_int_lt(sf_mime_add(m, "abcdefghijklmnopqrstuvwxyz0123456789", "a/b"), 0);
    sf_mime_free(m);
}
END_TEST

static const unsigned char png[] = {
    0x89, 'P',  'N',  'G',  0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00,
    0x0d, 'I',  'H',  'D',  'R',  0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89,
};

static const unsigned char gzip[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
                                     0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

static const char html[] = "<!DOCTYPE html>\n<html><head><title>x</title></head>\n"
                           "<body><script>alert(document.cookie)</script></body></html>\n";

static const char svg[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" "
                          "height=\"1\"><script>alert(1)</script></svg>\n";

static const char xml[] = "<?xml version=\"1.0\"?>\n<root><a>1</a></root>\n";

static const char text[] = "Hello, world.\nThis is a plain text file with some "
                           "words in it.\nNothing else.\n";

static const char shell[] = "#!/bin/sh\necho hello\nexit 0\n";

static const unsigned char junk[] = {0x00, 0xff, 0x13, 0x37, 0x00, 0x01, 0xfe, 0x80, 0x00, 0x00,
                                     0x9a, 0x42, 0x00, 0xc3, 0x07, 0x00, 0x11, 0xee, 0x00, 0x05};

static const struct {
    const char *name;
    const void *data;
    size_t len;
    const char *want;
} sniff_cases[] = {
    {"png", png, sizeof(png), "image/png"},
    {"gzip", gzip, sizeof(gzip), "application/gzip"},
    {"html", html, sizeof(html) - 1, TEXT_PLAIN},
    {"svg", svg, sizeof(svg) - 1, TEXT_PLAIN},
    {"xml", xml, sizeof(xml) - 1, TEXT_PLAIN},
    {"shell script", shell, sizeof(shell) - 1, TEXT_PLAIN},
    {"text", text, sizeof(text) - 1, TEXT_PLAIN},
    {"empty", "", 0, TEXT_PLAIN},
    {"junk", junk, sizeof(junk), OCTET},
};

START_TEST(sniff_table)
{
    struct sf_mime *m = builtin_only();
    for (size_t i = 0; i < sizeof(sniff_cases) / sizeof(sniff_cases[0]); i++) {
        char *path = write_temp(sniff_cases[i].data, sniff_cases[i].len);
        int fd = open(path, O_RDONLY);
        ck_assert_int_ge(fd, 0);
        const char *got = sf_mime_sniff(m, fd);
        ck_assert_msg(got && strcmp(got, sniff_cases[i].want) == 0, "%s: want %s, got %s",
                      sniff_cases[i].name, sniff_cases[i].want, got ? got : "NULL");
        /* the same answer is the same interned string */
        ck_assert_ptr_eq(sf_mime_sniff(m, fd), got);
        close(fd);
        unlink(path);
        free(path);
    }
    sf_mime_free(m);
}
END_TEST

START_TEST(sniff_keeps_offset)
{
    struct sf_mime *m = builtin_only();
    char *path = write_temp(png, sizeof(png));
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(lseek(fd, 5, SEEK_SET), 5);
    ck_assert_str_eq(sf_mime_sniff(m, fd), "image/png");
    ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 5);
    close(fd);
    unlink(path);
    free(path);
    sf_mime_free(m);
}
END_TEST

START_TEST(sniff_failures)
{
    struct sf_mime *m = builtin_only();
    ck_assert_str_eq(sf_mime_sniff(m, -1), OCTET);

    char dir[] = "/tmp/test_mime_fifo_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char fifo[sizeof(dir) + 8];
    snprintf(fifo, sizeof(fifo), "%s/f", dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    int fd = open(fifo, O_RDONLY | O_NONBLOCK);
    ck_assert_int_ge(fd, 0);
    ck_assert_str_eq(sf_mime_sniff(m, fd), OCTET);
    close(fd);
    unlink(fifo);
    rmdir(dir);
    sf_mime_free(m);
}
END_TEST

START_TEST(sniff_cached_per_version)
{
    struct sf_mime *m = builtin_only();
    char *path = write_temp(png, sizeof(png));
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    struct stat st;
    ck_assert_int_eq(fstat(fd, &st), 0);
    ck_assert_str_eq(sf_mime_sniff_file(m, fd, &st), "image/png");
    /* same version: remembered, even though the bytes now differ */
    int wfd = open(path, O_WRONLY);
    ck_assert_int_ge(wfd, 0);
    ck_assert_int_eq(pwrite(wfd, html, sizeof(html) - 1, 0), (ssize_t)(sizeof(html) - 1));
    close(wfd);
    ck_assert_str_eq(sf_mime_sniff_file(m, fd, &st), "image/png");
    /* a new version (size and mtime changed): sniffed again */
    struct stat st2;
    ck_assert_int_eq(fstat(fd, &st2), 0);
    ck_assert_str_eq(sf_mime_sniff_file(m, fd, &st2), TEXT_PLAIN);
    close(fd);
    unlink(path);
    free(path);
    sf_mime_free(m);
}
END_TEST

START_TEST(free_null)
{
    sf_mime_free(NULL);
}
END_TEST

static Suite *
mime_suite(void)
{
    Suite *s = suite_create("mime");
    TCase *tc = tcase_create("ext");
    tcase_add_test(tc, ext_table);
    tcase_add_test(tc, ext_uses_len);
    tcase_add_test(tc, mime_types_override);
    tcase_add_test(tc, sniff_cached_per_version);
    tcase_add_test(tc, system_mime_types);
    tcase_add_test(tc, add_override);
    tcase_add_test(tc, free_null);
    suite_add_tcase(s, tc);
    tc = tcase_create("sniff");
    tcase_add_test(tc, sniff_table);
    tcase_add_test(tc, sniff_keeps_offset);
    tcase_add_test(tc, sniff_failures);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(mime_suite());
}
