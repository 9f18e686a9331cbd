/*
 * Programs whose findings depend on an option's default, so the shim tests
 * can check that the default documented in docs/options.md is the one in
 * effect. "scenario N": N comes from the test, which reads it from the
 * docs, so the program holds no default of its own.
 */
#include <gomap.h>
#include "scenario.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static const gomap_type I64 = {.key_size = 8, .val_size = 8};
static long arg;

/* Not inlined and not a tail call (-O0): one frame per level. */
__attribute__((noinline)) static int descend(long n)
{
    if (n == 0) {
        int64_t k = 1, v = 1;
        return gomap_set(NULL, &k, &v); /* @site:deep_set */
    }
    return descend(n - 1) + 1;
}

/* arg levels of descend() under main, then a nil-map write: its stack is
 * as deep as stack_depth lets it be. */
static void deep(void) { printf("deep=%d\n", descend(arg)); }

/* A map freed, then arg other maps freed after it, then freed again: the
 * second free is caught while the first map is still in the quarantine. */
static void quarantine(void)
{
    gomap *first = gomap_new(&I64, 0);
    gomap_free(first);
    for (long i = 0; i < arg; i++)
        gomap_free(gomap_new(&I64, 0));
    gomap_free(first); /* @site:q_double_free */
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {
        {"deep", deep},
        {"quarantine", quarantine},
    };
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn || argc < 3)
        return 2;
    arg = strtol(argv[2], NULL, 10);
    fn();
    return 0;
}
