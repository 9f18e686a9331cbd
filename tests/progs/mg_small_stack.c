/*
 * Findings made on threads with the smallest stack glibc allows
 * (PTHREAD_STACK_MIN, 16 KiB with the thread's TLS inside it). Making a
 * report (module paths, libdw, jansson) takes far more: the shim must make
 * it somewhere else, and the program must run as without the shim.
 * argv[1]:
 *   nil      a nil-map write
 *   race     a write, then a read on another thread, ordered only by a C11
 *            atomic the shim cannot see (evidence "unordered")
 *   overlap  a read while a write is parked inside the map's hash callback
 *            (evidence "overlap"), released once the read is done
 *   many     48 nil-map writes at as many call sites: past the 32 captures
 *            a thread makes frame by frame before libunwind's faster,
 *            deeper unw_backtrace
 * Each prints "done" and exits 0; the findings decide the status the shim
 * gives.
 */
#include <gomap.h>
#include "scenario.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gomap *M;
static atomic_int written, parked, released;

static uint64_t parking_hash(const void *k, size_t n, uint64_t seed)
{
    int64_t key;
    memcpy(&key, k, sizeof key);
    if (key == 99) {
        atomic_store(&parked, 1);
        while (!atomic_load(&released))
            sched_yield();
    }
    return gomap_hash_bytes(k, n, seed);
}

static const gomap_type int_map = {.key_size = 8, .val_size = 8, .hash = parking_hash};

static void on_small_stacks(void *(*a)(void *), void *(*b)(void *))
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN))
        abort();
    pthread_t t[2];
    int n = 0;
    if (pthread_create(&t[n++], &attr, a, NULL))
        abort();
    if (b && pthread_create(&t[n++], &attr, b, NULL))
        abort();
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    pthread_attr_destroy(&attr);
}

static void *nil_writer(void *p)
{
    int64_t k = 1;
    gomap_set(NULL, &k, &k); /* @site:small_nil */
    return p;
}

static void *writer(void *p)
{
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:small_write */
    atomic_store(&written, 1);
    return p;
}

static void *reader(void *p)
{
    int64_t k = 1;
    while (!atomic_load(&written))
        sched_yield();
    gomap_get(M, &k); /* @site:small_read */
    return p;
}

static void *parked_writer(void *p)
{
    int64_t k = 99;
    gomap_set(M, &k, &k); /* @site:small_parked_write */
    return p;
}

static void *overlapping_reader(void *p)
{
    while (!atomic_load(&parked))
        sched_yield();
    gomap_len(M); /* @site:small_overlap_read */
    atomic_store(&released, 1);
    return p;
}

#define NIL(i) gomap_set(NULL, &(int64_t){i}, &(int64_t){i})
#define NIL8(b) (NIL(b), NIL(b + 1), NIL(b + 2), NIL(b + 3), NIL(b + 4), NIL(b + 5), NIL(b + 6), NIL(b + 7))

static void *many_nil_writer(void *p)
{
    NIL8(0);
    NIL8(8);
    NIL8(16);
    NIL8(24);
    NIL8(32);
    NIL8(40);
    return p;
}

static void nil(void) { on_small_stacks(nil_writer, NULL); }
static void many(void) { on_small_stacks(many_nil_writer, NULL); }
static void race(void) { on_small_stacks(writer, reader); }
static void overlap(void) { on_small_stacks(parked_writer, overlapping_reader); }

int main(int argc, char **argv)
{
    static const struct scenario table[] = {{"nil", nil}, {"race", race}, {"overlap", overlap}, {"many", many}};
    void (*fn)(void) = scenario_find(table, SCENARIO_COUNT(table), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    M = gomap_new(&int_map, 0); /* @site:made */
    fn();
    printf("done\n");
    return 0;
}
