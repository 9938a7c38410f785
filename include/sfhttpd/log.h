/*
 * log.h - the error log (levelled, printf-checked, one line per call) and
 * the access logs (combined or JSON lines, one per response, buffered).
 * Each worker owns one struct sf_log; nothing here is global.
 *
 * Access lines go to the server's access_log or to their site's own; one
 * destination named by several sites is opened once. Lines are buffered
 * per destination and written whole: a buffer holds whole lines only and
 * goes out with write(2) on an O_APPEND file, so lines from several
 * workers never interleave (on a pipe, in pieces of at most PIPE_BUF
 * bytes, cut between lines). Buffers are flushed when full, by
 * sf_log_flush (the worker calls it every second) and at close.
 *
 * Log and pid files are opened with O_NOFOLLOW: a symbolic link planted
 * at their path is refused (ELOOP, reported as "is a symbolic link"),
 * so a process running as root never writes through one.
 */
#ifndef SFHTTPD_LOG_H
#define SFHTTPD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "sfhttpd/config.h"

/* Longest access-log line, newline included; longer fields are cut. */
#define SF_LOG_LINE_MAX 4096
#define SF_LOG_BUF 16384

/* One access-log destination. */
struct sf_log_sink {
    int fd;
    bool owned; /* fd is ours to close (a file) */
    bool pipe;  /* not a regular file: write <= PIPE_BUF */
    char *path; /* "-" or an absolute path */
    size_t len; /* bytes waiting in buf */
    char buf[SF_LOG_BUF];
};

struct sf_log {
    int err_fd;     /* error log, default 2 */
    bool err_owned; /* err_fd is ours to close */
    char *err_path; /* for sf_log_reopen; NULL for stderr */
    enum sf_log_level level;
    int access_fd; /* the server's access log, -1 when off
                      (informational: sinks own the fds) */
    enum sf_log_format format;
    struct sf_log_sink *sinks[SF_CONFIG_MAX_SITES + 1];
    size_t nsinks;
    int server_sink;                    /* index in sinks, or -1: off */
    int site_sink[SF_CONFIG_MAX_SITES]; /* per site, or -1: off */
    bool tee;                           /* errors and warnings also to
                                           stderr (sf_log_tee) */
};

/* Open the logs named by cfg ("-" for stdout/stderr, "off" for no access
 * log; a site without access_log uses the server's). Returns 0, or
 * -errno with the reason written to stderr (what was opened is closed):
 * -ELOOP for a symbolic link at a log's path. */
int sf_log_open(struct sf_log *l, const struct sf_config *cfg);
/* Only the error log (no access log), quietly: to tell why a start
 * failed when sf_log_open could not open everything. 0 or -errno. */
int sf_log_open_errors(struct sf_log *l, const struct sf_config *cfg);
/* Flush and close; NULL-safe, and safe on a zeroed struct. */
void sf_log_close(struct sf_log *l);
/* Write buffered access lines now (called every second and at exit). */
void sf_log_flush(struct sf_log *l);
/* Flush, then reopen every log file by its path (after logrotate moved
 * it), never through a symbolic link. A file that cannot be opened keeps
 * its old descriptor, and the reason is logged. Returns 0 or the first
 * -errno. */
int sf_log_reopen(struct sf_log *l);

/* While starting (on = true), errors and warnings also go to stderr as
 * "sfhttpd: MESSAGE", so that the reason a start fails reaches the person
 * who started it even when error_log is a file. Nothing changes when the
 * error log already is stderr (error_log = -, or the same file). */
void sf_log_tee(struct sf_log *l, bool on);

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

/* One response, as the access log sees it. Strings are raw client bytes
 * (any bytes at all); the formatter escapes them. */
struct sf_access {
    int site;             /* index in cfg->sites, or -1: the server's
                             log (no site was chosen) */
    const char *client;   /* text address */
    uint64_t when_ms;     /* request start, ms since the epoch */
    uint64_t duration_ms; /* start to last byte (or to the failure) */
    const char *request_line;
    size_t request_line_len; /* may be NULL */
    const char *host;
    size_t host_len; /* NULL = none */
    int status;
    uint64_t bytes_sent;  /* body bytes actually sent */
    uint64_t body_length; /* body bytes promised (Content-Length) */
    bool completed;       /* everything promised was sent */
    const char *referer;
    size_t referer_len; /* NULL = "-" / null */
    const char *user_agent;
    size_t user_agent_len;
};

/*
 * Format one access-log line, newline included, into out (cap bytes;
 * SF_LOG_LINE_MAX is always enough) and return its length, or 0 when it
 * does not fit in cap. Each client-controlled field has its own budget:
 * a long one is cut (between escape sequences and UTF-8 characters,
 * never inside one) without crowding out the others.
 *
 * combined: CLIENT - - [02/Jan/2006:15:04:05 +0000] "REQUEST" STATUS
 * BYTES "REFERER" "USER-AGENT", with ", \ and bytes outside printable
 * ASCII as \xHH.
 *
 * json: {"time":"2006-01-02T15:04:05.000Z","client":..,"host":..,
 * "method":..,"target":..,"protocol":..,"status":N,"bytes_sent":N,
 * "body_length":N,"duration_ms":N,"completed":true|false,
 * "referer":..,"user_agent":..} with absent strings as null. Strings are
 * valid JSON and valid UTF-8 whatever the input: ", \ and control bytes
 * are escaped (\u00XX), valid UTF-8 is kept, every byte of an invalid
 * sequence becomes \ufffd.
 */
size_t sf_log_format_access(char *out, size_t cap, enum sf_log_format fmt,
                            const struct sf_access *a);

/* Format a line (sf_log_format_access, in l->format) and queue it for
 * the site's destination; nothing when that log is off. */
void sf_log_access(struct sf_log *l, const struct sf_access *a);

/* True when a response of site (or -1: the server) would be logged. */
bool sf_log_access_on(const struct sf_log *l, int site);

#endif
