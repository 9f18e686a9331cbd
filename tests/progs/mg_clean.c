/*
 * Correct programs the shim must stay silent about: one scenario per run,
 * named by argv[1]. Each exits 0 and must leave no report at all.
 */
#include <gomap.h>
#include "scenario.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <threads.h>
#include <unistd.h>

static const gomap_type I64 = {.key_size = 8, .val_size = 8};
static gomap *M;

static gomap *filled(int n)
{
    gomap *m = gomap_new(&I64, 0);
    for (int64_t i = 0; i < n; i++)
        gomap_set(m, &i, &i);
    return m;
}

/* ---- threads with proper locking ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *mutex_worker(void *arg)
{
    int64_t base = (int64_t)(intptr_t)arg * 1000;
    for (int64_t i = 0; i < 2000; i++) {
        int64_t k = base + i % 500;
        pthread_mutex_lock(&mu);
        if (i % 3 == 0)
            gomap_delete(M, &k);
        else
            gomap_set(M, &k, &i);
        gomap_get(M, &k);
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

static void run_threads(void *(*fn)(void *), int n)
{
    pthread_t t[64];
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, fn, (void *)(intptr_t)i);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
}

static void with_mutex(void)
{
    M = filled(100);
    run_threads(mutex_worker, 4);
    gomap_free(M);
}

static void with_64_threads(void)
{
    M = filled(100);
    run_threads(mutex_worker, 64);
    gomap_free(M);
}

/* Readers overlap under a read lock; writers take the write lock. */
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static sem_t all_in;

static void *rw_reader(void *arg)
{
    (void)arg;
    pthread_rwlock_rdlock(&rw);
    /* every reader holds the lock at once: their calls overlap */
    sem_post(&all_in);
    for (int64_t i = 0; i < 5000; i++) {
        int64_t v;
        gomap_lookup(M, &(int64_t){i % 100}, &v);
        gomap_len(M);
        gomap_iter it;
        if (i % 500 == 0) {
            gomap_iter_init(&it, M);
            while (gomap_iter_next(&it, NULL, NULL))
                ;
        }
    }
    pthread_rwlock_unlock(&rw);
    pthread_rwlock_wrlock(&rw);
    gomap_set(M, &(int64_t){1}, &(int64_t){2});
    pthread_rwlock_unlock(&rw);
    return NULL;
}

static void with_rwlock(void)
{
    sem_init(&all_in, 0, 0);
    M = filled(100);
    run_threads(rw_reader, 4);
    gomap_free(M);
}

/* C11 threads and mtx_t. */
static mtx_t cmu;

static int c11_worker(void *arg)
{
    int64_t base = (int64_t)(intptr_t)arg * 1000;
    for (int64_t i = 0; i < 2000; i++) {
        int64_t k = base + i % 300;
        mtx_lock(&cmu);
        gomap_set(M, &k, &i);
        gomap_delete(M, &(int64_t){k - 1});
        mtx_unlock(&cmu);
    }
    return 0;
}

static void with_c11(void)
{
    mtx_init(&cmu, mtx_plain);
    M = filled(10);
    thrd_t t[4];
    for (int i = 0; i < 4; i++)
        thrd_create(&t[i], c11_worker, (void *)(intptr_t)i);
    for (int i = 0; i < 4; i++)
        thrd_join(t[i], NULL);
    gomap_free(M);
    mtx_destroy(&cmu);
}

/* The map changes hands: made and filled before pthread_create, used by
 * the thread, read back after pthread_join. */
static void *handoff_worker(void *arg)
{
    (void)arg;
    for (int64_t i = 0; i < 1000; i++)
        gomap_set(M, &i, &i);
    return NULL;
}

static void handoff(void)
{
    M = filled(50);
    for (int round = 0; round < 10; round++) {
        pthread_t t;
        pthread_create(&t, NULL, handoff_worker, NULL);
        pthread_join(t, NULL);
        gomap_clear(M);
        gomap_set(M, &(int64_t){round}, &(int64_t){round});
    }
    gomap_free(M);
}

/* Both sides of a fork use their own copy of the map. */
static void with_fork(void)
{
    M = filled(100);
    pid_t pid = fork();
    if (pid == 0) {
        for (int64_t i = 0; i < 1000; i++)
            gomap_set(M, &i, &i);
        gomap_free(M);
        _exit(0);
    }
    for (int64_t i = 0; i < 1000; i++)
        gomap_delete(M, &i);
    int st;
    waitpid(pid, &st, 0);
    gomap_free(M);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        exit(3);
}

/* ---- iteration done right ---- */

static void iter_delete(void)
{
    gomap *m = filled(100);
    gomap_iter it;
    const void *k;
    gomap_iter_init(&it, m);
    while (gomap_iter_next(&it, &k, NULL)) {
        int64_t v;
        memcpy(&v, k, 8);
        if (v % 2)
            gomap_iter_delete(&it);
    }
    if (gomap_len(m) != 50)
        exit(3);
    gomap_free(m);
}

static void value_updates(void)
{
    gomap *m = filled(100);
    gomap_iter it;
    const void *k;
    void *v;
    gomap_iter_init(&it, m);
    while (gomap_iter_next(&it, &k, &v)) {
        int64_t nv = 7;
        gomap_set(m, k, &nv);        /* existing key: not structural */
        *(int64_t *)gomap_assign(m, k) += 1;
    }
    gomap_free(m);
}

static void break_then_modify(void)
{
    gomap *m = filled(100);
    gomap_iter it;
    int n = 0;
    gomap_iter_init(&it, m);
    while (gomap_iter_next(&it, NULL, NULL))
        if (++n == 3)
            break;
    for (int64_t i = 1000; i < 1100; i++)
        gomap_set(m, &i, &i);
    gomap_clear(m);
    /* a fresh iteration after the changes is fine too */
    gomap_iter_init(&it, m);
    while (gomap_iter_next(&it, NULL, NULL))
        ;
    gomap_free(m);
}

/* An iteration that has ended (its next returned false, or it was made on
 * an empty map) is over: the library never reads the map through it
 * again, so asking it once more after a write is no modification during
 * iteration. */
static void ended_then_write(void)
{
    gomap *m = filled(10);
    gomap_iter it;
    gomap_iter_init(&it, m);
    while (gomap_iter_next(&it, NULL, NULL))
        ;
    int64_t k = 500;
    gomap_set(m, &k, &k);
    if (gomap_iter_next(&it, NULL, NULL))
        abort();
    gomap *e = filled(0);
    gomap_iter_init(&it, e);
    gomap_set(e, &k, &k);
    gomap_delete(e, &k);
    if (gomap_iter_next(&it, NULL, NULL))
        abort();
    gomap_free(e);
    gomap_free(m);
}

static void nil_reads(void)
{
    gomap *m = NULL;
    int64_t k = 1, v = 9;
    if (gomap_get(m, &k) || gomap_lookup(m, &k, &v) || gomap_len(m) || gomap_delete(m, &k))
        exit(3);
    gomap_clear(m);
    gomap_iter it;
    gomap_iter_init(&it, m);
    if (gomap_iter_next(&it, NULL, NULL) || gomap_iter_delete(&it))
        exit(3);
    gomap_free(m);
}

/* Key helpers, strerror, and maps of string and float keys used right. */
static void helpers(void)
{
    gomap_type st = {.key_size = sizeof(char *), .val_size = 8, .hash = gomap_hash_cstr, .equal = gomap_equal_cstr};
    gomap *m = gomap_new(&st, 0);
    const char *names[] = {"a", "b", "c"};
    for (int64_t i = 0; i < 3; i++)
        gomap_set(m, &names[i], &i);
    gomap_free(m);
    gomap_type ft = {.key_size = sizeof(double), .val_size = 8, .hash = gomap_hash_f64, .equal = gomap_equal_f64};
    m = gomap_new(&ft, 0);
    for (double d = 0; d < 10; d += 0.5)
        gomap_set(m, &d, &(int64_t){1});
    gomap_free(m);
    if (!gomap_strerror(GOMAP_ENIL) || gomap_hash_bytes("x", 1, 1) == gomap_hash_bytes("y", 1, 1))
        exit(3);
}

/* Many short-lived maps, some freed long after others were made. */
static void churn(void)
{
    gomap *keep[64] = {0};
    for (int i = 0; i < 20000; i++) {
        gomap *m = gomap_new(&I64, (size_t)(i % 10));
        gomap_set(m, &(int64_t){i}, &(int64_t){i});
        int slot = i % 64;
        if (keep[slot])
            gomap_free(keep[slot]);
        keep[slot] = m;
    }
    for (int i = 0; i < 64; i++)
        gomap_free(keep[i]);
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {
        {"mutex", with_mutex},         {"rwlock", with_rwlock},
        {"c11", with_c11},             {"fork", with_fork},
        {"threads64", with_64_threads}, {"handoff", handoff},
        {"iter_delete", iter_delete},  {"value_updates", value_updates},
        {"break_then_modify", break_then_modify}, {"nil_reads", nil_reads},
        {"ended_then_write", ended_then_write},
        {"helpers", helpers},          {"churn", churn},
    };
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
