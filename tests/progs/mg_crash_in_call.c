/*
 * A crash inside a gomap call: the map's hash callback faults (a NULL
 * dereference) for key 13, as a map corrupted by a race would fault inside
 * the library. The deadly-signal record must name the call in flight
 * ("in_call": api gomap, the op, the map). argv[1]: "set" or "get". The
 * map's address is printed first, so the test can compare it.
 */
#include <gomap.h>
#include "scenario.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int *volatile nowhere;

static uint64_t hash_cb(const void *k, size_t n, uint64_t seed)
{
    uint64_t key;
    memcpy(&key, k, sizeof key);
    if (key == 13)
        return (uint64_t)*nowhere; /* @site:fault */
    return gomap_hash_bytes(k, n, seed);
}

static gomap *M;

static void made(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8, .hash = hash_cb};
    M = gomap_new(&t, 0);
    uint64_t k = 1, v = 2;
    gomap_set(M, &k, &v);
    printf("map=%p\n", (void *)M);
    fflush(stdout);
}

static void set(void)
{
    made();
    uint64_t k = 13, v = 2;
    gomap_set(M, &k, &v); /* @site:set */
}

static void get(void)
{
    made();
    uint64_t k = 13;
    printf("%p\n", gomap_get(M, &k)); /* @site:get */
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {{"set", set}, {"get", get}};
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
