/*
 * shard_bench: the seed document's §4.1 table rebuilt in C. Three ways to
 * share one map between threads:
 *
 *   mutex    one gomap under one pthread_mutex (the document's map+Mutex)
 *   rwlock   one gomap under one pthread_rwlock (map+RWMutex, §4.2)
 *   shard    gomap_shard, 32 gomaps each under its own rwlock (chapter 1's
 *            sharded map; stands where the document measured sync.Map)
 *
 * Workload, as the document describes its own: 10,000 int64 keys, prefilled.
 * Each thread runs a fixed number of operations; a read copies a random
 * key's value out under the read lock (gomap_lookup / gomap_shard_get), a
 * write stores a random key (gomap_set / gomap_shard_set; all keys exist, so
 * the map size stays 10,000). Mixes: 90% reads / 10% writes, and 50/50.
 * Threads: 2, 4 and 16 by default, after 1 as the uncontended baseline.
 *
 * ns/op is wall time / total operations of all threads (throughput, as Go's
 * b.RunParallel reports it), thread creation excluded: every thread waits on
 * a barrier; the wall time runs from the first thread's start after it to
 * the last thread's end. Each (way, mix, threads) is
 * measured --reps times (default 5), the three ways interleaved in each
 * repetition so machine noise hits them alike; the median is reported.
 *
 * Output: TSV on stdout, a header line then
 *   impl  read_pct  threads  ns_per_op_median  ns_per_op_min  ns_per_op_max  reps  ops
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gomap.h"
#include "gomap_shard.h"

#define NKEYS 10000
#define MAX_THREADS 256
#define MAX_REPS 101

enum impl { IMPL_MUTEX, IMPL_RWLOCK, IMPL_SHARD, NIMPL };
static const char *const impl_name[NIMPL] = {"mutex", "rwlock", "shard"};

typedef struct shared {
    enum impl impl;
    gomap *m;                 /* mutex, rwlock */
    pthread_mutex_t mu;
    pthread_rwlock_t rw;
    gomap_shard *s;           /* shard */
    unsigned read_pct;
    long ops;                 /* per thread */
    pthread_barrier_t start;
} shared;

typedef struct worker {
    shared *sh;
    uint64_t rng;
    uint64_t sum;             /* keeps the reads observable */
    int failed;
    double t_start, t_end;    /* this thread's own clock readings */
} worker;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void *work(void *arg)
{
    worker *w = arg;
    shared *sh = w->sh;
    pthread_barrier_wait(&sh->start);
    w->t_start = now_ns();
    for (long i = 0; i < sh->ops; i++) {
        uint64_t r = next_rand(&w->rng);
        uint64_t k = (r >> 32) % NKEYS, v = r;
        bool read = (r & 0xffff) % 100 < sh->read_pct;
        switch (sh->impl) {
        case IMPL_MUTEX:
            pthread_mutex_lock(&sh->mu);
            if (read)
                w->failed |= !gomap_lookup(sh->m, &k, &v);
            else
                w->failed |= gomap_set(sh->m, &k, &v) != GOMAP_OK;
            pthread_mutex_unlock(&sh->mu);
            break;
        case IMPL_RWLOCK:
            if (read) {
                pthread_rwlock_rdlock(&sh->rw);
                w->failed |= !gomap_lookup(sh->m, &k, &v);
                pthread_rwlock_unlock(&sh->rw);
            } else {
                pthread_rwlock_wrlock(&sh->rw);
                w->failed |= gomap_set(sh->m, &k, &v) != GOMAP_OK;
                pthread_rwlock_unlock(&sh->rw);
            }
            break;
        default:
            if (read)
                w->failed |= gomap_shard_get(sh->s, &k, &v) != 1;
            else
                w->failed |= gomap_shard_set(sh->s, &k, &v) != GOMAP_OK;
            break;
        }
        w->sum += v;
    }
    w->t_end = now_ns();
    return NULL;
}

static volatile uint64_t sink;

/* One measurement on a freshly built map: ns per operation. */
static double measure(enum impl impl, unsigned read_pct, int threads, long total_ops)
{
    static worker ws[MAX_THREADS];
    shared sh;
    memset(&sh, 0, sizeof sh);
    sh.impl = impl;
    sh.read_pct = read_pct;
    sh.ops = total_ops / threads;
    gomap_type t = {.key_size = 8, .val_size = 8};
    if (impl == IMPL_SHARD) {
        sh.s = gomap_shard_new(&t, 0, NKEYS);
        if (!sh.s) {
            perror("gomap_shard_new");
            exit(1);
        }
    } else {
        sh.m = gomap_new(&t, NKEYS);
        if (!sh.m) {
            perror("gomap_new");
            exit(1);
        }
        pthread_mutex_init(&sh.mu, NULL);
        pthread_rwlock_init(&sh.rw, NULL);
    }
    for (uint64_t k = 0; k < NKEYS; k++) {
        int rc = sh.s ? gomap_shard_set(sh.s, &k, &k) : gomap_set(sh.m, &k, &k);
        if (rc != GOMAP_OK) {
            fprintf(stderr, "shard_bench: prefill failed: %s\n", gomap_strerror(rc));
            exit(1);
        }
    }
    pthread_barrier_init(&sh.start, NULL, (unsigned)threads);
    pthread_t th[MAX_THREADS];
    for (int i = 0; i < threads; i++) {
        ws[i] = (worker){.sh = &sh, .rng = (uint64_t)i * 0x1234567 + 1};
        int err = pthread_create(&th[i], NULL, work, &ws[i]);
        if (err) {
            fprintf(stderr, "shard_bench: pthread_create: %s\n", strerror(err));
            exit(1);
        }
    }
    /* From the first thread's start to the last one's end, by the workers'
     * own clocks: a main thread taking the time after the barrier can be
     * descheduled on a busy machine and start its clock late. */
    double t0 = 0, t1 = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        if (i == 0 || ws[i].t_start < t0)
            t0 = ws[i].t_start;
        if (i == 0 || ws[i].t_end > t1)
            t1 = ws[i].t_end;
    }
    for (int i = 0; i < threads; i++) {
        if (ws[i].failed) {
            fprintf(stderr, "shard_bench: %s: a map call failed\n", impl_name[impl]);
            exit(1);
        }
        sink += ws[i].sum;
    }
    pthread_barrier_destroy(&sh.start);
    if (sh.s) {
        gomap_shard_free(sh.s);
    } else {
        gomap_free(sh.m);
        pthread_mutex_destroy(&sh.mu);
        pthread_rwlock_destroy(&sh.rw);
    }
    return (t1 - t0) / (double)(sh.ops * threads);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void usage(void)
{
    fprintf(stderr, "usage: shard_bench [--reps N] [--ops N] [--threads 1,2,4,16] [--quick]\n"
                    "  --ops N   operations per measurement, all threads together "
                    "(default 2000000)\n"
                    "  --quick   3 reps of 100000 operations: a smoke test\n");
    exit(2);
}

static long parse_long(const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) {
        fprintf(stderr, "shard_bench: bad number \"%s\" (%ld..%ld)\n", s, lo, hi);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    int reps = 5;
    long ops = 2000000;
    int threads[16] = {1, 2, 4, 16}, nthreads = 4;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            reps = (int)parse_long(argv[++i], 1, MAX_REPS);
        } else if (strcmp(argv[i], "--ops") == 0 && i + 1 < argc) {
            ops = parse_long(argv[++i], 1000, 1000000000L);
        } else if (strcmp(argv[i], "--quick") == 0) {
            reps = 3;
            ops = 100000;
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            nthreads = 0;
            for (char *tok = strtok(argv[++i], ","); tok && nthreads < 16; tok = strtok(NULL, ","))
                threads[nthreads++] = (int)parse_long(tok, 1, MAX_THREADS);
        } else {
            usage();
        }
    }

    static const unsigned mixes[] = {90, 50};
    printf("impl\tread_pct\tthreads\tns_per_op_median\tns_per_op_min\tns_per_op_max\treps\tops\n");
    for (size_t mi = 0; mi < sizeof mixes / sizeof *mixes; mi++) {
        for (int ti = 0; ti < nthreads; ti++) {
            double v[NIMPL][MAX_REPS];
            measure(IMPL_SHARD, mixes[mi], threads[ti], ops / 10); /* warm-up */
            for (int r = 0; r < reps; r++)
                for (int im = 0; im < NIMPL; im++)
                    v[im][r] = measure((enum impl)im, mixes[mi], threads[ti], ops);
            for (int im = 0; im < NIMPL; im++) {
                qsort(v[im], (size_t)reps, sizeof(double), cmp_double);
                printf("%s\t%u\t%d\t%.1f\t%.1f\t%.1f\t%d\t%ld\n", impl_name[im], mixes[mi],
                       threads[ti], v[im][reps / 2], v[im][0], v[im][reps - 1], reps, ops);
                fprintf(stderr, "%-6s %u/%u %2d threads: %7.1f ns/op (min %.1f, max %.1f)\n",
                        impl_name[im], mixes[mi], 100 - mixes[mi], threads[ti], v[im][reps / 2],
                        v[im][0], v[im][reps - 1]);
            }
            fflush(stdout);
        }
    }
    return 0;
}
