/*
 * it_logs.c - access logs people can use, end to end against the real
 * server: goaccess reads every line of the combined and vhost_combined
 * logs (200, 404, 206, HEAD, a 400, hostile bytes in the User-Agent) and
 * counts what was sent; every JSON line parses (a strict JSON reader of
 * our own, below, also reads goaccess's report); with two workers the
 * lines reach the file about a second after their response and their
 * seconds never go backwards in it; a symbolic link at the path of
 * access_log, error_log or pid_file is refused by -t and by a start,
 * with a message on stderr, and nothing is written through it.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_base[PATH_MAX];
static struct it_server srv;

static void
setup(void)
{
    char p[PATH_MAX];
    it_tmpdir(g_base, sizeof(g_base));
    it_join(p, sizeof(p), g_base, "www");
    it_mkdir(p);
    it_put(g_base, "www/a.txt", "0123456789abcdefghijklmnopqrstuvwxyz\n");
}

static void
teardown(void)
{
    if (srv.pid > 0)
        it_server_stop(&srv);
    it_rmtree(g_base);
}

/* Start with [server] lines extra (after listen, access_log) and one site,
 * [site docs] named example.test. */
static void
start_with(const char *extra)
{
    char conf[PATH_MAX], text[4096];
    it_join(conf, sizeof(conf), g_base, "logs.conf");
    snprintf(text, sizeof(text),
             "[server]\nlisten = 127.0.0.1:0\naccess_log = access.log\n%s%s\n"
             "[site docs]\nroot = www\nserver_names = example.test\n",
             getuid() == 0 ? "user = root\n" : "", extra);
    it_write_str(conf, text);
    it_server_start_conf(&srv, conf);
}

/* The contents of a file of g_base (malloc'd, NUL-terminated; "" when
 * missing). */
static char *
slurp(const char *name)
{
    char p[PATH_MAX];
    it_join(p, sizeof(p), g_base, name);
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    ssize_t n;
    while (fd >= 0 && len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    if (fd >= 0)
        close(fd);
    buf[len] = '\0';
    return buf;
}

static size_t
count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

/* Wait (bounded) until the access log holds want lines; their number. */
static size_t
wait_lines(size_t want, int timeout_ms)
{
    size_t n = 0;
    for (int64_t end = it_now_ms() + timeout_ms;; it_sleep_ms(20)) {
        char *s = slurp("access.log");
        n = count_char(s, '\n');
        free(s);
        if (n >= want || it_now_ms() > end)
            return n;
    }
}

/* ---- a strict JSON reader ------------------------------------------------ */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
    enum jtype t;
    bool b;
    double num;
    char *str; /* J_STR: decoded, NUL-terminated (len bytes) */
    size_t len;
    char **keys;       /* J_OBJ */
    struct jv **items; /* J_ARR, J_OBJ */
    size_t n;
};

static void
jfree(struct jv *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        jfree(v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

static const char *
jws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* Length of the valid UTF-8 sequence at s, 0 if invalid. */
static size_t
utf8_ok(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

static void
put_utf8(char *out, size_t *n, unsigned cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xc0 | cp >> 6);
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xe0 | cp >> 12);
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        out[(*n)++] = (char)(0xf0 | cp >> 18);
        out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    }
}

static bool
hex4(const char *p, unsigned *cp)
{
    *cp = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return false;
        *cp = *cp << 4 | (unsigned)d;
    }
    return true;
}

/* A string at p (at its quote): decoded into *out (malloc'd); the byte
 * after it, or NULL. Raw control bytes and invalid UTF-8 are errors. */
static const char *
jstring(const char *p, char **out, size_t *outlen)
{
    if (*p++ != '"')
        return NULL;
    const char *end = p;
    size_t cap = 1;
    while (*end && *end != '"') {
        end += *end == '\\' && end[1] ? 2 : 1;
        cap += 4;
    }
    char *s = malloc(cap + 4);
    size_t n = 0;
    ck_assert_ptr_nonnull(s);
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c < 0x20)
            goto bad; /* NUL (the end), a raw newline or control byte */
        if (c >= 0x80) {
            size_t k = utf8_ok((const unsigned char *)p);
            if (!k)
                goto bad;
            memcpy(s + n, p, k);
            n += k;
            p += k;
            continue;
        }
        if (c != '\\') {
            s[n++] = (char)c;
            p++;
            continue;
        }
        p++;
        unsigned cp;
        switch (*p) {
        case '"': s[n++] = '"'; break;
        case '\\': s[n++] = '\\'; break;
        case '/': s[n++] = '/'; break;
        case 'b': s[n++] = '\b'; break;
        case 'f': s[n++] = '\f'; break;
        case 'n': s[n++] = '\n'; break;
        case 'r': s[n++] = '\r'; break;
        case 't': s[n++] = '\t'; break;
        case 'u':
            if (!hex4(p + 1, &cp))
                goto bad;
            p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                unsigned lo;
                if (p[1] != '\\' || p[2] != 'u' || !hex4(p + 3, &lo) || lo < 0xdc00 || lo > 0xdfff)
                    goto bad;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                goto bad;
            }
            put_utf8(s, &n, cp);
            break;
        default: goto bad;
        }
        p++;
    }
    s[n] = '\0';
    *out = s;
    *outlen = n;
    return p + 1;
bad:
    free(s);
    return NULL;
}

static const char *
jnumber(const char *p, double *v)
{
    const char *q = p;
    if (*q == '-')
        q++;
    if (*q == '0')
        q++;
    else if (*q >= '1' && *q <= '9')
        while (*q >= '0' && *q <= '9')
            q++;
    else
        return NULL;
    if (*q == '.') {
        q++;
        if (*q < '0' || *q > '9')
            return NULL;
        while (*q >= '0' && *q <= '9')
            q++;
    }
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-')
            q++;
        if (*q < '0' || *q > '9')
            return NULL;
        while (*q >= '0' && *q <= '9')
            q++;
    }
    *v = strtod(p, NULL);
    return q;
}

static void
jpush(struct jv *v, char *key, struct jv *item)
{
    v->items = realloc(v->items, (v->n + 1) * sizeof(*v->items));
    ck_assert_ptr_nonnull(v->items);
    if (v->t == J_OBJ) {
        v->keys = realloc(v->keys, (v->n + 1) * sizeof(*v->keys));
        ck_assert_ptr_nonnull(v->keys);
        v->keys[v->n] = key;
    }
    v->items[v->n++] = item;
}

/* One value at *pp (whitespace first), advancing *pp; NULL when invalid. */
static struct jv *
jvalue(const char **pp, int depth)
{
    const char *p = jws(*pp);
    struct jv *v = calloc(1, sizeof(*v));
    ck_assert_ptr_nonnull(v);
    if (depth > 64)
        goto bad;
    if (*p == '"') {
        v->t = J_STR;
        p = jstring(p, &v->str, &v->len);
    } else if (*p == '{' || *p == '[') {
        bool obj = *p == '{';
        char close = obj ? '}' : ']';
        v->t = obj ? J_OBJ : J_ARR;
        p = jws(p + 1);
        if (*p == close) {
            p++;
        } else {
            for (;;) {
                char *key = NULL;
                size_t klen;
                if (obj) {
                    p = jstring(jws(p), &key, &klen);
                    if (!p)
                        goto bad;
                    p = jws(p);
                    if (*p++ != ':') {
                        free(key);
                        goto bad;
                    }
                }
                struct jv *item = jvalue(&p, depth + 1);
                if (!item) {
                    free(key);
                    goto bad;
                }
                jpush(v, key, item);
                p = jws(p);
                if (*p == ',') {
                    p++;
                    continue;
                }
                if (*p++ != close)
                    goto bad;
                break;
            }
        }
    } else if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0) {
        v->t = J_BOOL;
        v->b = *p == 't';
        p += v->b ? 4 : 5;
    } else if (strncmp(p, "null", 4) == 0) {
        v->t = J_NULL;
        p += 4;
    } else {
        v->t = J_NUM;
        p = jnumber(p, &v->num);
    }
    if (!p)
        goto bad;
    *pp = p;
    return v;
bad:
    jfree(v);
    return NULL;
}

/* A whole document of n bytes (one value, nothing after it), or NULL. */
static struct jv *
jparse(const char *s, size_t n)
{
    char *copy = malloc(n + 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, s, n);
    copy[n] = '\0';
    if (strlen(copy) != n) {
        free(copy); /* a NUL byte inside */
        return NULL;
    }
    const char *p = copy;
    struct jv *v = jvalue(&p, 0);
    if (v && *jws(p) != '\0') {
        jfree(v);
        v = NULL;
    }
    free(copy);
    return v;
}

static const struct jv *
jget(const struct jv *o, const char *key)
{
    if (!o || o->t != J_OBJ)
        return NULL;
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->keys[i], key) == 0)
            return o->items[i];
    return NULL;
}

/* o.a.b...: a member path of nested objects, or NULL. */
static const struct jv *
jpath(const struct jv *o, const char *const path[])
{
    for (size_t i = 0; o && path[i]; i++)
        o = jget(o, path[i]);
    return o;
}

static double
jnum(const struct jv *v, const char *what)
{
    ck_assert_msg(v && v->t == J_NUM, "%s: not a number", what);
    return v->num;
}

START_TEST(t_json_reader_self_test)
{
    static const char *const good[] = {
        "{}",
        "[]",
        "0",
        "-1.5e3",
        "\"\\u00e9\\ud83d\\ude00\"",
        "{\"a\":[1,true,null,\"x\"]}",
        " {\"k\" : \"v\" } ",
    };
    static const char *const bad[] = {
        "",          "{",           "[1,]",  "{\"a\"}", "01",       "\"\x01\"", "\"\xff\"",
        "\"\\x41\"", "\"\\ud800\"", "{} {}", "tru",     "\"a\nb\"", "1.",       "{\"a\":1,}",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct jv *v = jparse(good[i], strlen(good[i]));
        ck_assert_msg(v != NULL, "rejected %s", good[i]);
        jfree(v);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct jv *v = jparse(bad[i], strlen(bad[i]));
        ck_assert_msg(v == NULL, "accepted %s", bad[i]);
    }
    struct jv *v = jparse("\"\\u00e9\\ud83d\\ude00\"", 20);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v->str, "\xc3\xa9\xf0\x9f\x98\x80");
    jfree(v);
}
END_TEST

/* ---- the requests every format test sends -------------------------------- */

struct sent {
    const char *raw; /* "%d" gets the server's port where a Host wants it */
    int status;
    const char *target;     /* as logged */
    const char *user_agent; /* as the JSON log decodes it, NULL: none */
};

/* A 200, a 404, a 206, a HEAD, hostile bytes the parser lets through (a
 * quote, a backslash, a tab, a byte that is not UTF-8), a control byte it
 * refuses (400, no site chosen), an HTTP/1.0 request without Host. */
static const struct sent g_reqs[] = {
    {"GET /a.txt HTTP/1.1\r\nHost: example.test\r\nUser-Agent: t/1\r\nConnection: close\r\n\r\n",
     200, "/a.txt", "t/1"},
    {"GET /missing.txt HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n", 404,
     "/missing.txt", NULL},
    {"GET /a.txt HTTP/1.1\r\nHost: example.test\r\nRange: bytes=0-9\r\nConnection: close\r\n\r\n",
     206, "/a.txt", NULL},
    {"HEAD /a.txt HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n", 200, "/a.txt",
     NULL},
    {"GET /a.txt?q=%22x%22 HTTP/1.1\r\nHost: example.test\r\n"
     "User-Agent: Mozilla/5.0 \"quoted\" back\\slash\ttab \xff end\r\nConnection: close\r\n\r\n",
     200, "/a.txt?q=%22x%22", "Mozilla/5.0 \"quoted\" back\\slash\ttab \xef\xbf\xbd end"},
    {"GET /ctl.txt HTTP/1.1\r\nHost: example.test\r\nUser-Agent: a\x01z\r\n"
     "Connection: close\r\n\r\n",
     400, "/ctl.txt", NULL},
    {"GET /a.txt HTTP/1.0\r\n\r\n", 200, "/a.txt", NULL},
};
#define NREQS (sizeof(g_reqs) / sizeof(g_reqs[0]))

static void
send_all(void)
{
    for (size_t i = 0; i < NREQS; i++) {
        struct it_response r;
        ck_assert_msg(it_request(srv.port, g_reqs[i].raw, &r) == IT_OK, "request %zu", i);
        ck_assert_msg(r.status == g_reqs[i].status, "request %zu: %d, want %d", i, r.status,
                      g_reqs[i].status);
        it_response_free(&r);
    }
    /* the lines reach the file within about a second, without a stop */
    ck_assert_uint_eq(wait_lines(NREQS, 5000), NREQS);
}

/* ---- goaccess reads combined and vhost_combined ---------------------------- */

/* Hits goaccess counted for items of a panel ("status_codes", "vhosts")
 * whose data starts with prefix. */
static double
goaccess_hits(const struct jv *report, const char *panel, const char *prefix)
{
    const char *const data_path[] = {panel, "data", NULL};
    const struct jv *groups = jpath(report, data_path);
    double hits = 0;
    ck_assert_msg(groups && groups->t == J_ARR, "no %s panel in the report", panel);
    for (size_t i = 0; i < groups->n; i++) {
        const struct jv *g = groups->items[i];
        const struct jv *items = jget(g, "items");
        const struct jv *list[64];
        size_t n = 0;
        if (items && items->t == J_ARR)
            for (size_t j = 0; j < items->n && n < 64; j++)
                list[n++] = items->items[j];
        else
            list[n++] = g;
        for (size_t j = 0; j < n; j++) {
            const struct jv *d = jget(list[j], "data");
            const char *const count[] = {"hits", "count", NULL};
            if (d && d->t == J_STR && strncmp(d->str, prefix, strlen(prefix)) == 0)
                hits += jnum(jpath(list[j], count), "hits.count");
        }
    }
    return hits;
}

static const struct {
    const char *format;    /* access_log_format */
    const char *goaccess;  /* --log-format */
    const char *line_head; /* every line starts so (%d: the port) */
} g_text_formats[] = {
    {"combined", "COMBINED", "127.0.0.1 - - ["},
    {"vhost_combined", "VCOMBINED", "example.test:%d 127.0.0.1 - - ["},
};

START_TEST(t_goaccess)
{
    char extra[128], head[64], head_nosite[64];
    snprintf(extra, sizeof(extra), "workers = 2\naccess_log_format = %s\n",
             g_text_formats[_i].format);
    start_with(extra);
    send_all();
    bool vhost = _i == 1;
    snprintf(head, sizeof(head), g_text_formats[_i].line_head, srv.port);
    /* the 400 came before a site was chosen: its VHOST is - */
    snprintf(head_nosite, sizeof(head_nosite), "-:%d 127.0.0.1 - - [", srv.port);
    char *log = slurp("access.log"), *save = NULL;
    size_t nosite = 0;
    for (char *line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        bool site_less = vhost && strncmp(line, head_nosite, strlen(head_nosite)) == 0;
        nosite += site_less;
        ck_assert_msg(site_less || strncmp(line, head, strlen(head)) == 0, "line: %s", line);
        for (const char *p = line; *p; p++)
            ck_assert_msg(*p >= 0x20 && *p < 0x7f, "a raw byte 0x%02x in: %s", (unsigned char)*p,
                          line);
    }
    free(log);
    ck_assert_uint_eq(nosite, vhost ? 1 : 0);

    char path[PATH_MAX], report[PATH_MAX], out[PATH_MAX], fmt[64];
    it_join(path, sizeof(path), g_base, "access.log");
    it_join(report, sizeof(report), g_base, "report.json");
    it_join(out, sizeof(out), g_base, "goaccess.out");
    snprintf(fmt, sizeof(fmt), "--log-format=%s", g_text_formats[_i].goaccess);
    const char *argv[] = {"goaccess", path, "--no-global-config", fmt, "-o", report, NULL};
    int rc = it_run(argv, 60, out);
    char *said = slurp("goaccess.out");
    ck_assert_msg(rc == 0, "goaccess failed (%d; is it installed? scripts/deps): %s", rc, said);
    free(said);

    char *text = slurp("report.json");
    struct jv *rep = jparse(text, strlen(text));
    ck_assert_msg(rep != NULL, "goaccess wrote a report that is not JSON");
    free(text);
    const char *const total[] = {"general", "total_requests", NULL};
    const char *const valid[] = {"general", "valid_requests", NULL};
    const char *const failed[] = {"general", "failed_requests", NULL};
    ck_assert_int_eq((int)jnum(jpath(rep, total), "total_requests"), (int)NREQS);
    ck_assert_int_eq((int)jnum(jpath(rep, valid), "valid_requests"), (int)NREQS);
    ck_assert_int_eq((int)jnum(jpath(rep, failed), "failed_requests"), 0);
    ck_assert_int_eq((int)goaccess_hits(rep, "status_codes", "404"), 1);
    ck_assert_int_eq((int)goaccess_hits(rep, "status_codes", "206"), 1);
    ck_assert_int_eq((int)goaccess_hits(rep, "status_codes", "400"), 1);
    ck_assert_int_eq((int)goaccess_hits(rep, "status_codes", "200"), 4);
    if (vhost) {
        ck_assert_int_eq((int)goaccess_hits(rep, "vhosts", "example.test"), (int)NREQS - 1);
        ck_assert_int_eq((int)goaccess_hits(rep, "vhosts", "-"), 1);
    }
    jfree(rep);
}
END_TEST

/* ---- JSON lines ---------------------------------------------------------------- */

START_TEST(t_json_lines)
{
    start_with("workers = 2\naccess_log_format = json\n");
    send_all();
    char *log = slurp("access.log");
    bool seen[NREQS] = {false};
    size_t nlines = 0;
    for (char *line = log, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        struct jv *v = jparse(line, (size_t)(nl - line));
        ck_assert_msg(v && v->t == J_OBJ, "not a JSON object: %.*s", (int)(nl - line), line);
        nlines++;
        static const char *const fields[] = {
            "time",      "client",  "host",       "method",      "target",
            "protocol",  "status",  "bytes_sent", "body_length", "duration_ms",
            "completed", "referer", "user_agent"};
        for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
            ck_assert_msg(jget(v, fields[k]), "no %s in %.*s", fields[k], (int)(nl - line), line);
        const struct jv *target = jget(v, "target"), *ua = jget(v, "user_agent");
        int status = (int)jnum(jget(v, "status"), "status");
        const struct jv *method = jget(v, "method");
        ck_assert(target->t == J_STR && method->t == J_STR);
        /* which request this is: by target, method and status */
        size_t i = 0;
        for (; i < NREQS; i++) {
            bool head = strncmp(g_reqs[i].raw, "HEAD ", 5) == 0;
            if (!seen[i] && strcmp(target->str, g_reqs[i].target) == 0 &&
                status == g_reqs[i].status && strcmp(method->str, head ? "HEAD" : "GET") == 0 &&
                (g_reqs[i].user_agent == NULL ||
                 (ua->t == J_STR && strcmp(ua->str, g_reqs[i].user_agent) == 0)))
                break;
        }
        ck_assert_msg(i < NREQS, "a line no request explains: %.*s", (int)(nl - line), line);
        seen[i] = true;
        jfree(v);
    }
    free(log);
    ck_assert_uint_eq(nlines, NREQS);
}
END_TEST

/* ---- two workers: every second boundary ------------------------------------ */

/* The server-side socket of the loopback connection from client_port to
 * server_port: its inode from /proc/net/tcp, 0 when not found. */
static unsigned long
server_inode(int server_port, int client_port)
{
    FILE *f = fopen("/proc/net/tcp", "re");
    char line[512];
    unsigned long inode = 0;
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f)) {
        unsigned la, lp, ra, rp;
        unsigned long ino;
        if (sscanf(line, " %*d: %8X:%4X %8X:%4X %*X %*X:%*X %*X:%*X %*X %*u %*d %lu", &la, &lp, &ra,
                   &rp, &ino) == 5 &&
            (int)lp == server_port && (int)rp == client_port) {
            inode = ino;
            break;
        }
    }
    fclose(f);
    return inode;
}

/* Which of the workers holds a socket with that inode: its index, or -1. */
static int
worker_holding(const pid_t *w, int n, unsigned long inode)
{
    char want[64];
    snprintf(want, sizeof(want), "socket:[%lu]", inode);
    for (int i = 0; i < n; i++) {
        char dir[64];
        snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)w[i]);
        DIR *d = opendir(dir);
        struct dirent *e;
        if (!d)
            continue;
        while ((e = readdir(d)) != NULL) {
            char p[400], target[128];
            snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
            ssize_t k = readlink(p, target, sizeof(target) - 1);
            if (k > 0 && (target[k] = '\0', strcmp(target, want) == 0)) {
                closedir(d);
                return i;
            }
        }
        closedir(d);
    }
    return -1;
}

#define NCONN 4     /* keep-alive connections, two per worker */
#define RUN_MS 3500 /* requests for this long: at least three boundaries */
#define MAX_REQS 400
#define LAG_BOUND_MS 3000 /* "about a second", with room for a loaded machine */

/* A line's request number (?n=N in its target), -1 when none. */
static int
line_number(const char *line, size_t len)
{
    const char *p = memmem(line, len, "/a.txt?n=", 9);
    return p ? atoi(p + 9) : -1;
}

START_TEST(t_two_workers_order)
{
    start_with("workers = 2\nreuseport = on\naccess_log_format = json\n");
    pid_t w[4];
    int nw = 0;
    for (int64_t end = it_now_ms() + 10000; (nw = it_children_of(srv.pid, w, 4)) != 2;
         it_sleep_ms(20))
        ck_assert_msg(it_now_ms() < end, "want 2 workers, have %d", nw);

    /* connections until each worker has two (the kernel spreads them) */
    struct it_conn *c = calloc(32, sizeof(*c));
    int owner[32], kept[NCONN], have[2] = {0, 0}, nkept = 0;
    ck_assert_ptr_nonnull(c);
    for (int i = 0; i < 32 && nkept < NCONN; i++) {
        struct it_response r;
        struct sockaddr_in me;
        socklen_t len = sizeof(me);
        it_conn_open(&c[i], srv.port);
        it_conn_send_str(&c[i], "GET /a.txt?warm HTTP/1.1\r\nHost: example.test\r\n\r\n");
        ck_assert_int_eq(it_read_response(&c[i], &r, false), IT_OK);
        it_response_free(&r);
        ck_assert_int_eq(getsockname(c[i].fd, (struct sockaddr *)&me, &len), 0);
        unsigned long ino = server_inode(srv.port, ntohs(me.sin_port));
        ck_assert_msg(ino != 0, "no server socket for client port %d", ntohs(me.sin_port));
        owner[i] = worker_holding(w, 2, ino);
        ck_assert_msg(owner[i] >= 0, "no worker holds socket %lu", ino);
        if (have[owner[i]] < NCONN / 2) {
            have[owner[i]]++;
            kept[nkept++] = i;
        }
    }
    ck_assert_msg(nkept == NCONN, "the kernel gave %d and %d connections to the workers", have[0],
                  have[1]);

    /* one request at a time, alternating workers, for a few seconds */
    static int64_t done_ms[MAX_REQS], seen_ms[MAX_REQS];
    int n = 0;
    size_t off = 0, nseen = 0;
    char *log = NULL;
    for (int64_t end = it_now_ms() + RUN_MS, last = -1; n < MAX_REQS;) {
        int64_t now = it_now_ms();
        if (now >= end && nseen == (size_t)n)
            break;
        if (now < end) {
            char req[128];
            struct it_response r;
            struct it_conn *k = &c[kept[n % NCONN]];
            snprintf(req, sizeof(req), "GET /a.txt?n=%d HTTP/1.1\r\nHost: example.test\r\n\r\n", n);
            it_conn_send_str(k, req);
            ck_assert_int_eq(it_read_response(k, &r, false), IT_OK);
            ck_assert_int_eq(r.status, 200);
            it_response_free(&r);
            done_ms[n] = it_now_ms();
            seen_ms[n] = -1;
            n++;
        } else {
            ck_assert_msg(now < end + 5000, "only %zu of %d lines after 5 s", nseen, n);
        }
        /* what reached the file since the last look, and when */
        if (now - last >= 20) {
            last = now;
            free(log);
            log = slurp("access.log");
            for (char *nl; (nl = strchr(log + off, '\n')) != NULL; off = (size_t)(nl + 1 - log)) {
                int k = line_number(log + off, (size_t)(nl - log - off));
                if (k >= 0 && k < n && seen_ms[k] < 0) {
                    seen_ms[k] = it_now_ms();
                    nseen++;
                }
            }
        }
        it_sleep_ms(15);
    }
    free(log);
    ck_assert_int_eq((int)nseen, n);

    /* the lines came within about a second, and in file order their
     * seconds never go back; both workers wrote in the same seconds */
    int64_t worst = 0;
    for (int i = 0; i < n; i++)
        worst = seen_ms[i] - done_ms[i] > worst ? seen_ms[i] - done_ms[i] : worst;
    ck_assert_msg(worst <= LAG_BOUND_MS, "a line reached the file %lld ms after its response",
                  (long long)worst);
    log = slurp("access.log");
    char max_sec[20] = "", prev_sec[20] = "";
    int shared = 0, mask = 0;
    for (char *line = log, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        struct jv *v = jparse(line, (size_t)(nl - line));
        ck_assert_msg(v != NULL, "not JSON: %.*s", (int)(nl - line), line);
        const struct jv *t = jget(v, "time");
        ck_assert(t && t->t == J_STR && t->len == 24);
        char sec[20];
        memcpy(sec, t->str, 19); /* 2006-01-02T15:04:05: ordered as text */
        sec[19] = '\0';
        ck_assert_msg(strcmp(sec, max_sec) >= 0, "a line of %s after one of %s: %.*s", sec, max_sec,
                      (int)(nl - line), line);
        if (strcmp(sec, max_sec) > 0)
            memcpy(max_sec, sec, sizeof(sec));
        int k = line_number(line, (size_t)(nl - line));
        if (k >= 0) {
            if (strcmp(sec, prev_sec) != 0) {
                shared += mask == 3;
                mask = 0;
                memcpy(prev_sec, sec, sizeof(sec));
            }
            mask |= 1 << owner[kept[k % NCONN]];
        }
        jfree(v);
    }
    shared += mask == 3;
    free(log);
    ck_assert_msg(shared >= 2, "both workers logged in only %d second(s): nothing to order",
                  shared);
    for (int i = 0; i < 32; i++)
        if (c[i].fd > 0)
            it_conn_close(&c[i]);
    free(c);
}
END_TEST

/* ---- symbolic links at the paths of logs and the pid file -------------------- */

static const char *const g_link_keys[] = {"access_log", "error_log", "pid_file"};

START_TEST(t_symlinks_refused)
{
    const char *key = g_link_keys[_i];
    char conf[PATH_MAX], text[2 * PATH_MAX], link_path[PATH_MAX], target[PATH_MAX], out[PATH_MAX];
    struct stat st;
    it_join(link_path, sizeof(link_path), g_base, "link");
    it_join(target, sizeof(target), g_base, "target");
    ck_assert_int_eq(symlink(target, link_path), 0);
    it_join(conf, sizeof(conf), g_base, "links.conf");
    snprintf(text, sizeof(text),
             "[server]\nlisten = 127.0.0.1:0\n%s%s = %s\n\n[site]\nroot = www\n",
             getuid() == 0 ? "user = root\n" : "", key, link_path);
    it_write_str(conf, text);
    it_join(out, sizeof(out), g_base, "out");

    char want[PATH_MAX + 64];
    snprintf(want, sizeof(want), "%s %s: is a symbolic link", key, link_path);
    /* -t says so, with the line of the key */
    const char *check[] = {SFHTTPD_BIN, "-t", "-c", conf, NULL};
    ck_assert_int_eq(it_run(check, 20, out), 1);
    char *said = slurp("out");
    char at[3 * PATH_MAX];
    snprintf(at, sizeof(at), "%s:%d: %s", conf, getuid() == 0 ? 4 : 3, want);
    ck_assert_msg(strstr(said, at) != NULL, "want '%s' in:\n%s", at, said);
    free(said);
    /* a start refuses, on stderr, and writes nothing through the link */
    const char *start[] = {SFHTTPD_BIN, "-c", conf, NULL};
    ck_assert_int_eq(it_run(start, 20, out), 1);
    said = slurp("out");
    ck_assert_msg(strstr(said, want) != NULL, "want '%s' in:\n%s", want, said);
    free(said);
    ck_assert_msg(stat(target, &st) != 0, "%s was created through the link", target);
    ck_assert_int_eq(lstat(link_path, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
}
END_TEST

static Suite *
logs_suite(void)
{
    Suite *s = suite_create("logs");
    TCase *tc = tcase_create("reader");
    tcase_add_test(tc, t_json_reader_self_test);
    suite_add_tcase(s, tc);
    tc = tcase_create("formats");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, t_goaccess, 0,
                        (int)(sizeof(g_text_formats) / sizeof(g_text_formats[0])));
    tcase_add_test(tc, t_json_lines);
    tcase_add_test(tc, t_two_workers_order);
    tcase_add_loop_test(tc, t_symlinks_refused, 0,
                        (int)(sizeof(g_link_keys) / sizeof(g_link_keys[0])));
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return it_main(logs_suite());
}
