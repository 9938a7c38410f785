/*
 * cdp.c - a headless Chromium over the DevTools pipe (see cdp.h).
 *
 * The JSON handling is the least that this protocol needs: a reply is
 * recognised by its leading {"id":N, (Chromium writes the id first), a
 * value is found by its key and read as a string literal with every
 * escape JSON has. Nothing here parses JSON in general.
 */
#include "cdp.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- JSON bits ------------------------------------------------------- */

bool
cdp_json_quote(char *out, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (n + 1 >= cap)                                                                          \
            return false;                                                                          \
        out[n++] = (c);                                                                            \
    } while (0)
    PUT('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            PUT('\\');
            PUT((char)*p);
        } else if (*p < 0x20) {
            PUT('\\');
            PUT('u');
            PUT('0');
            PUT('0');
            PUT(hex[*p >> 4]);
            PUT(hex[*p & 15]);
        } else {
            PUT((char)*p);
        }
    }
    PUT('"');
#undef PUT
    out[n] = '\0';
    return true;
}

static void
put_utf8(char **o, unsigned cp)
{
    unsigned char *u = (unsigned char *)*o;
    if (cp < 0x80) {
        *u++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *u++ = (unsigned char)(0xC0 | cp >> 6);
        *u++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *u++ = (unsigned char)(0xE0 | cp >> 12);
        *u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *u++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        *u++ = (unsigned char)(0xF0 | cp >> 18);
        *u++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        *u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *u++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    *o = (char *)u;
}

static unsigned
hex4(const char *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v = v * 16 + (unsigned)(c >= '0' && c <= '9'   ? c - '0'
                                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                       : 0);
    }
    return v;
}

/* The string literal at p (p at its opening quote), unescaped, malloc'ed;
 * *end past its closing quote. NULL when p is not a string. */
static char *
json_string(const char *p, const char **end)
{
    if (*p != '"')
        return NULL;
    const char *q = p + 1;
    char *out = malloc(strlen(p) + 1), *o = out;
    ck_assert_ptr_nonnull(out);
    while (*q && *q != '"') {
        if (*q != '\\') {
            *o++ = *q++;
            continue;
        }
        q++;
        switch (*q) {
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case 'r': *o++ = '\r'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'u': {
            unsigned cp = hex4(q + 1);
            q += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && q[1] == '\\' && q[2] == 'u') {
                unsigned lo = hex4(q + 3);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                q += 6;
            }
            put_utf8(&o, cp);
            break;
        }
        default: *o++ = *q; break; /* " \ / */
        }
        if (*q)
            q++;
    }
    *o = '\0';
    if (end)
        *end = *q ? q + 1 : q;
    return out;
}

/* The value of "key": in msg (after from), as text: a string unescaped, a
 * number, true, false or null as written. NULL when absent. */
static char *
json_value(const char *msg, const char *key)
{
    char needle[128];
    snprintf(needle, sizeof(needle), "\"%s\":", key);
    const char *p = strstr(msg, needle);
    if (!p)
        return NULL;
    p += strlen(needle);
    if (*p == '"')
        return json_string(p, NULL);
    size_t n = strcspn(p, ",}]");
    char *v = strndup(p, n);
    ck_assert_ptr_nonnull(v);
    return v;
}

/* ---- the pipe -------------------------------------------------------- */

static void
send_msg(struct cdp *b, const char *msg)
{
    size_t n = strlen(msg) + 1, done = 0; /* the NUL ends the message */
    while (done < n) {
        ssize_t w = write(b->to, msg + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        ck_assert_msg(w > 0, "write to chromium: %s", strerror(errno));
        done += (size_t)w;
    }
}

/* The next message (malloc'ed), waiting until deadline; NULL on timeout
 * or when the browser is gone. */
static char *
next_msg(struct cdp *b, int64_t deadline)
{
    for (;;) {
        char *nul = b->len ? memchr(b->buf, '\0', b->len) : NULL;
        if (nul) {
            size_t n = (size_t)(nul - b->buf);
            char *m = malloc(n + 1);
            ck_assert_ptr_nonnull(m);
            memcpy(m, b->buf, n + 1);
            memmove(b->buf, nul + 1, b->len - n - 1);
            b->len -= n + 1;
            return m;
        }
        int left = (int)(deadline - now_ms());
        if (left <= 0)
            return NULL;
        struct pollfd pf = {.fd = b->from, .events = POLLIN};
        int r = poll(&pf, 1, left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return NULL;
        if (b->cap - b->len < 65536) {
            b->cap = b->cap * 2 + 65536;
            b->buf = realloc(b->buf, b->cap);
            ck_assert_ptr_nonnull(b->buf);
        }
        ssize_t got = read(b->from, b->buf + b->len, b->cap - b->len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return NULL;
        b->len += (size_t)got;
    }
}

static void
keep_event(struct cdp *b, char *m)
{
    if (b->nevents == CDP_MAX_EVENTS) {
        free(b->events[0]);
        memmove(b->events, b->events + 1, (CDP_MAX_EVENTS - 1) * sizeof(b->events[0]));
        b->nevents--;
    }
    b->events[b->nevents++] = m;
}

/* Send {"id":N,"method":...,"params":...} (to the page unless browser)
 * and wait for reply N, keeping events that come meanwhile. */
static char *
call(struct cdp *b, bool browser, const char *method, const char *params)
{
    int id = ++b->next_id;
    size_t cap = strlen(method) + (params ? strlen(params) : 2) + 256;
    char *msg = malloc(cap);
    ck_assert_ptr_nonnull(msg);
    if (browser || !b->session[0])
        snprintf(msg, cap, "{\"id\":%d,\"method\":\"%s\",\"params\":%s}", id, method,
                 params ? params : "{}");
    else
        snprintf(msg, cap, "{\"id\":%d,\"method\":\"%s\",\"params\":%s,\"sessionId\":\"%s\"}", id,
                 method, params ? params : "{}", b->session);
    send_msg(b, msg);
    free(msg);
    char want[32];
    int wn = snprintf(want, sizeof(want), "{\"id\":%d,", id);
    int64_t deadline = now_ms() + CDP_TIMEOUT_MS;
    for (;;) {
        char *m = next_msg(b, deadline);
        ck_assert_msg(m != NULL, "chromium: no reply to %s within %d ms", method, CDP_TIMEOUT_MS);
        if (strncmp(m, want, (size_t)wn) == 0) {
            ck_assert_msg(strncmp(m + wn, "\"error\":", 8) != 0, "chromium: %s failed: %.500s",
                          method, m);
            return m;
        }
        if (strncmp(m, "{\"id\":", 6) == 0)
            free(m); /* a reply to an earlier call we gave up on */
        else
            keep_event(b, m);
    }
}

char *
cdp_call(struct cdp *b, const char *method, const char *params)
{
    return call(b, false, method, params);
}

char *
cdp_callf(struct cdp *b, const char *method, const char *fmt, ...)
{
    char params[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(params, sizeof(params), fmt, ap);
    va_end(ap);
    ck_assert_msg(n >= 0 && (size_t)n < sizeof(params), "cdp params too long");
    return call(b, false, method, params);
}

void
cdp_clear_events(struct cdp *b)
{
    for (size_t i = 0; i < b->nevents; i++)
        free(b->events[i]);
    b->nevents = 0;
}

static bool
is_event(const char *m, const char *method)
{
    char needle[160];
    snprintf(needle, sizeof(needle), "\"method\":\"%s\"", method);
    return strstr(m, needle) != NULL;
}

size_t
cdp_count_events(const struct cdp *b, const char *method, const char *substr)
{
    size_t n = 0;
    for (size_t i = 0; i < b->nevents; i++)
        if (is_event(b->events[i], method) && (!substr || strstr(b->events[i], substr)))
            n++;
    return n;
}

bool
cdp_wait_event(struct cdp *b, const char *method, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        if (cdp_count_events(b, method, NULL))
            return true;
        char *m = next_msg(b, deadline);
        if (!m)
            return false;
        if (strncmp(m, "{\"id\":", 6) == 0)
            free(m);
        else
            keep_event(b, m);
    }
}

/* ---- the browser ----------------------------------------------------- */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* In the child: fds 3 and 4 are the pipe ends, the rest closes on exec. */
static void
child(int in, int out, int log, const char *profile)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int a = fcntl(in, F_DUPFD, 10), c = fcntl(out, F_DUPFD, 10);
    int devnull = open("/dev/null", O_RDONLY);
    if (a < 0 || c < 0 || devnull < 0 || dup2(devnull, 0) < 0 || dup2(log, 1) < 0 ||
        dup2(log, 2) < 0 || dup2(a, 3) < 0 || dup2(c, 4) < 0)
        _exit(127);
    /* its own temporary files go with the profile too */
    setenv("TMPDIR", profile, 1);
    char udd[PATH_MAX + 32];
    snprintf(udd, sizeof(udd), "--user-data-dir=%s", profile);
    char *argv[] = {"chromium", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-dev-shm-usage", "--disable-extensions",
                    "--no-default-browser-check", "--mute-audio", "--hide-scrollbars",
                    "--autoplay-policy=no-user-gesture-required", udd, "--remote-debugging-pipe",
                    "about:blank",
                    /* the sandbox cannot run as root */
                    geteuid() == 0 ? "--no-sandbox" : NULL, NULL};
    execvp(argv[0], argv);
    dprintf(2, "cdp: exec chromium: %s\n", strerror(errno));
    _exit(127);
}

void
cdp_start(struct cdp *b, const char *log_path, const char *dir)
{
    memset(b, 0, sizeof(*b));
    b->pid = -1;
    ck_assert_msg(system("command -v chromium >/dev/null 2>&1") == 0,
                  "chromium is not installed (scripts/deps installs it)");
    snprintf(b->profile, sizeof(b->profile), "%s/chromium-XXXXXX", dir);
    ck_assert_ptr_nonnull(mkdtemp(b->profile));
    int to[2], from[2];
    ck_assert_int_eq(pipe2(to, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(from, O_CLOEXEC), 0);
    int log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(log, 0);
    b->pid = fork();
    ck_assert_int_ge(b->pid, 0);
    if (b->pid == 0)
        child(to[0], from[1], log, b->profile);
    close(log);
    close(to[0]);
    close(from[1]);
    b->to = to[1];
    b->from = from[0];
    signal(SIGPIPE, SIG_IGN);

    /* a page of our own, attached in flat mode */
    char *r = call(b, true, "Target.createTarget", "{\"url\":\"about:blank\"}");
    char *target = json_value(r, "targetId");
    ck_assert_ptr_nonnull(target);
    free(r);
    char params[256];
    snprintf(params, sizeof(params), "{\"targetId\":\"%s\",\"flatten\":true}", target);
    free(target);
    r = call(b, true, "Target.attachToTarget", params);
    char *session = json_value(r, "sessionId");
    ck_assert_ptr_nonnull(session);
    snprintf(b->session, sizeof(b->session), "%s", session);
    free(session);
    free(r);
    free(cdp_call(b, "Page.enable", NULL));
    free(cdp_call(b, "Runtime.enable", NULL));
}

void
cdp_stop(struct cdp *b)
{
    if (b->pid > 0) {
        /* ask politely; its reply may never come, so do not wait for it */
        char msg[64];
        snprintf(msg, sizeof(msg), "{\"id\":%d,\"method\":\"Browser.close\"}", ++b->next_id);
        if (write(b->to, msg, strlen(msg) + 1) < 0) {
            /* gone already */
        }
        int status;
        int64_t end = now_ms() + 10000;
        while (waitpid(b->pid, &status, WNOHANG) == 0 && now_ms() < end)
            usleep(20000);
        if (waitpid(b->pid, &status, WNOHANG) == 0) {
            kill(b->pid, SIGKILL);
            waitpid(b->pid, &status, 0);
        }
        b->pid = -1;
    }
    close(b->to);
    close(b->from);
    cdp_clear_events(b);
    free(b->buf);
    b->buf = NULL;
    if (b->profile[0])
        nftw(b->profile, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    b->profile[0] = '\0';
}

/* ---- page helpers ---------------------------------------------------- */

void
cdp_navigate(struct cdp *b, const char *url)
{
    char q[4096];
    ck_assert(cdp_json_quote(q, sizeof(q), url));
    cdp_clear_events(b);
    free(cdp_callf(b, "Page.navigate", "{\"url\":%s}", q));
    ck_assert_msg(cdp_wait_event(b, "Page.loadEventFired", CDP_TIMEOUT_MS), "%s did not load", url);
}

char *
cdp_eval(struct cdp *b, const char *expr)
{
    size_t cap = strlen(expr) * 6 + 64;
    char *q = malloc(cap);
    ck_assert_ptr_nonnull(q);
    ck_assert(cdp_json_quote(q, cap, expr));
    char *params = malloc(cap + 128);
    ck_assert_ptr_nonnull(params);
    snprintf(params, cap + 128, "{\"expression\":%s,\"returnByValue\":true,\"awaitPromise\":true}",
             q);
    free(q);
    char *r = cdp_call(b, "Runtime.evaluate", params);
    free(params);
    ck_assert_msg(strstr(r, "\"exceptionDetails\"") == NULL, "evaluate %.200s: %.1000s", expr, r);
    char *v = json_value(r, "value");
    ck_assert_msg(v != NULL, "evaluate %.200s: no value in %.500s", expr, r);
    free(r);
    return v;
}

void
cdp_click(struct cdp *b, const char *selector)
{
    char expr[1024], sel[512];
    ck_assert(cdp_json_quote(sel, sizeof(sel), selector));
    snprintf(expr, sizeof(expr),
             "(() => { const e = document.querySelector(%s); if (!e) return 'none';"
             " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
             " return (r.left + r.width / 2) + ' ' + (r.top + r.height / 2); })()",
             sel);
    char *at = cdp_eval(b, expr);
    double x, y;
    ck_assert_msg(sscanf(at, "%lf %lf", &x, &y) == 2, "no element %s (%s)", selector, at);
    free(at);
    static const char *const kinds[] = {"mousePressed", "mouseReleased"};
    for (int i = 0; i < 2; i++)
        free(cdp_callf(
            b, "Input.dispatchMouseEvent",
            "{\"type\":\"%s\",\"x\":%.1f,\"y\":%.1f,\"button\":\"left\",\"clickCount\":1}",
            kinds[i], x, y));
}

static int
b64(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

void
cdp_screenshot(struct cdp *b, const char *path)
{
    char *r = cdp_call(b, "Page.captureScreenshot", "{\"format\":\"png\"}");
    char *data = json_value(r, "data");
    ck_assert_ptr_nonnull(data);
    free(r);
    size_t n = strlen(data), o = 0;
    unsigned char *png = malloc(n);
    ck_assert_ptr_nonnull(png);
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64((unsigned char)data[i]);
        if (v < 0)
            continue; /* '=' padding */
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            png[o++] = (unsigned char)(acc >> bits);
        }
    }
    free(data);
    ck_assert_msg(o > 8 && memcmp(png, "\x89PNG", 4) == 0, "not a PNG");
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(png, 1, o, f), o);
    ck_assert_int_eq(fclose(f), 0);
    free(png);
}
