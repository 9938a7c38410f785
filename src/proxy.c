/*
 * proxy.c - the PROXY protocol header, v1 (one text line) and v2
 * (binary), as HAProxy's proxy-protocol.txt describes them. Pure: the
 * connection reads the bytes, this file only judges them.
 *
 * Strictness is the point: a listener with the PROXY protocol on trusts
 * the addresses it is told, so anything that does not match the grammar
 * exactly is refused. And the connection must know as early as possible
 * that bytes can never become a header (a plain HTTP request, a scanner),
 * so a prefix is judged field by field as it arrives: MORE only while the
 * bytes so far can still be completed into a valid header.
 */
#include "sfhttpd/proxy.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

/* ---- version 1 ------------------------------------------------------ */

/* Longest IPv4 and IPv6 texts: "255.255.255.255" and six groups with a
 * dotted quad, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255". */
#define IP4_MAX 15
#define IP6_MAX 45

enum v1_proto { V1_TCP4, V1_TCP6, V1_UNKNOWN };

static const char *const v1_protos[] = {"TCP4", "TCP6", "UNKNOWN"};

static bool
is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool
is_xdigit(char ch)
{
    return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* s[0, n) is word, or (partial) a prefix of it. */
static bool
word_ok(const char *s, size_t n, const char *word, bool whole)
{
    size_t wl = strlen(word);
    if (whole ? n != wl : n > wl)
        return false;
    return memcmp(s, word, n) == 0;
}

/*
 * A dotted quad, or (partial) a prefix of one: four decimal numbers of
 * 0-255 without leading zeros (the spec forbids them to avoid any
 * confusion with octal), one dot between each.
 */
static bool
ip4_ok(const char *s, size_t n, bool whole)
{
    unsigned dots = 0, val = 0;
    size_t digits = 0;
    if (n > IP4_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (is_digit(s[i])) {
            if (digits && val == 0)
                return false;
            val = val * 10 + (unsigned)(s[i] - '0');
            if (val > 255)
                return false;
            digits++;
        } else if (s[i] == '.') {
            if (!digits || ++dots > 3)
                return false;
            digits = 0;
            val = 0;
        } else {
            return false;
        }
    }
    return !whole || (dots == 3 && digits);
}

/*
 * Can s[0, n) still be completed into an IPv6 address that inet_pton
 * accepts? Tracks what inet_pton would: 16-bit groups stored so far, one
 * "::" at most (standing for at least one group), at most four hex digits
 * a group, and a dotted quad only as the last 32 bits. Whole addresses
 * are checked by inet_pton itself.
 */
static bool
ip6_prefix_ok(const char *s, size_t n)
{
    size_t bytes = 0, digits = 0;
    bool dbl = false, dec = true;
    if (n > IP6_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (is_xdigit(ch)) {
            if (++digits > 4)
                return false;
            if (!is_digit(ch))
                dec = false;
        } else if (ch == ':') {
            if (i == 0) {
                /* a leading colon is only the start of "::" */
                if (n > 1 && s[1] != ':')
                    return false;
            } else if (digits == 0) {
                if (dbl)
                    return false;
                dbl = true;
            } else {
                bytes += 2;
                if (bytes > 16 || (dbl && bytes >= 16))
                    return false;
                digits = 0;
                dec = true;
            }
        } else if (ch == '.') {
            /* the group so far is the dotted quad's first number */
            if (digits == 0 || !dec)
                return false;
            if (dbl ? bytes + 4 >= 16 : bytes + 4 != 16)
                return false;
            return ip4_ok(s + i - digits, n - i + digits, false);
        } else {
            return false;
        }
    }
    if (digits && (dbl ? bytes + 2 >= 16 : bytes + 2 > 16))
        return false;
    /* eight groups and a colon: neither a ninth group nor "::" fits */
    if (n && s[n - 1] == ':' && digits == 0 && bytes == 16)
        return false;
    return true;
}

/* Convert a whole address field of the given family into out. */
static bool
addr_parse(const char *s, size_t n, int family, void *out)
{
    char tmp[IP6_MAX + 1];
    /* the character checks also keep a NUL from cutting the copy short */
    if (family == AF_INET ? !ip4_ok(s, n, true) : !ip6_prefix_ok(s, n))
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return inet_pton(family, tmp, out) == 1;
}

/* A port: 0-65535 in decimal, no sign, no leading zero; or a prefix. */
static bool
port_ok(const char *s, size_t n, bool whole, uint16_t *port)
{
    unsigned val = 0;
    if (n > 5 || (whole && n == 0) || (n > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
        val = val * 10 + (unsigned)(s[i] - '0');
    }
    if (val > 65535)
        return false;
    *port = (uint16_t)val;
    return true;
}

/*
 * Judge the line s[0, n) without its CRLF. complete: the CRLF follows, so
 * the last field is whole; else the line is still arriving and its last
 * field may be cut anywhere. Fields: PROXY, the protocol, then for TCP4
 * and TCP6 two addresses and two ports, one space between each.
 */
static bool
v1_line(const char *s, size_t n, bool complete, struct sf_proxy_info *info)
{
    enum v1_proto proto = V1_UNKNOWN;
    int family = AF_UNSPEC;
    size_t i = 0;
    memset(info, 0, sizeof(*info));
    info->version = 1;
    info->family = AF_UNSPEC;
    for (unsigned k = 0;; k++) {
        const char *f = s + i;
        const char *sp = memchr(f, ' ', n - i);
        size_t fl = sp ? (size_t)(sp - f) : n - i;
        bool whole = sp || complete;
        bool ok = false;
        switch (k) {
        case 0: ok = word_ok(f, fl, "PROXY", whole); break;
        case 1:
            for (unsigned p = 0; p < 3; p++) {
                if (word_ok(f, fl, v1_protos[p], whole)) {
                    ok = true;
                    proto = (enum v1_proto)p;
                    break;
                }
            }
            if (ok && whole && proto == V1_UNKNOWN) {
                /* the rest of the line is ignored, but a CR belongs
                 * only at its end */
                return !memchr(f + fl, '\r', n - i - fl);
            }
            family = proto == V1_TCP4 ? AF_INET : AF_INET6;
            break;
        case 2:
        case 3:
            if (!whole)
                ok = family == AF_INET ? ip4_ok(f, fl, false) : ip6_prefix_ok(f, fl);
            else
                ok = addr_parse(f, fl, family, k == 2 ? (void *)&info->src : (void *)&info->dst);
            break;
        case 4: ok = port_ok(f, fl, whole, &info->src_port); break;
        default: ok = port_ok(f, fl, whole, &info->dst_port); break;
        }
        if (!ok || !whole)
            return ok;
        if (!sp) {
            /* the line ends here: it must end with the last field */
            if (k != 5)
                return false;
            info->family = family;
            return true;
        }
        if (k == 5)
            return false; /* a trailing space or a seventh field */
        i += fl + 1;
    }
}

static enum sf_proxy_result
parse_v1(const char *s, size_t len, struct sf_proxy_info *out, size_t *consumed)
{
    struct sf_proxy_info info;
    size_t n = len < SF_PROXY_V1_MAX ? len : SF_PROXY_V1_MAX;
    const char *lf = memchr(s, '\n', n);
    if (lf) {
        /* a bare LF does not end the line, and ends any hope of one */
        size_t end = (size_t)(lf - s);
        if (end == 0 || s[end - 1] != '\r' || !v1_line(s, end - 1, true, &info))
            return SF_PROXY_BAD;
        *out = info;
        *consumed = end + 1;
        return SF_PROXY_OK;
    }
    if (len >= SF_PROXY_V1_MAX)
        return SF_PROXY_BAD;
    /* a CR can only be the first half of the CRLF after a whole line */
    if (s[len - 1] == '\r')
        return v1_line(s, len - 1, true, &info) ? SF_PROXY_MORE : SF_PROXY_BAD;
    return v1_line(s, len, false, &info) ? SF_PROXY_MORE : SF_PROXY_BAD;
}

/* ---- version 2 ------------------------------------------------------ */

static const unsigned char v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                         0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

enum { V2_LOCAL = 0, V2_PROXY = 1 };
enum { FAM_UNSPEC = 0, FAM_INET, FAM_INET6, FAM_UNIX };
enum { TRANS_UNSPEC = 0, TRANS_STREAM, TRANS_DGRAM };

/* Size of the address block of each family: two addresses, and two
 * ports for IPv4/IPv6. */
static const size_t v2_addr_len[] = {0, 12, 36, 216};

static unsigned
be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/*
 * The TLVs in p[pos, end), of which p[0, avail) has arrived: each one
 * must lie wholly inside the block. True while nothing seen is wrong.
 */
static bool
tlvs_ok(const unsigned char *p, size_t pos, size_t end, size_t avail)
{
    while (pos < end) {
        if (end - pos < 3)
            return false;
        if (avail < pos + 3)
            return true;
        size_t vl = be16(p + pos + 1);
        if (vl > end - pos - 3)
            return false;
        pos += 3 + vl;
    }
    return true;
}

static enum sf_proxy_result
parse_v2(const unsigned char *p, size_t len, struct sf_proxy_info *out, size_t *consumed)
{
    if (memcmp(p, v2_sig, len < sizeof(v2_sig) ? len : sizeof(v2_sig)) != 0)
        return SF_PROXY_BAD;
    if (len < 13)
        return SF_PROXY_MORE;
    unsigned cmd = p[12] & 0x0f;
    if (p[12] >> 4 != 2 || (cmd != V2_LOCAL && cmd != V2_PROXY))
        return SF_PROXY_BAD;
    if (len < 14)
        return SF_PROXY_MORE;
    /* LOCAL ignores the family byte, as the spec says; for PROXY an
     * unassigned family or transport is refused */
    unsigned fam = p[13] >> 4, trans = p[13] & 0x0f;
    if (cmd == V2_LOCAL)
        fam = trans = 0;
    else if (fam > FAM_UNIX || trans > TRANS_DGRAM)
        return SF_PROXY_BAD;
    if (len < SF_PROXY_V2_HEAD)
        return SF_PROXY_MORE;
    size_t total = SF_PROXY_V2_HEAD + be16(p + 14);
    size_t alen = v2_addr_len[fam];
    /* LOCAL (a health check from the proxy itself) and UNSPEC carry no
     * address to read: skip the block, whatever it holds */
    bool walk = cmd == V2_PROXY && fam != FAM_UNSPEC;
    if (walk) {
        if (total < SF_PROXY_V2_HEAD + alen)
            return SF_PROXY_BAD;
        if (!tlvs_ok(p, SF_PROXY_V2_HEAD + alen, total, len < total ? len : total))
            return SF_PROXY_BAD;
    }
    if (len < total)
        return SF_PROXY_MORE;

    struct sf_proxy_info info;
    memset(&info, 0, sizeof(info));
    info.version = 2;
    info.family = AF_UNSPEC;
    const unsigned char *a = p + SF_PROXY_V2_HEAD;
    if (walk && trans == TRANS_STREAM && fam == FAM_INET) {
        info.family = AF_INET;
        memcpy(&info.src.v4, a, 4);
        memcpy(&info.dst.v4, a + 4, 4);
        info.src_port = (uint16_t)be16(a + 8);
        info.dst_port = (uint16_t)be16(a + 10);
    } else if (walk && trans == TRANS_STREAM && fam == FAM_INET6) {
        info.family = AF_INET6;
        memcpy(&info.src.v6, a, 16);
        memcpy(&info.dst.v6, a + 16, 16);
        info.src_port = (uint16_t)be16(a + 32);
        info.dst_port = (uint16_t)be16(a + 34);
    }
    *out = info;
    *consumed = total;
    return SF_PROXY_OK;
}

enum sf_proxy_result
sf_proxy_parse(const void *buf, size_t len, struct sf_proxy_info *out, size_t *consumed)
{
    const unsigned char *p = buf;
    if (len == 0)
        return SF_PROXY_MORE;
    if (p[0] == 'P')
        return parse_v1(buf, len, out, consumed);
    if (p[0] == v2_sig[0])
        return parse_v2(p, len, out, consumed);
    return SF_PROXY_BAD;
}
