/*
 * test_common.c - unit tests for the growable buffer: growth through
 * reserve, append and printf (small, large, many), the HTML and URL
 * escapers as tables of input bytes against expected output bytes (every
 * special character, bytes >= 0x80, NUL inside the input, empty input),
 * and sf_buf_free's NULL-safety and zeroing.
 */
#include "sfhttpd/common.h"
#include "unit_util.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A string literal with its length, so NULs inside it count. */
#define S(lit) lit, sizeof(lit) - 1

static int
is_pow2_times_256(size_t cap)
{
    if (cap < 256 || cap % 256)
        return 0;
    size_t k = cap / 256;
    return (k & (k - 1)) == 0;
}

/* ---- reserve, append, puts ---- */

START_TEST(test_zero_init_empty)
{
    struct sf_buf b = {0};
    /* nothing asked for: no allocation */
    ck_assert_int_eq(sf_buf_reserve(&b, 0), 0);
    ck_assert_ptr_null(b.data);
    ck_assert_int_eq(sf_buf_append(&b, NULL, 0), 0);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(sf_buf_puts(&b, ""), 0);
    ck_assert_uint_eq(b.len, 0);
    sf_buf_free(&b);
}
END_TEST

static const struct {
    size_t have;  /* bytes appended first */
    size_t extra; /* then reserved */
    size_t cap;   /* capacity afterwards */
} reserve_cases[] = {
    {0, 1, 256},      {0, 256, 256},    {0, 257, 512},     {0, 1000, 1024},
    {100, 156, 256},  {100, 157, 512},  {256, 0, 256},     {256, 1, 512},
    {300, 724, 1024}, {300, 725, 2048}, {0, 65536, 65536},
};

START_TEST(test_reserve_table)
{
    struct sf_buf b = {0};
    char *fill = calloc(1, reserve_cases[_i].have + 1);
    ck_assert_ptr_nonnull(fill);
    ck_assert_int_eq(sf_buf_append(&b, fill, reserve_cases[_i].have), 0);
    free(fill);
    ck_assert_int_eq(sf_buf_reserve(&b, reserve_cases[_i].extra), 0);
    ck_assert_uint_eq(b.len, reserve_cases[_i].have);
    ck_assert_msg(b.cap == reserve_cases[_i].cap, "have %zu + extra %zu: cap %zu, want %zu",
                  reserve_cases[_i].have, reserve_cases[_i].extra, b.cap, reserve_cases[_i].cap);
    ck_assert_uint_ge(b.cap - b.len, reserve_cases[_i].extra);
    sf_buf_free(&b);
}
END_TEST

START_TEST(test_reserve_too_big)
{
    struct sf_buf b = {0};
    ck_assert_int_eq(sf_buf_puts(&b, "keep"), 0);
    char *data = b.data;
    size_t cap = b.cap;
    /* refused before any allocation is tried, buffer untouched */
    static const size_t huge[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX / 2, SIZE_MAX / 2 - 3};
    for (size_t i = 0; i < SF_ARRAY_LEN(huge); i++) {
        ck_assert_int_eq(sf_buf_reserve(&b, huge[i]), -ENOMEM);
        ck_assert_int_eq(sf_buf_append(&b, "x", huge[i]), -ENOMEM);
        ck_assert_ptr_eq(b.data, data);
        ck_assert_uint_eq(b.cap, cap);
        ck_assert_uint_eq(b.len, 4);
        ck_assert_mem_eq(b.data, "keep", 4);
    }
    sf_buf_free(&b);
}
END_TEST

START_TEST(test_append_bytes_one_by_one)
{
    struct sf_buf b = {0};
    for (size_t i = 0; i < 5000; i++) {
        unsigned char ch = (unsigned char)(i * 7 + 3);
        ck_assert_int_eq(sf_buf_append(&b, &ch, 1), 0);
        ck_assert_uint_eq(b.len, i + 1);
        ck_assert_uint_ge(b.cap, b.len);
        ck_assert(is_pow2_times_256(b.cap));
    }
    for (size_t i = 0; i < 5000; i++)
        ck_assert_uint_eq((unsigned char)b.data[i], (unsigned char)(i * 7 + 3));
    sf_buf_free(&b);
}
END_TEST

START_TEST(test_append_large)
{
    /* one append far past the first capacity, then more on top */
    size_t big = (1u << 20) + 17;
    unsigned char *src = malloc(big);
    ck_assert_ptr_nonnull(src);
    for (size_t i = 0; i < big; i++)
        src[i] = (unsigned char)(i ^ (i >> 8));
    struct sf_buf b = {0};
    ck_assert_int_eq(sf_buf_puts(&b, "head:"), 0);
    ck_assert_int_eq(sf_buf_append(&b, src, big), 0);
    ck_assert_uint_eq(b.len, 5 + big);
    ck_assert_uint_ge(b.cap, b.len);
    ck_assert(is_pow2_times_256(b.cap));
    ck_assert_mem_eq(b.data, "head:", 5);
    ck_assert(memcmp(b.data + 5, src, big) == 0);
    ck_assert_int_eq(sf_buf_append(&b, src, big), 0);
    ck_assert_uint_eq(b.len, 5 + 2 * big);
    ck_assert(memcmp(b.data + 5 + big, src, big) == 0);
    ck_assert(memcmp(b.data + 5, src, big) == 0);
    free(src);
    sf_buf_free(&b);
}
END_TEST

START_TEST(test_append_with_nul)
{
    struct sf_buf b = {0};
    ck_assert_int_eq(sf_buf_append(&b, S("a\0b\0")), 0);
    ck_assert_int_eq(sf_buf_puts(&b, "c\0ignored"), 0);
    ck_assert_uint_eq(b.len, 5);
    ck_assert_mem_eq(b.data, "a\0b\0c", 5);
    sf_buf_free(&b);
}
END_TEST

/* ---- printf ---- */

START_TEST(test_printf)
{
    struct sf_buf b = {0};
    ck_assert_int_eq(sf_buf_printf(&b, "%s", ""), 0);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(sf_buf_printf(&b, "%d %s %zu|", -42, "x", (size_t)7), 0);
    ck_assert_uint_eq(b.len, 8);
    ck_assert_mem_eq(b.data, "-42 x 7|", 8);
    ck_assert_int_eq(sf_buf_puts(&b, "raw"), 0);
    ck_assert_int_eq(sf_buf_printf(&b, "%05u%%%c", 12u, 'z'), 0);
    ck_assert_uint_eq(b.len, 8 + 3 + 7);
    ck_assert_mem_eq(b.data, "-42 x 7|raw00012%z", 18);
    /* printf leaves a terminator just past len */
    ck_assert_uint_gt(b.cap, b.len);
    ck_assert_int_eq(b.data[b.len], '\0');
    sf_buf_free(&b);
}
END_TEST

START_TEST(test_printf_growth)
{
    /* output exactly at, just over and far over the capacity */
    static const size_t sizes[] = {255, 256, 257, 511, 512, 4096, 100000};
    for (size_t k = 0; k < SF_ARRAY_LEN(sizes); k++) {
        size_t n = sizes[k];
        char *s = malloc(n + 1);
        ck_assert_ptr_nonnull(s);
        for (size_t i = 0; i < n; i++)
            s[i] = (char)('a' + i % 26);
        s[n] = '\0';
        struct sf_buf b = {0};
        ck_assert_int_eq(sf_buf_printf(&b, "<%s>", s), 0);
        ck_assert_uint_eq(b.len, n + 2);
        ck_assert_uint_gt(b.cap, b.len);
        ck_assert_int_eq(b.data[0], '<');
        ck_assert(memcmp(b.data + 1, s, n) == 0);
        ck_assert_int_eq(b.data[n + 1], '>');
        ck_assert_int_eq(b.data[n + 2], '\0');
        /* and again on top of a non-empty buffer */
        ck_assert_int_eq(sf_buf_printf(&b, "%s", s), 0);
        ck_assert_uint_eq(b.len, 2 * n + 2);
        ck_assert(memcmp(b.data + n + 2, s, n) == 0);
        free(s);
        sf_buf_free(&b);
    }
}
END_TEST

START_TEST(test_printf_many)
{
    struct sf_buf b = {0};
    char want[16];
    for (int i = 0; i < 3000; i++)
        ck_assert_int_eq(sf_buf_printf(&b, "%04d,", i), 0);
    ck_assert_uint_eq(b.len, 3000 * 5);
    for (int i = 0; i < 3000; i++) {
        snprintf(want, sizeof(want), "%04d,", i);
        ck_assert_mem_eq(b.data + 5 * i, want, 5);
    }
    sf_buf_free(&b);
}
END_TEST

/* ---- escaping: tables of input bytes -> output bytes ---- */

struct esc_case {
    const char *in;
    size_t in_len;
    const char *out;
    size_t out_len;
};

static const struct esc_case html_cases[] = {
    {S(""), S("")},
    {S("plain text 123"), S("plain text 123")},
    {S("&"), S("&amp;")},
    {S("<"), S("&lt;")},
    {S(">"), S("&gt;")},
    {S("\""), S("&quot;")},
    {S("'"), S("&#39;")},
    {S("a&b<c>d\"e'f"), S("a&amp;b&lt;c&gt;d&quot;e&#39;f")},
    {S("<<>>"), S("&lt;&lt;&gt;&gt;")},
    {S("&amp;"), S("&amp;amp;")},
    {S("<script>alert('x')</script>"), S("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;")},
    /* everything else passes as is */
    {S("/%?#=+;:@!$,()*[]\\^`{|}~"), S("/%?#=+;:@!$,()*[]\\^`{|}~")},
    {S("\t\r\n\x01\x1f\x7f"), S("\t\r\n\x01\x1f\x7f")},
    {S("\x80\xc3\xa9\xfe\xff"), S("\x80\xc3\xa9\xfe\xff")},
    {S("caf\xc3\xa9 & th\xc3\xa9"), S("caf\xc3\xa9 &amp; th\xc3\xa9")},
    /* NUL inside the input is a byte like any other */
    {S("\0"), S("\0")},
    {S("a\0<b"), S("a\0&lt;b")},
    {S("<\0>\0"), S("&lt;\0&gt;\0")},
};

static const struct esc_case url_cases[] = {
    {S(""), S("")},
    /* unreserved characters and '/' pass */
    {S("abcdefghijklmnopqrstuvwxyz"), S("abcdefghijklmnopqrstuvwxyz")},
    {S("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), S("ABCDEFGHIJKLMNOPQRSTUVWXYZ")},
    {S("0123456789"), S("0123456789")},
    {S("-._~/"), S("-._~/")},
    {S("/dir/file-1.2_x~y"), S("/dir/file-1.2_x~y")},
    /* every other printable ASCII character */
    {S(" "), S("%20")},
    {S("!"), S("%21")},
    {S("\""), S("%22")},
    {S("#"), S("%23")},
    {S("$"), S("%24")},
    {S("%"), S("%25")},
    {S("&"), S("%26")},
    {S("'"), S("%27")},
    {S("("), S("%28")},
    {S(")"), S("%29")},
    {S("*"), S("%2A")},
    {S("+"), S("%2B")},
    {S(","), S("%2C")},
    {S(":"), S("%3A")},
    {S(";"), S("%3B")},
    {S("<"), S("%3C")},
    {S("="), S("%3D")},
    {S(">"), S("%3E")},
    {S("?"), S("%3F")},
    {S("@"), S("%40")},
    {S("["), S("%5B")},
    {S("\\"), S("%5C")},
    {S("]"), S("%5D")},
    {S("^"), S("%5E")},
    {S("`"), S("%60")},
    {S("{"), S("%7B")},
    {S("|"), S("%7C")},
    {S("}"), S("%7D")},
    /* controls */
    {S("\x01\t\n\r\x1f\x7f"), S("%01%09%0A%0D%1F%7F")},
    /* bytes >= 0x80, upper-case hex */
    {S("\x80\xab\xc3\xa9\xfe\xff"), S("%80%AB%C3%A9%FE%FF")},
    /* NUL inside the input, given by length */
    {S("\0"), S("%00")},
    {S("a\0b"), S("a%00b")},
    {S("\0\0/"), S("%00%00/")},
    /* mixed */
    {S("/a b/c%d?e#f"), S("/a%20b/c%25d%3Fe%23f")},
    {S("100% <sure>.txt"), S("100%25%20%3Csure%3E.txt")},
    {S("%2F"), S("%252F")},
};

static void
check_escape(const char *what, int (*fn)(struct sf_buf *, const char *, size_t),
             const struct esc_case *c)
{
    /* the input in its own allocation, no terminator: ASan catches a read
     * past in_len */
    char *in = malloc(c->in_len ? c->in_len : 1);
    ck_assert_ptr_nonnull(in);
    memcpy(in, c->in, c->in_len);

    /* into an empty buffer */
    struct sf_buf b = {0};
    ck_assert_int_eq(fn(&b, in, c->in_len), 0);
    ck_assert_msg(b.len == c->out_len, "%s case of %zu bytes: len %zu, want %zu", what, c->in_len,
                  b.len, c->out_len);
    if (c->out_len)
        ck_assert_mem_eq(b.data, c->out, c->out_len);
    sf_buf_free(&b);

    /* appended after existing bytes, which stay */
    ck_assert_int_eq(sf_buf_puts(&b, "pre|"), 0);
    ck_assert_int_eq(fn(&b, in, c->in_len), 0);
    ck_assert_uint_eq(b.len, 4 + c->out_len);
    ck_assert_mem_eq(b.data, "pre|", 4);
    if (c->out_len)
        ck_assert_mem_eq(b.data + 4, c->out, c->out_len);
    sf_buf_free(&b);
    free(in);
}

START_TEST(test_html_table)
{
    check_escape("html", sf_buf_html_escape, &html_cases[_i]);
}
END_TEST

START_TEST(test_url_table)
{
    check_escape("url", sf_buf_url_escape, &url_cases[_i]);
}
END_TEST

/* Every byte value, against an independent statement of each rule. */
START_TEST(test_every_byte)
{
    for (int v = 0; v < 256; v++) {
        char ch = (char)v;
        struct sf_buf b = {0};
        ck_assert_int_eq(sf_buf_url_escape(&b, &ch, 1), 0);
        int pass = (v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z') || (v >= '0' && v <= '9') ||
                   (v != 0 && strchr("-._~/", v) != NULL);
        if (pass) {
            ck_assert_uint_eq(b.len, 1);
            ck_assert_int_eq(b.data[0], ch);
        } else {
            char want[4];
            snprintf(want, sizeof(want), "%%%02X", (unsigned)v);
            ck_assert_msg(b.len == 3 && memcmp(b.data, want, 3) == 0, "url byte 0x%02x", v);
        }
        sf_buf_free(&b);

        ck_assert_int_eq(sf_buf_html_escape(&b, &ch, 1), 0);
        const char *rep = v == '&'    ? "&amp;"
                          : v == '<'  ? "&lt;"
                          : v == '>'  ? "&gt;"
                          : v == '"'  ? "&quot;"
                          : v == '\'' ? "&#39;"
                                      : NULL;
        if (rep) {
            ck_assert_uint_eq(b.len, strlen(rep));
            ck_assert_mem_eq(b.data, rep, b.len);
        } else {
            ck_assert_msg(b.len == 1 && b.data[0] == ch, "html byte 0x%02x", v);
        }
        sf_buf_free(&b);
    }
}
END_TEST

START_TEST(test_escape_large)
{
    /* long inputs force growth in the middle of escaping */
    size_t n = 70000;
    char *in = malloc(n);
    ck_assert_ptr_nonnull(in);
    for (size_t i = 0; i < n; i++)
        in[i] = (char)(i % 2 ? '<' : 0xe9);
    struct sf_buf b = {0};
    ck_assert_int_eq(sf_buf_html_escape(&b, in, n), 0);
    ck_assert_uint_eq(b.len, n / 2 * (1 + 4));
    for (size_t i = 0; i < n / 2; i++)
        ck_assert(memcmp(b.data + 5 * i, "\xe9&lt;", 5) == 0);
    sf_buf_free(&b);
    ck_assert_int_eq(sf_buf_url_escape(&b, in, n), 0);
    ck_assert_uint_eq(b.len, 3 * n);
    for (size_t i = 0; i < n / 2; i++)
        ck_assert(memcmp(b.data + 6 * i, "%E9%3C", 6) == 0);
    sf_buf_free(&b);
    free(in);
}
END_TEST

START_TEST(test_url_escape_length_overflow)
{
    /* n * 3 would wrap around: refused, never read, buffer untouched */
    struct sf_buf b = {0};
    ck_assert_int_eq(sf_buf_puts(&b, "x"), 0);
    char *data = b.data;
    static const size_t huge[] = {SIZE_MAX, SIZE_MAX / 3 + 1, SIZE_MAX / 2};
    for (size_t i = 0; i < SF_ARRAY_LEN(huge); i++) {
        ck_assert_int_eq(sf_buf_url_escape(&b, "a", huge[i]), -ENOMEM);
        ck_assert_ptr_eq(b.data, data);
        ck_assert_uint_eq(b.len, 1);
    }
    sf_buf_free(&b);
}
END_TEST

/* ---- free ---- */

START_TEST(test_free)
{
    sf_buf_free(NULL);

    struct sf_buf b = {0};
    sf_buf_free(&b); /* never allocated */
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 0);

    ck_assert_int_eq(sf_buf_printf(&b, "%s", "something"), 0);
    ck_assert_ptr_nonnull(b.data);
    sf_buf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 0);
    sf_buf_free(&b); /* twice is fine */

    /* usable again after free */
    ck_assert_int_eq(sf_buf_puts(&b, "again"), 0);
    ck_assert_uint_eq(b.len, 5);
    ck_assert_mem_eq(b.data, "again", 5);
    sf_buf_free(&b);
    ck_assert_ptr_null(b.data);
}
END_TEST

/* sf_is_tchar: exactly RFC 9110's tchar, for every byte. */
START_TEST(test_tchar_every_byte)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    for (int c = 0; c < 256; c++) {
        bool want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    (c != 0 && memchr(extra, c, sizeof(extra) - 1) != NULL);
        ck_assert_msg(sf_is_tchar((unsigned char)c) == want, "byte 0x%02x", c);
    }
}
END_TEST

/* sf_is_ows: only SP and HTAB; sf_trim_ows drops them at both ends and
 * nothing else, and leaves an all-OWS range empty. */
START_TEST(test_ows_trim)
{
    for (int c = 0; c < 256; c++)
        ck_assert_msg(sf_is_ows((char)c) == (c == ' ' || c == '\t'), "byte 0x%02x", c);
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"", ""},       {" \t ", ""}, {"a", "a"},   {" \ta b\t ", "a b"}, {"\r a \n", "\r a \n"},
        {"\t,\t", ","}, {"x  ", "x"}, {"  y", "y"},
    };
    for (size_t k = 0; k < SF_ARRAY_LEN(cases); k++) {
        const char *p = cases[k].in, *end = p + strlen(p);
        sf_trim_ows(&p, &end);
        ck_assert_msg(end >= p && (size_t)(end - p) == strlen(cases[k].want) &&
                          memcmp(p, cases[k].want, (size_t)(end - p)) == 0,
                      "case %zu: \"%.*s\"", k, (int)(end - p), p);
    }
}
END_TEST

/* ---- sf_fmt_u64 ---- */

static const struct {
    uint64_t v;
    const char *want;
} u64_cases[] = {
    {0, "0"},
    {7, "7"},
    {9, "9"},
    {10, "10"},
    {99, "99"},
    {100, "100"},
    {1024, "1024"},
    {4294967295ULL, "4294967295"},
    {4294967296ULL, "4294967296"},
    {999999999999999999ULL, "999999999999999999"},
    {10000000000000000000ULL, "10000000000000000000"},
    {18446744073709551615ULL, "18446744073709551615"},
};

START_TEST(test_fmt_u64_table)
{
    char out[SF_U64_DIGITS + 2];
    memset(out, '#', sizeof(out));
    size_t n = sf_fmt_u64(out, u64_cases[_i].v);
    ck_assert_uint_eq(n, strlen(u64_cases[_i].want));
    ck_assert_mem_eq(out, u64_cases[_i].want, n);
    /* nothing written past the digits, no NUL */
    ck_assert_int_eq(out[n], '#');
}
END_TEST

START_TEST(test_fmt_u64_matches_printf)
{
    /* every power of ten and its neighbours */
    char out[SF_U64_DIGITS], want[32];
    for (uint64_t p = 1;; p *= 10) {
        for (uint64_t v = p - 1; v <= p + 1; v++) {
            size_t n = sf_fmt_u64(out, v);
            int w = snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
            ck_assert_uint_eq(n, (size_t)w);
            ck_assert_mem_eq(out, want, n);
        }
        if (p > UINT64_MAX / 10)
            break;
    }
}
END_TEST

/* The word tests against a byte-by-byte count: every pair of byte
 * values at every pair of positions of a word whose other bytes are
 * filler (one value below every threshold, one above), for the
 * thresholds and bytes the scanners use. */
START_TEST(test_word_every_pair)
{
    static const unsigned below[] = {1, 0x20, 0x21, 0x80};
    static const unsigned char has[] = {0, '"', '\\', 0x7f, 0xff};
    static const unsigned char fill[] = {0x00, 0x7e, 0xff};
    unsigned long checked = 0;
    for (size_t f = 0; f < SF_ARRAY_LEN(fill); f++) {
        for (unsigned a = 0; a < 8; a++) {
            for (unsigned b = a; b < 8; b++) {
                for (unsigned va = 0; va < 256; va++) {
                    for (unsigned vb = 0; vb < 256; vb += 3) {
                        char w[8];
                        memset(w, (char)fill[f], sizeof(w));
                        w[a] = (char)va;
                        w[b] = (char)vb;
                        uint64_t x = sf_word_load(w);
                        for (size_t t = 0; t < SF_ARRAY_LEN(below); t++) {
                            bool any = false;
                            for (int i = 0; i < 8; i++)
                                any |= (unsigned char)w[i] < below[t];
                            if ((sf_word_below(x, below[t]) != 0) != any)
                                ck_abort_msg("below 0x%x: 0x%02x at %u, 0x%02x at %u, fill 0x%02x",
                                             below[t], va, a, vb, b, fill[f]);
                        }
                        for (size_t h = 0; h < SF_ARRAY_LEN(has); h++) {
                            bool any = memchr(w, has[h], sizeof(w)) != NULL;
                            if ((sf_word_has(x, has[h]) != 0) != any)
                                ck_abort_msg("has 0x%02x: 0x%02x at %u, 0x%02x at %u, fill 0x%02x",
                                             has[h], va, a, vb, b, fill[f]);
                        }
                        bool high = false;
                        for (int i = 0; i < 8; i++)
                            high |= (unsigned char)w[i] >= 0x80;
                        if (((x & SF_WORD_HIGHS) != 0) != high)
                            ck_abort_msg("highs: 0x%02x at %u, 0x%02x at %u", va, a, vb, b);
                        checked++;
                    }
                }
            }
        }
    }
    ck_assert_uint_gt(checked, 300000);
}
END_TEST

static Suite *
common_suite(void)
{
    Suite *s = suite_create("common");

    TCase *tc = tcase_create("buf");
    tcase_add_test(tc, test_zero_init_empty);
    tcase_add_loop_test(tc, test_reserve_table, 0, (int)SF_ARRAY_LEN(reserve_cases));
    tcase_add_test(tc, test_reserve_too_big);
    tcase_add_test(tc, test_append_bytes_one_by_one);
    tcase_add_test(tc, test_append_large);
    tcase_add_test(tc, test_append_with_nul);
    tcase_add_test(tc, test_printf);
    tcase_add_test(tc, test_printf_growth);
    tcase_add_test(tc, test_printf_many);
    tcase_add_test(tc, test_free);
    suite_add_tcase(s, tc);

    tc = tcase_create("escape");
    tcase_add_loop_test(tc, test_html_table, 0, (int)SF_ARRAY_LEN(html_cases));
    tcase_add_loop_test(tc, test_url_table, 0, (int)SF_ARRAY_LEN(url_cases));
    tcase_add_test(tc, test_every_byte);
    tcase_add_test(tc, test_escape_large);
    tcase_add_test(tc, test_url_escape_length_overflow);
    suite_add_tcase(s, tc);

    tc = tcase_create("tchar");
    tcase_add_test(tc, test_tchar_every_byte);
    tcase_add_test(tc, test_ows_trim);
    suite_add_tcase(s, tc);

    tc = tcase_create("fmt_u64");
    tcase_add_loop_test(tc, test_fmt_u64_table, 0, (int)SF_ARRAY_LEN(u64_cases));
    tcase_add_test(tc, test_fmt_u64_matches_printf);
    suite_add_tcase(s, tc);

    tc = tcase_create("word");
    tcase_add_test(tc, test_word_every_pair);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run_mode(common_suite(), true);
}
