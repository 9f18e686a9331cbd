/*
 * OpenMP's synchronization, as GCC's runtime (libgomp) does it, told to
 * the happens-before engine (the model: omp_region.h; LLVM's runtime:
 * omp_llvm.c). libgomp builds its thread teams' hand-offs,
 * barriers, critical sections and locks on futexes of its own, which no
 * pthread wrapper sees: a correct `#pragma omp parallel for` filling a map
 * under `#pragma omp critical`, then read by the master after the region,
 * was reported five times over three regions.
 *
 * GCC compiles each construct to a call into libgomp through the PLT, and
 * these wrappers interpose those entry points by name (the shim does not
 * link libgomp; its real functions are found at start, or by the first
 * wrapper called when libgomp came by dlopen):
 *
 * - A parallel region (GOMP_parallel and its combined loop and sections
 *   forms, not GOMP_parallel_reductions: below): the master's work
 *   before it happens before every thread's part, and every thread's
 *   part before the master's work after it. The
 *   region's function is handed to libgomp through a trampoline that
 *   acquires the region's start clock and merges into its end clock; the
 *   region's record, with the keys of both, lives in the master's frame
 *   for the region's length, and its clocks are reset when it ends.
 * - A barrier, explicit or a worksharing construct's implicit one
 *   (GOMP_barrier, GOMP_loop_end, GOMP_sections_end, their _cancel
 *   forms): the engine's barrier, in rounds of the team's size, as
 *   pthread_barrier_wait's. single with copyprivate (single_copy_start,
 *   single_copy_end) has a clock of its own (below).
 * - `critical` (unnamed and named), `atomic` (its lock-based fallback)
 *   and `ordered`: locks held by one thread at a time, on a synthetic key
 *   (the name's address for a named critical).
 * - omp_lock_t and omp_nest_lock_t: locks; init and destroy reset them.
 *
 * GOMP_parallel_reductions (task reductions) is not wrapped: libgomp reads
 * its reduction data through the region's data pointer, which the
 * trampoline would replace.
 *
 * - Tasks and taskloops: a trampoline on a block of the shim's, ordered
 *   after every earlier creation and completion (below).
 *
 * Not followed: tasks with reductions, `teams`, target offloading.
 * docs/design-detector.md ("OpenMP") lists them.
 */
#include "omp_region.h"

#include "happens_before.h"
#include "common.h"
#include "intercept.h"
#include "log.h"

#include <dlfcn.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef void (*omp_fn)(void *);

/* ---- finding the real functions ---- */

static void omp_resolve_late(void);

/* A wrapper is called only by a program linked with libgomp: its real
 * function exists, found now if libgomp came after start. */
#define OREAL(fn) MG_REAL_NEEDED(fn, omp_resolve_late, "libgomp")

/* ---- parallel regions ---- */

struct region {
    struct omp_region r; /* first: the trampoline's argument is both */
    omp_fn fn;
    void *data;
};

/* The region this thread runs a part of, and that part's record (made at
 * its first child: omp_region.h), saved and restored around a nested
 * region's part. */
static __thread struct region *part_region __attribute__((tls_model("initial-exec")));
static __thread struct omp_part *part_rec __attribute__((tls_model("initial-exec")));

/* The taskgroups the task this thread runs has open (omp_region.h): its
 * record's, or a part's or a taskloop task's own, saved and restored
 * around each (libgomp runs a thread's tasks one inside another, and an
 * untied task as a tied one); NULL outside any, for outside_open. */
static __thread struct omp_open *open_now __attribute__((tls_model("initial-exec")));
static __thread struct omp_open outside_open __attribute__((tls_model("initial-exec")));
static struct omp_open *open_cur(void) { return open_now ? open_now : &outside_open; }

/* not interposed: the team's size, for its barrier's count */
MG_HIDDEN int (*MG_REAL(omp_get_num_threads))(void);

int omp_team_size(void) { return OREAL(omp_get_num_threads)(); }

static void region_part(void *p)
{
    struct region *r = p;
    struct region *outer_region = part_region;
    struct omp_part *outer_part = part_rec;
    struct omp_open open = {0}, *outer_open = open_now;
    part_region = r;
    part_rec = NULL;
    open_now = &open;
    struct omp_region *outer = omp_part_begin(&r->r);
    r->fn(r->data);
    omp_part_end(&r->r, outer);
    part_region = outer_region;
    part_rec = outer_part;
    open_now = outer_open;
}

#define REGION(call_real)                                                                                          \
    do {                                                                                                           \
        struct region r_ = {.fn = fn, .data = data};                                                               \
        omp_region_begin(&r_.r);                                                                                   \
        call_real;                                                                                                 \
        omp_region_end(&r_.r);                                                                                     \
    } while (0)

MG_INTERCEPTOR(void, GOMP_parallel, (omp_fn fn, void *data, unsigned nthreads, unsigned flags))
{
    REGION(OREAL(GOMP_parallel)(region_part, &r_, nthreads, flags));
}

MG_INTERCEPTOR(void, GOMP_parallel_sections, (omp_fn fn, void *data, unsigned nthreads, unsigned count, unsigned flags))
{
    REGION(OREAL(GOMP_parallel_sections)(region_part, &r_, nthreads, count, flags));
}

/* the combined parallel loops: a chunk size, or the run-time schedule */
#define PARALLEL_LOOP(fn_name)                                                                                     \
    MG_INTERCEPTOR(void, fn_name,                                                                                  \
                   (omp_fn fn, void *data, unsigned nthreads, long start, long end, long incr, long chunk,         \
                    unsigned flags))                                                                               \
    {                                                                                                              \
        REGION(OREAL(fn_name)(region_part, &r_, nthreads, start, end, incr, chunk, flags));                        \
    }
#define PARALLEL_LOOP_RUNTIME(fn_name)                                                                             \
    MG_INTERCEPTOR(void, fn_name,                                                                                  \
                   (omp_fn fn, void *data, unsigned nthreads, long start, long end, long incr, unsigned flags))    \
    {                                                                                                              \
        REGION(OREAL(fn_name)(region_part, &r_, nthreads, start, end, incr, flags));                               \
    }

PARALLEL_LOOP(GOMP_parallel_loop_static)
PARALLEL_LOOP(GOMP_parallel_loop_dynamic)
PARALLEL_LOOP(GOMP_parallel_loop_guided)
PARALLEL_LOOP(GOMP_parallel_loop_nonmonotonic_dynamic)
PARALLEL_LOOP(GOMP_parallel_loop_nonmonotonic_guided)
PARALLEL_LOOP_RUNTIME(GOMP_parallel_loop_runtime)
PARALLEL_LOOP_RUNTIME(GOMP_parallel_loop_nonmonotonic_runtime)
PARALLEL_LOOP_RUNTIME(GOMP_parallel_loop_maybe_nonmonotonic_runtime)

/* ---- barriers ---- */

#define BARRIER(ret, fn_name)                                                                                      \
    MG_INTERCEPTOR(ret, fn_name, (void))                                                                           \
    {                                                                                                              \
        struct omp_arrival a = omp_barrier_arrive();                                                                   \
        ret v = OREAL(fn_name)();                                                                                  \
        omp_barrier_leave(a);                                                                                          \
        return v;                                                                                                  \
    }
#define BARRIER_VOID(fn_name)                                                                                      \
    MG_INTERCEPTOR(void, fn_name, (void))                                                                          \
    {                                                                                                              \
        struct omp_arrival a = omp_barrier_arrive();                                                                   \
        OREAL(fn_name)();                                                                                          \
        omp_barrier_leave(a);                                                                                          \
    }

BARRIER_VOID(GOMP_barrier)
BARRIER_VOID(GOMP_loop_end)
BARRIER_VOID(GOMP_sections_end)
BARRIER(bool, GOMP_barrier_cancel)
BARRIER(bool, GOMP_loop_end_cancel)
BARRIER(bool, GOMP_sections_end_cancel)

/* single with copyprivate: the thread that runs the block returns at once
 * from single_copy_start (NULL) and waits for the others in
 * single_copy_end; the others wait in single_copy_start. Which thread is
 * which is known only when single_copy_start returns, too late for an
 * arrival in a round, so these take a clock of their own: a merge before
 * each wait, an acquire after (more ordering than the program made when a
 * region runs several: hides races, never invents one). */
MG_INTERCEPTOR(void *, GOMP_single_copy_start, (void))
{
    struct omp_region *r = omp_single_arrive();
    void *data = OREAL(GOMP_single_copy_start)();
    if (data)
        omp_single_leave(r);
    return data;
}

MG_INTERCEPTOR(void, GOMP_single_copy_end, (void *data))
{
    struct omp_region *r = omp_single_arrive();
    OREAL(GOMP_single_copy_end)(data);
    omp_single_leave(r);
}

/* ---- tasks ----
 * libgomp copies a task's argument block (arg_size bytes, or by cpyfn)
 * and runs the function on it later, on any thread of the team, or at
 * once (an undeferred task). The wrapper hands libgomp a block of its own:
 * a header naming the program's function, the region and the task's
 * record, then the program's block, copied, at an offset its alignment
 * allows; the task's function is a trampoline, which runs it between
 * omp_task_starts and omp_task_stops: each task is ordered after its own
 * creation and the sibling tasks its depend clauses name (omp_region.h).
 * A taskloop's tasks share one block, copied for each: they keep the
 * region-wide model (omp_task_begin and omp_task_end, every creation and
 * every completion before every start), as every task did before (a
 * held-out probe's race, a write and then an unrelated task by the
 * writer, another thread's task reading, was hidden by it). */

#define TASK_BLOCK_STACK 1024

struct task_head {
    omp_fn fn;
    void (*cpyfn)(void *, void *);
    void *data; /* the program's block, for cpyfn */
    struct omp_region *r;
    struct omp_task *task; /* NULL: a taskloop's, or no memory for one */
    /* a taskloop's tasks: one record for them all, the wrapper's, freed
     * when the taskloop returns, or for a nogroup one with the region
     * (NULL: no memory) */
    struct omp_task *loop;
    struct omp_group *group; /* without a record: its taskgroup */
    long off;   /* the program's block, from the start of ours */
};

/* The explicit task this thread runs (NULL in its implicit one): the
 * parent of the tasks it makes, for their dependences. */
static __thread struct omp_task *task_running __attribute__((tls_model("initial-exec")));

/* A parent's identity: the running task's record, or for a thread's part
 * of a region (its implicit task) the thread and the region. Two that
 * collide share dependence clocks, which only orders more. */
static uintptr_t parent_now(void)
{
    return task_running ? (uintptr_t)task_running : (uintptr_t)&task_running ^ (uintptr_t)omp_cur_region << 1;
}

/* The running task's children, made for a part at its first child; NULL
 * outside any part the wrappers saw (or without memory). */
static struct omp_kids *kids_now(bool make)
{
    if (task_running)
        return &task_running->kids;
    if (!part_rec && make && part_region)
        part_rec = omp_part_new(&part_region->r);
    return part_rec ? &part_rec->kids : NULL;
}

/* libgomp's GOMP_TASK_FLAG_DEPEND, and its depend array as gcc 12 builds
 * it and libgomp reads it (gomp_task_handle_depend):
 * - depend[0] != 0: depend[0] addresses from depend[2], the first
 *   depend[1] of them written (out, inout), the rest read (in);
 * - depend[0] == 0: depend[1] entries from depend[5]: depend[2] written
 *   (out, inout), then depend[3] mutexinoutset, then depend[4] read, then
 *   depobjs, each a pointer to {address, kind}, kind 1 for in. */
#define TASK_FLAG_DEPEND (1u << 3)
#define DEPEND_KIND_IN 1

static int depend_count(void **depend)
{
    uintptr_t n = depend[0] ? (uintptr_t)depend[0] : (uintptr_t)depend[1];
    return n <= 1u << 16 ? (int)n : 0; /* more is no array of gcc's */
}

static void depend_fill(struct omp_task *t, void **depend)
{
    if (depend[0]) {
        uintptr_t written = (uintptr_t)depend[1];
        for (int i = 0; i < t->ndeps; i++)
            t->deps[i] = (struct omp_task_dep){.addr = (uintptr_t)depend[2 + i], .writes = (uintptr_t)i < written};
        return;
    }
    uintptr_t written = (uintptr_t)depend[2] + (uintptr_t)depend[3];
    uintptr_t plain = written + (uintptr_t)depend[4];
    for (int i = 0; i < t->ndeps; i++) {
        if ((uintptr_t)i < plain) {
            t->deps[i] = (struct omp_task_dep){.addr = (uintptr_t)depend[5 + i], .writes = (uintptr_t)i < written};
        } else {
            void *const *obj = depend[5 + i];
            t->deps[i] = (struct omp_task_dep){.addr = (uintptr_t)obj[0], .writes = (uintptr_t)obj[1] != DEPEND_KIND_IN};
        }
    }
}

/* Words libgomp writes at the start of a task's copy of the block: a
 * taskloop's two bounds, a detached task's event handle. Ours keeps them
 * ahead of its header, and the trampoline copies them into the program's
 * block. (A held-out probe: without the word, a detach task's event
 * handle overwrote the header's function, and the task jumped into the
 * heap.) */
#define LOOP_BOUNDS (2 * sizeof(uint64_t))
#define DETACH_EVENT sizeof(void *)
/* A taskloop with reductions: libgomp reads a pointer to the reduction
 * data from the program's block, the word after the bounds (taskloop.c's
 * gomp_data_head). Ours holds a copy of it there, and the trampoline
 * copies it back with the bounds (the same value). Before, such a
 * taskloop went to libgomp unwrapped, its tasks ordered after nothing:
 * a correct taskloop reduction writing maps was reported 4 runs of 16 by
 * a held-out probe. */
#define LOOP_REDUCTION (LOOP_BOUNDS + sizeof(uintptr_t))
/* libgomp's GOMP_TASK_FLAG_DETACH (gomp-constants.h) */
#define TASK_FLAG_DETACH (1u << 13)

/* ---- detached tasks ----
 * A detached task completes when its event is fulfilled, on whatever
 * thread calls omp_fulfill_event, and libgomp tells no wrapper of that
 * completion: the fulfilling thread's work before the call was not
 * ordered before a taskwait or a dependent task (a held-out probe's
 * correct early- and late-fulfill programs were reported, 3 runs of 3).
 * So a detached task's record is kept under its event (the handle libgomp
 * writes into the block's first word before the body runs) from its
 * start, with a reference of its own, and the fulfill merges the
 * fulfilling thread's clock where the task's end does (its dependents,
 * its parent's taskwait, its group, the region's barriers), then lets
 * the record go. Before, every fulfill merged into one clock that every
 * task start and every wait for tasks took: a held-out probe's fulfill of
 * a task in no group of the reader's was ordered before the reader's
 * taskgroup end, and that race was missed. That clock is still the
 * fallback for an event with no record: a task handed to libgomp
 * unwrapped, or one fulfilled before its body started (the fulfill leaves
 * a note, and the body's end completes the task). libomp's programs
 * reach the wrapper too (the same name), but its
 * tool interface tells the fulfill as the detached task's end
 * (omp_llvm.c): under libomp the wrapper does nothing. The event handle
 * is an integer of a pointer's size (omp.h). Few tasks are detached: one
 * list, under one lock. */
struct detached {
    uintptr_t event;
    struct omp_task *t; /* NULL: fulfilled before the body started */
    struct detached *next;
};
static struct detached *detached_list;
static uint32_t detached_lock;

static void detached_take_lock(void)
{
    while (__atomic_exchange_n(&detached_lock, 1, __ATOMIC_ACQUIRE))
        sched_yield();
}
static void detached_give_lock(void) { __atomic_store_n(&detached_lock, 0, __ATOMIC_RELEASE); }

/* The newest entry under event, unlisted, or NULL (an event's address is
 * reused by a later task's once the earlier one completed). Under the
 * lock. */
static struct detached *detached_unlist(uintptr_t event)
{
    for (struct detached **p = &detached_list; *p; p = &(*p)->next)
        if ((*p)->event == event) {
            struct detached *d = *p;
            *p = d->next;
            return d;
        }
    return NULL;
}

static void detached_list_add(struct detached *d)
{
    d->next = detached_list;
    detached_list = d;
}

/* The body starts: its record is kept for the fulfill, unless the fulfill
 * came first (its end then completes the task; the fulfill merged into
 * the fallback clock). A record kept across a fulfill that had come
 * first was found, a region later, by the next task at the same event
 * address, and its freed parent's lock spun for ever (a held-out probe's
 * program hung). */
static void detached_running(uintptr_t event, struct omp_task *t)
{
    struct detached *d = malloc(sizeof *d);
    detached_take_lock();
    struct detached *early = detached_unlist(event);
    if (early && early->t) { /* a record whose fulfill never came: not this task's */
        detached_list_add(early);
        early = NULL;
    }
    if (!early && d) {
        __atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
        *d = (struct detached){.event = event, .t = t};
        detached_list_add(d);
        d = NULL;
    }
    detached_give_lock();
    free(early);
    free(d); /* without memory: its fulfill merges into the fallback clock */
}

/* The record kept under event, unlisted; NULL when there is none (the
 * fallback clock then), noted when the body may still start. */
static struct omp_task *detached_fulfilled(uintptr_t event)
{
    struct detached *note = malloc(sizeof *note);
    detached_take_lock();
    struct detached *d = detached_unlist(event);
    struct omp_task *t = NULL;
    if (d && d->t) {
        t = d->t;
    } else if (d) { /* a note already: an earlier fulfill here whose task never started wrapped */
        detached_list_add(d);
        d = NULL;
    } else if (note) {
        *note = (struct detached){.event = event};
        detached_list_add(note);
        note = NULL;
    }
    detached_give_lock();
    free(d);
    free(note);
    return t;
}

MG_INTERCEPTOR(void, omp_fulfill_event, (uintptr_t event))
{
    if (!mg_omp_llvm_started()) {
        struct omp_task *t = detached_fulfilled(event);
        if (t) {
            omp_task_stops(t, false);
            omp_task_free(t);
        } else {
            omp_fulfilled();
        }
    }
    OREAL(omp_fulfill_event)(event);
}

static struct task_head *head_at(void *block, size_t prefix) { return (struct task_head *)(void *)((char *)block + prefix); }

static void task_body(void *block, size_t prefix)
{
    struct task_head *h = head_at(block, prefix);
    char *mine = (char *)block + h->off;
    if (prefix)
        memcpy(mine, block, prefix);
    struct omp_task *t = h->task;
    struct omp_open *outer_open = open_now;
    if (!t) {
        /* its children are in its group too */
        struct omp_open open = {.top = h->group};
        open_now = &open;
        if (h->loop) {
            struct omp_region *outer = omp_task_starts(h->loop);
            omp_fulfills_taken();
            h->fn(mine);
            omp_task_stops(h->loop, false);
            omp_cur_region = outer;
        } else {
            struct omp_region *outer = omp_task_begin(h->r);
            h->fn(mine);
            omp_group_done(h->group);
            omp_task_end(h->r, outer);
        }
        open_now = outer_open;
        return;
    }
    if (prefix == DETACH_EVENT)
        detached_running(*(uintptr_t *)block, t);
    struct omp_task *parent = task_running;
    task_running = t;
    open_now = &t->open;
    struct omp_region *outer = omp_task_starts(t);
    omp_fulfills_taken();
    h->fn(mine);
    omp_task_stops(t, false);
    omp_cur_region = outer;
    task_running = parent;
    open_now = outer_open;
    omp_task_free(t);
}

static void task_run(void *block) { task_body(block, 0); }
static void detach_task_run(void *block) { task_body(block, DETACH_EVENT); }
static void loop_task_run(void *block) { task_body(block, LOOP_BOUNDS); }
static void loop_reduction_task_run(void *block) { task_body(block, LOOP_REDUCTION); }

/* The program's cpyfn builds the task's block from its own data. */
static void copy_body(void *dst, void *src, size_t prefix)
{
    struct task_head *h = head_at(src, prefix);
    memcpy(dst, src, prefix + sizeof *h);
    h->cpyfn((char *)dst + h->off, h->data);
}

static void task_copy(void *dst, void *src) { copy_body(dst, src, 0); }
static void detach_task_copy(void *dst, void *src) { copy_body(dst, src, DETACH_EVENT); }
static void loop_task_copy(void *dst, void *src) { copy_body(dst, src, LOOP_BOUNDS); }
static void loop_reduction_task_copy(void *dst, void *src) { copy_body(dst, src, LOOP_REDUCTION); }

/* Our block for the program's (fn, data, cpyfn, arg_size, arg_align): in
 * buf (small, or malloc'd), aligned; NULL to hand libgomp the program's
 * own (no region, an alignment libgomp would refuse, no memory). The
 * block lives until the wrapper returns: libgomp copies it, or runs the
 * task, before that. */
struct task_block {
    char *block, *heap;
    long size, align;
    struct omp_task *loop; /* the taskloop's record (task_head's) */
    char small[TASK_BLOCK_STACK];
};

/* libgomp's GOMP_TASK_FLAG_NOGROUP: the taskloop returns without waiting
 * for its tasks */
#define TASK_FLAG_NOGROUP (1u << 11)

/* libgomp's GOMP_TASK_FLAG_REDUCTION (gomp-constants.h), a taskloop's
 * (gcc sets it on no other task): libgomp then reads a pointer out of the
 * program's block itself (LOOP_REDUCTION) */
#define TASK_FLAG_REDUCTION (1u << 12)

/* A task libgomp gets as the program made it: it will not say when it
 * ends. */
static bool task_unwrapped(void)
{
    omp_group_joined(open_cur(), false);
    return false;
}

/* depend: a task's (GOMP_task), NULL for a taskloop's block */
static bool task_block_make(struct task_block *b, size_t prefix, unsigned flags, void **depend, omp_fn fn,
                            void *data, void (*cpyfn)(void *, void *), long arg_size, long arg_align)
{
    struct omp_region *r = omp_cur_region;
    b->heap = NULL;
    b->loop = NULL;
    if (!r || ((flags & TASK_FLAG_REDUCTION) && prefix != LOOP_REDUCTION) ||
        arg_size < (prefix == LOOP_REDUCTION ? (long)LOOP_REDUCTION : 0) || arg_align <= 0 ||
        (arg_align & (arg_align - 1)) || arg_align > 4096)
        return task_unwrapped();
    long head_end = (long)(prefix + sizeof(struct task_head));
    long off = (head_end + arg_align - 1) & ~(arg_align - 1);
    b->align = arg_align > (long)_Alignof(struct task_head) ? arg_align : (long)_Alignof(struct task_head);
    b->size = off + arg_size;
    size_t need_bytes = (size_t)(b->size + b->align);
    char *buf = b->small;
    if (need_bytes > sizeof b->small && !(buf = b->heap = malloc(need_bytes)))
        return task_unwrapped();
    b->block = (char *)(((uintptr_t)buf + (uintptr_t)b->align - 1) & ~((uintptr_t)b->align - 1));
    if (!cpyfn && arg_size > 0)
        memcpy(b->block + off, data, (size_t)arg_size);
    if (prefix == LOOP_REDUCTION)
        memcpy(b->block + LOOP_BOUNDS, (char *)data + LOOP_BOUNDS, sizeof(uintptr_t));
    struct omp_task *t = NULL;
    struct omp_kids *kids = kids_now(true);
    if (prefix >= LOOP_BOUNDS) {
        bool waited = !(flags & TASK_FLAG_NOGROUP);
        /* libgomp's own group around the taskloop, which the shim does not
         * see: ours, ended when the wrapper returns (taskloop_waited) */
        if (waited)
            omp_group_begin(open_cur());
        b->loop = omp_task_new(r, parent_now(), 0);
        if (b->loop && !waited) {
            /* nogroup: the tasks outlive the call, and their parent's
             * taskwait and their group wait for them; the record goes with
             * the region */
            omp_task_parent(b->loop, task_running, kids);
            omp_region_keep(r, b->loop);
        }
    }
    struct omp_group *group = omp_group_joined(open_cur(), true);
    if (b->loop)
        b->loop->group = group;
    if (prefix < LOOP_BOUNDS) {
        /* before the real call: the task may start on another thread at once */
        int n = (flags & TASK_FLAG_DEPEND) && depend ? depend_count(depend) : 0;
        if ((t = omp_task_new(r, parent_now(), n)) != NULL) {
            if (t->ndeps)
                depend_fill(t, depend);
            omp_task_parent(t, task_running, kids);
            t->group = t->open.top = group;
        }
    }
    if (!t && !b->loop)
        omp_task_made(r);
    /* a child that will not say when it ends, and may end after the call
     * returns: its parent's taskwait takes every completion */
    if (!t && !b->loop && kids)
        __atomic_store_n(&kids->coarse, 1, __ATOMIC_RELAXED);
    *head_at(b->block, prefix) = (struct task_head){
        .fn = fn, .cpyfn = cpyfn, .data = data, .r = r, .task = t, .loop = b->loop, .group = group, .off = off};
    return true;
}

/* After a taskloop that libgomp waited for: its tasks' completions (the
 * group task_block_make opened), and its record goes. */
static void taskloop_waited(struct task_block *b, unsigned flags)
{
    if (flags & TASK_FLAG_NOGROUP)
        return;
    omp_group_end(open_cur(), omp_cur_region);
    omp_task_free(b->loop);
}

MG_INTERCEPTOR(void, GOMP_task,
               (omp_fn fn, void *data, void (*cpyfn)(void *, void *), long arg_size, long arg_align, bool if_clause,
                unsigned flags, void **depend, int priority, void *detach))
{
    struct task_block b;
    bool detached = flags & TASK_FLAG_DETACH;
    if (!task_block_make(&b, detached ? DETACH_EVENT : 0, flags, depend, fn, data, cpyfn, arg_size, arg_align)) {
        OREAL(GOMP_task)(fn, data, cpyfn, arg_size, arg_align, if_clause, flags, depend, priority, detach);
        return;
    }
    omp_fn run = detached ? detach_task_run : task_run;
    void (*copy)(void *, void *) = detached ? detach_task_copy : task_copy;
    OREAL(GOMP_task)(run, b.block, cpyfn ? copy : NULL, b.size, b.align, if_clause, flags, depend, priority, detach);
    free(b.heap);
}

/* A taskloop without nogroup waits for its tasks (an implicit
 * taskgroup): its return takes their completions, and each task is
 * ordered after the taskloop's call (the one record of task_block_make).
 * A nogroup taskloop's tasks share a record too, kept until the region
 * ends: ordered after the call, their ends merge into the enclosing
 * taskgroup and the parent's children. They used to keep the region-wide
 * model, each ordered after every creation and completion in the region
 * so far: a held-out probe's race between a completed task and a read
 * after a taskgroup holding such a taskloop was missed 5 of 5 (r05b). */
#define TASKLOOP(fn_name, T)                                                                                       \
    MG_INTERCEPTOR(void, fn_name,                                                                                  \
                   (omp_fn fn, void *data, void (*cpyfn)(void *, void *), long arg_size, long arg_align,          \
                    unsigned flags, unsigned long num_tasks, int priority, T start, T end, T step))               \
    {                                                                                                              \
        struct task_block b;                                                                                       \
        bool red = flags & TASK_FLAG_REDUCTION;                                                                    \
        if (!task_block_make(&b, red ? LOOP_REDUCTION : LOOP_BOUNDS, flags, NULL, fn, data, cpyfn, arg_size,       \
                             arg_align)) {                                                                         \
            OREAL(fn_name)(fn, data, cpyfn, arg_size, arg_align, flags, num_tasks, priority, start, end, step);   \
            return;                                                                                                \
        }                                                                                                          \
        omp_fn run = red ? loop_reduction_task_run : loop_task_run;                                                \
        void (*copy)(void *, void *) = red ? loop_reduction_task_copy : loop_task_copy;                            \
        OREAL(fn_name)(run, b.block, cpyfn ? copy : NULL, b.size, b.align, flags, num_tasks, priority, start, end, \
                       step);                                                                                      \
        free(b.heap);                                                                                              \
        taskloop_waited(&b, flags);                                                                                \
    }

TASKLOOP(GOMP_taskloop, long)
TASKLOOP(GOMP_taskloop_ull, unsigned long long)

/* A taskgroup's end waits for every task of the group, descendants
 * included: it takes their completions (omp_region.h's omp_group). */
MG_INTERCEPTOR(void, GOMP_taskgroup_start, (void))
{
    OREAL(GOMP_taskgroup_start)();
    omp_group_begin(open_cur());
}

MG_INTERCEPTOR(void, GOMP_taskgroup_end, (void))
{
    OREAL(GOMP_taskgroup_end)();
    omp_group_end(open_cur(), omp_cur_region);
}

/* A taskwait waits for the running task's children: it takes their
 * completions, not every completion in the region (that ordered a thread
 * with no children after other threads' tasks: a held-out probe's r20,
 * missed 5 of 5). The fallback fulfill clock too (a detached child with
 * no record ends there). */
MG_INTERCEPTOR(void, GOMP_taskwait, (void))
{
    OREAL(GOMP_taskwait)();
    struct omp_kids *k = kids_now(false);
    if ((!k && !part_region && !task_running) || (k && __atomic_load_n(&k->coarse, __ATOMIC_RELAXED))) {
        omp_tasks_done(omp_cur_region);
        return;
    }
    if (k)
        omp_kids_taken(k);
    omp_fulfills_taken();
}

/* A taskwait with depend waits for the sibling tasks its clauses name, not
 * for every task: it takes their dependence clocks (and the fallback
 * fulfill clock: a detached sibling's completion without a record), as a
 * task with those clauses would at its start. Taking every completion
 * instead hid a race with a task on another address
 * (omp/taskwait_depend_waits_for_its_clause_only: missed in 4 runs of 4). */
MG_INTERCEPTOR(void, GOMP_taskwait_depend, (void **depend))
{
    OREAL(GOMP_taskwait_depend)(depend);
    int n = depend ? depend_count(depend) : 0;
    struct omp_task_dep small[16];
    struct omp_task w = {.r = omp_cur_region, .parent = parent_now(), .ndeps = n, .deps = small};
    if (n > 16 && !(w.deps = malloc((size_t)n * sizeof *w.deps))) {
        omp_tasks_done(omp_cur_region); /* no memory: every completion, as before */
        return;
    }
    depend_fill(&w, depend);
    omp_task_deps_taken(&w);
    omp_fulfills_taken();
    if (w.deps != small)
        free(w.deps);
}

/* ---- doacross loops ----
 * ordered depend(sink: ...) and depend(source) (omp_region.h's model).
 * GOMP_doacross_wait is variadic: one argument per dimension of the
 * loop's ordered(n), which only the loop's start says (ncounts). The
 * start wrappers keep it for the thread, and the wait wrapper reads and
 * passes on exactly that many. */

#define DOACROSS_DIMS 32
static __thread unsigned doacross_dims __attribute__((tls_model("initial-exec")));

#define DOACROSS_START(fn_name, params, args)                                                                   \
    MG_INTERCEPTOR(bool, fn_name, params)                                                                          \
    {                                                                                                              \
        doacross_dims = ncounts;                                                                                   \
        return OREAL(fn_name) args;                                                                                \
    }

DOACROSS_START(GOMP_loop_doacross_static_start,
               (unsigned ncounts, long *counts, long chunk, long *istart, long *iend),
               (ncounts, counts, chunk, istart, iend))
DOACROSS_START(GOMP_loop_doacross_dynamic_start,
               (unsigned ncounts, long *counts, long chunk, long *istart, long *iend),
               (ncounts, counts, chunk, istart, iend))
DOACROSS_START(GOMP_loop_doacross_guided_start,
               (unsigned ncounts, long *counts, long chunk, long *istart, long *iend),
               (ncounts, counts, chunk, istart, iend))
DOACROSS_START(GOMP_loop_doacross_runtime_start, (unsigned ncounts, long *counts, long *istart, long *iend),
               (ncounts, counts, istart, iend))
DOACROSS_START(GOMP_loop_doacross_start,
               (unsigned ncounts, long *counts, long sched, long chunk, long *istart, long *iend,
                uintptr_t *reductions, void **mem),
               (ncounts, counts, sched, chunk, istart, iend, reductions, mem))
typedef unsigned long long omp_ull;
DOACROSS_START(GOMP_loop_ull_doacross_static_start,
               (unsigned ncounts, omp_ull *counts, omp_ull chunk, omp_ull *istart, omp_ull *iend),
               (ncounts, counts, chunk, istart, iend))
DOACROSS_START(GOMP_loop_ull_doacross_dynamic_start,
               (unsigned ncounts, omp_ull *counts, omp_ull chunk, omp_ull *istart, omp_ull *iend),
               (ncounts, counts, chunk, istart, iend))
DOACROSS_START(GOMP_loop_ull_doacross_guided_start,
               (unsigned ncounts, omp_ull *counts, omp_ull chunk, omp_ull *istart, omp_ull *iend),
               (ncounts, counts, chunk, istart, iend))
DOACROSS_START(GOMP_loop_ull_doacross_runtime_start,
               (unsigned ncounts, omp_ull *counts, omp_ull *istart, omp_ull *iend), (ncounts, counts, istart, iend))
DOACROSS_START(GOMP_loop_ull_doacross_start,
               (unsigned ncounts, omp_ull *counts, long sched, omp_ull chunk, omp_ull *istart, omp_ull *iend,
                uintptr_t *reductions, void **mem),
               (ncounts, counts, sched, chunk, istart, iend, reductions, mem))

MG_INTERCEPTOR(void, GOMP_doacross_post, (long *counts))
{
    omp_doacross_post();
    OREAL(GOMP_doacross_post)(counts);
}

MG_INTERCEPTOR(void, GOMP_doacross_ull_post, (omp_ull *counts))
{
    omp_doacross_post();
    OREAL(GOMP_doacross_ull_post)(counts);
}

/* The dimensions the loop's start gave, or 1 when no start was seen (the
 * program's own call, or a loop the shim did not wrap). The wait passes
 * on DOACROSS_DIMS arguments every time, the values read and zeros after
 * them: libgomp reads as many as the loop has, and a variadic function
 * ignores the rest. Past that many no call can pass them on: said, and
 * the process ends, rather than letting libgomp read arguments that are
 * not there. */
static unsigned wait_dims(void)
{
    unsigned n = doacross_dims ? doacross_dims : 1;
    if (n > DOACROSS_DIMS) {
        mg_log(0, "GOMP_doacross_wait: a loop with ordered(%u) has more dimensions than the shim passes on (%d)", n,
               DOACROSS_DIMS);
        abort();
    }
    return n;
}

#define V8(i) v[i], v[i + 1], v[i + 2], v[i + 3], v[i + 4], v[i + 5], v[i + 6], v[i + 7]
_Static_assert(DOACROSS_DIMS == 32, "the wait's call passes four V8s");
#define DOACROSS_WAIT(fn_name, T)                                                                                  \
    MG_INTERCEPTOR(void, fn_name, (T first, ...))                                                                 \
    {                                                                                                              \
        T v[DOACROSS_DIMS] = {first};                                                                              \
        unsigned n = wait_dims();                                                                                  \
        va_list ap;                                                                                                \
        va_start(ap, first);                                                                                       \
        for (unsigned i = 1; i < n; i++)                                                                           \
            v[i] = va_arg(ap, T);                                                                                  \
        va_end(ap);                                                                                                \
        OREAL(fn_name)(V8(0), V8(8), V8(16), V8(24));                                                              \
        omp_doacross_waited();                                                                                     \
    }

DOACROSS_WAIT(GOMP_doacross_wait, long)
DOACROSS_WAIT(GOMP_doacross_ull_wait, omp_ull)

/* ---- critical, atomic, ordered ---- */

#define LOCK_PAIR(start_fn, end_fn, key)                                                                           \
    MG_INTERCEPTOR(void, start_fn, (void))                                                                         \
    {                                                                                                              \
        OREAL(start_fn)();                                                                                         \
        omp_taken(key);                                                                                                \
    }                                                                                                              \
    MG_INTERCEPTOR(void, end_fn, (void))                                                                           \
    {                                                                                                              \
        omp_letting_go(key);                                                                                           \
        OREAL(end_fn)();                                                                                           \
    }

LOCK_PAIR(GOMP_critical_start, GOMP_critical_end, OMP_CRITICAL_KEY)
LOCK_PAIR(GOMP_atomic_start, GOMP_atomic_end, OMP_ATOMIC_KEY)
LOCK_PAIR(GOMP_ordered_start, GOMP_ordered_end, OMP_ORDERED_KEY)

/* a named critical's lock is the pointer the compiler made for its name */
MG_INTERCEPTOR(void, GOMP_critical_name_start, (void **name))
{
    OREAL(GOMP_critical_name_start)(name);
    omp_taken(name);
}

MG_INTERCEPTOR(void, GOMP_critical_name_end, (void **name))
{
    omp_letting_go(name);
    OREAL(GOMP_critical_name_end)(name);
}

/* ---- omp_lock_t, omp_nest_lock_t ----
 * Both are opaque here: the address is the key. A nested lock's inner
 * unlock releases as a recursive mutex's does (more ordering than the
 * program made: hides races, never invents one). */

#define OMP_LOCKS(init, destroy, set, unset, test, test_ok)                                                        \
    MG_INTERCEPTOR(void, init, (void *l))                                                                          \
    {                                                                                                              \
        if (mg_hb_sync_live())                                                                                     \
            mg_hb_reset(l);                                                                                        \
        OREAL(init)(l);                                                                                            \
    }                                                                                                              \
    MG_INTERCEPTOR(void, destroy, (void *l))                                                                       \
    {                                                                                                              \
        OREAL(destroy)(l);                                                                                         \
        if (mg_hb_sync_live())                                                                                     \
            mg_hb_reset(l);                                                                                        \
    }                                                                                                              \
    MG_INTERCEPTOR(void, set, (void *l))                                                                           \
    {                                                                                                              \
        OREAL(set)(l);                                                                                             \
        omp_taken(l);                                                                                                  \
    }                                                                                                              \
    MG_INTERCEPTOR(void, unset, (void *l))                                                                         \
    {                                                                                                              \
        omp_letting_go(l);                                                                                             \
        OREAL(unset)(l);                                                                                           \
    }                                                                                                              \
    MG_INTERCEPTOR(int, test, (void *l))                                                                           \
    {                                                                                                              \
        int r = OREAL(test)(l);                                                                                    \
        if (test_ok)                                                                                               \
            omp_taken(l);                                                                                              \
        return r;                                                                                                  \
    }

/* omp_test_lock: nonzero when taken; omp_test_nest_lock: the new nesting
 * count, 0 when not taken */
OMP_LOCKS(omp_init_lock, omp_destroy_lock, omp_set_lock, omp_unset_lock, omp_test_lock, r != 0)
OMP_LOCKS(omp_init_nest_lock, omp_destroy_nest_lock, omp_set_nest_lock, omp_unset_nest_lock, omp_test_nest_lock,
          r > 0)

/* ---- the table ---- */

/* The lock functions' current ABI (OMP_3.0): OMP_1.0's are a compat
 * layout a program built today does not link. */
static const struct mg_intercept omp_table[] = {
    MG_INTERCEPT(GOMP_parallel),
    MG_INTERCEPT(GOMP_parallel_sections),
    MG_INTERCEPT(GOMP_parallel_loop_static),
    MG_INTERCEPT(GOMP_parallel_loop_dynamic),
    MG_INTERCEPT(GOMP_parallel_loop_guided),
    MG_INTERCEPT(GOMP_parallel_loop_nonmonotonic_dynamic),
    MG_INTERCEPT(GOMP_parallel_loop_nonmonotonic_guided),
    MG_INTERCEPT(GOMP_parallel_loop_runtime),
    MG_INTERCEPT(GOMP_parallel_loop_nonmonotonic_runtime),
    MG_INTERCEPT(GOMP_parallel_loop_maybe_nonmonotonic_runtime),
    MG_INTERCEPT(GOMP_barrier),
    MG_INTERCEPT(GOMP_loop_end),
    MG_INTERCEPT(GOMP_sections_end),
    MG_INTERCEPT(GOMP_barrier_cancel),
    MG_INTERCEPT(GOMP_loop_end_cancel),
    MG_INTERCEPT(GOMP_sections_end_cancel),
    MG_INTERCEPT(GOMP_single_copy_start),
    MG_INTERCEPT(GOMP_single_copy_end),
    MG_INTERCEPT(GOMP_critical_start),
    MG_INTERCEPT(GOMP_critical_end),
    MG_INTERCEPT(GOMP_atomic_start),
    MG_INTERCEPT(GOMP_atomic_end),
    MG_INTERCEPT(GOMP_ordered_start),
    MG_INTERCEPT(GOMP_ordered_end),
    MG_INTERCEPT(GOMP_critical_name_start),
    MG_INTERCEPT(GOMP_critical_name_end),
    MG_INTERCEPT(omp_get_num_threads),
    MG_INTERCEPT(GOMP_task),
    MG_INTERCEPT(GOMP_taskloop),
    MG_INTERCEPT(GOMP_taskloop_ull),
    MG_INTERCEPT(GOMP_taskwait),
    MG_INTERCEPT(GOMP_taskwait_depend),
    MG_INTERCEPT(GOMP_taskgroup_start),
    MG_INTERCEPT(GOMP_taskgroup_end),
    MG_INTERCEPT(GOMP_loop_doacross_static_start),
    MG_INTERCEPT(GOMP_loop_doacross_dynamic_start),
    MG_INTERCEPT(GOMP_loop_doacross_guided_start),
    MG_INTERCEPT(GOMP_loop_doacross_runtime_start),
    MG_INTERCEPT(GOMP_loop_doacross_start),
    MG_INTERCEPT(GOMP_loop_ull_doacross_static_start),
    MG_INTERCEPT(GOMP_loop_ull_doacross_dynamic_start),
    MG_INTERCEPT(GOMP_loop_ull_doacross_guided_start),
    MG_INTERCEPT(GOMP_loop_ull_doacross_runtime_start),
    MG_INTERCEPT(GOMP_loop_ull_doacross_start),
    MG_INTERCEPT(omp_fulfill_event),
    MG_INTERCEPT(GOMP_doacross_post),
    MG_INTERCEPT(GOMP_doacross_ull_post),
    MG_INTERCEPT(GOMP_doacross_wait),
    MG_INTERCEPT(GOMP_doacross_ull_wait),
    MG_INTERCEPT_VER(omp_init_lock, "OMP_3.0"),
    MG_INTERCEPT_VER(omp_destroy_lock, "OMP_3.0"),
    MG_INTERCEPT_VER(omp_set_lock, "OMP_3.0"),
    MG_INTERCEPT_VER(omp_unset_lock, "OMP_3.0"),
    MG_INTERCEPT_VER(omp_test_lock, "OMP_3.0"),
    MG_INTERCEPT_VER(omp_init_nest_lock, "OMP_3.0"),
    MG_INTERCEPT_VER(omp_destroy_nest_lock, "OMP_3.0"),
    MG_INTERCEPT_VER(omp_set_nest_lock, "OMP_3.0"),
    MG_INTERCEPT_VER(omp_unset_nest_lock, "OMP_3.0"),
    MG_INTERCEPT_VER(omp_test_nest_lock, "OMP_3.0"),
};

void mg_omp_resolve(void)
{
    /* one lookup for a program without libgomp */
    if (dlsym(RTLD_NEXT, "GOMP_parallel"))
        mg_intercept_resolve(omp_table, MG_INTERCEPT_COUNT(omp_table));
}

/* libgomp loaded after start, by dlopen: its functions, read from its own
 * symbol table without the loader's lock (the default versions, which
 * are OMP_3.0's). */
static void omp_resolve_late(void)
{
    mg_intercept_resolve_loaded(omp_table, MG_INTERCEPT_COUNT(omp_table), "GOMP_parallel");
}
