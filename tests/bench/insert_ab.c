/*
 * insert_ab: 1M int64 inserts, gomap against khash, interleaved in one
 * process. The tool behind the "inserts at 1M keys" notes in
 * docs/performance.md: it separates the cost of growth from the cost of
 * an insert (presized against from-empty), and compares builds of
 * libgomap with each other (each LIB is dlopen'd with RTLD_LOCAL, so two
 * builds of the same library can run side by side).
 *
 * usage: insert_ab [--rounds N] [--no-trim] [LIB.so ...]
 *   With no LIB, the libgomap this program was linked with.
 *   Each round runs every table once, from empty (hint 0) and presized
 *   (hint n), in an order that rotates from round to round; the heap is
 *   trimmed before each table's turn (see gomap_bench.c) unless --no-trim.
 *   Prints the median and the minimum ns per insert of each table.
 */
#include <dlfcn.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <htslib/khash.h>

#include "gomap.h"

KHASH_MAP_INIT_INT64(ab64, uint64_t)

enum { N = 1000000, MAX_TABLES = 8, MAX_ROUNDS = 101 };

typedef struct table {
    const char *name;
    gomap *(*new_)(const gomap_type *, size_t);
    int (*set)(gomap *, const void *, const void *);
    void (*free_)(gomap *);
    double t[2][MAX_ROUNDS]; /* [presized][round] */
} table;

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double run_gomap(const table *tb, const uint64_t *keys, size_t hint)
{
    gomap_type ty = {.key_size = 8, .val_size = 8, .hash = NULL, .equal = NULL};
    double t0 = now_ns();
    gomap *m = tb->new_(&ty, hint);
    int err = m ? 0 : 1;
    for (size_t i = 0; i < N; i++) {
        uint64_t v = i;
        err |= tb->set(m, &keys[i], &v);
    }
    double t = now_ns() - t0;
    if (err) {
        fprintf(stderr, "insert_ab: %s: an insert failed\n", tb->name);
        exit(1);
    }
    tb->free_(m);
    return t / N;
}

static double run_khash(const uint64_t *keys, size_t hint)
{
    double t0 = now_ns();
    kh_ab64_t *h = kh_init(ab64);
    int err = !h;
    if (hint && kh_resize(ab64, h, (khint_t)(hint / 0.77) + 1) < 0)
        err = 1;
    for (size_t i = 0; i < N; i++) {
        int ret;
        khint_t it = kh_put(ab64, h, keys[i], &ret);
        err |= ret < 0;
        kh_value(h, it) = i;
    }
    double t = now_ns() - t0;
    if (err) {
        fprintf(stderr, "insert_ab: khash: an insert failed\n");
        exit(1);
    }
    kh_destroy(ab64, h);
    return t / N;
}

int main(int argc, char **argv)
{
    int rounds = 11, trim = 1;
    table tables[MAX_TABLES];
    int nt = 0;
    memset(tables, 0, sizeof tables);
    tables[nt++].name = "khash";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
            rounds = atoi(argv[++i]);
            if (rounds < 1 || rounds > MAX_ROUNDS) {
                fprintf(stderr, "insert_ab: --rounds must be 1..%d\n", MAX_ROUNDS);
                return 2;
            }
        } else if (!strcmp(argv[i], "--no-trim")) {
            trim = 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: insert_ab [--rounds N] [--no-trim] [LIB.so ...]\n");
            return 2;
        } else {
            if (nt == MAX_TABLES) {
                fprintf(stderr, "insert_ab: at most %d libraries\n", MAX_TABLES - 1);
                return 2;
            }
            void *h = dlopen(argv[i], RTLD_NOW | RTLD_LOCAL);
            if (!h) {
                fprintf(stderr, "insert_ab: %s\n", dlerror());
                return 1;
            }
            table *tb = &tables[nt++];
            tb->name = argv[i];
            *(void **)(void *)&tb->new_ = dlsym(h, "gomap_new");
            *(void **)(void *)&tb->set = dlsym(h, "gomap_set");
            *(void **)(void *)&tb->free_ = dlsym(h, "gomap_free");
            if (!tb->new_ || !tb->set || !tb->free_) {
                fprintf(stderr, "insert_ab: %s lacks the gomap API\n", argv[i]);
                return 1;
            }
        }
    }
    if (nt == 1) {
        tables[nt].name = "gomap (linked)";
        tables[nt].new_ = gomap_new;
        tables[nt].set = gomap_set;
        tables[nt].free_ = gomap_free;
        nt++;
    }

    uint64_t *keys = malloc(N * sizeof *keys);
    if (!keys) {
        fprintf(stderr, "insert_ab: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < N; i++) /* distinct: mix64 is a bijection */
        keys[i] = mix64(i * 0x9e3779b97f4a7c15ULL + 7);

    for (int r = 0; r < rounds; r++)
        for (int presized = 0; presized < 2; presized++)
            for (int j = 0; j < nt; j++) {
                int i = (j + r) % nt;
                size_t hint = presized ? N : 0;
                if (trim)
                    malloc_trim(0);
                tables[i].t[presized][r] =
                    i == 0 ? run_khash(keys, hint) : run_gomap(&tables[i], keys, hint);
            }

    printf("1M int64 inserts, %d interleaved rounds%s; ns per insert, median (min)\n", rounds,
           trim ? ", heap trimmed before each table" : "");
    printf("%-40s %16s %16s\n", "table", "from empty", "presized");
    for (int i = 0; i < nt; i++) {
        double *e = tables[i].t[0], *p = tables[i].t[1];
        qsort(e, (size_t)rounds, sizeof *e, cmp_double);
        qsort(p, (size_t)rounds, sizeof *p, cmp_double);
        printf("%-40s %7.1f (%5.1f) %7.1f (%5.1f)\n", tables[i].name, e[rounds / 2], e[0],
               p[rounds / 2], p[0]);
    }
    free(keys);
    return 0;
}
