/*
 * The human-readable report: each finding's block (shim/finding_text.c, the
 * same the detector writes with format=text), with how often and where it
 * was reported; the crashes; and the closing one-line summary.
 */
#include "cli.h"
#include "finding_text.h"

#include <stdlib.h>
#include <string.h>

/* "SIGSEGV", else "signal 11". */
static void signal_name(json_t *rec, char *buf, size_t n)
{
    const char *sig = mg_str(rec, "signal");
    if (sig && *sig)
        snprintf(buf, n, "%s", sig);
    else
        snprintf(buf, n, "signal %lld", mg_int(rec, "signo", 0));
}

/* A deadly-signal record, in AddressSanitizer's shape: the crash is not a
 * map finding, so ERROR rather than WARNING, and no Fix line. */
static void print_crash(FILE *out, const mgc_finding *f)
{
    json_t *rec = f->rec;
    char sig[64];
    signal_name(rec, sig, sizeof sig);
    long pid = (long)mg_int(rec, "pid", -1);
    json_t *th = json_object_get(rec, "thread");
    long long tid = mg_int(th, "tid", -1);
    const char *name = mg_str(th, "name");

    fputs(MG_TEXT_BANNER, out);
    fprintf(out, "ERROR: mapguard: deadly signal %s on ", sig);
    if (tid >= 0 && name && *name)
        fprintf(out, "thread %lld \"%s\"", tid, name);
    else if (tid >= 0)
        fprintf(out, "thread %lld", tid);
    else
        fputs("an unknown thread", out);
    fprintf(out, " (pid %ld)\n", pid);
    const char *addr = mg_str(rec, "address");
    if (addr)
        fprintf(out, "  Address: %s\n", addr);
    /* the map call the thread was inside: the likely victim of a race */
    json_t *in = json_object_get(rec, "in_call");
    if (in && mg_str(in, "function"))
        fprintf(out, "  In call: %s on map %s (api %s)\n", mg_str(in, "function"),
                mg_str(in, "map") ? mg_str(in, "map") : "?", mg_str(in, "api") ? mg_str(in, "api") : "?");
    mg_text_stack(out, json_object_get(rec, "stack"));
    mg_text_reported(out, &(struct mg_text_tally){
                              .count = f->count, .pids = f->pids, .npids = f->npids, .more_pids = f->more_pids});
    fputs(MG_TEXT_BANNER, out);
}

void mg_render_text(FILE *out, const mgc_reports *r)
{
    for (size_t i = 0; i < r->nfindings; i++) {
        const mgc_finding *f = &r->findings[i];
        struct mg_text_tally t = {
            .count = f->count, .recurred = f->recurred, .pids = f->pids, .npids = f->npids, .more_pids = f->more_pids};
        mg_text_finding(out, f->rec, &t);
    }
    /* After the findings: a race that corrupted the map is what usually
     * explains the crash, and is read first. */
    for (size_t i = 0; i < r->ncrashes; i++)
        print_crash(out, &r->crashes[i]);
}

/* ", 2 deadly signals (SIGSEGV, SIGABRT)": every crash record counted, each
 * signal named once. */
static void render_crash_count(FILE *out, const mgc_reports *r)
{
    unsigned long n = 0;
    for (size_t i = 0; i < r->ncrashes; i++)
        n += r->crashes[i].count;
    fprintf(out, ", %lu deadly signal%s (", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < r->ncrashes; i++) {
        char sig[64], prev[64];
        signal_name(r->crashes[i].rec, sig, sizeof sig);
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) {
            signal_name(r->crashes[j].rec, prev, sizeof prev);
            seen = strcmp(sig, prev) == 0;
        }
        if (!seen)
            fprintf(out, "%s%s", i ? ", " : "", sig);
    }
    fputc(')', out);
}

void mg_render_summary(FILE *out, const mgc_reports *r, const char *note)
{
    size_t np = mg_reports_npids(r);
    if (r->nfindings == 0 && r->nlost > 0) {
        fprintf(out, "SUMMARY: mapguard: %zu finding%s lost", r->nlost, r->nlost == 1 ? "" : "s");
    } else if (r->nfindings == 0) {
        fprintf(out, "SUMMARY: mapguard: no findings");
    } else {
        fprintf(out, "SUMMARY: mapguard: %zu finding%s (", r->nfindings,
                r->nfindings == 1 ? "" : "s");
        /* Count per kind, kinds in order of first appearance. */
        bool *done = calloc(r->nfindings, sizeof *done);
        bool first = true;
        for (size_t i = 0; i < r->nfindings; i++) {
            if (done && done[i])
                continue;
            const char *kind = mg_str(r->findings[i].rec, "kind");
            size_t n = 0;
            for (size_t j = i; j < r->nfindings; j++) {
                if (strcmp(mg_str(r->findings[j].rec, "kind"), kind) == 0) {
                    n++;
                    if (done)
                        done[j] = true;
                }
            }
            fprintf(out, "%s%zu %s", first ? "" : ", ", n, kind);
            first = false;
        }
        free(done);
        fputc(')', out);
        if (r->nreports > r->nfindings)
            fprintf(out, " from %zu reports", r->nreports);
        if (r->nlost > 0)
            fprintf(out, ", %zu more lost", r->nlost);
    }
    /* counted by a process's summary, its record not read */
    if (r->nlost > 0)
        fprintf(out, " (a process counted %s whose record could not be read)", r->nlost == 1 ? "one" : "them");
    if (r->ncrashes > 0)
        render_crash_count(out, r);
    if (r->nsuppressed > 0)
        fprintf(out, ", %zu suppressed", r->nsuppressed);
    if (np > 0)
        fprintf(out, " in %zu process%s", np, np == 1 ? "" : "es");
    if (note && *note)
        fprintf(out, "; %s", note);
    fputc('\n', out);
}
