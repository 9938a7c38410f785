/*
 * harness.h - shared helpers for the integration tests: start and stop
 * the real sfhttpd binary on an ephemeral loopback port, talk raw HTTP/1.1
 * to it over sockets with bounded waits, build temporary docroots, hash
 * bodies (SHA-256, nettle's) and run external clients (curl,
 * wget) with a time limit.
 *
 * Every helper that can fail in a way the test cannot recover from fails
 * the current Check test (ck_assert) instead of returning an error. Helpers
 * that observe the server (reading a response, waiting for a close) return
 * a result so the test can assert on it.
 *
 * Process hygiene: the server and external clients are children of the
 * test process (Check forks one per test), keep its process group (Check
 * kills the group when a test ends) and get PR_SET_PDEATHSIG, so a failed
 * test never leaves them running. The harness only ever signals a PID it
 * started itself.
 */
#ifndef SF_IT_HARNESS_H
#define SF_IT_HARNESS_H

#include <check.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#ifndef SFHTTPD_BIN
#error "SFHTTPD_BIN must name the sfhttpd binary under test"
#endif

#define IT_MAX_EXPECT 8
#define IT_MAX_HEADERS 128
#define IT_HEAD_MAX 16384
/* Bytes of a body kept in memory for inspection; all bytes are hashed. */
#define IT_BODY_KEEP (4u << 20)
/* Default receive/send timeout of a test connection. */
#define IT_IO_TIMEOUT_MS 5000

/* ---- time ---------------------------------------------------------- */

/* Monotonic clock in milliseconds. */
int64_t it_now_ms(void);
void it_sleep_ms(int ms);

/* ---- SHA-256 ------------------------------------------------------- */

/* nettle's sha256 (Debian's nettle-dev), behind the harness's names */
struct it_sha256 {
    struct sha256_ctx ctx;
};

void it_sha256_init(struct it_sha256 *s);
void it_sha256_update(struct it_sha256 *s, const void *p, size_t n);
/* Finish and write 64 lower-case hex digits and a NUL to out. */
void it_sha256_hex(struct it_sha256 *s, char out[65]);

/* ---- temporary trees ----------------------------------------------- */

/* Create a fresh directory /tmp/sfhttpd-it-XXXXXX; out gets its path. */
void it_tmpdir(char *out, size_t cap);
/* Remove a tree (no symlink is followed). Missing path is fine. */
void it_rmtree(const char *path);
/* out = dir + "/" + rel. */
void it_join(char *out, size_t cap, const char *dir, const char *rel);
void it_mkdir(const char *path);
void it_write_str(const char *path, const char *s);
/*
 * Deterministic pseudo-random bytes: the byte at absolute offset off
 * depends only on (seed, off), so any slice of a pattern file can be
 * checked. it_write_pattern() writes size bytes of it to path.
 */
void it_fill_pattern(void *buf, size_t len, uint64_t off, uint32_t seed);
void it_write_pattern(const char *path, uint64_t size, uint32_t seed);
/* SHA-256 of the first size bytes of a pattern, without touching disk. */
void it_pattern_sha256(uint64_t size, uint32_t seed, char out[65]);
/* SHA-256 of a file's contents; false when it cannot be read. */
bool it_file_sha256(const char *path, char out[65]);
/* Set a path's mtime (and atime) to t seconds since the epoch. */
void it_set_mtime(const char *path, int64_t t);

/* Write text (or size bytes of pattern seed) to dir/rel. */
void it_put(const char *dir, const char *rel, const char *text);
void it_put_pattern(const char *dir, const char *rel, uint64_t size, uint32_t seed);
/* base gets a fresh temporary folder, 0755 (so that workers switched to
 * nobody may look in), and root base/www, made empty. */
void it_tree_new(char *base, size_t bcap, char *root, size_t rcap);
/* dir gets a fresh folder parent/tXXXXXX, and root dir/www, made empty:
 * one test's tree inside a suite's folder. */
void it_subtree_new(const char *parent, char *dir, size_t dcap, char *root, size_t rcap);

/* ---- processes ----------------------------------------------------- */

/* The children of pid (from /proc/N/stat), at most max into out; their
 * number. */
int it_children_of(pid_t pid, pid_t *out, int max);
/* it_children_of until there are want of them or timeout_ms passed;
 * their number then. */
int it_wait_children(pid_t pid, pid_t *out, int max, int want, int timeout_ms);
/* The ACTIVE read leases pid holds (on the inode of st, or on any file
 * when st is NULL), from the "lock:" lines of /proc/PID/fdinfo/N: one
 * small read per descriptor. Not /proc/locks: that list is read in page
 * sized pieces by position, so a lock that another process takes or
 * drops between two pieces shifts the rest, and ours are skipped or
 * counted twice (1,000 leases held read as 557 to 1,407 while another
 * process took and dropped 500). */
int it_count_leases(pid_t pid, const struct stat *st);
/* The resident set of pid in KiB (VmRSS of /proc/PID/status); fails the
 * test when it cannot be read. */
long it_rss_kib(pid_t pid);
/* The counter key ("syscr", "syscw", "wchar", ...) of /proc/PID/io; fails
 * the test when it cannot be read. */
long long it_proc_io(pid_t pid, const char *key);

/* ---- the server ---------------------------------------------------- */

struct it_server {
    pid_t pid;
    int port;
    int log_fd; /* the server's stdout+stderr (an unlinked temp file) */
    const char *expect[IT_MAX_EXPECT];
    size_t n_expect;
    bool termed; /* SIGTERM already sent */
};

/*
 * Start SFHTTPD_BIN with argv (arguments after the program name,
 * NULL-terminated), stdout and stderr into a temp file, and wait (bounded)
 * for its "listening on http://127.0.0.1:PORT/" line. Zeroes *s first.
 */
void it_server_start(struct it_server *s, const char *const argv[]);
/*
 * Like it_server_start(), through a wrapper command that execs the server
 * in place (so the PID is the server's): wrapper is NULL-terminated, its
 * first element searched in PATH; SFHTTPD_BIN and argv follow it. For
 * example {"setpriv", "--reuid=65534", ..., NULL}.
 */
void it_server_start_wrapped(struct it_server *s, const char *const wrapper[],
                             const char *const argv[]);
/* Quick mode: -l 127.0.0.1:0 --access-log off DIR (plus --log-level L when
 * the environment sets SFHTTPD_IT_LOG_LEVEL=L). */
void it_server_start_dir(struct it_server *s, const char *dir);
/* For servers started after it: ASan lets freed memory go at once instead
 * of holding it in quarantine (which keeps it in the resident set), so a
 * test that measures the server's memory sees the server's own. */
void it_asan_no_quarantine(void);
/* Quick mode with a config file: -c FILE. */
void it_server_start_conf(struct it_server *s, const char *conf);
/* With a config file written to DIR/sfhttpd.conf: a [server] listening on
 * 127.0.0.1:0 without an access log (user = root when root), the lines of
 * server_extra, and one [site] serving root. */
void it_server_start_with(struct it_server *s, const char *dir, const char *server_extra,
                          const char *root);
/*
 * Declare that stderr lines containing substr are expected (of any level).
 * Call after it_server_start().
 */
void it_server_expect(struct it_server *s, const char *substr);
/* Fail the test unless the server process is still running. */
void it_server_assert_alive(struct it_server *s);
/* Send SIGTERM now (once); it_server_stop() then only waits and checks. */
void it_server_term(struct it_server *s);
/*
 * SIGTERM (unless already sent), wait at most 20 s, assert exit status 0,
 * then assert stderr holds only [info]/[debug] lines (or declared ones)
 * and no sanitizer report.
 */
void it_server_stop(struct it_server *s);
/* Copy the server's output so far into buf (NUL-terminated); its length. */
size_t it_server_log(const struct it_server *s, char *buf, size_t cap);

/* ---- a suite's fixture --------------------------------------------- */

/*
 * The fixture most suites share: a tree (it_tree_new: base, and root =
 * base/www, for the suite's files) and the quick-mode server on root.
 * Check's fixtures take no argument, so it is one per test process; a
 * forked test gets its own copy.
 */
struct it_suite {
    char base[PATH_MAX];
    char root[PATH_MAX];
    struct it_server srv;
};
extern struct it_suite it_suite;

void it_suite_tree(void);      /* it_tree_new into it_suite */
void it_suite_tree_down(void); /* remove base */
void it_suite_srv_up(void);    /* it_server_start_dir(&srv, root) */
void it_suite_srv_down(void);  /* it_server_stop(&srv) */

/* ---- raw connections ----------------------------------------------- */

enum it_rd {
    IT_OK = 0,  /* got what was asked for */
    IT_EOF,     /* closed (or reset) before the first byte */
    IT_TIMEOUT, /* no byte within the receive timeout */
    IT_BAD,     /* malformed or truncated response */
};

struct it_conn {
    int fd;
    size_t off, len; /* unread bytes are buf[off, len) */
    unsigned char buf[65536];
};

/*
 * Connect to 127.0.0.1:port with SO_RCVTIMEO/SO_SNDTIMEO of timeout_ms
 * (0: IT_IO_TIMEOUT_MS) and, when rcvbuf > 0, SO_RCVBUF set before
 * connecting. Fails the test if the connection cannot be made.
 */
void it_conn_open_opts(struct it_conn *c, int port, int rcvbuf, int timeout_ms);
void it_conn_open(struct it_conn *c, int port);
/* Try to connect to 127.0.0.1:port: a socket fd, or -errno. */
int it_try_connect(int port);
/* The local port of a connected IPv4 socket. */
unsigned it_local_port(int fd);
/* The TCP state (TCP_ESTABLISHED, TCP_SYN_RECV, ... of netinet/tcp.h) that
 * /proc/net/tcp shows for the server's side of the IPv4 connection from
 * client port cport to server port sport; -1 when it has no such entry. */
int it_tcp_state(unsigned sport, unsigned cport);
/* it_tcp_state once the kernel shows the connection (bounded wait: it
 * appears when the client's connect returns, on the server's side a moment
 * later); -1 if it never does. */
int it_tcp_state_wait(unsigned sport, unsigned cport);
/* Send all bytes; fail the test on error or timeout. */
void it_conn_send(struct it_conn *c, const void *p, size_t n);
void it_conn_send_str(struct it_conn *c, const char *s);
/* Send all bytes; 0 or -errno (EPIPE/ECONNRESET when the server closed). */
int it_conn_try_send(struct it_conn *c, const void *p, size_t n);
/*
 * Wait up to timeout_ms for the server to close, discarding any bytes
 * (their count goes to *drained when not NULL). True when closed or
 * reset, false on timeout.
 */
bool it_conn_wait_closed(struct it_conn *c, int timeout_ms, size_t *drained);
/* Read until close or timeout into buf (NUL-terminated); closed or not. */
bool it_conn_read_all(struct it_conn *c, char *buf, size_t cap, size_t *len);
/* Close normally (FIN); it_conn_abort() closes with a reset (RST). Both
 * are no-ops on a closed connection. */
void it_conn_close(struct it_conn *c);
void it_conn_abort(struct it_conn *c);

/* ---- responses ----------------------------------------------------- */

struct it_header {
    const char *name;
    const char *value;
};

struct it_response {
    int status;
    int minor; /* HTTP/1.minor */
    char reason[128];
    char head[IT_HEAD_MAX + 1]; /* raw head, NUL-terminated */
    size_t head_len;
    char hbuf[IT_HEAD_MAX + 1]; /* storage for parsed names/values */
    struct it_header hdr[IT_MAX_HEADERS];
    size_t n_hdr;
    int64_t content_length; /* -1 when absent */
    bool no_body;           /* HEAD, 1xx, 204 or 304 */
    bool until_close;       /* body delimited by the close */
    char *body;             /* first body bytes, NUL-terminated, malloc */
    size_t body_kept;
    uint64_t body_len; /* body bytes received so far */
    bool complete;     /* the whole body was received */
    bool closed;       /* the server closed while we read */
    bool no_hash;      /* set by the caller: count, do not hash */
    struct it_sha256 sha;
    char sha256[65]; /* hex digest once complete */
};

/*
 * Read a response head (status line and headers, strict CRLF framing).
 * head_request: the request was HEAD, so no body follows.
 */
enum it_rd it_read_head(struct it_conn *c, struct it_response *r, bool head_request);
/*
 * Read body bytes until body_len reaches limit or the body ends, hashing
 * everything. IT_BAD when the server closes before Content-Length bytes.
 */
enum it_rd it_read_body(struct it_conn *c, struct it_response *r, uint64_t limit);
/* Head and the whole body. */
enum it_rd it_read_response(struct it_conn *c, struct it_response *r, bool head_request);
void it_response_free(struct it_response *r);
/* First header with that name (case-insensitive), or NULL. */
const char *it_header(const struct it_response *r, const char *name);
size_t it_header_count(const struct it_response *r, const char *name);
/* True when the value of header name contains token (case-insensitive). */
bool it_header_has(const struct it_response *r, const char *name, const char *token);

/*
 * One connection: send raw bytes, read one response (HEAD when raw starts
 * with "HEAD "), close. The response must be freed.
 */
enum it_rd it_request(int port, const char *raw, struct it_response *r);
/* GET path with Host and Connection: close; fails the test unless IT_OK. */
void it_get(int port, const char *path, struct it_response *r);

/* ---- external programs -------------------------------------------- */

/*
 * Run argv[0] (PATH search) with stdin from /dev/null and stdout+stderr
 * into out_path (or /dev/null when NULL). Kill it by PID after timeout_s.
 * Returns its exit status, or -1 when it was killed or timed out.
 */
int it_run(const char *const argv[], int timeout_s, const char *out_path);

/*
 * Start argv[0] (PATH search) in the background, as it_run does (stdin
 * /dev/null, stdout+stderr into out_path or /dev/null, killed when the
 * test dies); its PID.
 */
pid_t it_spawn(const char *const argv[], const char *out_path);
/*
 * Send sig (0: none) to pid, a child it_spawn started, and wait at most
 * timeout_ms for it (then SIGKILL). Its exit status, or -1 when it was
 * killed by a signal or timed out.
 */
int it_finish(pid_t pid, int sig, int timeout_ms);

/* ---- running a suite ----------------------------------------------- */

/* Run a suite in fork mode; EXIT_SUCCESS when nothing failed. */
int it_main(Suite *s);

#endif
