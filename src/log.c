/*
 * log.c - the log files: opening, buffering, flushing and reopening the
 * destinations, and the error log. Error lines are written at once with
 * a single write(2) (whole lines, never interleaved); access lines are
 * formatted by log_format.c's pure function (sf_log_format_access),
 * buffered per destination and written in blocks of whole lines of one
 * second (log.h).
 */
#include "sfhttpd/log.h"
#include "sfhttpd/common.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* O_NOFOLLOW: a link planted at a log's path (by whoever can write its
 * folder, perhaps the workers' user) must not make root write elsewhere. */
#define LOG_OPEN_FLAGS (O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY)

/* The reason a log could not be opened, in words: ELOOP from O_NOFOLLOW
 * means a symbolic link, not a loop. */
static const char *
open_error(int rc)
{
    return rc == -ELOOP ? "is a symbolic link (logs are never opened through one)" : strerror(-rc);
}

static int
open_append(const char *path, int *fd, bool *owned, int std_fd)
{
    if (strcmp(path, "-") == 0) {
        *fd = std_fd;
        *owned = false;
        return 0;
    }
    int f = open(path, LOG_OPEN_FLAGS, 0644);
    if (f < 0)
        return -errno;
    *fd = f;
    *owned = true;
    return 0;
}

static void
write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return; /* nowhere left to report a failing log */
        }
        p += w;
        n -= (size_t)w;
    }
}

/* ---- access-log destinations -------------------------------------------- */

static bool
is_pipe(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && !S_ISREG(st.st_mode);
}

/* The sink for path, opened on first use. Returns its index, or -errno
 * (-EINVAL: it is already written in another format). */
static int
sink_for(struct sf_log *l, const char *path, enum sf_log_format fmt)
{
    for (size_t i = 0; i < l->nsinks; i++)
        if (strcmp(l->sinks[i]->path, path) == 0)
            return l->sinks[i]->format == fmt ? (int)i : -EINVAL;
    if (l->nsinks == SF_ARRAY_LEN(l->sinks))
        return -E2BIG;
    struct sf_log_sink *s = malloc(sizeof(*s));
    char *copy = strdup(path);
    if (!s || !copy) {
        free(s);
        free(copy);
        return -ENOMEM;
    }
    int rc = open_append(path, &s->fd, &s->owned, 1);
    if (rc) {
        free(s);
        free(copy);
        return rc;
    }
    s->pipe = is_pipe(s->fd);
    s->path = copy;
    s->format = fmt;
    s->sec = 0;
    s->len = 0;
    l->sinks[l->nsinks] = s;
    return (int)l->nsinks++;
}

/* A site's or the server's destination: -1 for off. */
static int
open_access(struct sf_log *l, const char *path, enum sf_log_format fmt)
{
    if (strcmp(path, "off") == 0)
        return -1;
    int rc = sink_for(l, path, fmt);
    if (rc == -EINVAL)
        fprintf(stderr, "sfhttpd: access_log %s: written in two formats\n", path);
    else if (rc < 0)
        fprintf(stderr, "sfhttpd: access_log %s: %s\n", path, open_error(rc));
    return rc;
}

/* l empty but for the error log, opened (or its -errno). */
static int
open_error_log(struct sf_log *l, const struct sf_config *cfg)
{
    memset(l, 0, sizeof(*l));
    l->err_fd = 2;
    l->access_fd = -1;
    l->server_sink = -1;
    for (size_t i = 0; i < SF_CONFIG_MAX_SITES; i++)
        l->site_sink[i] = -1;
    l->level = cfg->log_level;
    const char *err = cfg->error_log ? cfg->error_log : "-";
    return open_append(err, &l->err_fd, &l->err_owned, 2);
}

int
sf_log_open(struct sf_log *l, const struct sf_config *cfg)
{
    const char *err = cfg->error_log ? cfg->error_log : "-";
    int rc = open_error_log(l, cfg);
    if (rc) {
        fprintf(stderr, "sfhttpd: error_log %s: %s\n", err, open_error(rc));
        return rc;
    }
    if (l->err_owned && !(l->err_path = strdup(err))) {
        sf_log_close(l);
        return -ENOMEM;
    }
    l->server_sink =
        open_access(l, cfg->access_log ? cfg->access_log : "-", cfg->access_log_format);
    if (l->server_sink < -1) {
        rc = l->server_sink;
        goto fail;
    }
    if (l->server_sink >= 0)
        l->access_fd = l->sinks[l->server_sink]->fd;
    for (size_t i = 0; i < cfg->nsites && i < SF_CONFIG_MAX_SITES; i++) {
        const struct sf_site *site = &cfg->sites[i];
        const char *path = site->access_log ? site->access_log : cfg->access_log;
        enum sf_log_format fmt =
            site->access_log_format_set ? site->access_log_format : cfg->access_log_format;
        l->site_sink[i] = open_access(l, path ? path : "-", fmt);
        if (l->site_sink[i] < -1) {
            rc = l->site_sink[i];
            goto fail;
        }
        if (fmt == SF_LOG_FORMAT_VHOST_COMBINED) {
            char name[SF_LOG_VHOST_MAX];
            sf_log_vhost_name(site, name, sizeof(name));
            if (!(l->site_vhost[i] = strdup(name))) {
                rc = -ENOMEM;
                goto fail;
            }
        }
    }
    return 0;
fail:
    sf_log_close(l);
    return rc;
}

int
sf_log_open_errors(struct sf_log *l, const struct sf_config *cfg)
{
    return open_error_log(l, cfg);
}

/* Write a sink's buffer: whole, or on a pipe in pieces of at most
 * PIPE_BUF bytes that end at a newline, so that each write is atomic. */
static void
flush_sink(struct sf_log_sink *s)
{
    const char *p = s->buf;
    size_t n = s->len;
    while (s->pipe && n > PIPE_BUF) {
        size_t k = PIPE_BUF;
        while (k > 0 && p[k - 1] != '\n')
            k--;
        if (k == 0)
            break; /* cannot happen: lines are at most PIPE_BUF */
        write_all(s->fd, p, k);
        p += k;
        n -= k;
    }
    if (n > 0)
        write_all(s->fd, p, n);
    s->len = 0;
}

void
sf_log_flush(struct sf_log *l)
{
    for (size_t i = 0; i < l->nsinks; i++)
        if (l->sinks[i]->len)
            flush_sink(l->sinks[i]);
}

void
sf_log_tick(struct sf_log *l, uint64_t now_ms)
{
    for (size_t i = 0; i < l->nsinks; i++)
        if (l->sinks[i]->len && l->sinks[i]->sec < now_ms / 1000)
            flush_sink(l->sinks[i]);
}

void
sf_log_close(struct sf_log *l)
{
    if (!l)
        return;
    sf_log_flush(l);
    for (size_t i = 0; i < l->nsinks; i++) {
        struct sf_log_sink *s = l->sinks[i];
        if (s->owned)
            close(s->fd);
        free(s->path);
        free(s);
        l->sinks[i] = NULL;
    }
    l->nsinks = 0;
    l->server_sink = -1;
    for (size_t i = 0; i < SF_CONFIG_MAX_SITES; i++) {
        l->site_sink[i] = -1;
        free(l->site_vhost[i]);
        l->site_vhost[i] = NULL;
    }
    if (l->err_owned && l->err_fd >= 0)
        close(l->err_fd);
    free(l->err_path);
    l->err_path = NULL;
    l->access_fd = -1;
    l->err_fd = 2;
    l->err_owned = false;
    l->tee = false;
}

/* Open path again and put the new descriptor in place of *fd. */
static int
reopen_one(struct sf_log *l, const char *what, const char *path, int *fd)
{
    int f = open(path, LOG_OPEN_FLAGS, 0644);
    if (f < 0) {
        int rc = -errno;
        sf_log_msg(l, SF_LOG_ERROR, "reopening %s %s (still writing the old file): %s", what, path,
                   open_error(rc));
        return rc;
    }
    close(*fd);
    *fd = f;
    return 0;
}

int
sf_log_reopen(struct sf_log *l)
{
    int first = 0, rc;
    sf_log_flush(l);
    if (l->err_owned && l->err_path) {
        rc = reopen_one(l, "error_log", l->err_path, &l->err_fd);
        first = first ? first : rc;
    }
    for (size_t i = 0; i < l->nsinks; i++) {
        struct sf_log_sink *s = l->sinks[i];
        if (!s->owned)
            continue;
        rc = reopen_one(l, "access_log", s->path, &s->fd);
        first = first ? first : rc;
    }
    if (l->server_sink >= 0)
        l->access_fd = l->sinks[l->server_sink]->fd;
    return first;
}

/* ---- the error log ------------------------------------------------------ */

void
sf_log_tee(struct sf_log *l, bool on)
{
    struct stat a, b;
    bool same = l->err_fd == 2 || (fstat(l->err_fd, &a) == 0 && fstat(2, &b) == 0 &&
                                   a.st_dev == b.st_dev && a.st_ino == b.st_ino);
    l->tee = on && !same;
}

static void
vlog(struct sf_log *l, enum sf_log_level lv, int err, const char *fmt, va_list ap)
{
    char line[2048];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    size_t n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ", &tm);
    int k = snprintf(line + n, sizeof(line) - n, " [%s] sfhttpd[%d]: ", sf_config_level_name(lv),
                     (int)getpid());
    n += (size_t)k;
    size_t head = n; /* the message starts here */
    k = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    n = k < 0 ? n : (n + (size_t)k < sizeof(line) ? n + (size_t)k : sizeof(line) - 1);
    if (err) {
        k = snprintf(line + n, sizeof(line) - n, ": %s", strerror(err < 0 ? -err : err));
        n = k < 0 ? n : (n + (size_t)k < sizeof(line) ? n + (size_t)k : sizeof(line) - 1);
    }
    /* one line per message: control characters from a client never split it */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)line[i] < 0x20)
            line[i] = '?';
    if (n >= sizeof(line) - 1)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    write_all(l->err_fd, line, n);
    if (l->tee && lv <= SF_LOG_WARN) {
        static const char name[] = "sfhttpd: ";
        char copy[sizeof(line) + sizeof(name)];
        memcpy(copy, name, sizeof(name) - 1);
        memcpy(copy + sizeof(name) - 1, line + head, n - head);
        write_all(2, copy, sizeof(name) - 1 + n - head);
    }
}

void
sf_log_msg(struct sf_log *l, enum sf_log_level lv, const char *fmt, ...)
{
    if (!sf_log_enabled(l, lv))
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(l, lv, 0, fmt, ap);
    va_end(ap);
}

void
sf_log_errno(struct sf_log *l, enum sf_log_level lv, int err, const char *fmt, ...)
{
    if (!sf_log_enabled(l, lv))
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(l, lv, err, fmt, ap);
    va_end(ap);
}

/* ---- access lines (formatted by log_format.c) ------------------------- */

bool
sf_log_access_on(const struct sf_log *l, int site)
{
    int k = site < 0 || site >= SF_CONFIG_MAX_SITES ? l->server_sink : l->site_sink[site];
    return k >= 0 && (size_t)k < l->nsinks;
}

enum sf_log_format
sf_log_access_format(const struct sf_log *l, int site)
{
    if (!sf_log_access_on(l, site))
        return SF_LOG_FORMAT_COMBINED;
    int k = site < 0 || site >= SF_CONFIG_MAX_SITES ? l->server_sink : l->site_sink[site];
    return l->sinks[k]->format;
}

void
sf_log_access(struct sf_log *l, const struct sf_access *a)
{
    if (!sf_log_access_on(l, a->site))
        return;
    bool server = a->site < 0 || a->site >= SF_CONFIG_MAX_SITES;
    struct sf_log_sink *s = l->sinks[server ? l->server_sink : l->site_sink[a->site]];
    struct sf_access v;
    if (s->format == SF_LOG_FORMAT_VHOST_COMBINED && !a->vhost) {
        v = *a;
        v.vhost = server ? NULL : l->site_vhost[a->site];
        a = &v;
    }
    uint64_t sec = a->when_ms / 1000;
    /* logged after its second ended (its request started before): the
     * write at that boundary is past, so it goes now, and ahead of lines
     * of a newer second, which wait for theirs */
    bool late = (a->when_ms + a->duration_ms) / 1000 > sec;
    if (late && s->len && s->sec > sec) {
        char line[SF_LOG_LINE_MAX];
        write_all(s->fd, line, sf_log_format_access(line, sizeof(line), s->format, a));
        return;
    }
    /* one second per buffer (log.h): a line of another second, or one
     * that does not fit, sends what waits first */
    if (s->len && (s->sec != sec || s->len + SF_LOG_LINE_MAX > sizeof(s->buf)))
        flush_sink(s);
    s->sec = sec;
    s->len += sf_log_format_access(s->buf + s->len, sizeof(s->buf) - s->len, s->format, a);
    if (late)
        flush_sink(s);
}
