/*
 * The wrappers: every function gomap.h exports, under the same name.
 *
 * Preloaded, these definitions come first in symbol lookup, so the
 * application's calls land here; the real functions are found behind us
 * with dlsym(RTLD_NEXT). libgomap never calls its own exports through the
 * PLT, so every call seen here is one the application made, or one made
 * from a callback the application gave the library (a hash or equal
 * function calling into another map), which is checked like any other.
 *
 * Each wrapper: get, lookup, len, set, assign, delete and iter_next first try the
 * register-only fast path (detect.h); otherwise, and for the other calls,
 * mg_begin decides whether to check, and reads go through the read hooks,
 * writes through the write hooks, with the real call in between. A call on a map that was freed is reported and then behaves as
 * on the nil map, without calling the library. The key helpers and
 * strerror only pass through.
 */
#include "detect.h"

#include <dlfcn.h>
#include <errno.h>

/* Until the library is found, calls behave as on the nil map. */
static uint64_t nil_hash(const void *k, size_t n, uint64_t s) { (void)k, (void)n; return s; }
static bool nil_equal(const void *a, const void *b, size_t n) { (void)a, (void)b, (void)n; return false; }
static gomap *nil_new(const gomap_type *t, size_t h) { (void)t, (void)h; errno = ENOMEM; return NULL; }
static void nil_free(gomap *m) { (void)m; }
static size_t nil_len(const gomap *m) { (void)m; return 0; }
static void *nil_get(const gomap *m, const void *k) { (void)m, (void)k; return NULL; }
static bool nil_lookup(const gomap *m, const void *k, void *v) { (void)m, (void)k, (void)v; return false; }
static int nil_set(gomap *m, const void *k, const void *v) { (void)m, (void)k, (void)v; return GOMAP_ENIL; }
static void *nil_assign(gomap *m, const void *k) { (void)m, (void)k; return NULL; }
static bool nil_delete(gomap *m, const void *k) { (void)m, (void)k; return false; }
static void nil_clear(gomap *m) { (void)m; }
static void nil_iter_init(gomap_iter *it, gomap *m) { (void)it, (void)m; }
static bool nil_iter_next(gomap_iter *it, const void **k, void **v) { (void)it, (void)k, (void)v; return false; }
static bool nil_iter_delete(gomap_iter *it) { (void)it; return false; }
static const char *nil_strerror(int e) { (void)e; return "unknown error"; }

struct mg_real mg_real = {
    nil_hash, nil_hash, nil_equal, nil_hash, nil_equal, nil_new, nil_free, nil_len, nil_get, nil_lookup,
    nil_set, nil_assign, nil_delete, nil_clear, nil_iter_init, nil_iter_next, nil_iter_delete, nil_strerror,
};

#define RESOLVE(field, name)                                   \
    do {                                                       \
        void *p = dlsym(RTLD_NEXT, name);                      \
        if (p)                                                 \
            *(void **)(void *)&mg_real.field = p;              \
        else                                                   \
            ok = false;                                        \
    } while (0)

bool mg_resolve_real(void)
{
    bool ok = true;
    RESOLVE(hash_bytes, "gomap_hash_bytes");
    RESOLVE(hash_cstr, "gomap_hash_cstr");
    RESOLVE(equal_cstr, "gomap_equal_cstr");
    RESOLVE(hash_f64, "gomap_hash_f64");
    RESOLVE(equal_f64, "gomap_equal_f64");
    RESOLVE(new_, "gomap_new");
    RESOLVE(free_, "gomap_free");
    RESOLVE(len, "gomap_len");
    RESOLVE(get, "gomap_get");
    RESOLVE(lookup, "gomap_lookup");
    RESOLVE(set, "gomap_set");
    RESOLVE(assign, "gomap_assign");
    RESOLVE(delete_, "gomap_delete");
    RESOLVE(clear, "gomap_clear");
    RESOLVE(iter_init, "gomap_iter_init");
    RESOLVE(iter_next, "gomap_iter_next");
    RESOLVE(iter_delete, "gomap_iter_delete");
    RESOLVE(strerror_, "gomap_strerror");
    return ok;
}

#define CALLER() ((uintptr_t)__builtin_return_address(0))

/* ---- pass-through helpers ---- */

MG_EXPORT uint64_t gomap_hash_bytes(const void *key, size_t key_size, uint64_t seed)
{
    mg_init();
    return mg_real.hash_bytes(key, key_size, seed);
}

MG_EXPORT uint64_t gomap_hash_cstr(const void *key, size_t key_size, uint64_t seed)
{
    mg_init();
    return mg_real.hash_cstr(key, key_size, seed);
}

MG_EXPORT bool gomap_equal_cstr(const void *a, const void *b, size_t key_size)
{
    mg_init();
    return mg_real.equal_cstr(a, b, key_size);
}

MG_EXPORT uint64_t gomap_hash_f64(const void *key, size_t key_size, uint64_t seed)
{
    mg_init();
    return mg_real.hash_f64(key, key_size, seed);
}

MG_EXPORT bool gomap_equal_f64(const void *a, const void *b, size_t key_size)
{
    mg_init();
    return mg_real.equal_f64(a, b, key_size);
}

MG_EXPORT const char *gomap_strerror(int err)
{
    mg_init();
    return mg_real.strerror_(err);
}

/* ---- lifetime ---- */

MG_EXPORT gomap *gomap_new(const gomap_type *type, size_t hint)
{
    uintptr_t pc = CALLER();
    mg_init();
    gomap *m = mg_real.new_(type, hint);
    if (m && !mg_self.busy) {
        int saved = errno;
        mg_map_created(m, type, pc);
        errno = saved;
    }
    return m;
}

MG_EXPORT void gomap_free(gomap *m)
{
    struct mg_call c;
    switch (mg_begin(&c, m, MG_OP_FREE, CALLER())) {
    case MG_PASS:
        mg_real.free_(m);
        return;
    case MG_FREED:
        mg_double_free(&c);
        return;
    }
    mg_write_enter(&c);
    mg_free_mark(&c);
    mg_write_exit(&c);
    mg_quarantine(m);
}

/* ---- reads ---- */

static MG_NOINLINE size_t len_checked(const gomap *m, uintptr_t pc)
{
    struct mg_call c;
    switch (mg_begin(&c, m, MG_OP_LEN, pc)) {
    case MG_PASS:
        return mg_real.len(m);
    case MG_FREED:
        mg_use_after_free(&c);
        return 0;
    }
    mg_read_enter(&c);
    size_t r = mg_real.len(m);
    mg_read_exit(&c);
    return r;
}

MG_EXPORT size_t gomap_len(const gomap *m)
{
    struct mg_fast f;
    if (MG_LIKELY(mg_fast_read(m, &f))) {
        size_t r = mg_real.len(m);
        mg_fast_read_done(&f, m, MG_OP_LEN, CALLER());
        return r;
    }
    return len_checked(m, CALLER());
}

static MG_NOINLINE void *get_checked(const gomap *m, const void *key, uintptr_t pc)
{
    struct mg_call c;
    switch (mg_begin(&c, m, MG_OP_GET, pc)) {
    case MG_PASS:
        return mg_real.get(m, key);
    case MG_FREED:
        mg_use_after_free(&c);
        return NULL;
    }
    mg_read_enter(&c);
    void *r = mg_real.get(m, key);
    mg_read_exit(&c);
    return r;
}

MG_EXPORT void *gomap_get(const gomap *m, const void *key)
{
    struct mg_fast f;
    if (MG_LIKELY(mg_fast_read(m, &f))) {
        void *r = mg_real.get(m, key);
        mg_fast_read_done(&f, m, MG_OP_GET, CALLER());
        return r;
    }
    return get_checked(m, key, CALLER());
}

static MG_NOINLINE bool lookup_checked(const gomap *m, const void *key, void *val_out, uintptr_t pc)
{
    struct mg_call c;
    switch (mg_begin(&c, m, MG_OP_LOOKUP, pc)) {
    case MG_PASS:
        return mg_real.lookup(m, key, val_out);
    case MG_FREED:
        mg_use_after_free(&c);
        return false; /* the nil map leaves val_out alone */
    }
    mg_read_enter(&c);
    bool r = mg_real.lookup(m, key, val_out);
    mg_read_exit(&c);
    return r;
}

MG_EXPORT bool gomap_lookup(const gomap *m, const void *key, void *val_out)
{
    struct mg_fast f;
    if (MG_LIKELY(mg_fast_read(m, &f))) {
        bool r = mg_real.lookup(m, key, val_out);
        mg_fast_read_done(&f, m, MG_OP_LOOKUP, CALLER());
        return r;
    }
    return lookup_checked(m, key, val_out, CALLER());
}

/* ---- writes ---- */

static MG_NOINLINE int set_checked(gomap *m, const void *key, const void *val, uintptr_t pc)
{
    struct mg_call c;
    switch (mg_begin(&c, m, MG_OP_SET, pc)) {
    case MG_PASS:
        if (!m)
            mg_nil_write(MG_OP_SET, pc);
        return mg_real.set(m, key, val);
    case MG_FREED:
        mg_use_after_free(&c);
        return GOMAP_ENIL;
    }
    mg_write_enter(&c);
    bool watch = mg_wants_inserts(&c);
    size_t n0 = watch ? mg_real.len(m) : 0;
    int r = mg_real.set(m, key, val);
    if (watch && mg_real.len(m) > n0)
        mg_inserted(&c, key);
    mg_write_exit(&c);
    return r;
}

MG_EXPORT int gomap_set(gomap *m, const void *key, const void *val)
{
    struct mg_fast f;
    uintptr_t pc = CALLER();
    if (MG_LIKELY(mg_fast_write(m, MG_OP_SET, pc, &f))) {
        int r = mg_real.set(m, key, val);
        mg_fast_write_done(&f, m, MG_OP_SET, pc);
        return r;
    }
    return set_checked(m, key, val, pc);
}

static MG_NOINLINE void *assign_checked(gomap *m, const void *key, uintptr_t pc)
{
    struct mg_call c;
    switch (mg_begin(&c, m, MG_OP_ASSIGN, pc)) {
    case MG_PASS:
        if (!m)
            mg_nil_write(MG_OP_ASSIGN, pc);
        return mg_real.assign(m, key);
    case MG_FREED:
        mg_use_after_free(&c);
        return NULL;
    }
    mg_write_enter(&c);
    bool watch = mg_wants_inserts(&c);
    size_t n0 = watch ? mg_real.len(m) : 0;
    void *r = mg_real.assign(m, key);
    if (watch && mg_real.len(m) > n0)
        mg_inserted(&c, key);
    mg_write_exit(&c);
    return r;
}

MG_EXPORT void *gomap_assign(gomap *m, const void *key)
{
    struct mg_fast f;
    uintptr_t pc = CALLER();
    if (MG_LIKELY(mg_fast_write(m, MG_OP_ASSIGN, pc, &f))) {
        void *r = mg_real.assign(m, key);
        mg_fast_write_done(&f, m, MG_OP_ASSIGN, pc);
        return r;
    }
    return assign_checked(m, key, pc);
}

static MG_NOINLINE bool delete_checked(gomap *m, const void *key, uintptr_t pc)
{
    struct mg_call c;
    switch (mg_begin(&c, m, MG_OP_DELETE, pc)) {
    case MG_PASS:
        return mg_real.delete_(m, key);
    case MG_FREED:
        mg_use_after_free(&c);
        return false;
    }
    mg_write_enter(&c);
    bool r = mg_real.delete_(m, key);
    if (r)
        mg_structural(&c);
    mg_write_exit(&c);
    return r;
}

MG_EXPORT bool gomap_delete(gomap *m, const void *key)
{
    struct mg_fast f;
    uintptr_t pc = CALLER();
    if (MG_LIKELY(mg_fast_write(m, MG_OP_DELETE, pc, &f))) {
        bool r = mg_real.delete_(m, key);
        mg_fast_write_done(&f, m, MG_OP_DELETE, pc);
        return r;
    }
    return delete_checked(m, key, pc);
}

MG_EXPORT void gomap_clear(gomap *m)
{
    struct mg_call c;
    switch (mg_begin(&c, m, MG_OP_CLEAR, CALLER())) {
    case MG_PASS:
        mg_real.clear(m);
        return;
    case MG_FREED:
        mg_use_after_free(&c);
        return;
    }
    mg_write_enter(&c);
    size_t n0 = mg_real.len(m);
    mg_real.clear(m);
    if (n0)
        mg_structural(&c);
    mg_write_exit(&c);
}

/* ---- iteration ---- */

static void iter_untracked(gomap_iter *it)
{
    it->tool_[IW_MAP] = 0;
    it->tool_[IW_GEN] = 0;
    it->tool_[IW_SITE] = 0;
}

MG_EXPORT void gomap_iter_init(gomap_iter *it, gomap *m)
{
    struct mg_call c;
    switch (mg_begin(&c, m, MG_OP_ITER_INIT, CALLER())) {
    case MG_PASS:
        mg_real.iter_init(it, m);
        iter_untracked(it);
        return;
    case MG_FREED:
        mg_use_after_free(&c);
        mg_real.iter_init(it, NULL);
        iter_untracked(it);
        return;
    }
    mg_mark_iterated(&c);
    mg_read_enter(&c);
    uint32_t gen = shape_gen(MG_RD(c.w[MW_SHAPE]));
    mg_real.iter_init(it, m);
    mg_read_exit(&c);
    it->tool_[IW_MAP] = (uint64_t)(uintptr_t)m;
    it->tool_[IW_GEN] = it_gen_make(gen, c.self);
    it->tool_[IW_SITE] = c.pc;
}

/* The map an iterator walks, when the shim set the iterator up. */
static gomap *iter_map(const gomap_iter *it)
{
    return it_valid(it->tool_[IW_GEN]) ? (gomap *)(uintptr_t)it->tool_[IW_MAP] : NULL;
}

static MG_NOINLINE bool iter_next_checked(gomap_iter *it, const void **key, void **val, uintptr_t pc)
{
    struct mg_call c;
    mg_init();
    gomap *m = mg_self.busy ? NULL : iter_map(it);
    switch (mg_begin(&c, m, MG_OP_ITER_NEXT, pc)) {
    case MG_PASS:
        return mg_real.iter_next(it, key, val);
    case MG_FREED:
        mg_use_after_free(&c);
        return false;
    }
    mg_read_enter(&c);
    uint32_t gen = shape_gen(MG_RD(c.w[MW_SHAPE]));
    if (MG_UNLIKELY(gen != it_gen(it->tool_[IW_GEN])))
        mg_iter_modified(&c, it, gen);
    bool r = mg_real.iter_next(it, key, val);
    mg_read_exit(&c);
    it->tool_[IW_GEN] = it_gen_make(gen, it_thread(it->tool_[IW_GEN]));
    return r;
}

/* The fast path: a checked iterator whose map has not changed shape. */
MG_EXPORT bool gomap_iter_next(gomap_iter *it, const void **key, void **val)
{
    struct mg_fast f;
    gomap *m = iter_map(it);
    if (MG_LIKELY(mg_fast_read(m, &f) && shape_gen(MG_RD(f.w[MW_SHAPE])) == it_gen(it->tool_[IW_GEN]))) {
        bool r = mg_real.iter_next(it, key, val);
        mg_fast_read_done(&f, m, MG_OP_ITER_NEXT, CALLER());
        return r;
    }
    return iter_next_checked(it, key, val, CALLER());
}

MG_EXPORT bool gomap_iter_delete(gomap_iter *it)
{
    struct mg_call c;
    mg_init();
    gomap *m = mg_self.busy ? NULL : iter_map(it);
    switch (mg_begin(&c, m, MG_OP_ITER_DELETE, CALLER())) {
    case MG_PASS:
        return mg_real.iter_delete(it);
    case MG_FREED:
        mg_use_after_free(&c);
        return false;
    }
    mg_write_enter(&c);
    uint32_t before = shape_gen(MG_RD(c.w[MW_SHAPE]));
    bool r = mg_real.iter_delete(it);
    if (r) {
        mg_structural(&c);
        /* The iterator's own deletion does not count against it. */
        uint64_t g = it->tool_[IW_GEN];
        if (it_gen(g) == before)
            it->tool_[IW_GEN] = it_gen_make(before + 1, it_thread(g));
    }
    mg_write_exit(&c);
    return r;
}
