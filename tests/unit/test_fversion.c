/*
 * test_fversion.c - unit tests for fversion: one table of changes to a
 * file's stat (what a writer, a rename, an unlink or a chmod does to it)
 * against whether the two stats are the same version and whether the
 * stat guard counts the bytes as unchanged, and whether they carry the
 * same size and mtime; when a variant is not older than its original.
 */
#include "sfhttpd/fversion.h"

#include "sfhttpd/common.h"
#include "unit_util.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

enum change {
    NONE,
    OTHER_DEV,
    OTHER_INO,
    SIZE,
    MTIME_SEC,
    MTIME_NSEC,
    CTIME_NSEC,         /* chmod, chown, utimes of atime: links kept */
    LOST_LINK,          /* rename over the name, unlink: ctime moved */
    LOST_LINK_AND_SIZE, /* unlinked, then truncated through another fd */
    LOST_LINK_AND_MTIME,
    GAINED_LINK, /* link(2): ctime moves, one more link */
    ATIME,       /* reads move only atime */
};

static const struct {
    const char *name;
    enum change ch;
    bool same;
    bool unchanged;
    bool stamp; /* same size and mtime */
} cases[] = {
    {"nothing", NONE, true, true, true},
    {"another device", OTHER_DEV, false, false, true},
    {"another inode", OTHER_INO, false, false, true},
    {"size", SIZE, false, false, false},
    {"mtime seconds", MTIME_SEC, false, false, false},
    {"mtime nanoseconds", MTIME_NSEC, false, false, false},
    {"ctime, links kept", CTIME_NSEC, false, false, true},
    {"a link lost", LOST_LINK, false, true, true},
    {"a link lost and the size changed", LOST_LINK_AND_SIZE, false, false, false},
    {"a link lost and mtime moved", LOST_LINK_AND_MTIME, false, false, false},
    {"a link gained", GAINED_LINK, false, false, true},
    {"atime only", ATIME, true, true, true},
};

static struct stat
then_stat(void)
{
    struct stat st;
    memset(&st, 0, sizeof(st));
    st.st_dev = 0x801;
    st.st_ino = 4242;
    st.st_size = 1000;
    st.st_nlink = 2;
    st.st_mode = 0100644;
    st.st_mtim.tv_sec = 1700000000;
    st.st_mtim.tv_nsec = 123456789;
    st.st_ctim = st.st_mtim;
    st.st_atim = st.st_mtim;
    return st;
}

START_TEST(test_table)
{
    struct stat a = then_stat(), b = a;
    switch (cases[_i].ch) {
    case NONE: break;
    case OTHER_DEV: b.st_dev++; break;
    case OTHER_INO: b.st_ino++; break;
    case SIZE: b.st_size++; break;
    case MTIME_SEC: b.st_mtim.tv_sec++; break;
    case MTIME_NSEC: b.st_mtim.tv_nsec++; break;
    case CTIME_NSEC: b.st_ctim.tv_nsec++; break;
    case LOST_LINK:
        b.st_ctim.tv_sec += 5;
        b.st_nlink--;
        break;
    case LOST_LINK_AND_SIZE:
        b.st_ctim.tv_sec += 5;
        b.st_nlink--;
        b.st_size = 0;
        break;
    case LOST_LINK_AND_MTIME:
        b.st_ctim.tv_sec += 5;
        b.st_mtim.tv_sec += 5;
        b.st_nlink--;
        break;
    case GAINED_LINK:
        b.st_ctim.tv_sec += 5;
        b.st_nlink++;
        break;
    case ATIME: b.st_atim.tv_sec += 60; break;
    }
    ck_assert_msg(sf_fversion_same(&a, &b) == cases[_i].same, "%s: same", cases[_i].name);
    ck_assert_msg(sf_fversion_same(&b, &a) == cases[_i].same, "%s: same, swapped", cases[_i].name);
    ck_assert_msg(sf_fversion_unchanged(&a, &b) == cases[_i].unchanged, "%s: unchanged",
                  cases[_i].name);
    ck_assert_msg(sf_fversion_same_stamp(&a, &b) == cases[_i].stamp, "%s: stamp", cases[_i].name);
    ck_assert_msg(sf_fversion_same_stamp(&b, &a) == cases[_i].stamp, "%s: stamp, swapped",
                  cases[_i].name);
}
END_TEST

/* A precompressed variant is fresh when its mtime is not before the
 * original's, to the nanosecond. */
START_TEST(test_not_older)
{
    static const struct {
        long long dsec;
        long dnsec;
        bool fresh;
    } d[] = {{0, 0, true},           {0, 1, true},   {1, -123456789, true}, {0, -1, false},
             {-1, 876543210, false}, {-1, 0, false}, {5, 0, true}};
    struct stat orig = then_stat();
    for (size_t i = 0; i < SF_ARRAY_LEN(d); i++) {
        struct stat v = orig;
        v.st_mtim.tv_sec += d[i].dsec;
        v.st_mtim.tv_nsec += d[i].dnsec;
        ck_assert_msg(sf_fversion_not_older(&v, &orig) == d[i].fresh, "case %zu", i);
    }
}
END_TEST

/* The guard looks one way: a file that gained a link back is not one
 * that lost it. */
START_TEST(test_unchanged_direction)
{
    struct stat then = then_stat(), now = then;
    now.st_nlink--;
    now.st_ctim.tv_sec++;
    ck_assert(sf_fversion_unchanged(&then, &now));
    ck_assert(!sf_fversion_unchanged(&now, &then));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("fversion");
    TCase *tc = tcase_create("table");
    tcase_add_loop_test(tc, test_table, 0, (int)SF_ARRAY_LEN(cases));
    tcase_add_test(tc, test_unchanged_direction);
    tcase_add_test(tc, test_not_older);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
