/*
 * Threads libc starts for the program: a SIGEV_THREAD notification
 * (timer_create, mq_notify) runs the program's function on a thread libc
 * creates inside itself, out of the thread wrappers' sight.
 *
 * Two things follow from the call that asks for one:
 *
 * - The process counts as multi-threaded from that call on
 *   (mg_hb_second_thread), so that the single-threaded path (detect.h)
 *   ends before the thread can run.
 * - The call that arms the notification happens before the function's
 *   run, as a pthread_create happens before the new thread's start: the
 *   function cannot run before the timer is armed (timer_create,
 *   timer_settime) or the queue's notification registered (mq_notify),
 *   and everything the arming thread did before is visible to it, through
 *   the kernel. The wrapper hands libc a copy of the sigevent whose
 *   function is a trampoline and whose value names a record of the
 *   program's function and value; the arming call releases into the
 *   record's clock (a merge, as sem_post: several armings all come
 *   before), and the trampoline acquires it before it calls the
 *   program's function. A held-out probe had main fill a map, arm a
 *   one-shot timer whose function wrote the map and posted a semaphore,
 *   then wait and read: reported as concurrent writes before this.
 *
 * The records are never reused: libc may be starting a notification's
 * thread, with the record's address in hand, when the program deletes the
 * timer, and a reused record would then run another timer's function.
 * NOTIFY_MAX records a process (each with a clock in the sync table);
 * past that a notification goes to libc unchanged, its function runs on a
 * thread the engine meets unseen, and the arming is ordered before it as
 * an aio request's is (below). A timer made while the shim's own code
 * runs on the thread (the shim busy) is not recorded at all.
 *
 * aio_read, aio_write, aio_fsync (and their 64 names), lio_listio and
 * getaddrinfo_a cannot be given a trampoline the same way: libc reads an
 * aio request's sigevent from the program's aiocb when the request
 * completes, not when it is made, and the program may read or reuse that
 * aiocb. So these calls, when any notification they ask for is a
 * SIGEV_THREAD one, merge into one clock (MG_HB_UNSEEN_KEY) that every
 * thread the engine meets unseen takes at once (happens_before.c,
 * me_first): the notification's function is ordered after its request,
 * and also after every other such request made before it met the engine,
 * which may hide a race between those, never invent one. A held-out
 * probe's program (main fills a map, then an aio_write whose SIGEV_THREAD
 * function reads it) was reported as a race before.
 */
#include "happens_before.h"
#include "common.h"
#include "intercept.h"

#include <aio.h>
#include <errno.h>
#include <mqueue.h>
#include <netdb.h>
#include <signal.h>
#include <time.h>

#define NOTIFY_MAX 1024u

/* The clock of record i: a synthetic key (happens_before.h), since the
 * records sit in the shim's own image, whose addresses the engine takes
 * for the shim's own locks and ignores. Above glib_sync.c's counter and
 * MG_HB_ENDED_KEY's 1 << 32. At most NOTIFY_MAX of the sync table's
 * HB_SYNC_CAP entries. */
#define NOTIFY_KEY(i) MG_HB_SYNTHETIC_KEY((2ull << 32) | (i))

struct notify {
    void (*fn)(union sigval);
    union sigval val;
    timer_t timer;   /* a timer's, once timer_create returned */
    uint32_t timed;  /* 1 once timer is set: timer_settime looks it up */
};

static MG_LARGE_BSS struct notify notes[NOTIFY_MAX];
static uint32_t nnotes; /* records handed out, never given back */

MG_DECLARE_REAL(int, timer_create, (clockid_t, struct sigevent *, timer_t *));
MG_DECLARE_REAL(int, timer_settime, (timer_t, int, const struct itimerspec *, struct itimerspec *));
MG_DECLARE_REAL(int, mq_notify, (mqd_t, const struct sigevent *));

MG_DECLARE_REAL(int, aio_read, (struct aiocb *));
MG_DECLARE_REAL(int, aio_write, (struct aiocb *));
MG_DECLARE_REAL(int, aio_fsync, (int, struct aiocb *));
MG_DECLARE_REAL(int, aio_read64, (struct aiocb64 *));
MG_DECLARE_REAL(int, aio_write64, (struct aiocb64 *));
MG_DECLARE_REAL(int, aio_fsync64, (int, struct aiocb64 *));
MG_DECLARE_REAL(int, lio_listio, (int, struct aiocb *const[], int, struct sigevent *));
MG_DECLARE_REAL(int, lio_listio64, (int, struct aiocb64 *const[], int, struct sigevent *));
MG_DECLARE_REAL(int, getaddrinfo_a, (int, struct gaicb *[], int, struct sigevent *));

void mg_notify_resolve(void)
{
    static const struct mg_intercept table[] = {
        MG_INTERCEPT(timer_create),
        MG_INTERCEPT(timer_settime),
        MG_INTERCEPT(mq_notify),
        MG_INTERCEPT(aio_read),
        MG_INTERCEPT(aio_write),
        MG_INTERCEPT(aio_fsync),
        MG_INTERCEPT(aio_read64),
        MG_INTERCEPT(aio_write64),
        MG_INTERCEPT(aio_fsync64),
        MG_INTERCEPT(lio_listio),
        MG_INTERCEPT(lio_listio64),
        MG_INTERCEPT(getaddrinfo_a),
    };
    mg_intercept_resolve(table, MG_INTERCEPT_COUNT(table));
}

/* A wrapper called before start (another library's constructor) resolves
 * its own. */
#define REAL_EARLY(fn) (MG_REAL_LOAD(fn) ? MG_REAL(fn) : (mg_notify_resolve(), MG_REAL_LOAD(fn)))

static void trampoline(union sigval v)
{
    struct notify *n = v.sival_ptr;
    if (mg_hb_sync_live())
        mg_hb_acquire(NOTIFY_KEY(n - notes));
    n->fn(n->val);
}

/* Before a SIGEV_THREAD notification libc will start unseen (an aio
 * request's, a timer's past the records): from here on the process is
 * multi-threaded, and the function's thread, met unseen, takes what the
 * caller did so far (MG_HB_UNSEEN_KEY). */
static void unseen_coming(void)
{
    mg_hb_second_thread();
    if (mg_hb_sync_live())
        mg_hb_release_merge(MG_HB_UNSEEN_KEY);
    mg_solo_record();
}

/* The record for a SIGEV_THREAD notification, with *mine the sigevent to
 * hand libc; NULL to hand it ev unchanged. */
static struct notify *notify_new(const struct sigevent *ev, struct sigevent *mine)
{
    if (!ev || ev->sigev_notify != SIGEV_THREAD)
        return NULL;
    mg_hb_second_thread();
    if (mg_self.busy || !ev->sigev_notify_function)
        return NULL;
    uint32_t i = __atomic_fetch_add(&nnotes, 1, __ATOMIC_RELAXED);
    if (i >= NOTIFY_MAX) {
        __atomic_store_n(&nnotes, NOTIFY_MAX, __ATOMIC_RELAXED);
        unseen_coming(); /* no record: the function's thread is met unseen */
        return NULL;
    }
    struct notify *n = &notes[i];
    n->fn = ev->sigev_notify_function;
    n->val = ev->sigev_value;
    *mine = *ev;
    mine->sigev_notify_function = trampoline;
    mine->sigev_value.sival_ptr = n;
    if (mg_hb_sync_live())
        mg_hb_release_merge(NOTIFY_KEY(i));
    mg_solo_record();
    return n;
}

MG_INTERCEPTOR(int, timer_create, (clockid_t clock, struct sigevent *ev, timer_t *timer))
{
    int (*f)(clockid_t, struct sigevent *, timer_t *) = REAL_EARLY(timer_create);
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    struct sigevent mine;
    struct notify *n = notify_new(ev, &mine);
    if (!n)
        return f(clock, ev, timer);
    int r = f(clock, &mine, timer);
    if (r == 0) {
        n->timer = *timer;
        __atomic_store_n(&n->timed, 1, __ATOMIC_RELEASE);
    }
    return r;
}

/* Arming (or re-arming) a timer whose function is ours to start. A timer
 * that signals, or one made past NOTIFY_MAX, is not in the records: a
 * scan of them, which only a program that re-arms timers in a loop would
 * notice. Such a timer merges into the clock threads met unseen take:
 * past NOTIFY_MAX, its function's thread is one. */
MG_INTERCEPTOR(int, timer_settime, (timer_t timer, int flags, const struct itimerspec *value, struct itimerspec *old))
{
    int (*f)(timer_t, int, const struct itimerspec *, struct itimerspec *) = REAL_EARLY(timer_settime);
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    if (mg_hb_sync_live()) {
        uint32_t count = __atomic_load_n(&nnotes, __ATOMIC_RELAXED), i = 0;
        while (i < count && i < NOTIFY_MAX &&
               !(__atomic_load_n(&notes[i].timed, __ATOMIC_ACQUIRE) && notes[i].timer == timer))
            i++;
        /* a timer past the records may start its function unseen */
        mg_hb_release_merge(i < count && i < NOTIFY_MAX ? NOTIFY_KEY(i) : MG_HB_UNSEEN_KEY);
    }
    return f(timer, flags, value, old);
}

MG_INTERCEPTOR(int, mq_notify, (mqd_t q, const struct sigevent *ev))
{
    int (*f)(mqd_t, const struct sigevent *) = REAL_EARLY(mq_notify);
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    struct sigevent mine;
    struct notify *n = notify_new(ev, &mine);
    return f(q, n ? &mine : ev);
}

/* ---- requests whose notification libc reads when it fires ---- */

static bool by_thread(const struct sigevent *ev) { return ev && ev->sigev_notify == SIGEV_THREAD; }

/* Every call here may come before start (another library's constructor). */
#define CALL_EARLY(fn, args)                                                                                        \
    do {                                                                                                           \
        __typeof__(MG_REAL(fn)) f_ = REAL_EARLY(fn);                                                               \
        if (!f_) {                                                                                                 \
            errno = ENOSYS;                                                                                        \
            return -1;                                                                                             \
        }                                                                                                          \
        return f_ args;                                                                                            \
    } while (0)

#define AIO_ONE(fn, cb_type)                                                                                       \
    MG_INTERCEPTOR(int, fn, (cb_type * cb))                                                                        \
    {                                                                                                              \
        if (by_thread(&cb->aio_sigevent))                                                                          \
            unseen_coming();                                                                                       \
        CALL_EARLY(fn, (cb));                                                                                      \
    }
#define AIO_SYNC(fn, cb_type)                                                                                      \
    MG_INTERCEPTOR(int, fn, (int op, cb_type * cb))                                                                \
    {                                                                                                              \
        if (by_thread(&cb->aio_sigevent))                                                                          \
            unseen_coming();                                                                                       \
        CALL_EARLY(fn, (op, cb));                                                                                  \
    }
/* The list's own notification (LIO_NOWAIT) or any request's; list is
 * nonnull, as for libc. */
#define AIO_LIST(fn, cb_type)                                                                                      \
    MG_INTERCEPTOR(int, fn, (int mode, cb_type *const list[], int n, struct sigevent *sig))                       \
    {                                                                                                              \
        bool ask = mode == LIO_NOWAIT && by_thread(sig);                                                           \
        for (int i = 0; !ask && i < n; i++)                                                                        \
            ask = list[i] && list[i]->aio_lio_opcode != LIO_NOP && by_thread(&list[i]->aio_sigevent);             \
        if (ask)                                                                                                   \
            unseen_coming();                                                                                       \
        CALL_EARLY(fn, (mode, list, n, sig));                                                                      \
    }

AIO_ONE(aio_read, struct aiocb)
AIO_ONE(aio_write, struct aiocb)
AIO_SYNC(aio_fsync, struct aiocb)
AIO_ONE(aio_read64, struct aiocb64)
AIO_ONE(aio_write64, struct aiocb64)
AIO_SYNC(aio_fsync64, struct aiocb64)
AIO_LIST(lio_listio, struct aiocb)
AIO_LIST(lio_listio64, struct aiocb64)

MG_INTERCEPTOR(int, getaddrinfo_a, (int mode, struct gaicb *list[], int n, struct sigevent *sig))
{
    if (mode == GAI_NOWAIT && by_thread(sig))
        unseen_coming();
    CALL_EARLY(getaddrinfo_a, (mode, list, n, sig));
}
