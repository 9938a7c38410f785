/*
 * fimage.c - wire images of small files (fcache.h): for a file whose
 * snapshot is sent whole again and again, one sealed memfd holding the
 * last head sent for it and then its bytes, so that head and body leave
 * with a single sendfile.
 *
 * Why (measured on loopback, 16 KiB keep-alive): a gather write copies
 * the 16 KiB into fresh socket pages on the server's CPU, and the client
 * then copies them again out of another CPU's dirty cache lines; a head
 * sendmsg followed by a sendfile from the file costs a second syscall per
 * response. One sendfile from an image costs neither: the pages are the
 * image's, never written after it was sealed, so they stay clean in
 * every cache. Below about 8 KiB the splice machinery costs more than the
 * copy it saves, hence SF_FIMAGE_MIN.
 *
 * Safety: an image is written once, then sealed against writes, growth
 * and shrinking, so bytes the kernel still holds for a socket (sendfile
 * hands it the pages, not a copy) never change; a new head (the Date of a
 * new second) makes a new memfd and closes the old one, whose pages live
 * on until the sockets let go of them. Its bytes are the snapshot's, taken
 * under the lease, so a change to the file never reaches them: the entry
 * (and its image) leaves the cache as it does without images.
 *
 * Limits: an image holds a descriptor, counted with the cached files
 * within open_file_cache_max (the descriptor plan's "one per cached file",
 * fdlimit.c), and its bytes within small_file_budget. Images give way
 * first: a new file, an out-of-descriptors reclaim or a new image drops
 * the oldest image before any file. With no image left to drop, the
 * image of a file sent whole a second time evicts the least recently
 * used file (without that, a cache full of files, as on any site with
 * more of them than open_file_cache_max, never made an image again).
 */
#include "fcache_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static void
list_unlink(struct sf_fcache *fc, struct entry *e)
{
    if (e->iprev)
        e->iprev->inext = e->inext;
    else
        fc->img_oldest = e->inext;
    if (e->inext)
        e->inext->iprev = e->iprev;
    else
        fc->img_newest = e->iprev;
    e->iprev = e->inext = NULL;
}

void
fimage_drop(struct sf_fcache *fc, struct entry *e)
{
    if (e->img_fd < 0)
        return;
    list_unlink(fc, e);
    close(e->img_fd);
    e->img_fd = -1;
    fc->nimages--;
    fc->snap_bytes -= e->img_hlen + e->snap_len;
    free(e->img_head);
    e->img_head = NULL;
    e->img_hlen = 0;
}

bool
fimage_drop_oldest(struct sf_fcache *fc)
{
    if (!fc->img_oldest)
        return false;
    fimage_drop(fc, fc->img_oldest);
    return true;
}

static int
pwrite_all(int fd, const void *p, size_t len, off_t off)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = pwrite(fd, (const char *)p + done, len - done, off + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

/* A sealed memfd of head then body; -1 on any failure. */
static int
make(const char *head, size_t hlen, const unsigned char *body, size_t blen)
{
    int fd = memfd_create("sfhttpd-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -1;
    if (pwrite_all(fd, head, hlen, 0) != 0 || pwrite_all(fd, body, blen, (off_t)hlen) != 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int
sf_fcache_image(struct sf_fcache *fc, struct sf_file *f, const char *head, size_t hlen)
{
    struct entry *e = (struct entry *)(void *)f;
    if (e->img_fd >= 0 && e->img_hlen == hlen && memcmp(e->img_head, head, hlen) == 0)
        return e->img_fd;
    size_t size = e->snap_len, budget = fc->o.small_file_budget;
    if (!e->snap || size <= SF_FIMAGE_MIN || hlen > SF_FIMAGE_HEAD_MAX || !e->cached ||
        e->lb.breaking)
        return -1;
    /* Two a second: the Date a head carries is read when the worker
     * wakes, so the first head of a second may still carry the last
     * second's Date and the next one this second's; a third is heads
     * that alternate (sent from the snapshot until the next second). */
    int64_t now = (int64_t)time(NULL);
    if (e->img_sec != now) {
        e->img_sec = now;
        e->img_made = 0;
    }
    if (e->img_made >= SF_FIMAGE_PER_SEC)
        return -1;
    e->img_made++;
    if (e->img_asks < 2)
        e->img_asks++;
    fimage_drop(fc, e);
    while (fc->nentries + fc->nimages >= fc->o.max_entries && fimage_drop_oldest(fc)) {
    }
    /* No image left to give way (the cache is full of files, as a site
     * with more files than open_file_cache_max keeps it): a file sent
     * whole a second time is worth the place of the least recently used
     * file, as a new file would be; a file sent once is not. */
    while (e->img_asks >= 2 && fc->nentries + fc->nimages >= fc->o.max_entries &&
           fcache_evict_lru(fc, e)) {
    }
    if (fc->nentries + fc->nimages >= fc->o.max_entries ||
        (budget && hlen + size > budget - fc->snap_bytes))
        return -1;
    char *copy = malloc(hlen);
    int fd = copy ? make(head, hlen, e->snap, size) : -1;
    if (fd < 0) {
        free(copy);
        return -1;
    }
    memcpy(copy, head, hlen);
    e->img_fd = fd;
    e->img_head = copy;
    e->img_hlen = hlen;
    fc->nimages++;
    fc->snap_bytes += hlen + size;
    fc->st.images++;
    e->iprev = fc->img_newest;
    e->inext = NULL;
    if (fc->img_newest)
        fc->img_newest->inext = e;
    else
        fc->img_oldest = e;
    fc->img_newest = e;
    return fd;
}
