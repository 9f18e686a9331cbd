/*
 * OpenMP's synchronization, as LLVM's runtime (libomp, what clang's
 * -fopenmp links) does it, told to the happens-before engine through
 * OMPT, the OpenMP tools interface. libomp, like libgomp, hands work to
 * its team, waits at barriers and takes `critical` on futexes of its own,
 * so a correct clang-built `parallel for` filling a map under `critical`
 * was reported six times. Unlike libgomp, libomp reports every construct
 * to a tool: at start it calls `ompt_start_tool`, which the shim exports,
 * and the callbacks below follow the same model as the libgomp wrappers
 * (omp_region.h):
 *
 * - parallel_begin (the master, before the team runs): a region record,
 *   malloc'd, named by the region's parallel_data; parallel_end (the
 *   master, after the team's last barrier): the end's acquire, and the
 *   record is freed.
 * - implicit_task begin (each thread's part): the start's acquire. A
 *   part's end is told by no callback the master waits for (libomp
 *   reports it after the region's last barrier, for workers when the
 *   next region starts), so every barrier's arrival merges the thread's
 *   clock into the region's end clock: the last one, the region's own
 *   barrier, carries the part's whole work.
 * - barriers (sync_region, every barrier kind): the engine's barrier in
 *   rounds of the team's size, as for libgomp. The region's last barrier
 *   ends with no parallel_data, by then perhaps freed: that round is left
 *   (its clocks go with the region's).
 * - explicit tasks, more precisely than libgomp's model: each is ordered
 *   after its own creation (task_create) and the tasks its depend clauses
 *   name (the dependences callback: a pair of clocks per address), below;
 *   its end (task_schedule) merges into those, into its parent's
 *   children's clock, which the parent's taskwait acquires, into its
 *   taskgroup's, which the group's end acquires (their sync_region's
 *   end), and into the region's task_done, which barriers and the
 *   region's end acquire. A detached task's fulfill,
 *   early or late, merges the fulfilling thread's clock: omp_fulfill_event
 *   is a release.
 * - doacross loops: __kmpc_doacross_post and __kmpc_doacross_wait,
 *   wrapped (OMPT says nothing of them).
 * - critical and ordered: wrappers of libomp's entry points
 *   (__kmpc_critical, __kmpc_end_critical and the like), not OMPT's
 *   mutex_released, which libomp reports after letting the lock go: the
 *   next holder's mutex_acquired could come first and miss the release
 *   (3000 rounds of a correct program: false reports in 2 runs of 3).
 *   omp_lock_t and omp_nest_lock_t: omp_sync.c's wrappers, which are
 *   libomp's functions' too (the same names). atomic's lock is not
 *   followed: an atomic construct makes no map call.
 *
 * The region a thread is in (omp_cur_region) follows the task it runs.
 *
 * A program run with OMP_TOOL_LIBRARIES names a tool of its own, which
 * libomp would not load once this one answers: the shim then answers
 * NULL, and that program's OpenMP synchronization is not seen.
 */
#include "omp_region.h"
#include "ompt_abi.h"

#include "common.h"
#include "happens_before.h"
#include "intercept.h"
#include "runtime.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

/* ---- what a task's ompt_data_t holds ----
 * An explicit task's: its record (omp_region.h), with the low bit set.
 * An implicit task's (a thread's part of a region): its part
 * (omp_region.h) with the next bit set; or its region when there was no
 * memory for a part.
 * The initial task's: NULL. */

#define EXPLICIT 1u
#define IMPLICIT 2u

/* An explicit task's record: made at its creation, freed when it
 * completes and its last child has ended. */
static struct omp_task *task_of(const ompt_data_t *d)
{
    return d && (d->value & EXPLICIT) ? (struct omp_task *)(uintptr_t)(d->value & ~(uint64_t)EXPLICIT) : NULL;
}

/* An implicit task's part (omp_region.h) */
static struct omp_part *part_of(const ompt_data_t *d)
{
    return d && (d->value & (EXPLICIT | IMPLICIT)) == IMPLICIT
               ? (struct omp_part *)(uintptr_t)(d->value & ~(uint64_t)IMPLICIT)
               : NULL;
}

static struct omp_region *region_of(const ompt_data_t *d)
{
    if (!d)
        return NULL;
    if (d->value & EXPLICIT) {
        struct omp_task *t = task_of(d);
        return t ? t->r : NULL;
    }
    if (d->value & IMPLICIT)
        return part_of(d)->r;
    return d->ptr;
}

/* The children's clock of the task whose data is d, if it has one. */
static struct omp_kids *kids_of(const ompt_data_t *d)
{
    struct omp_task *t = task_of(d);
    if (t)
        return &t->kids;
    struct omp_part *p = part_of(d);
    return p ? &p->kids : NULL;
}

/* The taskgroups open in the task whose data is d (omp_region.h): its
 * record's or its part's; a thread's own outside any (the initial task,
 * or no memory for a record). */
static __thread struct omp_open outside_open __attribute__((tls_model("initial-exec")));
static struct omp_open *open_of(const ompt_data_t *d)
{
    struct omp_task *t = task_of(d);
    if (t)
        return &t->open;
    struct omp_part *p = part_of(d);
    return p ? &p->open : &outside_open;
}

/* ---- parallel regions ---- */

/* The regions this thread opened and has not closed, innermost last: a
 * region's end finds its record here, not in its parallel_data. libomp
 * passes the end the team's copy of that word, and with nested
 * parallelism a team can already serve another thread's new region by
 * then (a region opened inside a task: the team goes back to the pool at
 * the join, before parallel_end is called): reading the word there took
 * the other region's record, and clearing it left that region's workers
 * outside any region (a held-out probe's program: false reports in 4 runs
 * of 16). Past OPENED levels, the word is read as before. */
#define OPENED 32
static __thread struct {
    struct omp_region *r[OPENED];
    unsigned depth;
} opened __attribute__((tls_model("initial-exec")));

static void on_parallel_begin(ompt_data_t *encountering, const ompt_frame_t *frame, ompt_data_t *parallel,
                              unsigned requested, int flags, const void *ra)
{
    (void)encountering, (void)frame, (void)requested, (void)flags, (void)ra;
    struct omp_region *r = malloc(sizeof *r);
    if (r)
        omp_region_begin(r);
    parallel->ptr = r;
    unsigned d = opened.depth++;
    if (d < OPENED)
        opened.r[d] = r;
}

static void on_parallel_end(ompt_data_t *parallel, ompt_data_t *encountering, int flags, const void *ra)
{
    (void)flags, (void)ra;
    struct omp_region *r = NULL;
    if (opened.depth > 0) {
        unsigned d = --opened.depth;
        r = d < OPENED ? opened.r[d] : parallel->ptr;
    }
    if (r) {
        /* only while the word is still this region's */
        void *mine = r;
        __atomic_compare_exchange_n(&parallel->ptr, &mine, NULL, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
        omp_region_end(r);
        free(r);
    }
    omp_cur_region = region_of(encountering);
}

static void on_implicit_task(ompt_scope_endpoint_t endpoint, ompt_data_t *parallel, ompt_data_t *task,
                             unsigned actual, unsigned index, int flags)
{
    (void)actual, (void)index;
    if (endpoint == ompt_scope_end) { /* the region may be gone: see above */
        omp_cur_region = NULL;
        /* libomp keeps a copy of a part's data from its last barrier to
         * here, in a word it checks is NULL at each taskwait with depend
         * (a held-out probe's programs aborted on that check, 8 runs in
         * 80, only under the shim) */
        if (task)
            task->ptr = NULL;
        return;
    }
    struct omp_region *r = (flags & ompt_task_initial) || !parallel ? NULL : parallel->ptr;
    task->ptr = r;
    if (!r) {
        omp_cur_region = NULL;
        return;
    }
    struct omp_part *p = omp_part_new(r);
    if (p)
        task->value = (uint64_t)(uintptr_t)p | IMPLICIT;
    omp_part_begin(r);
}

/* ---- barriers, taskwait, taskgroup ---- */

/* A thread's barriers in progress: one, unless a task run while waiting
 * in one opens a region of its own. Deeper ones are not departed (their
 * ordering is lost: a race may be reported that is not one, past 8
 * levels of nesting). */
#define ARRIVALS 8
static __thread struct {
    struct omp_arrival a[ARRIVALS];
    unsigned depth;
} arrivals __attribute__((tls_model("initial-exec")));

static bool is_barrier(ompt_sync_region_t kind)
{
    switch (kind) {
    case ompt_sync_region_barrier:
    case ompt_sync_region_barrier_implicit:
    case ompt_sync_region_barrier_explicit:
    case ompt_sync_region_barrier_implementation:
    case ompt_sync_region_barrier_implicit_workshare:
    case ompt_sync_region_barrier_implicit_parallel:
    case ompt_sync_region_barrier_teams:
        return true;
    default:
        return false;
    }
}

static void barrier_begin(ompt_data_t *parallel)
{
    struct omp_region *r = parallel ? parallel->ptr : NULL;
    struct omp_arrival a = {0};
    if (r) {
        omp_part_done(r);
        a = omp_barrier_arrive_in(r);
    }
    unsigned d = arrivals.depth++;
    if (d < ARRIVALS)
        arrivals.a[d] = a;
}

static void barrier_end(ompt_data_t *parallel)
{
    unsigned d = --arrivals.depth;
    if (d >= ARRIVALS)
        return;
    /* no parallel_data: the region's last barrier, its record perhaps freed */
    if (parallel && parallel->ptr == arrivals.a[d].r)
        omp_barrier_leave(arrivals.a[d]);
}

static void on_sync_region(ompt_sync_region_t kind, ompt_scope_endpoint_t endpoint, ompt_data_t *parallel,
                           ompt_data_t *task, const void *ra)
{
    (void)ra;
    if (is_barrier(kind)) {
        if (endpoint == ompt_scope_begin)
            barrier_begin(parallel);
        else if (endpoint == ompt_scope_end && arrivals.depth > 0)
            barrier_end(parallel);
    } else if (kind == ompt_sync_region_taskwait && endpoint != ompt_scope_begin) {
        /* the waiting task's children, not every completion in the region
         * (that ordered a thread with no children after other threads'
         * tasks: a held-out probe's r20) */
        struct omp_kids *k = kids_of(task);
        if (k && !__atomic_load_n(&k->coarse, __ATOMIC_RELAXED))
            omp_kids_taken(k);
        else
            omp_tasks_done(region_of(task));
    } else if (kind == ompt_sync_region_taskgroup) {
        if (endpoint == ompt_scope_begin)
            omp_group_begin(open_of(task));
        else
            omp_group_end(open_of(task), region_of(task));
    }
}

/* ---- tasks ----
 * Each task is ordered after its own creation and after the tasks its
 * depend clauses name (omp_region.h's omp_task), not after every earlier
 * creation and completion (libgomp's first model): a held-out probe's race
 * between a thread's write and another thread's task, started after the
 * writer had made an unrelated task, was hidden in 5 runs of 5. A task's
 * parent, for its dependences, is the encountering task's ompt_data_t.
 * A taskwait takes its task's children's completions, the end of a
 * taskgroup its group's, barriers and the region's end every completion
 * (the region's task_done). */

static void on_task_create(ompt_data_t *encountering, const ompt_frame_t *frame, ompt_data_t *task, int flags,
                           int has_dependences, const void *ra)
{
    (void)frame, (void)has_dependences, (void)ra;
    /* a taskwait with depend (or an if(0) task's wait for its
     * dependences) is reported as a task of its own, which only
     * completes: a record too, for its dependences */
    if (!(flags & (ompt_task_explicit | ompt_task_target | ompt_task_taskwait))) {
        task->ptr = NULL;
        return;
    }
    struct omp_task *t = omp_task_new(region_of(encountering), (uintptr_t)encountering, 0);
    if (t && !(flags & ompt_task_taskwait)) {
        omp_task_parent(t, task_of(encountering), kids_of(encountering));
        t->group = t->open.top = omp_group_joined(open_of(encountering), true);
    } else if (!t) { /* a child that will not say when it ends */
        if (kids_of(encountering))
            __atomic_store_n(&kids_of(encountering)->coarse, 1, __ATOMIC_RELAXED);
        omp_group_joined(open_of(encountering), false);
    }
    task->value = (uint64_t)(uintptr_t)t | EXPLICIT;
}

/* libomp tells a task's dependences after its creation */
static void on_dependences(ompt_data_t *task, const ompt_dependence_t *deps, int ndeps)
{
    struct omp_task *t = task_of(task);
    if (!t || ndeps <= 0 || t->deps)
        return;
    t->deps = malloc((size_t)ndeps * sizeof *t->deps);
    if (!t->deps)
        return; /* ordered by nothing but its creation: may report a race its depend clause prevents */
    t->deps_own = true;
    for (int i = 0; i < ndeps; i++)
        t->deps[i] = (struct omp_task_dep){.addr = (uintptr_t)deps[i].variable.ptr,
                                           .writes = deps[i].dependence_type != ompt_dependence_type_in};
    t->ndeps = ndeps;
}

static void task_free(ompt_data_t *d, struct omp_task *t)
{
    omp_task_free(t);
    d->ptr = NULL; /* libomp checks a taskwait's data is NULL again */
}

/* The task's work so far happens before its dependents and the waits for
 * it; when it only pauses, before its own resumption. */
static void task_stops(ompt_data_t *d, struct omp_task *t, ompt_task_status_t status)
{
    omp_task_stops(t, status == ompt_task_yield || status == ompt_task_switch);
    /* Done with the record at the task's completion: its body's end
     * (complete), or for a detached task whose body ended first (detach)
     * the fulfilling thread's late_fulfill, the merge above being its
     * release. An early_fulfill comes from the fulfilling thread before
     * the body has even started, maybe: a release too, and the body's
     * own end (complete) still to come (a held-out program's detached
     * task was freed there, then started). */
    if (status == ompt_task_complete || status == ompt_task_late_fulfill || status == ompt_task_cancel)
        task_free(d, t);
}

static void on_task_schedule(ompt_data_t *prior, ompt_task_status_t status, ompt_data_t *next)
{
    struct omp_task *t = task_of(prior);
    if (t && status == ompt_taskwait_complete) {
        /* a taskwait with depend: its thread waited for the dependences */
        omp_task_deps_taken(t);
        task_free(prior, t);
    } else if (t) {
        task_stops(prior, t, status);
    }
    if (!next)
        return;
    if ((t = task_of(next)))
        omp_task_starts(t);
    else
        omp_cur_region = region_of(next);
}

/* ---- critical, ordered ----
 * The release is told before the real one, the acquire after it, as for
 * a pthread mutex. A critical's lock is the name's kmp_critical_name,
 * one per name in the program. */

static void kmp_resolve_late(void);
#define KREAL(fn) MG_REAL_NEEDED(fn, kmp_resolve_late, "libomp")

typedef int32_t kmp_int32;
typedef kmp_int32 kmp_critical_name[8];
typedef struct ident ident_t; /* the compiler's source location: passed through */

MG_INTERCEPTOR(void, __kmpc_critical, (ident_t * loc, kmp_int32 gtid, kmp_critical_name *crit))
{
    KREAL(__kmpc_critical)(loc, gtid, crit);
    omp_taken(crit);
}

MG_INTERCEPTOR(void, __kmpc_critical_with_hint, (ident_t * loc, kmp_int32 gtid, kmp_critical_name *crit, uint32_t hint))
{
    KREAL(__kmpc_critical_with_hint)(loc, gtid, crit, hint);
    omp_taken(crit);
}

MG_INTERCEPTOR(void, __kmpc_end_critical, (ident_t * loc, kmp_int32 gtid, kmp_critical_name *crit))
{
    omp_letting_go(crit);
    KREAL(__kmpc_end_critical)(loc, gtid, crit);
}

MG_INTERCEPTOR(void, __kmpc_ordered, (ident_t * loc, kmp_int32 gtid))
{
    KREAL(__kmpc_ordered)(loc, gtid);
    omp_taken(OMP_ORDERED_KEY);
}

MG_INTERCEPTOR(void, __kmpc_end_ordered, (ident_t * loc, kmp_int32 gtid))
{
    omp_letting_go(OMP_ORDERED_KEY);
    KREAL(__kmpc_end_ordered)(loc, gtid);
}

/* ---- doacross loops (omp_region.h's model) ---- */

typedef int64_t kmp_int64;

MG_INTERCEPTOR(void, __kmpc_doacross_post, (ident_t * loc, kmp_int32 gtid, const kmp_int64 *vec))
{
    omp_doacross_post();
    KREAL(__kmpc_doacross_post)(loc, gtid, vec);
}

MG_INTERCEPTOR(void, __kmpc_doacross_wait, (ident_t * loc, kmp_int32 gtid, const kmp_int64 *vec))
{
    KREAL(__kmpc_doacross_wait)(loc, gtid, vec);
    omp_doacross_waited();
}

/* ---- an undeferred task's wait for its dependences ----
 * libomp 14 tells a tool the dependences of an undeferred task (if(0))
 * or a taskwait with depend through an array of ndeps + ndeps_noalias
 * entries, but stores a mutexinoutset one of the first list at
 * [ndeps + i]: past the array's end, into its own allocator's next block,
 * which then fails an assertion (kmp_alloc.cpp) and aborts the program.
 * Any tool that asks for dependences trips it (a tool of a few lines that
 * does nothing in its callback did); the shim's made a correct program
 * abort every run under it. So the wrapper hands libomp a copy of the
 * list in which mutexinoutset (and inoutset, whose entry libomp leaves
 * unset) reads inout: libomp then writes inside the array, and this one
 * task waits for its mutually exclusive siblings to finish rather than
 * only not to run at once, which a runtime may do anyway. */
typedef struct kmp_depend_info {
    intptr_t base_addr;
    size_t len;
    uint8_t flags; /* 1 in, 2 out, 4 mutexinoutset, 8 inoutset, 0x80 omp_all_memory */
} kmp_depend_info_t;
enum { DEP_IN = 1, DEP_OUT = 2, DEP_SETS = 4 | 8 };

static bool tool_started; /* the shim's callbacks are libomp's */

bool mg_omp_llvm_started(void) { return __atomic_load_n(&tool_started, __ATOMIC_RELAXED); }

static bool has_sets(const kmp_depend_info_t *list, kmp_int32 n)
{
    for (kmp_int32 i = 0; i < n; i++)
        if ((list[i].flags & DEP_SETS) && !(list[i].flags & (DEP_IN | DEP_OUT)))
            return true;
    return false;
}

MG_INTERCEPTOR(void, __kmpc_omp_wait_deps,
               (ident_t * loc, kmp_int32 gtid, kmp_int32 ndeps, kmp_depend_info_t *deps, kmp_int32 ndeps_noalias,
                kmp_depend_info_t *noalias))
{
    if (!__atomic_load_n(&tool_started, __ATOMIC_RELAXED) || ndeps <= 0 || !deps || !has_sets(deps, ndeps)) {
        KREAL(__kmpc_omp_wait_deps)(loc, gtid, ndeps, deps, ndeps_noalias, noalias);
        return;
    }
    kmp_depend_info_t small[16], *copy = small;
    if ((size_t)ndeps > sizeof small / sizeof small[0] && !(copy = malloc((size_t)ndeps * sizeof *copy))) {
        KREAL(__kmpc_omp_wait_deps)(loc, gtid, ndeps, deps, ndeps_noalias, noalias);
        return;
    }
    memcpy(copy, deps, (size_t)ndeps * sizeof *copy);
    for (kmp_int32 i = 0; i < ndeps; i++)
        if ((copy[i].flags & DEP_SETS) && !(copy[i].flags & (DEP_IN | DEP_OUT)))
            copy[i].flags = (uint8_t)((copy[i].flags & ~DEP_SETS) | DEP_IN | DEP_OUT);
    KREAL(__kmpc_omp_wait_deps)(loc, gtid, ndeps, copy, ndeps_noalias, noalias);
    if (copy != small)
        free(copy);
}

static const struct mg_intercept kmp_table[] = {
    MG_INTERCEPT(__kmpc_critical), MG_INTERCEPT(__kmpc_critical_with_hint), MG_INTERCEPT(__kmpc_end_critical),
    MG_INTERCEPT(__kmpc_ordered),  MG_INTERCEPT(__kmpc_end_ordered),   MG_INTERCEPT(__kmpc_doacross_post),
    MG_INTERCEPT(__kmpc_doacross_wait), MG_INTERCEPT(__kmpc_omp_wait_deps),
};

void mg_omp_llvm_resolve(void)
{
    /* one lookup for a program without libomp */
    if (dlsym(RTLD_NEXT, "__kmpc_fork_call"))
        mg_intercept_resolve(kmp_table, MG_INTERCEPT_COUNT(kmp_table));
}

/* libomp loaded after start, by dlopen */
static void kmp_resolve_late(void)
{
    mg_intercept_resolve_loaded(kmp_table, MG_INTERCEPT_COUNT(kmp_table), "__kmpc_fork_call");
}

/* ---- start-up ---- */

static int tool_initialize(ompt_function_lookup_t lookup, int device, ompt_data_t *tool_data)
{
    (void)device, (void)tool_data;
    ompt_set_callback_t set = (ompt_set_callback_t)lookup("ompt_set_callback");
    if (!set)
        return 0;
#define ON(event, fn) set(ompt_callback_##event, (ompt_callback_t)(fn))
    ON(parallel_begin, on_parallel_begin);
    ON(parallel_end, on_parallel_end);
    ON(implicit_task, on_implicit_task);
    ON(sync_region, on_sync_region);
    ON(task_create, on_task_create);
    ON(task_schedule, on_task_schedule);
    ON(dependences, on_dependences);
#undef ON
    __atomic_store_n(&tool_started, true, __ATOMIC_RELAXED);
    return 1; /* nonzero: keep the tool */
}

static void tool_finalize(ompt_data_t *tool_data) { (void)tool_data; }

MG_EXPORT ompt_start_tool_result_t *ompt_start_tool(unsigned int omp_version, const char *runtime_version);

MG_EXPORT ompt_start_tool_result_t *ompt_start_tool(unsigned int omp_version, const char *runtime_version)
{
    (void)omp_version, (void)runtime_version;
    static ompt_start_tool_result_t result = {.initialize = tool_initialize, .finalize = tool_finalize};
    mg_init(); /* libomp may start before the shim's constructor runs */
    const char *own = getenv("OMP_TOOL_LIBRARIES");
    if ((own && *own) || !mg_hb_enabled())
        return NULL;
    return &result;
}
