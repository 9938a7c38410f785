/*
 * test_proxy.c - unit tests for the PROXY protocol parser: one table of
 * raw bytes against the expected result, addresses and header length
 * (good v1 and v2 headers, every malformed variant we could think of,
 * prefixes that must wait for more), and for every good row a check that
 * each of its prefixes asks for more rather than failing.
 */
#include "sfhttpd/proxy.h"

#include "sfhttpd/common.h"
#include "unit_util.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum { MORE = SF_PROXY_MORE, OK = SF_PROXY_OK, BAD = SF_PROXY_BAD };
enum { UN = AF_UNSPEC, V4 = AF_INET, V6 = AF_INET6 };

/* A string literal and its length (v2 headers hold NUL bytes). */
#define S(lit) lit, sizeof(lit) - 1

#define SIG "\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A"
#define A4 "\xC0\x00\x02\x01" /* 192.0.2.1 */
#define B4 "\xC6\x33\x64\x07" /* 198.51.100.7 */
#define A6 "\x20\x01\x0D\xB8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
#define B6 "\x20\x01\x0D\xB8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02"
#define P12345 "\x30\x39"
#define P443 "\x01\xBB"
#define FF8 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
#define T4 "PROXY TCP4 192.0.2.1 198.51.100.7 12345 443"
#define REQ "GET / HTTP/1.1\r\nHost: a\r\n\r\n"

static const struct {
    const char *in;
    size_t len;
    int want;
    int family;
    const char *src;
    unsigned sport;
    const char *dst;
    unsigned dport;
    size_t consumed;
} cases[] = {
    /* ---- v1, good ---- */
    {S(T4 "\r\n"), OK, V4, "192.0.2.1", 12345, "198.51.100.7", 443, 45},
    {S(T4 "\r\n" REQ), OK, V4, "192.0.2.1", 12345, "198.51.100.7", 443, 45},
    {S(T4 "\r\n\r\n"), OK, V4, "192.0.2.1", 12345, "198.51.100.7", 443, 45},
    {S("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n"), OK, V4, "255.255.255.255",
     65535, "255.255.255.255", 65535, 56},
    {S("PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n"), OK, V4, "0.0.0.0", 0, "0.0.0.0", 0, 32},
    {S("PROXY TCP4 10.0.0.1 127.0.0.1 1 80\r\nX"), OK, V4, "10.0.0.1", 1, "127.0.0.1", 80, 36},
    {S("PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n"), OK, V6, "2001:db8::1", 1, "2001:db8::2",
     65535, 44},
    {S("PROXY TCP6 " FF8 " " FF8 " 65535 65535\r\n"), OK, V6, FF8, 65535, FF8, 65535, 104},
    {S("PROXY TCP6 ::1 :: 8080 443\r\n" REQ), OK, V6, "::1", 8080, "::", 443, 28},
    {S("PROXY TCP6 2001:DB8::A 1:2:3:4:5:6:7:8 9 10\r\n"), OK, V6, "2001:db8::a", 9,
     "1:2:3:4:5:6:7:8", 10, 45},
    {S("PROXY TCP6 ::ffff:10.0.0.1 1::8 1 2\r\n"), OK, V6, "::ffff:10.0.0.1", 1, "1::8", 2, 37},
    {S("PROXY TCP6 1:2:3:4:5:6:1.2.3.4 1:2:3:4:5:6:7:: 1 2\r\n"), OK, V6, "1:2:3:4:5:6:102:304", 1,
     "1:2:3:4:5:6:7:0", 2, 52},
    {S("PROXY TCP6 0001:0db8:0000:0000:0000:0000:0000:0001 ::1 1 2\r\n"), OK, V6, "1:db8::1", 1,
     "::1", 2, 60},
    {S("PROXY UNKNOWN\r\n"), OK, UN, NULL, 0, NULL, 0, 15},
    {S("PROXY UNKNOWN\r\n" REQ), OK, UN, NULL, 0, NULL, 0, 15},
    {S("PROXY UNKNOWN \r\n"), OK, UN, NULL, 0, NULL, 0, 16},
    {S("PROXY UNKNOWN whatever the proxy says\r\n"), OK, UN, NULL, 0, NULL, 0, 39},
    {S("PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n"), OK, UN, NULL, 0, NULL, 0, 35},
    /* the longest line there is: 107 bytes */
    {S("PROXY UNKNOWN " FF8 " " FF8 " 65535 65535\r\n"), OK, UN, NULL, 0, NULL, 0, 107},

    /* ---- v1, malformed ---- */
    {S("GET / HTTP/1.1\r\n\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("proxy TCP4 192.0.2.1 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXy TCP4 192.0.2.1 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(" PROXY TCP4 192.0.2.1 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXYTCP4 192.0.2.1 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY  TCP4 192.0.2.1 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4  192.0.2.1 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1  198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1 198.51.100.7  12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1 198.51.100.7 12345  443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY\tTCP4 192.0.2.1 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4\t192.0.2.1 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(T4 " \r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(T4 " 7\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(T4 "\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(T4 "\n\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(T4 "\r\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(T4 "\rX\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(T4 "\rX"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1 198.51.100.7 12345\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1 198.51.100.7\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 \r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY \r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    /* an empty line starts like v2's signature, until it does not */
    {S("\r\n"), MORE, 0, NULL, 0, NULL, 0, 0},
    {S("\r\n\r\n\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    /* the protocol word */
    {S("PROXY TCP5 192.0.2.1 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY tcp4 192.0.2.1 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP 192.0.2.1 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP44 192.0.2.1 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY UDP4 192.0.2.1 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY UNKNOWNX\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY UNKNOWN\r\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY UNKNOWN a\rb\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY UNKNOWN\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY unknown\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    /* IPv4 addresses */
    {S("PROXY TCP4 192.0.2 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1.5 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.256 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.01 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.02.1 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 00.0.0.0 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192..2.1 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 .192.0.2 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2. 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1 198.51.100.1000 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 0x7f.0.0.1 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 3221225985 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 +1.2.3.4 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 ::1 ::1 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1 ::1 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1\0 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    /* IPv6 addresses */
    {S("PROXY TCP6 192.0.2.1 198.51.100.7 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 ::1 192.0.2.1 12345 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 [::1] ::1 1 2\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 1:2:3:4:5:6:7::8 ::1 1 2\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 12345::1 ::1 1 2\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 :::1 ::1 1 2\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 1::2::3 ::1 1 2\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 :1::2 ::1 1 2\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 1:: ::1: 1 2\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 g::1 ::1 1 2\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 ::ffff:1.2.3 ::1 1 2\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 ::ffff:01.2.3.4 ::1 1 2\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 ::1.2.3.4:5 ::1 1 2\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 ::a.2.3.4 ::1 1 2\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6  ::1 1 2\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    /* a NUL must not cut an address short for inet_pton (found by fuzzing) */
    {S("PROXY TCP6 ::\0 ::1 1 2\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 ::1 ::1\0junk 1 2\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    /* ports */
    {S("PROXY TCP4 192.0.2.1 198.51.100.7 65536 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1 198.51.100.7 12345 99999\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1 198.51.100.7 123456 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1 198.51.100.7 +80 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1 198.51.100.7 -1 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1 198.51.100.7 080 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1 198.51.100.7 00 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1 198.51.100.7 12345 0443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1 198.51.100.7 0x50 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1 198.51.100.7 12a 443\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1 198.51.100.7 12345 443a\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 192.0.2.1 198.51.100.7 12345 4294967739\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    /* too long: no CRLF within 107 bytes */
    {S("PROXY UNKNOWN " FF8 " " FF8 " 65535 655350\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 0000:0000:0000:0000:0000:ffff:255.255.255.255 "
       "0000:0000:0000:0000:0000:ffff:255.255.255.255 65535 65535\r\n"),
     BAD, 0, NULL, 0, NULL, 0, 0},

    /* ---- v1, prefixes ---- */
    {S(""), MORE, 0, NULL, 0, NULL, 0, 0},
    {S("P"), MORE, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY"), MORE, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY "), MORE, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY UNKNOWN"), MORE, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY UNKNOWN "), MORE, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY UNKNOWN \x01\x02 anything"), MORE, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY UNKNOWN\r"), MORE, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 1.2."), MORE, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 2001:db8::"), MORE, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 ::ffff:1.2."), MORE, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 1.2.3.4 5.6.7.8 0"), MORE, 0, NULL, 0, NULL, 0, 0},
    {S(T4), MORE, 0, NULL, 0, NULL, 0, 0},
    {S(T4 "\r"), MORE, 0, NULL, 0, NULL, 0, 0},
    /* ...and prefixes that can never become a header */
    {S("G"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PRO "), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXYZ"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY X"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4X"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 "), MORE, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 1.2.3.256"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 01"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 1.2.3.4."), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 1.2.3 "), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 1:2:3:4:5:6:7:8:"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 1:2:3:4:5:6:7:8:9"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 1::2:3:4:5:6:7:8"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 12345"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP6 1.2.3.4"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 1.2.3.4 5.6.7.8 65536"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY TCP4 1.2.3.4 5.6.7.8 01"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(T4 " "), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY UNKNOWN x\r "), BAD, 0, NULL, 0, NULL, 0, 0},
    /* 107 bytes without CRLF: too long already; 106: may still end */
    {S("PROXY UNKNOWN " FF8 " " FF8 " 65535 6553500"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("PROXY UNKNOWN " FF8 " " FF8 " 65535 65535\r"), MORE, 0, NULL, 0, NULL, 0, 0},

    /* ---- v2, good ---- */
    {S(SIG "\x21\x11\x00\x0C" A4 B4 P12345 P443), OK, V4, "192.0.2.1", 12345, "198.51.100.7", 443,
     28},
    {S(SIG "\x21\x11\x00\x0C" A4 B4 P12345 P443 REQ), OK, V4, "192.0.2.1", 12345, "198.51.100.7",
     443, 28},
    {S(SIG "\x21\x21\x00\x24" A6 B6 P12345 P443), OK, V6, "2001:db8::1", 12345, "2001:db8::2", 443,
     52},
    {S(SIG "\x21\x21\x00\x24" A6 B6 P12345 P443 "\x0D\x0A"), OK, V6, "2001:db8::1", 12345,
     "2001:db8::2", 443, 52},
    /* TLVs: ALPN "h2", an empty NOOP, a custom one */
    {S(SIG "\x21\x11\x00\x18" A4 B4 P12345 P443 "\x01\x00\x02h2"
           "\x04\x00\x00"
           "\xE0\x00\x01z"),
     OK, V4, "192.0.2.1", 12345, "198.51.100.7", 443, 40},
    {S(SIG "\x21\x21\x00\x28" A6 B6 P12345 P443 "\x04\x00\x01\x00" REQ), OK, V6, "2001:db8::1",
     12345, "2001:db8::2", 443, 56},
    /* LOCAL: the socket's addresses, whatever follows */
    {S(SIG "\x20\x00\x00\x00"), OK, UN, NULL, 0, NULL, 0, 16},
    {S(SIG "\x20\x00\x00\x00" REQ), OK, UN, NULL, 0, NULL, 0, 16},
    {S(SIG "\x20\x11\x00\x0C" A4 B4 P12345 P443), OK, UN, NULL, 0, NULL, 0, 28},
    {S(SIG "\x20\x00\x00\x03xyz"), OK, UN, NULL, 0, NULL, 0, 19},
    {S(SIG "\x20\xFF\x00\x02\x00\x01"), OK, UN, NULL, 0, NULL, 0, 18},
    /* PROXY with families and transports we do not take addresses from */
    {S(SIG "\x21\x00\x00\x00"), OK, UN, NULL, 0, NULL, 0, 16},
    {S(SIG "\x21\x00\x00\x02\x01\x02"), OK, UN, NULL, 0, NULL, 0, 18},
    {S(SIG "\x21\x12\x00\x0C" A4 B4 P12345 P443), OK, UN, NULL, 0, NULL, 0, 28},
    {S(SIG "\x21\x22\x00\x24" A6 B6 P12345 P443), OK, UN, NULL, 0, NULL, 0, 52},
    {S(SIG "\x21\x10\x00\x0C" A4 B4 P12345 P443), OK, UN, NULL, 0, NULL, 0, 28},
    {S(SIG "\x21\x20\x00\x24" A6 B6 P12345 P443), OK, UN, NULL, 0, NULL, 0, 52},
    {S(SIG "\x21\x01\x00\x00"), OK, UN, NULL, 0, NULL, 0, 16},

    /* ---- v2, malformed ---- */
    {S(SIG "\x11\x11\x00\x0C" A4 B4 P12345 P443), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x31\x11\x00\x0C" A4 B4 P12345 P443), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x01\x11\x00\x0C" A4 B4 P12345 P443), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x22\x11\x00\x0C" A4 B4 P12345 P443), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x2F\x11\x00\x0C" A4 B4 P12345 P443), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\x41\x00\x0C" A4 B4 P12345 P443), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\xF1\x00\x0C" A4 B4 P12345 P443), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\x13\x00\x0C" A4 B4 P12345 P443), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\x1F\x00\x0C" A4 B4 P12345 P443), BAD, 0, NULL, 0, NULL, 0, 0},
    /* a length shorter than the address block */
    {S(SIG "\x21\x11\x00\x0B" A4 B4 P12345 "\x01"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\x11\x00\x00"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\x21\x00\x0C" A4 B4 P12345 P443), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\x21\x00\x23" A6 B6 P12345 "\x01"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\x31\x00\x24" A6 B6 P12345 P443), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\x12\x00\x08" A4 B4), BAD, 0, NULL, 0, NULL, 0, 0},
    /* TLVs that do not fit the length */
    {S(SIG "\x21\x11\x00\x0D" A4 B4 P12345 P443 "\x04"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\x11\x00\x0E" A4 B4 P12345 P443 "\x04\x00"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\x11\x00\x0F" A4 B4 P12345 P443 "\x04\x00\x01"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\x11\x00\x10" A4 B4 P12345 P443 "\x04\x00\x02z" REQ), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\x11\x00\x10" A4 B4 P12345 P443 "\x04\xFF\xFFz"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\x11\x00\x11" A4 B4 P12345 P443 "\x04\x00\x00"
           "\x01\x00"
           "\x00\x00"),
     BAD, 0, NULL, 0, NULL, 0, 0},
    /* the signature, one wrong byte at a time */
    {S("\x0D\x0A\x0D\x0A\x01\x0D\x0A\x51\x55\x49\x54\x0A\x21\x00\x00\x00"), BAD, 0, NULL, 0, NULL,
     0, 0},
    {S("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0D\x21\x00\x00\x00"), BAD, 0, NULL, 0, NULL,
     0, 0},
    {S("\x0D\x0D\x0A\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A\x21\x00\x00\x00"), BAD, 0, NULL, 0, NULL,
     0, 0},
    {S("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x71\x75\x69\x74\x0A\x21\x00\x00\x00"), BAD, 0, NULL, 0, NULL,
     0, 0},
    {S("\x0D\x0AGET / HTTP/1.1\r\n"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S("\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A\x21\x00\x00\x00"), BAD, 0, NULL, 0, NULL, 0,
     0},

    /* ---- v2, prefixes ---- */
    {S("\x0D"), MORE, 0, NULL, 0, NULL, 0, 0},
    {S("\x0D\x0A\x0D\x0A\x00"), MORE, 0, NULL, 0, NULL, 0, 0},
    {S(SIG), MORE, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21"), MORE, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\x11\x00"), MORE, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\x11\x00\x0C" A4 B4), MORE, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x20\x00\xFF\xFF"), MORE, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\x11\xFF\xEF" A4 B4 P12345 P443 "\x01\xFF\xE0"), MORE, 0, NULL, 0, NULL, 0, 0},
    /* ...and prefixes already known to be wrong */
    {S(SIG "\x12"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\x51"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\x11\x00\x0B"), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\x11\x00\x0E" A4), BAD, 0, NULL, 0, NULL, 0, 0},
    {S(SIG "\x21\x11\x00\x20" A4 B4 P12345 P443 "\x04\x00\x12"), BAD, 0, NULL, 0, NULL, 0, 0},
};

/* Run the parser on an exact-size copy, so a read past len is caught by
 * ASan (and, without it, cannot see a terminator). */
static enum sf_proxy_result
parse_copy(const char *in, size_t len, struct sf_proxy_info *out, size_t *consumed)
{
    char *buf = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, in, len);
    enum sf_proxy_result rc = sf_proxy_parse(buf, len, out, consumed);
    free(buf);
    return rc;
}

static void
check_addr(int family, const void *addr, const char *want, const char *what, int row)
{
    char text[INET6_ADDRSTRLEN];
    ck_assert_ptr_nonnull(inet_ntop(family, addr, text, sizeof(text)));
    ck_assert_msg(strcmp(text, want) == 0, "row %d: %s %s, want %s", row, what, text, want);
}

START_TEST(test_table)
{
    struct sf_proxy_info out;
    size_t consumed = 999999;
    memset(&out, 0xA5, sizeof(out));
    struct sf_proxy_info canary = out;

    enum sf_proxy_result rc = parse_copy(cases[_i].in, cases[_i].len, &out, &consumed);
    ck_assert_msg((int)rc == cases[_i].want, "row %d: result %d, want %d", _i, (int)rc,
                  cases[_i].want);
    if (rc != SF_PROXY_OK) {
        /* nothing written unless OK */
        ck_assert_uint_eq(consumed, 999999);
        ck_assert(memcmp(&out, &canary, sizeof(out)) == 0);
        return;
    }
    ck_assert_msg(consumed == cases[_i].consumed, "row %d: consumed %zu, want %zu", _i, consumed,
                  cases[_i].consumed);
    ck_assert_uint_eq(out.version, cases[_i].in[0] == 'P' ? 1 : 2);
    ck_assert_int_eq(out.family, cases[_i].family);
    if (out.family == AF_UNSPEC)
        return;
    check_addr(out.family, &out.src, cases[_i].src, "src", _i);
    check_addr(out.family, &out.dst, cases[_i].dst, "dst", _i);
    ck_assert_uint_eq(out.src_port, cases[_i].sport);
    ck_assert_uint_eq(out.dst_port, cases[_i].dport);
}
END_TEST

/* A header that arrives in pieces: every cut of a good one waits. */
START_TEST(test_good_prefixes)
{
    if (cases[_i].want != OK)
        return;
    struct sf_proxy_info out;
    size_t consumed;
    for (size_t k = 0; k < cases[_i].consumed; k++) {
        enum sf_proxy_result rc = parse_copy(cases[_i].in, k, &out, &consumed);
        ck_assert_msg(rc == SF_PROXY_MORE, "row %d cut at %zu: result %d, want MORE", _i, k,
                      (int)rc);
    }
}
END_TEST

/* Once bytes are known to be wrong, more bytes cannot make them right. */
START_TEST(test_bad_stays_bad)
{
    if (cases[_i].want != BAD)
        return;
    struct sf_proxy_info out;
    size_t consumed;
    bool bad = false;
    for (size_t k = 0; k <= cases[_i].len; k++) {
        enum sf_proxy_result rc = parse_copy(cases[_i].in, k, &out, &consumed);
        ck_assert_msg(rc != SF_PROXY_OK, "row %d cut at %zu: OK", _i, k);
        if (bad)
            ck_assert_msg(rc == SF_PROXY_BAD, "row %d cut at %zu: MORE after BAD", _i, k);
        bad = rc == SF_PROXY_BAD;
    }
    ck_assert(bad);
}
END_TEST

/* v2 blocks too long for a table row: AF_UNIX addresses, a large TLV. */
START_TEST(test_v2_large)
{
    static const unsigned char sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                          0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    unsigned char *buf = calloc(1, 70000);
    ck_assert_ptr_nonnull(buf);
    struct sf_proxy_info out;
    size_t consumed = 0;

    /* AF_UNIX stream: 216 address bytes, then nothing */
    memcpy(buf, sig, 12);
    buf[12] = 0x21;
    buf[13] = 0x31;
    buf[14] = 0;
    buf[15] = 216;
    memcpy(buf + 16, "/run/haproxy.sock", 17);
    ck_assert_int_eq(sf_proxy_parse(buf, 16 + 216, &out, &consumed), SF_PROXY_OK);
    ck_assert_int_eq(out.family, AF_UNSPEC);
    ck_assert_uint_eq(consumed, 232);
    ck_assert_int_eq(sf_proxy_parse(buf, 16 + 215, &out, &consumed), SF_PROXY_MORE);
    buf[15] = 215;
    ck_assert_int_eq(sf_proxy_parse(buf, 16 + 215, &out, &consumed), SF_PROXY_BAD);
    /* AF_UNIX datagram with a TLV after the addresses */
    buf[13] = 0x32;
    buf[15] = 219;
    buf[16 + 216] = 0x04;
    ck_assert_int_eq(sf_proxy_parse(buf, 16 + 219, &out, &consumed), SF_PROXY_OK);
    ck_assert_uint_eq(consumed, 235);

    /* TCP over IPv4 with the largest length: one TLV fills the rest */
    memset(buf, 0, 70000);
    memcpy(buf, sig, 12);
    buf[12] = 0x21;
    buf[13] = 0x11;
    buf[14] = 0xFF;
    buf[15] = 0xFF;
    buf[16] = 10;
    buf[23] = 1;
    buf[24] = 0x1F;
    buf[25] = 0x90;
    buf[28] = 0xE0;
    size_t vl = 65535 - 12 - 3;
    buf[29] = (unsigned char)(vl >> 8);
    buf[30] = (unsigned char)vl;
    ck_assert_int_eq(sf_proxy_parse(buf, 16 + 65534, &out, &consumed), SF_PROXY_MORE);
    ck_assert_int_eq(sf_proxy_parse(buf, 16 + 65535 + 100, &out, &consumed), SF_PROXY_OK);
    ck_assert_uint_eq(consumed, 16 + 65535);
    ck_assert_int_eq(out.family, AF_INET);
    ck_assert_uint_eq(out.src_port, 8080);
    check_addr(AF_INET, &out.src, "10.0.0.0", "src", 0);
    check_addr(AF_INET, &out.dst, "0.0.0.1", "dst", 0);
    /* one byte too many in the TLV's length */
    vl++;
    buf[29] = (unsigned char)(vl >> 8);
    buf[30] = (unsigned char)vl;
    ck_assert_int_eq(sf_proxy_parse(buf, 40, &out, &consumed), SF_PROXY_BAD);
    free(buf);
}
END_TEST

/* Every IPv4 number form in every position of a v1 line round-trips. */
START_TEST(test_v1_numbers)
{
    static const unsigned nums[] = {0, 1, 9, 10, 99, 100, 199, 200, 249, 250, 255};
    char line[128];
    struct sf_proxy_info out;
    size_t consumed;
    for (size_t i = 0; i < SF_ARRAY_LEN(nums); i++) {
        int n = snprintf(line, sizeof(line), "PROXY TCP4 %u.%u.%u.%u %u.0.0.%u %u %u\r\n", nums[i],
                         nums[i], nums[i], nums[i], nums[i], nums[i], nums[i], nums[i] * 257);
        ck_assert_int_eq(sf_proxy_parse(line, (size_t)n, &out, &consumed), SF_PROXY_OK);
        ck_assert_uint_eq(consumed, (size_t)n);
        ck_assert_uint_eq(out.src_port, nums[i]);
        ck_assert_uint_eq(out.dst_port, nums[i] * 257);
        ck_assert_uint_eq(ntohl(out.src.v4.s_addr), nums[i] * 0x01010101u);
        ck_assert_uint_eq(ntohl(out.dst.v4.s_addr), nums[i] << 24 | nums[i]);
    }
}
END_TEST

static Suite *
proxy_suite(void)
{
    Suite *s = suite_create("proxy");
    TCase *tc = tcase_create("parse");
    tcase_add_loop_test(tc, test_table, 0, (int)SF_ARRAY_LEN(cases));
    tcase_add_loop_test(tc, test_good_prefixes, 0, (int)SF_ARRAY_LEN(cases));
    tcase_add_loop_test(tc, test_bad_stays_bad, 0, (int)SF_ARRAY_LEN(cases));
    tcase_add_test(tc, test_v2_large);
    tcase_add_test(tc, test_v1_numbers);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return unit_run(proxy_suite());
}
