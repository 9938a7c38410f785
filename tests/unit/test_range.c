/*
 * test_range.c - unit tests for the Range parser: one table of header
 * value, file size and range limit against the expected result and
 * coalesced ranges, plus checks of the output contract.
 */
#include "sfhttpd/range.h"

#include "sfhttpd/common.h"
#include "unit_util.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXR 8
#define K10 10000

enum { IGN = SF_RANGE_IGNORE, OK = SF_RANGE_OK, UNSAT = SF_RANGE_UNSATISFIABLE };

static const struct {
    const char *in;
    uint64_t size;
    unsigned max;
    int want;
    size_t n;
    struct sf_range r[4];
} cases[] = {
    /* The basic forms. */
    {"bytes=0-499", K10, MAXR, OK, 1, {{0, 499}}},
    {"bytes=500-999", K10, MAXR, OK, 1, {{500, 999}}},
    {"bytes=-500", K10, MAXR, OK, 1, {{9500, 9999}}},
    {"bytes=9500-", K10, MAXR, OK, 1, {{9500, 9999}}},
    {"bytes=0-0,-1", K10, MAXR, OK, 2, {{0, 0}, {9999, 9999}}},
    {"bytes=0-", K10, MAXR, OK, 1, {{0, 9999}}},
    {"bytes=9999-9999", K10, MAXR, OK, 1, {{9999, 9999}}},
    /* Whitespace around list elements, around the whole value. */
    {"bytes= 0-1 , 3-4", K10, MAXR, OK, 2, {{0, 1}, {3, 4}}},
    {"bytes=0-1\t,\t3-4 ", K10, MAXR, OK, 2, {{0, 1}, {3, 4}}},
    {" \tbytes=0-1\t", K10, MAXR, OK, 1, {{0, 1}}},
    /* The unit is case-insensitive. */
    {"BYTES=0-1", K10, MAXR, OK, 1, {{0, 1}}},
    {"Bytes=0-1", K10, MAXR, OK, 1, {{0, 1}}},
    /* Empty list elements are allowed and do not count. */
    {"bytes=,0-1,,5-6,", K10, MAXR, OK, 2, {{0, 1}, {5, 6}}},
    {"bytes=0-1, ,5-6", K10, MAXR, OK, 2, {{0, 1}, {5, 6}}},
    {"bytes=0-1,3-4,6-7,,,", K10, 3, OK, 3, {{0, 1}, {3, 4}, {6, 7}}},
    /* Clamping past EOF. */
    {"bytes=9000-20000", K10, MAXR, OK, 1, {{9000, 9999}}},
    {"bytes=0-18446744073709551615", K10, MAXR, OK, 1, {{0, 9999}}},
    {"bytes=-20000", K10, MAXR, OK, 1, {{0, 9999}}},
    {"bytes=-10000", K10, MAXR, OK, 1, {{0, 9999}}},
    {"bytes=-18446744073709551615", K10, MAXR, OK, 1, {{0, 9999}}},
    /* Sorting and merging of overlapping and adjacent ranges. */
    {"bytes=0-4,5-9", K10, MAXR, OK, 1, {{0, 9}}},
    {"bytes=0-1,2-3", K10, MAXR, OK, 1, {{0, 3}}},
    {"bytes=0-4,3-9", K10, MAXR, OK, 1, {{0, 9}}},
    {"bytes=500-600,0-100", K10, MAXR, OK, 2, {{0, 100}, {500, 600}}},
    {"bytes=5-5,4-4,6-6", K10, MAXR, OK, 1, {{4, 6}}},
    {"bytes=0-1,5000-5001,2-3", K10, MAXR, OK, 2, {{0, 3}, {5000, 5001}}},
    {"bytes=10-20,12-15", K10, MAXR, OK, 1, {{10, 20}}},
    {"bytes=0-0,2-2", K10, MAXR, OK, 2, {{0, 0}, {2, 2}}},
    {"bytes=-1,0-0,50-50", 100, MAXR, OK, 3, {{0, 0}, {50, 50}, {99, 99}}},
    {"bytes=9990-,-5", K10, MAXR, OK, 1, {{9990, 9999}}},
    /* Satisfiable and unsatisfiable mixed: keep the satisfiable ones. */
    {"bytes=0-1,10000-", K10, MAXR, OK, 1, {{0, 1}}},
    {"bytes=20000-30000,5-6", K10, MAXR, OK, 1, {{5, 6}}},
    {"bytes=0-1,-0", K10, MAXR, OK, 1, {{0, 1}}},
    /* Nothing satisfiable. */
    {"bytes=-0", K10, MAXR, UNSAT, 0, {{0, 0}}},
    {"bytes=10000-", K10, MAXR, UNSAT, 0, {{0, 0}}},
    {"bytes=10000-10001,20000-", K10, MAXR, UNSAT, 0, {{0, 0}}},
    {"bytes=18446744073709551615-", K10, MAXR, UNSAT, 0, {{0, 0}}},
    {"bytes=-0,-0", K10, MAXR, UNSAT, 0, {{0, 0}}},
    {"bytes=0-", 0, MAXR, UNSAT, 0, {{0, 0}}},
    {"bytes=0-0", 0, MAXR, UNSAT, 0, {{0, 0}}},
    {"bytes=-5", 0, MAXR, UNSAT, 0, {{0, 0}}},
    {"bytes=0-1,-1", 0, MAXR, UNSAT, 0, {{0, 0}}},
    /* Syntax errors and other units: ignore the header. */
    {"bytes=", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=,", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes= , ", K10, MAXR, IGN, 0, {{0, 0}}},
    {"", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes", K10, MAXR, IGN, 0, {{0, 0}}},
    {"byte=0-1", K10, MAXR, IGN, 0, {{0, 0}}},
    {"items=0-1", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes =0-1", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes:0-1", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=500-400", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=100-50,0-1", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=0-1,100-50", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=0-1 2-3", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=a-1", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=1", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=-", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=--1", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=0--1", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=0 - 1", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=0- 1", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=0-1;", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=0x10-20", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=+1-2", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=1-2-3", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=0-1,bytes=2-3", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=10000-1", K10, MAXR, IGN, 0, {{0, 0}}}, /* invalid beats unsatisfiable */
    /* Numbers past uint64 are invalid, not huge. */
    {"bytes=18446744073709551616-", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=0-18446744073709551616", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=-18446744073709551616", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=-99999999999999999999999", K10, MAXR, IGN, 0, {{0, 0}}},
    /* Too many specs, counted before merging and including unsatisfiable ones. */
    {"bytes=0-1,3-4,6-7", K10, 2, IGN, 0, {{0, 0}}},
    {"bytes=0-1,20000-,30000-", K10, 2, IGN, 0, {{0, 0}}},
    {"bytes=0-0,1-1,2-2", K10, 2, IGN, 0, {{0, 0}}},
    {"bytes=0-1", K10, 0, IGN, 0, {{0, 0}}},
    {"bytes=0-1,3-4,6-7", K10, 3, OK, 3, {{0, 1}, {3, 4}, {6, 7}}},
    /* More bytes asked for than the file holds: no amplification. */
    {"bytes=0-,0-", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=0-9999,0-0", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=-6000,-6000", K10, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=0-0,-1", 1, MAXR, IGN, 0, {{0, 0}}},
    {"bytes=0-4999,5000-9999", K10, MAXR, OK, 1, {{0, 9999}}},  /* exactly size */
    {"bytes=0-4999,5000-20000", K10, MAXR, OK, 1, {{0, 9999}}}, /* clamped first */
    /* The largest representable file. */
    {"bytes=0-", UINT64_MAX, MAXR, OK, 1, {{0, UINT64_MAX - 1}}},
    {"bytes=-1", UINT64_MAX, MAXR, OK, 1, {{UINT64_MAX - 1, UINT64_MAX - 1}}},
    {"bytes=18446744073709551614-18446744073709551615",
     UINT64_MAX,
     MAXR,
     OK,
     1,
     {{UINT64_MAX - 1, UINT64_MAX - 1}}},
    {"bytes=18446744073709551615-", UINT64_MAX, MAXR, UNSAT, 0, {{0, 0}}},
};

START_TEST(test_table)
{
    struct sf_range out[MAXR + 1];
    size_t n = 999;
    const char *in = cases[_i].in;
    memset(out, 0xab, sizeof(out));

    /* Copy without a terminator so a read past len is caught by ASan. */
    size_t len = strlen(in);
    char *buf = malloc(len ? len : 1);
    ck_assert(buf != NULL);
    memcpy(buf, in, len);
    enum sf_range_result rc =
        sf_range_parse(buf, len, cases[_i].size, cases[_i].max, out, cases[_i].max, &n);
    free(buf);

    ck_assert_msg((int)rc == cases[_i].want, "\"%s\" size %llu: result %d, want %d", in,
                  (unsigned long long)cases[_i].size, (int)rc, cases[_i].want);
    ck_assert_msg(n == cases[_i].n, "\"%s\": n %zu, want %zu", in, n, cases[_i].n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(out[i].first == cases[_i].r[i].first && out[i].last == cases[_i].r[i].last,
                      "\"%s\" range %zu: %llu-%llu, want %llu-%llu", in, i,
                      (unsigned long long)out[i].first, (unsigned long long)out[i].last,
                      (unsigned long long)cases[_i].r[i].first,
                      (unsigned long long)cases[_i].r[i].last);
    }
    /* Nothing written past the capacity we passed. */
    if (cases[_i].max < MAXR + 1) {
        struct sf_range canary;
        memset(&canary, 0xab, sizeof(canary));
        ck_assert(memcmp(&out[cases[_i].max], &canary, sizeof(canary)) == 0);
    }
}
END_TEST

START_TEST(test_uses_len)
{
    static const char s[] = "bytes=0-499,600-700";
    struct sf_range out[MAXR];
    size_t n;
    /* Only "bytes=0-4" is inside len. */
    ck_assert_int_eq(sf_range_parse(s, 9, K10, MAXR, out, MAXR, &n), SF_RANGE_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(out[0].last, 4);
    ck_assert_int_eq(sf_range_parse(s, 6, K10, MAXR, out, MAXR, &n), SF_RANGE_IGNORE);
    ck_assert_int_eq(sf_range_parse(s, 0, K10, MAXR, out, MAXR, &n), SF_RANGE_IGNORE);
    ck_assert_uint_eq(n, 0);
    static const char z[] = "bytes=0-1\0,5-6";
    ck_assert_int_eq(sf_range_parse(z, sizeof(z) - 1, K10, MAXR, out, MAXR, &n), SF_RANGE_IGNORE);
}
END_TEST

START_TEST(test_many_ranges)
{
    /* 100 single bytes at even offsets in reverse order: sorted, none merged. */
    char buf[2048];
    size_t len = (size_t)snprintf(buf, sizeof(buf), "bytes=");
    for (int i = 99; i >= 0; i--)
        len +=
            (size_t)snprintf(buf + len, sizeof(buf) - len, "%d-%d%s", 2 * i, 2 * i, i ? "," : "");
    struct sf_range out[100];
    size_t n;
    ck_assert_int_eq(sf_range_parse(buf, len, 1000, 100, out, 100, &n), SF_RANGE_OK);
    ck_assert_uint_eq(n, 100);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(out[i].first, 2 * i);
        ck_assert_uint_eq(out[i].last, 2 * i);
    }
    ck_assert_int_eq(sf_range_parse(buf, len, 1000, 99, out, 100, &n), SF_RANGE_IGNORE);
}
END_TEST

static Suite *
range_suite(void)
{
    Suite *s = suite_create("range");
    TCase *tc = tcase_create("parse");
    tcase_add_loop_test(tc, test_table, 0, (int)SF_ARRAY_LEN(cases));
    tcase_add_test(tc, test_uses_len);
    tcase_add_test(tc, test_many_ranges);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(range_suite());
}
