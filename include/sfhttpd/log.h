/*
 * log.h - the error log (levelled, printf-checked, one line per call) and
 * the access log (combined format, one line per response, buffered).
 * Each worker owns one struct sf_log; nothing here is global.
 */
#ifndef SFHTTPD_LOG_H
#define SFHTTPD_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "sfhttpd/config.h"

struct sf_log {
    int err_fd;              /* error log, default 2 */
    bool err_owned;          /* err_fd is ours to close */
    enum sf_log_level level;
    int access_fd;           /* -1 when the access log is off */
    bool access_owned;
    char abuf[16384];        /* access lines waiting for one write */
    size_t alen;
};

/* Open the logs named by cfg ("-" for stdout/stderr, "off" for no access
 * log). Returns 0, or -errno with the reason written to stderr. */
int sf_log_open(struct sf_log *l, const struct sf_config *cfg);
/* Flush and close; NULL-safe. */
void sf_log_close(struct sf_log *l);
/* Write buffered access lines now (called every second and at exit). */
void sf_log_flush(struct sf_log *l);

void sf_log_msg(struct sf_log *l, enum sf_log_level lv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* As sf_log_msg, with ": strerror(err)" appended (err > 0 or < 0). */
void sf_log_errno(struct sf_log *l, enum sf_log_level lv, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static inline bool
sf_log_enabled(const struct sf_log *l, enum sf_log_level lv)
{
    return lv <= l->level;
}

struct sf_access {
    const char *client;      /* text address */
    time_t when;             /* request start, seconds */
    const char *request_line; size_t request_line_len; /* may be NULL */
    int status;
    uint64_t bytes_sent;     /* body bytes actually sent */
    const char *referer; size_t referer_len;     /* NULL = "-" */
    const char *user_agent; size_t user_agent_len;
};

/* Append one combined-format line (strings are escaped: ", \ and
 * non-printable bytes as \xHH). Flushes when the buffer fills. */
void sf_log_access(struct sf_log *l, const struct sf_access *a);

#endif
