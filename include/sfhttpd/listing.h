/*
 * listing.h - directory listings as an HTML5 page or a JSON array.
 *
 * Two steps, so that a cache can keep the first: sf_listing_read reads a
 * directory once (its names and the stat of each, at most max_entries
 * names), and sf_listing_render writes it in any format and order, as
 * often as wanted, without touching the filesystem. sf_listing_build does
 * both for one page.
 */
#ifndef SFHTTPD_LISTING_H
#define SFHTTPD_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include "sfhttpd/common.h"

enum sf_listing_format { SF_LISTING_HTML = 0, SF_LISTING_JSON };

/* The orders of ?sort=name|size|mtime. Folders always come first. */
enum sf_listing_sort { SF_LISTING_BY_NAME = 0, SF_LISTING_BY_SIZE, SF_LISTING_BY_MTIME };
#define SF_LISTING_SORTS 3

struct sf_listing_opts {
    bool show_hidden; /* list names starting with '.' */
    /* Symlinks are listed as what they lead to, found as a request for
     * them would find it: sf_resolve_stat(rootfd, rel + "/" + name, how)
     * (the site's symlink policy, SF_RESOLVE_NO_HIDDEN for dotfiles =
     * deny). A link that leads nowhere the server would serve is left
     * out. rel NULL: links are stat'ed by fstatat, following them without
     * confinement (for tests of the page only). */
    int rootfd;      /* the site root */
    const char *rel; /* the directory beneath it: "" or "a/b" */
    unsigned how;
    size_t max_entries; /* read at most this many names; 0: no limit */
};

/* How to write a listing. */
struct sf_listing_view {
    enum sf_listing_format fmt;
    enum sf_listing_sort sort;
    bool desc;
};

struct sf_listing;

/*
 * Read the directory open as dirfd (through its own open file
 * description: dirfd and its offset are left alone). "." and ".." are
 * skipped, and so are hidden names unless o->show_hidden, names the server
 * cannot serve (control characters, backslashes: requests cannot name
 * them), and anything that is not a directory or a regular file. Entries
 * are stat'ed without following links (fstatat AT_SYMLINK_NOFOLLOW);
 * symlinks as o says. At most o->max_entries names are read (hidden and
 * unservable ones count): a directory with more is marked truncated.
 * Returns 0 with *out (free with sf_listing_free), or -errno (-ENOTDIR,
 * -EACCES, -ENOMEM...).
 */
int sf_listing_read(int dirfd, const struct sf_listing_opts *o, struct sf_listing **out);

/*
 * Append l to out as v says. Order: folders first, then files; within
 * each, by v->sort (name: "natural" - case-insensitive, digit runs by
 * their number, so file2 before file10 - then byte order; size and mtime
 * ties by name), reversed by v->desc (ties stay by name). Everything a
 * client controls (names, url_path) is escaped for its context: HTML text
 * (ill-formed UTF-8 shown as U+FFFD), hrefs percent-encoded byte by byte
 * and "./"-prefixed, JSON strings (U+FFFD too: JSON cannot carry the raw
 * bytes, and a \u00XX escape would name another, valid file).
 *
 * url_path is the decoded request path of the directory, with leading
 * and trailing '/'. HTML: a page with no script and nothing loaded from
 * elsewhere (inline CSS, light and dark, readable at 390 px): breadcrumbs
 * (each part of url_path a relative link), a summary (folders, files,
 * total size), column headings that are buttons of GET forms asking for
 * "?sort=...&order=..." (forms, not links: wget -r and other mirroring
 * tools do not fetch every order), a "../" row unless url_path is "/", each entry
 * with its exact size in a title attribute beside a readable one and its
 * mtime in UTC (labelled), and a note when l is truncated. JSON: an array
 * of {"name","type":"dir"|"file","size","mtime"} (size for files only,
 * mtime RFC 3339 UTC or null); a truncated listing ends with one more
 * element, {"truncated":true}, which has no name.
 * Returns 0 or -ENOMEM (out may then hold a partial body).
 */
int sf_listing_render(struct sf_listing *l, const char *url_path, const struct sf_listing_view *v,
                      struct sf_buf *out);

/*
 * True when what l shows can still be trusted without reading the
 * directory again, given that its names and its files' attributes are
 * watched (a created, deleted or renamed name, or a file written or
 * touched, is the watcher's to report): the attributes a watch on the
 * directory does not report are checked here by stat - every folder (its
 * mtime changes with its own contents) and every symlink (its target may
 * be anywhere), shown or not. dirfd and o as for sf_listing_read.
 */
bool sf_listing_current(const struct sf_listing *l, int dirfd, const struct sf_listing_opts *o);

/* Entries shown; whether the read stopped at max_entries; bytes held. */
size_t sf_listing_count(const struct sf_listing *l);
bool sf_listing_truncated(const struct sf_listing *l);
size_t sf_listing_bytes(const struct sf_listing *l);
/* NULL-safe. */
void sf_listing_free(struct sf_listing *l);

/* Read and render in one go (v NULL: HTML by name). 0 or -errno. */
int sf_listing_build(int dirfd, const char *url_path, const struct sf_listing_view *v,
                     const struct sf_listing_opts *o, struct sf_buf *out);

#endif
