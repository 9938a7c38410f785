/*
 * fuzz_range.c - libFuzzer harness for sf_range_parse. The first byte is
 * max_ranges, the next eight the file size (little-endian); the rest is
 * the header value. Each input is also tried against a few fixed sizes.
 * Asserts the output contract: on OK, 1 <= n <= max_ranges and the ranges
 * lie within the file, sorted, non-overlapping and non-adjacent, asking
 * for no more than size bytes; otherwise n == 0.
 */
#include "sfhttpd/range.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

#define PREFIX 9
#define MAX_RANGES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const char *s, size_t len, uint64_t fsize, unsigned max)
{
    struct sf_range out[MAX_RANGES + 1];
    size_t n = 12345;
    memset(out, 0x5a, sizeof(out));
    enum sf_range_result rc = sf_range_parse(s, len, fsize, max, out, max, &n);

    assert(rc == SF_RANGE_IGNORE || rc == SF_RANGE_OK || rc == SF_RANGE_UNSATISFIABLE);
    if (rc != SF_RANGE_OK) {
        assert(n == 0);
        return;
    }
    assert(n >= 1 && n <= max);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        assert(out[i].first <= out[i].last);
        assert(out[i].last < fsize);
        if (i > 0)
            assert(out[i - 1].last + 1 < out[i].first);
        total += out[i].last - out[i].first + 1;
        assert(total <= fsize);
    }
    /* Nothing written past the capacity given. */
    struct sf_range canary;
    memset(&canary, 0x5a, sizeof(canary));
    assert(memcmp(&out[max], &canary, sizeof(canary)) == 0);

    /* Deterministic, and a larger limit cannot change an OK answer. */
    struct sf_range again[MAX_RANGES];
    size_t n2;
    rc = sf_range_parse(s, len, fsize, MAX_RANGES, again, MAX_RANGES, &n2);
    assert(rc == SF_RANGE_OK && n2 == n);
    assert(memcmp(out, again, n * sizeof(out[0])) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t sizes[] = {0, 1, 2, 10, 10000, UINT64_MAX - 1, UINT64_MAX};
    if (size < PREFIX)
        return 0;
    unsigned max = data[0] % (MAX_RANGES + 1);
    uint64_t fsize = 0;
    for (int i = 0; i < 8; i++)
        fsize |= (uint64_t)data[1 + i] << (8 * i);
    const char *s = (const char *)data + PREFIX;
    size_t len = size - PREFIX;

    check(s, len, fsize, max);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        check(s, len, sizes[i], max);
    return 0;
}
