/*
 * fuzz_proxy.c - libFuzzer harness for sf_proxy_parse. The input is the
 * bytes a client sends first. Asserts the output contract:
 *
 *  - fed the input cut at every length, the answers are MORE for a while
 *    and then all OK (with the same header length and addresses) or all
 *    BAD: a prefix of a good header never fails, bad bytes never become
 *    good, bytes after the header never change it;
 *  - an OK header is 15..107 bytes (v1) or 16 + its length field (v2),
 *    and *out and *consumed are written only on OK;
 *  - a v1 TCP4 line is exactly what its addresses print as (the grammar
 *    has one spelling), and a v1 TCP6 line printed back with inet_ntop
 *    parses to the same addresses.
 */
#include "sfhttpd/proxy.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Cuts beyond this are sampled, to keep each run short. */
#define ALL_CUTS 512

static bool
same_info(const struct sf_proxy_info *a, const struct sf_proxy_info *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

static void
check_ok(const uint8_t *data, size_t consumed, const struct sf_proxy_info *info)
{
    assert(info->family == AF_UNSPEC || info->family == AF_INET || info->family == AF_INET6);
    if (data[0] == 'P') {
        assert(info->version == 1);
        assert(consumed >= 15 && consumed <= SF_PROXY_V1_MAX);
        assert(data[consumed - 2] == '\r' && data[consumed - 1] == '\n');
        assert(!memchr(data, '\n', consumed - 1));
    } else {
        assert(info->version == 2);
        assert(consumed == SF_PROXY_V2_HEAD + ((size_t)data[14] << 8 | data[15]));
    }
    if (info->version != 1 || info->family == AF_UNSPEC) {
        if (info->family == AF_UNSPEC)
            assert(info->src_port == 0 && info->dst_port == 0);
        return;
    }
    char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], line[160];
    assert(inet_ntop(info->family, &info->src, src, sizeof(src)));
    assert(inet_ntop(info->family, &info->dst, dst, sizeof(dst)));
    int n = snprintf(line, sizeof(line), "PROXY TCP%c %s %s %u %u\r\n",
                     info->family == AF_INET ? '4' : '6', src, dst, info->src_port, info->dst_port);
    assert(n > 0 && (size_t)n < sizeof(line));
    if (info->family == AF_INET) {
        assert((size_t)n == consumed && memcmp(line, data, consumed) == 0);
        return;
    }
    /* inet_ntop's spelling may differ but must mean the same (it can
     * be longer than the original, past the line limit) */
    struct sf_proxy_info again;
    size_t used;
    enum sf_proxy_result rc = sf_proxy_parse(line, (size_t)n, &again, &used);
    if ((size_t)n <= SF_PROXY_V1_MAX) {
        assert(rc == SF_PROXY_OK && used == (size_t)n);
        assert(same_info(info, &again));
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum sf_proxy_result last = SF_PROXY_MORE;
    struct sf_proxy_info first_info;
    size_t first_consumed = 0;

    for (size_t k = 0; k <= size; k++) {
        if (k > ALL_CUTS && k != size && k % 61 != 0)
            continue;
        /* an exact-size copy, so that ASan sees any read past k */
        uint8_t *buf = malloc(k ? k : 1);
        assert(buf);
        memcpy(buf, data, k);
        struct sf_proxy_info info, canary;
        memset(&info, 0x5a, sizeof(info));
        canary = info;
        size_t consumed = (size_t)-1;
        enum sf_proxy_result rc = sf_proxy_parse(buf, k, &info, &consumed);
        assert(rc == SF_PROXY_MORE || rc == SF_PROXY_OK || rc == SF_PROXY_BAD);
        if (rc != SF_PROXY_OK)
            assert(consumed == (size_t)-1 && same_info(&info, &canary));
        switch (last) {
        case SF_PROXY_MORE:
            if (rc == SF_PROXY_OK) {
                assert(consumed == k || k > ALL_CUTS);
                assert(consumed <= k);
                check_ok(buf, consumed, &info);
                first_info = info;
                first_consumed = consumed;
            }
            break;
        case SF_PROXY_OK:
            assert(rc == SF_PROXY_OK && consumed == first_consumed);
            assert(same_info(&info, &first_info));
            break;
        case SF_PROXY_BAD: assert(rc == SF_PROXY_BAD); break;
        }
        last = rc;
        free(buf);
    }
    return 0;
}
