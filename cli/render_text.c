/*
 * The human-readable report, in the layout ThreadSanitizer users know: a
 * banner, the kind, each thread's call with its stack, where the threads and
 * the map were created, and a closing summary line. CI logs are read by people
 * who have seen TSan output, so the familiar shape is the point.
 */
#include "mapguard.h"

#include <stdlib.h>
#include <string.h>

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void print_frame(FILE *out, size_t i, json_t *fr)
{
    const char *fn = mg_str(fr, "function");
    const char *file = mg_str(fr, "file");
    const char *mod = mg_str(fr, "module");
    long long line = mg_int(fr, "line", 0);
    long long col = mg_int(fr, "column", 0);
    char off[32];
    mg_hex_field(fr, "offset", off, sizeof off);

    fprintf(out, "    #%zu %s", i, fn ? fn : "<unknown>");
    if (file) {
        fprintf(out, " %s", file);
        if (line > 0)
            fprintf(out, ":%lld", line);
        if (line > 0 && col > 0)
            fprintf(out, ":%lld", col);
    }
    if (mod)
        fprintf(out, " (%s+%s)", base_name(mod), off);
    json_t *inl = json_object_get(fr, "inlined");
    if (json_is_true(inl))
        fputs(" [inlined]", out);
    fputc('\n', out);
}

static void print_stack(FILE *out, json_t *stack)
{
    if (!json_is_array(stack) || json_array_size(stack) == 0) {
        fputs("    <no stack>\n", out);
        return;
    }
    size_t i;
    json_t *fr;
    json_array_foreach(stack, i, fr) print_frame(out, i, fr);
}

/* "thread 1236 "worker"" or "main thread 1234". */
static void thread_label(json_t *th, long pid, char *buf, size_t n)
{
    if (!th) {
        snprintf(buf, n, "an unknown thread");
        return;
    }
    long long tid = mg_int(th, "tid", -1);
    const char *name = mg_str(th, "name");
    const char *main = tid >= 0 && tid == pid ? "main " : "";
    if (tid < 0) /* the detector could not tell which thread */
        snprintf(buf, n, "thread ? \"%s\"", name ? name : "");
    else if (name && *name)
        snprintf(buf, n, "%sthread %lld \"%s\"", main, tid, name);
    else
        snprintf(buf, n, "%sthread %lld", main, tid);
}

static void cap_first(char *s)
{
    if (s[0] >= 'a' && s[0] <= 'z')
        s[0] = (char)(s[0] - 'a' + 'A');
}

/* One party's heading and stack: "<what> (gomap_<op>) by <thread>:". */
static void print_party_op(FILE *out, json_t *party, const char *what, const char *dflt_op,
                           long pid)
{
    if (!party)
        return;
    char th[256], head[512];
    thread_label(mg_party_thread(party), pid, th, sizeof th);
    const char *op = mg_party_op(party);
    if (!op)
        op = dflt_op;
    if (op)
        snprintf(head, sizeof head, "%s (gomap_%s) by %s", what, op, th);
    else
        snprintf(head, sizeof head, "%s by %s", what, th);
    cap_first(head);
    fprintf(out, "  %s:\n", head);
    print_stack(out, mg_party_stack(party));
    json_t *complete = json_object_get(party, "stack_complete");
    if (json_is_false(complete))
        fputs("    (only the call site was captured: the full stack was not available in time)\n", out);
}

static void print_party(FILE *out, json_t *party, const char *what, long pid)
{
    print_party_op(out, party, what, NULL, pid);
}

/* Threads are printed once each, TSan's "Thread T2 created at:" section. */
static void print_thread_creation(FILE *out, json_t *party, long pid, long long *seen, size_t *nseen)
{
    json_t *th = mg_party_thread(party);
    json_t *created = th ? json_object_get(th, "created") : NULL;
    json_t *stack = mg_party_stack(created);
    if (!stack || json_array_size(stack) == 0)
        return;
    long long tid = mg_int(th, "tid", -1);
    for (size_t i = 0; i < *nseen; i++)
        if (seen[i] == tid)
            return;
    if (*nseen < 8)
        seen[(*nseen)++] = tid;
    char label[256];
    thread_label(th, pid, label, sizeof label);
    cap_first(label);
    fprintf(out, "  %s created at:\n", label);
    print_stack(out, stack);
}

static const char *const known_fields[] = {
    "kind", "message", "pid", "map", "access", "conflict", "evidence", "modification",
    "iterator", "freed", "map_created", "tid", "time", "ts", "version", "id",
};

static bool is_known(const char *k)
{
    for (size_t i = 0; i < sizeof known_fields / sizeof *known_fields; i++)
        if (strcmp(k, known_fields[i]) == 0)
            return true;
    return false;
}

static void print_finding(FILE *out, const mg_finding *f)
{
    json_t *rec = f->rec;
    const char *kind = mg_str(rec, "kind");
    const char *msg = mg_str(rec, "message");
    const mg_rule *rule = mg_rule_for(kind);
    const char *map = mg_str(rec, "map");
    long pid = (long)mg_int(rec, "pid", -1);

    fputs("==================\n", out);
    fprintf(out, "WARNING: mapguard: %s (%s)", msg ? msg : rule ? rule->message : kind, kind);
    if (map)
        fprintf(out, " on map %s", map);
    fprintf(out, " (pid %ld)\n", pid);

    json_t *access = json_object_get(rec, "access");
    const char *op = mg_party_op(access);
    char what[64];
    snprintf(what, sizeof what, "%s", mg_op_class(op));
    if (kind && strcmp(kind, "nil-map-write") == 0)
        snprintf(what, sizeof what, "write to the nil map");
    else if (kind && strcmp(kind, "use-after-free") == 0)
        snprintf(what, sizeof what, "use of the freed map");
    else if (kind && strcmp(kind, "double-free") == 0)
        snprintf(what, sizeof what, "second free");
    else if (kind && strcmp(kind, "leaked-map") == 0)
        snprintf(what, sizeof what, "leaked map created");
    else if (kind && strcmp(kind, "irreflexive-key") == 0)
        snprintf(what, sizeof what, "insert of a key not equal to itself");
    print_party(out, access, what, pid);

    json_t *conflict = json_object_get(rec, "conflict");
    if (conflict) {
        char cw[64];
        snprintf(cw, sizeof cw, "concurrent %s", mg_op_class(mg_party_op(conflict)));
        print_party(out, conflict, cw, pid);
        const char *ev = mg_str(rec, "evidence");
        if (ev && strcmp(ev, "unordered") == 0)
            fprintf(out, "  The earlier %s was not ordered before this %s by any lock, join or other synchronization "
                         "mapguard saw.\n", mg_op_class(mg_party_op(conflict)), what);
    }
    print_party(out, json_object_get(rec, "modification"), "map modified", pid);
    print_party_op(out, json_object_get(rec, "iterator"), "iterator created", "iter_init", pid);
    print_party_op(out, json_object_get(rec, "freed"), "map freed", "free", pid);

    long long seen[8];
    size_t nseen = 0;
    const char *parties[] = {"access", "conflict", "modification", "iterator", "freed"};
    for (size_t i = 0; i < sizeof parties / sizeof *parties; i++)
        print_thread_creation(out, json_object_get(rec, parties[i]), pid, seen, &nseen);

    json_t *mc = json_object_get(rec, "map_created");
    if (mc && !(kind && strcmp(kind, "leaked-map") == 0 && mg_party_stack(access))) {
        char th[256];
        json_t *mth = mg_party_thread(mc);
        if (mth) {
            thread_label(mth, pid, th, sizeof th);
            fprintf(out, "  Map created by %s at:\n", th);
        } else {
            fputs("  Map created at:\n", out);
        }
        print_stack(out, mg_party_stack(mc));
    }

    bool leak = kind && strcmp(kind, "leaked-map") == 0;
    if (leak && json_is_integer(json_object_get(rec, "count"))) {
        long long cnt = mg_int(rec, "count", 0), ent = mg_int(rec, "entries", 0);
        fprintf(out, "  %lld map%s made here %s still allocated at exit, holding %lld entr%s\n",
                cnt, cnt == 1 ? "" : "s", cnt == 1 ? "was" : "were", ent, ent == 1 ? "y" : "ies");
    }
    /* Other scalars the detector adds are shown as they are, not dropped. */
    const char *k;
    json_t *v;
    json_object_foreach(rec, k, v) {
        if (is_known(k) || (leak && (!strcmp(k, "count") || !strcmp(k, "entries"))))
            continue;
        if (json_is_integer(v))
            fprintf(out, "  %s: %lld\n", k, (long long)json_integer_value(v));
        else if (json_is_string(v))
            fprintf(out, "  %s: %s\n", k, json_string_value(v));
        else if (json_is_boolean(v))
            fprintf(out, "  %s: %s\n", k, json_is_true(v) ? "true" : "false");
    }
    if (f->count > 1 || f->npids > 1 || f->recurred > 0) {
        fprintf(out, "  Reported %lu time%s", f->count + f->recurred,
                f->count + f->recurred == 1 ? "" : "s");
        if (f->npids > 0) {
            fprintf(out, " by pid%s", f->npids > 1 ? "s" : "");
            for (size_t i = 0; i < f->npids; i++)
                fprintf(out, "%s%ld", i ? ", " : " ", f->pids[i]);
        }
        fputs("\n", out);
    }
    if (rule)
        fprintf(out, "  Fix: %s\n", rule->fix);
    fputs("==================\n", out);
}

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
static void print_crash(FILE *out, const mg_finding *f)
{
    json_t *rec = f->rec;
    char sig[64];
    signal_name(rec, sig, sizeof sig);
    long pid = (long)mg_int(rec, "pid", -1);
    json_t *th = json_object_get(rec, "thread");
    long long tid = mg_int(th, "tid", -1);
    const char *name = mg_str(th, "name");

    fputs("==================\n", out);
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
    print_stack(out, json_object_get(rec, "stack"));
    if (f->count > 1 || f->npids > 1) {
        fprintf(out, "  Reported %lu times by pid%s", f->count, f->npids > 1 ? "s" : "");
        for (size_t i = 0; i < f->npids; i++)
            fprintf(out, "%s%ld", i ? ", " : " ", f->pids[i]);
        fputs("\n", out);
    }
    fputs("==================\n", out);
}

void mg_render_text(FILE *out, const mg_reports *r)
{
    for (size_t i = 0; i < r->nfindings; i++)
        print_finding(out, &r->findings[i]);
    /* After the findings: a race that corrupted the map is what usually
     * explains the crash, and is read first. */
    for (size_t i = 0; i < r->ncrashes; i++)
        print_crash(out, &r->crashes[i]);
}

/* ", 2 deadly signals (SIGSEGV, SIGABRT)": every crash record counted, each
 * signal named once. */
static void render_crash_count(FILE *out, const mg_reports *r)
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

void mg_render_summary(FILE *out, const mg_reports *r, const char *note)
{
    size_t np = mg_reports_npids(r);
    if (r->nfindings == 0) {
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
    }
    if (r->ncrashes > 0)
        render_crash_count(out, r);
    if (np > 0)
        fprintf(out, " in %zu process%s", np, np == 1 ? "" : "es");
    if (note && *note)
        fprintf(out, "; %s", note);
    fputc('\n', out);
}
