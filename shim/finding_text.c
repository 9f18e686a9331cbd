/*
 * One finding as text, in the layout ThreadSanitizer users know: a banner,
 * the kind, each thread's call with its stack, where the threads and the
 * map were created, the fix, and a closing banner. CI logs are read by
 * people who have seen TSan output, so the familiar shape is the point.
 *
 * The one renderer of a finding: the shim's format=text
 * (libmapguard-symbolize.so, render.c) and the CLI (render_text.c) both
 * call it on the finding's JSON record. report.c's record by hand, written
 * when the symbolizer cannot be loaded, follows this layout for the parties
 * it has; keep the two in step (tests/shim/test_outputs.c compares them).
 */
#include "finding_text.h"
#include "ghash_ops.h"
#include "kinds.h"
#include "record_json.h"

#include <stdbool.h>
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

void mg_text_stack(FILE *out, json_t *stack)
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

/* One party's heading and stack: "<what> (<prefix><op>) by <thread>:",
 * prefix the record's API's ("gomap_", "g_hash_table_"); incomplete, the
 * line for "stack_complete": false. */
static void print_party_op(FILE *out, json_t *party, const char *what, const char *dflt_op,
                           const char *prefix, long pid, const char *incomplete)
{
    if (!party)
        return;
    char th[256], head[512];
    thread_label(mg_party_thread(party), pid, th, sizeof th);
    const char *op = mg_party_op(party);
    if (!op)
        op = dflt_op;
    if (op)
        snprintf(head, sizeof head, "%s (%s%s) by %s", what, prefix, op, th);
    else
        snprintf(head, sizeof head, "%s by %s", what, th);
    cap_first(head);
    fprintf(out, "  %s:\n", head);
    mg_text_stack(out, mg_party_stack(party));
    json_t *complete = json_object_get(party, "stack_complete");
    if (json_is_false(complete))
        fputs(incomplete, out);
}

static void print_party(FILE *out, json_t *party, const char *what, const char *prefix, long pid)
{
    print_party_op(out, party, what, NULL, prefix, pid, MG_TEXT_CALL_SITE_ONLY);
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
    mg_text_stack(out, stack);
}

static const char *const known_fields[] = {
    "kind", "message", "pid", "map", "api", "access", "conflict", "evidence", "modification",
    "iterator", "freed", "map_created", "tid", "time", "ts", "version", "id", "truncated",
};

static bool is_known(const char *k)
{
    for (size_t i = 0; i < sizeof known_fields / sizeof *known_fields; i++)
        if (strcmp(k, known_fields[i]) == 0)
            return true;
    return false;
}

void mg_text_reported(FILE *out, const struct mg_text_tally *t)
{
    if (t->count <= 1 && t->npids <= 1 && t->recurred == 0)
        return;
    unsigned long n = t->count + t->recurred;
    fprintf(out, "  Reported %lu time%s", n, n == 1 ? "" : "s");
    if (t->npids > 0) {
        fprintf(out, " by pid%s", t->npids > 1 || t->more_pids ? "s" : "");
        for (size_t i = 0; i < t->npids; i++)
            fprintf(out, "%s%ld", i ? ", " : " ", t->pids[i]);
        if (t->more_pids)
            fputs(" and others", out);
    }
    fputs("\n", out);
}

void mg_text_finding(FILE *out, json_t *rec, const struct mg_text_tally *tally)
{
    const char *kind = mg_str(rec, "kind");
    int k = mg_kind_by_name(kind);
    const char *msg = mg_str(rec, "message");
    const char *map = mg_str(rec, "map");
    long pid = (long)mg_int(rec, "pid", -1);
    const char *prefix = mg_api_prefix(mg_str(rec, "api"));

    fputs(MG_TEXT_BANNER, out);
    fprintf(out, "WARNING: mapguard: %s (%s)", msg ? msg : k >= 0 ? mg_kinds[k].message : kind ? kind : "?",
            kind ? kind : "?");
    if (map)
        fprintf(out, " on map %s", map);
    fprintf(out, " (pid %ld)\n", pid);

    json_t *access = json_object_get(rec, "access");
    const char *what = k >= 0 && mg_kinds[k].heading ? mg_kinds[k].heading : mg_op_class(mg_party_op(access));
    print_party(out, access, what, prefix, pid);

    json_t *conflict = json_object_get(rec, "conflict");
    if (conflict) {
        char cw[64];
        snprintf(cw, sizeof cw, "concurrent %s", mg_op_class(mg_party_op(conflict)));
        const char *ev = mg_str(rec, "evidence");
        bool unordered = ev && strcmp(ev, "unordered") == 0;
        print_party_op(out, conflict, cw, NULL, prefix, pid,
                       unordered ? MG_TEXT_CALL_SITE_ONLY_UNORDERED : MG_TEXT_CALL_SITE_ONLY);
        if (unordered)
            fprintf(out, "  The earlier %s was not ordered before this %s by any lock, join or other synchronization "
                         "mapguard saw.\n", mg_op_class(mg_party_op(conflict)), mg_op_class(mg_party_op(access)));
    }
    print_party(out, json_object_get(rec, "modification"), "map modified", prefix, pid);
    print_party_op(out, json_object_get(rec, "iterator"), "iterator created", "iter_init", prefix, pid,
                   MG_TEXT_CALL_SITE_ONLY);
    print_party_op(out, json_object_get(rec, "freed"), "map freed", "free", prefix, pid, MG_TEXT_CALL_SITE_ONLY);

    long long seen[8];
    size_t nseen = 0;
    const char *parties[] = {"access", "conflict", "modification", "iterator", "freed"};
    for (size_t i = 0; i < sizeof parties / sizeof *parties; i++)
        print_thread_creation(out, json_object_get(rec, parties[i]), pid, seen, &nseen);

    json_t *mc = json_object_get(rec, "map_created");
    bool leak = k == MK_LEAK;
    if (mc && !(leak && mg_party_stack(access))) {
        char th[256];
        json_t *mth = mg_party_thread(mc);
        if (mth) {
            thread_label(mth, pid, th, sizeof th);
            fprintf(out, "  Map created by %s at:\n", th);
        } else {
            fputs("  Map created at:\n", out);
        }
        mg_text_stack(out, mg_party_stack(mc));
    }

    if (leak && json_is_integer(json_object_get(rec, "count"))) {
        long long cnt = mg_int(rec, "count", 0), ent = mg_int(rec, "entries", 0);
        fprintf(out, "  %lld map%s made here %s still allocated at exit, holding %lld entr%s\n",
                cnt, cnt == 1 ? "" : "s", cnt == 1 ? "was" : "were", ent, ent == 1 ? "y" : "ies");
    }
    /* Other scalars the detector adds are shown as they are, not dropped. */
    const char *key;
    json_t *v;
    json_object_foreach(rec, key, v) {
        if (is_known(key) || (leak && (!strcmp(key, "count") || !strcmp(key, "entries"))))
            continue;
        if (json_is_integer(v))
            fprintf(out, "  %s: %lld\n", key, (long long)json_integer_value(v));
        else if (json_is_string(v))
            fprintf(out, "  %s: %s\n", key, json_string_value(v));
        else if (json_is_boolean(v))
            fprintf(out, "  %s: %s\n", key, json_is_true(v) ? "true" : "false");
    }
    if (json_is_true(json_object_get(rec, "truncated")))
        fputs(MG_TEXT_TRUNCATED, out);
    if (tally)
        mg_text_reported(out, tally);
    if (k >= 0)
        fprintf(out, "  Fix: %s\n", mg_kind_fix(k, mg_str(rec, "api")));
    fputs(MG_TEXT_BANNER, out);
}
