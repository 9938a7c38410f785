/*
 * test_lease.c - unit tests for lease: taking a read lease on fds opened
 * in different ways (a table), releasing it, the break seen by
 * sf_lease_breaking while a forked writer is blocked in open(O_WRONLY),
 * and sf_lease_read_breaks (the fd named by the break, SIGIO as overflow,
 * no room). Every wait is bounded; only children forked here are killed.
 */
#include "sfhttpd/lease.h"
#include "sfhttpd/common.h"

#include <check.h>

#include "unit_util.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 5000

/* One directory for the whole run, made and removed by the runner (an
 * unchecked fixture), so a failing test leaves nothing behind. */
static char base[256];
static char file[PATH_MAX];
static int sigfd = -1;

static void
setup_dir(void)
{
    unit_tmpdir(base, sizeof(base), "sf_lease");
}

static void
teardown_dir(void)
{
    unit_rmtree(base);
}

/* Per test: a fresh file and a drained signalfd (with CK_FORK=no a break
 * left over by an earlier test must not show up here). */
static void
setup_file(void)
{
    static int n;
    snprintf(file, sizeof(file), "%s/f%d.%d", base, (int)getpid(), n++);
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "hello\n", 6), 6);
    close(fd);
    sigfd = sf_lease_open_signalfd();
    ck_assert_int_ge(sigfd, 0);
    int fds[8];
    bool overflow;
    while (sf_lease_read_breaks(sigfd, fds, SF_ARRAY_LEN(fds), &overflow) > 0 || overflow)
        ;
}

static void
teardown_file(void)
{
    if (sigfd >= 0)
        close(sigfd);
    sigfd = -1;
    unlink(file);
}

/* A child that opens path for writing (blocking while a lease is held),
 * writes a byte and exits 0. */
static pid_t
spawn_writer(const char *path)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(path, O_WRONLY | O_APPEND);
        if (fd < 0)
            _exit(2);
        if (write(fd, "x", 1) != 1)
            _exit(3);
        close(fd);
        _exit(0);
    }
    return pid;
}

/* ------------------------------------------------------------ take */

enum opener { OPEN_RDONLY, OPEN_RDONLY_WRITER, OPEN_RDWR, OPEN_WRONLY, OPEN_DIR };

struct take_case {
    const char *name;
    enum opener how;
    int rc;
};

static const struct take_case take_cases[] = {
    {"read-only", OPEN_RDONLY, 0},
    {"read-only, another fd writes", OPEN_RDONLY_WRITER, -EAGAIN},
    {"read-write", OPEN_RDWR, -EAGAIN},
    {"write-only", OPEN_WRONLY, -EAGAIN},
    {"directory", OPEN_DIR, -EINVAL},
};

START_TEST(test_take_table)
{
    const struct take_case *c = &take_cases[_i];
    int writer = -1, fd;
    switch (c->how) {
    case OPEN_RDONLY_WRITER:
        writer = open(file, O_WRONLY | O_CLOEXEC);
        ck_assert_int_ge(writer, 0);
        /* fallthrough */
    case OPEN_RDONLY: fd = open(file, O_RDONLY | O_CLOEXEC); break;
    case OPEN_RDWR: fd = open(file, O_RDWR | O_CLOEXEC); break;
    case OPEN_WRONLY: fd = open(file, O_WRONLY | O_CLOEXEC); break;
    default: fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC); break;
    }
    ck_assert_int_ge(fd, 0);

    int rc = sf_lease_take(fd);
    ck_assert_msg(rc == c->rc, "%s: sf_lease_take = %d, want %d", c->name, rc, c->rc);
    ck_assert_int_eq(fcntl(fd, F_GETLEASE), rc == 0 ? F_RDLCK : F_UNLCK);
    if (rc == 0) {
        ck_assert_int_eq(fcntl(fd, F_GETSIG), sf_lease_signal());
        struct f_owner_ex own;
        ck_assert_int_eq(fcntl(fd, F_GETOWN_EX, &own), 0);
        ck_assert_int_eq(own.type, F_OWNER_TID);
        ck_assert_int_eq(own.pid, gettid());
        ck_assert(!sf_lease_breaking(fd));
        ck_assert_int_eq(sf_lease_release(fd), 0);
        ck_assert_int_eq(fcntl(fd, F_GETLEASE), F_UNLCK);
    }
    close(fd);
    if (writer >= 0)
        close(writer);
}
END_TEST

/* A release resets the owner and the signal: take sets them again. */
START_TEST(test_take_again_after_release)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(sf_lease_take(fd), 0);
    ck_assert_int_eq(sf_lease_release(fd), 0);
    ck_assert_int_eq(fcntl(fd, F_SETSIG, 0), 0);
    ck_assert_int_eq(sf_lease_take(fd), 0);
    ck_assert_int_eq(fcntl(fd, F_GETSIG), sf_lease_signal());
    ck_assert_int_eq(fcntl(fd, F_GETLEASE), F_RDLCK);
    ck_assert_int_eq(sf_lease_release(fd), 0);
    close(fd);
}
END_TEST

START_TEST(test_take_bad_fd)
{
    ck_assert_int_eq(sf_lease_take(-1), -EBADF);
    ck_assert_int_eq(sf_lease_release(-1), -EBADF);
    ck_assert(!sf_lease_breaking(-1));
}
END_TEST

/* Without CAP_LEASE, a file someone else owns cannot be leased: run in
 * a child so the dropped capability does not outlive the test. */
START_TEST(test_take_eacces)
{
    if (geteuid() != 0)
        return; /* not owner already covers it only as root */
    ck_assert_int_eq(chown(file, 65534, 65534), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        struct __user_cap_data_struct d[2];
        if (syscall(SYS_capget, &h, d) != 0)
            _exit(10);
        d[CAP_TO_INDEX(CAP_LEASE)].effective &= ~CAP_TO_MASK(CAP_LEASE);
        if (syscall(SYS_capset, &h, d) != 0)
            _exit(11);
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            _exit(12);
        _exit(sf_lease_take(fd) == -EACCES ? 0 : 13);
    }
    ck_assert_int_eq(wait_child(pid, WAIT_MS, true), 0);
}
END_TEST

/* ----------------------------------------------------------- breaks */

START_TEST(test_read_breaks_empty)
{
    int fds[4] = {-1, -1, -1, -1};
    bool overflow = true;
    ck_assert_int_eq(sf_lease_read_breaks(sigfd, fds, SF_ARRAY_LEN(fds), &overflow), 0);
    ck_assert(!overflow);
    ck_assert_int_eq(sf_lease_read_breaks(-1, fds, SF_ARRAY_LEN(fds), &overflow), -EBADF);
}
END_TEST

START_TEST(test_read_breaks_sigio)
{
    ck_assert_int_eq(raise(SIGIO), 0); /* blocked: stays pending */
    ck_assert(readable(sigfd, WAIT_MS));
    int fds[4];
    bool overflow = false;
    ck_assert_int_eq(sf_lease_read_breaks(sigfd, fds, SF_ARRAY_LEN(fds), &overflow), 0);
    ck_assert(overflow);
    ck_assert(!readable(sigfd, 0));
}
END_TEST

/* room: how many fds sf_lease_read_breaks may return. */
static void
do_break(size_t room)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(sf_lease_take(fd), 0);
    ck_assert(!sf_lease_breaking(fd));
    ck_assert(!readable(sigfd, 0));

    pid_t pid = spawn_writer(file);
    ck_assert_msg(readable(sigfd, WAIT_MS), "no lease-break signal");
    /* the writer waits for us */
    ck_assert(sf_lease_breaking(fd));
    ck_assert_int_eq(fcntl(fd, F_GETLEASE), F_UNLCK);
    ck_assert_int_eq(wait_child(pid, 100, false), -1);

    int fds[4] = {-1, -1, -1, -1};
    bool overflow = false;
    int n = sf_lease_read_breaks(sigfd, fds, room, &overflow);
    if (room) {
        ck_assert_int_eq(n, 1);
        ck_assert_int_eq(fds[0], fd);
        ck_assert(!overflow);
    } else {
        ck_assert_int_eq(n, 0);
        ck_assert(overflow); /* no room: check every lease */
    }
    ck_assert(!readable(sigfd, 0));

    ck_assert_int_eq(sf_lease_release(fd), 0);
    ck_assert_int_eq(wait_child(pid, WAIT_MS, true), 0);
    close(fd);

    struct stat st;
    ck_assert_int_eq(stat(file, &st), 0);
    ck_assert_int_eq(st.st_size, 7); /* the writer went through */
}

START_TEST(test_break)
{
    do_break(4);
}
END_TEST

START_TEST(test_break_no_room)
{
    do_break(0);
}
END_TEST

/* Without a lease a writer never waits and nothing is signalled. */
START_TEST(test_no_lease_no_signal)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(sf_lease_take(fd), 0);
    ck_assert_int_eq(sf_lease_release(fd), 0);
    pid_t pid = spawn_writer(file);
    ck_assert_int_eq(wait_child(pid, WAIT_MS, true), 0);
    ck_assert(!readable(sigfd, 100));
    close(fd);
}
END_TEST

static Suite *
lease_suite(void)
{
    Suite *s = suite_create("lease");
    TCase *tc;

    tc = tcase_create("take");
    tcase_add_unchecked_fixture(tc, setup_dir, teardown_dir);
    tcase_add_checked_fixture(tc, setup_file, teardown_file);
    tcase_add_loop_test(tc, test_take_table, 0, (int)SF_ARRAY_LEN(take_cases));
    tcase_add_test(tc, test_take_again_after_release);
    tcase_add_test(tc, test_take_bad_fd);
    tcase_add_test(tc, test_take_eacces);
    suite_add_tcase(s, tc);

    tc = tcase_create("break");
    tcase_set_timeout(tc, 30);
    tcase_add_unchecked_fixture(tc, setup_dir, teardown_dir);
    tcase_add_checked_fixture(tc, setup_file, teardown_file);
    tcase_add_test(tc, test_read_breaks_empty);
    tcase_add_test(tc, test_read_breaks_sigio);
    tcase_add_test(tc, test_break);
    tcase_add_test(tc, test_break_no_room);
    tcase_add_test(tc, test_no_lease_no_signal);
    suite_add_tcase(s, tc);

    return s;
}

int
main(void)
{
    return unit_run(lease_suite());
}
