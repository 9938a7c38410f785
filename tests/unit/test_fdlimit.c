/*
 * test_fdlimit.c - unit tests for the descriptor budget (fdlimit.h): the
 * sizing formula as a table (nofile, listeners, sites, logs, listings,
 * given or auto values -> reserve, max_connections, open_file_cache_max,
 * listing folders, what was capped), that every plan fits its limit (one
 * descriptor per connection, one per cached file, the reserve), the
 * -T line, and that the raise leaves the soft limit at the hard one.
 */
#include "sfhttpd/fdlimit.h"
#include "sfhttpd/common.h"
#include "unit_util.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

struct plan_case {
    const char *name;
    unsigned long long nofile;
    size_t nlisten, nsites;
    bool logs;        /* error_log and access_log to files */
    bool listing;     /* one site lists folders */
    unsigned conns;   /* 0: auto */
    size_t cache;     /* 0: auto */
    unsigned reserve; /* expected */
    unsigned max_connections;
    size_t open_file_cache_max, listing_cache_max;
    unsigned capped_conns;
    size_t capped_cache;
};

/* fixed = 24 + listeners + sites + log files; listing folders = min(256,
 * (nofile - fixed) / 4) when listing; avail = nofile - reserve; the plan:
 * max_connections + open_file_cache_max <= avail. */
static const struct plan_case plan_cases[] = {
    /* plenty: auto takes its cap, 10000 each */
    {"big, auto", 1048576, 1, 1, false, false, 0, 0, 26, 10000, 10000, 256, 0, 0},
    {"big, listing", 1048576, 2, 3, true, true, 0, 0, 24 + 2 + 3 + 2 + 256, 10000, 10000, 256, 0,
     0},
    {"big, given", 1048576, 1, 1, false, false, 50000, 20000, 26, 50000, 20000, 256, 0, 0},
    /* the bench (bench/README.md): 10000 connections and 8192 cached
     * files fit a 20,000 hard limit as given, and its stated minimum */
    {"20000 bench", 20000, 1, 1, false, false, 10000, 8192, 26, 10000, 8192, 256, 0, 0},
    {"18448 bench", 18448, 1, 1, false, false, 10000, 8192, 26, 10000, 8192, 256, 0, 0},
    /* 20000 both auto: 10000 connections, the cache what they leave */
    {"20000 auto", 20000, 1, 1, false, false, 0, 0, 26, 10000, 9974, 256, 0, 0},
    /* exactly 10000 + 8192 + 26; one fewer: the cache gives way */
    {"18218 bench", 18218, 1, 1, false, false, 10000, 8192, 26, 10000, 8192, 256, 0, 0},
    {"18217 bench", 18217, 1, 1, false, false, 10000, 8192, 26, 10000, 8191, 256, 0, 8192},
    /* 1024, both auto: the cache a third of 998 (332), the connections
     * the rest (666) */
    {"1024 auto", 1024, 1, 1, false, false, 0, 0, 26, 666, 332, 256, 0, 0},
    /* with listings: 26 + min(256, 998 / 4 = 249) = 275; avail 749 */
    {"1024 listing", 1024, 1, 1, false, true, 0, 0, 275, 500, 249, 249, 0, 0},
    /* one auto takes what the other leaves */
    {"1024 conns 100", 1024, 1, 1, false, false, 100, 0, 26, 100, 898, 256, 0, 0},
    {"1024 cache 100", 1024, 1, 1, false, false, 0, 100, 26, 898, 100, 256, 0, 0},
    /* given values that do not fit: the cache gives way to a third, then
     * the connections; both named as capped */
    {"1024 both given", 1024, 1, 1, false, false, 10000, 10000, 26, 666, 332, 256, 10000, 10000},
    {"1024 conns given", 1024, 1, 1, false, false, 10000, 0, 26, 666, 332, 256, 10000, 0},
    {"1024 cache given", 1024, 1, 1, false, false, 0, 5000, 26, 666, 332, 256, 0, 5000},
    {"1024 fits", 1024, 1, 1, false, false, 300, 698, 26, 300, 698, 256, 0, 0},
    {"1024 one over", 1024, 1, 1, false, false, 300, 699, 26, 300, 698, 256, 0, 699},
    /* the low limit of the integration test: avail 29, the cache 9 */
    {"64 listing", 64, 1, 1, false, true, 0, 0, 26 + 9, 20, 9, 9, 0, 0},
    /* nothing left: never below 1 */
    {"too low", 20, 1, 1, true, true, 0, 0, 28 + 1, 1, 1, 1, 0, 0},
};

START_TEST(test_plan_table)
{
    const struct plan_case *c = &plan_cases[_i];
    struct sf_config cfg;
    sf_config_defaults(&cfg);
    cfg.nlisten = c->nlisten;
    cfg.nsites = c->nsites;
    cfg.max_connections = c->conns;
    cfg.open_file_cache_max = c->cache;
    static char err[] = "/var/log/e.log", acc[] = "/var/log/a.log", dash[] = "-";
    char *old_err = cfg.error_log, *old_acc = cfg.access_log;
    cfg.error_log = c->logs ? err : dash;
    cfg.access_log = c->logs ? acc : dash;
    for (size_t i = 0; i < c->nsites; i++)
        cfg.sites[i].listing = c->listing && i == 0;
    struct sf_fdlimit fl;
    memset(&fl, 0xa5, sizeof(fl));
    sf_fdlimit_plan(&cfg, c->nofile, &fl);
    ck_assert_msg(fl.reserve == c->reserve, "%s: reserve %u", c->name, fl.reserve);
    ck_assert_msg(fl.max_connections == c->max_connections, "%s: max_connections %u", c->name,
                  fl.max_connections);
    ck_assert_msg(fl.open_file_cache_max == c->open_file_cache_max, "%s: open_file_cache_max %zu",
                  c->name, fl.open_file_cache_max);
    ck_assert_msg(fl.listing_cache_max == c->listing_cache_max, "%s: listing_cache_max %zu",
                  c->name, fl.listing_cache_max);
    ck_assert_uint_eq(fl.capped_connections, c->capped_conns);
    ck_assert_uint_eq(fl.capped_cache, c->capped_cache);
    if (c->nofile > fl.reserve + 3)
        ck_assert_msg((unsigned long long)fl.max_connections + fl.open_file_cache_max +
                              fl.reserve <=
                          c->nofile,
                      "%s: the plan does not fit", c->name);
    cfg.error_log = old_err;
    cfg.access_log = old_acc;
    cfg.nsites = 0;
    cfg.nlisten = 1;
    sf_config_free(&cfg);
}
END_TEST

/* Every limit from 1 to 5000 with both auto: the plan fits once the
 * limit leaves room for one of each, and grows with the limit. */
START_TEST(test_plan_fits)
{
    struct sf_config cfg;
    sf_config_defaults(&cfg);
    struct sf_fdlimit prev = {0};
    for (unsigned long long n = 1; n <= 5000; n++) {
        struct sf_fdlimit fl;
        sf_fdlimit_plan(&cfg, n, &fl);
        ck_assert_uint_ge(fl.max_connections, 1);
        ck_assert_uint_ge(fl.open_file_cache_max, 1);
        if (n >= fl.reserve + 3)
            ck_assert_msg(
                (unsigned long long)fl.max_connections + fl.open_file_cache_max + fl.reserve <= n,
                "nofile %llu", n);
        ck_assert_uint_ge(fl.max_connections, prev.max_connections);
        ck_assert_uint_ge(fl.open_file_cache_max, prev.open_file_cache_max);
        prev = fl;
    }
    sf_config_free(&cfg);
}
END_TEST

START_TEST(test_format)
{
    struct sf_fdlimit fl = {.soft = 1024,
                            .hard = 4096,
                            .reserve = 26,
                            .max_connections = 666,
                            .open_file_cache_max = 332,
                            .listing_cache_max = 256};
    char line[256];
    sf_fdlimit_format(&fl, line, sizeof(line));
    ck_assert_str_eq(line, "nofile 1024/4096 (soft/hard), max_connections 666, "
                           "open_file_cache_max 332, listing_cache_max 256, reserve 26");
    fl.hard = (unsigned long long)RLIM_INFINITY;
    sf_fdlimit_format(&fl, line, sizeof(line));
    ck_assert_ptr_nonnull(strstr(line, "nofile 1024/unlimited (soft/hard)"));
}
END_TEST

/* The raise leaves soft = hard (here: a lowered soft limit first). */
START_TEST(test_raise)
{
    struct rlimit rl;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max < 64)
        return;
    rl.rlim_cur = 64;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    struct sf_fdlimit fl;
    ck_assert_int_eq(sf_fdlimit_raise(&fl), 0);
    ck_assert_uint_eq(fl.was, 64);
    ck_assert_uint_eq(fl.soft, rl.rlim_max);
    ck_assert_uint_eq(fl.hard, rl.rlim_max);
    struct rlimit now;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &now), 0);
    ck_assert_uint_eq(now.rlim_cur, rl.rlim_max);
    /* again: nothing to raise */
    ck_assert_int_eq(sf_fdlimit_raise(&fl), 0);
    ck_assert_uint_eq(fl.was, fl.soft);
}
END_TEST

static Suite *
fdlimit_suite(void)
{
    Suite *s = suite_create("fdlimit");
    TCase *tc = tcase_create("plan");
    tcase_add_loop_test(tc, test_plan_table, 0, (int)SF_ARRAY_LEN(plan_cases));
    tcase_add_test(tc, test_plan_fits);
    tcase_add_test(tc, test_format);
    tcase_add_test(tc, test_raise);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(fdlimit_suite());
}
