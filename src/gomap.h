/*
 * gomap: Go's runtime map (runtime/map.go, Go 1.19-1.21) rebuilt in C.
 *
 * A gomap is a hash table of fixed-size keys and values. Its layout and rules
 * are Go's: buckets of 8 slots with tophash bytes, overflow chains, growth at
 * load factor 6.5, incremental evacuation, randomized iteration order.
 *
 * A NULL gomap * is the nil map (Go's `var m map[K]V`): reads see an empty
 * map, writes fail with GOMAP_ENIL and change nothing.
 *
 * Threads: like Go's map, a gomap is not safe when any thread writes. Any
 * number of threads may read one map (get, lookup, len, iteration) while no
 * thread writes it: reads never write the map's memory.
 *
 * Pointers into the map (gomap_get, gomap_assign, keys and values returned
 * by iteration) stay valid until the next write to the map.
 */
#ifndef GOMAP_H
#define GOMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define GOMAP_API __attribute__((visibility("default")))
#else
#define GOMAP_API
#endif

typedef struct gomap gomap; /* opaque; a NULL gomap * is the nil map */

typedef uint64_t (*gomap_hash_fn)(const void *key, size_t key_size, uint64_t seed);
typedef bool (*gomap_equal_fn)(const void *a, const void *b, size_t key_size);

typedef struct gomap_type {
    size_t key_size;      /* > 0 */
    size_t val_size;      /* may be 0: a set */
    gomap_hash_fn hash;   /* NULL: the library's seeded hash of the key bytes */
    gomap_equal_fn equal; /* NULL: byte equality */
} gomap_type;

enum { GOMAP_OK = 0, GOMAP_ENIL = -1, GOMAP_ENOMEM = -2, GOMAP_EINVAL = -3 };

/* Key helpers. The default hash (hash == NULL) is gomap_hash_bytes. */
GOMAP_API uint64_t gomap_hash_bytes(const void *key, size_t key_size, uint64_t seed);
/* The key holds a const char *: the map stores the pointer, hashing and
 * equality use the NUL-terminated string it points to. */
GOMAP_API uint64_t gomap_hash_cstr(const void *key, size_t key_size, uint64_t seed);
GOMAP_API bool gomap_equal_cstr(const void *a, const void *b, size_t key_size);
/* The key holds a double, compared as Go compares float64 keys: +0 == -0 and
 * they hash alike; NaN != NaN, and each NaN hashes to a random value. */
GOMAP_API uint64_t gomap_hash_f64(const void *key, size_t key_size, uint64_t seed);
GOMAP_API bool gomap_equal_f64(const void *a, const void *b, size_t key_size);

/* make(map[K]V, hint). Copies *type. NULL with errno EINVAL for a bad type
 * (NULL, key_size 0, a size too large to lay out), or ENOMEM. */
GOMAP_API gomap *gomap_new(const gomap_type *type, size_t hint);
GOMAP_API void gomap_free(gomap *m);
GOMAP_API size_t gomap_len(const gomap *m);
/* &m[k], or NULL when absent. For a set (val_size 0) a non-NULL pointer
 * that must not be dereferenced. A NULL key is no key: the reads (get,
 * lookup, delete) find nothing. */
GOMAP_API void *gomap_get(const gomap *m, const void *key);
/* v, ok := m[k]. On a miss, *val_out is zeroed (Go's zero value); on the nil
 * map, or with a NULL key, it is left untouched. val_out may be NULL. */
GOMAP_API bool gomap_lookup(const gomap *m, const void *key, void *val_out);
/* m[k] = v. GOMAP_OK, GOMAP_ENIL (nil map), GOMAP_ENOMEM, GOMAP_EINVAL
 * (NULL key, or NULL val with val_size > 0). */
GOMAP_API int gomap_set(gomap *m, const void *key, const void *val);
/* Go's mapassign: the slot of m[k], inserted zeroed if absent (m[k]++).
 * NULL on the nil map, on ENOMEM, or for a NULL key. */
GOMAP_API void *gomap_assign(gomap *m, const void *key);
/* delete(m, k): was the key present? */
GOMAP_API bool gomap_delete(gomap *m, const void *key);
/* clear(m): removes every entry and keeps the storage. */
GOMAP_API void gomap_clear(gomap *m);

/* for k, v := range m. The iterator is caller-allocated, needs no cleanup,
 * and may be abandoned at any point. Go's rules hold even if the map is
 * written or grows during the iteration: each entry present for the whole
 * iteration comes exactly once, an entry deleted before it is reached never
 * comes, an entry inserted meanwhile comes at most once, values are current.
 *
 * One limit, the price of bounded memory without a GC: the bucket arrays
 * that iterations have walked are kept after a growth, up to about twice
 * the map's own array, the largest released first. Any number of doubling
 * growths fit. An iteration left open across same-size growths (overflow
 * buckets piling up: delete-and-insert churn, or a large insert-only map)
 * while other iterations, finished or abandoned, walked arrays at least as
 * large as its own may find its array released; it then ends early, never
 * touching freed memory and never returning an entry twice. See
 * docs/design.md, "Keeping old arrays valid". */
typedef struct gomap_iter {
    void *opaque_[16];  /* private to the library */
    uint64_t tool_[4];  /* reserved for instrumentation, see below */
} gomap_iter;

GOMAP_API void gomap_iter_init(gomap_iter *it, gomap *m);
/* The next entry, or false at the end. key or val may be NULL. */
GOMAP_API bool gomap_iter_next(gomap_iter *it, const void **key, void **val);
/* Deletes the entry the last gomap_iter_next returned. False when there is
 * none, when it was already deleted, or when the map was written by any
 * other call since that gomap_iter_next (the entry's address is then no
 * longer known; use gomap_delete with the key). Also false for an entry
 * whose key is not equal to itself (a NaN) and that a growth moved after
 * the iteration began: the iteration returns the copy it started from,
 * and the moved entry cannot be told from other NaN-keyed ones, so only
 * gomap_clear removes it. */
GOMAP_API bool gomap_iter_delete(gomap_iter *it);

GOMAP_API const char *gomap_strerror(int err);

/*
 * Instrumentation words. A tool that wraps this API, such as the mapguard
 * detector, keeps its per-map and per-iterator state here, so it needs no
 * side table and no allocation per call: the first GOMAP_TOOL_WORDS 64-bit
 * words of every map object (8-byte aligned) and an iterator's tool_ words.
 * The library zeroes a new map's words and never reads or writes them
 * afterwards; it never touches an iterator's tool_ words at all.
 * gomap_tool_words holds the count this library was built with, so that a
 * tool built against another gomap.h can check before using the words.
 */
#define GOMAP_TOOL_WORDS 12
GOMAP_API extern const uint32_t gomap_tool_words;
#define GOMAP_MAP_TOOL_WORDS(m) ((uint64_t *)(void *)(m))
#define GOMAP_ITER_TOOL_WORDS(it) ((it)->tool_)

#ifdef __cplusplus
}
#endif
#endif /* GOMAP_H */
