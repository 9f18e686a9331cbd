/*
 * Where a map under a contended mutex spends the happens-before engine's
 * time: the critical sections that follow a handoff (the lock passed from
 * one thread to the other) against the rest. A handoff is where the engine
 * must take the other thread's clock and record the map call in a new
 * epoch; a thread taking its own lock again costs it almost nothing
 * (docs/design-detector.md, "Where sync clocks live"). The loop is
 * shim_overhead's shared1k (compare_mutex_map.h) with the handoffs counted
 * and each critical section timed with the TSC, from the lock's return to
 * the unlock's return (so it includes the unlock's futex wake).
 *
 * usage: mutex_handoff [ops per thread, default 2000000] [spin, default 0]
 *                      [contend|every|alternate|phases|phases-get]
 * spin: TSC cycles spent spinning inside each critical section that
 * follows a handoff, before the map call: run plain, it stands in for the
 * engine's work there, and shows how the whole loop's time answers to it.
 * contend (the default): the two threads contend for the lock as in
 * shared1k.
 * every: the same, with the spin in every critical section, not only
 * after a handoff: what a few cycles added to every operation do to a
 * contended mutex on this machine (docs/performance-log.md: about 30 cycles
 * doubled the plain loop's time).
 * alternate: the two threads take turns (each waits, outside the lock,
 * with sched_yield, for the other's operation), so that every lock is a
 * handoff: for counting the instructions of the handoff path under
 * callgrind, not for timing.
 * phases, phases-get: the two threads take turns, the waiter spinning (no
 * futex, no yield), and each operation's lock, map call and unlock are
 * timed apart: what a handoff costs each, without the futex's noise.
 * phases-get makes every operation a get.
 * prints: ns per op, the share of ops that followed a handoff, and the
 * mean TSC cycles of a critical section after a handoff and of the others;
 * phases: ns per op and the mean TSC cycles of the lock call, the map call
 * and the unlock call.
 * Run it plain and under LD_PRELOAD=build/lib/libmapguard.so, several
 * times each: the contention, and so the handoff rate, moves from run to
 * run.
 */
#include <gomap.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

static const gomap_type I64 = {.key_size = 8, .val_size = 8};
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static gomap *m;
static long ops;
static unsigned long long spin;

static int last_owner; /* under mu */
enum mode { CONTEND, EVERY, ALTERNATE, PHASES, PHASES_GET };
static enum mode mode;
static const char *const mode_names[] = {"contend", "every", "alternate", "phases", "phases-get"};
static atomic_int turn = 1; /* taking turns: whose operation is next */

/* The TSC; taking turns, ordered with the code around it (rdtscp): the
 * phases are then the calls' own, not what the CPU overlapped them with. */
static inline unsigned long long stamp(void)
{
    unsigned aux;
    return mode >= PHASES ? __rdtscp(&aux) : __rdtsc();
}

/* each thread's sums, added up after the join */
struct sums {
    unsigned long long handoffs, handoff_cycles, other_cycles;
    unsigned long long lock_cycles, map_cycles, unlock_cycles; /* phases */
};

static void *worker(void *arg)
{
    struct sums *sum = arg, mine = {0};
    int me = sum->handoffs ? 2 : 1;
    uint64_t r = (uint64_t)me * 88172645463325252ull;
    for (long i = 0; i < ops; i++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        int64_t k = (int64_t)(2 * ((r >> 2) % 1000));
        int turns = mode >= ALTERNATE;
        while (turns && atomic_load_explicit(&turn, memory_order_acquire) != me) {
            if (mode == ALTERNATE)
                sched_yield();
            else
                _mm_pause();
        }
        unsigned long long before = stamp();
        pthread_mutex_lock(&mu);
        unsigned long long t0 = stamp();
        int handoff = last_owner != me;
        last_owner = me;
        if ((handoff || mode == EVERY) && spin)
            while (__rdtsc() - t0 < spin)
                _mm_pause();
        if ((r & 3) || mode == PHASES_GET)
            gomap_get(m, &k);
        else
            gomap_set(m, &k, &k);
        unsigned long long t1 = stamp();
        pthread_mutex_unlock(&mu);
        unsigned long long t2 = stamp(), dt = t2 - t0;
        if (turns)
            atomic_store_explicit(&turn, 3 - me, memory_order_release);
        mine.lock_cycles += t0 - before;
        mine.map_cycles += t1 - t0;
        mine.unlock_cycles += t2 - t1;
        if (handoff) {
            mine.handoffs++;
            mine.handoff_cycles += dt;
        } else {
            mine.other_cycles += dt;
        }
    }
    *sum = mine;
    return NULL;
}

/* a decimal count, or -1 */
static long number(const char *a)
{
    char *end;
    long v = strtol(a, &end, 10);
    return end == a || *end ? -1 : v;
}

int main(int argc, char **argv)
{
    ops = argc > 1 ? number(argv[1]) : 2000000;
    long s = argc > 2 ? number(argv[2]) : 0;
    int known = argc <= 3;
    for (int i = 0; argc > 3 && i < (int)(sizeof mode_names / sizeof *mode_names); i++)
        if (!strcmp(argv[3], mode_names[i])) {
            mode = (enum mode)i;
            known = 1;
        }
    if (ops <= 0 || s < 0 || argc > 4 || !known) {
        fprintf(stderr, "usage: %s [ops per thread] [spin cycles after a handoff] "
                        "[contend|every|alternate|phases|phases-get]\n", argv[0]);
        return 2;
    }
    spin = (unsigned long long)s;
    m = gomap_new(&I64, 0);
    for (int64_t k = 0; k < 2000; k += 2)
        gomap_set(m, &k, &k);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pthread_t th[2];
    struct sums sum[2] = {{0}, {.handoffs = 1}}; /* in: a nonzero handoffs names thread 2 */
    for (int i = 0; i < 2; i++)
        if (pthread_create(&th[i], NULL, worker, &sum[i]))
            return 1;
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    unsigned long long handoffs = sum[0].handoffs + sum[1].handoffs;
    unsigned long long handoff_cycles = sum[0].handoff_cycles + sum[1].handoff_cycles;
    unsigned long long other_cycles = sum[0].other_cycles + sum[1].other_cycles;
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
    unsigned long long total = 2ull * (unsigned long long)ops, rest = total - handoffs;
    if (mode >= PHASES) {
        printf("%.1f ns/op\tlock %llu cycles\tmap call %llu cycles\tunlock %llu cycles\n", ns / (double)ops,
               (sum[0].lock_cycles + sum[1].lock_cycles) / total, (sum[0].map_cycles + sum[1].map_cycles) / total,
               (sum[0].unlock_cycles + sum[1].unlock_cycles) / total);
        gomap_free(m);
        return 0;
    }
    printf("%.1f ns/op\thandoffs %.1f%%\tafter a handoff %llu cycles\tothers %llu cycles\n", ns / (double)ops,
           100.0 * (double)handoffs / (double)total, handoffs ? handoff_cycles / handoffs : 0,
           rest ? other_cycles / rest : 0);
    gomap_free(m);
    return 0;
}
