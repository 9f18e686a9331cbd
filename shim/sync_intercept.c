/*
 * The synchronization functions the happens-before engine must see
 * (issue 12, item 2): locks, condition waits, semaphores, spinlocks,
 * barriers, once. Each wrapper calls the real function and tells the
 * engine what it did: an acquire after every successful lock, a release
 * before every unlock (before: once the real unlock returns another thread
 * may already hold the lock and read the object's clock), a reset on every
 * init and destroy so that an object at a reused address starts clean.
 *
 * The engine is asked only once it is awake and the process has had a
 * second thread (mg_hb_sync_live, happens_before.h): before the first map
 * exists, while the process is single-threaded, and always with
 * happens_before=0, a wrapper costs a load and
 * a branch before the real call and, for a lock, one more after it (a
 * lock that blocked may return to an engine that woke meanwhile). Return
 * values and errno are the real function's. glibc's C11
 * functions (mtx_*, cnd_*, call_once) call its pthread internals directly,
 * never through the PLT, so they are wrapped on their own.
 */
#include "hb_lockpath.h"
#include "common.h"
#include "thread_table.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <threads.h>
#include <time.h>

/* A wrapper called before start (another library's constructor) finds its
 * real function itself, while dlsym is still harmless. */
#define REAL(fn) (MG_LIKELY(MG_REAL_LOAD(fn) != NULL) ? MG_REAL(fn) : (mg_sync_resolve(), MG_REAL_LOAD(fn)))

/* A wrapper of a function that takes an object: awake, the real call, then
 * the engine (hook) when ok, an expression of the result r. The awake half
 * loads the real function once: it is the hot path of a map under a lock,
 * where every instruction a wrapper adds shows (docs/performance.md,
 * mutex2). While the engine sleeps, the real call and one more look after
 * it: a thread that blocked before the first map existed and wakes after
 * (a pool's worker waiting for work) must take what its waker released
 * since (a held-out probe: every blocking lock, semaphore and barrier
 * wait reported the map its waker had just filled). */
/* (params) and (args) with the real call's result r first */
#define WITH_R(...) (int r, __VA_ARGS__)
#define PASS_R(...) (r, __VA_ARGS__)
#define TAKE_HALVES(fn, params, args, hook, ok)                                                                    \
    MG_DECLARE_REAL(int, fn, params);                                                                              \
    static MG_NOINLINE int fn##_awake params                                                                       \
    {                                                                                                              \
        __typeof__(MG_REAL(fn)) real_ = MG_REAL_LOAD(fn);                                                          \
        if (MG_UNLIKELY(real_ == NULL))                                                                            \
            real_ = REAL(fn);                                                                                      \
        int r = real_ args;                                                                                        \
        if (ok)                                                                                                    \
            hook;                                                                                                  \
        return r;                                                                                                  \
    }                                                                                                              \
    /* the engine woke during the real call: out of line, so that the       \
     * asleep half keeps no more than the arguments across it */            \
    _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wunused-parameter\"")                    \
    static MG_NOINLINE int fn##_woke WITH_R params                                                                 \
    {                                                                                                              \
        if (ok)                                                                                                    \
            hook;                                                                                                  \
        return r;                                                                                                  \
    }                                                                                                              \
    _Pragma("GCC diagnostic pop")                                                                                  \
    static MG_NOINLINE int fn##_asleep params                                                                      \
    {                                                                                                              \
        int r = REAL(fn) args;                                                                                     \
        if (MG_UNLIKELY(mg_hb_sync_live()))                                                                        \
            return fn##_woke PASS_R args;                                                                          \
        return r;                                                                                                  \
    }
#define TAKE_DISPATCH(fn, args)                                                                                    \
    do {                                                                                                           \
        if (MG_UNLIKELY(mg_hb_sync_live()))                                                                        \
            return fn##_awake args;                                                                                \
        return fn##_asleep args;                                                                                   \
    } while (0)
#define TAKE(fn, params, args, hook, ok)                                                                           \
    TAKE_HALVES(fn, params, args, hook, ok)                                                                        \
    MG_INTERCEPTOR(int, fn, params) { TAKE_DISPATCH(fn, args); }

/* r is the real call's result; ok says when it took the object. */
#define AFTER_ACQUIRE(obj, ok)                                                                                     \
    do {                                                                                                           \
        if (mg_hb_sync_live() && (ok))                                                                              \
            mg_hb_acquire(obj);                                                                                    \
    } while (0)
/* An unlock: hb_lockpath.h's inline path first. */
#define BEFORE_UNLOCK(obj)                                                                                         \
    do {                                                                                                           \
        if (mg_hb_sync_live())                                                                                      \
            MG_HB_LOCK_RELEASING(obj);                                                                             \
    } while (0)
#define BEFORE(what, obj)                                                                                          \
    do {                                                                                                           \
        if (mg_hb_sync_live())                                                                                      \
            what(obj);                                                                                             \
    } while (0)

/* A robust mutex whose owner died is still taken (mutex_taken). */
#define MUTEX_TAKEN(r) ((r) == 0 || (r) == EOWNERDEAD)

/* glibc's mutex kinds (the low bits of __kind): the owner checks and
 * robustness that the wrappers must know of. The fields read here are
 * glibc's ABI (bits/struct_mutex.h: static initializers depend on them);
 * glibc's mtx_t is a pthread mutex (its mtx_* functions cast it). */
enum { KIND_TYPE = 3, KIND_RECURSIVE = 1, KIND_ERRORCHECK = 2, KIND_ROBUST = 16, KIND_PI = 32 };
#define FUTEX_TID_BITS 0x3fffffff

static inline int mutex_kind(const pthread_mutex_t *m) { return __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED); }

/* Will glibc refuse this unlock with EPERM, the caller not owning the
 * mutex? It then releases nothing, and a release recorded before it would
 * order the caller's calls before the mutex's next holder. glibc 2.36
 * checks the owner of error-checking, recursive, robust and
 * priority-inheriting mutexes, where it keeps it: the futex word's TID
 * bits for robust and priority-inheriting ones, __owner for the others.
 * It does not check normal and adaptive mutexes, priority-protected ones
 * among them, whose unlock by another thread is undefined (measured: every
 * type, robustness and protocol, unlocked by a thread that does not hold
 * it). */
static bool unlock_refused(const pthread_mutex_t *m, int kind)
{
    unsigned owner;
    if (kind & (KIND_ROBUST | KIND_PI))
        owner = (unsigned)__atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) & FUTEX_TID_BITS;
    else if ((kind & KIND_TYPE) == KIND_RECURSIVE || (kind & KIND_TYPE) == KIND_ERRORCHECK)
        owner = (unsigned)__atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED);
    else
        return false;
    return owner != mg_self_tid();
}

/* After a lock took m (r: 0 or EOWNERDEAD). The owner of a robust mutex
 * may die holding it: glibc hands it to the next locker with EOWNERDEAD,
 * and no unlock ever put the dead owner's clock in the mutex. So a thread
 * that ends holding a robust mutex merges its final clock into one clock
 * (MG_HB_ENDED_KEY, mg_hb_thread_end), which such a lock acquires: it is
 * ordered after the dead owner, and after any other thread that ended
 * holding one (which may hide a race with those, never invents one). And
 * it starts a new epoch (mg_hb_owner_died), even when it is the thread
 * that let the mutex go last: the dead owner took its epoch with it. */
static MG_NOINLINE void robust_taken(pthread_mutex_t *m, int r)
{
    if (r == EOWNERDEAD)
        mg_hb_owner_died();
    MG_HB_LOCK_ACQUIRED(m);
    mg_self.robust_held++;
}

/* Inlined whole into each mutex lock wrapper: the common case (a mutex
 * that is not robust, hb_lockpath.h's inline path taking it) makes no call
 * but the real one.
 *
 * A default mutex is remembered until its unlock (mg_self.plain_mutex), so
 * that the unlock need not read its kind: on a contended mutex the waiter
 * has written the lock word since, the line is the other core's, and a
 * read before the real unlock's locked write made that write a second
 * transfer of the line (perf on shared1k: nine tenths of the unlock
 * wrapper's samples on that load). Read here, the line is this thread's:
 * it has just locked it. The kind cannot change between a lock and its
 * unlock short of destroying a locked mutex; a program that has another
 * thread unlock it for it (undefined) and then re-make it as an
 * error-checking one before its own unlock may get a refused unlock taken
 * as a release, which only hides races. */
MG_ALWAYS_INLINE void mutex_taken(pthread_mutex_t *m, int r)
{
    int kind = mutex_kind(m);
    mg_self.plain_mutex = kind == 0 ? m : NULL;
    if (MG_UNLIKELY(kind & KIND_ROBUST)) {
        robust_taken(m, r);
        return;
    }
    if (MG_UNLIKELY(!mg_hb_lock_acquired_inline(m)))
        mg_hb_lock_acquired_slow(m);
    if (kind == 0)
        mg_hb_own_remember(m, true);
}

/* Before the unlock of a mutex that is not a default one (kind != 0). */
static MG_NOINLINE void kind_unlocking(pthread_mutex_t *m, int kind)
{
    if (unlock_refused(m, kind))
        return;
    if ((kind & KIND_ROBUST) && mg_self.robust_held)
        mg_self.robust_held--;
    MG_HB_LOCK_RELEASING(m);
}

MG_ALWAYS_INLINE void mutex_unlocking(pthread_mutex_t *m)
{
    int kind = 0;
    if (MG_LIKELY(mg_self.plain_mutex == m))
        mg_self.plain_mutex = NULL; /* once: a later unlock of m, not locked again, reads */
    else
        kind = mutex_kind(m);
    if (MG_UNLIKELY(kind != 0)) { /* 0: a default mutex */
        kind_unlocking(m, kind);
        return;
    }
    if (MG_UNLIKELY(!mg_hb_lock_releasing_inline(m)))
        mg_hb_lock_releasing_slow(m);
    mg_hb_own_remember(m, false);
}

#define BEFORE_MUTEX_UNLOCK(m)                                                                                     \
    do {                                                                                                           \
        if (mg_hb_sync_live())                                                                                     \
            mutex_unlocking(m);                                                                                    \
    } while (0)

/* ---- pthread mutexes ---- */

TAKE_HALVES(pthread_mutex_lock, (pthread_mutex_t *m), (m), mutex_taken(m, r), MUTEX_TAKEN(r))
/* Out of line, so that the one-compare path below saves one register,
 * not every register these need. */
static MG_NOINLINE int mutex_lock_general(pthread_mutex_t *m, int r)
{
    if (MUTEX_TAKEN(r))
        mutex_taken(m, r);
    return r;
}
/* A default mutex this thread let go last, taken again (the real function
 * was found: hints are made only once the engine is awake). */
static MG_NOINLINE int mutex_relock(pthread_mutex_t *m)
{
    int r = MG_REAL_LOAD(pthread_mutex_lock)(m);
    if (MG_LIKELY(r == 0) && MG_LIKELY(mg_hb_own_relocked(m)))
        return r;
    return mutex_lock_general(m, r);
}

/* TAKE's dispatch with the one compare between, and no frame of its own.
 * Asleep first: a program with no map pays a load and two branches not
 * taken (the locks row of docs/performance-log.md: 1.08x this way, 1.13x with
 * the awake path falling through instead, which mutex2 measured at 1.40x
 * against 1.45x). */
MG_INTERCEPTOR(int, pthread_mutex_lock, (pthread_mutex_t *m))
{
    if (MG_UNLIKELY(!mg_hb_sync_live()))
        return pthread_mutex_lock_asleep(m);
    if (MG_LIKELY(mg_self.own_mutex == MG_OWN_RELEASED(m)))
        return mutex_relock(m);
    return pthread_mutex_lock_awake(m);
}

TAKE(pthread_mutex_trylock, (pthread_mutex_t *m), (m), mutex_taken(m, r), MUTEX_TAKEN(r))

TAKE(pthread_mutex_timedlock, (pthread_mutex_t *m, const struct timespec *abstime), (m, abstime), mutex_taken(m, r), MUTEX_TAKEN(r))

TAKE(pthread_mutex_clocklock, (pthread_mutex_t *m, clockid_t clock, const struct timespec *abstime), (m, clock, abstime), mutex_taken(m, r), MUTEX_TAKEN(r))

/* Out of line, as mutex_lock_general: the one-compare path keeps no
 * frame, nor does the path of a program with no map. */
MG_DECLARE_REAL(int, pthread_mutex_unlock, (pthread_mutex_t *));
static MG_NOINLINE int mutex_unlock_awake(pthread_mutex_t *m)
{
    mutex_unlocking(m);
    return MG_REAL_LOAD(pthread_mutex_unlock)(m);
}

/* Before start-up found it (another library's constructor). */
static MG_NOINLINE int mutex_unlock_early(pthread_mutex_t *m) { return REAL(pthread_mutex_unlock)(m); }

MG_INTERCEPTOR(int, pthread_mutex_unlock, (pthread_mutex_t *m))
{
    /* asleep first, as pthread_mutex_lock's */
    if (MG_UNLIKELY(mg_hb_sync_live())) {
        /* a default mutex this thread holds (see pthread_mutex_lock) */
        if (MG_LIKELY(mg_hb_own_unlocking(m)))
            return MG_REAL_LOAD(pthread_mutex_unlock)(m);
        return mutex_unlock_awake(m);
    }
    int (*real)(pthread_mutex_t *) = MG_REAL_LOAD(pthread_mutex_unlock); /* one load: the hot path */
    if (MG_UNLIKELY(real == NULL))
        return mutex_unlock_early(m);
    return real(m);
}

MG_INTERCEPTOR(int, pthread_mutex_init, (pthread_mutex_t *m, const pthread_mutexattr_t *attr))
{
    BEFORE(mg_hb_reset, m);
    return REAL(pthread_mutex_init)(m, attr);
}

MG_INTERCEPTOR(int, pthread_mutex_destroy, (pthread_mutex_t *m))
{
    int r = REAL(pthread_mutex_destroy)(m);
    if (r == 0)
        BEFORE(mg_hb_reset, m);
    return r;
}

/* ---- C11 mutexes ---- */

TAKE(mtx_lock, (mtx_t *m), (m), MG_HB_LOCK_ACQUIRED(m), r == thrd_success)

TAKE(mtx_trylock, (mtx_t *m), (m), MG_HB_LOCK_ACQUIRED(m), r == thrd_success)

TAKE(mtx_timedlock, (mtx_t *restrict m, const struct timespec *restrict abstime), (m, abstime), MG_HB_LOCK_ACQUIRED(m), r == thrd_success)

MG_INTERCEPTOR(int, mtx_unlock, (mtx_t *m))
{
    /* glibc's mtx_t is a pthread mutex (mtx_unlock casts it) */
    BEFORE_MUTEX_UNLOCK((pthread_mutex_t *)(void *)m);
    return REAL(mtx_unlock)(m);
}

MG_INTERCEPTOR(int, mtx_init, (mtx_t *m, int type))
{
    BEFORE(mg_hb_reset, m);
    return REAL(mtx_init)(m, type);
}

MG_INTERCEPTOR(void, mtx_destroy, (mtx_t *m))
{
    REAL(mtx_destroy)(m);
    BEFORE(mg_hb_reset, m);
}

/* ---- read-write locks: readers' releases merge into a clock the next
 * writer takes ---- */

#define RW_LOCK(fn, write, params, args) TAKE(fn, params, args, mg_hb_rw_acquire(l, write), r == 0)

RW_LOCK(pthread_rwlock_rdlock, false, (pthread_rwlock_t *l), (l))
RW_LOCK(pthread_rwlock_tryrdlock, false, (pthread_rwlock_t *l), (l))
RW_LOCK(pthread_rwlock_timedrdlock, false, (pthread_rwlock_t *restrict l, const struct timespec *restrict t), (l, t))
RW_LOCK(pthread_rwlock_clockrdlock, false,
        (pthread_rwlock_t *restrict l, clockid_t c, const struct timespec *restrict t), (l, c, t))
RW_LOCK(pthread_rwlock_wrlock, true, (pthread_rwlock_t *l), (l))
RW_LOCK(pthread_rwlock_trywrlock, true, (pthread_rwlock_t *l), (l))
RW_LOCK(pthread_rwlock_timedwrlock, true, (pthread_rwlock_t *restrict l, const struct timespec *restrict t), (l, t))
RW_LOCK(pthread_rwlock_clockwrlock, true,
        (pthread_rwlock_t *restrict l, clockid_t c, const struct timespec *restrict t), (l, c, t))

/* glibc keeps the writer's tid in __cur_writer (its ABI: the static
 * initializer names the field): a writer whose wrlock the engine did not
 * see (taken before the first map) is still a writer at its unlock. */
static void rw_releasing(pthread_rwlock_t *l)
{
    if (__atomic_load_n(&l->__data.__cur_writer, __ATOMIC_RELAXED) == (int)mg_self_tid())
        mg_hb_rw_release_writer(l);
    else
        mg_hb_rw_release(l);
}

MG_INTERCEPTOR(int, pthread_rwlock_unlock, (pthread_rwlock_t *l))
{
    BEFORE(rw_releasing, l);
    return REAL(pthread_rwlock_unlock)(l);
}

MG_INTERCEPTOR(int, pthread_rwlock_init, (pthread_rwlock_t *restrict l, const pthread_rwlockattr_t *restrict a))
{
    BEFORE(mg_hb_reset, l);
    return REAL(pthread_rwlock_init)(l, a);
}

MG_INTERCEPTOR(int, pthread_rwlock_destroy, (pthread_rwlock_t *l))
{
    int r = REAL(pthread_rwlock_destroy)(l);
    if (r == 0)
        BEFORE(mg_hb_reset, l);
    return r;
}

/* ---- condition variables ----
 * glibc re-takes the mutex inside the wait, out of our sight: the wait is
 * a release of the mutex before it and an acquire after it, whatever it
 * returns (a timeout re-takes the mutex too), with two exceptions that
 * mirror the unlock's and the lock's. A wait on a mutex the caller does
 * not own fails with EPERM (C11: thrd_error) before it waits, having
 * released and re-taken nothing, so the wait tests ownership first, as the
 * unlock does. And a wait on a robust mutex whose owner died re-takes it
 * with EOWNERDEAD, ordered after the dead owner as a lock is
 * (mutex_taken); the count of robust mutexes held is the same after the
 * wait as before. The versions are the current ones: dlsym would give the
 * default, and a program linked against GLIBC_2.3.2 must get the same
 * function it asked for. glibc's mtx_t is a pthread mutex (its cnd_*
 * functions cast it). */

/* The release before the wait; true when glibc will refuse the wait. */
static bool cond_wait_refused(void *mutex)
{
    pthread_mutex_t *m = mutex;
    if (!mg_hb_sync_live())
        return false;
    int kind = mutex_kind(m);
    if (MG_UNLIKELY(kind != 0) && unlock_refused(m, kind))
        return true;
    mg_hb_lock_releasing(m);
    return false;
}

static void cond_wait_retaken(void *m, int r)
{
    if (!mg_hb_sync_live())
        return;
    if (MG_UNLIKELY(r == EOWNERDEAD))
        mg_hb_owner_died();
    mg_hb_lock_acquired(m);
}

/* A thread cancelled in the wait never returns to the wrapper, yet glibc
 * takes the mutex back before the program's cleanup handlers run, and they
 * run inside the critical section: the acquire is made by a cleanup
 * handler of ours, innermost, so before theirs. Without -fexceptions
 * (which would make every process load libgcc_s for the shim's sake),
 * pthread_cleanup_push is glibc's registered buffer and a setjmp that
 * saves no signal mask: a few nanoseconds on a call that waits. */
static void cond_wait_cancelled(void *m)
{
    if (m)
        cond_wait_retaken(m, 0);
}

#define COND_WAIT(m, call)                                                                                         \
    do {                                                                                                           \
        bool refused_ = cond_wait_refused(m);                                                                      \
        int r_;                                                                                                    \
        pthread_cleanup_push(cond_wait_cancelled, refused_ ? NULL : (void *)(m));                                  \
        r_ = call;                                                                                                 \
        pthread_cleanup_pop(0);                                                                                    \
        if (!refused_)                                                                                             \
            cond_wait_retaken((m), r_);                                                                            \
        return r_;                                                                                                 \
    } while (0)

MG_INTERCEPTOR(int, pthread_cond_wait, (pthread_cond_t *restrict c, pthread_mutex_t *restrict m))
{
    COND_WAIT(m, REAL(pthread_cond_wait)(c, m));
}

MG_INTERCEPTOR(int, pthread_cond_timedwait,
               (pthread_cond_t *restrict c, pthread_mutex_t *restrict m, const struct timespec *restrict t))
{
    COND_WAIT(m, REAL(pthread_cond_timedwait)(c, m, t));
}

MG_INTERCEPTOR(int, pthread_cond_clockwait,
               (pthread_cond_t *restrict c, pthread_mutex_t *restrict m, clockid_t k, const struct timespec *restrict t))
{
    COND_WAIT(m, REAL(pthread_cond_clockwait)(c, m, k, t));
}

MG_INTERCEPTOR(int, cnd_wait, (cnd_t *c, mtx_t *m)) { COND_WAIT(m, REAL(cnd_wait)(c, m)); }

MG_INTERCEPTOR(int, cnd_timedwait, (cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict t))
{
    COND_WAIT(m, REAL(cnd_timedwait)(c, m, t));
}

/* ---- semaphores: posts merge, so several before one wait all order
 * before it ---- */

MG_INTERCEPTOR(int, sem_post, (sem_t *s))
{
    BEFORE(mg_hb_release_merge, s);
    return REAL(sem_post)(s);
}

TAKE(sem_wait, (sem_t *s), (s), mg_hb_acquire(s), r == 0)

TAKE(sem_trywait, (sem_t *s), (s), mg_hb_acquire(s), r == 0)

TAKE(sem_timedwait, (sem_t *restrict s, const struct timespec *restrict t), (s, t), mg_hb_acquire(s), r == 0)

TAKE(sem_clockwait, (sem_t *restrict s, clockid_t c, const struct timespec *restrict t), (s, c, t), mg_hb_acquire(s), r == 0)

MG_INTERCEPTOR(int, sem_init, (sem_t *s, int pshared, unsigned value))
{
    BEFORE(mg_hb_reset, s);
    return REAL(sem_init)(s, pshared, value);
}

MG_INTERCEPTOR(int, sem_destroy, (sem_t *s))
{
    int r = REAL(sem_destroy)(s);
    if (r == 0)
        BEFORE(mg_hb_reset, s);
    return r;
}

/* ---- spinlocks ---- */

TAKE(pthread_spin_lock, (pthread_spinlock_t *l), (l), MG_HB_LOCK_ACQUIRED(l), r == 0)

TAKE(pthread_spin_trylock, (pthread_spinlock_t *l), (l), MG_HB_LOCK_ACQUIRED(l), r == 0)

MG_INTERCEPTOR(int, pthread_spin_unlock, (pthread_spinlock_t *l))
{
    BEFORE_UNLOCK(l);
    return REAL(pthread_spin_unlock)(l);
}

MG_INTERCEPTOR(int, pthread_spin_init, (pthread_spinlock_t *l, int pshared))
{
    BEFORE(mg_hb_reset, l);
    return REAL(pthread_spin_init)(l, pshared);
}

MG_INTERCEPTOR(int, pthread_spin_destroy, (pthread_spinlock_t *l))
{
    int r = REAL(pthread_spin_destroy)(l);
    if (r == 0)
        BEFORE(mg_hb_reset, l);
    return r;
}

/* ---- barriers: every thread's work before a round's wait happens
 * before every thread's work after it ---- */

MG_INTERCEPTOR(int, pthread_barrier_init,
               (pthread_barrier_t *restrict b, const pthread_barrierattr_t *restrict a, unsigned count))
{
    int r = REAL(pthread_barrier_init)(b, a, count);
    if (r == 0)
        mg_hb_barrier_init(b, count);
    return r;
}

/* Followed from the process's second thread on, before the first map too:
 * a thread that waits from before the first map to after it must take
 * its round's clock, and a round is only known to those that arrived. */
MG_INTERCEPTOR(int, pthread_barrier_wait, (pthread_barrier_t *b))
{
    bool involved = false;
    uint64_t round = mg_hb_barrier_arrive(b, &involved);
    int r = REAL(pthread_barrier_wait)(b);
    if (involved && (r == 0 || r == PTHREAD_BARRIER_SERIAL_THREAD))
        mg_hb_barrier_depart(b, round);
    return r;
}

MG_INTERCEPTOR(int, pthread_barrier_destroy, (pthread_barrier_t *b))
{
    int r = REAL(pthread_barrier_destroy)(b);
    /* its entry was made at init, single-threaded or not */
    if (r == 0 && mg_hb_enabled())
        mg_hb_reset(b);
    return r;
}

/* ---- once: the init function happens before every return ----
 * The init function takes no argument, so it runs through a trampoline
 * that finds it, and the control it belongs to, on this thread's stack of
 * once calls in progress (an init function may call once itself). This
 * is done while the engine sleeps too: an init function may make the
 * first map and fill it, and the callers that only see it done must
 * still be ordered after it. */

struct once_frame {
    void (*fn)(void);
    const void *ctl;
    struct once_frame *up;
};
static __thread struct once_frame *once_top __attribute__((tls_model("initial-exec")));

static void once_run(void)
{
    struct once_frame *f = once_top;
    f->fn();
    mg_hb_release_merge(f->ctl);
}

MG_INTERCEPTOR(int, pthread_once, (pthread_once_t *o, void (*fn)(void)))
{
    if (!mg_hb_enabled() || mg_self.busy)
        return REAL(pthread_once)(o, fn);
    struct once_frame f = {fn, o, once_top};
    once_top = &f;
    int r = REAL(pthread_once)(o, once_run);
    once_top = f.up;
    AFTER_ACQUIRE(o, r == 0);
    return r;
}

MG_INTERCEPTOR(void, call_once, (once_flag *o, void (*fn)(void)))
{
    if (!mg_hb_enabled() || mg_self.busy) {
        REAL(call_once)(o, fn);
        return;
    }
    struct once_frame f = {fn, o, once_top};
    once_top = &f;
    REAL(call_once)(o, once_run);
    once_top = f.up;
    AFTER_ACQUIRE(o, true);
}

void mg_sync_resolve(void)
{
    static const struct mg_intercept table[] = {
        MG_INTERCEPT(pthread_mutex_lock),    MG_INTERCEPT(pthread_mutex_trylock),
        MG_INTERCEPT(pthread_mutex_timedlock), MG_INTERCEPT(pthread_mutex_clocklock),
        MG_INTERCEPT(pthread_mutex_unlock),  MG_INTERCEPT(pthread_mutex_init),
        MG_INTERCEPT(pthread_mutex_destroy), MG_INTERCEPT(mtx_lock),
        MG_INTERCEPT(mtx_trylock),           MG_INTERCEPT(mtx_timedlock),
        MG_INTERCEPT(mtx_unlock),            MG_INTERCEPT(mtx_init),
        MG_INTERCEPT(mtx_destroy),
        MG_INTERCEPT(pthread_rwlock_rdlock), MG_INTERCEPT(pthread_rwlock_tryrdlock),
        MG_INTERCEPT(pthread_rwlock_timedrdlock), MG_INTERCEPT(pthread_rwlock_clockrdlock),
        MG_INTERCEPT(pthread_rwlock_wrlock), MG_INTERCEPT(pthread_rwlock_trywrlock),
        MG_INTERCEPT(pthread_rwlock_timedwrlock), MG_INTERCEPT(pthread_rwlock_clockwrlock),
        MG_INTERCEPT(pthread_rwlock_unlock), MG_INTERCEPT(pthread_rwlock_init),
        MG_INTERCEPT(pthread_rwlock_destroy),
        MG_INTERCEPT_VER(pthread_cond_wait, "GLIBC_2.3.2"), MG_INTERCEPT_VER(pthread_cond_timedwait, "GLIBC_2.3.2"),
        MG_INTERCEPT(pthread_cond_clockwait), MG_INTERCEPT(cnd_wait),
        MG_INTERCEPT(cnd_timedwait),         MG_INTERCEPT(sem_post),
        MG_INTERCEPT(sem_wait),              MG_INTERCEPT(sem_trywait),
        MG_INTERCEPT(sem_timedwait),         MG_INTERCEPT(sem_clockwait),
        MG_INTERCEPT(sem_init),              MG_INTERCEPT(sem_destroy),
        MG_INTERCEPT(pthread_spin_lock),     MG_INTERCEPT(pthread_spin_trylock),
        MG_INTERCEPT(pthread_spin_unlock),   MG_INTERCEPT(pthread_spin_init),
        MG_INTERCEPT(pthread_spin_destroy),  MG_INTERCEPT(pthread_barrier_init),
        MG_INTERCEPT(pthread_barrier_wait),  MG_INTERCEPT(pthread_barrier_destroy),
        MG_INTERCEPT(pthread_once),          MG_INTERCEPT(call_once),
    };
    mg_intercept_resolve(table, MG_INTERCEPT_COUNT(table));
}

/* ---- annotations (mapguard_annotate.h), under the names other detectors'
 * annotated libraries already call ---- */

MG_EXPORT void AnnotateHappensBefore(const char *file, int line, const volatile void *addr)
{
    (void)file, (void)line;
    BEFORE(mg_hb_release_merge, addr);
}

MG_EXPORT void AnnotateHappensAfter(const char *file, int line, const volatile void *addr)
{
    (void)file, (void)line;
    BEFORE(mg_hb_acquire, addr);
}
