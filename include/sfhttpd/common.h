/*
 * common.h - small types shared by every module: the I/O step result, a
 * growable byte buffer for generated bodies (listings, error pages), the
 * string hash of the in-memory tables and the HTTP token character class.
 */
#ifndef SFHTTPD_COMMON_H
#define SFHTTPD_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
int sf_buf_printf(struct sf_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
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

#define SF_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Read exactly len bytes of fd at off into buf (EINTR retried): 0, or
 * -errno, -ENODATA when the file ends first. */
int sf_pread_all(int fd, void *buf, size_t len, uint64_t off);

/* RFC 9110 tchar: the characters of a token (a header name, a method, a
 * content coding, a media type's parts). Not locale-dependent. */
static inline bool
sf_is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~': return true;
    default: return false;
    }
}

#endif
