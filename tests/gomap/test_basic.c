/*
 * Per-operation tests: new/free, len, get, lookup, set, assign, delete,
 * clear; the nil map; bad types and argument errors; strerror; the key
 * helper functions.
 */
#include "gomap_test.h"

/* ------------------------------------------------------------ new/free */

Test(basic, new_empty_map)
{
    gomap *m = gt_new_u64(0);
    cr_assert_eq(gomap_len(m), 0, "a new map has len 0");
    uint64_t k = 1;
    cr_assert_null(gomap_get(m, &k), "get on an empty map misses");
    gomapdebug_stats s = gt_stats(m);
    cr_assert_eq(s.count, 0);
    cr_assert_eq(s.B, 0, "hint 0 gives B=0 (one bucket), got B=%u", s.B);
    cr_assert(!s.growing, "a new map is not growing");
    /* Like Go's makemap_small, the one bucket may be allocated lazily. */
    cr_assert(s.bucket_bytes > 0, "bucket_bytes %zu", s.bucket_bytes);
    cr_assert(s.array_bytes == 0 || s.array_bytes >= s.bucket_bytes, "array_bytes %zu",
              s.array_bytes);
    gt_set_u64(m, 1, 1);
    s = gt_stats(m);
    cr_assert(s.array_bytes >= s.bucket_bytes, "after a write: array_bytes %zu", s.array_bytes);
    cr_assert(gomap_delete(m, &k));
    gomap_free(m);
}

Test(basic, new_copies_type)
{
    gomap_type t = {.key_size = 8, .val_size = 8};
    gomap *m = gomap_new(&t, 0);
    cr_assert_not_null(m);
    /* Scribble over the caller's type: the map must have copied it. */
    t.key_size = 1;
    t.val_size = 0;
    t.hash = NULL;
    for (uint64_t k = 0; k < 100; k++)
        gt_set_u64(m, k << 56 | k, k * 3);
    for (uint64_t k = 0; k < 100; k++) {
        bool found;
        uint64_t v = gt_get_u64(m, k << 56 | k, &found);
        cr_assert(found && v == k * 3, "key %llu lost after the caller changed its gomap_type",
                  (unsigned long long)k);
    }
    cr_assert_eq(gomap_len(m), 100);
    gomap_free(m);
}

Test(basic, free_null_is_a_noop)
{
    gomap_free(NULL);
}

Test(basic, many_independent_maps)
{
    enum { N = 64 };
    gomap *maps[N];
    for (int i = 0; i < N; i++) {
        maps[i] = gt_new_u64((size_t)i);
        gt_fill_u64(maps[i], 0, (uint64_t)i * 7, 1, (uint64_t)i);
    }
    for (int i = 0; i < N; i++) {
        cr_assert_eq(gomap_len(maps[i]), (size_t)i * 7, "map %d has the wrong len", i);
        for (uint64_t k = 0; k < (uint64_t)i * 7; k++) {
            bool found;
            uint64_t v = gt_get_u64(maps[i], k, &found);
            cr_assert(found && v == k + (uint64_t)i, "map %d: key %llu wrong", i,
                      (unsigned long long)k);
        }
    }
    for (int i = 0; i < N; i++)
        gomap_free(maps[i]);
}

/* ------------------------------------------------------------ bad types */

static void expect_einval(const gomap_type *t, const char *what)
{
    errno = 0;
    gomap *m = gomap_new(t, 0);
    cr_assert_null(m, "gomap_new(%s) must fail", what);
    cr_assert_eq(errno, EINVAL, "gomap_new(%s): errno %d, want EINVAL", what, errno);
    errno = 0;
    m = gomap_new(t, 1000);
    cr_assert_null(m, "gomap_new(%s, hint 1000) must fail", what);
    cr_assert_eq(errno, EINVAL, "gomap_new(%s, hint 1000): errno %d, want EINVAL", what, errno);
}

Test(basic, bad_types_give_einval)
{
    expect_einval(NULL, "NULL type");
    expect_einval(&(gomap_type){.key_size = 0, .val_size = 8}, "key_size 0");
    expect_einval(&(gomap_type){.key_size = 0, .val_size = 0}, "key_size 0, val_size 0");
    expect_einval(&(gomap_type){.key_size = SIZE_MAX, .val_size = 8}, "key_size SIZE_MAX");
    expect_einval(&(gomap_type){.key_size = 8, .val_size = SIZE_MAX}, "val_size SIZE_MAX");
    expect_einval(&(gomap_type){.key_size = SIZE_MAX / 2 + 1, .val_size = 8},
                  "key_size > PTRDIFF_MAX");
    expect_einval(&(gomap_type){.key_size = 8, .val_size = SIZE_MAX / 2 + 1},
                  "val_size > PTRDIFF_MAX");
}

Test(basic, odd_sizes_are_fine)
{
    /* Sizes that are not powers of two or aligned: layout must still work. */
    static const size_t ks[] = {1, 2, 3, 5, 7, 9, 12, 13, 31, 127, 128, 129, 255};
    static const size_t vs[] = {0, 1, 3, 5, 8, 13, 128, 129};
    for (size_t a = 0; a < sizeof ks / sizeof ks[0]; a++) {
        for (size_t b = 0; b < sizeof vs / sizeof vs[0]; b++) {
            size_t kz = ks[a], vz = vs[b];
            gomap *m = gt_new(kz, vz, 0);
            unsigned char key[256], val[256], out[256];
            size_t n = kz == 1 ? 256 : 300;
            for (size_t i = 0; i < n; i++) {
                memset(key, 0, sizeof key);
                memcpy(key, &i, kz < sizeof i ? kz : sizeof i);
                memset(val, (int)(i * 7 + 1), sizeof val);
                cr_assert_eq(gomap_set(m, key, vz ? val : NULL), GOMAP_OK);
            }
            cr_assert_eq(gomap_len(m), n, "key %zu val %zu: len %zu want %zu", kz, vz,
                         gomap_len(m), n);
            for (size_t i = 0; i < n; i++) {
                memset(key, 0, sizeof key);
                memcpy(key, &i, kz < sizeof i ? kz : sizeof i);
                memset(val, (int)(i * 7 + 1), sizeof val);
                memset(out, 0x5a, sizeof out);
                cr_assert(gomap_lookup(m, key, out), "key %zu val %zu: key %zu missing", kz, vz,
                          i);
                cr_assert(memcmp(out, val, vz) == 0, "key %zu val %zu: key %zu wrong value", kz,
                          vz, i);
                cr_assert_eq(out[vz], 0x5a, "lookup wrote past val_size %zu", vz);
            }
            gomap_free(m);
        }
    }
}

/* ------------------------------------------------------------- nil map */

Test(basic, nil_map_reads_act_empty)
{
    uint64_t k = 42, v = 0x1234567890abcdefULL;
    cr_assert_eq(gomap_len(NULL), 0);
    cr_assert_null(gomap_get(NULL, &k));
    cr_assert(!gomap_lookup(NULL, &k, &v));
    cr_assert_eq(v, 0x1234567890abcdefULL, "lookup on the nil map must leave val_out untouched");
    cr_assert(!gomap_lookup(NULL, &k, NULL));
    cr_assert(!gomap_delete(NULL, &k), "delete on the nil map: nothing was there");
    gomap_clear(NULL);
    gomap_free(NULL);
    gomapdebug_stats s;
    cr_assert(!gomapdebug_stats_get(NULL, &s), "stats on the nil map return false");
}

Test(basic, nil_map_writes_fail)
{
    uint64_t k = 1, v = 2;
    cr_assert_eq(gomap_set(NULL, &k, &v), GOMAP_ENIL, "set on the nil map gives GOMAP_ENIL");
    cr_assert_null(gomap_assign(NULL, &k), "assign on the nil map gives NULL");
    /* ... and changes nothing. */
    cr_assert_eq(gomap_len(NULL), 0);
    cr_assert_null(gomap_get(NULL, &k));
    cr_assert_eq(k, 1);
    cr_assert_eq(v, 2);
}

Test(basic, nil_map_iteration_is_empty)
{
    gomap_iter it;
    gomap_iter_init(&it, NULL);
    const void *k = (const void *)1;
    void *v = (void *)1;
    cr_assert(!gomap_iter_next(&it, &k, &v), "the nil map has no entries");
    cr_assert(!gomap_iter_next(&it, &k, &v), "next after the end stays false");
    cr_assert(!gomap_iter_delete(&it), "iter_delete on the nil map is false");
    gomap_iter_init(&it, NULL);
    cr_assert(!gomap_iter_delete(&it), "iter_delete before next is false");
}

/* ---------------------------------------------------------- set / get */

Test(basic, set_then_get_and_lookup)
{
    gomap *m = gt_new_u64(0);
    enum { N = 5000 };
    for (uint64_t k = 0; k < N; k++) {
        gt_set_u64(m, k * 0x9e3779b97f4a7c15ULL, k + 1);
        cr_assert_eq(gomap_len(m), k + 1, "len after %llu inserts", (unsigned long long)k + 1);
    }
    for (uint64_t k = 0; k < N; k++) {
        uint64_t key = k * 0x9e3779b97f4a7c15ULL;
        uint64_t *p = gomap_get(m, &key);
        cr_assert_not_null(p, "get(%llu) misses", (unsigned long long)k);
        cr_assert_eq(*p, k + 1);
        uint64_t out = 0;
        cr_assert(gomap_lookup(m, &key, &out));
        cr_assert_eq(out, k + 1);
        cr_assert(gomap_lookup(m, &key, NULL), "lookup with val_out NULL reports presence");
    }
    gomap_free(m);
}

Test(basic, lookup_miss_zeroes_val_out)
{
    gomap *m = gt_new_u64(0);
    uint64_t k = 7, out = 0xdeadbeefdeadbeefULL;
    cr_assert(!gomap_lookup(m, &k, &out));
    cr_assert_eq(out, 0, "a miss on an empty map writes the zero value");
    gt_fill_u64(m, 100, 200, 1, 1);
    out = 0xdeadbeefdeadbeefULL;
    cr_assert(!gomap_lookup(m, &k, &out));
    cr_assert_eq(out, 0, "a miss on a non-empty map writes the zero value");
    cr_assert(!gomap_lookup(m, &k, NULL));
    gomap_free(m);

    /* A large (indirect) value type. */
    m = gt_new(8, 300, 0);
    unsigned char big[301];
    memset(big, 0xab, sizeof big);
    cr_assert(!gomap_lookup(m, &k, big));
    for (int i = 0; i < 300; i++)
        cr_assert_eq(big[i], 0, "byte %d of a missed 300-byte lookup not zeroed", i);
    cr_assert_eq(big[300], 0xab, "lookup wrote past val_size");
    gomap_free(m);
}

Test(basic, set_overwrites)
{
    gomap *m = gt_new_u64(0);
    gt_fill_u64(m, 0, 1000, 1, 0);
    for (int round = 1; round <= 3; round++) {
        gt_fill_u64(m, 0, 1000, 2, (uint64_t)round);
        cr_assert_eq(gomap_len(m), 1000, "overwriting must not change len");
        for (uint64_t k = 0; k < 1000; k++) {
            bool found;
            cr_assert_eq(gt_get_u64(m, k, &found), k * 2 + (uint64_t)round);
            cr_assert(found);
        }
    }
    gomap_free(m);
}

Test(basic, get_returns_pointer_into_map)
{
    gomap *m = gt_new_u64(0);
    gt_fill_u64(m, 0, 100, 1, 0);
    for (uint64_t k = 0; k < 100; k++) {
        uint64_t *p = gomap_get(m, &k);
        cr_assert_not_null(p);
        *p = k * 1000;
        uint64_t *q = gomap_get(m, &k);
        cr_assert_eq(p, q, "two gets with no write in between give the same slot");
    }
    for (uint64_t k = 0; k < 100; k++) {
        uint64_t v = 0;
        cr_assert(gomap_lookup(m, &k, &v));
        cr_assert_eq(v, k * 1000, "a write through gomap_get's pointer is the map's value");
    }
    gomap_free(m);
}

Test(basic, get_on_a_set_is_non_null_when_present)
{
    gomap *m = gt_new(8, 0, 0);
    for (uint64_t k = 0; k < 500; k += 2)
        cr_assert_eq(gomap_set(m, &k, NULL), GOMAP_OK);
    for (uint64_t k = 0; k < 500; k++) {
        void *p = gomap_get(m, &k);
        if (k % 2 == 0)
            cr_assert_not_null(p, "set member %llu: get must be non-NULL", (unsigned long long)k);
        else
            cr_assert_null(p, "non-member %llu: get must be NULL", (unsigned long long)k);
    }
    gomap_free(m);
}

Test(basic, set_argument_errors)
{
    gomap *m = gt_new_u64(0);
    uint64_t k = 1, v = 2;
    cr_assert_eq(gomap_set(m, NULL, &v), GOMAP_EINVAL, "NULL key gives GOMAP_EINVAL");
    cr_assert_eq(gomap_set(m, &k, NULL), GOMAP_EINVAL, "NULL val with val_size 8");
    cr_assert_eq(gomap_len(m), 0, "a failed set changes nothing");
    cr_assert_null(gomap_get(m, &k));
    cr_assert_null(gomap_assign(m, NULL), "assign with a NULL key gives NULL");
    cr_assert_eq(gomap_len(m), 0);
    gomap_free(m);

    m = gt_new(8, 0, 0);
    cr_assert_eq(gomap_set(m, &k, NULL), GOMAP_OK, "NULL val is fine for a set");
    cr_assert_eq(gomap_set(m, NULL, NULL), GOMAP_EINVAL, "NULL key on a set");
    cr_assert_eq(gomap_len(m), 1);
    gomap_free(m);
}

/* --------------------------------------------------------------- assign */

Test(basic, assign_inserts_zeroed_and_counts)
{
    gomap *m = gt_new_u64(0);
    /* m[k%10]++ a thousand times. */
    for (uint64_t i = 0; i < 1000; i++) {
        uint64_t k = i % 10;
        uint64_t *p = gomap_assign(m, &k);
        cr_assert_not_null(p);
        if (i < 10)
            cr_assert_eq(*p, 0, "a new key's slot is zeroed");
        (*p)++;
    }
    cr_assert_eq(gomap_len(m), 10);
    for (uint64_t k = 0; k < 10; k++) {
        bool found;
        cr_assert_eq(gt_get_u64(m, k, &found), 100);
    }
    /* assign on a present key returns its slot: get sees the same. */
    uint64_t k = 3;
    uint64_t *a = gomap_assign(m, &k);
    cr_assert_eq(*a, 100);
    cr_assert_eq(gomap_get(m, &k), (void *)a, "assign and get give the same slot");
    cr_assert_eq(gomap_len(m), 10);
    gomap_free(m);
}

Test(basic, assign_zeroes_a_reused_slot)
{
    /* B=0: a single bucket, so new keys land in slots that held deleted ones. */
    gomap *m = gt_new_u64(0);
    for (uint64_t k = 0; k < 8; k++)
        gt_set_u64(m, k, ~(uint64_t)0);
    for (uint64_t k = 0; k < 8; k++)
        cr_assert(gomap_delete(m, &k));
    cr_assert_eq(gt_stats(m).B, 0);
    for (uint64_t k = 0; k < 8; k++) {
        uint64_t *p = gomap_assign(m, &k);
        cr_assert_not_null(p);
        cr_assert_eq(*p, 0, "re-inserted key %llu: assign must give a zeroed slot",
                     (unsigned long long)k);
        uint64_t other = 100 + k;
        p = gomap_assign(m, &other);
        cr_assert_eq(*p, 0, "new key %llu in a reused slot must be zeroed",
                     (unsigned long long)other);
    }
    gomap_free(m);

    /* Same with indirect values. */
    m = gt_new(8, 200, 0);
    unsigned char v[200];
    memset(v, 0xff, sizeof v);
    for (uint64_t k = 0; k < 8; k++)
        cr_assert_eq(gomap_set(m, &k, v), GOMAP_OK);
    for (uint64_t k = 0; k < 8; k++)
        cr_assert(gomap_delete(m, &k));
    for (uint64_t k = 0; k < 16; k++) {
        unsigned char *p = gomap_assign(m, &k);
        cr_assert_not_null(p);
        for (int i = 0; i < 200; i++)
            cr_assert_eq(p[i], 0, "indirect value of key %llu not zeroed at byte %d",
                         (unsigned long long)k, i);
    }
    gomap_free(m);
}

Test(basic, assign_on_a_set_is_non_null)
{
    gomap *m = gt_new(4, 0, 0);
    for (uint32_t k = 0; k < 100; k++)
        cr_assert_not_null(gomap_assign(m, &k), "assign on a set returns a slot");
    cr_assert_eq(gomap_len(m), 100);
    for (uint32_t k = 0; k < 100; k++)
        cr_assert_not_null(gomap_assign(m, &k));
    cr_assert_eq(gomap_len(m), 100);
    gomap_free(m);
}

/* --------------------------------------------------------------- delete */

Test(basic, delete_reports_presence)
{
    gomap *m = gt_new_u64(0);
    gt_fill_u64(m, 0, 2000, 1, 5);
    for (uint64_t k = 0; k < 2000; k += 2) {
        cr_assert(gomap_delete(m, &k), "key %llu was present", (unsigned long long)k);
        cr_assert(!gomap_delete(m, &k), "second delete of %llu: absent", (unsigned long long)k);
    }
    cr_assert_eq(gomap_len(m), 1000);
    uint64_t absent = 99999;
    cr_assert(!gomap_delete(m, &absent));
    cr_assert_eq(gomap_len(m), 1000);
    for (uint64_t k = 0; k < 2000; k++) {
        bool found;
        uint64_t v = gt_get_u64(m, k, &found);
        cr_assert_eq(found, k % 2 == 1, "key %llu", (unsigned long long)k);
        if (found)
            cr_assert_eq(v, k + 5);
    }
    for (uint64_t k = 1; k < 2000; k += 2)
        cr_assert(gomap_delete(m, &k));
    cr_assert_eq(gomap_len(m), 0);
    gomap_free(m);
}

Test(basic, delete_on_empty_map)
{
    gomap *m = gt_new_u64(0);
    uint64_t k = 0;
    cr_assert(!gomap_delete(m, &k));
    cr_assert_eq(gomap_len(m), 0);
    gomap_free(m);
}

Test(basic, map_never_shrinks_on_delete)
{
    gomap *m = gt_new_u64(0);
    gt_fill_u64(m, 0, 10000, 1, 0);
    unsigned B = gt_stats(m).B;
    for (uint64_t k = 0; k < 10000; k++)
        cr_assert(gomap_delete(m, &k));
    cr_assert_eq(gomap_len(m), 0);
    cr_assert_eq(gt_stats(m).B, B, "Go's map does not shrink on delete");
    gt_fill_u64(m, 0, 10000, 3, 0);
    cr_assert_eq(gomap_len(m), 10000);
    cr_assert_eq(gt_stats(m).B, B, "refilling to the same count needs no growth");
    gomap_free(m);
}

/* ---------------------------------------------------------------- clear */

Test(basic, clear_empties_and_keeps_storage)
{
    gomap *m = gt_new_u64(0);
    gt_fill_u64(m, 0, 1000, 1, 1);
    /* Let any growth in progress finish so B is stable. */
    for (int i = 0; i < 1000 && gt_stats(m).growing; i++)
        gt_set_u64(m, 0, 1);
    gomapdebug_stats before = gt_stats(m);
    gomap_clear(m);
    gomapdebug_stats after = gt_stats(m);
    cr_assert_eq(gomap_len(m), 0);
    cr_assert_eq(after.count, 0);
    cr_assert_eq(after.B, before.B, "clear keeps the bucket array: B %u -> %u", before.B,
                 after.B);
    cr_assert_eq(after.array_bytes, before.array_bytes, "clear keeps the array size");
    cr_assert(!after.growing);
    for (uint64_t k = 0; k < 1000; k++) {
        uint64_t v = 77;
        cr_assert(!gomap_lookup(m, &k, &v), "key %llu survived clear", (unsigned long long)k);
        cr_assert_eq(v, 0);
    }
    gomap_iter it;
    gomap_iter_init(&it, m);
    cr_assert(!gomap_iter_next(&it, NULL, NULL), "a cleared map iterates nothing");
    /* Refill: works, and needs no growth up to the old count. */
    gt_fill_u64(m, 0, 1000, 2, 0);
    cr_assert_eq(gomap_len(m), 1000);
    cr_assert_eq(gt_stats(m).B, before.B);
    for (uint64_t k = 0; k < 1000; k++) {
        bool found;
        cr_assert_eq(gt_get_u64(m, k, &found), 2 * k);
        cr_assert(found);
    }
    gomap_clear(m);
    gomap_clear(m);
    cr_assert_eq(gomap_len(m), 0);
    gomap_free(m);
}

Test(basic, clear_on_empty_map)
{
    gomap *m = gt_new_u64(50);
    gomap_clear(m);
    cr_assert_eq(gomap_len(m), 0);
    cr_assert_eq(gt_stats(m).B, gt_hint_B(50));
    gt_set_u64(m, 1, 1);
    cr_assert_eq(gomap_len(m), 1);
    gomap_free(m);
}

/* ------------------------------------------------------------- strerror */

Test(basic, strerror_names_every_code)
{
    const int codes[] = {GOMAP_OK, GOMAP_ENIL, GOMAP_ENOMEM, GOMAP_EINVAL};
    const char *msgs[4];
    for (int i = 0; i < 4; i++) {
        msgs[i] = gomap_strerror(codes[i]);
        cr_assert_not_null(msgs[i], "strerror(%d) is NULL", codes[i]);
        cr_assert(msgs[i][0] != '\0', "strerror(%d) is empty", codes[i]);
    }
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            cr_assert_str_neq(msgs[i], msgs[j], "codes %d and %d share a message", codes[i],
                              codes[j]);
    const int unknown[] = {1, -4, 12345, -99999};
    for (int i = 0; i < 4; i++) {
        const char *s = gomap_strerror(unknown[i]);
        cr_assert_not_null(s, "strerror of unknown code %d must still be a string", unknown[i]);
    }
}

/* ---------------------------------------------------------- key helpers */

Test(basic, hash_bytes_is_deterministic_and_seeded)
{
    unsigned char a[64], b[64];
    for (int i = 0; i < 64; i++)
        a[i] = b[i] = (unsigned char)(i * 13);
    for (size_t n = 1; n <= 64; n++) {
        cr_assert_eq(gomap_hash_bytes(a, n, 1), gomap_hash_bytes(b, n, 1),
                     "equal bytes, equal seed: equal hash (len %zu)", n);
    }
    /* Different seeds and different keys should (almost always) differ:
     * demand it for most of many cases, not for each one. */
    int same_seed_collisions = 0, same_key_collisions = 0;
    for (uint64_t i = 0; i < 1000; i++) {
        uint64_t k1 = i, k2 = i + 1;
        if (gomap_hash_bytes(&k1, 8, 42) == gomap_hash_bytes(&k2, 8, 42))
            same_seed_collisions++;
        if (gomap_hash_bytes(&k1, 8, i) == gomap_hash_bytes(&k1, 8, i + 1))
            same_key_collisions++;
    }
    cr_assert(same_seed_collisions < 5, "%d of 1000 adjacent keys collide",
              same_seed_collisions);
    cr_assert(same_key_collisions < 5, "%d of 1000 seed changes left the hash unchanged",
              same_key_collisions);
    /* Every length hashes the bytes it is given: a change in the last byte
     * matters. */
    int unchanged = 0;
    for (size_t n = 1; n <= 64; n++) {
        memcpy(b, a, sizeof a);
        b[n - 1] ^= 1;
        if (gomap_hash_bytes(a, n, 7) == gomap_hash_bytes(b, n, 7))
            unchanged++;
    }
    cr_assert(unchanged < 2, "flipping the last byte left %d of 64 hashes unchanged", unchanged);
}

Test(basic, hash_bytes_low_bits_spread)
{
    /* The bucket index is the hash's low bits: sequential keys must spread
     * over the buckets, or the map degenerates into chains. */
    enum { BUCKETS = 64, N = 64 * 64 };
    int hist[BUCKETS] = {0};
    for (uint64_t k = 0; k < N; k++)
        hist[gomap_hash_bytes(&k, 8, 12345) & (BUCKETS - 1)]++;
    for (int i = 0; i < BUCKETS; i++)
        cr_assert(hist[i] > 20 && hist[i] < 130, "bucket %d got %d of %d keys (expect ~64)", i,
                  hist[i], N);
    /* And the top byte (tophash) varies too. */
    int top[256] = {0}, distinct = 0;
    for (uint64_t k = 0; k < N; k++)
        top[gomap_hash_bytes(&k, 8, 12345) >> 56]++;
    for (int i = 0; i < 256; i++)
        distinct += top[i] > 0;
    cr_assert(distinct > 200, "only %d distinct top bytes", distinct);
}

Test(basic, cstr_helpers)
{
    char a[] = "hello, world";
    char b[] = "hello, world";
    char c[] = "hello, worle";
    const char *pa = a, *pb = b, *pc = c;
    cr_assert(gomap_equal_cstr(&pa, &pb, sizeof pa), "equal contents, different buffers");
    cr_assert(!gomap_equal_cstr(&pa, &pc, sizeof pa));
    cr_assert_eq(gomap_hash_cstr(&pa, sizeof pa, 9), gomap_hash_cstr(&pb, sizeof pb, 9),
                 "equal strings hash alike");
    const char *e1 = "", *e2 = "x";
    cr_assert(!gomap_equal_cstr(&e1, &e2, sizeof e1));
    cr_assert(gomap_equal_cstr(&e1, &e1, sizeof e1));
    /* A prefix is a different string. */
    char d[] = "hello";
    const char *pd = d;
    cr_assert(!gomap_equal_cstr(&pa, &pd, sizeof pa));
}

Test(basic, f64_helpers)
{
    double pz = 0.0, nz = -0.0, one = 1.0, one2 = 1.0, nan1 = NAN;
    cr_assert(signbit(nz) && !signbit(pz));
    cr_assert(gomap_equal_f64(&pz, &nz, 8), "+0 == -0");
    cr_assert_eq(gomap_hash_f64(&pz, 8, 5), gomap_hash_f64(&nz, 8, 5), "+0 and -0 hash alike");
    cr_assert(gomap_equal_f64(&one, &one2, 8));
    cr_assert_eq(gomap_hash_f64(&one, 8, 5), gomap_hash_f64(&one2, 8, 5));
    cr_assert(!gomap_equal_f64(&nan1, &nan1, 8), "NaN != NaN, even itself");
    cr_assert(!gomap_equal_f64(&nan1, &one, 8));
    /* Each NaN hashes to a random value: over many hashes, several differ. */
    uint64_t h0 = gomap_hash_f64(&nan1, 8, 5);
    int differ = 0;
    for (int i = 0; i < 64; i++)
        differ += gomap_hash_f64(&nan1, 8, 5) != h0;
    cr_assert(differ > 32, "NaN hashes look fixed: only %d of 64 differ", differ);
}
