/*
 * test_snapshot.c - unit tests for snapshot: the bytes a response has
 * still to send from a file, a memory snapshot of them within the budget
 * (the segments it rewrites, what the sender then sends after the file
 * has changed), the budget's accounting, nothing to copy, no room, and a
 * reflink on a file system without reflinks, which leaves the response
 * untouched (the xfs path is it_rescue's).
 */
#include "sfhttpd/response.h"
#include "sfhttpd/sender.h"
#include "sfhttpd/snapshot.h"
#include "unit_util.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FSIZE 100000

static char path[256];
static unsigned char orig[FSIZE];
static int fd = -1;

static void
setup(void)
{
    snprintf(path, sizeof(path), "%s/sf_snapshot.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    for (size_t i = 0; i < FSIZE; i++)
        orig[i] = (unsigned char)(i * 7 + i / 251);
    ck_assert_int_eq(pwrite(fd, orig, FSIZE, 0), FSIZE);
}

static void
teardown(void)
{
    close(fd);
    unlink(path);
}

/* A multipart-like response: head, a part header, file [1000, 21000),
 * a separator, file [50000, 60000), a trailer; sent up to 5000 bytes
 * into the first range. */
static void
build(struct sf_response *r)
{
    sf_response_init(r);
    sf_response_begin(r, 206, "Thu, 01 Jan 1970 00:00:00 GMT");
    sf_response_end_head(r, true, false);
    sf_response_add_ext(r, "--a\r\n", 5);
    sf_response_add_file(r, fd, 1000, 20000);
    sf_response_add_ext(r, "\r\n--a\r\n", 7);
    sf_response_add_file(r, fd, 50000, 10000);
    sf_response_add_ext(r, "--a--\r\n", 7);
    r->st.head_sent = r->st.head_len;
    r->st.cur = 1;
    r->st.cur_done = 5000;
    r->st.body_sent = 5 + 5000;
}

/* Everything the sender sends from where r stands, into buf. */
static size_t
send_rest(struct sf_response *r, unsigned char *buf, size_t cap)
{
    int sv[2], err = 0;
    size_t got = 0;
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    for (int i = 0; i < 1000; i++) {
        enum sf_io rc = sf_sender_send(r, sv[0], 1 << 20, &err);
        ck_assert_int_ne(rc, SF_IO_ERR);
        ssize_t n;
        while ((n = recv(sv[1], buf + got, cap - got, MSG_DONTWAIT)) > 0)
            got += (size_t)n;
        if (rc == SF_IO_OK)
            break;
    }
    close(sv[0]);
    close(sv[1]);
    return got;
}

START_TEST(test_memory)
{
    struct sf_response r;
    build(&r);
    ck_assert_uint_eq(sf_snapshot_left(&r, fd), 15000 + 10000);
    ck_assert_uint_eq(sf_snapshot_left(&r, fd + 100), 0);
    int err = 1, derr = 1;
    struct sf_snapshots *p = sf_snapshots_new(30000, NULL, &derr);
    ck_assert_int_eq(derr, 0);
    struct sf_snapshot *s = sf_snapshot_plan(p, &r, fd, &err);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(err, 0);
    ck_assert_uint_eq(sf_snapshots_used(p), 25000);
    /* a second one no longer fits */
    struct sf_snapshot *s2 = sf_snapshot_plan(p, &r, fd, &err);
    ck_assert_ptr_null(s2);
    ck_assert_int_eq(err, -ENOBUFS);
    ck_assert_int_eq(sf_snapshot_fill(s, &r, fd), 0);
    for (unsigned i = 0; i < r.st.nseg; i++)
        ck_assert_int_eq(r.seg[i].fd, -1);
    ck_assert_uint_eq(sf_snapshot_left(&r, fd), 0);
    /* the file changes: what goes out is still the original */
    unsigned char junk[FSIZE];
    memset(junk, 'X', sizeof(junk));
    ck_assert_int_eq(pwrite(fd, junk, FSIZE, 0), FSIZE);
    ck_assert_int_eq(ftruncate(fd, 10), 0);
    static unsigned char out[40000], want[40000];
    size_t n = send_rest(&r, out, sizeof(out)), k = 0;
    memcpy(want + k, orig + 6000, 15000), k += 15000;
    memcpy(want + k, "\r\n--a\r\n", 7), k += 7;
    memcpy(want + k, orig + 50000, 10000), k += 10000;
    memcpy(want + k, "--a--\r\n", 7), k += 7;
    ck_assert_uint_eq(n, k);
    ck_assert(memcmp(out, want, k) == 0);
    ck_assert_uint_eq(r.st.body_sent, 5 + 20000 + 7 + 10000 + 7);
    sf_snapshot_free(s);
    ck_assert_uint_eq(sf_snapshots_used(p), 0);
    sf_response_free(&r);
    sf_snapshots_free(p);
}
END_TEST

/* Nothing left to send from the file: no snapshot, no error. */
START_TEST(test_nothing_left)
{
    struct sf_response r;
    build(&r);
    r.st.cur = 4;
    r.st.cur_done = 0;
    int err = 1, derr;
    struct sf_snapshots *p = sf_snapshots_new(0, NULL, &derr);
    ck_assert_ptr_null(sf_snapshot_plan(p, &r, fd, &err));
    ck_assert_int_eq(err, 0);
    sf_snapshot_free(NULL);
    sf_response_free(&r);
    sf_snapshots_free(p);
}
END_TEST

/* No budget, a folder on a file system without reflinks (where the
 * tests run: not xfs or btrfs), or a folder that does not exist. */
START_TEST(test_reflink_unsupported)
{
    struct sf_response r;
    build(&r);
    char dir[256];
    snprintf(dir, sizeof(dir), "%s", path);
    *strrchr(dir, '/') = '\0';
    int err = 1, derr = 1;
    struct sf_snapshots *p = sf_snapshots_new(0, "/nonexistent/sf", &derr);
    ck_assert_int_eq(derr, -ENOENT);
    ck_assert_ptr_null(sf_snapshot_plan(p, &r, fd, &err));
    ck_assert_int_eq(err, -ENOBUFS);
    sf_snapshots_free(p);

    p = sf_snapshots_new(0, dir, &derr);
    ck_assert_int_eq(derr, 0);
    struct sf_snapshot *s = sf_snapshot_plan(p, &r, fd, &err);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(sf_snapshots_used(p), 0);
    struct sf_seg before[SF_SEG_MAX];
    memcpy(before, r.seg, sizeof(before));
    int rc = sf_snapshot_fill(s, &r, fd);
    if (rc == 0) {
        /* this file system has reflinks after all: the segments moved */
        ck_assert_int_ne(r.seg[1].fd, fd);
        ck_assert_int_eq(r.seg[1].off, 1000);
    } else {
        ck_assert_int_lt(rc, 0);
        ck_assert(memcmp(before, r.seg, sizeof(before)) == 0);
    }
    sf_snapshot_free(s);
    sf_response_free(&r);
    sf_snapshots_free(p);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("snapshot");
    TCase *tc = tcase_create("snapshot");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_memory);
    tcase_add_test(tc, test_nothing_left);
    tcase_add_test(tc, test_reflink_unsupported);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
