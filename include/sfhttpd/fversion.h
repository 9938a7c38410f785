/*
 * fversion.h - when two stats of a file name the same version of its
 * bytes. Pure: the caller does the stat. The open-file cache uses it to
 * revalidate unwatched names, for the stat guard (file_guard = stat, or
 * where no lease can be had) and to accept a content hash; the file
 * handler to tell a fresh precompressed variant.
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

/* True when a and b have the same size and mtime (to the nanosecond),
 * whatever the inode and ctime: what the mtime ETag and the content
 * ETag's attribute record (etag.h) are keyed by. */
bool sf_fversion_same_stamp(const struct stat *a, const struct stat *b);

/* True when a's mtime is not before b's: a precompressed variant a is
 * fresh for its original b. */
bool sf_fversion_not_older(const struct stat *a, const struct stat *b);

#endif
