/*
 * common.h - small types shared by every module: the I/O step result, a
 * growable byte buffer for generated bodies (listings, error pages), the
 * string hash of the in-memory tables, the HTTP token character class and
 * the word-at-a-time byte tests of the scanners.
 */
#ifndef SFHTTPD_COMMON_H
#define SFHTTPD_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Result of one I/O step (nginx's NGX_OK / NGX_AGAIN / NGX_ERROR). */
enum sf_io { SF_IO_OK = 0, SF_IO_AGAIN, SF_IO_EOF, SF_IO_ERR };

/*
 * A growable buffer. Zero-initialise it ({0}) before first use. On
 * allocation failure the append functions return -ENOMEM and leave the
 * buffer as it was. sf_buf_free() is NULL-safe and leaves it zeroed.
 */
struct sf_buf {
    char *data;
    size_t len;
    size_t cap;
};

int sf_buf_reserve(struct sf_buf *b, size_t extra);
int sf_buf_append(struct sf_buf *b, const void *p, size_t n);
int sf_buf_puts(struct sf_buf *b, const char *s);
int sf_buf_printf(struct sf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s with &, <, >, ", ' replaced by HTML character references. */
int sf_buf_html_escape(struct sf_buf *b, const char *s, size_t n);
/* Append s percent-encoded for use in a URL path: unreserved characters
 * and '/' pass, every other byte (including %, ?, #, space, controls and
 * bytes >= 0x80) becomes %XX with upper-case hex. */
int sf_buf_url_escape(struct sf_buf *b, const char *s, size_t n);
void sf_buf_free(struct sf_buf *b);

/* FNV-1a over the bytes of s, continuing from h: start from
 * SF_HASH_INIT (or SF_HASH_INIT mixed with a small key, such as a site
 * number). For hash tables, not for anything an attacker must not steer. */
#define SF_HASH_INIT 2166136261u
uint32_t sf_hash_str(uint32_t h, const char *s);

/* v in decimal at out (no NUL), up to SF_U64_DIGITS bytes; returns how
 * many. Costs a few instructions a digit, no printf. */
#define SF_U64_DIGITS 20
size_t sf_fmt_u64(char *out, uint64_t v);

#define SF_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Read exactly len bytes of fd at off into buf (EINTR retried): 0, or
 * -errno, -ENODATA when the file ends first. */
int sf_pread_all(int fd, void *buf, size_t len, uint64_t off);

/* True for the -errno of an open that ran out of descriptors: the
 * process's (EMFILE) or the system's (ENFILE). Worth a retry after
 * letting some go; else 503, not 500 (fdlimit.h). */
static inline bool
sf_out_of_fds(int neg_errno)
{
    return neg_errno == -EMFILE || neg_errno == -ENFILE;
}

/* The first size bytes of fd (pread from offset 0) in a new buffer, or
 * NULL when out of memory or the file gave fewer. */
unsigned char *sf_read_whole(int fd, size_t size);

/* RFC 9110 tchar (§5.6.2): ALPHA / DIGIT / "!#$%&'*+-.^_`|~", the
 * characters of a token (a header name, a method, a content coding, a
 * media type's parts). A bit set (bit c & 63 of word c >> 6): the head
 * scanner asks once per byte. Not locale-dependent. */
static inline bool
sf_is_tchar(unsigned char c)
{
    static const uint64_t set[4] = {0x03ff6cfa00000000ULL, 0x57ffffffc7fffffeULL, 0, 0};
    return (set[c >> 6] >> (c & 63)) & 1;
}

/* RFC 9110 OWS (§5.6.3): a space or a horizontal tab. */
static inline bool
sf_is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Narrow [*p, *end) to drop OWS at both ends. */
static inline void
sf_trim_ows(const char **p, const char **end)
{
    while (*p < *end && sf_is_ows(**p))
        (*p)++;
    while (*end > *p && sf_is_ows((*end)[-1]))
        (*end)--;
}

/*
 * Eight bytes at a time, for scanners that skip runs of ordinary bytes:
 * sf_word_load reads eight bytes at p (any alignment); sf_word_below(x, n)
 * is nonzero when a byte of x is below n (n <= 128), sf_word_has(x, b)
 * when a byte of x is b, and x & SF_WORD_HIGHS when one is 0x80 or above.
 * Each is exact about whether there is such a byte (a borrow can only
 * mark a byte above a true one), so a word they all pass can be skipped
 * whole.
 */
#define SF_WORD_ONES 0x0101010101010101ULL
#define SF_WORD_HIGHS 0x8080808080808080ULL

static inline uint64_t
sf_word_load(const char *p)
{
    uint64_t x;
    memcpy(&x, p, sizeof(x));
    return x;
}

static inline uint64_t
sf_word_below(uint64_t x, unsigned n)
{
    return (x - SF_WORD_ONES * n) & ~x & SF_WORD_HIGHS;
}

static inline uint64_t
sf_word_has(uint64_t x, unsigned char b)
{
    return sf_word_below(x ^ (SF_WORD_ONES * b), 1);
}

#endif
