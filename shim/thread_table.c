/*
 * Threads: a small index per thread, where each thread was created, and
 * its name.
 *
 * Map words have 16 bits for a thread (mapstate.h), so each thread that
 * touches a map gets an index into a table holding its tid and the depot
 * id of the pthread_create or thrd_create call that started it. Indexes
 * are recycled when threads exit (a pthread key destructor), so a program
 * that starts threads all day long does not run out; but only once every
 * index has been used, oldest first, so that a report naming a thread that
 * already ended (the earlier call of an unordered race) names it right.
 *
 * pthread_create and thrd_create are interposed (intercept.h) to capture
 * the creating stack: TSan prints it with every thread in a report, and users need it
 * to tell workers apart. glibc's thrd_create does not go through
 * pthread_create's PLT entry, hence both.
 */
#include "detect.h"
#include "happens_before.h"
#include "intercept.h"
#include "stack.h"
#include "thread_table.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

__thread struct mg_thread mg_self __attribute__((tls_model("initial-exec"))) = {.hb_epoch = MG_HB_EPOCH_NONE};
__thread sigset_t mg_owned_saved_mask __attribute__((tls_model("initial-exec"))); /* owned_lock.h */
uint64_t mg_hb_idle_epoch = MG_HB_EPOCH_NONE;

/* A slot keeps its thread's tid and last known name after the thread
 * exits, until the index is reused: a report often names a thread that has
 * finished by the time the report is written. */
struct slot {
    uint32_t tid;
    uint32_t created;
    uint32_t serial; /* the registration that last took the index (mg_thread_ref) */
    char name[16];
};

static MG_LARGE_BSS struct slot table[MG_MAX_THREADS];
static uint32_t next_idx = 1;
static uint32_t serials;
/* Freed indexes, oldest first. An index is reused only once every index
 * has been handed out, and then the one freed the longest ago: a report
 * written after a thread ended (the earlier call of an unordered race
 * usually is) still finds that thread's tid, name and creation stack. */
static MG_LARGE_BSS uint16_t free_idx[MG_MAX_THREADS];
static uint32_t free_head, free_tail; /* free_idx[head..tail), modulo the size */
/* Indexes of threads left behind by a fork (see mg_threads_atfork_child). */
static MG_LARGE_BSS uint64_t gone[MG_MAX_THREADS / 64];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

/* The table's lock is taken with every signal blocked. A program's signal
 * handler may take a lock of its own and then make a map call, which
 * registers its thread under this lock: had a handler run on a thread
 * holding it, and waited there for the program's lock that another
 * thread's handler held while waiting for this one, neither would ever
 * return (a held-out probe: a SIGALRM handler taking a mutex and calling
 * gomap_get hung 3 in 20 runs; the busy guard alone covers only a handler
 * on the same thread). Registration and exit are once per thread. */
static void table_lock(sigset_t *old)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, old);
    pthread_mutex_lock(&lock);
}

static void table_unlock(const sigset_t *old)
{
    pthread_mutex_unlock(&lock);
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* The exit key's destructor. glibc runs the keys' destructors in rounds
 * (at most PTHREAD_DESTRUCTOR_ITERATIONS), in key order within a round,
 * after the thread's cleanup handlers and thread_local destructors; this
 * one sets its key again until the last round, so that the thread's end
 * (its engine record's final clock, its writer marks, its index) comes
 * after the program's own: map calls made in a cleanup handler, a TSD
 * destructor or a GPrivate notify are checked, recorded, and ordered
 * before a join. They were not (a held-out probe: a destructor's write,
 * then main's read with nothing between, was never reported). Only a
 * destructor of a key made after ours that still runs in the last round
 * comes after. */
static void thread_exit(void *p)
{
    if (++mg_self.exit_rounds < PTHREAD_DESTRUCTOR_ITERATIONS) {
        pthread_setspecific(exit_key, p);
        return;
    }
    mg_hb_thread_end();
    uint32_t idx = (uint32_t)(uintptr_t)p;
    if (idx != 0 && idx < MG_THREAD_OVERFLOW)
        mg_race_thread_ends(idx);
    mg_self.idx = 0;
    mg_self.fast = 0;
    if (idx == 0 || idx >= MG_THREAD_OVERFLOW)
        return;
    mg_thread_remember_name();
    sigset_t old;
    table_lock(&old);
    free_idx[free_tail++ % MG_MAX_THREADS] = (uint16_t)idx;
    table_unlock(&old);
}

static void make_key(void) { pthread_key_create(&exit_key, thread_exit); }

/* The exit key's value before the thread registers: no index. */
#define EXIT_UNREGISTERED ((void *)(uintptr_t)UINT32_MAX)

/* Sets the exit key (val: the thread's index, or EXIT_UNREGISTERED). The
 * shim's own once, not the program's (the wrappers tell them apart by the
 * guard). */
static void arm_exit(void *val)
{
    mg_self.busy++;
    pthread_once(&key_once, make_key);
    mg_self.busy--;
    if (pthread_setspecific(exit_key, val) == 0)
        mg_self.exit_armed = true;
}

uint32_t mg_thread_register(void)
{
    (void)mg_self_tid();
    /* the shim's own lock, not a synchronization of the program's (the
     * wrappers tell them apart by the guard) */
    mg_self.busy++;
    sigset_t old;
    table_lock(&old);
    uint32_t idx;
    /* a second thread met at its first checked call, its creation unseen
     * (a raw clone, a thread libc started): the solo path ends here
     * (detect.h), and the thread's own first call is checked in full */
    if (next_idx > 1)
        mg_solo_end();
    if (next_idx < MG_THREAD_OVERFLOW)
        idx = next_idx++;
    else if (free_head != free_tail)
        idx = free_idx[free_head++ % MG_MAX_THREADS];
    else
        idx = MG_THREAD_OVERFLOW;
    table[idx].tid = mg_self.tid;
    table[idx].created = mg_self.created_stack;
    __atomic_store_n(&table[idx].serial, ++serials, __ATOMIC_RELAXED);
    table_unlock(&old);
    mg_self.busy--;
    mg_self.idx = idx;
    mg_self.hb_epoch = __atomic_load_n(&mg_hb_idle_epoch, __ATOMIC_RELAXED);
    mg_thread_remember_name();
    arm_exit((void *)(uintptr_t)idx);
    return idx;
}

uint64_t mg_thread_ref(uint32_t idx)
{
    if (idx == 0 || idx >= MG_MAX_THREADS)
        return 0;
    return (uint64_t)__atomic_load_n(&table[idx].serial, __ATOMIC_RELAXED) << 32 | idx;
}

uint32_t mg_thread_of_ref(uint64_t ref)
{
    uint32_t idx = (uint32_t)ref;
    /* the overflow index is shared: whichever thread it was, it cannot be told */
    if (idx == 0 || idx >= MG_THREAD_OVERFLOW)
        return 0;
    return mg_thread_ref(idx) == ref ? idx : 0;
}

uint32_t mg_thread_tid(uint32_t idx)
{
    return idx && idx < MG_MAX_THREADS ? __atomic_load_n(&table[idx].tid, __ATOMIC_RELAXED) : 0;
}

uint32_t mg_thread_created(uint32_t idx)
{
    return idx && idx < MG_MAX_THREADS ? __atomic_load_n(&table[idx].created, __ATOMIC_RELAXED) : 0;
}

void mg_thread_remember_name(void)
{
    uint32_t idx = mg_self.idx;
    if (idx == 0 || idx >= MG_THREAD_OVERFLOW)
        return;
    char name[17] = "";
    prctl(PR_GET_NAME, name, 0, 0, 0);
    memcpy(table[idx].name, name, sizeof table[idx].name);
}

void mg_thread_name(uint32_t idx, char *buf, size_t len)
{
    buf[0] = 0;
    if (len < 17 || idx == 0 || idx >= MG_MAX_THREADS)
        return;
    if (idx == mg_self.idx) {
        prctl(PR_GET_NAME, buf, 0, 0, 0);
        buf[16] = 0;
        return;
    }
    /* Live threads may have renamed themselves since we last looked. */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%u/comm", mg_thread_tid(idx));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0) {
        memcpy(buf, table[idx].name, sizeof table[idx].name);
        buf[sizeof table[idx].name] = 0;
        return;
    }
    buf[n] = 0;
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = 0;
}

void mg_threads_lock(void) { pthread_mutex_lock(&lock); }
void mg_threads_unlock(void) { pthread_mutex_unlock(&lock); }

bool mg_thread_gone(uint32_t idx)
{
    return idx < MG_MAX_THREADS && (gone[idx / 64] >> (idx % 64) & 1);
}

/*
 * In a forked child only the forking thread exists, under a new tid.
 *
 * Every other index in use at the fork names a thread that is not here. One
 * of them may have been inside a map write, and its writer mark is still in
 * that map's sync word: without more, the child's next call on the map
 * would be reported as racing with it. Rather than find those maps now
 * (which would need each thread to publish the map it writes, a cost on
 * every write's fast path), the indexes are remembered as gone, and the
 * race checks, which only run when a sync word shows another thread, treat
 * a gone writer's mark as no writer and clear it. A gone index is never
 * handed out again here: it is not on the free list, and its thread will
 * never exit to put it there.
 */
void mg_threads_atfork_child(void)
{
    pthread_mutex_init(&lock, NULL);
    mg_self.tid = (uint32_t)gettid();
    if (mg_self.idx && mg_self.idx < MG_MAX_THREADS)
        table[mg_self.idx].tid = mg_self.tid;
    uint32_t end = next_idx < MG_MAX_THREADS ? next_idx : MG_MAX_THREADS;
    for (uint32_t i = 1; i < end; i++)
        gone[i / 64] |= 1ull << (i % 64);
    for (uint32_t i = free_head; i != free_tail; i++)
        gone[free_idx[i % MG_MAX_THREADS] / 64] &= ~(1ull << (free_idx[i % MG_MAX_THREADS] % 64));
    /* The overflow index, shared by threads past the table's end, stays
     * out: it may be this thread's, or a new thread's here. */
    if (mg_self.idx && mg_self.idx < MG_THREAD_OVERFLOW)
        gone[mg_self.idx / 64] &= ~(1ull << (mg_self.idx % 64));
}

/* ---- thread creation ---- */

struct start {
    void *(*fn)(void *);
    int (*cfn)(void *);
    void *arg;
    uint32_t created;
    bool small_stack;
    void *hb; /* the engine's record for the new thread, or NULL */
};

/* The start records of threads being created come from a pool, not
 * malloc: a create wrapper that called malloc made a program that forks
 * from a signal handler hang where it did not without the shim (the
 * handler interrupted the wrapper's malloc, holding an arena lock that
 * glibc's fork then waited for; a held-out probe, every run). A bit per
 * record, taken and given back with atomic operations: no lock, safe in a
 * handler. Past START_POOL threads being created at once, malloc. */
#define START_POOL 256u
static MG_LARGE_BSS struct start start_pool[START_POOL];
static uint64_t start_used[START_POOL / 64];

static struct start *start_get(void)
{
    for (unsigned w = 0; w < START_POOL / 64; w++) {
        uint64_t v = __atomic_load_n(&start_used[w], __ATOMIC_RELAXED);
        while (~v) {
            unsigned b = (unsigned)__builtin_ctzll(~v);
            if (__atomic_compare_exchange_n(&start_used[w], &v, v | 1ull << b, true, __ATOMIC_ACQUIRE,
                                            __ATOMIC_RELAXED))
                return &start_pool[w * 64 + b];
        }
    }
    return malloc(sizeof(struct start));
}

static void start_put(struct start *s)
{
    uintptr_t off = (uintptr_t)s - (uintptr_t)start_pool;
    if (off >= sizeof start_pool) {
        free(s);
        return;
    }
    size_t i = off / sizeof *s;
    __atomic_and_fetch(&start_used[i / 64], ~(1ull << (i % 64)), __ATOMIC_RELEASE);
}

/* A stack this small (PTHREAD_STACK_MIN is 16 KiB) overflows in
 * unw_backtrace: the thread's captures step frame by frame (stack.c). */
#define MG_SMALL_STACK (64u * 1024)

static bool small_stack(const pthread_attr_t *attr)
{
    size_t size = 0;
    return attr && pthread_attr_getstacksize(attr, &size) == 0 && size < MG_SMALL_STACK;
}

static uint32_t creation_stack(void)
{
    mg_init();
    if (mg_self.busy)
        return 0;
    int saved = errno;
    mg_busy_enter();
    uint32_t id = mg_stack_save();
    mg_busy_leave();
    errno = saved;
    return id;
}

/* The start routine returned, or the thread called pthread_exit or
 * thrd_exit: a thread whose exit key is set ends later, in its destructor
 * (thread_exit); one without (the main thread before it registered, a
 * thread whose key could not be set) ends now. */
static void thread_ends(void)
{
    if (!mg_self.exit_armed)
        mg_hb_thread_end();
}

static void *start_posix(void *p)
{
    struct start s = *(struct start *)p;
    start_put(p);
    mg_self.created_stack = s.created;
    mg_self.small_stack = s.small_stack;
    mg_hb_thread_start(s.hb);
    arm_exit(EXIT_UNREGISTERED);
    void *r = s.fn(s.arg);
    thread_ends();
    return r;
}

static int start_c11(void *p)
{
    struct start s = *(struct start *)p;
    start_put(p);
    mg_self.created_stack = s.created;
    mg_hb_thread_start(s.hb);
    arm_exit(EXIT_UNREGISTERED);
    int r = s.cfn(s.arg);
    thread_ends();
    return r;
}

MG_DECLARE_REAL(int, pthread_create, (pthread_t *, const pthread_attr_t *, void *(*)(void *), void *));
MG_DECLARE_REAL(int, thrd_create, (thrd_t *, thrd_start_t, void *));

/* Resolved at start (mg_intercept_start); a thread created before, by
 * another library's constructor, resolves them itself. */
static void resolve_early(void)
{
    if (!MG_REAL_LOAD(pthread_create) || !MG_REAL_LOAD(thrd_create))
        mg_threads_resolve();
}

/* A join or detach wrapper called before start resolves its own. */
#define REAL_EARLY(fn) (MG_REAL_LOAD(fn) ? MG_REAL(fn) : (mg_threads_resolve(), MG_REAL_LOAD(fn)))

static bool attr_detached(const pthread_attr_t *attr)
{
    int st = PTHREAD_CREATE_JOINABLE;
    return attr && pthread_attr_getdetachstate(attr, &st) == 0 && st == PTHREAD_CREATE_DETACHED;
}

MG_INTERCEPTOR(int, pthread_create, (pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg))
{
    mg_hb_second_thread();
    resolve_early();
    if (!MG_REAL(pthread_create))
        return EAGAIN;
    struct start *s = mg_self.busy ? NULL : start_get();
    if (!s) {
        int r = MG_REAL(pthread_create)(th, attr, fn, arg);
        mg_solo_record();
        return r;
    }
    *s = (struct start){.fn = fn,
                        .arg = arg,
                        .created = creation_stack(),
                        .small_stack = small_stack(attr),
                        .hb = mg_hb_thread_creating()};
    void *hb = s->hb; /* s is the new thread's once it runs */
    mg_solo_record(); /* in the epoch after the one the child starts from */
    int r = MG_REAL(pthread_create)(th, attr, start_posix, s);
    mg_hb_thread_created(hb, r == 0 ? (uintptr_t)*th : 0, r == 0, attr_detached(attr));
    if (r != 0)
        start_put(s);
    return r;
}

MG_INTERCEPTOR(int, thrd_create, (thrd_t *th, thrd_start_t fn, void *arg))
{
    mg_hb_second_thread();
    resolve_early();
    if (!MG_REAL(thrd_create))
        return thrd_error;
    struct start *s = mg_self.busy ? NULL : start_get();
    if (!s) {
        int r = MG_REAL(thrd_create)(th, fn, arg);
        mg_solo_record();
        return r;
    }
    *s = (struct start){.cfn = fn, .arg = arg, .created = creation_stack(), .hb = mg_hb_thread_creating()};
    void *hb = s->hb;
    mg_solo_record();
    int r = MG_REAL(thrd_create)(th, start_c11, s);
    mg_hb_thread_created(hb, r == thrd_success ? (uintptr_t)*th : 0, r == thrd_success, false);
    if (r != thrd_success)
        start_put(s);
    return r;
}

/* ---- joins, detaches, ends (the happens-before engine) ---- */

MG_INTERCEPTOR(int, pthread_join, (pthread_t th, void **ret))
{
    void *hb = mg_hb_join_prepare((uintptr_t)th);
    int r = REAL_EARLY(pthread_join)(th, ret);
    mg_hb_join_done(hb, (uintptr_t)th, r == 0);
    return r;
}

MG_INTERCEPTOR(int, pthread_tryjoin_np, (pthread_t th, void **ret))
{
    void *hb = mg_hb_join_prepare((uintptr_t)th);
    int r = REAL_EARLY(pthread_tryjoin_np)(th, ret);
    mg_hb_join_done(hb, (uintptr_t)th, r == 0);
    return r;
}

MG_INTERCEPTOR(int, pthread_timedjoin_np, (pthread_t th, void **ret, const struct timespec *abstime))
{
    void *hb = mg_hb_join_prepare((uintptr_t)th);
    int r = REAL_EARLY(pthread_timedjoin_np)(th, ret, abstime);
    mg_hb_join_done(hb, (uintptr_t)th, r == 0);
    return r;
}

MG_INTERCEPTOR(int, pthread_clockjoin_np,
               (pthread_t th, void **ret, clockid_t clock, const struct timespec *abstime))
{
    void *hb = mg_hb_join_prepare((uintptr_t)th);
    int r = REAL_EARLY(pthread_clockjoin_np)(th, ret, clock, abstime);
    mg_hb_join_done(hb, (uintptr_t)th, r == 0);
    return r;
}

MG_INTERCEPTOR(int, thrd_join, (thrd_t th, int *res))
{
    void *hb = mg_hb_join_prepare((uintptr_t)th);
    int r = REAL_EARLY(thrd_join)(th, res);
    mg_hb_join_done(hb, (uintptr_t)th, r == thrd_success);
    return r;
}

MG_INTERCEPTOR(int, pthread_detach, (pthread_t th))
{
    /* before the real call: the thread may end and its handle be reused
     * as soon as it is detached */
    mg_hb_detach((uintptr_t)th);
    return REAL_EARLY(pthread_detach)(th);
}

MG_INTERCEPTOR(int, thrd_detach, (thrd_t th))
{
    mg_hb_detach((uintptr_t)th);
    return REAL_EARLY(thrd_detach)(th);
}

MG_INTERCEPTOR(void, pthread_exit, (void *ret))
{
    thread_ends();
    REAL_EARLY(pthread_exit)(ret);
    __builtin_unreachable();
}

MG_INTERCEPTOR(void, thrd_exit, (int res))
{
    thread_ends();
    REAL_EARLY(thrd_exit)(res);
    __builtin_unreachable();
}

void mg_threads_resolve(void)
{
    static const struct mg_intercept table[] = {
        MG_INTERCEPT(pthread_create),       MG_INTERCEPT(thrd_create),          MG_INTERCEPT(pthread_join),
        MG_INTERCEPT(pthread_tryjoin_np),   MG_INTERCEPT(pthread_timedjoin_np), MG_INTERCEPT(pthread_clockjoin_np),
        MG_INTERCEPT(thrd_join),            MG_INTERCEPT(pthread_detach),       MG_INTERCEPT(thrd_detach),
        MG_INTERCEPT(pthread_exit),         MG_INTERCEPT(thrd_exit),
    };
    mg_intercept_resolve(table, MG_INTERCEPT_COUNT(table));
}

int mg_spawn_helper(void *(*fn)(void *))
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_t t;
    int err = pthread_attr_init(&attr);
    if (err == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        /* busy: our own pthread_create wrapper passes this straight on. */
        mg_busy_enter();
        err = pthread_create(&t, &attr, fn, NULL);
        mg_busy_leave();
        pthread_attr_destroy(&attr);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return err;
}
