/*
 * A mutex that knows whether the calling thread holds it. The report lock
 * (dedup.c) and the symbolization lock (symbolize_load.c) are taken by a
 * report; a signal handler that interrupts that report and ends the
 * process (exit) runs the exit path on the same thread, which must not
 * wait for a lock its own thread holds (summary.c, runtime.c).
 *
 * The mark is the thread's own (mg_self.owned_locks), set before the lock
 * is asked for and cleared after it is given back, so a handler sees it in
 * every instant between: a tid stored beside the mutex would leave two
 * windows (after the lock is taken, before the store; after the store is
 * cleared, before the unlock) where the thread holds the lock unmarked. A
 * handler that lands while the thread still waits for the lock also sees
 * the mark, and gives up what it would have done under it: the cautious
 * side. Header-only: two users, a few lines each.
 */
#ifndef MAPGUARD_OWNED_LOCK_H
#define MAPGUARD_OWNED_LOCK_H

#include "thread_table.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct mg_owned_lock {
    pthread_mutex_t mu;
    uint8_t bit; /* its bit in mg_self.owned_locks */
};
#define MG_OWNED_LOCK_INIT(bit) {PTHREAD_MUTEX_INITIALIZER, (bit)}
/* the bits: one per such lock */
enum { MG_LOCK_REPORT = 1, MG_LOCK_SYMBOLIZE = 2 };

static inline void mg_owned_lock(struct mg_owned_lock *l)
{
    mg_self.owned_locks |= l->bit;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    pthread_mutex_lock(&l->mu);
}

static inline void mg_owned_unlock(struct mg_owned_lock *l)
{
    pthread_mutex_unlock(&l->mu);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    mg_self.owned_locks &= (uint8_t)~l->bit;
}

static inline bool mg_owned_held_here(const struct mg_owned_lock *l) { return mg_self.owned_locks & l->bit; }

/* In a forked child: the forking thread held it (the prepare handler took
 * it), and the child's copy is made anew, unheld. */
static inline void mg_owned_reinit(struct mg_owned_lock *l)
{
    pthread_mutex_init(&l->mu, NULL);
    mg_self.owned_locks &= (uint8_t)~l->bit;
}

#endif
