/*
 * Per-table and per-iterator state for GLib's GHashTable (ghash_state.c).
 *
 * A GHashTable has no words to spare for a tool, as a gomap does, so each
 * table's state lives in a side table keyed by the table's address, and
 * each GHashTableIter's in another, keyed by the iterator's address. Both
 * are dense indexes (dense_index.h) over fixed-size pools of records,
 * allocated at the first table the program makes: lookups take no lock (a
 * record's key and state are read with acquire order), a record is claimed
 * and entered in the index with a compare-and-swap each, records come from
 * the pool in order (a program's tables share a few pages, not one page
 * each) and go back to it when DEAD, and the memory is bounded:
 * MG_GH_TABLES tables and MG_GH_ITERS iterators at once. Past the bound, a
 * new table (or iterator) is simply
 * not tracked: its calls go straight to GLib, unchecked, and the shim says
 * so once (verbosity 1). docs/design-detector.md states the bound.
 *
 * A table's record lives from g_hash_table_new* to the end of its
 * quarantine: after the last unref (or the destroy that drops the last
 * reference) the record is FREED and the table itself, emptied, waits in a ring of
 * quarantine_size tables before GLib really frees it, so a later call is
 * recognised as use-after-free (or double-free) and does not reach GLib.
 * When it falls out of the ring the record becomes DEAD (reusable) before the
 * real free, as gomap's quarantine clears its mark.
 */
#ifndef MAPGUARD_GHASH_STATE_H
#define MAPGUARD_GHASH_STATE_H

#include "ghash_api.h"
#include "hb_access.h"

#define MG_GH_TABLES 16384u /* tables tracked at once (a power of two) */
#define MG_GH_ITERS 4096u   /* iterators tracked at once (a power of two) */

enum { GH_EMPTY, GH_BUSY, GH_LIVE, GH_FREED, GH_DEAD };

/* One table's state. Every field is read and written with relaxed atomics
 * (MG_RD/MG_WR) except where a comment says otherwise. */
struct mg_gh_table {
    uint64_t sync;     /* gen:32 | last write op:8 | writer op:8 | writer thread:16 */
    uint64_t lastw;    /* call site of the latest write: pc:48 | thread:16 */
    uint64_t lastmod;  /* call site of the latest change to the set of keys */
    uint64_t made;     /* call site of the g_hash_table_new* that made it */
    uint64_t freed;    /* call site of the last unref or destroy */
    uint64_t cbsite;   /* call site of the foreach/find whose callback runs */
    GEqualFunc equal;  /* the equal function when it may say k != k, else NULL */
    uint32_t gen;      /* structural generation: bumped by every change of keys */
    uint32_t modop;    /* the op of that change */
    uint32_t made_stack, freed_stack, made_op, freed_op;
    int32_t refs;      /* references the program's calls took, from 1 at new */
    uint32_t cb;       /* thread inside a foreach/find on it (its callback
                          may not change it), 0: none */
    uint32_t cbop;
    uint32_t req;      /* a writer asked to hand over its stack on exit */
    uint32_t watched;  /* an iterator or a foreach/find callback ever saw it:
                          changes of its keys are bookkept (gen, lastmod) */
    uint32_t internal; /* made by GLib's own libraries: not ordered (ghash_detect.c) */
    uint64_t pub;      /* the stack it handed over (mapstate.h's pub_make) */
    struct hb_access hb; /* the happens-before history (hb_access.h),
                            cleared whenever the record is freed or reused */
};

/* One iterator's state: the table it walks and what it saw. */
struct mg_gh_iter {
    GHashTable *table;
    uint32_t gen;    /* the table's generation at init or the last step */
    uint32_t thread; /* the thread that initialised it */
    uintptr_t site;  /* call site of g_hash_table_iter_init */
};

/* One record's key (a table's or an iterator's address) and state, side
 * by side so that a lookup reads one line. */
struct mg_gh_slot {
    uintptr_t key;
    uint32_t state;
};

/* Each thread remembers the records of the last tables it called, a few
 * entries indexed by address bits, so that a call on a LIVE table usually
 * skips the hashing and probing: a remembered record is used only while it
 * still holds that table's address and is LIVE (checked on every call), so
 * a freed table (FREED: use-after-free) or a reused record falls through to
 * mg_gh_table_find. */
#define MG_GH_CACHE 4u
struct mg_gh_cached {
    uintptr_t key;
    struct mg_gh_slot *slot;
    struct mg_gh_table *e;
};
extern __thread struct mg_gh_cached mg_gh_cache[MG_GH_CACHE]
    __attribute__((tls_model("initial-exec"), visibility("hidden")));

static inline struct mg_gh_cached *mg_gh_cache_entry(const GHashTable *t)
{
    return &mg_gh_cache[((uintptr_t)t >> 4) & (MG_GH_CACHE - 1)];
}

/* The state of LIVE table t from this thread's cache, or NULL (not
 * remembered, no longer LIVE, or t NULL). */
static inline struct mg_gh_table *mg_gh_table_cached(const GHashTable *t)
{
    const struct mg_gh_cached *c = mg_gh_cache_entry(t);
    if (MG_UNLIKELY(c->key != (uintptr_t)t) || MG_UNLIKELY(!t))
        return NULL;
    const struct mg_gh_slot *s = c->slot;
    if (MG_UNLIKELY(__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != GH_LIVE) ||
        MG_UNLIKELY(__atomic_load_n(&s->key, __ATOMIC_RELAXED) != (uintptr_t)t))
        return NULL;
    return c->e;
}

/* The state of table t when it is tracked: LIVE or FREED in *state. NULL
 * when the shim did not see it made (made before GLib was found, by GLib
 * itself, or past the bound) or it has left the quarantine. */
struct mg_gh_table *mg_gh_table_find(const GHashTable *t, unsigned *state);
/* A fresh LIVE record for a table just made at t; NULL past the bound. */
struct mg_gh_table *mg_gh_table_claim(const GHashTable *t);
/* Marks table t's record FREED: later calls are use-after-free. */
void mg_gh_table_mark_freed(const GHashTable *t);
/* Ends table t (its record marked FREED by the caller): into the
 * quarantine, or, without one, DEAD and really unref'd at once. */
void mg_gh_table_retire(GHashTable *t);
/* Calls fn on every LIVE table (the leak report, at exit). */
void mg_gh_table_each_live(void (*fn)(GHashTable *t, struct mg_gh_table *e, void *arg), void *arg);

/* The state of iterator it, made (claim) or as found; NULL when it is not
 * tracked. */
struct mg_gh_iter *mg_gh_iter_claim(const GHashTableIter *it);
struct mg_gh_iter *mg_gh_iter_find(const GHashTableIter *it);
/* The iteration is over (the step that returned FALSE): record reusable. */
void mg_gh_iter_drop(const GHashTableIter *it);

#endif
