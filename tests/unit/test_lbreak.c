/*
 * test_lbreak.c - unit tests for lbreak, the lease-break handler: whom a
 * break cuts (a table of users: sending or not, bytes unacknowledged in a
 * Unix or TCP socket, a snapshot), that the cut is one pass over the
 * users and happens before the writer proceeds, that users stay attached
 * (the owner detaches them later), that an abort may mark its sibling
 * user, the leased-fd table (a high fd, a failed take, release), stale
 * signals naming a reused fd, and the SIGIO overflow path. With a rescue
 * (an event base and a wait): a user whose socket drains is held, saved
 * while the writer still waits, and resumed after the release; one that
 * does not drain is cut at the deadline; one that cannot be held, or has
 * no rescue callbacks, is cut at once; a release while pending ends the
 * break untold. Writers are
 * forked children blocked in open(O_WRONLY); every wait is bounded, and
 * only children forked here are killed, by PID.
 */
#include "sfhttpd/lbreak.h"
#include "sfhttpd/common.h"
#include "sfhttpd/lease.h"

#include <arpa/inet.h>
#include <check.h>
#include <event2/event.h>

#include "unit_util.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS 5000
#define MAXU 64

/* One directory for the run (an unchecked fixture). */
static char base[256];

/* Per test. */
static char path_a[PATH_MAX], path_b[PATH_MAX];
static struct sf_lbreak *lb;
static struct event_base *rbase; /* the rescue tests' loop */

/* What the owner was told. */
struct told {
    int calls;
    struct sf_lbreak_file *lf;
    unsigned cut;
    int fd_then; /* lf->fd when told: the lease is released first */
};
static struct told told;

/* An abort callback's record: how often, in which order, and whether the
 * writer was still waiting when it ran. */
struct rec {
    int calls;
    int order;
    bool writer_waiting;
    struct sf_file_user *sibling; /* marked cut too, as a connection's
                                     other user is */
};
static int abort_seq;
static pid_t writer_pid;

static void
setup_base(void)
{
    unit_tmpdir(base, sizeof(base), "sf_lbreak");
}

static void
teardown_base(void)
{
    unit_rmtree(base);
}

static void
on_broken(void *arg, struct sf_lbreak_file *lf, unsigned cut)
{
    struct told *t = arg;
    t->calls++;
    t->lf = lf;
    t->cut = cut;
    t->fd_then = lf->fd;
}

/* Per test: two fresh files and a handler whose signalfd holds nothing
 * left over by an earlier test (CK_FORK=no). */
static void
setup(void)
{
    static int n;
    snprintf(path_a, sizeof(path_a), "%s/a%d.%d", base, (int)getpid(), n);
    snprintf(path_b, sizeof(path_b), "%s/b%d.%d", base, (int)getpid(), n++);
    unit_write(path_a, "aaaaaaaa");
    unit_write(path_b, "bbbbbbbb");
    memset(&told, 0, sizeof(told));
    abort_seq = 0;
    writer_pid = -1;
    int err = 1;
    lb = sf_lbreak_new(on_broken, &told, &err);
    ck_assert_ptr_nonnull(lb);
    ck_assert_int_eq(err, 0);
    ck_assert_int_ge(sf_lbreak_fd(lb), 0);
    int fds[8];
    bool overflow;
    while (sf_lease_read_breaks(sf_lbreak_fd(lb), fds, 8, &overflow) > 0 || overflow)
        ;
}

static void
teardown(void)
{
    sf_lbreak_free(lb);
    lb = NULL;
    if (rbase)
        event_base_free(rbase);
    rbase = NULL;
    unlink(path_a);
    unlink(path_b);
}

/* True while the writer has not exited (it is not reaped here). */
static bool
writer_waits(void)
{
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    return writer_pid > 0 &&
           waitid(P_PID, (id_t)writer_pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == 0;
}

static void
on_abort(void *arg)
{
    struct rec *r = arg;
    r->calls++;
    r->order = abort_seq++;
    r->writer_waiting = writer_waits();
    if (r->sibling) {
        r->sibling->sending = false;
        r->sibling->sock = -1;
    }
}

/* A child that opens path for writing (blocking while a lease is held)
 * and exits 0. */
static pid_t
spawn_writer(const char *path)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(path, O_WRONLY);
        if (fd < 0)
            _exit(2);
        close(fd);
        _exit(0);
    }
    return pid;
}

/* Open path and take a lease on it for lf. */
static int
take(struct sf_lbreak_file *lf, const char *path)
{
    *lf = (struct sf_lbreak_file){.fd = -1};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(sf_lbreak_take(lb, lf, fd), 0);
    ck_assert_int_eq(lf->fd, fd);
    ck_assert_int_eq(fcntl(fd, F_GETLEASE), F_RDLCK);
    return fd;
}

/* Start a writer of path and wait (bounded) until its break is
 * signalled; the writer then waits for us. */
static void
break_in(const char *path)
{
    writer_pid = spawn_writer(path);
    ck_assert_msg(readable(sf_lbreak_fd(lb), WAIT_MS), "no lease-break signal");
    ck_assert_int_eq(wait_child(writer_pid, 50, false), -1);
}

/* ------------------------------------------------------------ the cut */

enum sockkind { SK_NONE, SK_UNIX_UNREAD, SK_UNIX_READ, SK_TCP_READ };

struct cut_case {
    const char *name;
    bool sending;
    enum sockkind sk;
    bool snapshot;
    bool cut;
};

static const struct cut_case cut_cases[] = {
    {"sending", true, SK_NONE, false, true},
    {"sending, socket drained", true, SK_UNIX_READ, false, true},
    {"idle, no socket", false, SK_NONE, false, false},
    {"idle, bytes unread in a unix socket", false, SK_UNIX_UNREAD, false, true},
    {"idle, unix socket drained", false, SK_UNIX_READ, false, false},
    {"idle, tcp socket acknowledged", false, SK_TCP_READ, false, false},
    {"sending from a snapshot", true, SK_NONE, true, false},
    {"idle, bytes unread, snapshot", false, SK_UNIX_UNREAD, true, false},
};

/* A connected loopback TCP pair: sv[0] the server's end. */
static void
tcp_pair(int sv[2])
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(l, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(l, 1), 0);
    ck_assert_int_eq(getsockname(l, (struct sockaddr *)&a, &len), 0);
    sv[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(sv[1], 0);
    ck_assert_int_eq(connect(sv[1], (struct sockaddr *)&a, sizeof(a)), 0);
    sv[0] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    ck_assert_int_ge(sv[0], 0);
    close(l);
}

static int
outq(int s)
{
    int q = -1;
    ck_assert_int_eq(ioctl(s, SIOCOUTQ, &q), 0);
    return q;
}

START_TEST(test_cut_table)
{
    const struct cut_case *c = &cut_cases[_i];
    int sv[2] = {-1, -1};
    char buf[16];
    if (c->sk == SK_UNIX_UNREAD || c->sk == SK_UNIX_READ)
        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    else if (c->sk == SK_TCP_READ)
        tcp_pair(sv);
    if (sv[0] >= 0) {
        ck_assert_int_eq(write(sv[0], "0123", 4), 4);
        if (c->sk != SK_UNIX_UNREAD)
            ck_assert_int_eq(read(sv[1], buf, sizeof(buf)), 4);
        long long end = now_ms() + WAIT_MS; /* wait for the ACK */
        while (c->sk == SK_TCP_READ && outq(sv[0]) != 0 && now_ms() < end)
            usleep(1000);
        ck_assert_int_eq(outq(sv[0]) != 0, c->sk == SK_UNIX_UNREAD);
    }

    struct sf_lbreak_file lf;
    int fd = take(&lf, path_a);
    lf.snapshot = c->snapshot;
    struct rec r = {0};
    struct sf_file_user u = {.sending = c->sending, .sock = sv[0], .abort = on_abort, .arg = &r};
    sf_lbreak_attach(&lf, &u);

    break_in(path_a);
    sf_lbreak_on_signal(lb);

    ck_assert_msg(r.calls == (c->cut ? 1 : 0), "%s: abort called %d times", c->name, r.calls);
    if (c->cut) {
        ck_assert_msg(r.writer_waiting, "%s: the writer went on before the cut", c->name);
        ck_assert(!u.sending);
        ck_assert_int_eq(u.sock, -1);
    } else {
        ck_assert_int_eq(u.sending, c->sending);
        ck_assert_int_eq(u.sock, sv[0]);
    }
    ck_assert_ptr_eq(lf.users, &u); /* the owner detaches, not the cut */
    ck_assert_int_eq(told.calls, 1);
    ck_assert_ptr_eq(told.lf, &lf);
    ck_assert_uint_eq(told.cut, c->cut ? 1 : 0);
    ck_assert_int_eq(told.fd_then, -1); /* released before telling */
    ck_assert_int_eq(lf.fd, -1);
    ck_assert_int_eq(fcntl(fd, F_GETLEASE), F_UNLCK);
    ck_assert_int_eq(wait_child(writer_pid, WAIT_MS, true), 0); /* released at once */

    /* nothing more to read: a second call changes nothing */
    sf_lbreak_on_signal(lb);
    ck_assert_int_eq(told.calls, 1);
    ck_assert_int_eq(r.calls, c->cut ? 1 : 0);

    sf_lbreak_detach(&lf, &u);
    ck_assert_ptr_null(lf.users);
    close(fd);
    if (sv[0] >= 0) {
        close(sv[0]);
        close(sv[1]);
    }
}
END_TEST

/* Many users, as many connections downloading one file: one pass cuts
 * each one that sends exactly once, in list order, every cut before the
 * writer goes on; none is detached; the owner is told once with the
 * count. */
START_TEST(test_cut_many_one_pass)
{
    enum { N = 50 };
    struct sf_lbreak_file lf;
    int fd = take(&lf, path_a);
    static struct rec r[N];
    static struct sf_file_user u[N];
    for (int i = 0; i < N; i++) {
        r[i] = (struct rec){0};
        u[i] = (struct sf_file_user){
            .sending = i % 10 != 9, .sock = -1, .abort = on_abort, .arg = &r[i]};
        sf_lbreak_attach(&lf, &u[i]);
    }
    break_in(path_a);
    sf_lbreak_on_signal(lb);
    ck_assert_int_eq(wait_child(writer_pid, WAIT_MS, true), 0);

    int want = 0, n = 0;
    for (struct sf_file_user *p = lf.users; p; p = p->next, n++) {
        struct rec *pr = p->arg;
        bool sends = (p - u) % 10 != 9;
        ck_assert_msg(pr->calls == (sends ? 1 : 0), "user %td: abort called %d times", p - u,
                      pr->calls);
        if (!sends)
            continue;
        ck_assert_msg(pr->order == want, "user %td cut as number %d, want %d (list order)", p - u,
                      pr->order, want);
        ck_assert_msg(pr->writer_waiting, "user %td cut after the writer went on", p - u);
        want++;
    }
    ck_assert_int_eq(n, N); /* all still attached */
    ck_assert_int_eq(want, N - N / 10);
    ck_assert_int_eq(abort_seq, want);
    ck_assert_int_eq(told.calls, 1);
    ck_assert_uint_eq(told.cut, (unsigned)want);
    for (int i = 0; i < N; i++)
        sf_lbreak_detach(&lf, &u[i]);
    ck_assert_ptr_null(lf.users);
    close(fd);
}
END_TEST

/* A connection holds two users (the response being sent and the one
 * before it); its abort marks both, so one connection counts once. */
START_TEST(test_abort_marks_sibling)
{
    struct sf_lbreak_file lf;
    int fd = take(&lf, path_a);
    struct rec r1 = {0}, r2 = {0};
    struct sf_file_user tail = {.sending = true, .sock = -1, .abort = on_abort, .arg = &r2};
    struct sf_file_user cur = {.sending = true, .sock = -1, .abort = on_abort, .arg = &r1};
    r1.sibling = &tail;
    r2.sibling = &cur;
    sf_lbreak_attach(&lf, &tail);
    sf_lbreak_attach(&lf, &cur); /* first in the list */
    break_in(path_a);
    sf_lbreak_on_signal(lb);
    ck_assert_int_eq(wait_child(writer_pid, WAIT_MS, true), 0);
    ck_assert_int_eq(r1.calls, 1);
    ck_assert_int_eq(r2.calls, 0);
    ck_assert_uint_eq(told.cut, 1);
    sf_lbreak_detach(&lf, &cur);
    sf_lbreak_detach(&lf, &tail);
    close(fd);
}
END_TEST

/* --------------------------------------------------------- the table */

/* attach pushes at the front; detach from the middle, the front and the
 * back keeps the list whole. */
START_TEST(test_attach_detach)
{
    struct sf_lbreak_file lf = {.fd = -1};
    struct sf_file_user u[3] = {{0}};
    for (int i = 0; i < 3; i++)
        sf_lbreak_attach(&lf, &u[i]);
    ck_assert_ptr_eq(lf.users, &u[2]);
    ck_assert_ptr_eq(u[2].next, &u[1]);
    ck_assert_ptr_eq(u[1].next, &u[0]);
    ck_assert_ptr_null(u[0].next);
    sf_lbreak_detach(&lf, &u[1]);
    ck_assert_ptr_eq(u[2].next, &u[0]);
    ck_assert_ptr_eq(u[0].prev, &u[2]);
    sf_lbreak_detach(&lf, &u[2]);
    ck_assert_ptr_eq(lf.users, &u[0]);
    ck_assert_ptr_null(u[0].prev);
    sf_lbreak_detach(&lf, &u[0]);
    ck_assert_ptr_null(lf.users);
}
END_TEST

/* A break on an fd above the table's first size. */
START_TEST(test_high_fd)
{
    int pad[600], npad = 0;
    int fd0 = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(fd0, 0);
    while (npad < 600) {
        pad[npad] = dup(fd0);
        ck_assert_int_ge(pad[npad], 0);
        if (pad[npad++] >= 520)
            break;
    }
    struct sf_lbreak_file lf;
    int fd = take(&lf, path_a);
    ck_assert_int_gt(fd, 512);
    struct rec r = {0};
    struct sf_file_user u = {.sending = true, .sock = -1, .abort = on_abort, .arg = &r};
    sf_lbreak_attach(&lf, &u);
    break_in(path_a);
    sf_lbreak_on_signal(lb);
    ck_assert_int_eq(wait_child(writer_pid, WAIT_MS, true), 0);
    ck_assert_int_eq(r.calls, 1);
    ck_assert_int_eq(told.calls, 1);
    sf_lbreak_detach(&lf, &u);
    close(fd);
    for (int i = 0; i < npad; i++)
        close(pad[i]);
    close(fd0);
}
END_TEST

/* No lease while another fd writes: lf is untouched and a writer is not
 * waited for; release of a file without a lease is a no-op. */
START_TEST(test_take_fails)
{
    int w = open(path_a, O_WRONLY | O_CLOEXEC);
    ck_assert_int_ge(w, 0);
    int fd = open(path_a, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    struct sf_lbreak_file lf = {.fd = -1};
    ck_assert_int_eq(sf_lbreak_take(lb, &lf, fd), -EAGAIN);
    ck_assert_int_eq(lf.fd, -1);
    sf_lbreak_release(lb, &lf);
    ck_assert_int_eq(lf.fd, -1);
    close(w);
    pid_t pid = spawn_writer(path_a);
    ck_assert_int_eq(wait_child(pid, WAIT_MS, true), 0);
    ck_assert(!readable(sf_lbreak_fd(lb), 100));
    close(fd);
}
END_TEST

/* Release lets a waiting writer go and forgets the fd: the pending
 * signal then names an fd we no longer hold, reused by another leased
 * file, and is ignored. */
START_TEST(test_stale_signal_reused_fd)
{
    struct sf_lbreak_file la, lbf;
    int x = take(&la, path_a);
    break_in(path_a);
    sf_lbreak_release(lb, &la);
    ck_assert_int_eq(la.fd, -1);
    ck_assert_int_eq(wait_child(writer_pid, WAIT_MS, true), 0);
    close(x);
    int y = take(&lbf, path_b);
    ck_assert_int_eq(y, x); /* the fd number is reused */
    sf_lbreak_on_signal(lb);
    ck_assert_int_eq(told.calls, 0);
    ck_assert_int_eq(lbf.fd, y);
    ck_assert_int_eq(fcntl(y, F_GETLEASE), F_RDLCK);
    sf_lbreak_release(lb, &lbf);
    ck_assert_int_eq(fcntl(y, F_GETLEASE), F_UNLCK);
    close(y);
}
END_TEST

/* SIGIO (the realtime queue overflowed): every lease is checked; only
 * the breaking one is acted on. _i: the break's own signal consumed too
 * (as if lost) or left pending. */
START_TEST(test_overflow)
{
    bool consume_rt = _i;
    struct sf_lbreak_file la, lbf;
    int fa = take(&la, path_a);
    int fb = take(&lbf, path_b);
    struct rec r = {0};
    struct sf_file_user u = {.sending = true, .sock = -1, .abort = on_abort, .arg = &r};
    sf_lbreak_attach(&la, &u);

    ck_assert_int_eq(raise(SIGIO), 0); /* blocked: pending */
    writer_pid = spawn_writer(path_a);
    /* wait until the break's own signal is pending too */
    sigset_t pend;
    long long end = now_ms() + WAIT_MS;
    do {
        ck_assert_int_eq(sigpending(&pend), 0);
        if (sigismember(&pend, sf_lease_signal()))
            break;
        usleep(1000);
    } while (now_ms() < end);
    ck_assert(sigismember(&pend, sf_lease_signal()));
    ck_assert(sigismember(&pend, SIGIO));
    if (consume_rt) {
        sigset_t rt;
        sigemptyset(&rt);
        sigaddset(&rt, sf_lease_signal());
        siginfo_t si;
        struct timespec zero = {0, 0};
        ck_assert_int_eq(sigtimedwait(&rt, &si, &zero), sf_lease_signal());
        ck_assert_int_eq(si.si_fd, fa);
    }
    sf_lbreak_on_signal(lb);
    ck_assert_int_eq(r.calls, 1);
    ck_assert_int_eq(wait_child(writer_pid, WAIT_MS, true), 0);
    ck_assert_int_eq(told.calls, 1);
    ck_assert_ptr_eq(told.lf, &la);
    /* the other lease is untouched */
    ck_assert_int_eq(fcntl(fb, F_GETLEASE), F_RDLCK);
    ck_assert_int_eq(lbf.fd, fb);
    sf_lbreak_detach(&la, &u);
    sf_lbreak_release(lb, &lbf);
    close(fa);
    close(fb);
}
END_TEST

/* ----------------------------------------------------------- the rescue */

/* A rescue user's record. */
struct rrec {
    int hold, save, resume, abort;
    int hold_rc;
    bool save_writer_waiting, save_leased, resume_released;
    struct sf_lbreak_file *lf;
};

static int
r_hold(void *arg)
{
    struct rrec *r = arg;
    r->hold++;
    return r->hold_rc;
}

static int
r_save(void *arg)
{
    struct rrec *r = arg;
    r->save++;
    r->save_writer_waiting = writer_waits();
    r->save_leased = r->lf->fd >= 0;
    return 0;
}

static void
r_resume(void *arg)
{
    struct rrec *r = arg;
    r->resume++;
    r->resume_released = r->lf->fd < 0;
}

static void
r_abort(void *arg)
{
    struct rrec *r = arg;
    r->abort++;
    r->save_writer_waiting = writer_waits();
}

static const struct sf_file_rescue rops = {r_hold, r_save, r_resume};

static void
rescue_on(unsigned wait_ms)
{
    rbase = event_base_new();
    ck_assert_ptr_nonnull(rbase);
    ck_assert_int_eq(event_base_priority_init(rbase, 2), 0);
    ck_assert_int_eq(sf_lbreak_rescue(lb, rbase, wait_ms), 0);
}

/* Run the loop until the owner is told (bounded); false on timeout. */
static bool
loop_until_told(void)
{
    long long end = now_ms() + WAIT_MS;
    while (told.calls == 0 && now_ms() < end)
        event_base_loop(rbase, EVLOOP_ONCE);
    return told.calls > 0;
}

/* Sending, bytes unread in a Unix socket: held, not told, the writer
 * waits; the peer reads; the next tick saves (writer still waiting, lease
 * held), releases, resumes. _i: the user sends (save and resume), or is
 * a done response's tail (only the drain counts). */
START_TEST(test_rescue_drained_kept)
{
    bool sending = _i == 0;
    int sv[2];
    char buf[16];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    ck_assert_int_eq(write(sv[0], "0123", 4), 4);
    rescue_on(5000);
    struct sf_lbreak_file lf;
    int fd = take(&lf, path_a);
    struct rrec r = {.lf = &lf};
    struct sf_file_user u = {
        .sending = sending, .sock = sv[0], .abort = r_abort, .rescue = &rops, .arg = &r};
    sf_lbreak_attach(&lf, &u);
    break_in(path_a);
    sf_lbreak_on_signal(lb);
    ck_assert_int_eq(r.hold, sending ? 1 : 0);
    ck_assert_int_eq(told.calls, 0);
    ck_assert(lf.breaking);
    ck_assert_int_eq(lf.fd, fd);
    for (int i = 0; i < 5; i++)
        event_base_loop(rbase, EVLOOP_ONCE); /* ticks: not drained yet */
    ck_assert_int_eq(told.calls, 0);
    ck_assert(writer_waits());
    ck_assert_int_eq(read(sv[1], buf, sizeof(buf)), 4);
    ck_assert(loop_until_told());
    ck_assert_int_eq(r.abort, 0);
    ck_assert_int_eq(r.save, sending ? 1 : 0);
    if (sending) {
        ck_assert(r.save_writer_waiting);
        ck_assert(r.save_leased);
        ck_assert_int_eq(r.resume, 1);
        ck_assert(r.resume_released);
    }
    ck_assert_int_eq(r.resume, sending ? 1 : 0);
    ck_assert_uint_eq(told.cut, 0);
    ck_assert_uint_eq(lf.nkept, sending ? 1 : 0);
    ck_assert(!lf.breaking);
    ck_assert_int_eq(told.fd_then, -1);
    ck_assert_int_eq(wait_child(writer_pid, WAIT_MS, true), 0);
    ck_assert(u.sending == sending && u.sock == sv[0]); /* kept */
    sf_lbreak_detach(&lf, &u);
    close(fd);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

/* Never drained: cut at the deadline (not before it), while the writer
 * still waits; never saved nor resumed. */
START_TEST(test_rescue_deadline_cut)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    ck_assert_int_eq(write(sv[0], "0123", 4), 4);
    rescue_on(40);
    struct sf_lbreak_file lf;
    int fd = take(&lf, path_a);
    struct rrec r = {.lf = &lf};
    struct sf_file_user u = {
        .sending = true, .sock = sv[0], .abort = r_abort, .rescue = &rops, .arg = &r};
    sf_lbreak_attach(&lf, &u);
    break_in(path_a);
    long long t0 = now_ms();
    sf_lbreak_on_signal(lb);
    ck_assert(loop_until_told());
    ck_assert_int_ge(now_ms() - t0, 40);
    ck_assert_int_eq(r.hold, 1);
    ck_assert_int_eq(r.abort, 1);
    ck_assert(r.save_writer_waiting);
    ck_assert_int_eq(r.save, 0);
    ck_assert_int_eq(r.resume, 0);
    ck_assert_uint_eq(told.cut, 1);
    ck_assert(!u.sending && u.sock == -1);
    ck_assert_int_eq(wait_child(writer_pid, WAIT_MS, true), 0);
    sf_lbreak_detach(&lf, &u);
    close(fd);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

/* A user whose hold refuses (no room for a copy) and a user without
 * rescue callbacks are both cut at once, inside the signal's handling. */
START_TEST(test_rescue_refused_cut_at_once)
{
    rescue_on(5000);
    struct sf_lbreak_file lf;
    int fd = take(&lf, path_a);
    struct rrec r1 = {.lf = &lf, .hold_rc = -ENOBUFS}, r2 = {.lf = &lf};
    struct sf_file_user u1 = {
        .sending = true, .sock = -1, .abort = r_abort, .rescue = &rops, .arg = &r1};
    struct sf_file_user u2 = {.sending = true, .sock = -1, .abort = r_abort, .arg = &r2};
    sf_lbreak_attach(&lf, &u1);
    sf_lbreak_attach(&lf, &u2);
    break_in(path_a);
    sf_lbreak_on_signal(lb);
    ck_assert_int_eq(told.calls, 1);
    ck_assert_uint_eq(told.cut, 2);
    ck_assert_int_eq(r1.hold, 1);
    ck_assert_int_eq(r1.abort, 1);
    ck_assert_int_eq(r2.hold, 0);
    ck_assert_int_eq(r2.abort, 1);
    ck_assert_int_eq(wait_child(writer_pid, WAIT_MS, true), 0);
    sf_lbreak_detach(&lf, &u1);
    sf_lbreak_detach(&lf, &u2);
    close(fd);
}
END_TEST

/* The owner drops the file while its break is pending (its users gone):
 * the release lets the writer go, the break ends, nobody is told. */
START_TEST(test_rescue_release_while_pending)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    ck_assert_int_eq(write(sv[0], "0123", 4), 4);
    rescue_on(5000);
    struct sf_lbreak_file lf;
    int fd = take(&lf, path_a);
    struct rrec r = {.lf = &lf};
    struct sf_file_user u = {
        .sending = true, .sock = sv[0], .abort = r_abort, .rescue = &rops, .arg = &r};
    sf_lbreak_attach(&lf, &u);
    break_in(path_a);
    sf_lbreak_on_signal(lb);
    ck_assert(lf.breaking);
    sf_lbreak_detach(&lf, &u);
    sf_lbreak_release(lb, &lf);
    ck_assert(!lf.breaking);
    ck_assert_int_eq(wait_child(writer_pid, WAIT_MS, true), 0);
    for (int i = 0; i < 5; i++)
        event_base_loop(rbase, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    ck_assert_int_eq(told.calls, 0);
    ck_assert_int_eq(r.abort + r.save + r.resume, 0);
    close(fd);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

static Suite *
lbreak_suite(void)
{
    Suite *s = suite_create("lbreak");
    TCase *tc;

    tc = tcase_create("cut");
    tcase_set_timeout(tc, 30);
    tcase_add_unchecked_fixture(tc, setup_base, teardown_base);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_cut_table, 0, (int)SF_ARRAY_LEN(cut_cases));
    tcase_add_test(tc, test_cut_many_one_pass);
    tcase_add_test(tc, test_abort_marks_sibling);
    suite_add_tcase(s, tc);

    tc = tcase_create("table");
    tcase_set_timeout(tc, 30);
    tcase_add_unchecked_fixture(tc, setup_base, teardown_base);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_attach_detach);
    tcase_add_test(tc, test_high_fd);
    tcase_add_test(tc, test_take_fails);
    tcase_add_test(tc, test_stale_signal_reused_fd);
    tcase_add_loop_test(tc, test_overflow, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("rescue");
    tcase_set_timeout(tc, 30);
    tcase_add_unchecked_fixture(tc, setup_base, teardown_base);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_rescue_drained_kept, 0, 2);
    tcase_add_test(tc, test_rescue_deadline_cut);
    tcase_add_test(tc, test_rescue_refused_cut_at_once);
    tcase_add_test(tc, test_rescue_release_while_pending);
    suite_add_tcase(s, tc);

    return s;
}

int
main(void)
{
    return unit_run(lbreak_suite());
}
