/*
 * fversion.c - comparing two stats of a file (see fversion.h).
 */
#include "sfhttpd/fversion.h"

static bool
same_time(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

bool
sf_fversion_same(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           same_time(&a->st_mtim, &b->st_mtim) && same_time(&a->st_ctim, &b->st_ctim);
}

bool
sf_fversion_unchanged(const struct stat *then, const struct stat *now)
{
    if (sf_fversion_same(then, now))
        return true;
    /* A rename over the name, or an unlink, only drops a link (and so
     * moves ctime): the bytes we send are the same, which is what a
     * deploy by rename wants. Any other ctime change (a write, truncate,
     * utimes) comes with a size or mtime change, or keeps the links. */
    return sf_fversion_same_stamp(then, now) && now->st_nlink < then->st_nlink;
}

bool
sf_fversion_same_stamp(const struct stat *a, const struct stat *b)
{
    return a->st_size == b->st_size && same_time(&a->st_mtim, &b->st_mtim);
}

bool
sf_fversion_not_older(const struct stat *a, const struct stat *b)
{
    return a->st_mtim.tv_sec > b->st_mtim.tv_sec ||
           (a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec >= b->st_mtim.tv_nsec);
}
