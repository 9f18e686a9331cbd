/*
 * The tophash index: every bucket array keeps a dense copy of the first
 * bucket's tophash word of each chain, and lookups decide from the copy
 * (src/gomap_internal.h). A copy that lags the buckets by one write makes
 * lookups miss present keys or insert duplicates, so these tests run
 * gomapdebug_check() after every single write, for each code path that
 * writes: the map[8]8 fast paths, the 8- and 4-byte kinds, the generic
 * path, overflow chains and same-size growth from a colliding hash,
 * deletes that turn slots into EMPTY_REST across a chain, iter_delete,
 * and clear, with growths in progress.
 */
#include "gomap_test.h"

enum { UNIVERSE = 3000 };

typedef struct shape {
    const char *name;
    size_t key_size, val_size;
    gomap_hash_fn hash;
} shape;

static const shape shapes[] = {
    {"u64_v8 (map[8]8 fast paths)", 8, 8, NULL},
    {"u64_v16", 8, 16, NULL},
    {"u32_v4", 4, 4, NULL},
    {"b12_v8 (generic)", 12, 8, NULL},
    {"u64_v8 colliding (gt_mod7_hash)", 8, 8, gt_mod7_hash},
};

static void key_of(const shape *sh, uint64_t id, unsigned char *k)
{
    memset(k, 0, sh->key_size);
    uint64_t x = id + 1; /* never all-zero */
    memcpy(k, &x, sh->key_size < 8 ? sh->key_size : 8);
}

static void check_index(gomap *m, const char *shape_name, size_t step, const char *op)
{
    GT_CHECK(gomapdebug_check(m), "%s step %zu: the index disagrees with the buckets after %s",
             shape_name, step, op);
}

static void run(const shape *sh, size_t steps, uint64_t seed)
{
    gomap_type t = {.key_size = sh->key_size, .val_size = sh->val_size, .hash = sh->hash,
                    .equal = NULL};
    gomap *m = gomap_new(&t, 0);
    cr_assert_not_null(m);
    static bool present[UNIVERSE];
    memset(present, 0, sizeof present);
    size_t count = 0;
    gt_rng r = {seed};
    unsigned char k[16], v[16] = {0};
    /* Bias towards inserts, then towards deletes, so the map grows through
     * several doublings and then leaves long chains of emptied slots. */
    for (size_t step = 0; step < steps; step++) {
        bool growing_phase = (step / (steps / 4)) % 2 == 0;
        uint64_t id = gt_below(&r, sh->hash ? UNIVERSE / 6 : UNIVERSE);
        key_of(sh, id, k);
        uint64_t op = gt_below(&r, 1000);
        if (op < (growing_phase ? 600u : 250u)) {
            memcpy(v, &id, 8);
            GT_CHECK(gomap_set(m, k, v) == GOMAP_OK, "%s: set failed", sh->name);
            count += !present[id];
            present[id] = true;
            check_index(m, sh->name, step, "set");
        } else if (op < 700) {
            GT_CHECK(gomap_assign(m, k) != NULL, "%s: assign failed", sh->name);
            count += !present[id];
            present[id] = true;
            check_index(m, sh->name, step, "assign");
        } else if (op < 995) {
            bool was = gomap_delete(m, k);
            GT_CHECK(was == present[id], "%s step %zu: delete of key %llu said %d, expected %d",
                     sh->name, step, (unsigned long long)id, was, present[id]);
            count -= present[id];
            present[id] = false;
            check_index(m, sh->name, step, "delete");
        } else if (op < 998) {
            /* Range and delete every third entry, writing nothing else. */
            gomap_iter it;
            const void *kp;
            gomap_iter_init(&it, m);
            unsigned nth = 0;
            while (gomap_iter_next(&it, &kp, NULL)) {
                if (++nth % 3)
                    continue;
                uint64_t kid = 0;
                memcpy(&kid, kp, sh->key_size < 8 ? sh->key_size : 8);
                kid -= 1;
                GT_CHECK(kid < UNIVERSE && present[kid], "%s: iteration returned key %llu",
                         sh->name, (unsigned long long)kid);
                GT_CHECK(gomap_iter_delete(&it), "%s: iter_delete refused", sh->name);
                present[kid] = false;
                count--;
                check_index(m, sh->name, step, "iter_delete");
            }
        } else if (gt_one_in(&r, 4)) {
            gomap_clear(m);
            memset(present, 0, sizeof present);
            count = 0;
            check_index(m, sh->name, step, "clear");
        }
        GT_CHECK(gomap_len(m) == count, "%s step %zu: len %zu, expected %zu", sh->name, step,
                 gomap_len(m), count);
        /* A lookup decided by the index: present keys are found, absent
         * ones are not. */
        uint64_t probe = gt_below(&r, sh->hash ? UNIVERSE / 6 : UNIVERSE);
        key_of(sh, probe, k);
        GT_CHECK((gomap_get(m, k) != NULL) == present[probe],
                 "%s step %zu: get of key %llu disagrees with the reference", sh->name, step,
                 (unsigned long long)probe);
    }
    gomapdebug_stats s = gt_stats(m);
    cr_assert(s.B >= (sh->hash ? 3u : 6u), "%s: the map never grew (B %u)", sh->name, s.B);
    gomap_free(m);
}

Test(index, agrees_with_buckets_after_every_write)
{
    size_t steps = GT_SANITIZED ? 8000 : 40000;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        run(&shapes[i], steps, 0x1D3Aull + i);
}

/* The bucket is the key's high half: keys (g << 32 | i) share chain g. */
static uint64_t by_group(const void *k, size_t ks, uint64_t seed)
{
    (void)ks;
    (void)seed;
    uint64_t x;
    memcpy(&x, k, 8);
    return x >> 32;
}

Test(index, agrees_through_same_size_growths)
{
    /* Fill one chain with 100 keys and empty it again, then the next chain:
     * deletes do not give overflow buckets back, so they pile up until a
     * same-size growth compacts them (see test_growth.c). */
    gomap_type t = {.key_size = 8, .val_size = 8, .hash = by_group, .equal = NULL};
    gomap *m = gomap_new(&t, 100);
    int same_size_growths = 0;
    bool was = false;
    uint64_t v = 7;
    size_t step = 0;
    for (uint64_t g = 0; g < 40; g++) {
        for (uint64_t i = 0; i < 100; i++, step++) {
            uint64_t key = g << 32 | i;
            cr_assert_eq(gomap_set(m, &key, &v), GOMAP_OK);
            check_index(m, "same-size", step, "set");
            bool now = gt_stats(m).same_size_grow;
            same_size_growths += now && !was;
            was = now;
        }
        for (uint64_t i = 0; i < 100; i++, step++) {
            uint64_t key = g << 32 | i;
            cr_assert(gomap_delete(m, &key));
            check_index(m, "same-size", step, "delete");
            bool now = gt_stats(m).same_size_grow;
            same_size_growths += now && !was;
            was = now;
        }
    }
    cr_assert_eq(gomap_len(m), 0);
    cr_assert_geq(same_size_growths, 2, "only %d same-size growths happened", same_size_growths);
    gomap_free(m);
}
