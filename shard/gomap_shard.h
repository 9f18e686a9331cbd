/*
 * gomap_shard: a thread-safe map made of N gomaps, each under its own
 * pthread_rwlock (the seed document's "sharded map", chapter 1's table:
 * `type ShardMap [32]struct{ sync.RWMutex; m map[string]int }`).
 *
 * A key's hash picks its shard, so threads working on different keys mostly
 * take different locks. Every call may be made from any thread at any time,
 * except gomap_shard_free, which must be the last call.
 *
 * Values are copied in and out under the shard's lock: no pointer into the
 * map ever escapes, because another thread's write may move or free it the
 * moment the lock is released.
 *
 * The library calls libgomap's exported gomap_* functions, so the mapguard
 * detector (LD_PRELOAD libmapguard.so) sees every map call, always made
 * under the shard's lock: a correct program reports nothing.
 *
 * Errors: functions returning int use the GOMAP_* codes of gomap.h
 * (negative), plus non-negative results documented per function. A NULL
 * gomap_shard * is the nil map, as in gomap: reads see an empty map, writes
 * return GOMAP_ENIL.
 */
#ifndef GOMAP_SHARD_H
#define GOMAP_SHARD_H

#include <stdbool.h>
#include <stddef.h>

#include "gomap.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define GOMAP_SHARD_API __attribute__((visibility("default")))
#else
#define GOMAP_SHARD_API
#endif

typedef struct gomap_shard gomap_shard;

#define GOMAP_SHARD_DEFAULT 32   /* nshards == 0 picks this */
#define GOMAP_SHARD_MAX 65536

/* A new empty map. type is copied; its hash (or the default seeded hash of
 * the key bytes) picks the shard and must agree with its equal, as gomap
 * requires. nshards: 0 for GOMAP_SHARD_DEFAULT, else 1..GOMAP_SHARD_MAX.
 * hint: the expected total number of keys, spread over the shards.
 * NULL with errno EINVAL (bad type, nshards too large) or ENOMEM/EAGAIN. */
GOMAP_SHARD_API gomap_shard *gomap_shard_new(const gomap_type *type, size_t nshards,
                                             size_t hint);

/* Frees every shard. No other thread may be using the map. NULL is a no-op. */
GOMAP_SHARD_API void gomap_shard_free(gomap_shard *s);

/* The number of entries: the sum of each shard's count, each read under its
 * own lock, so with concurrent writers it is a moment-by-moment sum, not a
 * snapshot. 0 for NULL. */
GOMAP_SHARD_API size_t gomap_shard_len(const gomap_shard *s);

/* v, ok := m[k], copying the value into val_out under the shard's read
 * lock. val_out may be NULL; it is zeroed on a miss, and left untouched for
 * NULL s. 1 found, 0 absent (also for NULL s), GOMAP_EINVAL for a NULL key. */
GOMAP_SHARD_API int gomap_shard_get(const gomap_shard *s, const void *key, void *val_out);

/* m[k] = v. GOMAP_OK; GOMAP_ENIL for NULL s; GOMAP_ENOMEM; GOMAP_EINVAL for a
 * NULL key, a NULL val with val_size > 0, or a call from inside a
 * gomap_shard_range callback on the same map (errno EDEADLK: the shard's
 * read lock is held, and taking its write lock would hang forever). */
GOMAP_SHARD_API int gomap_shard_set(gomap_shard *s, const void *key, const void *val);

/* delete(m, k). 1 deleted, 0 absent (also for NULL s, as Go's delete on a
 * nil map), GOMAP_EINVAL as for gomap_shard_set. */
GOMAP_SHARD_API int gomap_shard_delete(gomap_shard *s, const void *key);

/* sync.Map's LoadOrStore, atomically: if k is present, copy its value into
 * actual_out and return 1 (loaded); otherwise store val and return 0
 * (stored; actual_out, if not NULL, then receives a copy of val).
 * actual_out may be NULL. Errors as for gomap_shard_set. */
GOMAP_SHARD_API int gomap_shard_load_or_store(gomap_shard *s, const void *key, const void *val,
                                              void *actual_out);

/* Calls fn(key, val, ctx) for each entry until fn returns false. Each shard
 * is visited under its read lock, one shard at a time: like sync.Map.Range,
 * this is not a snapshot of the whole map; an entry present for the whole
 * call is visited exactly once. key and val are valid only during the call.
 * fn may read this map. It must not write it: the shard's read lock is
 * held, so such a write returns GOMAP_EINVAL with errno EDEADLK (checked for
 * the innermost range on this thread); collect the keys and delete them
 * after the range instead.
 * 0 when every entry was visited (also for NULL s), 1 when fn stopped early,
 * GOMAP_EINVAL for a NULL fn. */
typedef bool (*gomap_shard_range_fn)(const void *key, const void *val, void *ctx);
GOMAP_SHARD_API int gomap_shard_range(const gomap_shard *s, gomap_shard_range_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif
#endif /* GOMAP_SHARD_H */
