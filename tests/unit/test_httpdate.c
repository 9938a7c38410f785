/*
 * test_httpdate.c - unit tests for httpdate: IMF-fixdate formatting,
 * tables of valid and invalid inputs in all three forms, RFC 850's
 * two-digit years, and format/parse round trips checked against the C
 * library's gmtime_r/timegm.
 */
#include "sfhttpd/httpdate.h"

#include "sfhttpd/common.h"
#include "unit_util.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const t_wkday[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const t_wkday_long[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                            "Thursday", "Friday", "Saturday"};
static const char *const t_month[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* ---- formatting ---- */

static const struct {
    long long t;
    const char *want;
} fmt_cases[] = {
    {0, "Thu, 01 Jan 1970 00:00:00 GMT"},
    {-1, "Wed, 31 Dec 1969 23:59:59 GMT"},
    {784111777, "Sun, 06 Nov 1994 08:49:37 GMT"},
    {951782400, "Tue, 29 Feb 2000 00:00:00 GMT"},
    {1709208000, "Thu, 29 Feb 2024 12:00:00 GMT"},
    {946684799, "Fri, 31 Dec 1999 23:59:59 GMT"},
    {2147483647, "Tue, 19 Jan 2038 03:14:07 GMT"},
    {4102444800, "Fri, 01 Jan 2100 00:00:00 GMT"},
    {-2203891200, "Thu, 01 Mar 1900 00:00:00 GMT"},
    {-62135596800, "Mon, 01 Jan 0001 00:00:00 GMT"},
    {253402300799, "Fri, 31 Dec 9999 23:59:59 GMT"},
    /* Out of the four-digit-year range: clamped, never overflowing. */
    {253402300800, "Fri, 31 Dec 9999 23:59:59 GMT"},
    {INT64_MAX, "Fri, 31 Dec 9999 23:59:59 GMT"},
    {INT64_MIN, "Sat, 01 Jan 0000 00:00:00 GMT"},
};

START_TEST(test_format_table)
{
    char buf[SF_HTTPDATE_LEN + 1];
    if (sizeof(time_t) < 8 && (fmt_cases[_i].t > INT32_MAX || fmt_cases[_i].t < INT32_MIN))
        return;
    memset(buf, 'x', sizeof(buf));
    sf_httpdate_format((time_t)fmt_cases[_i].t, buf);
    ck_assert_str_eq(buf, fmt_cases[_i].want);
    ck_assert_uint_eq(strlen(buf), SF_HTTPDATE_LEN);
}
END_TEST

START_TEST(test_format_ignores_tz)
{
    char a[SF_HTTPDATE_LEN + 1], b[SF_HTTPDATE_LEN + 1];
    setenv("TZ", "UTC", 1);
    tzset();
    sf_httpdate_format(784111777, a);
    setenv("TZ", "America/New_York", 1);
    tzset();
    sf_httpdate_format(784111777, b);
    ck_assert_str_eq(a, b);
    setenv("TZ", "Asia/Kolkata", 1);
    tzset();
    time_t t;
    ck_assert(sf_httpdate_parse(a, strlen(a), &t));
    ck_assert_int_eq((long long)t, 784111777);
}
END_TEST

/* ---- parsing: valid inputs ---- */

static const struct {
    const char *in;
    long long want;
} valid_cases[] = {
    {"Sun, 06 Nov 1994 08:49:37 GMT", 784111777},
    {"Sun Nov  6 08:49:37 1994", 784111777},
    {"Sun Nov 06 08:49:37 1994", 784111777}, /* asctime's 2DIGIT day */
    /* Recipients need not check the weekday; any real name is accepted. */
    {"Mon, 06 Nov 1994 08:49:37 GMT", 784111777},
    {"Sat Nov  6 08:49:37 1994", 784111777},
    {" \tSun, 06 Nov 1994 08:49:37 GMT\t ", 784111777},
    {"  Sun Nov  6 08:49:37 1994  ", 784111777},
    {"Thu, 01 Jan 1970 00:00:00 GMT", 0},
    {"Wed, 31 Dec 1969 23:59:59 GMT", -1},
    {"Tue, 29 Feb 2000 00:00:00 GMT", 951782400},
    {"Thu, 29 Feb 2024 12:00:00 GMT", 1709208000},
    {"Thu Feb 29 12:00:00 2024", 1709208000},
    {"Fri, 31 Dec 1999 23:59:59 GMT", 946684799},
    {"Tue, 19 Jan 2038 03:14:07 GMT", 2147483647},
    {"Fri, 01 Jan 2100 00:00:00 GMT", 4102444800},
    {"Thu, 01 Mar 1900 00:00:00 GMT", -2203891200},
    {"Mon, 01 Jan 0001 00:00:00 GMT", -62135596800},
    {"Fri, 31 Dec 9999 23:59:59 GMT", 253402300799},
    {"Fri Dec 31 23:59:59 9999", 253402300799},
    {"Wed, 30 Apr 2025 10:20:30 GMT", 1746008430},
    {"Wed Apr 30 10:20:30 2025", 1746008430},
};

START_TEST(test_parse_valid)
{
    time_t t = 12345;
    const char *in = valid_cases[_i].in;
    if (sizeof(time_t) < 8 &&
        (valid_cases[_i].want > INT32_MAX || valid_cases[_i].want < INT32_MIN))
        return;
    ck_assert_msg(sf_httpdate_parse(in, strlen(in), &t), "rejected \"%s\"", in);
    ck_assert_msg((long long)t == valid_cases[_i].want, "\"%s\" -> %lld, want %lld", in,
                  (long long)t, valid_cases[_i].want);
}
END_TEST

/* ---- parsing: invalid inputs ---- */

static const char *const invalid_cases[] = {
    "",
    "   ",
    "\t",
    "Sun",
    "Sun,",
    "Sun, 32 Nov 1994 08:49:37 GMT", /* day 32 */
    "Sun, 00 Nov 1994 08:49:37 GMT", /* day 0 */
    "Sun, 31 Nov 1994 08:49:37 GMT", /* November has 30 */
    "Fri, 30 Feb 2024 00:00:00 GMT", /* Feb 30 */
    "Wed, 29 Feb 2023 00:00:00 GMT", /* not a leap year */
    "Thu, 29 Feb 1900 00:00:00 GMT", /* century, not leap */
    "Sun, 06 Nov 1994 24:00:00 GMT", /* hour 24 */
    "Sun, 06 Nov 1994 08:60:00 GMT", /* minute 60 */
    "Sun, 06 Nov 1994 08:49:60 GMT", /* leap second */
    "Sun, 06 Nov 1994 08:49:61 GMT",
    "Sun, 06 Nov 1994 08:49:99 GMT",
    "Sun, 06 Nov 1994 08:49:37", /* missing GMT */
    "Sun, 06 Nov 1994 08:49:37 UTC",
    "Sun, 06 Nov 1994 08:49:37 gmt",
    "Sun, 06 Nov 1994 08:49:37 +0000",
    "Sun, 06 Nov 1994 08:49:37 GMT+1",
    "Sun, 06 Nov 1994 08:49:37 GMTx",
    "Sun, 06 Nov 1994 08:49:37 GMT,",
    "Sun, 06 Nov 1994 08:49:37  GMT",
    "sun, 06 Nov 1994 08:49:37 GMT", /* names are case-sensitive */
    "SUN, 06 Nov 1994 08:49:37 GMT",
    "Sun, 06 nov 1994 08:49:37 GMT",
    "Sux, 06 Nov 1994 08:49:37 GMT", /* not a weekday */
    "Sun, 06 Noo 1994 08:49:37 GMT", /* not a month */
    "Sun, 6 Nov 1994 08:49:37 GMT",  /* one-digit day */
    "Sun, 06 Nov 94 08:49:37 GMT",   /* two-digit year in fixdate */
    "Sun, 06 Nov 01994 08:49:37 GMT",
    "Sun, 06 Nov 1994 8:49:37 GMT",
    "Sun, 06 Nov 1994 08:49 GMT",
    "Sun, 06 Nov 1994 08-49-37 GMT",
    "Sun,06 Nov 1994 08:49:37 GMT",
    "Sun,  06 Nov 1994 08:49:37 GMT",
    "Sun, 06  Nov 1994 08:49:37 GMT",
    "Sun, 06-Nov-1994 08:49:37 GMT",
    "Sun, 0a Nov 1994 08:49:37 GMT",
    "Sun, 06 Nov 19x4 08:49:37 GMT",
    "Sun, -6 Nov 1994 08:49:37 GMT",
    "Sunday, 06 Nov 1994 08:49:37 GMT", /* long name, fixdate body */
    "Sunday, 06-Nov-1994 08:49:37 GMT", /* four-digit year in RFC 850 */
    "Sunday, 06-Nov-94 08:49:37",
    "Sunday, 06-Nov-94 08:49:37 UTC",
    "Sunday, 31-Nov-94 08:49:37 GMT",
    "Sunday, 06-Nov-94 24:49:37 GMT",
    "Sunday 06-Nov-94 08:49:37 GMT",
    "Sunday,06-Nov-94 08:49:37 GMT",
    "Sunday, 6-Nov-94 08:49:37 GMT",
    "Sunday, 06 Nov 94 08:49:37 GMT",
    "Sundae, 06-Nov-94 08:49:37 GMT",
    "Sun, 06-Nov-94 08:49:37 GMT", /* short name, RFC 850 body */
    "Sun Nov 6 08:49:37 1994",     /* asctime needs SP DIGIT */
    "Sun Nov   6 08:49:37 1994",
    "Sun Nov  6 08:49:37 94",
    "Sun Nov  6 08:49:37 1994 GMT",
    "Sun Nov 31 08:49:37 1994",
    "Sun Nov  6 08:49:60 1994",
    "Sun  Nov  6 08:49:37 1994",
    "Sunday Nov  6 08:49:37 1994",
    "Sun Nov  6 08:49:37  1994",
    "1994-11-06T08:49:37Z",
    "784111777",
    "yesterday",
};

START_TEST(test_parse_invalid)
{
    time_t t = 777;
    const char *in = invalid_cases[_i];
    ck_assert_msg(!sf_httpdate_parse(in, strlen(in), &t), "accepted \"%s\"", in);
    ck_assert_int_eq((long long)t, 777); /* untouched on failure */
}
END_TEST

START_TEST(test_parse_uses_len)
{
    time_t t;
    /* Not NUL-terminated: bytes past len must not be read as part of it. */
    static const char s[] = "Sun, 06 Nov 1994 08:49:37 GMTjunk";
    ck_assert(sf_httpdate_parse(s, SF_HTTPDATE_LEN, &t));
    ck_assert_int_eq((long long)t, 784111777);
    ck_assert(!sf_httpdate_parse(s, SF_HTTPDATE_LEN - 1, &t));
    ck_assert(!sf_httpdate_parse(s, sizeof(s) - 1, &t));
    /* An embedded NUL is just a bad byte. */
    static const char z[] = "Sun, 06 Nov 1994 08:49:37 G\0T";
    ck_assert(!sf_httpdate_parse(z, sizeof(z) - 1, &t));
    ck_assert(!sf_httpdate_parse(s, 0, &t));
}
END_TEST

/* ---- RFC 850 two-digit years ---- */

static int
utc_year_now(void)
{
    time_t now = time(NULL);
    struct tm tm;
    ck_assert(gmtime_r(&now, &tm) != NULL);
    return tm.tm_year + 1900;
}

START_TEST(test_rfc850_years)
{
    int now = utc_year_now();
    for (int yy = 0; yy < 100; yy++) {
        /* The one year with these digits in (now - 50, now + 50]. */
        int want_year = 0;
        for (int y = now - 49; y <= now + 50; y++)
            if (y % 100 == yy)
                want_year = y;
        ck_assert(want_year != 0);
        struct tm tm = {.tm_year = want_year - 1900, .tm_mon = 2, .tm_mday = 1, .tm_hour = 12};
        time_t want = timegm(&tm);

        char in[64];
        snprintf(in, sizeof(in), "Sunday, 01-Mar-%02d 12:00:00 GMT", yy);
        time_t t;
        ck_assert_msg(sf_httpdate_parse(in, strlen(in), &t), "rejected %s", in);
        ck_assert_msg(t == want, "%s: got %lld want %lld (year %d)", in, (long long)t,
                      (long long)want, want_year);
    }
}
END_TEST

START_TEST(test_rfc850_classic)
{
    /* RFC 9110's own example; 94 means 1994 until the year 2044. */
    if (utc_year_now() >= 2044)
        return;
    static const char s[] = "Sunday, 06-Nov-94 08:49:37 GMT";
    time_t t;
    ck_assert(sf_httpdate_parse(s, sizeof(s) - 1, &t));
    ck_assert_int_eq((long long)t, 784111777);
    static const char w[] = "Wednesday, 09-Nov-94 08:49:37 GMT";
    ck_assert(sf_httpdate_parse(w, sizeof(w) - 1, &t));
    ck_assert_int_eq((long long)t, 784111777 + 3 * 86400);
}
END_TEST

START_TEST(test_rfc850_leap_day)
{
    /* Validity of 29 Feb depends on the century chosen: in (now-50, now+50]
     * "00" is 2000 (leap) until 2050; "00" after that is 2100 (not leap). */
    time_t t;
    static const char s[] = "Tuesday, 29-Feb-00 00:00:00 GMT";
    if (utc_year_now() < 2050) {
        ck_assert(sf_httpdate_parse(s, sizeof(s) - 1, &t));
        ck_assert_int_eq((long long)t, 951782400);
    }
}
END_TEST

/* ---- round trips ---- */

/* Deterministic spread over the whole four-digit-year range. */
static int64_t
nth_time(unsigned i)
{
    static const int64_t lo = -62135596800LL, hi = 253402300799LL;
    uint64_t x = (uint64_t)i * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 29;
    return lo + (int64_t)(x % (uint64_t)(hi - lo + 1));
}

START_TEST(test_roundtrip)
{
    for (unsigned i = 0; i < 200000; i++) {
        int64_t v = i < 1000 ? (int64_t)i * 86399 - 40000000 : nth_time(i);
        time_t t = (time_t)v;
        if ((int64_t)t != v)
            continue;
        struct tm tm;
        ck_assert(gmtime_r(&t, &tm) != NULL);

        char got[SF_HTTPDATE_LEN + 1], want[64];
        sf_httpdate_format(t, got);
        snprintf(want, sizeof(want), "%s, %02d %s %04d %02d:%02d:%02d GMT", t_wkday[tm.tm_wday],
                 tm.tm_mday, t_month[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                 tm.tm_sec);
        ck_assert_str_eq(got, want);

        time_t back;
        ck_assert_msg(sf_httpdate_parse(got, strlen(got), &back), "rejected own %s", got);
        ck_assert_msg(back == t, "%s: %lld != %lld", got, (long long)back, (long long)t);

        /* The same instant in asctime form. */
        snprintf(want, sizeof(want), "%s %s %2d %02d:%02d:%02d %04d", t_wkday[tm.tm_wday],
                 t_month[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 tm.tm_year + 1900);
        ck_assert_msg(sf_httpdate_parse(want, strlen(want), &back), "rejected %s", want);
        ck_assert_msg(back == t, "%s: %lld != %lld", want, (long long)back, (long long)t);
    }
}
END_TEST

START_TEST(test_roundtrip_rfc850)
{
    int now = utc_year_now();
    for (unsigned i = 0; i < 20000; i++) {
        struct tm tm = {.tm_year = now - 49 - 1900 + (int)(i % 100),
                        .tm_mon = (int)(i % 12),
                        .tm_mday = 1 + (int)(i * 7 % 28),
                        .tm_hour = (int)(i % 24),
                        .tm_min = (int)(i * 13 % 60),
                        .tm_sec = (int)(i * 17 % 60)};
        time_t t = timegm(&tm);
        ck_assert(gmtime_r(&t, &tm) != NULL);
        char in[64];
        snprintf(in, sizeof(in), "%s, %02d-%s-%02d %02d:%02d:%02d GMT", t_wkday_long[tm.tm_wday],
                 tm.tm_mday, t_month[tm.tm_mon], (tm.tm_year + 1900) % 100, tm.tm_hour, tm.tm_min,
                 tm.tm_sec);
        time_t back;
        ck_assert_msg(sf_httpdate_parse(in, strlen(in), &back), "rejected %s", in);
        ck_assert_msg(back == t, "%s: %lld != %lld", in, (long long)back, (long long)t);
    }
}
END_TEST

static Suite *
httpdate_suite(void)
{
    Suite *s = suite_create("httpdate");
    TCase *tc = tcase_create("format");
    tcase_add_loop_test(tc, test_format_table, 0, (int)SF_ARRAY_LEN(fmt_cases));
    tcase_add_test(tc, test_format_ignores_tz);
    suite_add_tcase(s, tc);

    tc = tcase_create("parse");
    tcase_add_loop_test(tc, test_parse_valid, 0, (int)SF_ARRAY_LEN(valid_cases));
    tcase_add_loop_test(tc, test_parse_invalid, 0, (int)SF_ARRAY_LEN(invalid_cases));
    tcase_add_test(tc, test_parse_uses_len);
    suite_add_tcase(s, tc);

    tc = tcase_create("rfc850");
    tcase_add_test(tc, test_rfc850_years);
    tcase_add_test(tc, test_rfc850_classic);
    tcase_add_test(tc, test_rfc850_leap_day);
    suite_add_tcase(s, tc);

    tc = tcase_create("roundtrip");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_roundtrip_rfc850);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(httpdate_suite());
}
