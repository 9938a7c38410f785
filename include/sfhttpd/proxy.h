/*
 * proxy.h - the PROXY protocol header (HAProxy's proxy-protocol.txt,
 * version 1 text and version 2 binary) that a load balancer puts in front
 * of the first request on a connection to tell us the real client's
 * address. Pure functions: bytes in, addresses out.
 */
#ifndef SFHTTPD_PROXY_H
#define SFHTTPD_PROXY_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* The longest version 1 line, CRLF included ("PROXY UNKNOWN" with two
 * full IPv6 addresses and ports). */
#define SF_PROXY_V1_MAX 107
/* The fixed part of a version 2 header; the address block and TLVs
 * (at most 65535 bytes) follow. */
#define SF_PROXY_V2_HEAD 16

enum sf_proxy_result {
    SF_PROXY_MORE = 0, /* a valid prefix of a header: read more bytes */
    SF_PROXY_OK,       /* a whole, valid header: *consumed bytes long */
    SF_PROXY_BAD       /* not a PROXY header, or a malformed one */
};

struct sf_proxy_info {
    unsigned version; /* 1 or 2 */
    /*
     * AF_INET or AF_INET6: src and dst hold the original TCP connection's
     * endpoints. AF_UNSPEC: keep the socket's own addresses (v1 UNKNOWN,
     * v2 LOCAL such as a health check, and v2 families or transports other
     * than TCP over IPv4/IPv6: UNSPEC, AF_UNIX, UDP).
     */
    int family;
    union {
        struct in_addr v4;
        struct in6_addr v6;
    } src, dst;
    uint16_t src_port, dst_port; /* host byte order */
};

/*
 * Parse a PROXY header at the start of buf (len bytes; need not be
 * NUL-terminated, and may hold request bytes after the header). The
 * version is told by the first byte: 'P' for v1, CR for v2's signature.
 *
 * v1 is strict: "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" with exactly
 * one space between fields, addresses of the announced family (IPv4
 * dotted quads without leading zeros; IPv6 as inet_pton(3) reads it),
 * ports 0-65535 in decimal without sign or leading zeros, and CRLF within
 * the first SF_PROXY_V1_MAX bytes; or "PROXY UNKNOWN" followed by CRLF
 * or by a space and anything else on the line, which is ignored.
 *
 * v2: the 12-byte signature, version 2, command LOCAL or PROXY (other
 * values are BAD). For PROXY: an address family 0-3 and transport 0-2
 * (other values are BAD), a length that covers the address block of the
 * family (12, 36 or 216 bytes for IPv4, IPv6, AF_UNIX), and after that
 * block a whole sequence of TLVs (type, 16-bit length, value), which are
 * skipped. For LOCAL, and PROXY with family UNSPEC, the family byte and
 * the block are skipped unread, as the spec asks.
 *
 * Returns SF_PROXY_MORE while buf holds only a prefix that can still be
 * completed into a valid header (len == 0 included), SF_PROXY_OK with *out
 * filled and *consumed set to the header's length (the request starts at
 * buf + *consumed), or SF_PROXY_BAD. *out and *consumed are written only
 * on SF_PROXY_OK. A v1 prefix is judged field by field; a v2 header is
 * validated once its length is known and then when it is all there.
 */
enum sf_proxy_result sf_proxy_parse(const void *buf, size_t len, struct sf_proxy_info *out,
                                    size_t *consumed);

#endif
