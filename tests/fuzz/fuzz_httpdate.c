/*
 * fuzz_httpdate.c - libFuzzer harness for sf_httpdate_parse and
 * sf_httpdate_format. Any accepted input must format back to an
 * IMF-fixdate that parses to the same instant (and, for IMF-fixdate
 * input, equals it apart from the weekday, which recipients tolerate).
 * The first eight bytes, read as a time, must survive format → parse.
 */
#include "sfhttpd/httpdate.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
roundtrip(time_t t)
{
    char buf[SF_HTTPDATE_LEN + 1];
    time_t back;
    sf_httpdate_format(t, buf);
    assert(strlen(buf) == SF_HTTPDATE_LEN);
    assert(sf_httpdate_parse(buf, SF_HTTPDATE_LEN, &back));
    assert(back == t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    time_t t;
    if (sf_httpdate_parse(s, size, &t)) {
        roundtrip(t);

        size_t b = 0, e = size;
        while (b < e && (s[b] == ' ' || s[b] == '\t'))
            b++;
        while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
            e--;
        /* asctime is 24 bytes, IMF-fixdate 29, RFC 850 30 to 33. */
        size_t len = e - b;
        assert(len == 24 || (len >= 29 && len <= 33));
        if (len == SF_HTTPDATE_LEN && s[b + 3] == ',') {
            char buf[SF_HTTPDATE_LEN + 1];
            sf_httpdate_format(t, buf);
            assert(memcmp(buf + 3, s + b + 3, SF_HTTPDATE_LEN - 3) == 0);
        }
    }

    /* Raw bytes as a time inside the four-digit-year range round-trip. */
    if (size >= 8) {
        int64_t v = 0;
        memcpy(&v, data, sizeof(v));
        v %= 253402300800LL; /* |v| <= 9999-12-31 23:59:59 */
        if (v < -62167219200LL)
            v = -62167219200LL;
        if ((int64_t)(time_t)v == v)
            roundtrip((time_t)v);
    }
    return 0;
}
