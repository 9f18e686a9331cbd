/*
 * A crash inside a gomap call: the map's hash callback faults (a NULL
 * dereference) for key 13, as a map corrupted by a race would fault inside
 * the library. The deadly-signal record must name the call in flight
 * ("in_call": api gomap, the op, the map). argv[1]: "set" or "get"; or
 * "free", where the program has overwritten the heap header of a value
 * the map keeps in its own allocation, and glibc aborts inside
 * gomap_free's free of it (with quarantine_size=0, so that the release is
 * the call's own). The map's address is printed first, so the test can
 * compare it. "after": the map's calls return, then the program faults
 * outside any (the thread-local word keeps the last map as a prefetch
 * hint, in_call.h, and must still name no call).
 *
 * "bare_set", "bare_after": the same on a map with no callback, whose
 * calls take the bare solo path (in_call.h: the word outlives the call):
 * the set faults inside libgomap, reading a key on a page it may not
 * read; or the calls return and the program faults after them.
 */
#include <gomap.h>
#include "scenario.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

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

/* M, of type t, with key 1 in it (the process's first checked call: the
 * next ones take the solo path), and its address printed. */
static void made_of(const gomap_type *t)
{
    M = gomap_new(t, 0);
    uint64_t k = 1, v = 2;
    gomap_set(M, &k, &v);
    printf("map=%p\n", (void *)M);
    fflush(stdout);
}

static void made(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8, .hash = hash_cb};
    made_of(&t);
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

/* A get that returns, then a fault outside any call. */
static void fault_after_a_get(void)
{
    uint64_t k = 1;
    printf("%p\n", gomap_get(M, &k));
    fflush(stdout);
    printf("%d\n", *nowhere); /* @site:after */
}

static void after(void)
{
    made();
    fault_after_a_get();
}

static void bare_made(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8};
    made_of(&t);
}

static void bare_set(void)
{
    bare_made();
    void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint64_t v = 2;
    gomap_set(M, page, &v); /* @site:bare_set */
}

static void bare_after(void)
{
    bare_made();
    fault_after_a_get();
}

/* Values over 128 bytes live in their own allocation (gomap.c): the
 * pointer gomap_get returns is the start of that allocation, and the word
 * before it glibc's record of its size. */
static void free_(void)
{
    static const gomap_type big = {.key_size = 8, .val_size = 200};
    M = gomap_new(&big, 0);
    uint64_t k = 1;
    char v[200] = {0};
    gomap_set(M, &k, v);
    printf("map=%p\n", (void *)M);
    fflush(stdout);
    size_t *blob = gomap_get(M, &k);
    blob[-1] = 0; /* the heap overflow of a neighbour, in one store */
    gomap_free(M); /* @site:free */
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {{"set", set},           {"get", get},
                                                {"free", free_},         {"after", after},
                                                {"bare_set", bare_set}, {"bare_after", bare_after}};
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
