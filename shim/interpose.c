/*
 * The wrappers: every function gomap.h exports, under the same name.
 *
 * Preloaded, these definitions come first in symbol lookup, so the
 * application's calls land here; the real functions are found behind us
 * (intercept.h: dlsym(RTLD_NEXT) at start, or later, when a dlopen brings
 * libgomap in). libgomap never calls its own exports through the PLT, so
 * every call seen here is one the application made, or one made from a
 * callback the application gave the library (a hash or equal function
 * calling into another map), which is checked like any other.
 *
 * The API is listed in gomap_api.inc; from it come, here, the pointers to
 * the real functions with their nil stubs, the table that resolves them,
 * the op names and the pass-through wrappers of the key helpers and
 * strerror. The map operations' wrappers are written out below, one
 * MG_WRAPPER each: get, lookup, len, set, assign, delete and iter_next
 * first try the bare solo path of a process that never had a second
 * thread, then (in *_full, out of line, so that the bare path's wrapper
 * keeps no frame) the solo path with an exit and the register-only fast
 * path (detect.h); otherwise, and for the
 * other calls, mg_begin decides whether to check, and reads go through the
 * read hooks, writes through the write hooks, with the real call in
 * between. Both paths enter and leave through mg_hook_enter/mg_hook_leave.
 * A call on a map that was freed is reported and then behaves as on the
 * nil map, without calling the library.
 */
#include "detect.h"
#include "ghash_api.h"

#include <dlfcn.h>
#include <errno.h>

/* ---- the real functions, from gomap_api.inc ---- */

/* Until the library is found, the pointers lead to these stubs. Each
 * looks for the library first: a dlopen may have brought it in since
 * start (found_late). Without it, the call behaves as on the nil
 * map. So the search costs nothing once the library is found, and no
 * wrapper tests for it. */
static bool found_late(void *const *real, const void *stub);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define GOMAP_OP(OP, access, ret, name, params, args, nil)                                                         \
    static ret nil_##name params;                                                                                  \
    MG_HIDDEN ret(*MG_REAL(gomap_##name)) params = nil_##name;                                                     \
    static ret nil_##name params                                                                                   \
    {                                                                                                              \
        if (found_late((void *const *)(void *)&MG_REAL(gomap_##name), (const void *)(uintptr_t)nil_##name))       \
            return MG_REAL(gomap_##name) args;                                                                     \
        nil;                                                                                                       \
    }                                                                                                              \
    /* the list and gomap.h must agree, or a call would go through a                                            \
     * pointer of the wrong type */                                                                                \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&gomap_##name), ret(*) params),                         \
                   "gomap_api.inc and gomap.h disagree on gomap_" #name);
#define GOMAP_HELPER(ret, name, params, args, nil) GOMAP_OP(, , ret, name, params, args, nil)
#include "gomap_api.inc"
#pragma GCC diagnostic pop

static const struct mg_intercept gomap_intercepts[] = {
#define GOMAP_OP(OP, access, ret, name, params, args, nil) MG_INTERCEPT(gomap_##name),
#define GOMAP_HELPER(ret, name, params, args, nil) MG_INTERCEPT(gomap_##name),
#include "gomap_api.inc"
};

const char *mg_op_name(unsigned op)
{
    if (mg_op_is_ghash(op)) {
        const char *gh = mg_gh_op_name(op);
        return gh ? gh : "none";
    }
    static const char *const names[] = {
        [MG_OP_NONE] = "none",
#define GOMAP_OP(OP, access, ret, name, params, args, nil) [MG_OP_##OP] = #name,
#include "gomap_api.inc"
    };
    return op < sizeof names / sizeof names[0] ? names[op] : "none";
}

/* One lookup for a program without libgomap (most programs a CI job
 * runs: every failed lookup costs the loader an error message of its
 * own); the stubs look again if a dlopen brings it in. */
bool mg_resolve_real(void)
{
    if (!dlsym(RTLD_NEXT, "gomap_new"))
        return false;
    mg_intercept_resolve(gomap_intercepts, MG_INTERCEPT_COUNT(gomap_intercepts));
    return MG_REAL_LOAD(gomap_new) != nil_new;
}

/* libgomap arrived after start, brought in by a library that dlopen
 * loaded (its calls reach us through its PLT), or not yet. Looked up
 * without the loader's lock (intercept.c): this may run on a thread that a
 * constructor, holding that lock, waits for. Several threads may look at
 * once; they store the same addresses. The fast paths never get here: they
 * run only on maps made through the wrapper, after the library was found.
 * True when the stub's own function is now found. */
static bool found_late(void *const *real, const void *stub)
{
    mg_intercept_resolve_loaded(gomap_intercepts, MG_INTERCEPT_COUNT(gomap_intercepts), "gomap_new");
    return __atomic_load_n(real, __ATOMIC_ACQUIRE) != stub;
}

/* ---- pass-through helpers, from gomap_api.inc ---- */

#define GOMAP_OP(OP, access, ret, name, params, args, nil)
#define GOMAP_HELPER(ret, name, params, args, nil)                                                                 \
    MG_WRAPPER(ret, gomap_##name, params)                                                                          \
    {                                                                                                              \
        mg_init();                                                                                                 \
        return MG_REAL(gomap_##name) args;                                                                         \
    }
#include "gomap_api.inc"

#define CALLER() ((uintptr_t)__builtin_return_address(0))

/* The fast paths (detect.h). When the entry hook's same-epoch test fails,
 * the rest of the call (the engine's entry, the real call, the exit) goes
 * out of line, to the wrapper's *_fast_rest: the wrapper then makes no
 * call of its own before the real one, so the arguments stay in the
 * registers they came in, and the call site is read from the stack only
 * on the paths that need it. Its exit goes straight to the full one
 * (mg_fast_*_slow): the call is in a new epoch, so the hook records it,
 * and the inline exit's tests would only decline. This is the path of a
 * map call after a lock handoff, inside the program's critical section. */
#define FAST_REST(KIND, OP, m, s, pc, call)                                                                        \
    do {                                                                                                           \
        mg_fast_hb_enter(mg_words(m), MG_OP_##OP, (pc));                                                           \
        __typeof__(call) r_ = call;                                                                                \
        mg_in_call_leave_map(mg_words(m));                                                                         \
        mg_fast_##KIND##_slow((m), MG_OP_##OP, (pc), (s));                                                         \
        return r_;                                                                                                 \
    } while (0)
#define FAST_READ_REST(OP, m, s, pc, call) FAST_REST(read, OP, m, s, pc, call)
#define FAST_WRITE_REST(OP, m, s, pc, call) FAST_REST(write, OP, m, s, pc, call)

/* A solo call with an exit (a map with a callback, an iteration step)
 * during which the process got its second thread (its hash callback made
 * one, or a signal handler that interrupted it): it ran unrecorded, and
 * the new thread may already have used the map, or use it later. It goes
 * to the engine now, at its exit, as a call of no length would: checked
 * against what the new thread did meanwhile, and recorded, in the epoch
 * after the creation, for what it does later. */
static MG_COLD MG_NOINLINE void solo_threaded_exit(const gomap *m, unsigned op, uintptr_t pc)
{
    mg_self.solo_threaded = false;
    if (!mg_hb_is_awake())
        return;
    uint64_t *w = mg_words(m);
    mg_hb_enter(w, op, pc);
    mg_hb_leave(w, op, pc);
}

/* The solo path (detect.h). A bare call (a map with no callback of the
 * program's) names itself in the in-call word, for a crash record, and
 * jumps to the real function: the wrapper keeps no frame and does nothing
 * on return (in_call.h). The others keep an exit, which clears the word
 * and records the call if a thread was made during it. */
#define SOLO_BARE(m, OP, call)                                                                                     \
    do {                                                                                                           \
        mg_in_call_enter_bare((m), MG_OP_##OP, (uintptr_t)__builtin_dwarf_cfa());                                  \
        return call;                                                                                               \
    } while (0)
#define SOLO_EXIT(m, OP, pc)                                                                                       \
    do {                                                                                                           \
        mg_in_call_leave_map(mg_words(m));                                                                         \
        if (MG_UNLIKELY(mg_self.solo_threaded))                                                                    \
            solo_threaded_exit((m), MG_OP_##OP, (pc));                                                             \
    } while (0)
#define SOLO_CALL(m, OP, pc, call)                                                                                 \
    do {                                                                                                           \
        mg_in_call_enter_solo((m), MG_OP_##OP);                                                                    \
        __typeof__(call) r_ = call;                                                                                \
        SOLO_EXIT(m, OP, pc);                                                                                      \
        return r_;                                                                                                 \
    } while (0)

/* ---- lifetime ---- */

MG_WRAPPER(gomap *, gomap_new, (const gomap_type *type, size_t hint))
{
    uintptr_t pc = CALLER();
    mg_init();
    gomap *m = MG_REAL(gomap_new)(type, hint);
    if (m && !mg_self.busy) {
        int saved = errno;
        mg_map_created(m, type, pc);
        errno = saved;
    }
    return m;
}

MG_WRAPPER(void, gomap_free, (gomap *m))
{
    struct mg_call c;
    switch (mg_begin(&c, m, MG_OP_FREE, CALLER())) {
    case MG_PASS:
        MG_REAL(gomap_free)(m);
        return;
    case MG_FREED:
        mg_double_free(&c);
        return;
    }
    mg_write_enter(&c);
    mg_free_mark(&c);
    mg_write_exit(&c);
    /* The release (the map's own now, or an older one's the quarantine
     * evicts) is still the program's gomap_free: a crash in it names the
     * call. The map's words are not read after the release. */
    mg_in_call_enter(m, MG_OP_FREE);
    mg_quarantine(m);
    mg_in_call_leave();
}

/* ---- reads ---- */

static MG_NOINLINE size_t len_checked(const gomap *m, uintptr_t pc)
{
    struct mg_call c;
    switch (mg_begin(&c, m, MG_OP_LEN, pc)) {
    case MG_PASS:
        return MG_REAL(gomap_len)(m);
    case MG_FREED:
        mg_use_after_free(&c);
        return 0;
    }
    mg_read_enter(&c);
    size_t r = MG_REAL(gomap_len)(m);
    mg_read_exit(&c);
    return r;
}

static MG_COLD size_t len_fast_rest(const gomap *m, uintptr_t pc, uint64_t s)
{
    FAST_READ_REST(LEN, m, s, pc, MG_REAL(gomap_len)(m));
}

static MG_NOINLINE size_t len_full(const gomap *m, uintptr_t pc)
{
    if (mg_solo(m)) /* a framed map (mapstate.h, SH_FRAMED) */
        SOLO_CALL(m, LEN, pc, MG_REAL(gomap_len)(m));
    struct mg_fast f;
    if (MG_LIKELY(mg_fast_read(m, NULL, MG_OP_LEN, &f))) {
        if (MG_UNLIKELY(!mg_hb_same_epoch(f.w, MG_OP_LEN)))
            return len_fast_rest(m, pc, f.s);
        size_t r = MG_REAL(gomap_len)(m);
        if (MG_UNLIKELY(!mg_fast_read_done(&f, MG_OP_LEN)))
            mg_fast_read_slow(m, MG_OP_LEN, pc, f.s);
        return r;
    }
    return len_checked(m, pc);
}

MG_WRAPPER(size_t, gomap_len, (const gomap *m))
{
    if (MG_LIKELY(mg_solo_bare(m)))
        SOLO_BARE(m, LEN, MG_REAL(gomap_len)(m));
    return len_full(m, CALLER());
}

static MG_NOINLINE void *get_checked(const gomap *m, const void *key, uintptr_t pc)
{
    struct mg_call c;
    switch (mg_begin(&c, m, MG_OP_GET, pc)) {
    case MG_PASS:
        return MG_REAL(gomap_get)(m, key);
    case MG_FREED:
        mg_use_after_free(&c);
        return NULL;
    }
    mg_read_enter(&c);
    void *r = MG_REAL(gomap_get)(m, key);
    mg_read_exit(&c);
    return r;
}

static MG_COLD void *get_fast_rest(const gomap *m, const void *key, uintptr_t pc, uint64_t s)
{
    FAST_READ_REST(GET, m, s, pc, MG_REAL(gomap_get)(m, key));
}

static MG_NOINLINE void *get_full(const gomap *m, const void *key, uintptr_t pc)
{
    if (mg_solo(m)) /* a framed map (mapstate.h, SH_FRAMED) */
        SOLO_CALL(m, GET, pc, MG_REAL(gomap_get)(m, key));
    struct mg_fast f;
    if (MG_LIKELY(mg_fast_read(m, NULL, MG_OP_GET, &f))) {
        if (MG_UNLIKELY(!mg_hb_same_epoch(f.w, MG_OP_GET)))
            return get_fast_rest(m, key, pc, f.s);
        void *r = MG_REAL(gomap_get)(m, key);
        if (MG_UNLIKELY(!mg_fast_read_done(&f, MG_OP_GET)))
            mg_fast_read_slow(m, MG_OP_GET, pc, f.s);
        return r;
    }
    return get_checked(m, key, pc);
}

MG_WRAPPER(void *, gomap_get, (const gomap *m, const void *key))
{
    if (MG_LIKELY(mg_solo_bare(m)))
        SOLO_BARE(m, GET, MG_REAL(gomap_get)(m, key));
    return get_full(m, key, CALLER());
}

static MG_NOINLINE bool lookup_checked(const gomap *m, const void *key, void *val_out, uintptr_t pc)
{
    struct mg_call c;
    switch (mg_begin(&c, m, MG_OP_LOOKUP, pc)) {
    case MG_PASS:
        return MG_REAL(gomap_lookup)(m, key, val_out);
    case MG_FREED:
        mg_use_after_free(&c);
        return false; /* the nil map leaves val_out alone */
    }
    mg_read_enter(&c);
    bool r = MG_REAL(gomap_lookup)(m, key, val_out);
    mg_read_exit(&c);
    return r;
}

static MG_COLD bool lookup_fast_rest(const gomap *m, const void *key, void *val_out, uintptr_t pc, uint64_t s)
{
    FAST_READ_REST(LOOKUP, m, s, pc, MG_REAL(gomap_lookup)(m, key, val_out));
}

static MG_NOINLINE bool lookup_full(const gomap *m, const void *key, void *val_out, uintptr_t pc)
{
    if (mg_solo(m)) /* a framed map (mapstate.h, SH_FRAMED) */
        SOLO_CALL(m, LOOKUP, pc, MG_REAL(gomap_lookup)(m, key, val_out));
    struct mg_fast f;
    if (MG_LIKELY(mg_fast_read(m, NULL, MG_OP_LOOKUP, &f))) {
        if (MG_UNLIKELY(!mg_hb_same_epoch(f.w, MG_OP_LOOKUP)))
            return lookup_fast_rest(m, key, val_out, pc, f.s);
        bool r = MG_REAL(gomap_lookup)(m, key, val_out);
        if (MG_UNLIKELY(!mg_fast_read_done(&f, MG_OP_LOOKUP)))
            mg_fast_read_slow(m, MG_OP_LOOKUP, pc, f.s);
        return r;
    }
    return lookup_checked(m, key, val_out, pc);
}

MG_WRAPPER(bool, gomap_lookup, (const gomap *m, const void *key, void *val_out))
{
    if (MG_LIKELY(mg_solo_bare(m)))
        SOLO_BARE(m, LOOKUP, MG_REAL(gomap_lookup)(m, key, val_out));
    return lookup_full(m, key, val_out, CALLER());
}

/* ---- writes ---- */

static MG_NOINLINE int set_checked(gomap *m, const void *key, const void *val, uintptr_t pc)
{
    struct mg_call c;
    switch (mg_begin(&c, m, MG_OP_SET, pc)) {
    case MG_PASS:
        if (!m)
            mg_nil_write(MG_OP_SET, pc);
        return MG_REAL(gomap_set)(m, key, val);
    case MG_FREED:
        mg_use_after_free(&c);
        return GOMAP_ENIL;
    }
    mg_write_enter(&c);
    bool watch = mg_wants_inserts(&c);
    size_t n0 = watch ? MG_REAL(gomap_len)(m) : 0;
    int r = MG_REAL(gomap_set)(m, key, val);
    if (watch && MG_REAL(gomap_len)(m) > n0)
        mg_inserted(&c, key);
    mg_write_exit(&c);
    return r;
}

static MG_COLD int set_fast_rest(gomap *m, const void *key, const void *val, uintptr_t pc, uint64_t s)
{
    FAST_WRITE_REST(SET, m, s, pc, MG_REAL(gomap_set)(m, key, val));
}

static MG_NOINLINE int set_full(gomap *m, const void *key, const void *val, uintptr_t pc)
{
    if (mg_solo_write(m)) /* a framed map (mapstate.h, SH_FRAMED) */
        SOLO_CALL(m, SET, pc, MG_REAL(gomap_set)(m, key, val));
    struct mg_fast f;
    if (MG_LIKELY(mg_fast_write(m, MG_OP_SET, pc, &f))) {
        if (MG_UNLIKELY(!mg_hb_same_epoch(f.w, MG_OP_SET)))
            return set_fast_rest(m, key, val, pc, f.s);
        int r = MG_REAL(gomap_set)(m, key, val);
        if (MG_UNLIKELY(!mg_fast_write_done(&f, MG_OP_SET)))
            mg_fast_write_slow(m, MG_OP_SET, pc, f.s);
        return r;
    }
    return set_checked(m, key, val, pc);
}

MG_WRAPPER(int, gomap_set, (gomap *m, const void *key, const void *val))
{
    if (MG_LIKELY(mg_solo_bare_write(m)))
        SOLO_BARE(m, SET, MG_REAL(gomap_set)(m, key, val));
    return set_full(m, key, val, CALLER());
}

static MG_NOINLINE void *assign_checked(gomap *m, const void *key, uintptr_t pc)
{
    struct mg_call c;
    switch (mg_begin(&c, m, MG_OP_ASSIGN, pc)) {
    case MG_PASS:
        if (!m)
            mg_nil_write(MG_OP_ASSIGN, pc);
        return MG_REAL(gomap_assign)(m, key);
    case MG_FREED:
        mg_use_after_free(&c);
        return NULL;
    }
    mg_write_enter(&c);
    bool watch = mg_wants_inserts(&c);
    size_t n0 = watch ? MG_REAL(gomap_len)(m) : 0;
    void *r = MG_REAL(gomap_assign)(m, key);
    if (watch && MG_REAL(gomap_len)(m) > n0)
        mg_inserted(&c, key);
    mg_write_exit(&c);
    return r;
}

static MG_COLD void *assign_fast_rest(gomap *m, const void *key, uintptr_t pc, uint64_t s)
{
    FAST_WRITE_REST(ASSIGN, m, s, pc, MG_REAL(gomap_assign)(m, key));
}

static MG_NOINLINE void *assign_full(gomap *m, const void *key, uintptr_t pc)
{
    if (mg_solo_write(m)) /* a framed map (mapstate.h, SH_FRAMED) */
        SOLO_CALL(m, ASSIGN, pc, MG_REAL(gomap_assign)(m, key));
    struct mg_fast f;
    if (MG_LIKELY(mg_fast_write(m, MG_OP_ASSIGN, pc, &f))) {
        if (MG_UNLIKELY(!mg_hb_same_epoch(f.w, MG_OP_ASSIGN)))
            return assign_fast_rest(m, key, pc, f.s);
        void *r = MG_REAL(gomap_assign)(m, key);
        if (MG_UNLIKELY(!mg_fast_write_done(&f, MG_OP_ASSIGN)))
            mg_fast_write_slow(m, MG_OP_ASSIGN, pc, f.s);
        return r;
    }
    return assign_checked(m, key, pc);
}

MG_WRAPPER(void *, gomap_assign, (gomap *m, const void *key))
{
    if (MG_LIKELY(mg_solo_bare_write(m)))
        SOLO_BARE(m, ASSIGN, MG_REAL(gomap_assign)(m, key));
    return assign_full(m, key, CALLER());
}

static MG_NOINLINE bool delete_checked(gomap *m, const void *key, uintptr_t pc)
{
    struct mg_call c;
    switch (mg_begin(&c, m, MG_OP_DELETE, pc)) {
    case MG_PASS:
        return MG_REAL(gomap_delete)(m, key);
    case MG_FREED:
        mg_use_after_free(&c);
        return false;
    }
    mg_write_enter(&c);
    bool r = MG_REAL(gomap_delete)(m, key);
    if (r)
        mg_structural(&c);
    mg_write_exit(&c);
    return r;
}

static MG_COLD bool delete_fast_rest(gomap *m, const void *key, uintptr_t pc, uint64_t s)
{
    FAST_WRITE_REST(DELETE, m, s, pc, MG_REAL(gomap_delete)(m, key));
}

static MG_NOINLINE bool delete_full(gomap *m, const void *key, uintptr_t pc)
{
    if (mg_solo_write(m)) /* a framed map (mapstate.h, SH_FRAMED) */
        SOLO_CALL(m, DELETE, pc, MG_REAL(gomap_delete)(m, key));
    struct mg_fast f;
    if (MG_LIKELY(mg_fast_write(m, MG_OP_DELETE, pc, &f))) {
        if (MG_UNLIKELY(!mg_hb_same_epoch(f.w, MG_OP_DELETE)))
            return delete_fast_rest(m, key, pc, f.s);
        bool r = MG_REAL(gomap_delete)(m, key);
        if (MG_UNLIKELY(!mg_fast_write_done(&f, MG_OP_DELETE)))
            mg_fast_write_slow(m, MG_OP_DELETE, pc, f.s);
        return r;
    }
    return delete_checked(m, key, pc);
}

MG_WRAPPER(bool, gomap_delete, (gomap *m, const void *key))
{
    if (MG_LIKELY(mg_solo_bare_write(m)))
        SOLO_BARE(m, DELETE, MG_REAL(gomap_delete)(m, key));
    return delete_full(m, key, CALLER());
}

MG_WRAPPER(void, gomap_clear, (gomap *m))
{
    struct mg_call c;
    switch (mg_begin(&c, m, MG_OP_CLEAR, CALLER())) {
    case MG_PASS:
        MG_REAL(gomap_clear)(m);
        return;
    case MG_FREED:
        mg_use_after_free(&c);
        return;
    }
    mg_write_enter(&c);
    size_t n0 = MG_REAL(gomap_len)(m);
    MG_REAL(gomap_clear)(m);
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

/* An iteration that has ended (gomap_iter_next returned false, or it was
 * made on an empty map) is inert: the library never reads the map through
 * it again and returns false. It is no longer the shim's to check, so
 * asking it once more after a write is not a modification during
 * iteration. */
static void iter_ended(gomap_iter *it) { iter_untracked(it); }

MG_WRAPPER(void, gomap_iter_init, (gomap_iter *it, gomap *m))
{
    struct mg_call c;
    switch (mg_begin(&c, m, MG_OP_ITER_INIT, CALLER())) {
    case MG_PASS:
        MG_REAL(gomap_iter_init)(it, m);
        iter_untracked(it);
        return;
    case MG_FREED:
        mg_use_after_free(&c);
        MG_REAL(gomap_iter_init)(it, NULL);
        iter_untracked(it);
        return;
    }
    mg_mark_iterated(&c);
    mg_read_enter(&c);
    uint32_t gen = shape_gen(MG_RD(c.w[MW_SHAPE]));
    bool empty = MG_REAL(gomap_len)(m) == 0;
    MG_REAL(gomap_iter_init)(it, m);
    mg_read_exit(&c);
    if (empty) {
        iter_ended(it);
        return;
    }
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
        return MG_REAL(gomap_iter_next)(it, key, val);
    case MG_FREED:
        mg_use_after_free(&c);
        return false;
    }
    mg_read_enter(&c);
    uint32_t gen = shape_gen(MG_RD(c.w[MW_SHAPE]));
    if (MG_UNLIKELY(gen != it_gen(it->tool_[IW_GEN])))
        mg_iter_modified(&c, it, gen);
    bool r = MG_REAL(gomap_iter_next)(it, key, val);
    mg_read_exit(&c);
    if (r)
        it->tool_[IW_GEN] = it_gen_make(gen, it_thread(it->tool_[IW_GEN]));
    else
        iter_ended(it);
    return r;
}

static MG_COLD bool iter_next_fast_rest(const gomap *m, gomap_iter *it, const void **key, void **val, uintptr_t pc,
                                         uint64_t s)
{
    FAST_READ_REST(ITER_NEXT, m, s, pc, MG_REAL(gomap_iter_next)(it, key, val));
}

/* The fast path: a checked iterator whose map has not changed shape. */
MG_WRAPPER(bool, gomap_iter_next, (gomap_iter *it, const void **key, void **val))
{
    struct mg_fast f;
    gomap *m = iter_map(it);
    if (MG_LIKELY(mg_solo_iter(m, it))) {
        mg_in_call_enter_solo(m, MG_OP_ITER_NEXT);
        bool r = MG_REAL(gomap_iter_next)(it, key, val);
        SOLO_EXIT(m, ITER_NEXT, CALLER());
        if (MG_UNLIKELY(!r))
            iter_ended(it);
        return r;
    }
    if (MG_LIKELY(mg_fast_read(m, it, MG_OP_ITER_NEXT, &f))) {
        bool r;
        if (MG_UNLIKELY(!mg_hb_same_epoch(f.w, MG_OP_ITER_NEXT))) {
            r = iter_next_fast_rest(m, it, key, val, CALLER(), f.s);
        } else {
            r = MG_REAL(gomap_iter_next)(it, key, val);
            if (MG_UNLIKELY(!mg_fast_read_done(&f, MG_OP_ITER_NEXT)))
                mg_fast_read_slow(m, MG_OP_ITER_NEXT, CALLER(), f.s);
        }
        if (MG_UNLIKELY(!r))
            iter_ended(it);
        return r;
    }
    return iter_next_checked(it, key, val, CALLER());
}

MG_WRAPPER(bool, gomap_iter_delete, (gomap_iter *it))
{
    struct mg_call c;
    mg_init();
    gomap *m = mg_self.busy ? NULL : iter_map(it);
    switch (mg_begin(&c, m, MG_OP_ITER_DELETE, CALLER())) {
    case MG_PASS:
        return MG_REAL(gomap_iter_delete)(it);
    case MG_FREED:
        mg_use_after_free(&c);
        return false;
    }
    mg_write_enter(&c);
    uint32_t before = shape_gen(MG_RD(c.w[MW_SHAPE]));
    bool r = MG_REAL(gomap_iter_delete)(it);
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
