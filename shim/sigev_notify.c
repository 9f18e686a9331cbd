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
 * past that, and while the shim is busy, a
 * notification goes to libc unchanged and its function is unordered with
 * the arming, as a thread the engine never saw created
 * (docs/design-detector.md). aio_*, lio_listio and getaddrinfo_a
 * notifications are not wrapped: their threads are such unseen threads.
 */
#include "happens_before.h"
#include "common.h"
#include "intercept.h"

#include <errno.h>
#include <mqueue.h>
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

void mg_notify_resolve(void)
{
    static const struct mg_intercept table[] = {
        MG_INTERCEPT(timer_create),
        MG_INTERCEPT(timer_settime),
        MG_INTERCEPT(mq_notify),
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
 * notice. */
MG_INTERCEPTOR(int, timer_settime, (timer_t timer, int flags, const struct itimerspec *value, struct itimerspec *old))
{
    int (*f)(timer_t, int, const struct itimerspec *, struct itimerspec *) = REAL_EARLY(timer_settime);
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    if (mg_hb_sync_live()) {
        uint32_t count = __atomic_load_n(&nnotes, __ATOMIC_RELAXED);
        for (uint32_t i = 0; i < count && i < NOTIFY_MAX; i++)
            if (__atomic_load_n(&notes[i].timed, __ATOMIC_ACQUIRE) && notes[i].timer == timer) {
                mg_hb_release_merge(NOTIFY_KEY(i));
                break;
            }
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
