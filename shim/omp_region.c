/*
 * OpenMP's ordering, told to the happens-before engine: the model both
 * runtimes' wrappers share (omp_region.h says what each construct means).
 */
#include "omp_region.h"

#include "happens_before.h"
#include "hb_lockpath.h"

#include <sched.h>
#include <stdlib.h>

__thread struct omp_region *omp_cur_region __attribute__((tls_model("initial-exec")));

enum { BARRIER_MAKING = 1, BARRIER_MADE };

/* Before the region: from here on the process has threads (the runtime
 * makes its team's through pthread_create, but a team's threads from an
 * earlier region are reused), and the master's clock goes to every part. */
void omp_region_begin(struct omp_region *r)
{
    *r = (struct omp_region){0};
    mg_hb_second_thread();
    if (mg_hb_sync_live())
        mg_hb_release_merge(&r->start);
    mg_solo_record();
}

/* After it: every part happened before, and every task (they run at the
 * region's last barrier); the record's memory is the master's stack
 * again. */
void omp_region_end(struct omp_region *r)
{
    if (mg_hb_sync_live()) {
        mg_hb_acquire(&r->end);
        mg_hb_acquire(&r->task_done);
        mg_hb_reset(&r->start);
        mg_hb_reset(&r->end);
        mg_hb_reset(&r->single);
        mg_hb_reset(&r->task_made);
        mg_hb_reset(&r->task_done);
        mg_hb_reset(&r->doacross);
    }
    /* made whenever the engine follows threads, before the first map too */
    if (__atomic_load_n(&r->barrier_made, __ATOMIC_ACQUIRE))
        mg_hb_reset(&r->barrier);
    for (struct omp_part *p = r->parts, *n; p; p = n) {
        n = p->next;
        omp_kids_clear(&p->kids);
        free(p);
    }
    r->parts = NULL;
    for (struct omp_task *t = r->kept, *n; t; t = n) {
        n = t->kept_next;
        omp_task_free(t);
    }
    r->kept = NULL;
}

void omp_region_keep(struct omp_region *r, struct omp_task *t)
{
    t->kept_next = __atomic_load_n(&r->kept, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&r->kept, &t->kept_next, t, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        ;
}

struct omp_part *omp_part_new(struct omp_region *r)
{
    struct omp_part *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->r = r;
    p->next = __atomic_load_n(&r->parts, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&r->parts, &p->next, p, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        ;
    return p;
}

struct omp_region *omp_part_begin(struct omp_region *r)
{
    struct omp_region *outer = omp_cur_region;
    omp_cur_region = r;
    if (mg_hb_sync_live())
        mg_hb_acquire(&r->start);
    return outer;
}

void omp_part_done(struct omp_region *r)
{
    if (mg_hb_sync_live())
        mg_hb_release_merge(&r->end);
}

void omp_part_end(struct omp_region *r, struct omp_region *outer)
{
    omp_part_done(r);
    omp_cur_region = outer;
}

/* ---- barriers ----
 * The engine's barrier, as for pthread_barrier_wait: rounds of the team's
 * size, each thread's work before its arrival in a round happening before
 * every thread's work after that round. The barrier is made by the first
 * thread to arrive at one, with the team's size; the others wait for it,
 * a few instructions. */

static void barrier_make(struct omp_region *r)
{
    uint32_t state = __atomic_load_n(&r->barrier_made, __ATOMIC_ACQUIRE);
    if (MG_LIKELY(state == BARRIER_MADE))
        return;
    if (state == 0 && __atomic_compare_exchange_n(&r->barrier_made, &state, BARRIER_MAKING, false,
                                                  __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        int n = omp_team_size();
        mg_hb_barrier_init(&r->barrier, n > 0 ? (unsigned)n : 0);
        __atomic_store_n(&r->barrier_made, BARRIER_MADE, __ATOMIC_RELEASE);
        return;
    }
    while (__atomic_load_n(&r->barrier_made, __ATOMIC_ACQUIRE) != BARRIER_MADE)
        sched_yield();
}

struct omp_arrival omp_barrier_arrive(void) { return omp_barrier_arrive_in(omp_cur_region); }

struct omp_arrival omp_barrier_arrive_in(struct omp_region *r)
{
    struct omp_arrival a = {.r = r};
    if (a.r && mg_hb_enabled()) {
        barrier_make(a.r);
        a.round = mg_hb_barrier_arrive(&a.r->barrier, &a.involved);
    }
    return a;
}

void omp_barrier_leave(struct omp_arrival a)
{
    if (a.involved)
        mg_hb_barrier_depart(&a.r->barrier, a.round);
    omp_tasks_done(a.r); /* a barrier waits for the team's tasks */
}

/* ---- a merged clock ---- */

struct omp_region *omp_single_arrive(void)
{
    struct omp_region *r = omp_cur_region;
    if (r && mg_hb_sync_live())
        mg_hb_release_merge(&r->single);
    return r;
}

void omp_single_leave(struct omp_region *r)
{
    if (r && mg_hb_sync_live())
        mg_hb_acquire(&r->single);
}

/* ---- tasks with no record of their own ----
 * Every creation merges into the region's task_made clock, which every
 * such task's start acquires, and every completion into task_done, which
 * their starts, a coarse taskwait or taskgroup end, a barrier and the
 * region's end acquire. That is more ordering than the program made
 * (every earlier creation and completion, not only the task's own and
 * its dependences'): it hides races between tasks, never invents one,
 * and a task's dependences (depend clauses) need no model of their own.
 *
 * The task runs in its region, whatever the thread was doing: a team
 * thread runs tasks in the region's last barrier, after its own part has
 * returned, and the tasks a task creates belong to the region too (a
 * held-out probe: a grandchild task made there went to libgomp unwrapped,
 * and its writes were reported against calls its taskgroup's end
 * ordered). */

void omp_task_made(struct omp_region *r)
{
    if (r && mg_hb_sync_live())
        mg_hb_release_merge(&r->task_made);
}

struct omp_region *omp_task_begin(struct omp_region *r)
{
    struct omp_region *outer = omp_cur_region;
    omp_cur_region = r;
    if (r && mg_hb_sync_live()) {
        mg_hb_acquire(&r->task_made);
        mg_hb_acquire(&r->task_done);
        mg_hb_acquire(OMP_FULFILLED_KEY);
    }
    return outer;
}

void omp_task_end(struct omp_region *r, struct omp_region *outer)
{
    if (r && mg_hb_sync_live())
        mg_hb_release_merge(&r->task_done);
    omp_cur_region = outer;
}

void omp_tasks_done(struct omp_region *r)
{
    if (r && mg_hb_sync_live()) {
        mg_hb_acquire(&r->task_done);
        mg_hb_acquire(OMP_FULFILLED_KEY);
    }
}

/* ---- a task of its own (omp_region.h) ---- */

struct omp_task *omp_task_new(struct omp_region *r, uintptr_t parent, int ndeps)
{
    /* one block: the record, its dependences, its clock */
    size_t deps = ndeps > 0 ? (size_t)ndeps * sizeof(struct omp_task_dep) : 0;
    size_t head = (sizeof(struct omp_task) + deps + 15) & ~(size_t)15;
    size_t clock = mg_hb_clock_bytes();
    struct omp_task *t = malloc(head + clock);
    if (!t)
        return NULL;
    *t = (struct omp_task){.r = r, .parent = parent, .ndeps = ndeps > 0 ? ndeps : 0, .refs = 1};
    t->deps = deps ? (struct omp_task_dep *)(void *)(t + 1) : NULL;
    t->created = mg_hb_clock_place((char *)t + head, clock);
    mg_hb_clock_release(&t->created);
    return t;
}

/* A hash of the pair, in 56 bits: two pairs that collide share their
 * clocks, which only orders more. */
static const volatile void *dep_key(const struct omp_task *t, uintptr_t addr, bool writers)
{
    uint64_t h = (uint64_t)t->parent * 0x9e3779b97f4a7c15ull ^ (uint64_t)addr * 0xc2b2ae3d27d4eb4full;
    h ^= h >> 31;
    return MG_HB_SYNTHETIC_KEY((writers ? 2ull : 1ull) << 56 | (h & ((1ull << 56) - 1)));
}

void omp_task_deps_taken(const struct omp_task *t)
{
    if (!mg_hb_sync_live())
        return;
    for (int i = 0; i < t->ndeps; i++) {
        mg_hb_acquire(dep_key(t, t->deps[i].addr, true));
        if (t->deps[i].writes)
            mg_hb_acquire(dep_key(t, t->deps[i].addr, false));
    }
}

struct omp_region *omp_task_starts(struct omp_task *t)
{
    struct omp_region *outer = omp_cur_region;
    omp_cur_region = t->r;
    mg_hb_clock_acquire(t->created);
    omp_task_deps_taken(t);
    return outer;
}

void omp_task_stops(struct omp_task *t, bool pauses)
{
    if (pauses) {
        mg_hb_clock_release(&t->created);
        return;
    }
    if (!mg_hb_sync_live())
        return;
    for (int i = 0; i < t->ndeps; i++)
        mg_hb_release_merge(dep_key(t, t->deps[i].addr, t->deps[i].writes));
    if (t->r)
        mg_hb_release_merge(&t->r->task_done);
    if (t->parent_kids)
        omp_kids_done(t->parent_kids);
    omp_group_done(t->group);
}

void omp_task_parent(struct omp_task *t, struct omp_task *parent_task, struct omp_kids *parent_kids)
{
    if (parent_task)
        __atomic_add_fetch(&parent_task->refs, 1, __ATOMIC_RELAXED);
    t->parent_task = parent_task;
    t->parent_kids = parent_kids;
}

void omp_task_free(struct omp_task *t)
{
    /* a child's end drops its parent's record too, when it was the last */
    while (t && __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        struct omp_task *up = t->parent_task;
        mg_hb_clock_free(t->created);
        omp_kids_clear(&t->kids);
        if (t->deps_own)
            free(t->deps);
        free(t);
        t = up;
    }
}

/* ---- a task's children (omp_region.h) ---- */

static void kids_lock(struct omp_kids *k)
{
    while (__atomic_exchange_n(&k->lock, 1, __ATOMIC_ACQUIRE))
        sched_yield();
}
static void kids_unlock(struct omp_kids *k) { __atomic_store_n(&k->lock, 0, __ATOMIC_RELEASE); }

void omp_kids_done(struct omp_kids *k)
{
    kids_lock(k);
    mg_hb_clock_release(&k->clock);
    kids_unlock(k);
}

void omp_kids_taken(struct omp_kids *k)
{
    kids_lock(k);
    mg_hb_clock_acquire(k->clock);
    kids_unlock(k);
}

void omp_kids_clear(struct omp_kids *k)
{
    mg_hb_clock_free(k->clock);
    k->clock = NULL;
    k->coarse = 0;
}

/* ---- taskgroups (omp_region.h) ---- */

/* A start with no memory for a record, or inside such a one: counted, so
 * that ends keep pairing with their starts (each counted end is coarse). */
void omp_group_begin(struct omp_open *o)
{
    struct omp_group *g = o->lost ? NULL : calloc(1, sizeof *g);
    if (!g) {
        o->lost++;
        return;
    }
    g->outer = o->top;
    o->top = g;
}

void omp_group_end(struct omp_open *o, struct omp_region *r)
{
    struct omp_group *g = o->top;
    if (o->lost || !g) { /* no record, or a start the shim did not see */
        if (o->lost)
            o->lost--;
        omp_tasks_done(r);
        return;
    }
    o->top = g->outer;
    if (__atomic_load_n(&g->done.coarse, __ATOMIC_RELAXED)) {
        omp_tasks_done(r);
    } else if (mg_hb_sync_live()) {
        omp_kids_taken(&g->done);
        omp_fulfills_taken(); /* a detached task of the group without a record may end there */
    }
    omp_kids_clear(&g->done);
    free(g);
}

/* Inside a group whose start had no record, the next one out: its end
 * waits for the task too, and the inner one's end is coarse anyway. */
struct omp_group *omp_group_joined(struct omp_open *o, bool tells_end)
{
    struct omp_group *g = o->top;
    if (g && !tells_end)
        __atomic_store_n(&g->done.coarse, 1, __ATOMIC_RELAXED);
    return g;
}

void omp_group_done(struct omp_group *g)
{
    if (g && mg_hb_sync_live())
        omp_kids_done(&g->done);
}

/* One clock for the fulfills of events with no task record (omp_sync.c:
 * a task handed to libgomp unwrapped, or fulfilled before its body
 * started), whichever region or thread: more ordering than the event
 * gave, never less. */
void omp_fulfilled(void)
{
    if (mg_hb_sync_live())
        mg_hb_release_merge(OMP_FULFILLED_KEY);
}

void omp_fulfills_taken(void)
{
    if (mg_hb_sync_live())
        mg_hb_acquire(OMP_FULFILLED_KEY);
}

/* ---- doacross ---- */

void omp_doacross_post(void)
{
    struct omp_region *r = omp_cur_region;
    if (r && mg_hb_sync_live())
        mg_hb_release_merge(&r->doacross);
}

void omp_doacross_waited(void)
{
    struct omp_region *r = omp_cur_region;
    if (r && mg_hb_sync_live())
        mg_hb_acquire(&r->doacross);
}

/* ---- locks ---- */

void omp_taken(const volatile void *key)
{
    if (mg_hb_sync_live())
        MG_HB_LOCK_ACQUIRED(key);
}

void omp_letting_go(const volatile void *key)
{
    if (mg_hb_sync_live())
        MG_HB_LOCK_RELEASING(key);
}
