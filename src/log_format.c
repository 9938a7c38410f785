/*
 * log_format.c - the access-log line formats (combined, vhost_combined,
 * json): pure functions of a struct sf_access, every client-controlled
 * field escaped and cut to its budget so that a line always fits
 * (sf_log_format_access, sf_log_vhost_name in log.h). log.c writes the
 * lines; nothing here touches a file.
 */
#include "sfhttpd/log.h"
#include "sfhttpd/common.h"
#include "sfhttpd/escape.h"

#include <assert.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ---- formatting access lines -------------------------------------------- */

/*
 * Room for each client-controlled field, escapes included. With the fixed
 * parts (under 400 bytes) they add up to less than SF_LOG_LINE_MAX, so a
 * line always fits and no field can crowd out the ones after it.
 */
#define MAX_CLIENT 64
#define MAX_METHOD 40
#define MAX_TARGET 1800
#define MAX_PROTOCOL 24
#define MAX_HOST 272
#define MAX_REFERER 600
#define MAX_AGENT 600
#define FIXED_MAX 480

/* A line being written; bounds come from the budgets above. */
struct line {
    char *p;
    size_t n;
};

static void
put(struct line *w, const char *s, size_t n)
{
    memcpy(w->p + w->n, s, n);
    w->n += n;
}

static void
puts_(struct line *w, const char *s)
{
    put(w, s, strlen(s));
}

/* v in decimal, zero-padded to at least width digits (printf's %0*u) */
static void
put_num(struct line *w, uint64_t v, unsigned width)
{
    char d[20];
    size_t k = sf_fmt_u64(d, v);
    for (; k < width; width--)
        w->p[w->n++] = '0';
    put(w, d, k);
}

/* v (below 100) in two digits */
static void
put2(struct line *w, unsigned v)
{
    w->p[w->n++] = (char)('0' + v / 10 % 10);
    w->p[w->n++] = (char)('0' + v % 10);
}

/* tm's time of day as hh:mm:ss, the same in both formats */
static void
put_hms(struct line *w, const struct tm *tm)
{
    put2(w, (unsigned)tm->tm_hour);
    put(w, ":", 1);
    put2(w, (unsigned)tm->tm_min);
    put(w, ":", 1);
    put2(w, (unsigned)tm->tm_sec);
}

/* a status as printf's %d would (it is never negative, but say so if it is) */
static void
put_status(struct line *w, int status)
{
    if (status < 0) {
        put(w, "-", 1);
        put_num(w, (uint64_t)(-(int64_t)status), 1);
        return;
    }
    put_num(w, (unsigned)status, 1);
}

static const char hex[] = "0123456789abcdef";

/* bytes both formats carry as they are */
static bool
plain(unsigned char ch)
{
    return ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\';
}

/* Copy the run of plain bytes at s[i, n) as far as end allows, a word at
 * a time while the word holds no CTL, DEL, non-ASCII, " or \\; returns
 * where the run stopped. */
static size_t
put_plain(struct line *w, const char *s, size_t i, size_t n, size_t end)
{
    size_t room = end - w->n, lim = n - i < room ? n : i + room, j = i;
    while (lim - j >= 8) {
        uint64_t x = sf_word_load(s + j);
        if (sf_word_below(x, 0x20) | (x & SF_WORD_HIGHS) | sf_word_has(x, 0x7f) |
            sf_word_has(x, '"') | sf_word_has(x, '\\'))
            break;
        j += 8;
    }
    while (j < lim && plain((unsigned char)s[j]))
        j++;
    put(w, s + i, j - i);
    return j;
}

/* A quoted combined-log field: ", \ and bytes outside printable ASCII as
 * \xHH, NULL as -, at most max bytes (an escape that does not fit ends
 * it). Runs of plain bytes go in with one copy each. */
static void
combined_field(struct line *w, const char *s, size_t n, size_t max)
{
    if (!s) {
        put(w, "-", 1);
        return;
    }
    size_t end = w->n + max;
    for (size_t i = 0; i < n;) {
        i = put_plain(w, s, i, n, end);
        if (i == n)
            return;
        unsigned char ch = (unsigned char)s[i];
        if (plain(ch) || w->n + 4 > end)
            return; /* out of room */
        char e[4] = {'\\', 'x', hex[ch >> 4], hex[ch & 15]};
        put(w, e, 4);
        i++;
    }
}

/* A JSON string (or null) of at most max bytes, quotes included. */
static void
json_string(struct line *w, const char *s, size_t n, size_t max)
{
    if (!s) {
        puts_(w, "null");
        return;
    }
    size_t end = w->n + max - 1; /* keep room for the closing quote */
    w->p[w->n++] = '"';
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        i = put_plain(w, s, i, n, end);
        if (i == n)
            break;
        unsigned char ch = u[i];
        if (ch < 0x80) {
            char e[6];
            size_t k = sf_json_escape_ascii(ch, e);
            if (w->n + k > end)
                break;
            put(w, e, k);
            i++;
            continue;
        }
        /* each byte of an ill-formed sequence is one U+FFFD */
        int seq = sf_utf8_seq(u + i, n - i);
        if (seq < 0) {
            if (w->n + 6 > end)
                break;
            puts_(w, "\\ufffd");
            i++;
            continue;
        }
        size_t k = (size_t)seq;
        if (w->n + k > end)
            break;
        put(w, s + i, k);
        i += k;
    }
    w->p[w->n++] = '"';
}

/* The parts of a request line: "METHOD TARGET PROTOCOL". A missing part
 * stays NULL. */
struct reqline {
    const char *method, *target, *protocol;
    size_t method_len, target_len, protocol_len;
};

static struct reqline
split_line(const char *s, size_t n)
{
    struct reqline q = {0};
    if (!s || n == 0)
        return q;
    const char *sp1 = memchr(s, ' ', n);
    q.method = s;
    q.method_len = sp1 ? (size_t)(sp1 - s) : n;
    if (!sp1)
        return q;
    const char *rest = sp1 + 1, *end = s + n;
    const char *sp2 = NULL;
    for (const char *p = end; p > rest; p--) {
        if (p[-1] == ' ') {
            sp2 = p - 1;
            break;
        }
    }
    q.target = rest;
    q.target_len = sp2 ? (size_t)(sp2 - rest) : (size_t)(end - rest);
    if (sp2) {
        q.protocol = sp2 + 1;
        q.protocol_len = (size_t)(end - sp2 - 1);
    }
    return q;
}

/* A bare (unquoted) field: also space and ':' as \xHH, so that the field
 * ends at the first space and a ':' after it is the separator. Stops
 * before cap - 1 bytes (NUL included). Returns the length. */
static size_t
bare_field(char *out, size_t cap, const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        bool esc = ch <= ' ' || ch == ':' || ch == '"' || ch == '\\' || ch >= 0x7f;
        if (k + (esc ? 4 : 1) >= cap)
            break;
        if (esc) {
            out[k++] = '\\';
            out[k++] = 'x';
            out[k++] = hex[ch >> 4];
            out[k++] = hex[ch & 15];
        } else {
            out[k++] = (char)ch;
        }
    }
    out[k] = '\0';
    return k;
}

void
sf_log_vhost_name(const struct sf_site *site, char *out, size_t cap)
{
    assert(cap >= 2);
    for (size_t i = 0; i < site->nnames; i++) {
        const struct sf_server_name *n = &site->names[i];
        if (!n->wildcard && n->name[0] != '[' && n->len > 0) {
            bare_field(out, cap, n->name, n->len);
            return;
        }
    }
    const char *label = site->name && strncmp(site->name, "site ", 5) == 0 ? site->name + 5 : "";
    while (*label == ' ')
        label++;
    if (!*label || bare_field(out, cap, label, strlen(label)) == 0)
        snprintf(out, cap, "-");
}

static size_t
format_combined(char *out, const struct sf_access *a, bool vhost)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct line w = {out, 0};
    time_t t = (time_t)(a->when_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    if (vhost) {
        /* escaped already, and cut to its budget */
        const char *v = a->vhost && a->vhost[0] ? a->vhost : "-";
        put(&w, v, strnlen(v, SF_LOG_VHOST_MAX - 1));
        if (a->port) {
            put(&w, ":", 1);
            put_num(&w, a->port, 1);
            put(&w, " ", 1);
        } else {
            puts_(&w, ":- ");
        }
    }
    combined_field(&w, a->client ? a->client : "-", a->client ? strlen(a->client) : 1, MAX_CLIENT);
    /* " - - [02/Jan/2006:15:04:05 +0000] \"" */
    puts_(&w, " - - [");
    put2(&w, (unsigned)tm.tm_mday);
    put(&w, "/", 1);
    put(&w, mon[tm.tm_mon], 3);
    put(&w, "/", 1);
    put_num(&w, (unsigned)(tm.tm_year + 1900), 4);
    put(&w, ":", 1);
    put_hms(&w, &tm);
    puts_(&w, " +0000] \"");
    combined_field(&w, a->request_line, a->request_line_len,
                   MAX_METHOD + MAX_TARGET + MAX_PROTOCOL);
    puts_(&w, "\" ");
    put_status(&w, a->status);
    put(&w, " ", 1);
    put_num(&w, a->bytes_sent, 1);
    puts_(&w, " \"");
    combined_field(&w, a->referer, a->referer_len, MAX_REFERER);
    puts_(&w, "\" \"");
    combined_field(&w, a->user_agent, a->user_agent_len, MAX_AGENT);
    puts_(&w, "\"\n");
    return w.n;
}

static size_t
format_json(char *out, const struct sf_access *a)
{
    struct line w = {out, 0};
    time_t t = (time_t)(a->when_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    /* {"time":"2006-01-02T15:04:05.000Z","client": */
    puts_(&w, "{\"time\":\"");
    put_num(&w, (unsigned)(tm.tm_year + 1900), 4);
    put(&w, "-", 1);
    put2(&w, (unsigned)(tm.tm_mon + 1));
    put(&w, "-", 1);
    put2(&w, (unsigned)tm.tm_mday);
    put(&w, "T", 1);
    put_hms(&w, &tm);
    put(&w, ".", 1);
    put_num(&w, a->when_ms % 1000, 3);
    puts_(&w, "Z\",\"client\":");
    json_string(&w, a->client, a->client ? strlen(a->client) : 0, MAX_CLIENT);
    struct reqline q = split_line(a->request_line, a->request_line_len);
    puts_(&w, ",\"host\":");
    json_string(&w, a->host, a->host_len, MAX_HOST);
    puts_(&w, ",\"method\":");
    json_string(&w, q.method, q.method_len, MAX_METHOD);
    puts_(&w, ",\"target\":");
    json_string(&w, q.target, q.target_len, MAX_TARGET);
    puts_(&w, ",\"protocol\":");
    json_string(&w, q.protocol, q.protocol_len, MAX_PROTOCOL);
    puts_(&w, ",\"status\":");
    put_status(&w, a->status);
    puts_(&w, ",\"bytes_sent\":");
    put_num(&w, a->bytes_sent, 1);
    puts_(&w, ",\"body_length\":");
    put_num(&w, a->body_length, 1);
    puts_(&w, ",\"duration_ms\":");
    put_num(&w, a->duration_ms, 1);
    puts_(&w, a->completed ? ",\"completed\":true" : ",\"completed\":false");
    puts_(&w, ",\"referer\":");
    json_string(&w, a->referer, a->referer_len, MAX_REFERER);
    puts_(&w, ",\"user_agent\":");
    json_string(&w, a->user_agent, a->user_agent_len, MAX_AGENT);
    puts_(&w, "}\n");
    return w.n;
}

_Static_assert(MAX_CLIENT + MAX_METHOD + MAX_TARGET + MAX_PROTOCOL + MAX_HOST + MAX_REFERER +
                       MAX_AGENT + FIXED_MAX <=
                   SF_LOG_LINE_MAX,
               "access-log field budgets exceed the line");
_Static_assert(SF_LOG_VHOST_MAX + 8 <= MAX_HOST,
               "vhost_combined's VHOST:PORT must fit the budget of the host combined leaves out");
_Static_assert(SF_LOG_LINE_MAX <= PIPE_BUF, "an access line must fit one atomic pipe write");
_Static_assert(SF_LOG_LINE_MAX <= SF_LOG_BUF, "an access line must fit the buffer");

size_t
sf_log_format_access(char *out, size_t cap, enum sf_log_format fmt, const struct sf_access *a)
{
    char line[SF_LOG_LINE_MAX];
    size_t n = fmt == SF_LOG_FORMAT_JSON
                   ? format_json(line, a)
                   : format_combined(line, a, fmt == SF_LOG_FORMAT_VHOST_COMBINED);
    if (n > cap) {
        /* a short buffer gets nothing rather than half a line */
        return 0;
    }
    memcpy(out, line, n);
    return n;
}
