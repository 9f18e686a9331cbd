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
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

static gomap *M;
static atomic_int flag;
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

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {
        {"s22", s22},
        {"detached", detached},
        {"two_locks", two_locks},
        {"after_unlock", after_unlock},
        {"one_mutex", one_mutex},
        {"joined", joined},
        {"c11_clean", c11_clean},
        {"c11_two_locks", c11_two_locks},
        {"annotated", annotated},
        {"early_thread_exit", early_thread_exit},
        {"forked", forked},
    };
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
