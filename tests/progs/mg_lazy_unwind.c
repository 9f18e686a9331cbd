/*
 * A program with no map library (not linked with libgomap or GLib), for
 * the shim's lazy loading of libunwind (shim/stack.c). argv[1]:
 *   "idle"   prints whether libunwind is mapped, and captures nothing;
 *   "thread" prints it, creates a thread (the shim captures its creation
 *            stack), then prints it again;
 *   "crash"  faults in main: the deadly-signal record, written without
 *            libunwind, still names the faulting line.
 */
#include "scenario.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static int *volatile nowhere;

static int unwind_mapped(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    int found = 0;
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, "/libunwind"))
            found = 1;
    if (f)
        fclose(f);
    return found;
}

static void idle(void) { printf("unwind=%d\n", unwind_mapped()); }

static void *worker(void *arg) { return arg; }

static void thread(void)
{
    printf("before=%d\n", unwind_mapped());
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL); /* @site:create */
    pthread_join(t, NULL);
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
