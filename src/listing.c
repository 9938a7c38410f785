/*
 * listing.c - directory listings as an HTML5 page or a JSON array.
 *
 * The directory is read through its own open file description (openat of
 * "." relative to the caller's fd), so the caller's fd and its offset are
 * left alone. Entries are collected into one array, their names into one
 * arena, sorted (directories first, then files, each by strcmp), and then
 * written out in a single pass. Everything a client controls - file names
 * and the request path - is escaped for its context: HTML text, href
 * (percent-encoded, "./"-prefixed so "a:b" is not read as a scheme) or
 * JSON string.
 *
 * Names are bytes, but the page and the JSON must be valid UTF-8, so in
 * text each ill-formed UTF-8 subsequence becomes one U+FFFD (the WHATWG
 * "maximal subpart" rule). The same holds for JSON: a name that is not
 * valid UTF-8 cannot be represented exactly in JSON, and writing each bad
 * byte as \u00XX would silently turn it into a *different* valid name
 * (0xFF would read back as U+00FF, "ÿ"), so U+FFFD is used there too and
 * such a name is visibly lossy. Hrefs are escaped byte-wise and therefore
 * always point at the real file.
 */
#include "sfhttpd/listing.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct entry {
    const char *name; /* into the name arena, NUL-terminated */
    size_t off;       /* offset of name in the arena while it still grows */
    size_t len;
    bool dir;
    long long size;
    time_t mtime;
};

struct entries {
    struct entry *v;
    size_t n;
    size_t cap;
    struct sf_buf names;
};

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/*
 * Length of the well-formed UTF-8 sequence at s (at most n bytes), or, if
 * it is ill-formed, minus the length of its maximal subpart (at least 1).
 * Follows Unicode Table 3-7: no overlongs, surrogates or > U+10FFFF.
 */
static int
utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    int need;
    unsigned char lo = 0x80, hi = 0xBF;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return -1;
    }
    for (int i = 1; i <= need; i++) {
        if ((size_t)i >= n || s[i] < lo || s[i] > hi)
            return -i;
        lo = 0x80;
        hi = 0xBF;
    }
    return need + 1;
}

/*
 * HTML text: valid UTF-8, markup characters escaped, C0 controls and DEL
 * (parse errors in HTML text) shown as U+FFFD as well.
 */
static int
put_html_text(struct sf_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        size_t run = i;
        /* Escape the longest clean run in one call. */
        while (run < n) {
            int k = utf8_seq(u + run, n - run);
            if (k < 0 || (k == 1 && (u[run] < 0x20 || u[run] == 0x7F)))
                break;
            run += (size_t)k;
        }
        int rc = sf_buf_html_escape(b, s + i, run - i);
        if (rc)
            return rc;
        if (run == n)
            break;
        int k = utf8_seq(u + run, n - run);
        rc = sf_buf_append(b, replacement, 3);
        if (rc)
            return rc;
        i = run + (size_t)(k < 0 ? -k : k);
    }
    return 0;
}

/* A JSON string literal, quotes included. */
static int
put_json_string(struct sf_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    int rc = sf_buf_append(b, "\"", 1);

    for (size_t i = 0; i < n && !rc;) {
        int k = utf8_seq(u + i, n - i);
        if (k < 0) {
            rc = sf_buf_append(b, replacement, 3);
            i += (size_t)-k;
            continue;
        }
        unsigned char c = u[i];
        if (c == '"' || c == '\\') {
            char esc[2] = { '\\', (char)c };
            rc = sf_buf_append(b, esc, 2);
        } else if (c < 0x20) {
            char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            rc = sf_buf_append(b, esc, 6);
        } else {
            rc = sf_buf_append(b, s + i, (size_t)k);
        }
        i += (size_t)k;
    }
    return rc ? rc : sf_buf_append(b, "\"", 1);
}

/* Names the server would refuse to serve (control characters and
 * backslashes get 400 from the resolver) are not listed: a link must
 * lead somewhere. */
static bool
servable(const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '\\')
            return false;
    return true;
}

static int
cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;

    if (x->dir != y->dir)
        return x->dir ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int
add_entry(struct entries *es, const char *name, const struct stat *st)
{
    if (es->n == es->cap) {
        size_t cap = es->cap ? es->cap * 2 : 64;
        struct entry *v = realloc(es->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        es->v = v;
        es->cap = cap;
    }
    struct entry *e = &es->v[es->n];
    e->off = es->names.len;
    e->len = strlen(name);
    int rc = sf_buf_append(&es->names, name, e->len + 1);
    if (rc)
        return rc;
    e->name = NULL;
    e->dir = S_ISDIR(st->st_mode);
    e->size = (long long)st->st_size;
    e->mtime = st->st_mtime;
    es->n++;
    return 0;
}

/* Read, filter and sort the entries of the directory open as dirfd. */
static int
collect(int dirfd, const struct sf_listing_opts *o, struct entries *es)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int rc = -errno;
        close(fd);
        return rc;
    }

    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            rc = -errno;
            break;
        }
        const char *name = de->d_name;
        if (name[0] == '.' &&
            (!o->show_hidden || name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
            continue;
        if (!servable(name))
            continue;
        struct stat st;
        if (fstatat(dirfd, name, &st, 0) < 0)
            continue;
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
            continue;
        rc = add_entry(es, name, &st);
        if (rc)
            break;
    }
    closedir(d);
    if (rc)
        return rc;

    /* The arena has stopped moving: turn offsets into pointers. */
    for (size_t i = 0; i < es->n; i++)
        es->v[i].name = es->names.data + es->v[i].off;
    if (es->n > 1)
        qsort(es->v, es->n, sizeof(*es->v), cmp_entry);
    return 0;
}

/* "23 B", "1.5 KiB", "4.0 GiB" */
static int
put_human_size(struct sf_buf *b, long long size)
{
    static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };

    if (size < 1024)
        return sf_buf_printf(b, "%lld B", size < 0 ? 0 : size);
    double v = (double)size / 1024;
    size_t u = 0;
    /* Move up before "%.1f" would round to 1024.0. */
    while (v >= 1023.95 && u + 1 < SF_ARRAY_LEN(units)) {
        v /= 1024;
        u++;
    }
    return sf_buf_printf(b, "%.1f %s", v, units[u]);
}

/* gmtime_r, refusing years that do not fit four digits. */
static bool
utc(time_t t, struct tm *tm)
{
    return gmtime_r(&t, tm) && tm->tm_year >= -1900 && tm->tm_year <= 9999 - 1900;
}

static const char html_head[] =
    "<!doctype html>\n"
    "<html>\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>Index of ";

static const char html_style[] =
    "</title>\n"
    "<style>\n"
    "body{font-family:system-ui,sans-serif;margin:1em 2em}\n"
    "table{border-collapse:collapse}\n"
    "th,td{padding:.15em 1.2em .15em 0;text-align:left}\n"
    "th{border-bottom:1px solid #999}\n"
    ".s{text-align:right}\n"
    ".s,.m{font-family:monospace;font-size:.95em;white-space:nowrap}\n"
    "</style>\n"
    "</head>\n"
    "<body>\n"
    "<h1>Index of ";

static const char html_table[] =
    "</h1>\n"
    "<table>\n"
    "<thead><tr><th>Name</th><th class=\"s\">Size</th><th class=\"m\">Modified</th></tr>"
    "</thead>\n"
    "<tbody>\n";

static const char html_parent[] =
    "<tr><td><a href=\"../\">../</a></td><td class=\"s\">-</td><td class=\"m\"></td></tr>\n";

static const char html_tail[] = "</tbody>\n</table>\n</body>\n</html>\n";

static int
put_html_row(struct sf_buf *b, const struct entry *e)
{
    int rc = sf_buf_puts(b, "<tr><td><a href=\"./");
    if (!rc)
        rc = sf_buf_url_escape(b, e->name, e->len);
    if (!rc)
        rc = sf_buf_puts(b, e->dir ? "/\">" : "\">");
    if (!rc)
        rc = put_html_text(b, e->name, e->len);
    if (!rc)
        rc = sf_buf_puts(b, e->dir ? "/</a></td><td class=\"s\">-</td>" : "</a></td>");
    if (!rc && !e->dir) {
        rc = sf_buf_printf(b, "<td class=\"s\" title=\"%lld\">", e->size);
        if (!rc)
            rc = put_human_size(b, e->size);
        if (!rc)
            rc = sf_buf_puts(b, "</td>");
    }
    if (rc)
        return rc;

    struct tm tm;
    if (!utc(e->mtime, &tm))
        return sf_buf_puts(b, "<td class=\"m\">-</td></tr>\n");
    return sf_buf_printf(b, "<td class=\"m\">%04d-%02d-%02d %02d:%02d</td></tr>\n",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                         tm.tm_min);
}

static int
put_html(struct sf_buf *b, const char *url_path, const struct entries *es)
{
    size_t plen = strlen(url_path);
    int rc = sf_buf_puts(b, html_head);
    if (!rc)
        rc = put_html_text(b, url_path, plen);
    if (!rc)
        rc = sf_buf_puts(b, html_style);
    if (!rc)
        rc = put_html_text(b, url_path, plen);
    if (!rc)
        rc = sf_buf_puts(b, html_table);
    if (!rc && strcmp(url_path, "/") != 0)
        rc = sf_buf_puts(b, html_parent);
    for (size_t i = 0; i < es->n && !rc; i++)
        rc = put_html_row(b, &es->v[i]);
    return rc ? rc : sf_buf_puts(b, html_tail);
}

/*
 * Directories carry no "size" (their st_size says nothing useful), as in
 * nginx's JSON autoindex; mtime is null if the year does not fit RFC 3339.
 */
static int
put_json(struct sf_buf *b, const struct entries *es)
{
    int rc = sf_buf_append(b, "[", 1);

    for (size_t i = 0; i < es->n && !rc; i++) {
        const struct entry *e = &es->v[i];
        struct tm tm;

        rc = sf_buf_puts(b, i ? ",\n{\"name\":" : "\n{\"name\":");
        if (!rc)
            rc = put_json_string(b, e->name, e->len);
        if (!rc && e->dir)
            rc = sf_buf_puts(b, ",\"type\":\"dir\"");
        else if (!rc)
            rc = sf_buf_printf(b, ",\"type\":\"file\",\"size\":%lld", e->size);
        if (!rc && utc(e->mtime, &tm))
            rc = sf_buf_printf(b, ",\"mtime\":\"%04d-%02d-%02dT%02d:%02d:%02dZ\"}",
                               tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                               tm.tm_min, tm.tm_sec);
        else if (!rc)
            rc = sf_buf_puts(b, ",\"mtime\":null}");
    }
    return rc ? rc : sf_buf_puts(b, es->n ? "\n]\n" : "]\n");
}

int
sf_listing_build(int dirfd, const char *url_path, enum sf_listing_format fmt,
                 const struct sf_listing_opts *o, struct sf_buf *out)
{
    static const struct sf_listing_opts defaults = { 0 };
    struct entries es = { 0 };
    int rc;

    assert(url_path && out);
    if (!o)
        o = &defaults;

    rc = collect(dirfd, o, &es);
    if (rc)
        goto out;
    if (fmt == SF_LISTING_JSON)
        rc = put_json(out, &es);
    else
        rc = put_html(out, url_path, &es);
out:
    free(es.v);
    sf_buf_free(&es.names);
    return rc;
}
