/*
 * snapshot.h - a copy of the rest of a response's file, taken while the
 * file's lease still holds (so no writer can be mid-write), that the
 * response then sends instead of the file: the unsent bytes of every file
 * segment still to go, read into memory within a per-worker budget, or,
 * where that does not fit and a snapshot_dir is set, a reflink clone of
 * the file (FICLONERANGE into an O_TMPFILE there: no bytes copied, the
 * file system shares the blocks until the writer changes them).
 */
#ifndef SFHTTPD_SNAPSHOT_H
#define SFHTTPD_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

struct sf_response;
struct sf_snapshots;
struct sf_snapshot;

/* A worker's pool: at most budget bytes of memory snapshots at once;
 * reflinks into the folder dir (absolute; NULL: none). NULL only when
 * out of memory; a dir that cannot be opened only disables reflinks
 * (*dir_err = -errno, else 0). */
struct sf_snapshots *sf_snapshots_new(size_t budget, const char *dir, int *dir_err);
/* Every snapshot must have been freed first. NULL-safe. */
void sf_snapshots_free(struct sf_snapshots *p);
/* Bytes of memory snapshots alive now (reserved ones included). */
size_t sf_snapshots_used(const struct sf_snapshots *p);

/* The bytes of r's file segments on fd still to be handed to the socket. */
uint64_t sf_snapshot_left(const struct sf_response *r, int fd);

/*
 * Plan a snapshot of what is left of r on fd: reserve that much of the
 * budget, or, beyond it, plan a reflink (when the pool has a folder).
 * NULL with *err = 0 when nothing is left (nothing to copy), NULL with
 * *err = -ENOBUFS when it fits neither (or -ENOMEM).
 */
struct sf_snapshot *sf_snapshot_plan(struct sf_snapshots *p, const struct sf_response *r, int fd,
                                     int *err);
/*
 * Take the copy now (fd must not change meanwhile: its lease is held)
 * and point r's remaining segments on fd at it. Returns 0, or -errno with
 * r untouched: the read failed or came short (-ENODATA), the file system
 * has no reflinks (-EOPNOTSUPP, -EXDEV, -EINVAL) or the folder cannot
 * hold a file.
 */
int sf_snapshot_fill(struct sf_snapshot *s, struct sf_response *r, int fd);
/* Release s (its memory or its clone) and its share of the budget; r must
 * be done with it. NULL-safe. */
void sf_snapshot_free(struct sf_snapshot *s);

#endif
