/*
 * it_browser.c - the listing page and a video in a real browser: Debian's
 * headless Chromium, driven over the DevTools pipe (cdp.h), against the
 * real binary on a loopback port.
 *
 * The listing: the rendered order for each sort, reached by real mouse
 * clicks on the column headings (each answered 200); every link on the
 * page resolves (200); no script and no request but the page itself;
 * prefers-color-scheme: dark changes the computed colours; at 390 px
 * nothing overflows sideways. Screenshots (light and dark, desktop and
 * 390 px) are saved under the build folder (build/screenshots/) for a
 * person to look at. The video: a <video> of a WebM made with ffmpeg is
 * seeked, and the access log shows the 206 responses that served it.
 */
#include "cdp.h"
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SF_SCREENSHOT_DIR
#error "SF_SCREENSHOT_DIR must name the folder for screenshots"
#endif

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define T0 1764547200 /* 2025-12-01 00:00:00 UTC */
#define LONG_NAME "archive-with-a-rather-long-name-to-see-how-a-row-wraps-on-a-phone.tar.gz"

static char g_alog[PATH_MAX];
static struct cdp br;

static void
at(char *out, size_t cap, const char *rel)
{
    it_join(out, cap, it_suite.root, rel);
}

static void
mkd(const char *rel, long long mtime)
{
    char p[PATH_MAX];
    at(p, sizeof(p), rel);
    it_mkdir(p);
    if (mtime)
        it_set_mtime(p, mtime);
}

static void
file(const char *rel, long long size, long long mtime)
{
    char p[PATH_MAX];
    at(p, sizeof(p), rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
    close(fd);
    it_set_mtime(p, mtime);
}

/* The folder the listing tests look at; its own mtime set last. */
static void
gallery(void)
{
    mkd("gallery", 0);
    mkd("gallery/Photos", T0 + 300);
    mkd("gallery/2024 trip", T0 + 100);
    mkd("gallery/docs", 0);
    mkd("gallery/docs/deep", T0 + 50);
    file("gallery/docs/deep/plan.txt", 300, T0 + 40);
    file("gallery/docs/guide.pdf", 90000, T0 + 30);
    char p[PATH_MAX];
    at(p, sizeof(p), "gallery/docs");
    it_set_mtime(p, T0 + 200);
    file("gallery/README.md", 2048, T0 + 800);
    file("gallery/notes.txt", 12, T0 + 700);
    file("gallery/report-2.pdf", 256000, T0 + 500);
    file("gallery/report-10.pdf", 1258291, T0 + 400);
    file("gallery/\xC3\x9C"
         "bersicht.odt",
         40960, T0 + 900);
    file("gallery/" LONG_NAME, 34603008, T0 + 600);
    file("gallery/.hidden", 1, T0);
}

/* A WebM of 12 s with a key frame every second, large enough that a seek
 * needs more ranges than the first: made once per run with ffmpeg. */
static void
video(void)
{
    char out[PATH_MAX], log[PATH_MAX], page[PATH_MAX];
    mkd("media", 0);
    at(out, sizeof(out), "media/clip.webm");
    it_join(log, sizeof(log), it_suite.base, "ffmpeg.log");
    ck_assert_msg(it_run((const char *const[]){"sh", "-c", "command -v ffmpeg", NULL}, 10, NULL) ==
                      0,
                  "ffmpeg is not installed (scripts/deps installs it)");
    const char *argv[] = {"ffmpeg",
                          "-hide_banner",
                          "-loglevel",
                          "error",
                          "-y",
                          "-f",
                          "lavfi",
                          "-i",
                          "testsrc2=duration=12:size=320x240:rate=25,noise=alls=60:allf=t",
                          "-c:v",
                          "libvpx",
                          "-deadline",
                          "realtime",
                          "-cpu-used",
                          "8",
                          "-b:v",
                          "6M",
                          "-minrate",
                          "6M",
                          "-maxrate",
                          "6M",
                          "-g",
                          "25",
                          "-an",
                          out,
                          NULL};
    int rc = it_run(argv, 240, log);
    ck_assert_msg(rc == 0, "ffmpeg failed (%d), see %s", rc, log);
    at(page, sizeof(page), "media/player.html");
    it_write_str(page, "<!doctype html>\n<meta charset=\"utf-8\"><title>player</title>\n"
                       "<link rel=\"icon\" href=\"data:,\">\n"
                       "<video src=\"clip.webm\" preload=\"metadata\" muted controls></video>\n");
}

static void
tree_up(void)
{
    it_suite_tree();
    gallery();
    video();
    mkdir(SF_SCREENSHOT_DIR, 0755);
}

static void
up(void)
{
    char blog[PATH_MAX];
    it_join(g_alog, sizeof(g_alog), it_suite.base, "access.log");
    unlink(g_alog);
    const char *argv[] = {"-l", "127.0.0.1:0", "--access-log", g_alog, it_suite.root, NULL};
    it_server_start(&it_suite.srv, argv);
    it_join(blog, sizeof(blog), it_suite.base, "chromium.log");
    cdp_start(&br, blog, it_suite.base);
}

static void
down(void)
{
    cdp_stop(&br);
    it_server_stop(&it_suite.srv);
}

static void
go(const char *path)
{
    char url[PATH_MAX];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", it_suite.srv.port, path);
    cdp_navigate(&br, url);
}

/* The HTTP status the browser got for the page it shows. */
static int
page_status(void)
{
    char *s = cdp_eval(&br, "String(performance.getEntriesByType('navigation')[0].responseStatus)");
    int st = atoi(s);
    free(s);
    return st;
}

/* The names in the rows, as shown, joined by '|'. */
static char *
rows(void)
{
    return cdp_eval(
        &br, "[...document.querySelectorAll('tbody td:first-child a')].map(a => a.textContent)"
             ".join('|')");
}

#define DIRS_ASC "2024 trip/|docs/|Photos/"
#define U                                                                                          \
    "\xC3\x9C"                                                                                     \
    "bersicht.odt"

static const struct {
    const char *click;  /* the heading clicked, from the state before */
    const char *search; /* location.search after */
    const char *order;  /* the rows after */
} clicks[] = {
    {"th.s button", "?sort=size&order=desc",
     "../|" DIRS_ASC "|" LONG_NAME "|report-10.pdf|report-2.pdf|" U "|README.md|notes.txt"},
    {"th.s button", "?sort=size&order=asc",
     "../|" DIRS_ASC "|notes.txt|README.md|" U "|report-2.pdf|report-10.pdf|" LONG_NAME},
    {"th.m button", "?sort=mtime&order=desc",
     "../|Photos/|docs/|2024 trip/|" U "|README.md|notes.txt|" LONG_NAME
     "|report-2.pdf|report-10.pdf"},
    {"th.m button", "?sort=mtime&order=asc",
     "../|2024 trip/|docs/|Photos/|report-10.pdf|report-2.pdf|" LONG_NAME
     "|notes.txt|README.md|" U},
    {"th.n button", "?sort=name&order=asc",
     "../|" DIRS_ASC "|" LONG_NAME "|notes.txt|README.md|report-2.pdf|report-10.pdf|" U},
    {"th.n button", "?sort=name&order=desc",
     "../|Photos/|docs/|2024 trip/|" U
     "|report-10.pdf|report-2.pdf|README.md|notes.txt|" LONG_NAME},
};

START_TEST(t_sorts_by_clicking)
{
    go("/gallery/");
    ck_assert_int_eq(page_status(), 200);
    char *r = rows();
    /* the natural order: folders first, no case, numbers by value */
    ck_assert_str_eq(r, clicks[4].order);
    free(r);
    for (size_t i = 0; i < ARRAY_LEN(clicks); i++) {
        cdp_clear_events(&br);
        cdp_click(&br, clicks[i].click);
        ck_assert_msg(cdp_wait_event(&br, "Page.loadEventFired", CDP_TIMEOUT_MS),
                      "click %zu (%s): no new page", i, clicks[i].click);
        char *search = cdp_eval(&br, "location.search");
        ck_assert_msg(strcmp(search, clicks[i].search) == 0, "click %zu: at %s, want %s", i, search,
                      clicks[i].search);
        free(search);
        ck_assert_int_eq(page_status(), 200);
        r = rows();
        ck_assert_msg(strcmp(r, clicks[i].order) == 0, "click %zu (%s):\n got %s\nwant %s", i,
                      clicks[i].search, r, clicks[i].order);
        free(r);
        /* the heading clicked says how the rows are sorted */
        char expr[256];
        snprintf(expr, sizeof(expr), "document.querySelector('%.*s').getAttribute('aria-sort')",
                 (int)(strlen(clicks[i].click) - strlen(" button")), clicks[i].click);
        char *aria = cdp_eval(&br, expr);
        ck_assert_str_eq(aria, strstr(clicks[i].search, "desc") ? "descending" : "ascending");
        free(aria);
    }
}
END_TEST

/* Every link of a listing (breadcrumbs, ../, entries) answers 200. */
static void
links_resolve(const char *path, size_t at_least)
{
    go(path);
    char *all =
        cdp_eval(&br, "[...document.querySelectorAll('a[href]')].map(a => a.href).join('\\n')");
    char prefix[64];
    int pn = snprintf(prefix, sizeof(prefix), "http://127.0.0.1:%d/", it_suite.srv.port);
    size_t n = 0;
    for (char *save = NULL, *u = strtok_r(all, "\n", &save); u; u = strtok_r(NULL, "\n", &save)) {
        ck_assert_msg(strncmp(u, prefix, (size_t)pn) == 0, "%s links away: %s", path, u);
        struct it_response r;
        it_get(it_suite.srv.port, u + pn - 1, &r);
        ck_assert_msg(r.status == 200, "%s links to %s, which answers %d", path, u, r.status);
        it_response_free(&r);
        n++;
    }
    ck_assert_uint_ge(n, at_least);
    free(all);
}

START_TEST(t_every_link_resolves)
{
    links_resolve("/gallery/", 11);
    /* breadcrumbs up to the root */
    links_resolve("/gallery/docs/deep/", 5);
    char *crumbs = cdp_eval(&br, "[...document.querySelectorAll('h1 a')].map(a => a.textContent + "
                                 "'=' + new URL(a.href).pathname).join(' ')");
    ck_assert_str_eq(crumbs, "/=/ gallery/=/gallery/ docs/=/gallery/docs/");
    free(crumbs);
    char *title = cdp_eval(&br, "document.querySelector('h1').textContent");
    ck_assert_str_eq(title, "Index of /gallery/docs/deep/");
    free(title);
}
END_TEST

/* No script, and no request but the page itself. */
START_TEST(t_nothing_else_loaded)
{
    free(cdp_call(&br, "Network.enable", NULL));
    go("/gallery/");
    /* let anything the page would still ask for arrive */
    free(cdp_eval(&br, "new Promise(r => setTimeout(() => r('ok'), 500))"));
    size_t all = cdp_count_events(&br, "Network.requestWillBeSent", NULL);
    size_t data = cdp_count_events(&br, "Network.requestWillBeSent", "\"url\":\"data:");
    ck_assert_msg(all - data == 1, "%zu requests for one listing", all - data);
    char *n = cdp_eval(&br, "String(document.scripts.length + document.querySelectorAll("
                            "'link[rel=stylesheet],img,iframe,object,embed').length)");
    ck_assert_str_eq(n, "0");
    free(n);
    struct it_response r;
    it_get(it_suite.srv.port, "/gallery/", &r);
    ck_assert_ptr_nonnull(it_header(&r, "Content-Security-Policy"));
    ck_assert_ptr_nonnull(strstr(it_header(&r, "Content-Security-Policy"), "default-src 'none'"));
    it_response_free(&r);
}
END_TEST

static char *
colours(void)
{
    return cdp_eval(&br, "getComputedStyle(document.documentElement).backgroundColor + ' / ' + "
                         "getComputedStyle(document.body).color");
}

static void
scheme(const char *value)
{
    free(cdp_callf(&br, "Emulation.setEmulatedMedia",
                   "{\"features\":[{\"name\":\"prefers-color-scheme\",\"value\":\"%s\"}]}", value));
}

START_TEST(t_dark_mode)
{
    scheme("light");
    go("/gallery/");
    char *light = colours();
    ck_assert_str_eq(light, "rgb(255, 255, 255) / rgb(31, 35, 40)");
    scheme("dark");
    char *dark = colours();
    ck_assert_str_eq(dark, "rgb(13, 17, 23) / rgb(230, 237, 243)");
    ck_assert_str_ne(light, dark);
    free(light);
    free(dark);
}
END_TEST

static void
viewport(int width, int height, bool mobile)
{
    free(cdp_callf(&br, "Emulation.setDeviceMetricsOverride",
                   "{\"width\":%d,\"height\":%d,\"deviceScaleFactor\":%d,\"mobile\":%s}", width,
                   height, mobile ? 2 : 1, mobile ? "true" : "false"));
}

START_TEST(t_narrow)
{
    viewport(390, 844, true);
    go("/gallery/");
    char *w = cdp_eval(&br, "document.documentElement.scrollWidth + ' ' + innerWidth");
    int sw = 0, iw = 0;
    ck_assert_int_eq(sscanf(w, "%d %d", &sw, &iw), 2);
    ck_assert_msg(iw == 390 && sw <= iw, "390 px wide: the page is %d px wide (%s)", sw, w);
    free(w);
    /* text stays readable, and the date column stays on screen */
    char *f = cdp_eval(&br, "getComputedStyle(document.querySelector('td:first-child')).fontSize");
    ck_assert_msg(atof(f) >= 14, "font size %s at 390 px", f);
    free(f);
    char *m = cdp_eval(
        &br, "String(Math.round(document.querySelector('tbody tr:nth-child(2) td:nth-child(3)')"
             ".getBoundingClientRect().right))");
    ck_assert_msg(atoi(m) <= 390, "the date column ends at %s px", m);
    free(m);
}
END_TEST

static void
shot(const char *name)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s.png", SF_SCREENSHOT_DIR, name);
    cdp_screenshot(&br, p);
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_gt(st.st_size, 1000);
}

START_TEST(t_screenshots)
{
    static const struct {
        const char *name, *scheme, *path;
        int w, h;
    } views[] = {
        {"listing-light-desktop", "light", "/gallery/", 1280, 800},
        {"listing-dark-desktop", "dark", "/gallery/", 1280, 800},
        {"listing-light-390", "light", "/gallery/", 390, 844},
        {"listing-dark-390", "dark", "/gallery/", 390, 844},
        {"listing-light-desktop-by-size", "light", "/gallery/?sort=size&order=desc", 1280, 800},
        {"listing-dark-390-deep", "dark", "/gallery/docs/deep/", 390, 844},
    };
    for (size_t i = 0; i < ARRAY_LEN(views); i++) {
        scheme(views[i].scheme);
        viewport(views[i].w, views[i].h, views[i].w < 600);
        go(views[i].path);
        shot(views[i].name);
    }
}
END_TEST

/* ---- the video -------------------------------------------------------- */

static size_t
count_206(const char *log, long long whole, size_t *partial)
{
    size_t n = 0;
    *partial = 0;
    for (const char *p = log; (p = strstr(p, "\"GET /media/clip.webm HTTP/1.1\" 206 ")) != NULL;
         p++) {
        n++;
        long long bytes = atoll(p + strlen("\"GET /media/clip.webm HTTP/1.1\" 206 "));
        if (bytes > 0 && bytes < whole)
            (*partial)++;
    }
    return n;
}

/* The browser's download rate in bytes per second (DevTools); -1: no
 * limit. */
static void
link_rate(long long bytes_per_s)
{
    free(cdp_callf(&br, "Network.emulateNetworkConditions",
                   "{\"offline\":false,\"latency\":0,\"downloadThroughput\":%lld,"
                   "\"uploadThroughput\":-1}",
                   bytes_per_s));
}

START_TEST(t_video_seek)
{
    char clip[PATH_MAX];
    struct stat st;
    at(clip, sizeof(clip), "media/clip.webm");
    ck_assert_int_eq(stat(clip, &st), 0);
    /* The seek must find the browser far from the 10 s point, else
     * Chromium may wait for its first response to get there (or already
     * have the whole file) and ask for no other range. At 2 MB/s a busy
     * machine once logged one 206 and none for a part of the file. So the
     * link is 100 kB/s until the seek has started (the element is seeking
     * with next to nothing buffered, so it asks for a range at the 10 s
     * point), then unthrottled, so that range and the responses end at
     * once and are logged. Waiting for "seeked" under the throttle did not
     * work: the clip is 6 Mbit/s, one keyframe group about 750 kB, so the
     * seek alone took longer than cdp_eval's 20 s bound. */
    free(cdp_call(&br, "Network.enable", NULL));
    link_rate(100000);
    go("/media/player.html");
    char *r = cdp_eval(&br, "new Promise((ok, no) => { const v = document.querySelector('video');"
                            " v.onerror = () => no('media error ' + (v.error && v.error.code));"
                            " const seek = () => { v.onseeking = () => ok('seeking');"
                            " v.currentTime = 10; };"
                            " if (v.readyState >= 1) seek(); else v.onloadedmetadata = seek; })");
    ck_assert_str_eq(r, "seeking");
    free(r);
    link_rate(-1);
    r = cdp_eval(&br, "new Promise((ok, no) => { const v = document.querySelector('video');"
                      " const done = () => ok(v.currentTime + ' of ' + Math.round(v.duration));"
                      " v.onerror = () => no('media error ' + (v.error && v.error.code));"
                      " if (v.seeking) v.onseeked = done; else done(); })");
    ck_assert_str_eq(r, "10 of 12");
    free(r);
    /* the access log is written out at least every second */
    static char log[1 << 20];
    size_t n = 0, partial = 0;
    int64_t end = it_now_ms() + 10000;
    while (it_now_ms() < end) {
        FILE *f = fopen(g_alog, "r");
        if (f) {
            size_t len = fread(log, 1, sizeof(log) - 1, f);
            log[len] = '\0';
            fclose(f);
            n = count_206(log, (long long)st.st_size, &partial);
            if (n >= 2 && partial >= 1)
                break;
        }
        it_sleep_ms(100);
    }
    if (n < 2 || partial < 1)
        fprintf(stderr, "the access log (%lld bytes in the clip):\n%s", (long long)st.st_size, log);
    ck_assert_msg(n >= 2 && partial >= 1,
                  "the seek was not served by ranges: %zu 206 responses, %zu partial", n, partial);
    printf("video seek: %zu responses 206, %zu of them part of the file\n", n, partial);
    fflush(stdout);
}
END_TEST

static Suite *
browser_suite(void)
{
    Suite *s = suite_create("it_browser");
    TCase *tc = tcase_create("browser");
    tcase_set_timeout(tc, 300);
    tcase_add_unchecked_fixture(tc, tree_up, it_suite_tree_down);
    tcase_add_checked_fixture(tc, up, down);
    tcase_add_test(tc, t_sorts_by_clicking);
    tcase_add_test(tc, t_every_link_resolves);
    tcase_add_test(tc, t_nothing_else_loaded);
    tcase_add_test(tc, t_dark_mode);
    tcase_add_test(tc, t_narrow);
    tcase_add_test(tc, t_screenshots);
    tcase_add_test(tc, t_video_seek);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return it_main(browser_suite());
}
