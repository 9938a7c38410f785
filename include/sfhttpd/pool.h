/*
 * pool.h - a per-worker free list of fixed-size objects, bounded, for
 * what a connection needs only while a request is in flight (its header
 * buffer, parser and response: conn.c). An object goes back to the pool
 * when its connection idles and comes out again, as it was left, for the
 * next request of any connection: no malloc, no zero-fill per request.
 * At most keep free objects stay; more are freed at once, and
 * sf_pool_shrink gives back the spare ones after a burst.
 *
 * Also the worker's decision when to give memory back to the system
 * (sf_reclaim): after the connection count fell a lot since the last
 * time, not on every close.
 */
#ifndef SFHTTPD_POOL_H
#define SFHTTPD_POOL_H

#include <stdbool.h>
#include <stddef.h>

/* Called once when an object is made (init) and once before it is freed
 * (fini), with the pool's arg. */
typedef void (*sf_pool_obj_fn)(void *obj, const void *arg);

struct sf_pool_item;

struct sf_pool {
    size_t size;    /* bytes of each object */
    unsigned keep;  /* free objects kept at most */
    unsigned nfree; /* on the free list */
    unsigned out;   /* handed out, not yet put back */
    struct sf_pool_item *free;
    sf_pool_obj_fn init, fini;
    const void *arg;
};

/* Set up an empty pool of size-byte objects (no allocation yet). init
 * and fini may be NULL. */
void sf_pool_init(struct sf_pool *p, size_t size, unsigned keep, sf_pool_obj_fn init,
                  sf_pool_obj_fn fini, const void *arg);
/* An object: the last one put back, as it was put back, or a new one
 * just made by init. NULL when out of memory. Aligned for any type. */
void *sf_pool_get(struct sf_pool *p);
/* Give obj (from sf_pool_get of p) back: kept for the next get, or
 * freed when keep are already free. */
void sf_pool_put(struct sf_pool *p, void *obj);
/* Free spare objects until at most keep are left on the free list. */
void sf_pool_shrink(struct sf_pool *p, unsigned keep);
/* Free every free object; all must have been put back. NULL-safe on an
 * unused (zeroed) pool. */
void sf_pool_destroy(struct sf_pool *p);

/*
 * When to give memory back: note every rise of the connection count
 * (sf_reclaim_note); sf_reclaim_due, asked now and then (the worker's
 * one-second tick, which debounces it), says yes once the count fell to
 * half of the highest since the last yes and by at least min_drop.
 */
struct sf_reclaim {
    unsigned peak;     /* highest count since the last reclaim */
    unsigned min_drop; /* smaller drops are not worth a trim */
};

static inline void
sf_reclaim_note(struct sf_reclaim *r, unsigned n)
{
    if (n > r->peak)
        r->peak = n;
}

bool sf_reclaim_due(struct sf_reclaim *r, unsigned n);

#endif
