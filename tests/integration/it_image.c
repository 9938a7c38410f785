/*
 * it_image.c - wire images (fcache.h): a whole small file of more than
 * 8 KiB goes out, head and body, with one sendfile from a sealed memfd of
 * the server's; the bytes are exactly those of the file, through a new
 * second (a new Date, a new image that replaces the old), a change of the
 * file, and short writes into a full socket; a file of 8 KiB or less still
 * goes by the gather write. Images hold descriptors within
 * open_file_cache_max and bytes within small_file_budget. Seen from
 * outside: /proc/PID/io counts sendfile as a write call (syscw) and its
 * bytes (wchar), a sendmsg as neither; /proc/PID/fd names the memfds.
 */
#include "harness.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIZE 12288 /* above SF_FIMAGE_MIN, within small_file_size */
#define SEED 5

static char g_base[PATH_MAX];
static char g_root[PATH_MAX];

static void
setup(void)
{
    it_tree_new(g_base, sizeof(g_base), g_root, sizeof(g_root));
    it_put_pattern(g_root, "a.bin", SIZE, SEED);
    it_put_pattern(g_root, "b.bin", SIZE, SEED + 1);
    it_put_pattern(g_root, "c.bin", SIZE, SEED + 2);
    it_put_pattern(g_root, "8k.bin", 8192, SEED + 3);
}

static void
teardown(void)
{
    it_rmtree(g_base);
}

/* How many of pid's descriptors are its images, and how many are files
 * beneath g_root. */
static void
count_fds(pid_t pid, int *images, int *files)
{
    char dir[64];
    snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    *images = *files = 0;
    size_t rl = strlen(g_root);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char p[PATH_MAX], t[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        ssize_t n = readlink(p, t, sizeof(t) - 1);
        if (n <= 0)
            continue;
        t[n] = '\0';
        *images += strncmp(t, "/memfd:sfhttpd-image", 20) == 0;
        *files += strncmp(t, g_root, rl) == 0 && t[rl] == '/';
    }
    closedir(d);
}

static int
images_of(pid_t pid)
{
    int images, files;
    count_fds(pid, &images, &files);
    return images;
}

/* GET path on c: 200 with exactly the size bytes of pattern seed. The
 * head's length and Date go to *head_len and date (when not NULL). */
static void
get(struct it_conn *c, const char *path, size_t size, uint32_t seed, size_t *head_len,
    char date[64])
{
    char req[256];
    snprintf(req, sizeof(req), "GET /%s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    it_conn_send_str(c, req);
    struct it_response r;
    ck_assert_int_eq(it_read_response(c, &r, false), IT_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, size);
    unsigned char *want = malloc(size);
    ck_assert_ptr_nonnull(want);
    it_fill_pattern(want, size, 0, seed);
    ck_assert_msg(memcmp(r.body, want, size) == 0, "/%s: wrong bytes", path);
    free(want);
    if (head_len)
        *head_len = r.head_len;
    if (date) {
        const char *v = it_header(&r, "Date");
        ck_assert_ptr_nonnull(v);
        snprintf(date, 64, "%s", v);
    }
    it_response_free(&r);
}

START_TEST(t_head_and_body_one_sendfile)
{
    enum { N = 100 };
    struct it_server s;
    it_server_start_dir(&s, g_root);
    struct it_conn c;
    it_conn_open(&c, s.port);
    size_t hlen;
    get(&c, "a.bin", SIZE, SEED, &hlen, NULL);
    long long w0 = it_proc_io(s.pid, "syscw"), b0 = it_proc_io(s.pid, "wchar");
    for (int i = 0; i < N; i++)
        get(&c, "a.bin", SIZE, SEED, NULL, NULL);
    long long writes = it_proc_io(s.pid, "syscw") - w0;
    long long bytes = it_proc_io(s.pid, "wchar") - b0;
    /* one sendfile a response; a new second's image is written with two
     * pwrites, and the test takes a few seconds at most */
    ck_assert_msg(writes >= N && writes <= N + 12, "%lld write calls for %d responses", writes, N);
    ck_assert_msg(bytes >= (long long)N * (long long)(SIZE + hlen), "%lld bytes written", bytes);
    ck_assert_int_eq(images_of(s.pid), 1);

    /* 8 KiB: the gather write, no image */
    get(&c, "8k.bin", 8192, SEED + 3, NULL, NULL);
    w0 = it_proc_io(s.pid, "syscw");
    for (int i = 0; i < N; i++)
        get(&c, "8k.bin", 8192, SEED + 3, NULL, NULL);
    writes = it_proc_io(s.pid, "syscw") - w0;
    ck_assert_msg(writes <= 8, "%lld write calls for %d gathered responses", writes, N);
    ck_assert_int_eq(images_of(s.pid), 1);
    it_conn_close(&c);
    it_server_stop(&s);
}
END_TEST

/* A new second: a new Date in the head, so a new image, and the old one
 * closed; the bytes stay exact. */
START_TEST(t_new_second_new_image)
{
    struct it_server s;
    it_server_start_dir(&s, g_root);
    struct it_conn c;
    it_conn_open(&c, s.port);
    char first[64], date[64];
    get(&c, "a.bin", SIZE, SEED, NULL, first);
    int seconds = 0;
    int64_t until = it_now_ms() + 5000;
    while (seconds < 3 && it_now_ms() < until) {
        get(&c, "a.bin", SIZE, SEED, NULL, date);
        if (strcmp(date, first) != 0) {
            seconds++;
            snprintf(first, sizeof(first), "%s", date);
            ck_assert_int_eq(images_of(s.pid), 1);
        }
        it_sleep_ms(20);
    }
    ck_assert_int_ge(seconds, 3);
    ck_assert_int_eq(images_of(s.pid), 1);
    it_conn_close(&c);
    it_server_stop(&s);
}
END_TEST

/* The file rewritten in place (its lease breaks) and then replaced by a
 * rename: each time the next response has the new bytes. */
START_TEST(t_change_seen)
{
    struct it_server s;
    it_server_start_dir(&s, g_root);
    struct it_conn c;
    it_conn_open(&c, s.port);
    char p[PATH_MAX], tmp[PATH_MAX];
    it_join(p, sizeof(p), g_root, "a.bin");
    it_join(tmp, sizeof(tmp), g_root, "a.bin.new");
    for (int i = 0; i < 3; i++)
        get(&c, "a.bin", SIZE, SEED, NULL, NULL);
    ck_assert_int_eq(images_of(s.pid), 1);
    it_write_pattern(p, SIZE, 77);
    get(&c, "a.bin", SIZE, 77, NULL, NULL);
    get(&c, "a.bin", SIZE, 77, NULL, NULL);
    it_write_pattern(tmp, SIZE, 78);
    ck_assert_int_eq(rename(tmp, p), 0);
    get(&c, "a.bin", SIZE, 78, NULL, NULL);
    get(&c, "a.bin", SIZE, 78, NULL, NULL);
    ck_assert_int_le(images_of(s.pid), 1);
    it_conn_close(&c);
    it_server_stop(&s);
}
END_TEST

/* 64 requests pipelined into a client that reads nothing for a while,
 * with a small receive buffer: the server's writes come short (its
 * unsent bytes are held to 128 KiB) and go on where they stopped; every
 * body is exact. */
START_TEST(t_short_writes_resume)
{
    enum { N = 64 };
    struct it_server s;
    it_server_start_dir(&s, g_root);
    struct it_conn c;
    it_conn_open_opts(&c, s.port, 4096, 0);
    get(&c, "a.bin", SIZE, SEED, NULL, NULL);
    static char reqs[N * 64];
    size_t len = 0;
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(reqs + len, sizeof(reqs) - len,
                                "GET /a.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    it_conn_send(&c, reqs, len);
    it_sleep_ms(300);
    for (int i = 0; i < N; i++) {
        struct it_response r;
        ck_assert_int_eq(it_read_response(&c, &r, false), IT_OK);
        ck_assert_int_eq(r.status, 200);
        ck_assert_uint_eq(r.body_len, SIZE);
        unsigned char want[SIZE];
        it_fill_pattern(want, SIZE, 0, SEED);
        ck_assert_msg(memcmp(r.body, want, SIZE) == 0, "response %d: wrong bytes", i);
        it_response_free(&r);
    }
    it_conn_close(&c);
    it_server_stop(&s);
}
END_TEST

/* Images count with the cached files in open_file_cache_max, and give
 * way first. */
START_TEST(t_images_within_file_cache)
{
    struct it_server s;
    it_server_start_with(&s, g_base, "open_file_cache_max = 4\n", g_root);
    struct it_conn c;
    it_conn_open(&c, s.port);
    const char *names[] = {"a.bin", "b.bin", "c.bin"};
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 3; i++) {
            get(&c, names[i], SIZE, SEED + (uint32_t)i, NULL, NULL);
            int images, files;
            count_fds(s.pid, &images, &files);
            ck_assert_msg(images + files <= 4, "%d images + %d files", images, files);
            ck_assert_int_ge(images, 1);
        }
    it_conn_close(&c);
    it_server_stop(&s);

    it_server_start_with(&s, g_base, "open_file_cache_max = 1\n", g_root);
    it_conn_open(&c, s.port);
    for (int i = 0; i < 5; i++)
        get(&c, "a.bin", SIZE, SEED, NULL, NULL);
    ck_assert_int_eq(images_of(s.pid), 0);
    it_conn_close(&c);
    it_server_stop(&s);
}
END_TEST

/* An image's bytes count in small_file_budget with the snapshots': 16k
 * holds the 12 KiB snapshot but not its image too. */
START_TEST(t_images_within_budget)
{
    struct it_server s;
    it_server_start_with(&s, g_base, "small_file_budget = 16k\n", g_root);
    struct it_conn c;
    it_conn_open(&c, s.port);
    for (int i = 0; i < 5; i++)
        get(&c, "a.bin", SIZE, SEED, NULL, NULL);
    ck_assert_int_eq(images_of(s.pid), 0);
    it_conn_close(&c);
    it_server_stop(&s);

    it_server_start_with(&s, g_base, "small_file_budget = 32k\n", g_root);
    it_conn_open(&c, s.port);
    for (int i = 0; i < 5; i++)
        get(&c, "a.bin", SIZE, SEED, NULL, NULL);
    ck_assert_int_eq(images_of(s.pid), 1);
    it_conn_close(&c);
    it_server_stop(&s);
}
END_TEST

static Suite *
image_suite(void)
{
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("image");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, t_head_and_body_one_sendfile);
    tcase_add_test(tc, t_new_second_new_image);
    tcase_add_test(tc, t_change_seen);
    tcase_add_test(tc, t_short_writes_resume);
    tcase_add_test(tc, t_images_within_file_cache);
    tcase_add_test(tc, t_images_within_budget);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return it_main(image_suite());
}
