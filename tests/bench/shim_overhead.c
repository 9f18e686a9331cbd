/*
 * The workloads of issue 3's performance budget, to be run with and
 * without LD_PRELOAD=libmapguard.so (tests/bench/shim_overhead.sh does
 * both and prints the ratios):
 *
 *   mixed1k   one thread, mixed get/set/delete on a 1,000-key map
 *   mixed1m   the same on a 1,000,000-key map
 *   mutex2    two threads, each with its own mutex-protected map
 *   maps1m    a million small maps alive at once (peak RSS)
 *
 * and those of issue 12's (happens-before) budget:
 *
 *   shared1k  two threads, one 1,000-key map, every get or set under one
 *             mutex (compare_mutex_map.h, the same loop as bench-compare's)
 *   locks     no map at all: uncontended mutex lock/unlock, a mutex and
 *             condvar ping-pong between two threads, rwlock read and write
 *             locks, sem_post/sem_wait; what wrapped locks cost a program
 *             that never makes a map
 *   mutexes   two threads, each making a mutex for every operation: init,
 *             lock, gomap_set on its own map, unlock, destroy (objects
 *             with a mutex each, made and freed by the thousand); no
 *             budget: each round is an entry claimed and given back in
 *             the engine's table of sync objects
 *
 * and issue 13's (GLib):
 *
 *   ghash1k   one thread, mixed lookup/insert/remove on a 1,000-key
 *             GHashTable (g_direct_hash), the mixed1k loop in GLib
 *
 * usage: shim_overhead WORKLOAD [scale]
 * prints: WORKLOAD <tab> ns per op <tab> peak RSS in KiB
 * (locks: the whole workload's time in ms instead of ns per op, then one
 * more column per phase: ns per mutex lock+unlock, per ping-pong round
 * trip, per rwlock rdlock+unlock+wrlock+unlock, per sem_post+sem_wait)
 */
#include <glib.h>
#include <gomap.h>

#include "compare_mutex_map.h"
#include "mixed_loop.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static const gomap_type I64 = {.key_size = 8, .val_size = 8};
static volatile uint64_t sink;

static void mixed(gomap *m, uint64_t n, uint64_t ops, uint64_t seed)
{
    uint64_t s = seed | 1;
    sink += mixed_run(&(const struct mixed_api){gomap_get, gomap_set, gomap_delete}, m, n, ops, &s);
}


static double run_mixed(uint64_t n, uint64_t ops)
{
    gomap *m = mixed_filled(n);
    double t0 = bench_now_ns();
    mixed(m, n, ops, 0x9e3779b97f4a7c15ull);
    double t = bench_now_ns() - t0;
    gomap_free(m);
    return t / (double)ops;
}

/* mixed1k's loop on a GHashTable: keys 1..2n (0 is NULL to GLib). */
static double run_ghash(uint64_t n, uint64_t ops)
{
    GHashTable *t = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (uint64_t i = 0; i < n; i++)
        g_hash_table_insert(t, GSIZE_TO_POINTER(i * 2 + 1), GSIZE_TO_POINTER(i));
    uint64_t s = 0x9e3779b97f4a7c15ull, acc = 0;
    double t0 = bench_now_ns();
    for (uint64_t i = 0; i < ops; i++) {
        uint64_t r = bench_next(&s);
        gpointer k = GSIZE_TO_POINTER(r % (2 * n) + 1);
        switch ((r >> 40) & 3) {
        case 0:
        case 1:
            acc += g_hash_table_lookup(t, k) != NULL;
            break;
        case 2:
            g_hash_table_insert(t, k, k);
            break;
        default:
            acc += g_hash_table_remove(t, k);
            break;
        }
    }
    double el = bench_now_ns() - t0;
    sink += acc;
    g_hash_table_destroy(t);
    return el / (double)ops;
}

/* Each worker on a cache line of its own: "its own mutex and map" means
 * nothing shared. Side by side on the stack, the two mutexes shared a line,
 * and every lock and unlock pulled it from the other core: more than half
 * of the plain loop's time was that line moving (perf: 60% in the lock and
 * unlock), and it hid what the row is about. */
struct worker {
    _Alignas(64) pthread_mutex_t mu;
    gomap *m;
    uint64_t ops;
};

static void *locked_worker(void *p)
{
    struct worker *w = p;
    uint64_t s = (uint64_t)(uintptr_t)p | 1, acc = 0;
    for (uint64_t i = 0; i < w->ops; i++) {
        uint64_t r = bench_next(&s);
        int64_t k = (int64_t)(r % 2000);
        pthread_mutex_lock(&w->mu);
        switch ((r >> 40) & 3) {
        case 0:
        case 1:
            acc += gomap_get(w->m, &k) != NULL;
            break;
        case 2:
            gomap_set(w->m, &k, &k);
            break;
        default:
            acc += gomap_delete(w->m, &k);
            break;
        }
        pthread_mutex_unlock(&w->mu);
    }
    sink += acc;
    return NULL;
}

/* Two workers, each with its own mutex and 1,000-key map, started together;
 * per op of one thread: the wall time of the pair. */
static double run_pair(void *(*worker)(void *), uint64_t ops)
{
    struct worker w[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        pthread_mutex_init(&w[i].mu, NULL);
        w[i].m = mixed_filled(1000);
        w[i].ops = ops;
    }
    double t0 = bench_now_ns();
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, worker, &w[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    double t = bench_now_ns() - t0;
    for (int i = 0; i < 2; i++)
        gomap_free(w[i].m);
    return t / (double)ops;
}

static void *mutexes_worker(void *p)
{
    struct worker *w = p;
    for (uint64_t i = 0; i < w->ops; i++) {
        pthread_mutex_t mu;
        int64_t k = (int64_t)(i % 1000);
        pthread_mutex_init(&mu, NULL);
        pthread_mutex_lock(&mu);
        gomap_set(w->m, &k, &k);
        pthread_mutex_unlock(&mu);
        pthread_mutex_destroy(&mu);
    }
    return NULL;
}

static double run_maps(uint64_t count)
{
    gomap **v = malloc(count * sizeof *v);
    double t0 = bench_now_ns();
    for (uint64_t i = 0; i < count; i++) {
        v[i] = gomap_new(&I64, 0);
        for (int64_t k = 0; k < 4; k++)
            gomap_set(v[i], &k, &k);
    }
    double t = bench_now_ns() - t0;
    for (uint64_t i = 0; i < count; i++)
        gomap_free(v[i]);
    free(v);
    return t / (double)count;
}

static double run_shared(uint64_t keys, uint64_t ops)
{
    uint64_t check = 0;
    double t = (double)cmp_mutex_map_run(keys, ops, &check);
    sink += check;
    return t / (double)ops; /* per op of one thread: wall time of the pair */
}

/* The ping-pong of the locks workload: the turn counter passes between
 * the two threads, each waiting on the condvar until it is its turn. */
struct pingpong {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t turn, rounds;
};

static void *pong(void *p)
{
    struct pingpong *pp = p;
    for (uint64_t i = 0; i < pp->rounds; i++) {
        pthread_mutex_lock(&pp->mu);
        while (pp->turn != 2 * i + 1)
            pthread_cond_wait(&pp->cv, &pp->mu);
        pp->turn++;
        pthread_cond_signal(&pp->cv);
        pthread_mutex_unlock(&pp->mu);
    }
    return NULL;
}

static double ping(uint64_t rounds)
{
    struct pingpong pp = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, rounds};
    pthread_t th;
    double t0 = bench_now_ns();
    if (pthread_create(&th, NULL, pong, &pp))
        abort();
    for (uint64_t i = 0; i < rounds; i++) {
        pthread_mutex_lock(&pp.mu);
        pp.turn++;
        pthread_cond_signal(&pp.cv);
        while (pp.turn != 2 * i + 2)
            pthread_cond_wait(&pp.cv, &pp.mu);
        pthread_mutex_unlock(&pp.mu);
    }
    pthread_join(th, NULL);
    double t = bench_now_ns() - t0;
    pthread_mutex_destroy(&pp.mu);
    pthread_cond_destroy(&pp.cv);
    return t;
}

/* Returns the total in ms; phase[] gets each phase's ns per op. */
static double run_locks(double scale, double phase[4])
{
    uint64_t nmu = (uint64_t)(1e7 * scale), nrt = (uint64_t)(5e3 * scale);
    uint64_t nrw = (uint64_t)(1e6 * scale), nsem = (uint64_t)(6e6 * scale);
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
    static volatile uint64_t shared;
    sem_t sem;
    double t[4], t0;

    t0 = bench_now_ns();
    for (uint64_t i = 0; i < nmu; i++) {
        pthread_mutex_lock(&mu);
        shared++;
        pthread_mutex_unlock(&mu);
    }
    t[0] = bench_now_ns() - t0;

    t[1] = ping(nrt);

    t0 = bench_now_ns();
    for (uint64_t i = 0; i < nrw; i++) {
        pthread_rwlock_rdlock(&rw);
        sink += shared;
        pthread_rwlock_unlock(&rw);
        pthread_rwlock_wrlock(&rw);
        shared++;
        pthread_rwlock_unlock(&rw);
    }
    t[2] = bench_now_ns() - t0;

    if (sem_init(&sem, 0, 0))
        abort();
    t0 = bench_now_ns();
    for (uint64_t i = 0; i < nsem; i++) {
        sem_post(&sem);
        while (sem_wait(&sem))
            ;
    }
    t[3] = bench_now_ns() - t0;
    sem_destroy(&sem);

    phase[0] = t[0] / (double)nmu;
    phase[1] = t[1] / (double)nrt;
    phase[2] = t[2] / (double)nrw;
    phase[3] = t[3] / (double)nsem;
    return (t[0] + t[1] + t[2] + t[3]) / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s mixed1k|mixed1m|mutex2|maps1m|shared1k|locks|mutexes|ghash1k [scale]\n", argv[0]);
        return 2;
    }
    double scale = argc > 2 ? atof(argv[2]) : 1.0;
    const char *w = argv[1];
    double ns, phase[4] = {0};
    int locks = 0;
    if (!strcmp(w, "mixed1k"))
        ns = run_mixed(1000, (uint64_t)(20e6 * scale));
    else if (!strcmp(w, "mixed1m"))
        ns = run_mixed(1000000, (uint64_t)(10e6 * scale));
    else if (!strcmp(w, "mutex2"))
        ns = run_pair(locked_worker, (uint64_t)(5e6 * scale));
    else if (!strcmp(w, "maps1m"))
        ns = run_maps((uint64_t)(1e6 * scale));
    else if (!strcmp(w, "shared1k"))
        ns = run_shared(1000, (uint64_t)(2e6 * scale));
    else if (!strcmp(w, "mutexes"))
        ns = run_pair(mutexes_worker, (uint64_t)(1e6 * scale));
    else if (!strcmp(w, "ghash1k"))
        ns = run_ghash(1000, (uint64_t)(20e6 * scale));
    else if (!strcmp(w, "locks")) {
        ns = run_locks(scale, phase);
        locks = 1;
    } else {
        fprintf(stderr, "unknown workload %s\n", w);
        return 2;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%s\t%.2f\t%ld", w, ns, ru.ru_maxrss);
    if (locks)
        printf("\t%.2f\t%.2f\t%.2f\t%.2f", phase[0], phase[1], phase[2], phase[3]);
    printf("\n");
    return 0;
}
