/*
 * What a map's shape tells: modified-during-iteration and irreflexive-key,
 * plus setting up a new map's words.
 *
 * Every structural change (a new key, a deleted key, a clear that removed
 * something) bumps the map's structural generation and records its call
 * site. An iterator remembers the generation it saw at init and at each
 * step; a step that finds it moved reports. A value update is not
 * structural, a change made through the iterator's own gomap_iter_delete
 * moves the iterator's generation along with the map's, and an iterator
 * that is abandoned is never looked at again, so a `break` can never lead
 * to a report.
 */
#include "detect.h"
#include "dedup.h"
#include "options.h"
#include "report.h"
#include "stack.h"

#include <dlfcn.h>

/* Equality functions known to say k == k for every key. */
static bool always_reflexive(gomap_equal_fn eq)
{
    if (!eq)
        return true;
    if (eq == MG_REAL(gomap_equal_cstr) || eq == gomap_equal_cstr)
        return true;
    return false;
}

/* The library's own hash and equal functions (or its defaults) call
 * nothing of the program's; the shim's pass-through wrappers of them
 * neither. */
static bool library_fn(const void *fn)
{
#define GOMAP_OP(OP, access, ret, name, params, args, nil)
#define GOMAP_HELPER(ret, name, params, args, nil)                                                                 \
    if (fn == (const void *)(uintptr_t)MG_REAL(gomap_##name) || fn == (const void *)(uintptr_t)gomap_##name)     \
        return true;
#include "gomap_api.inc"
    return fn == NULL;
}

void mg_map_created(gomap *m, const gomap_type *type, uintptr_t pc)
{
    uint64_t *w = mg_words(m);
    uint32_t self = mg_self_idx();
    uint32_t stack = 0;
    if (mg_opt.detect_leaks) {
        /* Leaks are grouped by creation stack. */
        mg_busy_enter();
        stack = mg_stack_capture_id();
        mg_busy_leave();
    }
    size_t ks = type->key_size < (1u << 24) ? type->key_size : 0;
    bool reflexive = always_reflexive(type->equal);
    bool framed = !reflexive || !library_fn((const void *)(uintptr_t)type->hash) ||
                  !library_fn((const void *)(uintptr_t)type->equal) || !mg_stack_knows_gomap();
    MG_WR(w[MW_EQUAL], reflexive ? 0 : (uint64_t)(uintptr_t)type->equal);
    MG_WR(w[MW_SHAPE], shape_make(0, MG_OP_NONE, ks) | (framed ? SH_FRAMED : 0));
    MG_WR(w[MW_MADE], site_make(pc, self));
    __atomic_store_n(&w[MW_HDR], hdr_make(MS_LIVE, stack), __ATOMIC_RELEASE);
    if (mg_opt.detect_leaks)
        mg_leak_track(m);
    mg_hb_map_created(w);
}

void mg_check_key_slow(struct mg_call *c, const void *key, gomap_equal_fn eq)
{
    size_t ks = shape_ksize(MG_RD(c->w[MW_SHAPE]));
    if (!key || ks == 0 || eq(key, key, ks))
        return;
    int slot = mg_report_claim(MK_IRREFLEXIVE, c->pc, 0);
    if (slot < 0)
        return;
    struct mg_finding f = {.kind = MK_IRREFLEXIVE, .map = c->m};
    mg_busy_enter();
    f.access = (struct mg_party){
        .present = true, .op = c->op, .thread = c->self, .stack = mg_stack_capture_id(), .pc = c->pc, .complete = true,
    };
    mg_party_made(&f.made, c->m);
    mg_busy_leave();
    mg_report(&f, slot);
}

void mg_iter_modified(struct mg_call *c, gomap_iter *it, uint32_t now)
{
    (void)now;
    uint64_t mod = MG_RD(c->w[MW_LASTMOD]);
    uint64_t g = it->tool_[IW_GEN];
    int slot = mg_report_claim(MK_MOD_ITER, c->pc, site_pc(mod));
    if (slot < 0)
        return;
    struct mg_finding f = {.kind = MK_MOD_ITER, .map = c->m};
    mg_busy_enter();
    f.access = (struct mg_party){
        .present = true, .op = c->op, .thread = c->self, .stack = mg_stack_capture_id(), .pc = c->pc, .complete = true,
    };
    f.other = (struct mg_party){
        .present = true,
        .op = shape_op(MG_RD(c->w[MW_SHAPE])),
        .thread = site_thread(mod),
        .pc = site_pc(mod),
    };
    f.iter = (struct mg_party){
        .present = true,
        .op = MG_OP_ITER_INIT,
        .thread = it_thread(g),
        .pc = (uintptr_t)it->tool_[IW_SITE],
    };
    mg_party_made(&f.made, c->m);
    mg_busy_leave();
    mg_report(&f, slot);
}
