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
#include "sfhttpd/lcache.h"
#include "sfhttpd/listing.h"
#include "sfhttpd/range.h"
#include "sfhttpd/fcache.h"
#include "sfhttpd/fneg.h"
#include "sfhttpd/fversion.h"
#include "sfhttpd/resolve.h"
#include "sfhttpd/sitehdr.h"

#define ALLOW "Allow: GET, HEAD, OPTIONS"

struct ctx {
    const struct sf_static_in *in;
    struct sf_response *out;
    bool head; /* HEAD: headers only */
    bool http10;
    struct sf_path path;
};

static struct sf_file *get(struct ctx *x, const char *rel, int *err, int *dirfd);
static void add_body(struct sf_response *o, const struct sf_file *f, uint64_t off, uint64_t len);

/* The site's own page for status (error_page), sent with that status.
 * Returns false when there is none or it cannot be read. */
static bool
custom_error(struct ctx *x, int status, const char *extra)
{
    const struct sf_site *s = x->in->site;
    const char *page = NULL;
    for (size_t i = 0; i < s->nerror_pages && !page; i++)
        if (s->error_pages[i].status == status)
            page = s->error_pages[i].path;
    if (!page)
        return false;
    struct sf_path p;
    if (sf_resolve_path(page, strlen(page), &p) != 0)
        return false;
    int err, dfd;
    struct sf_file *f = get(x, p.rel, &err, &dfd);
    if (dfd >= 0)
        close(dfd);
    if (!f)
        return false;
    struct sf_response *o = x->out;
    sf_response_reset(o);
    sf_response_hold(o, x->in->fc, f);
    const char *ctype = f->ctype ? f->ctype : sf_mime_by_ext(x->in->mime, p.rel, p.len);
    sf_response_begin(o, status, x->in->date);
    if (extra)
        sf_response_line(o, extra);
    sf_response_puts(o, "Content-Type", ctype ? ctype : "text/html; charset=utf-8");
    sf_response_put_u64(o, "Content-Length", (uint64_t)f->st.st_size);
    sf_response_end_head(o, x->in->keep_alive, x->http10);
    o->st.content_length = (uint64_t)f->st.st_size;
    if (x->head)
        o->st.no_body = true;
    else
        add_body(o, f, 0, (uint64_t)f->st.st_size);
    return true;
}

static void
error(struct ctx *x, int status, const char *extra)
{
    if (status >= 400 && custom_error(x, status, extra))
        return;
    sf_response_error(x->out, status, x->in->date, x->in->keep_alive, x->http10, x->head, extra);
}

/* A failed open: its status (out of descriptors: 503, Retry-After). */
static void
open_error(struct ctx *x, int err)
{
    error(x, err == -EPERM ? 403 : sf_resolve_status(err),
          sf_out_of_fds(err) ? "Retry-After: 1" : NULL);
}

static struct sf_hval
hval(const struct ctx *x, enum sf_hdr h)
{
    size_t len;
    const char *p = sf_request_hdr(x->in->p, x->in->buf, h, &len);
    return (struct sf_hval){p, len};
}

/* How the site's paths are opened: its symlink policy, and with dotfiles
 * denied no hidden name reached through a link either. */
static unsigned
resolve_how(const struct sf_site *s)
{
    return (unsigned)s->symlinks | (s->dotfiles ? 0 : SF_RESOLVE_NO_HIDDEN);
}

static struct sf_file *
get(struct ctx *x, const char *rel, int *err, int *dirfd)
{
    const struct sf_static_in *in = x->in;
    return sf_fneg_get(in->neg, in->fc, in->site_index, in->rootfd, in->site->root, rel,
                       resolve_how(in->site), err, dirfd);
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
        for (size_t i = q; i < t->len; i++) {
            unsigned char ch = (unsigned char)raw[i];
            if (ch <= 0x20 || ch >= 0x7f)
                sf_buf_printf(loc, "%%%02X", ch);
            else
                sf_buf_append(loc, &raw[i], 1);
        }
    }
    sf_response_begin(o, 301, x->in->date);
    sf_response_put(o, "Location", loc->data, loc->len);
    loc->len = 0;
    sf_buf_printf(loc, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>301 Moved "
                       "Permanently</title></head>\n<body><h1>301 Moved Permanently</h1></body>"
                       "</html>\n");
    sf_response_puts(o, "Content-Type", "text/html; charset=utf-8");
    sf_response_put_u64(o, "Content-Length", loc->len);
    sf_response_end_head(o, x->in->keep_alive, x->http10);
    o->st.content_length = loc->len;
    if (x->head)
        o->st.no_body = true;
    else
        sf_response_add_mem(o, 0, loc->len);
}

/* The value of the query parameter name ("sort" in "?a=1&sort=size"), or
 * NULL; its length in *len. The raw query is compared as it is: the
 * values asked for here are plain words. */
static const char *
query_param(const struct ctx *x, const char *name, size_t *len)
{
    const struct sf_span *t = &x->in->p->r.path;
    const char *raw = x->in->buf + t->off;
    size_t q = x->path.query_off, n = strlen(name);
    if (q >= t->len)
        return NULL;
    for (size_t i = q + 1; i < t->len;) {
        size_t j = i;
        while (j < t->len && raw[j] != '&' && raw[j] != ';')
            j++;
        if (j - i > n && memcmp(raw + i, name, n) == 0 && raw[i + n] == '=') {
            *len = j - i - n - 1;
            return raw + i + n + 1;
        }
        i = j + 1;
    }
    return NULL;
}

static bool
param_is(const struct ctx *x, const char *name, const char *value)
{
    size_t len;
    const char *v = query_param(x, name, &len);
    return v && len == strlen(value) && memcmp(v, value, len) == 0;
}

/* What the request asks of a listing: JSON by Accept or ?format=json,
 * the order by ?sort=name|size|mtime&order=asc|desc (unknown values are
 * ignored: the natural order, ascending). */
static struct sf_listing_view
listing_view(const struct ctx *x)
{
    struct sf_listing_view v = {SF_LISTING_HTML, SF_LISTING_BY_NAME, false};
    struct sf_hval a = hval(x, SF_HDR_ACCEPT);
    if ((a.p && a.len >= 16 && memmem(a.p, a.len, "application/json", 16)) ||
        param_is(x, "format", "json"))
        v.fmt = SF_LISTING_JSON;
    if (param_is(x, "sort", "size"))
        v.sort = SF_LISTING_BY_SIZE;
    else if (param_is(x, "sort", "mtime"))
        v.sort = SF_LISTING_BY_MTIME;
    v.desc = param_is(x, "order", "desc");
    return v;
}

/* The page forbids every script and every load but its inline style and
 * data: icons, and lets its sort forms go only to itself: even a name
 * that slipped past escaping could run or fetch nothing. */
#define LISTING_CSP                                                                                \
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "              \
    "form-action 'self'"

static void
listing(struct ctx *x, int dirfd)
{
    struct sf_response *o = x->out;
    const struct sf_static_in *in = x->in;
    char url[SF_PATH_MAX + 3];
    snprintf(url, sizeof(url), "/%s%s", x->path.rel, x->path.len ? "/" : "");
    struct sf_lcache_req q = {
        .site = in->site_index,
        .root_path = in->site->root,
        .dirfd = dirfd,
        .url_path = url,
        .opts = {.show_hidden = in->site->dotfiles,
                 .rootfd = in->rootfd,
                 .rel = x->path.rel,
                 .how = resolve_how(in->site),
                 .max_entries = in->cfg->max_listing_entries},
        .view = listing_view(x),
    };
    o->mem.len = 0;
    struct sf_lcache_body body;
    int rc = sf_lcache_get(in->lc, &q, &o->mem, &body);
    if (sf_out_of_fds(rc) && sf_fcache_reclaim(in->fc) > 0) {
        o->mem.len = 0;
        rc = sf_lcache_get(in->lc, &q, &o->mem, &body);
    }
    if (rc) {
        open_error(x, rc);
        return;
    }
    o->st.fd = body.fd; /* a page kept by the cache: the response closes it */
    bool json = q.view.fmt == SF_LISTING_JSON;
    sf_response_begin(o, 200, in->date);
    sf_response_puts(o, "Content-Type",
                     json ? "application/json; charset=utf-8" : "text/html; charset=utf-8");
    sf_response_put_u64(o, "Content-Length", body.len);
    sf_response_puts(o, "Cache-Control", "no-cache");
    sf_response_puts(o, "Vary", "Accept");
    if (!json)
        sf_response_puts(o, "Content-Security-Policy", LISTING_CSP);
    sf_response_end_head(o, in->keep_alive, x->http10);
    o->st.content_length = body.len;
    if (x->head)
        o->st.no_body = true;
    else if (body.fd >= 0)
        sf_response_add_file(o, body.fd, body.off, body.len);
    else
        sf_response_add_mem(o, 0, body.len);
}

/* Look for an index file of the folder x->path names (trailing slash).
 * Returns a referenced cache entry and makes x->path name it, or NULL
 * (with *oom the error when a probe ran out of descriptors, else 0). */
static struct sf_file *
index_file(struct ctx *x, int *oom)
{
    *oom = 0;
    const struct sf_site *s = x->in->site;
    char rel[SF_PATH_MAX + 1];
    for (size_t i = 0; i < s->nindex; i++) {
        int n =
            snprintf(rel, sizeof(rel), "%s%s%s", x->path.rel, x->path.len ? "/" : "", s->index[i]);
        if (n < 0 || (size_t)n >= sizeof(rel))
            continue;
        int err, dfd;
        struct sf_file *f = get(x, rel, &err, &dfd);
        if (dfd >= 0)
            close(dfd);
        if (sf_out_of_fds(err)) {
            *oom = err; /* no other index may stand in for this one */
            return NULL;
        }
        if (f) {
            memcpy(x->path.rel, rel, (size_t)n + 1);
            x->path.len = (size_t)n;
            x->path.trailing_slash = false;
            return f;
        }
    }
    return NULL;
}

/* The site's precompressed codings (parsed once, at load) as a mask. */
static unsigned
enabled_codings(const struct sf_site *site)
{
    unsigned mask = 0;
    for (size_t i = 0; i < site->nprecompressed; i++)
        mask |= 1u << site->precompressed[i];
    return mask;
}

/* The variant of x->path for c, or NULL (*err why, 0 if too long). */
static struct sf_file *
get_variant(struct ctx *x, enum sf_coding c, int *err)
{
    char rel[SF_PATH_MAX + 1];
    int n = snprintf(rel, sizeof(rel), "%s%s", x->path.rel, sf_coding_suffix(c));
    *err = 0;
    if (n < 0 || (size_t)n >= sizeof(rel))
        return NULL;
    int dfd;
    struct sf_file *v = get(x, rel, err, &dfd);
    if (dfd >= 0)
        close(dfd);
    return v;
}

/* The precompressed variants of f that exist and are not older than it,
 * found once per cached file. */
static unsigned
variants_of(struct ctx *x, struct sf_file *f)
{
    if (f->variants_known)
        return f->variants;
    unsigned mask = 0;
    unsigned enabled = enabled_codings(x->in->site);
    bool unsure = false; /* out of descriptors: ask again next time */
    for (int c = 0; c < SF_CODING_COUNT; c++) {
        if (!(enabled & (1u << c)))
            continue;
        int err;
        struct sf_file *v = get_variant(x, (enum sf_coding)c, &err);
        unsure = unsure || sf_out_of_fds(err);
        if (v && sf_fversion_not_older(&v->st, &f->st))
            mask |= 1u << c;
        if (v)
            sf_fcache_put(x->in->fc, v);
    }
    if (!unsure)
        sf_fcache_set_variants(f, mask);
    return mask;
}

/* The smallest variant the client accepts, or NULL (with *coding -1). */
static struct sf_file *
pick_variant(struct ctx *x, unsigned exists, int *coding)
{
    *coding = -1;
    struct sf_hval ae = hval(x, SF_HDR_ACCEPT_ENCODING);
    unsigned ok = exists & sf_coding_accepted(ae.p, ae.len);
    struct sf_file *best = NULL;
    for (int c = 0; c < SF_CODING_COUNT; c++) {
        if (!(ok & (1u << c)))
            continue;
        int err;
        struct sf_file *v = get_variant(x, (enum sf_coding)c, &err);
        if (!v)
            continue;
        if (!best || v->st.st_size < best->st.st_size) {
            if (best)
                sf_fcache_put(x->in->fc, best);
            best = v;
            *coding = c;
        } else {
            sf_fcache_put(x->in->fc, v);
        }
    }
    return best;
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

/* Queue the bytes [off, off + len) of f: from its snapshot or by sendfile. */
static void
add_body(struct sf_response *o, const struct sf_file *f, uint64_t off, uint64_t len)
{
    if (f->mem)
        sf_response_add_ext(o, f->mem + off, (size_t)len);
    else
        sf_response_add_file(o, f->fd, off, len);
}

static void
send_ranges(struct ctx *x, const struct sf_file *f, uint64_t size, const char *ctype,
            const struct sf_range *rg, size_t n)
{
    struct sf_response *o = x->out;
    if (n == 1) {
        sf_response_puts(o, "Content-Type", ctype);
        sf_response_put_range(o, rg[0].first, rg[0].last, size);
        uint64_t len = rg[0].last - rg[0].first + 1;
        sf_response_put_u64(o, "Content-Length", len);
        sf_response_end_head(o, x->in->keep_alive, x->http10);
        o->st.content_length = len;
        if (x->head)
            o->st.no_body = true;
        else
            add_body(o, f, rg[0].first, len);
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
        sf_buf_printf(&o->mem,
                      "%s--%s\r\nContent-Type: %s\r\nContent-Range: bytes %llu-%llu/%llu\r\n\r\n",
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
    sf_response_put_u64(o, "Content-Length", total);
    sf_response_end_head(o, x->in->keep_alive, x->http10);
    o->st.content_length = total;
    if (x->head) {
        o->st.no_body = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        sf_response_add_mem(o, offs[i], lens[i]);
        add_body(o, f, rg[i].first, rg[i].last - rg[i].first + 1);
    }
    sf_response_add_mem(o, offs[n], lens[n]);
}

/* A regular file: f is a reference the response takes over. */
static void
file(struct ctx *x, struct sf_file *f)
{
    struct sf_response *o = x->out;
    const struct sf_static_in *in = x->in;
    if (!f->ctype) {
        const char *t = sf_mime_by_ext(in->mime, x->path.rel, x->path.len);
        sf_fcache_set_type(f, t ? t : sf_mime_sniff_file(in->mime, f->fd, &f->st));
    }
    const char *ctype = f->ctype;

    unsigned exists = in->site->nprecompressed ? variants_of(x, f) : 0;
    int coding = -1;
    struct sf_file *v = exists ? pick_variant(x, exists, &coding) : NULL;
    if (v) {
        sf_fcache_put(in->fc, f);
        f = v; /* the representation actually sent */
    }
    sf_response_hold(o, in->fc, f);

    char etag[64], alt[64];
    size_t elen = sf_coding_etag(etag, sizeof(etag), f->etag, f->etag_len, coding);
    size_t alen = sf_coding_etag(alt, sizeof(alt), f->etag_alt, f->etag_alt_len, coding);
    struct sf_validators val = {etag, elen, f->st.st_mtim.tv_sec, alt, alen};

    struct sf_cond_headers ch = {
        .if_match = hval(x, SF_HDR_IF_MATCH),
        .if_none_match = hval(x, SF_HDR_IF_NONE_MATCH),
        .if_modified_since = hval(x, SF_HDR_IF_MODIFIED_SINCE),
        .if_unmodified_since = hval(x, SF_HDR_IF_UNMODIFIED_SINCE),
        .if_range = hval(x, SF_HDR_IF_RANGE),
    };
    int cs = sf_cond_eval(&ch, &val, true);
    if (cs == 412) {
        error(x, 412, NULL);
        return;
    }
    bool use_alt = sf_cond_use_alt(&ch, &val);

    uint64_t size = (uint64_t)f->st.st_size;
    struct sf_range rg[SF_RANGES_MAX];
    size_t nr = 0;
    enum sf_range_result rr = SF_RANGE_IGNORE;
    struct sf_hval range = hval(x, SF_HDR_RANGE);
    if (cs == 0 && range.p && sf_cond_if_range(ch.if_range, &val)) {
        unsigned maxr = in->cfg->max_ranges < SF_RANGES_MAX ? in->cfg->max_ranges : SF_RANGES_MAX;
        rr = sf_range_parse(range.p, range.len, size, maxr, rg, SF_ARRAY_LEN(rg), &nr);
    }

    int status = cs == 304                      ? 304
                 : rr == SF_RANGE_OK            ? 206
                 : rr == SF_RANGE_UNSATISFIABLE ? 416
                                                : 200;
    if (status == 416) {
        /* the 416 tells the client the current length */
        char cr[48];
        snprintf(cr, sizeof(cr), "Content-Range: bytes */%llu", (unsigned long long)size);
        error(x, 416, cr); /* lets go of f */
        return;
    }

    sf_response_begin(o, status, in->date);
    sf_response_put(o, "Last-Modified", f->lastmod, SF_HTTPDATE_LEN);
    sf_response_put(o, "ETag", use_alt ? alt : etag, use_alt ? alen : elen);
    sf_sitehdr_cache(x->out, x->in->site, &x->path, x->in->now);
    if (exists)
        sf_response_puts(o, "Vary", "Accept-Encoding");
    if (status == 304) {
        sf_response_end_head(o, in->keep_alive, x->http10);
        o->st.no_body = true;
        return;
    }
    sf_response_puts(o, "Accept-Ranges", "bytes");
    if (coding >= 0)
        sf_response_puts(o, "Content-Encoding", sf_coding_name((enum sf_coding)coding));
    if (status == 206) {
        send_ranges(x, f, size, ctype, rg, nr);
        return;
    }
    sf_response_puts(o, "Content-Type", ctype);
    sf_response_put_u64(o, "Content-Length", size);
    sf_response_end_head(o, in->keep_alive, x->http10);
    o->st.content_length = size;
    if (x->head)
        o->st.no_body = true;
    else
        add_body(o, f, 0, size);
}

static void
route(const struct sf_static_in *in, struct sf_response *out)
{
    const struct sf_request *r = &in->p->r;
    assert(r->status == 0);
    /* field by field: an initialiser would zero-fill x.path (8 KiB) on
     * every request; sf_resolve_path fills it */
    struct ctx x;
    x.in = in;
    x.out = out;
    x.head = false;
    x.http10 = r->minor == 0;
    x.path.rel[0] = '\0';
    x.path.len = 0;
    x.path.trailing_slash = false;
    x.path.query_off = 0;
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
    int rc;
    if (tlen == 0 || target[0] == '?') {
        /* an absolute-form target with an empty path names "/" (RFC 9112
         * §3.2.2); its query, if any, starts the raw path */
        rc = sf_resolve_path("/", 1, &x.path);
        x.path.query_off = 0;
    } else {
        rc = sf_resolve_path(target, tlen, &x.path);
    }
    if (rc) {
        error(&x, rc, NULL);
        return;
    }
    if (!in->site->dotfiles && sf_resolve_is_hidden(x.path.rel)) {
        error(&x, 404, NULL);
        return;
    }
    struct sf_file *f = NULL;
    int err, dirfd;
    if (x.path.trailing_slash || x.path.len == 0) {
        f = index_file(&x, &err);
        if (f || err) {
            f ? file(&x, f) : open_error(&x, err);
            return;
        }
    }
    f = get(&x, x.path.rel, &err, &dirfd);
    if (f) {
        if (x.path.trailing_slash) {
            /* "/a.txt/" names a folder that does not exist (as nginx says);
             * serving the file there would break its relative links */
            sf_fcache_put(in->fc, f);
            error(&x, 404, NULL);
            return;
        }
        file(&x, f);
        return;
    }
    if (err != -EISDIR) {
        open_error(&x, err);
        return;
    }
    if (!x.path.trailing_slash && x.path.len > 0)
        redirect_slash(&x);
    else if (in->site->listing)
        listing(&x, dirfd);
    else
        error(&x, 403, NULL);
    close(dirfd);
}

void
sf_static_handle(const struct sf_static_in *in, struct sf_response *out)
{
    route(in, out);
    sf_sitehdr_add(in->site, out);
}
