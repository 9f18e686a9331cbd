/*
 * A signal handler run at every instruction of a span of lock and map
 * calls, one instruction further each round: the lock wrappers' inline
 * paths take no guard (shim/hb_lockpath.h), so where a handler lands in
 * them decides what it can disturb, and a storm of timer signals finds a
 * window of a few instructions once in hundreds of runs (a held-out probe
 * found one so: a handler that posted a semaphore and read a map between
 * the tests of mg_hb_own_remember and its read of the state count; the
 * next holder's write was reported, about 1 run in 800).
 *
 * The process forks. The child runs the rounds with its main thread
 * traced (PTRACE_TRACEME); the parent is the tracer. Each round the main
 * thread marks its span's start and end with SIGURG and SIGWINCH, which
 * are ignored unless traced. At the start of round i the tracer
 * single-steps the thread i instructions into the span, then delivers
 * SIGUSR1 there. When a round's span is over before i steps, every
 * instruction has had its handler: the tracer delivers SIGUSR2, which
 * ends the rounds. The other thread is not traced and runs freely.
 *
 * The span is the pattern that found the first bug: a lock, a map write
 * and a release, then a try (for a mutex always the general path, which
 * makes the one-compare path's hint), a map call and a release. Between
 * rounds a second thread takes the same lock and writes the same map.
 * Every write is under the lock: clean, wherever the handler runs. The
 * scenario is LOCK.HANDLER; the locks:
 *
 *   mutex    pthread_mutex_lock, trylock, unlock (a default mutex)
 *   relock   the same, and a third pair taken again with nobody between:
 *            the one-compare relock that succeeds, where the first
 *            pair's fails (not in mutex's span: each round starts where
 *            the last one's handler left the thread, and with the third
 *            pair mutex.post_and_read no longer found the bug it was
 *            written for)
 *   rwlock   pthread_rwlock_wrlock and unlock, then tryrdlock and a read
 *   spin     pthread_spin_lock, trylock, unlock
 *   sem      a semaphore of one: sem_wait, sem_trywait, sem_post
 *   mtx      C11's mtx_lock, mtx_trylock, mtx_unlock
 *
 * and the handlers:
 *
 *   post_and_read  posts a semaphore and reads a map of its own: a
 *                  release, then a tick of the thread's epoch
 *   own_mutex      takes and lets go a mutex of its own around the read:
 *                  its own hint, made and left in the middle
 *   their_lock     tries the span's lock, and when it gets it (the thread
 *                  does not hold it) writes the shared map under it: the
 *                  same lock taken in the middle of its own take or release
 *
 * Prints the map's size (the child) and "swept every point" (the
 * tracer); exits non-zero when the sweep did not finish (the child ended
 * otherwise, or tracing failed). With MG_SWEEP_VERBOSE set, the tracer
 * names each point's module and offset on stderr, for addr2line: the last
 * one before a report under halt_on_error=1 is where the handler broke
 * the shim's state.
 */
#include <gomap.h>

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <threads.h>
#include <unistd.h>

enum { MAX_ROUNDS = 20000, HANDLER_KEYS = 16 };

static const gomap_type i64 = {.key_size = 8, .val_size = 8};
static gomap *shared_map, *handler_map;
static pthread_mutex_t handler_mu = PTHREAD_MUTEX_INITIALIZER;
static sem_t posted;
static volatile sig_atomic_t handled;
static atomic_int sweep_over; /* read by the other thread too */
static atomic_int turn;       /* 0: main's span, 1: the other thread's write */

/* ---- the locks ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_spinlock_t spin;
static sem_t one;
static mtx_t cmtx;

static void mutex_take(void) { pthread_mutex_lock(&mu); }
static bool mutex_try(void) { return pthread_mutex_trylock(&mu) == 0; }
static void mutex_give(void) { pthread_mutex_unlock(&mu); }
static void rw_take(void) { pthread_rwlock_wrlock(&rw); }
static bool rw_try(void) { return pthread_rwlock_trywrlock(&rw) == 0; }
static bool rw_try_read(void) { return pthread_rwlock_tryrdlock(&rw) == 0; }
static void rw_give(void) { pthread_rwlock_unlock(&rw); }
static void spin_take(void) { pthread_spin_lock(&spin); }
static bool spin_try(void) { return pthread_spin_trylock(&spin) == 0; }
static void spin_give(void) { pthread_spin_unlock(&spin); }
static void sem_take(void)
{
    while (sem_wait(&one) != 0) /* EINTR: the handler ran in the wait */
        ;
}
static bool sem_try(void) { return sem_trywait(&one) == 0; }
static void sem_give(void) { sem_post(&one); }
static void mtx_take(void) { mtx_lock(&cmtx); }
static bool mtx_try(void) { return mtx_trylock(&cmtx) == thrd_success; }
static void mtx_give(void) { mtx_unlock(&cmtx); }

struct lock_kind {
    const char *name;
    void (*take)(void);
    bool (*try_take)(void);
    void (*give)(void);
    bool (*span_try)(void); /* the span's second take */
    bool span_reads;        /* and what it does under it */
    bool relock;            /* a third pair: taken again with nobody between */
};

static const struct lock_kind locks[] = {
    {"mutex", mutex_take, mutex_try, mutex_give, mutex_try, false, false},
    {"relock", mutex_take, mutex_try, mutex_give, mutex_try, false, true},
    {"rwlock", rw_take, rw_try, rw_give, rw_try_read, true, false},
    {"spin", spin_take, spin_try, spin_give, spin_try, false, false},
    {"sem", sem_take, sem_try, sem_give, sem_try, false, false},
    {"mtx", mtx_take, mtx_try, mtx_give, mtx_try, false, false},
};
static const struct lock_kind *lk;

/* ---- the handlers ---- */

enum handler_kind { POST_AND_READ, OWN_MUTEX, THEIR_LOCK };
static const char *const handler_names[] = {"post_and_read", "own_mutex", "their_lock"};
static enum handler_kind handler_kind;

static void on_usr1(int sig)
{
    (void)sig;
    int saved = errno;
    int64_t k = handled % HANDLER_KEYS;
    switch (handler_kind) {
    case POST_AND_READ:
        sem_post(&posted);
        gomap_get(handler_map, &k);
        break;
    case OWN_MUTEX:
        pthread_mutex_lock(&handler_mu);
        gomap_get(handler_map, &k);
        pthread_mutex_unlock(&handler_mu);
        break;
    case THEIR_LOCK:
        if (lk->try_take()) {
            int64_t v = 2000000 + k;
            gomap_set(shared_map, &v, &v);
            lk->give();
        }
        break;
    }
    handled++;
    errno = saved;
}

static void on_usr2(int sig)
{
    (void)sig;
    atomic_store(&sweep_over, 1);
}

static void put(int64_t k)
{
    gomap_set(shared_map, &k, &k);
}

/* The two threads pass the turn through an atomic the shim does not see,
 * so that only the lock orders their map calls. The waiter sleeps: one
 * spinning beside the traced thread and the tracer took a CPU from them,
 * and a sweep beside the rest of the suite took over a minute. */
static void wait_turn(int want)
{
    while (atomic_load(&turn) != want && !atomic_load(&sweep_over))
        usleep(20);
}

static void *other(void *arg)
{
    for (int64_t r = 0;; r++) {
        wait_turn(1);
        if (atomic_load(&sweep_over))
            return arg;
        lk->take();
        put(1000000 + r % 64);
        lk->give();
        atomic_store(&turn, 0);
    }
}

static void span(int64_t r)
{
    raise(SIGURG);
    lk->take();
    put(2 * (r % 64));
    lk->give();
    if (lk->span_try()) {
        int64_t k = 2 * (r % 64);
        if (lk->span_reads)
            gomap_get(shared_map, &k);
        else
            put(k + 1);
        lk->give();
    }
    if (lk->relock) {
        lk->take();
        put(2 * (r % 64));
        lk->give();
    }
    raise(SIGWINCH);
}

/* The traced child: returns its exit status. */
static int rounds(void)
{
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) {
        perror("PTRACE_TRACEME");
        return 3;
    }
    raise(SIGSTOP); /* the tracer attaches its options here */
    pthread_t t;
    pthread_create(&t, NULL, other, NULL);
    int64_t r = 0;
    for (; r < MAX_ROUNDS && !atomic_load(&sweep_over); r++) {
        span(r);
        atomic_store(&turn, 1);
        wait_turn(0);
    }
    atomic_store(&turn, 1);
    pthread_join(t, NULL);
    return atomic_load(&sweep_over) ? 0 : 1;
}

static int stepped_to(pid_t pid, long steps, int *status)
{
    for (long s = 0; s < steps; s++) {
        if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL) != 0 || waitpid(pid, status, 0) != pid ||
            !WIFSTOPPED(*status))
            return -1;
        if (WSTOPSIG(*status) == SIGWINCH)
            return 0; /* the span ended first */
        if (WSTOPSIG(*status) != SIGTRAP)
            return -1;
    }
    return 1;
}

/* MG_SWEEP_VERBOSE: the module and offset of each point, for addr2line */
static void where(pid_t pid, unsigned long long rip, long round)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        unsigned long long lo, hi, off;
        char file[400] = "";
        if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %399s", &lo, &hi, &off, file) >= 3 && rip >= lo && rip < hi) {
            fprintf(stderr, "round %ld: %s %#llx\n", round, file, rip - lo + off);
            break;
        }
    }
    if (f)
        fclose(f);
}

/* The tracer: round i gets its handler i instructions into the span. */
static int trace(pid_t pid)
{
    int status;
    long target = 0, swept = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
        fprintf(stderr, "sweep: the child did not stop\n");
        return 2;
    }
    ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(uintptr_t)PTRACE_O_EXITKILL);
    int deliver = 0;
    for (;;) {
        if (ptrace(PTRACE_CONT, pid, NULL, (void *)(uintptr_t)deliver) != 0)
            return 2;
        deliver = 0;
        if (waitpid(pid, &status, 0) != pid)
            return 2;
        if (WIFEXITED(status) || WIFSIGNALED(status))
            break;
        int sig = WSTOPSIG(status);
        if (sig == SIGWINCH)
            continue;
        if (sig != SIGURG) {
            deliver = sig; /* not ours: the program's */
            continue;
        }
        int at = stepped_to(pid, target++, &status);
        if (at < 0) {
            fprintf(stderr, "sweep: single-stepping failed at %ld (status %#x)\n", target - 1, status);
            kill(pid, SIGKILL);
            return 2;
        }
        if (at == 0) {
            deliver = SIGUSR2; /* every instruction of the span has had its handler */
            continue;
        }
        deliver = SIGUSR1;
        swept++;
        if (getenv("MG_SWEEP_VERBOSE")) {
            struct user_regs_struct regs;
            ptrace(PTRACE_GETREGS, pid, NULL, &regs);
            where(pid, regs.rip, target - 1);
        }
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code != 0) {
        fprintf(stderr, "sweep: the child ended with %d after %ld points\n", code, swept);
        return 2;
    }
    /* a span that short would not be two lock pairs and two map calls */
    printf("swept %s\n", swept > 100 ? "every point" : "too few points");
    return swept > 100 ? 0 : 1;
}

static void sweep(void)
{
    shared_map = gomap_new(&i64, 0);
    handler_map = gomap_new(&i64, 0);
    for (int64_t k = 0; k < HANDLER_KEYS; k++)
        gomap_set(handler_map, &k, &k);
    sem_init(&posted, 0, 0);
    sem_init(&one, 0, 1);
    pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
    mtx_init(&cmtx, mtx_plain);
    struct sigaction sa = {.sa_handler = on_usr1};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int code = rounds();
        if (code == 0)
            printf("map %zu\n", gomap_len(shared_map));
        exit(code);
    }
    int code = trace(pid);
    gomap_free(shared_map);
    gomap_free(handler_map);
    exit(code);
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "";
    const char *dot = strchr(name, '.');
    for (size_t i = 0; dot && i < sizeof locks / sizeof locks[0]; i++)
        if (strlen(locks[i].name) == (size_t)(dot - name) && !strncmp(name, locks[i].name, (size_t)(dot - name)))
            lk = &locks[i];
    for (size_t h = 0; lk && h < sizeof handler_names / sizeof handler_names[0]; h++)
        if (!strcmp(dot + 1, handler_names[h])) {
            handler_kind = (enum handler_kind)h;
            sweep();
        }
    fprintf(stderr, "usage: %s mutex|relock|rwlock|spin|sem|mtx.post_and_read|own_mutex|their_lock\n", argv[0]);
    return 2;
}
