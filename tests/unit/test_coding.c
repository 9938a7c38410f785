/*
 * test_coding.c - Accept-Encoding negotiation: a table of header values
 * and the coding masks they must produce; a variant's ETag.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sfhttpd/coding.h"
#include "unit_util.h"

#define BR (1u << SF_CODING_BR)
#define ZSTD (1u << SF_CODING_ZSTD)
#define GZ (1u << SF_CODING_GZIP)
#define ALL (BR | ZSTD | GZ)

static const struct {
    const char *in;
    unsigned want;
} cases[] = {
    {"", 0},
    {"identity", 0},
    {"gzip", GZ},
    {"GZIP", GZ},
    {"x-gzip", GZ},
    {"X-Gzip;q=0.5", GZ},
    {"br", BR},
    {"Br", BR},
    {"zstd", ZSTD},
    {"gzip, deflate, br", GZ | BR},
    {"gzip, deflate, br;q=0.8, zstd;q=0", GZ | BR},
    {"gzip, deflate, br, zstd", ALL},
    {"*", ALL},
    {"*;q=0.5", ALL},
    {"*;q=0", 0},
    {"*, gzip;q=0", BR | ZSTD},
    {"gzip;q=0, *", BR | ZSTD},
    {"br;q=0, *;q=0.1", ZSTD | GZ},
    {"*;q=0, br", BR},
    {"identity;q=1, *;q=0", 0},
    {"  gzip  ,\tbr\t", GZ | BR},
    {",,, ,gzip,,", GZ},
    {"gzip ; q=0.5", GZ},
    {"gzip;Q=0.5", GZ},
    {"gzip;q=1", GZ},
    {"gzip;q=1.0", GZ},
    {"gzip;q=1.000", GZ},
    {"gzip;q=0.001", GZ},
    {"gzip;q=0.000", 0},
    {"gzip;q=0.", 0},
    {"gzip;q=abc", 0},
    {"gzip;q=1.5", 0},
    {"gzip;q=2", 0},
    {"gzip;q=1.001", 0},
    {"gzip;q=0.1234", 0},
    {"gzip;q=", 0},
    {"gzip;q=-1", 0},
    {"gzip;q=.5", 0},
    {"gzip;level=9", 0},
    {"gzip;", 0},
    {"gzip;q=abc, br", BR},
    {"*;q=abc, br", BR},
    {"gz ip, br", BR},
    {"gzip br", 0},
    {"gzipx, brotli, zst", 0},
    {"gzip;q=0, gzip", GZ},
    {"gzip, gzip;q=0", 0},
    {"zstd;q=0.9, br;q=1.0, gzip;q=0.8", ALL},
    {"deflate, compress", 0},
};

START_TEST(test_table)
{
    const char *in = cases[_i].in;
    unsigned got = sf_coding_accepted(in, strlen(in));
    ck_assert_msg(got == cases[_i].want, "\"%s\": got %#x, want %#x", in, got, cases[_i].want);
}
END_TEST

START_TEST(test_absent)
{
    ck_assert_uint_eq(sf_coding_accepted(NULL, 0), 0);
}
END_TEST

START_TEST(test_not_nul_terminated)
{
    /* Only len bytes count: "gzip" here, not "gzip, br". */
    static const char in[] = "gzip, br";
    ck_assert_uint_eq(sf_coding_accepted(in, 4), GZ);
    ck_assert_uint_eq(sf_coding_accepted(in, 2), 0);
    char *heap = malloc(4);
    ck_assert_ptr_nonnull(heap);
    memcpy(heap, "zstd", 4);
    ck_assert_uint_eq(sf_coding_accepted(heap, 4), ZSTD);
    free(heap);
}
END_TEST

START_TEST(test_names)
{
    ck_assert_str_eq(sf_coding_name(SF_CODING_BR), "br");
    ck_assert_str_eq(sf_coding_name(SF_CODING_ZSTD), "zstd");
    ck_assert_str_eq(sf_coding_name(SF_CODING_GZIP), "gzip");
    ck_assert_str_eq(sf_coding_suffix(SF_CODING_BR), ".br");
    ck_assert_str_eq(sf_coding_suffix(SF_CODING_ZSTD), ".zst");
    ck_assert_str_eq(sf_coding_suffix(SF_CODING_GZIP), ".gz");
}
END_TEST

/* sf_coding_by_name: the config's precompressed list and the negotiation
 * share it; exact names in any case, nothing else (x-gzip is an
 * Accept-Encoding alias only). */
static const struct {
    const char *s;
    size_t n; /* 0: strlen(s) */
    int want;
} by_name_cases[] = {
    {"br", 0, SF_CODING_BR},
    {"BR", 0, SF_CODING_BR},
    {"Zstd", 0, SF_CODING_ZSTD},
    {"gzip", 0, SF_CODING_GZIP},
    {"gzipx", 4, SF_CODING_GZIP},
    {"gzipx", 5, -1},
    {"x-gzip", 0, -1},
    {"gz", 0, -1},
    {"brotli", 0, -1},
    {"zst", 0, -1},
    {"*", 0, -1},
    {"br", 1, -1},
};

START_TEST(test_by_name)
{
    const char *s = by_name_cases[_i].s;
    size_t n = by_name_cases[_i].n ? by_name_cases[_i].n : strlen(s);
    ck_assert_msg(sf_coding_by_name(s, n) == by_name_cases[_i].want, "'%.*s'", (int)n, s);
}
END_TEST

/* A variant's ETag: the coding inside the closing quote; none (-1) or
 * no tag at all copies as it is. */
static const struct {
    const char *etag;
    int coding;
    const char *want;
} etag_cases[] = {
    {"\"5f3a-1a2b00000007\"", SF_CODING_BR, "\"5f3a-1a2b00000007-br\""},
    {"\"x3-00112233445566778899aabbccddeeff\"", SF_CODING_ZSTD,
     "\"x3-00112233445566778899aabbccddeeff-zstd\""},
    {"\"a\"", SF_CODING_GZIP, "\"a-gzip\""},
    {"\"a\"", -1, "\"a\""},
    {"", SF_CODING_BR, ""},
};

START_TEST(test_etag)
{
    char out[64];
    const char *in = etag_cases[_i].etag;
    memset(out, '#', sizeof(out));
    size_t n = sf_coding_etag(out, sizeof(out), in, strlen(in), etag_cases[_i].coding);
    ck_assert_uint_eq(n, strlen(etag_cases[_i].want));
    ck_assert_mem_eq(out, etag_cases[_i].want, n);
    ck_assert_int_eq(out[n], '#'); /* no NUL: the caller has the length */
}
END_TEST

static Suite *
coding_suite(void)
{
    Suite *s = suite_create("coding");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_table, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_test(tc, test_absent);
    tcase_add_test(tc, test_not_nul_terminated);
    tcase_add_test(tc, test_names);
    tcase_add_loop_test(tc, test_by_name, 0,
                        (int)(sizeof(by_name_cases) / sizeof(by_name_cases[0])));
    tcase_add_loop_test(tc, test_etag, 0, (int)(sizeof(etag_cases) / sizeof(etag_cases[0])));
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(coding_suite());
}
