/*
 * Where reports go: many processes sharing one descriptor, and a clean run
 * for the log path tests. One scenario per run, named by argv[1].
 *
 *   fork16      16 forked children, released together, each frees a map
 *               and uses it, both 40 calls deep: use-after-free reports of
 *               some 10 KB with full stacks. "fork16 8": each child uses
 *               it 8 times at the same call site (for dedup=0).
 *   many        70 nil-map-writes, each at a call site of its own: a
 *               summary with 70 recurrences, some 8 KB.
 *   clean       a correct program: one map, made, used, freed; exit 0.
 */
#include <gomap.h>
#include "scenario.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static const gomap_type I64 = {.key_size = 8, .val_size = 8};

#define CHILDREN 16
#define DEPTH 40

static int uses = 1;

static void free_deep(gomap *m, int depth)
{
    if (depth > 0) {
        free_deep(m, depth - 1);
        return;
    }
    gomap_free(m); /* @site:free */
}

static void use_deep(gomap *m, int depth)
{
    if (depth > 0) {
        use_deep(m, depth - 1);
        return;
    }
    int64_t k = 1;
    for (int i = 0; i < uses; i++)
        (void)gomap_get(m, &k); /* @site:use */
}

static void fork16(void)
{
    int gate[2];
    if (pipe(gate) != 0)
        exit(3);
    for (int c = 0; c < CHILDREN; c++) {
        pid_t pid = fork();
        if (pid < 0)
            exit(3);
        if (pid == 0) {
            close(gate[1]);
            gomap *m = gomap_new(&I64, 0);
            int64_t k = 1;
            gomap_set(m, &k, &k);
            free_deep(m, DEPTH);
            /* all children report at once: the parent closes the gate */
            char b;
            (void)!read(gate[0], &b, 1);
            use_deep(m, DEPTH);
            exit(0);
        }
    }
    close(gate[0]);
    close(gate[1]);
    int failed = 0, st;
    while (wait(&st) > 0)
        failed += !WIFEXITED(st) || WEXITSTATUS(st) != 66;
    printf("children not exiting 66: %d\n", failed);
}

#define NIL gomap_set(NULL, &k, &k);
#define NIL10 NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL

static void many(void)
{
    int64_t k = 1;
    /* one per line: the call sites differ */
    NIL10
    NIL10
    NIL10
    NIL10
    NIL10
    NIL10
    NIL10
}

static void clean(void)
{
    gomap *m = gomap_new(&I64, 0);
    int64_t k = 7;
    gomap_set(m, &k, &k);
    printf("len=%zu\n", gomap_len(m));
    gomap_free(m);
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {{"fork16", fork16}, {"many", many}, {"clean", clean}};
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    if (argc > 2)
        uses = atoi(argv[2]);
    fn();
    return 0;
}
