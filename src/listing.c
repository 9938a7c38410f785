/*
 * listing.c - reading a directory for its listing, and the orders a
 * listing is shown in (see listing.h; the page itself is listing_page.c).
 *
 * The directory is read through its own open file description (openat
 * of "." relative to the caller's fd), so the caller's fd and its offset
 * are left alone. Entries go into one array, their names into one arena.
 * An entry is stat'ed without following links; a symlink is stat'ed as a
 * request for it would open it (sf_resolve_stat with the site's policy:
 * never outside the root unless links may go anywhere, and never to a
 * hidden name when dotfiles are denied), so a listing shows neither the
 * size nor the time of something the server would refuse, and leaves out
 * links that lead nowhere servable. Those are kept, unshown, because a
 * link's target can appear later without any event in this directory
 * (sf_listing_current looks again).
 */
#include "listing_int.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sfhttpd/resolve.h"

/* ------------------------------------------------------------- orders */

static int
lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool
digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/*
 * "Natural" order: ASCII letters without case, runs of digits by their
 * value (leading zeros aside), everything else by byte. 0 for names that
 * differ only in case or leading zeros (the caller breaks the tie).
 */
static int
natural_cmp(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

    while (*x && *y) {
        if (digit(*x) && digit(*y)) {
            while (*x == '0')
                x++;
            while (*y == '0')
                y++;
            size_t nx = 0, ny = 0;
            while (digit(x[nx]))
                nx++;
            while (digit(y[ny]))
                ny++;
            if (nx != ny)
                return nx < ny ? -1 : 1;
            int c = memcmp(x, y, nx);
            if (c)
                return c < 0 ? -1 : 1;
            x += nx;
            y += ny;
            continue;
        }
        int cx = lower(*x), cy = lower(*y);
        if (cx != cy)
            return cx < cy ? -1 : 1;
        x++;
        y++;
    }
    return *x ? 1 : *y ? -1 : 0;
}

/* By name, a total order: natural, then bytes. */
static int
name_cmp(const struct entry *x, const struct entry *y)
{
    int c = natural_cmp(x->name, y->name);
    return c ? c : strcmp(x->name, y->name);
}

struct order {
    enum sf_listing_sort sort;
    bool desc;
};

static int
cmp_ts(const struct timespec *a, const struct timespec *b)
{
    if (a->tv_sec != b->tv_sec)
        return a->tv_sec < b->tv_sec ? -1 : 1;
    if (a->tv_nsec != b->tv_nsec)
        return a->tv_nsec < b->tv_nsec ? -1 : 1;
    return 0;
}

static int
cmp_entry(const void *a, const void *b, void *arg)
{
    const struct entry *x = a, *y = b;
    const struct order *o = arg;

    if (x->dir != y->dir)
        return x->dir ? -1 : 1; /* folders first, in either direction */
    int c = 0;
    if (o->sort == SF_LISTING_BY_SIZE && !x->dir)
        c = x->size < y->size ? -1 : x->size > y->size;
    else if (o->sort == SF_LISTING_BY_MTIME)
        c = cmp_ts(&x->mtime, &y->mtime);
    if (c)
        return o->desc ? -c : c;
    c = name_cmp(x, y);
    /* equal sizes or times (and folders, which have no size) stay by
     * name, ascending */
    return o->desc && o->sort == SF_LISTING_BY_NAME ? -c : c;
}

void
listing_sort(struct sf_listing *l, enum sf_listing_sort sort, bool desc)
{
    if (l->sorted && l->sort == sort && l->desc == desc)
        return;
    struct order o = {sort, desc};
    if (l->n > 1)
        qsort_r(l->v, l->n, sizeof(*l->v), cmp_entry, &o);
    l->sorted = true;
    l->sort = sort;
    l->desc = desc;
}

/* ------------------------------------------------------------ reading */

/* Names the server would refuse to serve (control characters and
 * backslashes get 400 from the resolver) are not listed: a link must
 * lead somewhere. */
static bool
servable(const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '\\')
            return false;
    return true;
}

/* The stat of the link name in the directory: what a request for it
 * would reach. */
static int
stat_link(int dirfd, const char *name, const struct sf_listing_opts *o, struct stat *st)
{
    if (!o->rel)
        return fstatat(dirfd, name, st, 0) < 0 ? -errno : 0;
    char rel[SF_PATH_MAX + 1];
    int n = snprintf(rel, sizeof(rel), "%s%s%s", o->rel, o->rel[0] ? "/" : "", name);
    if (n < 0 || (size_t)n >= sizeof(rel))
        return -ENAMETOOLONG;
    return sf_resolve_stat(o->rootfd, rel, o->how, st);
}

/* The stat an entry is listed with; *link tells whether it is one. */
static int
stat_entry(int dirfd, const char *name, unsigned char type, const struct sf_listing_opts *o,
           struct stat *st, bool *link)
{
    *link = type == DT_LNK;
    if (!*link) {
        if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
            return -errno;
        *link = S_ISLNK(st->st_mode);
        if (!*link)
            return 0;
    }
    return stat_link(dirfd, name, o, st);
}

static bool
shown(const struct stat *st)
{
    return S_ISDIR(st->st_mode) || S_ISREG(st->st_mode);
}

static int
add_entry(struct sf_listing *l, const char *name, const struct stat *st, bool link, bool show)
{
    if (l->nall == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct entry *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    struct entry *e = &l->v[l->nall];
    *e = (struct entry){.off = l->names.len, .len = strlen(name), .link = link, .shown = show};
    int rc = sf_buf_append(&l->names, name, e->len + 1);
    if (rc)
        return rc;
    if (show) {
        e->dir = S_ISDIR(st->st_mode);
        e->size = e->dir ? 0 : (long long)st->st_size;
        e->mtime = st->st_mtim;
        if (e->dir) {
            l->ndirs++;
        } else {
            l->nfiles++;
            l->total += e->size;
        }
    }
    l->nall++;
    return 0;
}

/* Shown entries first: unshown links are only looked at again. */
static void
finish(struct sf_listing *l)
{
    size_t k = 0;
    for (size_t i = 0; i < l->nall; i++) {
        if (!l->v[i].shown)
            continue;
        struct entry t = l->v[k];
        l->v[k++] = l->v[i];
        l->v[i] = t;
    }
    l->n = k;
    /* the arena has stopped moving: offsets become pointers */
    for (size_t i = 0; i < l->nall; i++)
        l->v[i].name = l->names.data + l->v[i].off;
}

static int
read_dir(DIR *d, int dirfd, const struct sf_listing_opts *o, struct sf_listing *l)
{
    size_t seen = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de)
            return -errno;
        const char *name = de->d_name;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
            continue;
        if (o->max_entries && seen == o->max_entries) {
            l->truncated = true;
            return 0;
        }
        seen++;
        if ((name[0] == '.' && !o->show_hidden) || !servable(name))
            continue;
        struct stat st;
        bool link;
        int rc = stat_entry(dirfd, name, de->d_type, o, &st, &link);
        bool show = rc == 0 && shown(&st);
        if (!show && !link)
            continue; /* gone, or a FIFO, socket or device */
        rc = add_entry(l, name, &st, link, show);
        if (rc)
            return rc;
    }
}

int
sf_listing_read(int dirfd, const struct sf_listing_opts *o, struct sf_listing **out)
{
    assert(o && out);
    *out = NULL;
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    struct sf_listing *l = calloc(1, sizeof(*l));
    int rc = l ? read_dir(d, dirfd, o, l) : -ENOMEM;
    closedir(d);
    if (rc) {
        sf_listing_free(l);
        return rc;
    }
    l->limit = o->max_entries;
    finish(l);
    *out = l;
    return 0;
}

bool
sf_listing_current(const struct sf_listing *l, int dirfd, const struct sf_listing_opts *o)
{
    for (size_t i = 0; i < l->nall; i++) {
        const struct entry *e = &l->v[i];
        if (!e->dir && !e->link)
            continue; /* a file: the watch reports its changes */
        struct stat st;
        int rc = e->link ? stat_link(dirfd, e->name, o, &st)
                         : fstatat(dirfd, e->name, &st, AT_SYMLINK_NOFOLLOW);
        bool show = rc == 0 && shown(&st);
        if (show != e->shown)
            return false;
        if (!show)
            continue;
        if (S_ISDIR(st.st_mode) != e->dir || cmp_ts(&st.st_mtim, &e->mtime) != 0 ||
            (!e->dir && (long long)st.st_size != e->size))
            return false;
    }
    return true;
}

int
sf_listing_render(struct sf_listing *l, const char *url_path, const struct sf_listing_view *v,
                  struct sf_buf *out)
{
    assert(l && url_path && v && out);
    listing_sort(l, v->sort, v->desc);
    return v->fmt == SF_LISTING_JSON ? listing_json(out, l) : listing_html(out, url_path, l, v);
}

size_t
sf_listing_count(const struct sf_listing *l)
{
    return l->n;
}

bool
sf_listing_truncated(const struct sf_listing *l)
{
    return l->truncated;
}

size_t
sf_listing_bytes(const struct sf_listing *l)
{
    return sizeof(*l) + l->cap * sizeof(*l->v) + l->names.cap;
}

void
sf_listing_free(struct sf_listing *l)
{
    if (!l)
        return;
    free(l->v);
    sf_buf_free(&l->names);
    free(l);
}

int
sf_listing_build(int dirfd, const char *url_path, const struct sf_listing_view *v,
                 const struct sf_listing_opts *o, struct sf_buf *out)
{
    static const struct sf_listing_view html = {SF_LISTING_HTML, SF_LISTING_BY_NAME, false};
    static const struct sf_listing_opts defaults = {0};
    struct sf_listing *l;
    int rc = sf_listing_read(dirfd, o ? o : &defaults, &l);
    if (rc)
        return rc;
    rc = sf_listing_render(l, url_path, v ? v : &html, out);
    sf_listing_free(l);
    return rc;
}
