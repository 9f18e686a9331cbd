/*
 * The happens-before engine (hb_*.h), wired into the shim: the option, the
 * per-thread record, the map-call check, the wrappers' entry points.
 *
 * The engine is on only with happens_before=1 and when, at start, libgomap
 * is loaded and agrees with the shim on the number of tool words (a map's
 * access history lives in words MW_HB..MW_HB+3), or libglib is loaded (a
 * GHashTable's history lives in its side-table entry); gomap's maps are
 * followed only in the first case. It then stays dormant until the first
 * gomap_new or g_hash_table_new*:
 * before that no map exists, so no call needs ordering, and wrapped locks
 * cost one load and a branch. Once awake (mg_hb_awake), every checked map
 * call enters mg_hb_access from mg_hook_leave (detect.h), and the
 * synchronization wrappers (thread_table.c, sync_intercept.c) call the engine,
 * once the process has had a second thread (mg_hb_sync_live).
 * Every entry into the engine is under the recursion guard, so a signal
 * handler that calls a map or lock function while its thread is inside
 * the engine's spinlocks passes straight through.
 */
#ifndef MAPGUARD_HAPPENS_BEFORE_H
#define MAPGUARD_HAPPENS_BEFORE_H

#include "common.h"
#include "in_call.h"
#include "intercept.h"
#include "thread_table.h"

/* MG_HB_MAPS once the engine is on (mg_hb_enabled) and the first map or
 * table exists; MG_HB_THREADS once the process ever had a second thread
 * (mg_hb_second_thread). Both bits in one word, so that a lock wrapper
 * decides with one load. */
extern MG_HIDDEN int mg_hb_awake;
#define MG_HB_MAPS 1
#define MG_HB_THREADS 2

/* Map calls are followed once a map exists. */
MG_ALWAYS_INLINE bool mg_hb_is_awake(void)
{
    return MG_UNLIKELY(__atomic_load_n(&mg_hb_awake, __ATOMIC_RELAXED) & MG_HB_MAPS);
}
/* Synchronization is followed once a map exists and the process has had a
 * second thread. Before that every release and acquire is skipped: the
 * only thread's clock stays as it is (nothing ticks it without a release),
 * every thread created later starts from its creator's clock, which covers
 * whatever those releases would have published, and a thread the engine
 * did not see created joins the only thread's epoch at its first acquire
 * (happens_before.c, solo_join). docs/design-detector.md says why. */
/* Set on a thread that skipped a synchronization while a map existed and
 * the process looked single-threaded: if that was not the solo thread, it
 * may have skipped an acquire of what the solo thread released. */
extern __thread uint32_t mg_hb_solo_skipped __attribute__((tls_model("initial-exec"), visibility("hidden")));
static inline bool mg_hb_sync_live(void)
{
    int v = __atomic_load_n(&mg_hb_awake, __ATOMIC_RELAXED);
    if (MG_LIKELY(v != (MG_HB_MAPS | MG_HB_THREADS))) {
        if (v == MG_HB_MAPS && !mg_self.busy) /* the shim's own locks are not the program's */
            mg_hb_solo_skipped = 1;
        return false;
    }
    return true;
}
/* Non-zero once the process may have more than one thread: the map
 * wrappers' solo path (detect.h) ends. Its own word, not a bit of
 * mg_hb_awake: a thread libc starts (SIGEV_THREAD) or one met unseen ends
 * the solo path at once, while the engine goes on taking the process for
 * single-threaded until it meets that thread (me_first), so that the
 * thread still joins the first thread's epoch (solo_join). */
extern MG_HIDDEN int mg_solo_over;
/* Notes the bare solo call this thread is inside, if its word is not
 * left from one that returned (in_call.h), in mg_self.solo_pending. */
MG_COLD void mg_solo_in_flight(void);
static inline void mg_solo_end(void)
{
    if (!__atomic_load_n(&mg_solo_over, __ATOMIC_RELAXED)) {
        /* a thread made from inside a map call (its hash callback, a signal
         * handler that interrupted it): that call runs on the solo path,
         * unrecorded, and the new thread may race with it. A call with an
         * exit records itself there; a bare one (no callback: a signal
         * handler made the thread) has mg_solo_record record it once the
         * creation is made. */
        uintptr_t word = mg_self.in_call;
        if (word & MG_IN_CALL_SOLO_EXIT)
            mg_self.solo_threaded = true;
        else if (word & MG_IN_CALL_SOLO)
            mg_solo_in_flight();
        __atomic_store_n(&mg_solo_over, 1, __ATOMIC_SEQ_CST);
    }
}

/* After a creation that ended the solo path, in the creator's epoch after
 * it (the new thread starts from the one before): the bare solo call the
 * creator is still inside, as a call of no length, for what the new
 * thread does from now on. Nothing orders the rest of that call before
 * the new thread's calls, and its return is not seen (a bare call has no
 * exit), so it is recorded here, once, instead. A release the signal
 * handler that made the thread makes afterwards orders this record before
 * what takes it, though the rest of the call comes later: such a race is
 * missed (docs/design-detector.md, the solo path). */
MG_COLD void mg_solo_record_slow(void);
static inline void mg_solo_record(void)
{
    if (MG_UNLIKELY(mg_self.solo_pending))
        mg_solo_record_slow();
}

/* Called by every intercepted thread creation (pthread_create, thrd_create)
 * before the real one, whatever the engine's state: from then on releases
 * and acquires are followed. */
static inline void mg_hb_second_thread(void)
{
    mg_solo_end();
    if (!(__atomic_load_n(&mg_hb_awake, __ATOMIC_RELAXED) & MG_HB_THREADS))
        __atomic_fetch_or(&mg_hb_awake, MG_HB_THREADS, __ATOMIC_SEQ_CST);
}

/* At start, after the options: decides whether the engine may run. */
void mg_hb_start(void);
/* libglib was found after start (by a dlopen): switches the engine on if
 * happens_before=1 and mg_hb_start left it off. Once; any thread. */
void mg_hb_glib_arrived(void);
/* Will it run (happens_before=1, and the words agree or GLib is there),
 * awake or not yet? */
bool mg_hb_enabled(void);
/* A map was made (gomap_new): wakes the engine. */
void mg_hb_map_created(uint64_t *w);
/* A map is really freed (out of the quarantine): its history goes. */
void mg_hb_map_freed(uint64_t *w);
/* mg_self.hb_epoch (thread_table.h), the calling thread's current epoch while
 * it may skip the engine: a map call whose class of access this thread
 * already recorded on the map in this epoch (no release since) changes
 * nothing and needs no check (FastTrack's same-epoch rule).
 * MG_HB_EPOCH_NONE when unknown: not published yet, withdrawn by every
 * synchronization wrapper, or the engine off; it equals no history word,
 * so the same-epoch test needs no separate test for it. */
/* an iteration step's read epoch carries this flag (HB_R_ITER) */
#define MG_HB_ITER_FLAG (1ull << 62)

/* One map call (its map's tool words w, which are at the map's address):
 * checked against the map's history when it enters the map, and reported
 * if it races with an earlier call; recorded in the history when it
 * leaves (hb_access.h says why in two steps). */
void mg_hb_enter(uint64_t *w, unsigned op, uintptr_t pc);
void mg_hb_leave(uint64_t *w, unsigned op, uintptr_t pc);

/* The same for a map whose history lives elsewhere: a GHashTable's, in its
 * side-table entry (ghash_state.h). h is the history (struct hb_access,
 * hb_access.h), map the table the report names; op is a GHashTable op
 * (ghash_api.h), whose class (read, iteration step, write) comes from
 * ghash_api.inc. */
struct hb_access;
void mg_hb_enter_at(struct hb_access *h, const void *map, unsigned op, uintptr_t pc);
void mg_hb_leave_at(struct hb_access *h, unsigned op, uintptr_t pc);
/* A GHashTable was made: wakes the engine as a gomap_new does. */
void mg_hb_table_created(void);
/* A table's history goes (its side-table slot is freed or reused). */
void mg_hb_history_free(struct hb_access *h);

/* ---- threads (thread_table.c) ----
 * The engine's record for a thread being created, made by its creator
 * (NULL while dormant, busy, or off); the creation's outcome; the new
 * thread's start and end. Opaque pointers: thread_table.c need not see the
 * engine's headers. */
void *mg_hb_thread_creating(void);
void mg_hb_thread_created(void *rec, uintptr_t handle, bool ok, bool detached);
void mg_hb_thread_start(void *rec);
void mg_hb_thread_end(void);
/* Before a join of handle (every variant): the record to join, found now
 * since the handle may be reused as soon as the real join returns. */
void *mg_hb_join_prepare(uintptr_t handle);
void mg_hb_join_done(void *rec, uintptr_t handle, bool ok);
void mg_hb_detach(uintptr_t handle);

/* ---- synchronization objects (sync_intercept.c) ---- */
void mg_hb_acquire(const volatile void *addr);
void mg_hb_release(const volatile void *addr);
void mg_hb_release_merge(const volatile void *addr);
/* a lock one thread holds at a time (mutexes, spinlocks, a condition
 * wait's mutex): as acquire and release, cheaper */
void mg_hb_lock_acquired(const volatile void *addr);
void mg_hb_lock_releasing(const volatile void *addr);
void mg_hb_reset(const volatile void *addr);

/* The program installed a signal handler (deadly.c's sigaction and
 * signal wrappers): the engine's global table lock is then held with
 * signals blocked (hb_sync.c). */
void mg_hb_program_handles_signals(void);

/* At exit (summary.c): says whether the engine ran out of room for
 * synchronization objects' clocks (hb_sync.h), which hides races. */
void mg_hb_exit_note(void);

/* A clock its caller owns, outside the side table of objects' clocks: an
 * OpenMP task's own (omp_region.c). A program can have more tasks
 * pending than the table has entries (200,000 dependent libgomp tasks
 * queued at once filled it), and a task's clock is one thread's to write
 * and another's to read, in an order its runtime makes. NULL: none yet,
 * which orders nothing. */
struct mg_hb_clock;
/* Room for the calling thread's clock as it is now, and an empty clock
 * made in such room (the caller's memory, in one block with its own
 * record: a task is made and freed by two threads, and glibc's free of
 * another thread's block is not cheap). */
size_t mg_hb_clock_bytes(void);
struct mg_hb_clock *mg_hb_clock_place(void *mem, size_t bytes);
/* The calling thread's clock merges into *c, made (malloc'd) or grown as
 * needed, a placed one into a malloc'd copy (no memory: *c keeps what it
 * had): a release. */
void mg_hb_clock_release(struct mg_hb_clock **c);
void mg_hb_clock_acquire(const struct mg_hb_clock *c);
/* Frees what mg_hb_clock_release allocated; a placed clock stays. */
void mg_hb_clock_free(struct mg_hb_clock *c);

/* Keys for clocks that belong to no object of the program (glib_sync.c's
 * per-item handoffs): addresses with the top bit set, which no user-space
 * object has. n >= 1 (glib_sync.c's from 1 up); key 0 is the broadcast's. */
#define MG_HB_SYNTHETIC_KEY(n) ((const volatile void *)(uintptr_t)((1ull << 63) | ((uint64_t)(n) << 4)))
/* The clock of the threads that ended holding a robust mutex: a lock
 * that returns EOWNERDEAD acquires it, since the dead owner never
 * unlocked (sync_intercept.c). */
#define MG_HB_ENDED_KEY MG_HB_SYNTHETIC_KEY(1ull << 32)
/* The clock a thread the engine meets without having seen its creation
 * takes at once: the calls that ask libc for a SIGEV_THREAD notification
 * it starts on such a thread (aio_*, lio_listio, getaddrinfo_a:
 * sigev_notify.c) merge into it before libc can start one. */
#define MG_HB_UNSEEN_KEY MG_HB_SYNTHETIC_KEY(3ull << 32)
/* A lock or a condition wait of a robust mutex returned EOWNERDEAD: the
 * caller acquires MG_HB_ENDED_KEY and starts a new epoch. Call it before
 * the lock's own acquire: the lock's clock may still be the caller's copy,
 * left at its last unlock, which would take the caller back into the epoch
 * of that unlock (hb_relocked); but the dead holder took that epoch with
 * the lock, and a thread ordered after its end (a join) must not be
 * ordered after what the caller does now. */
void mg_hb_owner_died(void);
/* A publication whose readers make no call mapguard sees (the inline fast
 * path of g_once_init_enter): the caller's clock merges into one clock
 * that every thread acquires at its next checked map call. Over-orders
 * (a thread that never read the published value is ordered too): it may
 * hide races, never invents one. */
void mg_hb_release_broadcast(void);
/* read-write locks: acquire after a successful lock (write: a write lock),
 * release before the unlock */
void mg_hb_rw_acquire(const volatile void *addr, bool write);
void mg_hb_rw_release(const volatile void *addr);
void mg_hb_rw_release_writer(const volatile void *addr); /* glibc says it holds it for writing */
/* barriers: the count at init (recorded while dormant too, since a
 * barrier is usually made before the first map); a wait's arrival before
 * the real wait returns its round (0 when the engine is not involved),
 * its departure after */
void mg_hb_barrier_init(const volatile void *addr, unsigned count);
uint64_t mg_hb_barrier_arrive(const volatile void *addr, bool *involved);
void mg_hb_barrier_depart(const volatile void *addr, uint64_t round);

#endif
