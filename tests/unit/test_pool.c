/*
 * test_pool.c - unit tests for the bounded free list (an object comes
 * back as it was put back, init runs once per object made and fini once
 * per object freed, never more than keep stay free, shrink and destroy
 * free the spares) and for the reclaim decision (only after a drop to
 * half the peak and by at least min_drop, then not again until the next
 * such drop).
 */
#include "sfhttpd/pool.h"
#include "unit_util.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct counts {
    int made, freed;
};

static void
obj_init(void *obj, const void *arg)
{
    struct counts *n = (struct counts *)(uintptr_t)arg;
    n->made++;
    memset(obj, 0xab, 64);
}

static void
obj_fini(void *obj, const void *arg)
{
    struct counts *n = (struct counts *)(uintptr_t)arg;
    (void)obj;
    n->freed++;
}

START_TEST(test_reuse_as_left)
{
    struct counts n = {0};
    struct sf_pool p;
    sf_pool_init(&p, 64, 4, obj_init, obj_fini, &n);
    unsigned char *a = sf_pool_get(&p);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq((uintptr_t)a % _Alignof(max_align_t), 0);
    ck_assert_int_eq(n.made, 1);
    ck_assert_uint_eq(a[0], 0xab);
    memset(a, 7, 64); /* the user's state, every byte of it */
    sf_pool_put(&p, a);
    ck_assert_uint_eq(p.nfree, 1);
    unsigned char *b = sf_pool_get(&p);
    ck_assert_ptr_eq(a, b);
    ck_assert_int_eq(n.made, 1); /* no init on reuse */
    for (int i = 0; i < 64; i++)
        ck_assert_uint_eq(b[i], 7);
    sf_pool_put(&p, b);
    sf_pool_destroy(&p);
    ck_assert_int_eq(n.freed, 1);
    ck_assert_uint_eq(p.nfree, 0);
}
END_TEST

START_TEST(test_bounded)
{
    struct counts n = {0};
    struct sf_pool p;
    void *o[10];
    sf_pool_init(&p, 64, 3, obj_init, obj_fini, &n);
    for (int i = 0; i < 10; i++)
        o[i] = sf_pool_get(&p);
    ck_assert_int_eq(n.made, 10);
    ck_assert_uint_eq(p.out, 10);
    for (int i = 0; i < 10; i++)
        sf_pool_put(&p, o[i]);
    /* three kept, seven freed at once */
    ck_assert_uint_eq(p.nfree, 3);
    ck_assert_int_eq(n.freed, 7);
    ck_assert_uint_eq(p.out, 0);
    sf_pool_shrink(&p, 1);
    ck_assert_uint_eq(p.nfree, 1);
    ck_assert_int_eq(n.freed, 9);
    sf_pool_shrink(&p, 5); /* nothing to do */
    ck_assert_uint_eq(p.nfree, 1);
    sf_pool_destroy(&p);
    ck_assert_int_eq(n.freed, 10);
}
END_TEST

START_TEST(test_no_callbacks)
{
    struct sf_pool p;
    sf_pool_init(&p, 100, 2, NULL, NULL, NULL);
    void *a = sf_pool_get(&p), *b = sf_pool_get(&p);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_ne(a, b);
    sf_pool_put(&p, b);
    ck_assert_ptr_eq(sf_pool_get(&p), b); /* last in, first out */
    sf_pool_put(&p, a);
    sf_pool_put(&p, b);
    sf_pool_destroy(&p);
    struct sf_pool zero = {0};
    sf_pool_destroy(&zero);
}
END_TEST

START_TEST(test_reclaim)
{
    struct sf_reclaim r = {.min_drop = 100};
    ck_assert(!sf_reclaim_due(&r, 0));
    for (unsigned i = 1; i <= 1000; i++)
        sf_reclaim_note(&r, i);
    ck_assert(!sf_reclaim_due(&r, 1000));
    ck_assert(!sf_reclaim_due(&r, 600)); /* fell, but not to half */
    ck_assert(sf_reclaim_due(&r, 400));
    ck_assert(!sf_reclaim_due(&r, 400)); /* once */
    ck_assert(!sf_reclaim_due(&r, 300)); /* from the new peak 400: not half */
    ck_assert(sf_reclaim_due(&r, 150));
    /* a small count: halving it is not worth a trim */
    struct sf_reclaim s = {.min_drop = 100};
    sf_reclaim_note(&s, 150);
    ck_assert(!sf_reclaim_due(&s, 60));
    ck_assert(sf_reclaim_due(&s, 50));
    ck_assert(!sf_reclaim_due(&s, 0));
    /* a rise seen only at the check counts too */
    ck_assert(!sf_reclaim_due(&s, 500));
    ck_assert(sf_reclaim_due(&s, 0));
}
END_TEST

static Suite *
pool_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("pool");
    tcase_add_test(tc, test_reuse_as_left);
    tcase_add_test(tc, test_bounded);
    tcase_add_test(tc, test_no_callbacks);
    tcase_add_test(tc, test_reclaim);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run_mode(pool_suite(), true);
}
