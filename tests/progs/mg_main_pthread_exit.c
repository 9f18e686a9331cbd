/*
 * main ends with pthread_exit (or thrd_exit) while other threads still use
 * a map under a mutex. The process goes on until its last thread ends and
 * then exits 0 through exit(): the shim must keep watching the threads
 * left, and write its summary from whichever thread is last. The last
 * thread to finish (counted under the mutex) prints the map's contents.
 *
 *   mutex      four joinable threads, never joined, each doing 5000
 *              locked writes and reads
 *   detached   the same with detached threads, which main lets go only
 *              once they all exist (a semaphore), so it has left before
 *              most of their work
 *   spawner    one thread that, after main has gone, starts and joins
 *              four more of its own
 *   c11        thrd_create, mtx_t and thrd_exit from main
 *   race       a thread started before main's last write reads the map
 *              once main has ended: unordered, and reported with every
 *              frame symbolized though main's /proc/PID files are empty
 *              by then (the flag that orders the read after the write is
 *              a C11 atomic, which the shim does not see)
 */
#include "scenario.h"

#include <gomap.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

enum { THREADS = 4, ROUNDS = 5000 };

static const gomap_type int_map = {.key_size = 8, .val_size = 8};
static gomap *m;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static mtx_t cmu;
static int use_c11;
static int finished;
static sem_t go;

static void lock(void)
{
    if (use_c11)
        mtx_lock(&cmu);
    else
        pthread_mutex_lock(&mu);
}

static void unlock(void)
{
    if (use_c11)
        mtx_unlock(&cmu);
    else
        pthread_mutex_unlock(&mu);
}

/* One thread's share; the last one to finish prints the result. */
static void work(int64_t id)
{
    int64_t misses = 0;
    for (int64_t i = 0; i < ROUNDS; i++) {
        int64_t k = id * ROUNDS + i, v = k * 3;
        lock();
        gomap_set(m, &k, &v);
        int64_t *got = gomap_get(m, &k);
        misses += !got || *got != v;
        unlock();
    }
    lock();
    if (++finished == THREADS) {
        int64_t sum = 0;
        gomap_iter it;
        const void *kp;
        void *vp;
        gomap_iter_init(&it, m);
        while (gomap_iter_next(&it, &kp, &vp))
            sum += *(int64_t *)vp;
        printf("last thread: len %zu sum %lld\n", gomap_len(m), (long long)sum);
        fflush(stdout);
    }
    if (misses)
        printf("thread %lld: %lld misses\n", (long long)id, (long long)misses);
    unlock();
}

static void *worker(void *arg)
{
    work((int64_t)(intptr_t)arg);
    return NULL;
}

static void *waiting_worker(void *arg)
{
    while (sem_wait(&go) != 0 && errno == EINTR)
        ;
    return worker(arg);
}

static void mutex(void)
{
    for (intptr_t i = 0; i < THREADS; i++) {
        pthread_t t;
        pthread_create(&t, NULL, worker, (void *)i);
    }
    pthread_exit(NULL);
}

static void detached(void)
{
    sem_init(&go, 0, 0);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    for (intptr_t i = 0; i < THREADS; i++) {
        pthread_t t;
        pthread_create(&t, &a, waiting_worker, (void *)i);
    }
    pthread_attr_destroy(&a);
    for (int i = 0; i < THREADS; i++)
        sem_post(&go);
    pthread_exit(NULL);
}

static void *spawning(void *arg)
{
    (void)arg;
    pthread_t t[THREADS];
    for (intptr_t i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    return NULL;
}

static void spawner(void)
{
    pthread_t t;
    pthread_create(&t, NULL, spawning, NULL);
    pthread_detach(t);
    pthread_exit(NULL);
}

static int c11_worker(void *arg)
{
    work((int64_t)(intptr_t)arg);
    return 0;
}

static void c11(void)
{
    use_c11 = 1;
    mtx_init(&cmu, mtx_plain);
    for (intptr_t i = 0; i < THREADS; i++) {
        thrd_t t;
        thrd_create(&t, c11_worker, (void *)i);
    }
    thrd_exit(0);
}

static atomic_int written;

/* Main's thread has ended: the kernel shows the group leader as a zombie
 * (or no longer at all). Gives up after about ten seconds. */
static void wait_for_main_to_end(void)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)getpid());
    for (int i = 0; i < 10000; i++) {
        FILE *f = fopen(path, "re");
        if (!f)
            return;
        char buf[256] = "";
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        const char *st = strrchr(buf, ')');
        if (!st || (st[1] == ' ' && (st[2] == 'Z' || st[2] == 'X')))
            return;
        nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
    }
}

static void *late_reader(void *arg)
{
    (void)arg;
    while (!atomic_load(&written))
        sched_yield();
    wait_for_main_to_end();
    int64_t k = 1;
    printf("late read: %s\n", gomap_get(m, &k) ? "found" : "missing"); /* @site:late_read */
    return NULL;
}

static void race(void)
{
    pthread_t t;
    pthread_create(&t, NULL, late_reader, NULL);
    int64_t k = 1, v = 2;
    gomap_set(m, &k, &v); /* @site:main_write */
    atomic_store(&written, 1);
    pthread_exit(NULL);
}

int main(int argc, char **argv)
{
    static const struct scenario table[] = {
        {"mutex", mutex},
        {"detached", detached},
        {"spawner", spawner},
        {"c11", c11},
        {"race", race},
    };
    void (*fn)(void) = scenario_find(table, SCENARIO_COUNT(table), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    m = gomap_new(&int_map, 0); /* @site:made */
    fn(); /* ends main's thread */
    return 3;
}
