/*
 * Synchronization made while the process has only one thread, which the
 * happens-before engine skips (happens_before.h, mg_hb_sync_live), then
 * used by threads that come later: created through pthread_create or
 * thrd_create (they start from their creator's clock), or out of the
 * shim's sight (a thread made by libc's own pthread_create, which joins
 * the first thread's epoch). Racy scenarios sequence their calls with a C11
 * atomic the shim cannot see, so the outcome never depends on timing.
 * One scenario per run, named by argv[1]. Lines the tests look for carry
 * an @site comment.
 */
#include <gomap.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include "scenario.h"
#include "../../shim/mapguard_annotate.h"

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static gomap *M;
static atomic_int flag;
static pthread_mutex_t L = PTHREAD_MUTEX_INITIALIZER;
static sem_t S;
static pthread_once_t O = PTHREAD_ONCE_INIT;
static once_flag CO = ONCE_FLAG_INIT;
static int annotated;

static gomap *make_map(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8};
    return gomap_new(&t, 0); /* @site:made */
}

static void set(int64_t k) { gomap_set(M, &k, &k); }

static void signal_flag(void) { atomic_store_explicit(&flag, 1, memory_order_release); }
static void wait_flag(void)
{
    while (!atomic_load_explicit(&flag, memory_order_acquire))
        sched_yield();
}

static void once_init(void) { set(3); }

/* ---- everything released while alone, then taken by a created thread ---- */

static void *taker(void *p)
{
    pthread_mutex_lock(&L);
    set(1);
    pthread_mutex_unlock(&L);
    sem_wait(&S);
    set(2);
    pthread_once(&O, once_init);
    call_once(&CO, once_init);
    MAPGUARD_HAPPENS_AFTER(&annotated);
    set(4);
    return p;
}

/* The synchronization the only thread makes before it creates a second:
 * a lock, a semaphore post and a pthread_once, each around a map write. */
static void sync_while_alone(void)
{
    M = make_map();
    sem_init(&S, 0, 0);
    pthread_mutex_lock(&L);
    set(1);
    pthread_mutex_unlock(&L);
    set(2);
    sem_post(&S);
    pthread_once(&O, once_init);
}

static void alone_then_created(void)
{
    sync_while_alone();
    call_once(&CO, once_init);
    set(4);
    MAPGUARD_HAPPENS_BEFORE(&annotated);
    pthread_t t;
    pthread_create(&t, NULL, taker, NULL);
    pthread_join(t, NULL);
    set(5);
}

/* The same with C11 threads: thrd_create switches the process too. */
static int taker_c11(void *p) { return taker(p) != NULL; }

static void alone_then_c11(void)
{
    sync_while_alone();
    set(4);
    MAPGUARD_HAPPENS_BEFORE(&annotated);
    thrd_t t;
    thrd_create(&t, taker_c11, NULL);
    thrd_join(t, NULL);
    set(5);
}

/* ---- a race after the creation is still one ----
 * main writes under L while alone, creates B, writes again; B writes
 * without L after main's second write. */

static void *racer(void *p)
{
    wait_flag();
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:solo_racer_set */
    return p;
}

static void race_after_creation(void)
{
    M = make_map();
    pthread_mutex_lock(&L);
    set(1);
    pthread_mutex_unlock(&L);
    pthread_t t;
    pthread_create(&t, NULL, racer, NULL);
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:solo_main_again */
    signal_flag();
    pthread_join(t, NULL);
}

/* ---- a lock held across the creation ----
 * Taken while alone (skipped), let go after the creation (recorded): the
 * child that takes it next is ordered after main's write under it. */

static void *late_taker(void *p)
{
    pthread_mutex_lock(&L);
    set(1);
    pthread_mutex_unlock(&L);
    return p;
}

static void lock_across_creation(void)
{
    M = make_map();
    pthread_mutex_lock(&L);
    pthread_t t;
    pthread_create(&t, NULL, late_taker, NULL);
    set(1);
    pthread_mutex_unlock(&L);
    pthread_join(t, NULL);
}

/* ---- a thread the shim never saw created ----
 * libc's own pthread_create, looked up in libc rather than by name, which
 * the shim's definition answers: the thread starts outside the thread
 * wrappers, as one a library makes through a pointer it looked up that
 * way, or a raw clone. (libc's SIGEV_THREAD notifications were such
 * threads until the calls that arm them were wrapped.) Joined with libc's
 * own pthread_join, for the same reason. */

typedef int create_fn(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
typedef int join_fn(pthread_t, void **);

static void *libc_fn(const char *name)
{
    void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    void *f = libc ? dlsym(libc, name) : NULL;
    if (!f)
        abort();
    return f;
}

static void fire_unseen(void *(*fn)(void *))
{
    create_fn *create = (create_fn *)libc_fn("pthread_create");
    join_fn *join = (join_fn *)libc_fn("pthread_join");
    pthread_t t;
    if (create(&t, NULL, fn, NULL) != 0)
        abort();
    wait_flag();
    if (join(t, NULL) != 0)
        abort();
}

static void *unseen_locked(void *v)
{
    pthread_mutex_lock(&L);
    set(1);
    pthread_mutex_unlock(&L);
    signal_flag();
    return v;
}

/* main writes under L while alone (its release skipped); the unseen
 * thread takes L, then writes: ordered, as without the skipping. */
static void unseen_after_lock(void)
{
    M = make_map();
    pthread_mutex_lock(&L);
    set(1);
    pthread_mutex_unlock(&L);
    fire_unseen(unseen_locked);
}

static void *unseen_unlocked(void *v)
{
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:solo_unseen_set */
    signal_flag();
    return v;
}

/* Nothing orders main's write before the unseen thread's: still found. */
static void unseen_race(void)
{
    M = make_map();
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:solo_main_set */
    fire_unseen(unseen_unlocked);
}

/* ---- a forked child of a single-threaded parent ----
 * stays single-threaded until its own first thread, which takes the lock
 * the child let go while alone. */
static void fork_alone(void)
{
    M = make_map();
    pthread_mutex_lock(&L);
    set(1);
    pthread_mutex_unlock(&L);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_mutex_lock(&L);
        set(2);
        pthread_mutex_unlock(&L);
        pthread_t t;
        pthread_create(&t, NULL, late_taker, NULL);
        pthread_join(t, NULL);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        exit(3);
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {
        {"alone_then_created", alone_then_created},
        {"alone_then_c11", alone_then_c11},
        {"race_after_creation", race_after_creation},
        {"lock_across_creation", lock_across_creation},
        {"unseen_after_lock", unseen_after_lock},
        {"unseen_race", unseen_race},
        {"fork_alone", fork_alone},
    };
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
