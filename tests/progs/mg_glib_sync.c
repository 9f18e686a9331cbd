/*
 * GLib's synchronization under the happens-before engine: a map handed
 * from one thread to another through each GLib primitive (clean: no
 * finding), and the same handoff broken (one unordered finding).
 *
 * As in mg_hb.c, the racy scenarios sequence their threads with a C11
 * atomic flag the shim cannot see, so the two calls run one after the
 * other every time and nothing the shim saw orders them. The clean
 * scenarios are sequenced the same way where it matters, so that without
 * the wrapper of the primitive they use they would report. One scenario
 * per run, named by argv[1]; a scenario that finds GLib misbehaving (a
 * callback not run, a destroy notify not called) exits 3. Lines the tests
 * look for carry an @site comment.
 */
#include <gomap.h>
#include "scenario.h"

#include <gio/gio.h>
#include <glib.h>
#include <sched.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static gomap *M;
static atomic_int flag, flag2;

static gomap *make_map(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8};
    return gomap_new(&t, 0); /* @site:made */
}

/* a macro, so that the call's line is the line that uses it */
#define set_at(m, k)                                                                                               \
    do {                                                                                                           \
        int64_t k_ = (k);                                                                                          \
        gomap_set((m), &k_, &k_);                                                                                  \
    } while (0)

static void signal_on(atomic_int *f) { atomic_store_explicit(f, 1, memory_order_release); }
static void wait_on(atomic_int *f)
{
    while (!atomic_load_explicit(f, memory_order_acquire))
        sched_yield();
}
static void signal_flag(void) { signal_on(&flag); }
static void wait_flag(void) { wait_on(&flag); }

static void fail(const char *what)
{
    fprintf(stderr, "mg_glib_sync: %s\n", what);
    exit(3);
}

/* Two GThreads, joined (GThread is pthread underneath). */
static void spawn_run(GThreadFunc a, GThreadFunc b)
{
    GThread *ta = g_thread_new("a", a, NULL), *tb = g_thread_new("b", b, NULL);
    g_thread_join(ta);
    g_thread_join(tb);
}

/* ---- GMutex ---- */

static GMutex A, B;

static gpointer gmutex_writer(gpointer p)
{
    g_mutex_lock(&A);
    set_at(M, 1); /* @site:gmutex_set */
    g_mutex_unlock(&A);
    signal_flag();
    return p;
}

static gpointer gmutex_reader(gpointer p)
{
    int64_t k = 1;
    wait_flag();
    while (!g_mutex_trylock(&A))
        sched_yield();
    gomap_get(M, &k);
    g_mutex_unlock(&A);
    return p;
}

/* the reader takes another mutex */
static gpointer gmutex_reader_b(gpointer p)
{
    int64_t k = 1;
    wait_flag();
    g_mutex_lock(&B);
    gomap_get(M, &k); /* @site:gmutex_get */
    g_mutex_unlock(&B);
    return p;
}

static void gmutex_clean(void)
{
    g_mutex_init(&A);
    M = make_map();
    spawn_run(gmutex_writer, gmutex_reader);
    g_mutex_clear(&A);
}

static void gmutex_race(void)
{
    M = make_map();
    spawn_run(gmutex_writer, gmutex_reader_b);
}

/* ---- GCond: the consumer waits (the producer can take the mutex only
 * once the consumer's wait let it go) ---- */

static GMutex CL;
static GCond CV;
static int ready;
static int use_until;

static gpointer cond_consumer(gpointer p)
{
    int64_t k = 1;
    g_mutex_lock(&CL);
    signal_flag();
    while (!ready) {
        if (use_until)
            g_cond_wait_until(&CV, &CL, g_get_monotonic_time() + 60 * G_TIME_SPAN_SECOND);
        else
            g_cond_wait(&CV, &CL);
    }
    g_mutex_unlock(&CL);
    gomap_get(M, &k); /* @site:cond_get */
    signal_on(&flag2);
    return p;
}

static gpointer cond_producer(gpointer p)
{
    wait_flag();
    g_mutex_lock(&CL);
    set_at(M, 1);
    ready = 1;
    g_cond_signal(&CV);
    g_mutex_unlock(&CL);
    return p;
}

/* writes after its unlock, once the consumer has read */
static gpointer cond_producer_late(gpointer p)
{
    cond_producer(p);
    wait_on(&flag2);
    set_at(M, 2); /* @site:cond_set */
    return p;
}

static void cond_clean(void)
{
    M = make_map();
    spawn_run(cond_consumer, cond_producer);
}

static void cond_until_clean(void)
{
    use_until = 1;
    cond_clean();
}

static void cond_race(void)
{
    M = make_map();
    spawn_run(cond_consumer, cond_producer_late);
}

/* ---- GAsyncQueue: every push variant against every pop variant, one
 * round each; the consumer acknowledges on a second queue, so that the
 * next round's write is ordered after this round's read ---- */

#define AQ_ROUNDS 8
static GAsyncQueue *Q, *ACK;

static gint cmp_ptr(gconstpointer a, gconstpointer b, gpointer u)
{
    (void)u;
    return (uintptr_t)a < (uintptr_t)b ? -1 : (uintptr_t)a > (uintptr_t)b;
}

static void aq_push(int round, gpointer item)
{
    switch (round) {
    case 0: g_async_queue_push(Q, item); break;
    case 1: g_async_queue_push_front(Q, item); break;
    case 2: g_async_queue_push_sorted(Q, item, cmp_ptr, NULL); break;
    case 3:
        g_async_queue_lock(Q);
        g_async_queue_push_unlocked(Q, item);
        g_async_queue_unlock(Q);
        break;
    case 4:
        g_async_queue_lock(Q);
        g_async_queue_push_front_unlocked(Q, item);
        g_async_queue_unlock(Q);
        break;
    case 5:
        g_async_queue_lock(Q);
        g_async_queue_push_sorted_unlocked(Q, item, cmp_ptr, NULL);
        g_async_queue_unlock(Q);
        break;
    default: g_async_queue_push(Q, item); break;
    }
}

static gpointer aq_pop(int round)
{
    gpointer r = NULL;
    switch (round) {
    case 0: return g_async_queue_pop(Q);
    case 1: return g_async_queue_timeout_pop(Q, 60 * G_TIME_SPAN_SECOND);
    case 2:
        while (!(r = g_async_queue_try_pop(Q)))
            sched_yield();
        return r;
    case 3:
        g_async_queue_lock(Q);
        r = g_async_queue_pop_unlocked(Q);
        g_async_queue_unlock(Q);
        return r;
    case 4:
        g_async_queue_lock(Q);
        r = g_async_queue_timeout_pop_unlocked(Q, 60 * G_TIME_SPAN_SECOND);
        g_async_queue_unlock(Q);
        return r;
    case 5:
        for (;;) {
            g_async_queue_lock(Q);
            r = g_async_queue_try_pop_unlocked(Q);
            g_async_queue_unlock(Q);
            if (r)
                return r;
            sched_yield();
        }
G_GNUC_BEGIN_IGNORE_DEPRECATIONS
    case 6: {
        GTimeVal end;
        g_get_current_time(&end);
        end.tv_sec += 60;
        return g_async_queue_timed_pop(Q, &end);
    }
    default: {
        GTimeVal end;
        g_get_current_time(&end);
        end.tv_sec += 60;
        g_async_queue_lock(Q);
        r = g_async_queue_timed_pop_unlocked(Q, &end);
        g_async_queue_unlock(Q);
        return r;
    }
G_GNUC_END_IGNORE_DEPRECATIONS
    }
}

static gpointer aq_producer(gpointer p)
{
    for (int i = 0; i < AQ_ROUNDS; i++) {
        set_at(M, i);
        aq_push(i, GINT_TO_POINTER(i + 1));
        g_async_queue_pop(ACK);
    }
    return p;
}

static gpointer aq_consumer(gpointer p)
{
    for (int i = 0; i < AQ_ROUNDS; i++) {
        int64_t k = i;
        if (aq_pop(i) != GINT_TO_POINTER(i + 1))
            fail("popped the wrong item");
        gomap_get(M, &k);
        g_async_queue_push(ACK, GINT_TO_POINTER(1));
    }
    return p;
}

/* the producer writes after its push, once the consumer has read */
static gpointer aq_producer_late(gpointer p)
{
    g_async_queue_push(Q, GINT_TO_POINTER(1));
    wait_flag();
    set_at(M, 1); /* @site:aq_set */
    return p;
}

static gpointer aq_consumer_once(gpointer p)
{
    int64_t k = 1;
    g_async_queue_pop(Q);
    gomap_get(M, &k); /* @site:aq_get */
    signal_flag();
    return p;
}

static void aq_clean(void)
{
    Q = g_async_queue_new();
    ACK = g_async_queue_new();
    M = make_map();
    spawn_run(aq_producer, aq_consumer);
}

static void aq_race(void)
{
    Q = g_async_queue_new();
    M = make_map();
    spawn_run(aq_producer_late, aq_consumer_once);
}

/* The compare of push_sorted and sort reads items (maps) that another
 * thread pushed and will pop: a writes MA and pushes it; b, once MA is in
 * the queue, pushes MB sorted and sorts the queue, its compare reading
 * both; a then pops both and writes them. GLib's queue mutex orders all
 * of it; only the compare being seen keeps it clean. */
static gomap *MA, *MB;

static gint cmp_by_map(gconstpointer x, gconstpointer y, gpointer u)
{
    int64_t k = 1;
    (void)u;
    gomap_get((gomap *)x, &k);
    gomap_get((gomap *)y, &k);
    return (uintptr_t)x < (uintptr_t)y ? -1 : (uintptr_t)x > (uintptr_t)y;
}

static gpointer aq_sorted_owner(gpointer p)
{
    set_at(MA, 1);
    g_async_queue_push(Q, MA);
    signal_flag();
    wait_on(&flag2);
    for (int i = 0; i < 2; i++) {
        gomap *m = g_async_queue_pop(Q);
        if (m != MA && m != MB)
            fail("popped the wrong item");
        set_at(m, 2);
    }
    return p;
}

static gpointer aq_sorted_comparer(gpointer p)
{
    wait_flag();
    set_at(MB, 1);
    g_async_queue_push_sorted(Q, MB, cmp_by_map, NULL);
    g_async_queue_sort(Q, cmp_by_map, NULL);
    signal_on(&flag2);
    return p;
}

static void aq_sorted_clean(void)
{
    Q = g_async_queue_new();
    M = make_map(); /* the engine wakes */
    MA = make_map();
    MB = make_map();
    spawn_run(aq_sorted_owner, aq_sorted_comparer);
}

/* ---- GThreadPool: main writes, pushes; workers read; main writes again
 * after g_thread_pool_free(pool, FALSE, TRUE) ---- */

static atomic_int pool_runs;

static void pool_read(gpointer data, gpointer user)
{
    int64_t k = GPOINTER_TO_INT(data);
    if (user != &pool_runs)
        fail("the pool's user_data changed");
    gomap_get(M, &k);
    atomic_fetch_add(&pool_runs, 1);
}

/* item 1 writes and waits until item 2 runs on the other thread; item 2
 * writes after it, unordered */
static void pool_write(gpointer data, gpointer user)
{
    (void)user;
    if (GPOINTER_TO_INT(data) == 1) {
        set_at(M, 1); /* @site:pool_set1 */
        signal_flag();
        wait_on(&flag2);
    } else {
        signal_on(&flag2);
        wait_flag();
        set_at(M, 2); /* @site:pool_set2 */
    }
}

static void pool_clean(void)
{
    M = make_map();
    for (int64_t i = 1; i <= 8; i++)
        set_at(M, i);
    GThreadPool *pool = g_thread_pool_new(pool_read, &pool_runs, 2, TRUE, NULL);
    for (int i = 1; i <= 8; i++)
        g_thread_pool_push(pool, GINT_TO_POINTER(i), NULL);
    g_thread_pool_free(pool, FALSE, TRUE);
    if (atomic_load(&pool_runs) != 8)
        fail("not every item ran");
    set_at(M, 9);
}

static void pool_full_clean(void)
{
    M = make_map();
    set_at(M, 1);
    GThreadPool *pool = g_thread_pool_new_full(pool_read, &pool_runs, NULL, 2, FALSE, NULL);
    g_thread_pool_push(pool, GINT_TO_POINTER(1), NULL);
    g_thread_pool_free(pool, FALSE, TRUE);
    set_at(M, 2);
}

static void pool_race(void)
{
    M = make_map();
    GThreadPool *pool = g_thread_pool_new(pool_write, NULL, 2, TRUE, NULL);
    g_thread_pool_push(pool, GINT_TO_POINTER(1), NULL);
    g_thread_pool_push(pool, GINT_TO_POINTER(2), NULL);
    g_thread_pool_free(pool, FALSE, TRUE);
}

/* ---- GThread, GRecMutex, GRWLock: pthread underneath ---- */

static gpointer gthread_child_reads(gpointer p)
{
    int64_t k = 1;
    gomap_get(M, &k);
    set_at(M, 2);
    return p;
}

static void gthread_clean(void)
{
    int64_t k = 2;
    M = make_map();
    set_at(M, 1);
    GThread *t = g_thread_new("child", gthread_child_reads, NULL);
    g_thread_join(t);
    gomap_get(M, &k);
}

static gpointer gthread_child_get(gpointer p)
{
    int64_t k = 1;
    gomap_get(M, &k); /* @site:gthread_get */
    signal_flag();
    return p;
}

static void gthread_race(void)
{
    M = make_map();
    GThread *t = g_thread_new("child", gthread_child_get, NULL);
    wait_flag();
    set_at(M, 1); /* @site:gthread_set */
    g_thread_join(t);
}

static GRecMutex RA, RB;
static int rec_two;

static gpointer rec_writer(gpointer p)
{
    g_rec_mutex_lock(&RA);
    g_rec_mutex_lock(&RA);
    set_at(M, 1); /* @site:rec_set */
    g_rec_mutex_unlock(&RA);
    g_rec_mutex_unlock(&RA);
    signal_flag();
    return p;
}

static gpointer rec_reader(gpointer p)
{
    int64_t k = 1;
    GRecMutex *m = rec_two ? &RB : &RA;
    wait_flag();
    g_rec_mutex_lock(m);
    gomap_get(M, &k); /* @site:rec_get */
    g_rec_mutex_unlock(m);
    return p;
}

static void recmutex_clean(void)
{
    g_rec_mutex_init(&RA);
    g_rec_mutex_init(&RB);
    M = make_map();
    spawn_run(rec_writer, rec_reader);
}

static void recmutex_race(void)
{
    rec_two = 1;
    recmutex_clean();
}

static GRWLock RW;
static int rw_unlocked_read;

static gpointer rw_writer(gpointer p)
{
    g_rw_lock_writer_lock(&RW);
    set_at(M, 1); /* @site:rw_set */
    g_rw_lock_writer_unlock(&RW);
    signal_flag();
    return p;
}

static gpointer rw_reader(gpointer p)
{
    int64_t k = 1;
    wait_flag();
    if (rw_unlocked_read) {
        gomap_get(M, &k); /* @site:rw_get */
        return p;
    }
    g_rw_lock_reader_lock(&RW);
    gomap_get(M, &k);
    g_rw_lock_reader_unlock(&RW);
    return p;
}

static void rwlock_clean(void)
{
    g_rw_lock_init(&RW);
    M = make_map();
    spawn_run(rw_writer, rw_reader);
}

static void rwlock_race(void)
{
    rw_unlocked_read = 1;
    rwlock_clean();
}

/* ---- GLib's bit locks: one bit of an int or of a pointer is the lock.
 * The writer takes it with the blocking call or the trylock, the reader
 * with the other; in the races the reader takes another bit of the same
 * word, which is another lock. ---- */

static volatile gint BITS;
static gpointer volatile PTR_BITS;
static int bit_ptr, bit_try, bit_other;

static void bit_take(bool try_it, int bit)
{
    if (bit_ptr) {
        if (!try_it)
            g_pointer_bit_lock(&PTR_BITS, bit);
        else
            while (!g_pointer_bit_trylock(&PTR_BITS, bit))
                sched_yield();
    } else {
        if (!try_it)
            g_bit_lock(&BITS, bit);
        else
            while (!g_bit_trylock(&BITS, bit))
                sched_yield();
    }
}

static void bit_drop(int bit)
{
    if (bit_ptr)
        g_pointer_bit_unlock(&PTR_BITS, bit);
    else
        g_bit_unlock(&BITS, bit);
}

static gpointer bit_writer(gpointer p)
{
    bit_take(bit_try, 2);
    set_at(M, 1); /* @site:bit_set */
    bit_drop(2);
    signal_flag();
    return p;
}

static gpointer bit_reader(gpointer p)
{
    int64_t k = 1;
    int bit = bit_other ? 3 : 2;
    wait_flag();
    bit_take(!bit_try, bit);
    gomap_get(M, &k); /* @site:bit_get */
    bit_drop(bit);
    return p;
}

static void bit_run(int ptr, int try_it, int other)
{
    bit_ptr = ptr;
    bit_try = try_it;
    bit_other = other;
    M = make_map();
    spawn_run(bit_writer, bit_reader);
}

static void bit_lock_clean(void) { bit_run(0, 0, 0); }
static void bit_trylock_clean(void) { bit_run(0, 1, 0); }
static void pointer_bit_lock_clean(void) { bit_run(1, 0, 0); }
static void pointer_bit_trylock_clean(void) { bit_run(1, 1, 0); }
static void bit_other_race(void) { bit_run(0, 0, 1); }
static void pointer_bit_other_race(void) { bit_run(1, 0, 1); }

/* ---- the main loop: a worker fills a map of its own per variant and
 * hands it to the main thread through the variant; the main thread reads
 * it in the callback ---- */

enum {
    V_IDLE, V_IDLE_FULL, V_IDLE_ONCE, V_TIMEOUT, V_TIMEOUT_FULL, V_TIMEOUT_ONCE, V_SECONDS, V_SECONDS_FULL,
    V_INVOKE, V_INVOKE_FULL, V_ATTACH, V_REPEAT, V_CHILD, V_COUNT
};
static gomap *VM[V_COUNT];
static GMainLoop *LOOP;
static int done_count, notified, repeats;
static int loop_only = -1; /* one variant, or every one */

static int loop_wanted(void) { return loop_only < 0 ? V_COUNT : 1; }

static void read_variant(int v)
{
    int64_t k = v;
    gomap_get(VM[v], &k);
    if (++done_count == loop_wanted())
        g_main_loop_quit(LOOP);
}

static gboolean cb_once(gpointer data)
{
    read_variant(GPOINTER_TO_INT(data));
    return G_SOURCE_REMOVE;
}

static void cb_once_void(gpointer data) { read_variant(GPOINTER_TO_INT(data)); }

/* runs three times: its return value must reach GLib unchanged */
static gboolean cb_repeat(gpointer data)
{
    if (++repeats < 3)
        return G_SOURCE_CONTINUE;
    read_variant(GPOINTER_TO_INT(data));
    return G_SOURCE_REMOVE;
}

/* a child watch's callback has other arguments than a GSourceFunc */
static void cb_child(GPid pid, gint status, gpointer data)
{
    (void)pid;
    if (!g_spawn_check_wait_status(status, NULL))
        fail("the child's status changed");
    read_variant(GPOINTER_TO_INT(data));
}

static void notify(gpointer data)
{
    (void)data;
    notified++; /* called on the main thread, where the source goes */
}

static bool has_notify(int v)
{
    return v == V_IDLE_FULL || v == V_TIMEOUT_FULL || v == V_SECONDS_FULL || v == V_INVOKE_FULL || v == V_ATTACH ||
           v == V_CHILD;
}

static gpointer loop_worker(gpointer p)
{
    for (int v = 0; v < V_COUNT; v++) {
        if (loop_only >= 0 && v != loop_only)
            continue;
        VM[v] = make_map();
        set_at(VM[v], v);
        gpointer d = GINT_TO_POINTER(v);
        switch (v) {
        case V_IDLE: g_idle_add(cb_once, d); break;
        case V_IDLE_FULL: g_idle_add_full(G_PRIORITY_DEFAULT_IDLE, cb_once, d, notify); break;
        case V_IDLE_ONCE: g_idle_add_once(cb_once_void, d); break;
        case V_TIMEOUT: g_timeout_add(0, cb_once, d); break;
        case V_TIMEOUT_FULL: g_timeout_add_full(G_PRIORITY_DEFAULT, 1, cb_once, d, notify); break;
        case V_TIMEOUT_ONCE: g_timeout_add_once(0, cb_once_void, d); break;
        case V_SECONDS: g_timeout_add_seconds(0, cb_once, d); break;
        case V_SECONDS_FULL: g_timeout_add_seconds_full(G_PRIORITY_DEFAULT, 0, cb_once, d, notify); break;
        case V_INVOKE: g_main_context_invoke(NULL, cb_once, d); break;
        case V_INVOKE_FULL: g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, cb_once, d, notify); break;
        case V_ATTACH: {
            GSource *s = g_idle_source_new();
            g_source_set_callback(s, cb_once, d, notify);
            g_source_attach(s, NULL);
            g_source_unref(s);
            break;
        }
        case V_REPEAT: g_timeout_add(1, cb_repeat, d); break;
        case V_CHILD: {
            pid_t pid = fork();
            if (pid == 0)
                _exit(0);
            GSource *s = g_child_watch_source_new(pid);
            g_source_set_callback(s, (GSourceFunc)(void (*)(void))cb_child, d, notify);
            g_source_attach(s, NULL);
            g_source_unref(s);
            break;
        }
        }
    }
    return p;
}

/* The worker starts once the main loop runs and owns the default
 * context: g_main_context_invoke from the worker then queues the
 * function instead of running it at once in the worker. */
static GThread *WORKER;
static void start_worker(gpointer fn) { WORKER = g_thread_new("worker", (GThreadFunc)fn, NULL); }

/* Every variant, or one: with every one, a callback may be ordered by an
 * earlier one's handoff, so each also runs alone. */
static void loop_run(void)
{
    int want_notify = 0;
    for (int v = 0; v < V_COUNT; v++)
        want_notify += (loop_only < 0 || v == loop_only) && has_notify(v);
    LOOP = g_main_loop_new(NULL, FALSE);
    g_idle_add_once(start_worker, loop_worker);
    g_main_loop_run(LOOP);
    g_thread_join(WORKER);
    /* a destroy notify runs when its source goes, after the callback */
    while (g_main_context_iteration(NULL, FALSE))
        ;
    if (notified != want_notify)
        fail("a destroy notify was not called once");
    if ((loop_only < 0 || loop_only == V_REPEAT) && repeats != 3)
        fail("a repeating source did not repeat");
}

static void loop_clean(void) { loop_run(); }

#define LOOP_ONE(name, v)                                                                                          \
    static void name(void)                                                                                         \
    {                                                                                                              \
        loop_only = v;                                                                                             \
        loop_run();                                                                                                \
    }
LOOP_ONE(loop_idle, V_IDLE)
LOOP_ONE(loop_idle_full, V_IDLE_FULL)
LOOP_ONE(loop_idle_once, V_IDLE_ONCE)
LOOP_ONE(loop_timeout, V_TIMEOUT)
LOOP_ONE(loop_timeout_full, V_TIMEOUT_FULL)
LOOP_ONE(loop_timeout_once, V_TIMEOUT_ONCE)
LOOP_ONE(loop_seconds, V_SECONDS)
LOOP_ONE(loop_seconds_full, V_SECONDS_FULL)
LOOP_ONE(loop_invoke, V_INVOKE)
LOOP_ONE(loop_invoke_full, V_INVOKE_FULL)
LOOP_ONE(loop_attach, V_ATTACH)
LOOP_ONE(loop_repeat, V_REPEAT)
LOOP_ONE(loop_child, V_CHILD)

/* The sources the wrappers made keep the user's data for GLib's lookups
 * by data, and call the destroy notify once when removed. */
static int token;
static gboolean cb_never(gpointer data)
{
    (void)data;
    fail("a removed source ran");
    return G_SOURCE_REMOVE;
}

static void loop_by_data(void)
{
    M = make_map(); /* the engine wakes: the adders wrap */
    g_timeout_add_full(G_PRIORITY_DEFAULT, 600000, cb_never, &token, notify);
    if (!g_main_context_find_source_by_user_data(NULL, &token))
        fail("find_source_by_user_data: not found");
    if (!g_source_remove_by_user_data(&token))
        fail("remove_by_user_data: not found");
    g_idle_add_full(G_PRIORITY_DEFAULT_IDLE, cb_never, &token, notify);
    if (!g_idle_remove_by_data(&token))
        fail("idle_remove_by_data: not found");
    GSource *s = g_timeout_source_new(600000);
    g_source_set_callback(s, cb_never, &token, notify);
    guint id = g_source_attach(s, NULL);
    g_source_unref(s);
    if (!g_source_remove(id))
        fail("g_source_remove: not found");
    if (notified != 3)
        fail("a destroy notify was not called once");
}

static gboolean race_cb(gpointer data)
{
    int64_t k = 1;
    (void)data;
    gomap_get(M, &k); /* @site:idle_get */
    signal_flag();
    g_main_loop_quit(LOOP);
    return G_SOURCE_REMOVE;
}

/* adds the callback, then writes once the callback has read */
static gpointer idle_race_worker(gpointer p)
{
    g_idle_add(race_cb, NULL);
    wait_flag();
    set_at(M, 1); /* @site:idle_set */
    return p;
}

static void idle_race(void)
{
    LOOP = g_main_loop_new(NULL, FALSE);
    M = make_map();
    g_idle_add_once(start_worker, idle_race_worker);
    g_main_loop_run(LOOP);
    g_thread_join(WORKER);
}

/* ---- GTask ---- */

static void task_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
    int64_t k = 1;
    (void)src, (void)data, (void)c;
    gomap_get(M, &k);
    set_at(M, 2);
    g_task_return_pointer(task, GINT_TO_POINTER(7), NULL);
}

static void task_done(GObject *src, GAsyncResult *res, gpointer data)
{
    int64_t k = 2;
    (void)src;
    if (data != &done_count || g_async_result_get_user_data(res) != &done_count)
        fail("the callback's data changed");
    gomap_get(M, &k); /* before propagate: ordered by the callback's delivery */
    if (g_task_propagate_pointer(G_TASK(res), NULL) != GINT_TO_POINTER(7))
        fail("the task's result changed");
    set_at(M, 3);
    g_main_loop_quit(LOOP);
}

static void task_thread_sync(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
    (void)src, (void)data, (void)c;
    set_at(M, 4);
    g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED, "failed %d", 42);
}

static void task_clean(void)
{
    GError *err = NULL;
    LOOP = g_main_loop_new(NULL, FALSE);
    M = make_map();
    set_at(M, 1);
    GTask *task = g_task_new(NULL, NULL, task_done, &done_count);
    g_task_run_in_thread(task, task_thread);
    g_object_unref(task);
    g_main_loop_run(LOOP);

    task = g_task_new(NULL, NULL, NULL, NULL);
    g_task_run_in_thread_sync(task, task_thread_sync);
    if (g_task_propagate_boolean(task, &err) || !err || strcmp(err->message, "failed 42"))
        fail("the task's error changed");
    g_error_free(err);
    g_object_unref(task);
    set_at(M, 5);
}

/* The task function's return is delivered once the function returned
 * (GLib's rule), so the late write comes from a plain thread that returns
 * the task's result and writes after it, once the callback has read. */
static GTask *RACE_TASK;

static gpointer task_returner(gpointer p)
{
    g_task_return_boolean(RACE_TASK, TRUE);
    wait_flag();
    set_at(M, 1); /* @site:task_set */
    return p;
}

static void task_done_race(GObject *src, GAsyncResult *res, gpointer data)
{
    int64_t k = 1;
    (void)src, (void)data;
    g_task_propagate_boolean(G_TASK(res), NULL);
    gomap_get(M, &k); /* @site:task_get */
    signal_flag();
    g_main_loop_quit(LOOP);
}

static void task_race(void)
{
    LOOP = g_main_loop_new(NULL, FALSE);
    M = make_map();
    RACE_TASK = g_task_new(NULL, NULL, task_done_race, NULL);
    GThread *t = g_thread_new("returner", task_returner, NULL);
    g_main_loop_run(LOOP);
    g_thread_join(t);
    g_object_unref(RACE_TASK);
}

/* ---- GCancellable: a thread that polls the flag and then reads what the
 * cancelling thread wrote before it cancelled ---- */

static GCancellable *CANCEL;

static gpointer canceller(gpointer p)
{
    set_at(M, 1);
    g_cancellable_cancel(CANCEL);
    return p;
}

/* by_error: the poll is g_cancellable_set_error_if_cancelled */
static void cancel_poll(bool by_error)
{
    M = make_map();
    CANCEL = g_cancellable_new();
    GThread *t = g_thread_new("canceller", canceller, NULL);
    GError *err = NULL;
    while (by_error ? !g_cancellable_set_error_if_cancelled(CANCEL, &err) : !g_cancellable_is_cancelled(CANCEL))
        g_usleep(1000);
    int64_t k = 1;
    gomap_get(M, &k);
    if (by_error && (!err || !g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
        fail("the cancellable's error changed");
    g_clear_error(&err);
    g_thread_join(t);
    g_object_unref(CANCEL);
}
static void cancel_clean(void) { cancel_poll(false); }
static void cancel_error_clean(void) { cancel_poll(true); }

/* the write comes after the cancel: nothing orders it before the read */
static gpointer late_canceller(gpointer p)
{
    g_cancellable_cancel(CANCEL);
    wait_flag();
    set_at(M, 1); /* @site:cancel_set */
    signal_on(&flag2);
    return p;
}

static void cancel_race(void)
{
    M = make_map();
    CANCEL = g_cancellable_new();
    GThread *t = g_thread_new("canceller", late_canceller, NULL);
    while (!g_cancellable_is_cancelled(CANCEL))
        g_usleep(1000);
    signal_flag();
    wait_on(&flag2);
    int64_t k = 1;
    gomap_get(M, &k); /* @site:cancel_get */
    g_thread_join(t);
    g_object_unref(CANCEL);
}

/* ---- g_once_init_enter/leave: the second thread finds the map made,
 * inline, without a call ---- */

static gomap *the_map(void)
{
    static gomap *once_map;
    if (g_once_init_enter(&once_map)) {
        gomap *m = make_map();
        set_at(m, 1);
        g_once_init_leave(&once_map, m);
    }
    return once_map;
}

static gpointer once_first(gpointer p)
{
    the_map();
    signal_flag();
    return p;
}

static gpointer once_second(gpointer p)
{
    int64_t k = 1;
    wait_flag();
    gomap_get(the_map(), &k);
    return p;
}

static void once_clean(void) { spawn_run(once_first, once_second); }

/* writes after the leave, and the second thread reads after that */
static gpointer once_first_late(gpointer p)
{
    set_at(the_map(), 2); /* @site:once_set */
    signal_flag();
    return p;
}

static gpointer once_second_get(gpointer p)
{
    int64_t k = 2;
    wait_flag();
    gomap_get(the_map(), &k); /* @site:once_get */
    return p;
}

static void once_race(void) { spawn_run(once_first_late, once_second_get); }

/* g_once: the function runs in the first thread; the second takes its
 * result inline */
static gpointer make_filled(gpointer arg)
{
    gomap *m = make_map();
    set_at(m, GPOINTER_TO_INT(arg));
    return m;
}

static GOnce G1 = G_ONCE_INIT;

static gpointer gonce_first(gpointer p)
{
    g_once(&G1, make_filled, GINT_TO_POINTER(1));
    signal_flag();
    return p;
}

static gpointer gonce_second(gpointer p)
{
    int64_t k = 1;
    wait_flag();
    gomap_get(g_once(&G1, make_filled, GINT_TO_POINTER(1)), &k);
    return p;
}

static void gonce_clean(void) { spawn_run(gonce_first, gonce_second); }

/* ---- synchronization made while the process had one thread ----
 * (happens_before.h skips it until the first GThread), then taken by a
 * GThread: a GMutex, a g_once_init_leave and a GAsyncQueue push. */

static gsize alone_once;
static GAsyncQueue *alone_q;

static void alone_once_init(void)
{
    if (g_once_init_enter(&alone_once)) {
        int64_t k = 3;
        gomap_set(M, &k, &k);
        g_once_init_leave(&alone_once, 1);
    }
}

static gpointer alone_taker(gpointer p)
{
    int64_t k = 1;
    g_mutex_lock(&A);
    gomap_set(M, &k, &k);
    g_mutex_unlock(&A);
    alone_once_init();
    g_async_queue_pop(alone_q);
    k = 2;
    gomap_set(M, &k, &k);
    return p;
}

static void alone_then_gthread(void)
{
    M = make_map();
    alone_q = g_async_queue_new();
    int64_t k = 1;
    g_mutex_lock(&A);
    gomap_set(M, &k, &k);
    g_mutex_unlock(&A);
    alone_once_init();
    k = 2;
    gomap_set(M, &k, &k);
    g_async_queue_push(alone_q, GINT_TO_POINTER(1));
    g_thread_join(g_thread_new("taker", alone_taker, NULL));
    g_async_queue_unref(alone_q);
}

/* ---- the main loop's end: g_main_loop_quit before the return of
 * g_main_loop_run ---- */

static GMainLoop *QLOOP;
static int quit_then_write;

static gpointer quitter(gpointer p)
{
    /* a quit before the run starts is lost (the run sets the loop
     * running): wait for it, through a call the shim does not wrap */
    while (!g_main_loop_is_running(QLOOP))
        g_usleep(100);
    if (!quit_then_write)
        set_at(M, 1);
    g_main_loop_quit(QLOOP);
    if (quit_then_write) {
        set_at(M, 1); /* @site:quit_set */
        signal_flag();
    }
    return p;
}

static void loop_quit_run(int racy)
{
    quit_then_write = racy;
    M = make_map();
    GMainContext *ctx = g_main_context_new();
    QLOOP = g_main_loop_new(ctx, FALSE);
    GThread *t = g_thread_new("quitter", quitter, NULL);
    g_main_loop_run(QLOOP);
    if (racy)
        wait_flag();
    int64_t k = 1;
    gomap_get(M, &k); /* @site:quit_get */
    g_thread_join(t);
    g_main_loop_unref(QLOOP);
    g_main_context_unref(ctx);
}

static void loop_quit_clean(void) { loop_quit_run(0); }
static void loop_quit_race(void) { loop_quit_run(1); }

/* ---- a context's ownership as a lock ---- */

static GMainContext *OWNED_CTX;

static void own_ctx(void)
{
    while (!g_main_context_acquire(OWNED_CTX))
        sched_yield();
}

static gpointer ctx_writer(gpointer p)
{
    own_ctx();
    set_at(M, 1);
    g_main_context_release(OWNED_CTX);
    signal_flag();
    return p;
}

static gpointer ctx_reader(gpointer p)
{
    int64_t k = 1;
    wait_flag();
    own_ctx();
    gomap_get(M, &k);
    g_main_context_release(OWNED_CTX);
    return p;
}

static void context_owner_clean(void)
{
    M = make_map();
    OWNED_CTX = g_main_context_new();
    spawn_run(ctx_writer, ctx_reader);
    g_main_context_unref(OWNED_CTX);
}

/* ---- a serial pool (max_threads 1) whose items run on two threads: the
 * first item's end happens before the second's start ---- */

static void serial_item(gpointer data, gpointer user)
{
    (void)user;
    int64_t k = 1;
    if (GPOINTER_TO_INT(data) == 1)
        set_at(M, 1);
    else
        gomap_get(M, &k);
    atomic_fetch_add(&pool_runs, 1);
}

static void serial_pool_clean(void)
{
    M = make_map();
    g_thread_pool_set_max_unused_threads(0);
    GThreadPool *pool = g_thread_pool_new(serial_item, NULL, 1, FALSE, NULL);
    g_thread_pool_push(pool, GINT_TO_POINTER(1), NULL);
    /* the first item's thread gone (GLib keeps no unused thread): the
     * second gets a new one; bounded, since either way must be clean */
    for (int i = 0; i < 5000 && (atomic_load(&pool_runs) < 1 || g_thread_pool_get_num_threads(pool) > 0); i++)
        g_usleep(1000);
    g_thread_pool_push(pool, GINT_TO_POINTER(2), NULL);
    g_thread_pool_free(pool, FALSE, TRUE);
}

/* ---- a pool's sort function reads queued items (maps) in the pushing
 * thread; the worker writes them later ---- */

static int BLOCKER;
static gomap *SORTED[3];

static void sorted_item(gpointer data, gpointer user)
{
    (void)user;
    if (data == &BLOCKER) {
        signal_on(&flag2);
        wait_flag();
        return;
    }
    set_at((gomap *)data, 9);
}

static gint by_len(gconstpointer a, gconstpointer b, gpointer user)
{
    (void)user;
    if (a == &BLOCKER || b == &BLOCKER)
        return a == &BLOCKER ? -1 : 1;
    return (gint)gomap_len(a) - (gint)gomap_len(b);
}

static GThreadPool *SORT_POOL;

static gpointer sorted_pusher(gpointer p)
{
    for (int i = 0; i < 3; i++)
        g_thread_pool_push(SORT_POOL, SORTED[i], NULL);
    signal_flag();
    return p;
}

static void pool_sort_clean(void)
{
    for (int i = 0; i < 3; i++) {
        SORTED[i] = make_map();
        for (int j = 0; j <= i; j++)
            set_at(SORTED[i], j);
    }
    M = SORTED[0];
    SORT_POOL = g_thread_pool_new(sorted_item, NULL, 1, FALSE, NULL);
    g_thread_pool_set_sort_function(SORT_POOL, by_len, NULL);
    g_thread_pool_push(SORT_POOL, &BLOCKER, NULL);
    wait_on(&flag2); /* the worker holds the blocker: the maps queue up */
    g_thread_join(g_thread_new("pusher", sorted_pusher, NULL));
    g_thread_pool_free(SORT_POOL, FALSE, TRUE);
}

/* ---- unrefs whose last one destroys the map: a GObject's data, an
 * atomic rc box ---- */

static GObject *OBJ;
static gomap **BOX;
static int unref_kind; /* 0: GObject, 1: rc box, 2: GObject, the worker writing after its unref */

static void free_map(gpointer m) { gomap_free(m); } /* @site:unref_free */
static void clear_box(gpointer b) { free_map(*(gomap **)b); }

static void drop(void)
{
    if (unref_kind == 1)
        g_atomic_rc_box_release_full(BOX, clear_box);
    else
        g_object_unref(OBJ);
}

static gpointer holder(gpointer p)
{
    int64_t k = 1;
    gomap_get(M, &k);
    drop();
    if (unref_kind == 2)
        set_at(M, 2); /* @site:unref_set */
    signal_flag();
    return p;
}

static void unref_run(int kind)
{
    unref_kind = kind;
    M = make_map();
    set_at(M, 1);
    if (kind == 1) {
        BOX = g_atomic_rc_box_new(gomap *);
        *BOX = M;
        g_atomic_rc_box_acquire(BOX);
    } else {
        OBJ = g_object_new(G_TYPE_OBJECT, NULL);
        g_object_set_data_full(OBJ, "map", M, free_map);
        g_object_ref(OBJ);
    }
    GThread *t = g_thread_new("holder", holder, NULL);
    wait_flag();
    drop(); /* the last: destroys the map */
    g_thread_join(t);
}

static void gobject_unref_clean(void) { unref_run(0); }
static void rc_box_release_clean(void) { unref_run(1); }
static void gobject_write_after_unref_race(void) { unref_run(2); }

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {
        {"gmutex_clean", gmutex_clean},
        {"gmutex_race", gmutex_race},
        {"cond_clean", cond_clean},
        {"cond_until_clean", cond_until_clean},
        {"cond_race", cond_race},
        {"aq_clean", aq_clean},
        {"aq_race", aq_race},
        {"aq_sorted_clean", aq_sorted_clean},
        {"pool_clean", pool_clean},
        {"pool_full_clean", pool_full_clean},
        {"pool_race", pool_race},
        {"gthread_clean", gthread_clean},
        {"gthread_race", gthread_race},
        {"recmutex_clean", recmutex_clean},
        {"recmutex_race", recmutex_race},
        {"rwlock_clean", rwlock_clean},
        {"rwlock_race", rwlock_race},
        {"bit_lock_clean", bit_lock_clean},
        {"bit_trylock_clean", bit_trylock_clean},
        {"pointer_bit_lock_clean", pointer_bit_lock_clean},
        {"pointer_bit_trylock_clean", pointer_bit_trylock_clean},
        {"bit_other_race", bit_other_race},
        {"pointer_bit_other_race", pointer_bit_other_race},
        {"loop_clean", loop_clean},
        {"loop_idle", loop_idle},
        {"loop_idle_full", loop_idle_full},
        {"loop_idle_once", loop_idle_once},
        {"loop_timeout", loop_timeout},
        {"loop_timeout_full", loop_timeout_full},
        {"loop_timeout_once", loop_timeout_once},
        {"loop_seconds", loop_seconds},
        {"loop_seconds_full", loop_seconds_full},
        {"loop_invoke", loop_invoke},
        {"loop_invoke_full", loop_invoke_full},
        {"loop_attach", loop_attach},
        {"loop_repeat", loop_repeat},
        {"loop_child", loop_child},
        {"loop_by_data", loop_by_data},
        {"idle_race", idle_race},
        {"task_clean", task_clean},
        {"task_race", task_race},
        {"cancel_clean", cancel_clean},
        {"cancel_error_clean", cancel_error_clean},
        {"cancel_race", cancel_race},
        {"loop_quit_clean", loop_quit_clean},
        {"loop_quit_race", loop_quit_race},
        {"context_owner_clean", context_owner_clean},
        {"serial_pool_clean", serial_pool_clean},
        {"pool_sort_clean", pool_sort_clean},
        {"gobject_unref_clean", gobject_unref_clean},
        {"rc_box_release_clean", rc_box_release_clean},
        {"gobject_write_after_unref_race", gobject_write_after_unref_race},
        {"once_clean", once_clean},
        {"once_race", once_race},
        {"gonce_clean", gonce_clean},
        {"alone_then_gthread", alone_then_gthread},
    };
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
