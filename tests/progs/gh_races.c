/*
 * Overlapping GHashTable calls from two threads, made deterministic: the
 * table's hash function parks the writer thread inside its call (after the
 * shim marked it, before GLib touches the table) until the main thread's
 * call has returned. One scenario per run, named by argv[1]; lines the
 * tests look for carry an @site comment.
 */
#include <glib.h>
#include "scenario.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

#define K(i) GINT_TO_POINTER(i)

static pthread_t parker;
static int has_parker, parked;
static sem_t inside, go;

/* Parks the parker thread once, inside whatever table call hashes. */
static guint parking_hash(gconstpointer k)
{
    if (__atomic_load_n(&has_parker, __ATOMIC_ACQUIRE) && pthread_equal(pthread_self(), parker) && !parked) {
        parked = 1;
        sem_post(&inside);
        sem_wait(&go);
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
    return NULL;
}

/* Starts the writer and returns once it is parked inside its insert. */
static void start_writer(pthread_t *t)
{
    table = g_hash_table_new(parking_hash, g_direct_equal);
    g_hash_table_insert(table, K(2), K(2));
    sem_init(&inside, 0, 0);
    sem_init(&go, 0, 0);
    pthread_create(t, NULL, writer, NULL);
}

static void finish(pthread_t t)
{
    sem_post(&go);
    pthread_join(t, NULL);
    g_hash_table_destroy(table);
}

static void count(gpointer k, gpointer v, gpointer ud)
{
    (void)k, (void)v;
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
    sem_post(&go);
    pthread_join(t, NULL);
    printf("lookup=%p\n", g_hash_table_lookup(table, K(2)));
    g_hash_table_destroy(table);
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {
        {"read_write", read_write},
        {"write_write", write_write},
        {"iter_write", iter_write},
        {"serial", serial},
    };
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
