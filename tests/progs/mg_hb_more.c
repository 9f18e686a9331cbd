/*
 * More happens-before scenarios (happens_before=1), beside mg_hb.c: every
 * op pair in both orders, and for each synchronization pattern of issue 12
 * item 9 a race it must not hide and a synchronized program it must keep
 * clean.
 *
 * As in mg_hb.c, racy scenarios sequence their threads with C11 atomics,
 * which the shim cannot see: the calls run one after the other every time,
 * never overlapping, yet nothing the shim saw orders them. No sleep
 * decides an outcome; where a scenario must wait for something the shim
 * does not see (a thread to be gone), it polls for that state. One
 * scenario per run, named by argv[1] ("pair" takes "first,second" in
 * argv[2]). Lines the tests look for carry an @site comment.
 */
#include <gomap.h>
#include "scenario.h"

#include <aio.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <netdb.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

static gomap *M;
static atomic_int flag;
static pthread_mutex_t L1 = PTHREAD_MUTEX_INITIALIZER, L2 = PTHREAD_MUTEX_INITIALIZER;

static gomap *make_map(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8};
    return gomap_new(&t, 0); /* @site:made */
}

static void fill(gomap *m, int n)
{
    for (int64_t i = 0; i < n; i++)
        gomap_set(m, &i, &i);
}

/* The handoffs the shim does not see. */
static void signal_flag(void) { atomic_store_explicit(&flag, 1, memory_order_release); }
static void wait_flag(void)
{
    while (!atomic_load_explicit(&flag, memory_order_acquire))
        sched_yield();
}
static void wait_count(atomic_int *c, int n)
{
    while (atomic_load_explicit(c, memory_order_acquire) < n)
        sched_yield();
}

static void spawn_run(void *(*fn)(void *), void *(*fn2)(void *))
{
    pthread_t a, b;
    pthread_create(&a, NULL, fn, NULL);
    pthread_create(&b, NULL, fn2, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
}

static struct timespec in_a_minute(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    ts.tv_sec += 60;
    return ts;
}

/* Threads of this process other than the caller, from /proc: how a
 * scenario waits for a thread to be gone without anything the shim sees.
 * The count is the kernel's own ("Threads:" in /proc/self/status), read in
 * one piece: a walk of /proc/self/task can skip a live thread when another
 * one leaves in the middle of it (the walk goes by position in the thread
 * list), and did, once in about 1500 runs of robust_owner_died_race under
 * load: main went on before the unlocked writer had written, and exited
 * before it did, with no race to report. */
static int other_threads(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        abort();
    char line[256];
    int n = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    fclose(f);
    if (n < 1)
        abort();
    return n - 1;
}

static void wait_alone(void)
{
    while (other_threads() > 0)
        sched_yield();
}

/* ---- every op pair, in both orders ----
 *
 * "pair F,S": one thread makes call F, then (after the flag) another makes
 * call S. The map holds keys 0..9. A write that comes first is not
 * structural when S is iter_next (a value update, a missing key's delete,
 * the clear of an empty map), so that the only finding is the race, not
 * also modified-during-iteration. */

static const char *first_op, *second_op;
static gomap_iter IT;
static int64_t K1 = 1, MISSING = 100;

static bool is(const char *a, const char *b) { return !strcmp(a, b); }

static void first_call(void)
{
    int64_t v = 7;
    const int64_t *k = is(second_op, "iter_next") ? &MISSING : &K1;
    if (is(first_op, "get"))
        gomap_get(M, &K1); /* @site:first_get */
    else if (is(first_op, "lookup"))
        gomap_lookup(M, &K1, &v); /* @site:first_lookup */
    else if (is(first_op, "len"))
        gomap_len(M); /* @site:first_len */
    else if (is(first_op, "set"))
        gomap_set(M, &K1, &v); /* @site:first_set */
    else if (is(first_op, "assign"))
        *(int64_t *)gomap_assign(M, &K1) = v; /* @site:first_assign */
    else if (is(first_op, "delete"))
        gomap_delete(M, k); /* @site:first_delete */
    else if (is(first_op, "clear"))
        gomap_clear(M); /* @site:first_clear */
    else if (is(first_op, "iter_init")) {
        gomap_iter it;
        gomap_iter_init(&it, M); /* @site:first_iter_init */
        while (gomap_iter_next(&it, NULL, NULL))
            ;
    } else if (is(first_op, "iter_delete")) {
        gomap_iter it;
        gomap_iter_init(&it, M);
        gomap_iter_next(&it, NULL, NULL);
        gomap_iter_delete(&it); /* @site:first_iter_delete */
    } else if (is(first_op, "iter_next")) {
        gomap_iter it;
        gomap_iter_init(&it, M);
        /* a release: the steps below are in a new epoch, and the first
         * of them is the call remembered */
        pthread_mutex_lock(&L2);
        pthread_mutex_unlock(&L2);
        while (gomap_iter_next(&it, NULL, NULL)) /* @site:first_iter_next */
            ;
    } else
        abort();
}

static void second_call(void)
{
    int64_t v = 8;
    if (is(second_op, "get"))
        gomap_get(M, &K1); /* @site:second_get */
    else if (is(second_op, "lookup"))
        gomap_lookup(M, &K1, &v); /* @site:second_lookup */
    else if (is(second_op, "len"))
        gomap_len(M); /* @site:second_len */
    else if (is(second_op, "set"))
        gomap_set(M, &K1, &v); /* @site:second_set */
    else if (is(second_op, "assign"))
        *(int64_t *)gomap_assign(M, &K1) = v; /* @site:second_assign */
    else if (is(second_op, "delete"))
        gomap_delete(M, &K1); /* @site:second_delete */
    else if (is(second_op, "clear"))
        gomap_clear(M); /* @site:second_clear */
    else if (is(second_op, "iter_init")) {
        gomap_iter it;
        gomap_iter_init(&it, M); /* @site:second_iter_init */
        while (gomap_iter_next(&it, NULL, NULL))
            ;
    } else if (is(second_op, "iter_delete")) {
        gomap_iter it;
        gomap_iter_init(&it, M);
        gomap_iter_next(&it, NULL, NULL);
        gomap_iter_delete(&it); /* @site:second_iter_delete */
    } else if (is(second_op, "free"))
        gomap_free(M); /* @site:second_free */
    else if (is(second_op, "iter_next")) {
        /* IT was started by main before either thread: only its steps
         * here can race with the first thread's write */
        while (gomap_iter_next(&IT, NULL, NULL)) /* @site:second_iter_next */
            ;
    } else
        abort();
}

static void *pair_first(void *p)
{
    first_call();
    signal_flag();
    return p;
}

static void *pair_second(void *p)
{
    wait_flag();
    second_call();
    return p;
}

static void pair(void)
{
    M = make_map();
    fill(M, 10);
    if (is(second_op, "iter_next"))
        gomap_iter_init(&IT, M);
    spawn_run(pair_first, pair_second);
}

/* ---- a second race on a map already reported ----
 * t1 writes, t2 reads (or iterates), t1 writes again, sequenced by an
 * atomic the shim cannot see, t1 in one epoch throughout: two races, at
 * two pairs of lines. A held-out probe found only the first reported: the
 * second write skipped every check by FastTrack's same-epoch rule. With
 * "iter", t2 starts an iteration and takes one step. */
static atomic_int twice_step;
static int twice_iter;

static void *twice_writer(void *p)
{
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:twice_set1 */
    atomic_store_explicit(&twice_step, 1, memory_order_release);
    while (atomic_load_explicit(&twice_step, memory_order_acquire) != 2)
        sched_yield();
    k = 2;
    gomap_set(M, &k, &k); /* @site:twice_set2 */
    return p;
}

static void *twice_reader(void *p)
{
    while (atomic_load_explicit(&twice_step, memory_order_acquire) != 1)
        sched_yield();
    int64_t k = 1;
    if (twice_iter) {
        gomap_iter it;
        gomap_iter_init(&it, M); /* @site:twice_iter */
        gomap_iter_next(&it, NULL, NULL);
    } else {
        gomap_get(M, &k); /* @site:twice_get */
    }
    atomic_store_explicit(&twice_step, 2, memory_order_release);
    return p;
}

static void second_race(void)
{
    M = make_map();
    fill(M, 10);
    spawn_run(twice_writer, twice_reader);
}

static void second_race_iter(void)
{
    twice_iter = 1;
    second_race();
}

/* ---- condition variables ---- */

static pthread_cond_t CV = PTHREAD_COND_INITIALIZER;
static int queued, taken, closed;
enum { ITEMS = 20 };

/* Producer and consumer of ITEMS handoffs, one at a time. The consumer
 * waits in a loop (while nothing is queued) with the variant given; a
 * third thread broadcasts without changing anything, so the consumer
 * wakes up spuriously and waits again. */
static int wait_kind;

static void cv_wait(void)
{
    struct timespec ts;
    switch (wait_kind) {
    case 0:
        pthread_cond_wait(&CV, &L1);
        break;
    case 1:
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200000; /* short: some waits time out and the loop waits again */
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&CV, &L1, &ts);
        break;
    default:
        ts = in_a_minute(CLOCK_MONOTONIC);
        pthread_cond_clockwait(&CV, &L1, CLOCK_MONOTONIC, &ts);
        break;
    }
}

static void *cv_producer(void *p)
{
    for (int64_t i = 0; i < ITEMS; i++) {
        gomap_set(M, &i, &i); /* outside the lock: published by the handoff below */
        pthread_mutex_lock(&L1);
        queued++;
        pthread_cond_broadcast(&CV);
        while (taken < queued) /* the consumer's turn: it reads before the next write */
            pthread_cond_wait(&CV, &L1);
        pthread_mutex_unlock(&L1);
    }
    pthread_mutex_lock(&L1);
    closed = 1;
    pthread_cond_broadcast(&CV);
    pthread_mutex_unlock(&L1);
    return p;
}

static void *cv_consumer(void *p)
{
    for (int64_t i = 0; i < ITEMS; i++) {
        pthread_mutex_lock(&L1);
        while (queued <= i)
            cv_wait();
        pthread_mutex_unlock(&L1);
        gomap_get(M, &i); /* outside the lock too */
        gomap_delete(M, &i);
        pthread_mutex_lock(&L1);
        taken++;
        pthread_cond_broadcast(&CV);
        pthread_mutex_unlock(&L1);
    }
    return p;
}

static void *cv_spurious(void *p)
{
    pthread_mutex_lock(&L1);
    while (!closed) {
        pthread_cond_broadcast(&CV); /* nothing changed: a spurious wakeup */
        pthread_mutex_unlock(&L1);
        sched_yield();
        pthread_mutex_lock(&L1);
    }
    pthread_mutex_unlock(&L1);
    return p;
}

static void cond_queue(void)
{
    for (wait_kind = 0; wait_kind < 3; wait_kind++) {
        M = make_map();
        queued = taken = closed = 0;
        pthread_t a, b, c;
        pthread_create(&c, NULL, cv_spurious, NULL);
        pthread_create(&a, NULL, cv_consumer, NULL);
        pthread_create(&b, NULL, cv_producer, NULL);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        pthread_join(c, NULL);
    }
}

/* The consumer reads without waiting for the signal. */
static void *cv_writer_signals(void *p)
{
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:cv_nowait_set */
    pthread_mutex_lock(&L1);
    queued = 1;
    pthread_cond_signal(&CV);
    pthread_mutex_unlock(&L1);
    signal_flag();
    return p;
}

static void *cv_reader_nowait(void *p)
{
    int64_t k = 1;
    wait_flag();
    gomap_get(M, &k); /* @site:cv_nowait_get */
    return p;
}

static void cond_nowait_race(void)
{
    M = make_map();
    spawn_run(cv_writer_signals, cv_reader_nowait);
}

/* A timed wait that times out orders nothing with a writer that never
 * took the mutex. */
static void *cv_writer_nolock(void *p)
{
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:cv_timeout_set */
    signal_flag();
    return p;
}

static void *cv_reader_timeout(void *p)
{
    int64_t k = 1;
    wait_flag();
    pthread_mutex_lock(&L1);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* already past */
    if (pthread_cond_clockwait(&CV, &L1, CLOCK_MONOTONIC, &ts) != ETIMEDOUT)
        abort();
    clock_gettime(CLOCK_REALTIME, &ts);
    if (pthread_cond_timedwait(&CV, &L1, &ts) != ETIMEDOUT)
        abort();
    pthread_mutex_unlock(&L1);
    gomap_get(M, &k); /* @site:cv_timeout_get */
    return p;
}

static void cond_timeout_race(void)
{
    M = make_map();
    spawn_run(cv_writer_nolock, cv_reader_timeout);
}

/* Cancelled inside a condition wait, a thread runs its cleanup handlers
 * with the mutex taken back (POSIX; glibc re-locks it before unwinding), so
 * a handler that writes the map and unlocks is inside the critical
 * section. Deterministic whenever the cancel comes: the mutex is locked
 * before the first cancellation point, the wait. */
static pthread_mutex_t CANCEL_L = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t CANCEL_CV = PTHREAD_COND_INITIALIZER;

static void cancelled_in_wait(void *p)
{
    int64_t k = (int64_t)(intptr_t)p;
    gomap_set(M, &k, &k);
    pthread_mutex_unlock(&CANCEL_L);
}

static atomic_int cancel_ready[3];
static void *wait_until_cancelled(void *p)
{
    pthread_mutex_lock(&CANCEL_L);
    atomic_store(&cancel_ready[(intptr_t)p], 1);
    pthread_cleanup_push(cancelled_in_wait, p);
    for (;;) {
        if ((intptr_t)p == 1) {
            pthread_cond_wait(&CANCEL_CV, &CANCEL_L);
        } else {
            struct timespec t = in_a_minute(CLOCK_REALTIME);
            pthread_cond_timedwait(&CANCEL_CV, &CANCEL_L, &t);
        }
    }
    pthread_cleanup_pop(0);
    return NULL;
}

/* Each thread is cancelled once it is waiting: the mutex it held until the
 * wait released it is free. The second one's write is ordered after the
 * first's only by the mutex its cleanup holds. */
static void cond_cancel_clean(void)
{
    M = make_map();
    pthread_t t[2];
    for (intptr_t i = 0; i < 2; i++) {
        pthread_create(&t[i], NULL, wait_until_cancelled, (void *)(i + 1));
        while (!atomic_load(&cancel_ready[i + 1]))
            sched_yield();
        pthread_mutex_lock(&CANCEL_L);
        pthread_mutex_unlock(&CANCEL_L);
    }
    pthread_cancel(t[0]);
    pthread_join(t[0], NULL);
    pthread_cancel(t[1]);
    pthread_join(t[1], NULL);
    int64_t k = 1;
    gomap_get(M, &k);
}

/* ---- semaphores ---- */

static sem_t S1;
enum { POSTERS = 4 };
static gomap *PM[POSTERS];
static atomic_int posted;

/* The success path of sem_trywait, spun on: only the try that gets the
 * count orders the reader after the poster. */
static void *sem_try_poster(void *p)
{
    fill(M, 10);
    sem_post(&S1);
    return p;
}

static void *sem_try_reader(void *p)
{
    while (sem_trywait(&S1) != 0)
        sched_yield();
    for (int64_t i = 0; i < 10; i++)
        gomap_get(M, &i);
    return p;
}

static void sem_trywait_clean(void)
{
    M = make_map();
    sem_init(&S1, 0, 0);
    spawn_run(sem_try_reader, sem_try_poster);
    sem_destroy(&S1);
}

static void *sem_many_poster(void *p)
{
    int n = (int)(intptr_t)p;
    fill(PM[n], 10); /* each its own map: the posters are not ordered with each other */
    sem_post(&S1);
    atomic_fetch_add_explicit(&posted, 1, memory_order_release);
    return NULL;
}

/* POSTERS posts, all in before one wait: that wait is ordered after every
 * poster (the semaphore's clock is a merge). Once with sem_wait, once with
 * sem_timedwait, once with sem_clockwait. */
static void sem_many_posts(void)
{
    for (int variant = 0; variant < 3; variant++) {
        sem_init(&S1, 0, 0);
        atomic_store(&posted, 0);
        pthread_t t[POSTERS];
        for (int i = 0; i < POSTERS; i++) {
            PM[i] = make_map();
            pthread_create(&t[i], NULL, sem_many_poster, (void *)(intptr_t)i);
        }
        wait_count(&posted, POSTERS);
        struct timespec ts = in_a_minute(variant == 1 ? CLOCK_REALTIME : CLOCK_MONOTONIC);
        int r = variant == 0 ? sem_wait(&S1)
                : variant == 1 ? sem_timedwait(&S1, &ts)
                               : sem_clockwait(&S1, CLOCK_MONOTONIC, &ts);
        if (r)
            abort();
        for (int i = 0; i < POSTERS; i++) {
            int64_t k = 3;
            gomap_delete(PM[i], &k);
        }
        for (int i = 0; i < POSTERS; i++)
            pthread_detach(t[i]);
        wait_alone();
        sem_destroy(&S1);
    }
}

/* The write comes after the post the reader waited for. */
static void *sem_post_then_write(void *p)
{
    int64_t k = 1;
    sem_post(&S1);
    gomap_set(M, &k, &k); /* @site:sem_late_set */
    signal_flag();
    return p;
}

static void *sem_wait_then_read(void *p)
{
    int64_t k = 1;
    struct timespec ts = in_a_minute(CLOCK_REALTIME);
    if (sem_timedwait(&S1, &ts))
        abort();
    wait_flag();
    gomap_get(M, &k); /* @site:sem_late_get */
    return p;
}

static void sem_post_before_write_race(void)
{
    M = make_map();
    sem_init(&S1, 0, 0);
    spawn_run(sem_post_then_write, sem_wait_then_read);
}

/* ---- barriers, several threads, several rounds ---- */

enum { BAR_THREADS = 3, BAR_ROUNDS = 6 };
static pthread_barrier_t BAR;
static int bar_racy;

/* Round r: thread r % 3 writes, then all wait; the others read, then all
 * wait again (so the reads come before the next round's write). In the
 * racy run, round 4's writer writes after the first wait, and only one
 * other thread reads in that round, after it. */
static void *bar_worker(void *p)
{
    int64_t me = (int64_t)(intptr_t)p;
    for (int64_t round = 0; round < BAR_ROUNDS; round++) {
        bool writer = round % BAR_THREADS == me, late = bar_racy && round == 4;
        if (writer && !late)
            gomap_set(M, &round, &me);
        pthread_barrier_wait(&BAR);
        if (writer && late) {
            gomap_set(M, &round, &me); /* @site:bar_late_set */
            signal_flag();
        } else if (!writer && late) {
            if (me == (round + 1) % BAR_THREADS) {
                wait_flag();
                gomap_get(M, &round); /* @site:bar_late_get */
            }
        } else if (!writer) {
            gomap_get(M, &round);
            gomap_len(M);
        }
        pthread_barrier_wait(&BAR);
    }
    return NULL;
}

static void barrier_run(int racy)
{
    bar_racy = racy;
    M = make_map();
    pthread_barrier_init(&BAR, NULL, BAR_THREADS);
    pthread_t t[BAR_THREADS];
    for (int i = 0; i < BAR_THREADS; i++)
        pthread_create(&t[i], NULL, bar_worker, (void *)(intptr_t)i);
    for (int i = 0; i < BAR_THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&BAR);
}

static void barrier_rounds_clean(void) { barrier_run(0); }
static void barrier_round_race(void) { barrier_run(1); }

/* ---- read-write locks: every try, timed and clock variant ---- */

static pthread_rwlock_t RW = PTHREAD_RWLOCK_INITIALIZER;

static void rw_lock_variant(int v, bool write)
{
    struct timespec rt = in_a_minute(CLOCK_REALTIME), mt = in_a_minute(CLOCK_MONOTONIC);
    int r;
    if (write)
        r = v == 0   ? (pthread_rwlock_trywrlock(&RW) == 0 ? 0 : pthread_rwlock_wrlock(&RW))
            : v == 1 ? pthread_rwlock_timedwrlock(&RW, &rt)
                     : pthread_rwlock_clockwrlock(&RW, CLOCK_MONOTONIC, &mt);
    else
        r = v == 0   ? (pthread_rwlock_tryrdlock(&RW) == 0 ? 0 : pthread_rwlock_rdlock(&RW))
            : v == 1 ? pthread_rwlock_timedrdlock(&RW, &rt)
                     : pthread_rwlock_clockrdlock(&RW, CLOCK_MONOTONIC, &mt);
    if (r)
        abort();
}

static int rw_wv, rw_rv;

static void *rw_write_then_flag(void *p)
{
    rw_lock_variant(rw_wv, true);
    fill(M, 5);
    pthread_rwlock_unlock(&RW);
    signal_flag();
    return p;
}

/* reads, then hands the map back to a writer that takes the lock after
 * every reader's release */
static void *rw_read_after_flag(void *p)
{
    wait_flag();
    rw_lock_variant(rw_rv, false);
    for (int64_t i = 0; i < 5; i++)
        gomap_get(M, &i);
    pthread_rwlock_unlock(&RW);
    return p;
}

static void rwlock_variants_clean(void)
{
    for (rw_wv = 0; rw_wv < 3; rw_wv++)
        for (rw_rv = 0; rw_rv < 3; rw_rv++) {
            M = make_map();
            atomic_store(&flag, 0);
            pthread_t w, r1, r2;
            pthread_create(&w, NULL, rw_write_then_flag, NULL);
            pthread_create(&r1, NULL, rw_read_after_flag, NULL);
            pthread_create(&r2, NULL, rw_read_after_flag, NULL);
            pthread_detach(w);
            pthread_detach(r1);
            pthread_detach(r2);
            wait_alone();
            /* main took part in none of it: a write lock orders it after
             * the writer's release and both readers' */
            rw_lock_variant((rw_wv + 1) % 3, true);
            gomap_clear(M);
            pthread_rwlock_unlock(&RW);
        }
}

/* A failed trywrlock takes nothing: the reader that released the lock
 * before it is not ordered before the write (main holds a read lock, so
 * the try fails). */
static void *rw_reader_releases(void *p)
{
    int64_t k = 1;
    pthread_rwlock_rdlock(&RW);
    gomap_get(M, &k); /* @site:rw_tryfail_get */
    pthread_rwlock_unlock(&RW);
    signal_flag();
    return p;
}

static void *rw_try_fail_writer(void *p)
{
    int64_t k = 1;
    wait_flag();
    if (pthread_rwlock_trywrlock(&RW) != EBUSY)
        abort();
    gomap_set(M, &k, &k); /* @site:rw_tryfail_set */
    return p;
}

static void rwlock_tryfail_race(void)
{
    M = make_map();
    pthread_rwlock_rdlock(&RW);
    spawn_run(rw_reader_releases, rw_try_fail_writer);
    pthread_rwlock_unlock(&RW);
}

/* ---- recursive mutexes ---- */

static pthread_mutex_t REC;

static void rec_init(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&REC, &a);
    pthread_mutexattr_destroy(&a);
}

/* Locked twice and unlocked twice; the writes sit after the inner unlock,
 * still under the outer lock. */
static void *rec_writer(void *p)
{
    int64_t k = 1;
    pthread_mutex_lock(&REC);
    if (pthread_mutex_trylock(&REC))
        abort();
    gomap_set(M, &k, &k);
    pthread_mutex_unlock(&REC);
    k = 2;
    gomap_set(M, &k, &k); /* @site:rec_set */
    pthread_mutex_unlock(&REC);
    signal_flag();
    return p;
}

static void *rec_reader(void *p)
{
    wait_flag();
    struct timespec ts = in_a_minute(CLOCK_REALTIME);
    pthread_mutex_lock(&REC);
    if (pthread_mutex_timedlock(&REC, &ts))
        abort();
    for (int64_t k = 1; k <= 2; k++)
        gomap_get(M, &k);
    pthread_mutex_unlock(&REC);
    pthread_mutex_unlock(&REC);
    return p;
}

static void *rec_reader_unlocked(void *p)
{
    int64_t k = 2;
    wait_flag();
    gomap_get(M, &k); /* @site:rec_get */
    return p;
}

static void recursive_clean(void)
{
    M = make_map();
    rec_init();
    spawn_run(rec_writer, rec_reader);
    pthread_mutex_destroy(&REC);
}

static void recursive_one_side_race(void)
{
    M = make_map();
    rec_init();
    spawn_run(rec_writer, rec_reader_unlocked);
}

/* ---- mutexes whose owner glibc checks ----
 *
 * An unlock by a thread that does not own an error-checking or recursive
 * mutex (pthread or C11) fails with EPERM and releases nothing: the next
 * holder is not ordered after the failing thread's calls. Owned, these
 * kinds and robust and priority-inheriting mutexes order as any other. A
 * robust mutex whose owner ended holding it goes to the next locker with
 * EOWNERDEAD, which is ordered after the dead owner. */

static pthread_mutex_t OWNED;
static mtx_t COWNED;
static int owned_c11;

static void owned_init(int type, int robust, int protocol)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, type);
    pthread_mutexattr_setrobust(&a, robust);
    pthread_mutexattr_setprotocol(&a, protocol);
    if (pthread_mutex_init(&OWNED, &a))
        abort();
    pthread_mutexattr_destroy(&a);
}

static int owned_lock(void) { return owned_c11 ? (mtx_lock(&COWNED) == thrd_success ? 0 : EINVAL) : pthread_mutex_lock(&OWNED); }
static int owned_unlock(void)
{
    return owned_c11 ? (mtx_unlock(&COWNED) == thrd_success ? 0 : EPERM) : pthread_mutex_unlock(&OWNED);
}

/* a condition wait on a mutex the caller does not own fails before it
 * waits, releasing nothing, as the unlock does */
static pthread_cond_t OWNED_CV = PTHREAD_COND_INITIALIZER;
static cnd_t COWNED_CV;
static int eperm_by_wait;
static int owned_wait(void)
{
    if (owned_c11)
        return cnd_wait(&COWNED_CV, &COWNED) == thrd_success ? 0 : EPERM;
    return pthread_cond_wait(&OWNED_CV, &OWNED);
}

static void *eperm_writer(void *p)
{
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:eperm_set */
    /* never locked: not the owner */
    if ((eperm_by_wait ? owned_wait() : owned_unlock()) != EPERM)
        abort();
    signal_flag();
    return p;
}

static void *eperm_taker(void *p)
{
    int64_t k = 2;
    wait_flag();
    if (owned_lock())
        abort();
    gomap_set(M, &k, &k); /* @site:eperm_set_after */
    owned_unlock();
    return p;
}

static void eperm_errorcheck_race(void)
{
    M = make_map();
    owned_init(PTHREAD_MUTEX_ERRORCHECK, PTHREAD_MUTEX_STALLED, PTHREAD_PRIO_NONE);
    spawn_run(eperm_writer, eperm_taker);
}

static void eperm_recursive_race(void)
{
    M = make_map();
    owned_init(PTHREAD_MUTEX_RECURSIVE, PTHREAD_MUTEX_STALLED, PTHREAD_PRIO_NONE);
    spawn_run(eperm_writer, eperm_taker);
}

static void eperm_c11_race(void)
{
    M = make_map();
    owned_c11 = 1;
    if (mtx_init(&COWNED, mtx_plain | mtx_recursive) != thrd_success)
        abort();
    spawn_run(eperm_writer, eperm_taker);
}

static void eperm_cond_wait_race(void)
{
    eperm_by_wait = 1;
    eperm_errorcheck_race();
}

static void eperm_cnd_wait_race(void)
{
    eperm_by_wait = 1;
    if (cnd_init(&COWNED_CV) != thrd_success)
        abort();
    eperm_c11_race();
}

static void *owned_writer(void *p)
{
    int64_t k = 1;
    if (owned_lock())
        abort();
    gomap_set(M, &k, &k);
    if (owned_unlock())
        abort();
    signal_flag();
    return p;
}

static void *owned_reader(void *p)
{
    int64_t k = 1;
    wait_flag();
    if (owned_lock())
        abort();
    gomap_get(M, &k);
    owned_unlock();
    return p;
}

/* each kind handed from one thread to another, on its own map */
static void owned_kinds_clean(void)
{
    static const int kinds[][3] = {
        {PTHREAD_MUTEX_ERRORCHECK, PTHREAD_MUTEX_STALLED, PTHREAD_PRIO_NONE},
        {PTHREAD_MUTEX_RECURSIVE, PTHREAD_MUTEX_STALLED, PTHREAD_PRIO_NONE},
        {PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_ROBUST, PTHREAD_PRIO_NONE},
        {PTHREAD_MUTEX_ERRORCHECK, PTHREAD_MUTEX_ROBUST, PTHREAD_PRIO_NONE},
        {PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_STALLED, PTHREAD_PRIO_INHERIT},
        {PTHREAD_MUTEX_RECURSIVE, PTHREAD_MUTEX_ROBUST, PTHREAD_PRIO_INHERIT},
        /* not PTHREAD_PRIO_PROTECT: locking one may need CAP_SYS_NICE */
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        M = make_map();
        owned_init(kinds[i][0], kinds[i][1], kinds[i][2]);
        atomic_store(&flag, 0);
        spawn_run(owned_writer, owned_reader);
        pthread_mutex_destroy(&OWNED);
    }
    M = make_map();
    owned_c11 = 1;
    mtx_init(&COWNED, mtx_plain | mtx_recursive);
    atomic_store(&flag, 0);
    spawn_run(owned_writer, owned_reader);
    mtx_destroy(&COWNED);
}

/* The owner writes under the robust mutex and ends holding it; the next
 * locker gets EOWNERDEAD once it is gone (waited for through /proc). */
static void *dying_owner(void *p)
{
    int64_t k = 1;
    if (pthread_mutex_lock(&OWNED))
        abort();
    gomap_set(M, &k, &k); /* @site:dead_owner_set */
    return p;
}

/* a write to another map, under no lock, by a thread that ends holding
 * no robust mutex */
static gomap *M2;
static void *unlocked_writer(void *p)
{
    int64_t k = 3;
    gomap_set(M2, &k, &k); /* @site:unlocked_set */
    return p;
}

static void after_dead_owner(int racy)
{
    M = make_map();
    M2 = make_map();
    owned_init(PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_ROBUST, PTHREAD_PRIO_NONE);
    pthread_t t, u;
    pthread_create(&t, NULL, dying_owner, NULL);
    pthread_detach(t);
    if (racy) {
        pthread_create(&u, NULL, unlocked_writer, NULL);
        pthread_detach(u);
    }
    wait_alone();
    if (pthread_mutex_lock(&OWNED) != EOWNERDEAD)
        abort();
    pthread_mutex_consistent(&OWNED);
    int64_t k = 2;
    gomap_set(M, &k, &k); /* ordered after the dead owner's write */
    gomap_set(M2, &k, &k); /* @site:after_dead_set */
    pthread_mutex_unlock(&OWNED);
}

/* The waiter's mutex is taken back inside the wait: when its owner ended
 * holding it, the wait returns EOWNERDEAD, with the same ordering as a
 * lock that does. The dying owner sets the predicate and signals under the
 * mutex, then ends holding it. */
static int owner_done;
static void *signalling_dying_owner(void *p)
{
    if (pthread_mutex_lock(&OWNED))
        abort();
    int64_t k = 1;
    gomap_set(M, &k, &k);
    owner_done = 1;
    pthread_cond_signal(&OWNED_CV);
    return p;
}

static void wait_for_dead_owner(int racy)
{
    M = make_map();
    M2 = make_map();
    owned_init(PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_ROBUST, PTHREAD_PRIO_NONE);
    if (pthread_mutex_lock(&OWNED))
        abort();
    pthread_t t, u;
    if (racy) {
        pthread_create(&u, NULL, unlocked_writer, NULL);
        pthread_detach(u);
    }
    pthread_create(&t, NULL, signalling_dying_owner, NULL);
    pthread_detach(t);
    int r = 0;
    while (!owner_done)
        r = pthread_cond_wait(&OWNED_CV, &OWNED);
    if (r != EOWNERDEAD) /* the predicate is set only by the owner that dies */
        abort();
    pthread_mutex_consistent(&OWNED);
    int64_t k = 2;
    gomap_set(M, &k, &k); /* ordered after the dead owner's write */
    if (racy) {
        wait_alone();
        gomap_set(M2, &k, &k); /* @site:after_dead_wait_set */
    }
    pthread_mutex_unlock(&OWNED);
}

/* A thread takes back a robust mutex it let go of, and gets EOWNERDEAD:
 * in between, a thread took it and ended holding it. The lock's clock is
 * still the copy the first thread left, yet that is no sign that nobody
 * took the lock since (no tick to take back): the dead holder acquired the
 * thread's epoch, and a thread that joins the dead one is ordered after
 * the calls the thread made before it let go, not after those it makes
 * now (a held-out probe: missed every run, for a lock and for a wait).
 * Every thread is made first, so that no creation separates the epochs. */
static atomic_int relock_go, relock_held, relock_done;
static pthread_t relock_holder;

static void *relock_dying_holder(void *p)
{
    while (!atomic_load(&relock_go))
        sched_yield();
    if (pthread_mutex_lock(&OWNED))
        abort();
    owner_done = 1;
    pthread_cond_signal(&OWNED_CV);
    atomic_store(&relock_held, 1);
    return p; /* ends holding it */
}

static void *relock_joiner(void *p)
{
    while (!atomic_load(&relock_done))
        sched_yield();
    pthread_join(relock_holder, NULL); /* ordered after the holder's end, and so before its lock */
    int64_t k = 2;
    gomap_get(M, &k); /* @site:dead_holder_joined_get */
    return p;
}

static void relock_after_dead_holder(int by_wait)
{
    M = make_map();
    owned_init(PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_ROBUST, PTHREAD_PRIO_NONE);
    owner_done = 0;
    pthread_t u;
    pthread_create(&relock_holder, NULL, relock_dying_holder, NULL);
    pthread_create(&u, NULL, relock_joiner, NULL);
    int64_t k = 1;
    if (pthread_mutex_lock(&OWNED))
        abort();
    gomap_set(M, &k, &k);
    k = 2;
    if (by_wait) {
        atomic_store(&relock_go, 1);
        int r = 0;
        while (!owner_done)
            r = pthread_cond_wait(&OWNED_CV, &OWNED);
        if (r != EOWNERDEAD)
            abort();
        pthread_mutex_consistent(&OWNED);
        gomap_set(M, &k, &k); /* @site:relock_wait_set */
    } else {
        pthread_mutex_unlock(&OWNED);
        atomic_store(&relock_go, 1);
        while (!atomic_load(&relock_held))
            sched_yield();
        if (pthread_mutex_lock(&OWNED) != EOWNERDEAD) /* waits for the holder's end */
            abort();
        pthread_mutex_consistent(&OWNED);
        gomap_set(M, &k, &k); /* @site:relock_set */
    }
    pthread_mutex_unlock(&OWNED);
    atomic_store(&relock_done, 1);
    pthread_join(u, NULL);
}

static void robust_relock_race(void) { relock_after_dead_holder(0); }
static void robust_rewait_race(void) { relock_after_dead_holder(1); }

static void cond_owner_died_clean(void) { wait_for_dead_owner(0); }
static void cond_owner_died_race(void) { wait_for_dead_owner(1); }

static void robust_owner_died_clean(void) { after_dead_owner(0); }
/* EOWNERDEAD orders the dead owner, not another thread that ended */
static void robust_owner_died_race(void) { after_dead_owner(1); }

/* ---- a thread pool with a work queue ---- */

enum { WORKERS = 4, JOBS = 64 };
static int64_t queue[JOBS + WORKERS];
static int qhead, qtail;
static pthread_cond_t QCV = PTHREAD_COND_INITIALIZER;
static atomic_int jobs_done;

static void *pool_worker(void *p)
{
    for (;;) {
        pthread_mutex_lock(&L1);
        while (qhead == qtail)
            pthread_cond_wait(&QCV, &L1);
        int64_t job = queue[qhead++];
        pthread_mutex_unlock(&L1);
        if (job < 0)
            return p;
        pthread_mutex_lock(&L2);
        gomap_set(M, &job, &job); /* @site:pool_set */
        pthread_mutex_unlock(&L2);
        atomic_fetch_add_explicit(&jobs_done, 1, memory_order_release);
    }
}

static void pool_push(int64_t job)
{
    pthread_mutex_lock(&L1);
    queue[qtail++] = job;
    pthread_cond_signal(&QCV);
    pthread_mutex_unlock(&L1);
}

/* racy: main reads once every job is done, as counted by an atomic the
 * shim does not see, before it stops and joins the pool */
static void pool_run(int racy)
{
    M = make_map();
    pthread_t t[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&t[i], NULL, pool_worker, NULL);
    for (int64_t j = 0; j < JOBS; j++)
        pool_push(j);
    if (racy) {
        wait_count(&jobs_done, JOBS);
        int64_t k = 0;
        gomap_get(M, &k); /* @site:pool_early_get */
    }
    for (int i = 0; i < WORKERS; i++)
        pool_push(-1);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    for (int64_t j = 0; j < JOBS; j++)
        if (!gomap_get(M, &j))
            abort();
}

static void pool_clean(void) { pool_run(0); }
static void pool_race(void) { pool_run(1); }

/* ---- joins that order only transitively ---- */

static void *grandchild_write(void *p)
{
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:trans_set */
    signal_flag();
    return p;
}

static void *child_joins_grandchild(void *p)
{
    pthread_t g;
    pthread_create(&g, NULL, grandchild_write, NULL);
    if (p) {
        pthread_detach(g); /* racy: nothing orders the grandchild before main */
        wait_flag();
    } else
        pthread_join(g, NULL);
    return p;
}

static int c11_grandchild(void *p)
{
    fill(M, 10);
    return p != NULL;
}

static int c11_child(void *p)
{
    thrd_t g;
    thrd_create(&g, c11_grandchild, NULL);
    thrd_join(g, NULL);
    return p != NULL;
}

static void transitive_join_clean(void)
{
    M = make_map();
    pthread_t a;
    pthread_create(&a, NULL, child_joins_grandchild, NULL);
    pthread_join(a, NULL);
    int64_t k = 1;
    gomap_get(M, &k);
    gomap_delete(M, &k);
    /* and with C11 threads */
    thrd_t c;
    thrd_create(&c, c11_child, NULL);
    thrd_join(c, NULL);
    gomap_clear(M);
}

static void transitive_join_race(void)
{
    M = make_map();
    pthread_t a;
    pthread_create(&a, NULL, child_joins_grandchild, (void *)1);
    pthread_join(a, NULL);
    int64_t k = 1;
    gomap_get(M, &k); /* @site:trans_get */
}

/* ---- reuse of thread ids ---- */

enum { SEQ_THREADS = 320 };

static void *seq_write(void *p)
{
    int64_t k = (int64_t)(intptr_t)p;
    gomap_get(M, &k);
    gomap_set(M, &k, &k);
    return NULL;
}

/* Each thread is joined before the next is made: glibc hands out the same
 * pthread_t again and again, and the engine's slots are reused. Prints
 * how many threads had a pthread_t seen before. */
static void thread_id_reuse_clean(void)
{
    M = make_map();
    static pthread_t seen[SEQ_THREADS];
    int repeats = 0;
    for (int i = 0; i < SEQ_THREADS; i++) {
        pthread_create(&seen[i], NULL, seq_write, (void *)(intptr_t)(i % 7));
        for (int j = 0; j < i; j++)
            if (pthread_equal(seen[j], seen[i])) {
                repeats++;
                break;
            }
        pthread_join(seen[i], NULL);
    }
    for (int64_t k = 0; k < 7; k++)
        gomap_delete(M, &k);
    printf("repeats=%d\n", repeats);
}

/* A detached writer is gone; the next thread gets its pthread_t, and
 * nothing orders it after the first. Prints whether the id repeated. */
static void *reuse_first(void *p)
{
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:reuse_first_set */
    return p;
}

static void *reuse_second(void *p)
{
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:reuse_second_set */
    return p;
}

static void thread_id_reuse_race(void)
{
    M = make_map();
    pthread_t a, b;
    pthread_create(&a, NULL, reuse_first, NULL);
    pthread_detach(a);
    wait_alone();
    pthread_create(&b, NULL, reuse_second, NULL);
    printf("same_id=%d\n", pthread_equal(a, b) != 0);
    pthread_join(b, NULL);
}

/* ---- reuse of a map's address ----
 *
 * Run with quarantine_size=0, so that a freed map's memory goes back to
 * malloc at once. Main makes the first map; a thread uses and frees it and
 * exits (its malloc cache then goes back to main's arena). Main, which
 * never synchronized with that thread, makes a new map, most likely at the
 * same address, and uses it: the first map's history must be gone. Prints
 * whether the address was reused. */
static void *addr_user_frees(void *p)
{
    gomap *m = p;
    fill(m, 10);
    gomap_free(m);
    return NULL;
}

static void map_addr_reuse_clean(void)
{
    gomap *first = make_map();
    uintptr_t was = (uintptr_t)first;
    pthread_t t;
    pthread_create(&t, NULL, addr_user_frees, first);
    pthread_detach(t);
    wait_alone();
    M = make_map();
    printf("reused=%d\n", (uintptr_t)M == was);
    fill(M, 10);
    gomap_iter it;
    gomap_iter_init(&it, M);
    while (gomap_iter_next(&it, NULL, NULL))
        ;
    gomap_clear(M);
}

/* ---- a forked child racing with its own thread ---- */

static void *child_thread_write(void *p)
{
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:child_set */
    signal_flag();
    return p;
}

static void fork_child_race(void)
{
    M = make_map();
    fill(M, 10);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t t;
        pthread_create(&t, NULL, child_thread_write, NULL);
        pthread_detach(t);
        wait_flag();
        int64_t k = 1;
        gomap_get(M, &k); /* @site:child_get */
        wait_alone();
        exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child=%d status=%d\n", (int)pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    int64_t k = 2;
    gomap_set(M, &k, &k); /* the parent's own calls: ordered, clean */
}

/* ---- a parent's thread not ordered before the fork ----
 * The fork orders the forking thread's past before the child, not the
 * past of the parent's other threads: this thread's write, seen through
 * a flag the shim cannot see and never joined, races with the child's
 * read of its copy of the map. */

static void *parent_thread_write(void *p)
{
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:parent_thread_set */
    signal_flag();
    return p;
}

static void fork_parent_thread_race(void)
{
    M = make_map();
    fill(M, 10);
    pthread_t t;
    pthread_create(&t, NULL, parent_thread_write, NULL);
    wait_flag();
    pid_t pid = fork();
    if (pid == 0) {
        int64_t k = 1;
        gomap_get(M, &k); /* @site:forked_get */
        exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child=%d status=%d\n", (int)pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    pthread_join(t, NULL);
}

/* ---- a join in a forked child ----
 * The parent's other thread is not in the child, and glibc gives the
 * child's first new thread its cached stack, so the same pthread_t: the
 * child's join must take its own thread's clock, not the vanished one's. */

static atomic_int idle_release;
static void *idle_until_released(void *p)
{
    while (!atomic_load(&idle_release))
        sched_yield();
    return p;
}

static void *joined_writer(void *p)
{
    int64_t k = 1;
    gomap_set(M, &k, &k);
    return p;
}

static void fork_join_clean(void)
{
    M = make_map();
    pthread_t idle;
    pthread_create(&idle, NULL, idle_until_released, NULL);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t t;
        pthread_create(&t, NULL, joined_writer, NULL);
        pthread_join(t, NULL);
        int64_t k = 1;
        gomap_get(M, &k); /* ordered by the join */
        printf("same_handle=%d\n", pthread_equal(t, idle) != 0);
        exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child=%d status=%d\n", (int)pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    atomic_store(&idle_release, 1);
    pthread_join(idle, NULL);
}

/* A thread that ended before the fork, unjoined, is still the child's to
 * join, and its join orders its calls before the child's. */
static void fork_join_ended_clean(void)
{
    M = make_map();
    pthread_t t;
    pthread_create(&t, NULL, joined_writer, NULL);
    wait_alone();
    pid_t pid = fork();
    if (pid == 0) {
        void *res = &res;
        int r = pthread_join(t, &res);
        int64_t k = 2;
        gomap_set(M, &k, &k); /* ordered by the join */
        printf("child_join=%d\n", r == 0 && res == NULL ? 0 : 1);
        exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child=%d status=%d\n", (int)pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    pthread_join(t, NULL);
}

/* ---- C11 threads throughout ---- */

static mtx_t CM, CREC;
static cnd_t CCV;
static once_flag CONCE = ONCE_FLAG_INIT;
static int c11_ready;

static void c11_init_map(void)
{
    fill(M, 10);
}

static int c11_producer(void *p)
{
    call_once(&CONCE, c11_init_map);
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    ts.tv_sec += 60;
    if (mtx_timedlock(&CM, &ts) != thrd_success)
        abort();
    int64_t k = 20;
    gomap_set(M, &k, &k);
    c11_ready = 1;
    cnd_broadcast(&CCV);
    mtx_unlock(&CM);
    return p != NULL;
}

static int c11_consumer(void *p)
{
    call_once(&CONCE, c11_init_map);
    mtx_lock(&CM);
    while (!c11_ready)
        cnd_wait(&CCV, &CM);
    /* under the lock, after the producer's write */
    for (int64_t i = 0; i < 10; i++)
        gomap_get(M, &i);
    int64_t k = 20;
    gomap_delete(M, &k);
    mtx_unlock(&CM);
    return p != NULL;
}

static int c11_recursive(void *p)
{
    mtx_lock(&CREC);
    mtx_lock(&CREC);
    int64_t k = 30;
    gomap_set(M, &k, &k);
    mtx_unlock(&CREC);
    mtx_unlock(&CREC);
    thrd_exit(p != NULL);
}

static void c11_throughout_clean(void)
{
    M = make_map();
    mtx_init(&CM, mtx_timed);
    mtx_init(&CREC, mtx_plain | mtx_recursive);
    cnd_init(&CCV);
    thrd_t t[3];
    thrd_create(&t[0], c11_consumer, NULL);
    thrd_create(&t[1], c11_consumer, NULL);
    thrd_create(&t[2], c11_producer, NULL);
    for (int i = 0; i < 3; i++)
        thrd_join(t[i], NULL);
    /* two threads taking a recursive mutex twice each */
    thrd_create(&t[0], c11_recursive, NULL);
    thrd_create(&t[1], c11_recursive, NULL);
    for (int i = 0; i < 2; i++)
        thrd_join(t[i], NULL);
    gomap_clear(M); /* every thread joined */
    mtx_destroy(&CM);
    mtx_destroy(&CREC);
    cnd_destroy(&CCV);
}

static int c11_detached_write(void *p)
{
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:thrd_det_set */
    signal_flag();
    return p != NULL;
}

static void c11_detach_race(void)
{
    M = make_map();
    thrd_t t;
    thrd_create(&t, c11_detached_write, NULL);
    thrd_detach(t);
    wait_flag();
    int64_t k = 1;
    gomap_get(M, &k); /* @site:thrd_det_get */
    wait_alone();
}

/* ---- more threads alive at once than the engine has slots ---- */

enum { CROWD = 600 };
static pthread_cond_t GATE = PTHREAD_COND_INITIALIZER;
static int gate_open;
static atomic_int arrived;

static void *crowd_member(void *p)
{
    int64_t k = (int64_t)(intptr_t)p % 50;
    pthread_mutex_lock(&L1);
    gomap_get(M, &k);
    gomap_set(M, &k, &k);
    pthread_mutex_unlock(&L1);
    atomic_fetch_add_explicit(&arrived, 1, memory_order_release);
    pthread_mutex_lock(&L2);
    while (!gate_open)
        pthread_cond_wait(&GATE, &L2);
    pthread_mutex_unlock(&L2);
    /* all CROWD threads are alive now */
    pthread_mutex_lock(&L1);
    gomap_delete(M, &k);
    gomap_len(M);
    pthread_mutex_unlock(&L1);
    return NULL;
}

static void many_threads_clean(void)
{
    M = make_map();
    static pthread_t t[CROWD];
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 * 1024);
    int made = 0;
    for (int i = 0; i < CROWD; i++)
        made += pthread_create(&t[i], &a, crowd_member, (void *)(intptr_t)i) == 0;
    pthread_attr_destroy(&a);
    if (made != CROWD)
        abort();
    wait_count(&arrived, CROWD);
    pthread_mutex_lock(&L2);
    gate_open = 1;
    pthread_cond_broadcast(&GATE);
    pthread_mutex_unlock(&L2);
    for (int i = 0; i < CROWD; i++)
        pthread_join(t[i], NULL);
    gomap_clear(M); /* every thread joined */
    printf("threads=%d\n", made);
}

/* One thread past the table writes a map of its own after the gate, and
 * main reads it without synchronizing with that thread: the shared clock
 * of the threads past the table still ticks with that thread's releases,
 * so the race is found. */
static gomap *M2;

static void *crowd_member_racy(void *p)
{
    crowd_member(p);
    if ((intptr_t)p == CROWD - 1) {
        int64_t k = 1;
        gomap_set(M2, &k, &k); /* @site:crowd_set */
        signal_flag();
    }
    return NULL;
}

static void many_threads_race(void)
{
    M = make_map();
    M2 = make_map();
    static pthread_t t[CROWD];
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 * 1024);
    for (int i = 0; i < CROWD; i++)
        if (pthread_create(&t[i], &a, crowd_member_racy, (void *)(intptr_t)i))
            abort();
    pthread_attr_destroy(&a);
    wait_count(&arrived, CROWD);
    pthread_mutex_lock(&L2);
    gate_open = 1;
    pthread_cond_broadcast(&GATE);
    pthread_mutex_unlock(&L2);
    wait_flag();
    int64_t k = 1;
    gomap_get(M2, &k); /* @site:crowd_get */
    for (int i = 0; i < CROWD; i++)
        pthread_join(t[i], NULL);
}

/* ---- a wait that began before the first map ----
 * A worker blocks (mutex, semaphore, read lock, barrier) while no map
 * exists and the engine sleeps; main then makes the map, fills it and
 * lets the worker go. The wait returns with the engine awake: the worker
 * must take what main released, and its read is ordered after main's
 * writes. Main waits until the worker sleeps in the kernel (its
 * /proc state), so the wait surely began before the map. */
static pthread_mutex_t EARLY_MU = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t EARLY_RW = PTHREAD_RWLOCK_INITIALIZER;
static sem_t EARLY_SEM;
static pthread_barrier_t EARLY_BAR;
static int early_kind;
static atomic_int early_tid;

static void *early_waiter(void *p)
{
    atomic_store(&early_tid, gettid());
    switch (early_kind) {
    case 0: pthread_mutex_lock(&EARLY_MU); break;
    case 1: sem_wait(&EARLY_SEM); break;
    case 2: pthread_rwlock_rdlock(&EARLY_RW); break;
    default: pthread_barrier_wait(&EARLY_BAR); break;
    }
    int64_t k = 1;
    gomap_get(M, &k);
    if (early_kind == 0)
        pthread_mutex_unlock(&EARLY_MU);
    else if (early_kind == 2)
        pthread_rwlock_unlock(&EARLY_RW);
    return p;
}

static void wait_until_sleeping(int tid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    for (;;) {
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = 0;
        const char *rp = strrchr(buf, ')');
        if (rp && rp[1] == ' ' && rp[2] == 'S')
            return;
        sched_yield();
    }
}

static void early_wait(int kind)
{
    early_kind = kind;
    sem_init(&EARLY_SEM, 0, 0);
    pthread_barrier_init(&EARLY_BAR, NULL, 2);
    if (kind == 0)
        pthread_mutex_lock(&EARLY_MU);
    else if (kind == 2)
        pthread_rwlock_wrlock(&EARLY_RW);
    pthread_t t;
    if (pthread_create(&t, NULL, early_waiter, NULL))
        abort();
    while (!atomic_load(&early_tid))
        sched_yield();
    wait_until_sleeping(atomic_load(&early_tid));
    M = make_map();
    fill(M, 10);
    switch (kind) {
    case 0: pthread_mutex_unlock(&EARLY_MU); break;
    case 1: sem_post(&EARLY_SEM); break;
    case 2: pthread_rwlock_unlock(&EARLY_RW); break;
    default: pthread_barrier_wait(&EARLY_BAR); break;
    }
    pthread_join(t, NULL);
}

static void early_mutex_clean(void) { early_wait(0); }
static void early_sem_clean(void) { early_wait(1); }
static void early_rwlock_clean(void) { early_wait(2); }
static void early_barrier_clean(void) { early_wait(3); }

/* ---- a thread's index reused ----
 * An early thread writes a map and ends, detached; main reads the map
 * later, ordered after it only by a flag the engine cannot see. In
 * between, 65,535 more threads register one after another (a map call
 * each), created and joined: the index table's 65,534 indexes run out and
 * the early thread's index, freed first, goes to one of them. The report
 * of main's read must not name that later thread as the writer. */
static void *early_writer(void *p)
{
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:reused_set */
    signal_flag();
    return p;
}

static void *registering(void *p)
{
    (void)gomap_len(p); /* the first map call registers the thread */
    return NULL;
}

#define REUSE_THREADS 65535

static void index_reused_race(void)
{
    M = make_map();
    gomap *other = make_map();
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    if (pthread_create(&t, &a, early_writer, NULL))
        abort();
    pthread_attr_destroy(&a);
    wait_flag();
    usleep(20 * 1000); /* the early thread's exit frees its index first */
    for (int i = 0; i < REUSE_THREADS; i++)
        if (pthread_create(&t, NULL, registering, other) || pthread_join(t, NULL))
            abort();
    int64_t k = 1;
    gomap_get(M, &k); /* @site:reused_get */
}

/* ---- a thread libc starts: a SIGEV_THREAD notification's function ----
 * The process has had no thread of its own creation: the function's
 * thread is made inside libc. Arming the notification (timer_create,
 * timer_settime, mq_notify) happens before the function runs
 * (shim/sigev_notify.c). In timer_race main writes after arming, and the
 * function reads once main says so through a C11 atomic the shim cannot
 * see: nothing it sees orders them. timer_create must also end the
 * single-threaded path, or main's write is not on record when the
 * function reads. */

static atomic_int told;

/* A notification's function (timer_race, aio_race) that reads once main
 * tells it to. */
static void on_told_read(union sigval v)
{
    (void)v;
    while (!atomic_load_explicit(&told, memory_order_acquire))
        sched_yield();
    int64_t k = 1;
    gomap_get(M, &k); /* @site:told_get */
    signal_flag();
}

static void timer_race(void)
{
    M = make_map();
    (void)gomap_len(M); /* main's first call, checked in full: the next may take a fast path */
    struct sigevent ev = {.sigev_notify = SIGEV_THREAD};
    ev.sigev_notify_function = on_told_read;
    timer_t t;
    if (timer_create(CLOCK_MONOTONIC, &ev, &t) != 0)
        abort();
    struct itimerspec its = {.it_value = {0, 1000 * 1000}};
    if (timer_settime(t, 0, &its, NULL) != 0)
        abort();
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:timer_set */
    atomic_store_explicit(&told, 1, memory_order_release);
    wait_flag();
    timer_delete(t);
}

/* The timer made first, before any map; main then fills the map, the
 * callback takes a lock (any acquire) and reads: clean, ordered twice
 * (the arming, and the join of the first thread's epoch at an unseen
 * thread's first acquire, solo_join). */
static pthread_mutex_t TL = PTHREAD_MUTEX_INITIALIZER;

static void on_timer_locked(union sigval v)
{
    (void)v;
    pthread_mutex_lock(&TL);
    int64_t k = 1;
    gomap_get(M, &k);
    pthread_mutex_unlock(&TL);
    signal_flag();
}

static void timer_first_clean(void)
{
    struct sigevent ev = {.sigev_notify = SIGEV_THREAD};
    ev.sigev_notify_function = on_timer_locked;
    timer_t t;
    if (timer_create(CLOCK_MONOTONIC, &ev, &t) != 0)
        abort();
    M = make_map();
    fill(M, 10);
    struct itimerspec its = {.it_value = {0, 1000 * 1000}};
    if (timer_settime(t, 0, &its, NULL) != 0)
        abort();
    wait_flag();
    timer_delete(t);
}

/* A held-out probe's program: main fills the map, arms a one-shot timer
 * whose function writes the map and posts a semaphore, waits, reads.
 * Every pair is ordered: clean. With "settime", the timer is made before
 * the map and only the arming orders main's writes before the function's.
 * The function's value reaches it unchanged through the shim's
 * trampoline. */
static sem_t NOTIFIED;

static void on_notify_write(union sigval v)
{
    if (v.sival_int != 42)
        abort();
    int64_t k = 7;
    gomap_set(M, &k, &k);
    sem_post(&NOTIFIED);
}

static void arm_timer(timer_t *t)
{
    struct sigevent ev = {.sigev_notify = SIGEV_THREAD, .sigev_value = {.sival_int = 42}};
    ev.sigev_notify_function = on_notify_write;
    if (timer_create(CLOCK_MONOTONIC, &ev, t) != 0)
        abort();
}

/* main's side once the notification is armed: wait for the function's
 * post, then read what it wrote */
static void read_when_notified(void)
{
    while (sem_wait(&NOTIFIED) != 0)
        ;
    int64_t k = 7;
    if (!gomap_get(M, &k))
        abort();
}

static void fire_and_read(timer_t t)
{
    struct itimerspec its = {.it_value = {0, 1000 * 1000}};
    if (timer_settime(t, 0, &its, NULL) != 0)
        abort();
    read_when_notified();
    timer_delete(t);
}

static void timer_arming_clean(void)
{
    sem_init(&NOTIFIED, 0, 0);
    M = make_map();
    fill(M, 20);
    timer_t t;
    arm_timer(&t);
    fire_and_read(t);
}

static void timer_settime_clean(void)
{
    sem_init(&NOTIFIED, 0, 0);
    timer_t t;
    arm_timer(&t);
    M = make_map();
    fill(M, 20);
    fire_and_read(t);
}

/* More timers than the shim keeps records for (1,024): the last one's
 * function runs on a thread the engine meets unseen, and its arming is
 * ordered before it all the same. */
#define TIMERS_PAST_RECORDS 1030
static void timers_past_records_clean(void)
{
    sem_init(&NOTIFIED, 0, 0);
    static timer_t many[TIMERS_PAST_RECORDS];
    for (int i = 0; i < TIMERS_PAST_RECORDS; i++)
        arm_timer(&many[i]);
    M = make_map();
    fill(M, 20);
    fire_and_read(many[TIMERS_PAST_RECORDS - 1]);
    for (int i = 0; i < TIMERS_PAST_RECORDS - 1; i++)
        timer_delete(many[i]);
}

/* The same through a message queue: mq_notify's function runs when a
 * message arrives on the empty queue. */
static void mq_notify_clean(void)
{
    sem_init(&NOTIFIED, 0, 0);
    char name[64];
    snprintf(name, sizeof name, "/mapguard-test-%d", (int)getpid());
    struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 8};
    mqd_t q = mq_open(name, O_CREAT | O_RDWR, 0600, &attr);
    if (q == (mqd_t)-1)
        abort();
    mq_unlink(name);
    M = make_map();
    fill(M, 20);
    struct sigevent ev = {.sigev_notify = SIGEV_THREAD, .sigev_value = {.sival_int = 42}};
    ev.sigev_notify_function = on_notify_write;
    if (mq_notify(q, &ev) != 0 || mq_send(q, "x", 1, 0) != 0)
        abort();
    read_when_notified();
    mq_close(q);
}

/* ---- requests whose SIGEV_THREAD notification libc reads when it fires ----
 * aio_write, lio_listio and getaddrinfo_a: the function runs on a thread
 * libc starts inside itself, which the engine meets unseen; the request
 * happens before it (shim/sigev_notify.c). main fills the map, makes the
 * request, waits for the function's post and reads what it wrote: clean.
 * In aio_race main writes after the request, and the function reads once
 * main says so through a C11 atomic: nothing the shim sees orders them. */

static struct aiocb one_byte_write(int fd, void (*fn)(union sigval))
{
    static char byte = 'x';
    struct aiocb cb = {.aio_fildes = fd, .aio_buf = &byte, .aio_nbytes = 1, .aio_lio_opcode = LIO_WRITE};
    cb.aio_sigevent.sigev_notify = fn ? SIGEV_THREAD : SIGEV_NONE;
    cb.aio_sigevent.sigev_notify_function = fn;
    cb.aio_sigevent.sigev_value.sival_int = 42;
    return cb;
}

static void aio_finish(struct aiocb *cb)
{
    while (aio_error(cb) == EINPROGRESS)
        sched_yield();
    if (aio_return(cb) != 1)
        abort();
    close(cb->aio_fildes);
}

static int dev_null(void)
{
    int fd = open("/dev/null", O_WRONLY);
    if (fd < 0)
        abort();
    return fd;
}

static void aio_write_clean(void)
{
    sem_init(&NOTIFIED, 0, 0);
    M = make_map();
    fill(M, 20);
    struct aiocb cb = one_byte_write(dev_null(), on_notify_write);
    if (aio_write(&cb) != 0)
        abort();
    read_when_notified();
    aio_finish(&cb);
}

static void lio_listio_clean(void)
{
    sem_init(&NOTIFIED, 0, 0);
    M = make_map();
    fill(M, 20);
    struct aiocb cb = one_byte_write(dev_null(), NULL);
    struct aiocb *list[] = {&cb};
    struct sigevent ev = {.sigev_notify = SIGEV_THREAD, .sigev_value = {.sival_int = 42}};
    ev.sigev_notify_function = on_notify_write;
    if (lio_listio(LIO_NOWAIT, list, 1, &ev) != 0)
        abort();
    read_when_notified();
    aio_finish(&cb);
}

static void getaddrinfo_a_clean(void)
{
    sem_init(&NOTIFIED, 0, 0);
    M = make_map();
    fill(M, 20);
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM};
    struct gaicb req = {.ar_name = "127.0.0.1", .ar_service = "80", .ar_request = &hints};
    struct gaicb *list[] = {&req};
    struct sigevent ev = {.sigev_notify = SIGEV_THREAD, .sigev_value = {.sival_int = 42}};
    ev.sigev_notify_function = on_notify_write;
    if (getaddrinfo_a(GAI_NOWAIT, list, 1, &ev) != 0)
        abort();
    read_when_notified();
    while (gai_error(&req) == EAI_INPROGRESS)
        sched_yield();
    if (gai_error(&req) == 0)
        freeaddrinfo(req.ar_result);
}

static void aio_race(void)
{
    M = make_map();
    (void)gomap_len(M);
    struct aiocb cb = one_byte_write(dev_null(), on_told_read);
    if (aio_write(&cb) != 0)
        abort();
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:aio_set */
    atomic_store_explicit(&told, 1, memory_order_release);
    wait_flag();
    aio_finish(&cb);
}

/* ---- map calls while a thread ends ----
 * after its start routine: in a cleanup handler pthread_exit runs, and in
 * a thread-specific-data destructor. A join orders them (clean); with the
 * thread detached and main told through a C11 atomic, nothing does. */

static pthread_key_t exit_writer_key;

static void destructor_write(void *p)
{
    int64_t k = 5;
    gomap_set(M, &k, &k); /* @site:tsd_set */
    if (p == (void *)2)
        signal_flag();
}

static void cleanup_write(void *p)
{
    int64_t k = 6;
    gomap_set(M, &k, &k); /* @site:cleanup_set */
    if (p == (void *)2)
        signal_flag();
}

static void *ending_writer(void *p)
{
    if (pthread_setspecific(exit_writer_key, p))
        abort();
    return NULL;
}

static void *exiting_writer(void *p)
{
    pthread_cleanup_push(cleanup_write, p);
    pthread_exit(NULL);
    pthread_cleanup_pop(0);
    return NULL;
}

static void ending_threads(void *(*fn)(void *), bool joined)
{
    M = make_map();
    (void)gomap_len(M);
    if (pthread_key_create(&exit_writer_key, destructor_write))
        abort();
    pthread_t t;
    if (pthread_create(&t, NULL, fn, joined ? (void *)1 : (void *)2))
        abort();
    if (joined) {
        pthread_join(t, NULL);
    } else {
        pthread_detach(t);
        wait_flag();
    }
}

static void tsd_destructor_joined_clean(void)
{
    ending_threads(ending_writer, true);
    int64_t k = 5;
    if (!gomap_get(M, &k))
        abort();
}

static void cleanup_handler_joined_clean(void)
{
    ending_threads(exiting_writer, true);
    int64_t k = 6;
    if (!gomap_get(M, &k))
        abort();
}

static void tsd_destructor_race(void)
{
    ending_threads(ending_writer, false);
    int64_t k = 5;
    gomap_get(M, &k); /* @site:after_tsd_get */
}

static void cleanup_handler_race(void)
{
    ending_threads(exiting_writer, false);
    int64_t k = 6;
    gomap_get(M, &k); /* @site:after_cleanup_get */
}

/* ---- more synchronization objects in use than the engine has room
 * for (hb_sync.h's HB_SYNC_CAP, 16,384): 20,000 mutexes, each let go once
 * by a second thread and none destroyed. The rest share one clock, and
 * the shim says so at exit. */
#define MANY_MUTEXES 20000
static pthread_mutex_t *many;

static void *lock_each(void *p)
{
    for (int i = 0; i < MANY_MUTEXES; i++) {
        pthread_mutex_lock(&many[i]);
        pthread_mutex_unlock(&many[i]);
    }
    return p;
}

static void many_mutexes(void)
{
    gomap *m = make_map();
    many = calloc(MANY_MUTEXES, sizeof *many);
    if (!many)
        abort();
    for (int i = 0; i < MANY_MUTEXES; i++)
        pthread_mutex_init(&many[i], NULL);
    pthread_t t;
    pthread_create(&t, NULL, lock_each, NULL);
    pthread_join(t, NULL);
    gomap_free(m);
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {
        {"pair", pair},
        {"many_mutexes", many_mutexes},
        {"timer_race", timer_race},
        {"second_race", second_race},
        {"second_race_iter", second_race_iter},
        {"timer_first_clean", timer_first_clean},
        {"timer_arming_clean", timer_arming_clean},
        {"timer_settime_clean", timer_settime_clean},
        {"mq_notify_clean", mq_notify_clean},
        {"timers_past_records_clean", timers_past_records_clean},
        {"aio_write_clean", aio_write_clean},
        {"lio_listio_clean", lio_listio_clean},
        {"getaddrinfo_a_clean", getaddrinfo_a_clean},
        {"aio_race", aio_race},
        {"tsd_destructor_joined_clean", tsd_destructor_joined_clean},
        {"cleanup_handler_joined_clean", cleanup_handler_joined_clean},
        {"tsd_destructor_race", tsd_destructor_race},
        {"cleanup_handler_race", cleanup_handler_race},
        {"fork_parent_thread_race", fork_parent_thread_race},
        {"cond_queue", cond_queue},
        {"cond_nowait_race", cond_nowait_race},
        {"cond_timeout_race", cond_timeout_race},
        {"sem_trywait_clean", sem_trywait_clean},
        {"sem_many_posts", sem_many_posts},
        {"sem_post_before_write_race", sem_post_before_write_race},
        {"barrier_rounds_clean", barrier_rounds_clean},
        {"barrier_round_race", barrier_round_race},
        {"rwlock_variants_clean", rwlock_variants_clean},
        {"rwlock_tryfail_race", rwlock_tryfail_race},
        {"recursive_clean", recursive_clean},
        {"recursive_one_side_race", recursive_one_side_race},
        {"eperm_errorcheck_race", eperm_errorcheck_race},
        {"eperm_recursive_race", eperm_recursive_race},
        {"eperm_c11_race", eperm_c11_race},
        {"owned_kinds_clean", owned_kinds_clean},
        {"cond_cancel_clean", cond_cancel_clean},
        {"eperm_cond_wait_race", eperm_cond_wait_race},
        {"eperm_cnd_wait_race", eperm_cnd_wait_race},
        {"cond_owner_died_clean", cond_owner_died_clean},
        {"cond_owner_died_race", cond_owner_died_race},
        {"robust_owner_died_clean", robust_owner_died_clean},
        {"robust_owner_died_race", robust_owner_died_race},
        {"robust_relock_race", robust_relock_race},
        {"robust_rewait_race", robust_rewait_race},
        {"pool_clean", pool_clean},
        {"pool_race", pool_race},
        {"transitive_join_clean", transitive_join_clean},
        {"transitive_join_race", transitive_join_race},
        {"thread_id_reuse_clean", thread_id_reuse_clean},
        {"thread_id_reuse_race", thread_id_reuse_race},
        {"map_addr_reuse_clean", map_addr_reuse_clean},
        {"fork_child_race", fork_child_race},
        {"fork_join_clean", fork_join_clean},
        {"fork_join_ended_clean", fork_join_ended_clean},
        {"c11_throughout_clean", c11_throughout_clean},
        {"c11_detach_race", c11_detach_race},
        {"many_threads_clean", many_threads_clean},
        {"many_threads_race", many_threads_race},
        {"index_reused_race", index_reused_race},
        {"early_mutex_clean", early_mutex_clean},
        {"early_sem_clean", early_sem_clean},
        {"early_rwlock_clean", early_rwlock_clean},
        {"early_barrier_clean", early_barrier_clean},
    };
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    if (fn == pair) {
        static char ops[64];
        snprintf(ops, sizeof ops, "%s", argc > 2 ? argv[2] : "");
        char *comma = strchr(ops, ',');
        if (!comma)
            return 2;
        *comma = 0;
        first_op = ops;
        second_op = comma + 1;
    }
    fn();
    fflush(stdout);
    return 0;
}
