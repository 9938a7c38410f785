/*
 * test_log.c - access-log lines: exact combined and JSON lines, tables of
 * hostile field values (quotes, backslashes, control bytes, UTF-8 and
 * invalid UTF-8) and their escaped forms, long fields cut within their
 * budgets, and random bytes that must always give one valid line (a
 * small strict JSON checker lives here); vhost_combined's VHOST:PORT and
 * the site names it takes. Then the destinations: the server's log,
 * per-site logs and formats, a shared file opened once, "off", one
 * second per buffer, symbolic links refused, and reopening after a
 * rename.
 */
#include "sfhttpd/log.h"
#include "sfhttpd/escape.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit_util.h"

/* 2006-01-02T15:04:05.123Z */
#define WHEN_MS 1136214245123ULL

static struct sf_access
base_access(void)
{
    return (struct sf_access){
        .site = -1,
        .client = "192.0.2.1",
        .when_ms = WHEN_MS,
        .duration_ms = 7,
        .request_line = "GET /a.txt HTTP/1.1",
        .request_line_len = 19,
        .host = "example.com",
        .host_len = 11,
        .status = 200,
        .bytes_sent = 1234,
        .body_length = 1234,
        .completed = true,
        .user_agent = "curl/8.0",
        .user_agent_len = 8,
    };
}

static size_t
fmt(enum sf_log_format f, const struct sf_access *a, char *out)
{
    size_t n = sf_log_format_access(out, SF_LOG_LINE_MAX, f, a);
    ck_assert_uint_gt(n, 0);
    ck_assert_uint_le(n, SF_LOG_LINE_MAX);
    out[n] = '\0';
    return n;
}

/* ---- a strict JSON checker ------------------------------------------------ */

static const char *json_value(const char *p, int depth);

static const char *
ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return p;
}

static const char *
json_str(const char *p)
{
    if (*p++ != '"')
        return NULL;
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c < 0x20)
            return NULL; /* NUL, raw newline, control byte */
        if (c == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
                        return NULL;
                p += 5;
                continue;
            }
            if (!*p || !strchr("\"\\/bfnrt", *p))
                return NULL;
        }
        p++;
    }
}

static const char *
json_number(const char *p)
{
    if (*p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return NULL;
    while (*p >= '0' && *p <= '9')
        p++;
    return p;
}

static const char *
json_value(const char *p, int depth)
{
    p = ws(p);
    if (depth > 8)
        return NULL;
    if (*p == '"')
        return json_str(p);
    if (*p == '{') {
        p = ws(p + 1);
        if (*p == '}')
            return p + 1;
        for (;;) {
            p = json_str(ws(p));
            if (!p)
                return NULL;
            p = ws(p);
            if (*p++ != ':')
                return NULL;
            p = json_value(p, depth + 1);
            if (!p)
                return NULL;
            p = ws(p);
            if (*p == '}')
                return p + 1;
            if (*p++ != ',')
                return NULL;
        }
    }
    if (strncmp(p, "true", 4) == 0)
        return p + 4;
    if (strncmp(p, "false", 5) == 0)
        return p + 5;
    if (strncmp(p, "null", 4) == 0)
        return p + 4;
    return json_number(p);
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static bool
valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len;
        unsigned cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* One JSON object, then a single newline, nothing else. */
static void
assert_json_line(const char *line, size_t n)
{
    ck_assert_msg(n > 2 && line[n - 1] == '\n', "no newline at the end");
    ck_assert_msg(memchr(line, '\n', n - 1) == NULL, "newline inside the line");
    ck_assert_msg(strlen(line) == n, "NUL byte inside the line");
    ck_assert_msg(valid_utf8((const unsigned char *)line, n), "invalid UTF-8: %s", line);
    ck_assert_msg(line[0] == '{', "not an object: %s", line);
    const char *end = json_value(line, 0);
    ck_assert_msg(end && end == line + n - 1, "invalid JSON at offset %td: %s",
                  end ? end - line : (ptrdiff_t)-1, line);
}

START_TEST(json_checker_self_test)
{
    static const char *const good[] = {"{}\n", "{\"a\":1}\n",
                                       "{\"a\":\"\\u00e9\\\"\",\"b\":null}\n",
                                       "{\"a\":-3,\"b\":true,\"c\":{\"d\":false}}\n"};
    static const char *const bad[] = {"{\"a\":\"\x01\"}\n", "{\"a\":\"\\x41\"}\n", "{\"a\":}\n",
                                      "{\"a\":1,}\n",       "{\"a\":\"b}\n",       "{\"a\":1}}\n",
                                      "{\"a\":\"\\u12\"}\n"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        const char *e = json_value(good[i], 0);
        ck_assert_msg(e && *e == '\n' && !e[1], "good %zu", i);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *e = json_value(bad[i], 0);
        ck_assert_msg(!e || *e != '\n' || e[1], "bad %zu accepted", i);
    }
    ck_assert(!valid_utf8((const unsigned char *)"\xc0\xaf", 2));
    ck_assert(!valid_utf8((const unsigned char *)"\xed\xa0\x80", 3));
    ck_assert(valid_utf8((const unsigned char *)"\xf0\x9f\x98\x80", 4));
}
END_TEST

/* ---- exact lines ------------------------------------------------------------ */

START_TEST(combined_line)
{
    char line[SF_LOG_LINE_MAX + 1];
    struct sf_access a = base_access();
    fmt(SF_LOG_FORMAT_COMBINED, &a, line);
    ck_assert_str_eq(line, "192.0.2.1 - - [02/Jan/2006:15:04:05 +0000] \"GET /a.txt HTTP/1.1\" "
                           "200 1234 \"-\" \"curl/8.0\"\n");
    a.referer = "http://r.test/";
    a.referer_len = 14;
    a.user_agent = NULL;
    a.request_line = NULL;
    a.status = 400;
    a.bytes_sent = 0;
    fmt(SF_LOG_FORMAT_COMBINED, &a, line);
    ck_assert_str_eq(line, "192.0.2.1 - - [02/Jan/2006:15:04:05 +0000] \"-\" 400 0 "
                           "\"http://r.test/\" \"-\"\n");
}
END_TEST

START_TEST(vhost_combined_line)
{
    char line[SF_LOG_LINE_MAX + 1], comb[SF_LOG_LINE_MAX + 1];
    struct sf_access a = base_access();
    a.vhost = "example.com";
    a.port = 8080;
    fmt(SF_LOG_FORMAT_VHOST_COMBINED, &a, line);
    ck_assert_str_eq(line, "example.com:8080 192.0.2.1 - - [02/Jan/2006:15:04:05 +0000] "
                           "\"GET /a.txt HTTP/1.1\" 200 1234 \"-\" \"curl/8.0\"\n");
    /* no name, no port (a Unix socket): "-" for each; the rest is combined */
    a.vhost = NULL;
    a.port = 0;
    a.user_agent = "a \"q\" \x01";
    a.user_agent_len = 7;
    fmt(SF_LOG_FORMAT_VHOST_COMBINED, &a, line);
    fmt(SF_LOG_FORMAT_COMBINED, &a, comb);
    ck_assert_msg(strncmp(line, "-:- ", 4) == 0, "%s", line);
    ck_assert_str_eq(line + 4, comb);
    ck_assert_ptr_nonnull(strstr(line, "\"a \\x22q\\x22 \\x01\"\n"));
    /* json and combined do not carry it */
    a.vhost = "example.com";
    fmt(SF_LOG_FORMAT_COMBINED, &a, comb);
    ck_assert_ptr_null(strstr(comb, "example.com"));
}
END_TEST

static const struct {
    const char *section;
    const char *names[3];
    const char *want;
} vhost_cases[] = {
    /* the first server name that is neither a wildcard nor IPv6 */
    {"site a", {"*.a.test", "[2001:db8::1]", "b.test"}, "b.test"},
    {"site", {"example.com", "www.example.com", NULL}, "example.com"},
    {"site", {"192.0.2.1", NULL, NULL}, "192.0.2.1"},
    /* else the section's label, escaped to one bare field */
    {"site docs", {"*.docs.test", NULL, NULL}, "docs"},
    {"site my docs:2", {NULL, NULL, NULL}, "my\\x20docs\\x3a2"},
    {"site \"q\"\\\x7f\xc3\xa9", {NULL, NULL, NULL}, "\\x22q\\x22\\x5c\\x7f\\xc3\\xa9"},
    /* else - */
    {"site", {NULL, NULL, NULL}, "-"},
    {NULL, {NULL, NULL, NULL}, "-"},
};

START_TEST(vhost_names)
{
    struct sf_site site;
    char out[SF_LOG_VHOST_MAX], sect[64], names[3][64];
    memset(&site, 0, sizeof(site));
    if (vhost_cases[_i].section) {
        snprintf(sect, sizeof(sect), "%s", vhost_cases[_i].section);
        site.name = sect;
    }
    for (size_t i = 0; i < 3 && vhost_cases[_i].names[i]; i++) {
        const char *n = vhost_cases[_i].names[i];
        snprintf(names[i], sizeof(names[i]), "%s", n);
        site.names[i].name = names[i];
        site.names[i].len = strlen(n);
        site.names[i].wildcard = strncmp(n, "*.", 2) == 0;
        site.nnames = i + 1;
    }
    sf_log_vhost_name(&site, out, sizeof(out));
    ck_assert_str_eq(out, vhost_cases[_i].want);
}
END_TEST

/* A label longer than the field is cut between escapes, never inside one. */
START_TEST(vhost_name_cut)
{
    static char label[3 * SF_LOG_VHOST_MAX];
    struct sf_site site;
    char out[SF_LOG_VHOST_MAX];
    memset(&site, 0, sizeof(site));
    memcpy(label, "site ", 5);
    for (size_t k = 0; k < 2; k++) {
        memset(label + 5, k ? 'a' : ':', sizeof(label) - 6);
        site.name = label;
        sf_log_vhost_name(&site, out, sizeof(out));
        size_t n = strlen(out);
        ck_assert_uint_lt(n, SF_LOG_VHOST_MAX);
        ck_assert_uint_gt(n, SF_LOG_VHOST_MAX - 6);
        if (k == 0)
            ck_assert_uint_eq(n % 4, 0); /* whole \x3a escapes */
    }
}
END_TEST

START_TEST(json_line)
{
    char line[SF_LOG_LINE_MAX + 1];
    struct sf_access a = base_access();
    size_t n = fmt(SF_LOG_FORMAT_JSON, &a, line);
    ck_assert_str_eq(line, "{\"time\":\"2006-01-02T15:04:05.123Z\",\"client\":\"192.0.2.1\","
                           "\"host\":\"example.com\",\"method\":\"GET\",\"target\":\"/a.txt\","
                           "\"protocol\":\"HTTP/1.1\",\"status\":200,\"bytes_sent\":1234,"
                           "\"body_length\":1234,\"duration_ms\":7,\"completed\":true,"
                           "\"referer\":null,\"user_agent\":\"curl/8.0\"}\n");
    assert_json_line(line, n);
    /* a cut transfer, no request line, no host */
    a.completed = false;
    a.bytes_sent = 100;
    a.body_length = 1000;
    a.request_line = NULL;
    a.host = NULL;
    a.when_ms = 0;
    n = fmt(SF_LOG_FORMAT_JSON, &a, line);
    assert_json_line(line, n);
    ck_assert_ptr_nonnull(strstr(line, "\"time\":\"1970-01-01T00:00:00.000Z\""));
    ck_assert_ptr_nonnull(strstr(line, "\"host\":null,\"method\":null,\"target\":null,"
                                       "\"protocol\":null"));
    ck_assert_ptr_nonnull(strstr(line, "\"bytes_sent\":100,\"body_length\":1000"));
    ck_assert_ptr_nonnull(strstr(line, "\"completed\":false"));
}
END_TEST

static const struct {
    const char *line;
    const char *method, *target, *protocol; /* JSON values */
} split_cases[] = {
    {"GET / HTTP/1.1", "\"GET\"", "\"/\"", "\"HTTP/1.1\""},
    {"GET /a b HTTP/1.0", "\"GET\"", "\"/a b\"", "\"HTTP/1.0\""},
    {"GET /x", "\"GET\"", "\"/x\"", "null"},
    {"GET", "\"GET\"", "null", "null"},
    {"OPTIONS * HTTP/1.1", "\"OPTIONS\"", "\"*\"", "\"HTTP/1.1\""},
    {"GET http://h.test/p HTTP/1.1", "\"GET\"", "\"http://h.test/p\"", "\"HTTP/1.1\""},
};

START_TEST(json_request_line)
{
    char line[SF_LOG_LINE_MAX + 1], want[256];
    struct sf_access a = base_access();
    a.request_line = split_cases[_i].line;
    a.request_line_len = strlen(a.request_line);
    size_t n = fmt(SF_LOG_FORMAT_JSON, &a, line);
    assert_json_line(line, n);
    snprintf(want, sizeof(want), "\"method\":%s,\"target\":%s,\"protocol\":%s,",
             split_cases[_i].method, split_cases[_i].target, split_cases[_i].protocol);
    ck_assert_msg(strstr(line, want), "want %s in %s", want, line);
}
END_TEST

/* ---- hostile field values ---------------------------------------------------- */

static const struct {
    const char *in;
    size_t len;
    const char *json;     /* the JSON string, quotes included */
    const char *combined; /* the combined field, quotes excluded */
} esc_cases[] = {
#define S(s) s, sizeof(s) - 1
    {S("plain"), "\"plain\"", "plain"},
    {S(""), "\"\"", ""},
    {S("a\"b"), "\"a\\\"b\"", "a\\x22b"},
    {S("a\\b"), "\"a\\\\b\"", "a\\x5cb"},
    {S("\"\\\""), "\"\\\"\\\\\\\"\"", "\\x22\\x5c\\x22"},
    {S("tab\there"), "\"tab\\u0009here\"", "tab\\x09here"},
    {S("a\r\nb"), "\"a\\u000d\\u000ab\"", "a\\x0d\\x0ab"},
    {S("\x01\x1f\x7f"), "\"\\u0001\\u001f\\u007f\"", "\\x01\\x1f\\x7f"},
    {S("a\0b"), "\"a\\u0000b\"", "a\\x00b"},
    {S("/</script>"), "\"/</script>\"", "/</script>"},
    /* valid UTF-8 stays as it is in JSON */
    {S("caf\xc3\xa9"), "\"caf\xc3\xa9\"", "caf\\xc3\\xa9"},
    {S("\xe2\x82\xac"), "\"\xe2\x82\xac\"", "\\xe2\\x82\\xac"},
    {S("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"", "\\xf0\\x9f\\x98\\x80"},
    {S("\xef\xbf\xbf"), "\"\xef\xbf\xbf\"", "\\xef\\xbf\\xbf"},
    {S("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"", "\\xf4\\x8f\\xbf\\xbf"},
    /* each byte of an invalid sequence becomes U+FFFD */
    {S("\xff"), "\"\\ufffd\"", "\\xff"},
    {S("a\xc3"), "\"a\\ufffd\"", "a\\xc3"},
    {S("\xc3\x28"), "\"\\ufffd(\"", "\\xc3("},
    {S("\xc0\xaf"), "\"\\ufffd\\ufffd\"", "\\xc0\\xaf"},
    {S("\xe0\x80\xaf"), "\"\\ufffd\\ufffd\\ufffd\"", "\\xe0\\x80\\xaf"},
    {S("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"", "\\xed\\xa0\\x80"},
    {S("\xf0\x8f\xbf\xbf"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", "\\xf0\\x8f\\xbf\\xbf"},
    {S("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", "\\xf4\\x90\\x80\\x80"},
    {S("\xe2\x82"), "\"\\ufffd\\ufffd\"", "\\xe2\\x82"},
    {S("\x80\xbf"), "\"\\ufffd\\ufffd\"", "\\x80\\xbf"},
    {S("\xf8\x88\x80\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"",
     "\\xf8\\x88\\x80\\x80\\x80"},
    {S("\xe2\x82\xac\xff\xc3\xa9"), "\"\xe2\x82\xac\\ufffd\xc3\xa9\"",
     "\\xe2\\x82\\xac\\xff\\xc3\\xa9"},
#undef S
};

START_TEST(escape_table)
{
    char line[SF_LOG_LINE_MAX + 1], want[512];
    struct sf_access a = base_access();
    /* the user agent is the last field of both formats */
    a.user_agent = esc_cases[_i].in;
    a.user_agent_len = esc_cases[_i].len;
    size_t n = fmt(SF_LOG_FORMAT_JSON, &a, line);
    assert_json_line(line, n);
    snprintf(want, sizeof(want), ",\"user_agent\":%s}\n", esc_cases[_i].json);
    ck_assert_msg(n >= strlen(want) && strcmp(line + n - strlen(want), want) == 0,
                  "case %d: want ...%s got %s", _i, want, line);
    n = fmt(SF_LOG_FORMAT_COMBINED, &a, line);
    snprintf(want, sizeof(want), " \"%s\"\n", esc_cases[_i].combined);
    ck_assert_msg(n >= strlen(want) && strcmp(line + n - strlen(want), want) == 0,
                  "case %d: want ...%s got %s", _i, want, line);
    /* the same in the request line, the referer and the host */
    a = base_access();
    a.referer = a.host = esc_cases[_i].in;
    a.referer_len = a.host_len = esc_cases[_i].len;
    n = fmt(SF_LOG_FORMAT_JSON, &a, line);
    assert_json_line(line, n);
    snprintf(want, sizeof(want), "\"referer\":%s,", esc_cases[_i].json);
    ck_assert_msg(strstr(line, want), "case %d: want %s in %s", _i, want, line);
}
END_TEST

/* Count the unescaped quotes of a combined line: exactly the six that
 * delimit the request, the referer and the user agent. */
static void
assert_combined_line(const char *line, size_t n)
{
    ck_assert_msg(n > 1 && line[n - 1] == '\n', "no newline at the end");
    int quotes = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        unsigned char c = (unsigned char)line[i];
        ck_assert_msg(c >= 0x20 && c < 0x7f, "byte 0x%02x at %zu", c, i);
        quotes += c == '"';
    }
    ck_assert_int_eq(quotes, 6);
}

START_TEST(long_fields_are_cut)
{
    static char big[20000];
    char line[SF_LOG_LINE_MAX + 1];
    /* the worst case for each escape: control bytes, invalid bytes */
    for (int k = 0; k < 3; k++) {
        memset(big, k == 0 ? '\x01' : k == 1 ? '\xff' : 'a', sizeof(big));
        struct sf_access a = base_access();
        a.request_line = big;
        a.request_line_len = sizeof(big);
        a.host = a.referer = big;
        a.host_len = a.referer_len = sizeof(big);
        a.user_agent = "still here";
        a.user_agent_len = 10;
        size_t n = fmt(SF_LOG_FORMAT_JSON, &a, line);
        assert_json_line(line, n);
        /* a long field does not crowd out the ones after it */
        ck_assert_ptr_nonnull(strstr(line, "\"status\":200,"));
        ck_assert_ptr_nonnull(strstr(line, "\"user_agent\":\"still here\"}\n"));
        n = fmt(SF_LOG_FORMAT_COMBINED, &a, line);
        assert_combined_line(line, n);
        ck_assert_ptr_nonnull(strstr(line, "\" 200 1234 \""));
        ck_assert_ptr_nonnull(strstr(line, " \"still here\"\n"));
    }
    /* a multi-byte character is never cut in half */
    for (size_t i = 0; i + 2 < sizeof(big); i += 2)
        memcpy(big + i, "\xc3\xa9", 2);
    struct sf_access a = base_access();
    a.user_agent = big;
    a.user_agent_len = sizeof(big) - sizeof(big) % 2;
    size_t n = fmt(SF_LOG_FORMAT_JSON, &a, line);
    assert_json_line(line, n);
}
END_TEST

START_TEST(short_buffer)
{
    char out[64];
    struct sf_access a = base_access();
    ck_assert_uint_eq(sf_log_format_access(out, sizeof(out), SF_LOG_FORMAT_JSON, &a), 0);
    ck_assert_uint_eq(sf_log_format_access(out, sizeof(out), SF_LOG_FORMAT_COMBINED, &a), 0);
}
END_TEST

static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random bytes, biased towards the interesting ones. */
static size_t
random_field(uint64_t *s, char *buf, size_t cap)
{
    static const char pick[] = "\"\\\x00\x01\n\r\t\x7f\x80\xbf\xc0\xc3\xa9\xe2\x82\xac\xed\xa0"
                               "\xf0\x9f\x98\xf4\x90\xff a/";
    size_t n = rnd(s) % (rnd(s) % 8 == 0 ? cap : 64);
    for (size_t i = 0; i < n; i++)
        buf[i] = rnd(s) % 2 ? (char)(rnd(s) & 0xff) : pick[rnd(s) % (sizeof(pick) - 1)];
    return n;
}

/* The field rules byte by byte, as the formats document them: combined
 * writes ", \\ and bytes outside printable ASCII as \\xHH, JSON (ASCII
 * only here) escapes through sf_json_escape_ascii; an escape or byte that
 * does not fit in room ends the field. */
static size_t
ref_field(bool json, const char *s, size_t n, size_t room, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char e[8];
        size_t m;
        if (json) {
            m = sf_json_escape_ascii(ch, e);
        } else if (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f) {
            m = (size_t)snprintf(e, sizeof(e), "\\x%02x", ch);
        } else {
            e[0] = (char)ch;
            m = 1;
        }
        if (k + m > room)
            break;
        memcpy(out + k, e, m);
        k += m;
    }
    return k;
}

/* Random user agents around the field's budget, cut at every kind of
 * byte: each line ends with exactly the field the rule gives. */
START_TEST(fields_cut_as_the_rule)
{
    static char ua[2000], want[4000];
    char line[SF_LOG_LINE_MAX + 1];
    static const char pick[] = "\"\\\x01\x1f\x7f a/;";
    for (int json = 0; json < 2; json++) {
        enum sf_log_format f = json ? SF_LOG_FORMAT_JSON : SF_LOG_FORMAT_COMBINED;
        const char *tail = json ? "\"}\n" : "\"\n";
        /* the room the field has: what a long plain one keeps */
        struct sf_access a = base_access();
        memset(ua, 'a', sizeof(ua));
        a.user_agent = ua;
        a.user_agent_len = sizeof(ua);
        size_t n = fmt(f, &a, line);
        size_t room = 0;
        while (room < n && line[n - strlen(tail) - 1 - room] == 'a')
            room++;
        ck_assert_uint_gt(room, 100);
        ck_assert_uint_lt(room, sizeof(ua));
        uint64_t seed = 0x243f6a8885a308d3ULL + (uint64_t)json;
        for (int iter = 0; iter < 20000; iter++) {
            size_t len = room - 8 + rnd(&seed) % 24;
            for (size_t i = 0; i < len; i++) {
                uint64_t r = rnd(&seed);
                ua[i] = r % 4  ? (char)('a' + (r >> 8) % 26)
                        : json ? pick[(r >> 8) % (sizeof(pick) - 1)]
                               : (char)(r >> 8);
            }
            a.user_agent_len = len;
            n = fmt(f, &a, line);
            size_t k = ref_field(json, ua, len, room, want + 1);
            want[0] = '"';
            memcpy(want + 1 + k, tail, strlen(tail) + 1);
            size_t wn = strlen(want);
            ck_assert_msg(n >= wn && memcmp(line + n - wn, want, wn) == 0,
                          "%s, iteration %d: want ...%s got %s", json ? "json" : "combined", iter,
                          want, line);
        }
    }
}
END_TEST

START_TEST(random_bytes)
{
    static char f[5][3000];
    char line[SF_LOG_LINE_MAX + 1];
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    for (int iter = 0; iter < 3000; iter++) {
        struct sf_access a = base_access();
        size_t len[5];
        for (int k = 0; k < 5; k++)
            len[k] = random_field(&seed, f[k], sizeof(f[k]));
        a.request_line = f[0], a.request_line_len = len[0];
        a.host = f[1], a.host_len = len[1];
        a.referer = f[2], a.referer_len = len[2];
        a.user_agent = f[3], a.user_agent_len = len[3];
        f[4][len[4] < sizeof(f[4]) ? len[4] : 0] = '\0';
        a.client = f[4]; /* a client address is text, but be safe */
        a.status = (int)(rnd(&seed) % 600);
        a.bytes_sent = rnd(&seed);
        a.when_ms = rnd(&seed) % 4102444800000ULL;
        size_t n = fmt(SF_LOG_FORMAT_JSON, &a, line);
        assert_json_line(line, n);
        n = fmt(SF_LOG_FORMAT_COMBINED, &a, line);
        assert_combined_line(line, n);
        /* a section label of random bytes: one bare field before ':' */
        static char label[600], vhost[SF_LOG_VHOST_MAX], comb[SF_LOG_LINE_MAX + 1];
        struct sf_site site;
        memset(&site, 0, sizeof(site));
        size_t ll = random_field(&seed, label + 5, sizeof(label) - 6);
        memcpy(label, "site ", 5);
        for (size_t k = 5; k < 5 + ll; k++)
            label[k] = label[k] ? label[k] : 'z';
        label[5 + ll] = '\0';
        site.name = label;
        sf_log_vhost_name(&site, vhost, sizeof(vhost));
        a.vhost = vhost;
        a.port = (unsigned)(rnd(&seed) % 65536);
        n = fmt(SF_LOG_FORMAT_VHOST_COMBINED, &a, line);
        size_t m = fmt(SF_LOG_FORMAT_COMBINED, &a, comb);
        const char *sp = strchr(line, ' ');
        ck_assert_ptr_nonnull(sp);
        ck_assert_uint_eq(n - (size_t)(sp + 1 - line), m);
        ck_assert_str_eq(sp + 1, comb);
        const char *colon = memchr(line, ':', (size_t)(sp - line));
        ck_assert_ptr_nonnull(colon);
        ck_assert_uint_eq((size_t)(colon - line), strlen(vhost));
        for (const char *q = line; q < sp; q++)
            ck_assert_msg(*q > ' ' && *q < 0x7f && *q != '"', "byte 0x%02x", (unsigned char)*q);
    }
}
END_TEST

/* ---- destinations ------------------------------------------------------------ */

static char tmpdir[64];

static void
setup(void)
{
    unit_tmpdir(tmpdir, sizeof(tmpdir), "test_log");
}

static void
teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static char *
path_in(const char *name)
{
    char *p = malloc(PATH_MAX);
    ck_assert_ptr_nonnull(p);
    snprintf(p, PATH_MAX, "%s/%s", tmpdir, name);
    return p;
}

/* The file's contents (static buffer), "" when missing. */
static const char *
slurp(const char *name)
{
    static char buf[65536];
    char *p = path_in(name);
    int fd = open(p, O_RDONLY);
    free(p);
    buf[0] = '\0';
    if (fd < 0)
        return buf;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static int
count_lines(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void
log_one(struct sf_log *l, int site, const char *ua)
{
    struct sf_access a = base_access();
    a.site = site;
    a.user_agent = ua;
    a.user_agent_len = strlen(ua);
    sf_log_access(l, &a);
}

START_TEST(sinks)
{
    struct sf_config cfg;
    sf_config_defaults(&cfg);
    free(cfg.access_log);
    cfg.access_log = path_in("server.log");
    free(cfg.error_log);
    cfg.error_log = path_in("error.log");
    cfg.access_log_format = SF_LOG_FORMAT_JSON;
    cfg.nsites = 4;
    cfg.sites[0].access_log = NULL;             /* the server's */
    cfg.sites[1].access_log = path_in("a.log"); /* its own */
    cfg.sites[2].access_log = path_in("a.log"); /* the same file: one fd */
    cfg.sites[3].access_log = strdup("off");
    struct sf_log l;
    ck_assert_int_eq(sf_log_open(&l, &cfg), 0);
    ck_assert_uint_eq(l.nsinks, 2);
    ck_assert(sf_log_access_on(&l, -1));
    ck_assert(sf_log_access_on(&l, 0));
    ck_assert(sf_log_access_on(&l, 2));
    ck_assert(!sf_log_access_on(&l, 3));
    log_one(&l, -1, "none");
    log_one(&l, 0, "site0");
    log_one(&l, 1, "site1");
    log_one(&l, 2, "site2");
    log_one(&l, 3, "site3");
    /* buffered until a flush */
    ck_assert_str_eq(slurp("server.log"), "");
    sf_log_flush(&l);
    const char *s = slurp("server.log");
    ck_assert_int_eq(count_lines(s, "\n"), 2);
    ck_assert_int_eq(count_lines(s, "\"user_agent\":\"none\""), 1);
    ck_assert_int_eq(count_lines(s, "\"user_agent\":\"site0\""), 1);
    s = slurp("a.log");
    ck_assert_int_eq(count_lines(s, "\n"), 2);
    ck_assert_int_eq(count_lines(s, "\"user_agent\":\"site1\""), 1);
    ck_assert_int_eq(count_lines(s, "\"user_agent\":\"site2\""), 1);

    /* logrotate: move the file away, reopen, the next lines go to a new one */
    char *from = path_in("a.log"), *to = path_in("a.log.1");
    ck_assert_int_eq(rename(from, to), 0);
    log_one(&l, 1, "before-reopen");
    ck_assert_int_eq(sf_log_reopen(&l), 0);
    log_one(&l, 1, "after-reopen");
    sf_log_close(&l);
    ck_assert_int_eq(count_lines(slurp("a.log.1"), "before-reopen"), 1);
    ck_assert_int_eq(count_lines(slurp("a.log.1"), "after-reopen"), 0);
    ck_assert_int_eq(count_lines(slurp("a.log"), "after-reopen"), 1);
    free(from);
    free(to);
    sf_log_close(&l); /* twice is fine */
    sf_config_free(&cfg);
}
END_TEST

START_TEST(buffer_full_writes_whole_lines)
{
    struct sf_config cfg;
    sf_config_defaults(&cfg);
    free(cfg.access_log);
    cfg.access_log = path_in("big.log");
    struct sf_log l;
    ck_assert_int_eq(sf_log_open(&l, &cfg), 0);
    char ua[1000];
    memset(ua, 'u', sizeof(ua) - 1);
    ua[sizeof(ua) - 1] = '\0';
    for (int i = 0; i < 40; i++)
        log_one(&l, -1, ua);
    /* more than a buffer went out by itself, in whole lines */
    const char *s = slurp("big.log");
    size_t n = strlen(s);
    ck_assert_uint_gt(n, 0);
    ck_assert(s[n - 1] == '\n');
    sf_log_close(&l);
    s = slurp("big.log");
    ck_assert_int_eq(count_lines(s, "\n"), 40);
    sf_config_free(&cfg);
}
END_TEST

/* Lines of one second wait together; a line of another second sends
 * them; a line logged after its second ended goes out at once. */
START_TEST(one_second_per_buffer)
{
    struct sf_config cfg;
    sf_config_defaults(&cfg);
    free(cfg.access_log);
    cfg.access_log = path_in("sec.log");
    struct sf_log l;
    ck_assert_int_eq(sf_log_open(&l, &cfg), 0);
    struct sf_access a = base_access(); /* 15:04:05.123, 7 ms */
    a.user_agent = "first";
    a.user_agent_len = 5;
    sf_log_access(&l, &a);
    a.when_ms += 800; /* .923, ends .930: the same second */
    a.user_agent = "second";
    a.user_agent_len = 6;
    sf_log_access(&l, &a);
    ck_assert_str_eq(slurp("sec.log"), "");
    a.when_ms += 100; /* 15:04:06.023: the next second sends the first two */
    a.user_agent = "third";
    a.user_agent_len = 5;
    sf_log_access(&l, &a);
    const char *s = slurp("sec.log");
    ck_assert_int_eq(count_lines(s, "\n"), 2);
    ck_assert_int_eq(count_lines(s, "\"first\""), 1);
    ck_assert_int_eq(count_lines(s, "\"second\""), 1);
    /* started in second 06, ended in 07: its flush is past, it goes now
     * (with the line of 06 that waited) */
    a.when_ms += 900; /* 06.923 */
    a.duration_ms = 200;
    a.user_agent = "late";
    a.user_agent_len = 4;
    sf_log_access(&l, &a);
    s = slurp("sec.log");
    ck_assert_int_eq(count_lines(s, "\n"), 4);
    ck_assert_ptr_nonnull(strstr(s, "\"third\"\n"));
    ck_assert(strstr(s, "\"third\"\n") < strstr(s, "\"late\"\n"));
    /* the tick writes a second once it is over, not before */
    a.duration_ms = 7;
    a.when_ms = WHEN_MS + 5000; /* 15:04:10.123 */
    a.user_agent = "ten";
    a.user_agent_len = 3;
    sf_log_access(&l, &a);
    sf_log_tick(&l, WHEN_MS + 5876); /* 10.999 */
    ck_assert_int_eq(count_lines(slurp("sec.log"), "\n"), 4);
    sf_log_tick(&l, WHEN_MS + 5878); /* 11.001 */
    ck_assert_int_eq(count_lines(slurp("sec.log"), "\n"), 5);
    /* a late line of an older second goes out at once, alone, ahead of
     * the newer lines that wait for their second to end */
    a.when_ms = WHEN_MS + 6000; /* 11.123 */
    a.user_agent = "eleven";
    a.user_agent_len = 6;
    sf_log_access(&l, &a);
    a.when_ms = WHEN_MS + 5870; /* 10.993, ends 11.200 */
    a.duration_ms = 207;
    a.user_agent = "late-ten";
    a.user_agent_len = 8;
    sf_log_access(&l, &a);
    s = slurp("sec.log");
    ck_assert_int_eq(count_lines(s, "\n"), 6);
    ck_assert_int_eq(count_lines(s, "\"late-ten\""), 1);
    ck_assert_int_eq(count_lines(s, "\"eleven\""), 0);
    sf_log_flush(&l);
    s = slurp("sec.log");
    ck_assert_int_eq(count_lines(s, "\n"), 7);
    ck_assert(strstr(s, "\"late-ten\"") < strstr(s, "\"eleven\""));
    sf_log_close(&l);
    sf_config_free(&cfg);
}
END_TEST

/* A site's own format, and vhost_combined's VHOST taken from the site. */
START_TEST(site_formats)
{
    struct sf_config cfg;
    sf_config_defaults(&cfg);
    free(cfg.access_log);
    cfg.access_log = path_in("server.log");
    cfg.nsites = 2;
    cfg.sites[0].name = strdup("site docs");
    cfg.sites[0].access_log = path_in("docs.log");
    cfg.sites[0].access_log_format = SF_LOG_FORMAT_VHOST_COMBINED;
    cfg.sites[0].access_log_format_set = true;
    cfg.sites[1].name = strdup("site web");
    cfg.sites[1].names[0].name = strdup("www.example.com");
    cfg.sites[1].names[0].len = 15;
    cfg.sites[1].nnames = 1;
    cfg.sites[1].access_log = path_in("web.log");
    cfg.sites[1].access_log_format = SF_LOG_FORMAT_JSON;
    cfg.sites[1].access_log_format_set = true;
    struct sf_log l;
    ck_assert_int_eq(sf_log_open(&l, &cfg), 0);
    struct sf_access a = base_access();
    a.port = 8080;
    sf_log_access(&l, &a); /* no site: the server's, combined */
    a.site = 0;
    sf_log_access(&l, &a);
    a.site = 1;
    sf_log_access(&l, &a);
    sf_log_close(&l);
    ck_assert_str_eq(slurp("server.log"), "192.0.2.1 - - [02/Jan/2006:15:04:05 +0000] "
                                          "\"GET /a.txt HTTP/1.1\" 200 1234 \"-\" \"curl/8.0\"\n");
    ck_assert_str_eq(slurp("docs.log"), "docs:8080 192.0.2.1 - - [02/Jan/2006:15:04:05 +0000] "
                                        "\"GET /a.txt HTTP/1.1\" 200 1234 \"-\" \"curl/8.0\"\n");
    ck_assert_int_eq(strncmp(slurp("web.log"), "{\"time\":", 8), 0);

    /* the server's vhost_combined: a site-less line says - */
    cfg.access_log_format = SF_LOG_FORMAT_VHOST_COMBINED;
    ck_assert_int_eq(sf_log_open(&l, &cfg), 0);
    a.site = -1;
    sf_log_access(&l, &a);
    sf_log_close(&l);
    ck_assert_int_eq(count_lines(slurp("server.log"), "\n-:8080 192.0.2.1 - - ["), 1);

    /* one file in two formats is refused (sf_config_validate says why) */
    free(cfg.sites[1].access_log);
    cfg.sites[1].access_log = path_in("docs.log");
    ck_assert_int_eq(sf_log_open(&l, &cfg), -EINVAL);
    ck_assert_uint_eq(l.nsinks, 0);
    sf_log_close(&l);
    sf_config_free(&cfg);
}
END_TEST

/* A symbolic link planted at a log's path is refused, for the access log,
 * the error log and a reopen; its target is never written. */
START_TEST(symlinks_refused)
{
    struct sf_config cfg;
    struct stat st;
    char *target = path_in("target"), *link_path = path_in("link.log");
    ck_assert_int_eq(symlink(target, link_path), 0);
    for (int k = 0; k < 2; k++) {
        sf_config_defaults(&cfg);
        char **slot = k == 0 ? &cfg.access_log : &cfg.error_log;
        free(*slot);
        *slot = strdup(link_path);
        struct sf_log l;
        ck_assert_int_eq(sf_log_open(&l, &cfg), -ELOOP);
        sf_log_close(&l);
        ck_assert_int_ne(stat(target, &st), 0); /* not created through the link */
        sf_config_free(&cfg);
    }
    /* a reopen (after logrotate) that finds a link keeps the old file */
    sf_config_defaults(&cfg);
    free(cfg.access_log);
    cfg.access_log = path_in("real.log");
    free(cfg.error_log);
    cfg.error_log = path_in("error.log");
    struct sf_log l;
    ck_assert_int_eq(sf_log_open(&l, &cfg), 0);
    char *real = path_in("real.log"), *moved = path_in("real.log.1");
    ck_assert_int_eq(rename(real, moved), 0);
    ck_assert_int_eq(symlink(target, real), 0);
    ck_assert_int_eq(sf_log_reopen(&l), -ELOOP);
    log_one(&l, -1, "still-old");
    sf_log_close(&l);
    ck_assert_int_ne(stat(target, &st), 0);
    ck_assert_int_eq(count_lines(slurp("real.log.1"), "still-old"), 1);
    ck_assert_int_eq(count_lines(slurp("error.log"), "is a symbolic link"), 1);
    free(real);
    free(moved);
    free(target);
    free(link_path);
    sf_config_free(&cfg);
}
END_TEST

START_TEST(open_failure)
{
    struct sf_config cfg;
    sf_config_defaults(&cfg);
    cfg.nsites = 1;
    cfg.sites[0].access_log = strdup("/nonexistent/dir/x.log");
    struct sf_log l;
    ck_assert_int_lt(sf_log_open(&l, &cfg), 0);
    ck_assert_uint_eq(l.nsinks, 0);
    sf_log_close(&l);
    sf_config_free(&cfg);
}
END_TEST

START_TEST(zeroed_log_is_safe)
{
    struct sf_log l;
    memset(&l, 0, sizeof(l));
    l.access_fd = -1;
    log_one(&l, -1, "x");
    log_one(&l, 0, "x");
    sf_log_flush(&l);
    sf_log_close(&l);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *
log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("format");
    tcase_add_test(tc, json_checker_self_test);
    tcase_add_test(tc, combined_line);
    tcase_add_test(tc, vhost_combined_line);
    tcase_add_loop_test(tc, vhost_names, 0, N(vhost_cases));
    tcase_add_test(tc, vhost_name_cut);
    tcase_add_test(tc, json_line);
    tcase_add_loop_test(tc, json_request_line, 0, N(split_cases));
    tcase_add_loop_test(tc, escape_table, 0, N(esc_cases));
    tcase_add_test(tc, long_fields_are_cut);
    tcase_add_test(tc, fields_cut_as_the_rule);
    tcase_add_test(tc, short_buffer);
    tcase_add_test(tc, random_bytes);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    tc = tcase_create("sinks");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, sinks);
    tcase_add_test(tc, buffer_full_writes_whole_lines);
    tcase_add_test(tc, one_second_per_buffer);
    tcase_add_test(tc, site_formats);
    tcase_add_test(tc, symlinks_refused);
    tcase_add_test(tc, open_failure);
    tcase_add_test(tc, zeroed_log_is_safe);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(log_suite());
}
