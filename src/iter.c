/*
 * Iteration: Go's mapiterinit and mapiternext.
 *
 * An iterator walks the bucket array that was current when it started
 * (Go's it.buckets), from a random bucket and a random slot offset, and
 * keeps going while the map is written and grows:
 *  - a bucket not yet evacuated is golden: its entries are current;
 *  - an evacuated slot still holds its key, which is looked up in the
 *    current map to get the live entry, or to learn it was deleted;
 *  - when the iterator started during a doubling growth, an old bucket
 *    that feeds two new ones is filtered to the entries of the new bucket
 *    being visited.
 * Each entry that exists throughout is thus returned exactly once.
 *
 * Unlike Go there is no GC to keep a retired array alive; map.c retains
 * arrays an iterator has touched (bounded), and every write bumps
 * m->wseq, so an iterator revalidates its pointers only after a write.
 */
#include "gomap_internal.h"

#define NO_CHECK SIZE_MAX

typedef struct iter {
    gomap *m;               /* NULL: nothing (more) to return */
    barray *arr;            /* the array the iteration walks (Go's it.buckets) */
    bmap *bptr;             /* bucket in progress, or NULL to start the next */
    bmap *bhead;            /* head of bptr's chain */
    uint64_t arr_serial;
    uint64_t bptr_serial;   /* serial of the array bptr lies in */
    size_t bucket;          /* next bucket index to start */
    size_t start_bucket;
    size_t check_bucket;    /* filter for a not-yet-split old bucket */
    uint64_t wseq;          /* m->wseq when pointers were last known good */
    uint64_t pending;       /* used slots of bptr not yet visited, valid while wseq holds */
    bmap *last_head, *last_b; /* the entry last returned, for gomap_iter_delete */
    uint32_t clear_seq;
    uint8_t B, offset, i, last_i;
    bool wrapped, have_last;
} iter;

_Static_assert(sizeof(iter) <= sizeof(((gomap_iter *)0)->opaque_),
               "gomap_iter.opaque_ is too small");
_Static_assert(alignof(iter) <= alignof(gomap_iter), "gomap_iter is underaligned");

static iter *as_iter(gomap_iter *it) { return (iter *)(void *)it->opaque_; }

/* Marks an array as possibly referenced by an iterator, so that map.c
 * retains it when it retires. Readers may run concurrently, hence the
 * relaxed atomic, and the load first so that steady-state iteration
 * writes nothing. */
static void mark_iterated(barray *a)
{
    if (a && !atomic_load_explicit(&a->iterated, memory_order_relaxed))
        atomic_store_explicit(&a->iterated, 1, memory_order_relaxed);
}

void gomap_iter_init(gomap_iter *git, gomap *m)
{
    iter *it = as_iter(git);
    memset(it, 0, sizeof *it);
    if (!m || m->count == 0)
        return;
    it->m = m;
    it->arr = m->buckets;
    it->arr_serial = m->buckets->serial;
    it->B = m->B;
    mark_iterated(m->buckets);
    mark_iterated(m->oldbuckets);
    uint64_t r = gm_rand64();
    it->start_bucket = r & gm_mask(m->B);
    it->offset = (uint8_t)((r >> m->B) & (BUCKET_CNT - 1));
    it->bucket = it->start_bucket;
    it->check_bucket = NO_CHECK;
    it->wseq = m->wseq;
    it->clear_seq = m->clear_seq;
}

/* After a write: are the iterator's pointers still good? False ends the
 * iteration. */
static bool revalidate(iter *it)
{
    gomap *m = it->m;
    if (it->clear_seq != m->clear_seq) {
        /* clear removed every entry present at the start. Go keeps going
         * over the same storage for entries added since; that is only
         * possible when our array is still the current one. */
        if (!m->buckets || m->buckets->serial != it->arr_serial)
            return false;
        it->bptr = NULL; /* its overflow bucket may now be reused */
        it->clear_seq = m->clear_seq;
    }
    if (!gm_array_alive(m, it->arr_serial))
        return false; /* retention bound exceeded: see retire() in map.c */
    if (it->bptr && !gm_array_alive(m, it->bptr_serial))
        it->bptr = NULL;
    it->wseq = m->wseq;
    return true;
}

static bool finish(iter *it)
{
    it->m = NULL;
    it->have_last = false;
    return false;
}

static bool next_slow(iter *it, const void **key, void **val);

GM_HOT bool gomap_iter_next(gomap_iter *git, const void **key, void **val)
{
    iter *it = as_iter(git);
    gomap *m = it->m;
    if (!m)
        return false;
    if (it->wseq == m->wseq && it->pending && it->check_bucket == NO_CHECK) {
        /* Fast path: nothing written since the last call, and the bucket
         * in hand has more used slots. Golden entries are returned as
         * they are; anything else takes the general path below. */
        bmap *b = it->bptr;
        unsigned p = gm_slot_of(it->pending);
        unsigned offi = (p + it->offset) & (BUCKET_CNT - 1);
        if (b->tophash[offi] >= MIN_TOPHASH) {
            it->pending &= it->pending - 1;
            it->i = (uint8_t)(p + 1);
            it->last_head = it->bhead;
            it->last_b = b;
            it->last_i = (uint8_t)offi;
            it->have_last = true;
            if (key)
                *key = gm_key(m, b, offi, KIND_GENERIC);
            if (val)
                *val = gm_val(m, b, offi, KIND_GENERIC);
            return true;
        }
    }
    return next_slow(it, key, val);
}

/* Go's mapiternext: a new bucket, a write since the last call, or an
 * entry that is not plain golden data. Kept out of line so that the fast
 * path above needs no stack frame. */
__attribute__((noinline)) static bool next_slow(iter *it, const void **key, void **val)
{
    gomap *m = it->m;
    it->have_last = false;
    it->pending = 0;
    if (it->wseq != m->wseq && !revalidate(it))
        return finish(it);

    bmap *b = it->bptr, *head = it->bhead;
    size_t bucket = it->bucket;
    unsigned i = it->i;
    size_t check = it->check_bucket;
    uint64_t bser = it->bptr_serial;
    size_t nb = (size_t)1 << it->B;

    for (;;) {
        if (!b) {
            if (bucket == it->start_bucket && it->wrapped)
                return finish(it);
            if (gm_growing(m) && it->B == m->B) {
                /* Started during this growth: read the old bucket while
                 * it still holds the entries. */
                b = gm_bucket(m->oldbuckets, bucket & gm_oldmask(m), m->bsize);
                if (!gm_evacuated(b)) {
                    check = bucket;
                    bser = m->oldbuckets->serial;
                } else {
                    b = gm_bucket(it->arr, bucket, m->bsize);
                    check = NO_CHECK;
                    bser = it->arr_serial;
                }
            } else {
                b = gm_bucket(it->arr, bucket, m->bsize);
                check = NO_CHECK;
                bser = it->arr_serial;
            }
            head = b;
            if (++bucket == nb) {
                bucket = 0;
                it->wrapped = true;
            }
            i = 0;
        }
        /* Slots still to visit, in visiting order: position p is slot
         * (p + offset) % 8, so rotate the used-slot mask by the offset. */
        uint64_t used = gm_bytes_used(gm_topword(b));
        unsigned rot = 8u * it->offset;
        used = rot ? (used >> rot | used << (64 - rot)) : used;
        used &= i < BUCKET_CNT ? ~0ull << (8 * i) : 0;
        for (; used; used &= used - 1) {
            unsigned p = gm_slot_of(used);
            unsigned offi = (p + it->offset) & (BUCKET_CNT - 1);
            uint8_t top = b->tophash[offi];
            const void *k = gm_key(m, b, offi, KIND_GENERIC);
            if (!k)
                continue; /* indirect storage moved on; only in arrays no iterator saw */
            bool evacuated = top == EVAC_X || top == EVAC_Y;
            bool reflexive = true;
            if (check != NO_CHECK && !(m->flags & FLAG_SAME_SIZE_GROW)) {
                /* This old bucket splits in two; keep the entries bound
                 * for the new bucket being visited. */
                reflexive = gm_reflexive(m, k, KIND_GENERIC);
                if (reflexive) {
                    if ((gm_key_hash(m, k, KIND_GENERIC) & gm_mask(it->B)) != check)
                        continue;
                } else if ((check >> (it->B - 1)) != (size_t)(top & 1)) {
                    continue;
                }
            } else if (evacuated) {
                reflexive = gm_reflexive(m, k, KIND_GENERIC);
            }
            void *v;
            gm_loc loc = {head, b, offi};
            if (!evacuated || !reflexive) {
                /* Golden data; or a NaN-like key, which cannot be deleted
                 * or updated, so the copy here is as good as any. */
                v = gm_val(m, b, offi, KIND_GENERIC);
            } else {
                /* Evacuated since the iteration began: the live entry is
                 * elsewhere, or gone. */
                const void *rk;
                v = gm_access_k(m, k, &rk, &loc);
                if (!v)
                    continue;
                k = rk;
            }
            it->bucket = bucket;
            it->bptr = b;
            it->bhead = head;
            it->bptr_serial = bser;
            it->i = (uint8_t)(p + 1);
            it->pending = used & (used - 1);
            it->check_bucket = check;
            it->last_head = loc.first;
            it->last_b = loc.b;
            it->last_i = (uint8_t)loc.i;
            it->have_last = true;
            if (key)
                *key = k;
            if (val)
                *val = v;
            return true;
        }
        b = b->overflow;
        i = 0;
    }
}

bool gomap_iter_delete(gomap_iter *git)
{
    iter *it = as_iter(git);
    gomap *m = it->m;
    if (!m || !it->have_last || it->wseq != m->wseq)
        return false;
    it->have_last = false;
    /* By location, not by key: a NaN-like key could never be found again,
     * yet the entry the iteration just returned can always be removed. */
    gm_loc loc = {it->last_head, it->last_b, it->last_i};
    return gm_delete_at(m, &loc);
}
