/*
 * slab.c - fixed-size objects in self-aligned blocks (slab.h). A block
 * starts with its header; an object finds its block by rounding its
 * address down to SF_SLAB_BLOCK. Free objects of a block are linked
 * through their first word; objects never handed out yet are taken in
 * order (fresh), so a new block is touched only as far as it is used.
 */
#include "sfhttpd/slab.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

struct sf_slab_block {
    struct sf_slab_block *prev, *next; /* in partial, while on it */
    void *free;                        /* freed objects */
    unsigned used;                     /* objects handed out */
    unsigned fresh;                    /* objects [fresh, per_block) never used */
    unsigned char *objs;
};

#define HDR_SIZE ((sizeof(struct sf_slab_block) + 15) & ~(size_t)15)

void
sf_slab_init(struct sf_slab *s, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size < sizeof(void *))
        size = sizeof(void *);
    assert(size <= (SF_SLAB_BLOCK - HDR_SIZE) / 4);
    *s = (struct sf_slab){.size = size, .per_block = (unsigned)((SF_SLAB_BLOCK - HDR_SIZE) / size)};
}

/* A block aligned to its size: map twice as much, unmap the rest. */
static struct sf_slab_block *
block_map(void)
{
    size_t len = 2 * SF_SLAB_BLOCK;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uintptr_t a = ((uintptr_t)p + SF_SLAB_BLOCK - 1) & ~(uintptr_t)(SF_SLAB_BLOCK - 1);
    size_t head = a - (uintptr_t)p;
    if (head)
        munmap(p, head);
    if (SF_SLAB_BLOCK - head)
        munmap((unsigned char *)a + SF_SLAB_BLOCK, SF_SLAB_BLOCK - head);
    return (struct sf_slab_block *)a;
}

static void
unlink_partial(struct sf_slab *s, struct sf_slab_block *b)
{
    if (b->prev)
        b->prev->next = b->next;
    else
        s->partial = b->next;
    if (b->next)
        b->next->prev = b->prev;
    b->prev = b->next = NULL;
}

static void
push_partial(struct sf_slab *s, struct sf_slab_block *b)
{
    b->prev = NULL;
    b->next = s->partial;
    if (s->partial)
        s->partial->prev = b;
    s->partial = b;
}

void *
sf_slab_alloc(struct sf_slab *s)
{
    struct sf_slab_block *b = s->partial;
    if (!b) {
        b = s->spare;
        s->spare = NULL;
        if (!b) {
            b = block_map();
            if (!b)
                return NULL;
            s->blocks++;
            /* fresh pages from mmap are zero */
            *b = (struct sf_slab_block){.objs = (unsigned char *)b + HDR_SIZE};
        }
        push_partial(s, b);
    }
    void *p;
    if (b->free) {
        p = b->free;
        b->free = *(void **)p;
    } else {
        assert(b->fresh < s->per_block);
        p = b->objs + (size_t)b->fresh++ * s->size;
    }
    b->used++;
    if (b->used == s->per_block)
        unlink_partial(s, b);
    memset(p, 0, s->size);
    return p;
}

void
sf_slab_free(struct sf_slab *s, void *p)
{
    if (!p)
        return;
    struct sf_slab_block *b =
        (struct sf_slab_block *)((uintptr_t)p & ~(uintptr_t)(SF_SLAB_BLOCK - 1));
    assert(b->used > 0);
    bool was_full = b->used == s->per_block;
    *(void **)p = b->free;
    b->free = p;
    b->used--;
    if (was_full)
        push_partial(s, b);
    if (b->used)
        return;
    /* empty: keep it as the spare, or give it back */
    unlink_partial(s, b);
    if (!s->spare) {
        s->spare = b;
        return;
    }
    munmap(b, SF_SLAB_BLOCK);
    s->blocks--;
}

void
sf_slab_trim(struct sf_slab *s)
{
    if (s->spare) {
        munmap(s->spare, SF_SLAB_BLOCK);
        s->spare = NULL;
        s->blocks--;
    }
}

void
sf_slab_destroy(struct sf_slab *s)
{
    assert(!s->partial);
    sf_slab_trim(s);
    assert(s->blocks == 0);
}
