/*
 * Iteration: Go's range rules. Random start; every entry present for the
 * whole iteration exactly once; deleted-before-reached never; inserted at
 * most once (per insertion); current values; all while the map grows.
 * gomap_iter_delete's contract; abandoned iterations; clear inside a loop;
 * misuse sequences that must stay memory-safe (run under ASan).
 */
#include "gomap_test.h"

/* Key id of an iterated u64 key. */
static uint64_t kid(const void *kp)
{
    uint64_t k;
    memcpy(&k, kp, 8);
    return k;
}

/* ------------------------------------------------------------ basics */

Test(iter, empty_map)
{
    gomap *m = gt_new_u64(0);
    gomap_iter it;
    gomap_iter_init(&it, m);
    cr_assert(!gomap_iter_next(&it, NULL, NULL));
    cr_assert(!gomap_iter_next(&it, NULL, NULL), "next after the end stays false");
    cr_assert(!gomap_iter_delete(&it));
    /* A map whose entries were all deleted. */
    gt_fill_u64(m, 0, 300, 1, 0);
    for (uint64_t k = 0; k < 300; k++)
        gomap_delete(m, &k);
    gomap_iter_init(&it, m);
    cr_assert(!gomap_iter_next(&it, NULL, NULL), "all entries were deleted");
    gomap_free(m);
}

Test(iter, every_entry_exactly_once)
{
    enum { N = 10000 };
    gomap *m = gt_new_u64(0);
    gt_fill_u64(m, 0, N, 5, 3);
    static unsigned char seen[N];
    gomap_iter it;
    gomap_iter_init(&it, m);
    const void *kp;
    void *vp;
    size_t n = 0;
    while (gomap_iter_next(&it, &kp, &vp)) {
        uint64_t k = kid(kp);
        cr_assert(k < N, "unknown key %llu", (unsigned long long)k);
        cr_assert(!seen[k], "key %llu came twice", (unsigned long long)k);
        seen[k] = 1;
        cr_assert_eq(*(uint64_t *)vp, k * 5 + 3);
        cr_assert_eq(gomap_get(m, &k), vp, "val points at the map's slot");
        n++;
    }
    cr_assert_eq(n, N);
    cr_assert(!gomap_iter_next(&it, &kp, &vp));

    /* NULL out-parameters are allowed. */
    n = 0;
    gomap_iter_init(&it, m);
    while (gomap_iter_next(&it, NULL, NULL))
        n++;
    cr_assert_eq(n, N);
    n = 0;
    gomap_iter_init(&it, m);
    while (gomap_iter_next(&it, &kp, NULL))
        n++;
    cr_assert_eq(n, N);
    gomap_free(m);
}

/* ---------------------------------------------------------- randomness */

Test(iter, start_offset_random_within_one_bucket)
{
    /* 8 keys in the single bucket of a B=0 map: Go starts at a random slot
     * offset, so each key comes first sometimes. 2000 tries leave a chance
     * of about 8*(7/8)^2000 for a false failure. */
    gomap *m = gt_new_u64(0);
    gt_fill_u64(m, 0, 8, 1, 0);
    cr_assert_eq(gt_stats(m).B, 0);
    int first[8] = {0};
    for (int t = 0; t < 2000; t++) {
        gomap_iter it;
        gomap_iter_init(&it, m);
        const void *kp;
        cr_assert(gomap_iter_next(&it, &kp, NULL));
        first[kid(kp)]++;
        int n = 1;
        while (gomap_iter_next(&it, NULL, NULL))
            n++;
        cr_assert_eq(n, 8);
    }
    for (int k = 0; k < 8; k++)
        cr_assert(first[k] > 0, "key %d never came first in 2000 iterations: offset not random",
                  k);
    gomap_free(m);
}

Test(iter, start_bucket_random_between_iterations)
{
    gomap *m = gt_new_u64(0);
    gt_fill_u64(m, 0, 1000, 1, 0);
    static bool firsts[1000];
    int distinct = 0;
    for (int t = 0; t < 100; t++) {
        gomap_iter it;
        gomap_iter_init(&it, m);
        const void *kp;
        cr_assert(gomap_iter_next(&it, &kp, NULL));
        uint64_t k = kid(kp);
        if (!firsts[k]) {
            firsts[k] = true;
            distinct++;
        }
    }
    cr_assert(distinct >= 10, "100 iterations over 1000 keys started at only %d keys", distinct);
    gomap_free(m);
}

Test(iter, order_differs_between_maps_with_same_keys)
{
    enum { MAPS = 40, N = 200 };
    uint64_t orders[2][N];
    int differ = 0;
    uint64_t seeds[MAPS];
    for (int i = 0; i < MAPS; i++) {
        for (int j = 0; j < 2; j++) {
            gomap *m = gt_new_u64(0);
            gt_fill_u64(m, 0, N, 1, 0);
            if (j == 0)
                seeds[i] = gt_stats(m).seed;
            gomap_iter it;
            gomap_iter_init(&it, m);
            const void *kp;
            int n = 0;
            while (gomap_iter_next(&it, &kp, NULL))
                orders[j][n++] = kid(kp);
            cr_assert_eq(n, N);
            gomap_free(m);
        }
        differ += memcmp(orders[0], orders[1], sizeof orders[0]) != 0;
    }
    cr_assert(differ >= MAPS / 2, "only %d of %d map pairs with the same keys iterated in a "
              "different order", differ, MAPS);
    int same_seed = 0;
    for (int i = 0; i < MAPS; i++)
        for (int j = i + 1; j < MAPS; j++)
            same_seed += seeds[i] == seeds[j];
    cr_assert(same_seed == 0, "%d pairs of maps share a hash seed", same_seed);
}

/* ------------------------------------------------------- iter_delete */

/* A fresh iterator on m positioned on one entry; returns its key. */
static uint64_t step(gomap_iter *it)
{
    const void *kp;
    cr_assert(gomap_iter_next(it, &kp, NULL), "iteration ended early");
    return kid(kp);
}

Test(iter, iter_delete_contract)
{
    gomap *m = gt_new_u64(0);
    gomap *other = gt_new_u64(0);
    gt_fill_u64(m, 0, 100, 1, 0);
    gomap_iter it;
    gomap_iter_init(&it, m);
    cr_assert(!gomap_iter_delete(&it), "before the first next there is nothing to delete");

    uint64_t k = step(&it);
    cr_assert(gomap_iter_delete(&it), "deletes the entry next returned");
    cr_assert_null(gomap_get(m, &k));
    cr_assert_eq(gomap_len(m), 99);
    cr_assert(!gomap_iter_delete(&it), "a second iter_delete finds it already deleted");
    cr_assert_eq(gomap_len(m), 99);

    /* Reads in between do not count as writes. */
    k = step(&it);
    uint64_t probe = 5, out;
    gomap_get(m, &probe);
    gomap_lookup(m, &probe, &out);
    gomap_len(m);
    gomap_iter other_it;
    gomap_iter_init(&other_it, m);
    gomap_iter_next(&other_it, NULL, NULL);
    cr_assert(gomap_iter_delete(&it), "reads and another iterator's next are not writes");
    cr_assert_null(gomap_get(m, &k));

    /* Writes to another map do not count. */
    k = step(&it);
    gt_set_u64(other, 1, 1);
    cr_assert(gomap_iter_delete(&it), "a write to another map does not affect this one");
    cr_assert_null(gomap_get(m, &k));

    /* A write through the returned value pointer is not a call. */
    const void *kp;
    void *vp;
    cr_assert(gomap_iter_next(&it, &kp, &vp));
    k = kid(kp);
    *(uint64_t *)vp = 4242;
    cr_assert(gomap_iter_delete(&it), "writing through val is not a map write");
    cr_assert_null(gomap_get(m, &k));

    /* Each kind of write call in between makes it false. */
    struct {
        const char *what;
        int kind;
    } writes[] = {{"set of a new key", 0},      {"set overwriting another key", 1},
                  {"delete of another key", 2}, {"assign of a present key", 3},
                  {"assign of a new key", 4},   {"set overwriting the current key", 5},
                  {"delete of the current key", 6}};
    uint64_t fresh = 1000;
    for (size_t w = 0; w < sizeof writes / sizeof writes[0]; w++) {
        /* Make sure keys 98 and 99 exist (a write, before the next below). */
        for (uint64_t o = 98; o <= 99; o++)
            if (!gomap_get(m, &o))
                gt_set_u64(m, o, 0);
        k = step(&it);
        uint64_t other_key = k == 99 ? 98 : 99;
        size_t len = gomap_len(m);
        switch (writes[w].kind) {
        case 0:
            gt_set_u64(m, fresh++, 1);
            len++;
            break;
        case 1:
            gt_set_u64(m, other_key, 7);
            break;
        case 2:
            cr_assert(gomap_delete(m, &other_key));
            len--;
            break;
        case 3:
            cr_assert_not_null(gomap_assign(m, &other_key));
            break;
        case 4:
            cr_assert_not_null(gomap_assign(m, &(uint64_t){fresh++}));
            len++;
            break;
        case 5:
            gt_set_u64(m, k, 8);
            break;
        case 6:
            cr_assert(gomap_delete(m, &k));
            len--;
            break;
        }
        cr_assert(!gomap_iter_delete(&it), "after a %s, iter_delete must be false",
                  writes[w].what);
        cr_assert_eq(gomap_len(m), len, "a refused iter_delete changed len (%s)", writes[w].what);
        if (writes[w].kind != 6)
            cr_assert_not_null(gomap_get(m, &k), "a refused iter_delete deleted %llu (%s)",
                               (unsigned long long)k, writes[w].what);
    }

    /* Two iterators: one's iter_delete is a write for the other. */
    gomap_iter a, b;
    gomap_iter_init(&a, m);
    gomap_iter_init(&b, m);
    uint64_t ka = step(&a);
    uint64_t kb = step(&b);
    if (kb == ka)
        kb = step(&b);
    cr_assert(gomap_iter_delete(&b));
    cr_assert(!gomap_iter_delete(&a), "the other iterator's delete wrote the map");
    cr_assert_not_null(gomap_get(m, &ka));

    /* After the end: nothing to delete. */
    while (gomap_iter_next(&it, NULL, NULL))
        ;
    cr_assert(!gomap_iter_delete(&it));

    /* Deleting everything through the iterator. */
    gomap_iter_init(&it, m);
    size_t n = 0;
    while (gomap_iter_next(&it, NULL, NULL)) {
        cr_assert(gomap_iter_delete(&it));
        n++;
    }
    cr_assert_eq(gomap_len(m), 0, "iter_delete on every entry empties the map (%zu deleted)", n);
    gomap_free(m);
    gomap_free(other);
}

Test(iter, iter_delete_after_clear_is_false)
{
    gomap *m = gt_new_u64(0);
    gt_fill_u64(m, 0, 50, 1, 0);
    gomap_iter it;
    gomap_iter_init(&it, m);
    step(&it);
    gomap_clear(m);
    cr_assert(!gomap_iter_delete(&it));
    cr_assert_eq(gomap_len(m), 0);
    gomap_free(m);
}

/* ------------------------------------------------------- Go's rules */

/* Inserts keys [*next, end) with value = key into m and t; *next = end. */
static void put_tracked(gomap *m, gt_track *t, uint64_t *next, uint64_t end)
{
    for (; *next < end; ++*next) {
        gt_set_u64(m, *next, *next);
        gt_track_put(t, *next);
    }
}


Test(iter, values_are_current)
{
    enum { N = 2000 };
    gomap *m = gt_new_u64(0);
    gt_fill_u64(m, 0, N, 0, 0); /* all values 0 */
    gomap_iter it;
    gomap_iter_init(&it, m);
    const void *kp;
    void *vp;
    cr_assert(gomap_iter_next(&it, &kp, &vp));
    uint64_t first = kid(kp);
    for (uint64_t k = 0; k < N; k++)
        gt_set_u64(m, k, k + 1);
    /* Also grow the map, so later values come from evacuated buckets. */
    gt_fill_u64(m, N, 8 * N, 0, 7);
    for (uint64_t k = 0; k < N; k += 2)
        gt_set_u64(m, k, k + 2);
    size_t n = 1;
    while (gomap_iter_next(&it, &kp, &vp)) {
        uint64_t k = kid(kp);
        cr_assert_neq(k, first);
        uint64_t want = k >= N ? 7 : (k % 2 == 0 ? k + 2 : k + 1);
        cr_assert_eq(*(uint64_t *)vp, want, "key %llu: value %llu is stale, want %llu",
                     (unsigned long long)k, (unsigned long long)*(uint64_t *)vp,
                     (unsigned long long)want);
        n += k < N;
    }
    cr_assert_eq(n, N);
    gomap_free(m);
}

Test(iter, deleted_before_reached_never_comes)
{
    enum { N = 3000 };
    gomap *m = gt_new_u64(0);
    gt_track t;
    gt_track_init(&t, N);
    uint64_t next = 0;
    put_tracked(m, &t, &next, N);
    gt_track_begin(&t);
    gomap_iter it;
    gomap_iter_init(&it, m);
    const void *kp;
    size_t steps = 0;
    while (gomap_iter_next(&it, &kp, NULL)) {
        uint64_t k = kid(kp);
        gt_track_returned(&t, k, "deleted-before-reached");
        if (steps++ == 0) {
            for (uint64_t d = 0; d < N; d += 2) {
                if (d != k) {
                    cr_assert(gomap_delete(m, &d));
                    gt_track_del(&t, d);
                }
            }
        }
        cr_assert(k % 2 == 1 || steps == 1, "deleted key %llu came", (unsigned long long)k);
    }
    gt_track_end(&t, "deleted-before-reached");
    gt_track_free(&t);
    gomap_free(m);
}

/* Iterate m (keys < t->n, value = key) while inserting `per_step` new keys
 * per returned entry; returns the number of entries returned. */
static size_t iterate_while_inserting(gomap *m, gt_track *t, uint64_t *next, int per_step,
                                      const char *what)
{
    gt_track_begin(t);
    gomap_iter it;
    gomap_iter_init(&it, m);
    const void *kp;
    void *vp;
    size_t n = 0;
    while (gomap_iter_next(&it, &kp, &vp)) {
        uint64_t k = kid(kp);
        gt_track_returned(t, k, what);
        GT_CHECK(*(uint64_t *)vp == k, "%s: value of %llu is %llu", what, (unsigned long long)k,
                 (unsigned long long)*(uint64_t *)vp);
        GT_CHECK(++n < 4 * t->n, "%s: iteration does not end", what);
        for (int j = 0; j < per_step && *next < t->n; j++, (*next)++) {
            gt_set_u64(m, *next, *next);
            gt_track_put(t, *next);
        }
    }
    gt_track_end(t, what);
    return n;
}

Test(iter, inserts_during_iteration_come_at_most_once)
{
    for (int per_step = 1; per_step <= 64; per_step *= 4) {
        gomap *m = gt_new_u64(0);
        gt_track t;
        gt_track_init(&t, 40000);
        uint64_t next = 0;
        put_tracked(m, &t, &next, 100);
        unsigned B0 = gt_stats(m).B;
        iterate_while_inserting(m, &t, &next, per_step, "inserting");
        if (per_step >= 16)
            cr_assert(gt_stats(m).B > B0 + 2,
                      "per_step %d: the map should have grown (B %u -> %u)", per_step, B0,
                      gt_stats(m).B);
        gt_track_free(&t);
        gomap_free(m);
    }
}

Test(iter, started_during_growth)
{
    /* The iteration starts while an evacuation is in progress (Go's
     * it.B == h.B path) and writes finish it and start more. */
    gomap *m = gt_new_u64(416);
    gt_track t;
    gt_track_init(&t, 30000);
    uint64_t next = 0;
    put_tracked(m, &t, &next, 418);
    cr_assert(gt_stats(m).growing);
    iterate_while_inserting(m, &t, &next, 3, "started during growth");
    /* Once more, with the map not growing at the start. */
    while (gt_stats(m).growing)
        gt_set_u64(m, 0, 0);
    iterate_while_inserting(m, &t, &next, 1, "second pass");
    gt_track_free(&t);
    gomap_free(m);
}

Test(iter, delete_and_reinsert_is_a_new_entry)
{
    enum { N = 500 };
    gomap *m = gt_new_u64(0);
    gt_track t;
    gt_track_init(&t, N);
    uint64_t next = 0;
    put_tracked(m, &t, &next, N);
    gt_track_begin(&t);
    gomap_iter it;
    gomap_iter_init(&it, m);
    const void *kp;
    gt_rng r = {3};
    size_t steps = 0;
    while (gomap_iter_next(&it, &kp, NULL)) {
        uint64_t k = kid(kp);
        gt_track_returned(&t, k, "reinsert");
        cr_assert(++steps < 10 * N, "iteration does not end");
        /* Delete and re-insert the current key: a new entry, which may come
         * once more. */
        cr_assert(gomap_delete(m, &k));
        gt_track_del(&t, k);
        gt_set_u64(m, k, k);
        gt_track_put(&t, k);
        /* And a random key, visited or not. */
        uint64_t o = gt_below(&r, N);
        if (gomap_delete(m, &o)) {
            gt_track_del(&t, o);
            gt_set_u64(m, o, o);
            gt_track_put(&t, o);
        }
    }
    gt_track_end(&t, "reinsert");
    gt_track_free(&t);
    gomap_free(m);
}

Test(iter, growth_from_before_the_iteration_with_deletes)
{
    /* Started on a small array; the map doubles many times, and keys are
     * deleted (visited or not) throughout: Go's it.B < h.B path. */
    enum { N = 50000 };
    gomap *m = gt_new_u64(0);
    gt_track t;
    gt_track_init(&t, N);
    uint64_t next = 0;
    put_tracked(m, &t, &next, 50);
    gt_track_begin(&t);
    gomap_iter it;
    gomap_iter_init(&it, m);
    const void *kp;
    void *vp;
    gt_rng r = {11};
    size_t steps = 0;
    while (gomap_iter_next(&it, &kp, &vp)) {
        uint64_t k = kid(kp);
        gt_track_returned(&t, k, "doubling");
        cr_assert_eq(*(uint64_t *)vp, k);
        cr_assert(++steps < 4 * N);
        for (int j = 0; j < 500 && next < N; j++, next++) {
            gt_set_u64(m, next, next);
            gt_track_put(&t, next);
        }
        for (int j = 0; j < 20; j++) {
            uint64_t d = gt_below(&r, next);
            if (gt_track_live(&t, d)) {
                cr_assert(gomap_delete(m, &d));
                gt_track_del(&t, d);
            }
        }
    }
    gt_track_end(&t, "doubling");
    cr_assert_eq(gomap_len(m), t.count);
    gt_track_free(&t);
    gomap_free(m);
}

/* ----------------------------------------------------- clear in a loop */

Test(iter, clear_inside_loop_ends_old_entries)
{
    gomap *m = gt_new_u64(0);
    gt_fill_u64(m, 0, 500, 1, 0);
    gomap_iter it;
    gomap_iter_init(&it, m);
    for (int i = 0; i < 10; i++)
        step(&it);
    gomap_clear(m);
    cr_assert(!gomap_iter_next(&it, NULL, NULL), "after clear no old entry may come");

    gt_fill_u64(m, 0, 500, 1, 0);
    gomap_iter_init(&it, m);
    for (int i = 0; i < 10; i++)
        step(&it);
    gomap_clear(m);
    /* New entries (some with old keys) may come, each at most once. */
    gt_fill_u64(m, 400, 600, 1, 0);
    static bool seen[600];
    const void *kp;
    void *vp;
    while (gomap_iter_next(&it, &kp, &vp)) {
        uint64_t k = kid(kp);
        cr_assert(k >= 400 && k < 600, "key %llu was removed by clear", (unsigned long long)k);
        cr_assert(!seen[k], "key %llu came twice", (unsigned long long)k);
        seen[k] = true;
        cr_assert_eq(*(uint64_t *)vp, k);
    }
    cr_assert_eq(gomap_len(m), 200);
    gomap_free(m);
}

Test(iter, clear_then_regrow_inside_loop)
{
    gomap *m = gt_new_u64(0);
    gt_fill_u64(m, 0, 100, 1, 0);
    gomap_iter it;
    gomap_iter_init(&it, m);
    step(&it);
    gomap_clear(m);
    gt_fill_u64(m, 1000, 20000, 1, 0); /* grows well past the old array */
    static bool seen[20000];
    const void *kp;
    while (gomap_iter_next(&it, &kp, NULL)) {
        uint64_t k = kid(kp);
        cr_assert(k >= 1000 && k < 20000, "key %llu was removed by clear", (unsigned long long)k);
        cr_assert(!seen[k], "key %llu came twice", (unsigned long long)k);
        seen[k] = true;
    }
    gomap_free(m);
}

/* ---------------------------------------------- abandoned and interleaved */

Test(iter, abandoned_iterations_leak_nothing)
{
    /* An iteration dropped after one step must leave the map whole: every
     * key written under it is there, once, with its value, and a clear
     * after it empties the map. LeakSanitizer (make test-asan) checks
     * besides that the abandoned iterators hold nothing. */
    gomap *m = gt_new_u64(0);
    uint64_t next = 0, first_live = 0; /* the live keys: first_live..next-1 */
    static bool seen[500 * 20];
    for (int round = 0; round < 2000; round++) {
        gomap_iter it;
        const void *kp;
        gomap_iter_init(&it, m);
        bool got = gomap_iter_next(&it, &kp, NULL); /* then break */
        cr_assert_eq(got, next > first_live, "round %d: a step iff the map has keys", round);
        if (got)
            cr_assert(kid(kp) >= first_live && kid(kp) < next, "round %d: key %llu is not live", round,
                      (unsigned long long)kid(kp));
        for (int j = 0; j < 20; j++, next++)
            gt_set_u64(m, next, next); /* the map grows under abandoned iterators */
        if (round % 500 == 499) {
            cr_assert_eq(gomap_len(m), next - first_live);
            memset(seen, 0, sizeof seen);
            size_t n = 0;
            void *vp;
            gomap_iter_init(&it, m);
            while (gomap_iter_next(&it, &kp, &vp)) {
                uint64_t k = kid(kp), v;
                memcpy(&v, vp, sizeof v);
                cr_assert(k >= first_live && k < next && !seen[k - first_live], "key %llu", (unsigned long long)k);
                cr_assert_eq(v, k, "key %llu has value %llu", (unsigned long long)k, (unsigned long long)v);
                seen[k - first_live] = true;
                n++;
            }
            cr_assert_eq(n, next - first_live, "a full iteration sees every key");
            gomap_clear(m);
            cr_assert_eq(gomap_len(m), 0);
            first_live = next;
        }
    }
    gomap_free(m);
}

Test(iter, interleaved_iterators_with_writes)
{
    enum { N = 6000, ITS = 4 };
    gomap *m = gt_new_u64(0);
    gt_track t;
    gt_track_init(&t, N);
    gt_rng r = {99};
    uint64_t next = 0;
    put_tracked(m, &t, &next, 200);
    gomap_iter its[ITS];
    gt_view views[ITS];
    bool live[ITS];
    for (int i = 0; i < ITS; i++) {
        gt_view_init(&views[i], &t);
        gt_view_begin(&t, &views[i]);
        gomap_iter_init(&its[i], m);
        live[i] = true;
    }
    int running = ITS;
    size_t steps = 0;
    while (running > 0) {
        cr_assert(++steps < 100000, "iterators do not end");
        int i = (int)gt_below(&r, ITS);
        if (!live[i])
            continue;
        const void *kp;
        void *vp;
        if (!gomap_iter_next(&its[i], &kp, &vp)) {
            gt_view_end(&t, &views[i], "interleaved");
            live[i] = false;
            running--;
            continue;
        }
        uint64_t k = kid(kp);
        gt_view_returned(&t, &views[i], k, "interleaved");
        cr_assert_eq(*(uint64_t *)vp, k);
        switch (gt_below(&r, 4)) {
        case 0:
            if (next < N) {
                gt_set_u64(m, next, next);
                gt_track_put(&t, next);
                next++;
            }
            break;
        case 1: {
            uint64_t d = gt_below(&r, next);
            if (gt_track_live(&t, d)) {
                cr_assert(gomap_delete(m, &d));
                gt_track_del(&t, d);
            }
            break;
        }
        case 2:
            cr_assert(gomap_iter_delete(&its[i]), "iter_delete right after next must succeed");
            gt_track_del(&t, k);
            break;
        default:
            break;
        }
    }
    for (int i = 0; i < ITS; i++)
        gt_view_free(&views[i]);
    cr_assert_eq(gomap_len(m), t.count);
    gt_track_free(&t);
    gomap_free(m);
}

Test(iter, nested_read_only_iterations)
{
    gomap *m = gt_new_u64(0);
    gt_fill_u64(m, 0, 60, 1, 0);
    gomap_iter outer;
    gomap_iter_init(&outer, m);
    size_t pairs = 0, n = 0;
    while (gomap_iter_next(&outer, NULL, NULL)) {
        gomap_iter inner;
        gomap_iter_init(&inner, m);
        while (gomap_iter_next(&inner, NULL, NULL))
            pairs++;
        n++;
    }
    cr_assert_eq(n, 60);
    cr_assert_eq(pairs, 60 * 60);
    gomap_free(m);
}

/* ------------------------------------------------------------- misuse */

Test(iter, misuse_sequences_stay_safe)
{
    /* Sequences a careless caller might produce. The assertions are weak
     * (returned entries are live and not repeated within one iteration); the
     * point is memory safety, checked by make test-asan. */
    gomap *m = gt_new_u64(0);
    gt_track t;
    gt_track_init(&t, 4096);
    gt_rng r = {2024};
    enum { ITS = 3 };
    gomap_iter its[ITS];
    gt_view views[ITS];
    bool open[ITS] = {0};
    for (int i = 0; i < ITS; i++)
        gt_view_init(&views[i], &t);
    int ops = GT_SANITIZED ? 60000 : 200000;
    for (int op = 0; op < ops; op++) {
        uint64_t k = gt_below(&r, 4096);
        int i = (int)gt_below(&r, ITS);
        switch (gt_below(&r, 12)) {
        case 0:
        case 1:
        case 2:
            gt_set_u64(m, k, k);
            gt_track_put(&t, k);
            break;
        case 3:
            cr_assert_eq(gomap_delete(m, &k), gt_track_live(&t, k));
            gt_track_del(&t, k);
            break;
        case 4:
            if (gt_one_in(&r, 200)) {
                gomap_clear(m);
                gt_track_clear(&t);
            }
            break;
        case 5: /* (re)start an iterator, abandoning any previous one */
            gomap_iter_init(&its[i], m);
            gt_view_begin(&t, &views[i]);
            open[i] = true;
            break;
        case 6:
        case 7:
        case 8: {
            if (!open[i])
                break;
            const void *kp;
            void *vp;
            if (gomap_iter_next(&its[i], &kp, &vp)) {
                uint64_t id = kid(kp);
                gt_view_returned(&t, &views[i], id, "misuse");
                cr_assert_eq(*(uint64_t *)vp, id);
                *(uint64_t *)vp = id; /* write through the value pointer */
            } else {
                open[i] = false;
            }
            break;
        }
        case 9: /* delete "the current entry" twice, two ways */
            if (open[i] && gomap_iter_delete(&its[i])) {
                cr_assert(!gomap_iter_delete(&its[i]));
                /* which key? re-derive from the tracker: sync by len */
            }
            /* Keep the tracker in sync with the map (iter_delete deleted an
             * entry we did not record): rebuild liveness from lookups. */
            if (gomap_len(m) != t.count) {
                for (uint64_t id = 0; id < 4096; id++)
                    if (gt_track_live(&t, id) && !gomap_get(m, &id))
                        gt_track_del(&t, id);
            }
            break;
        case 10: /* iterate to the end after writes */
            if (open[i] && gt_one_in(&r, 20)) {
                const void *kp;
                size_t guard = 0;
                while (gomap_iter_next(&its[i], &kp, NULL)) {
                    gt_view_returned(&t, &views[i], kid(kp), "misuse drain");
                    cr_assert(++guard <= 2 * 4096);
                }
                open[i] = false;
            }
            break;
        default:
            cr_assert_eq(gomap_len(m), t.count);
            break;
        }
    }
    for (int i = 0; i < ITS; i++)
        gt_view_free(&views[i]);
    gt_track_free(&t);
    gomap_free(m);
}

/* ------------------------------------------ big keys under iteration */

static void big_key(unsigned char *key, size_t size, uint64_t id)
{
    for (size_t i = 0; i < size; i++)
        key[i] = (unsigned char)(gt_mix64(id + i / 8) >> (8 * (i % 8)));
    memcpy(key, &id, 8);
}

Test(iter, indirect_keys_and_values_while_growing)
{
    /* Keys and values over 128 bytes live outside the buckets; evacuation
     * must keep what an iterator may still read valid. */
    enum { KS = 200, VS = 160, N = 6000 };
    gomap *m = gt_new(KS, VS, 0);
    gt_track t;
    gt_track_init(&t, N);
    unsigned char key[KS], val[VS], want[KS];
    uint64_t next = 0;
    for (; next < 64; next++) {
        big_key(key, KS, next);
        memset(val, (int)(next & 0xff), VS);
        cr_assert_eq(gomap_set(m, key, val), GOMAP_OK);
        gt_track_put(&t, next);
    }
    gt_track_begin(&t);
    gomap_iter it;
    gomap_iter_init(&it, m);
    const void *kp;
    void *vp;
    gt_rng r = {5};
    size_t steps = 0;
    while (gomap_iter_next(&it, &kp, &vp)) {
        uint64_t id;
        memcpy(&id, kp, 8);
        cr_assert(id < N);
        big_key(want, KS, id);
        cr_assert(memcmp(want, kp, KS) == 0, "iterated key %llu corrupted",
                  (unsigned long long)id);
        const unsigned char *v = vp;
        for (int i = 0; i < VS; i++)
            cr_assert_eq(v[i], (unsigned char)(id & 0xff), "value of key %llu corrupted",
                         (unsigned long long)id);
        gt_track_returned(&t, id, "indirect");
        cr_assert(++steps < 4 * N);
        for (int j = 0; j < 100 && next < N; j++, next++) {
            big_key(key, KS, next);
            memset(val, (int)(next & 0xff), VS);
            cr_assert_eq(gomap_set(m, key, val), GOMAP_OK);
            gt_track_put(&t, next);
        }
        uint64_t d = gt_below(&r, next);
        if (gt_track_live(&t, d)) {
            big_key(key, KS, d);
            cr_assert(gomap_delete(m, key));
            gt_track_del(&t, d);
        }
        if (steps % 7 == 0 && gt_track_live(&t, id)) {
            /* Overwrite the current entry: same entry, same value bytes. */
            big_key(key, KS, id);
            memset(val, (int)(id & 0xff), VS);
            cr_assert_eq(gomap_set(m, key, val), GOMAP_OK);
        }
    }
    gt_track_end(&t, "indirect");
    cr_assert_eq(gomap_len(m), t.count);
    gt_track_free(&t);
    gomap_free(m);
}
