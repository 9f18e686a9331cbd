/*
 * What the GHashTable wrappers detect (ghash_detect.h): overlap races,
 * modified-during-iteration (a live GHashTableIter whose table changed
 * other than through it; a table changed from inside its own foreach or
 * find callback), irreflexive-key, use-after-free and double-free, and
 * leaked-map for the tables the program made. Findings have gomap's kinds
 * and format; their ops are GHashTable's (ghash_ops.h), which makes their
 * "api" "ghashtable".
 */
#include "no_cancel.h"
#include "ghash_detect.h"
#include "dedup.h"
#include "kinds.h"
#include "mapstate.h"
#include "options.h"
#include "report.h"
#include "stack.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the sync word (ghash_detect.h) ---- */

static unsigned gs_op(uint64_t s) { return (unsigned)(s >> 16) & 0xff; }
static unsigned gs_lastop(uint64_t s) { return (unsigned)(s >> 24) & 0xff; }

/* Not in this thread's cache: the side table's lookup (which remembers a
 * LIVE table for the next call), or the shim not started or busy. */
int mg_gh_begin_slow(struct mg_gh_call *c, const GHashTable *t, unsigned op, uintptr_t pc)
{
    mg_init();
    if (MG_UNLIKELY(mg_self.busy) || !t)
        return GH_PASS;
    unsigned st = GH_EMPTY;
    struct mg_gh_table *e = mg_gh_table_find(t, &st);
    if (!e)
        return GH_PASS;
    *c = (struct mg_gh_call){.t = (GHashTable *)t, .e = e, .pc = pc, .self = mg_self_idx(), .op = op, .slot = -1};
    mg_self.fast = c->self; /* started, registered, not busy: the inline path may run */
    return st == GH_LIVE ? GH_CHECK : GH_GONE;
}

/* ---- parties ---- */

static struct mg_party access_party(const struct mg_gh_call *c)
{
    return (struct mg_party){
        .present = true, .op = c->op, .thread = c->self, .stack = mg_stack_capture_id(), .pc = c->pc, .complete = true,
    };
}

static struct mg_party made_party(const struct mg_gh_table *e);

void mg_gh_party_made(struct mg_party *p, const void *t)
{
    struct mg_gh_table *e = mg_gh_table_find(t, NULL);
    *p = e ? made_party(e) : (struct mg_party){0};
}

static struct mg_party made_party(const struct mg_gh_table *e)
{
    uint64_t made = MG_RD(e->made);
    uint32_t stack = MG_RD(e->made_stack);
    return (struct mg_party){
        .present = made != 0 || stack != 0,
        .op = MG_RD(e->made_op),
        .thread = site_thread(made),
        .stack = stack,
        .pc = site_pc(made),
        .complete = stack != 0,
    };
}

/* ---- races ---- */

static int kind_of(unsigned op)
{
    switch (mg_gh_op_access(op)) {
    case MG_GH_READ:
    case MG_GH_COPY:
        return MK_READ_WRITE;
    case MG_GH_ITER:
        return MK_ITER_WRITE;
    default:
        return MK_WRITES;
    }
}

/* Notes the conflict with writer wr, seen in sync word s; asks wr for its
 * stack when it is still inside. */
static void note(struct mg_gh_call *c, int kind, uint64_t s, uint32_t wr)
{
    uint64_t lw = MG_RD(c->e->lastw);
    c->kind = kind;
    c->flagged = true;
    c->other_thread = wr;
    c->other_op = gs_writer(s) == wr ? gs_op(s) : gs_lastop(s);
    c->other_pc = site_thread(lw) == wr ? site_pc(lw) : 0;
    c->slot = mg_report_claim(kind, c->pc, c->other_pc);
    c->inside = c->slot >= 0 && gs_writer(s) == wr;
    if (c->inside) {
        __atomic_store_n(&c->e->pub, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&c->e->req, wr, __ATOMIC_RELEASE);
    }
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t published(const struct mg_gh_table *e, uint32_t wr)
{
    uint64_t p = __atomic_load_n(&e->pub, __ATOMIC_ACQUIRE);
    return (p & PUB_VALID) && pub_thread(p) == wr ? (uint32_t)p : 0;
}

/* The stack writer wr handed over, or 0 if it left without one or took
 * longer than conflict_wait_ms. */
static uint32_t await_stack(const struct mg_gh_table *e, uint32_t wr)
{
    uint64_t deadline = now_ms() + (uint64_t)mg_opt.conflict_wait_ms;
    for (unsigned spins = 0;; spins++) {
        uint32_t id = published(e, wr);
        if (id)
            return id;
        if (gs_writer(__atomic_load_n(&e->sync, __ATOMIC_ACQUIRE)) != wr)
            return published(e, wr); /* it left: handed over by now, or never asked */
        if (now_ms() >= deadline)
            return 0;
        if (spins < 64) {
            sched_yield();
        } else {
            struct timespec ts = {0, 100 * 1000};
            int cancel = mg_cancel_off(); /* no_cancel.h */
            nanosleep(&ts, NULL);
            mg_cancel_restore(cancel);
        }
    }
}

/* A writer on its way out, asked for its stack: hands it over. */
static MG_COLD void hand_over(struct mg_gh_call *c)
{
    int saved = errno;
    mg_busy_enter();
    mg_thread_remember_name();
    uint32_t id = mg_stack_capture_id();
    mg_busy_leave();
    errno = saved;
    __atomic_store_n(&c->e->pub, pub_make(c->self, id), __ATOMIC_RELEASE);
    uint32_t me = c->self;
    __atomic_compare_exchange_n(&c->e->req, &me, 0, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* The conflict, reported once this call is done with the table. */
static MG_COLD void finish(struct mg_gh_call *c)
{
    if (c->slot < 0)
        return;
    int saved = errno;
    struct mg_finding f = {.kind = c->kind, .map = c->t};
    mg_busy_enter();
    uint32_t stack = c->inside ? await_stack(c->e, c->other_thread) : 0;
    f.access = access_party(c);
    f.other = (struct mg_party){
        .present = true, .op = c->other_op, .thread = c->other_thread, .stack = stack, .pc = c->other_pc,
        .complete = stack != 0,
    };
    f.made = made_party(c->e);
    mg_busy_leave();
    mg_report(&f, c->slot);
    c->slot = -1;
    errno = saved;
}

/* ---- happens-before ----
 *
 * Tables made by GLib's own libraries (libgobject's param-spec pools,
 * libgio's registries and caches) are left out of ordering: GLib guards
 * them with its own locks, bit locks and atomics, taken inside GLib where
 * no wrapper sees them (GLib's calls into itself do not reach the shim),
 * so every access from two threads would look unordered. Calls that
 * overlap in time are still reported for them. */
void mg_gh_hb_enter_slow(struct mg_gh_call *c)
{
    if (MG_LIKELY(!MG_RD(c->e->internal)))
        mg_hb_enter_at(&c->e->hb, c->t, c->op, c->pc);
}

void mg_gh_hb_leave_slow(struct mg_gh_call *c)
{
    if (MG_LIKELY(!MG_RD(c->e->internal)))
        mg_hb_leave_at(&c->e->hb, c->op, c->pc);
}

/* Another thread's mark was there when this reader came in. */
void mg_gh_read_conflict(struct mg_gh_call *c, uint64_t s)
{
    uint32_t wr = gs_writer(s);
    if (!mg_thread_gone(wr))
        note(c, kind_of(c->op), s, wr);
}

void mg_gh_read_exit_slow(struct mg_gh_call *c, uint64_t s)
{
    if (!c->flagged) {
        uint32_t wr = gs_writer(s);
        if (wr == 0) /* a writer came and went while we were inside */
            wr = site_thread(MG_RD(c->e->lastw));
        /* our own callback writing the table is nesting, not concurrency */
        if (wr == 0 || wr == c->self || mg_thread_gone(wr))
            return;
        note(c, kind_of(c->op), s, wr);
    }
    finish(c);
}

/* A mark was there when this writer came in (ghash_detect.h has the
 * common case). */
void mg_gh_write_enter_slow(struct mg_gh_call *c, uint64_t s)
{
    uint32_t wr = gs_writer(s);
    if (wr != c->self && mg_thread_gone(wr)) {
        uint64_t n = gs_enter(s, c->self, c->op);
        MG_WR(c->e->sync, n);
        /* the mark goes out before any of the call's writes to the table */
        __atomic_thread_fence(__ATOMIC_RELEASE);
        c->s0 = n;
        c->owned = true;
    } else if (wr != c->self) {
        /* Another thread is inside a write. Bump the generation so a
         * reader that overlaps only this call still sees a write. */
        note(c, MK_WRITES, s, wr);
        __atomic_fetch_add(&c->e->sync, GS_GEN1, __ATOMIC_ACQ_REL);
    }
    /* else a callback of this thread's own write: the outer call keeps the mark */
    MG_WR(c->e->lastw, site_make(c->pc, c->self));
}

static MG_COLD void write_exit_slow(struct mg_gh_call *c, uint64_t s)
{
    for (;;) {
        uint32_t wr = gs_writer(s);
        if (wr != c->self) {
            /* another writer came in at the same instant and overwrote our
             * mark: it never saw us, so we report */
            if (!c->flagged) {
                if (wr == 0)
                    wr = site_thread(MG_RD(c->e->lastw));
                if (wr != 0 && wr != c->self && !mg_thread_gone(wr))
                    note(c, MK_WRITES, s, wr);
            }
            return;
        }
        /* our mark, with the generation bumped by a writer that saw us */
        if (__atomic_compare_exchange_n(&c->e->sync, &s, gs_leave(s), false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
            return;
    }
}

void mg_gh_write_exit_slow(struct mg_gh_call *c)
{
    if (c->owned) {
        if (MG_UNLIKELY(__atomic_load_n(&c->e->req, __ATOMIC_RELAXED) == c->self))
            hand_over(c);
        uint64_t s = MG_RD(c->e->sync);
        if (MG_LIKELY(s == c->s0))
            __atomic_store_n(&c->e->sync, gs_leave(s), __ATOMIC_RELEASE);
        else
            write_exit_slow(c, s);
    }
    if (c->flagged)
        finish(c);
}

/* ---- modified during iteration ---- */

static MG_COLD void report_mod_iter(struct mg_gh_call *c, struct mg_party other, struct mg_party iter)
{
    int slot = mg_report_claim(MK_MOD_ITER, c->pc, iter.pc);
    if (slot < 0)
        return;
    int saved = errno;
    struct mg_finding f = {.kind = MK_MOD_ITER, .map = c->t, .other = other, .iter = iter};
    mg_busy_enter();
    f.access = access_party(c);
    f.made = made_party(c->e);
    mg_busy_leave();
    mg_report(&f, slot);
    errno = saved;
}

void mg_gh_structural_slow(struct mg_gh_call *c)
{
    struct mg_gh_table *e = c->e;
    /* under this call's mark a plain increment does; without it (nested,
     * or a race being reported) the generation must still move */
    if (MG_LIKELY(c->owned))
        MG_WR(e->gen, MG_RD(e->gen) + 1);
    else
        __atomic_fetch_add(&e->gen, 1, __ATOMIC_RELAXED);
    MG_WR(e->lastmod, site_make(c->pc, c->self));
    MG_WR(e->modop, c->op);
    /* GLib forbids changing a table from its own foreach/find callback
     * (foreach_remove and foreach_steal are the sanctioned ways) */
    if (MG_UNLIKELY(MG_RD(e->cb) == c->self)) {
        uint64_t cs = MG_RD(e->cbsite);
        struct mg_party other = {.present = true, .op = c->op, .thread = c->self, .pc = c->pc};
        struct mg_party iter = {.present = true, .op = MG_RD(e->cbop), .thread = site_thread(cs), .pc = site_pc(cs)};
        report_mod_iter(c, other, iter);
    }
}

bool mg_gh_callbacks_begin(struct mg_gh_call *c)
{
    mg_gh_watch(c);
    uint32_t none = 0;
    if (!__atomic_compare_exchange_n(&c->e->cb, &none, c->self, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        return false;
    MG_WR(c->e->cbsite, site_make(c->pc, c->self));
    MG_WR(c->e->cbop, c->op);
    return true;
}

void mg_gh_callbacks_end(struct mg_gh_call *c, bool held)
{
    if (held)
        __atomic_store_n(&c->e->cb, 0, __ATOMIC_RELEASE);
}

void mg_gh_iter_modified(struct mg_gh_call *c, const struct mg_gh_iter *is)
{
    uint64_t mod = MG_RD(c->e->lastmod);
    struct mg_party other = {.present = true, .op = MG_RD(c->e->modop), .thread = site_thread(mod), .pc = site_pc(mod)};
    struct mg_party iter = {.present = true, .op = MG_GH_OP_ITER_INIT, .thread = is->thread, .pc = is->site};
    report_mod_iter(c, other, iter);
}

/* ---- keys ---- */

static void *known_equal[4];
static const struct mg_intercept known_equal_tab[] = {
    {"g_direct_equal", NULL, &known_equal[0]},
    {"g_str_equal", NULL, &known_equal[1]},
    {"g_int_equal", NULL, &known_equal[2]},
    {"g_int64_equal", NULL, &known_equal[3]},
};

void mg_gh_resolve_known(bool late)
{
    if (late)
        mg_intercept_resolve_loaded(known_equal_tab, MG_INTERCEPT_COUNT(known_equal_tab), "g_str_equal");
    else
        mg_intercept_resolve(known_equal_tab, MG_INTERCEPT_COUNT(known_equal_tab));
}

bool mg_gh_reflexive(GEqualFunc eq)
{
    if (!eq) /* direct comparison of the pointers */
        return true;
    for (size_t i = 0; i < MG_INTERCEPT_COUNT(known_equal); i++)
        if ((void *)(uintptr_t)eq == __atomic_load_n(&known_equal[i], __ATOMIC_ACQUIRE))
            return true;
    return false;
}

void mg_gh_check_key(struct mg_gh_call *c, const void *key, GEqualFunc eq)
{
    if (eq(key, key))
        return;
    int slot = mg_report_claim(MK_IRREFLEXIVE, c->pc, 0);
    if (slot < 0)
        return;
    int saved = errno;
    struct mg_finding f = {.kind = MK_IRREFLEXIVE, .map = c->t};
    mg_busy_enter();
    f.access = access_party(c);
    f.made = made_party(c->e);
    mg_busy_leave();
    mg_report(&f, slot);
    errno = saved;
}

/* ---- lifetime ---- */

static bool made_by_glib(uintptr_t pc);

void mg_gh_made(GHashTable *t, GEqualFunc eq, unsigned op, uintptr_t pc)
{
    mg_init();
    if (!t || mg_self.busy)
        return;
    int saved = errno;
    struct mg_gh_table *e = mg_gh_table_claim(t);
    if (e) {
        uint32_t stack = 0;
        if (mg_opt.detect_leaks) {
            /* leaks are grouped by creation stack */
            mg_busy_enter();
            stack = mg_stack_capture_id();
            mg_busy_leave();
        }
        MG_WR(e->equal, mg_gh_reflexive(eq) ? NULL : eq);
        MG_WR(e->made, site_make(pc, mg_self_idx()));
        MG_WR(e->made_stack, stack);
        MG_WR(e->made_op, op);
        bool internal = made_by_glib(pc);
        MG_WR(e->internal, internal);
        /* The program's own table: the happens-before engine wakes (GLib's
         * own tables are not ordered, so until the program makes one, no
         * synchronization needs following: GLib's tools never pay for it),
         * and a crash inside a call on it needs the unwinder ready
         * (stack.c). */
        if (!internal) {
            mg_hb_table_created();
            mg_stack_preload();
        }
    }
    errno = saved;
}

static MG_COLD void report_lifetime(int kind, struct mg_gh_call *c)
{
    uint64_t freed = MG_RD(c->e->freed);
    int slot = mg_report_claim(kind, c->pc, site_pc(freed));
    if (slot < 0)
        return;
    int saved = errno;
    struct mg_finding f = {.kind = kind, .map = c->t};
    mg_busy_enter();
    f.access = access_party(c);
    uint32_t stack = MG_RD(c->e->freed_stack);
    f.other = (struct mg_party){
        .present = true,
        .op = MG_RD(c->e->freed_op),
        .thread = site_thread(freed),
        .stack = stack,
        .pc = site_pc(freed),
        .complete = stack != 0,
    };
    f.made = made_party(c->e);
    mg_busy_leave();
    mg_report(&f, slot);
    errno = saved;
}

void mg_gh_use_after_free(struct mg_gh_call *c) { report_lifetime(MK_USE_AFTER_FREE, c); }
void mg_gh_double_free(struct mg_gh_call *c) { report_lifetime(MK_DOUBLE_FREE, c); }

void mg_gh_free_mark(struct mg_gh_call *c)
{
    uint32_t stack = 0;
    if (mg_opt.quarantine_size > 0) {
        /* only a quarantined table can be caught in use later */
        int saved = errno;
        mg_busy_enter();
        stack = mg_stack_save();
        mg_busy_leave();
        errno = saved;
    }
    MG_WR(c->e->freed_stack, stack);
    MG_WR(c->e->freed_op, c->op);
    MG_WR(c->e->freed, site_make(c->pc, c->self));
    mg_gh_table_mark_freed(c->t);
}

/* ---- leaks ---- */

/* Tables GLib's own libraries make (caches, registries kept for the
 * process's lifetime) are theirs, not the program's: not reported. So are
 * those of the modules GIO loads from its module directory (dconf's
 * settings backend, gvfs): GIO never unloads them, and their singletons
 * live as long as the process. */
/* The file an address is in. _dl_find_object (glibc 2.35) takes no lock
 * and costs about a hundred instructions; dladdr also looks for the
 * nearest symbol, through all of the object's: 38,000 instructions an
 * address in libgio, and `gio info` makes a table at five sites. */
static const char *object_file(uintptr_t pc)
{
#ifdef DLFO_STRUCT_HAS_EH_DBASE
    struct dl_find_object o;
    if (_dl_find_object((void *)pc, &o) == 0 && o.dlfo_link_map)
        return o.dlfo_link_map->l_name;
    return NULL;
#else
    Dl_info info;
    return dladdr((void *)pc, &info) ? info.dli_fname : NULL;
#endif
}

static bool made_by_glib(uintptr_t pc)
{
    static const char *const libs[] = {"libglib-2.0.so", "libgobject-2.0.so", "libgio-2.0.so",
                                       "libgmodule-2.0.so", "libgthread-2.0.so"};
    const char *file = pc ? object_file(pc) : NULL;
    if (!file)
        return false;
    if (strstr(file, "/gio/modules/"))
        return true;
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    for (size_t i = 0; i < sizeof libs / sizeof *libs; i++)
        if (!strncmp(base, libs[i], strlen(libs[i])))
            return true;
    return false;
}

struct leak {
    uint32_t stack;
    uintptr_t site;
    GHashTable *t;
    struct mg_gh_table *e;
};

struct leaks {
    struct leak *v;
    size_t n, cap;
};

static void collect(GHashTable *t, struct mg_gh_table *e, void *arg)
{
    struct leaks *l = arg;
    uint64_t made = MG_RD(e->made);
    /* made 0: another thread is still inside the g_hash_table_new* that
     * claimed the entry (capturing its stack) while this one exits; whose
     * table it is cannot be told yet, and a table not made yet is no leak */
    if (!made || made_by_glib(site_pc(made)))
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct leak *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (struct leak){.stack = MG_RD(e->made_stack), .site = site_pc(made), .t = t, .e = e};
}

static int by_origin(const void *a, const void *b)
{
    const struct leak *x = a, *y = b;
    if (x->stack != y->stack)
        return x->stack < y->stack ? -1 : 1;
    if (x->site != y->site)
        return x->site < y->site ? -1 : 1;
    return (uintptr_t)x->t < (uintptr_t)y->t ? -1 : (uintptr_t)x->t > (uintptr_t)y->t;
}

void mg_gh_leak_report(void)
{
    struct leaks l = {0};
    mg_gh_table_each_live(collect, &l);
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, by_origin);
    for (size_t i = 0; i < l.n;) {
        size_t j = i, entries = 0;
        while (j < l.n && l.v[j].stack == l.v[i].stack && l.v[j].site == l.v[i].site)
            entries += MG_REAL(g_hash_table_size)(l.v[j++].t);
        int slot = mg_report_claim(MK_LEAK, l.v[i].site, l.v[i].stack);
        if (slot >= 0) {
            struct mg_finding f = {.kind = MK_LEAK, .map = l.v[i].t, .count = j - i, .entries = entries};
            f.made = made_party(l.v[i].e);
            f.access = f.made;
            mg_report(&f, slot);
        }
        i = j;
    }
    free(l.v);
}
