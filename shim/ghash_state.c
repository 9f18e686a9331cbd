/*
 * The side tables of GHashTable state (ghash_state.h says what and why).
 *
 * Each index is an array of (key, state) slots plus a payload array. A
 * lookup hashes the address and probes at most PROBES slots: it stops at
 * an EMPTY slot (never reached again once used, so the key cannot be
 * further on) and takes the first LIVE or FREED slot with its key. A claim
 * takes the first EMPTY or DEAD slot of the sequence with a compare-and-
 * swap to BUSY, fills the payload, and publishes LIVE with release order.
 * A table is made by one thread, which alone knows its address until the
 * call returns, so two claims for one key never race; an iterator is
 * claimed by the thread that initialises it.
 */
#include "ghash_state.h"
#include "happens_before.h"
#include "log.h"
#include "mapstate.h"
#include "options.h"

#include <stdlib.h>
#include <string.h>

#define PROBES 64u


__thread struct mg_gh_cached mg_gh_cache[MG_GH_CACHE] __attribute__((tls_model("initial-exec")));

struct index {
    struct mg_gh_slot *s;
    size_t mask;
};

struct store {
    struct index tables, iters;
    struct mg_gh_table *t;
    struct mg_gh_iter *i;
};

static struct store *store;
static bool warned_full;

static size_t hash_ptr(uintptr_t p) { return (size_t)((p >> 4) * 0x9e3779b97f4a7c15ull >> 20); }

static struct store *store_get(bool create)
{
    struct store *s = __atomic_load_n(&store, __ATOMIC_ACQUIRE);
    if (s || !create)
        return s;
    /* calloc: the pages are the kernel's zero pages until a slot is used */
    struct store *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->tables = (struct index){calloc(MG_GH_TABLES, sizeof(struct mg_gh_slot)), MG_GH_TABLES - 1};
    n->iters = (struct index){calloc(MG_GH_ITERS, sizeof(struct mg_gh_slot)), MG_GH_ITERS - 1};
    n->t = calloc(MG_GH_TABLES, sizeof *n->t);
    n->i = calloc(MG_GH_ITERS, sizeof *n->i);
    struct store *expected = NULL;
    if (!n->tables.s || !n->iters.s || !n->t || !n->i ||
        !__atomic_compare_exchange_n(&store, &expected, n, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        free(n->tables.s), free(n->iters.s);
        free(n->t), free(n->i), free(n);
    }
    return __atomic_load_n(&store, __ATOMIC_ACQUIRE);
}

/* The slot of key in a LIVE (or, if freed_too, FREED) state, or -1. */
static long find(const struct index *x, uintptr_t key, bool freed_too, unsigned *state)
{
    size_t h = hash_ptr(key);
    for (size_t k = 0; k < PROBES; k++) {
        size_t i = (h + k) & x->mask;
        uint32_t st = __atomic_load_n(&x->s[i].state, __ATOMIC_ACQUIRE);
        if (st == GH_EMPTY)
            return -1;
        if ((st == GH_LIVE || (freed_too && st == GH_FREED)) && __atomic_load_n(&x->s[i].key, __ATOMIC_RELAXED) == key) {
            if (state)
                *state = st;
            return (long)i;
        }
    }
    return -1;
}

/* A slot for key, now BUSY (the caller fills it and publishes LIVE), or -1.
 * *fresh tells whether the slot had never been used (EMPTY): its payload
 * is still calloc's zeros. */
static long claim(struct index *x, uintptr_t key, bool *fresh)
{
    size_t h = hash_ptr(key);
    for (size_t k = 0; k < PROBES; k++) {
        size_t i = (h + k) & x->mask;
        uint32_t st = __atomic_load_n(&x->s[i].state, __ATOMIC_ACQUIRE);
        while (st == GH_EMPTY || st == GH_DEAD) {
            bool empty = st == GH_EMPTY;
            if (__atomic_compare_exchange_n(&x->s[i].state, &st, GH_BUSY, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                __atomic_store_n(&x->s[i].key, key, __ATOMIC_RELAXED);
                *fresh = empty;
                return (long)i;
            }
        }
    }
    if (!__atomic_exchange_n(&warned_full, true, __ATOMIC_RELAXED))
        mg_log(1, "GHashTable side table full: tables or iterators past the bound are not checked");
    return -1;
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
    long i = find(&s->tables, (uintptr_t)t, true, &st);
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
    /* A slot still LIVE at this address belongs to a table GLib freed out
     * of our sight (a reference the program's calls never took): reused. */
    long i = find(&s->tables, (uintptr_t)t, false, NULL);
    if (i >= 0) {
        unsigned live = GH_LIVE;
        if (!__atomic_compare_exchange_n(&s->tables.s[i].state, &live, GH_BUSY, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            i = -1;
    }
    bool fresh = false;
    if (i < 0)
        i = claim(&s->tables, (uintptr_t)t, &fresh);
    if (i < 0)
        return NULL;
    /* a slot reused without passing through the quarantine's end (a table
     * GLib freed out of our sight) may still hold a history; a fresh one
     * is all zeros and is not even read: a read before the memset's write
     * would fault its page in twice */
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
    long i = find(&s->tables, (uintptr_t)t, from == GH_FREED, NULL);
    if (i < 0)
        return;
    /* the table's calls are over: the next table in this slot starts
     * with no history (the read clock goes back to the arena) */
    if (to == GH_DEAD)
        mg_hb_history_free(&s->t[i].hb);
    __atomic_compare_exchange_n(&s->tables.s[i].state, &from, to, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
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
    for (size_t i = 0; s && i < MG_GH_TABLES; i++)
        if (__atomic_load_n(&s->tables.s[i].state, __ATOMIC_ACQUIRE) == GH_LIVE)
            fn((GHashTable *)__atomic_load_n(&s->tables.s[i].key, __ATOMIC_RELAXED), &s->t[i], arg);
}

struct mg_gh_iter *mg_gh_iter_claim(const GHashTableIter *it)
{
    struct store *s = store_get(false); /* no table tracked: no iterator either */
    if (!s)
        return NULL;
    /* the same iterator started again: its slot is ours (one thread) */
    long i = find(&s->iters, (uintptr_t)it, false, NULL);
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
    long i = find(&s->iters, (uintptr_t)it, false, NULL);
    return i < 0 ? NULL : &s->i[i];
}

void mg_gh_iter_drop(const GHashTableIter *it)
{
    struct store *s = store_get(false);
    if (!s)
        return;
    long i = find(&s->iters, (uintptr_t)it, false, NULL);
    if (i >= 0)
        __atomic_store_n(&s->iters.s[i].state, GH_DEAD, __ATOMIC_RELEASE);
}
