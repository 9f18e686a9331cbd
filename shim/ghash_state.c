/*
 * The side tables of GHashTable state (ghash_state.h says what and why).
 *
 * Each kind of record (tables, iterators) is a dense index (dense_index.h)
 * over an array of (key, state) records plus a payload array, all by id.
 * Records are handed out in order from the pool, so a program's tables sit
 * together on a few pages. A lookup finds the id by the address and takes
 * it when its record is LIVE (or FREED) with that key. A claim takes an id
 * from the pool, marks it BUSY with its key, enters it in the index, fills
 * the payload and publishes LIVE with release order. When a record becomes
 * DEAD, the thread whose compare-and-swap made it so takes it out of the
 * index and gives the id back. A table is made by one thread, which alone
 * knows its address until the call returns, so two claims for one key
 * never race; an iterator is claimed by the thread that initialises it.
 */
#include "ghash_state.h"
#include "dense_index.h"
#include "happens_before.h"
#include "log.h"
#include "mapstate.h"
#include "options.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

__thread struct mg_gh_cached mg_gh_cache[MG_GH_CACHE] __attribute__((tls_model("initial-exec")));

/* One kind of record (tables, iterators): the dense index and each id's
 * key and state. */
struct pool {
    struct mg_dx x;
    struct mg_gh_slot *s;
};

struct store {
    struct pool tables, iters;
    struct mg_gh_table *t;
    struct mg_gh_iter *i;
};

_Static_assert(MG_GH_TABLES <= MG_DX_CAP_MAX && MG_GH_ITERS <= MG_DX_CAP_MAX, "the dense index names every record");

static struct store *store;
static bool warned_full;

static uintptr_t key_of(const void *ctx, uint32_t id)
{
    return __atomic_load_n(&((const struct mg_gh_slot *)ctx)[id].key, __ATOMIC_ACQUIRE);
}

/* The store's parts, carved from one anonymous mapping: its pages stay
 * the kernel's zero page until a record is used (calloc would clear the
 * smaller arrays in the heap, a page fault per page). */
#define ALIGN(n) (((n) + 63) & ~(size_t)63)
#define TABLES_DX ALIGN(sizeof(struct store))
#define TABLES_S (TABLES_DX + ALIGN(mg_dx_bytes(MG_GH_TABLES)))
#define ITERS_DX (TABLES_S + ALIGN(MG_GH_TABLES * sizeof(struct mg_gh_slot)))
#define ITERS_S (ITERS_DX + ALIGN(mg_dx_bytes(MG_GH_ITERS)))
#define TABLES_T (ITERS_S + ALIGN(MG_GH_ITERS * sizeof(struct mg_gh_slot)))
#define ITERS_I (TABLES_T + ALIGN(MG_GH_TABLES * sizeof(struct mg_gh_table)))
#define STORE_BYTES (ITERS_I + ALIGN(MG_GH_ITERS * sizeof(struct mg_gh_iter)))

static struct store *store_get(bool create)
{
    struct store *s = __atomic_load_n(&store, __ATOMIC_ACQUIRE);
    if (s || !create)
        return s;
    char *m = mmap(NULL, STORE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    struct store *n = (struct store *)(void *)m;
    mg_dx_init(&n->tables.x, MG_GH_TABLES, m + TABLES_DX);
    n->tables.s = (struct mg_gh_slot *)(void *)(m + TABLES_S);
    mg_dx_init(&n->iters.x, MG_GH_ITERS, m + ITERS_DX);
    n->iters.s = (struct mg_gh_slot *)(void *)(m + ITERS_S);
    n->t = (struct mg_gh_table *)(void *)(m + TABLES_T);
    n->i = (struct mg_gh_iter *)(void *)(m + ITERS_I);
    struct store *expected = NULL;
    if (!__atomic_compare_exchange_n(&store, &expected, n, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        munmap(m, STORE_BYTES);
    return __atomic_load_n(&store, __ATOMIC_ACQUIRE);
}

/* The id of key's record when it is LIVE (or, if freed_too, FREED), or
 * -1; *slot is its index slot. A record is in the index from its claim
 * until it is DEAD; BUSY (being filled) is not found. */
static long find(struct pool *p, uintptr_t key, bool freed_too, unsigned *state, uint32_t **slot)
{
    uint32_t id;
    uint32_t *sl = mg_dx_find_slot(&p->x, key, key_of, p->s, &id);
    if (!sl)
        return -1;
    uint32_t st = __atomic_load_n(&p->s[id].state, __ATOMIC_ACQUIRE);
    if (!(st == GH_LIVE || (freed_too && st == GH_FREED)) || __atomic_load_n(&p->s[id].key, __ATOMIC_RELAXED) != key)
        return -1;
    if (state)
        *state = st;
    if (slot)
        *slot = sl;
    return (long)id;
}

/* A record for key, now BUSY and findable once the caller publishes LIVE;
 * -1 past the bound. *fresh: the record was never used (its payload is
 * still calloc's zeros). */
static long claim(struct pool *p, uintptr_t key, bool *fresh)
{
    long i = mg_dx_alloc(&p->x, fresh);
    if (i >= 0) {
        __atomic_store_n(&p->s[i].state, GH_BUSY, __ATOMIC_RELAXED);
        __atomic_store_n(&p->s[i].key, key, __ATOMIC_RELEASE);
        if (mg_dx_insert(&p->x, key, (uint32_t)i))
            return i;
        __atomic_store_n(&p->s[i].state, GH_DEAD, __ATOMIC_RELEASE);
        mg_dx_release(&p->x, (uint32_t)i);
    }
    if (!__atomic_exchange_n(&warned_full, true, __ATOMIC_RELAXED))
        mg_log(1, "GHashTable side table full: tables or iterators past the bound are not checked");
    return -1;
}

/* Record id, found at index slot sl, is DEAD (the caller won the change
 * to DEAD): out of the index and back to the pool. */
static void reclaim(struct pool *p, uint32_t *sl, uint32_t id)
{
    mg_dx_remove(sl);
    mg_dx_release(&p->x, id);
}

static void remember(struct store *s, const GHashTable *t, long i)
{
    struct mg_gh_cached *c = mg_gh_cache_entry(t);
    c->key = (uintptr_t)t;
    c->slot = &s->tables.s[i];
    c->e = &s->t[i];
}

struct mg_gh_table *mg_gh_table_find(const GHashTable *t, unsigned *state)
{
    struct store *s = store_get(false);
    if (!s)
        return NULL;
    unsigned st = GH_EMPTY;
    long i = find(&s->tables, (uintptr_t)t, true, &st, NULL);
    if (i < 0)
        return NULL;
    if (st == GH_LIVE)
        remember(s, t, i);
    if (state)
        *state = st;
    return &s->t[i];
}

struct mg_gh_table *mg_gh_table_claim(const GHashTable *t)
{
    struct store *s = store_get(true);
    if (!s)
        return NULL;
    /* A record still LIVE at this address belongs to a table GLib freed
     * out of our sight (a reference the program's calls never took):
     * reused, where it is in the index. */
    bool fresh = false;
    long i = find(&s->tables, (uintptr_t)t, false, NULL, NULL);
    if (i >= 0) {
        unsigned live = GH_LIVE;
        if (!__atomic_compare_exchange_n(&s->tables.s[i].state, &live, GH_BUSY, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            i = -1;
    }
    if (i < 0)
        i = claim(&s->tables, (uintptr_t)t, &fresh);
    if (i < 0)
        return NULL;
    /* a record reused without passing through the quarantine's end (a
     * table GLib freed out of our sight) may still hold a history; a fresh
     * one is all zeros and is not even read: a read before the first
     * write would fault its page in twice */
    if (!fresh) {
        mg_hb_history_free(&s->t[i].hb);
        memset(&s->t[i], 0, sizeof s->t[i]);
    }
    s->t[i].refs = 1;
    __atomic_store_n(&s->tables.s[i].state, GH_LIVE, __ATOMIC_RELEASE);
    remember(s, t, i);
    return &s->t[i];
}

static void set_state(struct store *s, const GHashTable *t, unsigned from, unsigned to)
{
    uint32_t *sl = NULL;
    long i = find(&s->tables, (uintptr_t)t, from == GH_FREED, NULL, &sl);
    if (i < 0)
        return;
    /* the table's calls are over: the next table in this record starts
     * with no history (the read clock goes back to the arena) */
    if (to == GH_DEAD)
        mg_hb_history_free(&s->t[i].hb);
    if (__atomic_compare_exchange_n(&s->tables.s[i].state, &from, to, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) &&
        to == GH_DEAD)
        reclaim(&s->tables, sl, (uint32_t)i);
}

void mg_gh_table_mark_freed(const GHashTable *t)
{
    struct store *s = store_get(false);
    if (s)
        set_state(s, t, GH_LIVE, GH_FREED);
}

static GHashTable **ring;
static size_t ring_head;

static void really_free(GHashTable *t, unsigned from)
{
    struct store *s = store_get(false);
    if (s)
        set_state(s, t, from, GH_DEAD);
    MG_REAL(g_hash_table_unref)(t);
}

void mg_gh_table_retire(GHashTable *t)
{
    size_t n = (size_t)mg_opt.quarantine_size;
    GHashTable **r = __atomic_load_n(&ring, __ATOMIC_ACQUIRE);
    if (n && !r) {
        GHashTable **fresh = calloc(n, sizeof *fresh);
        GHashTable **expected = NULL;
        if (fresh && !__atomic_compare_exchange_n(&ring, &expected, fresh, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            free(fresh);
        r = __atomic_load_n(&ring, __ATOMIC_ACQUIRE);
    }
    if (!n || !r) {
        really_free(t, GH_FREED);
        return;
    }
    size_t i = __atomic_fetch_add(&ring_head, 1, __ATOMIC_RELAXED) % n;
    GHashTable *old = __atomic_exchange_n(&r[i], t, __ATOMIC_ACQ_REL);
    if (old)
        really_free(old, GH_FREED);
}

void mg_gh_table_each_live(void (*fn)(GHashTable *t, struct mg_gh_table *e, void *arg), void *arg)
{
    struct store *s = store_get(false);
    uint32_t n = s ? mg_dx_used(&s->tables.x) : 0;
    for (uint32_t i = 0; i < n; i++)
        if (__atomic_load_n(&s->tables.s[i].state, __ATOMIC_ACQUIRE) == GH_LIVE)
            fn((GHashTable *)__atomic_load_n(&s->tables.s[i].key, __ATOMIC_RELAXED), &s->t[i], arg);
}

struct mg_gh_iter *mg_gh_iter_claim(const GHashTableIter *it)
{
    struct store *s = store_get(false); /* no table tracked: no iterator either */
    if (!s)
        return NULL;
    /* the same iterator started again: its record is ours (one thread) */
    long i = find(&s->iters, (uintptr_t)it, false, NULL, NULL);
    if (i < 0) {
        bool fresh;
        i = claim(&s->iters, (uintptr_t)it, &fresh);
        if (i < 0)
            return NULL;
        __atomic_store_n(&s->iters.s[i].state, GH_LIVE, __ATOMIC_RELEASE);
    }
    return &s->i[i];
}

struct mg_gh_iter *mg_gh_iter_find(const GHashTableIter *it)
{
    struct store *s = store_get(false);
    if (!s)
        return NULL;
    long i = find(&s->iters, (uintptr_t)it, false, NULL, NULL);
    return i < 0 ? NULL : &s->i[i];
}

void mg_gh_iter_drop(const GHashTableIter *it)
{
    struct store *s = store_get(false);
    if (!s)
        return;
    uint32_t *sl = NULL;
    long i = find(&s->iters, (uintptr_t)it, false, NULL, &sl);
    unsigned live = GH_LIVE;
    if (i >= 0 && __atomic_compare_exchange_n(&s->iters.s[i].state, &live, GH_DEAD, false, __ATOMIC_ACQ_REL,
                                              __ATOMIC_ACQUIRE))
        reclaim(&s->iters, sl, (uint32_t)i);
}
