/*
 * fork() while another thread holds a lock. In the child that thread does
 * not exist and never lets go, so the child must not need anything it
 * held: not the program's lock (the child never touches it), and not any
 * lock of the shim's own. The child makes maps, takes fresh locks of its
 * own (a mutex, a rwlock, a condition variable, a semaphore), starts and
 * joins a thread of its own, and exits 0.
 *
 *   held       a thread holds a mutex, a write lock and a spinlock, parked
 *              on a semaphore, at the fork
 *   held_in_map
 *              a thread holds a mutex and is parked inside a map write
 *              (in the map's hash callback) at the fork; the child reads
 *              that map too
 *   storm      two threads keep taking and releasing locks (fresh heap
 *              mutexes among them, so the shim keeps meeting new sync
 *              objects) and writing maps under them, two more keep
 *              creating short threads that make and free a map (the shim
 *              captures stacks in both), while main forks 200 times;
 *              whatever any of them held at each fork, every child must
 *              finish
 *
 * The parent prints each child's exit status, then "ok".
 */
#include "scenario.h"

#include <gomap.h>

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const gomap_type int_map = {.key_size = 8, .val_size = 8};

static void wait_sem(sem_t *s)
{
    while (sem_wait(s) != 0 && errno == EINTR)
        ;
}

/* ---- what every child does, all with objects of its own ---- */

struct child_shared {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_rwlock_t rw;
    sem_t sem;
    gomap *m;
    int ready;
};

static void *child_thread(void *arg)
{
    struct child_shared *c = arg;
    for (int64_t i = 1000; i < 2000; i++) {
        pthread_mutex_lock(&c->mu);
        gomap_set(c->m, &i, &i);
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_lock(&c->mu);
    c->ready = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    sem_post(&c->sem);
    return NULL;
}

/* Returns the child's exit status: 0 when everything added up. */
static int child_work(const gomap *inherited, int64_t inherited_key)
{
    struct child_shared *c = calloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    pthread_rwlock_init(&c->rw, NULL);
    sem_init(&c->sem, 0, 0);
    c->m = gomap_new(&int_map, 0);
    pthread_t t;
    if (pthread_create(&t, NULL, child_thread, c) != 0)
        return 3;
    for (int64_t i = 0; i < 1000; i++) {
        pthread_mutex_lock(&c->mu);
        gomap_set(c->m, &i, &i);
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_lock(&c->mu);
    while (!c->ready)
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
    wait_sem(&c->sem);
    pthread_join(t, NULL);
    pthread_rwlock_rdlock(&c->rw);
    size_t n = gomap_len(c->m);
    pthread_rwlock_unlock(&c->rw);
    int64_t v = 0;
    int bad = n != 2000 || !gomap_lookup(c->m, &(int64_t){1999}, &v) || v != 1999;
    if (inherited && !gomap_lookup(inherited, &inherited_key, &v))
        bad = 1;
    gomap_free(c->m);
    sem_destroy(&c->sem);
    pthread_rwlock_destroy(&c->rw);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
    return bad ? 4 : 0;
}

static int fork_child(const gomap *inherited, int64_t key)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        exit(child_work(inherited, key));
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- held ---- */

static pthread_mutex_t held_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t held_rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_spinlock_t held_spin;
static sem_t holding, let_go;

static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&held_mu);
    pthread_rwlock_wrlock(&held_rw);
    pthread_spin_lock(&held_spin);
    sem_post(&holding);
    wait_sem(&let_go);
    pthread_spin_unlock(&held_spin);
    pthread_rwlock_unlock(&held_rw);
    pthread_mutex_unlock(&held_mu);
    return NULL;
}

static void held(void)
{
    pthread_spin_init(&held_spin, PTHREAD_PROCESS_PRIVATE);
    sem_init(&holding, 0, 0);
    sem_init(&let_go, 0, 0);
    gomap *m = gomap_new(&int_map, 0);
    int64_t k = 5;
    gomap_set(m, &k, &k);
    pthread_t t;
    pthread_create(&t, NULL, holder, NULL);
    wait_sem(&holding);
    printf("child status %d\n", fork_child(m, k));
    sem_post(&let_go);
    pthread_join(t, NULL);
    /* the parent's locks still work */
    pthread_mutex_lock(&held_mu);
    gomap_set(m, &k, &k);
    pthread_mutex_unlock(&held_mu);
    gomap_free(m);
}

/* ---- held_in_map ---- */

static atomic_int park_armed;
static sem_t parked, unpark;

static uint64_t hash_parking(const void *key, size_t n, uint64_t seed)
{
    if (atomic_exchange(&park_armed, 0)) {
        sem_post(&parked);
        wait_sem(&unpark);
    }
    return gomap_hash_bytes(key, n, seed);
}

static gomap *park_map;

static void *writer_holding_mutex(void *arg)
{
    (void)arg;
    int64_t k = 77;
    pthread_mutex_lock(&held_mu);
    atomic_store(&park_armed, 1);
    gomap_set(park_map, &k, &k); /* parks inside, mutex held */
    pthread_mutex_unlock(&held_mu);
    return NULL;
}

static void held_in_map(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8, .hash = hash_parking};
    sem_init(&parked, 0, 0);
    sem_init(&unpark, 0, 0);
    park_map = gomap_new(&t, 0);
    int64_t k = 3;
    gomap_set(park_map, &k, &k);
    pthread_t w;
    pthread_create(&w, NULL, writer_holding_mutex, NULL);
    wait_sem(&parked);
    printf("child status %d\n", fork_child(park_map, k));
    sem_post(&unpark);
    pthread_join(w, NULL);
    printf("parent map len %zu\n", gomap_len(park_map));
    gomap_free(park_map);
}

/* ---- storm ---- */

enum { STORM_FORKS = 200, STORM_LOCKERS = 2, STORM_CREATORS = 2 };

static atomic_int storm_done;
static pthread_mutex_t storm_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t storm_cv = PTHREAD_COND_INITIALIZER;
static sem_t storm_sem;
static long storm_ticks;

static void *storm_locker(void *arg)
{
    gomap *m = gomap_new(&int_map, 0);
    for (int64_t i = 0; !atomic_load(&storm_done); i++) {
        pthread_mutex_t *mu = malloc(sizeof *mu);
        pthread_mutex_init(mu, NULL);
        pthread_mutex_lock(mu);
        int64_t k = i % 256 + (intptr_t)arg * 1000;
        gomap_set(m, &k, &i);
        pthread_mutex_unlock(mu);
        pthread_mutex_destroy(mu);
        free(mu);
        pthread_mutex_lock(&storm_mu);
        storm_ticks++;
        pthread_cond_broadcast(&storm_cv);
        pthread_mutex_unlock(&storm_mu);
        sem_post(&storm_sem);
        wait_sem(&storm_sem);
    }
    gomap_free(m);
    return NULL;
}

/* The shim captures a stack at each free (into its quarantine), a new
 * thread's first ones the slow way: keep new threads doing just that. */
static void *short_thread(void *arg)
{
    for (int i = 0; i < 30; i++) {
        gomap *m = gomap_new(&int_map, 0);
        gomap_set(m, &(int64_t){1}, arg);
        gomap_free(m);
    }
    return NULL;
}

static void *storm_creator(void *arg)
{
    (void)arg;
    for (int64_t i = 0; !atomic_load(&storm_done); i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, short_thread, &i) == 0)
            pthread_join(t, NULL);
    }
    return NULL;
}

static void storm(void)
{
    sem_init(&storm_sem, 0, 0);
    pthread_t th[STORM_LOCKERS + STORM_CREATORS];
    for (intptr_t i = 0; i < STORM_LOCKERS; i++)
        pthread_create(&th[i], NULL, storm_locker, (void *)(i + 1));
    for (int i = STORM_LOCKERS; i < STORM_LOCKERS + STORM_CREATORS; i++)
        pthread_create(&th[i], NULL, storm_creator, NULL);
    int failed = 0;
    for (int i = 0; i < STORM_FORKS; i++) {
        int st = fork_child(NULL, 0);
        if (st != 0) {
            printf("child %d status %d\n", i, st);
            failed++;
        }
    }
    atomic_store(&storm_done, 1);
    for (int i = 0; i < STORM_LOCKERS + STORM_CREATORS; i++)
        pthread_join(th[i], NULL);
    printf("forks %d failed %d\n", STORM_FORKS, failed);
}

int main(int argc, char **argv)
{
    static const struct scenario table[] = {
        {"held", held},
        {"held_in_map", held_in_map},
        {"storm", storm},
    };
    void (*fn)(void) = scenario_find(table, SCENARIO_COUNT(table), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    printf("ok\n");
    return 0;
}
