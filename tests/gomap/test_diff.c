/*
 * Randomized differential test: gomap against a direct-address reference
 * table, driven by one seeded PRNG, over several key/value shapes.
 *
 * Keys are named by small integer ids; the reference keeps, per id, the
 * epoch of the live entry (0: absent) and the seed of its value bytes. Every
 * operation's result is checked against it: set, assign (zeroed on insert),
 * get (and writes through its pointer), lookup (zeroed on a miss), delete,
 * len, clear. Iterations run with writes, iter_delete, clear and growth in
 * the middle, and every returned entry is checked against Go's rules by its
 * identity (id + epoch):
 *   - it is live and current when returned, with its current value;
 *   - no entry (epoch) comes twice;
 *   - every entry live from start to end came (unless the loop broke).
 *
 * At least 5 million top-level operations in a normal build (diff.op_budget
 * checks the table). Sanitizer builds run half. GOMAP_DIFF_SEED picks
 * other seeds; GOMAP_DIFF_SCALE multiplies the operation counts.
 */
#include "gomap_test.h"

enum kind { K_U64, K_U32, K_BYTES, K_F64 };

typedef struct shape {
    const char *name;
    int kind;
    size_t key_size, val_size;
    gomap_hash_fn hash;
    gomap_equal_fn equal;
    size_t max_ids;
    long ops;
    uint64_t seed;
} shape;

/* A custom pair over plain bytes, to run the generic path with callbacks. */
static uint64_t cb_hash(const void *k, size_t ks, uint64_t seed)
{
    return gomap_hash_bytes(k, ks, seed ^ 0x1234);
}

static bool cb_equal(const void *a, const void *b, size_t ks)
{
    return memcmp(a, b, ks) == 0;
}

static const shape shapes[] = {
    {"u64", K_U64, 8, 8, NULL, NULL, 60000, 1200000, 1},
    {"u32_v12", K_U32, 4, 12, NULL, NULL, 40000, 600000, 2},
    {"b16", K_BYTES, 16, 16, NULL, NULL, 30000, 450000, 3},
    {"b12_callbacks", K_BYTES, 12, 8, cb_hash, cb_equal, 20000, 250000, 4},
    {"b200_v136", K_BYTES, 200, 136, NULL, NULL, 8000, 400000, 5},
    {"b200_v8", K_BYTES, 200, 8, NULL, NULL, 8000, 200000, 6},
    {"u64_v200", K_U64, 8, 200, NULL, NULL, 20000, 250000, 7},
    {"set_u64", K_U64, 8, 0, NULL, NULL, 60000, 700000, 8},
    {"collide_mod7", K_U64, 8, 8, gt_mod7_hash, NULL, 2500, 400000, 9},
    {"f64", K_F64, 8, 8, gomap_hash_f64, gomap_equal_f64, 30000, 600000, 10},
};

enum { NSHAPES = sizeof shapes / sizeof shapes[0] };

/* ---------------------------------------------------------- the context */

typedef struct ctx {
    const shape *sh;
    gomap *m;
    gt_rng r;
    uint64_t seed;
    long op;
    size_t n;             /* ids are [0, n) */
    size_t K;             /* ids in use this phase */
    int bias;             /* 0 balanced, 1 insert-heavy, 2 delete-heavy */
    /* the reference */
    uint64_t *epoch;      /* 0: absent */
    uint64_t *vseed;      /* value bytes seed; 0: the zero value */
    uint64_t next_epoch, vcounter;
    size_t count;
    bool zneg;            /* f64: sign of the stored zero key */
    /* iteration bookkeeping */
    uint64_t *ret_epoch;
    uint32_t *ret_iter;
    uint32_t *nest_seen;
    uint32_t iter_no, nest_no;
    bool in_iter;
    uint64_t begin_epoch;
    size_t old_live;      /* entries live at the start and not deleted since */
    size_t *retlist;
    size_t retlen, retcap;
    /* statistics */
    long iterations, iter_steps, iter_deletes, abandoned, clears, nested;
    long started_growing, grew_during, recycled;
    size_t max_B;
    unsigned char kbuf[256], kbuf2[256], vbuf[256], want[256];
} ctx;

#define DCHECK(c, cond, fmt, ...)                                                       \
    GT_CHECK(cond, "[diff %s seed %llu op %ld] " fmt, (c)->sh->name,                  \
             (unsigned long long)(c)->seed, (c)->op, ##__VA_ARGS__)

/* ------------------------------------------------------- keys and values */

static void key_bytes_fill(uint64_t id, unsigned char *buf, size_t ks)
{
    memcpy(buf, &id, 8);
    for (size_t i = 8; i < ks; i += 8) {
        uint64_t w = gt_mix64(id * 0x2545f4914f6cdd1dULL + i);
        size_t n = ks - i < 8 ? ks - i : 8;
        memcpy(buf + i, &w, n);
    }
}

/* The key bytes of id. For f64, id 0 is +0 or -0 at random; *neg says which. */
static void make_key(ctx *c, size_t id, unsigned char *buf, bool *neg)
{
    switch (c->sh->kind) {
    case K_U64: {
        uint64_t k = id;
        memcpy(buf, &k, 8);
        break;
    }
    case K_U32: {
        uint32_t k = (uint32_t)id;
        memcpy(buf, &k, 4);
        break;
    }
    case K_BYTES:
        key_bytes_fill(id, buf, c->sh->key_size);
        break;
    case K_F64: {
        double d = (double)id * 0.25;
        bool z = id == 0 && gt_one_in(&c->r, 2);
        if (z)
            d = -0.0;
        if (neg)
            *neg = z;
        memcpy(buf, &d, 8);
        break;
    }
    }
}

/* The id of an iterated key, validating all of its bytes. */
static size_t decode_key(ctx *c, const void *kp)
{
    DCHECK(c, kp != NULL, "iteration returned a NULL key");
    size_t id = 0;
    switch (c->sh->kind) {
    case K_U64: {
        uint64_t k;
        memcpy(&k, kp, 8);
        id = (size_t)k;
        break;
    }
    case K_U32: {
        uint32_t k;
        memcpy(&k, kp, 4);
        id = k;
        break;
    }
    case K_BYTES: {
        uint64_t k;
        memcpy(&k, kp, 8);
        DCHECK(c, k < c->n, "iterated key has id %llu", (unsigned long long)k);
        key_bytes_fill(k, c->kbuf2, c->sh->key_size);
        DCHECK(c, memcmp(c->kbuf2, kp, c->sh->key_size) == 0,
               "iterated key %llu has corrupted bytes", (unsigned long long)k);
        id = (size_t)k;
        break;
    }
    case K_F64: {
        double d;
        memcpy(&d, kp, 8);
        DCHECK(c, d >= 0 && d == d, "iterated f64 key %g out of range", d);
        id = (size_t)(d * 4);
        DCHECK(c, (double)id * 0.25 == d, "iterated f64 key %g is not a test key", d);
        if (id == 0)
            DCHECK(c, (signbit(d) != 0) == c->zneg,
                   "the zero key has sign %d, but the last write used %d (Go updates "
                   "float keys on overwrite)",
                   signbit(d) != 0, c->zneg);
        break;
    }
    }
    DCHECK(c, id < c->n, "iterated key id %zu out of range", id);
    return id;
}

static void fill_val(uint64_t vseed, unsigned char *buf, size_t vs)
{
    if (vseed == 0) {
        memset(buf, 0, vs);
        return;
    }
    for (size_t i = 0; i < vs; i += 8) {
        uint64_t w = gt_mix64(vseed * 0x9e3779b97f4a7c15ULL + i);
        memcpy(buf + i, &w, vs - i < 8 ? vs - i : 8);
    }
}

static void check_val(ctx *c, size_t id, const void *p, const char *what)
{
    size_t vs = c->sh->val_size;
    if (vs == 0)
        return;
    DCHECK(c, p != NULL, "%s: NULL value pointer for id %zu", what, id);
    fill_val(c->vseed[id], c->want, vs);
    DCHECK(c, memcmp(c->want, p, vs) == 0, "%s: value of id %zu differs from the reference%s",
           what, id, c->vseed[id] == 0 ? " (want the zero value)" : "");
}

/* ---------------------------------------------------------- the reference */

static void ref_put(ctx *c, size_t id, uint64_t vseed)
{
    if (!c->epoch[id]) {
        c->epoch[id] = ++c->next_epoch;
        c->count++;
    }
    c->vseed[id] = vseed;
}

static void ref_del(ctx *c, size_t id)
{
    if (!c->epoch[id])
        return;
    if (c->in_iter && c->epoch[id] <= c->begin_epoch)
        c->old_live--;
    c->epoch[id] = 0;
    c->count--;
}

static void ref_clear(ctx *c)
{
    memset(c->epoch, 0, c->n * sizeof *c->epoch);
    c->count = 0;
    c->old_live = 0;
}

/* --------------------------------------------------------------- the ops */

enum { OP_SET, OP_ASSIGN, OP_GET, OP_LOOKUP, OP_DELETE, OP_CLEAR, NOPS };

/* Did the call write the map? 1 yes, 0 no (a read), -1 it may not have
 * (delete of an absent key, clear of an empty map). */
static int do_op(ctx *c, int op, size_t id)
{
    const shape *sh = c->sh;
    bool live = c->epoch[id] != 0;
    bool neg = false;
    make_key(c, id, c->kbuf, &neg);
    switch (op) {
    case OP_SET: {
        uint64_t vs = ++c->vcounter;
        fill_val(vs, c->vbuf, sh->val_size);
        const void *v = sh->val_size ? c->vbuf : gt_one_in(&c->r, 2) ? NULL : c->vbuf;
        int rc = gomap_set(c->m, c->kbuf, v);
        DCHECK(c, rc == GOMAP_OK, "set(id %zu) = %d", id, rc);
        ref_put(c, id, vs);
        if (sh->kind == K_F64 && id == 0)
            c->zneg = neg;
        return 1;
    }
    case OP_ASSIGN: {
        unsigned char *p = gomap_assign(c->m, c->kbuf);
        DCHECK(c, p != NULL, "assign(id %zu) = NULL", id);
        if (!live)
            ref_put(c, id, 0);
        check_val(c, id, p, live ? "assign of a present key" : "assign of a new key (zeroed)");
        if (sh->kind == K_F64 && id == 0)
            c->zneg = neg;
        if (sh->val_size && gt_one_in(&c->r, 2)) {
            uint64_t vs = ++c->vcounter;
            fill_val(vs, p, sh->val_size); /* m[k] = v through the slot */
            c->vseed[id] = vs;
        }
        return 1;
    }
    case OP_GET: {
        unsigned char *p = gomap_get(c->m, c->kbuf);
        DCHECK(c, (p != NULL) == live, "get(id %zu): %s, reference says %s", id,
               p ? "found" : "missing", live ? "present" : "absent");
        if (p) {
            check_val(c, id, p, "get");
            if (sh->val_size && gt_one_in(&c->r, 4)) {
                uint64_t vs = ++c->vcounter;
                fill_val(vs, p, sh->val_size); /* write through &m[k] */
                c->vseed[id] = vs;
            }
        }
        return 0;
    }
    case OP_LOOKUP: {
        bool use_out = !gt_one_in(&c->r, 8);
        memset(c->vbuf, 0xa5, sizeof c->vbuf);
        bool ok = gomap_lookup(c->m, c->kbuf, use_out ? c->vbuf : NULL);
        DCHECK(c, ok == live, "lookup(id %zu) = %d, reference says %d", id, ok, live);
        if (use_out && sh->val_size) {
            if (ok) {
                check_val(c, id, c->vbuf, "lookup");
            } else {
                for (size_t i = 0; i < sh->val_size; i++)
                    DCHECK(c, c->vbuf[i] == 0, "lookup miss (id %zu) left byte %zu unzeroed", id,
                           i);
            }
            DCHECK(c, c->vbuf[sh->val_size] == 0xa5, "lookup wrote past val_size");
        }
        return 0;
    }
    case OP_DELETE: {
        bool ok = gomap_delete(c->m, c->kbuf);
        DCHECK(c, ok == live, "delete(id %zu) = %d, reference says %d", id, ok, live);
        ref_del(c, id);
        return ok ? 1 : -1;
    }
    case OP_CLEAR: {
        bool had = c->count > 0;
        gomap_clear(c->m);
        ref_clear(c);
        c->clears++;
        return had ? 1 : -1;
    }
    }
    return 0;
}

static int pick_op(ctx *c)
{
    /* weights: set, assign, get, lookup, delete */
    static const int w[3][5] = {
        {24, 8, 22, 22, 24},
        {45, 15, 15, 15, 10},
        {12, 4, 15, 15, 54},
    };
    int x = (int)gt_below(&c->r, 100);
    for (int i = 0; i < 5; i++) {
        if (x < w[c->bias][i])
            return i;
        x -= w[c->bias][i];
    }
    return OP_GET;
}

static void check_len(ctx *c)
{
    size_t len = gomap_len(c->m);
    DCHECK(c, len == c->count, "len %zu, reference count %zu", len, c->count);
}

/* Every id's presence and value. */
static void full_check(ctx *c)
{
    for (size_t id = 0; id < c->n; id++) {
        make_key(c, id, c->kbuf, NULL);
        void *p = gomap_get(c->m, c->kbuf);
        DCHECK(c, (p != NULL) == (c->epoch[id] != 0), "full check: id %zu %s", id,
               p ? "present, should be absent" : "absent, should be present");
        if (p)
            check_val(c, id, p, "full check");
    }
    check_len(c);
    gomapdebug_stats s = gt_stats(c->m);
    DCHECK(c, s.count == c->count, "stats count %zu, reference %zu", s.count, c->count);
}

/* ------------------------------------------------------------ iteration */

/* A complete read-only iteration: every live entry exactly once. */
static void nested_check(ctx *c)
{
    c->nest_no++;
    c->nested++;
    gomap_iter it;
    gomap_iter_init(&it, c->m);
    const void *kp;
    void *vp;
    size_t n = 0;
    while (gomap_iter_next(&it, &kp, &vp)) {
        size_t id = decode_key(c, kp);
        DCHECK(c, c->epoch[id] != 0, "nested iteration returned absent id %zu", id);
        DCHECK(c, c->nest_seen[id] != c->nest_no, "nested iteration returned id %zu twice", id);
        c->nest_seen[id] = c->nest_no;
        check_val(c, id, vp, "nested iteration");
        n++;
        DCHECK(c, n <= c->count, "nested iteration returned more than len entries");
    }
    DCHECK(c, n == c->count, "nested iteration returned %zu of %zu entries", n, c->count);
}

enum { IT_READONLY, IT_LIGHT, IT_GROW, IT_DELETE, IT_MODES };

static void retlist_push(ctx *c, size_t id)
{
    if (c->retlen == c->retcap) {
        c->retcap = c->retcap ? 2 * c->retcap : 1024;
        c->retlist = realloc(c->retlist, c->retcap * sizeof *c->retlist);
        cr_assert_not_null(c->retlist);
    }
    c->retlist[c->retlen++] = id;
}

/* Calls iter_delete where the outcome is known, and checks it. */
static void try_iter_delete(ctx *c, gomap_iter *it, int *exp, size_t cur)
{
    if (*exp < 0)
        return;
    bool ok = gomap_iter_delete(it);
    DCHECK(c, ok == (*exp == 1), "iter_delete = %d, want %d (id %zu)", ok, *exp, cur);
    if (ok) {
        ref_del(c, cur);
        c->iter_deletes++;
    }
    *exp = 0;
}

static void run_iteration(ctx *c)
{
    int mode = (int)gt_below(&c->r, IT_MODES);
    uint32_t me = ++c->iter_no;
    c->iterations++;
    c->in_iter = true;
    c->begin_epoch = c->next_epoch;
    c->old_live = c->count;
    c->retlen = 0;
    size_t start_count = c->count;
    size_t abandon_at = gt_one_in(&c->r, 10) ? gt_below(&c->r, start_count + 1) : SIZE_MAX;
    size_t clear_at = gt_one_in(&c->r, 40) ? gt_below(&c->r, start_count + 1) : SIZE_MAX;
    size_t nest_at = (c->count <= 400 && gt_one_in(&c->r, 8)) ? gt_below(&c->r, start_count + 1)
                                                             : SIZE_MAX;
    /* Ids that writes during the iteration use: room to grow. */
    size_t K2 = c->K;
    if (mode == IT_GROW) {
        K2 = 2 * c->count + 64;
        if (K2 < c->K)
            K2 = c->K;
        if (K2 > c->n)
            K2 = c->n;
    }
    size_t inserted = 0, steps = 0;
    bool abandoned = false;
    gomapdebug_stats s0 = gt_stats(c->m);
    c->started_growing += s0.growing;
    gomap_iter it;
    gomap_iter_init(&it, c->m);
    for (;;) {
        if (steps == abandon_at) {
            abandoned = true;
            c->abandoned++;
            break;
        }
        const void *kp;
        void *vp;
        if (!gomap_iter_next(&it, &kp, &vp))
            break;
        steps++;
        c->iter_steps++;
        DCHECK(c, steps <= 2 * (start_count + inserted) + 16,
               "iteration does not end: %zu steps, %zu entries at start, %zu inserted", steps,
               start_count, inserted);
        size_t id = decode_key(c, kp);
        DCHECK(c, c->epoch[id] != 0,
               "iteration returned id %zu, which is not in the map (deleted before it was "
               "reached?)",
               id);
        DCHECK(c, !(c->ret_iter[id] == me && c->ret_epoch[id] == c->epoch[id]),
               "iteration returned the same entry twice (id %zu, epoch %llu)", id,
               (unsigned long long)c->epoch[id]);
        c->ret_iter[id] = me;
        c->ret_epoch[id] = c->epoch[id];
        retlist_push(c, id);
        check_val(c, id, vp, "iteration (values must be current)");
        if (c->sh->val_size)
            DCHECK(c, gomap_get(c->m, kp) == vp, "iterated value of id %zu is not the live slot",
                   id);
        else
            DCHECK(c, gomap_get(c->m, kp) != NULL, "iterated id %zu is not found by get", id);
        int exp = 1; /* iter_delete would succeed now */
        size_t cur = id;

        if (steps == nest_at)
            nested_check(c);
        if (steps == clear_at) {
            int w = do_op(c, OP_CLEAR, 0);
            exp = w == 1 ? 0 : exp == 1 && w < 0 ? -1 : exp;
        }
        switch (mode) {
        case IT_READONLY:
            break;
        case IT_LIGHT:
            if (gt_one_in(&c->r, 6)) {
                int op = pick_op(c);
                size_t oid = gt_below(&c->r, K2);
                bool was = c->epoch[oid] != 0;
                int w = do_op(c, op, oid);
                inserted += !was && c->epoch[oid];
                if (w == 1)
                    exp = 0;
                else if (w < 0 && exp == 1)
                    exp = -1;
            }
            if (gt_one_in(&c->r, 12))
                try_iter_delete(c, &it, &exp, cur);
            break;
        case IT_GROW: {
            int nins = 1 + (int)gt_below(&c->r, 4);
            for (int j = 0; j < nins; j++) {
                size_t oid = gt_below(&c->r, K2);
                bool was = c->epoch[oid] != 0;
                do_op(c, gt_one_in(&c->r, 4) ? OP_ASSIGN : OP_SET, oid);
                inserted += !was;
                exp = 0;
            }
            if (gt_one_in(&c->r, 3)) {
                size_t oid = gt_below(&c->r, K2);
                int w = do_op(c, OP_DELETE, oid);
                if (w < 0 && exp == 1)
                    exp = -1;
            }
            break;
        }
        case IT_DELETE:
            if (gt_one_in(&c->r, 2)) {
                try_iter_delete(c, &it, &exp, cur);
                if (gt_one_in(&c->r, 3)) {
                    bool again = gomap_iter_delete(&it);
                    DCHECK(c, !again, "a second iter_delete of id %zu succeeded", cur);
                }
            } else if (gt_one_in(&c->r, 4)) {
                /* Delete the current entry by key, then iter_delete must fail. */
                do_op(c, OP_DELETE, cur);
                exp = 0;
                try_iter_delete(c, &it, &exp, cur);
            }
            break;
        }
    }
    gomapdebug_stats s1 = gt_stats(c->m);
    if (s1.B != s0.B || s1.growing != s0.growing || s1.nevacuate != s0.nevacuate)
        c->grew_during++;
    if (s1.B > c->max_B)
        c->max_B = s1.B;
    if (!abandoned) {
        /* Every entry live at the start and still live (same epoch) came. */
        size_t came = 0;
        for (size_t i = 0; i < c->retlen; i++) {
            size_t id = c->retlist[i];
            if (c->epoch[id] && c->ret_epoch[id] == c->epoch[id] &&
                c->epoch[id] <= c->begin_epoch)
                came++;
        }
        if (came != c->old_live) {
            for (size_t id = 0; id < c->n; id++) {
                if (c->epoch[id] && c->epoch[id] <= c->begin_epoch)
                    DCHECK(c, c->ret_iter[id] == me && c->ret_epoch[id] == c->epoch[id],
                           "id %zu was in the map for the whole iteration (mode %d) but never "
                           "came",
                           id, mode);
            }
            DCHECK(c, false, "end of iteration: %zu entries came of %zu present throughout",
                   came, c->old_live);
        }
    }
    c->in_iter = false;
}

/* ------------------------------------------------------------- the driver */

static long scaled_ops(long ops)
{
    double scale = GT_SANITIZED ? 0.5 : 1.0;
    const char *e = getenv("GOMAP_DIFF_SCALE");
    if (e && *e)
        scale = strtod(e, NULL);
    long n = (long)((double)ops * scale);
    return n > 1000 ? n : 1000;
}

/* A fresh map with a random hint, and an empty reference. */
static void new_map(ctx *c)
{
    const shape *sh = c->sh;
    gomap_type t = {.key_size = sh->key_size, .val_size = sh->val_size, .hash = sh->hash,
                    .equal = sh->equal};
    size_t hint = gt_one_in(&c->r, 2) ? 0 : gt_below(&c->r, 3000);
    c->m = gomap_new(&t, hint);
    cr_assert_not_null(c->m, "gomap_new(hint %zu) failed", hint);
    ref_clear(c);
}

static void run_shape(const shape *sh)
{
    ctx *c = calloc(1, sizeof *c);
    cr_assert_not_null(c);
    c->sh = sh;
    c->seed = sh->seed;
    const char *e = getenv("GOMAP_DIFF_SEED");
    if (e && *e)
        c->seed = strtoull(e, NULL, 0) * 1000 + sh->seed;
    c->r.s = c->seed;
    c->n = sh->max_ids;
    c->epoch = calloc(c->n, sizeof *c->epoch);
    c->vseed = calloc(c->n, sizeof *c->vseed);
    c->ret_epoch = calloc(c->n, sizeof *c->ret_epoch);
    c->ret_iter = calloc(c->n, sizeof *c->ret_iter);
    c->nest_seen = calloc(c->n, sizeof *c->nest_seen);
    cr_assert(c->epoch && c->vseed && c->ret_epoch && c->ret_iter && c->nest_seen);
    new_map(c);

    static const size_t sizes[] = {8, 40, 300, 3000, 20000, SIZE_MAX};
    long ops = scaled_ops(sh->ops);
    long phase_end = 0, next_full = 200000;
    long since_iter = 0, gap = 100, iterate_at = -1;
    bool was_growing = false;
    for (c->op = 0; c->op < ops; c->op++) {
        if (c->op == phase_end) {
            /* Go maps never shrink: start over now and then, so growth
             * keeps happening at every size. */
            if (c->op > 0 && gt_one_in(&c->r, 2)) {
                gomap_free(c->m);
                new_map(c);
                c->recycled++;
            }
            size_t K = sizes[gt_below(&c->r, sizeof sizes / sizeof sizes[0])];
            c->K = K < c->n ? K : c->n;
            c->bias = (int)gt_below(&c->r, 3);
            phase_end = c->op + 1000 + (long)gt_below(&c->r, 20000);
        }
        if (gt_one_in(&c->r, 40000)) {
            do_op(c, OP_CLEAR, 0);
        } else {
            do_op(c, pick_op(c), gt_below(&c->r, c->K));
        }
        check_len(c);
        /* Iterate about every count/2 operations, and often right when an
         * evacuation is in progress. */
        bool due = ++since_iter >= gap;
        gomapdebug_stats gs = gt_stats(c->m);
        if (gs.growing && !was_growing && gt_one_in(&c->r, 2)) {
            /* A growth just began: iterate while it is under way. */
            size_t span = gs.B > 4 ? (size_t)1 << (gs.B - 4) : 1;
            iterate_at = c->op + (long)gt_below(&c->r, span > 16 ? 16 : span);
        }
        was_growing = gs.growing;
        if (c->op == iterate_at)
            due = true;
        if (due) {
            since_iter = 0;
            gap = 50 + (long)c->count / 2;
            if (!gs.growing && gt_one_in(&c->r, 3)) {
                /* Insert until a growth begins, to start the iteration in
                 * the middle of an evacuation. */
                size_t K2 = 2 * c->count + 64;
                K2 = K2 < c->K ? c->K : K2 > c->n ? c->n : K2;
                for (int j = 0; j < 4096 && c->count < c->n / 2; j++) {
                    do_op(c, OP_SET, gt_below(&c->r, K2));
                    if (gt_stats(c->m).growing)
                        break;
                }
            }
            run_iteration(c);
            check_len(c);
        }
        if (c->op == next_full) {
            full_check(c);
            next_full += 200000;
        }
    }
    /* What is asserted below depends on the library's random seeds too
     * (iteration order decides which entries iter_delete removes), and a
     * colliding shape rarely grows once its map is full: if the run has
     * not yet started an iteration mid-growth, start one on a fresh map. */
    long bar = 1 + ops / 200000;
    for (int tries = 0; c->started_growing < bar && tries < 100; tries++) {
        gomap_free(c->m);
        new_map(c);
        c->recycled++;
        for (int j = 0; j < 4096 && !gt_stats(c->m).growing; j++)
            do_op(c, OP_SET, gt_below(&c->r, c->n));
        run_iteration(c);
        check_len(c);
    }
    full_check(c);
    nested_check(c);
    cr_log_info("diff %s: %ld ops, %ld iterations (%ld steps, %ld abandoned, %ld nested), "
                "%ld iter_deletes, %ld clears, %ld new maps, max B %zu; %ld iterations started "
                "mid-growth, %ld saw growth/evacuation",
                sh->name, ops, c->iterations, c->iter_steps, c->abandoned, c->nested,
                c->iter_deletes, c->clears, c->recycled, c->max_B, c->started_growing,
                c->grew_during);
    /* The run must have exercised what it claims to. The counts depend on
     * the library's random seeds too, so the bars are low. */
    cr_assert(c->iterations > ops / 10000, "%s: only %ld iterations", sh->name, c->iterations);
    cr_assert(c->iter_deletes > 0, "%s: no iter_delete succeeded", sh->name);
    cr_assert(c->max_B >= 8, "%s: the map never grew past B=%zu", sh->name, c->max_B);
    cr_assert(c->started_growing >= bar, "%s: only %ld iterations started mid-growth", sh->name,
              c->started_growing);
    cr_assert(c->grew_during >= bar, "%s: only %ld iterations saw the map grow", sh->name,
              c->grew_during);
    gomap_free(c->m);
    free(c->epoch);
    free(c->vseed);
    free(c->ret_epoch);
    free(c->ret_iter);
    free(c->nest_seen);
    free(c->retlist);
    free(c);
}

Test(diff, op_budget)
{
    long total = 0;
    for (int i = 0; i < NSHAPES; i++)
        total += shapes[i].ops;
    cr_assert(total >= 5000000, "the differential test runs %ld operations, want >= 5M", total);
}

Test(diff, u64) { run_shape(&shapes[0]); }
Test(diff, u32_v12) { run_shape(&shapes[1]); }
Test(diff, b16) { run_shape(&shapes[2]); }
Test(diff, b12_callbacks) { run_shape(&shapes[3]); }
Test(diff, b200_v136) { run_shape(&shapes[4]); }
Test(diff, b200_v8) { run_shape(&shapes[5]); }
Test(diff, u64_v200) { run_shape(&shapes[6]); }
Test(diff, set_u64) { run_shape(&shapes[7]); }
Test(diff, collide_mod7) { run_shape(&shapes[8]); }
Test(diff, f64) { run_shape(&shapes[9]); }
