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
 *
 * While the thread holds one, the asynchronous signals are blocked (the
 * faults that deadly.c reports are not): a program's handler that takes a
 * lock of the program's and then makes a map call could otherwise run on
 * the holder and wait there for the program's lock, held by another
 * thread's handler whose map call found a race and waits for this one (a
 * held-out probe: 5 hangs in 10 runs of a racy program whose SIGALRM
 * handler did that). A report is rare; the mask costs two system calls
 * around its locks, saved by the first lock the thread takes and given
 * back by its last unlock.
 */
#ifndef MAPGUARD_OWNED_LOCK_H
#define MAPGUARD_OWNED_LOCK_H

#include "thread_table.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct mg_owned_lock {
    pthread_mutex_t mu;
    uint8_t bit; /* its bit in mg_self.owned_locks */
};
#define MG_OWNED_LOCK_INIT(bit) {PTHREAD_MUTEX_INITIALIZER, (bit)}
/* the bits: one per such lock */
enum { MG_LOCK_REPORT = 1, MG_LOCK_SYMBOLIZE = 2 };

/* the thread's signal mask before its first owned lock (thread_table.c) */
extern __thread sigset_t mg_owned_saved_mask __attribute__((tls_model("initial-exec"), visibility("hidden")));

/* Blocks every signal but the faults deadly.c reports; the mask before
 * into *old. Also for the whole of a report (report.c), which takes
 * glibc's own locks (the loader's, in dl_iterate_phdr) as well as ours. */
static inline void mg_block_async_signals(sigset_t *old)
{
    sigset_t async;
    sigfillset(&async);
    static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS};
    for (unsigned i = 0; i < sizeof faults / sizeof faults[0]; i++)
        sigdelset(&async, faults[i]);
    pthread_sigmask(SIG_BLOCK, &async, old);
}

static inline void mg_owned_lock(struct mg_owned_lock *l)
{
    if (!mg_self.owned_locks)
        mg_block_async_signals(&mg_owned_saved_mask);
    mg_self.owned_locks |= l->bit;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    pthread_mutex_lock(&l->mu);
}

static inline void mg_owned_unlock(struct mg_owned_lock *l)
{
    pthread_mutex_unlock(&l->mu);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    mg_self.owned_locks &= (uint8_t)~l->bit;
    if (!mg_self.owned_locks)
        pthread_sigmask(SIG_SETMASK, &mg_owned_saved_mask, NULL);
}

static inline bool mg_owned_held_here(const struct mg_owned_lock *l) { return mg_self.owned_locks & l->bit; }

/* In a forked child: the forking thread held it (the prepare handler took
 * it), and the child's copy is made anew, unheld. */
static inline void mg_owned_reinit(struct mg_owned_lock *l)
{
    pthread_mutex_init(&l->mu, NULL);
    bool held = mg_self.owned_locks & l->bit;
    mg_self.owned_locks &= (uint8_t)~l->bit;
    if (held && !mg_self.owned_locks)
        pthread_sigmask(SIG_SETMASK, &mg_owned_saved_mask, NULL);
}

#endif
