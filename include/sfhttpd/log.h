/*
 * log.h - the error log (levelled, printf-checked, one line per call) and
 * the access logs (combined, vhost_combined or JSON lines, one per
 * response, buffered). Each worker owns one struct sf_log; nothing here
 * is global.
 *
 * Access lines go to the server's access_log or to their site's own; one
 * destination named by several sites is opened once, and has one format
 * (sf_config_validate refuses two). Lines are buffered per destination
 * and written whole: a buffer holds whole lines only and goes out with
 * write(2) on an O_APPEND file, so lines from several workers never
 * interleave (on a pipe, in pieces of at most PIPE_BUF bytes, cut between
 * lines).
 *
 * When lines are written: a buffer holds the lines of one second only
 * (the second of their time, the request's start). It is written when a
 * line of another second arrives, when it is full, by sf_log_tick just
 * after the end of its second, and at close; a line whose second was
 * already over when it was logged (its request started in an earlier
 * second) is written at once, ahead of any newer lines that wait. So a
 * line reaches the file at most about a second after its response ended,
 * and with several workers the seconds of the lines never go backwards in
 * the file, except for a request that lasted past the end of its second
 * (a long download is logged with its start time, when it ends) and for
 * a worker held up for a second or more.
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
/* Longest vhost_combined VHOST, escapes and the NUL included. */
#define SF_LOG_VHOST_MAX 256

/* One access-log destination. */
struct sf_log_sink {
    int fd;
    bool owned; /* fd is ours to close (a file) */
    bool pipe;  /* not a regular file: write <= PIPE_BUF */
    char *path; /* "-" or an absolute path */
    enum sf_log_format format;
    uint64_t sec; /* the second (since the epoch) of the lines in buf */
    size_t len;   /* bytes waiting in buf */
    char buf[SF_LOG_BUF];
};

struct sf_log {
    int err_fd;     /* error log, default 2 */
    bool err_owned; /* err_fd is ours to close */
    char *err_path; /* for sf_log_reopen; NULL for stderr */
    enum sf_log_level level;
    int access_fd; /* the server's access log, -1 when off
                      (informational: sinks own the fds) */
    struct sf_log_sink *sinks[SF_CONFIG_MAX_SITES + 1];
    size_t nsinks;
    int server_sink;                       /* index in sinks, or -1: off */
    int site_sink[SF_CONFIG_MAX_SITES];    /* per site, or -1: off */
    char *site_vhost[SF_CONFIG_MAX_SITES]; /* per site, the %v of
                                              vhost_combined, escaped */
    bool tee;                              /* errors and warnings also to
                                              stderr (sf_log_tee) */
};

/* Open the logs named by cfg ("-" for stdout/stderr, "off" for no access
 * log; a site without access_log uses the server's, a site without
 * access_log_format the server's). Returns 0, or -errno with the reason
 * written to stderr (what was opened is closed): -ELOOP for a symbolic
 * link at a log's path, -EINVAL for one destination in two formats. */
int sf_log_open(struct sf_log *l, const struct sf_config *cfg);
/* Only the error log (no access log), quietly: to tell why a start
 * failed when sf_log_open could not open everything. 0 or -errno. */
int sf_log_open_errors(struct sf_log *l, const struct sf_config *cfg);
/* Flush and close; NULL-safe, and safe on a zeroed struct. */
void sf_log_close(struct sf_log *l);
/* Write every buffered access line now (at exit, before a reopen). */
void sf_log_flush(struct sf_log *l);
/* Write the buffered lines whose second is over at now_ms (wall clock, ms
 * since the epoch); the lines of the current second wait for its end, so
 * that they never overtake another worker's lines of the second before.
 * The worker calls it just after every second boundary. */
void sf_log_tick(struct sf_log *l, uint64_t now_ms);
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
    const char *vhost;    /* vhost_combined's %v, already escaped (NULL:
                             "-"); sf_log_access sets it from site */
    unsigned port;        /* the local port the request came in on; 0:
                             none (a Unix socket), logged as "-" */
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
 * ASCII as \xHH. BYTES counts the body bytes sent (nginx's
 * $body_bytes_sent).
 *
 * vhost_combined: VHOST:PORT then the combined line, as Apache's
 * "%v:%p %h %l %u %t \"%r\" %>s %O ..." (goaccess --log-format=VCOMBINED).
 * VHOST is a->vhost (sf_log_vhost_name), PORT a->port or "-".
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

/*
 * vhost_combined's VHOST for a site, into out (cap bytes, NUL-terminated):
 * the site's canonical name, the first of its server_names that is
 * neither a wildcard nor an IPv6 literal; else the label of its section
 * ("docs" for [site docs]); else "-". Space, ':', '"', '\\' and bytes
 * outside printable ASCII are written as \xHH, so the field holds no
 * space and its first ':' ends it.
 */
void sf_log_vhost_name(const struct sf_site *site, char *out, size_t cap);

/* Format a line (sf_log_format_access, in the format of the site's
 * destination) and queue it for that destination; nothing when that log
 * is off. */
void sf_log_access(struct sf_log *l, const struct sf_access *a);

/* True when a response of site (or -1: the server) would be logged. */
bool sf_log_access_on(const struct sf_log *l, int site);
/* The format its line would take (only meaningful when sf_log_access_on). */
enum sf_log_format sf_log_access_format(const struct sf_log *l, int site);

#endif
