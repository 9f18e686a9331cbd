/*
 * Reports: one JSON object (or text block) per finding, one line, one
 * write(2), the moment it is made.
 *
 * mg_report is the orchestration: the finding goes on record in flight
 * (inflight.c) before anything slow, suppressions are matched (suppress.c)
 * on the same frames whichever way the finding is then written, the
 * renderer of libmapguard-symbolize.so builds the line (render.c), or,
 * without it, the plainer record by hand below; the dedup slot (dedup.c)
 * learns its id, and the line goes out (output.c) under the report lock,
 * so ids appear in the log in order. halt_on_error ends the process after.
 *
 * The kinds' names and messages, and the record by hand, are also here.
 */
#include "report.h"
#include "dedup.h"
#include "gomap_api.h"
#include "inflight.h"
#include "jsonline.h"
#include "options.h"
#include "output.h"
#include "render.h"
#include "runtime.h"
#include "stack.h"
#include "suppress.h"
#include "threads.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *name, *message;
} kinds[MK_COUNT] = {
    [MK_READ_WRITE] = {"concurrent-read-write", "concurrent map read and map write"},
    [MK_WRITES] = {"concurrent-writes", "concurrent map writes"},
    [MK_ITER_WRITE] = {"concurrent-iteration-write", "concurrent map iteration and map write"},
    [MK_MOD_ITER] = {"modified-during-iteration", "map modified during iteration"},
    [MK_NIL_WRITE] = {"nil-map-write", "assignment to entry in nil map"},
    [MK_USE_AFTER_FREE] = {"use-after-free", "map used after free"},
    [MK_DOUBLE_FREE] = {"double-free", "map freed twice"},
    [MK_IRREFLEXIVE] = {"irreflexive-key", "key is not equal to itself"},
    [MK_LEAK] = {"leaked-map", "map never freed"},
};

const char *mg_kind_name(int kind) { return kind >= 0 && kind < MK_COUNT ? kinds[kind].name : "?"; }

/* ---- what the renderer needs from the shim (render.h) ---- */

static const char *kind_message(int kind) { return kind >= 0 && kind < MK_COUNT ? kinds[kind].message : "?"; }

static void thread_info(uint32_t idx, uint32_t *tid, uint32_t *created, char *name, size_t len)
{
    *tid = idx == mg_self.idx ? mg_self.tid : mg_thread_tid(idx);
    *created = idx == mg_self.idx ? mg_self.created_stack : mg_thread_created(idx);
    mg_thread_name(idx, name, len);
}

static const struct mg_render_host host = {
    .kind_name = mg_kind_name,
    .kind_message = kind_message,
    .op_name = mg_op_name,
    .depot_get = mg_depot_get,
    .thread = thread_info,
    .symbolize = mg_symbolize,
};

/* ---- without the renderer: a plainer record by hand ---- */

static void put_hex(struct mg_line *l, uintptr_t v)
{
    char b[2 + 2 * sizeof v + 1], *p = b + sizeof b;
    *--p = 0;
    do
        *--p = "0123456789abcdef"[v & 15];
    while (v >>= 4);
    *--p = 'x';
    *--p = '0';
    mg_put(l, "\"");
    mg_put(l, p);
    mg_put(l, "\"");
}

/* Frames with module and offset only (what mg_symbolize gives without the
 * symbolizer), as many as leave room for the rest of the line; the first
 * always. Call with the symbolization lock held. */
static void put_stack(struct mg_line *l, uint32_t stack, uintptr_t pc, bool text, bool plain)
{
    struct mg_frame pf;
    char pname[PATH_MAX];
    const uintptr_t *pcs;
    int n;
    uintptr_t one[1] = {pc};
    if (!stack || !mg_depot_get(stack, &pcs, &n)) {
        pcs = one;
        n = pc ? 1 : 0;
    }
    if (!text)
        mg_put(l, "[");
    for (int i = 0; i < n && (i == 0 || l->n < MG_LINE_CAP / 2); i++) {
        const struct mg_frame *fr = &pf;
        if (plain)
            mg_symbolize_plain(pcs[i] ? pcs[i] - 1 : 0, &pf, pname, sizeof pname);
        else
            mg_symbolize(pcs[i], &fr);
        if (text) {
            mg_put(l, "    #");
            mg_put_int(l, i);
            mg_put(l, " <unknown> (");
            mg_put(l, fr->module ? fr->module : "?");
            mg_put(l, "+");
            char b[24];
            mg_put(l, "0x");
            size_t k = sizeof b;
            uintptr_t v = fr->offset;
            b[--k] = 0;
            do
                b[--k] = "0123456789abcdef"[v & 15];
            while (v >>= 4);
            mg_put(l, b + k);
            mg_put(l, ")\n");
            continue;
        }
        mg_put(l, i ? ",{\"pc\":" : "{\"pc\":");
        put_hex(l, fr->pc);
        mg_put(l, ",\"module\":");
        size_t before = l->n;
        if (!fr->module || !mg_utf8_valid(fr->module) || !mg_put_str(l, fr->module)) {
            l->n = before;
            mg_put(l, "null");
        }
        mg_put(l, ",\"offset\":");
        put_hex(l, fr->offset);
        mg_put(l, ",\"function\":null,\"file\":null,\"line\":null}");
    }
    if (!text)
        mg_put(l, "]");
}

/* {op?, thread, stack, stack_complete?}, thread creation left out */
static void put_party(struct mg_line *l, const char *key, const struct mg_party *p, bool with_op, bool with_complete,
                      bool plain)
{
    uint32_t tid, created;
    char name[64];
    thread_info(p->thread, &tid, &created, name, sizeof name);
    mg_put(l, key);
    mg_put(l, "{");
    if (with_op && p->op != MG_OP_NONE) {
        mg_put(l, "\"op\":\"");
        mg_put(l, mg_op_name(p->op));
        mg_put(l, "\",");
    }
    mg_put(l, "\"thread\":{\"tid\":");
    if (tid)
        mg_put_int(l, tid);
    else
        mg_put(l, "null");
    mg_put(l, ",\"name\":");
    size_t before = l->n;
    if (!mg_put_str(l, name)) {
        l->n = before;
        mg_put(l, "\"\"");
    }
    mg_put(l, "},\"stack\":");
    put_stack(l, p->stack, p->pc, false, plain);
    if (with_complete)
        mg_put(l, p->complete && p->stack ? ",\"stack_complete\":true" : ",\"stack_complete\":false");
    mg_put(l, "}");
}

/* The finding without "id", as render.h's finding() gives it. Call with the
 * symbolization lock held, unless plain (module+offset frames without
 * mg_symbolize, which needs no lock). */
static void finding_by_hand(struct mg_line *l, const struct mg_finding *f, bool text, bool plain)
{
    if (text) {
        mg_put(l, "==================\nWARNING: mapguard: ");
        mg_put(l, kinds[f->kind].message);
        mg_put(l, " (");
        mg_put(l, kinds[f->kind].name);
        mg_put(l, ") (pid=");
        mg_put_int(l, getpid());
        mg_put(l, ")\n  ");
        mg_put(l, f->access.op != MG_OP_NONE ? mg_op_name(f->access.op) : "access");
        mg_put(l, ":\n");
        put_stack(l, f->access.stack, f->access.pc, true, plain);
        mg_put(l, "\nSUMMARY: mapguard: ");
        mg_put(l, kinds[f->kind].name);
        mg_put(l, "\n==================\n");
        return;
    }
    mg_put(l, "{\"kind\":\"");
    mg_put(l, kinds[f->kind].name);
    mg_put(l, "\",\"message\":\"");
    mg_put(l, kinds[f->kind].message);
    mg_put(l, "\",\"pid\":");
    mg_put_int(l, getpid());
    mg_put(l, ",\"map\":");
    put_hex(l, (uintptr_t)f->map);
    put_party(l, ",\"access\":", &f->access, true, false, plain);
    switch (f->kind) {
    case MK_READ_WRITE:
    case MK_WRITES:
    case MK_ITER_WRITE:
        put_party(l, ",\"conflict\":", &f->other, true, true, plain);
        break;
    case MK_MOD_ITER:
        mg_put(l, ",\"modification\":{\"op\":\"");
        mg_put(l, mg_op_name(f->other.op));
        put_party(l, "\",\"created\":", &f->other, false, false, plain);
        put_party(l, "},\"iterator\":{\"created\":", &f->iter, false, false, plain);
        mg_put(l, "}");
        break;
    case MK_USE_AFTER_FREE:
    case MK_DOUBLE_FREE:
        put_party(l, ",\"freed\":", &f->other, false, false, plain);
        break;
    case MK_LEAK:
        mg_put(l, ",\"count\":");
        mg_put_int(l, (long long)f->count);
        mg_put(l, ",\"entries\":");
        mg_put_int(l, (long long)f->entries);
        break;
    default:
        break;
    }
    mg_line_end(l);
}

/* ---- a finding, from claim to disk ---- */

void mg_report_plain(struct mg_line *l, const struct mg_finding *f)
{
    l->n = 0;
    finding_by_hand(l, f, mg_opt.format == MG_FORMAT_TEXT, true);
}

void mg_report_emit(const char *buf, size_t n)
{
    if (!mg_inflight_write_begin())
        return;
    mg_out_write(buf, n);
    mg_inflight_write_end();
}

void mg_report(struct mg_finding *f, int slot) { mg_report_inflight(f, slot, 0); }

void mg_report_inflight(struct mg_finding *f, int slot, int h)
{
    int saved = errno;
    mg_busy_enter();
    /* On record before anything slow (suppressions, the symbolizer's
     * loading, libdw): whatever ends the process from here on writes this
     * line if the full report is not out yet (inflight.c). */
    if (h)
        mg_inflight_update(h, f);
    else
        h = mg_inflight_begin(f);
    if (mg_inflight_exiting()) {
        /* The process is on its way out: no time for symbols. */
        if (h)
            mg_inflight_write_now(h);
        else
            mg_inflight_unclaim();
        mg_busy_leave();
        errno = saved;
        return;
    }
    mg_report_lock();
    size_t line_max = mg_out_line_max();
    mg_report_unlock();
    /* room for the ",\"id\":N" inserted below */
    size_t max_len = line_max ? line_max - 24 : 0;
    bool text = mg_opt.format == MG_FORMAT_TEXT;
    char *where = NULL, *out = NULL;
    static struct mg_line by_hand; /* under the symbolization lock */
    mg_symbolize_lock();
    const struct mg_renderer *r = mg_renderer();
    bool suppressed = mg_suppressed(f, &host);
    if (!suppressed && r) {
        out = r->finding(&host, f, text, max_len, &where);
    } else if (!suppressed) {
        by_hand.n = 0;
        finding_by_hand(&by_hand, f, text, false);
        out = malloc(by_hand.n + 1);
        if (out) {
            memcpy(out, by_hand.buf, by_hand.n);
            out[by_hand.n] = 0;
        }
        /* "? (module+offset)" of the access, as render.c's where_of says
         * it without symbols */
        const uintptr_t *pcs;
        int n;
        uintptr_t pc = f->access.pc;
        if (f->access.stack && mg_depot_get(f->access.stack, &pcs, &n) && n > 0)
            pc = pcs[0];
        const struct mg_frame *fr;
        if (pc && mg_symbolize(pc, &fr) > 0) {
            char b[PATH_MAX + 64];
            snprintf(b, sizeof b, "? (%s+0x%" PRIxPTR ")", fr->module ? fr->module : "?", fr->offset);
            where = strdup(b);
        }
    }
    mg_symbolize_unlock();
    bool halt = false;
    mg_report_lock();
    if (suppressed) {
        mg_dedup_suppressed(slot);
        mg_inflight_drop(h);
    } else {
        /* false: an exit path wrote the plain line already, and counted it */
        bool mine = mg_inflight_take(h);
        unsigned id = mine ? mg_report_next_id() : mg_inflight_id(h);
        mg_dedup_reported(slot, id, &where);
        if (out && mine && mg_inflight_write_begin()) {
            size_t n = strlen(out);
            if (text || n < 2) {
                mg_out_write(out, n);
            } else {
                /* ",\"id\":N" before the closing "}\n", one write */
                char d[24], *t = malloc(n + 32);
                if (t) {
                    const char *num = mg_decimal(d, id);
                    size_t k = n - 2, m = strlen(num);
                    memcpy(t, out, k);
                    memcpy(t + k, ",\"id\":", 6);
                    memcpy(t + k + 6, num, m);
                    memcpy(t + k + 6 + m, "}\n", 2);
                    mg_out_write(t, k + 8 + m);
                    free(t);
                }
            }
            mg_inflight_write_end();
        }
        if (mine)
            mg_inflight_done(h);
        halt = mg_opt.halt_on_error;
    }
    mg_report_unlock();
    if (!h)
        mg_inflight_unclaim();
    free(out);
    free(where);
    if (halt)
        mg_halt();
    mg_busy_leave();
    errno = saved;
}
