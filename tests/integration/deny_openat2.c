/*
 * deny_openat2.c - a test helper: run a program as on a kernel or in a
 * container without openat2(2). Usage:
 *
 *     deny_openat2 ERRNO PROGRAM [ARG...]
 *
 * installs a seccomp filter that fails every openat2 with ERRNO (a
 * number: 38 is ENOSYS, what Linux before 5.6 and older container
 * profiles answer; 1 is EPERM, what a profile's default action answers)
 * and lets every other call through, then execs PROGRAM, which inherits
 * the filter. No privilege is needed: PR_SET_NO_NEW_PRIVS comes first.
 * Exits 127 when the filter cannot be installed or PROGRAM not run.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_openat2
#define __NR_openat2 437 /* the same number on every architecture */
#endif

/* The audit architecture of this build: a call made through another
 * ABI (i386 on x86-64) has other numbers, so it is let through rather
 * than matched by a wrong number. Unknown here: numbers only. */
#if defined(__x86_64__) && !defined(__ILP32__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#endif

static int
install(unsigned err)
{
    struct sock_filter prog[] = {
#ifdef NATIVE_ARCH
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        /* another ABI: jump over the number test to the allow */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 0, 3),
#endif
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog fprog = {
        .len = (unsigned short)(sizeof(prog) / sizeof(prog[0])),
        .filter = prog,
    };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -errno;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0)
        return -errno;
    return 0;
}

int
main(int argc, char **argv)
{
    char *end;
    if (argc < 3) {
        fprintf(stderr, "usage: deny_openat2 ERRNO PROGRAM [ARG...]\n");
        return 127;
    }
    unsigned long err = strtoul(argv[1], &end, 10);
    if (*end || end == argv[1] || err == 0 || err > 4095) {
        fprintf(stderr, "deny_openat2: not an errno: %s\n", argv[1]);
        return 127;
    }
    int rc = install((unsigned)err);
    if (rc) {
        fprintf(stderr, "deny_openat2: seccomp: %s\n", strerror(-rc));
        return 127;
    }
    execvp(argv[2], argv + 2);
    fprintf(stderr, "deny_openat2: %s: %s\n", argv[2], strerror(errno));
    return 127;
}
