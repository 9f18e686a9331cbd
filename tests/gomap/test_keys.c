/*
 * Key and value shapes: zero-size values (sets), keys and values over 128
 * bytes (stored indirectly), f64 keys (NaN, +0/-0), cstr keys (including
 * the key pointer being updated on overwrite, as Go updates string keys),
 * and struct keys with a custom hash and equality.
 */
#include "gomap_test.h"

/* ---------------------------------------------------------------- sets */

Test(keys, zero_size_values)
{
    gomap *m = gt_new(8, 0, 0);
    gomapdebug_stats s = gt_stats(m);
    cr_assert(!s.indirect_val);
    unsigned char canary[8];
    for (uint64_t k = 0; k < 3000; k++) {
        /* Both a NULL and a non-NULL val are fine for a set. */
        cr_assert_eq(gomap_set(m, &k, (k & 1) ? NULL : canary), GOMAP_OK);
    }
    cr_assert_eq(gomap_len(m), 3000);
    for (uint64_t k = 0; k < 3000; k++)
        cr_assert_eq(gomap_set(m, &k, NULL), GOMAP_OK, "re-adding a member");
    cr_assert_eq(gomap_len(m), 3000, "re-adding members does not change len");
    for (uint64_t k = 0; k < 6000; k++) {
        memset(canary, 0x77, sizeof canary);
        bool in = gomap_lookup(m, &k, canary);
        cr_assert_eq(in, k < 3000, "membership of %llu", (unsigned long long)k);
        for (int i = 0; i < 8; i++)
            cr_assert_eq(canary[i], 0x77, "lookup on a set must write no bytes");
        cr_assert_eq(gomap_get(m, &k) != NULL, k < 3000);
    }
    for (uint64_t k = 0; k < 3000; k += 3)
        cr_assert(gomap_delete(m, &k));
    cr_assert_eq(gomap_len(m), 2000);

    size_t n = 0;
    gomap_iter it;
    gomap_iter_init(&it, m);
    const void *kp;
    void *vp;
    static bool seen[3000];
    while (gomap_iter_next(&it, &kp, &vp)) {
        uint64_t k;
        memcpy(&k, kp, 8);
        cr_assert(k < 3000 && k % 3 != 0, "iteration returned a non-member %llu",
                  (unsigned long long)k);
        cr_assert(!seen[k], "member %llu came twice", (unsigned long long)k);
        seen[k] = true;
        n++;
    }
    cr_assert_eq(n, 2000);
    gomap_free(m);
}

Test(keys, zero_size_values_with_big_keys)
{
    gomap *m = gt_new(300, 0, 0);
    cr_assert(gt_stats(m).indirect_key);
    unsigned char key[300];
    for (unsigned i = 0; i < 500; i++) {
        memset(key, 0x11, sizeof key);
        memcpy(key + 296, &i, 4);
        cr_assert_eq(gomap_set(m, key, NULL), GOMAP_OK);
    }
    cr_assert_eq(gomap_len(m), 500);
    for (unsigned i = 0; i < 1000; i++) {
        memset(key, 0x11, sizeof key);
        memcpy(key + 296, &i, 4);
        cr_assert_eq(gomap_get(m, key) != NULL, i < 500);
    }
    gomap_free(m);
}

/* -------------------------------------------------- indirect keys/values */

Test(keys, indirect_threshold_is_128_bytes)
{
    static const struct {
        size_t k, v;
        bool ik, iv;
    } cases[] = {
        {8, 8, false, false},     {128, 8, false, false}, {129, 8, true, false},
        {8, 128, false, false},   {8, 129, false, true},  {200, 200, true, true},
        {128, 128, false, false}, {129, 0, true, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gomap *m = gt_new(cases[i].k, cases[i].v, 0);
        gomapdebug_stats s = gt_stats(m);
        cr_assert_eq(s.indirect_key, cases[i].ik, "key %zu: indirect_key should be %d",
                     cases[i].k, cases[i].ik);
        cr_assert_eq(s.indirect_val, cases[i].iv, "val %zu: indirect_val should be %d",
                     cases[i].v, cases[i].iv);
        gomap_free(m);
    }
}

static void big_key(unsigned char *key, size_t size, uint32_t i)
{
    /* Keys that differ only in their last four bytes. */
    memset(key, 0xc3, size);
    memcpy(key + size - 4, &i, 4);
}

Test(keys, big_keys_stored_indirectly)
{
    enum { KS = 200, N = 4000 };
    gomap *m = gt_new(KS, 8, 0);
    cr_assert(gt_stats(m).indirect_key);
    unsigned char key[KS], copy[KS];
    for (uint32_t i = 0; i < N; i++) {
        big_key(key, KS, i);
        uint64_t v = i * 11ULL;
        cr_assert_eq(gomap_set(m, key, &v), GOMAP_OK);
        /* The map must own a copy: scribble on the caller's buffer. */
        memset(key, 0, KS);
    }
    cr_assert_eq(gomap_len(m), N);
    for (uint32_t i = 0; i < N; i++) {
        big_key(copy, KS, i);
        uint64_t v = 0;
        cr_assert(gomap_lookup(m, copy, &v), "big key %u missing", i);
        cr_assert_eq(v, i * 11ULL);
    }
    big_key(copy, KS, N + 5);
    cr_assert_null(gomap_get(m, copy));
    /* Keys that differ only in the first byte are distinct too. */
    big_key(copy, KS, 7);
    copy[0] ^= 0xff;
    cr_assert_null(gomap_get(m, copy), "a key differing in byte 0 must not match");

    /* Iteration returns the keys' full contents. */
    gomap_iter it;
    gomap_iter_init(&it, m);
    const void *kp;
    void *vp;
    size_t n = 0;
    while (gomap_iter_next(&it, &kp, &vp)) {
        const unsigned char *k = kp;
        uint32_t i;
        memcpy(&i, k + KS - 4, 4);
        big_key(copy, KS, i);
        cr_assert(memcmp(copy, k, KS) == 0, "iterated key %u has wrong bytes", i);
        cr_assert_eq(*(uint64_t *)vp, i * 11ULL);
        n++;
    }
    cr_assert_eq(n, N);
    for (uint32_t i = 0; i < N; i += 2) {
        big_key(copy, KS, i);
        cr_assert(gomap_delete(m, copy));
    }
    cr_assert_eq(gomap_len(m), N / 2);
    gomap_free(m);
}

Test(keys, big_values_stored_indirectly)
{
    enum { VS = 300, N = 2000 };
    gomap *m = gt_new(4, VS, 0);
    cr_assert(gt_stats(m).indirect_val);
    unsigned char val[VS], out[VS];
    for (uint32_t k = 0; k < N; k++) {
        memset(val, (int)(k & 0xff), VS);
        memcpy(val, &k, 4);
        cr_assert_eq(gomap_set(m, &k, val), GOMAP_OK);
    }
    for (uint32_t k = 0; k < N; k++) {
        memset(val, (int)(k & 0xff), VS);
        memcpy(val, &k, 4);
        unsigned char *p = gomap_get(m, &k);
        cr_assert_not_null(p);
        cr_assert(memcmp(p, val, VS) == 0, "value of %u differs (get)", k);
        cr_assert(gomap_lookup(m, &k, out));
        cr_assert(memcmp(out, val, VS) == 0, "value of %u differs (lookup)", k);
        /* Writing through get's pointer changes the value. */
        p[VS - 1] = 0xee;
    }
    for (uint32_t k = 0; k < N; k++) {
        unsigned char *p = gomap_get(m, &k);
        cr_assert_eq(p[VS - 1], 0xee);
    }
    /* Overwrite, delete, assign: assign gives a zeroed indirect value. */
    for (uint32_t k = 0; k < N; k += 2)
        cr_assert(gomap_delete(m, &k));
    for (uint32_t k = 0; k < N; k++) {
        unsigned char *p = gomap_assign(m, &k);
        cr_assert_not_null(p);
        if (k % 2 == 0)
            for (int i = 0; i < VS; i++)
                cr_assert_eq(p[i], 0, "assign of deleted key %u: byte %d not zero", k, i);
        else
            cr_assert_eq(p[VS - 1], 0xee, "assign of present key %u keeps its value", k);
    }
    cr_assert_eq(gomap_len(m), N);
    gomap_free(m);
}

/* ------------------------------------------------------------------ f64 */

static gomap *new_f64_map(size_t hint)
{
    gomap_type t = {
        .key_size = sizeof(double),
        .val_size = sizeof(uint64_t),
        .hash = gomap_hash_f64,
        .equal = gomap_equal_f64,
    };
    gomap *m = gomap_new(&t, hint);
    cr_assert_not_null(m);
    return m;
}

static int set_f64(gomap *m, double k, uint64_t v)
{
    return gomap_set(m, &k, &v);
}

Test(keys, f64_plus_and_minus_zero_are_one_key)
{
    gomap *m = new_f64_map(0);
    cr_assert_eq(set_f64(m, 0.0, 1), GOMAP_OK);
    cr_assert_eq(set_f64(m, -0.0, 2), GOMAP_OK);
    cr_assert_eq(gomap_len(m), 1, "+0 and -0 are the same key");
    double pz = 0.0, nz = -0.0;
    uint64_t *p = gomap_get(m, &pz);
    cr_assert_not_null(p);
    cr_assert_eq(*p, 2);
    cr_assert_eq(gomap_get(m, &nz), (void *)p);
    /* Go updates float keys on overwrite (needkeyupdate): the stored key is
     * now -0. */
    gomap_iter it;
    gomap_iter_init(&it, m);
    const void *kp;
    cr_assert(gomap_iter_next(&it, &kp, NULL));
    double stored;
    memcpy(&stored, kp, sizeof stored);
    cr_assert(stored == 0.0 && signbit(stored),
              "after m[+0]=1; m[-0]=2 the key is -0 as in Go, got %g (signbit %d)", stored,
              signbit(stored) != 0);
    cr_assert(!gomap_iter_next(&it, NULL, NULL));
    cr_assert(gomap_delete(m, &pz), "delete(+0) removes the -0 entry");
    cr_assert_eq(gomap_len(m), 0);
    gomap_free(m);
}

Test(keys, f64_nan_keys_never_match)
{
    gomap *m = new_f64_map(0);
    double nan = NAN;
    for (uint64_t i = 0; i < 3; i++)
        cr_assert_eq(set_f64(m, nan, 10 + i), GOMAP_OK);
    cr_assert_eq(gomap_len(m), 3, "every NaN insert makes a new entry");
    cr_assert_null(gomap_get(m, &nan), "a NaN is never found");
    uint64_t out = 99;
    cr_assert(!gomap_lookup(m, &nan, &out));
    cr_assert_eq(out, 0, "a NaN miss on a real map zeroes val_out");
    cr_assert(!gomap_delete(m, &nan), "delete(NaN) finds nothing");
    cr_assert_eq(gomap_len(m), 3);
    uint64_t *a = gomap_assign(m, &nan);
    cr_assert_not_null(a);
    cr_assert_eq(*a, 0);
    *a = 13;
    cr_assert_eq(gomap_len(m), 4, "assign(NaN) inserts a new entry");

    /* A NaN with a different payload is still a NaN. */
    uint64_t bits = 0x7ff8000000000123ULL;
    double nan2;
    memcpy(&nan2, &bits, sizeof nan2);
    cr_assert(isnan(nan2));
    cr_assert_eq(set_f64(m, nan2, 14), GOMAP_OK);
    cr_assert_eq(gomap_len(m), 5);

    /* Iteration finds every NaN entry once, with its value. */
    bool seen[5] = {0};
    gomap_iter it;
    gomap_iter_init(&it, m);
    const void *kp;
    void *vp;
    int n = 0;
    while (gomap_iter_next(&it, &kp, &vp)) {
        double k;
        memcpy(&k, kp, sizeof k);
        cr_assert(isnan(k));
        uint64_t v = *(uint64_t *)vp;
        cr_assert(v >= 10 && v <= 14, "unexpected NaN value %llu", (unsigned long long)v);
        cr_assert(!seen[v - 10], "NaN entry with value %llu came twice", (unsigned long long)v);
        seen[v - 10] = true;
        n++;
    }
    cr_assert_eq(n, 5);
    /* NaN entries can be removed by iter_delete, and by clear. */
    gomap_iter_init(&it, m);
    cr_assert(gomap_iter_next(&it, NULL, NULL));
    cr_assert(gomap_iter_delete(&it), "iter_delete removes a NaN entry");
    cr_assert_eq(gomap_len(m), 4);
    gomap_clear(m);
    cr_assert_eq(gomap_len(m), 0);
    gomap_free(m);
}

/* Iterates an f64-keyed map: how many keys are NaN, and (*total) how many
 * entries there are. */
static size_t count_nan_keys(gomap *m, size_t *total)
{
    gomap_iter it;
    const void *kp;
    size_t nans = 0;
    *total = 0;
    gomap_iter_init(&it, m);
    while (gomap_iter_next(&it, &kp, NULL)) {
        double k;
        memcpy(&k, kp, sizeof k);
        nans += isnan(k) != 0;
        (*total)++;
    }
    return nans;
}

Test(keys, f64_nan_entries_survive_growth_and_iterate_once)
{
    gomap *m = new_f64_map(0);
    enum { NANS = 60, NORMAL = 2000 };
    double nan = NAN;
    for (uint64_t i = 0; i < NANS; i++)
        cr_assert_eq(set_f64(m, nan, i), GOMAP_OK);
    /* Start an iteration, then grow the map several times under it. */
    gomap_iter it;
    gomap_iter_init(&it, m);
    static bool seen_nan[NANS];
    static bool seen_num[NORMAL];
    const void *kp;
    void *vp;
    size_t steps = 0;
    uint64_t next_num = 0;
    while (gomap_iter_next(&it, &kp, &vp)) {
        cr_assert(++steps < 10 * (NANS + NORMAL), "iteration does not end");
        double k;
        memcpy(&k, kp, sizeof k);
        uint64_t v = *(uint64_t *)vp;
        if (isnan(k)) {
            cr_assert(v < NANS);
            cr_assert(!seen_nan[v], "NaN entry %llu came twice", (unsigned long long)v);
            seen_nan[v] = true;
        } else {
            cr_assert(k >= 1.0 && k <= NORMAL && k == (double)(uint64_t)k, "stray key %g", k);
            uint64_t id = (uint64_t)k - 1;
            cr_assert_eq(v, 1000000 + id, "value of %g is not current", k);
            cr_assert(!seen_num[id], "inserted key %g came twice", k);
            seen_num[id] = true;
        }
        for (int j = 0; j < 50 && next_num < NORMAL; j++, next_num++)
            cr_assert_eq(set_f64(m, (double)(next_num + 1), 1000000 + next_num), GOMAP_OK);
    }
    for (uint64_t i = 0; i < NANS; i++)
        cr_assert(seen_nan[i], "NaN entry %llu (present throughout) never came",
                  (unsigned long long)i);
    cr_assert(gt_stats(m).B >= 7, "the map should have grown under the iteration");
    /* And a fresh iteration still sees all NaN entries. */
    size_t total;
    size_t nans = count_nan_keys(m, &total);
    cr_assert_eq(nans, NANS, "NaN entries lost in evacuation: %zu of %d", nans, NANS);
    cr_assert_eq(total, (size_t)NANS + next_num);
    cr_assert_eq(gomap_len(m), total);
    gomap_free(m);
}

/* gomap_iter_delete on NaN-keyed entries while growth moves them: a
 * delete either removes the entry (true, and the map shrinks by one) or
 * refuses (false, the entry is still there); it never claims a delete it
 * did not do, and the count always matches what an iteration finds. */
Test(keys, f64_nan_iter_delete_across_growth)
{
    enum { NANS = 50, NORMAL = 400 };
    size_t refused_total = 0;
    for (int trial = 0; trial < 40; trial++) {
        gomap *m = new_f64_map(0);
        double nan = NAN;
        for (uint64_t i = 0; i < NANS; i++)
            cr_assert_eq(set_f64(m, nan, i), GOMAP_OK);
        for (uint64_t i = 0; i < 40; i++)
            cr_assert_eq(set_f64(m, (double)(i + 1), i), GOMAP_OK);
        gomap_iter it;
        gomap_iter_init(&it, m);
        const void *kp;
        size_t steps = 0, deleted = 0, refused = 0;
        while (gomap_iter_next(&it, &kp, NULL)) {
            double k;
            memcpy(&k, kp, sizeof k);
            if (++steps == 3) /* grow under the iteration */
                for (uint64_t i = 40; i < NORMAL; i++)
                    cr_assert_eq(set_f64(m, (double)(i + 1), i), GOMAP_OK);
            if (!isnan(k))
                continue;
            size_t before = gomap_len(m);
            if (gomap_iter_delete(&it)) {
                deleted++;
                cr_assert_eq(gomap_len(m), before - 1, "a delete that succeeded must remove");
            } else {
                refused++;
                cr_assert_eq(gomap_len(m), before, "a refused delete must change nothing");
            }
        }
        size_t total;
        size_t nans = count_nan_keys(m, &total);
        cr_assert_eq(total, gomap_len(m), "count and iteration disagree");
        cr_assert_eq(deleted + nans, NANS, "trial %d: %zu deleted, %zu NaN entries left", trial,
                     deleted, nans);
        cr_assert_eq(refused, nans, "every NaN entry left is one whose delete was refused");
        cr_assert(gomapdebug_check(m));
        refused_total += refused;
        gomap_clear(m);
        cr_assert_eq(gomap_len(m), 0, "clear removes what iter_delete could not");
        gomap_free(m);
    }
    cr_assert_gt(refused_total, 0, "no trial moved a NaN entry under the iteration");
}

Test(keys, f64_ordinary_keys)
{
    gomap *m = new_f64_map(0);
    for (int i = -500; i < 500; i++)
        cr_assert_eq(set_f64(m, i * 0.5, (uint64_t)(i + 500)), GOMAP_OK);
    cr_assert_eq(gomap_len(m), 1000);
    for (int i = -500; i < 500; i++) {
        double k = i * 0.5;
        uint64_t v;
        cr_assert(gomap_lookup(m, &k, &v), "key %g missing", k);
        cr_assert_eq(v, (uint64_t)(i + 500));
    }
    double inf = INFINITY, ninf = -INFINITY;
    cr_assert_eq(set_f64(m, inf, 1), GOMAP_OK);
    cr_assert_eq(set_f64(m, ninf, 2), GOMAP_OK);
    cr_assert_eq(set_f64(m, inf, 3), GOMAP_OK);
    cr_assert_eq(gomap_len(m), 1002, "inf and -inf are ordinary keys");
    cr_assert_eq(*(uint64_t *)gomap_get(m, &inf), 3);
    gomap_free(m);
}

/* ----------------------------------------------------------------- cstr */

static gomap *new_cstr_map(size_t val_size)
{
    gomap_type t = {
        .key_size = sizeof(const char *),
        .val_size = val_size,
        .hash = gomap_hash_cstr,
        .equal = gomap_equal_cstr,
    };
    gomap *m = gomap_new(&t, 0);
    cr_assert_not_null(m);
    return m;
}

/* The one stored key pointer of a map holding a single entry. */
static const char *only_key(gomap *m)
{
    gomap_iter it;
    gomap_iter_init(&it, m);
    const void *kp;
    cr_assert(gomap_iter_next(&it, &kp, NULL));
    const char *s;
    memcpy(&s, kp, sizeof s);
    cr_assert(!gomap_iter_next(&it, NULL, NULL), "expected a single entry");
    return s;
}

Test(keys, cstr_keys_compare_contents)
{
    gomap *m = new_cstr_map(sizeof(int));
    char buf[32];
    enum { N = 5000 };
    char **owned = calloc(N, sizeof *owned);
    for (int i = 0; i < N; i++) {
        snprintf(buf, sizeof buf, "key-%d", i);
        owned[i] = strdup(buf);
        const char *p = owned[i];
        cr_assert_eq(gomap_set(m, &p, &i), GOMAP_OK);
    }
    cr_assert_eq(gomap_len(m), N);
    for (int i = 0; i < N; i++) {
        snprintf(buf, sizeof buf, "key-%d", i);
        const char *q = buf; /* a different buffer with the same contents */
        int v = -1;
        cr_assert(gomap_lookup(m, &q, &v), "\"%s\" not found by contents", buf);
        cr_assert_eq(v, i);
    }
    const char *miss = "key-", *empty = "";
    cr_assert_null(gomap_get(m, &miss));
    cr_assert_null(gomap_get(m, &empty));
    int z = 77;
    cr_assert_eq(gomap_set(m, &empty, &z), GOMAP_OK, "the empty string is a key");
    cr_assert_eq(*(int *)gomap_get(m, &empty), 77);
    cr_assert(gomap_delete(m, &empty));
    gomap_free(m);
    for (int i = 0; i < N; i++)
        free(owned[i]);
    free(owned);
}

Test(keys, cstr_key_pointer_updated_on_overwrite)
{
    gomap *m = new_cstr_map(sizeof(int));
    char *p1 = strdup("alpha");
    char *p2 = strdup("alpha");
    char *p3 = strdup("alpha");
    int v = 1;
    const char *k = p1;
    cr_assert_eq(gomap_set(m, &k, &v), GOMAP_OK);
    cr_assert_eq(only_key(m), p1);
    v = 2;
    k = p2;
    cr_assert_eq(gomap_set(m, &k, &v), GOMAP_OK);
    cr_assert_eq(gomap_len(m), 1);
    cr_assert_eq(only_key(m), p2,
                 "after an overwrite the map holds the new key pointer (Go updates string "
                 "keys), so the caller may free the old one");
    free(p1); /* under ASan, any later use of p1 by the map is caught */
    char buf[] = "alpha";
    k = buf;
    cr_assert_eq(*(int *)gomap_get(m, &k), 2);

    /* gomap_assign is Go's mapassign, which updates the key too. */
    k = p3;
    int *slot = gomap_assign(m, &k);
    cr_assert_not_null(slot);
    cr_assert_eq(*slot, 2);
    cr_assert_eq(only_key(m), p3, "assign on a present key stores the new key pointer");
    free(p2);
    k = buf;
    cr_assert(gomap_delete(m, &k));
    cr_assert_eq(gomap_len(m), 0);
    gomap_free(m);
    free(p3);
}

/* ------------------------------------------------ custom hash and equal */

typedef struct pkey {
    int32_t id;
    unsigned char junk[12]; /* ignored by hash and equality */
} pkey;

static int bad_size_calls;

static uint64_t pkey_hash(const void *k, size_t ks, uint64_t seed)
{
    if (ks != sizeof(pkey))
        bad_size_calls++;
    const pkey *p = k;
    return gomap_hash_bytes(&p->id, sizeof p->id, seed);
}

static bool pkey_equal(const void *a, const void *b, size_t ks)
{
    if (ks != sizeof(pkey))
        bad_size_calls++;
    return ((const pkey *)a)->id == ((const pkey *)b)->id;
}

Test(keys, struct_keys_with_custom_hash_and_equal)
{
    gomap_type t = {.key_size = sizeof(pkey), .val_size = 8, .hash = pkey_hash,
                    .equal = pkey_equal};
    gomap *m = gomap_new(&t, 0);
    cr_assert_not_null(m);
    gt_rng r = {1};
    enum { N = 3000 };
    for (int32_t i = 0; i < N; i++) {
        pkey k = {.id = i};
        for (int j = 0; j < 12; j++)
            k.junk[j] = (unsigned char)gt_next(&r);
        uint64_t v = (uint64_t)i * 3;
        cr_assert_eq(gomap_set(m, &k, &v), GOMAP_OK);
    }
    cr_assert_eq(gomap_len(m), N);
    for (int32_t i = 0; i < N; i++) {
        pkey k = {.id = i};
        for (int j = 0; j < 12; j++)
            k.junk[j] = (unsigned char)gt_next(&r); /* different junk */
        uint64_t v;
        cr_assert(gomap_lookup(m, &k, &v), "id %d not found: custom equal not used?", i);
        cr_assert_eq(v, (uint64_t)i * 3);
        uint64_t w = v + 1;
        cr_assert_eq(gomap_set(m, &k, &w), GOMAP_OK);
    }
    cr_assert_eq(gomap_len(m), N, "overwrites with different junk are the same key");
    for (int32_t i = 0; i < N; i += 2) {
        pkey k = {.id = i};
        memset(k.junk, 0xee, sizeof k.junk);
        cr_assert(gomap_delete(m, &k));
    }
    cr_assert_eq(gomap_len(m), N / 2);
    cr_assert_eq(bad_size_calls, 0, "hash/equal got a key_size other than %zu", sizeof(pkey));
    gomap_free(m);
}

/* 16-byte case-insensitive names. */
static uint64_t ci_hash(const void *k, size_t ks, uint64_t seed)
{
    unsigned char low[64];
    const unsigned char *p = k;
    for (size_t i = 0; i < ks && i < sizeof low; i++)
        low[i] = (unsigned char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
    return gomap_hash_bytes(low, ks, seed);
}

static bool ci_equal(const void *a, const void *b, size_t ks)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < ks; i++) {
        unsigned char c = (unsigned char)(x[i] >= 'A' && x[i] <= 'Z' ? x[i] + 32 : x[i]);
        unsigned char d = (unsigned char)(y[i] >= 'A' && y[i] <= 'Z' ? y[i] + 32 : y[i]);
        if (c != d)
            return false;
    }
    return true;
}

Test(keys, case_insensitive_custom_keys)
{
    gomap_type t = {.key_size = 16, .val_size = 4, .hash = ci_hash, .equal = ci_equal};
    gomap *m = gomap_new(&t, 0);
    cr_assert_not_null(m);
    char k[16];
    for (int i = 0; i < 1000; i++) {
        memset(k, 0, sizeof k);
        snprintf(k, sizeof k, "name%04d", i);
        cr_assert_eq(gomap_set(m, k, &i), GOMAP_OK);
    }
    for (int i = 0; i < 1000; i++) {
        memset(k, 0, sizeof k);
        snprintf(k, sizeof k, "NaMe%04d", i);
        int v = -1;
        cr_assert(gomap_lookup(m, k, &v), "\"%s\" not found case-insensitively", k);
        cr_assert_eq(v, i);
    }
    memset(k, 0, sizeof k);
    snprintf(k, sizeof k, "NAME0001");
    int v = 5;
    cr_assert_eq(gomap_set(m, k, &v), GOMAP_OK);
    cr_assert_eq(gomap_len(m), 1000);
    gomap_free(m);
}
