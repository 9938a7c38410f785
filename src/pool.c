/*
 * pool.c - bounded free lists of fixed-size objects (pool.h). Each
 * object sits behind a small header that links it while free, so that
 * the object's own bytes stay as its user left them.
 */
#include "sfhttpd/pool.h"

#include <assert.h>
#include <stdalign.h>
#include <stdlib.h>

struct sf_pool_item {
    struct sf_pool_item *next;
    alignas(max_align_t) unsigned char obj[];
};

static struct sf_pool_item *
item_of(void *obj)
{
    return (struct sf_pool_item *)(void *)((unsigned char *)obj -
                                           offsetof(struct sf_pool_item, obj));
}

void
sf_pool_init(struct sf_pool *p, size_t size, unsigned keep, sf_pool_obj_fn init,
             sf_pool_obj_fn fini, const void *arg)
{
    *p = (struct sf_pool){.size = size, .keep = keep, .init = init, .fini = fini, .arg = arg};
}

void *
sf_pool_get(struct sf_pool *p)
{
    struct sf_pool_item *it = p->free;
    if (it) {
        p->free = it->next;
        p->nfree--;
    } else {
        it = malloc(sizeof(*it) + p->size);
        if (!it)
            return NULL;
        if (p->init)
            p->init(it->obj, p->arg);
    }
    p->out++;
    return it->obj;
}

static void
release(struct sf_pool *p, struct sf_pool_item *it)
{
    if (p->fini)
        p->fini(it->obj, p->arg);
    free(it);
}

void
sf_pool_put(struct sf_pool *p, void *obj)
{
    assert(p->out > 0);
    p->out--;
    struct sf_pool_item *it = item_of(obj);
    if (p->nfree >= p->keep) {
        release(p, it);
        return;
    }
    it->next = p->free;
    p->free = it;
    p->nfree++;
}

void
sf_pool_shrink(struct sf_pool *p, unsigned keep)
{
    while (p->nfree > keep) {
        struct sf_pool_item *it = p->free;
        p->free = it->next;
        p->nfree--;
        release(p, it);
    }
}

void
sf_pool_destroy(struct sf_pool *p)
{
    assert(p->out == 0);
    sf_pool_shrink(p, 0);
}

bool
sf_reclaim_due(struct sf_reclaim *r, unsigned n)
{
    if (n > r->peak)
        r->peak = n;
    if (r->peak - n < r->min_drop || n > r->peak / 2)
        return false;
    r->peak = n;
    return true;
}
