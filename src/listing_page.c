/*
 * listing_page.c - writing a directory listing: the HTML page and the
 * JSON array (see listing.h for what each holds).
 *
 * The page needs no script and loads nothing: its style is inline, its
 * two icons are data: URIs in the style, and it carries its own empty
 * favicon so a browser asks for nothing else. Every link is relative, so
 * a listing works behind a path prefix: entries as "./name", breadcrumbs
 * as "../"; the sort headings are forms (see put_heading), not links.
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
#include "listing_int.h"
#include "sfhttpd/escape.h"

#include <assert.h>
#include <string.h>
#include <time.h>

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

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
            int k = sf_utf8_seq(u + run, n - run);
            if (k < 0 || (k == 1 && (u[run] < 0x20 || u[run] == 0x7F)))
                break;
            run += (size_t)k;
        }
        int rc = sf_buf_html_escape(b, s + i, run - i);
        if (rc)
            return rc;
        if (run == n)
            break;
        int k = sf_utf8_seq(u + run, n - run);
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
    const unsigned char *u = (const unsigned char *)s;
    int rc = sf_buf_append(b, "\"", 1);

    for (size_t i = 0; i < n && !rc;) {
        int k = sf_utf8_seq(u + i, n - i);
        if (k < 0) {
            rc = sf_buf_append(b, replacement, 3);
            i += (size_t)-k;
            continue;
        }
        char esc[6];
        if (u[i] < 0x80)
            rc = sf_buf_append(b, esc, sf_json_escape_ascii(u[i], esc));
        else
            rc = sf_buf_append(b, s + i, (size_t)k);
        i += (size_t)k;
    }
    return rc ? rc : sf_buf_append(b, "\"", 1);
}

/* "23 B", "1.5 KiB", "4.0 GiB" */
static int
put_human_size(struct sf_buf *b, long long size)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

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

/* ---------------------------------------------------------------- HTML */

/* Folder and file icons: 16x16 SVG, drawn for this page. */
#define ICON_DIR                                                                                   \
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E"          \
    "%3Cpath fill='%2354aeff' d='M1.5 2.5h4.2l1.6 1.6h7.2v9.4h-13z'/%3E%3C/svg%3E"
#define ICON_FILE                                                                                  \
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E"          \
    "%3Cpath fill='none' stroke='%23848d97' d='M3.5 1.5h6l3 3v10h-9z M9.5 1.5v3h3'/%3E"            \
    "%3C/svg%3E"

static const char html_head[] =
    "<!doctype html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta name=\"color-scheme\" content=\"light dark\">\n"
    "<link rel=\"icon\" href=\"data:,\">\n"
    "<title>Index of ";

static const char html_style[] =
    "</title>\n"
    "<style>\n"
    ":root{--bg:#fff;--fg:#1f2328;--mu:#59636e;--ln:#d1d9e0;--hd:#f6f8fa;--hv:#f6f8fa;"
    "--a:#0969da}\n"
    "@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--mu:#9198a1;"
    "--ln:#3d444d;--hd:#151b23;--hv:#151b23;--a:#4493f8}}\n"
    "html{background:var(--bg);color:var(--fg)}\n"
    "body{max-width:64rem;margin:0 auto;padding:2rem 1.25rem 3rem;"
    "font:15px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,\"DejaVu Sans\",sans-serif}\n"
    "a{color:var(--a);text-decoration:none}\n"
    "a:hover,a:focus-visible{text-decoration:underline}\n"
    "h1{font-size:1.375rem;font-weight:600;margin:0 0 .25rem;overflow-wrap:anywhere}\n"
    "h1 span{color:var(--mu);font-weight:400}\n"
    "p{margin:0 0 1rem;color:var(--mu);font-size:.875rem}\n"
    "table{width:100%;border:1px solid var(--ln);border-radius:6px;border-spacing:0;"
    "overflow:clip}\n"
    "th,td{padding:.45rem .75rem;text-align:left;vertical-align:baseline}\n"
    "th{background:var(--hd);font-size:.8125rem;font-weight:600;white-space:nowrap;"
    "border-bottom:1px solid var(--ln)}\n"
    "form{margin:0}\n"
    "th button{font:inherit;color:var(--fg);background:none;border:0;padding:0;cursor:pointer}\n"
    "th button:hover,th button:focus-visible{text-decoration:underline}\n"
    "td{border-top:1px solid var(--ln)}\n"
    "tr:nth-child(1)>td{border-top:0}\n"
    "tbody tr:hover{background:var(--hv)}\n"
    /* rows carry no classes (bytes add up in a folder of 10,000): the
     * columns are name, size, time */
    "th.n,td:first-child{width:100%;overflow-wrap:anywhere}\n"
    "td:first-child a{display:block;padding-left:1.6em;"
    "background:url(\"" ICON_FILE "\") no-repeat 0 .25em/1em}\n"
    ".d td:first-child a{background-image:url(\"" ICON_DIR "\");font-weight:600}\n"
    "th.s,td+td{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums;"
    "color:var(--mu)}\n"
    "th.m,td+td+td{text-align:left}\n"
    ".note{margin:1rem 0 0;padding:.5rem .75rem;border:1px solid #d4a72c;border-radius:6px;"
    "color:var(--fg)}\n"
    "footer{margin-top:1rem;color:var(--mu);font-size:.8125rem}\n"
    "@media (max-width:40rem){body{padding:1rem .75rem 2rem;font-size:14px}"
    "th,td{padding:.5rem .4rem}td span{display:none}}\n"
    "</style>\n"
    "</head>\n"
    "<body>\n";

static const char html_table_head[] = "<table>\n<thead><tr>";

static const char html_parent[] =
    "<tr class=\"d\"><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n";

static const char html_tail[] = "<footer>Times are in UTC.</footer>\n</body>\n</html>\n";

/*
 * One heading: a button of a tiny GET form, so that a click asks for
 * "?sort=KEY&order=DIR" with no script, while crawlers and mirroring
 * tools, which follow links but submit no forms (wget -r ignores
 * rel="nofollow"), never fetch the page again in each order.
 */
static int
put_heading(struct sf_buf *b, const struct sf_listing_view *v, enum sf_listing_sort col,
            const char *cls, const char *label)
{
    static const char *const keys[] = {"name", "size", "mtime"};
    bool cur = v->sort == col;
    /* a new column starts with what people look for: names from A, the
     * largest and the newest first; the current one turns around */
    bool desc = cur ? !v->desc : col != SF_LISTING_BY_NAME;
    return sf_buf_printf(b,
                         "<th class=\"%s\"%s><form><input type=\"hidden\" name=\"sort\" "
                         "value=\"%s\"><button name=\"order\" value=\"%s\">%s%s</button>"
                         "</form></th>",
                         cls,
                         !cur      ? ""
                         : v->desc ? " aria-sort=\"descending\""
                                   : " aria-sort=\"ascending\"",
                         keys[col], desc ? "desc" : "asc", label,
                         !cur      ? ""
                         : v->desc ? " \xE2\x86\x93"
                                   : " \xE2\x86\x91");
}

/* "Index of /a/b/" with each part a link to that folder. */
static int
put_crumbs(struct sf_buf *b, const char *url_path)
{
    size_t depth = 0;
    for (const char *p = url_path + 1; *p; p++)
        depth += *p == '/';
    int rc = sf_buf_puts(b, "<h1><span>Index of</span> ");
    const char *seg = url_path + 1;
    for (size_t i = 0; i <= depth && !rc; i++) {
        assert(i == 0 || strchr(seg, '/'));
        const char *end = i == 0 ? url_path + 1 : strchr(seg, '/') + 1;
        const char *text = i == 0 ? url_path : seg;
        size_t up = depth - i;
        if (up == 0) {
            rc = put_html_text(b, text, (size_t)(end - text));
            break;
        }
        rc = sf_buf_puts(b, "<a href=\"");
        for (size_t k = 0; k < up && !rc; k++)
            rc = sf_buf_puts(b, "../");
        if (!rc)
            rc = sf_buf_puts(b, "\">");
        if (!rc)
            rc = put_html_text(b, text, (size_t)(end - text));
        if (!rc)
            rc = sf_buf_puts(b, "</a>");
        if (i > 0)
            seg = end;
    }
    return rc ? rc : sf_buf_puts(b, "</h1>\n");
}

static int
put_summary(struct sf_buf *b, const struct sf_listing *l)
{
    int rc =
        sf_buf_printf(b, "<p>%zu folder%s, %zu file%s, <span title=\"%lld bytes\">", l->ndirs,
                      l->ndirs == 1 ? "" : "s", l->nfiles, l->nfiles == 1 ? "" : "s", l->total);
    if (!rc)
        rc = put_human_size(b, l->total);
    if (!rc)
        rc = sf_buf_puts(b, "</span> in all");
    if (!rc && l->truncated)
        rc = sf_buf_puts(b, " (truncated)");
    return rc ? rc : sf_buf_puts(b, "</p>\n");
}

static int
put_time(struct sf_buf *b, const struct timespec *ts)
{
    struct tm tm;
    if (!utc(ts->tv_sec, &tm))
        return sf_buf_puts(b, "<td>-</td></tr>\n");
    return sf_buf_printf(b, "<td>%04d-%02d-%02d<span> %02d:%02d</span></td></tr>\n",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
}

static int
put_html_row(struct sf_buf *b, const struct entry *e)
{
    int rc = sf_buf_puts(b, e->dir ? "<tr class=\"d\"><td><a href=\"./" : "<tr><td><a href=\"./");
    if (!rc)
        rc = sf_buf_url_escape(b, e->name, e->len);
    if (!rc)
        rc = sf_buf_puts(b, e->dir ? "/\">" : "\">");
    if (!rc)
        rc = put_html_text(b, e->name, e->len);
    if (!rc)
        rc = sf_buf_puts(b, e->dir ? "/</a></td><td>&mdash;</td>" : "</a></td>");
    if (!rc && !e->dir) {
        rc = sf_buf_printf(b, "<td title=\"%lld bytes\">", e->size);
        if (!rc)
            rc = put_human_size(b, e->size);
        if (!rc)
            rc = sf_buf_puts(b, "</td>");
    }
    return rc ? rc : put_time(b, &e->mtime);
}

int
listing_html(struct sf_buf *b, const char *url_path, const struct sf_listing *l,
             const struct sf_listing_view *v)
{
    size_t plen = strlen(url_path);
    int rc = sf_buf_puts(b, html_head);
    if (!rc)
        rc = put_html_text(b, url_path, plen);
    if (!rc)
        rc = sf_buf_puts(b, html_style);
    if (!rc)
        rc = put_crumbs(b, url_path);
    if (!rc)
        rc = put_summary(b, l);
    if (!rc)
        rc = sf_buf_puts(b, html_table_head);
    if (!rc)
        rc = put_heading(b, v, SF_LISTING_BY_NAME, "n", "Name");
    if (!rc)
        rc = put_heading(b, v, SF_LISTING_BY_SIZE, "s", "Size");
    if (!rc)
        rc = put_heading(b, v, SF_LISTING_BY_MTIME, "m", "Modified (UTC)");
    if (!rc)
        rc = sf_buf_puts(b, "</tr></thead>\n<tbody>\n");
    if (!rc && strcmp(url_path, "/") != 0)
        rc = sf_buf_puts(b, html_parent);
    for (size_t i = 0; i < l->n && !rc; i++)
        rc = put_html_row(b, &l->v[i]);
    if (!rc)
        rc = sf_buf_puts(b, "</tbody>\n</table>\n");
    if (!rc && l->truncated)
        rc = sf_buf_printf(b,
                           "<p class=\"note\">Truncated: this folder holds more than %zu "
                           "names, and only the first %zu read are listed.</p>\n",
                           l->limit, l->limit);
    return rc ? rc : sf_buf_puts(b, html_tail);
}

/* ---------------------------------------------------------------- JSON */

/*
 * Directories carry no "size" (their st_size says nothing useful), as in
 * nginx's JSON autoindex; mtime is null if the year does not fit RFC 3339.
 */
int
listing_json(struct sf_buf *b, const struct sf_listing *l)
{
    int rc = sf_buf_append(b, "[", 1);

    for (size_t i = 0; i < l->n && !rc; i++) {
        const struct entry *e = &l->v[i];
        struct tm tm;

        rc = sf_buf_puts(b, i ? ",\n{\"name\":" : "\n{\"name\":");
        if (!rc)
            rc = put_json_string(b, e->name, e->len);
        if (!rc && e->dir)
            rc = sf_buf_puts(b, ",\"type\":\"dir\"");
        else if (!rc)
            rc = sf_buf_printf(b, ",\"type\":\"file\",\"size\":%lld", e->size);
        if (!rc && utc(e->mtime.tv_sec, &tm))
            rc = sf_buf_printf(b, ",\"mtime\":\"%04d-%02d-%02dT%02d:%02d:%02dZ\"}",
                               tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                               tm.tm_sec);
        else if (!rc)
            rc = sf_buf_puts(b, ",\"mtime\":null}");
    }
    if (!rc && l->truncated)
        rc = sf_buf_puts(b, l->n ? ",\n{\"truncated\":true}" : "\n{\"truncated\":true}");
    return rc ? rc : sf_buf_puts(b, l->n || l->truncated ? "\n]\n" : "]\n");
}
