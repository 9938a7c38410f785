/*
 * test_etag.c - unit tests for etag: the content ETag's format (a known
 * XXH3-128 answer, hex digits, quotes), hashing a file in pieces against
 * hashing it whole, a file that shrank and a stop request, a table of
 * attribute records (round trip, another version, malformed ones), and
 * the attribute itself on a scratch file where the filesystem has user
 * attributes.
 */
#include "sfhttpd/etag.h"

#include "sfhttpd/common.h"
#include "unit_util.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

START_TEST(test_known_answer)
{
    /* XXH3-128 of no bytes, from xxHash's own sanity table */
    struct sf_etag_hash h;
    char tag[64];
    sf_etag_hash_mem("", 0, &h);
    ck_assert_uint_eq(h.hi, 0x99AA06D3014798D8ULL);
    ck_assert_uint_eq(h.lo, 0x6001C324468D497FULL);
    size_t n = sf_etag_format(tag, sizeof(tag), &h);
    ck_assert_uint_eq(n, SF_ETAG_CONTENT_LEN);
    ck_assert_str_eq(tag, "\"x3-99aa06d3014798d86001c324468d497f\"");
}
END_TEST

START_TEST(test_format_differs)
{
    /* one byte more, one byte changed: another tag; the same bytes at
     * another address: the same tag */
    static const char a[] = "hello, world", b[] = "hello, World";
    char copy[sizeof(a)];
    memcpy(copy, a, sizeof(a));
    struct sf_etag_hash ha, hb, hc, hd;
    sf_etag_hash_mem(a, sizeof(a) - 1, &ha);
    sf_etag_hash_mem(b, sizeof(b) - 1, &hb);
    sf_etag_hash_mem(a, sizeof(a), &hc);
    sf_etag_hash_mem(copy, sizeof(a) - 1, &hd);
    char ta[64], tb[64], tc[64], td[64];
    sf_etag_format(ta, sizeof(ta), &ha);
    sf_etag_format(tb, sizeof(tb), &hb);
    sf_etag_format(tc, sizeof(tc), &hc);
    sf_etag_format(td, sizeof(td), &hd);
    ck_assert_str_ne(ta, tb);
    ck_assert_str_ne(ta, tc);
    ck_assert_str_eq(ta, td);
    for (size_t i = 4; i < SF_ETAG_CONTENT_LEN - 1; i++)
        ck_assert_msg((ta[i] >= '0' && ta[i] <= '9') || (ta[i] >= 'a' && ta[i] <= 'f'), "%s", ta);
}
END_TEST

/* A scratch file of n pattern bytes; its fd (read-only) and the bytes. */
static int
scratch(char *path, size_t cap, size_t n, unsigned char **bytes)
{
    snprintf(path, cap, "%s/sf_etag.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    int w = mkstemp(path);
    ck_assert_int_ge(w, 0);
    unsigned char *b = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(b);
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(i * 131 + (i >> 9));
    ck_assert_int_eq(write(w, b, n), (ssize_t)n);
    close(w);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    *bytes = b;
    return fd;
}

/* sizes around the scratch buffer's (7 bytes) and a bigger one */
static const size_t fd_sizes[] = {0, 1, 6, 7, 8, 14, 15, 1000, 300001};

START_TEST(test_hash_fd)
{
    char path[512];
    unsigned char *bytes, buf[7];
    size_t n = fd_sizes[_i];
    int fd = scratch(path, sizeof(path), n, &bytes);
    struct sf_etag_hash whole, pieces;
    sf_etag_hash_mem(bytes, n, &whole);
    ck_assert_int_eq(sf_etag_hash_fd(fd, n, buf, sizeof(buf), NULL, &pieces), 0);
    ck_assert_uint_eq(pieces.hi, whole.hi);
    ck_assert_uint_eq(pieces.lo, whole.lo);
    /* more bytes than the file has: it shrank */
    ck_assert_int_eq(sf_etag_hash_fd(fd, n + 1, buf, sizeof(buf), NULL, &pieces), -EIO);
    /* fewer: a hash of the prefix (the size the entry was opened with) */
    if (n > 0) {
        struct sf_etag_hash prefix;
        sf_etag_hash_mem(bytes, n - 1, &whole);
        ck_assert_int_eq(sf_etag_hash_fd(fd, n - 1, buf, sizeof(buf), NULL, &prefix), 0);
        ck_assert_uint_eq(prefix.lo, whole.lo);
    }
    close(fd);
    unlink(path);
    free(bytes);
}
END_TEST

START_TEST(test_hash_fd_stop_and_errors)
{
    char path[512];
    unsigned char *bytes, buf[64];
    int fd = scratch(path, sizeof(path), 1000, &bytes);
    atomic_bool stop;
    struct sf_etag_hash h;
    atomic_init(&stop, true);
    ck_assert_int_eq(sf_etag_hash_fd(fd, 1000, buf, sizeof(buf), &stop, &h), -ECANCELED);
    atomic_store(&stop, false);
    ck_assert_int_eq(sf_etag_hash_fd(fd, 1000, buf, sizeof(buf), &stop, &h), 0);
    close(fd);
    ck_assert_int_eq(sf_etag_hash_fd(fd, 1000, buf, sizeof(buf), NULL, &h), -EBADF);
    unlink(path);
    free(bytes);
}
END_TEST

/* ---- records ---- */

static struct stat
version(long long size, long long sec, long nsec)
{
    struct stat st;
    memset(&st, 0, sizeof(st));
    st.st_size = size;
    st.st_mtim.tv_sec = sec;
    st.st_mtim.tv_nsec = nsec;
    st.st_ctim.tv_sec = 1; /* not part of the record: our own write moves it */
    return st;
}

#define H32 "0123456789abcdeffedcba9876543210"

static const struct {
    const char *rec;
    bool ok;
} record_cases[] = {
    {"v1 size=1234 mtime=1700000000.000000042 xxh128=" H32, true},
    {"v1 size=1235 mtime=1700000000.000000042 xxh128=" H32, false},  /* size */
    {"v1 size=1234 mtime=1700000001.000000042 xxh128=" H32, false},  /* seconds */
    {"v1 size=1234 mtime=1700000000.000000043 xxh128=" H32, false},  /* nanoseconds */
    {"v1 size=1234 mtime=1700000000.00000042 xxh128=" H32, false},   /* 8 digits */
    {"v1 size=1234 mtime=1700000000.0000000042 xxh128=" H32, false}, /* 10 digits */
    {"v2 size=1234 mtime=1700000000.000000042 xxh128=" H32, false},
    {"v1 size=1234 mtime=1700000000.000000042 xxh128=" H32 " ", false},
    {"v1 size=1234 mtime=1700000000.000000042 xxh128=" H32 "0", false},
    {"v1 size=1234 mtime=1700000000.000000042 xxh128=0123456789ABCDEFFEDCBA9876543210", false},
    {"v1 size=1234 mtime=1700000000.000000042 xxh128=0123456789abcdeffedcba987654321", false},
    {"v1 size=1234 mtime=1700000000.000000042 xxh128=0123456789abcdeffedcba987654321g", false},
    {"v1 size=1234 mtime=1700000000.000000042", false},
    {"v1 size= mtime=1700000000.000000042 xxh128=" H32, false},
    {"v1 size=-1234 mtime=1700000000.000000042 xxh128=" H32, false},
    {"v1 size=99999999999999999999999 mtime=1700000000.000000042 xxh128=" H32, false},
    {"v1  size=1234 mtime=1700000000.000000042 xxh128=" H32, false},
    {"", false},
};

START_TEST(test_record_parse)
{
    struct stat st = version(1234, 1700000000, 42);
    struct sf_etag_hash h = {0, 0};
    const char *rec = record_cases[_i].rec;
    bool ok = sf_etag_record_parse(rec, strlen(rec), &st, &h);
    ck_assert_msg(ok == record_cases[_i].ok, "%s: %d", rec, ok);
    if (ok) {
        ck_assert_uint_eq(h.hi, 0x0123456789abcdefULL);
        ck_assert_uint_eq(h.lo, 0xfedcba9876543210ULL);
    }
}
END_TEST

START_TEST(test_record_round_trip)
{
    static const struct {
        long long size, sec;
        long nsec;
    } v[] = {{0, 0, 0}, {1, 1, 1}, {1234, 1700000000, 42}, {1LL << 40, 4102444800LL, 999999999}};
    for (size_t i = 0; i < SF_ARRAY_LEN(v); i++) {
        struct stat st = version(v[i].size, v[i].sec, v[i].nsec), other = st;
        struct sf_etag_hash h = {0x8000000000000001ULL * (i + 1), ~0ULL - i}, back;
        char rec[SF_ETAG_RECORD_MAX];
        size_t n = sf_etag_record_format(rec, sizeof(rec), &st, &h);
        ck_assert_uint_eq(n, strlen(rec));
        ck_assert_msg(sf_etag_record_parse(rec, n, &st, &back), "%s", rec);
        ck_assert_uint_eq(back.hi, h.hi);
        ck_assert_uint_eq(back.lo, h.lo);
        other.st_ctim.tv_sec = 99; /* ctime is not the version */
        ck_assert(sf_etag_record_parse(rec, n, &other, &back));
        other.st_mtim.tv_nsec ^= 1;
        ck_assert(!sf_etag_record_parse(rec, n, &other, &back));
        /* only len bytes count */
        ck_assert(!sf_etag_record_parse(rec, n - 1, &st, &back));
    }
}
END_TEST

START_TEST(test_unwritable)
{
    static const int yes[] = {ENOTSUP, EPERM, EACCES, EROFS, ENOSPC, EDQUOT, E2BIG};
    static const int no[] = {EBADF, EIO, EINVAL, ENOMEM, 0};
    for (size_t i = 0; i < SF_ARRAY_LEN(yes); i++) {
        ck_assert(sf_etag_xattr_unwritable(-yes[i]));
        ck_assert(sf_etag_xattr_unwritable(yes[i]));
    }
    for (size_t i = 0; i < SF_ARRAY_LEN(no); i++)
        ck_assert(!sf_etag_xattr_unwritable(-no[i]));
}
END_TEST

/* The attribute on a real file: written, read back for its version only,
 * and a foreign value is not taken for a record. */
START_TEST(test_xattr)
{
    char path[512];
    unsigned char *bytes;
    int fd = scratch(path, sizeof(path), 100, &bytes);
    struct stat st;
    ck_assert_int_eq(fstat(fd, &st), 0);
    struct sf_etag_hash h, back;
    sf_etag_hash_mem(bytes, 100, &h);
    ck_assert_int_eq(sf_etag_xattr_get(fd, &st, &back), -ENODATA);
    int rc = sf_etag_xattr_set(fd, &st, &h);
    if (rc == -ENOTSUP) {
        fprintf(stderr, "test_xattr: no user attributes on %s: skipped\n", path);
        goto out;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(sf_etag_xattr_get(fd, &st, &back), 0);
    ck_assert_uint_eq(back.hi, h.hi);
    ck_assert_uint_eq(back.lo, h.lo);
    char rec[SF_ETAG_RECORD_MAX];
    ssize_t n = fgetxattr(fd, SF_ETAG_XATTR, rec, sizeof(rec) - 1);
    ck_assert_int_gt(n, 0);
    rec[n] = '\0';
    ck_assert_msg(strncmp(rec, "v1 size=100 mtime=", 18) == 0, "%s", rec);
    /* another mtime: stale */
    struct timespec ts[2] = {{0, UTIME_OMIT}, {st.st_mtim.tv_sec - 10, 5}};
    ck_assert_int_eq(futimens(fd, ts), 0);
    struct stat st2;
    ck_assert_int_eq(fstat(fd, &st2), 0);
    ck_assert_int_eq(sf_etag_xattr_get(fd, &st2, &back), -ENODATA);
    /* someone else's value, too long for a record: not ours either */
    char junk[300];
    memset(junk, 'j', sizeof(junk));
    ck_assert_int_eq(fsetxattr(fd, SF_ETAG_XATTR, junk, sizeof(junk), 0), 0);
    ck_assert_int_eq(sf_etag_xattr_get(fd, &st2, &back), -ENODATA);
out:
    close(fd);
    unlink(path);
    free(bytes);
}
END_TEST

static Suite *
etag_suite(void)
{
    Suite *s = suite_create("etag");
    TCase *tc = tcase_create("hash");
    tcase_add_test(tc, test_known_answer);
    tcase_add_test(tc, test_format_differs);
    tcase_add_loop_test(tc, test_hash_fd, 0, (int)SF_ARRAY_LEN(fd_sizes));
    tcase_add_test(tc, test_hash_fd_stop_and_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("record");
    tcase_add_loop_test(tc, test_record_parse, 0, (int)SF_ARRAY_LEN(record_cases));
    tcase_add_test(tc, test_record_round_trip);
    tcase_add_test(tc, test_unwritable);
    tcase_add_test(tc, test_xattr);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(etag_suite());
}
