/*
 * Overlapping GHashTable calls from two threads, made deterministic: the
 * table's hash function parks the writer thread inside its insert (after
 * the shim marked it, before GLib touches the table) until the main
 * thread's call is inside GLib too (its own hash or callback runs); the
 * main thread then waits there until the writer's insert has returned, so
 * the two never touch GLib's table at once, and the writer hands its stack
 * over on its way out. One scenario per run, named by argv[1]; lines the
 * tests look for carry an @site comment.
 */
#include <glib.h>
#include "scenario.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

#define K(i) GINT_TO_POINTER(i)

static pthread_t parker;
static int has_parker, parked, released;
static sem_t inside, go, done;

/* Lets the parked writer go (once), and waits until its call is over. */
static void release(void)
{
    if (!__atomic_exchange_n(&released, 1, __ATOMIC_ACQ_REL)) {
        sem_post(&go);
        sem_wait(&done);
    }
}

static int is_parker(void)
{
    return __atomic_load_n(&has_parker, __ATOMIC_ACQUIRE) && pthread_equal(pthread_self(), parker);
}

/* The writer parks once; the main thread's call releases it. */
static guint parking_hash(gconstpointer k)
{
    if (is_parker()) {
        if (!__atomic_load_n(&parked, __ATOMIC_ACQUIRE)) {
            __atomic_store_n(&parked, 1, __ATOMIC_RELEASE);
            sem_post(&inside);
            sem_wait(&go);
        }
    } else if (__atomic_load_n(&parked, __ATOMIC_ACQUIRE)) {
        release();
    }
    return g_direct_hash(k);
}

static GHashTable *table;

static void *writer(void *arg)
{
    (void)arg;
    parker = pthread_self();
    __atomic_store_n(&has_parker, 1, __ATOMIC_RELEASE);
    g_hash_table_insert(table, K(1), K(1)); /* @site:w_insert */
    sem_post(&done);
    return NULL;
}

/* Starts the writer and returns once it is parked inside its insert. */
static void start_writer(pthread_t *t)
{
    table = g_hash_table_new(parking_hash, g_direct_equal);
    g_hash_table_insert(table, K(2), K(2));
    sem_init(&inside, 0, 0);
    sem_init(&go, 0, 0);
    sem_init(&done, 0, 0);
    pthread_create(t, NULL, writer, NULL);
}

static void finish(pthread_t t)
{
    release();
    pthread_join(t, NULL);
    g_hash_table_destroy(table);
}

static void count(gpointer k, gpointer v, gpointer ud)
{
    (void)k, (void)v;
    release();
    (*(int *)ud)++;
}

static void read_write(void)
{
    pthread_t t;
    start_writer(&t);
    sem_wait(&inside);
    printf("lookup=%p\n", g_hash_table_lookup(table, K(2))); /* @site:r_lookup */
    finish(t);
}

static void write_write(void)
{
    pthread_t t;
    start_writer(&t);
    sem_wait(&inside);
    g_hash_table_remove(table, K(2)); /* @site:w_remove */
    finish(t);
}

static void iter_write(void)
{
    pthread_t t;
    start_writer(&t);
    sem_wait(&inside);
    int n = 0;
    g_hash_table_foreach(table, count, &n); /* @site:i_foreach */
    printf("n=%d\n", n);
    finish(t);
}

/* The same two calls, one after the other (the writer joined first). */
static void serial(void)
{
    pthread_t t;
    start_writer(&t);
    sem_wait(&inside);
    release();
    pthread_join(t, NULL);
    printf("lookup=%p\n", g_hash_table_lookup(table, K(2)));
    g_hash_table_destroy(table);
}

/* Four threads, each with tables of its own: busy, and no race. */
static void *own_tables(void *arg)
{
    (void)arg;
    for (int round = 0; round < 50; round++) {
        GHashTable *t = g_hash_table_new(g_direct_hash, g_direct_equal);
        for (int i = 1; i <= 200; i++)
            g_hash_table_insert(t, K(i), K(i));
        GHashTableIter it;
        gpointer k;
        g_hash_table_iter_init(&it, t);
        while (g_hash_table_iter_next(&it, &k, NULL))
            if (GPOINTER_TO_INT(k) % 3 == 0)
                g_hash_table_iter_remove(&it);
        for (int i = 1; i <= 200; i++)
            g_hash_table_lookup(t, K(i));
        g_hash_table_unref(t);
    }
    return NULL;
}

static void threads_own_tables(void)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, own_tables, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    printf("done\n");
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {
        {"read_write", read_write},
        {"write_write", write_write},
        {"iter_write", iter_write},
        {"serial", serial},
        {"threads_own_tables", threads_own_tables},
    };
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
