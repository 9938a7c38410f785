/*
 * master.c - the process model (see master.h): a single process, or a
 * master and its workers.
 *
 * The master is deliberately small and synchronous: its signals arrive
 * through a signalfd (blocked everywhere, so a worker inherits them
 * blocked and cannot lose one before its event loop handles it), and one
 * poll(2) loop with a timeout drives restarts and stop deadlines. It
 * holds every listening socket for the life of a generation, so a
 * restarted worker and the next generation find them open, and the
 * kernel keeps queueing connections while workers come and go.
 *
 * A generation is one configuration and its workers. A reload starts a
 * new generation before it tells the old workers to stop; the old ones
 * then live only as pids with a deadline for SIGKILL.
 */
#include "sfhttpd/master.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "sfhttpd/daemon.h"
#include "sfhttpd/lease.h"
#include "sfhttpd/listen.h"
#include "sfhttpd/log.h"
#include "sfhttpd/privs.h"
#include "sfhttpd/startup.h"
#include "sfhttpd/worker.h"

#define KILL_GRACE_MS 2000     /* after a deadline, before SIGKILL */
#define DEATHS_WINDOW_MS 10000 /* this many deaths in this window ... */
#define DEATHS_MAX 5
#define BACKOFF_MIN_MS 1000 /* ... back off from here, doubling */
#define BACKOFF_MAX_MS 30000

struct gen {
    const struct sf_config *cfg;
    struct sf_config *owned; /* cfg when the master allocated it */
    struct sf_listen_set lis;
    int n;               /* worker slots */
    pid_t *pid;          /* per slot; 0 = not running */
    int64_t *restart_at; /* per slot; 0 = no restart planned */
};

struct retired {
    pid_t pid;
    int64_t kill_at;
};

struct master {
    struct sf_log log;
    const struct sf_master_opts *o;
    pid_t self;
    int sfd;
    bool inherited; /* listeners from systemd */
    struct sf_ids ids;
    struct gen cur;
    struct sf_listen_set *closing; /* a child must close these too */
    struct retired *old;
    size_t nold, capold;
    bool stopping, quitting;
    bool draining;              /* drain_delay: a stop is coming */
    int64_t drain_end;          /* while draining: when the stop begins */
    int64_t kill_at;            /* while stopping */
    int64_t deaths[DEATHS_MAX]; /* ring of the latest death times */
    size_t ndeaths;
    int backoff_ms;
};

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const int master_sigs[] = {SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGCHLD};

/* Block the signals we handle, from the start: a SIGTERM that arrives
 * right after the "listening on" line waits for its handler instead of
 * killing us. The lease signals too, so that every worker starts with
 * them blocked (lease.h), and SIGUSR2, the drain notice a worker gets
 * (worker.h), so that one sent while it starts waits for its handler.
 * The handled set goes to *handled. */
static int
block_signals(sigset_t *handled)
{
    sigset_t set;
    sigemptyset(handled);
    for (size_t i = 0; i < sizeof(master_sigs) / sizeof(master_sigs[0]); i++)
        sigaddset(handled, master_sigs[i]);
    set = *handled;
    sigaddset(&set, sf_lease_signal());
    sigaddset(&set, SIGIO);
    sigaddset(&set, SIGUSR2);
    return sigprocmask(SIG_BLOCK, &set, NULL);
}

/* ---- one process --------------------------------------------------------- */

/* The logs of a start, errors copied to stderr until it is done. When
 * they cannot all be opened, still tell every reason the start fails
 * (startup.h): in the error log if that one opens, and on stderr. */
static int
open_start_logs(struct sf_log *log, const struct sf_config *cfg, struct sf_ids *ids)
{
    if (sf_log_open(log, cfg) == 0) {
        sf_log_tee(log, true);
        return 0;
    }
    bool have = sf_log_open_errors(log, cfg) == 0;
    if (have)
        sf_log_tee(log, true);
    sf_startup_prepare(cfg, ids, have ? log : NULL);
    sf_log_close(log);
    return -1;
}

static int
open_listeners(struct sf_listen_set *set, const struct sf_config *cfg, struct sf_log *log,
               bool *inherited)
{
    int n = sf_listen_inherit(set, cfg, log);
    if (n < 0)
        return -1;
    *inherited = n > 0;
    return n > 0 ? 0 : sf_listen_open(set, cfg, cfg->workers, NULL, log);
}

static int
run_single(const struct sf_config *cfg, const struct sf_master_opts *o)
{
    struct sf_log log;
    struct sf_listen_set set = {0};
    struct sf_ids ids;
    struct sf_pid_keeper keeper = {.pid = 0, .fd = -1};
    bool inherited = false, pid_written = false;
    int status = 1;
    sigset_t handled;
    block_signals(&handled); /* sf_worker_run unblocks them */
    if (open_start_logs(&log, cfg, &ids) != 0)
        return 1;
    if (sf_startup_prepare(cfg, &ids, &log) != 0 ||
        open_listeners(&set, cfg, &log, &inherited) != 0)
        goto out;
    sf_startup_announce(cfg, &set, &log);
    if (o->daemon && sf_daemon_detach(&log) != 0)
        goto out;
    if (sf_daemon_write_pid(cfg->pid_file, &log) != 0)
        goto out;
    pid_written = true;
    /* once switched we may not remove it: a root child will */
    if (ids.drop && sf_daemon_keep_pid(&keeper, cfg->pid_file, &log) != 0)
        goto out;
    sf_privs_prepare_logs(cfg, &ids);
    if (sf_privs_drop(&ids, &log) != 0)
        goto out;
    sf_log_close(&log);
    sd_notify(0, "READY=1");
    struct sf_worker_opts wo = {.lis = &set, .slot = 0, .under_master = false};
    status = sf_worker_run(cfg, &wo);
    sf_log_open(&log, cfg);
out:
    sf_listen_close(&set);
    if (pid_written)
        sf_daemon_remove_pid(cfg->pid_file, &keeper);
    sf_log_close(&log);
    return status;
}

/* ---- workers ---------------------------------------------------------------- */

static bool
use_master(const struct sf_config *cfg, const struct sf_master_opts *o)
{
    if (cfg->workers == 0 || cfg->master == 0)
        return false;
    return cfg->workers >= 2 || cfg->master == 1 || o->daemon;
}

/* In the new child: shed the master's descriptors, switch user, make
 * sure we die with the master, run the worker. Never returns. */
static _Noreturn void
worker_main(struct master *m, int slot)
{
    close(m->sfd);
    sf_listen_forget(m->closing);
    if (sf_privs_drop(&m->ids, &m->log) != 0)
        _exit(1);
    /* after the switch: a change of credentials clears the setting */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != m->self)
        _exit(0);
    sf_log_close(&m->log);
    struct sf_worker_opts wo = {
        .lis = &m->cur.lis, .slot = slot, .under_master = true, .draining = m->draining};
    exit(sf_worker_run(m->cur.cfg, &wo));
}

static int
spawn(struct master *m, int slot)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        sf_log_errno(&m->log, SF_LOG_ERROR, errno, "fork: worker %d not started", slot);
        m->cur.restart_at[slot] = now_ms() + BACKOFF_MIN_MS;
        return -1;
    }
    if (pid == 0)
        worker_main(m, slot);
    m->cur.pid[slot] = pid;
    m->cur.restart_at[slot] = 0;
    sf_log_msg(&m->log, SF_LOG_DEBUG, "worker %d started (pid %ld)", slot, (long)pid);
    return 0;
}

static int
gen_init(struct gen *g, const struct sf_config *cfg, struct sf_log *log)
{
    memset(g, 0, sizeof(*g));
    g->cfg = cfg;
    g->n = cfg->workers;
    g->pid = calloc((size_t)g->n, sizeof(*g->pid));
    g->restart_at = calloc((size_t)g->n, sizeof(*g->restart_at));
    if (!g->pid || !g->restart_at) {
        sf_log_msg(log, SF_LOG_ERROR, "out of memory starting workers");
        return -1;
    }
    return 0;
}

static void
gen_free(struct gen *g)
{
    sf_listen_close(&g->lis);
    free(g->pid);
    free(g->restart_at);
    if (g->owned) {
        sf_config_free(g->owned);
        free(g->owned);
    }
    memset(g, 0, sizeof(*g));
}

static void
describe_status(int st, char *buf, size_t cap)
{
    if (WIFEXITED(st))
        snprintf(buf, cap, "exited with status %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(buf, cap, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else
        snprintf(buf, cap, "ended (wait status %#x)", (unsigned)st);
}

/* When to restart a worker that just died: at once, unless DEATHS_MAX
 * died within DEATHS_WINDOW_MS; then back off, doubling. */
static int
restart_delay(struct master *m, int64_t now)
{
    m->deaths[m->ndeaths++ % DEATHS_MAX] = now;
    int64_t oldest = m->deaths[m->ndeaths % DEATHS_MAX];
    if (m->ndeaths < DEATHS_MAX || now - oldest > DEATHS_WINDOW_MS) {
        m->backoff_ms = BACKOFF_MIN_MS;
        return 0;
    }
    int delay = m->backoff_ms;
    m->backoff_ms = delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
    return delay;
}

static void
on_child_exit(struct master *m, pid_t pid, int st)
{
    char why[96];
    describe_status(st, why, sizeof(why));
    for (int s = 0; s < m->cur.n; s++) {
        if (m->cur.pid[s] != pid)
            continue;
        m->cur.pid[s] = 0;
        if (m->stopping) {
            sf_log_msg(&m->log, SF_LOG_DEBUG, "worker %d (pid %ld) %s", s, (long)pid, why);
            return;
        }
        int64_t now = now_ms();
        int delay = restart_delay(m, now);
        char when[32] = "";
        if (delay)
            snprintf(when, sizeof(when), " in %d ms", delay);
        sf_log_msg(&m->log, SF_LOG_WARN, "worker %d (pid %ld) %s; restarting it%s", s, (long)pid,
                   why, when);
        m->cur.restart_at[s] = now + delay;
        if (delay == 0)
            spawn(m, s);
        return;
    }
    for (size_t i = 0; i < m->nold; i++) {
        if (m->old[i].pid != pid)
            continue;
        sf_log_msg(&m->log, SF_LOG_DEBUG, "old worker (pid %ld) %s", (long)pid, why);
        m->old[i] = m->old[--m->nold];
        return;
    }
}

static void
reap(struct master *m)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
        on_child_exit(m, pid, st);
}

static int
children(const struct master *m)
{
    int n = (int)m->nold;
    for (int s = 0; s < m->cur.n; s++)
        n += m->cur.pid[s] > 0;
    return n;
}

static void
signal_all(struct master *m, int sig, bool old_too)
{
    for (int s = 0; s < m->cur.n; s++)
        if (m->cur.pid[s] > 0)
            kill(m->cur.pid[s], sig);
    for (size_t i = 0; old_too && i < m->nold; i++)
        kill(m->old[i].pid, sig);
}

/* ---- stop, reopen, reload ----------------------------------------------- */

/* Stop the workers: gracefully (SIGTERM, shutdown_timeout) or now
 * (SIGQUIT, to the retiring ones too). */
static void
shut_down(struct master *m, bool now)
{
    if (!m->stopping) {
        sd_notify(0, "STOPPING=1");
        /* no new connections: the workers close their copies too */
        sf_listen_close(&m->cur.lis);
        for (int s = 0; s < m->cur.n; s++)
            m->cur.restart_at[s] = 0;
    }
    m->stopping = true;
    m->draining = false;
    m->quitting = now;
    signal_all(m, now ? SIGQUIT : SIGTERM, now);
    m->kill_at = now_ms() + KILL_GRACE_MS + (now ? 0 : (int64_t)m->cur.cfg->shutdown_timeout_ms);
}

/* SIGTERM, SIGINT: stop gracefully, after drain_delay when it is set; a
 * second one (during the delay too) or SIGQUIT: at once. */
static void
stop(struct master *m, int sig)
{
    bool now = sig == SIGQUIT || m->stopping || m->draining;
    unsigned ms = m->cur.cfg->drain_delay_ms;
    if (now && m->quitting)
        return;
    if (!now && ms) {
        /* the workers' health path fails (SIGUSR2) while they and the
         * sockets serve on, restarts too; run_timers stops them after */
        sf_log_msg(&m->log, SF_LOG_INFO,
                   "signal %d: draining for %u ms (health_path answers 503), then stopping (%d "
                   "worker(s))",
                   sig, ms, children(m));
        sd_notify(0, "STOPPING=1");
        m->draining = true;
        m->drain_end = now_ms() + ms;
        signal_all(m, SIGUSR2, false);
        return;
    }
    sf_log_msg(&m->log, SF_LOG_INFO, "signal %d: stopping%s (%d worker(s))", sig, now ? " now" : "",
               children(m));
    shut_down(m, now);
}

static void
reopen_logs(struct master *m)
{
    sf_privs_prepare_logs(m->cur.cfg, &m->ids);
    sf_log_reopen(&m->log);
    signal_all(m, SIGUSR1, true);
    sf_log_msg(&m->log, SF_LOG_INFO, "signal %d: log files reopened", SIGUSR1);
}

static int
retire(struct master *m, pid_t pid, int64_t kill_at)
{
    if (m->nold == m->capold) {
        size_t cap = m->capold ? m->capold * 2 : 16;
        struct retired *r = realloc(m->old, cap * sizeof(*r));
        if (!r)
            return -1;
        m->old = r;
        m->capold = cap;
    }
    m->old[m->nold++] = (struct retired){pid, kill_at};
    return 0;
}

/* Log each line of text (the reload's config errors) at error level. */
static void
log_lines(struct sf_log *log, const char *text)
{
    const char *p = text;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        sf_log_msg(log, SF_LOG_ERROR, "reload: %.*s", len, p);
        p = nl ? nl + 1 : NULL;
    }
}

/* The new configuration, loaded and validated, or NULL (reasons logged). */
static struct sf_config *
load_new(struct master *m, struct sf_ids *ids)
{
    struct sf_config *cfg = calloc(1, sizeof(*cfg));
    char *text = NULL;
    size_t len = 0;
    FILE *errs = open_memstream(&text, &len);
    if (!cfg || !errs) {
        sf_log_msg(&m->log, SF_LOG_ERROR, "reload: out of memory");
        if (errs)
            fclose(errs);
        free(text);
        free(cfg);
        return NULL;
    }
    int n = m->o->load(cfg, m->o->load_arg, errs);
    if (n == 0 && cfg->workers > 0)
        n = sf_startup_check(cfg, ids, errs);
    fclose(errs);
    log_lines(&m->log, text);
    free(text);
    if (n == 0 && cfg->workers == 0) {
        sf_log_msg(&m->log, SF_LOG_ERROR, "reload: workers = 0 needs a restart, not a reload");
        n++;
    }
    if (n) {
        sf_config_free(cfg);
        free(cfg);
        return NULL;
    }
    return cfg;
}

static void
reload(struct master *m)
{
    struct sf_ids ids;
    struct gen next;
    sd_notify(0, "RELOADING=1");
    sf_log_msg(&m->log, SF_LOG_INFO, "signal %d: reloading the configuration", SIGHUP);
    struct sf_config *cfg = m->o->load ? load_new(m, &ids) : NULL;
    if (!cfg || gen_init(&next, cfg, &m->log) != 0) {
        if (cfg) {
            sf_config_free(cfg);
            free(cfg);
        }
        sf_log_msg(&m->log, SF_LOG_ERROR, "reload failed: still running the old configuration");
        sd_notify(0, "READY=1");
        return;
    }
    next.owned = cfg;
    int rc = m->inherited ? sf_listen_dup(&next.lis, &m->cur.lis, &m->log)
                          : sf_listen_open(&next.lis, cfg, cfg->workers, &m->cur.lis, &m->log);
    if (rc != 0) {
        gen_free(&next);
        sf_log_msg(&m->log, SF_LOG_ERROR, "reload failed: still running the old configuration");
        sd_notify(0, "READY=1");
        return;
    }
    struct gen old = m->cur;
    m->cur = next;
    m->ids = ids;
    sf_privs_prepare_logs(cfg, &ids);
    sf_log_close(&m->log);
    sf_log_open(&m->log, cfg);
    m->closing = &old.lis;
    for (int s = 0; s < m->cur.n; s++)
        spawn(m, s);
    m->closing = NULL;
    /* the new workers queue up behind the same sockets: now the old ones
     * may stop accepting and finish what they have */
    int64_t kill_at = now_ms() + old.cfg->shutdown_timeout_ms + KILL_GRACE_MS;
    for (int s = 0; s < old.n; s++) {
        if (old.pid[s] > 0 && retire(m, old.pid[s], kill_at) == 0)
            kill(old.pid[s], SIGTERM);
        else if (old.pid[s] > 0)
            kill(old.pid[s], SIGKILL);
    }
    sf_listen_hand_over(&old.lis, &m->cur.lis);
    gen_free(&old);
    sf_log_msg(&m->log, SF_LOG_INFO, "configuration reloaded: %d worker(s)", m->cur.n);
    sd_notify(0, "READY=1");
}

/* ---- the loop ------------------------------------------------------------------- */

static void
on_signal(struct master *m, int sig)
{
    switch (sig) {
    case SIGCHLD: reap(m); break;
    case SIGHUP:
        if (!m->stopping && !m->draining)
            reload(m);
        else
            sf_log_msg(&m->log, SF_LOG_INFO, "signal %d: stopping, not reloading", sig);
        break;
    case SIGUSR1: reopen_logs(m); break;
    default: stop(m, sig); break;
    }
}

/* Restarts that are due, SIGKILL for workers past their deadline; the
 * poll timeout until the next such moment (-1: none). */
static int
run_timers(struct master *m)
{
    int64_t now = now_ms(), next = INT64_MAX;
    for (int s = 0; !m->stopping && s < m->cur.n; s++) {
        if (m->cur.restart_at[s] && m->cur.restart_at[s] <= now)
            spawn(m, s);
        if (m->cur.restart_at[s] && m->cur.restart_at[s] < next)
            next = m->cur.restart_at[s];
    }
    for (size_t i = 0; i < m->nold; i++) {
        if (m->old[i].kill_at <= now && m->old[i].kill_at) {
            sf_log_msg(&m->log, SF_LOG_WARN, "old worker (pid %ld) still running: killing it",
                       (long)m->old[i].pid);
            kill(m->old[i].pid, SIGKILL);
            m->old[i].kill_at = 0;
        }
        if (m->old[i].kill_at && m->old[i].kill_at < next)
            next = m->old[i].kill_at;
    }
    if (m->draining && m->drain_end <= now) {
        sf_log_msg(&m->log, SF_LOG_INFO, "drain_delay over: stopping (%d worker(s))", children(m));
        shut_down(m, false);
    }
    if (m->draining && m->drain_end < next)
        next = m->drain_end;
    if (m->stopping && m->kill_at <= now) {
        sf_log_msg(&m->log, SF_LOG_WARN, "%d worker(s) still running: killing them", children(m));
        signal_all(m, SIGKILL, true);
        m->kill_at = INT64_MAX;
    }
    if (m->stopping && m->kill_at < next)
        next = m->kill_at;
    return next == INT64_MAX ? -1 : (int)(next - now > 60000 ? 60000 : next - now);
}

static void
loop(struct master *m)
{
    for (;;) {
        int timeout = run_timers(m);
        if (m->stopping && children(m) == 0)
            return;
        struct pollfd p = {.fd = m->sfd, .events = POLLIN};
        if (poll(&p, 1, timeout) < 0 && errno != EINTR) {
            sf_log_errno(&m->log, SF_LOG_ERROR, errno, "poll");
            return;
        }
        struct signalfd_siginfo si;
        while (read(m->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
            on_signal(m, (int)si.ssi_signo);
        reap(m); /* SIGCHLDs coalesce: never miss one */
    }
}

static int
run_master(const struct sf_config *cfg, const struct sf_master_opts *o)
{
    struct master m = {.o = o, .sfd = -1, .backoff_ms = BACKOFF_MIN_MS};
    bool pid_written = false;
    int status = 1;
    sigset_t handled;
    signal(SIGPIPE, SIG_IGN);
    if (block_signals(&handled) != 0)
        return 1;
    if (open_start_logs(&m.log, cfg, &m.ids) != 0)
        return 1;
    if (gen_init(&m.cur, cfg, &m.log) != 0 || sf_startup_prepare(cfg, &m.ids, &m.log) != 0 ||
        open_listeners(&m.cur.lis, cfg, &m.log, &m.inherited) != 0)
        goto out;
    sf_startup_announce(cfg, &m.cur.lis, &m.log);
    if (o->daemon && sf_daemon_detach(&m.log) != 0)
        goto out;
    m.self = getpid();
    if (sf_daemon_write_pid(cfg->pid_file, &m.log) != 0)
        goto out;
    pid_written = true;
    m.sfd = signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC);
    if (m.sfd < 0) {
        sf_log_errno(&m.log, SF_LOG_ERROR, errno, "signalfd");
        goto out;
    }
    sf_privs_prepare_logs(cfg, &m.ids);
    for (int s = 0; s < m.cur.n; s++)
        spawn(&m, s);
    sf_log_msg(&m.log, SF_LOG_INFO, "master running with %d worker(s)", m.cur.n);
    sf_log_tee(&m.log, false);
    sd_notifyf(0, "READY=1\nMAINPID=%ld", (long)m.self);
    loop(&m);
    status = 0;
    sf_log_msg(&m.log, SF_LOG_INFO, "stopped");
out:
    if (!m.stopping)
        signal_all(&m, SIGKILL, true);
    if (pid_written)
        sf_daemon_remove_pid(cfg->pid_file, NULL);
    gen_free(&m.cur);
    free(m.old);
    if (m.sfd >= 0)
        close(m.sfd);
    sf_log_close(&m.log);
    return status;
}

int
sf_master_run(const struct sf_config *cfg, const struct sf_master_opts *o)
{
    return use_master(cfg, o) ? run_master(cfg, o) : run_single(cfg, o);
}
