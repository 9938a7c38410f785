/*
 * test_cond.c - unit tests for conditional requests: a table of header
 * combinations against the §13.2.2 outcome, a table for If-Range, one
 * for a second ETag of the same bytes (which tag matches, which is
 * sent), and the properties of the generated ETag.
 */
#include "sfhttpd/cond.h"

#include "sfhttpd/common.h"
#include "unit_util.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* The representation: ETag "abc", Last-Modified Sun, 06 Nov 1994 08:49:37 GMT. */
#define ETAG "\"abc\""
#define LM 784111777
#define D_EQ "Sun, 06 Nov 1994 08:49:37 GMT"
#define D_BEFORE "Sun, 06 Nov 1994 08:49:36 GMT"
#define D_AFTER "Sun, 06 Nov 1994 08:49:38 GMT"
#define D_EQ_850 "Sunday, 06-Nov-94 08:49:37 GMT"
#define D_EQ_ASC "Sun Nov  6 08:49:37 1994"
#define BAD_DATE "yesterday"

static struct sf_hval
hv(const char *s)
{
    struct sf_hval h = {s, s ? strlen(s) : 0};
    return h;
}

static const struct {
    const char *im, *inm, *ims, *ius;
    bool get;
    int want;
    const char *etag; /* NULL: ETAG */
} eval_cases[] = {
    /* No preconditions. */
    {NULL, NULL, NULL, NULL, true, 0, NULL},
    {NULL, NULL, NULL, NULL, false, 0, NULL},
    /* 1. If-Match: strong comparison, lists, "*". */
    {ETAG, NULL, NULL, NULL, true, 0, NULL},
    {ETAG, NULL, NULL, NULL, false, 0, NULL},
    {"\"xyz\"", NULL, NULL, NULL, true, 412, NULL},
    {"\"xyz\"", NULL, NULL, NULL, false, 412, NULL},
    {"W/\"abc\"", NULL, NULL, NULL, false, 412, NULL},
    {"\"x\", \"abc\"", NULL, NULL, NULL, false, 0, NULL},
    {" \"x\" ,\t\"abc\" ", NULL, NULL, NULL, false, 0, NULL},
    {"\"x\",,\"abc\",", NULL, NULL, NULL, false, 0, NULL},
    {"*", NULL, NULL, NULL, false, 0, NULL},
    {" * ", NULL, NULL, NULL, false, 0, NULL},
    {"\"abc\"", NULL, NULL, NULL, false, 412, "W/\"abc\""}, /* weak current tag */
    {"", NULL, NULL, NULL, false, 412, NULL},
    {"abc", NULL, NULL, NULL, false, 412, NULL},
    {"\"abc", NULL, NULL, NULL, false, 412, NULL},
    {"\"abc\" \"x\"", NULL, NULL, NULL, false, 412, NULL},
    {"\"ABC\"", NULL, NULL, NULL, false, 412, NULL},
    {"\"abc\",*", NULL, NULL, NULL, false, 412, NULL}, /* "*" is not a list member */
    /* 2. If-Unmodified-Since, only without If-Match. */
    {NULL, NULL, NULL, D_BEFORE, false, 412, NULL},
    {NULL, NULL, NULL, D_BEFORE, true, 412, NULL},
    {NULL, NULL, NULL, D_EQ, false, 0, NULL},
    {NULL, NULL, NULL, D_AFTER, false, 0, NULL},
    {NULL, NULL, NULL, D_EQ_ASC, false, 0, NULL},
    {NULL, NULL, NULL, BAD_DATE, false, 0, NULL},
    {NULL, NULL, NULL, "", false, 0, NULL},
    {ETAG, NULL, NULL, D_BEFORE, false, 0, NULL},
    {"\"xyz\"", NULL, NULL, D_AFTER, false, 412, NULL},
    /* 3. If-None-Match: weak comparison; 304 for GET/HEAD, else 412. */
    {NULL, ETAG, NULL, NULL, true, 304, NULL},
    {NULL, ETAG, NULL, NULL, false, 412, NULL},
    {NULL, "W/\"abc\"", NULL, NULL, true, 304, NULL},
    {NULL, "\"abc\"", NULL, NULL, true, 304, "W/\"abc\""},
    {NULL, "\"x\", W/\"abc\"", NULL, NULL, true, 304, NULL},
    {NULL, "\"x\",,\t\"abc\"", NULL, NULL, true, 304, NULL},
    {NULL, "\"x\"", NULL, NULL, true, 0, NULL},
    {NULL, "\"x\"", NULL, NULL, false, 0, NULL},
    {NULL, "*", NULL, NULL, true, 304, NULL},
    {NULL, "*", NULL, NULL, false, 412, NULL},
    {NULL, "\"abc", NULL, NULL, true, 0, NULL},         /* malformed: no match */
    {NULL, "\"x\" \"abc\"", NULL, NULL, true, 0, NULL}, /* missing comma */
    {NULL, "w/\"abc\"", NULL, NULL, true, 0, NULL},     /* W/ is case-sensitive */
    {NULL, "", NULL, NULL, true, 0, NULL},
    /* 4. If-Modified-Since: GET/HEAD only, ignored with If-None-Match. */
    {NULL, NULL, D_EQ, NULL, true, 304, NULL},
    {NULL, NULL, D_AFTER, NULL, true, 304, NULL},
    {NULL, NULL, D_BEFORE, NULL, true, 0, NULL},
    {NULL, NULL, D_EQ, NULL, false, 0, NULL},
    {NULL, NULL, D_EQ_850, NULL, true, 304, NULL},
    {NULL, NULL, D_EQ_ASC, NULL, true, 304, NULL},
    {NULL, NULL, BAD_DATE, NULL, true, 0, NULL},
    {NULL, NULL, D_EQ ", " D_EQ, NULL, true, 0, NULL}, /* more than one member */
    {NULL, "\"x\"", D_AFTER, NULL, true, 0, NULL},
    {NULL, ETAG, D_BEFORE, NULL, true, 304, NULL},
    /* Precedence across steps. */
    {ETAG, ETAG, NULL, NULL, true, 304, NULL},
    {ETAG, ETAG, NULL, NULL, false, 412, NULL},
    {ETAG, "\"x\"", D_EQ, NULL, true, 0, NULL},
    {"\"xyz\"", ETAG, NULL, NULL, true, 412, NULL}, /* step 1 before step 3 */
    {"\"xyz\"", NULL, D_EQ, NULL, true, 412, NULL},
    {NULL, ETAG, NULL, D_BEFORE, true, 412, NULL}, /* step 2 before step 3 */
    {NULL, NULL, D_EQ, D_BEFORE, true, 412, NULL}, /* step 2 before step 4 */
    {NULL, NULL, D_EQ, D_AFTER, true, 304, NULL},
    {ETAG, NULL, D_EQ, D_BEFORE, true, 304, NULL}, /* IUS ignored, IMS applies */
    {"*", "*", NULL, NULL, true, 304, NULL},
};

START_TEST(test_eval)
{
    const char *etag = eval_cases[_i].etag ? eval_cases[_i].etag : ETAG;
    struct sf_cond_headers h = {
        .if_match = hv(eval_cases[_i].im),
        .if_none_match = hv(eval_cases[_i].inm),
        .if_modified_since = hv(eval_cases[_i].ims),
        .if_unmodified_since = hv(eval_cases[_i].ius),
    };
    struct sf_validators v = {etag, strlen(etag), LM, NULL, 0};
    int rc = sf_cond_eval(&h, &v, eval_cases[_i].get);
    ck_assert_msg(
        rc == eval_cases[_i].want, "case %d: IM=%s INM=%s IMS=%s IUS=%s get=%d: %d, want %d", _i,
        eval_cases[_i].im ? eval_cases[_i].im : "-", eval_cases[_i].inm ? eval_cases[_i].inm : "-",
        eval_cases[_i].ims ? eval_cases[_i].ims : "-",
        eval_cases[_i].ius ? eval_cases[_i].ius : "-", eval_cases[_i].get, rc, eval_cases[_i].want);
}
END_TEST

START_TEST(test_eval_no_etag)
{
    /* A representation without an ETag: only "*" can match. */
    struct sf_validators v = {NULL, 0, LM, NULL, 0};
    struct sf_cond_headers h = {.if_match = hv(ETAG)};
    ck_assert_int_eq(sf_cond_eval(&h, &v, true), 412);
    h.if_match = hv("*");
    ck_assert_int_eq(sf_cond_eval(&h, &v, true), 0);
    struct sf_cond_headers h2 = {.if_none_match = hv(ETAG)};
    ck_assert_int_eq(sf_cond_eval(&h2, &v, true), 0);
    h2.if_none_match = hv("*");
    ck_assert_int_eq(sf_cond_eval(&h2, &v, true), 304);
}
END_TEST

START_TEST(test_eval_uses_len)
{
    /* Values are not NUL-terminated: only len bytes count. */
    static const char s[] = "\"abc\"junk";
    struct sf_validators v = {ETAG, 5, LM, NULL, 0};
    struct sf_cond_headers h = {.if_none_match = {s, 5}};
    ck_assert_int_eq(sf_cond_eval(&h, &v, true), 304);
    h.if_none_match.len = sizeof(s) - 1;
    ck_assert_int_eq(sf_cond_eval(&h, &v, true), 0);
    /* A present but empty If-Modified-Since is an invalid date. */
    struct sf_cond_headers h2 = {.if_modified_since = {s, 0}};
    ck_assert_int_eq(sf_cond_eval(&h2, &v, true), 0);
}
END_TEST

static const struct {
    const char *val;
    bool want;
    const char *etag; /* NULL: ETAG */
} if_range_cases[] = {
    {NULL, true, NULL},
    {ETAG, true, NULL},
    {" " ETAG "\t", true, NULL},
    {"\"abd\"", false, NULL},
    {"\"ab\"", false, NULL},
    {"W/\"abc\"", false, NULL},      /* weak tags never match */
    {"\"abc\"", false, "W/\"abc\""}, /* nor does a weak current tag */
    {"\"abc\", \"x\"", false, NULL}, /* one tag, not a list */
    {"\"abc", false, NULL},
    {"*", false, NULL},
    {"", false, NULL},
    {"   ", false, NULL},
    {"garbage", false, NULL},
    {D_EQ, true, NULL},
    {D_EQ_ASC, true, NULL},
    {" " D_EQ " ", true, NULL},
    {D_BEFORE, false, NULL},
    {D_AFTER, false, NULL},
    {BAD_DATE, false, NULL},
    {"Sun, 06 Nov 1994 08:49:37", false, NULL},
};

START_TEST(test_if_range)
{
    const char *etag = if_range_cases[_i].etag ? if_range_cases[_i].etag : ETAG;
    struct sf_validators v = {etag, strlen(etag), LM, NULL, 0};
    bool got = sf_cond_if_range(hv(if_range_cases[_i].val), &v);
    ck_assert_msg(got == if_range_cases[_i].want, "If-Range %s: %d, want %d",
                  if_range_cases[_i].val ? if_range_cases[_i].val : "(absent)", got,
                  if_range_cases[_i].want);
}
END_TEST

/* ---- a second ETag of the same bytes ---- */

/* The mtime ETag kept beside the content ETag ETAG (etag = content): both
 * match, and the response carries the one the client named. */
#define ALT "\"5f3a-1a2b00000007\""

static const struct {
    const char *im, *inm, *ir;
    int eval;   /* sf_cond_eval for a GET */
    bool range; /* sf_cond_if_range */
    bool alt;   /* sf_cond_use_alt */
} alt_cases[] = {
    {NULL, ETAG, NULL, 304, true, false},
    {NULL, ALT, NULL, 304, true, true},
    {NULL, "\"x\", " ALT, NULL, 304, true, true},
    {NULL, ETAG ", " ALT, NULL, 304, true, false}, /* names both: its own */
    {NULL, "*", NULL, 304, true, false},
    {NULL, "W/" ALT, NULL, 304, true, true}, /* weak comparison */
    {NULL, "\"x\"", NULL, 0, true, false},
    {NULL, "\"x\" junk " ALT, NULL, 0, true, false}, /* malformed: nothing */
    {ALT, NULL, NULL, 0, true, true},
    {"W/" ALT, NULL, NULL, 412, true, false}, /* strong comparison */
    {NULL, NULL, ALT, 0, true, true},
    {NULL, NULL, " " ALT " ", 0, true, true},
    {NULL, NULL, ETAG, 0, true, false},
    {NULL, NULL, "W/" ALT, 0, false, false},
    {NULL, ALT, ETAG, 304, true, false}, /* one names its own */
    {NULL, "\"x\"", ALT, 0, true, true},
    {NULL, NULL, D_EQ, 0, true, false},
};

START_TEST(test_alt)
{
    struct sf_cond_headers h = {.if_match = hv(alt_cases[_i].im),
                                .if_none_match = hv(alt_cases[_i].inm),
                                .if_range = hv(alt_cases[_i].ir)};
    struct sf_validators v = {ETAG, strlen(ETAG), LM, ALT, strlen(ALT)};
    ck_assert_int_eq(sf_cond_eval(&h, &v, true), alt_cases[_i].eval);
    ck_assert_int_eq(sf_cond_if_range(h.if_range, &v), alt_cases[_i].range);
    ck_assert_int_eq(sf_cond_use_alt(&h, &v), alt_cases[_i].alt);
}
END_TEST

START_TEST(test_no_alt)
{
    /* Without a second tag the other one is just another version's. */
    struct sf_validators v = {ETAG, strlen(ETAG), LM, NULL, 0};
    struct sf_cond_headers h = {.if_none_match = hv(ALT), .if_range = hv(ALT)};
    ck_assert_int_eq(sf_cond_eval(&h, &v, true), 0);
    ck_assert(!sf_cond_if_range(hv(ALT), &v));
    ck_assert(!sf_cond_use_alt(&h, &v));
    v.alt_etag = ALT; /* length 0: none */
    ck_assert_int_eq(sf_cond_eval(&h, &v, true), 0);
    ck_assert(!sf_cond_use_alt(&h, &v));
}
END_TEST

/* ---- generated ETags ---- */

static bool
valid_strong_etag(const char *s, size_t len)
{
    if (len < 2 || s[0] != '"' || s[len - 1] != '"')
        return false;
    for (size_t i = 1; i + 1 < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch <= 0x20 || ch == 0x7f)
            return false;
    }
    return true;
}

START_TEST(test_etag_format)
{
    char out[48];
    size_t len = sf_cond_etag(out, sizeof(out), 0x5f3a, 0x1a2b, 7);
    ck_assert_str_eq(out, "\"5f3a-1a2b00000007\"");
    ck_assert_uint_eq(len, strlen(out));

    /* The widest inputs fit in the documented 48 bytes. */
    len = sf_cond_etag(out, sizeof(out), ~0ULL, -1LL, 999999999L);
    ck_assert_uint_eq(len, strlen(out));
    ck_assert(len < sizeof(out));
    ck_assert(valid_strong_etag(out, len));

    /* The same inputs give the same tag. */
    char again[48];
    sf_cond_etag(again, sizeof(again), ~0ULL, -1LL, 999999999L);
    ck_assert_str_eq(out, again);
}
END_TEST

START_TEST(test_etag_changes)
{
    static const struct {
        unsigned long long size;
        long long sec;
        long nsec;
    } in[] = {
        {0, 0, 0},
        {1, 0, 0},
        {0, 1, 0},
        {0, 0, 1},
        {4096, 1700000000, 0},
        {4097, 1700000000, 0},
        {4096, 1700000001, 0},
        {4096, 1700000000, 1},
        {4096, 1700000000, 999999999},
        {0x10, 0x1, 0},
        {0x1, 0x10, 0},
        {0, 0x100000000LL, 0},
        {0, 0x1, 0x100000},
        {0, -1, 0},
        {0, 0, 999999999},
    };
    char tags[SF_ARRAY_LEN(in)][48];
    for (size_t i = 0; i < SF_ARRAY_LEN(in); i++) {
        size_t len = sf_cond_etag(tags[i], sizeof(tags[i]), in[i].size, in[i].sec, in[i].nsec);
        ck_assert(valid_strong_etag(tags[i], len));
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(tags[i], tags[j]) != 0, "collision %s for %zu and %zu", tags[i], i,
                          j);
    }
}
END_TEST

START_TEST(test_etag_usable)
{
    /* A generated tag matches itself through the header logic. */
    char tag[48];
    size_t len = sf_cond_etag(tag, sizeof(tag), 1234, 1700000000, 5);
    struct sf_validators v = {tag, len, 1700000000, NULL, 0};
    struct sf_cond_headers h = {.if_match = {tag, len}, .if_none_match = {tag, len}};
    ck_assert_int_eq(sf_cond_eval(&h, &v, true), 304);
    ck_assert(sf_cond_if_range((struct sf_hval){tag, len}, &v));
}
END_TEST

static Suite *
cond_suite(void)
{
    Suite *s = suite_create("cond");
    TCase *tc = tcase_create("eval");
    tcase_add_loop_test(tc, test_eval, 0, (int)SF_ARRAY_LEN(eval_cases));
    tcase_add_test(tc, test_eval_no_etag);
    tcase_add_test(tc, test_eval_uses_len);
    suite_add_tcase(s, tc);

    tc = tcase_create("if_range");
    tcase_add_loop_test(tc, test_if_range, 0, (int)SF_ARRAY_LEN(if_range_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("alt");
    tcase_add_loop_test(tc, test_alt, 0, (int)SF_ARRAY_LEN(alt_cases));
    tcase_add_test(tc, test_no_alt);
    suite_add_tcase(s, tc);

    tc = tcase_create("etag");
    tcase_add_test(tc, test_etag_format);
    tcase_add_test(tc, test_etag_changes);
    tcase_add_test(tc, test_etag_usable);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(cond_suite());
}
