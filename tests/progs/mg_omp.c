/*
 * OpenMP programs (GCC's libgomp) under the happens-before engine
 * (shim/omp_sync.c): a map shared through each construct stays clean, and
 * the same sharing with the construct left out gives one unordered
 * finding. Teams of two threads. Racy scenarios sequence their two calls
 * with a C11 atomic the shim cannot see, so the outcome never depends on
 * timing. One scenario per run, named by argv[1]; lines the tests look
 * for carry an @site comment. Built by gcc with -fopenmp (Makefile).
 */
#include <gomap.h>
#include "scenario.h"

#include <omp.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

static gomap *M;

static gomap *make_map(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8};
    gomap *m = gomap_new(&t, 0); /* @site:made */
    if (!m)
        abort();
    return m;
}

static void set(int64_t k) { gomap_set(M, &k, &k); }

static void must_have(int64_t k)
{
    if (!gomap_get(M, &k))
        abort();
}

static atomic_int flag;
static void signal_flag(void) { atomic_store_explicit(&flag, 1, memory_order_release); }
static void wait_flag(void)
{
    while (!atomic_load_explicit(&flag, memory_order_acquire))
        sched_yield();
}

/* ---- clean ---- */

/* A taskgroup's end waits for its tasks and their descendants: a
 * grandchild made by a task that ends without waiting for it; a group
 * inside a task, and one nested in another; a taskloop in a group. The
 * writers run at once under critical; the reads after each end are
 * outside it. */
static void taskgroups_clean(void)
{
    M = make_map();
#pragma omp parallel num_threads(2)
#pragma omp single
    for (int64_t round = 0; round < 20; round++) {
#pragma omp taskgroup
        {
#pragma omp task firstprivate(round)
            {
#pragma omp task firstprivate(round)
                {
#pragma omp critical
                    set(500 + round);
                }
            }
#pragma omp task firstprivate(round)
            {
#pragma omp critical
                set(600 + round);
            }
        }
        must_have(500 + round);
        must_have(600 + round);
#pragma omp task firstprivate(round)
        {
#pragma omp taskgroup
            {
#pragma omp task firstprivate(round)
                {
#pragma omp taskgroup
                    {
#pragma omp task firstprivate(round)
                        {
#pragma omp critical
                            set(700 + round);
                        }
                    }
#pragma omp critical
                    set(800 + round);
                }
            }
            must_have(700 + round);
            must_have(800 + round);
        }
#pragma omp taskwait
#pragma omp taskgroup
        {
#pragma omp taskloop grainsize(2) firstprivate(round)
            for (int64_t i = 0; i < 4; i++) {
#pragma omp critical
                set(900 + 10 * round + i);
            }
        }
        must_have(900 + 10 * round + 3);
    }
}

/* every thread writes under critical; the master reads after the region,
 * and writes before the next one, which every thread reads */
static void critical_regions_clean(void)
{
    M = make_map();
    for (int round = 0; round < 3; round++) {
#pragma omp parallel for num_threads(2)
        for (int64_t i = 0; i < 100; i++) {
#pragma omp critical
            set(i);
        }
        must_have(99);
        set(1000 + round);
#pragma omp parallel num_threads(2)
        must_have(1000 + round);
    }
}

/* named critical, atomic's lock, ordered */
static void named_critical_clean(void)
{
    M = make_map();
#pragma omp parallel for num_threads(2) schedule(dynamic)
    for (int64_t i = 0; i < 64; i++) {
#pragma omp critical(table)
        set(i);
    }
    must_have(63);
#pragma omp parallel for num_threads(2) ordered schedule(static, 1)
    for (int64_t i = 0; i < 16; i++) {
#pragma omp ordered
        set(100 + i);
    }
    must_have(115);
}

/* an explicit barrier, and a worksharing loop's implicit one */
static void barriers_clean(void)
{
    M = make_map();
    gomap *loop_map = make_map();
#pragma omp parallel num_threads(2)
    {
        if (omp_get_thread_num() == 0)
            set(1);
#pragma omp barrier
        must_have(1);
#pragma omp barrier
        /* thread 1's write is ordered before the reads after the loop by
         * the loop's implicit barrier alone; the loop's own writes go to
         * another map, under critical */
        if (omp_get_thread_num() == 1)
            set(2);
#pragma omp for schedule(dynamic)
        for (int64_t i = 0; i < 8; i++) {
#pragma omp critical
            gomap_set(loop_map, &i, &i);
        }
        must_have(2);
    }
}

/* omp_lock_t and omp_nest_lock_t, made and destroyed twice: each guards
 * a map of its own */
static void locks_clean(void)
{
    M = make_map();
    gomap *nested = make_map();
    for (int round = 0; round < 2; round++) {
        omp_lock_t l;
        omp_nest_lock_t n;
        omp_init_lock(&l);
        omp_init_nest_lock(&n);
#pragma omp parallel for num_threads(2)
        for (int64_t i = 0; i < 50; i++) {
            if (i % 2) {
                while (!omp_test_lock(&l))
                    ;
                set(i);
                omp_unset_lock(&l);
            } else {
                omp_set_lock(&l);
                set(i);
                omp_unset_lock(&l);
            }
            omp_set_nest_lock(&n);
            if (omp_test_nest_lock(&n) != 2)
                abort();
            gomap_set(nested, &i, &i);
            omp_unset_nest_lock(&n);
            omp_unset_nest_lock(&n);
        }
        omp_destroy_lock(&l);
        omp_destroy_nest_lock(&n);
        must_have(49);
        int64_t k = 49;
        if (!gomap_get(nested, &k))
            abort();
    }
}

/* combined forms: sections, a loop with a run-time schedule; single with
 * copyprivate (its barrier) */
static void combined_clean(void)
{
    M = make_map();
#pragma omp parallel sections num_threads(2)
    {
#pragma omp section
        {
#pragma omp critical
            set(1);
        }
#pragma omp section
        {
#pragma omp critical
            set(2);
        }
    }
    must_have(1);
    must_have(2);
#pragma omp parallel for num_threads(2) schedule(runtime)
    for (int64_t i = 0; i < 20; i++) {
#pragma omp critical
        set(10 + i);
    }
    must_have(29);
#pragma omp parallel num_threads(2)
    {
        int64_t got;
#pragma omp single copyprivate(got)
        {
            set(40);
            got = 40;
        }
        must_have(got);
    }
}

/* tasks: created by one thread, run by any; ordered at their start after
 * their own creation and their dependences, and complete at taskwait, a
 * taskgroup's end, a taskloop's end and a barrier. A dependence hands the
 * map from one task to the next with no lock. A task made by a task, and
 * a detached one (both found wrong by a held-out probe). */
static void tasks_clean(void)
{
    M = make_map();
    gomap *handed = make_map();
    int x = 0;
#pragma omp parallel num_threads(2)
#pragma omp single
    {
        for (int64_t i = 0; i < 20; i++) {
#pragma omp task firstprivate(i)
            {
#pragma omp critical
                set(i);
            }
        }
#pragma omp taskwait
        must_have(19);
#pragma omp taskgroup
        {
#pragma omp task
            set(100);
        }
        must_have(100);
#pragma omp taskloop grainsize(4)
        for (int64_t i = 200; i < 240; i++) {
#pragma omp critical
            set(i);
        }
        must_have(239);
        /* a grandchild: the taskgroup's end waits for it too */
#pragma omp taskgroup
        {
#pragma omp task
            {
#pragma omp task
                set(300);
            }
        }
        must_have(300);
        /* a detached task: libgomp writes its event into the task's block */
        omp_event_handle_t ev;
#pragma omp task detach(ev)
        {
            set(301);
            omp_fulfill_event(ev);
        }
#pragma omp taskwait
        must_have(301);
#pragma omp task depend(out : x) shared(x)
        {
            int64_t k = 1;
            gomap_set(handed, &k, &k);
            x = 1;
        }
#pragma omp task depend(in : x) shared(x)
        {
            int64_t k = 1;
            if (!gomap_get(handed, &k) || x != 1)
                abort();
        }
        /* a writer, two readers at once, then a writer after both: the
         * last one is ordered after the readers through its inout */
        int y = 0;
#pragma omp task depend(out : y) shared(y)
        {
            set(400);
            y = 1;
        }
#pragma omp task depend(in : y) shared(y)
        must_have(400);
#pragma omp task depend(in : y) shared(y)
        must_have(400);
#pragma omp task depend(inout : y) shared(y)
        set(401);
#pragma omp taskwait
        must_have(401);
        /* a taskwait with depend, and an undeferred task with depend: the
         * waiting thread is ordered after the dependence (libomp reports
         * it as a task of its own, which only completes; a held-out probe
         * saw both reported). The maker waits until the task is running,
         * so that it runs on the other thread, not inline in the wait. */
        int z = 0;
        atomic_int running = 0;
#pragma omp task depend(out : z) shared(z, running)
        {
            atomic_store(&running, 1);
            set(500);
            z = 1;
        }
        while (!atomic_load(&running))
            sched_yield();
#pragma omp taskwait depend(in : z)
        must_have(500);
        atomic_store(&running, 0);
#pragma omp task depend(out : z) shared(z, running)
        {
            atomic_store(&running, 1);
            set(501);
        }
        while (!atomic_load(&running))
            sched_yield();
#pragma omp task if (0) depend(in : z) shared(z)
        must_have(501);
        /* a detached task whose event another task fulfills after its
         * own write, and a task that depends on the detached one (libgomp
         * says nothing of the fulfill: a held-out probe's program was
         * reported before omp_fulfill_event was wrapped) */
        omp_event_handle_t ev2;
        atomic_store(&running, 0);
#pragma omp task detach(ev2) depend(out : z) shared(z)
        {
        }
        atomic_int dependent_started = 0;
#pragma omp task firstprivate(ev2) shared(running, dependent_started)
        {
            atomic_store(&running, 1);
            set(502);
            omp_fulfill_event(ev2);
            /* ends after the dependent starts: only the fulfill orders them */
            while (!atomic_load(&dependent_started))
                sched_yield();
        }
        while (!atomic_load(&running))
            sched_yield();
#pragma omp task depend(in : z) shared(z, dependent_started)
        {
            atomic_store(&dependent_started, 1);
            must_have(502);
        }
#pragma omp taskwait
    }
    must_have(0);
}

/* doacross loops: each iteration's map calls, in its ordered region,
 * wait for the iteration before (depend(sink)) and let the next one go
 * (depend(source)); reported at every iteration before the doacross
 * wrappers (a held-out probe). Then a two-dimensional one, whose waits
 * take two arguments (the shim passes on as many as the loop has), with
 * the map under critical: a wavefront orders rows, not the whole map. */
static void doacross_clean(void)
{
    M = make_map();
    for (int round = 0; round < 3; round++) {
#pragma omp parallel for ordered(1) num_threads(2) schedule(static, 1)
        for (int64_t i = 0; i < 30; i++) {
#pragma omp ordered depend(sink : i - 1)
            {
                if (i > 0)
                    must_have(i - 1);
                set(i);
            }
#pragma omp ordered depend(source)
        }
        must_have(29);
        gomap_clear(M);
    }
    int64_t done[6][3] = {{0}};
#pragma omp parallel for ordered(2) num_threads(2) schedule(static, 1)
    for (int64_t i = 0; i < 6; i++)
        for (int64_t j = 0; j < 3; j++) {
#pragma omp ordered depend(sink : i - 1, j)
            {
                if (i > 0 && !__atomic_load_n(&done[i - 1][j], __ATOMIC_RELAXED))
                    abort();
#pragma omp critical
                set(100 + i * 3 + j);
                __atomic_store_n(&done[i][j], 1, __ATOMIC_RELAXED);
            }
#pragma omp ordered depend(source)
        }
    must_have(117);
    /* ten dimensions: libgomp's wait takes one argument per dimension
     * (the shim once passed on at most eight, and ended the process) */
#pragma omp parallel for ordered(10) num_threads(2) schedule(static, 1)
    for (int64_t i = 0; i < 6; i++)
        for (int a = 0; a < 1; a++)
            for (int b = 0; b < 1; b++)
                for (int c = 0; c < 1; c++)
                    for (int d = 0; d < 1; d++)
                        for (int e = 0; e < 1; e++)
                            for (int f = 0; f < 1; f++)
                                for (int g = 0; g < 1; g++)
                                    for (int h = 0; h < 1; h++)
                                        for (int j = 0; j < 1; j++) {
#pragma omp ordered depend(sink : i - 1, a, b, c, d, e, f, g, h, j)
                                            {
                                                if (i > 0)
                                                    must_have(200 + i - 1);
                                                set(200 + i);
                                            }
#pragma omp ordered depend(source)
                                        }
    must_have(205);
}

/* a taskloop with a reduction: each iteration fills a map of its own,
 * read after the taskloop's end (libgomp reads the reduction's data
 * from the task's block: the shim once handed such a taskloop over
 * unwrapped, and the reads were reported) */
static void taskloop_reduction_clean(void)
{
    gomap *maps[8];
    for (int i = 0; i < 8; i++)
        maps[i] = make_map();
    int64_t sum = 0;
#pragma omp parallel num_threads(2)
#pragma omp single
    for (int64_t round = 0; round < 10; round++) {
#pragma omp taskloop reduction(+ : sum) grainsize(1)
        for (int i = 0; i < 8; i++) {
            sum += i;
            gomap_set(maps[i], &round, &round);
        }
        for (int i = 0; i < 8; i++)
            if (!gomap_get(maps[i], &round))
                abort();
    }
    if (sum != 280)
        abort();
}

/* ---- races ---- */

/* the region's threads write under no critical: thread 1 after thread 0 */
static void unlocked_race(void)
{
    M = make_map();
#pragma omp parallel num_threads(2)
    {
        if (omp_get_thread_num() == 0) {
            int64_t k = 1;
            gomap_set(M, &k, &k); /* @site:omp_first_set */
            signal_flag();
        } else {
            wait_flag();
            int64_t k = 2;
            gomap_set(M, &k, &k); /* @site:omp_second_set */
        }
    }
}

/* a read after thread 0's write with no barrier between */
static void no_barrier_race(void)
{
    M = make_map();
#pragma omp parallel num_threads(2)
    {
        if (omp_get_thread_num() == 0) {
            int64_t k = 1;
            gomap_set(M, &k, &k); /* @site:omp_before_set */
            signal_flag();
        } else {
            wait_flag();
            int64_t k = 1;
            gomap_get(M, &k); /* @site:omp_nobarrier_get */
        }
#pragma omp barrier
    }
}

/* a barrier round orders what comes before it, not two threads' calls
 * after it, whatever barrier follows */
static void same_round_race(void)
{
    M = make_map();
#pragma omp parallel num_threads(2)
    {
#pragma omp barrier
        if (omp_get_thread_num() == 1) {
            int64_t k = 1;
            gomap_get(M, &k); /* @site:omp_round_get */
            signal_flag();
        } else {
            wait_flag();
            int64_t k = 1;
            gomap_set(M, &k, &k); /* @site:omp_round_set */
        }
#pragma omp barrier
    }
}

/* two tasks that run at once, on the team's two threads: the reader
 * tells the writer through a C11 atomic, and waits for the write before
 * it ends, so that neither ends before the other starts, whichever
 * order the runtime starts them in (libgomp: first made first, libomp:
 * last made first on the making thread); nothing orders them */
static atomic_int written;
static void tasks_race(void)
{
    M = make_map();
#pragma omp parallel num_threads(2)
#pragma omp single
    {
#pragma omp task
        {
            wait_flag();
            int64_t k = 1;
            gomap_set(M, &k, &k); /* @site:omp_task_set */
            atomic_store_explicit(&written, 1, memory_order_release);
        }
#pragma omp task
        {
            int64_t k = 1;
            gomap_get(M, &k); /* @site:omp_task_get */
            signal_flag();
            while (!atomic_load_explicit(&written, memory_order_acquire))
                sched_yield();
        }
    }
}

/* thread 1 writes, then makes a task of its own unrelated to the map;
 * thread 0 then runs an undeferred task that reads the map: a task's
 * start is ordered after its own creation, not after every earlier one
 * (the first model of libgomp's tasks ordered it after every creation,
 * and missed it) */
static atomic_int unrelated_made, read_done, unrelated_ran;
static void task_after_unrelated_creation_race(void)
{
    M = make_map();
#pragma omp parallel num_threads(2)
    {
        if (omp_get_thread_num() == 1) {
            int64_t k = 1;
            gomap_set(M, &k, &k); /* @site:omp_before_unrelated_set */
#pragma omp task
            atomic_fetch_add(&unrelated_ran, 1);
            atomic_store(&unrelated_made, 1);
            while (!atomic_load(&read_done)) /* out of the task pool until the read */
                sched_yield();
        } else {
            while (!atomic_load(&unrelated_made))
                sched_yield();
#pragma omp task if (0)
            {
                int64_t k = 1;
                gomap_get(M, &k); /* @site:omp_undeferred_get */
                atomic_store(&read_done, 1);
            }
        }
    }
}

/* depend orders sibling tasks only: two threads' tasks on the same
 * address, the first done before the second is made (the first model of
 * libgomp's tasks ordered every completion before every later start,
 * and missed it) */
static atomic_int first_done;
static void tasks_of_two_parents_race(void)
{
    M = make_map();
    int x = 0;
#pragma omp parallel num_threads(2) shared(x)
    {
        if (omp_get_thread_num() == 0) {
#pragma omp task depend(out : x) shared(x)
            {
                int64_t k = 1;
                gomap_set(M, &k, &k); /* @site:omp_first_parent_set */
                x = 1;
            }
#pragma omp taskwait
            atomic_store(&first_done, 1);
        } else {
            while (!atomic_load(&first_done))
                sched_yield();
#pragma omp task depend(out : x) shared(x) if (0)
            {
                int64_t k = 2;
                gomap_set(M, &k, &k); /* @site:omp_second_parent_set */
            }
        }
    }
}

/* the depend kinds gcc passes libgomp in its second array form
 * (mutexinoutset, depobj) besides in and out. Each round: a depobj's
 * inout task, which the other thread runs (the maker spins, out of the
 * task pool, until it has); then an undeferred mutexinoutset task, which
 * runs on the maker once that one is done; a deferred mutexinoutset task;
 * and an undeferred in task after both. Every hand-off is through x, and
 * the first crosses threads every round. */
static atomic_long depobj_ran;
static void depend_kinds_clean(void)
{
    M = make_map();
    int x = 0;
#pragma omp parallel num_threads(2)
#pragma omp single
    {
        for (int64_t round = 0; round < 20; round++) {
            int64_t k = 1000 + round * 4;
            omp_depend_t o;
#pragma omp depobj(o) depend(inout : x)
#pragma omp task depend(depobj : o) firstprivate(k, round)
            {
                set(k);
                atomic_store(&depobj_ran, round + 1);
            }
            while (atomic_load(&depobj_ran) != round + 1)
                sched_yield();
#pragma omp task depend(mutexinoutset : x) firstprivate(k) if (0)
            {
                must_have(k);
                set(k + 1);
            }
#pragma omp task depend(mutexinoutset : x) firstprivate(k)
            set(k + 2);
#pragma omp task depend(in : x) firstprivate(k) if (0)
            {
                must_have(k + 1);
                must_have(k + 2);
            }
#pragma omp depobj(o) destroy
        }
    }
    (void)x;
}

/* 40,000 tasks in 8 dependence chains, made faster than they run: far
 * more tasks pending at once than the engine has room for objects'
 * clocks (16,384). A task's own clock is its record's, so the table
 * never fills, and the shim has nothing to say at exit. */
static void many_tasks_clean(void)
{
    gomap *chain[8];
    int dep[8];
    for (int c = 0; c < 8; c++)
        chain[c] = make_map();
#pragma omp parallel num_threads(2)
#pragma omp single
    for (int64_t t = 0; t < 40000; t++) {
        int c = (int)(t % 8);
#pragma omp task depend(inout : dep[c]) firstprivate(c, t)
        {
            int64_t k = t & 255;
            gomap_set(chain[c], &k, &t);
        }
    }
    for (int c = 0; c < 8; c++)
        gomap_free(chain[c]);
    (void)dep;
}

/* a taskwait with depend waits for the siblings its clause names only:
 * a task on x, run by the other thread (the maker spins, out of the task
 * pool, until it has written), is not waited for by taskwait depend(in: y),
 * and the maker's read after it races with the task's write */
static atomic_int x_written;
static void taskwait_depend_race(void)
{
    M = make_map();
    int x = 0, y = 0;
#pragma omp parallel num_threads(2)
#pragma omp single
    {
#pragma omp task depend(out : x) shared(x)
        {
            int64_t k = 1;
            gomap_set(M, &k, &k); /* @site:omp_twdep_set */
            x = 1;
            atomic_store(&x_written, 1);
        }
        while (!atomic_load(&x_written))
            sched_yield();
#pragma omp taskwait depend(in : y)
        int64_t k = 1;
        gomap_get(M, &k); /* @site:omp_twdep_get */
#pragma omp taskwait
    }
    (void)x, (void)y;
}

/* The writing half of the two scenarios below: a task of this thread's
 * writes and ends, run by this thread in its own taskwait while the
 * other thread spins out of the task pool; then *done is set. */
static void own_task_writes(atomic_int *done)
{
#pragma omp task
    {
        int64_t k = 1;
        gomap_set(M, &k, &k); /* @site:omp_own_task_set */
    }
#pragma omp taskwait
    atomic_store(done, 1);
}

/* a taskwait waits for the waiting task's own children: thread 1's task
 * writes and ends, then thread 0, which has no children, waits and
 * reads */
static atomic_int child_waited;
static void taskwait_no_children_race(void)
{
    M = make_map();
#pragma omp parallel num_threads(2)
    {
        if (omp_get_thread_num() == 1) {
            own_task_writes(&child_waited);
        } else {
            while (!atomic_load(&child_waited))
                sched_yield();
#pragma omp taskwait
            int64_t k = 1;
            gomap_get(M, &k); /* @site:omp_twchild_get */
        }
    }
}

/* a taskgroup's end waits for the group's tasks only: thread 1's task
 * writes and ends, then thread 0 runs a group of an empty task and an
 * empty taskloop, and reads. Thread 1 spins till then, out of the task
 * pool: had it run one of the group's tasks, its write would be ordered
 * before the group's end, through its own program order. */
static atomic_int other_task_done, group_read;
static void taskgroup_other_task_race(void)
{
    M = make_map();
#pragma omp parallel num_threads(2)
    {
        if (omp_get_thread_num() == 1) {
            own_task_writes(&other_task_done);
            while (!atomic_load(&group_read))
                sched_yield();
        } else {
            while (!atomic_load(&other_task_done))
                sched_yield();
#pragma omp taskgroup
            {
#pragma omp task
                {
                }
#pragma omp taskloop grainsize(1)
                for (int i = 0; i < 2; i++) {
                }
            }
            int64_t k = 1;
            gomap_get(M, &k); /* @site:omp_tgother_get */
            atomic_store(&group_read, 1);
        }
    }
}

/* keys from to from + 7, by a nogroup taskloop's tasks */
static void nogroup_fill(int64_t from)
{
#pragma omp taskloop nogroup grainsize(1)
    for (int64_t i = from; i < from + 8; i++) {
#pragma omp critical
        set(i);
    }
}

static void must_have_8(int64_t from)
{
    for (int64_t i = from; i < from + 8; i++)
        must_have(i);
}

/* a nogroup taskloop's tasks are waited for by the taskgroup around it,
 * by a taskwait, and by the region's end */
static void nogroup_taskloop_clean(void)
{
    M = make_map();
#pragma omp parallel num_threads(2)
#pragma omp single
    {
#pragma omp taskgroup
        nogroup_fill(0);
        must_have_8(0);
        nogroup_fill(100);
#pragma omp taskwait
        must_have_8(100);
        nogroup_fill(200);
    }
    must_have_8(200);
}

/* a taskgroup holding a nogroup taskloop waits for the taskloop's tasks,
 * not for every task of the region: task Q writes on another thread and
 * ends; two tasks then keep both other threads busy, so that the creator
 * runs the taskloop's tasks itself (run on Q's thread, they would carry
 * Q's write into the group through that thread's own order); it reads
 * after the group's end. */
static atomic_int q_done, busy_started, nogroup_read;
static void nogroup_taskloop_race(void)
{
    M = make_map();
#pragma omp parallel num_threads(3)
#pragma omp single
    {
#pragma omp task
        {
            int64_t k = 1;
            gomap_set(M, &k, &k); /* @site:omp_nogroup_set */
            atomic_store(&q_done, 1);
        }
        while (!atomic_load(&q_done))
            sched_yield();
        for (int z = 0; z < 2; z++) {
#pragma omp task
            {
                atomic_fetch_add(&busy_started, 1);
                while (!atomic_load(&nogroup_read))
                    sched_yield();
            }
        }
        while (atomic_load(&busy_started) < 2)
            sched_yield();
        gomap *other = make_map();
#pragma omp taskgroup
        {
#pragma omp taskloop nogroup grainsize(1)
            for (int64_t i = 10; i < 14; i++)
                gomap_set(other, &i, &i); /* one thread runs them all */
        }
        int64_t k = 1;
        gomap_get(M, &k); /* @site:omp_nogroup_get */
        atomic_store(&nogroup_read, 1);
    }
}

/* a detached task fulfilled before its body starts, region after region:
 * the body waits for a task that waits for the fulfill. The record of
 * such a task was once kept for a fulfill that had already come; the
 * next region's task at the same event address found it, and its freed
 * parent's lock spun for ever (a held-out probe's program). */
static void early_fulfill_clean(void)
{
    M = make_map();
    for (int64_t rep = 0; rep < 20; rep++) {
        atomic_int fulfilled_early = 0;
#pragma omp parallel num_threads(2) shared(fulfilled_early)
#pragma omp single
        {
            int x = 0;
            omp_event_handle_t ev;
#pragma omp task depend(out : x) shared(x, fulfilled_early)
            {
                while (!atomic_load(&fulfilled_early))
                    sched_yield();
                x = 1;
            }
#pragma omp task detach(ev) depend(in : x) shared(x)
            set(rep);
#pragma omp task firstprivate(ev) shared(fulfilled_early)
            {
                omp_fulfill_event(ev);
                atomic_store(&fulfilled_early, 1);
            }
#pragma omp taskwait
            must_have(rep);
        }
    }
}

/* a detached task's fulfill orders what waits for that task, not every
 * taskgroup: thread 1 makes a detached task (thread 2 runs its body, in
 * the region's last barrier, the one scheduling point reached while the
 * others spin), writes and fulfills the event; thread 0 then runs a
 * taskgroup of its own and reads. Nothing orders the write before the
 * read. */
static atomic_int detached_ran, fulfilled, fulfill_read;
static void unrelated_fulfill_race(void)
{
    M = make_map();
#pragma omp parallel num_threads(3)
    {
        if (omp_get_thread_num() == 1) {
            omp_event_handle_t ev;
#pragma omp task detach(ev) shared(detached_ran)
            atomic_store(&detached_ran, 1);
            while (!atomic_load(&detached_ran)) /* fulfilled before its body ran, libgomp 12 crashes */
                sched_yield();
            int64_t k = 1;
            gomap_set(M, &k, &k); /* @site:omp_fulfill_set */
            omp_fulfill_event(ev);
            atomic_store(&fulfilled, 1);
            while (!atomic_load(&fulfill_read))
                sched_yield();
        } else if (omp_get_thread_num() == 0) {
            while (!atomic_load(&fulfilled))
                sched_yield();
#pragma omp taskgroup
            {
#pragma omp task
                {
                }
            }
            int64_t k = 1;
            gomap_get(M, &k); /* @site:omp_fulfill_get */
            atomic_store(&fulfill_read, 1);
        }
    }
}

/* two different locks: thread 1's lock orders nothing after thread 0's */
static void two_locks_race(void)
{
    M = make_map();
    omp_lock_t a, b;
    omp_init_lock(&a);
    omp_init_lock(&b);
#pragma omp parallel num_threads(2)
    {
        if (omp_get_thread_num() == 0) {
            omp_set_lock(&a);
            int64_t k = 1;
            gomap_set(M, &k, &k); /* @site:omp_lock_a_set */
            omp_unset_lock(&a);
            signal_flag();
        } else {
            wait_flag();
            omp_set_lock(&b);
            int64_t k = 2;
            gomap_set(M, &k, &k); /* @site:omp_lock_b_set */
            omp_unset_lock(&b);
        }
    }
    omp_destroy_lock(&a);
    omp_destroy_lock(&b);
}

/* a write after depend(source) is not ordered before the next
 * iteration's read after its depend(sink) */
static void doacross_race(void)
{
    M = make_map();
    set(0);
#pragma omp parallel for ordered(1) num_threads(2) schedule(static, 1)
    for (int64_t i = 0; i < 2; i++) {
#pragma omp ordered depend(sink : i - 1)
        if (i == 1) {
            int64_t k = 0;
            gomap_get(M, &k); /* @site:omp_doacross_get */
            signal_flag();
        }
#pragma omp ordered depend(source)
        if (i == 0) {
            wait_flag();
            int64_t k = 0;
            gomap_set(M, &k, &k); /* @site:omp_doacross_set */
        }
    }
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {
        {"doacross_clean", doacross_clean},
        {"doacross_race", doacross_race},
        {"task_after_unrelated_creation_race", task_after_unrelated_creation_race},
        {"tasks_of_two_parents_race", tasks_of_two_parents_race},
        {"critical_regions_clean", critical_regions_clean},
        {"named_critical_clean", named_critical_clean},
        {"barriers_clean", barriers_clean},
        {"locks_clean", locks_clean},
        {"combined_clean", combined_clean},
        {"tasks_clean", tasks_clean},
        {"depend_kinds_clean", depend_kinds_clean},
        {"many_tasks_clean", many_tasks_clean},
        {"taskwait_depend_race", taskwait_depend_race},
        {"taskwait_no_children_race", taskwait_no_children_race},
        {"taskgroups_clean", taskgroups_clean},
        {"taskloop_reduction_clean", taskloop_reduction_clean},
        {"taskgroup_other_task_race", taskgroup_other_task_race},
        {"unlocked_race", unlocked_race},
        {"no_barrier_race", no_barrier_race},
        {"two_locks_race", two_locks_race},
        {"unrelated_fulfill_race", unrelated_fulfill_race},
        {"early_fulfill_clean", early_fulfill_clean},
        {"nogroup_taskloop_race", nogroup_taskloop_race},
        {"nogroup_taskloop_clean", nogroup_taskloop_clean},
        {"same_round_race", same_round_race},
        {"tasks_race", tasks_race},
    };
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
