/*
 * vgopenat2 - an LD_PRELOAD for counting sfhttpd's instructions under
 * callgrind (bench/count) only. Valgrind 3.19 (Debian 12) does not know
 * openat2(2) and fails it with ENOSYS, so every file open of the server
 * would fail; this maps openat2 to a plain openat with the same flags.
 * The confinement flags (RESOLVE_*) are lost: never use it outside a
 * measurement of a trusted docroot. Only the first request of each file
 * opens it; the counted requests are cache hits.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

long
syscall(long n, ...)
{
    static long (*real)(long, ...);
    long a[6];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    if (n == SYS_openat2) {
        const struct open_how *how = (const struct open_how *)a[2];
        return openat((int)a[0], (const char *)a[1], (int)how->flags, (mode_t)how->mode);
    }
    if (!real)
        real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    return real(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}
