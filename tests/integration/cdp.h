/*
 * cdp.h - a headless Chromium for the integration tests, driven through
 * the DevTools protocol over --remote-debugging-pipe (commands on the
 * browser's fd 3, replies and events from its fd 4, each message a JSON
 * text ended by a NUL byte): no WebSocket, no driver, no download.
 *
 * The browser is Debian's chromium (scripts/deps installs it); a test
 * that needs it fails when it is missing. It runs headless with a fresh
 * profile, no network services of its own (no sync, updates, QUIC or
 * background requests) and, as root, without its sandbox. It is the
 * test's child, killed when the test dies, and stopped by its PID.
 *
 * Replies are found by their id; events are kept (the last CDP_MAX_EVENTS)
 * so that a test can wait for one that came before it asked. Values come
 * back as JSON text: cdp_eval returns a JavaScript expression's value as
 * a string (wrap objects in JSON.stringify). Every wait is bounded.
 */
#ifndef SF_IT_CDP_H
#define SF_IT_CDP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CDP_MAX_EVENTS 256
#define CDP_TIMEOUT_MS 20000

struct cdp {
    pid_t pid;
    int to;    /* our end of the browser's fd 3 */
    int from;  /* our end of its fd 4 */
    char *buf; /* bytes received and not yet split */
    size_t len, cap;
    int next_id;
    char session[128]; /* the page's session (flattened) */
    char profile[PATH_MAX];
    char *events[CDP_MAX_EVENTS]; /* messages without an id, in order */
    size_t nevents;
};

/* Start the browser (its output into log_path, its fresh profile in a
 * new folder under dir, which the caller removes with its own temporary
 * tree, even after a failed test), open a page and attach to it. Fails
 * the test when chromium is missing or does not answer. */
void cdp_start(struct cdp *b, const char *log_path, const char *dir);
/* Close the browser (Browser.close, then SIGKILL by PID after a bounded
 * wait) and remove its profile. */
void cdp_stop(struct cdp *b);

/*
 * Call method on the page (params: a JSON object, or NULL for {}) and
 * wait for the reply: the whole reply message (malloc'ed). An error reply
 * fails the test.
 */
char *cdp_call(struct cdp *b, const char *method, const char *params);
/* The same, formatted. */
char *cdp_callf(struct cdp *b, const char *method, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Forget the events received so far. */
void cdp_clear_events(struct cdp *b);
/* Wait until an event named method has arrived since the last clear;
 * false on timeout. */
bool cdp_wait_event(struct cdp *b, const char *method, int timeout_ms);
/* How many events named method (whose text also holds substr, when not
 * NULL) arrived since the last clear. */
size_t cdp_count_events(const struct cdp *b, const char *method, const char *substr);

/* Go to url and wait for its load event. */
void cdp_navigate(struct cdp *b, const char *url);
/* Evaluate a JavaScript expression in the page (promises awaited); its
 * value as a string (malloc'ed): a string as is, anything else as JSON.
 * An exception fails the test. */
char *cdp_eval(struct cdp *b, const char *expr);
/* A real mouse click (press and release) at the centre of the first
 * element that the CSS selector matches. */
void cdp_click(struct cdp *b, const char *selector);
/* Save a PNG of the viewport. */
void cdp_screenshot(struct cdp *b, const char *path);

/* Append s to out as a JSON string literal (quotes included); false when
 * it does not fit. */
bool cdp_json_quote(char *out, size_t cap, const char *s);

#endif
