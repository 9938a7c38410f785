/*
 * log.c - error and access logs. Error lines are written at once with a
 * single write(2) (whole lines, never interleaved); access lines are
 * buffered and written in blocks of whole lines.
 */
#include "sfhttpd/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static int
open_append(const char *path, int *fd, bool *owned, int std_fd)
{
    if (strcmp(path, "-") == 0) {
        *fd = std_fd;
        *owned = false;
        return 0;
    }
    int f = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (f < 0)
        return -errno;
    *fd = f;
    *owned = true;
    return 0;
}

int
sf_log_open(struct sf_log *l, const struct sf_config *cfg)
{
    memset(l, 0, sizeof(*l));
    l->err_fd = 2;
    l->access_fd = -1;
    l->level = cfg->log_level;
    const char *err = cfg->error_log ? cfg->error_log : "-";
    int rc = open_append(err, &l->err_fd, &l->err_owned, 2);
    if (rc) {
        fprintf(stderr, "sfhttpd: error_log %s: %s\n", err, strerror(-rc));
        return rc;
    }
    const char *acc = cfg->access_log ? cfg->access_log : "-";
    if (strcmp(acc, "off") != 0) {
        rc = open_append(acc, &l->access_fd, &l->access_owned, 1);
        if (rc) {
            fprintf(stderr, "sfhttpd: access_log %s: %s\n", acc, strerror(-rc));
            return rc;
        }
    }
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

void
sf_log_flush(struct sf_log *l)
{
    if (l->access_fd >= 0 && l->alen > 0)
        write_all(l->access_fd, l->abuf, l->alen);
    l->alen = 0;
}

void
sf_log_close(struct sf_log *l)
{
    if (!l)
        return;
    sf_log_flush(l);
    if (l->access_owned && l->access_fd >= 0)
        close(l->access_fd);
    if (l->err_owned && l->err_fd >= 0)
        close(l->err_fd);
    l->access_fd = -1;
    l->err_fd = 2;
    l->access_owned = l->err_owned = false;
}

static void
vlog(struct sf_log *l, enum sf_log_level lv, int err, const char *fmt, va_list ap)
{
    char line[2048];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    size_t n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ", &tm);
    int k = snprintf(line + n, sizeof(line) - n, " [%s] sfhttpd[%d]: ", level_names[lv],
                     (int)getpid());
    n += (size_t)k;
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

/* Append s escaped for a quoted combined-log field. */
static size_t
put_escaped(char *out, size_t cap, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (!s) {
        if (cap > 0)
            out[o++] = '-';
        return o;
    }
    for (size_t i = 0; i < n && o + 4 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        } else {
            out[o++] = (char)ch;
        }
    }
    return o;
}

void
sf_log_access(struct sf_log *l, const struct sf_access *a)
{
    if (l->access_fd < 0)
        return;
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char line[4096];
    size_t cap = sizeof(line) - 1, n;
    struct tm tm;
    gmtime_r(&a->when, &tm);
    int k = snprintf(line, cap, "%s - - [%02d/%s/%04d:%02d:%02d:%02d +0000] \"", a->client,
                     tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                     tm.tm_sec);
    n = k < 0 ? 0 : (size_t)k;
    if (n > cap - 200)
        n = cap - 200;
    n += put_escaped(line + n, (cap - n) / 3, a->request_line, a->request_line_len);
    k = snprintf(line + n, cap - n, "\" %d %llu \"", a->status,
                 (unsigned long long)a->bytes_sent);
    n += (size_t)k;
    n += put_escaped(line + n, (cap - n) / 2, a->referer, a->referer_len);
    line[n++] = '"';
    line[n++] = ' ';
    line[n++] = '"';
    n += put_escaped(line + n, cap - n - 3, a->user_agent, a->user_agent_len);
    line[n++] = '"';
    line[n++] = '\n';
    if (l->alen + n > sizeof(l->abuf))
        sf_log_flush(l);
    memcpy(l->abuf + l->alen, line, n);
    l->alen += n;
}
