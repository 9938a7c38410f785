/* test_escape.c - UTF-8 sequences and the JSON escape of a byte (escape.h). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sfhttpd/escape.h"
#include "unit_util.h"

#define S(s) s, sizeof(s) - 1

static const struct {
    const char *in;
    size_t n;
    int want;
} seqs[] = {
    {S("a"), 1},
    {S("\xC3\xA9"), 2},
    {S("\xE2\x82\xAC"), 3},
    {S("\xF0\x9F\x98\x80"), 4},
    {S("\xF4\x8F\xBF\xBF"), 4},  /* U+10FFFF */
    {S("\xED\x9F\xBF"), 3},      /* below the surrogates */
    {S("\x80"), -1},             /* a lone continuation */
    {S("\xC0\xAF"), -1},         /* overlong */
    {S("\xE0\x80\xAF"), -1},     /* overlong */
    {S("\xED\xA0\x80"), -1},     /* a surrogate */
    {S("\xF4\x90\x80\x80"), -1}, /* past U+10FFFF */
    {S("\xE2\x82"), -2},         /* cut short: its maximal subpart */
    {S("\xF0\x9F\x98"), -3},
    {S("\xE2\x82("), -2},
    {S("\xFF"), -1},
};

START_TEST(test_utf8_seq)
{
    for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++)
        ck_assert_msg(sf_utf8_seq((const unsigned char *)seqs[i].in, seqs[i].n) == seqs[i].want,
                      "row %zu: got %d, want %d", i,
                      sf_utf8_seq((const unsigned char *)seqs[i].in, seqs[i].n), seqs[i].want);
}
END_TEST

static const struct {
    unsigned char c;
    const char *want;
} escapes[] = {
    {'a', "a"},        {' ', " "},        {'"', "\\\""},  {'\\', "\\\\"},    {'/', "/"},
    {'\t', "\\u0009"}, {'\n', "\\u000a"}, {0, "\\u0000"}, {0x1f, "\\u001f"}, {0x7f, "\\u007f"},
};

START_TEST(test_json_escape_ascii)
{
    for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
        char out[6];
        size_t n = sf_json_escape_ascii(escapes[i].c, out);
        ck_assert_uint_eq(n, strlen(escapes[i].want));
        ck_assert_msg(memcmp(out, escapes[i].want, n) == 0, "row %zu", i);
    }
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("escape");
    TCase *tc = tcase_create("escape");
    tcase_add_test(tc, test_utf8_seq);
    tcase_add_test(tc, test_json_escape_ascii);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
