/*
 * fuzz_conn.c - libFuzzer target for the whole connection state machine:
 * the bytes a client sends go through a socketpair into sf_conn_new's
 * connection, the server of server.h (parse, site by Host, resolve, the
 * file handler, the caches, the sender) over a temp docroot made once,
 * and out again, where the client side reads and drops them. The
 * worker's event_base is driven with EVLOOP_NONBLOCK passes until the
 * connection is idle (a pass that moved no byte either way), then the
 * client ends (a FIN, or a full close) and the passes go on until the
 * connection is freed; an end that does not come is a hang (abort).
 *
 * Input: byte 0 is flags, then the chunks:
 *   bit 0  the listener expects a PROXY header (proxy_protocol on)
 *   bit 1  end with close() rather than shutdown(SHUT_WR): writes then
 *          fail with EPIPE instead of completing
 *   bit 2  a graceful stop (sf_conn_drain) after the first chunk
 *   bit 3  a small send buffer on the server's socket, so the sender
 *          meets EAGAIN and resumes on EV_WRITE
 *   bits 4-6  n: the next n bytes are the lengths of the first n chunks
 *          (each sent as one write, then the loop runs); the rest of the
 *          input is the last chunk
 *   bit 7  time runs out: right after the last chunk's bytes are in and
 *          one pass has run (before the client reads what it caused), the
 *          connection's pending timeout fires (header, PROXY, keep-alive,
 *          send or linger, whichever its state has armed)
 *
 * Timeouts are a day, so none fires by the clock whatever the machine's
 * load; bit 7 fires one by setting the armed event's timeout to now
 * (event_add with a zero timeval), so libevent runs it on the next pass
 * as it runs any timeout that has passed, with no clock waited on: the
 * result depends on the input alone (and on what the caches
 * kept from earlier inputs, as in a long-lived worker). Every input must
 * end with the connection freed, its socket closed, and as many
 * connections gone as were added, and whatever the client read must
 * start with "HTTP/1.1 ". With SF_FUZZ_ECHO set in the
 * environment the responses go to stderr (to read what a crash saw).
 */
#include "sfhttpd/config.h"
#include "sfhttpd/conn.h"
#include "sfhttpd/log.h"
#include "sfhttpd/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Passes without any progress after which a live connection is idle, and
 * the bound on passes that is a hang. */
#define IDLE_PASSES 2
#define MAX_PASSES 100000

struct fz {
    char dir[256];
    struct sf_config cfg;
    struct sf_server srv;
    int added, gone;
    struct sf_conn *conn; /* the live connection, or NULL */
    bool echo;            /* SF_FUZZ_ECHO set: the responses to stderr */
    size_t out;           /* bytes the client read in this input */
    char head[9];         /* and the first of them */
};

static struct fz *fz;

static void
die(const char *what)
{
    perror(what);
    abort();
}

static void
on_added(void *owner, struct sf_server_conn *sc)
{
    struct fz *f = owner;
    f->added++;
    f->conn = sc->c;
}

static void
on_gone(void *owner, struct sf_server_conn *sc)
{
    struct fz *f = owner;
    if (f->conn != sc->c)
        abort();
    f->gone++;
    f->conn = NULL;
}

static void
put(const char *rel, const char *content, size_t len)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", fz->dir, rel);
    FILE *fp = fopen(path, "we");
    if (!fp || fwrite(content, 1, len, fp) != len || fclose(fp) != 0)
        die(path);
}

static void
put_str(const char *rel, const char *content)
{
    put(rel, content, strlen(content));
}

static void
mk(const char *rel)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", fz->dir, rel);
    if (mkdir(path, 0755) != 0)
        die(path);
}

static void
ln(const char *target, const char *rel)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", fz->dir, rel);
    if (symlink(target, path) != 0)
        die(path);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void
cleanup(void)
{
    if (!fz)
        return;
    if (fz->srv.fc) {
        sf_conn_mem_free(&fz->srv);
        sf_server_close(&fz->srv);
    }
    nftw(fz->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The docroot: small and large files, a folder with an index, a listed
 * folder, precompressed variants, symlinks in and out (relative and
 * absolute), dotfiles. */
static void
make_tree(void)
{
    static char big[20000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    mk("www");
    put_str("outside.txt", "outside the root\n");
    put_str("www/small.txt", "a small file\n");
    put("www/big.bin", big, sizeof(big));
    put_str("www/empty", "");
    put_str("www/page.html", "<!doctype html><p>page</p>\n");
    put_str("www/page.html.gz", "not really gzip, but the server never looks\n");
    put_str("www/page.html.br", "brotli stand-in\n");
    put_str("www/.secret", "dotfile\n");
    put_str("www/sp ace %.txt", "odd name\n");
    ln("small.txt", "www/link.txt");
    ln("../outside.txt", "www/out.txt");
    ln("list", "www/dirlink");
    char abs[PATH_MAX];
    snprintf(abs, sizeof(abs), "%s/outside.txt", fz->dir);
    ln(abs, "www/abs.txt");
    snprintf(abs, sizeof(abs), "%s/www/list", fz->dir);
    ln(abs, "www/abslist");
    mk("www/dir");
    put_str("www/dir/index.html", "<p>index</p>\n");
    put_str("www/dir/index.html.gz", "gz index\n");
    mk("www/list");
    put_str("www/list/a.txt", "a\n");
    put_str("www/list/b<&>\".txt", "b\n");
    put_str("www/list/.hidden", "h\n");
    put("www/list/big.bin", big, 5000);
    mk("www/list/sub");
    ln("../small.txt", "www/list/up.txt");
    ln("../../outside.txt", "www/list/escape.txt");
    ln("nowhere", "www/list/dangling");
    mk("www/.well-known");
    put_str("www/.well-known/x", "well known\n");
    mk("www/errors");
    put_str("www/errors/404.html", "<p>custom not found</p>\n");
}

/* Three sites over one root with different policies, each logging in
 * its own format; one file takes one format, so the three discard into
 * /dev/null, /dev/zero and /dev/full (where every write fails). */
static void
make_config(void)
{
    char text[4 * PATH_MAX + 1024], path[PATH_MAX];
    snprintf(text, sizeof(text),
             "[server]\n"
             "access_log = /dev/null\naccess_log_format = json\n"
             "error_log = /dev/null\nlog_level = debug\n"
             "header_timeout = 86400\nkeepalive_timeout = 86400\nsend_timeout = 86400\n"
             "max_header_size = 4k\nmax_uri_length = 2k\nmax_headers = 40\n"
             "max_body_size = 4k\nsend_chunk = 8k\nmax_ranges = 8\n"
             "small_file_size = 4k\nmax_listing_entries = 100\n"
             "health_path = /healthz\n"
             "[site main]\nroot = %s/www\nlisting = on\n"
             "error_page = 404 /errors/404.html\n"
             "[site b]\nroot = %s/www\nserver_names = b.test *.b.test\n"
             "listing = off\ndotfiles = allow\nsymlinks = follow\nprecompressed = off\n"
             "index = index.htm index.html\ncache_control = max-age=60\nexpires = 1h\n"
             "access_log = /dev/zero\naccess_log_format = vhost_combined\n"
             "[site c]\nroot = %s/www\nserver_names = c.test\n"
             "listing = on\nsymlinks = none\nprecompressed = gzip\n"
             "access_log = /dev/full\naccess_log_format = combined\n",
             fz->dir, fz->dir, fz->dir);
    put_str("t.conf", text);
    snprintf(path, sizeof(path), "%s/t.conf", fz->dir);
    sf_config_defaults(&fz->cfg);
    if (sf_config_load(&fz->cfg, path, stderr) != 0)
        abort();
}

static void
init(void)
{
    static struct fz one;
    fz = &one;
    signal(SIGPIPE, SIG_IGN);
    fz->echo = getenv("SF_FUZZ_ECHO") != NULL;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(fz->dir, sizeof(fz->dir), "%s/sf_fuzz_conn.XXXXXX", tmp);
    if (!mkdtemp(fz->dir))
        die("mkdtemp");
    atexit(cleanup);
    make_tree();
    make_config();
    struct sf_server *srv = &fz->srv;
    srv->cfg = &fz->cfg;
    srv->base = event_base_new();
    if (!srv->base || event_base_priority_init(srv->base, 2) != 0)
        die("event_base");
    if (sf_log_open(&srv->log, &fz->cfg) != 0)
        die("sf_log_open");
    srv->conn_added = on_added;
    srv->conn_gone = on_gone;
    srv->owner = fz;
    if (sf_server_open(srv) != 0)
        die("sf_server_open");
    sf_conn_mem_init(srv);
    srv->rng = 1; /* the same multipart boundaries every run */
}

/* Read and drop what the server sent; returns how many bytes. */
static size_t
drain_client(int fd)
{
    char buf[65536];
    size_t total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n > 0) {
            if (fz->out < sizeof(fz->head))
                memcpy(fz->head + fz->out, buf,
                       (size_t)n < sizeof(fz->head) - fz->out ? (size_t)n
                                                              : sizeof(fz->head) - fz->out);
            fz->out += (size_t)n;
            total += (size_t)n;
            if (fz->echo)
                fwrite(buf, 1, (size_t)n, stderr);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return total;
    }
}

static int
inq(int fd)
{
    int n = 0;
    if (fd < 0 || ioctl(fd, FIONREAD, &n) != 0)
        return -1;
    return n;
}

/* The events on the server's socket with a timeout armed (the
 * connection's one event; a few slots spare). */
struct armed {
    int fd;
    int n;
    struct event *ev[4];
};

static int
find_armed(const struct event_base *base, const struct event *ev, void *arg)
{
    struct armed *a = arg;
    (void)base;
    if (event_get_fd(ev) == a->fd && event_pending(ev, EV_TIMEOUT, NULL) &&
        a->n < (int)(sizeof(a->ev) / sizeof(a->ev[0])))
        a->ev[a->n++] = (struct event *)(uintptr_t)ev; /* re-added below, outside the walk */
    return 0;
}

/* Bit 7: the timeouts armed on sfd expire now (the next pass fires them). */
static void
expire(int sfd)
{
    static const struct timeval now = {0, 0};
    struct armed a = {.fd = sfd};
    event_base_foreach_event(fz->srv.base, find_armed, &a);
    for (int i = 0; i < a.n; i++)
        event_add(a.ev[i], &now);
}

/*
 * Send [p, p + len) from the client (as much as the socket takes each
 * time) and run the loop until every byte is in and nothing moves any
 * more, or the connection is gone. sfd is the server's socket (-1 once
 * the connection may have closed it), to see whether it still reads.
 * With timeout, the connection's timeout expires after the first pass
 * that follows the last byte (bit 7).
 */
static void
pump(int cfd, int sfd, const uint8_t *p, size_t len, bool timeout)
{
    int still = 0;
    for (long pass = 0; fz->conn; pass++) {
        if (pass == MAX_PASSES)
            abort(); /* a connection that neither finishes nor waits */
        bool moved = false;
        if (len) {
            ssize_t n = write(cfd, p, len);
            if (n > 0) {
                p += n;
                len -= (size_t)n;
                moved = true;
            }
        }
        int before = inq(sfd);
        event_base_loop(fz->srv.base, EVLOOP_NONBLOCK);
        if (timeout && len == 0 && fz->conn) {
            timeout = false;
            expire(sfd);
            continue; /* the pass that fires it, before the client reads */
        }
        if (drain_client(cfd) > 0 || inq(sfd) != before)
            moved = true;
        /* bytes left that the server does not take count as idle
         * too: it waits for nothing this chunk can give */
        still = moved ? 0 : still + 1;
        if (still == IDLE_PASSES)
            return;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fz)
        init();
    if (size == 0)
        return 0;
    uint8_t flags = data[0];
    size_t nsplit = (flags >> 4) & 7;
    data++;
    size--;
    if (nsplit > size)
        nsplit = size;
    const uint8_t *lens = data;
    data += nsplit;
    size -= nsplit;

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        die("socketpair");
    if (flags & 8) {
        int small = 4096;
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    }
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(40000)};
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int added = fz->added, gone = fz->gone;
    fz->out = 0;
    struct sf_conn *c =
        sf_conn_new(&fz->srv, sv[0], (const struct sockaddr *)&peer, sizeof(peer), flags & 1);
    if (fz->added != added + 1 || c != fz->conn)
        abort();

    size_t off = 0;
    for (size_t i = 0; i <= nsplit && fz->conn; i++) {
        size_t n = i < nsplit ? lens[i] : size - off;
        if (n > size - off)
            n = size - off;
        pump(sv[1], sv[0], data + off, n, i == nsplit && (flags & 0x80));
        off += n;
        if (i == 0 && (flags & 4) && fz->conn)
            sf_conn_drain(fz->conn);
    }
    if (flags & 2) {
        close(sv[1]);
        sv[1] = -1;
        /* nothing more can move on the client's side: run the loop until
         * the server notices */
        for (long pass = 0; fz->conn; pass++) {
            if (pass == MAX_PASSES)
                abort();
            event_base_loop(fz->srv.base, EVLOOP_NONBLOCK);
        }
    } else {
        shutdown(sv[1], SHUT_WR);
        for (long pass = 0; fz->conn; pass++) {
            if (pass == MAX_PASSES)
                abort();
            event_base_loop(fz->srv.base, EVLOOP_NONBLOCK);
            drain_client(sv[1]);
        }
        close(sv[1]);
    }
    /* freed, reported once, and its socket closed */
    if (fz->gone != gone + 1 || fcntl(sv[0], F_GETFD) != -1 || errno != EBADF)
        abort();
    /* whatever the server said is HTTP/1.1, from its first byte */
    if (fz->out && (fz->out < sizeof(fz->head) || memcmp(fz->head, "HTTP/1.1 ", 9) != 0))
        abort();
    return 0;
}
