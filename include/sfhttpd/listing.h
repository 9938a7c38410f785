/*
 * listing.h - directory listings as HTML5 or JSON. Reads the directory
 * (openat(dirfd, ".") + fdopendir, so the caller's fd and offset are
 * untouched) and builds the body in memory.
 */
#ifndef SFHTTPD_LISTING_H
#define SFHTTPD_LISTING_H

#include <stdbool.h>
#include "sfhttpd/common.h"

enum sf_listing_format { SF_LISTING_HTML = 0, SF_LISTING_JSON };

struct sf_listing_opts {
    bool show_hidden; /* list names starting with '.' */
};

/*
 * Append a listing of the directory open as dirfd (not closed, its
 * offset is not used) to out. url_path is the decoded request path of
 * the directory, with leading and trailing '/', used for the title and
 * (escaped) in links. Entries: directories first, then files, each group
 * sorted by name in byte order; "." and ".." omitted (the HTML page has a
 * parent link unless url_path is "/"); entries that cannot be stat'ed
 * (fstatat, following symlinks) are skipped; only directories and regular
 * files are listed, and only names the server can serve (no control
 * characters or backslashes, which requests cannot name). HTML: names HTML-escaped in text, percent-encoded in
 * hrefs, sizes exact in a title attribute and human-readable, mtime in
 * UTC. JSON: an array of {"name","type":"dir"|"file","size","mtime"}
 * (size for files only; mtime RFC 3339 UTC). Names that are not valid
 * UTF-8 show each ill-formed sequence as U+FFFD in HTML text and JSON
 * (JSON cannot carry the raw bytes; a \u00XX escape would name another,
 * valid file); hrefs are escaped byte by byte and always reach the file.
 * Returns 0, or -errno (out may then hold a partial body).
 */
int sf_listing_build(int dirfd, const char *url_path, enum sf_listing_format fmt,
                     const struct sf_listing_opts *o, struct sf_buf *out);

#endif
