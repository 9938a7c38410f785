/*
 * etag.h - content ETags (etag = content): a 128-bit XXH3 hash of a
 * file's bytes (libxxhash), the strong ETag made of it, and the record
 * that remembers the hash in an extended attribute, user.sfhttpd.etag,
 * with the size and mtime (to the nanosecond) it belongs to. Two copies
 * of a file with the same bytes get the same ETag whatever their mtimes,
 * so replicas deployed by git checkout, cp or docker cp agree.
 *
 * The hashing of a file and the attribute calls are the only I/O here;
 * the formats are pure. Who hashes when is the open-file cache's
 * (fcache.h) and its helper thread's (hasher.h).
 */
#ifndef SFHTTPD_ETAG_H
#define SFHTTPD_ETAG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* XXH3-128 of some bytes. */
struct sf_etag_hash {
    uint64_t hi, lo;
};

/* The hash of n bytes at p. */
void sf_etag_hash_mem(const void *p, size_t n, struct sf_etag_hash *out);

/*
 * The hash of the first size bytes of fd, read with pread from offset 0
 * into buf (cap bytes, cap > 0) as scratch. stop, when not NULL, is
 * polled between reads: once true the work is abandoned. Returns 0;
 * -ECANCELED when stopped; -EIO when the file ends before size bytes (it
 * shrank); -ENOMEM; or pread's -errno.
 */
int sf_etag_hash_fd(int fd, uint64_t size, void *buf, size_t cap, const atomic_bool *stop,
                    struct sf_etag_hash *out);

/* Length of a content ETag, quotes included: "x3-" and 32 hex digits. */
#define SF_ETAG_CONTENT_LEN 37

/* Write the strong ETag of h, quotes included and NUL-terminated, into
 * out (cap > SF_ETAG_CONTENT_LEN); returns SF_ETAG_CONTENT_LEN. */
size_t sf_etag_format(char *out, size_t cap, const struct sf_etag_hash *h);

/* The attribute's name, and the most bytes its record takes. */
#define SF_ETAG_XATTR "user.sfhttpd.etag"
#define SF_ETAG_RECORD_MAX 128

/*
 * The record, e.g. "v1 size=1234 mtime=1700000000.000000042
 * xxh128=<32 hex>": the hash of the file whose size and mtime st has.
 * Written NUL-terminated into out (cap >= SF_ETAG_RECORD_MAX); returns
 * its length (without the NUL).
 */
size_t sf_etag_record_format(char *out, size_t cap, const struct stat *st,
                             const struct sf_etag_hash *h);

/* True, with *out, when rec (len bytes, no NUL needed) is a well-formed
 * record for st's size and mtime; false for anything else (another
 * version, another format, junk). */
bool sf_etag_record_parse(const char *rec, size_t len, const struct stat *st,
                          struct sf_etag_hash *out);

/* Read fd's record: 0 with *out when it is there and belongs to st's
 * size and mtime; -ENODATA when absent or stale; else fgetxattr's -errno
 * (-ENOTSUP where the filesystem has no user attributes). */
int sf_etag_xattr_get(int fd, const struct stat *st, struct sf_etag_hash *out);

/* Write fd's record for st and h. Returns 0 or fsetxattr's -errno: the
 * caller ignores the ones sf_etag_xattr_unwritable names. */
int sf_etag_xattr_set(int fd, const struct stat *st, const struct sf_etag_hash *h);

/* True for the errors that only say the attribute cannot be written
 * here (no user attributes, no write access, a read-only filesystem, no
 * room): skip it, the hash still serves. */
bool sf_etag_xattr_unwritable(int err);

#endif
