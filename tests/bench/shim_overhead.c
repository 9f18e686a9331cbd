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
 * usage: shim_overhead WORKLOAD [scale]
 * prints: WORKLOAD <tab> ns per op <tab> peak RSS in KiB
 */
#include <gomap.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static const gomap_type I64 = {.key_size = 8, .val_size = 8};
static volatile uint64_t sink;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Half gets, a quarter sets, a quarter deletes, over twice the keys the
 * map holds, so the size stays near n. */
static void mixed(gomap *m, uint64_t n, uint64_t ops, uint64_t seed)
{
    uint64_t s = seed | 1, acc = 0;
    for (uint64_t i = 0; i < ops; i++) {
        uint64_t r = next(&s);
        int64_t k = (int64_t)(r % (2 * n));
        switch ((r >> 40) & 3) {
        case 0:
        case 1:
            acc += gomap_get(m, &k) != NULL;
            break;
        case 2:
            gomap_set(m, &k, &k);
            break;
        default:
            acc += gomap_delete(m, &k);
            break;
        }
    }
    sink += acc;
}

static gomap *filled(uint64_t n)
{
    gomap *m = gomap_new(&I64, 0);
    for (int64_t i = 0; i < (int64_t)n; i++)
        gomap_set(m, &(int64_t){i * 2}, &i);
    return m;
}

static double run_mixed(uint64_t n, uint64_t ops)
{
    gomap *m = filled(n);
    double t0 = now_ns();
    mixed(m, n, ops, 0x9e3779b97f4a7c15ull);
    double t = now_ns() - t0;
    gomap_free(m);
    return t / (double)ops;
}

struct worker {
    pthread_mutex_t mu;
    gomap *m;
    uint64_t ops;
};

static void *locked_worker(void *p)
{
    struct worker *w = p;
    uint64_t s = (uint64_t)(uintptr_t)p | 1, acc = 0;
    for (uint64_t i = 0; i < w->ops; i++) {
        uint64_t r = next(&s);
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

static double run_mutex2(uint64_t ops)
{
    struct worker w[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        pthread_mutex_init(&w[i].mu, NULL);
        w[i].m = filled(1000);
        w[i].ops = ops;
    }
    double t0 = now_ns();
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, locked_worker, &w[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    double t = now_ns() - t0;
    for (int i = 0; i < 2; i++)
        gomap_free(w[i].m);
    return t / (double)ops; /* per op of one thread: wall time of the pair */
}

static double run_maps(uint64_t count)
{
    gomap **v = malloc(count * sizeof *v);
    double t0 = now_ns();
    for (uint64_t i = 0; i < count; i++) {
        v[i] = gomap_new(&I64, 0);
        for (int64_t k = 0; k < 4; k++)
            gomap_set(v[i], &k, &k);
    }
    double t = now_ns() - t0;
    for (uint64_t i = 0; i < count; i++)
        gomap_free(v[i]);
    free(v);
    return t / (double)count;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s mixed1k|mixed1m|mutex2|maps1m [scale]\n", argv[0]);
        return 2;
    }
    double scale = argc > 2 ? atof(argv[2]) : 1.0;
    const char *w = argv[1];
    double ns;
    if (!strcmp(w, "mixed1k"))
        ns = run_mixed(1000, (uint64_t)(20e6 * scale));
    else if (!strcmp(w, "mixed1m"))
        ns = run_mixed(1000000, (uint64_t)(10e6 * scale));
    else if (!strcmp(w, "mutex2"))
        ns = run_mutex2((uint64_t)(5e6 * scale));
    else if (!strcmp(w, "maps1m"))
        ns = run_maps((uint64_t)(1e6 * scale));
    else {
        fprintf(stderr, "unknown workload %s\n", w);
        return 2;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%s\t%.2f\t%ld\n", w, ns, ru.ru_maxrss);
    return 0;
}
