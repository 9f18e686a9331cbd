/*
 * gomap_shard: N gomaps, each under its own pthread_rwlock. See
 * gomap_shard.h for the contract.
 *
 * Every map operation goes through libgomap's exported functions (this file
 * is a separate library linked with -lgomap), so a preloaded detector sees
 * each call and sees it made under the lock.
 */
#include "gomap_shard.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* 128 bytes, not 64: adjacent-line prefetchers pull cache lines in pairs,
 * so two shards in one 128-byte block would still bounce between cores. */
#define SHARD_ALIGN 128

typedef struct shard {
    _Alignas(SHARD_ALIGN) pthread_rwlock_t lock;
    gomap *m;
} shard;

struct gomap_shard {
    gomap_type type;
    gomap_hash_fn hash;
    uint64_t seed;
    size_t n;
    shard *shards;
};

/* The map whose gomap_shard_range callback this thread is running, so that
 * a write from the callback fails with EDEADLK instead of hanging on the
 * read lock the range holds. initial-exec keeps the check to one load: the
 * general-dynamic model would call __tls_get_addr on every write. */
#if defined(__GNUC__)
__attribute__((tls_model("initial-exec")))
#endif
static _Thread_local const gomap_shard *tl_ranging;

/* A lock call only fails on a caller bug (EDEADLK) or on reader-count
 * overflow; carrying on would corrupt the map without a word, so stop. */
static void lock_failed(const char *what, int err)
{
    fprintf(stderr, "gomap_shard: %s failed: %s\n", what, strerror(err));
    abort();
}

static void rd_lock(shard *sh)
{
    int err = pthread_rwlock_rdlock(&sh->lock);
    if (err)
        lock_failed("pthread_rwlock_rdlock", err);
}

static void wr_lock(shard *sh)
{
    int err = pthread_rwlock_wrlock(&sh->lock);
    if (err)
        lock_failed("pthread_rwlock_wrlock", err);
}

static void un_lock(shard *sh)
{
    int err = pthread_rwlock_unlock(&sh->lock);
    if (err)
        lock_failed("pthread_rwlock_unlock", err);
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t fresh_seed(const void *salt)
{
    uint64_t seed;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) == (ssize_t)sizeof seed)
        return seed;
    /* Early boot without entropy: weaker, but the seed only spreads keys. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)salt);
}

/* gomap picks a bucket with the low bits of its hash. Using the same low
 * bits here would give every key in a shard the same low bits and pile them
 * into a few of that shard's buckets when the type's hash ignores the seed,
 * so the shard comes from the high bits of a remix; the remix also spreads
 * weak user hashes (the identity of small integers) over the shards. */
static shard *shard_of(const gomap_shard *s, const void *key)
{
    if (s->n == 1)
        return &s->shards[0];
    uint64_t h = mix64(s->hash(key, s->type.key_size, s->seed));
    return &s->shards[((h >> 32) * s->n) >> 32];
}

static bool writing_inside_own_range(const gomap_shard *s)
{
    if (tl_ranging != s)
        return false;
    errno = EDEADLK;
    return true;
}

gomap_shard *gomap_shard_new(const gomap_type *type, size_t nshards, size_t hint)
{
    if (!type || nshards > GOMAP_SHARD_MAX) {
        errno = EINVAL;
        return NULL;
    }
    if (nshards == 0)
        nshards = GOMAP_SHARD_DEFAULT;
    gomap_shard *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->type = *type;
    s->hash = type->hash ? type->hash : gomap_hash_bytes;
    s->seed = fresh_seed(s);
    s->n = nshards;
    s->shards = aligned_alloc(SHARD_ALIGN, nshards * sizeof(shard));
    if (!s->shards) {
        free(s);
        return NULL;
    }
    size_t per_shard = hint / nshards + (hint % nshards != 0);
    size_t made = 0;
    int err = 0;
    for (; made < nshards; made++) {
        shard *sh = &s->shards[made];
        sh->m = gomap_new(type, per_shard);
        if (!sh->m) {
            err = errno;
            break;
        }
        err = pthread_rwlock_init(&sh->lock, NULL);
        if (err) {
            gomap_free(sh->m);
            break;
        }
    }
    if (made == nshards)
        return s;
    while (made-- > 0) {
        pthread_rwlock_destroy(&s->shards[made].lock);
        gomap_free(s->shards[made].m);
    }
    free(s->shards);
    free(s);
    errno = err;
    return NULL;
}

void gomap_shard_free(gomap_shard *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        pthread_rwlock_destroy(&s->shards[i].lock);
        gomap_free(s->shards[i].m);
    }
    free(s->shards);
    free(s);
}

size_t gomap_shard_len(const gomap_shard *s)
{
    if (!s)
        return 0;
    size_t total = 0;
    for (size_t i = 0; i < s->n; i++) {
        shard *sh = &s->shards[i];
        rd_lock(sh);
        total += gomap_len(sh->m);
        un_lock(sh);
    }
    return total;
}

int gomap_shard_get(const gomap_shard *s, const void *key, void *val_out)
{
    if (!key)
        return GOMAP_EINVAL;
    if (!s)
        return 0; /* val_out untouched, as gomap_lookup on the nil map */
    shard *sh = shard_of(s, key);
    rd_lock(sh);
    bool found = gomap_lookup(sh->m, key, val_out);
    un_lock(sh);
    return found;
}

int gomap_shard_set(gomap_shard *s, const void *key, const void *val)
{
    if (!s)
        return GOMAP_ENIL;
    if (!key || (!val && s->type.val_size > 0) || writing_inside_own_range(s))
        return GOMAP_EINVAL;
    shard *sh = shard_of(s, key);
    wr_lock(sh);
    int rc = gomap_set(sh->m, key, val);
    un_lock(sh);
    return rc;
}

int gomap_shard_delete(gomap_shard *s, const void *key)
{
    if (!key)
        return GOMAP_EINVAL;
    if (!s)
        return 0;
    if (writing_inside_own_range(s))
        return GOMAP_EINVAL;
    shard *sh = shard_of(s, key);
    wr_lock(sh);
    bool deleted = gomap_delete(sh->m, key);
    un_lock(sh);
    return deleted;
}

int gomap_shard_load_or_store(gomap_shard *s, const void *key, const void *val, void *actual_out)
{
    if (!s)
        return GOMAP_ENIL;
    size_t vs = s->type.val_size;
    if (!key || (!val && vs > 0) || writing_inside_own_range(s))
        return GOMAP_EINVAL;
    shard *sh = shard_of(s, key);

    /* Most calls in a cache find the key: try under the shared lock first,
     * so loads from many threads don't serialize on the write lock. Not
     * gomap_lookup: its zeroing on a miss would clobber val when actual_out
     * is the same buffer. */
    rd_lock(sh);
    const void *cur = gomap_get(sh->m, key);
    if (cur && actual_out && vs > 0)
        memcpy(actual_out, cur, vs);
    un_lock(sh);
    if (cur)
        return 1;

    wr_lock(sh);
    cur = gomap_get(sh->m, key); /* another thread may have stored it meanwhile */
    int rc;
    if (cur) {
        if (actual_out && vs > 0)
            memcpy(actual_out, cur, vs);
        rc = 1;
    } else {
        rc = gomap_set(sh->m, key, val);
        if (rc == GOMAP_OK && actual_out && vs > 0)
            memmove(actual_out, val, vs);
    }
    un_lock(sh);
    return rc;
}

int gomap_shard_range(const gomap_shard *s, gomap_shard_range_fn fn, void *ctx)
{
    if (!fn)
        return GOMAP_EINVAL;
    if (!s)
        return 0;
    const gomap_shard *outer = tl_ranging;
    tl_ranging = s;
    int stopped = 0;
    for (size_t i = 0; i < s->n && !stopped; i++) {
        shard *sh = &s->shards[i];
        rd_lock(sh);
        gomap_iter it;
        gomap_iter_init(&it, sh->m);
        const void *k;
        void *v;
        while (gomap_iter_next(&it, &k, &v)) {
            if (!fn(k, v, ctx)) {
                stopped = 1;
                break;
            }
        }
        un_lock(sh);
    }
    tl_ranging = outer;
    return stopped;
}
