/*
 * test_slab.c - unit tests for the slab: objects are zeroed, aligned,
 * distinct and inside self-aligned blocks; a freed object is reused; a
 * block whose objects all went is unmapped, except one spare, which
 * sf_slab_trim unmaps; many objects in any order free back to no block.
 */
#include "sfhttpd/slab.h"
#include "unit_util.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_alloc_free)
{
    struct sf_slab s;
    sf_slab_init(&s, 376);
    ck_assert_uint_eq(s.size, 384);
    ck_assert_uint_gt(s.per_block, 100);
    unsigned char *a = sf_slab_alloc(&s), *b = sf_slab_alloc(&s);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_ne(a, b);
    ck_assert_uint_eq((uintptr_t)a % 16, 0);
    ck_assert_uint_eq((uintptr_t)a / SF_SLAB_BLOCK, (uintptr_t)b / SF_SLAB_BLOCK);
    for (size_t i = 0; i < 384; i++)
        ck_assert_uint_eq(a[i], 0);
    memset(a, 0xff, 384);
    sf_slab_free(&s, a);
    unsigned char *c = sf_slab_alloc(&s);
    ck_assert_ptr_eq(c, a); /* reused, and zeroed again */
    for (size_t i = 0; i < 384; i++)
        ck_assert_uint_eq(c[i], 0);
    ck_assert_uint_eq(s.blocks, 1);
    sf_slab_free(&s, b);
    sf_slab_free(&s, c);
    sf_slab_free(&s, NULL);
    ck_assert_uint_eq(s.blocks, 1); /* the spare */
    sf_slab_trim(&s);
    ck_assert_uint_eq(s.blocks, 0);
    sf_slab_destroy(&s);
}
END_TEST

#define MANY 5000

START_TEST(test_many_blocks_given_back)
{
    struct sf_slab s;
    sf_slab_init(&s, 400);
    void **o = calloc(MANY, sizeof(*o));
    ck_assert_ptr_nonnull(o);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < MANY; i++) {
            o[i] = sf_slab_alloc(&s);
            ck_assert_ptr_nonnull(o[i]);
            memset(o[i], i & 0xff, 400);
        }
        size_t want = (MANY + s.per_block - 1) / s.per_block;
        ck_assert_uint_eq(s.blocks, want);
        /* every object intact: none overlaps another */
        for (int i = 0; i < MANY; i++)
            ck_assert_uint_eq(((unsigned char *)o[i])[399], i & 0xff);
        /* free in a scattered order: odd ones, then even ones backwards */
        for (int i = 1; i < MANY; i += 2)
            sf_slab_free(&s, o[i]);
        for (int i = (MANY - 1) & ~1; i >= 0; i -= 2)
            sf_slab_free(&s, o[i]);
        ck_assert_uint_eq(s.blocks, 1);
        ck_assert_ptr_null(s.partial);
    }
    free(o);
    sf_slab_destroy(&s);
    ck_assert_uint_eq(s.blocks, 0);
}
END_TEST

static Suite *
slab_suite(void)
{
    Suite *s = suite_create("slab");
    TCase *tc = tcase_create("slab");
    tcase_add_test(tc, test_alloc_free);
    tcase_add_test(tc, test_many_blocks_given_back);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run_mode(slab_suite(), true);
}
