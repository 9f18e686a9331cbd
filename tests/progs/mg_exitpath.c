/*
 * Findings and the ways out of a process: return from main, exit from
 * another thread, _exit, abort, a crash, exec, with a finding still being
 * reported. One scenario per run, named by argv[1]; argv[0] must be this
 * program's path (exec, the fake LeakSanitizer beside it).
 *
 * "In flight" is made deterministic with a race whose report cannot be
 * finished: a writer parks inside gomap_set (the hash callback) and never
 * leaves, so the thread that overlaps it claims the finding and then waits
 * conflict_wait_ms for the writer's stack. Its own hash callback tells the
 * main thread when the claim has been made (the claim comes before the
 * call into the library); whatever the main thread does next, the report
 * is not on disk yet unless the shim writes it.
 */
#include <gomap.h>
#include "scenario.h"

#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { PARK = 1000001, CLAIMED = 1000002 };

static sem_t parked, claimed, forever;
static atomic_int arm_park, arm_claimed;
static gomap *M;
static const char *self;

static uint64_t hash_cb(const void *k, size_t n, uint64_t seed)
{
    int64_t v;
    memcpy(&v, k, sizeof v);
    if (v == PARK && atomic_exchange(&arm_park, 0)) {
        sem_post(&parked);
        sem_wait(&forever);
    }
    if (v == CLAIMED && atomic_exchange(&arm_claimed, 0))
        sem_post(&claimed);
    return gomap_hash_bytes(k, n, seed);
}

static void *set_park(void *a)
{
    (void)a;
    int64_t k = PARK, v = 1;
    gomap_set(M, &k, &v); /* @site:set_park */
    return NULL;
}

static void *set_overlap(void *a)
{
    (void)a;
    int64_t k = CLAIMED, v = 2;
    gomap_set(M, &k, &v); /* @site:set_overlap */
    return NULL;
}

/* Returns once a concurrent-writes finding is claimed and cannot be
 * reported: the writer it overlaps never leaves its call. */
static void race_in_flight(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8, .hash = hash_cb};
    M = gomap_new(&t, 0);
    sem_init(&parked, 0, 0);
    sem_init(&claimed, 0, 0);
    sem_init(&forever, 0, 0);
    atomic_store(&arm_park, 1);
    atomic_store(&arm_claimed, 1);
    pthread_t a, b;
    pthread_create(&a, NULL, set_park, NULL);
    sem_wait(&parked);
    pthread_create(&b, NULL, set_overlap, NULL);
    sem_wait(&claimed);
}

/* ---- the ways out ---- */

static void race_then_return(void) { race_in_flight(); }

static void race_then_exit(void)
{
    race_in_flight();
    exit(0);
}

static void race_then__exit(void)
{
    race_in_flight();
    _exit(0);
}

static void said_bye(void) { printf("quick_exit handler ran\n"); fflush(stdout); }

static void race_then_quick_exit(void)
{
    race_in_flight();
    at_quick_exit(said_bye);
    quick_exit(0);
}

/* no finding: the program's handler runs and its status stands */
static void clean_quick_exit(void)
{
    at_quick_exit(said_bye);
    quick_exit(5);
}

static void race_then_abort(void)
{
    race_in_flight();
    abort();
}

static void race_then_segv(void)
{
    race_in_flight();
    *(volatile int *)(uintptr_t)16 = 1; /* @site:segv */
}

/* The program's own SIGSEGV handler, set after the shim started: it runs,
 * and sees itself when it asks. */
static void on_segv(int sig)
{
    static const char msg[] = "program handler ran\n";
    (void)!write(1, msg, sizeof msg - 1);
    signal(sig, SIG_DFL);
}

static void own_handler(void)
{
    struct sigaction sa = {.sa_handler = on_segv}, back;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGSEGV, NULL, &back);
    printf("query=%s\n", back.sa_handler == on_segv ? "own" : "other");
    fflush(stdout);
    race_in_flight();
    /* the handler sets SIG_DFL and returns: the fault comes again and kills */
    *(volatile int *)(uintptr_t)16 = 1;
}

/* The program's handler runs with the mask it asked for: its sa_mask
 * added, the signal itself blocked unless SA_NODEFER. A real fault each
 * time, survived with siglongjmp; the handler prints what it found. */
static sigjmp_buf masked_probe;
static void on_masked(int sig, siginfo_t *si, void *uc)
{
    (void)si, (void)uc;
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    printf("usr1=%d segv=%d\n", sigismember(&now, SIGUSR1), sigismember(&now, sig));
    siglongjmp(masked_probe, 1);
}

static void handler_mask(void)
{
    for (int nodefer = 0; nodefer <= 1; nodefer++) {
        struct sigaction sa = {.sa_sigaction = on_masked, .sa_flags = SA_SIGINFO | (nodefer ? SA_NODEFER : 0)};
        sigemptyset(&sa.sa_mask);
        sigaddset(&sa.sa_mask, SIGUSR1);
        sigaction(SIGSEGV, &sa, NULL);
        if (sigsetjmp(masked_probe, 1) == 0)
            *(volatile int *)(uintptr_t)16 = 1;
    }
    fflush(stdout);
}

/* A program that takes a SIGSEGV on purpose and goes on (a probe of an
 * address, a garbage collector's barrier): nothing is written for it. */
static sigjmp_buf probe;

static void on_probe(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)si, (void)uc;
    siglongjmp(probe, 1);
}

static void survives_segv(void)
{
    struct sigaction sa = {.sa_sigaction = on_probe, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    for (int i = 0; i < 3; i++)
        if (sigsetjmp(probe, 1) == 0)
            *(volatile int *)(uintptr_t)16 = 1;
    printf("recovered\n");
}

/* A worker makes one nil-map write; main returns while the first report
 * is still loading the symbolizer (about 100 ms). Main waits for the
 * loader's helper thread to appear, which the shim starts only once the
 * finding is claimed and its report begun: a fixed sleep after the
 * worker's signal (5 ms, once) was too short on a loaded machine, and the
 * finding was not yet made when main returned. If the helper came and went
 * unseen, main returns after a second, the report long written: the test
 * passes either way, as it must. race_then_return is the same without the
 * symbolizer's wait. */
static sem_t about_to_write;

static void *nil_write(void *a)
{
    (void)a;
    sem_post(&about_to_write);
    gomap_set(NULL, &(int64_t){1}, &(int64_t){1}); /* @site:late_nil */
    return NULL;
}

/* The threads of this process, from /proc/self/stat; 0 if unknown. */
static long threads_now(void)
{
    char buf[512];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    /* after the command name, which ends at the last ')' */
    char *p = strrchr(buf, ')');
    for (int field = 2; p && field < 20; field++)
        p = strchr(p + 1, ' ');
    return p ? strtol(p + 1, NULL, 10) : 0;
}

static void late_nil(void)
{
    pthread_t t;
    sem_init(&about_to_write, 0, 0);
    pthread_create(&t, NULL, nil_write, NULL);
    pthread_detach(t);
    sem_wait(&about_to_write);
    /* main, the worker, and then the symbolizer's loader */
    for (int i = 0; i < 10000 && threads_now() < 3; i++)
        nanosleep(&(struct timespec){0, 100 * 1000}, NULL);
}

/* 8 threads keep finding things while another thread calls exit(3). */
static atomic_int started;

static void *reporter(void *a)
{
    intptr_t i = (intptr_t)a;
    atomic_fetch_add(&started, 1);
    for (int64_t k = 0;; k++) {
        /* a few call sites, so some reports are new and some repeats */
        if (k % 3 == 0)
            gomap_set(NULL, &k, &k); /* @site:storm_a */
        else if (k % 3 == 1)
            gomap_assign(NULL, &k); /* @site:storm_b */
        else
            gomap_set(NULL, &i, &k); /* @site:storm_c */
    }
    return NULL;
}

static void *exiter(void *a)
{
    (void)a;
    while (atomic_load(&started) < 8)
        sched_yield();
    nanosleep(&(struct timespec){0, 2 * 1000 * 1000}, NULL);
    exit(3);
}

static void exit_storm(void)
{
    pthread_t t;
    for (intptr_t i = 0; i < 8; i++)
        pthread_create(&t, NULL, reporter, (void *)i);
    pthread_create(&t, NULL, exiter, NULL);
    for (;;)
        pause();
}

/* 64 threads write one map with no lock until the map breaks (usually a
 * SIGSEGV inside libgomap) or a second has gone by. */
static gomap *shared;

static void *hammer(void *a)
{
    uint64_t x = (uint64_t)(uintptr_t)a * 0x9e3779b97f4a7c15ull + 1;
    for (;;) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t k = (int64_t)(x % 100000), v = k;
        if (x & 1)
            gomap_set(shared, &k, &v); /* @site:hammer_set */
        else
            gomap_delete(shared, &k); /* @site:hammer_delete */
    }
    return NULL;
}

static void race64(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8};
    shared = gomap_new(&t, 0);
    pthread_t th;
    for (intptr_t i = 0; i < 64; i++)
        pthread_create(&th, NULL, hammer, (void *)i);
    sleep(1);
    exit(0);
}

/* More races held at once than inflight.c's table has entries: each
 * writer parks forever inside gomap_set on a map of its own, each reader
 * overlaps it and would wait for its stack; then exit(0). */
#define HELD 270
static __thread int park_me;
static sem_t held_parked;

static uint64_t held_hash(const void *k, size_t n, uint64_t seed)
{
    int64_t v;
    memcpy(&v, k, sizeof v);
    if (v == PARK && park_me) {
        park_me = 0;
        sem_post(&held_parked);
        sem_wait(&forever);
    }
    return gomap_hash_bytes(k, n, seed);
}

static void *held_writer(void *m)
{
    park_me = 1;
    int64_t k = PARK, v = 1;
    gomap_set(m, &k, &v);
    return NULL;
}

static void *held_reader(void *m)
{
    int64_t k = 7;
    gomap_get(m, &k); /* @site:held_get */
    return NULL;
}

static void races_held_at_exit(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8, .hash = held_hash};
    static gomap *maps[HELD];
    sem_init(&held_parked, 0, 0);
    pthread_t th;
    for (int i = 0; i < HELD; i++) {
        maps[i] = gomap_new(&t, 0);
        pthread_create(&th, NULL, held_writer, maps[i]);
        sem_wait(&held_parked);
    }
    for (int i = 0; i < HELD; i++)
        pthread_create(&th, NULL, held_reader, maps[i]);
    usleep(300 * 1000);
    exit(0);
}

/* A finding, then the image is replaced by one that exits 0. */
static void nil_then_exec(void)
{
    gomap_set(NULL, &(int64_t){1}, &(int64_t){1}); /* @site:before_exec */
    fflush(stdout);
    execv(self, (char *const[]){(char *)self, "clean_image", NULL});
    perror("execv");
}

static void clean_image(void) { printf("clean image\n"); }

/* A finding, and LeakSanitizer (here a stand-in with its entry point,
 * loaded globally as the real runtime would be) must still get to check. */
static void nil_with_lsan(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", self);
    char *slash = strrchr(path, '/');
    snprintf(slash ? slash + 1 : path, sizeof path - (size_t)(slash ? slash + 1 - path : 0), "libfakelsan.so");
    if (!dlopen(path, RTLD_NOW | RTLD_GLOBAL)) {
        printf("dlopen: %s\n", dlerror());
        return;
    }
    gomap_set(NULL, &(int64_t){1}, &(int64_t){1}); /* @site:lsan_nil */
}

/* As timeout(1) does to mirror a child that died of SIGSEGV: the default
 * action back, then the signal raised on itself. Sent, not a fault. */
static void reraise_segv(void)
{
    printf("mirroring the child's SIGSEGV\n");
    fflush(stdout);
    signal(SIGSEGV, SIG_DFL);
    raise(SIGSEGV);
}

/* The program's SIGSEGV handler runs on an alternate stack of 8 KiB, as
 * Rust's stack-overflow handler does, and calls abort() there: the shim's
 * SIGABRT handler then starts on what is left of that stack. The process
 * must die of SIGABRT, as without the shim (a held-out probe: a Rust
 * program's stack overflow ended in SIGSEGV under the shim). */
static void abort_on_segv(int sig)
{
    (void)sig;
    abort();
}

static void small_altstack_abort(void)
{
    static char alt[8192];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
    struct sigaction sa = {.sa_handler = abort_on_segv, .sa_flags = SA_ONSTACK};
    sigemptyset(&sa.sa_mask);
    if (sigaltstack(&ss, NULL) != 0 || sigaction(SIGSEGV, &sa, NULL) != 0)
        exit(3);
    raise(SIGSEGV);
}

int main(int argc, char **argv)
{
    (void)argc;
    self = argv[0];
    static const struct scenario t[] = {
        {"race_then_return", race_then_return},
        {"race_then_exit", race_then_exit},
        {"race_then__exit", race_then__exit},
        {"race_then_quick_exit", race_then_quick_exit},
        {"clean_quick_exit", clean_quick_exit},
        {"race_then_abort", race_then_abort},
        {"race_then_segv", race_then_segv},
        {"own_handler", own_handler},
        {"survives_segv", survives_segv},
        {"handler_mask", handler_mask},
        {"reraise_segv", reraise_segv},
        {"late_nil", late_nil},
        {"exit_storm", exit_storm},
        {"race64", race64},
        {"races_held_at_exit", races_held_at_exit},
        {"nil_then_exec", nil_then_exec},
        {"clean_image", clean_image},
        {"nil_with_lsan", nil_with_lsan},
        {"small_altstack_abort", small_altstack_abort},
    };
    void (*fn)(void) = scenario_find(t, SCENARIO_COUNT(t), argv[1], argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
