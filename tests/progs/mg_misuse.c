/*
 * Single-threaded misuse for the mapguard tests: one scenario per run,
 * named by argv[1]. Lines the tests look for carry an @site comment; the
 * tests find their numbers by scanning this file, so lines may move.
 */
#include <gomap.h>
#include "scenario.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const gomap_type I64 = {.key_size = 8, .val_size = 8};

static gomap *filled(int n)
{
    gomap *m = gomap_new(&I64, 0); /* @site:made */
    for (int64_t i = 0; i < n; i++)
        gomap_set(m, &i, &i);
    return m;
}

static void iter_insert(void)
{
    gomap *m = filled(8);
    gomap_iter it;
    const void *k;
    int64_t extra = 100;
    gomap_iter_init(&it, m); /* @site:ins_init */
    while (gomap_iter_next(&it, &k, NULL)) { /* @site:ins_next */
        if (extra < 103) {
            gomap_set(m, &extra, &extra); /* @site:mod_insert */
            extra++;
        }
    }
    gomap_free(m);
}

static void iter_delete_other(void)
{
    gomap *m = filled(8);
    gomap_iter it;
    const void *k;
    gomap_iter_init(&it, m); /* @site:del_init */
    int64_t victim = -1;
    while (gomap_iter_next(&it, &k, NULL)) { /* @site:del_next */
        int64_t cur;
        memcpy(&cur, k, 8);
        if (victim < 0) {
            victim = cur == 0 ? 1 : 0;
            gomap_delete(m, &victim); /* @site:mod_delete */
        }
    }
    gomap_free(m);
}

static void iter_clear(void)
{
    gomap *m = filled(8);
    gomap_iter it;
    gomap_iter_init(&it, m); /* @site:clr_init */
    int steps = 0;
    while (gomap_iter_next(&it, NULL, NULL)) { /* @site:clr_next */
        if (steps++ == 0) {
            gomap_clear(m); /* @site:mod_clear */
        }
    }
    gomap_free(m);
}

static void nil_set(void)
{
    gomap *m = NULL;
    int64_t k = 1, v = 2;
    int r = gomap_set(m, &k, &v); /* @site:nil_set */
    printf("set=%d\n", r);
}

/* The process's first report (a nil-map write, then a use after free)
 * leaves errno as the program set it, though it loads libunwind and the
 * symbolizer on the way; then the descriptors the reports opened: none
 * that is not close-on-exec, no file under half the descriptor limit. */
static void open_fds(bool *out, int max)
{
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; d && (e = readdir(d));) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd < max && fd != dirfd(d))
            out[fd] = true;
    }
    if (d)
        closedir(d);
}

static void errno_and_fds(void)
{
    static bool before[1 << 16];
    open_fds(before, 1 << 16); /* the log, and what the caller passed down */
    int64_t k = 1, v = 2;
    errno = 4242;
    (void)gomap_set(NULL, &k, &v);
    printf("errno after nil=%d\n", errno);
    static const gomap_type t = {.key_size = 8, .val_size = 8};
    gomap *m = gomap_new(&t, 0);
    gomap_free(m);
    errno = 4343;
    (void)gomap_len(m);
    printf("errno after uaf=%d\n", errno);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; d && (e = readdir(d));) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d) || (fd < (1 << 16) && before[fd]))
            continue;
        char path[64], target[512] = "";
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n > 0 ? n : 0] = 0;
        int cloexec = (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
        bool file = target[0] == '/';
        printf("fd %d cloexec=%d low_file=%d %s\n", fd, cloexec, file && (rlim_t)fd < rl.rlim_cur / 2, target);
    }
    if (d)
        closedir(d);
}

static void nil_assign(void)
{
    gomap *m = NULL;
    int64_t k = 1;
    void *slot = gomap_assign(m, &k); /* @site:nil_assign */
    printf("assign=%p\n", slot);
}

static void use_after_free(void)
{
    gomap *m = filled(4);
    gomap_free(m); /* @site:uaf_free */
    int64_t k = 1, v = 5;
    void *p = gomap_get(m, &k); /* @site:uaf_get */
    bool ok = gomap_lookup(m, &k, &v); /* @site:uaf_lookup */
    size_t n = gomap_len(m); /* @site:uaf_len */
    int r = gomap_set(m, &k, &v); /* @site:uaf_set */
    void *a = gomap_assign(m, &k); /* @site:uaf_assign */
    bool d = gomap_delete(m, &k); /* @site:uaf_delete */
    gomap_clear(m); /* @site:uaf_clear */
    gomap_iter it;
    gomap_iter_init(&it, m); /* @site:uaf_iter_init */
    bool nx = gomap_iter_next(&it, NULL, NULL);
    printf("get=%p lookup=%d v=%lld len=%zu set=%d assign=%p delete=%d next=%d\n", p, ok, (long long)v, n, r, a, d,
           nx);
}

static void iter_after_free(void)
{
    gomap *m = filled(4);
    gomap_iter it;
    gomap_iter_init(&it, m);
    gomap_free(m); /* @site:iaf_free */
    bool nx = gomap_iter_next(&it, NULL, NULL); /* @site:uaf_iter_next */
    printf("next=%d\n", nx);
}

static void double_free(void)
{
    gomap *m = filled(2);
    gomap_free(m); /* @site:df_free */
    gomap_free(m); /* @site:double_free */
}

static void irreflexive(void)
{
    gomap_type t = {.key_size = sizeof(double), .val_size = 8, .hash = gomap_hash_f64, .equal = gomap_equal_f64};
    gomap *m = gomap_new(&t, 0); /* @site:made_f64 */
    double one = 1.0, nan = NAN;
    int64_t v = 1;
    gomap_set(m, &one, &v);
    gomap_set(m, &one, &v);
    for (int i = 0; i < 3; i++)
        gomap_set(m, &nan, &v); /* @site:nan_set */
    printf("len=%zu\n", gomap_len(m));
    gomap_free(m);
}

/* The document's §2.5: the callee reassigns its parameter, so the maps it
 * makes are never seen by the caller, and never freed. */
static void reset(gomap *m, int64_t k)
{
    m = gomap_new(&I64, 0); /* @site:leak_new */
    gomap_set(m, &k, &k);
    gomap_set(m, &(int64_t){k + 1}, &k);
}

static void leak(void)
{
    gomap *m = filled(3);
    for (int64_t i = 0; i < 3; i++)
        reset(m, i * 10);
    gomap *other = gomap_new(&I64, 0); /* @site:leak_other */
    (void)other;
    gomap_free(m);
}

static void dedup(void)
{
    for (int i = 0; i < 5; i++)
        gomap_set(NULL, &(int64_t){i}, &(int64_t){i}); /* @site:dedup_set */
    gomap_assign(NULL, &(int64_t){1}); /* @site:dedup_other */
}

static void two_findings(void)
{
    gomap_set(NULL, &(int64_t){1}, &(int64_t){1}); /* @site:first */
    printf("after first\n");
    fflush(stdout);
    gomap_assign(NULL, &(int64_t){1}); /* @site:second */
    printf("after second\n");
}

/* Calls made from a hash callback, inside the library: one on the same
 * map by the same thread (nesting, not a race), one on another map (the
 * nil map here), which is checked like any other call. */
static gomap *nested_self, *nested_other;

static uint64_t nesting_hash(const void *k, size_t n, uint64_t seed)
{
    (void)gomap_len(nested_self);
    gomap_set(nested_other, k, k); /* @site:nested_nil */
    return gomap_hash_bytes(k, n, seed);
}

static void nested(void)
{
    gomap_type t = {.key_size = 8, .val_size = 8, .hash = nesting_hash};
    nested_self = gomap_new(&t, 0);
    int64_t k = 1;
    gomap_set(nested_self, &k, &k); /* @site:nested_outer */
    printf("len=%zu\n", gomap_len(nested_self));
    gomap_free(nested_self);
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {
        {"iter_insert", iter_insert},       {"iter_delete_other", iter_delete_other},
        {"iter_clear", iter_clear},         {"nil_set", nil_set},
        {"nil_assign", nil_assign},         {"use_after_free", use_after_free},
        {"errno_and_fds", errno_and_fds},
        {"iter_after_free", iter_after_free}, {"double_free", double_free},
        {"irreflexive", irreflexive},       {"leak", leak},
        {"dedup", dedup},                   {"two_findings", two_findings},
        {"nested", nested},
    };
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
