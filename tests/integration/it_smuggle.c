/*
 * it_smuggle.c - the shared table of request-framing shapes
 * (tests/smuggle_cases.h) over real sockets against the real binary. Each
 * row is sent with a valid request for /next.txt after it, once in one
 * write and once a byte per write (TCP_NODELAY), on fresh connections.
 * A malformed row must be answered with its status and Connection: close,
 * after exactly the requests before it, and then the server must close
 * without sending another byte: the request smuggled after it is never
 * answered. A valid row must have all its requests and the tail answered
 * on a connection that stays open.
 */
#include "harness.h"
#include "../smuggle_cases.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
tree_up(void)
{
    it_suite_tree();
    it_put(it_suite.root, "a.txt", "A\n");
    it_put(it_suite.root, "next.txt", "NEXT\n");
}

enum { WHOLE = 0, BYTEWISE, N_MODES };
static const char *const mode_name[N_MODES] = {"one write", "a byte per write"};

/* Open a connection and send the row, then the tail. */
static void
send_row(struct it_conn *c, const struct smuggle_case *sc, int mode)
{
    size_t tail = sizeof(SMUGGLE_TAIL) - 1;
    size_t len = sc->len + tail;
    char *in = malloc(len);

    ck_assert_ptr_nonnull(in);
    memcpy(in, sc->in, sc->len);
    memcpy(in + sc->len, SMUGGLE_TAIL, tail);
    it_conn_open(c, it_suite.srv.port);
    if (mode == WHOLE) {
        it_conn_send(c, in, len);
    } else {
        int one = 1;

        ck_assert_int_eq(setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
        /* the server may answer and stop reading before the last byte:
         * a failed send is fine, the answer is what is checked */
        for (size_t i = 0; i < len; i++)
            if (it_conn_try_send(c, in + i, 1) != 0)
                break;
    }
    free(in);
}

/* Read one response and check it is the 200 for /a.txt (or the tail). */
static void
expect_ok(struct it_conn *c, const struct smuggle_case *sc, int mode, const char *body, unsigned i)
{
    struct it_response r;
    enum it_rd rc = it_read_response(c, &r, false);

    ck_assert_msg(rc == IT_OK, "%s (%s): response %u: read rc %d", sc->name, mode_name[mode], i,
                  (int)rc);
    ck_assert_msg(r.status == 200 && strcmp(r.body, body) == 0,
                  "%s (%s): response %u is %d '%.40s', want 200 '%s'", sc->name, mode_name[mode], i,
                  r.status, r.body, body);
    ck_assert_msg(!it_header_has(&r, "Connection", "close"),
                  "%s (%s): response %u closes the connection", sc->name, mode_name[mode], i);
    it_response_free(&r);
}

START_TEST(t_smuggle_bad)
{
    const struct smuggle_case *sc = &smuggle_bad[_i];

    for (int mode = 0; mode < N_MODES; mode++) {
        struct it_conn c;
        struct it_response r;
        size_t drained = 0;

        send_row(&c, sc, mode);
        for (unsigned i = 0; i < sc->ok; i++)
            expect_ok(&c, sc, mode, "A\n", i);
        enum it_rd rc = it_read_response(&c, &r, false);
        ck_assert_msg(rc == IT_OK, "%s (%s): read rc %d", sc->name, mode_name[mode], (int)rc);
        ck_assert_msg(r.status == sc->status, "%s (%s): status %d, want %d (body %.60s)", sc->name,
                      mode_name[mode], r.status, sc->status, r.body);
        ck_assert_msg(it_header_has(&r, "Connection", "close"),
                      "%s (%s): %d without Connection: close", sc->name, mode_name[mode], r.status);
        it_response_free(&r);
        /* then the close, and not one byte more: nothing after the bad
         * message, the smuggled tail included, is answered */
        ck_assert_msg(it_conn_wait_closed(&c, 5000, &drained), "%s (%s): connection not closed",
                      sc->name, mode_name[mode]);
        ck_assert_msg(drained == 0, "%s (%s): %zu bytes after the error answer", sc->name,
                      mode_name[mode], drained);
        it_conn_close(&c);
    }
    it_server_assert_alive(&it_suite.srv);
}
END_TEST

START_TEST(t_smuggle_good)
{
    const struct smuggle_case *sc = &smuggle_good[_i];

    for (int mode = 0; mode < N_MODES; mode++) {
        struct it_conn c;

        send_row(&c, sc, mode);
        for (unsigned i = 0; i < sc->ok; i++)
            expect_ok(&c, sc, mode, "A\n", i);
        expect_ok(&c, sc, mode, "NEXT\n", sc->ok);
        /* still open, still in step */
        it_conn_send_str(&c, "GET /a.txt HTTP/1.1\r\nHost: h\r\n\r\n");
        expect_ok(&c, sc, mode, "A\n", sc->ok + 1);
        it_conn_close(&c);
    }
}
END_TEST

static Suite *
smuggle_suite(void)
{
    Suite *s = suite_create("it_smuggle");
    TCase *tc = tcase_create("smuggle");

    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, tree_up, it_suite_tree_down);
    tcase_add_checked_fixture(tc, it_suite_srv_up, it_suite_srv_down);
    tcase_add_loop_test(tc, t_smuggle_bad, 0, (int)(sizeof(smuggle_bad) / sizeof(smuggle_bad[0])));
    tcase_add_loop_test(tc, t_smuggle_good, 0,
                        (int)(sizeof(smuggle_good) / sizeof(smuggle_good[0])));
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return it_main(smuggle_suite());
}
