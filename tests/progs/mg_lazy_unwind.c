/*
 * A program with no map library (not linked with libgomap or GLib), for
 * the shim's lazy loading of libunwind (shim/stack.c). argv[1]:
 *   "idle"   prints whether libunwind is mapped, and captures nothing;
 *   "thread" prints it, creates a thread (the shim keeps its creation
 *            stack raw: stack_saved.c) and prints it again, then 16 more
 *            (the 17th creation stack is captured: libunwind is loaded)
 *            and prints it a third time;
 *   "crash"  faults in main: the deadly-signal record, written without
 *            libunwind, still names the faulting line.
 */
#include "mapped.h"
#include "scenario.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static int *volatile nowhere;

static int unwind_mapped(void) { return lib_mapped("/libunwind"); }

static void idle(void) { printf("unwind=%d\n", unwind_mapped()); }

static void *worker(void *arg) { return arg; }

static void thread(void)
{
    printf("before=%d\n", unwind_mapped());
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL); /* @site:create */
    pthread_join(t, NULL);
    printf("saved=%d\n", unwind_mapped());
    for (int i = 0; i < 16; i++) {
        pthread_create(&t, NULL, worker, NULL);
        pthread_join(t, NULL);
    }
    printf("after=%d\n", unwind_mapped());
}

static void crash(void)
{
    printf("unwind=%d\n", unwind_mapped());
    fflush(stdout);
    printf("%d\n", *nowhere); /* @site:fault */
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {{"idle", idle}, {"thread", thread}, {"crash", crash}};
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
