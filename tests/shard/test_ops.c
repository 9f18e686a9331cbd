/*
 * gomap_shard, one operation at a time: new and its argument checks, set,
 * get, delete, len, range (full, early stop, nested), the nil map, sets
 * (val_size 0), custom hash and equality, and writes from inside range.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomap_shard.h"

static const gomap_type u64_type = {.key_size = sizeof(uint64_t), .val_size = sizeof(uint64_t)};

static gomap_shard *new_u64(size_t nshards)
{
    gomap_shard *m = gomap_shard_new(&u64_type, nshards, 0);
    cr_assert_not_null(m, "gomap_shard_new(nshards %zu): errno %d", nshards, errno);
    return m;
}

Test(shard_new, default_and_explicit_shard_counts)
{
    size_t counts[] = {0, 1, 2, 3, 32, 1000};
    for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
        gomap_shard *m = new_u64(counts[c]);
        for (uint64_t k = 0; k < 5000; k++)
            cr_assert_eq(gomap_shard_set(m, &k, &k), GOMAP_OK);
        cr_assert_eq(gomap_shard_len(m), 5000, "nshards %zu", counts[c]);
        for (uint64_t k = 0; k < 5000; k++) {
            uint64_t v = ~k;
            cr_assert_eq(gomap_shard_get(m, &k, &v), 1);
            cr_assert_eq(v, k);
        }
        gomap_shard_free(m);
    }
}

Test(shard_new, bad_arguments)
{
    errno = 0;
    cr_assert_null(gomap_shard_new(NULL, 0, 0));
    cr_assert_eq(errno, EINVAL);
    gomap_type zero_key = {.key_size = 0, .val_size = 8};
    errno = 0;
    cr_assert_null(gomap_shard_new(&zero_key, 0, 0));
    cr_assert_eq(errno, EINVAL, "a bad type reports gomap_new's EINVAL, got %d", errno);
    errno = 0;
    cr_assert_null(gomap_shard_new(&u64_type, GOMAP_SHARD_MAX + 1, 0));
    cr_assert_eq(errno, EINVAL);
}

Test(shard_new, hint_is_spread_over_shards)
{
    gomap_shard *m = gomap_shard_new(&u64_type, 7, 100000);
    cr_assert_not_null(m);
    for (uint64_t k = 0; k < 100000; k++)
        cr_assert_eq(gomap_shard_set(m, &k, &k), GOMAP_OK);
    cr_assert_eq(gomap_shard_len(m), 100000);
    gomap_shard_free(m);
}

Test(shard_free, null_is_a_noop)
{
    gomap_shard_free(NULL);
}

Test(shard_set, overwrite_keeps_len)
{
    gomap_shard *m = new_u64(0);
    uint64_t k = 42, v = 1;
    cr_assert_eq(gomap_shard_set(m, &k, &v), GOMAP_OK);
    v = 2;
    cr_assert_eq(gomap_shard_set(m, &k, &v), GOMAP_OK);
    cr_assert_eq(gomap_shard_len(m), 1);
    uint64_t out = 0;
    cr_assert_eq(gomap_shard_get(m, &k, &out), 1);
    cr_assert_eq(out, 2);
    gomap_shard_free(m);
}

Test(shard_set, argument_errors)
{
    gomap_shard *m = new_u64(0);
    uint64_t k = 1;
    cr_assert_eq(gomap_shard_set(m, NULL, &k), GOMAP_EINVAL);
    cr_assert_eq(gomap_shard_set(m, &k, NULL), GOMAP_EINVAL, "NULL val with val_size 8");
    cr_assert_eq(gomap_shard_len(m), 0, "a failed set changes nothing");
    gomap_shard_free(m);
}

Test(shard_get, miss_zeroes_val_and_null_val_is_allowed)
{
    gomap_shard *m = new_u64(0);
    uint64_t k = 7, v = 99;
    cr_assert_eq(gomap_shard_get(m, &k, &v), 0);
    cr_assert_eq(v, 0, "a miss gives the zero value, as Go's v, ok := m[k]");
    cr_assert_eq(gomap_shard_set(m, &k, &k), GOMAP_OK);
    cr_assert_eq(gomap_shard_get(m, &k, NULL), 1);
    cr_assert_eq(gomap_shard_get(m, NULL, &v), GOMAP_EINVAL);
    gomap_shard_free(m);
}

Test(shard_delete, present_absent_and_errors)
{
    gomap_shard *m = new_u64(0);
    for (uint64_t k = 0; k < 100; k++)
        gomap_shard_set(m, &k, &k);
    for (uint64_t k = 0; k < 100; k += 2)
        cr_assert_eq(gomap_shard_delete(m, &k), 1, "key %llu", (unsigned long long)k);
    uint64_t k = 0;
    cr_assert_eq(gomap_shard_delete(m, &k), 0, "deleting twice finds nothing");
    cr_assert_eq(gomap_shard_delete(m, NULL), GOMAP_EINVAL);
    cr_assert_eq(gomap_shard_len(m), 50);
    for (uint64_t j = 0; j < 100; j++)
        cr_assert_eq(gomap_shard_get(m, &j, NULL), (int)(j % 2));
    gomap_shard_free(m);
}

Test(shard_nil, reads_are_empty_and_writes_fail)
{
    uint64_t k = 1, v = 5;
    cr_assert_eq(gomap_shard_len(NULL), 0);
    cr_assert_eq(gomap_shard_get(NULL, &k, &v), 0);
    cr_assert_eq(v, 5, "the nil map leaves val_out untouched, as gomap_lookup");
    cr_assert_eq(gomap_shard_set(NULL, &k, &v), GOMAP_ENIL);
    cr_assert_eq(gomap_shard_load_or_store(NULL, &k, &v, NULL), GOMAP_ENIL);
    cr_assert_eq(gomap_shard_delete(NULL, &k), 0, "delete on a nil map is a no-op, as in Go");
    cr_assert_eq(gomap_shard_range(NULL, NULL, NULL), GOMAP_EINVAL);
}

static bool count_entry(const void *key, const void *val, void *ctx)
{
    (void)key;
    (void)val;
    ++*(long *)ctx;
    return true;
}

Test(shard_nil, range_visits_nothing)
{
    long n = 0;
    cr_assert_eq(gomap_shard_range(NULL, count_entry, &n), 0);
    cr_assert_eq(n, 0);
}

typedef struct seen_ctx {
    unsigned char seen[1000];
    long visits, stop_after;
} seen_ctx;

static bool mark_seen(const void *key, const void *val, void *ctx)
{
    seen_ctx *c = ctx;
    uint64_t k, v;
    memcpy(&k, key, sizeof k);
    memcpy(&v, val, sizeof v);
    cr_assert(k < 1000 && v == k * 3, "range gave %llu -> %llu", (unsigned long long)k,
              (unsigned long long)v);
    c->seen[k]++;
    return ++c->visits != c->stop_after;
}

Test(shard_range, visits_each_entry_once)
{
    gomap_shard *m = new_u64(0);
    for (uint64_t k = 0; k < 1000; k++) {
        uint64_t v = k * 3;
        gomap_shard_set(m, &k, &v);
    }
    static seen_ctx c;
    memset(&c, 0, sizeof c);
    c.stop_after = -1;
    cr_assert_eq(gomap_shard_range(m, mark_seen, &c), 0, "a full range returns 0");
    cr_assert_eq(c.visits, 1000);
    for (int k = 0; k < 1000; k++)
        cr_assert_eq(c.seen[k], 1, "key %d seen %d times", k, c.seen[k]);
    cr_assert_eq(gomap_shard_range(m, NULL, NULL), GOMAP_EINVAL);
    gomap_shard_free(m);
}

Test(shard_range, stops_when_callback_returns_false)
{
    gomap_shard *m = new_u64(0);
    for (uint64_t k = 0; k < 1000; k++) {
        uint64_t v = k * 3;
        gomap_shard_set(m, &k, &v);
    }
    static seen_ctx c;
    memset(&c, 0, sizeof c);
    c.stop_after = 10;
    cr_assert_eq(gomap_shard_range(m, mark_seen, &c), 1, "an early stop returns 1");
    cr_assert_eq(c.visits, 10);
    gomap_shard_free(m);
}

typedef struct write_ctx {
    gomap_shard *m;
    int set_rc, del_rc, los_rc, set_errno;
    int get_rc;
    size_t len;
    long inner;
} write_ctx;

static bool write_inside(const void *key, const void *val, void *ctx)
{
    (void)val;
    write_ctx *c = ctx;
    uint64_t k, v = 1;
    memcpy(&k, key, sizeof k);
    errno = 0;
    c->set_rc = gomap_shard_set(c->m, &k, &v);
    c->set_errno = errno;
    c->del_rc = gomap_shard_delete(c->m, &k);
    c->los_rc = gomap_shard_load_or_store(c->m, &k, &v, NULL);
    /* Reads of the map being ranged are allowed: read locks nest. */
    c->get_rc = gomap_shard_get(c->m, &k, NULL);
    c->len = gomap_shard_len(c->m);
    gomap_shard_range(c->m, count_entry, &c->inner);
    return false;
}

Test(shard_range, writing_from_the_callback_fails_instead_of_hanging)
{
    gomap_shard *m = new_u64(0);
    for (uint64_t k = 0; k < 10; k++)
        gomap_shard_set(m, &k, &k);
    write_ctx c = {.m = m};
    cr_assert_eq(gomap_shard_range(m, write_inside, &c), 1);
    cr_assert_eq(c.set_rc, GOMAP_EINVAL);
    cr_assert_eq(c.set_errno, EDEADLK);
    cr_assert_eq(c.del_rc, GOMAP_EINVAL);
    cr_assert_eq(c.los_rc, GOMAP_EINVAL);
    cr_assert_eq(c.get_rc, 1);
    cr_assert_eq(c.len, 10);
    cr_assert_eq(c.inner, 10, "a nested range of the same map sees everything");
    /* After the range, writes work again. */
    uint64_t k = 3;
    cr_assert_eq(gomap_shard_delete(m, &k), 1);
    gomap_shard_free(m);
}

typedef struct other_ctx {
    gomap_shard *other;
    int rc;
} other_ctx;

static bool write_other(const void *key, const void *val, void *ctx)
{
    (void)val;
    other_ctx *c = ctx;
    c->rc = gomap_shard_set(c->other, key, key);
    return c->rc == GOMAP_OK;
}

Test(shard_range, callback_may_write_another_map)
{
    gomap_shard *a = new_u64(4), *b = new_u64(4);
    for (uint64_t k = 0; k < 100; k++)
        gomap_shard_set(a, &k, &k);
    other_ctx c = {.other = b};
    cr_assert_eq(gomap_shard_range(a, write_other, &c), 0);
    cr_assert_eq(c.rc, GOMAP_OK);
    cr_assert_eq(gomap_shard_len(b), 100);
    gomap_shard_free(a);
    gomap_shard_free(b);
}

Test(shard_set_type, val_size_zero_is_a_set)
{
    gomap_type set_type = {.key_size = sizeof(uint64_t), .val_size = 0};
    gomap_shard *m = gomap_shard_new(&set_type, 0, 0);
    cr_assert_not_null(m);
    uint64_t k = 5;
    cr_assert_eq(gomap_shard_set(m, &k, NULL), GOMAP_OK, "a set needs no value");
    cr_assert_eq(gomap_shard_get(m, &k, NULL), 1);
    cr_assert_eq(gomap_shard_load_or_store(m, &k, NULL, NULL), 1);
    k = 6;
    cr_assert_eq(gomap_shard_load_or_store(m, &k, NULL, NULL), 0);
    cr_assert_eq(gomap_shard_len(m), 2);
    gomap_shard_free(m);
}

/* A key holding a pointer to a string: equal strings must find each other
 * wherever they live, so shard choice must use the type's hash. */
Test(shard_set_type, custom_hash_and_equal_pick_the_shard)
{
    gomap_type t = {.key_size = sizeof(const char *), .val_size = sizeof(int),
                    .hash = gomap_hash_cstr, .equal = gomap_equal_cstr};
    gomap_shard *m = gomap_shard_new(&t, 16, 0);
    cr_assert_not_null(m);
    static char stored[500][16];
    char b[32];
    for (int i = 0; i < 500; i++) {
        snprintf(stored[i], sizeof stored[i], "key-%d", i);
        const char *ka = stored[i];
        gomap_shard_set(m, &ka, &i);
    }
    for (int i = 0; i < 500; i++) {
        snprintf(b, sizeof b, "key-%d", i);
        const char *kb = b; /* a different buffer with equal contents */
        int v = -1;
        cr_assert_eq(gomap_shard_get(m, &kb, &v), 1, "\"%s\" not found", b);
        cr_assert_eq(v, i);
    }
    gomap_shard_free(m);
}

/* The identity hash of small integers has all-zero high bits; the shard
 * choice must still spread such keys rather than pile them into shard 0. */
static uint64_t identity_hash(const void *key, size_t size, uint64_t seed)
{
    (void)size;
    (void)seed;
    uint64_t k;
    memcpy(&k, key, sizeof k);
    return k;
}

Test(shard_set_type, weak_hash_keys_are_all_found)
{
    gomap_type t = u64_type;
    t.hash = identity_hash;
    gomap_shard *m = gomap_shard_new(&t, 32, 0);
    cr_assert_not_null(m);
    for (uint64_t k = 0; k < 20000; k++)
        cr_assert_eq(gomap_shard_set(m, &k, &k), GOMAP_OK);
    for (uint64_t k = 0; k < 20000; k++)
        cr_assert_eq(gomap_shard_get(m, &k, NULL), 1);
    cr_assert_eq(gomap_shard_len(m), 20000);
    gomap_shard_free(m);
}
