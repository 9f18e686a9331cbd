/*
 * gomap_bench: ns/op of gomap against GLib's GHashTable and htslib's khash,
 * same keys, same process (issue 2, "Performance").
 *
 * Phases, each timed with clock_gettime(CLOCK_MONOTONIC):
 *   insert  create an empty table (no presize) and insert n keys
 *   hit     look up all n keys, in a shuffled order
 *   miss    look up n keys that are absent
 *   iter    iterate the whole table summing values (ns per entry)
 *   delete  delete all n keys, in the same shuffled order
 *
 * Key types:
 *   int64   random 64-bit keys (a bijective mix of a counter, fixed seed, so
 *           keys are distinct and the miss keys are surely absent)
 *   str16   16-byte strings, struct { char s[16]; }, printable, not
 *           NUL-terminated: 11 base-64 characters that encode a distinct
 *           64-bit value, then 5 random ones
 * Values are 64-bit (~i for the i-th key); they never fit in 32 bits, so
 * GLib stores them full-width as it would store pointers.
 *
 * Tables:
 *   gomap         gomap_type {key_size, 8, NULL, NULL}: the library's default
 *                 seeded hash and byte equality; gomap_set / gomap_get /
 *                 gomap_delete / gomap_iter_next (key NULL).
 *   ghash         GHashTable. int64: g_hash_table_new(g_int64_hash,
 *                 g_int64_equal) with keys pointing into a preallocated key
 *                 array (GLib's documented way for 64-bit keys). str16:
 *                 custom hash/equal on pointers into the key array. Values
 *                 are stored in the value pointer (GSIZE_TO_POINTER).
 *   ghash_direct  int64 only: g_hash_table_new(NULL, NULL) (g_direct_hash and
 *                 GLib's inlined pointer compare) with the 64-bit key stored
 *                 in the key pointer itself. GLib's fastest integer mode on
 *                 an LP64 machine; shown alongside, not used for the bar.
 *   khash         htslib khash. int64: KHASH_MAP_INIT_INT64 (its own int64
 *                 hash). str16: KHASH_INIT with the struct key stored inline,
 *                 the 16-byte hash below, equality by memcmp.
 * The str16 hash for GLib and khash is a wyhash-style 128-bit multiply of the
 * two key halves: a good hash, and inlined into khash.
 *
 * Timing: each (key type, n, table, phase) is measured --reps times
 * (default 5); every measurement runs the phase enough times to take about
 * --target-ms (default 100 ms): many fresh tables for insert and delete,
 * many passes over one table for hit, miss and iter. Tables are interleaved
 * within each repetition so that machine noise hits all of them alike, and
 * the first table rotates from one repetition to the next. Before each
 * table's turn the heap is trimmed (malloc_trim), so that no table
 * inherits memory another one freed: khash's realloc'd arrays otherwise
 * land on pages GLib's tables left faulted in, and its 1M-key insert
 * drops from about 75 to 45 ns, while gomap's arrays come from mmap and
 * never benefit. --no-trim measures without it. One
 * unrecorded warm-up repetition calibrates the pass counts. Table teardown
 * and the untimed rebuilds that feed the delete phase are outside the clock;
 * table creation is inside the insert clock.
 *
 * Output: TSV on stdout, a header line then
 *   keys  keytype  impl  phase  ns_per_op_median  reps
 * Progress, with min/max per measurement, goes to stderr.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

/* khash.h 1.16 is warning-free under gcc 12 and clang 14 with -Wall -Wextra. */
#include <htslib/khash.h>

#include "gomap.h"

/* ------------------------------------------------------------ utilities */

static volatile uint64_t sink; /* keeps every phase's work observable */

static void die(const char *what, const char *arg)
{
    if (arg)
        fprintf(stderr, "gomap_bench: %s: %s\n", what, arg);
    else
        fprintf(stderr, "gomap_bench: %s\n", what);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory", NULL);
    return p;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* splitmix64's output function: a bijection on 64-bit values. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rng_state;
static uint64_t rng_next(void)
{
    rng_state += 0x9e3779b97f4a7c15ULL;
    return mix64(rng_state);
}

static size_t rng_below(size_t n) /* n > 0; bias negligible for n << 2^64 */
{
    return (size_t)(rng_next() % n);
}

/* The i-th distinct 64-bit value of this run: distinct for distinct i. */
static uint64_t seed_base;
static uint64_t nth_key(uint64_t i)
{
    return mix64(seed_base + i * 0x9e3779b97f4a7c15ULL);
}

static uint64_t val_of(size_t i)
{
    return ~(uint64_t)i;
}

/* ------------------------------------------------------------ key types */

typedef struct key16 {
    char s[16];
} key16;

static inline uint64_t load64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* wyhash-style mum of the two halves; used by GLib and khash for str16. */
static inline uint64_t hash16(const key16 *k)
{
    unsigned __int128 r = (unsigned __int128)(load64(k->s) ^ 0x2d358dccaa6c78a5ULL) *
                          (load64(k->s + 8) ^ 0x8bb84b93962eacc9ULL);
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline int eq16(const key16 *a, const key16 *b)
{
    return memcmp(a->s, b->s, 16) == 0;
}

static void make_key16(key16 *k, uint64_t i)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint64_t u = nth_key(i);
    for (int j = 0; j < 11; j++) { /* 66 bits >= 64: distinct for distinct u */
        k->s[j] = b64[u & 63];
        u >>= 6;
    }
    uint64_t r = rng_next();
    for (int j = 11; j < 16; j++) {
        k->s[j] = b64[r & 63];
        r >>= 6;
    }
}

/* One key set: n keys to insert, the same keys shuffled (hit and delete
 * order), and n keys that are absent. Arrays of uint64_t or key16. */
typedef struct keyset {
    size_t n;
    void *keys, *order, *miss;
    uint64_t val_sum; /* sum of val_of(i), i < n, mod 2^64 */
} keyset;

/* ------------------------------------------------------------ tables */

typedef struct impl {
    const char *name;
    void *(*insert)(const keyset *ks); /* create + insert; returns the table */
    uint64_t (*hit)(void *t, const keyset *ks);  /* sum of values found */
    size_t (*miss)(void *t, const keyset *ks);   /* number found (0) */
    uint64_t (*iter)(void *t, size_t *count);    /* sum of values */
    size_t (*del)(void *t, const keyset *ks);    /* number deleted */
    void (*destroy)(void *t);
} impl;

static void bad(const char *who, const char *what)
{
    die(who, what);
}

/* ---- gomap, int64 and str16 (only key_size differs) */

static void *gm_insert_sz(const keyset *ks, size_t ksz)
{
    gomap_type ty = {.key_size = ksz, .val_size = sizeof(uint64_t), .hash = NULL, .equal = NULL};
    gomap *m = gomap_new(&ty, 0);
    if (!m)
        bad("gomap", "gomap_new failed");
    const char *k = ks->keys;
    int err = 0;
    for (size_t i = 0; i < ks->n; i++) {
        uint64_t v = val_of(i);
        err |= gomap_set(m, k + i * ksz, &v);
    }
    if (err)
        bad("gomap", "gomap_set failed");
    return m;
}

static uint64_t gm_hit_sz(void *t, const keyset *ks, size_t ksz)
{
    const gomap *m = t;
    const char *k = ks->order;
    uint64_t sum = 0;
    for (size_t i = 0; i < ks->n; i++) {
        const void *p = gomap_get(m, k + i * ksz);
        if (p) {
            uint64_t v;
            memcpy(&v, p, sizeof v);
            sum += v;
        }
    }
    return sum;
}

static size_t gm_miss_sz(void *t, const keyset *ks, size_t ksz)
{
    const gomap *m = t;
    const char *k = ks->miss;
    size_t found = 0;
    for (size_t i = 0; i < ks->n; i++)
        found += gomap_get(m, k + i * ksz) != NULL;
    return found;
}

static uint64_t gm_iter(void *t, size_t *count)
{
    gomap_iter it;
    void *v;
    uint64_t sum = 0;
    size_t c = 0;
    gomap_iter_init(&it, t);
    while (gomap_iter_next(&it, NULL, &v)) {
        uint64_t x;
        memcpy(&x, v, sizeof x);
        sum += x;
        c++;
    }
    *count = c;
    return sum;
}

static size_t gm_del_sz(void *t, const keyset *ks, size_t ksz)
{
    gomap *m = t;
    const char *k = ks->order;
    size_t n = 0;
    for (size_t i = 0; i < ks->n; i++)
        n += gomap_delete(m, k + i * ksz);
    return n;
}

static void gm_destroy(void *t)
{
    gomap_free(t);
}

static void *gm64_insert(const keyset *ks) { return gm_insert_sz(ks, 8); }
static uint64_t gm64_hit(void *t, const keyset *ks) { return gm_hit_sz(t, ks, 8); }
static size_t gm64_miss(void *t, const keyset *ks) { return gm_miss_sz(t, ks, 8); }
static size_t gm64_del(void *t, const keyset *ks) { return gm_del_sz(t, ks, 8); }
static void *gm16_insert(const keyset *ks) { return gm_insert_sz(ks, 16); }
static uint64_t gm16_hit(void *t, const keyset *ks) { return gm_hit_sz(t, ks, 16); }
static size_t gm16_miss(void *t, const keyset *ks) { return gm_miss_sz(t, ks, 16); }
static size_t gm16_del(void *t, const keyset *ks) { return gm_del_sz(t, ks, 16); }

/* ---- GHashTable, shared parts */

static uint64_t gh_iter(void *t, size_t *count)
{
    GHashTableIter it;
    gpointer k, v;
    uint64_t sum = 0;
    size_t c = 0;
    g_hash_table_iter_init(&it, t);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        sum += (uint64_t)GPOINTER_TO_SIZE(v);
        c++;
    }
    *count = c;
    return sum;
}

static void gh_destroy(void *t)
{
    g_hash_table_destroy(t);
}

/* Keys by pointer into the caller's array (int64 and str16). */
#define GH_BYPTR(SFX, KT, HASH, EQ)                                                  \
    static void *gh##SFX##_insert(const keyset *ks)                                  \
    {                                                                                \
        GHashTable *h = g_hash_table_new(HASH, EQ);                                  \
        KT *k = ks->keys;                                                            \
        for (size_t i = 0; i < ks->n; i++)                                           \
            g_hash_table_insert(h, &k[i], GSIZE_TO_POINTER((gsize)val_of(i)));       \
        return h;                                                                    \
    }                                                                                \
    static uint64_t gh##SFX##_hit(void *t, const keyset *ks)                         \
    {                                                                                \
        KT *k = ks->order;                                                           \
        uint64_t sum = 0;                                                            \
        for (size_t i = 0; i < ks->n; i++)                                           \
            sum += (uint64_t)GPOINTER_TO_SIZE(g_hash_table_lookup(t, &k[i]));        \
        return sum;                                                                  \
    }                                                                                \
    static size_t gh##SFX##_miss(void *t, const keyset *ks)                          \
    {                                                                                \
        KT *k = ks->miss;                                                            \
        size_t found = 0;                                                            \
        for (size_t i = 0; i < ks->n; i++)                                           \
            found += g_hash_table_lookup(t, &k[i]) != NULL;                          \
        return found;                                                                \
    }                                                                                \
    static size_t gh##SFX##_del(void *t, const keyset *ks)                           \
    {                                                                                \
        KT *k = ks->order;                                                           \
        size_t n = 0;                                                                \
        for (size_t i = 0; i < ks->n; i++)                                           \
            n += g_hash_table_remove(t, &k[i]) != 0;                                 \
        return n;                                                                    \
    }

static guint gh16_hashfn(gconstpointer k)
{
    return (guint)hash16(k);
}

static gboolean gh16_eqfn(gconstpointer a, gconstpointer b)
{
    return eq16(a, b);
}

GH_BYPTR(64, uint64_t, g_int64_hash, g_int64_equal)
GH_BYPTR(16, key16, gh16_hashfn, gh16_eqfn)

/* ---- GHashTable, int64 key in the pointer itself */

static void *ghd_insert(const keyset *ks)
{
    GHashTable *h = g_hash_table_new(NULL, NULL);
    const uint64_t *k = ks->keys;
    for (size_t i = 0; i < ks->n; i++)
        g_hash_table_insert(h, GSIZE_TO_POINTER((gsize)k[i]), GSIZE_TO_POINTER((gsize)val_of(i)));
    return h;
}

static uint64_t ghd_hit(void *t, const keyset *ks)
{
    const uint64_t *k = ks->order;
    uint64_t sum = 0;
    for (size_t i = 0; i < ks->n; i++)
        sum += (uint64_t)GPOINTER_TO_SIZE(g_hash_table_lookup(t, GSIZE_TO_POINTER((gsize)k[i])));
    return sum;
}

static size_t ghd_miss(void *t, const keyset *ks)
{
    const uint64_t *k = ks->miss;
    size_t found = 0;
    for (size_t i = 0; i < ks->n; i++)
        found += g_hash_table_lookup(t, GSIZE_TO_POINTER((gsize)k[i])) != NULL;
    return found;
}

static size_t ghd_del(void *t, const keyset *ks)
{
    const uint64_t *k = ks->order;
    size_t n = 0;
    for (size_t i = 0; i < ks->n; i++)
        n += g_hash_table_remove(t, GSIZE_TO_POINTER((gsize)k[i])) != 0;
    return n;
}

/* ---- khash */

#define kh16_hash(k) ((khint_t)hash16(&(k)))
#define kh16_eq(a, b) eq16(&(a), &(b))

KHASH_MAP_INIT_INT64(b64, uint64_t)
KHASH_INIT(b16, key16, uint64_t, 1, kh16_hash, kh16_eq)

#define KH_IMPL(NAME, KT)                                                            \
    static void *kh_##NAME##_insert(const keyset *ks)                                \
    {                                                                                \
        kh_##NAME##_t *h = kh_init(NAME);                                            \
        if (!h)                                                                      \
            bad("khash", "kh_init failed");                                          \
        const KT *k = ks->keys;                                                      \
        int err = 0;                                                                 \
        for (size_t i = 0; i < ks->n; i++) {                                         \
            int ret;                                                                 \
            khint_t it = kh_put(NAME, h, k[i], &ret);                                \
            err |= ret < 0;                                                          \
            kh_value(h, it) = val_of(i);                                             \
        }                                                                            \
        if (err)                                                                     \
            bad("khash", "kh_put failed");                                           \
        return h;                                                                    \
    }                                                                                \
    static uint64_t kh_##NAME##_hit(void *t, const keyset *ks)                       \
    {                                                                                \
        kh_##NAME##_t *h = t;                                                        \
        const KT *k = ks->order;                                                     \
        uint64_t sum = 0;                                                            \
        for (size_t i = 0; i < ks->n; i++) {                                         \
            khint_t it = kh_get(NAME, h, k[i]);                                      \
            if (it != kh_end(h))                                                     \
                sum += kh_value(h, it);                                              \
        }                                                                            \
        return sum;                                                                  \
    }                                                                                \
    static size_t kh_##NAME##_miss(void *t, const keyset *ks)                        \
    {                                                                                \
        kh_##NAME##_t *h = t;                                                        \
        const KT *k = ks->miss;                                                      \
        size_t found = 0;                                                            \
        for (size_t i = 0; i < ks->n; i++)                                           \
            found += kh_get(NAME, h, k[i]) != kh_end(h);                             \
        return found;                                                                \
    }                                                                                \
    static uint64_t kh_##NAME##_iter(void *t, size_t *count)                         \
    {                                                                                \
        kh_##NAME##_t *h = t;                                                        \
        uint64_t sum = 0;                                                            \
        size_t c = 0;                                                                \
        for (khint_t it = kh_begin(h); it != kh_end(h); ++it)                        \
            if (kh_exist(h, it)) {                                                   \
                sum += kh_value(h, it);                                              \
                c++;                                                                 \
            }                                                                        \
        *count = c;                                                                  \
        return sum;                                                                  \
    }                                                                                \
    static size_t kh_##NAME##_del(void *t, const keyset *ks)                         \
    {                                                                                \
        kh_##NAME##_t *h = t;                                                        \
        const KT *k = ks->order;                                                     \
        size_t n = 0;                                                                \
        for (size_t i = 0; i < ks->n; i++) {                                         \
            khint_t it = kh_get(NAME, h, k[i]);                                      \
            if (it != kh_end(h)) {                                                   \
                kh_del(NAME, h, it);                                                 \
                n++;                                                                 \
            }                                                                        \
        }                                                                            \
        return n;                                                                    \
    }                                                                                \
    static void kh_##NAME##_destroy(void *t)                                         \
    {                                                                                \
        kh_destroy(NAME, (kh_##NAME##_t *)t);                                        \
    }

KH_IMPL(b64, uint64_t)
KH_IMPL(b16, key16)

static const impl impls_int64[] = {
    {"gomap", gm64_insert, gm64_hit, gm64_miss, gm_iter, gm64_del, gm_destroy},
    {"ghash", gh64_insert, gh64_hit, gh64_miss, gh_iter, gh64_del, gh_destroy},
    {"ghash_direct", ghd_insert, ghd_hit, ghd_miss, gh_iter, ghd_del, gh_destroy},
    {"khash", kh_b64_insert, kh_b64_hit, kh_b64_miss, kh_b64_iter, kh_b64_del, kh_b64_destroy},
};

static const impl impls_str16[] = {
    {"gomap", gm16_insert, gm16_hit, gm16_miss, gm_iter, gm16_del, gm_destroy},
    {"ghash", gh16_insert, gh16_hit, gh16_miss, gh_iter, gh16_del, gh_destroy},
    {"khash", kh_b16_insert, kh_b16_hit, kh_b16_miss, kh_b16_iter, kh_b16_del, kh_b16_destroy},
};

/* ------------------------------------------------------------ measuring */

enum { PH_INSERT, PH_HIT, PH_MISS, PH_ITER, PH_DELETE, NPHASES };
static const char *const phase_names[NPHASES] = {"insert", "hit", "miss", "iter", "delete"};

typedef struct opts {
    int reps;
    double target_ns;
    size_t sizes[16];
    int nsizes;
    int do_int64, do_str16;
    int trim; /* malloc_trim before each table's turn */
    const char *only_impls; /* comma list or NULL */
} opts;

/* Every table starts from the same allocator state: see "Timing" above. */
static void heap_reset(const opts *o)
{
    if (o->trim)
        malloc_trim(0);
}

static void check(const impl *im, const char *what, int ok)
{
    if (!ok)
        bad(im->name, what);
}

/* Runs the five phases once with the given pass counts; stores ns/op. */
static void run_phases(const impl *im, const keyset *ks, const unsigned long passes[NPHASES],
                       double ns_per_op[NPHASES])
{
    const size_t n = ks->n;
    uint64_t t0, acc;
    void *t = NULL;

    /* insert: fresh tables; the last one feeds the other phases */
    acc = 0;
    for (unsigned long p = 0; p < passes[PH_INSERT]; p++) {
        if (t)
            im->destroy(t);
        t0 = now_ns();
        t = im->insert(ks);
        acc += now_ns() - t0;
    }
    ns_per_op[PH_INSERT] = (double)acc / ((double)passes[PH_INSERT] * (double)n);
    {
        size_t c = 0;
        check(im, "wrong contents after insert", im->iter(t, &c) == ks->val_sum && c == n);
    }

    uint64_t s = 0;
    t0 = now_ns();
    for (unsigned long p = 0; p < passes[PH_HIT]; p++)
        s += im->hit(t, ks);
    acc = now_ns() - t0;
    ns_per_op[PH_HIT] = (double)acc / ((double)passes[PH_HIT] * (double)n);
    check(im, "hit lookups missed", s == ks->val_sum * (uint64_t)passes[PH_HIT]);
    sink += s;

    size_t found = 0;
    t0 = now_ns();
    for (unsigned long p = 0; p < passes[PH_MISS]; p++)
        found += im->miss(t, ks);
    acc = now_ns() - t0;
    ns_per_op[PH_MISS] = (double)acc / ((double)passes[PH_MISS] * (double)n);
    check(im, "miss lookups found a key", found == 0);
    sink += found;

    s = 0;
    size_t cnt = 0;
    t0 = now_ns();
    for (unsigned long p = 0; p < passes[PH_ITER]; p++) {
        size_t c;
        s += im->iter(t, &c);
        cnt += c;
    }
    acc = now_ns() - t0;
    ns_per_op[PH_ITER] = (double)acc / ((double)passes[PH_ITER] * (double)n);
    check(im, "iteration saw wrong entries",
          s == ks->val_sum * (uint64_t)passes[PH_ITER] && cnt == n * passes[PH_ITER]);
    sink += s;

    /* delete: the table above, then fresh tables built off the clock */
    acc = 0;
    for (unsigned long p = 0; p < passes[PH_DELETE]; p++) {
        if (!t)
            t = im->insert(ks);
        t0 = now_ns();
        size_t d = im->del(t, ks);
        acc += now_ns() - t0;
        check(im, "delete missed keys", d == n);
        size_t c = 1;
        im->iter(t, &c);
        check(im, "table not empty after deleting every key", c == 0);
        im->destroy(t);
        t = NULL;
    }
    ns_per_op[PH_DELETE] = (double)acc / ((double)passes[PH_DELETE] * (double)n);
}

static int impl_selected(const opts *o, const char *name)
{
    if (!o->only_impls)
        return 1;
    size_t len = strlen(name);
    for (const char *p = o->only_impls; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == len && strncmp(p, name, l) == 0)
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

static double median(double *v, int n)
{
    /* tiny n: insertion sort */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double x = v[j];
            v[j] = v[j - 1];
            v[j - 1] = x;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define MAX_IMPLS 4
#define MAX_REPS 101

static void bench_keyset(const opts *o, const char *ktname, const impl *impls, int nimpls,
                         const keyset *ks)
{
    unsigned long passes[MAX_IMPLS][NPHASES];
    static double res[MAX_IMPLS][NPHASES][MAX_REPS];
    int sel[MAX_IMPLS];

    for (int i = 0; i < nimpls; i++)
        sel[i] = impl_selected(o, impls[i].name);

    /* warm-up and calibration: one pass per phase, then scale */
    for (int i = 0; i < nimpls; i++) {
        if (!sel[i])
            continue;
        unsigned long one[NPHASES] = {1, 1, 1, 1, 1};
        double ns[NPHASES];
        heap_reset(o);
        run_phases(&impls[i], ks, one, ns);
        for (int ph = 0; ph < NPHASES; ph++) {
            double per_pass = ns[ph] * (double)ks->n;
            double want = o->target_ns / (per_pass > 1 ? per_pass : 1);
            if (want < 1)
                want = 1;
            if (want > 1e7)
                want = 1e7;
            passes[i][ph] = (unsigned long)(want + 0.5);
        }
    }

    /* The starting table rotates each repetition: a table that always ran
     * right after another one's teardown would always find the allocator
     * in the same state (warm freed memory, or fresh pages to fault in). */
    for (int r = 0; r < o->reps; r++)
        for (int j = 0; j < nimpls; j++) {
            int i = (j + r) % nimpls;
            if (!sel[i])
                continue;
            double ns[NPHASES];
            heap_reset(o);
            run_phases(&impls[i], ks, passes[i], ns);
            for (int ph = 0; ph < NPHASES; ph++)
                res[i][ph][r] = ns[ph];
        }

    for (int i = 0; i < nimpls; i++) {
        if (!sel[i])
            continue;
        for (int ph = 0; ph < NPHASES; ph++) {
            double *v = res[i][ph];
            double med = median(v, o->reps); /* sorts v */
            printf("%zu\t%s\t%s\t%s\t%.2f\t%d\n", ks->n, ktname, impls[i].name, phase_names[ph],
                   med, o->reps);
            fprintf(stderr, "  %-7zu %-5s %-12s %-6s %8.2f ns/op  (min %.2f max %.2f, %lu pass%s)\n",
                    ks->n, ktname, impls[i].name, phase_names[ph], med, v[0], v[o->reps - 1],
                    passes[i][ph], passes[i][ph] == 1 ? "" : "es");
        }
    }
    fflush(stdout);
}

/* ------------------------------------------------------------ key sets */

static void shuffle(void *base, size_t n, size_t sz, void *tmp)
{
    char *b = base;
    for (size_t i = n; i > 1; i--) {
        size_t j = rng_below(i);
        memcpy(tmp, b + (i - 1) * sz, sz);
        memcpy(b + (i - 1) * sz, b + j * sz, sz);
        memcpy(b + j * sz, tmp, sz);
    }
}

static void keyset_make(keyset *ks, size_t n, int str16)
{
    size_t sz = str16 ? sizeof(key16) : sizeof(uint64_t);
    char tmp[sizeof(key16)];
    ks->n = n;
    ks->keys = xmalloc(n * sz);
    ks->order = xmalloc(n * sz);
    ks->miss = xmalloc(n * sz);
    ks->val_sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (str16) {
            make_key16((key16 *)ks->keys + i, i);
            make_key16((key16 *)ks->miss + i, (uint64_t)n + i);
        } else {
            ((uint64_t *)ks->keys)[i] = nth_key(i);
            ((uint64_t *)ks->miss)[i] = nth_key((uint64_t)n + i);
        }
        ks->val_sum += val_of(i);
    }
    memcpy(ks->order, ks->keys, n * sz);
    shuffle(ks->order, n, sz, tmp);
}

static void keyset_free(keyset *ks)
{
    free(ks->keys);
    free(ks->order);
    free(ks->miss);
}

/* ------------------------------------------------------------ main */

static void usage(FILE *f)
{
    fputs("usage: gomap_bench [--reps N] [--quick] [--sizes LIST] [--keytypes LIST]\n"
          "                   [--impls LIST] [--target-ms MS] [--seed N]\n"
          "  --reps N        measurements per phase, median reported (default 5)\n"
          "  --quick         smoke run: 3 reps, 10 ms per measurement\n"
          "  --sizes LIST    comma list of key counts, k/m suffixes allowed\n"
          "                  (default 1K,100K,1M)\n"
          "  --keytypes LIST int64,str16 (default both)\n"
          "  --impls LIST    gomap,ghash,ghash_direct,khash (default all)\n"
          "  --target-ms MS  time per measurement (default 100)\n"
          "  --seed N        key generator seed\n"
          "  --no-trim       do not trim the heap before each table's turn\n"
          "Writes TSV to stdout: keys keytype impl phase ns_per_op_median reps\n",
          f);
}

static unsigned long long parse_num(const char *s, const char *what)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s)
        die(what, s);
    if (*end == 'k' || *end == 'K')
        v *= 1000, end++;
    else if (*end == 'm' || *end == 'M')
        v *= 1000000, end++;
    if (*end && *end != ',')
        die(what, s);
    return v;
}

int main(int argc, char **argv)
{
    opts o = {.reps = 5, .target_ns = 100e6, .nsizes = 0, .do_int64 = 1, .do_str16 = 1,
              .trim = 1, .only_impls = NULL};
    int reps_set = 0, target_set = 0, quick = 0;
    uint64_t seed = 0x6d61706775617264ULL; /* "mapguard" */

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--quick")) {
            quick = 1;
        } else if (!strcmp(a, "--no-trim")) {
            o.trim = 0;
        } else if (v && !strcmp(a, "--reps")) {
            unsigned long long r = parse_num(v, "--reps");
            if (r < 1 || r > MAX_REPS)
                die("--reps must be 1..101", NULL);
            o.reps = (int)r;
            reps_set = 1;
            i++;
        } else if (v && !strcmp(a, "--target-ms")) {
            o.target_ns = (double)parse_num(v, "--target-ms") * 1e6;
            target_set = 1;
            i++;
        } else if (v && !strcmp(a, "--seed")) {
            seed = parse_num(v, "--seed");
            i++;
        } else if (v && !strcmp(a, "--impls")) {
            o.only_impls = v;
            i++;
        } else if (v && !strcmp(a, "--keytypes")) {
            o.do_int64 = strstr(v, "int64") != NULL;
            o.do_str16 = strstr(v, "str16") != NULL;
            if (!o.do_int64 && !o.do_str16)
                die("bad --keytypes", v);
            i++;
        } else if (v && !strcmp(a, "--sizes")) {
            for (const char *p = v; *p;) {
                if (o.nsizes == 16)
                    die("too many sizes (max 16)", NULL);
                unsigned long long s = parse_num(p, "--sizes");
                if (s < 1)
                    die("bad --sizes", v);
                o.sizes[o.nsizes++] = (size_t)s;
                const char *c = strchr(p, ',');
                if (!c)
                    break;
                p = c + 1;
            }
            i++;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (quick) {
        if (!reps_set)
            o.reps = 3;
        if (!target_set)
            o.target_ns = 10e6;
    }
    if (o.nsizes == 0) {
        o.sizes[0] = 1000;
        o.sizes[1] = 100000;
        o.sizes[2] = 1000000;
        o.nsizes = 3;
    }

    fprintf(stderr, "gomap_bench: reps %d, %.0f ms per measurement, seed %#llx%s\n", o.reps,
            o.target_ns / 1e6, (unsigned long long)seed, o.trim ? "" : ", heap not trimmed");
    printf("keys\tkeytype\timpl\tphase\tns_per_op_median\treps\n");
    for (int kt = 0; kt < 2; kt++) {
        if (kt == 0 ? !o.do_int64 : !o.do_str16)
            continue;
        for (int s = 0; s < o.nsizes; s++) {
            keyset ks;
            rng_state = seed;
            seed_base = rng_next();
            keyset_make(&ks, o.sizes[s], kt == 1);
            if (kt == 0)
                bench_keyset(&o, "int64", impls_int64,
                             (int)(sizeof impls_int64 / sizeof impls_int64[0]), &ks);
            else
                bench_keyset(&o, "str16", impls_str16,
                             (int)(sizeof impls_str16 / sizeof impls_str16[0]), &ks);
            keyset_free(&ks);
        }
    }
    return 0;
}
