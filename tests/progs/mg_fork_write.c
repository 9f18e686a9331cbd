/*
 * fork() while another thread is inside a map write. The writer parks in
 * the map's hash callback (every keyed call hashes) until main lets it go,
 * and main forks meanwhile. In the child that writer does not exist, so
 * the child's calls on the map race with nobody: they must not be
 * reported. One scenario per run, named by argv[1]; "equal" as argv[2]
 * gives the maps an equal callback, whose writes take the shim's full
 * path rather than the fast one.
 *
 *   parked        the child reads one map and writes another, both
 *                 marked by a parent thread parked inside a write: no
 *                 report anywhere
 *   child_race    the child starts its own writer, parks it inside a
 *                 write on the marked map, and reads the map from a
 *                 second thread: one concurrent-read-write, in the child
 *
 * The parent prints "child=<pid> status=<exit status>".
 * Lines the tests look for carry an @site comment.
 */
#include <gomap.h>

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A write of key park_key into the spot's map parks in the hash callback. */
struct spot {
    gomap *m;
    int64_t park_key;
    atomic_int armed;
    sem_t parked, release;
};

enum { PARK_A = 1000001, PARK_B = 1000002, SIGNAL = 1000003 };

static struct spot A = {.park_key = PARK_A}, B = {.park_key = PARK_B};
static atomic_int arm_signal;
static sem_t inside;

static void maybe_park(struct spot *s, int64_t v)
{
    if (v == s->park_key && atomic_exchange(&s->armed, 0)) {
        sem_post(&s->parked);
        sem_wait(&s->release);
    }
}

static uint64_t hash_cb(const void *k, size_t n, uint64_t seed)
{
    int64_t v;
    memcpy(&v, k, sizeof v);
    maybe_park(&A, v);
    maybe_park(&B, v);
    if (v == SIGNAL && atomic_exchange(&arm_signal, 0))
        sem_post(&inside);
    return gomap_hash_bytes(k, n, seed);
}

static bool equal_cb(const void *a, const void *b, size_t n) { return memcmp(a, b, n) == 0; }

static bool with_equal;

static gomap *make_map(void)
{
    static const gomap_type plain = {.key_size = 8, .val_size = 8, .hash = hash_cb};
    static const gomap_type eq = {.key_size = 8, .val_size = 8, .hash = hash_cb, .equal = equal_cb};
    gomap *m = gomap_new(with_equal ? &eq : &plain, 0);
    for (int64_t i = 0; i < 10; i++)
        gomap_set(m, &i, &i);
    return m;
}

static void *park_writer(void *arg)
{
    struct spot *s = arg;
    int64_t v = 1;
    gomap_set(s->m, &s->park_key, &v); /* @site:park_set */
    return NULL;
}

static void *signal_reader(void *arg)
{
    struct spot *s = arg;
    int64_t k = SIGNAL;
    gomap_get(s->m, &k); /* @site:signal_get */
    return NULL;
}

static pthread_t start(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    pthread_create(&t, NULL, fn, arg); /* @site:create */
    return t;
}

/* Parks a thread inside a write on s's map. */
static pthread_t park(struct spot *s)
{
    atomic_store(&s->armed, 1);
    pthread_t t = start(park_writer, s);
    sem_wait(&s->parked);
    return t;
}

/* Every kind of call, on a map whose writer mark belongs to a thread the
 * child does not have. */
static int use_map(gomap *m, bool read_first)
{
    int64_t k = 3, n = 500, v = 7, out;
    if (read_first && (!gomap_get(m, &k) || !gomap_lookup(m, &k, &out) || gomap_len(m) != 10))
        return 1;
    gomap_set(m, &n, &v);
    gomap_delete(m, &k);
    gomap_iter it;
    size_t seen = 0;
    for (gomap_iter_init(&it, m); gomap_iter_next(&it, NULL, NULL);)
        seen++;
    return seen == 10 && gomap_len(m) == 10 ? 0 : 2;
}

static void parked(void)
{
    pthread_t wa = park(&A), wb = park(&B);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int rc = use_map(A.m, true) * 10 + use_map(B.m, false);
        gomap_free(A.m);
        gomap_free(B.m);
        exit(rc);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    sem_post(&A.release);
    sem_post(&B.release);
    pthread_join(wa, NULL);
    pthread_join(wb, NULL);
    printf("child=%d status=%d\n", (int)pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* In the child, a writer of its own parks on the map the parent's writer
 * had marked, and a reader comes in: a real race, and it must be caught. */
static void child_race(void)
{
    pthread_t wa = park(&A);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t w = park(&A);
        atomic_store(&arm_signal, 1);
        pthread_t r = start(signal_reader, &A);
        sem_wait(&inside);
        sem_post(&A.release);
        pthread_join(w, NULL);
        pthread_join(r, NULL);
        exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    sem_post(&A.release);
    pthread_join(wa, NULL);
    printf("child=%d status=%d\n", (int)pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* child_race, forked by a thread other than main: in the child that
 * thread is the only one, with its own stack, not main's. */
static void *child_race_thread(void *arg)
{
    child_race();
    return arg;
}

static void thread_child_race(void)
{
    pthread_t t;
    pthread_create(&t, NULL, child_race_thread, NULL);
    pthread_join(t, NULL);
}

int main(int argc, char **argv)
{
    with_equal = argc > 2 && !strcmp(argv[2], "equal");
    struct spot *spots[] = {&A, &B};
    for (int i = 0; i < 2; i++) {
        sem_init(&spots[i]->parked, 0, 0);
        sem_init(&spots[i]->release, 0, 0);
        spots[i]->m = make_map();
    }
    sem_init(&inside, 0, 0);
    if (argc > 1 && !strcmp(argv[1], "parked"))
        parked();
    else if (argc > 1 && !strcmp(argv[1], "child_race"))
        child_race();
    else if (argc > 1 && !strcmp(argv[1], "thread_child_race"))
        thread_child_race();
    else {
        fprintf(stderr, "usage: %s parked|child_race|thread_child_race [equal]\n", argv[0]);
        return 2;
    }
    gomap_free(A.m);
    gomap_free(B.m);
    return 0;
}
