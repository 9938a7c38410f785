/*
 * fneg.h - what the open-file cache knows is not there. A request for a
 * name that does not exist (a 404, an index name probed in a folder
 * without it, a precompressed sidecar that was never made) would cost a
 * watch, an open and an unwatch every time; remembered here, it costs a
 * hash lookup. Each entry holds a reference on the inotify watch of the
 * name's folder (fwatch.h), and the name's creation there (or any change
 * of the folder, or a queue overflow) drops it: a name created before a
 * request is found by that request, as for cached files (server.h). A
 * name is remembered only when its folder can be watched and the name is
 * still missing once it is. At most max entries, least recently used
 * out first.
 */
#ifndef SFHTTPD_FNEG_H
#define SFHTTPD_FNEG_H

#include <stddef.h>
#include <stdint.h>

struct sf_fcache;
struct sf_file;
struct sf_fwatch;
struct sf_fneg;

/* A memory of missing names on the watch tree fw (it listens to fw's
 * changes); NULL when out of memory or fw has no room for a listener. */
struct sf_fneg *sf_fneg_new(struct sf_fwatch *fw, size_t max);
/* Drop every entry and stop listening; before fw goes. NULL-safe. */
void sf_fneg_free(struct sf_fneg *n);

/*
 * sf_fcache_get (same arguments, same results) behind the memory: a name
 * remembered as missing returns NULL with -ENOENT at once; a name found
 * missing now (-ENOENT) is remembered (see above). n may be NULL:
 * then it is sf_fcache_get.
 */
struct sf_file *sf_fneg_get(struct sf_fneg *n, struct sf_fcache *fc, unsigned site, int rootfd,
                            const char *root_path, const char *rel, unsigned how, int *err,
                            int *dirfd);

struct sf_fneg_stats {
    uint64_t hits; /* answered from memory */
    size_t entries;
};
void sf_fneg_stats(const struct sf_fneg *n, struct sf_fneg_stats *out);

#endif
