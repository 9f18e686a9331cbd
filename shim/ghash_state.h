/*
 * Per-table and per-iterator state for GLib's GHashTable (ghash_state.c).
 *
 * A GHashTable has no words to spare for a tool, as a gomap does, so each
 * table's state lives in a side table keyed by the table's address, and
 * each GHashTableIter's in another, keyed by the iterator's address. Both
 * are fixed-size open-addressing arrays, allocated at the first table the
 * program makes: lookups take no lock (a slot's key and state are read
 * with acquire order, and a slot never goes back to empty, so a probe
 * sequence is never cut short), slots are claimed with one compare-and-
 * swap, and the memory is bounded: MG_GH_TABLES tables and MG_GH_ITERS
 * iterators at once. Past the bound, a new table (or iterator) is simply
 * not tracked: its calls go straight to GLib, unchecked, and the shim says
 * so once (verbosity 1). docs/design-detector.md states the bound.
 *
 * A table's slot lives from g_hash_table_new* to the end of its quarantine:
 * after the last unref (or the destroy that drops the last reference) the
 * slot is FREED and the table itself, emptied, waits in a ring of
 * quarantine_size tables before GLib really frees it, so a later call is
 * recognised as use-after-free (or double-free) and does not reach GLib.
 * When it falls out of the ring the slot becomes DEAD (reusable) before the
 * real free, as gomap's quarantine clears its mark.
 */
#ifndef MAPGUARD_GHASH_STATE_H
#define MAPGUARD_GHASH_STATE_H

#include "ghash_api.h"

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
    uint64_t pub;      /* the stack it handed over (mapstate.h's pub_make) */
};

/* One iterator's state: the table it walks and what it saw. */
struct mg_gh_iter {
    GHashTable *table;
    uint32_t gen;    /* the table's generation at init or the last step */
    uint32_t thread; /* the thread that initialised it */
    uintptr_t site;  /* call site of g_hash_table_iter_init */
};

/* The state of table t when it is tracked: LIVE or FREED in *state. NULL
 * when the shim did not see it made (made before GLib was found, by GLib
 * itself, or past the bound) or it has left the quarantine. */
struct mg_gh_table *mg_gh_table_find(const GHashTable *t, unsigned *state);
/* A fresh LIVE slot for a table just made at t; NULL past the bound. */
struct mg_gh_table *mg_gh_table_claim(const GHashTable *t);
/* Marks table t's slot FREED: later calls are use-after-free. */
void mg_gh_table_mark_freed(const GHashTable *t);
/* Ends table t (its slot marked FREED by the caller): into the
 * quarantine, or, without one, DEAD and really unref'd at once. */
void mg_gh_table_retire(GHashTable *t);
/* Calls fn on every LIVE table (the leak report, at exit). */
void mg_gh_table_each_live(void (*fn)(GHashTable *t, struct mg_gh_table *e, void *arg), void *arg);

/* The state of iterator it, made (claim) or as found; NULL when it is not
 * tracked. */
struct mg_gh_iter *mg_gh_iter_claim(const GHashTableIter *it);
struct mg_gh_iter *mg_gh_iter_find(const GHashTableIter *it);
/* The iteration is over (the step that returned FALSE): slot reusable. */
void mg_gh_iter_drop(const GHashTableIter *it);

#endif
