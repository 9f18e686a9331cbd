/*
 * Shared helpers for the gomap Criterion suite: a PRNG, Go's growth rule,
 * typed wrappers around the byte-oriented API, and an iteration tracker
 * that checks Go's iteration rules by entry identity (key id + epoch).
 *
 * The tests are black-box: they use gomap.h, plus gomapdebug_stats_get()
 * to observe growth state.
 */
#ifndef GOMAP_TEST_H
#define GOMAP_TEST_H

#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomap.h"
#include "gomap_debug.h"

/* Sanitizer builds run slower; scale the heavy loops down there. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define GT_SANITIZED 1
#endif
#endif
#ifndef GT_SANITIZED
#define GT_SANITIZED 0
#endif

/* A cheap assertion for hot loops: only touches Criterion on failure. */
#define GT_CHECK(cond, ...)                                                   \
    do {                                                                      \
        if (!(cond))                                                          \
            cr_assert_fail(__VA_ARGS__);                                      \
    } while (0)

/* ------------------------------------------------------------------ PRNG */

typedef struct gt_rng {
    uint64_t s;
} gt_rng;

static inline uint64_t gt_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t gt_next(gt_rng *r)
{
    r->s += 0x9e3779b97f4a7c15ULL;
    return gt_mix64(r->s);
}

/* Uniform-enough value in [0, n); n > 0. */
static inline uint64_t gt_below(gt_rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)gt_next(r) * n) >> 64);
}

/* True with probability 1/n. */
static inline bool gt_one_in(gt_rng *r, uint64_t n)
{
    return gt_below(r, n) == 0;
}

/* ------------------------------------------------------- Go's growth rule */

/* runtime/map.go: overLoadFactor(count, B) =
 *   count > bucketCnt && count > loadFactorNum*(bucketShift(B)/loadFactorDen)
 * with bucketCnt 8, loadFactorNum 13, loadFactorDen 2. */
/* A hash for 8-byte keys that puts every key in one of 7 buckets (all with
 * the same tophash): long overflow chains and same-size growths. */
static inline uint64_t gt_mod7_hash(const void *k, size_t ks, uint64_t seed)
{
    (void)ks;
    (void)seed;
    uint64_t x;
    memcpy(&x, k, 8);
    return x % 7;
}

static inline bool gt_over_load_factor(size_t count, unsigned B)
{
    return count > 8 && count > 13 * (((size_t)1 << B) / 2);
}

/* tooManyOverflowBuckets(noverflow, B): noverflow >= 2^min(B, 15). */
static inline bool gt_too_many_overflow(size_t noverflow, unsigned B)
{
    if (B > 15)
        B = 15;
    return noverflow >= ((size_t)1 << B);
}

/* makemap: the smallest B with !overLoadFactor(hint, B). */
static inline unsigned gt_hint_B(size_t hint)
{
    unsigned B = 0;
    while (gt_over_load_factor(hint, B))
        B++;
    return B;
}

static inline gomapdebug_stats gt_stats(const gomap *m)
{
    gomapdebug_stats s;
    memset(&s, 0, sizeof s);
    bool ok = gomapdebug_stats_get(m, &s);
    GT_CHECK(ok, "gomapdebug_stats_get failed on a real map");
    GT_CHECK(gomapdebug_check(m), "the tophash index disagrees with the buckets");
    return s;
}

/* The fields a read must never change. */
static inline bool gt_stats_same(const gomapdebug_stats *a, const gomapdebug_stats *b)
{
    return a->count == b->count && a->B == b->B && a->growing == b->growing &&
           a->same_size_grow == b->same_size_grow && a->nevacuate == b->nevacuate &&
           a->noverflow == b->noverflow && a->nretained == b->nretained &&
           a->retained_bytes == b->retained_bytes && a->array_bytes == b->array_bytes &&
           a->seed == b->seed;
}

/* ------------------------------------------------------- typed wrappers */

static inline gomap *gt_new(size_t key_size, size_t val_size, size_t hint)
{
    gomap_type t = {.key_size = key_size, .val_size = val_size};
    gomap *m = gomap_new(&t, hint);
    cr_assert_not_null(m, "gomap_new(key %zu, val %zu, hint %zu) failed: errno %d", key_size,
                       val_size, hint, errno);
    return m;
}

static inline gomap *gt_new_u64(size_t hint)
{
    return gt_new(sizeof(uint64_t), sizeof(uint64_t), hint);
}

static inline void gt_set_u64(gomap *m, uint64_t k, uint64_t v)
{
    int rc = gomap_set(m, &k, &v);
    GT_CHECK(rc == GOMAP_OK, "gomap_set(%llu) = %d", (unsigned long long)k, rc);
}

/* The value of k, or `dflt` when absent; *found tells which. */
static inline uint64_t gt_get_u64(const gomap *m, uint64_t k, bool *found)
{
    uint64_t *p = gomap_get(m, &k);
    if (found)
        *found = p != NULL;
    return p ? *p : 0;
}

/* Insert keys [lo, hi) with value key*mul+add. */
static inline void gt_fill_u64(gomap *m, uint64_t lo, uint64_t hi, uint64_t mul, uint64_t add)
{
    for (uint64_t k = lo; k < hi; k++)
        gt_set_u64(m, k, k * mul + add);
}

/* ------------------------------------------------- iteration tracking */

/*
 * Entry identity: an id (a small integer naming a key) plus the epoch of its
 * insertion. A delete ends the epoch; a later insert of the same key is a
 * new entry with a new epoch. Go's rules, checked against this model:
 *   - a returned entry is live when returned (deleted-before-reached never
 *     comes) and is the key's current entry;
 *   - each entry (epoch) comes at most once;
 *   - each entry live at the start and still live at the end (hence live
 *     for the whole iteration) came exactly once.
 */
typedef struct gt_track {
    size_t n;
    uint64_t *epoch;  /* current epoch of id, 0 when absent */
    uint64_t *start;  /* epoch of id when the iteration began */
    uint64_t *ret;    /* last epoch of id the iteration returned */
    uint64_t next_epoch;
    size_t count;
} gt_track;

static inline void gt_track_init(gt_track *t, size_t n)
{
    t->n = n;
    t->epoch = calloc(n, sizeof *t->epoch);
    t->start = calloc(n, sizeof *t->start);
    t->ret = calloc(n, sizeof *t->ret);
    cr_assert(t->epoch && t->start && t->ret, "out of memory");
    t->next_epoch = 0;
    t->count = 0;
}

static inline void gt_track_free(gt_track *t)
{
    free(t->epoch);
    free(t->start);
    free(t->ret);
}

static inline bool gt_track_live(const gt_track *t, size_t id)
{
    return t->epoch[id] != 0;
}

/* The key was written (set/assign): a new entry when it was absent. */
static inline void gt_track_put(gt_track *t, size_t id)
{
    if (!t->epoch[id]) {
        t->epoch[id] = ++t->next_epoch;
        t->count++;
    }
}

static inline void gt_track_del(gt_track *t, size_t id)
{
    if (t->epoch[id]) {
        t->epoch[id] = 0;
        t->count--;
    }
}

static inline void gt_track_clear(gt_track *t)
{
    memset(t->epoch, 0, t->n * sizeof *t->epoch);
    t->count = 0;
}

/* One iteration's view: the epochs at its start and the epochs it has
 * returned. Several views over one tracker check interleaved iterators. */
typedef struct gt_view {
    uint64_t *start;
    uint64_t *ret;
} gt_view;

static inline void gt_view_init(gt_view *v, const gt_track *t)
{
    v->start = calloc(t->n, sizeof *v->start);
    v->ret = calloc(t->n, sizeof *v->ret);
    cr_assert(v->start && v->ret, "out of memory");
}

static inline void gt_view_free(gt_view *v)
{
    free(v->start);
    free(v->ret);
}

static inline void gt_view_begin(const gt_track *t, gt_view *v)
{
    memcpy(v->start, t->epoch, t->n * sizeof *v->start);
    memset(v->ret, 0, t->n * sizeof *v->ret);
}

/* The iteration returned id: check it against the rules. */
static inline void gt_view_returned(const gt_track *t, gt_view *v, size_t id, const char *what)
{
    GT_CHECK(id < t->n, "%s: iteration returned an unknown key (id %zu)", what, id);
    GT_CHECK(t->epoch[id] != 0,
             "%s: iteration returned key id %zu, which is not in the map (deleted "
             "before it was reached, or never inserted)",
             what, id);
    GT_CHECK(v->ret[id] != t->epoch[id],
             "%s: iteration returned the same entry twice (key id %zu, epoch %llu)", what, id,
             (unsigned long long)t->epoch[id]);
    v->ret[id] = t->epoch[id];
}

/* The iteration ended: every entry live throughout came exactly once. */
static inline void gt_view_end(const gt_track *t, const gt_view *v, const char *what)
{
    for (size_t id = 0; id < t->n; id++) {
        if (v->start[id] && t->epoch[id] == v->start[id])
            GT_CHECK(v->ret[id] == v->start[id],
                     "%s: key id %zu was in the map for the whole iteration but "
                     "never came",
                     what, id);
    }
}

static inline void gt_track_begin(gt_track *t)
{
    gt_view v = {t->start, t->ret};
    gt_view_begin(t, &v);
}

static inline void gt_track_returned(gt_track *t, size_t id, const char *what)
{
    gt_view v = {t->start, t->ret};
    gt_view_returned(t, &v, id, what);
}

static inline void gt_track_end(const gt_track *t, const char *what)
{
    gt_view v = {t->start, t->ret};
    gt_view_end(t, &v, what);
}

#endif
