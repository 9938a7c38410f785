/*
 * loadrun - run a load generator pinned to CPUs, with a time limit, and
 * record the CPU time it used.
 *
 *   loadrun [-c CPULIST] [-t SECONDS] [-o FILE] -- COMMAND [ARGS...]
 *
 * The child is pinned to CPULIST ("1", "0,1"), then execs COMMAND. When it
 * exits, FILE gets one line: "user_us sys_us wall_us status" (the child's
 * rusage from wait4, so a multi-threaded wrk counts all its threads).
 * SIGINT, SIGTERM and SIGHUP sent to loadrun are passed on to the child,
 * so bench/run can stop the whole thing by loadrun's PID. After SECONDS
 * the child gets SIGTERM, 5 s later SIGKILL, and loadrun exits 124 (as
 * timeout(1) does). Otherwise the exit status is the child's, or 128 + the
 * signal that killed it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t timed_out;

static void
on_signal(int sig)
{
    if (child_pid > 0)
        kill(child_pid, sig);
}

static void
on_alarm(int sig)
{
    (void)sig;
    if (child_pid <= 0)
        return;
    if (!timed_out) {
        timed_out = 1;
        kill(child_pid, SIGTERM);
        alarm(5);
    } else {
        kill(child_pid, SIGKILL);
    }
}

static int
parse_cpus(const char *s, cpu_set_t *set)
{
    CPU_ZERO(set);
    while (*s) {
        char *end;
        long a = strtol(s, &end, 10), b;
        if (end == s || a < 0 || a >= CPU_SETSIZE)
            return -1;
        b = a;
        if (*end == '-') {
            s = end + 1;
            b = strtol(s, &end, 10);
            if (end == s || b < a || b >= CPU_SETSIZE)
                return -1;
        }
        for (long i = a; i <= b; i++)
            CPU_SET((int)i, set);
        if (*end == ',')
            end++;
        else if (*end)
            return -1;
        s = end;
    }
    return 0;
}

static double
now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int
main(int argc, char **argv)
{
    const char *cpus = NULL, *outfile = NULL;
    long limit = 0;
    cpu_set_t set;
    int opt;

    while ((opt = getopt(argc, argv, "+c:t:o:")) != -1) {
        switch (opt) {
        case 'c': cpus = optarg; break;
        case 't': limit = strtol(optarg, NULL, 10); break;
        case 'o': outfile = optarg; break;
        default: goto usage;
        }
    }
    if (optind >= argc || limit < 0 || limit > 86400)
        goto usage;
    if (cpus && parse_cpus(cpus, &set) != 0) {
        fprintf(stderr, "loadrun: bad CPU list '%s'\n", cpus);
        return 2;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);

    double t0 = now_us();
    pid_t pid = fork();
    if (pid < 0) {
        perror("loadrun: fork");
        return 2;
    }
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGALRM, SIG_DFL);
        if (cpus && sched_setaffinity(0, sizeof(set), &set) != 0) {
            perror("loadrun: sched_setaffinity");
            _exit(2);
        }
        execvp(argv[optind], argv + optind);
        fprintf(stderr, "loadrun: %s: %s\n", argv[optind], strerror(errno));
        _exit(127);
    }
    child_pid = pid;
    if (limit > 0)
        alarm((unsigned)limit);

    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof(ru));
    while (wait4(pid, &st, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("loadrun: wait4");
            return 2;
        }
    }
    child_pid = 0;
    alarm(0);
    double wall = now_us() - t0;

    int rc;
    if (WIFEXITED(st))
        rc = WEXITSTATUS(st);
    else if (WIFSIGNALED(st))
        rc = 128 + WTERMSIG(st);
    else
        rc = 2;
    if (timed_out)
        rc = 124;
    if (outfile) {
        FILE *f = fopen(outfile, "w");
        if (!f) {
            perror("loadrun: open output");
            return 2;
        }
        fprintf(f, "%lld %lld %.0f %d\n",
                (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
                (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec, wall, rc);
        fclose(f);
    }
    return rc;

usage:
    fprintf(stderr, "usage: loadrun [-c CPULIST] [-t SECONDS] [-o FILE] -- COMMAND [ARGS...]\n");
    return 2;
}
