/*
 * fdlimit.c - the descriptor budget (see fdlimit.h for the formula): the
 * raise of RLIMIT_NOFILE at start, the plan that sizes the auto limits
 * from it, and the lines that report it.
 *
 * What a connection can hold beyond its socket (read from the code):
 *
 * - The file of its response: one reference on a file cache entry (the
 *   file, its precompressed variant or the site's error page: one of
 *   them, static.c swaps, never adds), and the entry holds the one fd;
 *   snapshots (small files kept in memory) keep that fd too, for the
 *   lease, and a snapshot over 8 KiB may have a wire image (a memfd,
 *   fimage.c), counted by the cache with its files within
 *   open_file_cache_max. Every response and connection sending the same file shares
 *   it, so it is a second descriptor only while the entry is no longer
 *   cached: pushed out of the LRU by open_file_cache_max newer files,
 *   invalidated by a change, or cut loose by a lease break.
 * - The tail (conn.c): after a response sent by sendfile, a hold on its
 *   file until the next response ends or the connection closes, so that
 *   a lease break can still reset a socket whose bytes the peer has not
 *   read. A response sent from a snapshot takes none (sendmsg copied the
 *   bytes; a break never cuts a snapshot). So a keep-alive connection
 *   can pin two entries (the tail and the file it is sending now).
 * - A listing page: a dup of the listing cache's memfd while it is sent
 *   (the folder fd itself closes before the response goes out).
 * - After a lease break, a reflink copy of the rest of the file
 *   (O_TMPFILE in snapshot_dir) until the response completes; the
 *   broken entry's fd stays with it. Memory copies hold none.
 * - Passing opens inside one request (the folder, index and sidecar
 *   probes): closed before the request returns; in SF_FDLIMIT_BASE.
 *
 * So a connection goes past its socket only with an entry held after it
 * left the cache, a listing page or a rescue: rare, though the worst case
 * is 4 (socket, tail, the file being sent, a rescue's copy). The plan
 * counts 1 per connection and 1 per cached file, as nginx's
 * worker_connections and open_file_cache do, and leaves the rare second
 * descriptor to the net behind it: an open or accept that fails with
 * EMFILE first lets go of the cache entries nobody holds (fcache.h), so
 * one fails for good only when more distinct files are held at once than
 * the budget leaves: then the request gets 503 with Retry-After, and
 * accept pauses (worker.c). Nothing fails harder than that.
 */
#include "sfhttpd/fdlimit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "sfhttpd/log.h"

/* A log destination that is a file of its own (not "-", "off" or unset). */
static unsigned
is_file(const char *dest)
{
    return dest && strcmp(dest, "-") != 0 && strcasecmp(dest, "off") != 0;
}

/* What a worker holds for good beyond SF_FDLIMIT_BASE and the listing
 * cache: listeners, site roots (O_PATH), log files. */
static unsigned long long
fixed_part(const struct sf_config *cfg, bool *lists)
{
    unsigned long long n = SF_FDLIMIT_BASE + cfg->nlisten + cfg->nsites;
    n += is_file(cfg->error_log) + is_file(cfg->access_log);
    *lists = false;
    for (size_t i = 0; i < cfg->nsites; i++) {
        n += is_file(cfg->sites[i].access_log);
        *lists = *lists || cfg->sites[i].listing;
    }
    return n;
}

static unsigned long long
min_ull(unsigned long long a, unsigned long long b)
{
    return a < b ? a : b;
}

void
sf_fdlimit_plan(const struct sf_config *cfg, unsigned long long nofile, struct sf_fdlimit *fl)
{
    bool lists;
    unsigned long long fixed = fixed_part(cfg, &lists);
    unsigned long long left = nofile > fixed ? nofile - fixed : 0;
    unsigned long long dirs = 0;
    if (lists && cfg->listing_cache_size > 0) {
        dirs = min_ull(cfg->listing_cache_max, left / 4);
        if (dirs == 0)
            dirs = 1;
    }
    unsigned long long reserve = fixed + dirs;
    unsigned long long avail = nofile > reserve ? nofile - reserve : 0;
    unsigned long long nw = cfg->max_connections ? cfg->max_connections : SF_FDLIMIT_AUTO_MAX;
    unsigned long long mw =
        cfg->open_file_cache_max ? cfg->open_file_cache_max : SF_FDLIMIT_AUTO_MAX;
    unsigned long long n = nw, m = mw;
    if (nw + mw > avail) {
        /* the cache gives way first, but keeps a third */
        unsigned long long rest = avail > nw ? avail - nw : 0;
        m = min_ull(mw, rest > avail / 3 ? rest : avail / 3);
        n = min_ull(nw, avail - m);
    }
    n = n ? n : 1;
    m = m ? m : 1;
    fl->reserve = reserve > 0xffffffffULL ? 0xffffffffU : (unsigned)reserve;
    fl->max_connections = (unsigned)n;
    fl->open_file_cache_max = (size_t)m;
    fl->listing_cache_max = dirs ? (size_t)dirs : cfg->listing_cache_max;
    fl->capped_connections = cfg->max_connections && n < nw ? cfg->max_connections : 0;
    fl->capped_cache = cfg->open_file_cache_max && m < mw ? cfg->open_file_cache_max : 0;
}

int
sf_fdlimit_raise(struct sf_fdlimit *fl)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -errno;
    fl->was = fl->soft = rl.rlim_cur;
    fl->hard = rl.rlim_max;
    if (rl.rlim_cur == rl.rlim_max)
        return 0;
    rlim_t want = rl.rlim_max;
    if (want == RLIM_INFINITY) {
        /* the kernel takes no more than fs.nr_open */
        unsigned long long nr = 0;
        FILE *f = fopen("/proc/sys/fs/nr_open", "re");
        if (f) {
            if (fscanf(f, "%llu", &nr) != 1)
                nr = 0;
            fclose(f);
        }
        if (nr <= rl.rlim_cur)
            return 0;
        want = (rlim_t)nr;
    }
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -errno;
    fl->soft = want;
    return 0;
}

void
sf_fdlimit_get(const struct sf_config *cfg, struct sf_fdlimit *fl)
{
    struct rlimit rl = {0, 0};
    getrlimit(RLIMIT_NOFILE, &rl);
    fl->was = fl->soft = rl.rlim_cur;
    fl->hard = rl.rlim_max;
    sf_fdlimit_plan(cfg, fl->soft, fl);
}

/* A limit as a number, or "unlimited". */
static const char *
limit_str(unsigned long long v, char buf[24])
{
    if (v == (unsigned long long)RLIM_INFINITY)
        return "unlimited";
    snprintf(buf, 24, "%llu", v);
    return buf;
}

int
sf_fdlimit_format(const struct sf_fdlimit *fl, char *buf, size_t cap)
{
    char s[24], h[24];
    return snprintf(buf, cap,
                    "nofile %s/%s (soft/hard), max_connections %u, open_file_cache_max %zu, "
                    "listing_cache_max %zu, reserve %u",
                    limit_str(fl->soft, s), limit_str(fl->hard, h), fl->max_connections,
                    fl->open_file_cache_max, fl->listing_cache_max, fl->reserve);
}

void
sf_fdlimit_log(const struct sf_fdlimit *fl, struct sf_log *log)
{
    char line[256], was[24];
    sf_fdlimit_format(fl, line, sizeof(line));
    if (fl->was != fl->soft)
        sf_log_msg(log, SF_LOG_INFO,
                   "RLIMIT_NOFILE soft limit raised from %s to the hard limit: %s",
                   limit_str(fl->was, was), line);
    else
        sf_log_msg(log, SF_LOG_INFO, "descriptors: %s", line);
    if (fl->capped_connections)
        sf_log_msg(log, SF_LOG_WARN,
                   "max_connections = %u cannot fit RLIMIT_NOFILE %llu (reserve %u, 1 per "
                   "connection and 1 per cached file, open_file_cache_max %zu): using %u",
                   fl->capped_connections, fl->soft, fl->reserve, fl->open_file_cache_max,
                   fl->max_connections);
    if (fl->capped_cache)
        sf_log_msg(log, SF_LOG_WARN,
                   "open_file_cache_max = %zu cannot fit RLIMIT_NOFILE %llu (reserve %u, 1 per "
                   "connection and 1 per cached file, max_connections %u): using %zu",
                   fl->capped_cache, fl->soft, fl->reserve, fl->max_connections,
                   fl->open_file_cache_max);
}
