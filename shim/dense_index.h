/*
 * A dense index: side-table records handed out in order from a pool, found
 * by address through a small hashed index of 32-bit slots. Used by the
 * happens-before engine's sync objects (hb_sync.c) and by the GHashTable
 * side tables (ghash_state.c).
 *
 * Why: on a VM a page fault costs microseconds, and a short-lived program
 * (a GLib tool) makes a few dozen tables and locks. Records at hashed
 * places in a big table cost a page each; records from a pool in order sit
 * together on a few pages, and the index that leads to them is small.
 *
 * The pool: ids 0..cap-1, handed out in order the first time (next), then
 * from a free list of given-back ids (a stack with a tag against ABA, in
 * one 64-bit word; a caller may keep more such stacks). No lock: alloc and
 * release are one compare-and-swap each, so a fork in the middle leaves at
 * worst one id lost.
 *
 * The index: two levels of open addressing. Level 0 is one page (1024
 * slots, probe window MG_DX_PROBES0), the only one a small program
 * touches; an insert whose level-0 window is full goes to level 1 (two
 * slots per id, window MG_DX_PROBES1), and from then on a lookup that
 * misses level 0 looks there too. A slot is 0 (empty, never used), TOMB
 * (its record was removed), or hash tag:16 | id + 1:16: a lookup compares
 * the tag before it reads a record's key, so a miss costs no record reads.
 * A slot never goes back to empty, so a lookup stops at the first empty
 * slot of a window: an insert takes the first empty or TOMB slot of its
 * window, and every slot before it was in use then. Lookups take no lock;
 * inserts and removes are one compare-and-swap on a slot. Two inserts of
 * the same key at once would make two records: the callers rule that out
 * (a GHashTable is made by one thread; hb_sync inserts under its lock).
 *
 * Bounded: at most cap records (cap <= MG_DX_CAP_MAX), the index never grows. Past
 * the bound, or with no slot in a window, the caller does without a
 * record (ghash_state: the table is not tracked; hb_sync: the fallback
 * clock).
 */
#ifndef MAPGUARD_DENSE_INDEX_H
#define MAPGUARD_DENSE_INDEX_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define MG_DX_SLOTS0 1024u  /* level 0: one page of slots */
#define MG_DX_PROBES0 16u
#define MG_DX_PROBES1 32u
#define MG_DX_TOMB 0xffffffffu
#define MG_DX_CAP_MAX 32768u /* an id + 1 fits the slot's 16 bits */

struct mg_dx {
    uint32_t *l0;        /* MG_DX_SLOTS0 slots */
    uint32_t *l1;        /* 2 * cap slots (a power of two) */
    uint32_t *free_next; /* the free list's links, by id */
    uint32_t l1_mask;
    uint32_t cap;
    uint32_t l1_used;    /* an insert ever went to level 1 */
    uint32_t next;       /* ids [0, next) were handed out at least once */
    uint64_t free_head;  /* tag:32 | id + 1:32 of the top of the free list, 0 empty */
};

/* The key of record id, as the caller keeps it (in its record, read with
 * an acquire load). */
typedef uintptr_t (*mg_dx_key_fn)(const void *ctx, uint32_t id);

/* The memory a dense index of cap records needs: MG_DX_WORDS(cap) 32-bit
 * words, mg_dx_bytes(cap) bytes. */
#define MG_DX_WORDS(cap) (MG_DX_SLOTS0 + 3 * (size_t)(cap))
static inline size_t mg_dx_bytes(uint32_t cap) { return MG_DX_WORDS(cap) * sizeof(uint32_t); }

/* cap a power of two, at most MG_DX_CAP_MAX; mem: mg_dx_bytes(cap) bytes
 * of zeros, 4-byte aligned. Best fresh anonymous memory (mmap): its pages
 * stay the kernel's zero page until used (calloc may clear a reused heap
 * chunk, touching every page). */
static inline void mg_dx_init(struct mg_dx *x, uint32_t cap, void *mem)
{
    uint32_t *m = mem;
    *x = (struct mg_dx){
        .l0 = m,
        .l1 = m + MG_DX_SLOTS0,
        .free_next = m + MG_DX_SLOTS0 + 2 * (size_t)cap,
        .l1_mask = 2 * cap - 1,
        .cap = cap,
    };
}

/* mg_dx_init as a static initializer, over MG_DX_WORDS(capacity) zero
 * words in .bss (which stay the zero page until used). */
#define MG_DX_STATIC(mem, capacity)                                                                                    \
    {                                                                                                                  \
        .l0 = (mem), .l1 = (mem) + MG_DX_SLOTS0, .free_next = (mem) + MG_DX_SLOTS0 + 2 * (size_t)(capacity),           \
        .l1_mask = 2 * (capacity)-1, .cap = (capacity),                                                                \
    }

/* Hash of an address: records are at least 8-byte aligned, and the
 * multiply spreads a run of neighbouring addresses over the index. */
static inline uint32_t mg_dx_hash(uintptr_t key) { return (uint32_t)(((uint64_t)key >> 3) * 0x9e3779b97f4a7c15ull >> 32); }
/* the tag: the hash's top bits, which no level's position uses */
static inline uint32_t mg_dx_tag(uint32_t h) { return h & 0xffff0000u; }
static inline uint32_t mg_dx_slot_of(uint32_t h, uint32_t id) { return mg_dx_tag(h) | (id + 1); }

/* The slot naming key's record in one level, its id in *id; or NULL. */
static inline uint32_t *mg_dx_find_in(uint32_t *lv, uint32_t mask, uint32_t probes, uint32_t h, uintptr_t key,
                                      mg_dx_key_fn key_of, const void *ctx, uint32_t *id)
{
    uint32_t tag = mg_dx_tag(h);
    for (uint32_t i = 0; i < probes; i++) {
        uint32_t *s = &lv[(h + i) & mask];
        uint32_t v = __atomic_load_n(s, __ATOMIC_ACQUIRE);
        if (v == 0)
            return NULL;
        if (v != MG_DX_TOMB && (v & 0xffff0000u) == tag && key_of(ctx, (v & 0xffffu) - 1) == key) {
            *id = (v & 0xffffu) - 1;
            return s;
        }
    }
    return NULL;
}

/* The slot naming key's record, its id in *id; or NULL. */
static inline uint32_t *mg_dx_find_slot(const struct mg_dx *x, uintptr_t key, mg_dx_key_fn key_of, const void *ctx,
                                        uint32_t *id)
{
    uint32_t h = mg_dx_hash(key);
    uint32_t *s = mg_dx_find_in(x->l0, MG_DX_SLOTS0 - 1, MG_DX_PROBES0, h, key, key_of, ctx, id);
    if (s || !__atomic_load_n(&x->l1_used, __ATOMIC_ACQUIRE))
        return s;
    return mg_dx_find_in(x->l1, x->l1_mask, MG_DX_PROBES1, h, key, key_of, ctx, id);
}

/* The id of key's record, or -1. */
static inline long mg_dx_find(const struct mg_dx *x, uintptr_t key, mg_dx_key_fn key_of, const void *ctx)
{
    uint32_t id;
    return mg_dx_find_slot(x, key, key_of, ctx, &id) ? (long)id : -1;
}

/* A stack of given-back ids: tag:32 | id + 1:32 of its top, 0 empty. An
 * id's link to the one below it is at links[id * stride]. The index has one
 * stack (free_head, linked through free_next); a caller may keep more,
 * linked through its records, each id on one stack at a time (hb_sync.c).
 * The tag moves with every change, so a pop whose link went stale (the id
 * was popped and pushed meanwhile) fails its compare-and-swap. */
static inline long mg_dx_pop_linked(uint64_t *stack, uint32_t *links, size_t stride)
{
    uint64_t head = __atomic_load_n(stack, __ATOMIC_ACQUIRE);
    while ((uint32_t)head) {
        uint32_t id = (uint32_t)head - 1;
        uint32_t link = __atomic_load_n(&links[id * stride], __ATOMIC_RELAXED);
        uint64_t to = ((head >> 32) + 1) << 32 | link;
        if (__atomic_compare_exchange_n(stack, &head, to, true, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
            return id;
    }
    return -1;
}

static inline void mg_dx_push_linked(uint64_t *stack, uint32_t *links, size_t stride, uint32_t id)
{
    uint64_t head = __atomic_load_n(stack, __ATOMIC_RELAXED);
    do
        __atomic_store_n(&links[id * stride], (uint32_t)head, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(stack, &head, ((head >> 32) + 1) << 32 | (id + 1), true, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED));
}

/* An id never handed out before (its record is still calloc's zeros), or
 * -1 when all cap have been. */
static inline long mg_dx_fresh(struct mg_dx *x)
{
    uint32_t n = __atomic_load_n(&x->next, __ATOMIC_RELAXED);
    while (n < x->cap)
        if (__atomic_compare_exchange_n(&x->next, &n, n + 1, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            return n;
    return -1;
}

/* An id from the pool, or -1 when all cap are in use. *fresh: never
 * handed out before. */
static inline long mg_dx_alloc(struct mg_dx *x, bool *fresh)
{
    long id = mg_dx_pop_linked(&x->free_head, x->free_next, 1);
    *fresh = id < 0;
    return id >= 0 ? id : mg_dx_fresh(x);
}

/* Gives id back to the pool (removed from the index first). */
static inline void mg_dx_release(struct mg_dx *x, uint32_t id) { mg_dx_push_linked(&x->free_head, x->free_next, 1, id); }

static inline bool mg_dx_insert_in(uint32_t *lv, uint32_t mask, uint32_t probes, uint32_t h, uint32_t id)
{
    for (uint32_t i = 0; i < probes; i++) {
        uint32_t *s = &lv[(h + i) & mask];
        uint32_t v = __atomic_load_n(s, __ATOMIC_RELAXED);
        while (v == 0 || v == MG_DX_TOMB)
            if (__atomic_compare_exchange_n(s, &v, mg_dx_slot_of(h, id), false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
                return true;
    }
    return false;
}

/* Makes record id findable by key (its key stored by the caller before,
 * for the lookups this release publishes to). False when neither level
 * has a free slot in key's window. */
static inline bool mg_dx_insert(struct mg_dx *x, uintptr_t key, uint32_t id)
{
    uint32_t h = mg_dx_hash(key);
    if (mg_dx_insert_in(x->l0, MG_DX_SLOTS0 - 1, MG_DX_PROBES0, h, id))
        return true;
    if (!__atomic_load_n(&x->l1_used, __ATOMIC_RELAXED))
        __atomic_store_n(&x->l1_used, 1, __ATOMIC_RELEASE);
    return mg_dx_insert_in(x->l1, x->l1_mask, MG_DX_PROBES1, h, id);
}

/* Removes record id, found at *slot (mg_dx_find_slot), from the index:
 * lookups no longer reach it. Only the record's owner removes it. */
static inline void mg_dx_remove(uint32_t *slot) { __atomic_store_n(slot, MG_DX_TOMB, __ATOMIC_RELEASE); }

/* Ids handed out at least once: [0, mg_dx_used). */
static inline uint32_t mg_dx_used(const struct mg_dx *x) { return __atomic_load_n(&x->next, __ATOMIC_ACQUIRE); }

#endif
