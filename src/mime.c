/*
 * mime.c - Content-Type lookup. An open-addressing hash table maps a
 * lower-case extension to a full header value; it is filled from a
 * built-in list of common web types and then from /etc/mime.types, whose
 * entries win. Header values are interned in a second table that only
 * grows, so a pointer handed out stays valid for the life of the table,
 * even after sf_mime_add() replaces the mapping it came from.
 *
 * Files with no or an unknown extension are sniffed with libmagic on a
 * pread() copy of their first 64 KiB. Anything that could be active
 * content in a browser (HTML, XML, SVG, scripts) comes back as text/plain:
 * we must never let an uploaded file without an extension run as a page
 * in the site's origin. An empty file is served as
 * "text/plain; charset=utf-8" (libmagic says "application/x-empty"):
 * browsers then show an empty page instead of offering a download.
 */
#include "sfhttpd/mime.h"
#include "sfhttpd/common.h"

#include <ctype.h>
#include <errno.h>
#include <magic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longest extension we look up; longer ones are "unknown". */
#define EXT_MAX 32
/* How much of a file libmagic gets to see. */
#define SNIFF_BYTES (64 * 1024)

#define OCTET_STREAM "application/octet-stream"
#define TEXT_PLAIN "text/plain; charset=utf-8"

struct slot {
    char *key;       /* owned; NULL = empty slot */
    const char *val; /* interned header value (or key itself in the pool) */
    uint32_t hash;
};

/* Open addressing, linear probing, power-of-two capacity, load <= 1/2. */
struct strmap {
    struct slot *slots;
    size_t cap;
    size_t n;
};

/* A sniff result remembered per file version, so that libmagic runs
 * once per file and not once per request. Direct-mapped: a collision
 * just costs another sniff. */
#define SNIFF_CACHE 512

struct sniffed {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    const char *type; /* NULL = empty slot */
};

struct sf_mime {
    struct sniffed sniff_cache[SNIFF_CACHE];
    struct strmap exts;  /* lower-case extension -> header value */
    struct strmap types; /* interned header values */
    magic_t magic;       /* opened on first sniff */
    bool magic_failed;   /* magic_open/magic_load failed: don't retry */
    unsigned char *buf;  /* SNIFF_BYTES, allocated on first sniff */
};

static const struct {
    const char *ext;
    const char *type;
} builtin[] = {
    {"html", "text/html"},
    {"htm", "text/html"},
    {"xhtml", "application/xhtml+xml"},
    {"css", "text/css"},
    {"js", "text/javascript"},
    {"mjs", "text/javascript"},
    {"json", "application/json"},
    {"jsonld", "application/ld+json"},
    {"webmanifest", "application/manifest+json"},
    {"map", "application/json"},
    {"txt", "text/plain"},
    {"text", "text/plain"},
    {"md", "text/markdown"},
    {"markdown", "text/markdown"},
    {"csv", "text/csv"},
    {"tsv", "text/tab-separated-values"},
    {"xml", "application/xml"},
    {"xsl", "application/xml"},
    {"rss", "application/rss+xml"},
    {"atom", "application/atom+xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"apng", "image/apng"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"bmp", "image/bmp"},
    {"ico", "image/vnd.microsoft.icon"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tgz", "application/gzip"},
    {"bz2", "application/x-bzip2"},
    {"xz", "application/x-xz"},
    {"zst", "application/zstd"},
    {"br", "application/octet-stream"},
    {"7z", "application/x-7z-compressed"},
    {"tar", "application/x-tar"},
    {"wasm", "application/wasm"},
    {"mp4", "video/mp4"},
    {"m4v", "video/mp4"},
    {"webm", "video/webm"},
    {"ogv", "video/ogg"},
    {"mov", "video/quicktime"},
    {"mp3", "audio/mpeg"},
    {"m4a", "audio/mp4"},
    {"ogg", "audio/ogg"},
    {"oga", "audio/ogg"},
    {"opus", "audio/ogg"},
    {"wav", "audio/wav"},
    {"flac", "audio/flac"},
    {"vtt", "text/vtt"},
    {"iso", "application/octet-stream"},
    {"bin", "application/octet-stream"},
    {"exe", "application/octet-stream"},
    {"deb", "application/vnd.debian.binary-package"},
    {"rpm", "application/x-rpm"},
    {"epub", "application/epub+zip"},
};

static struct slot *
map_find(const struct strmap *map, const char *key, uint32_t h)
{
    if (!map->cap)
        return NULL;
    size_t mask = map->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct slot *s = &map->slots[i];
        if (!s->key)
            return NULL;
        if (s->hash == h && strcmp(s->key, key) == 0)
            return s;
    }
}

/* Insert into a table known to have room and not to hold key. */
static void
map_place(struct strmap *map, char *key, const char *val, uint32_t h)
{
    size_t mask = map->cap - 1;
    size_t i = h & mask;
    while (map->slots[i].key)
        i = (i + 1) & mask;
    map->slots[i] = (struct slot){.key = key, .val = val, .hash = h};
    map->n++;
}

static int
map_grow(struct strmap *map)
{
    if (map->n + 1 <= map->cap / 2)
        return 0;
    size_t cap = map->cap ? map->cap * 2 : 256;
    struct slot *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    struct strmap bigger = {.slots = slots, .cap = cap, .n = 0};
    for (size_t i = 0; i < map->cap; i++) {
        struct slot *s = &map->slots[i];
        if (s->key)
            map_place(&bigger, s->key, s->val, s->hash);
    }
    free(map->slots);
    *map = bigger;
    return 0;
}

static void
map_free(struct strmap *map)
{
    for (size_t i = 0; i < map->cap; i++)
        free(map->slots[i].key);
    free(map->slots);
    *map = (struct strmap){0};
}

/* The pooled copy of a header value; NULL when out of memory. */
static const char *
intern(struct sf_mime *m, const char *value)
{
    uint32_t h = sf_hash_str(SF_HASH_INIT, value);
    struct slot *s = map_find(&m->types, value, h);
    if (s)
        return s->val;
    char *copy = strdup(value);
    if (!copy || map_grow(&m->types) < 0) {
        free(copy);
        return NULL;
    }
    map_place(&m->types, copy, copy, h);
    return copy;
}

static bool
has_suffix(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && strncasecmp(s + len - n, suffix, n) == 0;
}

/* Types a browser decodes as text, so they get a charset. */
static bool
is_text(const char *type, size_t len)
{
    static const char *const exact[] = {
        "application/javascript", "application/x-javascript", "application/ecmascript",
        "application/json",       "application/xml",          "application/xml-dtd",
    };
    if (strncasecmp(type, "text/", 5) == 0)
        return true;
    if (has_suffix(type, len, "+json") || has_suffix(type, len, "+xml"))
        return true;
    for (size_t i = 0; i < SF_ARRAY_LEN(exact); i++) {
        if (strlen(exact[i]) == len && strncasecmp(type, exact[i], len) == 0)
            return true;
    }
    return false;
}

/* Intern the header value for a bare media type: lower-cased, with
 * "; charset=utf-8" for text types unless a parameter is already there. */
static const char *
intern_type(struct sf_mime *m, const char *type)
{
    char value[256];
    size_t len = strlen(type);
    if (len + sizeof("; charset=utf-8") > sizeof(value))
        return NULL;
    bool params = memchr(type, ';', len) != NULL;
    for (size_t i = 0; i < len; i++) {
        /* parameter values may be case-sensitive; the type is not */
        value[i] = params ? type[i] : (char)tolower((unsigned char)type[i]);
    }
    value[len] = '\0';
    if (!params && is_text(value, len))
        memcpy(value + len, "; charset=utf-8", sizeof("; charset=utf-8"));
    return intern(m, value);
}

/* Lower-case ext into out (EXT_MAX + 1 bytes); false if it is empty or
 * too long. */
static bool
lower_ext(const char *ext, size_t len, char *out)
{
    if (len == 0 || len > EXT_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        out[i] = (char)tolower((unsigned char)ext[i]);
    out[len] = '\0';
    return true;
}

/* Map ext (not NUL-terminated) to an interned value. */
static int
put(struct sf_mime *m, const char *ext, size_t len, const char *value)
{
    char key[EXT_MAX + 1];
    if (!lower_ext(ext, len, key))
        return -EINVAL;
    uint32_t h = sf_hash_str(SF_HASH_INIT, key);
    struct slot *s = map_find(&m->exts, key, h);
    if (s) {
        s->val = value;
        return 0;
    }
    char *copy = strdup(key);
    if (!copy || map_grow(&m->exts) < 0) {
        free(copy);
        return -ENOMEM;
    }
    map_place(&m->exts, copy, value, h);
    return 0;
}

int
sf_mime_add(struct sf_mime *m, const char *ext, const char *type)
{
    if (*ext == '.')
        ext++;
    if (!*type)
        return -EINVAL;
    const char *value = intern_type(m, type);
    if (!value)
        return strlen(type) > 200 ? -EINVAL : -ENOMEM;
    return put(m, ext, strlen(ext), value);
}

static int
load_builtin(struct sf_mime *m)
{
    for (size_t i = 0; i < SF_ARRAY_LEN(builtin); i++) {
        int rc = sf_mime_add(m, builtin[i].ext, builtin[i].type);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* One "type ext1 ext2 ..." line of mime.types; 0 or -ENOMEM. */
static int
load_line(struct sf_mime *m, char *line)
{
    static const char ws[] = " \t\r\n";
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *save = NULL;
    char *type = strtok_r(line, ws, &save);
    if (!type || !strchr(type, '/'))
        return 0;
    const char *value = NULL;
    char *ext;
    while ((ext = strtok_r(NULL, ws, &save))) {
        /* "a.json"-style entries can never match a last-dot lookup */
        if (strchr(ext, '.') || strlen(ext) > EXT_MAX)
            continue;
        if (!value) {
            value = intern_type(m, type);
            if (!value)
                return strlen(type) > 200 ? 0 : -ENOMEM;
        }
        if (put(m, ext, strlen(ext), value) == -ENOMEM)
            return -ENOMEM;
    }
    return 0;
}

static int
load_file(struct sf_mime *m, const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return 0; /* a missing or unreadable file is not an error */
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0)
        rc = load_line(m, line);
    free(line);
    fclose(f);
    return rc;
}

struct sf_mime *
sf_mime_new(const char *mime_types_path)
{
    struct sf_mime *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    if (load_builtin(m) < 0 ||
        load_file(m, mime_types_path ? mime_types_path : "/etc/mime.types") < 0) {
        sf_mime_free(m);
        return NULL;
    }
    return m;
}

void
sf_mime_free(struct sf_mime *m)
{
    if (!m)
        return;
    map_free(&m->exts);
    map_free(&m->types);
    if (m->magic)
        magic_close(m->magic);
    free(m->buf);
    free(m);
}

const char *
sf_mime_by_ext(const struct sf_mime *m, const char *path, size_t len)
{
    const char *name = path;
    const char *slash = memrchr(path, '/', len);
    if (slash)
        name = slash + 1;
    const char *end = path + len;
    /* leading dots make a hidden name, not an extension: ".bashrc" */
    while (name < end && *name == '.')
        name++;
    const char *dot = memrchr(name, '.', (size_t)(end - name));
    if (!dot)
        return NULL;
    char key[EXT_MAX + 1];
    if (!lower_ext(dot + 1, (size_t)(end - dot - 1), key))
        return NULL;
    const struct slot *s = map_find(&m->exts, key, sf_hash_str(SF_HASH_INIT, key));
    return s ? s->val : NULL;
}

/* Sniffed types a browser could render or execute. */
static bool
is_active(const char *type)
{
    static const char *const words[] = {"html", "xml", "script", "svg"};
    for (size_t i = 0; i < SF_ARRAY_LEN(words); i++) {
        if (strcasestr(type, words[i]))
            return true;
    }
    return false;
}

static bool
open_magic(struct sf_mime *m)
{
    if (m->magic)
        return true;
    if (m->magic_failed)
        return false;
    if (!m->buf)
        m->buf = malloc(SNIFF_BYTES);
    if (m->buf) {
        m->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
        if (m->magic && magic_load(m->magic, NULL) == 0)
            return true;
    }
    if (m->magic)
        magic_close(m->magic);
    m->magic = NULL;
    m->magic_failed = true;
    return false;
}

const char *
sf_mime_sniff(struct sf_mime *m, int fd)
{
    if (!open_magic(m))
        return OCTET_STREAM;
    ssize_t n;
    do {
        n = pread(fd, m->buf, SNIFF_BYTES, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return OCTET_STREAM;
    if (n == 0)
        return TEXT_PLAIN;
    const char *type = magic_buffer(m->magic, m->buf, (size_t)n);
    if (!type || !strchr(type, '/') || strcmp(type, "application/x-empty") == 0)
        return OCTET_STREAM;
    if (is_active(type))
        return TEXT_PLAIN;
    /* copy out of libmagic's buffer; text types get their charset */
    const char *v = intern_type(m, type);
    return v ? v : OCTET_STREAM;
}

const char *
sf_mime_sniff_file(struct sf_mime *m, int fd, const struct stat *st)
{
    uint64_t h = ((uint64_t)st->st_ino * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)st->st_dev;
    struct sniffed *e = &m->sniff_cache[(h >> 32) % SNIFF_CACHE];
    if (e->type && e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
        e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec &&
        e->ctime.tv_sec == st->st_ctim.tv_sec && e->ctime.tv_nsec == st->st_ctim.tv_nsec)
        return e->type;
    const char *type = sf_mime_sniff(m, fd);
    *e = (struct sniffed){st->st_dev, st->st_ino, st->st_size, st->st_mtim, st->st_ctim, type};
    return type;
}
