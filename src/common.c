/*
 * common.c - the growable buffer used for generated bodies (listings,
 * error pages) and its escaping helpers; the tables' string hash.
 */
#include "sfhttpd/common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
sf_buf_reserve(struct sf_buf *b, size_t extra)
{
    if (extra <= b->cap - b->len)
        return 0;
    if (extra > SIZE_MAX / 2 - b->len)
        return -ENOMEM;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int
sf_buf_append(struct sf_buf *b, const void *p, size_t n)
{
    int rc = sf_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int
sf_buf_puts(struct sf_buf *b, const char *s)
{
    return sf_buf_append(b, s, strlen(s));
}

int
sf_buf_printf(struct sf_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    int rc = sf_buf_reserve(b, (size_t)n + 1);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int
sf_buf_html_escape(struct sf_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: break;
        }
        int rc = rep ? sf_buf_puts(b, rep) : sf_buf_append(b, &s[i], 1);
        if (rc)
            return rc;
    }
    return 0;
}

static int
unreserved(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '/';
}

int
sf_buf_url_escape(struct sf_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    /* n * 3 must not wrap, or the loop below writes past the reservation */
    if (n > SIZE_MAX / 3)
        return -ENOMEM;
    int rc = sf_buf_reserve(b, n * 3);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (unreserved(ch)) {
            b->data[b->len++] = (char)ch;
        } else {
            b->data[b->len++] = '%';
            b->data[b->len++] = hex[ch >> 4];
            b->data[b->len++] = hex[ch & 15];
        }
    }
    return 0;
}

void
sf_buf_free(struct sf_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

uint32_t
sf_hash_str(uint32_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

int
sf_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
    for (size_t got = 0; got < len;) {
        ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -ENODATA;
        got += (size_t)n;
    }
    return 0;
}

unsigned char *
sf_read_whole(int fd, size_t size)
{
    unsigned char *buf = malloc(size ? size : 1);
    if (buf && sf_pread_all(fd, buf, size, 0) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

size_t
sf_fmt_u64(char *out, uint64_t v)
{
    char tmp[SF_U64_DIGITS];
    size_t n = 0;
    do {
        tmp[sizeof(tmp) - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(out, tmp + sizeof(tmp) - n, n);
    return n;
}
