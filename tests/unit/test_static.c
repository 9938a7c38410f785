/*
 * test_static.c - unit tests for the file handler, as a table of raw
 * request bytes against the response plan sf_static_handle builds: the
 * status, selected head lines, the body segments (file ranges, the
 * response's memory, a cached snapshot) and the body they add up to.
 *
 * The docroot is built once per run in a mkdtemp directory: a plain
 * file, a folder with an index, a folder without one, a dotfile, a
 * .well-known file, a FIFO, a symlink leaving the root, and files with
 * fresh and stale .gz sidecars. Each row gets its own config, cache and
 * MIME table, released at the end so that the ASan build sees no leak.
 */
#include "sfhttpd/static.h"
#include "sfhttpd/common.h"
#include "sfhttpd/config.h"
#include "sfhttpd/fcache.h"
#include "sfhttpd/log.h"
#include "sfhttpd/mime.h"
#include "sfhttpd/request.h"
#include "sfhttpd/response.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "unit_util.h"

#define DATE "Thu, 01 Jan 2026 00:00:00 GMT"
#define SMALL 4 /* small_file_size: only tiny.txt is kept in memory */

static char base[256], root[300];

/* Per test. */
static struct sf_config cfg;
static struct sf_fcache *fc;
static struct sf_mime *mime;
static struct sf_log lg;
static int rootfd = -1;
static uint64_t rng = 42;

/* ---------------------------------------------------------- docroot */

static void
mk(const char *rel, const char *content, time_t mtime)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "create %s: %s", path, strerror(errno));
    fputs(content, f);
    fclose(f);
    if (mtime) {
        struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
        ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
    }
}

static void
mkd(const char *rel)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    ck_assert_int_eq(mkdir(path, 0755), 0);
}

static void
setup_root(void)
{
    unit_tmpdir(base, sizeof(base), "sf_static");
    snprintf(root, sizeof(root), "%s/root", base);
    ck_assert_int_eq(mkdir(root, 0755), 0);
    time_t now = time(NULL);
    mk("a.txt", "hello world\n", 0);
    mk("tiny.txt", "abc", 0);
    mkd("dir");
    mk("dir/index.html", "<p>index</p>\n", 0);
    mkd("noindex");
    mk("noindex/x.txt", "x\n", 0);
    mk("noindex/.hidden", "h\n", 0);
    mkd("dir sp");
    mk(".secret", "secret\n", 0);
    mkd("errors");
    mk("errors/404.html", "custom 404\n", 0);
    mkd(".well-known");
    mk(".well-known/x", "known\n", 0);
    char path[600];
    snprintf(path, sizeof(path), "%s/fifo", root);
    ck_assert_int_eq(mkfifo(path, 0644), 0);
    snprintf(path, sizeof(path), "%s/outside.txt", base);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("outside\n", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/escape", root);
    ck_assert_int_eq(symlink("../outside.txt", path), 0);
    snprintf(path, sizeof(path), "%s/link.txt", root);
    ck_assert_int_eq(symlink("a.txt", path), 0);
    /* a fresh sidecar (newer than its file) and a stale one */
    mk("file.txt", "plain text content\n", now - 100);
    mk("file.txt.gz", "GZDATA", now);
    mk("old.txt", "old text content\n", now);
    mk("old.txt.gz", "OLDGZ", now - 100);
}

static void
teardown_root(void)
{
    unit_rmtree(base);
}

static void
setup(void)
{
    sf_config_defaults(&cfg);
    ck_assert_int_eq(sf_config_add_quick_site(&cfg, root), 0);
    ck_assert(cfg.sites[0].listing);
    memset(&lg, 0, sizeof(lg));
    lg.err_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    ck_assert_int_ge(lg.err_fd, 0);
    lg.access_fd = -1;
    lg.level = SF_LOG_DEBUG;
    struct sf_fcache_opts o = {.max_entries = 64, .small_file_size = SMALL, .guard = SF_GUARD_OFF};
    fc = sf_fcache_new(&o, &lg);
    ck_assert_ptr_nonnull(fc);
    mime = sf_mime_new(NULL);
    ck_assert_ptr_nonnull(mime);
    rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(rootfd, 0);
}

static void
teardown(void)
{
    sf_fcache_free(fc);
    fc = NULL;
    sf_mime_free(mime);
    mime = NULL;
    sf_config_free(&cfg);
    close(rootfd);
    rootfd = -1;
    close(lg.err_fd);
}

/* ---------------------------------------------------------- helpers */

/* Parse raw (a whole head) the way conn.c does and run the handler;
 * resp must have been initialised. */
static void
serve(const char *raw, struct sf_response *resp)
{
    struct sf_limits lim = {
        .max_header_size = cfg.max_header_size,
        .max_uri_length = cfg.max_uri_length,
        .max_headers = cfg.max_headers,
        .max_body_size = cfg.max_body_size,
    };
    size_t cap = cfg.max_header_size + SF_REQUEST_SLACK, n = strlen(raw);
    ck_assert_uint_le(n, cap);
    char *buf = malloc(cap);
    struct sf_parser *p = malloc(sizeof(*p));
    ck_assert(buf && p);
    memcpy(buf, raw, n);
    sf_request_init(p, &lim);
    struct sf_reqbuf rb = {.buf = buf, .cap = cap, .wpos = n};
    enum sf_next nx = sf_request_next(p, &rb);
    ck_assert_msg(nx == SF_NEXT_HEAD || nx == SF_NEXT_DONE, "parse: %d (status %d)", nx,
                  p->r.status);
    ck_assert_int_eq(p->r.status, 0);
    struct sf_static_in in = {
        .cfg = &cfg,
        .site = &cfg.sites[0],
        .site_index = 0,
        .rootfd = rootfd,
        .fc = fc,
        .mime = mime,
        .date = DATE,
        .now = time(NULL),
        .rng = &rng,
        .buf = buf,
        .p = p,
        .keep_alive = p->r.keep_alive,
    };
    sf_response_reset(resp);
    sf_static_handle(&in, resp);
    /* the response must not point into the request buffer */
    free(p);
    free(buf);
}

/* The value of header name in the head (into val), or false. */
static bool
header(const struct sf_response *r, const char *name, char *val, size_t cap)
{
    size_t nl = strlen(name);
    const char *h = r->head, *end = r->head + r->st.head_len;
    const char *line = memchr(h, '\n', (size_t)(end - h));
    while (line && line + 1 < end) {
        const char *s = line + 1;
        const char *e = memchr(s, '\r', (size_t)(end - s));
        if (!e || e == s)
            break;
        if ((size_t)(e - s) > nl + 1 && strncasecmp(s, name, nl) == 0 && s[nl] == ':') {
            const char *v = s + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(val, cap, "%.*s", (int)(e - v), v);
            return true;
        }
        line = memchr(s, '\n', (size_t)(end - s));
    }
    return false;
}

/* The body the segments describe, assembled (NUL-terminated, malloc'd). */
static char *
body_of(const struct sf_response *r, char *kinds, size_t *len)
{
    struct sf_buf b = {0};
    for (unsigned i = 0; i < r->st.nseg; i++) {
        const struct sf_seg *s = &r->seg[i];
        char tmp[4096];
        if (s->fd >= 0) {
            kinds[i] = 'F';
            ck_assert_uint_le(s->len, sizeof(tmp));
            ck_assert_int_eq(pread(s->fd, tmp, (size_t)s->len, (off_t)s->off), (ssize_t)s->len);
            sf_buf_append(&b, tmp, (size_t)s->len);
        } else if (s->p) {
            kinds[i] = 'X';
            sf_buf_append(&b, s->p + s->off, (size_t)s->len);
        } else {
            kinds[i] = 'M';
            ck_assert_uint_le(s->off + s->len, r->mem.len);
            sf_buf_append(&b, r->mem.data + s->off, (size_t)s->len);
        }
    }
    kinds[r->st.nseg] = '\0';
    sf_buf_append(&b, "", 1);
    *len = b.len - 1;
    return b.data;
}

/* --------------------------------------------------------- the table */

#define H 8

struct static_case {
    const char *name;
    const char *req;     /* raw head; "{ETAG}" is replaced by the ETag that
                            a GET of etag_of answered with */
    const char *etag_of; /* a request to learn the ETag from, or NULL */
    int status;
    /* "Name: value" lines that must be in the head (the value is an
     * fnmatch pattern), and names that must not */
    const char *has[H];
    const char *lacks[H];
    bool no_body;
    const char *segs; /* kinds of the segments, F file, M response
                         memory, X snapshot; NULL: not checked */
    const char *body; /* the whole body, or NULL */
    const char *body_has[4];
    const char *body_lacks[2];
    void (*tweak)(struct sf_site *s); /* a site other than quick mode's */
};

static char *
xstrdup(const char *s)
{
    char *d = strdup(s);
    ck_assert_ptr_nonnull(d);
    return d;
}

/* error pages, add_header, cache rules, dotfiles allowed, listing and
 * precompressed off */
static void
tuned(struct sf_site *s)
{
    s->error_pages[s->nerror_pages++] = (struct sf_error_page){404, xstrdup("/errors/404.html")};
    s->error_pages[s->nerror_pages++] =
        (struct sf_error_page){416, xstrdup("/errors/missing.html")};
    s->add_headers[s->nadd_headers++] = xstrdup("X-Frame-Options: DENY");
    s->rules[s->nrules++] =
        (struct sf_cache_rule){xstrdup("/dir/"), false, xstrdup("public, max-age=60"), -1};
    s->rules[s->nrules++] = (struct sf_cache_rule){xstrdup(".txt"), true, NULL, 3600};
    s->listing = false;
    s->dotfiles = true;
    s->nprecompressed = 0;
}

/* precompressed = br: a .gz sidecar is not one of the site's variants */
static void
br_only(struct sf_site *s)
{
    s->precompressed[0] = SF_CODING_BR;
    s->nprecompressed = 1;
}

/* no symlinks at all */
static void
strict(struct sf_site *s)
{
    s->symlinks = SF_SYMLINKS_NONE;
}

#define GET(t, extra) "GET " t " HTTP/1.1\r\nHost: t\r\n" extra "\r\n"
#define HEAD(t, extra) "HEAD " t " HTTP/1.1\r\nHost: t\r\n" extra "\r\n"
#define TXT "Content-Type: text/plain; charset=utf-8"
#define HTML "Content-Type: text/html; charset=utf-8"

static const struct static_case cases[] = {
    {"get",
     GET("/a.txt", ""),
     NULL,
     200,
     {TXT, "Content-Length: 12", "ETag: \"*", "Last-Modified: *", "Accept-Ranges: bytes"},
     {"Content-Encoding", "Vary", "Connection"},
     false,
     "F",
     "hello world\n",
     {0},
     {0},
     NULL},
    {"head",
     HEAD("/a.txt", ""),
     NULL,
     200,
     {TXT, "Content-Length: 12", "ETag: \"*"},
     {0},
     true,
     "",
     NULL,
     {0},
     {0},
     NULL},
    {"http/1.0 closes",
     "GET /a.txt HTTP/1.0\r\n\r\n",
     NULL,
     200,
     {"Connection: close"},
     {0},
     false,
     "F",
     "hello world\n",
     {0},
     {0},
     NULL},
    {"snapshot",
     GET("/tiny.txt", ""),
     NULL,
     200,
     {TXT, "Content-Length: 3"},
     {0},
     false,
     "X",
     "abc",
     {0},
     {0},
     NULL},
    {"symlink inside",
     GET("/link.txt", ""),
     NULL,
     200,
     {"Content-Length: 12"},
     {0},
     false,
     "F",
     "hello world\n",
     {0},
     {0},
     NULL},
    {"dir redirect",
     GET("/dir", ""),
     NULL,
     301,
     {"Location: ./dir/", HTML},
     {0},
     false,
     "M",
     NULL,
     {"301 Moved Permanently"},
     {0},
     NULL},
    {"dir redirect query",
     GET("/dir?a=1&b=%20", ""),
     NULL,
     301,
     {"Location: ./dir/?a=1&b=%20"},
     {0},
     false,
     "M",
     NULL,
     {0},
     {0},
     NULL},
    {"dir redirect escaped",
     GET("/dir%20sp", ""),
     NULL,
     301,
     {"Location: ./dir%20sp/"},
     {0},
     false,
     "M",
     NULL,
     {0},
     {0},
     NULL},
    {"dir redirect head",
     HEAD("/noindex", ""),
     NULL,
     301,
     {"Location: ./noindex/"},
     {0},
     true,
     "",
     NULL,
     {0},
     {0},
     NULL},
    {"dir index",
     GET("/dir/", ""),
     NULL,
     200,
     {HTML, "Content-Length: 13"},
     {0},
     false,
     "F",
     "<p>index</p>\n",
     {0},
     {0},
     NULL},
    {"listing",
     GET("/noindex/", ""),
     NULL,
     200,
     {HTML, "Vary: Accept", "Cache-Control: no-cache",
      "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
      "base-uri 'none'; form-action 'self'"},
     {0},
     false,
     "M",
     NULL,
     {"x.txt", "<html"},
     {".hidden"},
     NULL},
    {"listing json query",
     GET("/noindex/?format=json", ""),
     NULL,
     200,
     {"Content-Type: application/json*"},
     {"Content-Security-Policy"},
     false,
     "M",
     NULL,
     {"\"x.txt\"", "\"file\""},
     {".hidden"},
     NULL},
    {"listing json query among others",
     GET("/noindex/?a=1;format=json&sort=size&order=desc", ""),
     NULL,
     200,
     {"Content-Type: application/json*"},
     {0},
     false,
     "M",
     NULL,
     {"\"x.txt\""},
     {0},
     NULL},
    {"listing sort query",
     GET("/noindex/?sort=size&order=desc", ""),
     NULL,
     200,
     {HTML},
     {0},
     false,
     "M",
     NULL,
     {"aria-sort=\"descending\"><form><input type=\"hidden\" name=\"sort\" "
      "value=\"size\"><button name=\"order\" value=\"asc\">Size"},
     {0},
     NULL},
    {"listing unknown sort",
     GET("/noindex/?sort=evil&order=sideways", ""),
     NULL,
     200,
     {HTML},
     {0},
     false,
     "M",
     NULL,
     {"aria-sort=\"ascending\"><form><input type=\"hidden\" name=\"sort\" "
      "value=\"name\">"},
     {0},
     NULL},
    {"listing json accept",
     GET("/noindex/", "Accept: application/json\r\n"),
     NULL,
     200,
     {"Content-Type: application/json*"},
     {0},
     false,
     "M",
     NULL,
     {"\"x.txt\""},
     {0},
     NULL},
    {"listing root",
     GET("/", ""),
     NULL,
     200,
     {HTML},
     {0},
     false,
     "M",
     NULL,
     {"a.txt", "noindex/"},
     {".secret", "fifo"},
     NULL},
    {"listing head", HEAD("/noindex/", ""), NULL, 200, {HTML}, {0}, true, "", NULL, {0}, {0}, NULL},
    {"dotfile",
     GET("/.secret", ""),
     NULL,
     404,
     {HTML},
     {"ETag"},
     false,
     "M",
     NULL,
     {"404"},
     {0},
     NULL},
    {"dotfile in folder",
     GET("/noindex/.hidden", ""),
     NULL,
     404,
     {0},
     {0},
     false,
     NULL,
     NULL,
     {0},
     {0},
     NULL},
    {"well-known",
     GET("/.well-known/x", ""),
     NULL,
     200,
     {"Content-Length: 6"},
     {0},
     false,
     "F",
     "known\n",
     {0},
     {0},
     NULL},
    {"fifo", GET("/fifo", ""), NULL, 403, {0}, {0}, false, "M", NULL, {0}, {0}, NULL},
    {"escaping symlink", GET("/escape", ""), NULL, 404, {0}, {0}, false, "M", NULL, {0}, {0}, NULL},
    {"missing", GET("/nope.txt", ""), NULL, 404, {0}, {0}, false, "M", NULL, {0}, {0}, NULL},
    {"nul", GET("/%00", ""), NULL, 400, {0}, {0}, false, "M", NULL, {0}, {0}, NULL},
    {"climb", GET("/../a.txt", ""), NULL, 400, {0}, {0}, false, NULL, NULL, {0}, {0}, NULL},
    {"file with slash",
     GET("/a.txt/", ""),
     NULL,
     404,
     {0},
     {"ETag"},
     false,
     "M",
     NULL,
     {0},
     {0},
     NULL},
    {"options",
     "OPTIONS /a.txt HTTP/1.1\r\nHost: t\r\n\r\n",
     NULL,
     204,
     {"Allow: GET, HEAD, OPTIONS"},
     {"Content-Length"},
     true,
     "",
     NULL,
     {0},
     {0},
     NULL},
    {"options *",
     "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n",
     NULL,
     204,
     {"Allow: GET, HEAD, OPTIONS"},
     {0},
     true,
     "",
     NULL,
     {0},
     {0},
     NULL},
    {"post",
     "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n",
     NULL,
     405,
     {"Allow: GET, HEAD, OPTIONS", HTML},
     {0},
     false,
     "M",
     NULL,
     {"405"},
     {0},
     NULL},
    {"delete",
     "DELETE /a.txt HTTP/1.1\r\nHost: t\r\n\r\n",
     NULL,
     405,
     {"Allow: GET, HEAD, OPTIONS"},
     {0},
     false,
     NULL,
     NULL,
     {0},
     {0},
     NULL},
    {"range",
     GET("/a.txt", "Range: bytes=0-1\r\n"),
     NULL,
     206,
     {"Content-Range: bytes 0-1/12", "Content-Length: 2", TXT},
     {0},
     false,
     "F",
     "he",
     {0},
     {0},
     NULL},
    {"range suffix",
     GET("/a.txt", "Range: bytes=-3\r\n"),
     NULL,
     206,
     {"Content-Range: bytes 9-11/12", "Content-Length: 3"},
     {0},
     false,
     "F",
     "ld\n",
     {0},
     {0},
     NULL},
    {"range snapshot",
     GET("/tiny.txt", "Range: bytes=1-\r\n"),
     NULL,
     206,
     {"Content-Range: bytes 1-2/3"},
     {0},
     false,
     "X",
     "bc",
     {0},
     {0},
     NULL},
    {"range head",
     HEAD("/a.txt", "Range: bytes=0-1\r\n"),
     NULL,
     206,
     {"Content-Range: bytes 0-1/12", "Content-Length: 2"},
     {0},
     true,
     "",
     NULL,
     {0},
     {0},
     NULL},
    {"multipart",
     GET("/a.txt", "Range: bytes=0-1,3-4\r\n"),
     NULL,
     206,
     {"Content-Type: multipart/byteranges; boundary=sf*"},
     {"Content-Range"},
     false,
     "MFMFM",
     NULL,
     {"\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes "
      "0-1/12\r\n\r\nhe\r\n--sf",
      "Content-Range: bytes 3-4/12\r\n\r\nlo\r\n--sf"},
     {0},
     NULL},
    {"unsatisfiable",
     GET("/a.txt", "Range: bytes=999-\r\n"),
     NULL,
     416,
     {"Content-Range: bytes */12"},
     {"ETag"},
     false,
     "M",
     NULL,
     {"416"},
     {0},
     NULL},
    {"range ignored on 304",
     GET("/a.txt", "If-None-Match: {ETAG}\r\nRange: bytes=0-1\r\n"),
     GET("/a.txt", ""),
     304,
     {"ETag: \"*"},
     {"Content-Range", "Content-Length"},
     true,
     "",
     NULL,
     {0},
     {0},
     NULL},
    {"if-none-match",
     GET("/a.txt", "If-None-Match: {ETAG}\r\n"),
     GET("/a.txt", ""),
     304,
     {"ETag: \"*", "Last-Modified: *"},
     {"Content-Type", "Content-Length"},
     true,
     "",
     NULL,
     {0},
     {0},
     NULL},
    {"if-none-match other",
     GET("/a.txt", "If-None-Match: \"nope\"\r\n"),
     NULL,
     200,
     {"Content-Length: 12"},
     {0},
     false,
     "F",
     "hello world\n",
     {0},
     {0},
     NULL},
    {"if-match fails",
     GET("/a.txt", "If-Match: \"nope\"\r\n"),
     NULL,
     412,
     {0},
     {0},
     false,
     "M",
     NULL,
     {0},
     {0},
     NULL},
    {"if-range stale",
     GET("/a.txt", "Range: bytes=0-1\r\nIf-Range: \"old\"\r\n"),
     NULL,
     200,
     {"Content-Length: 12"},
     {"Content-Range"},
     false,
     "F",
     "hello world\n",
     {0},
     {0},
     NULL},
    {"gzip",
     GET("/file.txt", "Accept-Encoding: gzip, br\r\n"),
     NULL,
     200,
     {"Content-Encoding: gzip", "Vary: Accept-Encoding", TXT, "Content-Length: 6",
      "ETag: \"6-*-gzip\""},
     {0},
     false,
     "F",
     "GZDATA",
     {0},
     {0},
     NULL},
    {"gzip refused",
     GET("/file.txt", "Accept-Encoding: gzip;q=0\r\n"),
     NULL,
     200,
     {"Vary: Accept-Encoding", "Content-Length: 19"},
     {"Content-Encoding"},
     false,
     "F",
     "plain text content\n",
     {0},
     {0},
     NULL},
    {"identity",
     GET("/file.txt", ""),
     NULL,
     200,
     {"Vary: Accept-Encoding", "Content-Length: 19"},
     {"Content-Encoding"},
     false,
     "F",
     "plain text content\n",
     {0},
     {0},
     NULL},
    {"gzip 304",
     GET("/file.txt", "Accept-Encoding: gzip\r\nIf-None-Match: {ETAG}\r\n"),
     GET("/file.txt", "Accept-Encoding: gzip\r\n"),
     304,
     {"Vary: Accept-Encoding", "ETag: \"6-*-gzip\""},
     {"Content-Encoding"},
     true,
     "",
     NULL,
     {0},
     {0},
     NULL},
    {"gzip etag on identity",
     GET("/file.txt", "If-None-Match: {ETAG}\r\n"),
     GET("/file.txt", "Accept-Encoding: gzip\r\n"),
     200,
     {"Content-Length: 19"},
     {0},
     false,
     "F",
     "plain text content\n",
     {0},
     {0},
     NULL},
    {"gzip range",
     GET("/file.txt", "Accept-Encoding: gzip\r\nRange: bytes=0-1\r\n"),
     NULL,
     206,
     {"Content-Encoding: gzip", "Content-Range: bytes 0-1/6"},
     {0},
     false,
     "F",
     "GZ",
     {0},
     {0},
     NULL},
    {"stale sidecar",
     GET("/old.txt", "Accept-Encoding: gzip\r\n"),
     NULL,
     200,
     {"Content-Length: 17"},
     {"Content-Encoding", "Vary"},
     false,
     "F",
     "old text content\n",
     {0},
     {0},
     NULL},
    {"sidecar itself",
     GET("/file.txt.gz", ""),
     NULL,
     200,
     {"Content-Length: 6"},
     {"Content-Encoding"},
     false,
     "F",
     "GZDATA",
     {0},
     {0},
     NULL},
    /* a tuned site */
    {.name = "custom 404",
     .req = GET("/nope", ""),
     .status = 404,
     .tweak = tuned,
     .has = {HTML, "Content-Length: 11", "X-Frame-Options: DENY"},
     .lacks = {"ETag"},
     .segs = "F",
     .body = "custom 404\n"},
    {.name = "custom 404 head",
     .req = HEAD("/nope", ""),
     .status = 404,
     .tweak = tuned,
     .has = {"Content-Length: 11"},
     .no_body = true,
     .segs = ""},
    {.name = "custom page missing",
     .req = GET("/a.txt", "Range: bytes=99-\r\n"),
     .status = 416,
     .tweak = tuned,
     .has = {"Content-Range: bytes */12", "X-Frame-Options: DENY"},
     .segs = "M",
     .body_has = {"416"}},
    {.name = "expires by extension",
     .req = GET("/a.txt", ""),
     .status = 200,
     .tweak = tuned,
     .has = {"Cache-Control: max-age=3600", "Expires: *GMT", "X-Frame-Options: DENY"},
     .segs = "F",
     .body = "hello world\n"},
    {.name = "cache_control by prefix",
     .req = GET("/dir/", ""),
     .status = 200,
     .tweak = tuned,
     .has = {"Cache-Control: public, max-age=60"},
     .lacks = {"Expires"},
     .segs = "F"},
    {.name = "add_header on 304",
     .req = GET("/a.txt", "If-None-Match: {ETAG}\r\n"),
     .etag_of = GET("/a.txt", ""),
     .status = 304,
     .tweak = tuned,
     .has = {"X-Frame-Options: DENY", "Cache-Control: max-age=3600"},
     .no_body = true,
     .segs = ""},
    {.name = "add_header on multipart",
     .req = GET("/a.txt", "Range: bytes=0-1,3-4\r\n"),
     .status = 206,
     .tweak = tuned,
     .has = {"X-Frame-Options: DENY"},
     .segs = "MFMFM"},
    {.name = "add_header on redirect",
     .req = GET("/dir", ""),
     .status = 301,
     .tweak = tuned,
     .has = {"X-Frame-Options: DENY", "Location: ./dir/"},
     .segs = "M"},
    {.name = "listing off",
     .req = GET("/noindex/", ""),
     .status = 403,
     .tweak = tuned,
     .has = {"X-Frame-Options: DENY"},
     .segs = "M"},
    {.name = "dotfiles allowed",
     .req = GET("/.secret", ""),
     .status = 200,
     .tweak = tuned,
     .segs = "F",
     .body = "secret\n"},
    {.name = "precompressed off",
     .req = GET("/file.txt", "Accept-Encoding: gzip\r\n"),
     .status = 200,
     .tweak = tuned,
     .lacks = {"Content-Encoding", "Vary"},
     .segs = "F",
     .body = "plain text content\n"},
    {.name = "precompressed br only",
     .req = GET("/file.txt", "Accept-Encoding: gzip, br\r\n"),
     .status = 200,
     .tweak = br_only,
     .lacks = {"Content-Encoding"},
     .segs = "F",
     .body = "plain text content\n"},
    {.name = "symlinks none",
     .req = GET("/link.txt", ""),
     .status = 404,
     .tweak = strict,
     .segs = "M"},
    {.name = "symlinks none, plain file",
     .req = GET("/a.txt", ""),
     .status = 200,
     .tweak = strict,
     .segs = "F"},
};

/* req with "{ETAG}" replaced by etag. */
static void
expand(const char *req, const char *etag, char *out, size_t cap)
{
    const char *m = strstr(req, "{ETAG}");
    if (!m) {
        snprintf(out, cap, "%s", req);
        return;
    }
    snprintf(out, cap, "%.*s%s%s", (int)(m - req), req, etag, m + 6);
}

static void
check_line(const struct sf_response *r, const char *want, const char *row)
{
    const char *colon = strchr(want, ':');
    ck_assert_ptr_nonnull(colon);
    char name[64], val[512];
    snprintf(name, sizeof(name), "%.*s", (int)(colon - want), want);
    const char *exp = colon + 2;
    ck_assert_msg(header(r, name, val, sizeof(val)), "%s: no %s in\n%.*s", row, name,
                  (int)r->st.head_len, r->head);
    ck_assert_msg(fnmatch(exp, val, 0) == 0, "%s: %s is '%s', want '%s'", row, name, val, exp);
}

START_TEST(test_static_table)
{
    const struct static_case *c = &cases[_i];
    if (c->tweak)
        c->tweak(&cfg.sites[0]);
    struct sf_response resp;
    sf_response_init(&resp);
    char etag[128] = "", req[2048], val[512];
    if (c->etag_of) {
        serve(c->etag_of, &resp);
        ck_assert_int_eq(resp.st.status, 200);
        ck_assert(header(&resp, "ETag", etag, sizeof(etag)));
    }
    expand(c->req, etag, req, sizeof(req));
    serve(req, &resp);

    ck_assert_msg(resp.st.status == c->status, "%s: status %d, want %d", c->name, resp.st.status,
                  c->status);
    ck_assert(!resp.st.head_overflow);
    char line[64];
    snprintf(line, sizeof(line), "HTTP/1.1 %d ", c->status);
    ck_assert(resp.st.head_len > strlen(line) && memcmp(resp.head, line, strlen(line)) == 0);
    ck_assert(resp.st.head_len >= 4 &&
              memcmp(resp.head + resp.st.head_len - 4, "\r\n\r\n", 4) == 0);
    ck_assert_msg(memmem(resp.head, resp.st.head_len, "\r\n\r\n", 4) ==
                      resp.head + resp.st.head_len - 4,
                  "%s: blank line inside the head", c->name);
    for (int i = 0; i < H && c->has[i]; i++)
        check_line(&resp, c->has[i], c->name);
    for (int i = 0; i < H && c->lacks[i]; i++)
        ck_assert_msg(!header(&resp, c->lacks[i], val, sizeof(val)), "%s: unexpected %s: %s",
                      c->name, c->lacks[i], val);

    ck_assert_msg(resp.st.no_body == c->no_body, "%s: no_body %d", c->name, resp.st.no_body);
    char kinds[SF_SEG_MAX + 1];
    size_t blen;
    char *body = body_of(&resp, kinds, &blen);
    if (c->segs)
        ck_assert_msg(strcmp(kinds, c->segs) == 0, "%s: segments '%s', want '%s'", c->name, kinds,
                      c->segs);
    if (c->no_body) {
        ck_assert_uint_eq(resp.st.nseg, 0);
    } else {
        /* what the segments add up to is what the head promised */
        ck_assert_uint_eq(blen, resp.st.content_length);
        ck_assert(header(&resp, "Content-Length", val, sizeof(val)));
        ck_assert_uint_eq(strtoull(val, NULL, 10), blen);
    }
    if (c->body)
        ck_assert_msg(blen == strlen(c->body) && memcmp(body, c->body, blen) == 0,
                      "%s: body '%s', want '%s'", c->name, body, c->body);
    for (int i = 0; i < 4 && c->body_has[i]; i++)
        ck_assert_msg(strstr(body, c->body_has[i]), "%s: body lacks '%s':\n%s", c->name,
                      c->body_has[i], body);
    for (int i = 0; i < 2 && c->body_lacks[i]; i++)
        ck_assert_msg(!strstr(body, c->body_lacks[i]), "%s: body has '%s'", c->name,
                      c->body_lacks[i]);
    free(body);
    /* a held cache entry goes back with the response */
    sf_response_free(&resp);
    ck_assert_ptr_null(resp.st.file);
}
END_TEST

/* A multipart body's boundaries come from the worker's PRNG: two
 * answers in a row use different ones, and the delimiter closes it. */
START_TEST(test_multipart_boundary)
{
    struct sf_response resp;
    sf_response_init(&resp);
    char b1[512], b2[512];
    serve(GET("/a.txt", "Range: bytes=0-0,2-2\r\n"), &resp);
    ck_assert_int_eq(resp.st.status, 206);
    ck_assert(header(&resp, "Content-Type", b1, sizeof(b1)));
    char kinds[SF_SEG_MAX + 1];
    size_t blen;
    char *body = body_of(&resp, kinds, &blen);
    const char *bd = strstr(b1, "boundary=") + 9;
    char close_delim[128];
    snprintf(close_delim, sizeof(close_delim), "\r\n--%s--\r\n", bd);
    ck_assert(blen > strlen(close_delim));
    ck_assert_str_eq(body + blen - strlen(close_delim), close_delim);
    free(body);
    serve(GET("/a.txt", "Range: bytes=0-0,2-2\r\n"), &resp);
    ck_assert(header(&resp, "Content-Type", b2, sizeof(b2)));
    ck_assert_str_ne(b1, b2);
    sf_response_free(&resp);
}
END_TEST

/* Keep-alive responses reuse one struct sf_response: each request's
 * reset must give back the previous file. */
START_TEST(test_reuse_response)
{
    struct sf_response resp;
    sf_response_init(&resp);
    static const char *const reqs[] = {
        GET("/a.txt", ""),
        GET("/dir/", ""),
        GET("/noindex/", ""),
        GET("/nope", ""),
        GET("/file.txt", "Accept-Encoding: gzip\r\n"),
        GET("/a.txt", "Range: bytes=0-1,3-4\r\n"),
    };
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < SF_ARRAY_LEN(reqs); i++)
            serve(reqs[i], &resp);
    struct sf_fcache_stats st;
    sf_fcache_stats(fc, &st);
    ck_assert_uint_gt(st.hits, 0);
    sf_response_free(&resp);
}
END_TEST

static Suite *
static_suite(void)
{
    Suite *s = suite_create("static");
    TCase *tc = tcase_create("table");
    tcase_add_unchecked_fixture(tc, setup_root, teardown_root);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_static_table, 0, (int)SF_ARRAY_LEN(cases));
    tcase_add_test(tc, test_multipart_boundary);
    tcase_add_test(tc, test_reuse_response);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(static_suite());
}
