/*
 * it_memory.c - what an idle connection keeps, measured on the real
 * binary: a generated body (here the listing of a folder with many files)
 * is given back when its response ends, so connections that fetched a big
 * listing and went idle do not hold it (issue 8 §2: 40 such connections
 * once held 150 MB). Measured as the server's resident set (VmRSS), which
 * counts every page the buffers touched.
 */
#include "harness.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ~800 KB of HTML listing: far above what a connection holds of its
 * own (a few KiB), so NCONN copies cannot hide in the noise */
#define NFILES 1500
#define NCONN 24 /* idle connections that each fetched it */

static void
tree_up(void)
{
    char dir[PATH_MAX], p[PATH_MAX], name[256];
    it_suite_tree();
    it_join(dir, sizeof(dir), it_suite.root, "big");
    it_mkdir(dir);
    /* long names make a long page without a slow tree */
    for (int i = 0; i < NFILES; i++) {
        int n = snprintf(name, sizeof(name), "%05d-", i);
        memset(name + n, 'n', 200);
        memcpy(name + n + 200, ".txt", 5);
        it_join(p, sizeof(p), dir, name);
        it_write_str(p, "x\n");
    }
}

/* GET /big/ on c (kept alive); the listing's length. */
static uint64_t
get_listing(struct it_conn *c)
{
    struct it_response r;
    it_conn_send_str(c, "GET /big/ HTTP/1.1\r\nHost: h\r\n\r\n");
    ck_assert_int_eq(it_read_response(c, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert(r.complete && !r.closed);
    ck_assert_msg(strstr(r.body, "00042-nnn") != NULL, "not the listing");
    uint64_t len = r.body_len;
    it_response_free(&r);
    return len;
}

/*
 * NCONN connections fetch a big listing one after the other and stay
 * open, idle. Were each to keep its body buffer, the server would grow
 * by about NCONN listings; given back, the same memory serves them all in
 * turn, and the growth stays at a few listings at most.
 */
START_TEST(t_idle_connections_hold_no_listing)
{
    it_asan_no_quarantine();
    it_server_start_dir(&it_suite.srv, it_suite.root);

    /* warm up: the cache, the listing's own scratch, the allocator */
    struct it_conn *warm = malloc(sizeof(*warm));
    ck_assert(warm != NULL);
    it_conn_open(warm, it_suite.srv.port);
    uint64_t len = get_listing(warm);
    get_listing(warm);
    it_conn_close(warm);
    ck_assert_uint_gt(len, 400 * 1024);
    long before = it_rss_kib(it_suite.srv.pid);

    struct it_conn *c = malloc(NCONN * sizeof(*c));
    ck_assert(c != NULL);
    for (int i = 0; i < NCONN; i++) {
        it_conn_open(&c[i], it_suite.srv.port);
        ck_assert_uint_eq(get_listing(&c[i]), len);
    }
    long after = it_rss_kib(it_suite.srv.pid);
    long grown = after - before, listing_kib = (long)(len / 1024);
    fprintf(stderr,
            "it_memory: %d idle connections after a %ld KiB listing each: RSS %ld -> %ld KiB\n",
            NCONN, listing_kib, before, after);
    ck_assert_msg(grown < NCONN * listing_kib / 4,
                  "RSS grew by %ld KiB with %d idle connections (listing %ld KiB): the buffers "
                  "were kept",
                  grown, NCONN, listing_kib);
    /* they are still open and served */
    ck_assert_uint_eq(get_listing(&c[0]), len);
    for (int i = 0; i < NCONN; i++)
        it_conn_close(&c[i]);
    free(c);
    free(warm);
    it_server_stop(&it_suite.srv);
}
END_TEST

static Suite *
memory_suite(void)
{
    Suite *s = suite_create("memory");
    TCase *tc = tcase_create("idle");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, tree_up, it_suite_tree_down);
    tcase_add_test(tc, t_idle_connections_hold_no_listing);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return it_main(memory_suite());
}
