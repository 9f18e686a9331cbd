/*
 * A finding's record by hand, without jansson: what libmapguard.so writes
 * when libmapguard-symbolize.so (and its renderer, render.c) cannot be
 * loaded, and the plain line a finding in flight is on record with
 * (inflight.c). JSON with module+offset frames, as the format allows, or
 * the text block in finding_text.c's layout with the parties the record
 * has. Formatted with jsonline.c into a fixed buffer: no allocation, no
 * printf, no lock when plain.
 */
#include "finding_plain.h"
#include "ghash_ops.h"
#include "gomap_api.h"
#include "jsonline.h"
#include "kinds.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 0x<hex> */
static void put_hex_raw(struct mg_line *l, uintptr_t v)
{
    char b[2 + 2 * sizeof v + 1], *p = b + sizeof b;
    *--p = 0;
    do
        *--p = "0123456789abcdef"[v & 15];
    while (v >>= 4);
    *--p = 'x';
    *--p = '0';
    mg_put(l, p);
}

static void put_hex(struct mg_line *l, uintptr_t v)
{
    mg_put(l, "\"");
    put_hex_raw(l, v);
    mg_put(l, "\"");
}

/* Frames with module and offset only (what mg_symbolize gives without the
 * symbolizer), as many as leave room for the rest of the line; the first
 * always. Call with the symbolization lock held. */
static void put_stack(struct mg_line *l, const struct mg_render_host *h, uint32_t stack, uintptr_t pc, bool text,
                      bool plain)
{
    struct mg_frame pf;
    char pname[PATH_MAX];
    const uintptr_t *pcs;
    int n;
    uintptr_t one[1] = {pc};
    if (!stack || !h->depot_get(stack, &pcs, &n)) {
        pcs = one;
        n = pc ? 1 : 0;
    }
    if (!text)
        mg_put(l, "[");
    else if (n == 0)
        mg_put(l, "    <no stack>\n");
    for (int i = 0; i < n && (i == 0 || l->n < MG_LINE_CAP / 2); i++) {
        const struct mg_frame *fr = &pf;
        if (plain)
            mg_symbolize_plain(pcs[i] ? pcs[i] - 1 : 0, &pf, pname, sizeof pname);
        else
            h->symbolize(pcs[i], &fr);
        if (text) {
            /* finding_text.c's frame without symbols: the module's base
             * name and the offset */
            mg_put(l, "    #");
            mg_put_int(l, i);
            mg_put(l, " <unknown>");
            if (fr->module) {
                const char *base = strrchr(fr->module, '/');
                mg_put(l, " (");
                mg_put(l, base ? base + 1 : fr->module);
                mg_put(l, "+");
                put_hex_raw(l, fr->offset);
                mg_put(l, ")");
            }
            mg_put(l, "\n");
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
static void put_party(struct mg_line *l, const struct mg_render_host *h, const char *key, const struct mg_party *p,
                      bool with_op, bool with_complete, bool plain)
{
    uint32_t tid, created;
    char name[64];
    h->thread(p->thread, &tid, &created, name, sizeof name);
    mg_put(l, key);
    mg_put(l, "{");
    if (with_op && p->op != MG_OP_NONE) {
        mg_put(l, "\"op\":\"");
        mg_put(l, h->op_name(p->op));
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
    put_stack(l, h, p->stack, p->pc, false, plain);
    if (with_complete)
        mg_put(l, p->complete && p->stack ? ",\"stack_complete\":true" : ",\"stack_complete\":false");
    mg_put(l, "}");
}

/* One party in finding_text.c's words: "<What> (gomap_<op>) by main thread
 * N "name":", then its frames. what (and what2, when not NULL, after a
 * space) is the lower-case noun; op the party's own, else dflt_op (may be
 * NULL); incomplete, when not NULL, the line for a stack that is the call
 * site only. No printf: the plain line may be made in a signal handler. */
static void put_party_text(struct mg_line *l, const struct mg_render_host *h, const char *what, const char *what2,
                           const struct mg_party *p, const char *dflt_op, const char *incomplete, bool plain)
{
    uint32_t tid, created;
    char name[64];
    h->thread(p->thread, &tid, &created, name, sizeof name);
    const char *op = p->op != MG_OP_NONE ? h->op_name(p->op) : dflt_op;
    char first[2] = {what[0] >= 'a' && what[0] <= 'z' ? (char)(what[0] - 'a' + 'A') : what[0], 0};
    mg_put(l, "  ");
    mg_put(l, first);
    mg_put(l, what[0] ? what + 1 : what);
    if (what2) {
        mg_put(l, " ");
        mg_put(l, what2);
    }
    if (op) {
        mg_put(l, " (");
        mg_put(l, mg_op_prefix(p->op)); /* a default op is gomap's */
        mg_put(l, op);
        mg_put(l, ")");
    }
    if (!tid) {
        mg_put(l, " by thread ? \"");
        mg_put(l, name);
        mg_put(l, "\":\n");
    } else {
        mg_put(l, (pid_t)tid == getpid() ? " by main thread " : " by thread ");
        mg_put_int(l, tid);
        if (name[0]) {
            mg_put(l, " \"");
            mg_put(l, name);
            mg_put(l, "\"");
        }
        mg_put(l, ":\n");
    }
    put_stack(l, h, p->stack, p->pc, true, plain);
    if (incomplete && !(p->complete && p->stack))
        mg_put(l, incomplete);
}

/* The text block of finding_text.c for what the record by hand holds: no
 * symbols, no threads' creation stacks, no map creation. */
static void finding_by_hand_text(struct mg_line *l, const struct mg_render_host *h, const struct mg_finding *f,
                                 bool plain)
{
    const struct mg_kind_info *k = &mg_kinds[f->kind];
    mg_put(l, MG_TEXT_BANNER "WARNING: mapguard: ");
    mg_put(l, k->message);
    mg_put(l, " (");
    mg_put(l, k->name);
    mg_put(l, ") on map ");
    put_hex_raw(l, (uintptr_t)f->map);
    mg_put(l, " (pid ");
    mg_put_int(l, getpid());
    mg_put(l, ")\n");
    const char *op = f->access.op != MG_OP_NONE ? h->op_name(f->access.op) : NULL;
    put_party_text(l, h, k->heading ? k->heading : mg_op_class(op), NULL, &f->access, NULL, NULL, plain);
    switch (f->kind) {
    case MK_MOD_ITER:
        put_party_text(l, h, "map modified", NULL, &f->other, NULL, NULL, plain);
        put_party_text(l, h, "iterator created", NULL, &f->iter, "iter_init", NULL, plain);
        break;
    case MK_USE_AFTER_FREE:
    case MK_DOUBLE_FREE:
        put_party_text(l, h, "map freed", NULL, &f->other, "free", NULL, plain);
        break;
    case MK_LEAK:
        mg_put(l, "  ");
        mg_put_int(l, (long long)f->count);
        mg_put(l, f->count == 1 ? " map made here was" : " maps made here were");
        mg_put(l, " still allocated at exit, holding ");
        mg_put_int(l, (long long)f->entries);
        mg_put(l, f->entries == 1 ? " entry\n" : " entries\n");
        break;
    default:
        if (mg_kind_is_concurrency(f->kind))
            put_party_text(l, h, "concurrent",
                           mg_op_class(f->other.op != MG_OP_NONE ? h->op_name(f->other.op) : NULL), &f->other,
                           NULL,
                           f->evidence == MG_EVIDENCE_UNORDERED ? MG_TEXT_CALL_SITE_ONLY_UNORDERED
                                                                : MG_TEXT_CALL_SITE_ONLY,
                           plain);
        break;
    }
    /* the <unknown> frames say nothing of why (a held-out probe) */
    if (plain)
        mg_put(l, "  (No symbols: this finding was written as found, module+offset only, because the process\n"
                  "  was ending or every report in progress was still waiting; addr2line -e MODULE\n"
                  "  OFFSET gives a frame's line.)\n");
    mg_put(l, "  Fix: ");
    mg_put(l, mg_kind_fix(f->kind, mg_op_api(f->access.op)));
    mg_put(l, "\n" MG_TEXT_BANNER);
}

/* The finding without "id", as render.h's finding() gives it. Call with the
 * symbolization lock held, unless plain (module+offset frames without
 * mg_symbolize, which needs no lock). */
void mg_finding_by_hand(struct mg_line *l, const struct mg_render_host *h, const struct mg_finding *f, bool text,
                        bool plain)
{
    if (text) {
        finding_by_hand_text(l, h, f, plain);
        return;
    }
    mg_put(l, "{\"kind\":\"");
    mg_put(l, mg_kinds[f->kind].name);
    mg_put(l, "\",\"message\":\"");
    mg_put(l, mg_kinds[f->kind].message);
    mg_put(l, "\",\"pid\":");
    mg_put_int(l, getpid());
    mg_put(l, ",\"map\":");
    put_hex(l, (uintptr_t)f->map);
    mg_put(l, ",\"api\":\"");
    mg_put(l, mg_op_api(f->access.op));
    mg_put(l, "\"");
    put_party(l, h, ",\"access\":", &f->access, true, false, plain);
    switch (f->kind) {
    case MK_READ_WRITE:
    case MK_WRITES:
    case MK_ITER_WRITE:
        put_party(l, h, ",\"conflict\":", &f->other, true, true, plain);
        mg_put(l, f->evidence == MG_EVIDENCE_UNORDERED ? ",\"evidence\":\"unordered\"" : ",\"evidence\":\"overlap\"");
        break;
    case MK_MOD_ITER:
        mg_put(l, ",\"modification\":{\"op\":\"");
        mg_put(l, h->op_name(f->other.op));
        put_party(l, h, "\",\"created\":", &f->other, false, false, plain);
        put_party(l, h, "},\"iterator\":{\"created\":", &f->iter, false, false, plain);
        if (mg_op_is_ghash(f->iter.op)) {
            mg_put(l, ",\"op\":\"");
            mg_put(l, h->op_name(f->iter.op));
            mg_put(l, "\"");
        }
        mg_put(l, "}");
        break;
    case MK_USE_AFTER_FREE:
    case MK_DOUBLE_FREE:
        put_party(l, h, ",\"freed\":", &f->other, mg_op_is_ghash(f->other.op), false, plain);
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

char *mg_finding_by_hand_alloc(const struct mg_render_host *h, const struct mg_finding *f, bool text, char **where)
{
    static MG_LARGE_BSS struct mg_line by_hand; /* under the symbolization lock */
    by_hand.n = 0;
    mg_finding_by_hand(&by_hand, h, f, text, false);
    char *out = malloc(by_hand.n + 1);
    if (out) {
        memcpy(out, by_hand.buf, by_hand.n);
        out[by_hand.n] = 0;
    }
    /* "? (module+offset)" of the access, as render.c's where_of says it
     * without symbols */
    *where = NULL;
    const uintptr_t *pcs;
    int n;
    uintptr_t pc = f->access.pc;
    if (f->access.stack && h->depot_get(f->access.stack, &pcs, &n) && n > 0)
        pc = pcs[0];
    const struct mg_frame *fr;
    if (pc && h->symbolize(pc, &fr) > 0) {
        char b[PATH_MAX + 64];
        snprintf(b, sizeof b, "? (%s+0x%" PRIxPTR ")", fr->module ? fr->module : "?", fr->offset);
        *where = strdup(b);
    }
    return out;
}
