/*
 * The engine used from several real threads at once: the sync table's
 * inserts and tombstones, the slot table, shared read clocks and the
 * history's lock. The outcomes counted do not depend on the interleaving:
 * calls ordered by a real mutex never race, and of N first writes made
 * before any synchronization each but the first races with the one
 * before it. Those N are made one at a time, behind a spin lock the
 * engine does not see: a check and its record are two steps, and two
 * writers both checking before either recorded (a loaded machine's
 * schedule) would see no earlier write. A read-only map read by threads that do
 * not synchronize with each other after their last read ends up with a
 * read clock: each thread's last read is ordered before nobody's.
 */
#include "stress.h"

#include "gomap_api.h"
#include "hb_access.h"
#include "hb_sync.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define ROUNDS 20000
#define SHARED_OBJS 4
#define SHARED_OBJ(k) (0x200000 + (uintptr_t)(k) * 64)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct hb_access locked, readonly, first;
static atomic_flag first_gate = ATOMIC_FLAG_INIT; /* one first write at a time */

struct worker {
    pthread_t th;
    struct hb_thr *t;
    int id;
    int first_races, locked_races, read_races, child_races;
};

static int acc(struct hb_thr *t, struct hb_access *h, unsigned cls, uintptr_t pc)
{
    struct hb_conflict c;
    return hb_access(h, t, cls, cls == HB_WRITE ? MG_OP_SET : MG_OP_GET, pc, &c) != HB_RACE_NONE;
}

static void *work(void *p)
{
    struct worker *w = p;
    struct hb_thr *t = w->t;
    while (atomic_flag_test_and_set(&first_gate))
        sched_yield();
    w->first_races += acc(t, &first, HB_WRITE, 0x10);
    atomic_flag_clear(&first_gate);
    struct hb_access mine = {0};
    uint32_t guard = 0; /* the inline paths' recursion guard (hb_sync.h) */
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&mu);
        if (i % 2) {
            hb_acquire(t, (uintptr_t)&mu);
        } else if (hb_lock_acquired_fast(t, (uintptr_t)&mu, &guard) < 0) {
            /* as the lock wrappers do (hb_lockpath.h) */
            hb_acquire_excl(t, (uintptr_t)&mu);
        }
        w->locked_races += acc(t, &locked, HB_WRITE, 0x20);
        if (i % 3)
            hb_release(t, (uintptr_t)&mu);
        else if (!hb_lock_releasing_fast(t, (uintptr_t)&mu, &guard))
            hb_release_excl(t, (uintptr_t)&mu);
        pthread_mutex_unlock(&mu);
        w->read_races += acc(t, &readonly, HB_READ, 0x30);
        if (i % 4 == 0) {
            /* a private object made and destroyed: inserts, tombstones and
             * ids given back and taken again, by every thread at once,
             * while the other threads look up the shared one; now and then
             * destroyed twice (hb_sync_reset takes no common lock) */
            uintptr_t own = 0x100000 + ((uintptr_t)w->id * 100000 + (uintptr_t)i) * 64;
            hb_release(t, own);
            hb_acquire(t, own);
            hb_sync_reset(own);
            if (i % 32 == 0)
                hb_sync_reset(own);
        }
        if (i % 4 == 2) {
            /* objects every thread releases and destroys at once, as a
             * program that destroys a mutex in use would: the table must
             * stay whole, whatever each object's clock ends up holding */
            uintptr_t shared = SHARED_OBJ(i / 4 % SHARED_OBJS);
            hb_release(t, shared);
            hb_sync_reset(shared);
        }
        if (i % 256 == 0) {
            struct hb_thr *child = hb_thread_create(t, 50);
            w->child_races += acc(child, &mine, HB_WRITE, 0x40);
            hb_thread_finish(child);
            hb_thread_join(t, child);
            w->child_races += acc(t, &mine, HB_WRITE, 0x41);
        }
    }
    hb_thread_finish(t);
    return NULL;
}

void hb_stress(struct hb_stress_out *out, int overflow)
{
    *out = (struct hb_stress_out){0};
    /* the counts above hold whatever the machine's load: no check gives up
     * on a lock whose holder was preempted */
    hb_lock_patience_ns = UINT64_MAX;
    hb_access_free(&locked);
    hb_access_free(&readonly);
    hb_access_free(&first);
    struct hb_thr *main_t = hb_thread_create(NULL, 1);
    out->after_races += acc(main_t, &readonly, HB_WRITE, 0x01);
    while (overflow && hb_thread_create(main_t, 0)->slot != HB_OVERFLOW)
        ;
    struct worker w[HB_STRESS_THREADS] = {{0}};
    for (int i = 0; i < HB_STRESS_THREADS; i++) {
        w[i].t = hb_thread_create(main_t, (uint64_t)i + 2);
        w[i].id = i;
    }
    for (int i = 0; i < HB_STRESS_THREADS; i++)
        if (pthread_create(&w[i].th, NULL, work, &w[i]) != 0)
            out->after_races += 1000;
    for (int i = 0; i < HB_STRESS_THREADS; i++) {
        pthread_join(w[i].th, NULL);
        hb_thread_join(main_t, w[i].t);
        out->first_races += w[i].first_races;
        out->locked_races += w[i].locked_races;
        out->read_races += w[i].read_races;
        out->child_races += w[i].child_races;
    }
    for (int k = 0; k < SHARED_OBJS; k++) /* a release that lost its race with a reset left an entry */
        hb_sync_reset(SHARED_OBJ(k));
    out->read_clock = (readonly.r & HB_R_SHARED) != 0;
    out->after_races += acc(main_t, &locked, HB_WRITE, 0x02);
    out->after_races += acc(main_t, &readonly, HB_WRITE, 0x03);
    out->after_races += acc(main_t, &first, HB_WRITE, 0x04);
    out->live = hb_sync_live();
    /* every entry the workers gave back can be had again, once: an id
     * lost would spill before the table is full, an id given out twice
     * would hold two objects' keys in one entry */
    uint32_t more = HB_SYNC_CAP - out->live;
    for (uint32_t i = 0; i < more; i++)
        hb_release(main_t, 0x40000000 + (uintptr_t)i * 64);
    out->full = hb_sync_live() == HB_SYNC_CAP && !hb_sync_spilled();
    for (uint32_t i = 0; i < more; i++) /* a second run in this process starts as this one did */
        hb_sync_reset(0x40000000 + (uintptr_t)i * 64);
}
