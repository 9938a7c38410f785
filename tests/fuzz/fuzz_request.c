/*
 * fuzz_request.c - libFuzzer harness for the request parser and its read
 * buffer, through sf_request_next and sf_request_advance, the calls
 * conn.c makes (tests/unit/request_run.h plays the socket): the first
 * byte's low five bits are the read size (0: as much as fits), its top
 * three bits pick a limits profile; the rest is what the client sent.
 * request_run.h checks the contract (buffer positions and the held-back
 * CR, spans inside the buffer and the head, status in {0, 400, 413, 414,
 * 431, 501, 505}, no keep-alive after an error, errors sticky, progress);
 * the harness also asserts that reading the same bytes whole gives the
 * same requests and the same answer.
 */
#include "sfhttpd/request.h"

#include "../unit/request_run.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct sf_limits profiles[8] = {
    {8192, 8192, 100, 1 << 20}, /* the defaults */
    {1024, 512, 20, 1000},      {64, 64, 20, 16},    {1024, 16, 20, 1000},   {1024, 512, 3, 1000},
    {1024, 512, 20, 0},         {128, 64, 20, 4096}, {4096, 64, 1, 1 << 20},
};

static bool
same_str(const struct rq_str *a, const struct rq_str *b)
{
    return a->len == b->len && strcmp(a->s, b->s) == 0;
}

static void
check_same(const struct rq_result *a, const struct rq_result *b)
{
    assert(a->status == b->status && a->n == b->n && a->heads == b->heads && a->eof == b->eof &&
           a->closed == b->closed);
    for (unsigned i = 0; i < a->n; i++) {
        const struct rq_req *x = &a->req[i], *y = &b->req[i];
        assert(x->method == y->method && x->major == y->major && x->minor == y->minor);
        assert(x->form == y->form && x->keep_alive == y->keep_alive);
        assert(x->present == y->present && x->nheaders == y->nheaders);
        assert(same_str(&x->line, &y->line) && same_str(&x->target, &y->target) &&
               same_str(&x->path, &y->path));
        for (int h = 0; h < SF_HDR_COUNT; h++)
            assert(same_str(&x->hdr[h], &y->hdr[h]));
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rq_result got, whole;
    if (size < 1)
        return 0;
    size_t chunk = data[0] & 0x1f;
    const struct sf_limits *lim = &profiles[data[0] >> 5];
    const char *in = (const char *)data + 1;
    size_t len = size - 1;

    rq_run(in, len, chunk, lim, &got);
    if (got.bad) {
        fprintf(stderr, "contract breach (chunk %zu): %s\n", chunk, got.bad);
        assert(!"contract breach");
    }
    if (chunk == 0)
        return 0;
    rq_run(in, len, 0, lim, &whole);
    assert(whole.bad == NULL);
    check_same(&got, &whole);
    return 0;
}
