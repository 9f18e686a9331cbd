/*
 * Threads (thread_table.c): the per-thread state the wrappers' fast paths test,
 * the recursion guard, and the table of thread indexes.
 */
#ifndef MAPGUARD_THREAD_TABLE_H
#define MAPGUARD_THREAD_TABLE_H

#include "runtime.h"
#include <unistd.h>

struct hb_thr;
struct hb_sync_entry;

/* Per-thread state. busy is the recursion guard: set while the shim runs
 * its own slow path (reporting, unwinding, symbolizing), so that a gomap
 * call made underneath, e.g. by an allocator the application replaced,
 * goes straight to the library instead of re-entering the detector. */
struct mg_thread {
    uint32_t fast;          /* idx when started, registered and not busy, else 0:
                               the one word the wrappers' fast paths test */
    uint32_t idx;           /* index in the thread table, 0: not yet registered */
    uint32_t tid;
    uint32_t created_stack; /* depot id of the pthread_create/thrd_create call */
    uint32_t busy;
    uint32_t in_engine;     /* inside the happens-before engine's own code, which
                               calls nothing outside the shim: a signal handler's
                               release there is noted (hb_clock.h, hb_leak); one
                               made while the shim calls out (a report, an
                               unwind) may be another library's lock, and is not */
    uint8_t owned_locks;    /* the shim's locks this thread holds or is
                               taking (owned_lock.h) */
    bool small_stack;       /* created with a stack under MG_SMALL_STACK:
                               libunwind's unw_backtrace needs more (stack.c) */
    uint8_t exit_rounds;    /* calls of the exit key's destructor so far
                               (thread_table.c, thread_exit) */
    bool exit_armed;        /* the exit key is set: the thread ends in its
                               destructor */
    bool solo_threaded;     /* the process got its second thread while this
                               thread was inside a solo call with an exit
                               (happens_before.h, mg_solo_end): the exit
                               records it (interpose.c, SOLO_EXIT) */
    uintptr_t solo_pending; /* the in-call word of a bare solo call that
                               this thread was inside when the process got
                               its second thread, 0 if none (mg_solo_end):
                               recorded once the creation is made
                               (mg_solo_record) */
    uintptr_t solo_pending_pc; /* and its call site */
    uint32_t robust_held;   /* robust mutexes held (sync_intercept.c), counted
                               while the engine is awake: a thread that ends
                               holding one hands its clock to the next owner */
    /* The two words the map wrappers' fast paths read and write on every
     * call live here too, so that the whole per-thread state is one
     * thread-local object: a preloaded library reaches each thread-local
     * object through its own GOT entry (initial-exec; local-exec, whose
     * offset is fixed at link time, is refused by the linker in a shared
     * object, hidden visibility or not), so one object costs the wrappers
     * one GOT load where three cost three, and one register kept across
     * the real call where three kept three. */
    uintptr_t in_call;      /* the map call in flight (in_call.h) */
    uintptr_t in_call_cfa;  /* a bare solo call's frame address (in_call.h) */
    uint64_t hb_epoch;      /* the happens-before engine's published epoch
                               (happens_before.h), MG_HB_EPOCH_NONE if none */
    struct hb_thr *hb_ready; /* the engine's record of this thread while the
                               lock wrappers may run it inline (happens_before.c,
                               set_ready), else NULL: here and not an object of
                               its own for the same reason, a lock wrapper's
                               one GOT load */
    const void *plain_mutex; /* the default mutex this thread took last, until
                               its unlock (sync_intercept.c): that unlock then
                               need not read the mutex's kind */
    /* hb_lockpath.h's one-compare paths for a thread's own default mutex:
     * the mutex this thread let go last (MG_OWN_RELEASED) or holds
     * (MG_OWN_HELD), 0 for none; that mutex's entry in the engine's side
     * table; the engine's state count for this thread when they were made.
     * One word for both, so that each path's move to the other is one
     * instruction. */
    uintptr_t own_mutex;
    const struct hb_sync_entry *own_entry;
    uint32_t own_sgen;
};
/* own_mutex's two states: the complement, so that the zero a new thread
 * starts with is no mutex's (not even a null pointer's), and its low bit,
 * clear in every mutex's address. */
#define MG_OWN_RELEASED(m) (~(uintptr_t)(m))
#define MG_OWN_HELD(m) (~(uintptr_t)(m) ^ 1)

/* Never a happens-before epoch nor an access history word (hb_clock.h's
 * epochs use 56 bits; a read clock's word leaves bits 48-62 clear), so the
 * hooks' same-epoch test needs no separate test for "none". */
#define MG_HB_EPOCH_NONE UINT64_MAX
/* What a thread's hb_epoch holds while it has none published:
 * MG_HB_EPOCH_NONE, or 0 for good with happens_before=0 (happens_before.c,
 * mg_hb_start). Every history word then stays 0, so every read and write
 * passes the hooks' same-epoch test and takes the wrappers' inline path;
 * with NONE there, every call went out of line to do nothing, and turning
 * ordering off made the shim slower (mixed1m 86 ns/op, 72 with it on). */
extern uint64_t mg_hb_idle_epoch __attribute__((visibility("hidden")));
extern __thread struct mg_thread mg_self __attribute__((tls_model("initial-exec"), visibility("hidden")));

/* Brackets the shim's own slow work (see busy above). */
static inline void mg_busy_enter(void)
{
    mg_self.busy++;
    mg_self.fast = 0;
}
static inline void mg_busy_leave(void)
{
    if (--mg_self.busy == 0 && __atomic_load_n(&mg_ready, __ATOMIC_ACQUIRE) == 2)
        mg_self.fast = mg_self.idx;
}

#define MG_MAX_THREADS 65536u
#define MG_THREAD_OVERFLOW 0xffffu /* shared index once the table is full */

uint32_t mg_thread_register(void);
static inline uint32_t mg_self_idx(void)
{
    uint32_t i = mg_self.idx;
    return MG_LIKELY(i) ? i : mg_thread_register();
}
/* The calling thread's kernel id, cached in mg_self (a forked child's is
 * reset by mg_threads_atfork_child). */
static inline uint32_t mg_self_tid(void)
{
    uint32_t t = mg_self.tid;
    if (MG_UNLIKELY(!t))
        mg_self.tid = t = (uint32_t)gettid();
    return t;
}
/* A thread, named for a report that may be written long after it ended:
 * its index and the serial number of its registration. An index is reused
 * once 65,534 threads have registered; a reference to the thread that had
 * it before then resolves to 0 (mg_thread_of_ref), a thread the report
 * cannot name, rather than to the thread that has the index now. */
uint64_t mg_thread_ref(uint32_t idx);
uint32_t mg_thread_of_ref(uint64_t ref);
/* What the table remembers about a thread index. */
uint32_t mg_thread_tid(uint32_t idx);
uint32_t mg_thread_created(uint32_t idx);
/* The thread's name into buf (may be empty); len >= 17. */
void mg_thread_name(uint32_t idx, char *buf, size_t len);
/* Stores the calling thread's current name in its slot. */
void mg_thread_remember_name(void);
/* Did the index belong to a thread that did not survive a fork into this
 * process? Its writer marks may still sit on maps (thread_table.c). */
bool mg_thread_gone(uint32_t idx);
void mg_threads_lock(void);
void mg_threads_unlock(void);
void mg_threads_atfork_child(void);
/* Starts fn on a detached thread of the shim's own that takes none of the
 * program's signals and that the engine does not count as the program's
 * (pthread_create is called under the busy guard). Returns pthread_create's
 * error; the caller does the work itself when there is no thread to spare. */
int mg_spawn_helper(void *(*fn)(void *));

#endif
