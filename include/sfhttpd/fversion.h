/*
 * fversion.h - when two stats of a file name the same version of its
 * bytes. Pure: the caller does the stat. The open-file cache uses it to
 * revalidate unwatched names and for the stat guard (file_guard = stat,
 * or where no lease can be had).
 */
#ifndef SFHTTPD_FVERSION_H
#define SFHTTPD_FVERSION_H

#include <stdbool.h>
#include <sys/stat.h>

/* True when a and b are the same inode (device and inode number) with
 * the same size, mtime and ctime, to the nanosecond. */
bool sf_fversion_same(const struct stat *a, const struct stat *b);

/*
 * The stat guard: true when an open file that was then still holds the
 * same bytes now, as far as stat can tell: the same version, or one that
 * only lost a link (renamed over or unlinked: ctime moved, size and
 * mtime did not, fewer links). A write, truncate, utimes or chmod moves
 * ctime with the links kept, or changes size or mtime.
 */
bool sf_fversion_unchanged(const struct stat *then, const struct stat *now);

#endif
