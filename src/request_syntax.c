/*
 * request_syntax.c - the request's byte-level grammar, RFC 9112 read
 * strictly: the head scanner that every head byte passes (it also notes
 * where the method, the target and the request line end, and counts the
 * field lines, for request.c), the chunked body decoder, and the readers
 * of the two framing headers. Where two parsers on a path could read a
 * byte differently (a bare CR or LF, a folded line, a space before a
 * colon, a '#' in the target, a chunk size followed by junk), the byte is
 * refused here, so
 * nothing ambiguous reaches the parts that decide where a message ends.
 * Pure: no I/O.
 */
#include "request_int.h"
#include "sfhttpd/common.h"

#include <assert.h>
#include <string.h>
#include <strings.h>

enum {
    /* the head, up to its last field line */
    H_LEAD = 0, /* before the request line: empty lines only */
    H_METHOD,
    H_TARGET0,
    H_TARGET,
    H_VERSION,
    H_FIELD, /* at the start of a field line, or of the final CRLF */
    H_NAME,
    H_VALUE,
    /* a chunked body */
    C_SIZE0,
    C_SIZE,
    C_EXT_NAME0,
    C_EXT_NAME,
    C_EXT_VAL0,
    C_EXT_TOKEN,
    C_EXT_QUOTED,
    C_EXT_QPAIR,
    C_EXT_QEND,
    C_SIZE_LF,
    C_DATA,
    C_DATA_CR,
    C_DATA_LF,
    C_FIELD, /* trailer section, as H_FIELD.. */
    C_NAME,
    C_VALUE,
    C_VALUE_LF,
    C_END_LF,
};

static bool
is_vchar(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

/* a request-target's bytes: VCHAR but '#', for no form of target has a
 * fragment (RFC 9112 §3.2), and one that a proxy kept as path bytes while
 * we cut it there could route one request to two places */
static bool
is_target_char(unsigned char c)
{
    return is_vchar(c) && c != '#';
}

/* field-content bytes: HTAB / SP / VCHAR / obs-text */
static bool
is_field_char(unsigned char c)
{
    return c == '\t' || c == ' ' || is_vchar(c) || c >= 0x80;
}

/* qdtext (RFC 9110 §5.6.4) */
static bool
is_qdtext(unsigned char c)
{
    return c != '"' && c != '\\' && is_field_char(c);
}

static int
hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A CRLF at buf[i]: where the current line ends. False when the state
 * allows no line end here. */
static bool
head_line_end(struct sf_syntax *s, size_t i)
{
    switch (s->st) {
    case H_LEAD: return true; /* an empty line before the request line: ignored */
    case H_VERSION:
        if (s->ver != 8)
            return false;
        s->line_done = true;
        s->line_len = (uint32_t)(i - s->line_off);
        s->st = H_FIELD;
        return true;
    case H_VALUE: s->st = H_FIELD; return true;
    default: return false;
    }
}

/* One byte other than CR and LF of the head. False when it is refused. */
static bool
head_byte(struct sf_syntax *s, unsigned char c, size_t i)
{
    switch (s->st) {
    case H_LEAD:
        if (!sf_is_tchar(c))
            return false;
        s->line_off = (uint32_t)i;
        s->st = H_METHOD;
        return true;
    case H_METHOD:
        if (c == ' ') {
            s->st = H_TARGET0;
            s->method_len = (uint32_t)(i - s->line_off);
        }
        return c == ' ' || sf_is_tchar(c);
    case H_TARGET0:
        s->st = H_TARGET;
        s->target_off = (uint32_t)i;
        return is_target_char(c);
    case H_TARGET:
        if (c == ' ') {
            s->st = H_VERSION;
            s->ver = 0;
            s->target_len = (uint32_t)(i - s->target_off);
        }
        return c == ' ' || is_target_char(c);
    case H_VERSION: {
        /* exactly HTTP/DIGIT.DIGIT, case-sensitive (RFC 9112 §2.3) */
        unsigned v = s->ver++;
        if (v < 5)
            return c == (unsigned char)"HTTP/"[v];
        if (v == 6)
            return c == '.';
        if ((v != 5 && v != 7) || c < '0' || c > '9')
            return false;
        if (v == 5)
            s->major = (uint8_t)(c - '0');
        else
            s->minor = (uint8_t)(c - '0');
        return true;
    }
    case H_FIELD:
        /* whitespace here is obs-fold, or whitespace before the first
         * field: both refused (RFC 9112 §5.2, §2.2) */
        s->st = H_NAME;
        return sf_is_tchar(c);
    case H_NAME:
        if (c == ':') {
            s->st = H_VALUE;
            s->fields++;
        }
        return c == ':' || sf_is_tchar(c);
    case H_VALUE: return is_field_char(c);
    default: return false;
    }
}

/* sf_is_tchar as a table, for the runs of method and field-name bytes
 * (test_request_syntax holds both to RFC 9110's tchar) */
static const bool tchar_tab[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1,         ['&'] = 1,         ['\''] = 1,
    ['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1,         ['^'] = 1,         ['_'] = 1,
    ['`'] = 1, ['|'] = 1, ['~'] = 1, ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
};

/*
 * Where the run of bytes from buf[i] on that head_byte would accept
 * without leaving state st ends (to at most): a field value's HT / SP /
 * VCHAR / obs-text, a target's VCHARs, a method's or a name's tchars.
 * Such a run is most of a head, and skipping it decides nothing: the byte
 * that ends it goes through head_byte or the line-end rules as before. A
 * field value is skipped a word at a time while no byte in the word is a
 * CTL (HT among them) or DEL; a target while no byte is a CTL, SP, DEL, '#' or
 * non-ASCII.
 */
static size_t
head_run(unsigned st, const char *buf, size_t i, size_t to)
{
    switch (st) {
    case H_VALUE:
        while (to - i >= 8) {
            uint64_t x = sf_word_load(buf + i);
            if (sf_word_below(x, 0x20) | sf_word_has(x, 0x7f))
                break;
            i += 8;
        }
        while (i < to && is_field_char((unsigned char)buf[i]))
            i++;
        return i;
    case H_TARGET:
        while (to - i >= 8) {
            uint64_t x = sf_word_load(buf + i);
            if (sf_word_below(x, 0x21) | sf_word_has(x, 0x7f) | sf_word_has(x, '#') |
                (x & SF_WORD_HIGHS))
                break;
            i += 8;
        }
        while (i < to && is_target_char((unsigned char)buf[i]))
            i++;
        return i;
    case H_METHOD:
    case H_NAME: {
        /* eight lookups to a branch: a name is rarely shorter */
        const unsigned char *u = (const unsigned char *)buf;
        while (to - i >= 8 && (tchar_tab[u[i]] & tchar_tab[u[i + 1]] & tchar_tab[u[i + 2]] &
                               tchar_tab[u[i + 3]] & tchar_tab[u[i + 4]] & tchar_tab[u[i + 5]] &
                               tchar_tab[u[i + 6]] & tchar_tab[u[i + 7]]))
            i += 8;
        while (i < to && tchar_tab[u[i]])
            i++;
        return i;
    }
    default: return i;
    }
}

enum sf_scan
sf_request_scan_head(struct sf_syntax *s, const char *buf, size_t from, size_t to, size_t *stop)
{
    assert(s->st <= H_VALUE);
    for (size_t i = from; i < to; i++) {
        i = head_run(s->st, buf, i, to);
        if (i == to)
            break;
        unsigned char c = (unsigned char)buf[i];
        if (c == '\r') {
            if (i + 1 == to) {
                *stop = i; /* judged with the next byte */
                return SF_SCAN_MORE;
            }
            if (buf[i + 1] != '\n') {
                *stop = i; /* a bare CR */
                return SF_SCAN_BAD;
            }
            if (s->st == H_FIELD) {
                *stop = i + 2;
                return SF_SCAN_END;
            }
            if (!head_line_end(s, i)) {
                *stop = i;
                return SF_SCAN_BAD;
            }
            i++; /* past the LF */
            continue;
        }
        /* a bare LF is refused like any other stray byte */
        if (c == '\n' || !head_byte(s, c, i)) {
            *stop = i;
            return SF_SCAN_BAD;
        }
    }
    *stop = to;
    return SF_SCAN_MORE;
}

void
sf_request_chunked_start(struct sf_syntax *s)
{
    memset(s, 0, sizeof(*s));
    s->st = C_SIZE0;
}

/* One byte of a chunk-size line. False when it is refused. */
static bool
size_line_byte(struct sf_syntax *s, unsigned char c)
{
    int v = hex_value(c);
    switch (s->st) {
    case C_SIZE0:
        s->chunk = (uint64_t)v;
        s->st = C_SIZE;
        return v >= 0;
    case C_SIZE:
        if (v >= 0) {
            if (s->chunk >> 60)
                return false; /* past 64 bits */
            s->chunk = s->chunk << 4 | (uint64_t)v;
            return true;
        }
        break;
    case C_EXT_NAME0: s->st = C_EXT_NAME; return sf_is_tchar(c);
    case C_EXT_NAME:
        if (sf_is_tchar(c))
            return true;
        if (c == '=') {
            s->st = C_EXT_VAL0;
            return true;
        }
        break;
    case C_EXT_VAL0:
        s->st = c == '"' ? C_EXT_QUOTED : C_EXT_TOKEN;
        return c == '"' || sf_is_tchar(c);
    case C_EXT_TOKEN:
        if (sf_is_tchar(c))
            return true;
        break;
    case C_EXT_QUOTED:
        if (c == '"')
            s->st = C_EXT_QEND;
        else if (c == '\\')
            s->st = C_EXT_QPAIR;
        return c == '"' || c == '\\' || is_qdtext(c);
    case C_EXT_QPAIR: s->st = C_EXT_QUOTED; return is_field_char(c);
    case C_EXT_QEND: break;
    default: return false;
    }
    /* after a size, a name, a value: the next extension, or the end */
    if (c == ';') {
        s->st = C_EXT_NAME0;
        return true;
    }
    if (c == '\r') {
        s->st = C_SIZE_LF;
        return true;
    }
    return false;
}

enum sf_scan
sf_request_scan_chunked(struct sf_syntax *s, const char *buf, size_t from, size_t to,
                        uint64_t max_body, unsigned max_fields, size_t *stop, int *status)
{
    assert(s->st >= C_SIZE0);
    *status = 400;
    size_t i = from;
    while (i < to) {
        if (s->st == C_DATA) {
            size_t n = to - i;
            if (n > s->chunk)
                n = (size_t)s->chunk;
            i += n;
            s->chunk -= n;
            s->data += n;
            if (s->chunk == 0)
                s->st = C_DATA_CR;
            continue;
        }
        unsigned char c = (unsigned char)buf[i];
        bool ok;
        switch (s->st) {
        case C_SIZE_LF:
            ok = c == '\n';
            if (ok && s->chunk == 0) {
                s->st = C_FIELD;
            } else if (ok) {
                if (s->chunk > max_body - s->data) {
                    *stop = i;
                    *status = 413;
                    return SF_SCAN_BAD;
                }
                s->st = C_DATA;
            }
            break;
        case C_DATA_CR:
            ok = c == '\r';
            s->st = C_DATA_LF;
            break;
        case C_DATA_LF:
            ok = c == '\n';
            s->st = C_SIZE0;
            break;
        case C_FIELD:
            ok = c == '\r' || sf_is_tchar(c);
            s->st = c == '\r' ? C_END_LF : C_NAME;
            break;
        case C_NAME:
            ok = c == ':' || sf_is_tchar(c);
            if (c == ':') {
                s->st = C_VALUE;
                if (++s->fields > max_fields) {
                    *stop = i;
                    *status = 431;
                    return SF_SCAN_BAD;
                }
            }
            break;
        case C_VALUE:
            ok = c == '\r' || is_field_char(c);
            if (c == '\r')
                s->st = C_VALUE_LF;
            break;
        case C_VALUE_LF:
            ok = c == '\n';
            s->st = C_FIELD;
            break;
        case C_END_LF:
            if (c == '\n') {
                *stop = i + 1;
                return SF_SCAN_END;
            }
            ok = false;
            break;
        default: ok = size_line_byte(s, c); break;
        }
        if (!ok) {
            *stop = i;
            return SF_SCAN_BAD;
        }
        i++;
    }
    *stop = to;
    return SF_SCAN_MORE;
}

static size_t
skip_ows(const char *v, size_t i, size_t len)
{
    while (i < len && sf_is_ows(v[i]))
        i++;
    return i;
}

static size_t
skip_token(const char *v, size_t i, size_t len)
{
    while (i < len && sf_is_tchar((unsigned char)v[i]))
        i++;
    return i;
}

/* A quoted-string at v[i] ('"'): the index past it, or 0 when malformed. */
static size_t
skip_quoted(const char *v, size_t i, size_t len)
{
    for (i++; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '"')
            return i + 1;
        if (c == '\\' && (++i == len || !is_field_char((unsigned char)v[i])))
            return 0;
        if (c != '\\' && !is_qdtext(c))
            return 0;
    }
    return 0;
}

void
sf_request_read_te(struct sf_framing *f, const char *v, size_t len)
{
    size_t i = 0;
    for (;;) {
        /* transfer-coding = token *( OWS ";" OWS transfer-parameter ) */
        i = skip_ows(v, i, len);
        size_t name = i;
        i = skip_token(v, i, len);
        if (i == name)
            goto bad; /* an empty element, or no token */
        bool chunked = i - name == 7 && strncasecmp(v + name, "chunked", 7) == 0;
        bool params = false;
        i = skip_ows(v, i, len);
        while (i < len && v[i] == ';') {
            /* transfer-parameter = token BWS "=" BWS ( token / quoted-string ) */
            params = true;
            size_t p = skip_ows(v, i + 1, len);
            i = skip_token(v, p, len);
            if (i == p)
                goto bad;
            i = skip_ows(v, i, len);
            if (i == len || v[i] != '=')
                goto bad;
            p = skip_ows(v, i + 1, len);
            if (p < len && v[p] == '"')
                i = skip_quoted(v, p, len);
            else
                i = skip_token(v, p, len);
            if (i <= p)
                goto bad;
            i = skip_ows(v, i, len);
        }
        f->te_codings++;
        if (chunked)
            f->te_chunked++;
        f->te_last_chunked = chunked && !params;
        if (i == len)
            return;
        if (v[i] != ',')
            goto bad;
        i++;
    }
bad:
    f->te_bad = true;
}

void
sf_request_read_cl(struct sf_framing *f, const char *v, size_t len)
{
    uint64_t n = 0;
    if (len == 0)
        f->cl_bad = true;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(unsigned char)v[i] - '0';
        if (d > 9 || n > (UINT64_MAX - d) / 10) {
            f->cl_bad = true;
            return;
        }
        n = n * 10 + d;
    }
    f->cl = n;
}
