/*
 * mime.h - Content-Type for a file: by extension (from /etc/mime.types
 * when present, over a built-in table of common web types), then by
 * libmagic on the open fd for unknown extensions. A sniffed active type
 * (HTML, SVG, XML, JavaScript) is demoted to text/plain: a sniffed page
 * must not run in the site's origin. Text types get "; charset=utf-8".
 */
#ifndef SFHTTPD_MIME_H
#define SFHTTPD_MIME_H

#include <stddef.h>

struct sf_mime;

/*
 * Build a table: the built-in types, overridden by the entries of
 * mime_types_path (NULL means "/etc/mime.types"; a missing file is not an
 * error). Opens one libmagic cookie (MAGIC_MIME_TYPE) lazily on first
 * sniff. Returns NULL only when out of memory.
 */
struct sf_mime *sf_mime_new(const char *mime_types_path);
void sf_mime_free(struct sf_mime *m); /* NULL-safe */

/* Add or replace an extension mapping (ext without the dot, case-
 * insensitive); for per-site overrides. Returns 0 or -ENOMEM. */
int sf_mime_add(struct sf_mime *m, const char *ext, const char *type);

/*
 * Content-Type by the extension of the last segment of path (len bytes):
 * the full header value, e.g. "text/html; charset=utf-8" or "image/png".
 * Returns NULL when the name has no extension or an unknown one. The
 * string lives as long as m.
 */
const char *sf_mime_by_ext(const struct sf_mime *m, const char *path, size_t len);

/*
 * Content-Type by content: libmagic on fd (read with pread, the file
 * offset is untouched). Active types are demoted to text/plain, text
 * types get a charset, failures give "application/octet-stream". Never
 * NULL; the string lives as long as m.
 */
const char *sf_mime_sniff(struct sf_mime *m, int fd);

/* sf_mime_sniff, remembered per file version (device, inode, size,
 * mtime, ctime from st, the fstat of fd): libmagic runs once per file,
 * again only when the file changes. */
struct stat;
const char *sf_mime_sniff_file(struct sf_mime *m, int fd, const struct stat *st);

#endif
