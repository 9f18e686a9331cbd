/*
 * The wrappers of GLib's GHashTable: every g_hash_table_* function GLib
 * exports, under the same name (ghash_api.inc lists them).
 *
 * libmapguard.so does not link GLib. Preloaded, these definitions come
 * first in symbol lookup, so the program's calls land here, and the real
 * functions are found behind us: at start when libglib is loaded then
 * (mg_gh_resolve: one dlsym for an anchor, so a program without GLib pays
 * one lookup), or later, when a dlopen brings it in, by the nil stubs
 * every pointer starts at (found_late, without the loader's lock, as for
 * libgomap). Debian's libglib-2.0 is linked -Bsymbolic-functions: GLib's
 * calls into itself never reach a wrapper. Calls from the program and from
 * other libraries (libgobject, libgio) do; docs/design-detector.md says
 * what that means for the tables those libraries make.
 *
 * A call on a table the shim did not see made (made before GLib was
 * found, by GLib itself, or past the side table's bound) goes straight to
 * GLib; a call on a freed table is reported and does not reach GLib, which
 * returns what the wrapper's nil column says (NULL, 0, FALSE).
 */
#include "ghash_detect.h"
#include "happens_before.h"
#include "log.h"
#include "mapstate.h"
#include "options.h"

#include <dlfcn.h>

/* ---- the real functions, from ghash_api.inc ---- */

static bool found_late(void *const *real, const void *stub);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define GH_FN(OP, access, ret, name, params, args, nil)                                                            \
    static ret nil_##name params;                                                                                  \
    MG_HIDDEN ret(*MG_REAL(g_hash_table_##name)) params = nil_##name;                                              \
    static ret nil_##name params                                                                                   \
    {                                                                                                              \
        if (found_late((void *const *)(void *)&MG_REAL(g_hash_table_##name), (const void *)(uintptr_t)nil_##name)) \
            return MG_REAL(g_hash_table_##name) args;                                                              \
        nil;                                                                                                       \
    }
#include "ghash_api.inc"
#pragma GCC diagnostic pop

static const struct mg_intercept gh_intercepts[] = {
#define GH_FN(OP, access, ret, name, params, args, nil) MG_INTERCEPT(g_hash_table_##name),
#include "ghash_api.inc"
};
/* the deadly-signal record's in_call word keeps the op in one byte */
_Static_assert(MG_GH_OP_BASE + MG_INTERCEPT_COUNT(gh_intercepts) < 256, "an op must fit in_call.h's top byte");

const char *mg_gh_op_name(unsigned op)
{
    static const char *const names[] = {
#define GH_FN(OP, access, ret, name, params, args, nil) [MG_GH_OP_##OP - MG_GH_OP_BASE] = #name,
#include "ghash_api.inc"
    };
    return op >= MG_GH_OP_BASE && op - MG_GH_OP_BASE < sizeof names / sizeof names[0] ? names[op - MG_GH_OP_BASE]
                                                                                        : NULL;
}

#define ANCHOR "g_hash_table_new_full"

void mg_gh_resolve(void)
{
    if (!dlsym(RTLD_NEXT, ANCHOR)) {
        mg_log(2, "libglib-2.0 is not loaded (yet): looked for again by the first GHashTable call");
        return;
    }
    /* functions newer than this GLib stay at their stubs */
    mg_intercept_resolve(gh_intercepts, MG_INTERCEPT_COUNT(gh_intercepts));
    mg_gh_resolve_known(false);
}

/* libglib arrived after start (a dlopen'd plugin linked with it), or this
 * GLib lacks the function. */
static bool found_late(void *const *real, const void *stub)
{
    mg_intercept_resolve_loaded(gh_intercepts, MG_INTERCEPT_COUNT(gh_intercepts), ANCHOR);
    mg_gh_resolve_known(true);
    /* every table the shim tracks is made through a wrapper, after this:
     * the happens-before engine, off at start without GLib, goes on */
    if (__atomic_load_n((void *const *)(void *)&MG_REAL(g_hash_table_new_full), __ATOMIC_ACQUIRE) !=
        (const void *)(uintptr_t)nil_new_full)
        mg_hb_glib_arrived();
    return __atomic_load_n(real, __ATOMIC_ACQUIRE) != stub;
}

#define CALLER() ((uintptr_t)__builtin_return_address(0))
#define REAL(name) MG_REAL(g_hash_table_##name)

/* Opens a checked call on t: pass runs when the table is not tracked,
 * gone after the use-after-free report when it was freed; both end the
 * wrapper. */
#define BEGIN(c, t, OP, pass, gone)                                                                                \
    struct mg_gh_call c;                                                                                           \
    switch (mg_gh_begin(&c, t, MG_GH_OP_##OP, CALLER())) {                                                         \
    case GH_PASS:                                                                                                  \
        pass;                                                                                                      \
    case GH_GONE:                                                                                                  \
        mg_gh_use_after_free(&c);                                                                                  \
        gone;                                                                                                      \
    default:                                                                                                       \
        break;                                                                                                     \
    }

/* ---- reads: every READ row ---- */

#define GH_WRAP_READ(OP, ret, name, params, args, nil)                                                             \
    MG_WRAPPER(ret, g_hash_table_##name, params)                                                                   \
    {                                                                                                              \
        BEGIN(c, t, OP, return REAL(name) args, nil);                                                              \
        mg_gh_read_enter(&c);                                                                                      \
        ret r = REAL(name) args;                                                                                   \
        mg_gh_read_exit(&c);                                                                                       \
        return r;                                                                                                  \
    }
#define GH_WRAP_NONE(OP, ret, name, params, args, nil)
#define GH_WRAP_COPY(OP, ret, name, params, args, nil)
#define GH_WRAP_ITER(OP, ret, name, params, args, nil)
#define GH_WRAP_WRITE(OP, ret, name, params, args, nil)
#define GH_WRAP_FREE(OP, ret, name, params, args, nil)
#define GH_FN(OP, access, ret, name, params, args, nil)                                                            \
    GH_WRAP_##access(OP, ret, name, params, args, nil)
#include "ghash_api.inc"

/* ---- lifetime ---- */

MG_WRAPPER(GHashTable *, g_hash_table_new, (GHashFunc h, GEqualFunc eq))
{
    GHashTable *t = REAL(new)(h, eq);
    mg_gh_made(t, eq, MG_GH_OP_NEW, CALLER());
    return t;
}

MG_WRAPPER(GHashTable *, g_hash_table_new_full, (GHashFunc h, GEqualFunc eq, GDestroyNotify kd, GDestroyNotify vd))
{
    GHashTable *t = REAL(new_full)(h, eq, kd, vd);
    mg_gh_made(t, eq, MG_GH_OP_NEW_FULL, CALLER());
    return t;
}

MG_WRAPPER(GHashTable *, g_hash_table_new_similar, (GHashTable *other))
{
    GHashTable *t;
    BEGIN(c, other, NEW_SIMILAR, t = REAL(new_similar)(other); mg_gh_made(t, NULL, MG_GH_OP_NEW_SIMILAR, CALLER());
          return t, return NULL);
    mg_gh_read_enter(&c);
    t = REAL(new_similar)(other);
    mg_gh_read_exit(&c);
    mg_gh_made(t, MG_RD(c.e->equal), MG_GH_OP_NEW_SIMILAR, c.pc);
    return t;
}

/* GLib counts references atomically: ref and unref are not races, but the
 * last unref, which frees the table, is a write. */
MG_WRAPPER(GHashTable *, g_hash_table_ref, (GHashTable *t))
{
    BEGIN(c, t, REF, return REAL(ref)(t), return t);
    __atomic_add_fetch(&c.e->refs, 1, __ATOMIC_RELAXED);
    return REAL(ref)(t);
}

/* The last reference went (c inside its write section): the table is
 * emptied now, as GLib would (its destroy notifiers run at the moment the
 * program expects), then kept in quarantine rather than freed. */
static void last_reference(struct mg_gh_call *c)
{
    if (mg_opt.quarantine_size > 0)
        REAL(remove_all)(c->t);
    mg_gh_free_mark(c);
    mg_gh_write_exit(c);
    mg_gh_table_retire(c->t);
}

/* An unref past mg_gh_begin. GLib's count orders every unref before the
 * one that frees the table (a release decrement, an acquire at zero), as
 * a refcount does: each unref merges its thread's clock into the table's
 * count, which the last one acquires. */
static void unref_counted(struct mg_gh_call *c)
{
    bool ordered = mg_hb_sync_live();
    if (ordered)
        mg_hb_release_merge(&c->e->refs);
    if (__atomic_sub_fetch(&c->e->refs, 1, __ATOMIC_ACQ_REL) > 0) {
        REAL(unref)(c->t);
        return;
    }
    if (ordered) {
        mg_hb_acquire(&c->e->refs);
        mg_hb_reset(&c->e->refs); /* the entry may serve another table */
    }
    mg_gh_write_enter(c);
    last_reference(c);
}

MG_WRAPPER(void, g_hash_table_unref, (GHashTable *t))
{
    struct mg_gh_call c;
    switch (mg_gh_begin(&c, t, MG_GH_OP_UNREF, CALLER())) {
    case GH_PASS:
        REAL(unref)(t);
        return;
    case GH_GONE:
        mg_gh_double_free(&c);
        return;
    }
    unref_counted(&c);
}

/* GLib's destroy: remove_all, then unref. Two calls here too, so that the
 * unref merges into the count after the remove_all is on record: a
 * destroy that is not the last reference then orders before the unref
 * that is (a held-out probe: destroy, then another thread's last unref,
 * was reported as two frees racing). */
MG_WRAPPER(void, g_hash_table_destroy, (GHashTable *t))
{
    struct mg_gh_call c;
    uintptr_t pc = CALLER();
    switch (mg_gh_begin(&c, t, MG_GH_OP_DESTROY, pc)) {
    case GH_PASS:
        REAL(destroy)(t);
        return;
    case GH_GONE:
        mg_gh_double_free(&c);
        return;
    }
    mg_gh_write_enter(&c);
    unsigned n0 = REAL(size)(t);
    REAL(remove_all)(t);
    if (n0)
        mg_gh_structural(&c);
    mg_gh_write_exit(&c);
    struct mg_gh_call u;
    switch (mg_gh_begin(&u, t, MG_GH_OP_DESTROY, pc)) {
    case GH_PASS: /* the shim went busy: GLib's unref, unordered */
        REAL(unref)(t);
        return;
    case GH_GONE: /* freed by another thread meanwhile: its unref was the last */
        mg_gh_double_free(&u);
        return;
    }
    unref_counted(&u);
}

/* ---- writes ---- */

#define GH_INSERTING(OP, name, params, args, key)                                                                  \
    MG_WRAPPER(int, g_hash_table_##name, params)                                                                   \
    {                                                                                                              \
        BEGIN(c, t, OP, return REAL(name) args, return 0);                                                         \
        mg_gh_write_enter(&c);                                                                                     \
        int r = REAL(name) args; /* TRUE: the key is new */                                                        \
        if (r)                                                                                                     \
            mg_gh_inserted(&c, key);                                                                               \
        mg_gh_write_exit(&c);                                                                                      \
        return r;                                                                                                  \
    }
GH_INSERTING(INSERT, insert, (GHashTable *t, void *k, void *v), (t, k, v), k)
GH_INSERTING(REPLACE, replace, (GHashTable *t, void *k, void *v), (t, k, v), k)
GH_INSERTING(ADD, add, (GHashTable *t, void *k), (t, k), k)

#define GH_REMOVING(OP, name, params, args)                                                                        \
    MG_WRAPPER(int, g_hash_table_##name, params)                                                                   \
    {                                                                                                              \
        BEGIN(c, t, OP, return REAL(name) args, return 0);                                                         \
        mg_gh_write_enter(&c);                                                                                     \
        int r = REAL(name) args; /* TRUE: a key went */                                                            \
        if (r)                                                                                                     \
            mg_gh_structural(&c);                                                                                  \
        mg_gh_write_exit(&c);                                                                                      \
        return r;                                                                                                  \
    }
GH_REMOVING(REMOVE, remove, (GHashTable *t, const void *k), (t, k))
GH_REMOVING(STEAL, steal, (GHashTable *t, const void *k), (t, k))
GH_REMOVING(STEAL_EXTENDED, steal_extended, (GHashTable *t, const void *k, void **ok, void **ov), (t, k, ok, ov))

#define GH_EMPTYING_VOID(OP, name)                                                                                 \
    MG_WRAPPER(void, g_hash_table_##name, (GHashTable * t))                                                        \
    {                                                                                                              \
        BEGIN(c, t, OP, REAL(name)(t); return, return);                                                            \
        mg_gh_write_enter(&c);                                                                                     \
        unsigned n0 = REAL(size)(t);                                                                               \
        REAL(name)(t);                                                                                             \
        if (n0)                                                                                                    \
            mg_gh_structural(&c);                                                                                  \
        mg_gh_write_exit(&c);                                                                                      \
    }
GH_EMPTYING_VOID(REMOVE_ALL, remove_all)
GH_EMPTYING_VOID(STEAL_ALL, steal_all)

#define GH_EMPTYING_ARRAY(OP, name)                                                                                \
    MG_WRAPPER(GPtrArray *, g_hash_table_##name, (GHashTable * t))                                                 \
    {                                                                                                              \
        BEGIN(c, t, OP, return REAL(name)(t), return NULL);                                                        \
        mg_gh_write_enter(&c);                                                                                     \
        unsigned n0 = REAL(size)(t);                                                                               \
        GPtrArray *r = REAL(name)(t);                                                                              \
        if (n0)                                                                                                    \
            mg_gh_structural(&c);                                                                                  \
        mg_gh_write_exit(&c);                                                                                      \
        return r;                                                                                                  \
    }
GH_EMPTYING_ARRAY(STEAL_ALL_KEYS, steal_all_keys)
GH_EMPTYING_ARRAY(STEAL_ALL_VALUES, steal_all_values)

/* ---- callbacks: foreach and find read, foreach_remove and _steal write;
 * while their callbacks run, a change of the table by this thread other
 * than through the callback's return value is reported ---- */

MG_WRAPPER(void, g_hash_table_foreach, (GHashTable *t, GHFunc f, void *ud))
{
    BEGIN(c, t, FOREACH, REAL(foreach)(t, f, ud); return, return);
    mg_gh_iter_enter(&c);
    bool held = mg_gh_callbacks_begin(&c);
    REAL(foreach)(t, f, ud);
    mg_gh_callbacks_end(&c, held);
    mg_gh_iter_exit(&c);
}

MG_WRAPPER(void *, g_hash_table_find, (GHashTable *t, GHRFunc f, void *ud))
{
    BEGIN(c, t, FIND, return REAL(find)(t, f, ud), return NULL);
    mg_gh_iter_enter(&c);
    bool held = mg_gh_callbacks_begin(&c);
    void *r = REAL(find)(t, f, ud);
    mg_gh_callbacks_end(&c, held);
    mg_gh_iter_exit(&c);
    return r;
}

#define GH_FOREACH_REMOVING(OP, name)                                                                              \
    MG_WRAPPER(unsigned, g_hash_table_##name, (GHashTable * t, GHRFunc f, void *ud))                               \
    {                                                                                                              \
        BEGIN(c, t, OP, return REAL(name)(t, f, ud), return 0);                                                    \
        mg_gh_write_enter(&c);                                                                                     \
        bool held = mg_gh_callbacks_begin(&c);                                                                     \
        unsigned n = REAL(name)(t, f, ud);                                                                         \
        mg_gh_callbacks_end(&c, held);                                                                             \
        if (n)                                                                                                     \
            mg_gh_structural(&c);                                                                                  \
        mg_gh_write_exit(&c);                                                                                      \
        return n;                                                                                                  \
    }
GH_FOREACH_REMOVING(FOREACH_REMOVE, foreach_remove)
GH_FOREACH_REMOVING(FOREACH_STEAL, foreach_steal)

/* ---- iterators ---- */

MG_WRAPPER(void, g_hash_table_iter_init, (GHashTableIter * it, GHashTable *t))
{
    struct mg_gh_call c;
    switch (mg_gh_begin(&c, t, MG_GH_OP_ITER_INIT, CALLER())) {
    case GH_PASS:
        mg_gh_iter_drop(it);
        REAL(iter_init)(it, t);
        return;
    case GH_GONE: {
        mg_gh_use_after_free(&c);
        /* GLib is not called: the iterator stays tracked, so its steps
         * are reported and end at once instead of walking freed memory */
        struct mg_gh_iter *is = mg_gh_iter_claim(it);
        if (is)
            *is = (struct mg_gh_iter){.table = t, .thread = c.self, .site = c.pc};
        return;
    }
    }
    mg_gh_iter_enter(&c);
    mg_gh_watch(&c); /* before the generation is taken: every later change moves it */
    uint32_t gen = __atomic_load_n(&c.e->gen, __ATOMIC_RELAXED);
    REAL(iter_init)(it, t);
    mg_gh_iter_exit(&c);
    struct mg_gh_iter *is = mg_gh_iter_claim(it);
    if (is)
        *is = (struct mg_gh_iter){.table = t, .gen = gen, .thread = c.self, .site = c.pc};
}

/* The iterator's state and its table, when both are tracked. */
static struct mg_gh_iter *iter_state(const GHashTableIter *it, GHashTable **t)
{
    mg_init();
    struct mg_gh_iter *is = mg_self.busy ? NULL : mg_gh_iter_find(it);
    *t = is ? is->table : NULL;
    return is;
}

MG_WRAPPER(int, g_hash_table_iter_next, (GHashTableIter * it, void **k, void **v))
{
    GHashTable *t;
    struct mg_gh_iter *is = iter_state(it, &t);
    BEGIN(c, t, ITER_NEXT, return REAL(iter_next)(it, k, v), return 0);
    mg_gh_iter_enter(&c);
    uint32_t gen = __atomic_load_n(&c.e->gen, __ATOMIC_RELAXED);
    if (MG_UNLIKELY(gen != is->gen)) {
        mg_gh_iter_modified(&c, is);
        is->gen = gen; /* once per change */
    }
    int r = REAL(iter_next)(it, k, v);
    mg_gh_iter_exit(&c);
    if (!r)
        mg_gh_iter_drop(it);
    return r;
}

MG_WRAPPER(GHashTable *, g_hash_table_iter_get_hash_table, (GHashTableIter * it))
{
    return REAL(iter_get_hash_table)(it);
}

/* The iterator's own removal does not count against it. */
#define GH_ITER_REMOVING(OP, name)                                                                                 \
    MG_WRAPPER(void, g_hash_table_##name, (GHashTableIter * it))                                                   \
    {                                                                                                              \
        GHashTable *t;                                                                                             \
        struct mg_gh_iter *is = iter_state(it, &t);                                                                \
        BEGIN(c, t, OP, REAL(name)(it); return, return);                                                           \
        mg_gh_write_enter(&c);                                                                                     \
        uint32_t before = __atomic_load_n(&c.e->gen, __ATOMIC_RELAXED);                                            \
        REAL(name)(it);                                                                                            \
        mg_gh_structural(&c);                                                                                      \
        if (is->gen == before)                                                                                     \
            is->gen = before + 1;                                                                                  \
        mg_gh_write_exit(&c);                                                                                      \
    }
GH_ITER_REMOVING(ITER_REMOVE, iter_remove)
GH_ITER_REMOVING(ITER_STEAL, iter_steal)

MG_WRAPPER(void, g_hash_table_iter_replace, (GHashTableIter * it, void *v))
{
    GHashTable *t;
    iter_state(it, &t);
    BEGIN(c, t, ITER_REPLACE, REAL(iter_replace)(it, v); return, return);
    mg_gh_write_enter(&c);
    REAL(iter_replace)(it, v);
    mg_gh_write_exit(&c);
}
