/*
 * snapshot.c - copies of the unsent rest of a response's file (see
 * snapshot.h). A memory snapshot holds the remaining pieces of every file
 * segment back to back and turns each into a memory segment; a reflink
 * snapshot clones the file from the first remaining block to its end at
 * the same offsets, so the segments only change their fd.
 */
#include "sfhttpd/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sfhttpd/common.h"
#include "sfhttpd/response.h"

struct sf_snapshots {
    size_t budget, used;
    int dirfd; /* snapshot_dir, or -1 */
    unsigned live;
};

struct sf_snapshot {
    struct sf_snapshots *pool;
    uint64_t len; /* bytes left when planned */
    bool reflink;
    unsigned char *mem; /* memory snapshot, len bytes */
    int fd;             /* reflink clone, or -1 */
};

struct sf_snapshots *
sf_snapshots_new(size_t budget, const char *dir, int *dir_err)
{
    struct sf_snapshots *p = calloc(1, sizeof(*p));
    *dir_err = 0;
    if (!p)
        return NULL;
    p->budget = budget;
    p->dirfd = -1;
    if (dir) {
        p->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (p->dirfd < 0)
            *dir_err = -errno;
    }
    return p;
}

void
sf_snapshots_free(struct sf_snapshots *p)
{
    if (!p)
        return;
    if (p->dirfd >= 0)
        close(p->dirfd);
    free(p);
}

size_t
sf_snapshots_used(const struct sf_snapshots *p)
{
    return p->used;
}

/* Where segment i's unsent bytes start (the current one is partly sent). */
static uint64_t
seg_from(const struct sf_response *r, unsigned i)
{
    return i == r->st.cur ? r->st.cur_done : 0;
}

uint64_t
sf_snapshot_left(const struct sf_response *r, int fd)
{
    uint64_t left = 0;
    if (r->st.no_body)
        return 0;
    for (unsigned i = r->st.cur; i < r->st.nseg; i++)
        if (r->seg[i].fd == fd && fd >= 0)
            left += r->seg[i].len - seg_from(r, i);
    return left;
}

struct sf_snapshot *
sf_snapshot_plan(struct sf_snapshots *p, const struct sf_response *r, int fd, int *err)
{
    uint64_t left = sf_snapshot_left(r, fd);
    *err = 0;
    if (left == 0)
        return NULL;
    bool mem = left <= p->budget - p->used;
    if (!mem && p->dirfd < 0) {
        *err = -ENOBUFS;
        return NULL;
    }
    struct sf_snapshot *s = calloc(1, sizeof(*s));
    if (!s) {
        *err = -ENOMEM;
        return NULL;
    }
    *s = (struct sf_snapshot){.pool = p, .len = left, .reflink = !mem, .fd = -1};
    if (mem)
        p->used += (size_t)left;
    p->live++;
    return s;
}

static int
fill_mem(struct sf_snapshot *s, struct sf_response *r, int fd)
{
    s->mem = malloc((size_t)s->len);
    if (!s->mem)
        return -ENOMEM;
    uint64_t pos = 0;
    for (unsigned i = r->st.cur; i < r->st.nseg; i++) {
        if (r->seg[i].fd != fd)
            continue;
        uint64_t n = r->seg[i].len - seg_from(r, i);
        int rc = sf_pread_all(fd, s->mem + pos, (size_t)n, r->seg[i].off + seg_from(r, i));
        if (rc)
            return rc;
        pos += n;
    }
    /* all read: only now change r */
    pos = 0;
    for (unsigned i = r->st.cur; i < r->st.nseg; i++) {
        if (r->seg[i].fd != fd)
            continue;
        uint64_t n = r->seg[i].len - seg_from(r, i);
        r->seg[i] = (struct sf_seg){.fd = -1, .p = (const char *)s->mem + pos, .off = 0, .len = n};
        pos += n;
    }
    r->st.cur_done = 0;
    return 0;
}

static int
fill_reflink(struct sf_snapshot *s, struct sf_response *r, int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -errno;
    uint64_t lo = UINT64_MAX;
    for (unsigned i = r->st.cur; i < r->st.nseg; i++)
        if (r->seg[i].fd == fd && r->seg[i].off + seg_from(r, i) < lo)
            lo = r->seg[i].off + seg_from(r, i);
    uint64_t blk = st.st_blksize > 0 ? (uint64_t)st.st_blksize : 4096;
    lo -= lo % blk;
    s->fd = openat(s->pool->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (s->fd < 0)
        return -errno;
    /* length 0: to the end of the file, so only the start must be aligned */
    struct file_clone_range fcr = {
        .src_fd = fd, .src_offset = lo, .src_length = 0, .dest_offset = lo};
    if (ioctl(s->fd, FICLONERANGE, &fcr) != 0) {
        int rc = -errno;
        close(s->fd);
        s->fd = -1;
        return rc;
    }
    for (unsigned i = r->st.cur; i < r->st.nseg; i++)
        if (r->seg[i].fd == fd)
            r->seg[i].fd = s->fd;
    return 0;
}

int
sf_snapshot_fill(struct sf_snapshot *s, struct sf_response *r, int fd)
{
    return s->reflink ? fill_reflink(s, r, fd) : fill_mem(s, r, fd);
}

void
sf_snapshot_free(struct sf_snapshot *s)
{
    if (!s)
        return;
    if (!s->reflink)
        s->pool->used -= (size_t)s->len;
    s->pool->live--;
    free(s->mem);
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}
