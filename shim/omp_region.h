/*
 * OpenMP's ordering, as both runtimes' wrappers tell it to the engine:
 * GCC's libgomp (omp_sync.c, GOMP_* entry points) and LLVM's libomp
 * (omp_llvm.c, through its tool interface, OMPT). The constructs are the
 * same, only the calls that mark them differ, so the model lives here
 * once (omp_region.c):
 *
 * - a parallel region: the master's work before it happens before every
 *   thread's part (start), every part before the master's work after it
 *   (end);
 * - a barrier: the engine's barrier, in rounds of the team's size;
 * - libgomp's single with copyprivate: a merged clock (merge before the
 *   wait, acquire after; libomp's copyprivate is a barrier to OMPT);
 * - doacross loops (ordered depend(sink)/depend(source)): every post
 *   before every later wait's return, one merged clock (more ordering
 *   than the sink named: hides races, never invents one);
 * - tasks: each ordered after its own creation and the sibling tasks
 *   its depend clauses name (omp_task below), its end before its
 *   parent's taskwait (omp_kids), its taskgroup's end (omp_group), and
 *   every barrier and the region's end (task_done). Tasks that have no
 *   record (no memory for one) keep the region-wide model: every
 *   creation before every start
 *   (task_made), every completion before every later start and every
 *   wait (task_done).
 *
 * A region's record lives in the master's frame for the region's length.
 */
#ifndef MAPGUARD_OMP_REGION_H
#define MAPGUARD_OMP_REGION_H

#include "common.h"
#include "intercept.h"

#include <stdbool.h>
#include <stdint.h>

struct omp_part;
struct omp_region {
    /* the keys of the region's clocks: their addresses */
    uint64_t start, end, barrier, single, task_made, task_done, doacross;
    uint32_t barrier_made; /* 0, making, made: the first arriver makes it */
    struct omp_part *parts; /* its implicit tasks' records (omp_part_new) */
    struct omp_task *kept;  /* records freed with it (omp_region_keep) */
};

/* The innermost region this thread runs a part of, or a task of (NULL
 * outside any, or in a region libomp runs on one thread). */
extern __thread struct omp_region *omp_cur_region __attribute__((tls_model("initial-exec")));

/* not interposed: the team's size, for a barrier's count (omp_sync.c) */
MG_DECLARE_REAL(int, omp_get_num_threads, (void));
int omp_team_size(void);

/* A record whose tasks may end any time before the region does (a
 * nogroup taskloop's, which its tasks share and no call of the
 * program's waits for): freed with the region's other records, after its
 * last barrier. */
struct omp_task;
void omp_region_keep(struct omp_region *r, struct omp_task *t);

/* The master, around the runtime's call that runs the region. */
void omp_region_begin(struct omp_region *r);
void omp_region_end(struct omp_region *r);

/* A thread's part of the region (the trampoline the runtime calls);
 * returns the region it was in, for omp_part_end. */
struct omp_region *omp_part_begin(struct omp_region *r);
void omp_part_end(struct omp_region *r, struct omp_region *outer);
/* The part's work so far happens before the region's end (omp_part_end
 * without leaving the region). */
void omp_part_done(struct omp_region *r);

/* A barrier of the current region, around the runtime's wait. */
struct omp_arrival {
    struct omp_region *r;
    uint64_t round;
    bool involved;
};
struct omp_arrival omp_barrier_arrive(void); /* the current region's */
struct omp_arrival omp_barrier_arrive_in(struct omp_region *r);
void omp_barrier_leave(struct omp_arrival a);

/* A merged clock of the current region: merge before a wait, acquire
 * after it (more ordering than the program made: hides races, never
 * invents one). */
struct omp_region *omp_single_arrive(void);
void omp_single_leave(struct omp_region *r);

/* Tasks: a creation (before the runtime may run the task), a task's body
 * (its trampoline), and the waits for completions. */
void omp_task_made(struct omp_region *r);
struct omp_region *omp_task_begin(struct omp_region *r);
void omp_task_end(struct omp_region *r, struct omp_region *outer);
void omp_tasks_done(struct omp_region *r);
/* ---- a task of its own ----
 * Both runtimes' explicit tasks (libgomp's taskloops share one record
 * among a taskloop's tasks): each is ordered after its own creation and
 * after the sibling tasks its depend clauses name, not after every
 * earlier creation and completion. A
 * dependence is a pair of clocks per address and parent task, since
 * depend orders siblings only: a task that reads (in) takes the writers'
 * clock at its start and merges into the readers' at its end; one that
 * writes (out, inout, mutexinoutset, inoutset) takes both and merges into
 * the writers'. A taskwait takes its task's children's completions
 * (omp_kids), a taskgroup's end its group's (omp_group); barriers and
 * the region's end take every completion in the region (task_done). */
struct omp_task_dep {
    uintptr_t addr;
    bool writes;
};
/* A task's children's completions, for its taskwait (libgomp's wrappers;
 * omp_sync.c): each child merges its work here when it ends, under the
 * lock, since two may end at once on two threads. coarse: a child was
 * made that does not merge here (one with no record), and the taskwait
 * takes every completion in the region instead. */
struct omp_kids {
    uint32_t lock;
    uint32_t coarse;
    struct mg_hb_clock *clock;
};
void omp_kids_done(struct omp_kids *k);
void omp_kids_taken(struct omp_kids *k);
void omp_kids_clear(struct omp_kids *k);

/* A taskgroup: the completions of its tasks, descendants included, for
 * its end, which takes them and nothing else (taking every completion in
 * the region hid a race with another thread's finished task: a held-out
 * probe's r21, missed 5 of 5). A task belongs to the group innermost open
 * in its creator when it is made, or to its creator's own group when the
 * creator opened none: a descendant of a task of the group is in the
 * group. A task's end merges into its group (omp_task_stops), under the
 * runtime's completion, which the group's end waits for; the record lives
 * from the group's start to its end. done.coarse: a task joined that will
 * not say when it ends (one the shim handed to the runtime unwrapped),
 * and the end takes every completion in the region instead. */
struct omp_group {
    struct omp_kids done;
    struct omp_group *outer;
};
/* The groups a task has open (an explicit task's, a thread's part of a
 * region, a thread outside any): the innermost, and how many inside it
 * were opened with no memory for a record (each ends as a coarse one). */
struct omp_open {
    struct omp_group *top;
    uint32_t lost;
};
/* The task whose groups are o: after the runtime's start, and after its
 * end's wait (r: its region, for a coarse end). */
void omp_group_begin(struct omp_open *o);
void omp_group_end(struct omp_open *o, struct omp_region *r);
/* The group a task made now by o's task joins (NULL: none); one whose end
 * will not be told (tells_end false) makes it coarse. */
struct omp_group *omp_group_joined(struct omp_open *o, bool tells_end);
/* The end of a task of g (NULL: none), before the runtime's completion. */
void omp_group_done(struct omp_group *g);

/* A thread's part of a region (its implicit task): its region and its
 * children's completions. On the region's list, made at the first need
 * (NULL without memory) and freed by omp_region_end, after the region's
 * last barrier, when every task has ended: a part ends before its
 * children may have (they run at that barrier). */
struct omp_part {
    struct omp_region *r;
    struct omp_kids kids;
    struct omp_open open; /* libomp's: its taskgroups */
    struct omp_part *next;
};
struct omp_part *omp_part_new(struct omp_region *r);

struct omp_task {
    struct omp_region *r;
    uintptr_t parent; /* the making task, by an identity of the runtime's */
    /* The task's own clock: its creator's at the creation, and its own
     * work when it stops to resume later, maybe on another thread; each
     * start takes it. */
    struct mg_hb_clock *created;
    int ndeps;
    bool deps_own; /* deps malloc'd apart (libomp tells them later) */
    struct omp_task_dep *deps;
    /* libgomp's: the parent's children (its record's, or its thread's
     * part's), which this task's end merges into; the record of an
     * explicit parent, kept alive by this task's reference; this task's
     * own children; references to this record (its own, one per child
     * not yet ended). */
    struct omp_kids *parent_kids;
    struct omp_task *parent_task;
    struct omp_kids kids;
    uint32_t refs;
    /* the taskgroup it belongs to, which its end merges into; the
     * groups it has open, the innermost its children's */
    struct omp_group *group;
    struct omp_open open;
    struct omp_task *kept_next; /* its region's list, when it is kept (omp_region_keep) */
};
/* The creator, as it makes the task: a record with room for ndeps
 * dependences, filled in by the caller, and the task's clock, in one
 * malloc'd block (NULL without memory: the caller falls back to ordering
 * less precisely, or the task is ordered after nothing of its creator's). */
struct omp_task *omp_task_new(struct omp_region *r, uintptr_t parent, int ndeps);
/* Its dependences, taken by the thread that runs it or that waits for
 * them (a taskwait with depend). */
void omp_task_deps_taken(const struct omp_task *t);
/* The thread that runs it, at its start or resumption; returns the
 * region the thread was in, for omp_task_stops. */
struct omp_region *omp_task_starts(struct omp_task *t);
/* When it stops: a pause (its work before its own resumption), or its
 * end (its work before its dependents and the waits). */
void omp_task_stops(struct omp_task *t, bool pauses);
/* libgomp's: the task's parent, for its taskwait (before the real call,
 * after omp_task_new). */
void omp_task_parent(struct omp_task *t, struct omp_task *parent_task, struct omp_kids *parent_kids);
/* Done with it: its clock goes, and the record once no child of its is
 * left to end. */
void omp_task_free(struct omp_task *t);

/* omp_fulfill_event of an event with no task record (omp_sync.c), before
 * the runtime's: libgomp's detached task completes then, on the
 * fulfilling thread. */
void omp_fulfilled(void);
/* Every such fulfill so far, before a libgomp task's start and in every
 * wait for tasks: a dependent of a detached task starts after the fulfill. */
void omp_fulfills_taken(void);

/* A doacross loop's post (before the runtime's), and its wait's return. */
void omp_doacross_post(void);
void omp_doacross_waited(void);

/* critical, ordered, atomic's lock, omp locks: a lock on key */
void omp_taken(const volatile void *key);
void omp_letting_go(const volatile void *key);

/* Synthetic keys, above sigev_notify.c's (2 << 32 | i) and
 * MG_HB_UNSEEN_KEY (3 << 32). */
#define OMP_KEY(n) MG_HB_SYNTHETIC_KEY((4ull << 32) | (n))
#define OMP_CRITICAL_KEY OMP_KEY(1)
#define OMP_ATOMIC_KEY OMP_KEY(2)
#define OMP_ORDERED_KEY OMP_KEY(3)
#define OMP_FULFILLED_KEY OMP_KEY(4)

#endif
