/*
 * sender.c - the only place response bytes meet a socket. Head and
 * memory segments go out together with one gather write; file ranges go
 * out with sendfile(2), so file bytes never pass through user space; a
 * whole small file with a wire image for its head (fcache.h) goes out,
 * head and body, with one sendfile from that image.
 */
#include "sfhttpd/sender.h"
#include "sfhttpd/fcache.h"

#include <assert.h>
#include <errno.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/types.h>

#define IOV_MAX_BATCH 16

/* Account w more bytes handed to the socket: the head's, then the
 * segments' in order. */
static void
advance(struct sf_response *r, size_t left)
{
    size_t h = r->st.head_len - r->st.head_sent;
    if (left < h) {
        r->st.head_sent += left;
        return;
    }
    r->st.head_sent = r->st.head_len;
    left -= h;
    while (left > 0) {
        struct sf_seg *s = &r->seg[r->st.cur];
        uint64_t rest = s->len - r->st.cur_done;
        if (left < rest) {
            r->st.cur_done += left;
            r->st.body_sent += left;
            return;
        }
        left -= (size_t)rest;
        r->st.body_sent += rest;
        r->st.cur++;
        r->st.cur_done = 0;
    }
}

/* Gather the head remainder and the memory segments that follow it. */
static enum sf_io
send_mem(struct sf_response *r, int sock, size_t *budget, int *err)
{
    struct iovec iov[IOV_MAX_BATCH];
    int n = 0;
    size_t total = 0;
    if (r->st.head_sent < r->st.head_len) {
        iov[n].iov_base = r->head + r->st.head_sent;
        iov[n].iov_len = r->st.head_len - r->st.head_sent;
        total += iov[n].iov_len;
        n++;
    }
    unsigned i = r->st.cur;
    uint64_t done = r->st.cur_done;
    if (!r->st.no_body) {
        for (; i < r->st.nseg && n < IOV_MAX_BATCH && r->seg[i].fd < 0; i++) {
            const char *base = r->seg[i].p ? r->seg[i].p : r->mem.data;
            iov[n].iov_base = (void *)(uintptr_t)(base + r->seg[i].off + done);
            iov[n].iov_len = (size_t)(r->seg[i].len - done);
            total += iov[n].iov_len;
            done = 0;
            n++;
        }
    }
    if (n == 0)
        return SF_IO_OK;
    /* at most the budget, as for file ranges: cut the batch there */
    if (total > *budget) {
        size_t keep = *budget;
        int k = 0;
        while (iov[k].iov_len < keep)
            keep -= iov[k++].iov_len;
        iov[k].iov_len = keep;
        n = k + 1;
        total = *budget;
    }
    /* MSG_MORE when a file range follows, so the head and the first file
     * bytes can leave in one packet */
    bool more = !r->st.no_body && i < r->st.nseg;
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    ssize_t w;
    do
        w = sendmsg(sock, &msg, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
    while (w < 0 && errno == EINTR);
    if (w < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return SF_IO_AGAIN;
        *err = -errno;
        return SF_IO_ERR;
    }
    size_t left = (size_t)w;
    *budget = *budget > left ? *budget - left : 0;
    advance(r, left);
    return (size_t)w < total ? SF_IO_AGAIN : SF_IO_OK;
}

/*
 * A whole small file not started yet, with its wire image for this very
 * head (fcache.h): head and body with one sendfile from the image. The
 * image holds exactly the bytes the gather write would send, so a short
 * write goes on from where it stopped by the usual paths. Returns -1 when
 * the response does not go this way.
 */
static int
send_image(struct sf_response *r, int sock, size_t *budget, int *err)
{
    const struct sf_file *f = r->st.file;
    if (!f || !f->mem || r->st.head_sent != 0 || r->st.no_body || r->st.nseg != 1 ||
        r->seg[0].fd >= 0 || r->seg[0].p != (const char *)f->mem || r->seg[0].off != 0 ||
        r->seg[0].len != (uint64_t)f->st.st_size || r->seg[0].len <= SF_FIMAGE_MIN ||
        r->st.cur != 0 || r->st.cur_done != 0 || *budget == 0)
        return -1;
    int ifd = sf_fcache_image(r->st.fc, r->st.file, r->head, r->st.head_len);
    if (ifd < 0)
        return -1;
    size_t total = r->st.head_len + (size_t)r->seg[0].len;
    size_t n = total < *budget ? total : *budget;
    off_t off = 0;
    ssize_t w;
    do
        w = sendfile(sock, ifd, &off, n);
    while (w < 0 && errno == EINTR);
    if (w < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return SF_IO_AGAIN;
        *err = -errno;
        return SF_IO_ERR;
    }
    *budget -= (size_t)w;
    advance(r, (size_t)w);
    return (size_t)w < total ? SF_IO_AGAIN : SF_IO_OK;
}

static enum sf_io
send_file(struct sf_response *r, int sock, size_t *budget, int *err)
{
    struct sf_seg *s = &r->seg[r->st.cur];
    assert(s->fd >= 0);
    while (r->st.cur_done < s->len) {
        if (*budget == 0)
            return SF_IO_AGAIN;
        if (r->st.file && !sf_fcache_unchanged(r->st.file)) {
            /* no lease on this file, and it changed under us */
            *err = -ESTALE;
            return SF_IO_ERR;
        }
        off_t off = (off_t)(s->off + r->st.cur_done);
        uint64_t want = s->len - r->st.cur_done;
        size_t n = want < *budget ? (size_t)want : *budget;
        ssize_t w = sendfile(sock, s->fd, &off, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return SF_IO_AGAIN;
            *err = -errno;
            return SF_IO_ERR;
        }
        if (w == 0) {
            /* EOF before the promised length: the file shrank */
            *err = -ENODATA;
            return SF_IO_ERR;
        }
        r->st.cur_done += (uint64_t)w;
        r->st.body_sent += (uint64_t)w;
        *budget -= (size_t)w;
    }
    r->st.cur++;
    r->st.cur_done = 0;
    return SF_IO_OK;
}

enum sf_io
sf_sender_send(struct sf_response *r, int sock, size_t budget, int *err)
{
    int img = send_image(r, sock, &budget, err);
    if (img >= 0) /* a short write: the socket is full, or the budget spent */
        return (enum sf_io)img;
    for (;;) {
        bool head_left = r->st.head_sent < r->st.head_len;
        if (!head_left && (r->st.no_body || r->st.cur >= r->st.nseg))
            return SF_IO_OK;
        if (budget == 0)
            return SF_IO_AGAIN;
        enum sf_io rc;
        if (head_left || r->seg[r->st.cur].fd < 0)
            rc = send_mem(r, sock, &budget, err);
        else
            rc = send_file(r, sock, &budget, err);
        if (rc != SF_IO_OK)
            return rc;
    }
}
