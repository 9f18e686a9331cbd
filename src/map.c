/*
 * The map proper: creation, lookup, assignment, deletion, clear, and growth
 * by incremental evacuation. The logic follows Go's runtime/map.go (1.19 to
 * 1.21) function by function; the names in comments (mapassign, evacuate,
 * ...) are Go's.
 *
 * Two things Go gets from its garbage collector are done by hand here:
 *  - A retired bucket array may still be walked by an iterator. Arrays an
 *    iterator has touched are kept ("retained") instead of freed, within a
 *    bound; see retain().
 *  - Keys and values over 128 bytes live in their own allocations. An
 *    array owns the allocations its slots point to; evacuation moves the
 *    pointer, or copies the data when an iterator may still read the old
 *    slot.
 */
#include "gomap_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

/* Retired arrays kept for iterators may total this much beyond twice the
 * current array (a doubling chain alone is below one current array). */
#define RETAIN_SLACK (64u * 1024u)
#define RETAIN_MAX 32u

/* Key and value copies up to this size go on the stack. */
#define STACK_COPY 256u

/* ------------------------------------------------------------ growth rules */

/* overLoadFactor: more than 6.5 entries per bucket on average, in Go's
 * exact integer form: count > 8 && count > 13 * (2^B / 2). */
static bool over_load_factor(size_t count, unsigned B)
{
    if (count <= BUCKET_CNT)
        return false;
    if (B >= sizeof(size_t) * 8 - 5)
        return false;
    return count > 13 * (((size_t)1 << B) / 2);
}

/* tooManyOverflowBuckets: as many overflow buckets as regular ones (capped
 * at 2^15), the sign of many deletes; a same-size growth compacts them. */
static bool too_many_overflow(size_t noverflow, unsigned B)
{
    if (B > 15)
        B = 15;
    return noverflow >= ((size_t)1 << B);
}

/* B, with the two growth thresholds precomputed for the fast path:
 * over_load_factor(n, B) is n > load_limit, too_many_overflow is
 * noverflow >= ovf_limit. */
static void set_B(gomap *m, unsigned B)
{
    m->B = (uint8_t)B;
    m->mask = gm_mask(B);
    size_t lf = B >= sizeof(size_t) * 8 - 5 ? SIZE_MAX : 13 * (((size_t)1 << B) / 2);
    m->load_limit = lf > BUCKET_CNT ? lf : BUCKET_CNT;
    m->ovf_limit = (size_t)1 << (B > 15 ? 15 : B);
}

/* The current array, with the address of its first bucket cached for
 * the lookup path. */
static void set_buckets(gomap *m, barray *a)
{
    m->buckets = a;
    m->bdata = a ? a->data : NULL;
    m->tops = a ? a->tops : NULL;
}

/* ------------------------------------------------------------ arrays */

/* Large arrays come straight from mmap, 2 MiB aligned and marked for
 * transparent huge pages: a lookup in a big map is one random access, and
 * with 4 KiB pages each one is also a TLB miss and a page walk. Fresh
 * anonymous memory is already zero, like calloc's. */
#define HUGE_PAGE (2u * 1024u * 1024u)
#define MMAP_MIN (4u * 1024u * 1024u)

static void *array_alloc(size_t bytes, size_t *mapped)
{
    *mapped = 0;
    if (bytes < MMAP_MIN)
        return calloc(1, bytes);
    if (bytes > SIZE_MAX - 2 * (size_t)HUGE_PAGE)
        return NULL; /* the rounding below would wrap */
    size_t len = (bytes + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
    unsigned char *p = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    size_t lead = (HUGE_PAGE - ((uintptr_t)p & (HUGE_PAGE - 1))) & (HUGE_PAGE - 1);
    if (lead)
        munmap(p, lead);
    if (HUGE_PAGE - lead)
        munmap(p + lead + len, HUGE_PAGE - lead);
    p += lead;
    (void)madvise(p, len, MADV_HUGEPAGE); /* advice only: fine if refused */
    *mapped = len;
    return p;
}

static void array_release(barray *a)
{
    if (a->mapped)
        munmap(a, a->mapped);
    else
        free(a);
}

static barray *barray_new(gomap *m, unsigned B)
{
    if (B >= sizeof(size_t) * 8 - 8)
        return NULL;
    size_t nb = (size_t)1 << B;
    size_t npre = B >= 4 ? (size_t)1 << (B - 4) : 0; /* Go's preallocated overflow */
    size_t n = nb + npre;
    /* buckets, then the tophash index; bsize is a multiple of 16, so the
     * index is aligned */
    if (n > (SIZE_MAX - sizeof(barray)) / (m->bsize + sizeof(uint64_t)))
        return NULL;
    size_t bytes = sizeof(barray) + n * m->bsize + nb * sizeof(uint64_t);
    size_t mapped;
    barray *a = array_alloc(bytes, &mapped);
    if (!a)
        return NULL;
    /* Zeroed memory: every bucket and every index word is EMPTY_REST. */
    a->tops = (uint64_t *)(void *)(a->data + n * m->bsize);
    a->mapped = mapped;
    a->serial = ++m->next_serial;
    a->nbuckets = nb;
    a->bytes = bytes;
    a->pre_next = a->data + nb * m->bsize;
    a->pre_end = a->data + n * m->bsize;
    a->avail = npre;
    return a;
}

/* Frees the out-of-line keys and values an array owns: those of live
 * slots, and of evacuated slots that kept a copy for iterators. */
static void barray_free_blobs(const gomap *m, barray *a)
{
    for (size_t i = 0; i < a->nbuckets; i++) {
        for (bmap *b = gm_bucket(a, i, m->bsize); b; b = b->overflow) {
            for (unsigned j = 0; j < BUCKET_CNT; j++) {
                uint8_t top = b->tophash[j];
                if (top < EVAC_X || top == EVAC_EMPTY)
                    continue;
                if (m->ikey) {
                    free(gm_key(m, b, j, KIND_GENERIC));
                    memset(gm_kslot(m, b, j, KIND_GENERIC), 0, sizeof(void *));
                }
                if (m->ival) {
                    free(gm_val(m, b, j, KIND_GENERIC));
                    memset(gm_vslot(m, b, j, KIND_GENERIC), 0, sizeof(void *));
                }
            }
        }
    }
}

static void barray_free(const gomap *m, barray *a)
{
    if (!a)
        return;
    if (m->ikey || m->ival)
        barray_free_blobs(m, a);
    for (ovf_slab *s = a->slabs, *next; s; s = next) {
        next = s->next;
        free(s);
    }
    array_release(a);
}

/* Makes sure n overflow buckets can be taken without failing, so that
 * evacuation either completes or changes nothing. */
static bool ovf_reserve(const gomap *m, barray *a, size_t n)
{
    if (a->avail >= n)
        return true;
    /* Beyond the preallocated tail, overflow is the exception (Go
     * allocates such buckets one by one): small slabs, so a big map that
     * needs a few more does not pay for many. */
    size_t k = n - a->avail;
    if (k < 8)
        k = 8;
    size_t bytes = sizeof(ovf_slab) + k * m->bsize;
    ovf_slab *s = malloc(bytes);
    if (!s)
        return false;
    s->bytes = bytes;
    s->next = a->slabs;
    a->slabs = s;
    a->bytes += bytes;
    for (size_t i = 0; i < k; i++) {
        bmap *b = (bmap *)(void *)(s->data + i * m->bsize);
        b->overflow = a->free_ovf;
        a->free_ovf = b;
    }
    a->avail += k;
    return true;
}

/* newoverflow: chains a fresh overflow bucket after b. The caller has
 * reserved it. */
static bmap *ovf_take(gomap *m, barray *a, bmap *b)
{
    bmap *o;
    if (a->free_ovf) {
        o = a->free_ovf;
        a->free_ovf = o->overflow;
    } else {
        o = (bmap *)(void *)a->pre_next;
        a->pre_next += m->bsize;
    }
    a->avail--;
    memset(o->tophash, EMPTY_REST, sizeof o->tophash);
    o->overflow = NULL;
    b->overflow = o;
    m->noverflow++;
    return o;
}

/* Returns every overflow bucket of a to its free pool (clear keeps the
 * storage). The caller has already cut the chains. */
static void ovf_reset(const gomap *m, barray *a)
{
    size_t npre = (size_t)(a->pre_end - (a->data + a->nbuckets * m->bsize)) / m->bsize;
    a->pre_next = a->data + a->nbuckets * m->bsize;
    a->free_ovf = NULL;
    a->avail = npre;
    for (ovf_slab *s = a->slabs; s; s = s->next) {
        size_t k = (s->bytes - sizeof(ovf_slab)) / m->bsize;
        for (size_t i = 0; i < k; i++) {
            bmap *b = (bmap *)(void *)(s->data + i * m->bsize);
            b->overflow = a->free_ovf;
            a->free_ovf = b;
        }
        a->avail += k;
    }
}

/* ------------------------------------------------------------ retention */

/* An iterator keeps walking the array that was current when it started
 * (Go's it.buckets), even after the map has moved on. Go's GC keeps such
 * arrays alive; here an array an iterator has touched is retained when it
 * retires. Since an iterator has no destroy call, nobody can say when the
 * last one is done with it, so retention is bounded instead: at most about
 * twice the current array in bytes, and RETAIN_MAX arrays. A doubling
 * chain of retired arrays always fits (it sums to less than one current
 * array). Past the bound the largest retained arrays go first (of equals,
 * the oldest): they free the most for the fewest iterations, and a small
 * old array is as likely to be walked by a long iteration still open as
 * by one long abandoned. An iteration whose array went ends
 * (gm_array_alive, iter.c).
 *
 * Counting the iterations still open on each array (one that ends gives
 * its count back) would also free the arrays of finished iterations at
 * once. Measured and not kept: readers may iterate one map concurrently,
 * and a shared count made two threads iterating an 8-entry map 4.5 times
 * slower (42 -> 190 ns per iteration); counts striped a cache line apart
 * fixed that but added 576 bytes to every bucket array, about 550 MB over
 * the million small maps of the shim's maps1m benchmark. */
static void retained_drop(gomap *m, size_t i)
{
    barray *a = m->retained[i];
    m->retained_bytes -= a->bytes;
    memmove(m->retained + i, m->retained + i + 1, (m->nretained - i - 1) * sizeof *m->retained);
    m->nretained--;
    barray_free(m, a);
}

static void retained_free_all(gomap *m)
{
    for (size_t i = 0; i < m->nretained; i++)
        barray_free(m, m->retained[i]);
    m->nretained = 0;
    m->retained_bytes = 0;
}

static void retire(gomap *m, barray *a)
{
    if (!atomic_load_explicit(&a->iterated, memory_order_relaxed)) {
        barray_free(m, a);
        return;
    }
    size_t cap = 2 * m->buckets->bytes + RETAIN_SLACK;
    if (a->bytes > cap) {
        barray_free(m, a);
        return;
    }
    while (m->nretained > 0 && (m->retained_bytes + a->bytes > cap || m->nretained >= RETAIN_MAX)) {
        size_t big = 0; /* the largest; of equals, the oldest */
        for (size_t i = 1; i < m->nretained; i++)
            if (m->retained[i]->bytes > m->retained[big]->bytes)
                big = i;
        retained_drop(m, big);
    }
    if (m->nretained == m->retained_cap) {
        size_t ncap = m->retained_cap ? m->retained_cap * 2 : 4;
        barray **r = realloc(m->retained, ncap * sizeof *r);
        if (!r) {
            barray_free(m, a);
            return;
        }
        m->retained = r;
        m->retained_cap = ncap;
    }
    m->retained[m->nretained++] = a;
    m->retained_bytes += a->bytes;
}

bool gm_array_alive(const gomap *m, uint64_t serial)
{
    if (m->buckets && m->buckets->serial == serial)
        return true;
    if (m->oldbuckets && m->oldbuckets->serial == serial)
        return true;
    for (size_t i = 0; i < m->nretained; i++)
        if (m->retained[i]->serial == serial)
            return true;
    return false;
}

/* ------------------------------------------------------------ evacuation */

/* evacuate: moves every entry of old bucket `oldbucket` to the new array,
 * to the same index (X) or, when doubling, possibly to index + 2^oldB (Y)
 * depending on the next hash bit. The old slots are marked EVAC_X/EVAC_Y;
 * their keys stay readable, since an iterator may still look there. */
GM_INLINE int evacuate_impl(gomap *m, size_t oldbucket, int kind)
{
    barray *old = m->oldbuckets, *nw = m->buckets;
    size_t newbit = old->nbuckets;
    bool same = m->flags & FLAG_SAME_SIZE_GROW;
    const size_t bsize = gm_bsize(m, kind);
    if (gm_word_evacuated(old->tops[oldbucket]))
        return 0;
    bmap *b = gm_bucket(old, oldbucket, bsize);

    /* Reserve first: from here on nothing may fail half-way. A chain of
     * n buckets fills at most n + 1 destination buckets, X and Y together. */
    size_t chain = 0;
    for (bmap *c = b; c; c = c->overflow)
        chain++;
    if (!ovf_reserve(m, nw, chain + 1))
        return GOMAP_ENOMEM;
    bool copy_blobs = kind == KIND_GENERIC && (m->ikey || m->ival) &&
                      atomic_load_explicit(&old->iterated, memory_order_relaxed);
    size_t live = 0;
    if (copy_blobs)
        for (bmap *c = b; c; c = c->overflow)
            live += (size_t)__builtin_popcountll(gm_bytes_used(gm_topword(c)));
    void **blobs = NULL;
    size_t nblobs = 0, used = 0;
    if (copy_blobs && live > 0) {
        nblobs = live * ((size_t)m->ikey + m->ival);
        blobs = malloc(nblobs * sizeof *blobs);
        if (!blobs)
            return GOMAP_ENOMEM;
        for (size_t i = 0; i < nblobs; i++) {
            bool is_key = m->ikey && (!m->ival || i % 2 == 0);
            blobs[i] = malloc(is_key ? m->ks : m->vs ? m->vs : 1);
            if (!blobs[i]) {
                while (i > 0)
                    free(blobs[--i]);
                free(blobs);
                return GOMAP_ENOMEM;
            }
        }
    }

    struct dst { bmap *b; unsigned i; } d[2];
    bmap *const first = b;
    bmap *const x = gm_bucket(nw, oldbucket, bsize);
    bmap *const y = same ? NULL : gm_bucket(nw, oldbucket + newbit, bsize);
    d[0].b = x;
    d[0].i = 0;
    d[1].b = y;
    d[1].i = 0;

    for (; b; b = b->overflow) {
        /* Visit only the live slots (a mask, not 8 unpredictable branches)
         * and write all 8 evacuation marks at once at the end: EVAC_EMPTY
         * for the empty slots, EVAC_X or EVAC_Y for the moved ones. */
        uint64_t live = gm_bytes_used(gm_topword(b)); /* no EVAC marks here yet */
        uint64_t marks = (GM_LSB * EVAC_EMPTY) & ~((live >> 7) * 0xFF);
        for (; live; live &= live - 1) {
            unsigned i = gm_slot_of(live);
            uint8_t top = b->tophash[i];
            void *k = gm_key(m, b, i, kind);
            unsigned use_y = 0;
            if (!same) {
                uint64_t hash = gm_key_hash(m, k, kind);
                if (!gm_reflexive(m, k, kind)) {
                    /* NaN-like key: its hash is not repeatable, so the
                     * direction comes from the old tophash's low bit, which
                     * an iterator can recompute (see iter.c). */
                    use_y = top & 1;
                    top = gm_tophash(hash);
                } else {
                    use_y = (hash & newbit) != 0;
                }
            }
            marks |= (uint64_t)(EVAC_X + use_y) << (8 * i);
            struct dst *dst = &d[use_y];
            if (dst->i == BUCKET_CNT) {
                dst->b = ovf_take(m, nw, dst->b);
                dst->i = 0;
            }
            dst->b->tophash[dst->i] = top;
            unsigned char *dk = gm_kslot(m, dst->b, dst->i, kind);
            unsigned char *sk = gm_kslot(m, b, i, kind);
            unsigned char *dv = gm_vslot(m, dst->b, dst->i, kind);
            unsigned char *sv = gm_vslot(m, b, i, kind);
            if (kind == KIND_GENERIC && m->ikey) {
                if (copy_blobs) {
                    void *nk = blobs[used++];
                    memcpy(nk, k, m->ks);
                    memcpy(dk, &nk, sizeof nk);
                } else {
                    memcpy(dk, sk, sizeof(void *));
                    memset(sk, 0, sizeof(void *)); /* ownership moved */
                }
            } else {
                gm_copy(dk, sk, gm_kind_k64(kind) ? 8 : kind == KIND_K32 ? 4 : m->ks);
            }
            if (kind == KIND_GENERIC && m->ival) {
                if (copy_blobs) {
                    void *nv = blobs[used++];
                    memcpy(nv, gm_val(m, b, i, kind), m->vs);
                    memcpy(dv, &nv, sizeof nv);
                } else {
                    memcpy(dv, sv, sizeof(void *));
                    memset(sv, 0, sizeof(void *));
                }
            } else {
                gm_copy(dv, sv, kind == KIND_KV64 ? 8 : m->vs);
            }
            dst->i++;
        }
        memcpy(b->tophash, &marks, sizeof marks);
    }
    old->tops[oldbucket] = gm_topword(first);
    nw->tops[oldbucket] = gm_topword(x);
    if (y)
        nw->tops[oldbucket + newbit] = gm_topword(y);
    if (blobs) {
        while (used < nblobs) /* a key reported live that was not: cannot happen */
            free(blobs[used++]);
        free(blobs);
    }
    return 0;
}

static int evacuate(gomap *m, size_t oldbucket)
{
    switch (m->kind) {
    case KIND_KV64: return evacuate_impl(m, oldbucket, KIND_KV64);
    case KIND_K64: return evacuate_impl(m, oldbucket, KIND_K64);
    case KIND_K32: return evacuate_impl(m, oldbucket, KIND_K32);
    default: return evacuate_impl(m, oldbucket, KIND_GENERIC);
    }
}

/* advanceEvacuationMark: moves nevacuate past evacuated buckets and ends
 * the growth when every old bucket is done. */
static void advance_evacuation_mark(gomap *m)
{
    barray *old = m->oldbuckets;
    size_t newbit = old->nbuckets;
    m->nevacuate++;
    size_t stop = m->nevacuate + 1024;
    if (stop > newbit)
        stop = newbit;
    while (m->nevacuate != stop && gm_word_evacuated(old->tops[m->nevacuate]))
        m->nevacuate++;
    if (m->nevacuate == newbit) {
        m->oldbuckets = NULL;
        m->flags &= (uint8_t)~FLAG_SAME_SIZE_GROW;
        retire(m, old);
    }
}

/* growWork: evacuate the old bucket the caller is about to use, and one
 * more, so that growth finishes after at most 2^oldB writes. */
static int grow_work(gomap *m, size_t bucket)
{
    size_t ob = bucket & gm_oldmask(m);
    /* The bucket about to be used is a random one, cold in cache, as are
     * its destinations; the "one more" is the next in order. Ask for the
     * cold lines first and do the sequential bucket while they arrive: the
     * order of the two evacuations does not matter, only that both happen
     * before the write. */
    const barray *old = m->oldbuckets;
    const char *src = (const char *)gm_bucket(old, ob, m->bsize);
    const char *x = (const char *)gm_bucket(m->buckets, ob, m->bsize);
    const char *y = (m->flags & FLAG_SAME_SIZE_GROW)
                        ? NULL
                        : (const char *)gm_bucket(m->buckets, ob + old->nbuckets, m->bsize);
    for (size_t off = 0; off < m->bsize && off < 256; off += 64) {
        __builtin_prefetch(src + off);
        __builtin_prefetch(x + off, 1);
        if (y)
            __builtin_prefetch(y + off, 1);
    }
    if (m->nevacuate != ob) {
        int err = evacuate(m, m->nevacuate);
        if (err)
            return err;
        advance_evacuation_mark(m);
        if (!gm_growing(m))
            return 0;
    }
    int err = evacuate(m, ob);
    if (err)
        return err;
    if (ob == m->nevacuate)
        advance_evacuation_mark(m);
    return 0;
}

/* hashGrow: start a growth. Double the array when over the load factor,
 * otherwise (too many overflow buckets) rebuild it at the same size. The
 * entries move later, a bucket or two per write. */
static int hash_grow(gomap *m)
{
    unsigned bigger = over_load_factor(m->count + 1, m->B) ? 1 : 0;
    barray *nw = barray_new(m, m->B + bigger);
    if (!nw)
        return GOMAP_ENOMEM;
    m->oldbuckets = m->buckets;
    set_buckets(m, nw);
    set_B(m, m->B + bigger);
    m->flags = bigger ? 0 : FLAG_SAME_SIZE_GROW;
    m->nevacuate = 0;
    m->noverflow = 0;
    return 0;
}

/* ------------------------------------------------------------ access */

/* mapaccess: the value for key, or NULL; *kout (if asked) gets the stored
 * key. Read-only: it never writes the map, so readers may run in parallel.
 * Always inlined into each public entry point with a constant kind, so
 * the 8-byte-key path is straight-line code with no calls. */
GM_INLINE void *access_impl(const gomap *m, const void *key, const void **kout, gm_loc *loc,
                            int kind)
{
    uint64_t hash = gm_key_hash(m, key, kind);
    size_t idx = hash & m->mask;
    const unsigned char *data = m->bdata;
    uint64_t w = m->tops[idx];
    if (__builtin_expect(m->oldbuckets != NULL, 0)) {
        const barray *old = m->oldbuckets;
        size_t oi = hash & gm_oldmask(m);
        uint64_t ow = old->tops[oi];
        if (!gm_word_evacuated(ow)) {
            idx = oi;
            data = old->data;
            w = ow;
        }
    }
    /* The first bucket's tophash word comes from the index, which stays in
     * cache: an absent key is usually settled without waiting for the
     * bucket (the prefetches below cost bandwidth, not latency). */
    bmap *first = (bmap *)(void *)(data + idx * gm_bsize(m, kind));
    bmap *b = first;
    /* A hit needs the slot's key and value, in the bucket's later lines;
     * which slot is known only once the index word arrives, so ask for
     * the whole bucket now. A miss mostly never reads these lines, and an
     * unused prefetch costs little. */
    __builtin_prefetch((const char *)b);
    __builtin_prefetch((const char *)b + 64);
    __builtin_prefetch((const char *)b + 128);
    uint8_t top = gm_tophash(hash);
    for (;;) {
        for (uint64_t c = gm_bytes_maybe_eq(w, top); c; c &= c - 1) {
            unsigned i = gm_slot_of(c);
            if (gm_word_top(w, i) != top)
                continue;
            const void *k = gm_key(m, b, i, kind);
            if (gm_key_equal(m, key, k, kind)) {
                if (kout)
                    *kout = k;
                if (loc)
                    *loc = (gm_loc){first, b, i};
                /* For a set this is a non-NULL address not to be read. */
                return gm_val(m, b, i, kind);
            }
        }
        if (gm_bytes_maybe_eq(w, EMPTY_REST))
            return NULL; /* nothing after an EMPTY_REST slot */
        b = b->overflow;
        if (!b)
            return NULL;
        w = gm_topword(b);
    }
}

GM_INLINE void *access(const gomap *m, const void *key, const void **kout, gm_loc *loc)
{
    if (m->count == 0)
        return NULL;
    switch (m->kind) {
    case KIND_KV64: return access_impl(m, key, kout, loc, KIND_KV64);
    case KIND_K64: return access_impl(m, key, kout, loc, KIND_K64);
    case KIND_K32: return access_impl(m, key, kout, loc, KIND_K32);
    default: return access_impl(m, key, kout, loc, KIND_GENERIC);
    }
}

void *gm_access_k(const gomap *m, const void *key, const void **kout, gm_loc *loc)
{
    return access(m, key, kout, loc);
}

__attribute__((noinline)) static void *get_kv64_slow(const gomap *m, uint64_t k)
{
    return access_impl(m, &k, NULL, NULL, KIND_KV64);
}

/* mapaccess1_fast64 for the 144-byte bucket: the path of a big
 * map[int64]int64 lookup, inlined into gomap_get and kept to the few
 * registers that need no stack frame. A growth in progress or a full
 * first bucket (the chain may go on) leaves for the general code. */
GM_INLINE void *get_kv64(const gomap *m, uint64_t k)
{
    uint64_t hash = gm_hash_premixed(&k, 8, m->hseed);
    size_t idx = hash & m->mask;
    const unsigned char *b = m->bdata + idx * KV64_BSIZE;
    uint64_t w = m->tops[idx];
    if (__builtin_expect(m->oldbuckets != NULL, 0))
        return get_kv64_slow(m, k);
    __builtin_prefetch(b); /* see access_impl */
    __builtin_prefetch(b + 64);
    __builtin_prefetch(b + 128);
    for (uint64_t c = gm_bytes_eq(w, gm_tophash(hash)); c; c &= c - 1) {
        unsigned i = gm_slot_of(c);
        if (gm_rd64(b + sizeof(bmap) + 8 * i) == k)
            return (void *)(uintptr_t)(b + KV64_VOFF + 8 * i);
    }
    if (__builtin_expect(gm_bytes_maybe_eq(w, EMPTY_REST) != 0, 1))
        return NULL;
    return get_kv64_slow(m, k);
}

/* One function per key kind, reached by a tail call, so the 8-byte path
 * uses few enough registers to need no stack frame. */
GM_HOT __attribute__((noinline)) static void *get_k64(const gomap *m, const void *key)
{
    return access_impl(m, key, NULL, NULL, KIND_K64);
}

GM_HOT __attribute__((noinline)) static void *get_k32(const gomap *m, const void *key)
{
    return access_impl(m, key, NULL, NULL, KIND_K32);
}

__attribute__((noinline)) static void *get_generic(const gomap *m, const void *key)
{
    return access_impl(m, key, NULL, NULL, KIND_GENERIC);
}

GM_HOT void *gomap_get(const gomap *m, const void *key)
{
    if (!m || !key || m->count == 0)
        return NULL;
    if (__builtin_expect(m->kind == KIND_KV64, 1))
        return get_kv64(m, gm_rd64(key));
    if (m->kind == KIND_K64)
        return get_k64(m, key);
    return m->kind == KIND_K32 ? get_k32(m, key) : get_generic(m, key);
}

bool gomap_lookup(const gomap *m, const void *key, void *val_out)
{
    if (!m || !key)
        return false; /* the nil map has no value type: leave val_out alone */
    void *v = access(m, key, NULL, NULL);
    if (val_out && m->vs) {
        if (v)
            gm_copy(val_out, v, m->vs);
        else
            gm_zero(val_out, m->vs);
    }
    return v != NULL;
}

size_t gomap_len(const gomap *m)
{
    return m ? m->count : 0;
}

/* ------------------------------------------------------------ assign */

/* The chain walk of mapassign: the key's slot if present (hit), else the
 * first free slot, if any, and the last bucket looked at. w is the first
 * bucket's tophash word, from the index. */
typedef struct chain_pos {
    bmap *hit, *free, *last;
    unsigned hit_i, free_i;
} chain_pos;

GM_INLINE void scan_chain(const gomap *m, bmap *b, uint64_t w, const void *key, uint8_t top,
                          chain_pos *p, int kind)
{
    p->hit = p->free = NULL;
    p->hit_i = p->free_i = 0;
    for (;;) {
        for (uint64_t c = gm_bytes_maybe_eq(w, top); c; c &= c - 1) {
            unsigned i = gm_slot_of(c);
            if (gm_word_top(w, i) == top && gm_key_equal(m, key, gm_key(m, b, i, kind), kind)) {
                p->hit = b;
                p->hit_i = i;
                return;
            }
        }
        if (!p->free) {
            uint64_t e = gm_bytes_empty(w);
            if (e) {
                p->free = b;
                p->free_i = gm_slot_of(e);
            }
        }
        p->last = b;
        if (gm_bytes_maybe_eq(w, EMPTY_REST) || !b->overflow)
            return; /* nothing after an EMPTY_REST slot */
        b = b->overflow;
        w = gm_topword(b);
    }
}

/* mapassign: the value slot for key, inserting the entry if absent, with
 * the value copied from val, or zeroed if val is NULL. The caller has
 * copied key and val out of any map memory. */
/* worked: the caller has already done this write's growWork. */
GM_INLINE void *assign_impl(gomap *m, const void *key, const void *val, int *err, int kind,
                            bool worked)
{
    const size_t vsize = kind == KIND_KV64 ? 8 : m->vs;
    uint64_t hash = gm_key_hash(m, key, kind);
    m->wseq++;
    if (!m->buckets) {
        set_buckets(m, barray_new(m, m->B));
        if (!m->buckets) {
            *err = GOMAP_ENOMEM;
            return NULL;
        }
    }
    bool grew = false;
again:;
    size_t bucket = hash & gm_mask(m->B);
    if (gm_growing(m) && !worked) {
        int e = grow_work(m, bucket);
        if (e) {
            *err = e;
            return NULL;
        }
    }
    worked = false; /* a growth started below needs its own */
    bmap *b = gm_bucket(m->buckets, bucket, gm_bsize(m, kind));
    uint8_t top = gm_tophash(hash);
    chain_pos p;
    scan_chain(m, b, m->tops[bucket], key, top, &p, kind);
    if (p.hit) {
        /* Present. Like Go for string and float keys, store the new key:
         * equal keys may differ in bytes (a cstr's pointer, -0 vs +0). */
        void *k = gm_key(m, p.hit, p.hit_i, kind);
        if (kind == KIND_GENERIC && k != key)
            memcpy(k, key, m->ks);
        void *v = gm_val(m, p.hit, p.hit_i, kind);
        if (val)
            gm_copy(v, val, vsize);
        return v;
    }
    bmap *insb = p.free;
    unsigned insi = p.free_i;
    if (!grew && !gm_growing(m) &&
        (over_load_factor(m->count + 1, m->B) || too_many_overflow(m->noverflow, m->B))) {
        /* If the larger array cannot be had, insert without growing. */
        if (hash_grow(m) == 0)
            goto again;
        grew = true;
    }
    if (!insb) {
        if (!ovf_reserve(m, m->buckets, 1)) {
            *err = GOMAP_ENOMEM;
            return NULL;
        }
        insb = ovf_take(m, m->buckets, p.last);
        insi = 0;
    }
    unsigned char *ks = gm_kslot(m, insb, insi, kind);
    unsigned char *vs = gm_vslot(m, insb, insi, kind);
    void *v = vs;
    if (m->ival) {
        v = val ? malloc(m->vs) : calloc(1, m->vs);
        if (!v) {
            *err = GOMAP_ENOMEM;
            return NULL;
        }
    }
    if (kind == KIND_GENERIC && m->ikey) {
        void *kb = malloc(m->ks);
        if (!kb) {
            if (m->ival)
                free(v);
            *err = GOMAP_ENOMEM;
            return NULL;
        }
        memcpy(kb, key, m->ks);
        memcpy(ks, &kb, sizeof kb);
    } else {
        gm_copy(ks, key, gm_kind_k64(kind) ? 8 : kind == KIND_K32 ? 4 : m->ks);
    }
    if (m->ival)
        memcpy(vs, &v, sizeof v);
    if (val)
        gm_copy(v, val, vsize);
    else if (!m->ival)
        gm_zero(v, vsize);
    insb->tophash[insi] = top;
    if (insb == b)
        gm_index_set(&m->tops[bucket], insi, top);
    m->count++;
    return v;
}

/* The common case of mapassign_fast64/32, on its own so that it stays
 * small: no growth in progress, no out-of-line values, and either the key
 * is present or its chain has a free slot and the insert starts no growth.
 * NULL means "not this case": nothing was changed, take assign_impl. */
GM_INLINE void *assign_fast(gomap *m, const void *key, const void *val, int kind)
{
    if (m->oldbuckets || !m->buckets) /* the fast kinds never store values out of line */
        return NULL;
    uint64_t hash = gm_key_hash(m, key, kind);
    size_t bucket = hash & m->mask;
    bmap *b = (bmap *)(void *)(m->bdata + bucket * m->bsize);
    /* The write goes to lines not read yet (the index says where): have
     * them on the way before the stores queue up behind the misses. */
    __builtin_prefetch((const char *)b, 1);
    __builtin_prefetch((const char *)b + 64, 1);
    __builtin_prefetch((const char *)b + 128, 1);
    uint8_t top = gm_tophash(hash);
    chain_pos p;
    scan_chain(m, b, m->tops[bucket], key, top, &p, kind);
    if (p.hit) {
        m->wseq++;
        void *v = gm_vslot(m, p.hit, p.hit_i, kind);
        if (val)
            gm_copy(v, val, m->vs);
        return v;
    }
    bmap *insb = p.free;
    unsigned insi = p.free_i;
    if (!insb || m->count + 1 > m->load_limit || m->noverflow >= m->ovf_limit)
        return NULL;
    m->wseq++;
    gm_copy(gm_kslot(m, insb, insi, kind), key, kind == KIND_K64 ? 8 : 4);
    void *v = gm_vslot(m, insb, insi, kind);
    if (val)
        gm_copy(v, val, m->vs);
    else
        gm_zero(v, m->vs);
    insb->tophash[insi] = top;
    if (insb == b)
        gm_index_set(&m->tops[bucket], insi, top);
    m->count++;
    return v;
}

__attribute__((noinline)) static void *assign(gomap *m, const void *key, const void *val, int *err)
{
    switch (m->kind) {
    case KIND_KV64: return assign_impl(m, key, val, err, KIND_KV64, false);
    case KIND_K64: return assign_impl(m, key, val, err, KIND_K64, false);
    case KIND_K32: return assign_impl(m, key, val, err, KIND_K32, false);
    default: return assign_impl(m, key, val, err, KIND_GENERIC, false);
    }
}

__attribute__((noinline)) static void *assign_k64(gomap *m, const void *key, const void *val, int *err)
{
    void *v = assign_fast(m, key, val, KIND_K64);
    return v ? v : assign(m, key, val, err);
}

__attribute__((noinline)) static void *assign_k32(gomap *m, const void *key, const void *val, int *err)
{
    void *v = assign_fast(m, key, val, KIND_K32);
    return v ? v : assign(m, key, val, err);
}

/* mapassign_fast64 for the 144-byte bucket of 8-byte keys and values.
 * Key and value arrive in registers, so they are already copied out of
 * any map memory. kv64_put is the common case once growWork is done: an
 * update in place, or an insert into the first bucket of a chain that ends
 * there, with no growth to start. It returns GOMAP_OK, or 1 having
 * changed nothing, for the general path to take over. */
GM_INLINE int kv64_put(gomap *m, size_t bucket, uint64_t hash, uint64_t k, uint64_t v)
{
    bmap *b = (bmap *)(void *)(m->bdata + bucket * KV64_BSIZE);
    unsigned char *keys = (unsigned char *)b + sizeof(bmap);
    unsigned char *vals = (unsigned char *)b + KV64_VOFF;
    uint8_t top = gm_tophash(hash);
    uint64_t w = m->tops[bucket];
    for (uint64_t c = gm_bytes_eq(w, top); c; c &= c - 1) {
        unsigned i = gm_slot_of(c);
        if (gm_rd64(keys + 8 * i) == k) {
            m->wseq++;
            memcpy(vals + 8 * i, &v, 8);
            return GOMAP_OK;
        }
    }
    /* An EMPTY_REST slot means the chain ends in this bucket, so the key
     * is absent, and the first free slot is Go's choice too. */
    if (!gm_bytes_maybe_eq(w, EMPTY_REST) || m->count >= m->load_limit ||
        m->noverflow >= m->ovf_limit)
        return 1;
    unsigned i = gm_slot_of(gm_bytes_empty(w));
    m->wseq++;
    memcpy(keys + 8 * i, &k, 8);
    memcpy(vals + 8 * i, &v, 8);
    b->tophash[i] = top;
    gm_index_set(&m->tops[bucket], i, top);
    m->count++;
    return GOMAP_OK;
}

/* The rest of set_kv64: growWork, then kv64_put or the general path. */
__attribute__((noinline)) static int set_kv64_slow(gomap *m, uint64_t k, uint64_t v)
{
    bool worked = false;
    if (m->buckets && m->oldbuckets) {
        uint64_t hash = gm_hash_premixed(&k, 8, m->hseed);
        size_t bucket = hash & m->mask;
        m->wseq++; /* evacuation moves entries even if the write fails */
        int err = grow_work(m, bucket);
        if (err)
            return err;
        if (kv64_put(m, bucket, hash, k, v) == GOMAP_OK)
            return GOMAP_OK;
        worked = true;
    }
    int err = GOMAP_ENOMEM;
    return assign_impl(m, &k, &v, &err, KIND_KV64, worked) ? GOMAP_OK : err;
}

/* The map[8]8 write path, inlined into gomap_set; see get_kv64. */
GM_INLINE int set_kv64(gomap *m, uint64_t k, uint64_t v)
{
    if (__builtin_expect(!m->buckets || m->oldbuckets, 0))
        return set_kv64_slow(m, k, v);
    uint64_t hash = gm_hash_premixed(&k, 8, m->hseed);
    size_t bucket = hash & m->mask;
    /* The write goes to lines not read yet (the index says where): have
     * them on the way before the stores queue up behind the misses. */
    const char *b = (const char *)m->bdata + bucket * KV64_BSIZE;
    __builtin_prefetch(b, 1);
    __builtin_prefetch(b + 64, 1);
    __builtin_prefetch(b + 128, 1);
    if (kv64_put(m, bucket, hash, k, v) == GOMAP_OK)
        return GOMAP_OK;
    return set_kv64_slow(m, k, v);
}

/* Every write enters here: the fixed-size key kinds try their fast path. */
static void *assign_any(gomap *m, const void *key, const void *val, int *err)
{
    switch (m->kind) {
    case KIND_KV64: /* gomap_assign: the 8-byte key path serves */
    case KIND_K64: return assign_k64(m, key, val, err);
    case KIND_K32: return assign_k32(m, key, val, err);
    default: return assign(m, key, val, err);
    }
}

/* Keys and values handed to a write may point into the map itself (a key
 * from an iteration, a value from gomap_get); growth can move or free that
 * memory mid-call, so writes work on a private copy. */
typedef struct copybuf {
    alignas(16) unsigned char stack[STACK_COPY];
    void *heap;
} copybuf;

static const void *copy_in(copybuf *c, const void *p, size_t n)
{
    c->heap = NULL;
    if (n <= STACK_COPY) {
        gm_copy(c->stack, p, n);
        return c->stack;
    }
    c->heap = malloc(n);
    if (c->heap)
        memcpy(c->heap, p, n);
    return c->heap;
}

__attribute__((noinline)) static int set_general(gomap *m, const void *key, const void *val)
{
    if (!m)
        return GOMAP_ENIL;
    if (!key || (m->vs && !val))
        return GOMAP_EINVAL;
    if (m->ks <= 16 && m->vs <= 16) {
        /* Small keys and values: copy through registers, no buffers. */
        uint64_t k[2], v[2];
        gm_copy(k, key, m->ks);
        gm_copy(v, val ? val : (const void *)v, m->vs);
        int err = GOMAP_ENOMEM;
        return assign_any(m, k, v, &err) ? GOMAP_OK : err;
    }
    copybuf kc, vc;
    const void *k = copy_in(&kc, key, m->ks);
    const void *v = m->vs ? copy_in(&vc, val, m->vs) : NULL;
    int err = GOMAP_ENOMEM;
    if (k && (v || !m->vs) && assign_any(m, k, v, &err))
        err = GOMAP_OK;
    free(kc.heap);
    if (m->vs)
        free(vc.heap);
    return err;
}

GM_HOT int gomap_set(gomap *m, const void *key, const void *val)
{
    if (__builtin_expect(m && m->kind == KIND_KV64 && key && val, 1))
        return set_kv64(m, gm_rd64(key), gm_rd64(val));
    return set_general(m, key, val);
}

void *gomap_assign(gomap *m, const void *key)
{
    if (!m || !key)
        return NULL;
    copybuf kc;
    const void *k = copy_in(&kc, key, m->ks);
    int err = 0;
    void *slot = k ? assign_any(m, k, NULL, &err) : NULL;
    free(kc.heap);
    return slot;
}

/* ------------------------------------------------------------ delete */

/* mapdelete. After marking the slot empty, turns a run of trailing empty
 * slots into EMPTY_REST so lookups can stop early. */
/* Removes the entry in slot i of bucket b, whose chain starts at first
 * and has the tophash index word *word. */
GM_INLINE void delete_slot(gomap *m, bmap *first, uint64_t *word, bmap *b, unsigned i, int kind)
{
    if (kind == KIND_GENERIC && m->ikey) {
        free(gm_key(m, b, i, kind));
        memset(gm_kslot(m, b, i, kind), 0, sizeof(void *));
    }
    if (kind == KIND_GENERIC && m->ival) {
        free(gm_val(m, b, i, kind));
        memset(gm_vslot(m, b, i, kind), 0, sizeof(void *));
    }
    b->tophash[i] = EMPTY_ONE;
    bool last = i == BUCKET_CNT - 1 ? (!b->overflow || b->overflow->tophash[0] == EMPTY_REST)
                                    : b->tophash[i + 1] == EMPTY_REST;
    if (last) {
        for (;;) {
            b->tophash[i] = EMPTY_REST;
            if (i == 0) {
                if (b == first)
                    break;
                bmap *c = b;
                for (b = first; b->overflow != c; b = b->overflow)
                    ;
                i = BUCKET_CNT - 1;
            } else {
                i--;
            }
            if (b->tophash[i] != EMPTY_ONE)
                break;
        }
    }
    *word = gm_topword(first);
    if (--m->count == 0) {
        /* As in Go: a fresh seed makes repeated collision attacks harder.
         * Nothing is stored under the old one. */
        m->seed = gm_rand64();
        m->hseed = gm_premix(m->seed);
    }
}

/* The index word of the chain that starts at first, a bucket of the
 * current or the old array (what a lookup since the last write returns). */
static uint64_t *index_word(const gomap *m, const bmap *first)
{
    barray *arrays[2] = {m->buckets, m->oldbuckets};
    for (int j = 0; j < 2; j++) {
        barray *a = arrays[j];
        if (!a)
            continue;
        uintptr_t lo = (uintptr_t)a->data, p = (uintptr_t)first;
        if (p >= lo && p < lo + a->nbuckets * m->bsize)
            return &a->tops[(p - lo) / m->bsize];
    }
    return NULL;
}

bool gm_delete_at(gomap *m, const gm_loc *loc)
{
    /* An iteration hands out a NaN-like key that growth has moved from the
     * old slot's copy (see iter.c): its live copy cannot be told apart from
     * other NaN entries, so it cannot be deleted by location either. */
    if (loc->b->tophash[loc->i] < MIN_TOPHASH)
        return false;
    uint64_t *word = index_word(m, loc->first);
    if (!word)
        return false; /* not in the current or old array: see above */
    m->wseq++;
    delete_slot(m, loc->first, word, loc->b, loc->i, KIND_GENERIC);
    return true;
}

GM_INLINE bool delete_impl(gomap *m, const void *key, int kind)
{
    uint64_t hash = gm_key_hash(m, key, kind);
    m->wseq++;
    size_t bucket = hash & gm_mask(m->B);
    if (gm_growing(m))
        (void)grow_work(m, bucket); /* on ENOMEM, delete in the old bucket below */
    bmap *b = gm_bucket(m->buckets, bucket, gm_bsize(m, kind));
    uint64_t *word = &m->tops[bucket];
    if (m->oldbuckets) {
        size_t oi = hash & gm_oldmask(m);
        if (!gm_word_evacuated(m->oldbuckets->tops[oi])) {
            b = gm_bucket(m->oldbuckets, oi, gm_bsize(m, kind));
            word = &m->oldbuckets->tops[oi];
        }
    }
    bmap *first = b;
    uint8_t top = gm_tophash(hash);
    uint64_t w = *word;
    for (;;) {
        for (uint64_t c = gm_bytes_maybe_eq(w, top); c; c &= c - 1) {
            unsigned i = gm_slot_of(c);
            if (gm_word_top(w, i) != top || !gm_key_equal(m, key, gm_key(m, b, i, kind), kind))
                continue;
            delete_slot(m, first, word, b, i, kind);
            return true;
        }
        if (gm_bytes_maybe_eq(w, EMPTY_REST))
            return false;
        b = b->overflow;
        if (!b)
            return false;
        w = gm_topword(b);
    }
}

bool gm_delete(gomap *m, const void *key)
{
    switch (m->kind) {
    case KIND_KV64: return delete_impl(m, key, KIND_KV64);
    case KIND_K64: return delete_impl(m, key, KIND_K64);
    case KIND_K32: return delete_impl(m, key, KIND_K32);
    default: return delete_impl(m, key, KIND_GENERIC);
    }
}

bool gomap_delete(gomap *m, const void *key)
{
    if (!m || !key || m->count == 0)
        return false;
    copybuf kc;
    const void *k = copy_in(&kc, key, m->ks);
    bool found = k && gm_delete(m, k);
    free(kc.heap);
    return found;
}

/* ------------------------------------------------------------ clear */

void gomap_clear(gomap *m)
{
    if (!m || m->count == 0)
        return;
    m->wseq++;
    m->clear_seq++;
    barray_free(m, m->oldbuckets);
    m->oldbuckets = NULL;
    retained_free_all(m);
    barray *a = m->buckets;
    if (m->ikey || m->ival)
        barray_free_blobs(m, a);
    for (size_t i = 0; i < a->nbuckets; i++) {
        bmap *b = gm_bucket(a, i, m->bsize);
        memset(b->tophash, EMPTY_REST, sizeof b->tophash);
        b->overflow = NULL;
    }
    memset(a->tops, EMPTY_REST, a->nbuckets * sizeof *a->tops);
    ovf_reset(m, a);
    m->count = 0;
    m->flags = 0;
    m->nevacuate = 0;
    m->noverflow = 0;
    m->seed = gm_rand64();
    m->hseed = gm_premix(m->seed);
}

/* ------------------------------------------------------------ lifetime */

gomap *gomap_new(const gomap_type *type, size_t hint)
{
    if (!type || type->key_size == 0 || type->key_size > ((size_t)1 << 30) ||
        type->val_size > ((size_t)1 << 30)) {
        errno = EINVAL;
        return NULL;
    }
    gomap *m = calloc(1, sizeof *m);
    if (!m) {
        errno = ENOMEM;
        return NULL;
    }
    m->ks = type->key_size;
    m->vs = type->val_size;
    m->hash = type->hash;
    m->equal = type->equal;
    m->ikey = m->ks > MAX_INLINE;
    m->ival = m->vs > MAX_INLINE;
    m->kslot = m->ikey ? sizeof(void *) : m->ks;
    m->vslot = m->ival ? sizeof(void *) : m->vs;
    /* Keys and values start 16-byte aligned, so a key_size or val_size of
     * sizeof(T) gives every slot T's alignment. */
    m->voff = (sizeof(bmap) + BUCKET_CNT * m->kslot + 15) & ~(size_t)15;
    m->bsize = (m->voff + BUCKET_CNT * m->vslot + 15) & ~(size_t)15;
    if (!m->hash && !m->equal && !m->ival && m->ks == 8)
        m->kind = m->vs == 8 && m->voff == KV64_VOFF && m->bsize == KV64_BSIZE ? KIND_KV64
                                                                               : KIND_K64;
    else if (!m->hash && !m->equal && !m->ival && m->ks == 4)
        m->kind = KIND_K32;
    else
        m->kind = KIND_GENERIC;
    m->seed = gm_rand64();
    m->hseed = gm_premix(m->seed);

    /* makemap: the smallest B that holds hint entries under the load factor. */
    unsigned B = 0;
    while (over_load_factor(hint, B)) {
        B++;
        if (B >= sizeof(size_t) * 8 - 8) {
            free(m);
            errno = ENOMEM;
            return NULL;
        }
    }
    set_B(m, B);
    if (B > 0) {
        set_buckets(m, barray_new(m, B));
        if (!m->buckets) {
            free(m);
            errno = ENOMEM;
            return NULL;
        }
    }
    return m;
}

void gomap_free(gomap *m)
{
    if (!m)
        return;
    barray_free(m, m->buckets);
    barray_free(m, m->oldbuckets);
    retained_free_all(m);
    free(m->retained);
    free(m);
}

const uint32_t gomap_tool_words = GOMAP_TOOL_WORDS;

const char *gomap_strerror(int err)
{
    switch (err) {
    case GOMAP_OK: return "success";
    case GOMAP_ENIL: return "assignment to entry in nil map";
    case GOMAP_ENOMEM: return "out of memory";
    case GOMAP_EINVAL: return "invalid argument";
    default: return "unknown gomap error";
    }
}

bool gomapdebug_stats_get(const gomap *m, gomapdebug_stats *out)
{
    if (!m || !out)
        return false;
    memset(out, 0, sizeof *out);
    out->count = m->count;
    out->B = m->B;
    out->growing = gm_growing(m);
    out->same_size_grow = gm_growing(m) && (m->flags & FLAG_SAME_SIZE_GROW);
    out->nevacuate = m->nevacuate;
    out->noverflow = m->noverflow;
    out->nretained = m->nretained;
    out->retained_bytes = m->retained_bytes;
    out->bucket_bytes = m->bsize;
    out->array_bytes = m->buckets ? m->buckets->bytes : 0;
    out->indirect_key = m->ikey;
    out->indirect_val = m->ival;
    out->seed = m->seed;
    return true;
}

static bool array_consistent(const gomap *m, const barray *a)
{
    for (size_t i = 0; i < a->nbuckets; i++)
        if (a->tops[i] != gm_topword(gm_bucket(a, i, m->bsize)))
            return false;
    return true;
}

bool gomapdebug_check(const gomap *m)
{
    if (!m)
        return true;
    if (m->buckets && (m->tops != m->buckets->tops || !array_consistent(m, m->buckets)))
        return false;
    if (m->oldbuckets && !array_consistent(m, m->oldbuckets))
        return false;
    return true;
}
