/*
 * The engine used from several real threads at once: the sync table's
 * inserts and tombstones, the slot table, shared read clocks and the
 * history's lock. The assertions count outcomes that do not depend on the
 * interleaving: calls ordered by a real mutex never race, and of N first
 * writes made before any synchronization each but the first races with
 * the one before it, whatever the order.
 */
#include "hb_test.h"

#include <pthread.h>

#define NTHREADS 4
#define ROUNDS 20000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct hb_access locked, readonly, first;
static struct hb_thr *main_t;

struct worker {
    pthread_t th;
    struct hb_thr *t;
    int id;
    int first_races, locked_races, read_races, child_races;
};

static void *work(void *p)
{
    struct worker *w = p;
    struct hb_thr *t = w->t;
    struct hb_conflict c;
    if (wr(t, &first, 0x10, &c) != HB_RACE_NONE)
        w->first_races++;
    struct hb_access mine = {0};
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&mu);
        hb_acquire(t, (uintptr_t)&mu);
        if (wr(t, &locked, 0x20, &c) != HB_RACE_NONE)
            w->locked_races++;
        hb_release(t, (uintptr_t)&mu);
        pthread_mutex_unlock(&mu);
        if (rd(t, &readonly, 0x30, &c) != HB_RACE_NONE)
            w->read_races++;
        if (i % 64 == 0) {
            /* a private object made and destroyed: inserts and tombstones
             * while the other threads look up the shared one */
            uintptr_t own = OBJ(1000 + w->id * 100000 + i);
            hb_release(t, own);
            hb_acquire(t, own);
            hb_sync_reset(own);
        }
        if (i % 256 == 0) {
            struct hb_thr *child = hb_thread_create(t, 50);
            if (wr(child, &mine, 0x40, &c) != HB_RACE_NONE)
                w->child_races++;
            hb_thread_finish(child);
            hb_thread_join(t, child);
            if (wr(t, &mine, 0x41, &c) != HB_RACE_NONE)
                w->child_races++;
        }
    }
    hb_thread_finish(t);
    return NULL;
}

Test(hb_stress, real_threads)
{
    struct hb_conflict c;
    main_t = hb_thread_create(NULL, 1);
    assert_none(wr(main_t, &readonly, 0x01, &c));
    struct worker w[NTHREADS] = {0};
    for (int i = 0; i < NTHREADS; i++) {
        w[i].t = hb_thread_create(main_t, (uint64_t)i + 2);
        w[i].id = i;
    }
    for (int i = 0; i < NTHREADS; i++)
        cr_assert_eq(pthread_create(&w[i].th, NULL, work, &w[i]), 0);
    int first_races = 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(w[i].th, NULL);
        hb_thread_join(main_t, w[i].t);
        cr_assert_eq(w[i].locked_races, 0, "worker %d: a write under the mutex raced", i);
        cr_assert_eq(w[i].read_races, 0, "worker %d: a read-only map raced", i);
        cr_assert_eq(w[i].child_races, 0, "worker %d: a joined child raced", i);
        first_races += w[i].first_races;
    }
    cr_assert_eq(first_races, NTHREADS - 1);
    cr_assert_neq(readonly.r & HB_R_SHARED, 0, "unordered readers share a read clock");
    assert_none(wr(main_t, &locked, 0x02, &c));
    assert_none(wr(main_t, &readonly, 0x03, &c));
    assert_none(wr(main_t, &first, 0x04, &c));
    cr_assert_eq(hb_sync_live(), 1, "only the shared mutex is left");
}
