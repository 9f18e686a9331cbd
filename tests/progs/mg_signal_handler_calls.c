/*
 * A signal handler that makes map calls and lock calls while the thread it
 * interrupted is itself inside a map call or between lock calls: the shim
 * (its per-thread state, its recursion guard, the happens-before engine's
 * tables) must come out of the handler as it went in, with no deadlock and
 * no finding. The handler reads and rewrites an existing key of a map of
 * its own (no allocation), takes and drops a mutex of its own with
 * pthread_mutex_trylock, tries the interrupted thread's mutex, and posts a
 * semaphore: what real handlers do, short of anything that could block.
 *
 * Deterministic: in every scenario but "storm" the thread raises the signal
 * itself with pthread_kill(pthread_self()), which delivers it before
 * pthread_kill returns, at a chosen point:
 *
 *   in_map     inside the map's hash callback, so inside gomap_set and
 *              gomap_get, on main and on a created thread
 *   in_lock    while holding a mutex, a read lock, a spinlock, and
 *              between a sem_post and its sem_wait
 *   in_once    inside a pthread_once init function (inside the shim's
 *              once wrapper); the handler runs a pthread_once of its own
 *   at_thread_start
 *              the signal is pending for the process, blocked in main, and
 *              the new thread is created with it unblocked
 *              (pthread_attr_setsigmask_np): glibc delivers it as the
 *              thread starts, before the shim's start routine has run;
 *              then the thread reads the maps main filled and its handler
 *              wrote, as a created thread may
 *   relock_interrupted
 *              the handler lands on a thread blocked relocking its own
 *              mutex (see there)
 *   insert_storm
 *              handlers taking mutexes of their own while threads make
 *              and destroy mutexes (see there)
 *   storm      another thread sends 2000 signals to a worker busy with map
 *              calls under a mutex, a condition-variable ping-pong, a
 *              semaphore and a rwlock; each signal waits for its handler,
 *              so the count is exact wherever they land
 *
 * Prints what the handler saw; the same with and without the shim.
 */
#include "scenario.h"

#include <gomap.h>

#include <errno.h>
#include <sched.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum { HANDLER_KEYS = 64, STORM_SIGNALS = 2000 };

static gomap *handler_map; /* the handler's own, filled before any signal */
static pthread_mutex_t handler_mu = PTHREAD_MUTEX_INITIALIZER;
static sem_t handled;
/* the mutex the interrupted thread may hold, for the handler to try */
static pthread_mutex_t *volatile held;

static volatile sig_atomic_t runs, found, busy_seen, bad;

static void handler(int sig)
{
    (void)sig;
    int saved = errno;
    int64_t k = runs % HANDLER_KEYS, v = 0;
    if (gomap_lookup(handler_map, &k, &v) && v == k * 10)
        found++;
    else
        bad++;
    gomap_set(handler_map, &k, &v); /* an existing key: a write, no growth */
    if (gomap_len(handler_map) != HANDLER_KEYS)
        bad++;
    if (pthread_mutex_trylock(&handler_mu) == 0)
        pthread_mutex_unlock(&handler_mu);
    else
        bad++;
    pthread_mutex_t *h = held;
    if (h) {
        /* held by the thread this handler interrupted: busy, never taken */
        if (pthread_mutex_trylock(h) == EBUSY)
            busy_seen++;
        else
            bad++;
    }
    runs++;
    sem_post(&handled);
    errno = saved;
}

static void on_signal(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void install(void)
{
    on_signal(SIGUSR1, handler);
    sem_init(&handled, 0, 0);
    static const gomap_type t = {.key_size = 8, .val_size = 8};
    handler_map = gomap_new(&t, 0);
    for (int64_t i = 0; i < HANDLER_KEYS; i++) {
        int64_t v = i * 10;
        gomap_set(handler_map, &i, &v);
    }
}

/* The signal, now, on this thread; then its handler must have run once. */
static void raise_here(const char *where)
{
    sig_atomic_t before = runs;
    pthread_kill(pthread_self(), SIGUSR1);
    if (runs != before + 1 || sem_trywait(&handled) != 0) {
        printf("%s: the handler did not run\n", where);
        bad++;
    }
}

static void report(void)
{
    printf("handler runs %d found %d busy %d bad %d\n", (int)runs, (int)found, (int)busy_seen, (int)bad);
}

/* ---- in_map ---- */

static atomic_int raise_in_hash;

static uint64_t hash_raising(const void *key, size_t n, uint64_t seed)
{
    if (atomic_exchange(&raise_in_hash, 0))
        raise_here("hash");
    return gomap_hash_bytes(key, n, seed);
}

static void map_calls_interrupted(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8, .hash = hash_raising};
    gomap *m = gomap_new(&t, 0);
    int64_t sum = 0;
    for (int64_t i = 0; i < 100; i++) {
        atomic_store(&raise_in_hash, i % 10 == 0);
        gomap_set(m, &i, &i);
    }
    for (int64_t i = 0; i < 100; i++) {
        atomic_store(&raise_in_hash, i % 10 == 5);
        int64_t *v = gomap_get(m, &i);
        sum += v ? *v : -1000;
    }
    printf("map len %zu sum %lld\n", gomap_len(m), (long long)sum);
    gomap_free(m);
}

static void *map_thread(void *arg)
{
    (void)arg;
    map_calls_interrupted();
    return NULL;
}

static void in_map(void)
{
    map_calls_interrupted();
    pthread_t t;
    pthread_create(&t, NULL, map_thread, NULL);
    pthread_join(t, NULL);
}

/* ---- in_lock ---- */

static void in_lock(void)
{
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
    pthread_spinlock_t spin;
    sem_t s;
    pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
    sem_init(&s, 0, 0);
    static const gomap_type t = {.key_size = 8, .val_size = 8};
    gomap *m = gomap_new(&t, 0);
    for (int64_t i = 0; i < 20; i++) {
        pthread_mutex_lock(&mu);
        held = &mu;
        gomap_set(m, &i, &i);
        raise_here("mutex held");
        held = NULL;
        pthread_mutex_unlock(&mu);

        pthread_rwlock_rdlock(&rw);
        raise_here("read lock held");
        (void)gomap_get(m, &i);
        pthread_rwlock_unlock(&rw);

        pthread_spin_lock(&spin);
        raise_here("spinlock held");
        pthread_spin_unlock(&spin);

        sem_post(&s);
        raise_here("between sem_post and sem_wait");
        while (sem_wait(&s) != 0 && errno == EINTR)
            ;
    }
    printf("map len %zu\n", gomap_len(m));
    gomap_free(m);
    pthread_spin_destroy(&spin);
    sem_destroy(&s);
    pthread_rwlock_destroy(&rw);
    pthread_mutex_destroy(&mu);
}

/* ---- in_once ---- */

static pthread_once_t once_outer = PTHREAD_ONCE_INIT, once_in_handler = PTHREAD_ONCE_INIT;
static gomap *once_map;
static int handler_once_ran;

static void init_in_handler(void) { handler_once_ran++; }

static void once_handler(int sig)
{
    handler(sig);
    pthread_once(&once_in_handler, init_in_handler);
}

static void init_outer(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8};
    once_map = gomap_new(&t, 0);
    int64_t k = 1;
    gomap_set(once_map, &k, &k);
    raise_here("once init");
    k = 2;
    gomap_set(once_map, &k, &k);
}

static void *once_thread(void *arg)
{
    (void)arg;
    pthread_once(&once_outer, init_outer);
    return NULL;
}

static void in_once(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = once_handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, once_thread, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_once(&once_outer, init_outer);
    int64_t k = 2, v = 0;
    printf("once map len %zu has 2: %d, handler once ran %d\n", gomap_len(once_map),
           gomap_lookup(once_map, &k, &v) && v == 2, handler_once_ran);
}

/* ---- at_thread_start ---- */

static void *reads_after_start(void *arg)
{
    int64_t sum = 0, v;
    for (int64_t i = 0; i < HANDLER_KEYS; i++)
        if (gomap_lookup(handler_map, &i, &v))
            sum += v;
    *(int64_t *)arg = sum;
    return NULL;
}

static void at_thread_start(void)
{
    sigset_t usr1, none;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&none);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    kill(getpid(), SIGUSR1); /* pending: every thread so far blocks it */
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setsigmask_np(&a, &none);
    int64_t sum = 0;
    pthread_t t;
    pthread_create(&t, &a, reads_after_start, &sum);
    pthread_join(t, NULL);
    pthread_attr_destroy(&a);
    while (sem_trywait(&handled) != 0 && errno == EINTR)
        ;
    printf("thread read sum %lld\n", (long long)sum);
}

/* ---- storm ---- */

static atomic_int storm_done;
static pthread_mutex_t storm_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t storm_cv = PTHREAD_COND_INITIALIZER;
static int storm_turn; /* ping-pong between worker (0) and partner (1) */
static gomap *storm_map;
static pthread_rwlock_t storm_rw = PTHREAD_RWLOCK_INITIALIZER;

static void pass_turn(int me)
{
    pthread_mutex_lock(&storm_mu);
    while (storm_turn != me && !atomic_load(&storm_done))
        pthread_cond_wait(&storm_cv, &storm_mu);
    storm_turn = !me;
    pthread_cond_broadcast(&storm_cv);
    pthread_mutex_unlock(&storm_mu);
}

static sem_t storm_started;

static void *storm_worker(void *arg)
{
    (void)arg;
    sem_post(&storm_started);
    sem_t s;
    sem_init(&s, 0, 0);
    for (int64_t i = 0; !atomic_load(&storm_done); i++) {
        int64_t k = i % 512;
        pthread_mutex_lock(&storm_mu);
        gomap_set(storm_map, &k, &i);
        (void)gomap_get(storm_map, &k);
        if (i % 3 == 0)
            gomap_delete(storm_map, &k);
        pthread_mutex_unlock(&storm_mu);
        pthread_rwlock_rdlock(&storm_rw);
        (void)gomap_len(storm_map);
        pthread_rwlock_unlock(&storm_rw);
        sem_post(&s);
        while (sem_wait(&s) != 0 && errno == EINTR)
            ;
        pass_turn(0);
    }
    sem_destroy(&s);
    return NULL;
}

static void *storm_partner(void *arg)
{
    (void)arg;
    while (!atomic_load(&storm_done)) {
        pass_turn(1);
        pthread_rwlock_wrlock(&storm_rw);
        pthread_rwlock_unlock(&storm_rw);
    }
    return NULL;
}

static void storm(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8};
    storm_map = gomap_new(&t, 0);
    sem_init(&storm_started, 0, 0);
    /* Only the worker takes the signal: main blocks it once the worker
     * exists, and the partner, created after, inherits the block. */
    pthread_t worker, partner;
    pthread_create(&worker, NULL, storm_worker, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_create(&partner, NULL, storm_partner, NULL);
    /* signals at a thread's start are at_thread_start's: these land in
     * the worker's loop */
    while (sem_wait(&storm_started) != 0 && errno == EINTR)
        ;
    for (int i = 0; i < STORM_SIGNALS; i++) {
        pthread_kill(worker, SIGUSR1);
        while (sem_wait(&handled) != 0 && errno == EINTR)
            ;
    }
    atomic_store(&storm_done, 1);
    pthread_mutex_lock(&storm_mu);
    pthread_cond_broadcast(&storm_cv);
    pthread_mutex_unlock(&storm_mu);
    pthread_join(worker, NULL);
    pthread_join(partner, NULL);
    printf("storm signals %d\n", STORM_SIGNALS);
    gomap_free(storm_map);
}

/* ---- lock_storm ----
 * A timer's SIGALRM every 20 us, taken only by short-lived threads; their
 * handler takes a program mutex, then makes the thread's first map call,
 * which registers the thread under the shim's thread table lock. The
 * threads leave through the shim's thread-exit handler, which takes that
 * lock too. A handler that ran on a thread holding the lock at its exit,
 * and waited for the mutex, held by another thread's handler waiting for
 * the lock, hung the program (a held-out probe, 3 in 20 runs): the lock
 * is now held with signals blocked. (The handler's map calls run with
 * SIGALRM blocked, so the engine's own locks, taken inside them, are
 * never held by an interrupted thread here.) A watchdog ends a hung run
 * with status 9. */
static pthread_mutex_t alarm_mu = PTHREAD_MUTEX_INITIALIZER;

static void alarm_handler(int sig)
{
    (void)sig;
    int saved = errno;
    pthread_mutex_lock(&alarm_mu);
    if (gomap_len(handler_map) != HANDLER_KEYS)
        bad++;
    pthread_mutex_unlock(&alarm_mu);
    errno = saved;
}

static void *short_thread(void *arg)
{
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do /* long enough for a signal or two */
        clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 50000);
    return arg;
}

static void *thread_maker(void *arg)
{
    for (int i = 0; i < 1000; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, short_thread, NULL) == 0)
            pthread_join(t, NULL);
    }
    return arg;
}

static void *watchdog(void *arg)
{
    sleep(60);
    printf("hung\n");
    fflush(stdout);
    _exit(9);
    return arg;
}

/* The storms' common part: three makers of short threads, which alone take
 * SIGALRM (every 20 us, to handler), and a watchdog. */
static void storm_with(void (*handler)(int), void *(*maker)(void *))
{
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, NULL); /* every thread made from here on, until it unblocks */
    pthread_t dog;
    pthread_create(&dog, NULL, watchdog, NULL);
    on_signal(SIGALRM, handler);
    struct itimerval it = {{0, 20}, {0, 20}};
    setitimer(ITIMER_REAL, &it, NULL);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, maker, NULL);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
}

static void lock_storm(void)
{
    storm_with(alarm_handler, thread_maker);
    printf("lock storm threads %d\n", 3 * 1000);
}

/* ---- relock_interrupted ----
 * A thread blocked in pthread_mutex_lock on the mutex it let go last (the
 * lock wrappers' one-compare path, hb_lockpath.h), while the other thread
 * holds it and writes the map; a signal handler on the blocked thread
 * takes and lets go a mutex of its own, with a map read, meanwhile. Every
 * write of the map is under the one mutex: clean. The handler's unlock
 * once left its own mutex's hint, which the interrupted relock then
 * trusted: the other thread's write was reported, every run. */
static pthread_mutex_t relock_mu = PTHREAD_MUTEX_INITIALIZER, relock_handler_mu = PTHREAD_MUTEX_INITIALIZER;
static gomap *relock_map;
static atomic_int relock_blocking, relock_held, relock_handled;

static void relock_handler(int sig)
{
    (void)sig;
    int saved = errno;
    int64_t k = 1;
    pthread_mutex_lock(&relock_handler_mu);
    if (!gomap_get(handler_map, &k))
        bad++;
    pthread_mutex_unlock(&relock_handler_mu);
    atomic_store(&relock_handled, 1);
    errno = saved;
}

static void relock_put(int64_t k)
{
    pthread_mutex_lock(&relock_mu);
    gomap_set(relock_map, &k, &k);
    pthread_mutex_unlock(&relock_mu);
}

static void *relock_blocked(void *arg)
{
    for (int64_t k = 1; k <= 3; k++)
        relock_put(k);
    atomic_store(&relock_blocking, 1);
    while (!atomic_load(&relock_held))
        sched_yield();
    relock_put(4); /* blocks: the other thread holds the mutex */
    return arg;
}

static void *relock_holder(void *arg)
{
    while (!atomic_load(&relock_blocking))
        sched_yield();
    pthread_mutex_lock(&relock_mu);
    atomic_store(&relock_held, 1);
    while (!atomic_load(&relock_handled))
        sched_yield();
    int64_t k = 100;
    gomap_set(relock_map, &k, &k);
    pthread_mutex_unlock(&relock_mu);
    return arg;
}

static void relock_interrupted(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8};
    relock_map = gomap_new(&t, 0);
    on_signal(SIGUSR1, relock_handler);
    pthread_t blocked, holder;
    pthread_create(&blocked, NULL, relock_blocked, NULL);
    pthread_create(&holder, NULL, relock_holder, NULL);
    while (!atomic_load(&relock_held))
        sched_yield();
    /* the blocked thread is in the real lock by now, or gets there: the
     * signal lands while it waits, or just before (clean either way) */
    usleep(20000);
    pthread_kill(blocked, SIGUSR1);
    pthread_join(blocked, NULL);
    pthread_join(holder, NULL);
    printf("relock entries %zu\n", gomap_len(relock_map));
    gomap_free(relock_map);
}

/* ---- insert_storm ----
 * Two workers churn through fresh mutexes (init, lock, a map call,
 * unlock, destroy: each a first release and a reset in the engine's
 * table of objects) while main sends them signals as fast as it can; the
 * handler locks and unlocks one of many mutexes of its own, never held by
 * the code it interrupts. The table's insert lock, one for every object,
 * was held with signals open: a handler on its holder waited for a
 * handler mutex that another thread's handler held while it waited for
 * the insert lock, and the program hung (a held-out probe: 5 runs of 10).
 */
enum { INSERT_HANDLER_MUTEXES = 4096, INSERT_ROUNDS = 20000 };
static pthread_mutex_t insert_handler_mu[INSERT_HANDLER_MUTEXES];
static atomic_uint insert_next;
static atomic_int insert_workers_done;

static void insert_handler(int sig)
{
    (void)sig;
    int saved = errno;
    pthread_mutex_t *m = &insert_handler_mu[atomic_fetch_add(&insert_next, 1) / 2 % INSERT_HANDLER_MUTEXES];
    pthread_mutex_lock(m);
    pthread_mutex_unlock(m);
    errno = saved;
}

static void *insert_worker(void *arg)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8};
    gomap *m = gomap_new(&t, 0);
    for (int64_t i = 0; i < INSERT_ROUNDS; i++) {
        pthread_mutex_t mu;
        pthread_mutex_init(&mu, NULL);
        pthread_mutex_lock(&mu);
        int64_t k = i % 50;
        gomap_set(m, &k, &k);
        pthread_mutex_unlock(&mu);
        pthread_mutex_destroy(&mu);
    }
    if (gomap_len(m) != 50)
        bad++;
    gomap_free(m);
    atomic_fetch_add(&insert_workers_done, 1);
    return arg;
}

static void insert_storm(void)
{
    for (int i = 0; i < INSERT_HANDLER_MUTEXES; i++)
        pthread_mutex_init(&insert_handler_mu[i], NULL);
    on_signal(SIGUSR1, insert_handler);
    pthread_t w[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&w[i], NULL, insert_worker, NULL);
    /* both at once, so that their handlers most often want one mutex; a
     * worker that ended (not joined yet) takes no signal */
    while (atomic_load(&insert_workers_done) < 2)
        for (int i = 0; i < 2; i++)
            pthread_kill(w[i], SIGUSR1);
    for (int i = 0; i < 2; i++)
        pthread_join(w[i], NULL);
    printf("insert storm rounds %d\n", 2 * INSERT_ROUNDS);
}

/* ---- report_storm ----
 * lock_storm's shape, but every map call is a finding: the short threads
 * and the handler (under the program's mutex) write to the nil map, and
 * each occurrence takes the shim's report lock (to count it, reported
 * already or not). A thread holding that lock, or inside a report (which
 * takes the loader's lock too), interrupted by a handler waiting for the
 * mutex, while another thread's handler holding the mutex waited for the
 * report lock, hung the program (a held-out probe: 5 hangs in 10 runs of
 * a racy program whose SIGALRM handler took a mutex). The report and
 * symbolization locks, and a whole report, run with the asynchronous
 * signals blocked. (The nil map has no history: the engine's per-map
 * locks, not masked, stay out of it.) */
static void report_handler(int sig)
{
    (void)sig;
    int saved = errno;
    pthread_mutex_lock(&alarm_mu);
    int64_t k = 1;
    gomap_set(NULL, &k, &k);
    pthread_mutex_unlock(&alarm_mu);
    errno = saved;
}

static void *reporting_thread(void *arg)
{
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
    for (int64_t i = 0; i < 100; i++)
        gomap_set(NULL, &i, &i);
    return arg;
}

static void *report_maker(void *arg)
{
    for (int i = 0; i < 300; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, reporting_thread, NULL) == 0)
            pthread_join(t, NULL);
    }
    return arg;
}

static void report_storm(void)
{
    storm_with(report_handler, report_maker);
    printf("report storm threads %d\n", 3 * 300);
}

int main(int argc, char **argv)
{
    static const struct scenario table[] = {
        {"in_map", in_map},
        {"in_lock", in_lock},
        {"in_once", in_once},
        {"at_thread_start", at_thread_start},
        {"storm", storm},
        {"lock_storm", lock_storm},
        {"relock_interrupted", relock_interrupted},
        {"insert_storm", insert_storm},
        {"report_storm", report_storm},
    };
    void (*fn)(void) = scenario_find(table, SCENARIO_COUNT(table), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    install();
    fn();
    report();
    gomap_free(handler_map);
    return bad ? 1 : 0;
}
