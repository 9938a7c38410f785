/*
 * listing_int.h - PRIVATE to the listing module (src/listing*.c). The
 * public face is include/sfhttpd/listing.h.
 *
 *   listing.c       reading a directory (the stat of every entry by the
 *                   site's link policy), the orders, revalidation
 *   listing_page.c  writing the HTML page and the JSON array
 */
#ifndef SFHTTPD_LISTING_INT_H
#define SFHTTPD_LISTING_INT_H

#include "sfhttpd/listing.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct entry {
    const char *name; /* into the name arena, NUL-terminated */
    size_t off;       /* offset of name in the arena while it still grows */
    size_t len;
    bool dir;
    bool link;  /* a symlink, listed as what it leads to */
    bool shown; /* false: a link that leads nowhere servable, kept
                   only to notice when it does */
    long long size;
    struct timespec mtime;
};

struct sf_listing {
    struct entry *v; /* shown entries first (n), then the links kept
                        unshown (nall - n) */
    size_t n, nall, cap;
    struct sf_buf names;
    size_t ndirs, nfiles;
    long long total; /* bytes of the files shown */
    bool truncated;  /* the folder holds more names than were read */
    size_t limit;    /* max_entries it was read with */
    bool sorted;     /* v[0, n) is in the order of sort/desc */
    enum sf_listing_sort sort;
    bool desc;
};

/* Put v[0, n) in the view's order (stable across calls). */
void listing_sort(struct sf_listing *l, enum sf_listing_sort sort, bool desc);

/* Write l as the view says (listing_page.c). */
int listing_html(struct sf_buf *b, const char *url_path, const struct sf_listing *l,
                 const struct sf_listing_view *v);
int listing_json(struct sf_buf *b, const struct sf_listing *l);

#endif
