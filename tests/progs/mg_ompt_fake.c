/*
 * An OpenMP runtime's calls into the shim's OMPT tool (shim/omp_llvm.c),
 * made by hand in an order libomp makes only now and then, so that a test
 * can see it every run. The program starts the tool as libomp would
 * (ompt_start_tool, then its initializer with a lookup that hands out
 * ompt_set_callback) and keeps the callbacks it registers. Its threads
 * step through a schedule with a C11 atomic counter, which the shim does
 * not see: whatever orders their map calls is what the callbacks say.
 * One scenario per run, named by argv[1]; lines the tests look for carry
 * an @site comment.
 */
#include <gomap.h>
#include "scenario.h"
#include "../../shim/ompt_abi.h"

#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

/* libfake_omp.so's: the team's size, for the shim's barriers */
int omp_get_num_threads(void);

static ompt_callback_t callbacks[32];

static ompt_set_result_t set_callback(ompt_callbacks_t event, ompt_callback_t fn)
{
    if ((unsigned)event >= sizeof callbacks / sizeof callbacks[0])
        return ompt_set_never;
    callbacks[event] = fn;
    return ompt_set_always;
}

static ompt_interface_fn_t lookup(const char *name)
{
    return strcmp(name, "ompt_set_callback") ? NULL : (ompt_interface_fn_t)set_callback;
}

static void start_tool(void)
{
    ompt_start_tool_result_t *(*start)(unsigned, const char *) =
        (ompt_start_tool_result_t * (*)(unsigned, const char *)) dlsym(RTLD_DEFAULT, "ompt_start_tool");
    ompt_start_tool_result_t *r = start ? start(201611, "mg_ompt_fake") : NULL;
    if (omp_get_num_threads() != 2 || !r || !r->initialize(lookup, 0, &r->tool_data)) {
        fprintf(stderr, "mg_ompt_fake: no OMPT tool (run it under the shim)\n");
        exit(3);
    }
}

#define CB(event) ((ompt_callback_##event##_t)callbacks[ompt_callback_##event])

static void parallel_begin(ompt_data_t *encountering, ompt_data_t *parallel, unsigned n)
{
    CB(parallel_begin)(encountering, NULL, parallel, n, 0, NULL);
}
static void parallel_end(ompt_data_t *parallel, ompt_data_t *encountering)
{
    CB(parallel_end)(parallel, encountering, 0, NULL);
}
static void part_begin(ompt_data_t *team, ompt_data_t *task, unsigned n, unsigned index)
{
    CB(implicit_task)(ompt_scope_begin, team, task, n, index, ompt_task_implicit);
}
static void part_end(ompt_data_t *task, unsigned index)
{
    CB(implicit_task)(ompt_scope_end, NULL, task, 0, index, ompt_task_implicit);
}
/* the region's last barrier: its end comes without the region's data */
static void join_arrive(ompt_data_t *team, ompt_data_t *task)
{
    CB(sync_region)(ompt_sync_region_barrier_implicit_parallel, ompt_scope_begin, team, task, NULL);
}
static void join_leave(ompt_data_t *task)
{
    CB(sync_region)(ompt_sync_region_barrier_implicit_parallel, ompt_scope_end, NULL, task, NULL);
}

static atomic_int step;
static void go(int n) { atomic_store_explicit(&step, n, memory_order_release); }
static void wait_for(int n)
{
    while (atomic_load_explicit(&step, memory_order_acquire) != n)
        sched_yield();
}

static gomap *M;

/* ---- a team that serves another thread's region before its own ends ----
 * With nested parallelism, two threads each running a task open a region
 * of their own, and libomp hands a team back to its pool at the join,
 * before it calls parallel_end: another thread's next region can take
 * the same team, and be given its region data (libomp copies it into the
 * team), while the first region's end is still to come with a pointer to
 * that word. X's region ends on the team Y's region now has; W is Y's
 * worker. W's write is ordered before Y's read by Y's region end: clean. */

static ompt_data_t team; /* the team's copy of its region's data */

static void *reused_x(void *p)
{
    ompt_data_t encountering = {0}, data = {0}, task = {0};
    parallel_begin(&encountering, &data, 1);
    team = data; /* libomp: the team gets a copy */
    part_begin(&team, &task, 1, 0);
    join_arrive(&team, &task);
    join_leave(&task);
    part_end(&task, 0);
    go(1); /* the team goes back to the pool */
    wait_for(2);
    parallel_end(&team, &encountering);
    go(3);
    return p;
}

static void *reused_y(void *p)
{
    ompt_data_t encountering = {0}, data = {0}, task = {0};
    int64_t k = 1;
    wait_for(1);
    parallel_begin(&encountering, &data, 2);
    team = data; /* the same team, now Y's region's */
    part_begin(&team, &task, 2, 0);
    go(2);
    wait_for(4);
    join_arrive(&team, &task);
    join_leave(&task);
    part_end(&task, 0);
    parallel_end(&team, &encountering);
    gomap_get(M, &k); /* @site:reused_get */
    go(5);
    return p;
}

static void *reused_w(void *p)
{
    ompt_data_t task = {0};
    int64_t k = 1;
    wait_for(3);
    part_begin(&team, &task, 2, 1);
    gomap_set(M, &k, &k); /* @site:reused_set */
    join_arrive(&team, &task);
    go(4);
    wait_for(5);
    join_leave(&task);
    part_end(&task, 1);
    return p;
}

static void team_reused(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8};
    M = gomap_new(&t, 0);
    pthread_t th[3];
    pthread_create(&th[0], NULL, reused_x, NULL);
    pthread_create(&th[1], NULL, reused_y, NULL);
    pthread_create(&th[2], NULL, reused_w, NULL);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    gomap_free(M);
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {
        {"team_reused", team_reused},
    };
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    start_tool();
    fn();
    return 0;
}
