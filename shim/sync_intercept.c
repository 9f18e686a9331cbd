/*
 * The synchronization functions the happens-before engine must see
 * (issue 12, item 2): locks, condition waits, semaphores, spinlocks,
 * barriers, once. Each wrapper calls the real function and tells the
 * engine what it did: an acquire after every successful lock, a release
 * before every unlock (before: once the real unlock returns another thread
 * may already hold the lock and read the object's clock), a reset on every
 * init and destroy so that an object at a reused address starts clean.
 *
 * The engine is asked only once it is awake (happens_before.h): before the first
 * map exists, and always with happens_before=0, a wrapper costs a load and
 * a branch. Return values and errno are the real function's. glibc's C11
 * functions (mtx_*, cnd_*, call_once) call its pthread internals directly,
 * never through the PLT, so they are wrapped on their own.
 */
#include "happens_before.h"
#include "mapguard.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <threads.h>
#include <time.h>

/* A wrapper called before start (another library's constructor) finds its
 * real function itself, while dlsym is still harmless. */
#define REAL(fn) (MG_LIKELY(MG_REAL_LOAD(fn) != NULL) ? MG_REAL(fn) : (mg_sync_resolve(), MG_REAL_LOAD(fn)))

/* r is the real call's result; ok says when it took the object. */
#define AFTER_ACQUIRE(obj, ok)                                                                                     \
    do {                                                                                                           \
        if (mg_hb_is_awake() && (ok))                                                                              \
            mg_hb_acquire(obj);                                                                                    \
    } while (0)
#define BEFORE(what, obj)                                                                                          \
    do {                                                                                                           \
        if (mg_hb_is_awake())                                                                                      \
            what(obj);                                                                                             \
    } while (0)

/* A robust mutex whose owner died is still taken. */
#define MUTEX_TAKEN(r) ((r) == 0 || (r) == EOWNERDEAD)

/* ---- pthread mutexes ---- */

MG_INTERCEPTOR(int, pthread_mutex_lock, (pthread_mutex_t *m))
{
    int r = REAL(pthread_mutex_lock)(m);
    AFTER_ACQUIRE(m, MUTEX_TAKEN(r));
    return r;
}

MG_INTERCEPTOR(int, pthread_mutex_trylock, (pthread_mutex_t *m))
{
    int r = REAL(pthread_mutex_trylock)(m);
    AFTER_ACQUIRE(m, MUTEX_TAKEN(r));
    return r;
}

MG_INTERCEPTOR(int, pthread_mutex_timedlock, (pthread_mutex_t *m, const struct timespec *abstime))
{
    int r = REAL(pthread_mutex_timedlock)(m, abstime);
    AFTER_ACQUIRE(m, MUTEX_TAKEN(r));
    return r;
}

MG_INTERCEPTOR(int, pthread_mutex_clocklock, (pthread_mutex_t *m, clockid_t clock, const struct timespec *abstime))
{
    int r = REAL(pthread_mutex_clocklock)(m, clock, abstime);
    AFTER_ACQUIRE(m, MUTEX_TAKEN(r));
    return r;
}

MG_INTERCEPTOR(int, pthread_mutex_unlock, (pthread_mutex_t *m))
{
    BEFORE(mg_hb_release, m);
    return REAL(pthread_mutex_unlock)(m);
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

MG_INTERCEPTOR(int, mtx_lock, (mtx_t *m))
{
    int r = REAL(mtx_lock)(m);
    AFTER_ACQUIRE(m, r == thrd_success);
    return r;
}

MG_INTERCEPTOR(int, mtx_trylock, (mtx_t *m))
{
    int r = REAL(mtx_trylock)(m);
    AFTER_ACQUIRE(m, r == thrd_success);
    return r;
}

MG_INTERCEPTOR(int, mtx_timedlock, (mtx_t *restrict m, const struct timespec *restrict abstime))
{
    int r = REAL(mtx_timedlock)(m, abstime);
    AFTER_ACQUIRE(m, r == thrd_success);
    return r;
}

MG_INTERCEPTOR(int, mtx_unlock, (mtx_t *m))
{
    BEFORE(mg_hb_release, m);
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
