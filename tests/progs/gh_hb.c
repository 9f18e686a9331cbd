/*
 * GHashTable races whose two calls never overlap in time, for the
 * happens-before tests, and their synchronized counterparts.
 *
 * Each racy scenario hands over between its threads with a C11 atomic
 * flag, which compiles inline and which the shim cannot see: the calls run
 * one after the other every time (no overlap, so the overlap detector is
 * silent), yet nothing the shim saw orders them. The clean scenarios order
 * the same calls with what the shim sees: a pthread mutex, a GRecMutex
 * (which reaches pthread), g_thread_join (which reaches pthread_join).
 * One scenario per run, named by argv[1]; lines the tests look for carry
 * an @site comment.
 */
#include <glib.h>
#include "scenario.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>

#define K(i) GINT_TO_POINTER(i)

static GHashTable *T, *T2;
static atomic_int flag;

static GHashTable *make_table(void)
{
    return g_hash_table_new(g_direct_hash, g_direct_equal); /* @site:made */
}

static void signal_flag(void) { atomic_store_explicit(&flag, 1, memory_order_release); }
static void wait_flag(void)
{
    while (!atomic_load_explicit(&flag, memory_order_acquire))
        sched_yield();
}

/* first runs, signals; second waits, runs; both joined */
static void pair(void *(*first)(void *), void *(*second)(void *))
{
    T = make_table();
    g_hash_table_insert(T, K(1), K(1));
    pthread_t a, b;
    pthread_create(&a, NULL, first, NULL);
    pthread_create(&b, NULL, second, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    g_hash_table_destroy(T);
}

static void *lookup_first(void *p)
{
    printf("lookup=%p\n", g_hash_table_lookup(T, K(1))); /* @site:lookup_a */
    signal_flag();
    return p;
}
static void *insert_second(void *p)
{
    wait_flag();
    g_hash_table_insert(T, K(2), K(2)); /* @site:insert_b */
    return p;
}
static void *insert_first(void *p)
{
    g_hash_table_insert(T, K(3), K(3)); /* @site:insert_a */
    signal_flag();
    return p;
}
static void *lookup_second(void *p)
{
    wait_flag();
    printf("lookup=%p\n", g_hash_table_lookup(T, K(1))); /* @site:lookup_b */
    return p;
}
static void *iter_first(void *p)
{
    GHashTableIter it;
    gpointer k;
    int n = 0;
    g_hash_table_iter_init(&it, T); /* @site:iter_init_a */
    while (g_hash_table_iter_next(&it, &k, NULL))
        n++;
    printf("n=%d\n", n);
    signal_flag();
    return p;
}
static void *iter_second(void *p)
{
    wait_flag();
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, T); /* @site:iter_init_b */
    while (g_hash_table_iter_next(&it, &k, NULL))
        ;
    return p;
}
static void count(gpointer k, gpointer v, gpointer ud)
{
    (void)k, (void)v;
    (*(int *)ud)++;
}
static void *foreach_first(void *p)
{
    int n = 0;
    g_hash_table_foreach(T, count, &n); /* @site:foreach_a */
    printf("n=%d\n", n);
    signal_flag();
    return p;
}
static void *foreach_second(void *p)
{
    wait_flag();
    int n = 0;
    g_hash_table_foreach(T, count, &n); /* @site:foreach_b */
    printf("n=%d\n", n);
    return p;
}
static void *remove_first(void *p)
{
    g_hash_table_remove(T, K(1)); /* @site:remove_a */
    signal_flag();
    return p;
}
static void *remove_second(void *p)
{
    wait_flag();
    g_hash_table_remove(T, K(1)); /* @site:remove_b */
    return p;
}

static void lookup_then_insert(void) { pair(lookup_first, insert_second); }
static void insert_then_lookup(void) { pair(insert_first, lookup_second); }
static void insert_then_insert(void) { pair(insert_first, insert_second); }
static void iter_then_insert(void) { pair(iter_first, insert_second); }
static void insert_then_iter(void) { pair(insert_first, iter_second); }
static void foreach_then_remove(void) { pair(foreach_first, remove_second); }
static void remove_then_foreach(void) { pair(remove_first, foreach_second); }

/* A detached thread fills the table; main reads it once the (unseen)
 * flag says it is done. */
static void *filler(void *p)
{
    for (int i = 1; i <= 100; i++)
        g_hash_table_insert(T, K(i), K(i)); /* @site:det_insert */
    signal_flag();
    return p;
}
static void detached(void)
{
    T = make_table();
    pthread_t t;
    pthread_create(&t, NULL, filler, NULL);
    pthread_detach(t);
    wait_flag();
    printf("lookup=%p\n", g_hash_table_lookup(T, K(50))); /* @site:det_lookup */
}

/* ---- a table's history ends with it ---- */

static GHashTable *first_table;

/* A table written by this thread and destroyed, then a new one made at
 * the same address (quarantine_size=0: GLib frees the first at once, and,
 * with G_SLICE=always-malloc, this thread's malloc cache hands its memory
 * back); main writes the
 * new one, ordered after nothing of this thread: clean, as the two tables
 * have nothing in common but the address. */
static void *writes_then_remakes(void *p)
{
    first_table = make_table();
    g_hash_table_insert(first_table, K(1), K(1));
    g_hash_table_destroy(first_table);
    T = make_table();
    signal_flag();
    return p;
}
static void same_address_starts_clean(void)
{
    pthread_t t;
    pthread_create(&t, NULL, writes_then_remakes, NULL);
    wait_flag();
    g_hash_table_insert(T, K(2), K(2));
    printf("same=%d size=%u\n", T == first_table, g_hash_table_size(T));
    pthread_join(t, NULL);
    g_hash_table_destroy(T);
}

/* ---- the same calls, ordered ---- */

static pthread_mutex_t L = PTHREAD_MUTEX_INITIALIZER;
static GRecMutex R;

static void *locked_worker(void *p)
{
    for (int i = 1; i <= 200; i++) {
        pthread_mutex_lock(&L);
        if (i % 3)
            g_hash_table_insert(T, K(i), K(i));
        else
            g_hash_table_lookup(T, K(i - 1));
        pthread_mutex_unlock(&L);
        g_rec_mutex_lock(&R);
        g_rec_mutex_lock(&R);
        g_hash_table_remove(T2, K(i + 1000));
        g_hash_table_insert(T2, K(i + 1000), K(i));
        g_rec_mutex_unlock(&R);
        g_rec_mutex_unlock(&R);
    }
    return p;
}

/* Two tables: T always under a pthread mutex, T2 always under a
 * GRecMutex (which reaches pthread). */
static void mutexes(void)
{
    T = make_table();
    T2 = make_table();
    g_rec_mutex_init(&R);
    pthread_t a, b;
    pthread_create(&a, NULL, locked_worker, NULL);
    pthread_create(&b, NULL, locked_worker, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("size=%u %u\n", g_hash_table_size(T), g_hash_table_size(T2));
    g_rec_mutex_clear(&R);
    g_hash_table_destroy(T);
    g_hash_table_destroy(T2);
}

static gpointer gthread_filler(gpointer p)
{
    for (int i = 1; i <= 100; i++)
        g_hash_table_insert(T, K(i), K(i));
    return p;
}

/* A GThread fills the table; g_thread_join orders main's reads after. */
static void gthread_joined(void)
{
    T = make_table();
    g_hash_table_insert(T, K(500), K(500));
    GThread *t = g_thread_new("filler", gthread_filler, NULL);
    g_thread_join(t);
    int n = 0;
    g_hash_table_foreach(T, count, &n);
    printf("n=%d lookup=%p\n", n, g_hash_table_lookup(T, K(50)));
    g_hash_table_destroy(T);
}

/* One reference per worker, the pattern GLib's atomic count is for: each
 * worker's lookup is ordered before the last unref, which frees the table,
 * by the count itself. Whichever worker is last, clean. */
static gpointer ref_holder(gpointer p)
{
    GHashTable *t = p;
    g_hash_table_lookup(t, K(1));
    g_hash_table_unref(t);
    return NULL;
}

static void one_ref_per_worker(void)
{
    GHashTable *t = make_table();
    g_hash_table_insert(t, K(1), K(1));
    GThread *a = g_thread_new("ref-a", ref_holder, g_hash_table_ref(t));
    GThread *b = g_thread_new("ref-b", ref_holder, g_hash_table_ref(t));
    g_hash_table_unref(t);
    g_thread_join(a);
    g_thread_join(b);
    printf("released\n");
}

/* g_hash_table_destroy on a reference that is not the last, then the
 * worker's unref, the last (or, destroy_last, the other way round): the
 * count orders the destroy's remove_all before the free. */
static gpointer unref_when_told(gpointer p)
{
    wait_flag();
    g_hash_table_unref(p);
    return NULL;
}

static gpointer unref_then_tell(gpointer p)
{
    g_hash_table_unref(p);
    signal_flag();
    return NULL;
}

static void destroy_first(void)
{
    GHashTable *t = make_table();
    g_hash_table_insert(t, K(1), K(1));
    GThread *w = g_thread_new("unref", unref_when_told, g_hash_table_ref(t));
    g_hash_table_destroy(t);
    signal_flag();
    g_thread_join(w);
}

static void destroy_last(void)
{
    GHashTable *t = make_table();
    g_hash_table_insert(t, K(1), K(1));
    GThread *w = g_thread_new("unref", unref_then_tell, g_hash_table_ref(t));
    wait_flag();
    g_hash_table_destroy(t);
    g_thread_join(w);
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {
        {"lookup_then_insert", lookup_then_insert},
        {"insert_then_lookup", insert_then_lookup},
        {"insert_then_insert", insert_then_insert},
        {"iter_then_insert", iter_then_insert},
        {"insert_then_iter", insert_then_iter},
        {"foreach_then_remove", foreach_then_remove},
        {"remove_then_foreach", remove_then_foreach},
        {"detached", detached},
        {"mutexes", mutexes},
        {"gthread_joined", gthread_joined},
        {"one_ref_per_worker", one_ref_per_worker},
        {"same_address_starts_clean", same_address_starts_clean},
        {"destroy_first", destroy_first},
        {"destroy_last", destroy_last},
    };
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
