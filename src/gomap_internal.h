/*
 * gomap internals shared by map.c (lookup, assign, delete, growth),
 * iter.c (iteration) and hash.c (hash functions, randomness).
 *
 * The structure is Go's runtime/map.go: an hmap header (struct gomap)
 * pointing at a power-of-two array of buckets (struct barray). Each bucket
 * holds 8 slots: 8 tophash bytes, an overflow pointer, 8 keys, 8 values.
 * During growth the previous array stays as `oldbuckets` and is evacuated a
 * bucket or two per write. docs/design.md has the pictures.
 */
#ifndef GOMAP_INTERNAL_H
#define GOMAP_INTERNAL_H

#include "gomap.h"
#include "gomap_debug.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <string.h>

#define GM_HIDDEN __attribute__((visibility("hidden")))
/* The per-call entry points of lookups and iteration start on a cache
 * line: measured, an unrelated change that shifted gomap_iter_next by a
 * few bytes cost iteration 12% at 1M keys. */
#define GM_HOT __attribute__((aligned(64)))
#define GM_INLINE static inline __attribute__((always_inline))

enum {
    BUCKET_CNT = 8,
    MAX_INLINE = 128, /* larger keys and values are stored by pointer, as in Go */
};

/* Go's tophash values. A slot's tophash is either one of these markers or
 * the top 8 bits of the key's hash, pushed up to at least MIN_TOPHASH. */
enum {
    EMPTY_REST = 0,   /* this slot and every later one in the chain is empty */
    EMPTY_ONE = 1,    /* this slot is empty */
    EVAC_X = 2,       /* evacuated to the first half of the larger array */
    EVAC_Y = 3,       /* evacuated to the second half */
    EVAC_EMPTY = 4,   /* empty, and the bucket is evacuated */
    MIN_TOPHASH = 5,
};

/* Key kinds with specialised code paths, like Go's mapaccess1_fast64:
 * 8- or 4-byte keys with the default hash and equality, values inline.
 * KIND_KV64 is KIND_K64 with 8-byte values, the 144-byte bucket of a
 * map[int64]int64, where every bucket offset is a constant; wherever
 * only the key matters, gm_kind_k64() covers both. */
enum { KIND_GENERIC = 0, KIND_K64 = 1, KIND_K32 = 2, KIND_KV64 = 3 };
enum { KV64_VOFF = 80, KV64_BSIZE = 144 };

GM_INLINE bool gm_kind_k64(int kind) { return kind == KIND_K64 || kind == KIND_KV64; }

enum { FLAG_SAME_SIZE_GROW = 1 };

/* A bucket header; keys start at offset 16, values at gomap.voff. */
typedef struct bmap {
    uint8_t tophash[BUCKET_CNT];
    struct bmap *overflow;
} bmap;

/* Extra overflow buckets beyond the array's preallocated tail. */
typedef struct ovf_slab {
    struct ovf_slab *next;
    size_t bytes;
    alignas(16) unsigned char data[];
} ovf_slab;

/* The tophash index. Go's bucket keeps its 8 tophash bytes in the first
 * cache line of a bucket that, for 8-byte keys and values, is 144 bytes
 * long; at a million keys the array is 40 MB, larger than a typical L3,
 * so every lookup of an absent key paid a memory access just to read 8
 * bytes. Each array therefore also keeps a dense copy of the tophash word
 * of the first bucket of every chain, 8 bytes per bucket (2 MB at a
 * million keys), which stays in cache. Lookups and writes decide from the
 * copy which slots to look at, and touch the bucket only for a key they
 * must compare, a slot they write, or an overflow pointer. The buckets
 * keep their own tophash bytes, Go's layout unchanged; every write that
 * changes a chain's first bucket refreshes the copy, and
 * gomapdebug_check() verifies that the two agree. */

/* One bucket array with the overflow buckets it owns. Overflow buckets
 * belong to the array they were taken for and die with it, so an iterator
 * holding a pointer into a retired array can still walk its chains. */
typedef struct barray {
    uint64_t serial;            /* unique per map: identifies the array for iterators */
    size_t nbuckets;            /* 2^B */
    size_t bytes;               /* everything this array owns, slabs included */
    size_t mapped;              /* length of its own mmap, or 0 if malloc'd */
    atomic_uchar iterated;      /* an iterator may hold pointers into it */
    bmap *free_ovf;             /* free overflow buckets, linked through ->overflow */
    unsigned char *pre_next;    /* unused part of the preallocated tail */
    unsigned char *pre_end;
    size_t avail;               /* free overflow buckets in all of the above */
    ovf_slab *slabs;
    uint64_t *tops;             /* the tophash index: nbuckets words (see above) */
    alignas(16) unsigned char data[];
} barray;

struct gomap {
    uint64_t tool[GOMAP_TOOL_WORDS]; /* first: see GOMAP_MAP_TOOL_WORDS */
    size_t count;
    uint8_t B;
    uint8_t flags;
    uint8_t kind;
    bool ikey, ival;              /* stored by pointer */
    uint32_t clear_seq;           /* bumped by clear: iterators drop their chain */
    size_t noverflow;             /* overflow buckets taken since the last growth */
    size_t load_limit;            /* entries B holds before growing (see set_B) */
    size_t ovf_limit;             /* overflow buckets that trigger a same-size growth */
    uint64_t seed;                /* the hash seed handed to custom hash functions */
    uint64_t hseed;               /* the seed premixed for the default hash */
    size_t mask;                  /* 2^B - 1 */
    unsigned char *bdata;         /* buckets->data: the first bucket */
    uint64_t *tops;               /* buckets->tops */
    barray *buckets;              /* NULL until the first write when B == 0; see set_buckets */
    barray *oldbuckets;           /* non-NULL while growing */
    size_t nevacuate;             /* old buckets below this are evacuated */
    uint64_t wseq;                /* bumped by every write; iterators revalidate on change */
    uint64_t next_serial;
    /* the type */
    size_t ks, vs;                /* user key and value sizes */
    size_t kslot, vslot;          /* bytes per slot: the size, or a pointer */
    size_t voff;                  /* offset of the values in a bucket */
    size_t bsize;                 /* bytes per bucket */
    gomap_hash_fn hash;           /* NULL: default */
    gomap_equal_fn equal;         /* NULL: bytes */
    /* retired arrays kept alive for iterators, oldest first */
    barray **retained;
    size_t nretained, retained_cap;
    size_t retained_bytes;
};

/* ---- hashing (hash.c) ---- */

GM_INLINE uint64_t gm_mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

#define GM_P0 0x9E3779B97F4A7C15ull
#define GM_P1 0xC2B2AE3D27D4EB4Full
#define GM_P2 0x165667B19E3779F9ull
#define GM_P3 0xD6E8FEB86659FD93ull

GM_INLINE uint64_t gm_rd64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }
GM_INLINE uint64_t gm_rd32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* A seed premixed once per map, so the per-key hash does not redo it. */
GM_INLINE uint64_t gm_premix(uint64_t seed) { return gm_mix(seed ^ GM_P0, GM_P1) ^ seed; }

/* The default hash: multiply-fold rounds in the style of wyhash. Short
 * keys take one or two overlapping reads; an 8-byte key costs two 64x64
 * multiplies. Inlined with a constant n, it becomes the fast path's hash. */
GM_INLINE uint64_t gm_hash_premixed(const void *key, size_t n, uint64_t hs)
{
    const unsigned char *p = key;
    uint64_t a, b;
    /* The sizes the fast paths use get a single folded multiply: its high
     * half depends on every key bit, and its low half feeds the bucket. */
    if (n == 8)
        return gm_mix(gm_rd64(p) ^ hs, GM_P1);
    if (n == 4)
        return gm_mix(gm_rd32(p) ^ hs, GM_P1 ^ 4);
    if (n <= 16) {
        if (n >= 8) {
            a = gm_rd64(p);
            b = gm_rd64(p + n - 8);
        } else if (n >= 4) {
            a = gm_rd32(p) << 32 | gm_rd32(p + n - 4);
            b = 0;
        } else if (n > 0) {
            a = (uint64_t)p[0] << 16 | (uint64_t)p[n >> 1] << 8 | p[n - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t left = n;
        while (left > 16) {
            hs = gm_mix(gm_rd64(p) ^ GM_P1, gm_rd64(p + 8) ^ hs);
            p += 16;
            left -= 16;
        }
        a = gm_rd64(p + left - 16);
        b = gm_rd64(p + left - 8);
    }
    return gm_mix(GM_P1 ^ n, gm_mix(a ^ GM_P2, b ^ hs));
}

GM_HIDDEN uint64_t gm_rand64(void);

/* memcpy for the common small sizes inline; a call for the rest. */
GM_INLINE void gm_copy(void *d, const void *s, size_t n)
{
    if (n == 8) {
        uint64_t x;
        memcpy(&x, s, 8);
        memcpy(d, &x, 8);
    } else if (n == 4) {
        uint32_t x;
        memcpy(&x, s, 4);
        memcpy(d, &x, 4);
    } else if (n == 16) {
        uint64_t x[2];
        memcpy(x, s, 16);
        memcpy(d, x, 16);
    } else {
        memcpy(d, s, n);
    }
}

GM_INLINE void gm_zero(void *d, size_t n)
{
    if (n == 8)
        memset(d, 0, 8);
    else if (n == 4)
        memset(d, 0, 4);
    else
        memset(d, 0, n);
}

/* ---- layout helpers ---- */

GM_INLINE bmap *gm_bucket(const barray *a, size_t i, size_t bsize)
{
    return (bmap *)(void *)((unsigned char *)a->data + i * bsize);
}

GM_INLINE bool gm_evacuated(const bmap *b)
{
    uint8_t h = b->tophash[0];
    return h > EMPTY_ONE && h < MIN_TOPHASH;
}

GM_INLINE uint8_t gm_tophash(uint64_t hash)
{
    unsigned top = (unsigned)(hash >> 56);
    return (uint8_t)(top + MIN_TOPHASH * (top < MIN_TOPHASH)); /* branch-free */
}

/* Word-at-a-time tophash scans. The 8 tophash bytes are read as one
 * little-endian word, so "which slots hold tophash t" is a few ALU ops and
 * a bit scan instead of 8 unpredictable branches. This is what keeps
 * lookups of random keys from stalling on mispredicted slot loops. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "gomap's tophash scans assume a little-endian machine"
#endif
#define GM_LSB 0x0101010101010101ull
#define GM_MSB 0x8080808080808080ull
#define GM_LOW7 0x7F7F7F7F7F7F7F7Full

GM_INLINE uint64_t gm_topword(const bmap *b)
{
    uint64_t w;
    memcpy(&w, b->tophash, sizeof w);
    return w;
}

/* High bit of each byte of w that equals c, exactly. */
GM_INLINE uint64_t gm_bytes_eq(uint64_t w, uint8_t c)
{
    uint64_t x = w ^ (GM_LSB * c);
    return ~(((x & GM_LOW7) + GM_LOW7) | x) & GM_MSB;
}

/* Like gm_bytes_eq, in three operations, but a byte just above a real
 * match may be flagged too: fine where each candidate's key is compared
 * anyway, and exact for "is there any such byte". */
GM_INLINE uint64_t gm_bytes_maybe_eq(uint64_t w, uint8_t c)
{
    uint64_t x = w ^ (GM_LSB * c);
    return (x - GM_LSB) & ~x & GM_MSB;
}

/* Slots that may hold key material: everything but EMPTY_*, EVAC_EMPTY. */
GM_INLINE uint64_t gm_bytes_used(uint64_t w)
{
    return ~(gm_bytes_eq(w, EMPTY_REST) | gm_bytes_eq(w, EMPTY_ONE) | gm_bytes_eq(w, EVAC_EMPTY)) &
           GM_MSB;
}

/* Slots that are free to insert into (EMPTY_REST or EMPTY_ONE). */
GM_INLINE uint64_t gm_bytes_empty(uint64_t w)
{
    return gm_bytes_eq(w & ~GM_LSB, 0);
}

GM_INLINE unsigned gm_slot_of(uint64_t bit) { return (unsigned)__builtin_ctzll(bit) >> 3; }

GM_INLINE size_t gm_mask(unsigned B) { return ((size_t)1 << B) - 1; }

GM_INLINE bool gm_growing(const gomap *m) { return m->oldbuckets != NULL; }

GM_INLINE size_t gm_oldmask(const gomap *m)
{
    return (m->flags & FLAG_SAME_SIZE_GROW) ? gm_mask(m->B) : gm_mask(m->B - 1u);
}

/* Address of slot i's key or value storage (the pointer cell when stored
 * indirectly). kind lets the fast paths fold the sizes to constants. */
GM_INLINE unsigned char *gm_kslot(const gomap *m, bmap *b, unsigned i, int kind)
{
    size_t ks = gm_kind_k64(kind) ? 8 : kind == KIND_K32 ? 4 : m->kslot;
    return (unsigned char *)b + sizeof(bmap) + i * ks;
}

GM_INLINE unsigned char *gm_vslot(const gomap *m, bmap *b, unsigned i, int kind)
{
    size_t voff = gm_kind_k64(kind) ? KV64_VOFF : kind == KIND_K32 ? 48 : m->voff;
    size_t vslot = kind == KIND_KV64 ? 8 : m->vslot;
    return (unsigned char *)b + voff + i * vslot;
}

GM_INLINE size_t gm_bsize(const gomap *m, int kind)
{
    return kind == KIND_KV64 ? KV64_BSIZE : m->bsize;
}

/* The key or value itself (NULL only for an indirect slot whose storage
 * moved to a newer array). */
GM_INLINE void *gm_key(const gomap *m, bmap *b, unsigned i, int kind)
{
    unsigned char *k = gm_kslot(m, b, i, kind);
    if (kind == KIND_GENERIC && m->ikey) {
        void *p;
        memcpy(&p, k, sizeof p);
        return p;
    }
    return k;
}

GM_INLINE void *gm_val(const gomap *m, bmap *b, unsigned i, int kind)
{
    unsigned char *v = gm_vslot(m, b, i, kind);
    if (kind == KIND_GENERIC && m->ival) { /* the fast kinds store values inline */
        void *p;
        memcpy(&p, v, sizeof p);
        return p;
    }
    return v;
}

GM_INLINE uint64_t gm_key_hash(const gomap *m, const void *key, int kind)
{
    if (gm_kind_k64(kind))
        return gm_hash_premixed(key, 8, m->hseed);
    if (kind == KIND_K32)
        return gm_hash_premixed(key, 4, m->hseed);
    if (m->hash)
        return m->hash(key, m->ks, m->seed);
    return gm_hash_premixed(key, m->ks, m->hseed);
}

GM_INLINE bool gm_key_equal(const gomap *m, const void *a, const void *b, int kind)
{
    if (gm_kind_k64(kind))
        return gm_rd64(a) == gm_rd64(b);
    if (kind == KIND_K32)
        return gm_rd32(a) == gm_rd32(b);
    if (m->equal)
        return m->equal(a, b, m->ks);
    return memcmp(a, b, m->ks) == 0;
}

/* k == k holds for every key unless a custom equal says otherwise (NaN). */
GM_INLINE bool gm_reflexive(const gomap *m, const void *k, int kind)
{
    return kind != KIND_GENERIC || !m->equal || m->equal(k, k, m->ks);
}

/* ---- shared between map.c and iter.c ---- */

/* Where an entry lives: its slot, and the head of its bucket chain. */
typedef struct gm_loc {
    bmap *first, *b;
    unsigned i;
} gm_loc;

/* The byte of a tophash word for slot i. */
GM_INLINE uint8_t gm_word_top(uint64_t w, unsigned i) { return (uint8_t)(w >> (8 * i)); }

/* Sets slot i's byte of an index word, as an insert sets the bucket's
 * tophash byte: one byte store (the machine is little-endian, see the
 * tophash scans above). */
GM_INLINE void gm_index_set(uint64_t *word, unsigned i, uint8_t top)
{
    memcpy((unsigned char *)word + i, &top, 1);
}

/* evacuated() on a first bucket's tophash word. */
GM_INLINE bool gm_word_evacuated(uint64_t w)
{
    uint8_t h = (uint8_t)w;
    return h > EMPTY_ONE && h < MIN_TOPHASH;
}

/* The current entry for key, or NULL; *kout gets the stored key and *loc
 * (if not NULL) its location. */
GM_HIDDEN void *gm_access_k(const gomap *m, const void *key, const void **kout, gm_loc *loc);
GM_HIDDEN bool gm_delete(gomap *m, const void *key);
/* Deletes the entry at loc, found since the last write; false if that
 * slot no longer holds it (a NaN-like key moved by growth). */
GM_HIDDEN bool gm_delete_at(gomap *m, const gm_loc *loc);
/* Is the array with this serial still allocated? */
GM_HIDDEN bool gm_array_alive(const gomap *m, uint64_t serial);

#endif
