/*
 * fwatch.h - the inotify watch tree under the open-file cache. The
 * directory of every cached file, and each of its ancestors up to the
 * site root, is watched once, reference-counted (one reference per file
 * held in it and per watched subdirectory). The owner is told which names
 * changed; what that means for its entries is the owner's business.
 *
 * A name created, renamed over or removed in a watched folder may now
 * lead to another folder (a folder symlink swapped by mv -T) or nowhere:
 * every watch at or beneath that path stops standing for it at once (it
 * is not found by sf_fwatch_get again and reports nothing more), even
 * while a file in flight still holds it; the next get watches whatever
 * the path leads to then.
 *
 * Place the watch *before* opening the file beneath it, so that no change
 * can slip between the open and the watch. Without inotify, or once the
 * kernel's watch limit is reached, there is no watch to have: the owner
 * must revalidate by other means (stat).
 */
#ifndef SFHTTPD_FWATCH_H
#define SFHTTPD_FWATCH_H

#include <stddef.h>

struct sf_log;
struct sf_fwatch;
struct sf_fwatch_dir;

/* What changed: the flags of sf_fwatch_fn's what. */
enum sf_fwatch_what {
    SF_FWATCH_NAME = 1,    /* the name rel (created, deleted, moved, written,
                              touched) */
    SF_FWATCH_BENEATH = 2, /* everything beneath the directory rel; "" is
                              the whole site */
    SF_FWATCH_ALL = 4,     /* the event queue overflowed: anything in any
                              site may have changed (site and rel unset) */
};

/*
 * Told of a change: site and rel (root-relative, no leading '/') name
 * it. It may drop watches (sf_fwatch_put) but must not get new ones,
 * read the queue or free the watcher.
 */
typedef void (*sf_fwatch_fn)(void *arg, unsigned site, const char *rel, unsigned what);

/* A watcher that reports to changed(arg, ...); NULL only when out of
 * memory. Without inotify (logged as a warning) it works but watches
 * nothing. log is used for that warning and for debug lines. */
struct sf_fwatch *sf_fwatch_new(struct sf_log *log, sf_fwatch_fn changed, void *arg);
/* A second owner (the listing cache) is told of every change too, after
 * the first: 0, or -ENOSPC when it already has one. */
int sf_fwatch_listen(struct sf_fwatch *w, sf_fwatch_fn changed, void *arg);
/* Stop telling it (before it goes away). */
void sf_fwatch_unlisten(struct sf_fwatch *w, sf_fwatch_fn changed, void *arg);
/* Close the inotify fd and free the watcher. Every watch must have been
 * put first. NULL-safe. */
void sf_fwatch_free(struct sf_fwatch *w);

/* The inotify fd to poll for EV_READ, or -1 without inotify. */
int sf_fwatch_fd(const struct sf_fwatch *w);

/*
 * Watch the directory that holds the file rel (root-relative) in site,
 * whose root is the absolute path root_path, and every ancestor up to the
 * root. Returns a referenced watch (drop it with sf_fwatch_put), or NULL
 * when no watch can be had (no inotify, watches exhausted, a path too
 * long).
 */
struct sf_fwatch_dir *sf_fwatch_get(struct sf_fwatch *w, unsigned site, const char *root_path,
                                    const char *rel);
/* The same for the directory dir itself ("" the root, "a/b"), for an
 * owner that keeps what it read from that directory. */
struct sf_fwatch_dir *sf_fwatch_get_dir(struct sf_fwatch *w, unsigned site, const char *root_path,
                                        const char *dir);
/* Drop a reference taken by sf_fwatch_get or sf_fwatch_get_dir; the last one removes the
 * watch (and its ancestors' references). NULL-safe. */
void sf_fwatch_put(struct sf_fwatch *w, struct sf_fwatch_dir *d);

/* Read every event queued so far (non-blocking) and report the changes.
 * A no-op without inotify. */
void sf_fwatch_read(struct sf_fwatch *w);

/* How many directories are watched now. */
size_t sf_fwatch_count(const struct sf_fwatch *w);

#endif
