/*
 * test_hasher.c - unit tests for the hashing thread and its job queue:
 * results equal the in-memory hash, in order, with the stat after; a
 * file that shrank fails; a queued job cancelled leaves the queue at
 * once, a running one stops; freeing reports every job exactly once; a
 * report may submit its job again; the thread blocks every signal.
 *
 * The thread is kept busy, where a test needs a job to wait, by a sparse
 * file of 1 TiB (it reads as zeros without touching a disk, far longer
 * than the test takes). Every wait is bounded.
 */
#include "sfhttpd/hasher.h"

#include "sfhttpd/common.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit_util.h"

#define WAIT_MS 30000
#define MAXJ 8

struct seen {
    struct sf_hasher_job *order[MAXJ * 2];
    int n;
    int resubmit; /* submit the first reported job again this many times */
    struct sf_hasher *h;
};

static void
on_done(void *arg, struct sf_hasher_job *j)
{
    struct seen *s = arg;
    ck_assert_int_lt(s->n, MAXJ * 2);
    s->order[s->n++] = j;
    if (s->resubmit > 0) {
        s->resubmit--;
        sf_hasher_submit(s->h, j);
    }
}

/* Wait until at least want jobs were reported (bounded). */
static void
wait_reports(struct sf_hasher *h, struct seen *s, int want)
{
    long long end = now_ms() + WAIT_MS;
    while (s->n < want && now_ms() < end) {
        if (readable(sf_hasher_fd(h), 100))
            sf_hasher_on_ready(h);
    }
    ck_assert_int_ge(s->n, want);
}

static char dir[256];

static void
setup(void)
{
    snprintf(dir, sizeof(dir), "%s/sf_hasher.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] != '.')
            unlinkat(dirfd(d), de->d_name, 0);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* A file of n bytes (pattern seed), opened read-only. */
static int
file_of(const char *name, size_t n, unsigned seed, unsigned char **bytes)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    int w = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(w, 0);
    unsigned char *b = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(b);
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(i * seed + (i >> 11));
    ck_assert_int_eq(write(w, b, n), (ssize_t)n);
    close(w);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    if (bytes)
        *bytes = b;
    else
        free(b);
    return fd;
}

/* A sparse file of 1 TiB: the thread is busy with it for the test. */
static int
huge(void)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/huge", dir);
    int w = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(w, 0);
    ck_assert_int_eq(ftruncate(w, 1LL << 40), 0);
    close(w);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    return fd;
}

static struct sf_hasher *
new_hasher(struct seen *s)
{
    int err = 0;
    struct sf_hasher *h = sf_hasher_new(on_done, s, &err);
    ck_assert_msg(h != NULL, "sf_hasher_new: %s", strerror(-err));
    ck_assert_int_ge(sf_hasher_fd(h), 0);
    s->h = h;
    return h;
}

START_TEST(test_results)
{
    static const size_t sizes[] = {0, 1, 4096, 256 * 1024, 256 * 1024 + 1, 3 * 1024 * 1024};
    struct seen s = {0};
    struct sf_hasher *h = new_hasher(&s);
    struct sf_hasher_job jobs[SF_ARRAY_LEN(sizes)];
    unsigned char *bytes[SF_ARRAY_LEN(sizes)];
    for (size_t i = 0; i < SF_ARRAY_LEN(sizes); i++) {
        char name[16];
        snprintf(name, sizeof(name), "f%zu", i);
        jobs[i] = (struct sf_hasher_job){.fd = file_of(name, sizes[i], 7 + (unsigned)i, &bytes[i]),
                                         .size = sizes[i]};
        sf_hasher_submit(h, &jobs[i]);
    }
    wait_reports(h, &s, (int)SF_ARRAY_LEN(sizes));
    ck_assert_int_eq(s.n, (int)SF_ARRAY_LEN(sizes));
    for (size_t i = 0; i < SF_ARRAY_LEN(sizes); i++) {
        struct sf_etag_hash want;
        sf_etag_hash_mem(bytes[i], sizes[i], &want);
        ck_assert_ptr_eq(s.order[i], &jobs[i]); /* one thread: in order */
        ck_assert_int_eq(jobs[i].rc, 0);
        ck_assert_uint_eq(jobs[i].hash.hi, want.hi);
        ck_assert_uint_eq(jobs[i].hash.lo, want.lo);
        ck_assert_int_eq(jobs[i].after.st_size, (off_t)sizes[i]);
        close(jobs[i].fd);
        free(bytes[i]);
    }
    struct sf_hasher_stats st;
    sf_hasher_stats(h, &st);
    ck_assert_uint_eq(st.hashed, SF_ARRAY_LEN(sizes));
    ck_assert_uint_eq(st.bytes, 4096 + 1 + 2 * 256 * 1024 + 1 + 3 * 1024 * 1024);
    ck_assert_uint_eq(st.cancelled + st.failed, 0);
    sf_hasher_free(h);
    ck_assert_int_eq(s.n, (int)SF_ARRAY_LEN(sizes)); /* nothing reported twice */
}
END_TEST

START_TEST(test_shrunk)
{
    struct seen s = {0};
    struct sf_hasher *h = new_hasher(&s);
    struct sf_hasher_job j = {.fd = file_of("short", 1000, 3, NULL), .size = 1001};
    sf_hasher_submit(h, &j);
    wait_reports(h, &s, 1);
    ck_assert_int_eq(j.rc, -EIO);
    struct sf_hasher_stats st;
    sf_hasher_stats(h, &st);
    ck_assert_uint_eq(st.failed, 1);
    sf_hasher_free(h);
    close(j.fd);
}
END_TEST

START_TEST(test_cancel)
{
    struct seen s = {0};
    struct sf_hasher *h = new_hasher(&s);
    struct sf_hasher_job busy = {.fd = huge(), .size = 1ULL << 40};
    struct sf_hasher_job a = {.fd = file_of("a", 100, 5, NULL), .size = 100};
    struct sf_hasher_job b = {.fd = file_of("b", 100, 9, NULL), .size = 100};
    sf_hasher_submit(h, &busy);
    sf_hasher_submit(h, &a);
    sf_hasher_submit(h, &b);
    /* a waits behind a terabyte: it leaves the queue and is reported */
    sf_hasher_cancel(h, &a);
    wait_reports(h, &s, 1);
    ck_assert_ptr_eq(s.order[0], &a);
    ck_assert_int_eq(a.rc, -ECANCELED);
    /* the terabyte stops at its next read; b then runs */
    sf_hasher_cancel(h, &busy);
    wait_reports(h, &s, 3);
    ck_assert_ptr_eq(s.order[1], &busy);
    ck_assert_int_eq(busy.rc, -ECANCELED);
    ck_assert_ptr_eq(s.order[2], &b);
    ck_assert_int_eq(b.rc, 0);
    /* cancelling a job already reported changes nothing */
    sf_hasher_cancel(h, &b);
    ck_assert_int_eq(b.rc, 0);
    struct sf_hasher_stats st;
    sf_hasher_stats(h, &st);
    ck_assert_uint_eq(st.cancelled, 2);
    ck_assert_uint_eq(st.hashed, 1);
    sf_hasher_free(h);
    ck_assert_int_eq(s.n, 3);
    close(busy.fd);
    close(a.fd);
    close(b.fd);
}
END_TEST

START_TEST(test_free_reports_all)
{
    struct seen s = {0};
    struct sf_hasher *h = new_hasher(&s);
    struct sf_hasher_job busy = {.fd = huge(), .size = 1ULL << 40};
    struct sf_hasher_job more[3];
    sf_hasher_submit(h, &busy);
    for (int i = 0; i < 3; i++) {
        char name[8];
        snprintf(name, sizeof(name), "m%d", i);
        more[i] = (struct sf_hasher_job){.fd = file_of(name, 10, 3, NULL), .size = 10};
        sf_hasher_submit(h, &more[i]);
    }
    sf_hasher_free(h); /* stops the terabyte, cancels the queue */
    ck_assert_int_eq(s.n, 4);
    ck_assert_int_eq(busy.rc, -ECANCELED);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(more[i].rc, -ECANCELED);
        close(more[i].fd);
    }
    close(busy.fd);
}
END_TEST

START_TEST(test_resubmit_from_report)
{
    struct seen s = {.resubmit = 2};
    struct sf_hasher *h = new_hasher(&s);
    struct sf_hasher_job j = {.fd = file_of("again", 5000, 11, NULL), .size = 5000};
    sf_hasher_submit(h, &j);
    wait_reports(h, &s, 3);
    ck_assert_int_eq(s.n, 3);
    ck_assert_int_eq(j.rc, 0);
    sf_hasher_free(h);
    ck_assert_int_eq(s.n, 3);
    close(j.fd);
}
END_TEST

/* The thread's SigBlk in /proc: every signal blocked, so a lease break or
 * the worker's own signals are never delivered to it. */
START_TEST(test_signals_blocked)
{
    struct seen s = {0};
    struct sf_hasher *h = new_hasher(&s);
    DIR *d = opendir("/proc/self/task");
    ck_assert_ptr_nonnull(d);
    struct dirent *de;
    int others = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || atoi(de->d_name) == gettid())
            continue;
        char p[300], line[256];
        snprintf(p, sizeof(p), "/proc/self/task/%s/status", de->d_name);
        FILE *f = fopen(p, "r");
        ck_assert_ptr_nonnull(f);
        bool found = false;
        while (fgets(line, sizeof(line), f)) {
            if (strncmp(line, "SigBlk:", 7) != 0)
                continue;
            unsigned long long mask = strtoull(line + 7, NULL, 16);
            /* all but SIGKILL, SIGSTOP and glibc's two internal ones */
            ck_assert_msg((mask & 0xfffffffe7ffbfeffULL) == 0xfffffffe7ffbfeffULL, "%s", line);
            found = true;
        }
        fclose(f);
        ck_assert(found);
        others++;
    }
    closedir(d);
    ck_assert_int_eq(others, 1);
    sf_hasher_free(h);
}
END_TEST

static Suite *
hasher_suite(void)
{
    Suite *s = suite_create("hasher");
    TCase *tc = tcase_create("jobs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_results);
    tcase_add_test(tc, test_shrunk);
    tcase_add_test(tc, test_cancel);
    tcase_add_test(tc, test_free_reports_all);
    tcase_add_test(tc, test_resubmit_from_report);
    tcase_add_test(tc, test_signals_blocked);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(hasher_suite());
}
