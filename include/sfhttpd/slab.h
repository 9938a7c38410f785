/*
 * slab.h - many small objects of one size (a worker's connections),
 * packed into blocks of their own, mapped from the kernel and unmapped
 * when their last object goes. From malloc's heap, ten thousand idle
 * connections would sit between libevent's per-fd slots (which live as
 * long as the event loop): after they close, hardly a page would be free
 * as a whole to give back. In blocks, closed connections give their
 * memory back to the system at once. One empty block is kept, so that a
 * connection opening and closing on a quiet server costs no mmap.
 */
#ifndef SFHTTPD_SLAB_H
#define SFHTTPD_SLAB_H

#include <stddef.h>

/* Bytes of one block (a multiple of the page size; aligned to itself). */
#define SF_SLAB_BLOCK (64 * 1024)

struct sf_slab_block;

struct sf_slab {
    size_t size; /* object size, rounded up to 16 */
    unsigned per_block;
    struct sf_slab_block *partial; /* blocks with a free object */
    struct sf_slab_block *spare;   /* an empty block kept, or NULL */
    size_t blocks;                 /* mapped, the spare included */
};

/* An empty slab for objects of size bytes (at most a few KiB). */
void sf_slab_init(struct sf_slab *s, size_t size);
/* A zeroed object, aligned to 16 bytes; NULL when out of memory. */
void *sf_slab_alloc(struct sf_slab *s);
/* Give p (from sf_slab_alloc of s) back; NULL is ignored. */
void sf_slab_free(struct sf_slab *s, void *p);
/* Unmap the spare block. */
void sf_slab_trim(struct sf_slab *s);
/* Unmap everything; every object must have been freed. */
void sf_slab_destroy(struct sf_slab *s);

#endif
