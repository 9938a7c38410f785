/*
 * lbreak.h - acting on lease breaks: which leased fd stands for which
 * file, who is sending from each file, and the cut or the rescue.
 *
 * When another process opens a leased file for writing or truncates it
 * (lease.h has the kernel side), every user still sending from the file,
 * or whose socket still holds unacknowledged bytes of it, is cut: its
 * abort callback runs, once. Then the lease is released, so the writer
 * proceeds at once, and the file's owner is told. The decision is "bytes
 * still to send", never fstat: the writer has not acted yet when the
 * signal arrives, and bytes queued by sendfile still reference the page
 * cache.
 *
 * With a rescue set up (sf_lbreak_rescue) a user that has rescue
 * callbacks is not cut at once. It stops handing the socket file bytes
 * (hold: and plans a copy of the rest, or says it cannot), and the
 * handler waits, at most the rescue's wait, re-checking every
 * millisecond without blocking, until no byte it already handed over
 * can still be read from the page cache (sockq.h: its send queue and,
 * for a peer on this host, the peer's receive queue are empty). Then,
 * the lease still held, it copies the rest (save) and is kept; one that
 * does not drain in time, or cannot be copied, is cut. Only then is the
 * lease released, and the kept users continue (resume) from their
 * copies: the writer waits at most the wait plus the copies.
 */
#ifndef SFHTTPD_LBREAK_H
#define SFHTTPD_LBREAK_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct sf_file;
struct sf_lbreak;

/*
 * A cut: stop the response at once (reset its socket, so that what is
 * queued is dropped, not delivered: the lease is released right after)
 * and mark it for closing. It runs inside the break handler's one pass
 * over the file's users, so it must not detach or free any user, its own
 * included: the owner detaches it later, from its own event. It may mark
 * other users of its own as cut (sending = false, sock = -1).
 */
typedef void (*sf_file_abort_fn)(void *arg);

/*
 * A user's side of a rescue (see the top). Each runs inside the break
 * handler and, like abort, must not detach or free any user.
 * hold:   a break started while the user is sending: stop handing the
 *         socket bytes and plan a copy of the rest. 0, or -errno: it
 *         cannot be kept (no room for the copy), cut it.
 * save:   its socket drained while the lease holds: take the copy.
 *         0, or -errno: cut it.
 * resume: the lease is released: continue from the copy.
 */
struct sf_file_rescue {
    int (*hold)(void *arg);
    int (*save)(void *arg);
    void (*resume)(void *arg);
};

/* Where a user stands in a pending break (lbreak's own field). */
enum sf_user_break { SF_USER_CALM = 0, SF_USER_WAIT, SF_USER_KEPT };

/*
 * A response's hold on a file (attached with sf_fcache_attach): whom to
 * cut on a lease break. A user is cut when sending, or when its socket
 * sock still has unacknowledged bytes; once cut it reads sending = false
 * and sock = -1 and is never cut again.
 */
struct sf_file_user {
    struct sf_file *file; /* while attached (fcache.h) */
    struct sf_file_user *prev, *next;
    bool sending;
    int sock;
    sf_file_abort_fn abort;
    const struct sf_file_rescue *rescue; /* NULL: a break cuts it */
    void *arg;
    enum sf_user_break brk; /* lbreak's */
};

/* A file as the break handler sees it; embedded in its owner's record,
 * zeroed, then fd = -1. Read-only for the owner. */
struct sf_lbreak_file {
    int fd;        /* the leased fd, or -1: no lease */
    bool snapshot; /* the owner set it: users send a copy
                      read under the lease, a break cuts
                      nobody */
    struct sf_file_user *users;
    /* lbreak's, while a break is pending (a rescue waits for sockets),
     * and its outcome for the owner when told */
    bool breaking;
    uint64_t since_ns, deadline_ns; /* CLOCK_MONOTONIC */
    struct sf_lbreak_file *pnext;   /* pending breaks */
    unsigned ncut, nkept;           /* users cut / continued from a copy */
    unsigned ncut_room, ncut_late;  /* of the cut (with a rescue): no
                                       copy possible, not drained by the
                                       deadline */
    uint64_t held_ns;               /* from the signal to the release */
    uint64_t copy_ns;               /* of which taking the copies */
};

/* Told after a break: lf's users were cut (cut of them; lf->nkept more
 * continue from copies) and its lease released. The owner may now drop
 * the file, lf included. Not told when lf's lease is released while the
 * break is pending (the owner dropped the file: no user was left). */
typedef void (*sf_lbreak_fn)(void *arg, struct sf_lbreak_file *lf, unsigned cut);

/* A break handler with its own signalfd (sf_lease_open_signalfd), telling
 * broken(arg, ...). NULL with *err = -errno when the signalfd cannot be
 * had (or out of memory). */
struct sf_lbreak *sf_lbreak_new(sf_lbreak_fn broken, void *arg, int *err);
/* Close the signalfd. Every lease must have been released first.
 * NULL-safe. */
void sf_lbreak_free(struct sf_lbreak *lb);

/* Rescue users that have rescue callbacks instead of cutting them at
 * once: wait at most wait_ms for their sockets to drain, with a timer on
 * base. Returns 0, or -ENOMEM (then breaks cut as before). */
int sf_lbreak_rescue(struct sf_lbreak *lb, struct event_base *base, unsigned wait_ms);

/* The signalfd to poll for EV_READ. */
int sf_lbreak_fd(const struct sf_lbreak *lb);

/* Take a read lease on fd (sf_lease_take) for lf and watch it for
 * breaks. Returns 0, or -errno (lf unchanged): sf_lease_take's errors,
 * or -ENOMEM. */
int sf_lbreak_take(struct sf_lbreak *lb, struct sf_lbreak_file *lf, int fd);
/* Release lf's lease (the writer proceeds) and stop watching it; lf->fd
 * becomes -1; a pending break of lf ends (its owner is not told). A
 * no-op when lf holds no lease. */
void sf_lbreak_release(struct sf_lbreak *lb, struct sf_lbreak_file *lf);

/* Add u to lf's users / take it out. The owner keeps u->file. */
void sf_lbreak_attach(struct sf_lbreak_file *lf, struct sf_file_user *u);
void sf_lbreak_detach(struct sf_lbreak_file *lf, struct sf_file_user *u);

/*
 * Read the pending break notifications and act on each that is real (a
 * signal can name an fd that was closed and reused: only a lease we hold
 * that is breaking counts; SIGIO means the queue overflowed, and every
 * lease is checked): cut, release, tell the owner. One pass over the
 * users of each file.
 */
void sf_lbreak_on_signal(struct sf_lbreak *lb);

#endif
