/*
 * static.c - the static file handler. Decides everything before the
 * first byte goes out (nginx's rule): method, path, confinement, type,
 * validators, preconditions, ranges and the precompressed variant; then
 * describes the body as segments of the response queue.
 */
#include "sfhttpd/static.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sfhttpd/coding.h"
#include "sfhttpd/cond.h"
#include "sfhttpd/httpdate.h"
#include "sfhttpd/listing.h"
#include "sfhttpd/range.h"
#include "sfhttpd/resolve.h"

#define ALLOW "Allow: GET, HEAD, OPTIONS"

struct ctx {
    const struct sf_static_in *in;
    struct sf_response *out;
    bool head;     /* HEAD: headers only */
    bool http10;
    struct sf_path path;
};

static void
error(struct ctx *x, int status, const char *extra)
{
    sf_response_error(x->out, status, x->in->date, x->in->keep_alive, x->http10, x->head, extra);
}

static struct sf_hval
hval(const struct ctx *x, enum sf_hdr h)
{
    size_t len;
    const char *p = sf_request_hdr(x->in->p, x->in->buf, h, &len);
    return (struct sf_hval){p, len};
}

static void
common_headers(struct ctx *x)
{
    if (x->in->site->cache_control)
        sf_response_header(x->out, "Cache-Control", "%s", x->in->site->cache_control);
}

/* 301 to the slash form, relative to the request's own URL so that it
 * works behind a path prefix; the query is kept. */
static void
redirect_slash(struct ctx *x)
{
    struct sf_response *o = x->out;
    sf_response_reset(o);
    const char *rel = x->path.rel;
    const char *last = strrchr(rel, '/');
    last = last ? last + 1 : rel;
    struct sf_buf *loc = &o->mem;
    sf_buf_puts(loc, "./");
    sf_buf_url_escape(loc, last, strlen(last));
    sf_buf_puts(loc, "/");
    const struct sf_span *t = &x->in->p->r.path;
    const char *raw = x->in->buf + t->off;
    size_t q = x->path.query_off;
    if (q < t->len) {
        /* copy the raw query; anything outside visible ASCII is escaped so
         * the header can never be split */
        for (size_t i = q; i < t->len && raw[i] != '#'; i++) {
            unsigned char ch = (unsigned char)raw[i];
            if (ch <= 0x20 || ch >= 0x7f)
                sf_buf_printf(loc, "%%%02X", ch);
            else
                sf_buf_append(loc, &raw[i], 1);
        }
    }
    sf_response_begin(o, 301, x->in->date);
    sf_response_header(o, "Location", "%.*s", (int)loc->len, loc->data);
    loc->len = 0;
    sf_buf_printf(loc,
                  "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>301 Moved "
                  "Permanently</title></head>\n<body><h1>301 Moved Permanently</h1></body>"
                  "</html>\n");
    sf_response_header(o, "Content-Type", "text/html; charset=utf-8");
    sf_response_header(o, "Content-Length", "%zu", loc->len);
    sf_response_end_head(o, x->in->keep_alive, x->http10);
    o->content_length = loc->len;
    if (x->head)
        o->no_body = true;
    else
        sf_response_add_mem(o, 0, loc->len);
}

static bool
wants_json(const struct ctx *x)
{
    struct sf_hval a = hval(x, SF_HDR_ACCEPT);
    if (a.p && a.len >= 16 && memmem(a.p, a.len, "application/json", 16))
        return true;
    const struct sf_span *t = &x->in->p->r.path;
    const char *raw = x->in->buf + t->off;
    size_t q = x->path.query_off;
    if (q >= t->len)
        return false;
    /* "?format=json" among &-separated parameters */
    size_t i = q + 1;
    while (i < t->len) {
        size_t j = i;
        while (j < t->len && raw[j] != '&' && raw[j] != '#')
            j++;
        if (j - i == 11 && memcmp(raw + i, "format=json", 11) == 0)
            return true;
        if (j < t->len && raw[j] == '#')
            break;
        i = j + 1;
    }
    return false;
}

static void
listing(struct ctx *x, int dirfd)
{
    struct sf_response *o = x->out;
    bool json = wants_json(x);
    char url[SF_PATH_MAX + 3];
    snprintf(url, sizeof(url), "/%s%s", x->path.rel, x->path.len ? "/" : "");
    struct sf_listing_opts opts = {.show_hidden = x->in->site->dotfiles};
    o->mem.len = 0;
    int rc = sf_listing_build(dirfd, url, json ? SF_LISTING_JSON : SF_LISTING_HTML, &opts, &o->mem);
    if (rc) {
        error(x, rc == -EACCES ? 403 : 500, NULL);
        return;
    }
    sf_response_begin(o, 200, x->in->date);
    sf_response_header(o, "Content-Type", "%s",
                       json ? "application/json; charset=utf-8" : "text/html; charset=utf-8");
    sf_response_header(o, "Content-Length", "%zu", o->mem.len);
    sf_response_header(o, "Cache-Control", "no-cache");
    sf_response_header(o, "Vary", "Accept");
    sf_response_end_head(o, x->in->keep_alive, x->http10);
    o->content_length = o->mem.len;
    if (x->head)
        o->no_body = true;
    else
        sf_response_add_mem(o, 0, o->mem.len);
}

/* Directory with a trailing slash: an index file, a listing, or 403.
 * Returns the index file's fd (and its stat) when one was found, else -1
 * after building the response itself. */
static int
directory(struct ctx *x, int dirfd, struct stat *st)
{
    const struct sf_site *s = x->in->site;
    char rel[SF_PATH_MAX + 1];
    for (size_t i = 0; i < s->nindex; i++) {
        int n = snprintf(rel, sizeof(rel), "%s%s%s", x->path.rel, x->path.len ? "/" : "",
                         s->index[i]);
        if (n < 0 || (size_t)n >= sizeof(rel))
            continue;
        int fd;
        if (sf_resolve_open(x->in->rootfd, rel, s->symlinks, &fd, st) == 0) {
            if (S_ISREG(st->st_mode)) {
                memcpy(x->path.rel, rel, (size_t)n + 1);
                x->path.len = (size_t)n;
                x->path.trailing_slash = false;
                return fd;
            }
            close(fd);
        }
    }
    if (s->listing)
        listing(x, dirfd);
    else
        error(x, 403, NULL);
    return -1;
}

struct variant {
    int fd;
    struct stat st;
    int coding; /* -1 for identity */
};

/* Parse the site's precompressed list into a mask of enabled codings. */
static unsigned
enabled_codings(const char *list)
{
    unsigned mask = 0;
    if (!list)
        return 0;
    for (int c = 0; c < SF_CODING_COUNT; c++) {
        const char *name = sf_coding_name((enum sf_coding)c);
        size_t n = strlen(name);
        for (const char *p = list; (p = strstr(p, name)) != NULL; p += n) {
            bool start = p == list || p[-1] == ' ' || p[-1] == ',';
            bool end = p[n] == '\0' || p[n] == ' ' || p[n] == ',';
            if (start && end)
                mask |= 1u << c;
        }
    }
    return mask;
}

/* Look for file.br / .zst / .gz beside the file, not older than it.
 * Sets *exists when any usable variant exists (for Vary), and returns the
 * smallest one the client accepts in v (v->fd -1 when none). */
static void
find_variant(struct ctx *x, const struct stat *orig, struct variant *v, bool *exists)
{
    v->fd = -1;
    v->coding = -1;
    *exists = false;
    unsigned enabled = enabled_codings(x->in->site->precompressed);
    if (!enabled || x->path.len + 4 > SF_PATH_MAX)
        return;
    struct sf_hval ae = hval(x, SF_HDR_ACCEPT_ENCODING);
    unsigned accepted = sf_coding_accepted(ae.p, ae.len);
    char rel[SF_PATH_MAX + 1];
    for (int c = 0; c < SF_CODING_COUNT; c++) {
        if (!(enabled & (1u << c)))
            continue;
        snprintf(rel, sizeof(rel), "%s%s", x->path.rel, sf_coding_suffix((enum sf_coding)c));
        int fd;
        struct stat st;
        if (sf_resolve_open(x->in->rootfd, rel, x->in->site->symlinks, &fd, &st) != 0)
            continue;
        bool fresh = S_ISREG(st.st_mode) &&
                     (st.st_mtim.tv_sec > orig->st_mtim.tv_sec ||
                      (st.st_mtim.tv_sec == orig->st_mtim.tv_sec &&
                       st.st_mtim.tv_nsec >= orig->st_mtim.tv_nsec));
        if (fresh)
            *exists = true;
        if (fresh && (accepted & (1u << c)) && (v->fd < 0 || st.st_size < v->st.st_size)) {
            if (v->fd >= 0)
                close(v->fd);
            v->fd = fd;
            v->st = st;
            v->coding = c;
        } else {
            close(fd);
        }
    }
}

static uint64_t
next_rand(uint64_t *s)
{
    /* splitmix64: boundaries only need to be unpredictable enough not to
     * collide with file content by accident */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void
send_ranges(struct ctx *x, int fd, uint64_t size, const char *ctype, const struct sf_range *rg,
            size_t n)
{
    struct sf_response *o = x->out;
    if (n == 1) {
        sf_response_header(o, "Content-Type", "%s", ctype);
        sf_response_header(o, "Content-Range", "bytes %llu-%llu/%llu",
                           (unsigned long long)rg[0].first, (unsigned long long)rg[0].last,
                           (unsigned long long)size);
        uint64_t len = rg[0].last - rg[0].first + 1;
        sf_response_header(o, "Content-Length", "%llu", (unsigned long long)len);
        sf_response_end_head(o, x->in->keep_alive, x->http10);
        o->content_length = len;
        if (x->head)
            o->no_body = true;
        else
            sf_response_add_file(o, fd, rg[0].first, len);
        return;
    }
    char boundary[40];
    snprintf(boundary, sizeof(boundary), "sf%016llx%08llx",
             (unsigned long long)next_rand(x->in->rng),
             (unsigned long long)(next_rand(x->in->rng) & 0xffffffffULL));
    o->mem.len = 0;
    uint64_t total = 0;
    size_t offs[SF_RANGES_MAX + 1], lens[SF_RANGES_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        offs[i] = o->mem.len;
        sf_buf_printf(&o->mem, "%s--%s\r\nContent-Type: %s\r\nContent-Range: bytes %llu-%llu/%llu\r\n\r\n",
                      i ? "\r\n" : "", boundary, ctype, (unsigned long long)rg[i].first,
                      (unsigned long long)rg[i].last, (unsigned long long)size);
        lens[i] = o->mem.len - offs[i];
        total += lens[i] + (rg[i].last - rg[i].first + 1);
    }
    offs[n] = o->mem.len;
    sf_buf_printf(&o->mem, "\r\n--%s--\r\n", boundary);
    lens[n] = o->mem.len - offs[n];
    total += lens[n];
    sf_response_header(o, "Content-Type", "multipart/byteranges; boundary=%s", boundary);
    sf_response_header(o, "Content-Length", "%llu", (unsigned long long)total);
    sf_response_end_head(o, x->in->keep_alive, x->http10);
    o->content_length = total;
    if (x->head) {
        o->no_body = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        sf_response_add_mem(o, offs[i], lens[i]);
        sf_response_add_file(o, fd, rg[i].first, rg[i].last - rg[i].first + 1);
    }
    sf_response_add_mem(o, offs[n], lens[n]);
}

/* A regular file (fd owned by the response from here on). */
static void
file(struct ctx *x, int fd, const struct stat *st)
{
    struct sf_response *o = x->out;
    const struct sf_static_in *in = x->in;
    const char *ctype = sf_mime_by_ext(in->mime, x->path.rel, x->path.len);
    if (!ctype)
        ctype = sf_mime_sniff_file(in->mime, fd, st);

    struct variant v;
    bool has_variant;
    find_variant(x, st, &v, &has_variant);
    const struct stat *rst = st; /* the representation actually sent */
    if (v.fd >= 0) {
        close(fd);
        fd = v.fd;
        rst = &v.st;
    }
    o->fd = fd;

    char etag[64];
    size_t elen = sf_cond_etag(etag, sizeof(etag) - 8, (unsigned long long)rst->st_size,
                               (long long)rst->st_mtim.tv_sec, rst->st_mtim.tv_nsec);
    if (v.coding >= 0 && elen >= 2) {
        /* the variant's own validator: its coding inside the quotes */
        elen += (size_t)snprintf(etag + elen - 1, sizeof(etag) - elen + 1, "-%s\"",
                                 sf_coding_name((enum sf_coding)v.coding)) - 1;
    }
    struct sf_validators val = {etag, elen, rst->st_mtim.tv_sec};
    char lastmod[SF_HTTPDATE_LEN + 1];
    sf_httpdate_format(rst->st_mtim.tv_sec, lastmod);

    struct sf_cond_headers ch = {
        .if_match = hval(x, SF_HDR_IF_MATCH),
        .if_none_match = hval(x, SF_HDR_IF_NONE_MATCH),
        .if_modified_since = hval(x, SF_HDR_IF_MODIFIED_SINCE),
        .if_unmodified_since = hval(x, SF_HDR_IF_UNMODIFIED_SINCE),
    };
    int cs = sf_cond_eval(&ch, &val, true);
    if (cs == 412) {
        error(x, 412, NULL);
        return;
    }

    uint64_t size = (uint64_t)rst->st_size;
    struct sf_range rg[SF_RANGES_MAX];
    size_t nr = 0;
    enum sf_range_result rr = SF_RANGE_IGNORE;
    struct sf_hval range = hval(x, SF_HDR_RANGE);
    if (cs == 0 && range.p && sf_cond_if_range(hval(x, SF_HDR_IF_RANGE), &val)) {
        unsigned maxr = in->cfg->max_ranges < SF_RANGES_MAX ? in->cfg->max_ranges : SF_RANGES_MAX;
        rr = sf_range_parse(range.p, range.len, size, maxr, rg, SF_ARRAY_LEN(rg), &nr);
    }

    int status = cs == 304 ? 304 : rr == SF_RANGE_OK ? 206 : rr == SF_RANGE_UNSATISFIABLE ? 416 : 200;
    if (status == 416) {
        /* the 416 tells the client the current length */
        char cr[48];
        snprintf(cr, sizeof(cr), "Content-Range: bytes */%llu", (unsigned long long)size);
        error(x, 416, cr); /* closes fd */
        return;
    }

    sf_response_begin(o, status, in->date);
    sf_response_header(o, "Last-Modified", "%s", lastmod);
    sf_response_header(o, "ETag", "%.*s", (int)elen, etag);
    common_headers(x);
    if (has_variant)
        sf_response_header(o, "Vary", "Accept-Encoding");
    if (status == 304) {
        sf_response_end_head(o, in->keep_alive, x->http10);
        o->no_body = true;
        return;
    }
    sf_response_header(o, "Accept-Ranges", "bytes");
    if (v.coding >= 0)
        sf_response_header(o, "Content-Encoding", "%s", sf_coding_name((enum sf_coding)v.coding));
    if (status == 206) {
        send_ranges(x, fd, size, ctype, rg, nr);
        return;
    }
    sf_response_header(o, "Content-Type", "%s", ctype);
    sf_response_header(o, "Content-Length", "%llu", (unsigned long long)size);
    sf_response_end_head(o, in->keep_alive, x->http10);
    o->content_length = size;
    if (x->head)
        o->no_body = true;
    else
        sf_response_add_file(o, fd, 0, size);
}

void
sf_static_handle(const struct sf_static_in *in, struct sf_response *out)
{
    const struct sf_request *r = &in->p->r;
    assert(r->status == 0);
    struct ctx x = {.in = in, .out = out, .http10 = r->minor == 0};
    switch (r->method) {
    case HTTP_GET: break;
    case HTTP_HEAD: x.head = true; break;
    case HTTP_OPTIONS: error(&x, 204, ALLOW); return;
    default: error(&x, 405, ALLOW); return;
    }
    if (r->form == SF_TARGET_ASTERISK) {
        error(&x, 400, NULL);
        return;
    }
    const char *target = in->buf + r->path.off;
    size_t tlen = r->path.len;
    if (tlen == 0) {
        target = "/";
        tlen = 1;
    }
    int rc = sf_resolve_path(target, tlen, &x.path);
    if (rc) {
        error(&x, rc, NULL);
        return;
    }
    if (!in->site->dotfiles && sf_resolve_is_hidden(x.path.rel)) {
        error(&x, 404, NULL);
        return;
    }
    int fd;
    struct stat st;
    rc = sf_resolve_open(in->rootfd, x.path.rel, in->site->symlinks, &fd, &st);
    if (rc) {
        error(&x, sf_resolve_status(rc), NULL);
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        if (!x.path.trailing_slash && x.path.len > 0) {
            close(fd);
            redirect_slash(&x);
            return;
        }
        int ifd = directory(&x, fd, &st);
        close(fd);
        if (ifd < 0)
            return;
        fd = ifd;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        error(&x, 403, NULL);
        return;
    }
    if (x.path.trailing_slash) {
        /* "/a.txt/" names a folder that does not exist (as nginx says);
         * serving the file there would break its relative links */
        close(fd);
        error(&x, 404, NULL);
        return;
    }
    file(&x, fd, &st);
}
