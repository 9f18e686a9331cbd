/*
 * The detectors for GHashTable calls (ghash_detect.c), called by the
 * wrappers in ghash_intercept.c around the real GLib call. The same kinds
 * and report format as gomap's (detect.h), on the state of ghash_state.h.
 *
 * Overlap races: a writer marks itself in the table's sync word and bumps
 * its generation, with plain stores as gomap's writers do; a reader writes
 * nothing shared and reports if another thread's mark was there when it
 * came in, or if the word moved while it was inside. When the other
 * writer is still inside, it is asked (the table's req word) to capture
 * its own stack on its way out and hand it over (pub), as gomap's writers
 * do; the detector waits for it at most conflict_wait_ms, after its own
 * call into GLib is done. Otherwise the other call is reported with its
 * call site (stack_complete false).
 */
#ifndef MAPGUARD_GHASH_DETECT_H
#define MAPGUARD_GHASH_DETECT_H

#include "ghash_state.h"
#include "threads.h"

/* One intercepted call on a table, from entry to exit. */
struct mg_gh_call {
    GHashTable *t;
    struct mg_gh_table *e;
    uintptr_t pc;  /* the caller's return address */
    uint32_t self; /* this thread's index */
    unsigned op;
    uint64_t s0;   /* sync word: seen at entry (reader), installed (writer) */
    bool owned;    /* this writer holds the mark */
    bool flagged;  /* a conflict found at entry, reported at exit */
    int kind, slot;
    bool inside;   /* the other writer was still inside: its stack was asked for */
    uint32_t other_thread;
    unsigned other_op;
    uintptr_t other_pc;
};

enum { GH_PASS, GH_CHECK, GH_GONE };

/* How a call on t is handled: GH_PASS straight to GLib (NULL, the shim
 * busy, a table the shim does not track), GH_GONE (freed: reported by the
 * caller, GLib not called), GH_CHECK. */
int mg_gh_begin(struct mg_gh_call *c, const GHashTable *t, unsigned op, uintptr_t pc);

void mg_gh_read_enter(struct mg_gh_call *c);
void mg_gh_read_exit(struct mg_gh_call *c);
void mg_gh_write_enter(struct mg_gh_call *c);
void mg_gh_write_exit(struct mg_gh_call *c);

/* The call changed the table's set of keys: iterators see it; from inside
 * a foreach/find callback on the table, it is reported. */
void mg_gh_structural(struct mg_gh_call *c);
/* A new key went in: is it equal to itself? */
void mg_gh_inserted(struct mg_gh_call *c, const void *key);
/* A foreach/find runs its callbacks: marks the table until it returns.
 * Returns whether this call holds the mark (a nested or concurrent one
 * does not). */
bool mg_gh_callbacks_begin(struct mg_gh_call *c);
void mg_gh_callbacks_end(struct mg_gh_call *c, bool held);

void mg_gh_made(GHashTable *t, GEqualFunc eq, unsigned op, uintptr_t pc);
void mg_gh_use_after_free(struct mg_gh_call *c);
void mg_gh_double_free(struct mg_gh_call *c);
/* The table's last reference went: marks it freed (within the write
 * section) and records the free for later reports. */
void mg_gh_free_mark(struct mg_gh_call *c);
/* An iterator step found the table changed since its last step. */
void mg_gh_iter_modified(struct mg_gh_call *c, const struct mg_gh_iter *is);

/* The equal functions that always say k == k, once GLib is found. */
bool mg_gh_reflexive(GEqualFunc eq);

/* leaked-map for tables (detect_leaks=1), from mg_leak_report. */
void mg_gh_leak_report(void);

#endif
