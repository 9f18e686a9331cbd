/*
 * Races whose two calls never overlap in time, for the happens-before
 * tests (happens_before=1), and their synchronized counterparts.
 *
 * Each racy scenario sequences its threads with a C11 atomic flag, which
 * compiles inline and which the shim cannot see: the calls run one after
 * the other every time (no overlap, so the overlap detector is silent and
 * the outcome never depends on timing), yet nothing the shim saw orders
 * them. The clean scenarios order the same calls with something the shim
 * intercepts (a mutex, a join, thread creation, an annotation). One
 * scenario per run, named by argv[1]. Lines the tests look for carry an
 * @site comment.
 */
#include <gomap.h>
#include "scenario.h"
#include "../../shim/mapguard_annotate.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

static gomap *M;
static atomic_int flag, flag2;
static sem_t S1, S2;
static pthread_mutex_t L1 = PTHREAD_MUTEX_INITIALIZER, L2 = PTHREAD_MUTEX_INITIALIZER;
static mtx_t C1, C2;

static gomap *make_map(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8};
    return gomap_new(&t, 0); /* @site:made */
}

/* The handoff the shim does not see. */
static void signal_flag(void) { atomic_store_explicit(&flag, 1, memory_order_release); }
static void wait_flag(void)
{
    while (!atomic_load_explicit(&flag, memory_order_acquire))
        sched_yield();
}

static void *spawn_run(void *(*fn)(void *), void *(*fn2)(void *))
{
    pthread_t a, b;
    pthread_create(&a, NULL, fn, NULL);
    pthread_create(&b, NULL, fn2, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return NULL;
}

/* ---- the document's §2.2 shape: 1000 reads, then 1000 writes ---- */

static void *s22_reader(void *p)
{
    for (int64_t i = 0; i < 1000; i++)
        gomap_get(M, &i); /* @site:s22_get */
    signal_flag();
    return p;
}

static void *s22_writer(void *p)
{
    wait_flag();
    for (int64_t i = 0; i < 1000; i++)
        gomap_set(M, &i, &i); /* @site:s22_set */
    return p;
}

static void s22(void)
{
    M = make_map();
    spawn_run(s22_reader, s22_writer);
}

/* The same, with the second thread already known to the engine: its
 * earlier call on a map of its own took a thread's first-call path, so
 * its racing call is checked by the inline one (happens_before.c, enter). */
static void known(void)
{
    gomap *own = make_map();
    gomap_len(own);
    gomap_free(own);
}

static void *known_reader(void *p)
{
    if (p)
        known(), wait_flag();
    for (int64_t i = 0; i < 10; i++)
        gomap_get(M, &i); /* @site:known_get */
    if (!p)
        signal_flag();
    return NULL;
}

static void *known_writer(void *p)
{
    if (p)
        known(), wait_flag();
    for (int64_t i = 0; i < 10; i++)
        gomap_set(M, &i, &i); /* @site:known_set */
    if (!p)
        signal_flag();
    return NULL;
}

static void *second(void *(*fn)(void *)) { return fn((void *)1); }
static void *known_writer_second(void *p) { return (void)p, second(known_writer); }
static void *known_reader_second(void *p) { return (void)p, second(known_reader); }

static void known_read_write(void)
{
    M = make_map();
    spawn_run(known_reader, known_writer_second);
}

static void known_write_read(void)
{
    M = make_map();
    spawn_run(known_writer, known_reader_second);
}

/* ---- an iteration and a write, in both orders ---- */

static void *iter_walk(void *p)
{
    if (p)
        wait_flag();
    gomap_iter it;
    gomap_iter_init(&it, M); /* @site:iter_init */
    while (gomap_iter_next(&it, NULL, NULL))
        ;
    if (!p)
        signal_flag();
    return NULL;
}

static void *iter_write(void *p)
{
    int64_t k = 100;
    if (!p)
        wait_flag();
    gomap_set(M, &k, &k); /* @site:iter_set */
    if (p)
        signal_flag();
    return NULL;
}

static void iter_fill(void)
{
    M = make_map();
    for (int64_t i = 0; i < 10; i++)
        gomap_set(M, &i, &i);
}

static void *iter_walk_after(void *p) { return iter_walk(p ? p : (void *)1); }
static void *iter_write_first(void *p) { return iter_write(p ? p : (void *)1); }

static void iter_then_write(void)
{
    iter_fill();
    spawn_run(iter_walk, iter_write);
}

static void write_then_iter(void)
{
    iter_fill();
    spawn_run(iter_write_first, iter_walk_after);
}

/* ---- a detached thread fills a map that main reads later ---- */

static void *det_fill(void *p)
{
    for (int64_t i = 0; i < 100; i++)
        gomap_set(M, &i, &i); /* @site:det_set */
    signal_flag();
    return p;
}

static void detached(void)
{
    M = make_map();
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_create(&t, &a, det_fill, NULL);
    wait_flag();
    int64_t k = 7;
    gomap_get(M, &k); /* @site:det_get */
}

/* ---- two threads, each under a lock, not the same one ---- */

static void *two_a(void *p)
{
    int64_t k = 1;
    pthread_mutex_lock(&L1);
    gomap_set(M, &k, &k); /* @site:two_a */
    pthread_mutex_unlock(&L1);
    signal_flag();
    return p;
}

static void *two_b(void *p)
{
    int64_t k = 2;
    wait_flag();
    pthread_mutex_lock(&L2);
    gomap_set(M, &k, &k); /* @site:two_b */
    pthread_mutex_unlock(&L2);
    return p;
}

static void two_locks(void)
{
    M = make_map();
    spawn_run(two_a, two_b);
}

/* ---- a write just after the unlock ---- */

static void *after_a(void *p)
{
    int64_t k = 1;
    pthread_mutex_lock(&L1);
    gomap_set(M, &k, &k);
    pthread_mutex_unlock(&L1);
    gomap_delete(M, &k); /* @site:after_unlock */
    signal_flag();
    return p;
}

static void *after_b(void *p)
{
    int64_t k = 1;
    wait_flag();
    pthread_mutex_lock(&L1);
    gomap_get(M, &k); /* @site:after_get */
    pthread_mutex_unlock(&L1);
    return p;
}

static void after_unlock(void)
{
    M = make_map();
    spawn_run(after_a, after_b);
}

/* ---- a lock taken again after another lock was let go ----
 * A takes L1 again with nobody having taken it in between, which lets a
 * thread stay in its epoch (hb_relocked), but it let go of L2 too: B,
 * ordered after A only through L2, must still see A's second write as
 * unordered. With L1 alone released in between, A's calls would stay in
 * one epoch; L2's release must keep the tick. */

static void *relock_a(void *p)
{
    int64_t k = 1;
    pthread_mutex_lock(&L1);
    gomap_set(M, &k, &k);
    pthread_mutex_unlock(&L1);
    pthread_mutex_lock(&L2);
    pthread_mutex_unlock(&L2);
    pthread_mutex_lock(&L1);
    gomap_delete(M, &k); /* @site:relock_write */
    pthread_mutex_unlock(&L1);
    signal_flag();
    return p;
}

static void *relock_b(void *p)
{
    int64_t k = 1;
    wait_flag();
    pthread_mutex_lock(&L2);
    gomap_get(M, &k); /* @site:relock_read */
    pthread_mutex_unlock(&L2);
    return p;
}

static void relock_other_released(void)
{
    M = make_map();
    spawn_run(relock_a, relock_b);
}

/* The same with nothing else released: A's two holds of L1 are one epoch,
 * and B, which took L1 after both, is ordered after them: clean. */
static void *rehold_a(void *p)
{
    int64_t k = 1;
    for (int i = 0; i < 3; i++) {
        pthread_mutex_lock(&L1);
        gomap_set(M, &k, &k);
        pthread_mutex_unlock(&L1);
    }
    signal_flag();
    return p;
}

static void *rehold_b(void *p)
{
    int64_t k = 1;
    wait_flag();
    pthread_mutex_lock(&L1);
    gomap_delete(M, &k);
    pthread_mutex_unlock(&L1);
    return p;
}

static void rehold_clean(void)
{
    M = make_map();
    spawn_run(rehold_a, rehold_b);
}

/* ---- a thread's own mutex, taken over and over ----
 * The mutex wrappers decide a default mutex its thread takes again with
 * nobody in between by one compare (hb_lockpath.h). These keep that path
 * honest: each first makes A the only taker of L1 for a few rounds, then
 * changes what the compare must notice. All clean: a wrong shortcut
 * shows as a false report. */

static gomap *OWN; /* A's own map under L1, for the rounds */
static void signal_flag2(void);
static void wait_flag2(void);

static void own_rounds(void)
{
    for (int64_t i = 0; i < 4; i++) {
        pthread_mutex_lock(&L1);
        gomap_set(OWN, &i, &i);
        pthread_mutex_unlock(&L1);
    }
}

static void *three_run(void *(*a)(void *), void *(*b)(void *), void *(*c)(void *))
{
    pthread_t t[3];
    pthread_create(&t[0], NULL, a, NULL);
    pthread_create(&t[1], NULL, b, NULL);
    pthread_create(&t[2], NULL, c, NULL);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    return NULL;
}

/* B takes L1 between two of A's holds: A's second lock must take B's
 * clock, or A's write then looks unordered with B's read. (A reads first:
 * a write in A's first epoch would make the second one's a same-epoch
 * skip, which checks nothing.) */
static void *own_between_a(void *p)
{
    int64_t k = 1;
    own_rounds();
    pthread_mutex_lock(&L1);
    gomap_get(M, &k);
    pthread_mutex_unlock(&L1);
    signal_flag();
    wait_flag2();
    pthread_mutex_lock(&L1);
    gomap_set(M, &k, &k);
    pthread_mutex_unlock(&L1);
    return p;
}

static void *own_between_b(void *p)
{
    int64_t k = 1;
    wait_flag();
    pthread_mutex_lock(&L1);
    gomap_get(M, &k);
    pthread_mutex_unlock(&L1);
    signal_flag2();
    return p;
}

static void own_between_clean(void)
{
    M = make_map();
    OWN = make_map();
    spawn_run(own_between_a, own_between_b);
}

/* A acquires B's write through S while it holds L1 (own_acquire_held) or
 * between two holds (own_acquire_released); C, which takes L1 after A,
 * reads what B wrote: ordered B -> S -> A -> L1 -> C. A's unlock must
 * store the clock that grew, though nothing else changed. */
static void *own_acquire_b(void *p)
{
    int64_t k = 1;
    gomap_set(M, &k, &k);
    sem_post(&S1);
    return p;
}

static void *own_acquire_held_a(void *p)
{
    own_rounds();
    pthread_mutex_lock(&L1);
    sem_wait(&S1);
    pthread_mutex_unlock(&L1);
    signal_flag();
    return p;
}

static void *own_acquire_released_a(void *p)
{
    own_rounds();
    sem_wait(&S1);
    pthread_mutex_lock(&L1);
    pthread_mutex_unlock(&L1);
    signal_flag();
    return p;
}

static void *own_acquire_c(void *p)
{
    int64_t k = 1;
    wait_flag();
    pthread_mutex_lock(&L1);
    gomap_get(M, &k);
    pthread_mutex_unlock(&L1);
    return p;
}

static void own_acquire_held_clean(void)
{
    M = make_map();
    OWN = make_map();
    sem_init(&S1, 0, 0);
    three_run(own_acquire_held_a, own_acquire_b, own_acquire_c);
}

static void own_acquire_released_clean(void)
{
    M = make_map();
    OWN = make_map();
    sem_init(&S1, 0, 0);
    three_run(own_acquire_released_a, own_acquire_b, own_acquire_c);
}

/* A posts S between two holds of its own L1: the post is a release,
 * so A's write after the next lock is in a new epoch, and B, ordered
 * after A only through S, must still see it as unordered. The relock
 * cannot take A back to the epoch it posted at. */
static void *own_post_a(void *p)
{
    int64_t k = 1;
    own_rounds();
    sem_post(&S1);
    pthread_mutex_lock(&L1);
    gomap_set(M, &k, &k); /* @site:own_post_set */
    pthread_mutex_unlock(&L1);
    signal_flag();
    return p;
}

static void *own_post_b(void *p)
{
    int64_t k = 1;
    wait_flag();
    sem_wait(&S1);
    gomap_get(M, &k); /* @site:own_post_get */
    return p;
}

static void own_post_race(void)
{
    M = make_map();
    OWN = make_map();
    sem_init(&S1, 0, 0);
    spawn_run(own_post_a, own_post_b);
}

/* ---- the same map under one mutex: clean ---- */

static void *locked_a(void *p)
{
    for (int64_t i = 0; i < 100; i++) {
        pthread_mutex_lock(&L1);
        gomap_set(M, &i, &i);
        pthread_mutex_unlock(&L1);
    }
    signal_flag();
    return p;
}

static void *locked_b(void *p)
{
    wait_flag();
    for (int64_t i = 0; i < 100; i++) {
        int r = i % 3 == 0 ? pthread_mutex_trylock(&L1) : EBUSY;
        if (r != 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 10;
            r = i % 3 == 1 ? pthread_mutex_timedlock(&L1, &ts) : pthread_mutex_lock(&L1);
            if (r != 0)
                abort();
        }
        gomap_get(M, &i);
        gomap_delete(M, &i);
        pthread_mutex_unlock(&L1);
    }
    return p;
}

static void one_mutex(void)
{
    M = make_map();
    spawn_run(locked_a, locked_b);
}

/* ---- a joined handoff: clean, also through a reused thread id ---- */

static void *join_write(void *p)
{
    for (int64_t i = 0; i < 100; i++)
        gomap_set(M, &i, &i);
    return p;
}

static void *join_read(void *p)
{
    for (int64_t i = 0; i < 100; i++)
        gomap_get(M, &i);
    return p;
}

static void joined(void)
{
    M = make_map();
    for (int round = 0; round < 3; round++) {
        pthread_t t;
        pthread_create(&t, NULL, join_write, NULL);
        pthread_join(t, NULL);
        join_read(NULL);
        pthread_create(&t, NULL, join_read, NULL);
        if (round == 1) {
            while (pthread_tryjoin_np(t, NULL) != 0)
                sched_yield();
        } else {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += 60;
            if (pthread_clockjoin_np(t, NULL, CLOCK_MONOTONIC, &ts) != 0)
                abort();
        }
        int64_t k = round;
        gomap_delete(M, &k);
    }
}

/* ---- C11 threads and mutexes ---- */

static int c11_locked(void *p)
{
    for (int64_t i = 0; i < 50; i++) {
        mtx_lock(&C1);
        gomap_set(M, &i, &i);
        mtx_unlock(&C1);
    }
    signal_flag();
    return p != NULL;
}

static int c11_locked_b(void *p)
{
    wait_flag();
    for (int64_t i = 0; i < 50; i++) {
        if (mtx_trylock(&C1) != thrd_success)
            mtx_lock(&C1);
        gomap_delete(M, &i);
        mtx_unlock(&C1);
    }
    return p != NULL;
}

static void c11_clean(void)
{
    M = make_map();
    mtx_init(&C1, mtx_plain);
    thrd_t a, b;
    thrd_create(&a, c11_locked, NULL);
    thrd_create(&b, c11_locked_b, NULL);
    thrd_join(a, NULL);
    thrd_join(b, NULL);
    int64_t k = 3;
    gomap_set(M, &k, &k); /* ordered after both by the joins */
    mtx_destroy(&C1);
}

static int c11_a(void *p)
{
    int64_t k = 1;
    mtx_lock(&C1);
    gomap_set(M, &k, &k); /* @site:c11_a */
    mtx_unlock(&C1);
    signal_flag();
    return p != NULL;
}

static int c11_b(void *p)
{
    int64_t k = 1;
    wait_flag();
    mtx_lock(&C2);
    gomap_get(M, &k); /* @site:c11_b */
    mtx_unlock(&C2);
    return p != NULL;
}

static void c11_two_locks(void)
{
    M = make_map();
    mtx_init(&C1, mtx_plain);
    mtx_init(&C2, mtx_plain);
    thrd_t a, b;
    thrd_create(&a, c11_a, NULL);
    thrd_create(&b, c11_b, NULL);
    thrd_join(a, NULL);
    thrd_join(b, NULL);
}

/* ---- annotations in place of the atomic flag's invisibility ---- */

static void *ann_writer(void *p)
{
    for (int64_t i = 0; i < 100; i++)
        gomap_set(M, &i, &i);
    MAPGUARD_HAPPENS_BEFORE(&flag);
    signal_flag();
    return p;
}

static void *ann_reader(void *p)
{
    wait_flag();
    MAPGUARD_HAPPENS_AFTER(&flag);
    for (int64_t i = 0; i < 100; i++)
        gomap_get(M, &i);
    return p;
}

static void annotated(void)
{
    M = make_map();
    spawn_run(ann_writer, ann_reader);
}

/* ---- pthread_exit and a thread created before any map ---- */

static void *exit_writer(void *p)
{
    int64_t k = 5;
    wait_flag();
    gomap_set(M, &k, &k);
    pthread_exit(p);
}

static void early_thread_exit(void)
{
    pthread_t t;
    pthread_create(&t, NULL, exit_writer, NULL); /* before the engine wakes */
    M = make_map();
    signal_flag();
    pthread_join(t, NULL);
    int64_t k = 5;
    gomap_get(M, &k);
}

/* ---- a forked child starts from its parent's clock: clean ---- */

static void forked(void)
{
    M = make_map();
    pthread_t t;
    pthread_create(&t, NULL, join_write, NULL);
    pthread_join(t, NULL);
    pid_t pid = fork();
    if (pid == 0) {
        join_read(NULL);
        int64_t k = 1;
        gomap_set(M, &k, &k);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
}

/* The second handoff the shim does not see. */
static void signal_flag2(void) { atomic_store_explicit(&flag2, 1, memory_order_release); }
static void wait_flag2(void)
{
    while (!atomic_load_explicit(&flag2, memory_order_acquire))
        sched_yield();
}

static struct timespec in_a_minute(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    ts.tv_sec += 60;
    return ts;
}

/* ---- read-write locks ---- */

static pthread_rwlock_t RW = PTHREAD_RWLOCK_INITIALIZER;

/* A write under a read lock: readers are not ordered with each other. */
static void *rw_bad_a(void *p)
{
    int64_t k = 1;
    pthread_rwlock_rdlock(&RW);
    gomap_set(M, &k, &k); /* @site:rw_bad_set */
    pthread_rwlock_unlock(&RW);
    signal_flag();
    return p;
}

static void *rw_bad_b(void *p)
{
    int64_t k = 1;
    wait_flag();
    struct timespec ts = in_a_minute(CLOCK_REALTIME);
    if (pthread_rwlock_timedrdlock(&RW, &ts) != 0)
        abort();
    gomap_get(M, &k); /* @site:rw_bad_get */
    pthread_rwlock_unlock(&RW);
    return p;
}

static void rwlock_race(void)
{
    M = make_map();
    spawn_run(rw_bad_a, rw_bad_b);
}

static void *rw_writer(void *p)
{
    for (int64_t i = 0; i < 20; i++) {
        if (i % 2 ? pthread_rwlock_wrlock(&RW) : pthread_rwlock_trywrlock(&RW) == 0 ? 0 : pthread_rwlock_wrlock(&RW))
            abort();
        gomap_set(M, &i, &i);
        pthread_rwlock_unlock(&RW);
    }
    signal_flag();
    return p;
}

static void *rw_reader(void *p)
{
    wait_flag();
    for (int64_t i = 0; i < 20; i++) {
        struct timespec ts = in_a_minute(CLOCK_MONOTONIC);
        int r = i % 3 == 0   ? pthread_rwlock_rdlock(&RW)
                : i % 3 == 1 ? (pthread_rwlock_tryrdlock(&RW) == 0 ? 0 : pthread_rwlock_rdlock(&RW))
                             : pthread_rwlock_clockrdlock(&RW, CLOCK_MONOTONIC, &ts);
        if (r)
            abort();
        gomap_get(M, &i);
        pthread_rwlock_unlock(&RW);
    }
    /* a writer after the readers: ordered after every read */
    struct timespec ts = in_a_minute(CLOCK_MONOTONIC);
    if (pthread_rwlock_clockwrlock(&RW, CLOCK_MONOTONIC, &ts))
        abort();
    gomap_clear(M);
    pthread_rwlock_unlock(&RW);
    return p;
}

static void rwlock_clean(void)
{
    M = make_map();
    spawn_run(rw_writer, rw_reader);
    /* a reader's reads, then the main thread's write after another
     * reader's unlock and a timed write lock */
    pthread_t t;
    pthread_create(&t, NULL, join_read, NULL);
    pthread_join(t, NULL);
    struct timespec ts = in_a_minute(CLOCK_REALTIME);
    if (pthread_rwlock_timedwrlock(&RW, &ts))
        abort();
    int64_t k = 1;
    gomap_set(M, &k, &k);
    pthread_rwlock_unlock(&RW);
}

/* ---- condition variables: producer and consumer ---- */

static pthread_cond_t CV = PTHREAD_COND_INITIALIZER;
static int ready;

static void *producer(void *p)
{
    for (int64_t i = 0; i < 10; i++)
        gomap_set(M, &i, &i);
    pthread_mutex_lock(&L1);
    ready = 1;
    pthread_cond_signal(&CV);
    pthread_mutex_unlock(&L1);
    return p;
}

static void *consumer_plain(void *p)
{
    pthread_mutex_lock(&L1);
    while (!ready) /* spurious wakeups */
        pthread_cond_wait(&CV, &L1);
    pthread_mutex_unlock(&L1);
    for (int64_t i = 0; i < 10; i++)
        gomap_get(M, &i);
    return p;
}

static void *consumer_timed(void *p)
{
    pthread_mutex_lock(&L1);
    while (!ready) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 1000000; /* 1 ms: timeouts happen, and are followed by a retry */
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&CV, &L1, &ts);
    }
    pthread_mutex_unlock(&L1);
    for (int64_t i = 0; i < 10; i++)
        gomap_get(M, &i);
    return p;
}

static void *consumer_clock(void *p)
{
    pthread_mutex_lock(&L1);
    while (!ready) {
        struct timespec ts = in_a_minute(CLOCK_MONOTONIC);
        pthread_cond_clockwait(&CV, &L1, CLOCK_MONOTONIC, &ts);
    }
    pthread_mutex_unlock(&L1);
    for (int64_t i = 0; i < 10; i++)
        gomap_delete(M, &i);
    return p;
}

static void cond_clean(void)
{
    void *(*consumers[])(void *) = {consumer_plain, consumer_timed, consumer_clock};
    for (int c = 0; c < 3; c++) {
        M = make_map();
        ready = 0;
        spawn_run(consumers[c], producer);
    }
}

/* The producer writes again after it signalled. */
static void *producer_late(void *p)
{
    pthread_mutex_lock(&L1);
    ready = 1;
    pthread_cond_signal(&CV);
    pthread_mutex_unlock(&L1);
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:cond_late_set */
    signal_flag();
    return p;
}

static void *consumer_of_late(void *p)
{
    pthread_mutex_lock(&L1);
    while (!ready)
        pthread_cond_wait(&CV, &L1);
    pthread_mutex_unlock(&L1);
    wait_flag();
    int64_t k = 1;
    gomap_get(M, &k); /* @site:cond_late_get */
    return p;
}

static void cond_race(void)
{
    M = make_map();
    spawn_run(consumer_of_late, producer_late);
}

static cnd_t CC;

static int c11_producer(void *p)
{
    int64_t k = 1;
    gomap_set(M, &k, &k);
    mtx_lock(&C1);
    ready = 1;
    cnd_signal(&CC);
    mtx_unlock(&C1);
    return p != NULL;
}

static int c11_consumer(void *p)
{
    mtx_lock(&C1);
    for (int n = 0; !ready; n++) {
        if (n % 2) {
            cnd_wait(&CC, &C1);
        } else {
            struct timespec ts;
            timespec_get(&ts, TIME_UTC);
            ts.tv_nsec += 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            cnd_timedwait(&CC, &C1, &ts);
        }
    }
    mtx_unlock(&C1);
    int64_t k = 1;
    gomap_delete(M, &k);
    return p != NULL;
}

static void cnd_clean(void)
{
    M = make_map();
    mtx_init(&C1, mtx_plain);
    cnd_init(&CC);
    thrd_t a, b;
    thrd_create(&a, c11_consumer, NULL);
    thrd_create(&b, c11_producer, NULL);
    thrd_join(a, NULL);
    thrd_join(b, NULL);
}

/* ---- semaphores ---- */


static void *sem_poster1(void *p)
{
    int64_t k = 1;
    gomap_set(M, &k, &k);
    sem_post(&S1);
    signal_flag();
    return p;
}

static gomap *M2;

static void *sem_poster2(void *p)
{
    int64_t k = 2;
    wait_flag(); /* after the first post: two posts, then one wait */
    gomap_set(M2, &k, &k); /* its own map: the posters are not ordered with each other */
    sem_post(&S1);
    signal_flag2();
    return p;
}

/* Two posts, then one wait: the wait is ordered after both posters (a
 * post merges into the semaphore's clock; a copy would keep the last
 * poster's only). */
static void sem_clean(void)
{
    M = make_map();
    M2 = make_map();
    sem_init(&S1, 0, 0);
    pthread_t a, b;
    pthread_create(&a, NULL, sem_poster1, NULL);
    pthread_create(&b, NULL, sem_poster2, NULL);
    wait_flag2(); /* both posts are in */
    struct timespec ts = in_a_minute(CLOCK_REALTIME);
    if (sem_timedwait(&S1, &ts))
        abort();
    int64_t k1 = 1, k2 = 2;
    gomap_delete(M, &k1);
    gomap_delete(M2, &k2);
    if (sem_trywait(&S1)) /* the second count */
        abort();
    sem_post(&S1);
    ts = in_a_minute(CLOCK_MONOTONIC);
    if (sem_clockwait(&S1, CLOCK_MONOTONIC, &ts))
        abort();
    sem_post(&S1);
    sem_wait(&S1);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    sem_destroy(&S1);
}

static void *sem_bad_a(void *p)
{
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:sem_set */
    sem_post(&S1);
    signal_flag();
    return p;
}

static void *sem_bad_b(void *p)
{
    int64_t k = 1;
    wait_flag();
    sem_wait(&S2); /* not the semaphore the writer posted */
    gomap_get(M, &k); /* @site:sem_get */
    return p;
}

static void sem_race(void)
{
    M = make_map();
    sem_init(&S1, 0, 0);
    sem_init(&S2, 0, 1);
    spawn_run(sem_bad_a, sem_bad_b);
}

/* ---- spinlocks ---- */

static pthread_spinlock_t SP1, SP2;

static void *spin_a(void *p)
{
    int64_t k = 1;
    pthread_spin_lock(&SP1);
    gomap_set(M, &k, &k); /* @site:spin_set */
    pthread_spin_unlock(&SP1);
    signal_flag();
    return p;
}

static void *spin_b_same(void *p)
{
    int64_t k = 1;
    wait_flag();
    while (pthread_spin_trylock(&SP1) != 0)
        sched_yield();
    gomap_get(M, &k);
    pthread_spin_unlock(&SP1);
    return p;
}

static void *spin_b_other(void *p)
{
    int64_t k = 1;
    wait_flag();
    pthread_spin_lock(&SP2);
    gomap_get(M, &k); /* @site:spin_get */
    pthread_spin_unlock(&SP2);
    return p;
}

static void spin_clean(void)
{
    M = make_map();
    pthread_spin_init(&SP1, PTHREAD_PROCESS_PRIVATE);
    spawn_run(spin_a, spin_b_same);
    pthread_spin_destroy(&SP1);
}

static void spin_race(void)
{
    M = make_map();
    pthread_spin_init(&SP1, PTHREAD_PROCESS_PRIVATE);
    pthread_spin_init(&SP2, PTHREAD_PROCESS_PRIVATE);
    spawn_run(spin_a, spin_b_other);
}

/* ---- barriers, round by round ---- */

static pthread_barrier_t BAR;

/* The map is taken in turns: A in even rounds, B in odd ones, each after
 * the other's work of the round before. */
static void *bar_a(void *p)
{
    for (int64_t round = 0; round < 4; round++) {
        if (round % 2 == 0) {
            gomap_get(M, &round);
            gomap_set(M, &round, &round);
        }
        pthread_barrier_wait(&BAR);
    }
    return p;
}

static void *bar_b(void *p)
{
    for (int64_t round = 0; round < 4; round++) {
        if (round % 2 == 1) {
            gomap_get(M, &round);
            gomap_set(M, &round, &round);
        }
        pthread_barrier_wait(&BAR);
    }
    return p;
}

static void barrier_clean(void)
{
    pthread_barrier_init(&BAR, NULL, 2); /* before the first map: recorded all the same */
    M = make_map();
    spawn_run(bar_a, bar_b);
    pthread_barrier_destroy(&BAR);
}

/* Work after leaving a round is not ordered with the other thread's work
 * after leaving the same round. */
static void *bar_early(void *p)
{
    int64_t k = 1;
    pthread_barrier_wait(&BAR);
    gomap_set(M, &k, &k); /* @site:bar_set */
    signal_flag();
    return p;
}

static void *bar_slow(void *p)
{
    int64_t k = 1;
    pthread_barrier_wait(&BAR);
    wait_flag();
    gomap_get(M, &k); /* @site:bar_get */
    return p;
}

static void barrier_race(void)
{
    pthread_barrier_init(&BAR, NULL, 2);
    M = make_map();
    spawn_run(bar_early, bar_slow);
}

/* ---- once ---- */

static pthread_once_t ONCE = PTHREAD_ONCE_INIT;
static once_flag CONCE = ONCE_FLAG_INIT;

static void init_map(void)
{
    M = make_map(); /* the first map: the engine wakes inside the init function */
    for (int64_t i = 0; i < 10; i++)
        gomap_set(M, &i, &i);
}

static void *once_user(void *p)
{
    pthread_once(&ONCE, init_map);
    for (int64_t i = 0; i < 10; i++)
        gomap_get(M, &i);
    return p;
}

static int call_once_user(void *p)
{
    call_once(&CONCE, init_map);
    for (int64_t i = 0; i < 10; i++)
        gomap_get(M, &i);
    return p != NULL;
}

static void once_clean(void)
{
    spawn_run(once_user, once_user);
    thrd_t a, b;
    thrd_create(&a, call_once_user, NULL);
    thrd_create(&b, call_once_user, NULL);
    thrd_join(a, NULL);
    thrd_join(b, NULL);
}

static void *once_then_write(void *p)
{
    pthread_once(&ONCE, init_map);
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:once_set */
    signal_flag();
    return p;
}

static void *once_then_read(void *p)
{
    wait_flag();
    pthread_once(&ONCE, init_map);
    int64_t k = 1;
    gomap_get(M, &k); /* @site:once_get */
    return p;
}

static void once_race(void) { spawn_run(once_then_write, once_then_read); }

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {
        {"s22", s22},
        {"known_read_write", known_read_write},
        {"known_write_read", known_write_read},
        {"detached", detached},
        {"iter_then_write", iter_then_write},
        {"write_then_iter", write_then_iter},
        {"two_locks", two_locks},
        {"after_unlock", after_unlock},
        {"relock_other_released", relock_other_released},
        {"rehold_clean", rehold_clean},
        {"own_between_clean", own_between_clean},
        {"own_acquire_held_clean", own_acquire_held_clean},
        {"own_acquire_released_clean", own_acquire_released_clean},
        {"own_post_race", own_post_race},
        {"one_mutex", one_mutex},
        {"joined", joined},
        {"c11_clean", c11_clean},
        {"c11_two_locks", c11_two_locks},
        {"annotated", annotated},
        {"early_thread_exit", early_thread_exit},
        {"forked", forked},
        {"rwlock_race", rwlock_race},
        {"rwlock_clean", rwlock_clean},
        {"cond_clean", cond_clean},
        {"cond_race", cond_race},
        {"cnd_clean", cnd_clean},
        {"sem_clean", sem_clean},
        {"sem_race", sem_race},
        {"spin_clean", spin_clean},
        {"spin_race", spin_race},
        {"barrier_clean", barrier_clean},
        {"barrier_race", barrier_race},
        {"once_clean", once_clean},
        {"once_race", once_race},
    };
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
