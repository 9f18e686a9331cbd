/*
 * A signal handler's release, made while its thread is inside the shim's
 * engine: the handler must still order what the thread did before the
 * signal before whoever acquires what it released (hb_clock.h, "releases
 * lost to the recursion guard").
 *
 * Each round, main writes m2[r] and raises `pending`. A SIGALRM handler,
 * from an interval timer every 100 us, posts semaphore S when it finds
 * `pending` (sem_post is async-signal-safe). Thread B waits on S, reads
 * m2[r], and posts D; main's loop, between rounds, alternates two mutexes
 * and a map of its own and polls D with sem_trywait, so that every lock
 * of the pair takes the engine's full path and the signal often lands
 * inside it. Clean: main's write is before the handler's post in main's
 * program order, and the post is before B's wait returns.
 *
 * Scenarios: "semaphore" (main's loop as above) and "rwlock" (main's loop
 * takes and drops a read lock instead of the mutexes: the rwlock wrappers'
 * engine sections).
 *
 * Prints the rounds done; the same with and without the shim. On the shim
 * before the fix, 5 runs of 5 reported B's read as unordered with main's
 * write (a held-out probe); with the rwlock loop, before its engine
 * sections were marked, 3 of 3.
 */
#include "scenario.h"

#include <gomap.h>

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>

#define ROUNDS 300

static const gomap_type I64 = {.key_size = 8, .val_size = 8};
static gomap *own, *shared;
static sem_t S, D;
static atomic_int pending;
static pthread_mutex_t K1 = PTHREAD_MUTEX_INITIALIZER, K2 = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t RW = PTHREAD_RWLOCK_INITIALIZER;
static int use_rwlock;

static void on_alarm(int sig)
{
    (void)sig;
    if (atomic_exchange(&pending, 0))
        sem_post(&S);
}

static void *reader(void *arg)
{
    (void)arg;
    for (int64_t r = 0; r < ROUNDS; r++) {
        while (sem_wait(&S) != 0)
            ;
        if (!gomap_get(shared, &r))
            abort();
        sem_post(&D);
    }
    return NULL;
}

static void run(void)
{
    own = gomap_new(&I64, 0);
    shared = gomap_new(&I64, 0);
    sem_init(&S, 0, 0);
    sem_init(&D, 0, 0);
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, NULL); /* the reader never takes it */
    pthread_t b;
    pthread_create(&b, NULL, reader, NULL);
    pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval every = {{0, 100}, {0, 100}};
    setitimer(ITIMER_REAL, &every, NULL);

    int64_t r = 0, k = 0;
    gomap_set(shared, &r, &r);
    atomic_store(&pending, 1);
    while (r < ROUNDS) {
        if (use_rwlock) {
            pthread_rwlock_rdlock(&RW);
            pthread_rwlock_unlock(&RW);
        } else {
            pthread_mutex_lock(&K1);
            gomap_set(own, &k, &k);
            pthread_mutex_unlock(&K1);
            if (pthread_mutex_trylock(&K2) == 0)
                pthread_mutex_unlock(&K2);
        }
        k = (k + 1) % 64;
        if (sem_trywait(&D) == 0 && ++r < ROUNDS) {
            gomap_set(shared, &r, &r);
            atomic_store(&pending, 1);
        }
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    pthread_join(b, NULL);
    printf("rounds %lld\n", (long long)r);
}

static void semaphore(void) { run(); }

static void rwlock(void)
{
    use_rwlock = 1;
    run();
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {{"semaphore", semaphore}, {"rwlock", rwlock}};
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
