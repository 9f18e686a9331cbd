/*
 * Suppression rules: the file's rules (suppress_file.c reads them), and
 * matching a finding against them.
 *
 * A file that cannot be used is named in one line on stderr at start, and
 * no rule of it applies. Not fatal: the shim never stops a program for its
 * options, and a file that hides nothing can only make a run report more,
 * never let a finding through. (`mapguard run` refuses such a file before
 * it starts anything: cli/shimopts.c.)
 *
 * Patterns are matched by a glob with one backtrack point, in time
 * proportional to pattern times text at worst: a pattern from a file must
 * not make a report take exponential time.
 */
#include "suppress.h"
#include "suppress_file.h"
#include "log.h"
#include "options.h"

#include <string.h>

static struct mg_supp_rule *rules;
static size_t nrules;

void mg_suppress_load(void)
{
    const char *path = mg_opt.suppressions;
    char err[sizeof mg_opt.suppressions + 200];
    if (path[0] && !mg_supp_file_load(path, &rules, &nrules, err, sizeof err))
        mg_log(0, "error: %s; no suppressions apply", err);
}

/* Does the whole of t match p, where '*' matches any run of characters?
 * On a mismatch only the latest star is backtracked to: an earlier star
 * could not do better, so this is O(|p| * |t|). */
static bool glob(const char *p, const char *t)
{
    const char *star = NULL, *resume = NULL;
    for (;;) {
        if (*p == '*') {
            star = ++p;
            resume = t;
        } else if (*t && *p == *t) {
            p++;
            t++;
        } else if (!*t && !*p) {
            return true;
        } else if (star && *resume) {
            p = star;
            t = ++resume;
        } else {
            return false;
        }
    }
}

static bool kind_matches(int rule, int kind)
{
    return rule == MG_SUPP_ANY || rule == kind || (rule == MG_SUPP_RACE && mg_kind_is_concurrency(kind));
}

static bool frame_matches(const struct mg_frame *fr, int kind)
{
    for (size_t i = 0; i < nrules; i++) {
        if (!kind_matches(rules[i].kind, kind))
            continue;
        const char *p = rules[i].pattern;
        if ((fr->function && glob(p, fr->function)) || (fr->file && glob(p, fr->file)) ||
            (fr->module && glob(p, fr->module)))
            return true;
    }
    return false;
}

/* Every frame of a stack as the renderer shows it: a depot stack, or the
 * one call site pc, each address expanded into its inlined frames. */
static bool stack_matches(const struct mg_render_host *h, uint32_t stack, uintptr_t pc, int kind)
{
    const uintptr_t *pcs;
    int n;
    uintptr_t one[1] = {pc};
    if (!stack || !h->depot_get(stack, &pcs, &n)) {
        pcs = one;
        n = pc ? 1 : 0;
    }
    for (int i = 0; i < n; i++) {
        const struct mg_frame *fr;
        int k = h->symbolize(pcs[i], &fr);
        for (int j = 0; j < k; j++)
            if (frame_matches(&fr[j], kind))
                return true;
    }
    return false;
}

static bool party_matches(const struct mg_render_host *h, const struct mg_party *p, int kind)
{
    uint32_t tid, created;
    char name[64];
    h->thread(p->thread, &tid, &created, name, sizeof name);
    return stack_matches(h, p->stack, p->pc, kind) || (created && stack_matches(h, created, 0, kind));
}

bool mg_suppressed(const struct mg_finding *f, const struct mg_render_host *h)
{
    bool any = false;
    for (size_t i = 0; i < nrules && !any; i++)
        any = kind_matches(rules[i].kind, f->kind);
    if (!any)
        return false;
    /* the parties render.c shows for the kind */
    if (party_matches(h, &f->access, f->kind))
        return true;
    switch (f->kind) {
    case MK_READ_WRITE:
    case MK_WRITES:
    case MK_ITER_WRITE:
    case MK_USE_AFTER_FREE:
    case MK_DOUBLE_FREE:
        if (party_matches(h, &f->other, f->kind))
            return true;
        break;
    case MK_MOD_ITER:
        if (party_matches(h, &f->other, f->kind) || party_matches(h, &f->iter, f->kind))
            return true;
        break;
    default:
        break;
    }
    return f->made.present && party_matches(h, &f->made, f->kind);
}
