/*
 * Growth: Go's exact rules (overLoadFactor, tooManyOverflowBuckets, hint
 * presizing), incremental evacuation, same-size growth forced by a
 * colliding hash, clear during growth, and reads/iteration/deletes while
 * an evacuation is half done. State is observed with gomapdebug_stats_get.
 */
#include "gomap_test.h"

/* ------------------------------------------------------- rule checkers */

/* One write that inserted a new key went from state s0 to s1. Go's
 * mapassign: growWork if growing; then, if not growing, start a growth
 * when overLoadFactor(count+1, B) (doubling) or tooManyOverflowBuckets
 * (same size). A new growth moves at most two old buckets ("the bucket
 * about to be used, plus one more"), so with 4+ old buckets it is still in
 * progress after the write. */
static void check_insert(const gomapdebug_stats *s0, const gomapdebug_stats *s1, const char *what,
                         size_t step)
{
    GT_CHECK(s1->count == s0->count + 1, "%s step %zu: count %zu -> %zu after an insert", what,
             step, s0->count, s1->count);
    bool over = gt_over_load_factor(s0->count + 1, s0->B);
    if (s0->growing) {
        /* No new growth may start, unless this write finished the old one
         * (growWork runs first) and the load factor then demands it. */
        GT_CHECK(s1->B == s0->B || (s1->B == s0->B + 1 && over),
                 "%s step %zu: B %u -> %u while a growth was in progress", what, step, s0->B,
                 s1->B);
        return;
    }
    bool many = gt_too_many_overflow(s0->noverflow, s0->B);
    size_t nold = (size_t)1 << s0->B;
    if (over) {
        GT_CHECK(s1->B == s0->B + 1,
                 "%s step %zu: overLoadFactor(%zu, %u) holds, so B must double: got B %u", what,
                 step, s0->count + 1, s0->B, s1->B);
        if (nold >= 4)
            GT_CHECK(s1->growing && !s1->same_size_grow,
                     "%s step %zu: a doubling of %zu buckets cannot finish in one write", what,
                     step, nold);
    } else if (many) {
        GT_CHECK(s1->B == s0->B, "%s step %zu: too many overflow buckets (%zu, B %u) gives a "
                 "same-size growth, but B became %u", what, step, s0->noverflow, s0->B, s1->B);
        if (nold >= 4)
            GT_CHECK(s1->growing && s1->same_size_grow,
                     "%s step %zu: noverflow %zu >= 2^%u must start a same-size growth "
                     "(growing %d, same_size %d)",
                     what, step, s0->noverflow, s0->B < 15 ? s0->B : 15, s1->growing,
                     s1->same_size_grow);
    } else {
        GT_CHECK(s1->B == s0->B && !s1->growing,
                 "%s step %zu: no growth is due (count %zu, B %u, noverflow %zu) but B %u -> %u, "
                 "growing %d",
                 what, step, s0->count + 1, s0->B, s0->noverflow, s0->B, s1->B, s1->growing);
    }
}

/* A write that started no growth of its own (overwrite, delete). */
static void check_no_new_growth(const gomapdebug_stats *s0, const gomapdebug_stats *s1,
                                const char *what, size_t step)
{
    GT_CHECK(s1->B == s0->B, "%s step %zu: B %u -> %u on a write that adds no key", what, step,
             s0->B, s1->B);
    GT_CHECK(s0->growing || !s1->growing, "%s step %zu: a write that adds no key started a growth",
             what, step);
}

/* Incremental evacuation: each write moves at least one old bucket (Go's
 * growWork always evacuates h.nevacuate), so a growth over n old buckets
 * is over within n writes. */
typedef struct gwatch {
    bool active;
    unsigned B;
    bool same;
    size_t nold, writes, nev;
    size_t growths, same_size_growths;
} gwatch;

static void gwatch_write(gwatch *w, const gomapdebug_stats *s1, const char *what, size_t step)
{
    if (!s1->growing) {
        w->active = false;
        return;
    }
    bool fresh = !w->active || s1->B != w->B || s1->same_size_grow != w->same ||
                 s1->nevacuate < w->nev;
    if (fresh) {
        w->active = true;
        w->B = s1->B;
        w->same = s1->same_size_grow;
        w->nold = (size_t)1 << (s1->same_size_grow ? s1->B : s1->B - 1);
        w->writes = 1;
        w->growths++;
        w->same_size_growths += s1->same_size_grow;
    } else {
        w->writes++;
    }
    w->nev = s1->nevacuate;
    GT_CHECK(s1->nevacuate <= w->nold, "%s step %zu: nevacuate %zu beyond %zu old buckets", what,
             step, s1->nevacuate, w->nold);
    GT_CHECK(w->writes <= w->nold,
             "%s step %zu: still growing after %zu writes over %zu old buckets (nevacuate %zu): "
             "evacuation is not incremental per write",
             what, step, w->writes, w->nold, s1->nevacuate);
}

/* ------------------------------------------------------- load factor */

Test(growth, load_factor_rule_exact)
{
    enum { N = 30000 };
    gomap *m = gt_new_u64(0);
    gwatch w = {0};
    unsigned lastB = 0;
    size_t doublings = 0;
    for (uint64_t i = 0; i < N; i++) {
        gomapdebug_stats s0 = gt_stats(m);
        gt_set_u64(m, i * 0x9e3779b97f4a7c15ULL, i);
        gomapdebug_stats s1 = gt_stats(m);
        check_insert(&s0, &s1, "sequential", i);
        gwatch_write(&w, &s1, "sequential", i);
        if (s1.B != lastB) {
            /* Growth begins exactly on the insert that makes count
             * 13*2^(B-1)+1 (9 when B is 0). */
            size_t want = s0.B == 0 ? 9 : 13 * ((size_t)1 << (s0.B - 1)) + 1;
            cr_assert_eq(s1.count, want, "B %u -> %u at count %zu, Go grows at count %zu", s0.B,
                         s1.B, s1.count, want);
            lastB = s1.B;
            doublings++;
        }
    }
    gomapdebug_stats s = gt_stats(m);
    cr_assert_eq(s.B, gt_hint_B(N), "after %d inserts B is %u, want %u", N, s.B, gt_hint_B(N));
    cr_assert_eq(doublings, s.B);
    cr_assert_eq(w.same_size_growths, 0, "a good hash never needs a same-size growth here");
    for (uint64_t i = 0; i < N; i++) {
        bool found;
        cr_assert_eq(gt_get_u64(m, i * 0x9e3779b97f4a7c15ULL, &found), i);
        cr_assert(found);
    }
    gomap_free(m);
}

Test(growth, overwrites_and_deletes_never_start_growth)
{
    gomap *m = gt_new_u64(0);
    /* B=1 holds exactly 13 entries. */
    gt_fill_u64(m, 0, 13, 1, 0);
    while (gt_stats(m).growing)
        gt_set_u64(m, 0, 0);
    cr_assert_eq(gt_stats(m).B, 1);
    for (int round = 0; round < 20; round++) {
        for (uint64_t k = 0; k < 13; k++) {
            gomapdebug_stats s0 = gt_stats(m);
            gt_set_u64(m, k, (uint64_t)round);
            uint64_t *p = gomap_assign(m, &k);
            cr_assert_not_null(p);
            gomapdebug_stats s1 = gt_stats(m);
            check_no_new_growth(&s0, &s1, "overwrite at the threshold", k);
            cr_assert_eq(s1.B, 1, "overwriting at count 13 must not grow");
        }
    }
    uint64_t k = 13;
    gomapdebug_stats s0 = gt_stats(m);
    gt_set_u64(m, k, 0);
    gomapdebug_stats s1 = gt_stats(m);
    check_insert(&s0, &s1, "14th key", 13);
    cr_assert_eq(s1.B, 2, "the 14th key grows B=1 to B=2");

    /* Deletes start nothing either. */
    gomap_free(m);
    m = gt_new_u64(0);
    gt_fill_u64(m, 0, 5000, 1, 0);
    for (uint64_t j = 0; j < 5000; j++) {
        s0 = gt_stats(m);
        cr_assert(gomap_delete(m, &j));
        s1 = gt_stats(m);
        check_no_new_growth(&s0, &s1, "delete", j);
    }
    gomap_free(m);
}

Test(growth, evacuation_is_incremental)
{
    /* hint 416 gives B=6 (64 buckets) and the 417th key starts a doubling
     * that must take several writes. */
    gomap *m = gt_new_u64(416);
    cr_assert_eq(gt_stats(m).B, 6);
    gt_fill_u64(m, 0, 416, 1, 0);
    gomapdebug_stats s = gt_stats(m);
    cr_assert(!s.growing && s.B == 6, "416 keys fit B=6 without growth");
    gt_set_u64(m, 416, 0);
    s = gt_stats(m);
    cr_assert(s.growing, "the 417th key starts growth");
    cr_assert_eq(s.B, 7);
    cr_assert(!s.same_size_grow);
    cr_assert(s.nevacuate < 64);
    /* Overwrites, new keys and deletes of present keys all do growWork. */
    gwatch w = {0};
    gwatch_write(&w, &s, "incremental", 0);
    size_t step = 1;
    uint64_t next = 417;
    while (s.growing) {
        gomapdebug_stats s0 = s;
        switch (step % 3) {
        case 0:
            gt_set_u64(m, step % 400, 1); /* overwrite */
            break;
        case 1:
            gt_set_u64(m, next++, 2); /* new key */
            break;
        default: {
            uint64_t victim = 100 + step;
            cr_assert(gomap_delete(m, &victim));
            break;
        }
        }
        s = gt_stats(m);
        cr_assert(s.nevacuate >= s0.nevacuate || !s.growing, "nevacuate went backwards");
        gwatch_write(&w, &s, "incremental", step);
        step++;
    }
    cr_assert(step > 2, "a 64-bucket evacuation took only %zu writes", step);
    gomap_free(m);
}

/* ------------------------------------------------------------ presizing */

Test(growth, hint_presizing_picks_smallest_B)
{
    static const size_t hints[] = {0,   1,   7,   8,   9,    13,   14,   26,   27,    52,
                                   53,  104, 105, 208, 209,  416,  417,  1000, 6656,  6657,
                                   13312, 13313, 60000};
    for (size_t h = 0; h < sizeof hints / sizeof hints[0]; h++) {
        size_t hint = hints[h];
        unsigned want = gt_hint_B(hint);
        gomap *m = gt_new_u64(hint);
        gomapdebug_stats s = gt_stats(m);
        cr_assert_eq(s.B, want, "hint %zu: B %u, want the smallest B with !overLoadFactor = %u",
                     hint, s.B, want);
        cr_assert(!s.growing);
        cr_assert_eq(s.count, 0);
        if (want > 0)
            cr_assert(s.array_bytes >= ((size_t)1 << want) * s.bucket_bytes,
                      "hint %zu: array of %zu bytes cannot hold 2^%u buckets of %zu", hint,
                      s.array_bytes, want, s.bucket_bytes);
        /* Inserting `hint` keys needs no growth... */
        gt_fill_u64(m, 0, hint, 1, 0);
        s = gt_stats(m);
        cr_assert(s.B == want && !s.growing, "hint %zu: inserting %zu keys grew the map (B %u)",
                  hint, hint, s.B);
        /* ... and the next key grows exactly when overLoadFactor says so. */
        gomapdebug_stats s0 = s;
        gt_set_u64(m, hint, 0);
        s = gt_stats(m);
        check_insert(&s0, &s, "hint+1", hint);
        gomap_free(m);
    }
}

Test(growth, absurd_hint_does_not_crash)
{
    /* Go ignores a hint it cannot allocate; failing with ENOMEM is fine. */
    static const size_t hints[] = {SIZE_MAX, SIZE_MAX / 2, SIZE_MAX / 3};
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++) {
        errno = 0;
        gomap *m = gomap_new(&(gomap_type){.key_size = 8, .val_size = 8}, hints[i]);
        if (!m) {
            cr_assert(errno == ENOMEM || errno == EINVAL,
                      "gomap_new(hint %zu) failed with errno %d", hints[i], errno);
            continue;
        }
        gt_fill_u64(m, 0, 100, 1, 0);
        cr_assert_eq(gomap_len(m), 100);
        gomap_free(m);
    }
}

/* --------------------------------------------- overflow and same-size */

/* Keys whose hash is chosen by the test: the low bits pick the bucket. */
typedef struct gkey {
    uint64_t group; /* the hash */
    uint64_t id;
} gkey;

static uint64_t group_hash(const void *k, size_t ks, uint64_t seed)
{
    (void)ks;
    (void)seed;
    return ((const gkey *)k)->group;
}

static gomap *new_group_map(size_t hint)
{
    gomap_type t = {.key_size = sizeof(gkey), .val_size = 8, .hash = group_hash};
    gomap *m = gomap_new(&t, hint);
    cr_assert_not_null(m);
    return m;
}

static void gset(gomap *m, uint64_t group, uint64_t id, uint64_t v)
{
    gkey k = {group, id};
    int rc = gomap_set(m, &k, &v);
    GT_CHECK(rc == GOMAP_OK, "set(%llu/%llu) = %d", (unsigned long long)group,
             (unsigned long long)id, rc);
}

static bool gget(gomap *m, uint64_t group, uint64_t id, uint64_t *v)
{
    gkey k = {group, id};
    return gomap_lookup(m, &k, v);
}

static bool gdel(gomap *m, uint64_t group, uint64_t id)
{
    gkey k = {group, id};
    return gomap_delete(m, &k);
}

Test(growth, same_size_growth_on_too_many_overflow_buckets)
{
    /* B=4: 16 buckets, room for 104 entries. 100 keys in one bucket make a
     * chain of 13 buckets, i.e. 12 overflow buckets. Deleting them frees
     * slots but not overflow buckets. 33 more keys in another bucket add 4
     * overflow buckets: noverflow reaches 16 = 2^B, and the next new key
     * must start a same-size growth (the load factor is far from due). */
    gomap *m = new_group_map(100);
    cr_assert_eq(gt_stats(m).B, 4);
    gwatch w = {0};
    size_t step = 0;
    for (uint64_t id = 0; id < 100; id++, step++) {
        gomapdebug_stats s0 = gt_stats(m);
        gset(m, 0, id, id);
        gomapdebug_stats s1 = gt_stats(m);
        check_insert(&s0, &s1, "chain 0", step);
    }
    gomapdebug_stats s = gt_stats(m);
    cr_assert_eq(s.noverflow, 12, "100 keys in one bucket use 12 overflow buckets, got %zu",
                 s.noverflow);
    cr_assert(!s.growing);
    for (uint64_t id = 0; id < 100; id++)
        cr_assert(gdel(m, 0, id));
    s = gt_stats(m);
    cr_assert_eq(s.count, 0);
    cr_assert_eq(s.noverflow, 12, "deletes do not give back overflow buckets (Go), got %zu",
                 s.noverflow);

    bool started = false;
    uint64_t id = 0;
    for (; id < 200 && !(started && !s.growing); id++, step++) {
        gomapdebug_stats s0 = gt_stats(m);
        gset(m, 1, id, id + 1000);
        s = gt_stats(m);
        check_insert(&s0, &s, "chain 1", step);
        gwatch_write(&w, &s, "chain 1", step);
        if (!s0.growing && s.growing) {
            cr_assert(!started, "a second growth started");
            started = true;
            cr_assert(s.same_size_grow, "growth at noverflow %zu, count %zu must be same-size",
                      s0.noverflow, s0.count + 1);
            cr_assert_eq(s.B, 4);
            cr_assert_eq(s0.noverflow, 16, "same-size growth must start at noverflow == 2^B");
            /* 33 keys fill 5 buckets (4 overflow): 12 + 4 = 16. */
            cr_assert_eq(id, 33, "it starts on the 34th key of chain 1, not the %llu-th",
                         (unsigned long long)id + 1);
        }
    }
    cr_assert(started, "no same-size growth happened");
    cr_assert(!s.growing, "the same-size growth did not finish");
    cr_assert_eq(s.B, 4, "a same-size growth keeps B");
    cr_assert(s.noverflow < 16, "after the same-size growth noverflow is %zu: the dead chain "
              "should be gone", s.noverflow);
    cr_assert_eq(gomap_len(m), id);
    for (uint64_t j = 0; j < id; j++) {
        uint64_t v = 0;
        cr_assert(gget(m, 1, j, &v), "chain-1 key %llu lost in the same-size growth",
                  (unsigned long long)j);
        cr_assert_eq(v, j + 1000);
    }
    for (uint64_t j = 0; j < 100; j++)
        cr_assert(!gget(m, 0, j, NULL), "deleted key %llu came back", (unsigned long long)j);
    gomap_free(m);
}

Test(growth, colliding_hash_builds_long_chains)
{
    gomap_type t = {.key_size = 8, .val_size = 8, .hash = gt_mod7_hash};
    gomap *m = gomap_new(&t, 0);
    cr_assert_not_null(m);
    enum { N = 3000 };
    gwatch w = {0};
    size_t max_noverflow = 0;
    for (uint64_t k = 0; k < N; k++) {
        gomapdebug_stats s0 = gt_stats(m);
        gt_set_u64(m, k, k * 2);
        gomapdebug_stats s1 = gt_stats(m);
        check_insert(&s0, &s1, "mod7", k);
        gwatch_write(&w, &s1, "mod7", k);
        if (s1.noverflow > max_noverflow)
            max_noverflow = s1.noverflow;
    }
    cr_assert(max_noverflow >= N / 8 - 7, "7 chains of %d keys need ~%d overflow buckets, saw %zu",
              N / 7, N / 8, max_noverflow);
    for (uint64_t k = 0; k < N + 100; k++) {
        bool found;
        uint64_t v = gt_get_u64(m, k, &found);
        cr_assert_eq(found, k < N, "key %llu", (unsigned long long)k);
        if (found)
            cr_assert_eq(v, k * 2);
    }
    /* Churn: delete and re-add in waves; overflow buckets pile up until a
     * same-size growth (or a doubling) cleans them. */
    size_t step = N;
    static uint64_t cur[N]; /* the key now standing in for key k */
    for (uint64_t k = 0; k < N; k++)
        cur[k] = k;
    for (int wave = 0; wave < 6; wave++) {
        for (uint64_t k = 0; k < N; k++) {
            if ((k + (uint64_t)wave) % 3 == 0) {
                gomapdebug_stats s0 = gt_stats(m);
                cr_assert(gomap_delete(m, &cur[k]), "churn: key %llu missing",
                          (unsigned long long)cur[k]);
                gomapdebug_stats s1 = gt_stats(m);
                check_no_new_growth(&s0, &s1, "mod7 delete", step);
                gwatch_write(&w, &s1, "mod7 delete", step++);
            }
        }
        for (uint64_t k = 0; k < N; k++) {
            if ((k + (uint64_t)wave) % 3 == 0) {
                uint64_t key = k + (uint64_t)(wave + 1) * 100000;
                cur[k] = key;
                gomapdebug_stats s0 = gt_stats(m);
                gt_set_u64(m, key, key);
                gomapdebug_stats s1 = gt_stats(m);
                check_insert(&s0, &s1, "mod7 reinsert", step);
                gwatch_write(&w, &s1, "mod7 reinsert", step++);
            }
        }
    }
    cr_assert_eq(gomap_len(m), N);
    size_t n = 0;
    gomap_iter it;
    gomap_iter_init(&it, m);
    const void *kp;
    void *vp;
    while (gomap_iter_next(&it, &kp, &vp)) {
        uint64_t k;
        memcpy(&k, kp, 8);
        uint64_t v = *(uint64_t *)vp;
        cr_assert(v == k || v == k * 2, "key %llu has value %llu", (unsigned long long)k,
                  (unsigned long long)v);
        cr_assert(gomap_get(m, &k) == vp, "iterated entry %llu is not the map's entry",
                  (unsigned long long)k);
        n++;
    }
    cr_assert_eq(n, N);
    gomap_free(m);
}

/* ------------------------------------------------- clear during growth */

Test(growth, clear_during_growth)
{
    gomap *m = gt_new_u64(104);
    cr_assert_eq(gt_stats(m).B, 4);
    gt_fill_u64(m, 0, 105, 1, 1);
    gomapdebug_stats s = gt_stats(m);
    cr_assert(s.growing && s.B == 5, "the 105th key starts a doubling to B=5");
    gomap_clear(m);
    gomapdebug_stats c = gt_stats(m);
    cr_assert_eq(gomap_len(m), 0);
    cr_assert_eq(c.count, 0);
    cr_assert(!c.growing, "clear ends the growth");
    cr_assert_eq(c.B, s.B, "clear keeps the current array (B %u -> %u)", s.B, c.B);
    cr_assert_eq(c.array_bytes, s.array_bytes, "clear keeps the current array's storage");
    cr_assert_eq(c.nevacuate, 0);
    for (uint64_t k = 0; k < 105; k++)
        cr_assert_null(gomap_get(m, &k), "key %llu survived clear", (unsigned long long)k);
    gomap_iter it;
    gomap_iter_init(&it, m);
    cr_assert(!gomap_iter_next(&it, NULL, NULL));
    /* 208 entries fit B=5: refilling needs no growth. */
    for (uint64_t k = 1000; k < 1208; k++) {
        gomapdebug_stats s0 = gt_stats(m);
        gt_set_u64(m, k, k);
        gomapdebug_stats s1 = gt_stats(m);
        check_insert(&s0, &s1, "refill after clear", (size_t)k);
    }
    c = gt_stats(m);
    cr_assert(!c.growing && c.B == 5);
    for (uint64_t k = 1000; k < 1208; k++) {
        bool found;
        cr_assert_eq(gt_get_u64(m, k, &found), k);
        cr_assert(found);
    }
    cr_assert_eq(gomap_len(m), 208);
    gomap_free(m);
}

Test(growth, clear_during_growth_with_open_iterators)
{
    gomap *m = gt_new_u64(104);
    gt_fill_u64(m, 0, 104, 1, 1);
    gomap_iter before; /* started before the growth */
    gomap_iter_init(&before, m);
    for (int i = 0; i < 10; i++)
        cr_assert(gomap_iter_next(&before, NULL, NULL));
    gt_set_u64(m, 104, 1);
    cr_assert(gt_stats(m).growing);
    gomap_iter during; /* started during the growth */
    gomap_iter_init(&during, m);
    for (int i = 0; i < 10; i++)
        cr_assert(gomap_iter_next(&during, NULL, NULL));
    gomap_clear(m);
    /* New entries after the clear; the old ones must never come again. */
    for (uint64_t k = 5000; k < 5050; k++)
        gt_set_u64(m, k, k);
    gomap_iter *its[2] = {&before, &during};
    for (int j = 0; j < 2; j++) {
        static bool seen[50];
        memset(seen, 0, sizeof seen);
        const void *kp;
        void *vp;
        int n = 0;
        while (gomap_iter_next(its[j], &kp, &vp)) {
            uint64_t k;
            memcpy(&k, kp, 8);
            cr_assert(k >= 5000 && k < 5050, "iterator %d returned key %llu, removed by clear", j,
                      (unsigned long long)k);
            cr_assert(!seen[k - 5000], "key %llu came twice", (unsigned long long)k);
            seen[k - 5000] = true;
            cr_assert_eq(*(uint64_t *)vp, k);
            cr_assert(++n <= 50);
        }
    }
    cr_assert_eq(gomap_len(m), 50);
    gomap_free(m);
}

/* ------------------------------------------ half-done evacuation */

/* A map with keys [0, n) (value k*3+1) caught in the middle of a doubling
 * from 64 to 128 buckets. */
static gomap *half_done(uint64_t *n)
{
    gomap *m = gt_new_u64(416);
    gt_fill_u64(m, 0, 421, 3, 1);
    gomapdebug_stats s = gt_stats(m);
    cr_assert(s.growing, "not growing after 421 keys in a B=6 map");
    cr_assert_eq(s.B, 7);
    cr_assert(s.nevacuate > 0 && s.nevacuate < 64, "nevacuate %zu: want a half-done evacuation",
              s.nevacuate);
    *n = 421;
    return m;
}

Test(growth, reads_while_half_done_change_nothing)
{
    uint64_t n;
    gomap *m = half_done(&n);
    gomapdebug_stats s0 = gt_stats(m);
    for (uint64_t k = 0; k < n + 200; k++) {
        uint64_t v = 12345;
        bool ok = gomap_lookup(m, &k, &v);
        cr_assert_eq(ok, k < n, "lookup(%llu) mid-evacuation", (unsigned long long)k);
        cr_assert_eq(v, ok ? k * 3 + 1 : 0);
        uint64_t *p = gomap_get(m, &k);
        cr_assert_eq(p != NULL, k < n);
        if (p)
            cr_assert_eq(*p, k * 3 + 1);
    }
    cr_assert_eq(gomap_len(m), n);
    /* A full iteration mid-evacuation: everything exactly once. */
    static bool seen[421];
    gomap_iter it;
    gomap_iter_init(&it, m);
    const void *kp;
    void *vp;
    size_t cnt = 0;
    while (gomap_iter_next(&it, &kp, &vp)) {
        uint64_t k;
        memcpy(&k, kp, 8);
        cr_assert(k < n && !seen[k], "key %llu: unknown or repeated", (unsigned long long)k);
        seen[k] = true;
        cr_assert_eq(*(uint64_t *)vp, k * 3 + 1);
        cr_assert_eq(gomap_get(m, &k), vp, "iteration returns the live slot");
        cnt++;
    }
    cr_assert_eq(cnt, n);
    gomapdebug_stats s1 = gt_stats(m);
    cr_assert(gt_stats_same(&s0, &s1),
              "reads must not evacuate or change the map (nevacuate %zu -> %zu, growing %d -> %d)",
              s0.nevacuate, s1.nevacuate, s0.growing, s1.growing);
    gomap_free(m);
}

Test(growth, deletes_while_half_done)
{
    uint64_t n;
    gomap *m = half_done(&n);
    size_t while_growing = 0;
    for (uint64_t k = 0; k < n; k += 3) {
        if (gt_stats(m).growing)
            while_growing++;
        cr_assert(gomap_delete(m, &k), "delete(%llu) mid-evacuation", (unsigned long long)k);
        cr_assert_null(gomap_get(m, &k));
        cr_assert(!gomap_delete(m, &k));
        /* A neighbour still there, whichever array it is in. */
        uint64_t nb = k + 1;
        if (nb < n)
            cr_assert_not_null(gomap_get(m, &nb));
    }
    cr_assert(while_growing >= 5, "only %zu deletes ran mid-evacuation", while_growing);
    for (uint64_t k = 0; k < n; k++) {
        bool found;
        uint64_t v = gt_get_u64(m, k, &found);
        cr_assert_eq(found, k % 3 != 0, "key %llu", (unsigned long long)k);
        if (found)
            cr_assert_eq(v, k * 3 + 1);
    }
    cr_assert_eq(gomap_len(m), n - (n + 2) / 3);
    gomap_free(m);
}

Test(growth, iter_delete_while_half_done)
{
    uint64_t n;
    gomap *m = half_done(&n);
    gomap_iter it;
    gomap_iter_init(&it, m);
    const void *kp;
    size_t seen = 0, deleted = 0;
    while (gomap_iter_next(&it, &kp, NULL)) {
        uint64_t k;
        memcpy(&k, kp, 8);
        seen++;
        if (k % 2 == 0) {
            cr_assert(gomap_iter_delete(&it), "iter_delete(%llu) mid-evacuation",
                      (unsigned long long)k);
            cr_assert(!gomap_iter_delete(&it), "second iter_delete must be false");
            cr_assert_null(gomap_get(m, &k));
            deleted++;
        }
    }
    cr_assert_eq(seen, n);
    cr_assert_eq(deleted, (n + 1) / 2);
    cr_assert_eq(gomap_len(m), n - deleted);
    for (uint64_t k = 0; k < n; k++)
        cr_assert_eq(gomap_get(m, &k) != NULL, k % 2 == 1);
    gomap_free(m);
}

Test(growth, iterate_across_half_done_and_further_growth)
{
    uint64_t n;
    gomap *m = half_done(&n);
    gt_track t;
    gt_track_init(&t, 20000);
    for (uint64_t k = 0; k < n; k++)
        gt_track_put(&t, k);
    gt_track_begin(&t);
    gomap_iter it;
    gomap_iter_init(&it, m);
    const void *kp;
    void *vp;
    uint64_t next = n;
    size_t steps = 0;
    gt_rng r = {77};
    while (gomap_iter_next(&it, &kp, &vp)) {
        cr_assert(++steps < 100000, "iteration does not end");
        uint64_t k;
        memcpy(&k, kp, 8);
        gt_track_returned(&t, k, "across growth");
        uint64_t *live = gomap_get(m, &k);
        cr_assert_eq(live, vp, "returned value pointer is not the live slot");
        cr_assert_eq(*(uint64_t *)vp, k * 3 + 1, "value of %llu not current",
                     (unsigned long long)k);
        /* Grow the map under the iterator: ~19000 keys by the end. */
        for (int j = 0; j < 40 && next < 20000; j++, next++) {
            gt_set_u64(m, next, next * 3 + 1);
            gt_track_put(&t, next);
        }
        /* Delete an old key that may or may not have been visited. */
        uint64_t victim = gt_below(&r, n);
        if (gt_track_live(&t, victim)) {
            cr_assert(gomap_delete(m, &victim));
            gt_track_del(&t, victim);
        }
    }
    gt_track_end(&t, "across growth");
    cr_assert(gt_stats(m).B >= 11, "the map should have grown several times, B=%u",
              gt_stats(m).B);
    cr_assert_eq(gomap_len(m), t.count);
    gt_track_free(&t);
    gomap_free(m);
}

/* ------------------------------------------------- bounded retention */

Test(growth, retained_arrays_stay_bounded)
{
    /* Every cycle opens an iterator (and abandons it), then churns keys
     * through one bucket, which piles up overflow buckets and forces a
     * same-size growth every couple of cycles. Retired arrays an iterator
     * touched are kept for it, but memory must stay bounded however many
     * iterators were abandoned. */
    enum { CYCLES = 600, STABLE = 40 };
    gomap *m = new_group_map(100);
    for (uint64_t i = 0; i < STABLE; i++)
        gset(m, 1u << 20 | i, 0, i);
    static gomap_iter its[CYCLES];
    static uint64_t first[CYCLES];
    size_t max_retained = 0, max_nretained = 0, array_bytes = 0, growths = 0;
    for (int c = 0; c < CYCLES; c++) {
        gomap_iter_init(&its[c], m);
        const void *kp;
        cr_assert(gomap_iter_next(&its[c], &kp, NULL));
        gkey k;
        memcpy(&k, kp, sizeof k);
        first[c] = k.group;
        /* 60 keys in bucket c%16: ~7 new overflow buckets per cycle. */
        uint64_t g = (uint64_t)c;
        for (uint64_t id = 0; id < 60; id++) {
            bool was = gt_stats(m).growing;
            gset(m, g, id, id);
            gomapdebug_stats s = gt_stats(m);
            if (!was && s.growing) {
                cr_assert(s.same_size_grow && s.B == 4, "expected a same-size growth");
                growths++;
            }
        }
        for (uint64_t id = 0; id < 60; id++)
            cr_assert(gdel(m, g, id));
        gomapdebug_stats s = gt_stats(m);
        cr_assert_eq(s.B, 4, "count never exceeds 100, so B stays 4");
        if (s.retained_bytes > max_retained)
            max_retained = s.retained_bytes;
        if (s.nretained > max_nretained)
            max_nretained = s.nretained;
        if (s.array_bytes > array_bytes)
            array_bytes = s.array_bytes;
    }
    gomapdebug_stats s = gt_stats(m);
    cr_assert(s.count == STABLE);
    cr_assert(growths >= CYCLES / 4, "only %zu same-size growths in %d cycles", growths, CYCLES);
    cr_assert(max_nretained > 0, "no array was ever retained for the open iterators");
    /* Unbounded retention would hold every retired array: hundreds of them. */
    cr_assert(max_retained <= 4 * array_bytes + (256u << 10),
              "retained bytes reached %zu with arrays of %zu bytes: retention is not bounded",
              max_retained, array_bytes);
    /* Resuming any abandoned iterator is memory-safe and returns only live
     * entries, each at most once; it ends. (It may end early: with bounded
     * retention, an iterator whose array was dropped cannot go on. That
     * is the one place the exactly-once rule is not checked.) */
    for (int c = 0; c < CYCLES; c++) {
        static bool seen[STABLE];
        memset(seen, 0, sizeof seen);
        seen[first[c] & 0xff] = true;
        const void *kp;
        void *vp;
        int n = 0;
        while (gomap_iter_next(&its[c], &kp, &vp)) {
            gkey k;
            memcpy(&k, kp, sizeof k);
            cr_assert((k.group >> 20) == 1 && (k.group & 0xfffff) < STABLE,
                      "iterator %d returned a deleted key %llu/%llu", c,
                      (unsigned long long)k.group, (unsigned long long)k.id);
            cr_assert(!seen[k.group & 0xff], "iterator %d returned key %llu twice", c,
                      (unsigned long long)k.group);
            seen[k.group & 0xff] = true;
            cr_assert_eq(*(uint64_t *)vp, k.group & 0xff);
            cr_assert(++n <= STABLE);
        }
    }
    gomap_free(m);
}

Test(growth, open_iterator_survives_same_size_growths)
{
    /* One iterator left open while churn forces same-size growth after
     * same-size growth: Go's rule holds, every entry present throughout
     * comes exactly once. */
    enum { STABLE = 40 };
    gomap *m = new_group_map(100);
    for (uint64_t i = 0; i < STABLE; i++)
        gset(m, 1u << 20 | i, 0, i);
    gomap_iter it;
    gomap_iter_init(&it, m);
    static bool seen[STABLE];
    const void *kp;
    void *vp;
    size_t growths = 0, n = 0;
    for (int c = 0; c < 60; c++) {
        if (gomap_iter_next(&it, &kp, &vp)) {
            gkey k;
            memcpy(&k, kp, sizeof k);
            uint64_t i = k.group & 0xfffff;
            cr_assert((k.group >> 20) == 1 && i < STABLE, "a churn key came");
            cr_assert(!seen[i], "stable key %llu came twice", (unsigned long long)i);
            seen[i] = true;
            cr_assert_eq(*(uint64_t *)vp, i);
            n++;
        }
        for (uint64_t id = 0; id < 60; id++) {
            bool was = gt_stats(m).growing;
            gset(m, (uint64_t)c, id, id);
            growths += !was && gt_stats(m).growing;
        }
        for (uint64_t id = 0; id < 60; id++)
            cr_assert(gdel(m, (uint64_t)c, id));
    }
    while (gomap_iter_next(&it, &kp, NULL)) {
        gkey k;
        memcpy(&k, kp, sizeof k);
        uint64_t i = k.group & 0xfffff;
        cr_assert((k.group >> 20) == 1 && i < STABLE, "a deleted churn key came");
        cr_assert(!seen[i], "stable key %llu came twice", (unsigned long long)i);
        seen[i] = true;
        n++;
    }
    cr_assert(growths >= 10, "only %zu same-size growths", growths);
    cr_assert_eq(n, STABLE, "%zu of %d entries present throughout came", n, STABLE);
    gomap_free(m);
}

/* The open iterator of open_iterator_survives_same_size_growths, the
 * stable keys it must see exactly once, and the churn that forces the
 * growths, shared by the two tests below. */
struct long_walk {
    gomap_iter it;
    bool seen[64];
    size_t n;
};

static void long_walk_step(struct long_walk *w, size_t stable, bool to_end)
{
    const void *kp;
    while (gomap_iter_next(&w->it, &kp, NULL)) {
        gkey k;
        memcpy(&k, kp, sizeof k);
        uint64_t i = k.group & 0xfffff;
        if ((k.group >> 20) != 1)
            continue; /* a key written during the iteration: may come */
        cr_assert(i < stable && !w->seen[i], "stable key %llu came twice", (unsigned long long)i);
        w->seen[i] = true;
        w->n++;
        if (!to_end)
            return;
    }
}

static size_t churn_bucket(gomap *m, uint64_t group, uint64_t keys)
{
    size_t growths = 0;
    for (uint64_t id = 0; id < keys; id++) {
        bool was = gt_stats(m).growing;
        gset(m, group, id, id);
        growths += !was && gt_stats(m).growing;
    }
    for (uint64_t id = 0; id < keys; id++)
        cr_assert(gdel(m, group, id));
    return growths;
}

Test(growth, open_iterator_on_a_small_array_outlives_abandoned_ones)
{
    /* An iteration opened on the small array of a young map stays open
     * while the map doubles, then while churn forces same-size growths
     * and every cycle abandons an iteration on the large array. When the
     * bound is reached the large arrays go first: they free the most, and
     * the small one costs next to nothing (oldest-first dropped it). */
    enum { STABLE = 40, SPREAD = 300 };
    gomap *m = new_group_map(100);
    for (uint64_t i = 0; i < STABLE; i++)
        gset(m, 1u << 20 | i, 0, i);
    struct long_walk w = {0};
    gomap_iter_init(&w.it, m);
    long_walk_step(&w, STABLE, false);
    unsigned b0 = gt_stats(m).B;
    for (uint64_t i = 0; i < SPREAD; i++)
        gset(m, 2u << 20 | (i * 0x9e3779b97f4a7c15ull >> 44), i, i); /* spread: doublings */
    unsigned b1 = gt_stats(m).B;
    cr_assert_gt(b1, b0 + 1, "the map doubled at least twice (B %u -> %u)", b0, b1);
    size_t growths = 0;
    /* 60 keys in one bucket at a time: the count stays under the load
     * factor, the overflow buckets pile up (deletes keep them) */
    static gomap_iter abandoned[200];
    for (int c = 0; c < 200; c++) {
        long_walk_step(&w, STABLE, false);
        gomap_iter_init(&abandoned[c], m);
        cr_assert(gomap_iter_next(&abandoned[c], NULL, NULL));
        growths += churn_bucket(m, (uint64_t)c, 60);
    }
    cr_assert_eq(gt_stats(m).B, b1, "churn does not double");
    cr_assert(growths >= 10, "only %zu same-size growths", growths);
    long_walk_step(&w, STABLE, true);
    cr_assert_eq(w.n, STABLE, "%zu of %d entries present throughout came", w.n, STABLE);
    gomap_free(m);
}
