/*
 * The map's lifetime: nil-map-write, use-after-free, double-free, and the
 * quarantine that makes the last two detectable.
 *
 * gomap_free marks the map freed in its words but does not free it: the
 * map goes into a fixed-size ring, and only the map it pushes out is
 * really freed, as ASan's quarantine does. While a freed map sits in the
 * ring its memory still belongs to it, so a later call can read the mark,
 * report, and then act as the nil map would, touching nothing else. Once
 * a map has left the ring its memory may be reused and such a call is no
 * longer recognised (the header mark is cleared before the real free).
 */
#include "detect.h"
#include "dedup.h"
#include "options.h"
#include "report.h"
#include "stack.h"

#include <errno.h>
#include <stdlib.h>

static gomap **ring;
static size_t ring_head;

static void report_simple(int kind, struct mg_call *c, const gomap *m, unsigned op, uintptr_t pc, uint32_t self)
{
    uint64_t freed_site = c ? MG_RD(c->w[MW_LASTW]) : 0;
    int slot = mg_report_claim(kind, pc, site_pc(freed_site));
    if (slot < 0)
        return;
    struct mg_finding f = {.kind = kind, .map = m};
    mg_busy_enter();
    f.access = (struct mg_party){
        .present = true, .op = op, .thread = self, .stack = mg_stack_capture_id(), .pc = pc, .complete = true,
    };
    if (c) {
        /* gomap_free left its call site in lastw and its stack in lastmod */
        f.other = (struct mg_party){
            .present = true,
            .op = MG_OP_FREE,
            .thread = site_thread(freed_site),
            .stack = (uint32_t)MG_RD(c->w[MW_LASTMOD]),
            .pc = site_pc(freed_site),
        };
        f.other.complete = f.other.stack != 0;
        mg_party_made(&f.made, m);
    }
    mg_busy_leave();
    mg_report(&f, slot);
}

void mg_nil_write(unsigned op, uintptr_t pc)
{
    if (mg_self.busy)
        return;
    report_simple(MK_NIL_WRITE, NULL, NULL, op, pc, mg_self_idx());
}

void mg_use_after_free(struct mg_call *c)
{
    report_simple(MK_USE_AFTER_FREE, c, c->m, c->op, c->pc, c->self);
}

void mg_double_free(struct mg_call *c)
{
    report_simple(MK_DOUBLE_FREE, c, c->m, c->op, c->pc, c->self);
}

void mg_free_mark(struct mg_call *c)
{
    uint32_t stack = 0;
    if (mg_opt.quarantine_size > 0) {
        /* Only a quarantined map can be caught in use later. */
        int saved = errno;
        mg_busy_enter();
        stack = mg_stack_save();
        mg_busy_leave();
        errno = saved;
    }
    if (mg_opt.detect_leaks)
        mg_leak_untrack(c->m);
    MG_WR(c->w[MW_LASTMOD], stack);
    MG_WR(c->w[MW_LASTW], site_make(c->pc, c->self));
    uint64_t h = MG_RD(c->w[MW_HDR]);
    __atomic_store_n(&c->w[MW_HDR], hdr_make(MS_FREED, hdr_created(h)), __ATOMIC_RELEASE);
}

static void really_free(gomap *m)
{
    __atomic_store_n(&mg_words(m)[MW_HDR], 0, __ATOMIC_RELEASE);
    mg_hb_map_freed(mg_words(m));
    MG_REAL(gomap_free)(m);
}

void mg_quarantine(gomap *m)
{
    size_t n = (size_t)mg_opt.quarantine_size;
    gomap **r = __atomic_load_n(&ring, __ATOMIC_ACQUIRE);
    if (n && !r) {
        gomap **fresh = calloc(n, sizeof *fresh);
        gomap **expected = NULL;
        if (fresh && !__atomic_compare_exchange_n(&ring, &expected, fresh, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            free(fresh);
        r = __atomic_load_n(&ring, __ATOMIC_ACQUIRE);
    }
    if (!n || !r) {
        really_free(m);
        return;
    }
    size_t i = __atomic_fetch_add(&ring_head, 1, __ATOMIC_RELAXED) % n;
    gomap *old = __atomic_exchange_n(&r[i], m, __ATOMIC_ACQ_REL);
    if (old)
        really_free(old);
}
