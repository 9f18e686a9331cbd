/*
 * The gomap wrappers' own cost, measured inside one process: shim_overhead's
 * mixed loop (half gets, a quarter sets, a quarter deletes) timed in
 * alternating chunks through the interposed functions (the shim's
 * wrappers, when LD_PRELOAD holds libmapguard.so) and through libgomap's
 * own, found with dlsym on libgomap's handle, on the same map.
 *
 * Why: shim_overhead.sh compares two processes, and on a shared VM the
 * machine's speed moves between them (plain mixed1m has measured 51 to 77
 * ns within an hour). Chunks of a fifth of a second, alternating, see the
 * same machine. What this does not measure is anything the shim costs
 * outside the map calls; for mixed1m there is nothing else (one thread, no
 * locks), which is why it is the workload here.
 *
 * usage: LD_PRELOAD=build/lib/libmapguard.so wrapper_ab [keys] [rounds] [threaded]
 *   keys      entries in the map (default 1000000, as mixed1m)
 *   rounds    pairs of chunks of 200,000 ops (default 30)
 *   threaded  1: start and join a thread first, so that the process has
 *             had a second thread and the wrappers take their fast path,
 *             not the single-threaded one (shim/detect.h); default 0
 * prints: direct ns/op, wrapped ns/op, their ratio. Without the shim both
 * sides call libgomap and the ratio is about 1.
 */
#include "mixed_loop.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile uint64_t sink;

/* noinline: both sides run this one copy of the loop's machine code */
static __attribute__((noinline)) uint64_t mixed(const struct mixed_api *a, gomap *m, uint64_t n, uint64_t ops,
                                                uint64_t *s)
{
    return mixed_run(a, m, n, ops, s);
}

static void *idle(void *p) { return p; }

static uint64_t arg(const char *s, uint64_t dflt, uint64_t max)
{
    if (!s)
        return dflt;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v == 0 || v > max) {
        fprintf(stderr, "wrapper_ab: '%s' is not a number from 1 to %llu\n", s, (unsigned long long)max);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc > 4 || (argc == 4 && strcmp(argv[3], "0") != 0 && strcmp(argv[3], "1") != 0)) {
        fprintf(stderr, "usage: %s [keys] [rounds] [threaded: 0 or 1]\n", argv[0]);
        return 2;
    }
    uint64_t n = arg(argc > 1 ? argv[1] : NULL, 1000000, 100000000);
    uint64_t rounds = arg(argc > 2 ? argv[2] : NULL, 30, 100000);
    if (argc == 4 && argv[3][0] == '1') {
        pthread_t t;
        if (pthread_create(&t, NULL, idle, NULL) != 0 || pthread_join(t, NULL) != 0) {
            fprintf(stderr, "wrapper_ab: cannot start a thread\n");
            return 1;
        }
    }
    const uint64_t chunk = 200000;

    void *lib = dlopen("libgomap.so", RTLD_NOLOAD | RTLD_LAZY);
    if (!lib) {
        fprintf(stderr, "wrapper_ab: libgomap.so is not loaded: %s\n", dlerror());
        return 1;
    }
    const struct mixed_api direct = {
        (void *(*)(const gomap *, const void *))dlsym(lib, "gomap_get"),
        (int (*)(gomap *, const void *, const void *))dlsym(lib, "gomap_set"),
        (bool (*)(gomap *, const void *))dlsym(lib, "gomap_delete"),
    };
    if (!direct.get || !direct.set || !direct.del) {
        fprintf(stderr, "wrapper_ab: libgomap.so lacks gomap_get, gomap_set or gomap_delete\n");
        return 1;
    }
    const struct mixed_api wrapped = {gomap_get, gomap_set, gomap_delete};
    const struct mixed_api *side[2] = {&direct, &wrapped};

    /* made through the wrapper, so the shim follows it */
    gomap *m = mixed_filled(n);
    uint64_t s = 0x9e3779b97f4a7c15ull;
    double ns[2] = {0, 0};
    /* each side goes first in every other round */
    for (uint64_t r = 0; r < rounds; r++)
        for (int j = 0; j < 2; j++) {
            int k = (int)((r + (uint64_t)j) % 2);
            double t0 = bench_now_ns();
            sink += mixed(side[k], m, n, chunk, &s);
            ns[k] += bench_now_ns() - t0;
        }
    gomap_free(m);
    double ops = (double)(chunk * rounds);
    printf("direct %.2f ns/op\twrapped %.2f ns/op\tratio %.3f\n", ns[0] / ops, ns[1] / ops, ns[1] / ns[0]);
    return 0;
}
