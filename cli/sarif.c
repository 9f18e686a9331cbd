/*
 * SARIF 2.1.0 for GitHub code scanning.
 *
 * What code scanning needs, and why each piece is here:
 *  - one result per unique finding (reports.c merged them), level error, so
 *    the alert count is the bug count;
 *  - ruleId = the kind, with a rule per kind whose help is the fix (rules.c);
 *  - locations[0] in the user's code: the first frame inside the source root,
 *    relative to it, because an alert pointing into libc or the detector is
 *    useless and an absolute path does not map to the repository;
 *  - codeFlows with a threadFlow per thread involved (the access, the
 *    conflicting call, the modification, the iterator's creation), outermost
 *    frame first, so the alert shows how each thread got there;
 *  - partialFingerprints from the kind and function names only: addresses,
 *    pids, tids and line numbers change between runs, and a fingerprint that
 *    changes makes code scanning close and reopen the same alert every run.
 *    Findings that share one (two maps raced in the same two functions)
 *    are told apart by their order in the file, as CodeQL numbers lines
 *    with the same hash: the second gets ":2" after it, and so on
 *    (number_twins), or code scanning takes them for one alert.
 */
#include "ghash_ops.h"
#include "cli.h"
#include "kinds.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SRCROOT "%SRCROOT%"

typedef struct ctx {
    const char *root;    /* normalized absolute source root */
    json_t *rule_ids;    /* array of kinds, index = ruleIndex */
} ctx;

static char *file_uri(const char *abs)
{
    char *enc = mg_uri_path(abs);
    if (!enc)
        return NULL;
    size_t n = strlen(enc) + 8;
    char *u = malloc(n);
    if (u)
        snprintf(u, n, "file://%s", enc);
    free(enc);
    return u;
}

/* The artifactLocation for a file: relative under %SRCROOT% when inside the
 * root, else an absolute file URI. *in_root tells which. */
static json_t *artifact(const ctx *c, const char *file, bool *in_root)
{
    char *rel = mg_relative_to(c->root, file);
    json_t *a;
    if (rel) {
        char *enc = mg_uri_path(rel);
        a = json_pack("{s:s, s:s}", "uri", enc ? enc : rel, "uriBaseId", SRCROOT);
        free(enc);
        free(rel);
        if (in_root)
            *in_root = true;
        return a;
    }
    if (in_root)
        *in_root = false;
    char *abs = mg_normalize_path(file, c->root);
    char *u = abs ? file_uri(abs) : NULL;
    a = json_pack("{s:s}", "uri", u ? u : file);
    free(u);
    free(abs);
    return a;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* A frame as a SARIF location: file, line and function. A frame with no
 * source file (libc without debug info) points at its module instead, so
 * every location in a flow still has a physicalLocation. */
static json_t *frame_location(const ctx *c, json_t *fr, const char *msg, bool *in_root)
{
    const char *fn = mg_str(fr, "function");
    const char *file = mg_str(fr, "file");
    const char *mod = mg_str(fr, "module");
    long long line = mg_int(fr, "line", 0);
    long long col = mg_int(fr, "column", 0);
    json_t *loc = json_object();
    bool inr = false;
    /* A relative file name that is not under the root (glibc's own
     * "./csu/../sysdeps/..." paths) names no file anyone has: point at the
     * module and keep the source line in the message. */
    bool usable = file && line > 0;
    if (usable && file[0] != '/') {
        char *rel = mg_relative_to(c->root, file);
        usable = rel != NULL;
        free(rel);
    }

    if (usable) {
        json_t *region = json_pack("{s:I}", "startLine", (json_int_t)line);
        if (col > 0)
            json_object_set_new(region, "startColumn", json_integer(col));
        json_object_set_new(loc, "physicalLocation",
                            json_pack("{s:o, s:o}", "artifactLocation", artifact(c, file, &inr),
                                      "region", region));
    } else if (mod || (file && file[0] == '/')) {
        json_object_set_new(loc, "physicalLocation",
                            json_pack("{s:o}", "artifactLocation",
                                      artifact(c, mod ? mod : file, &inr)));
    }
    if (fn)
        json_object_set_new(loc, "logicalLocations",
                            json_pack("[{s:s, s:s}]", "name", fn, "kind", "function"));

    char text[1024];
    if (msg) {
        snprintf(text, sizeof text, "%s", msg);
    } else if (file && line > 0) {
        snprintf(text, sizeof text, "%s (%s:%lld)", fn ? fn : "<unknown>", base_name(file), line);
    } else {
        char off[32];
        mg_hex_field(fr, "offset", off, sizeof off);
        snprintf(text, sizeof text, "%s (%s+%s)", fn ? fn : "<unknown>",
                 mod ? base_name(mod) : "?", off);
    }
    json_object_set_new(loc, "message", json_pack("{s:s}", "text", text));
    if (in_root)
        *in_root = inr && usable;
    return loc;
}

static bool frame_in_root(const ctx *c, json_t *fr)
{
    const char *file = mg_str(fr, "file");
    if (!file || mg_int(fr, "line", 0) <= 0)
        return false;
    char *rel = mg_relative_to(c->root, file);
    free(rel);
    return rel != NULL;
}

static const char *const party_names[] = {"access", "conflict", "modification", "iterator",
                                          "freed", "map_created"};

/* The first frame inside the root, searching the access stack first. */
static json_t *primary_frame(const ctx *c, json_t *rec)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t p = 0; p < sizeof party_names / sizeof *party_names; p++) {
            json_t *stack = mg_party_stack(json_object_get(rec, party_names[p]));
            size_t i;
            json_t *fr;
            json_array_foreach(stack, i, fr) {
                if (pass == 0 ? frame_in_root(c, fr)
                              : (mg_str(fr, "file") && mg_int(fr, "line", 0) > 0))
                    return fr;
            }
        }
    }
    /* No source line anywhere (a stripped program): the innermost frame. */
    return json_array_get(mg_party_stack(json_object_get(rec, "access")), 0);
}

static void thread_text(json_t *party, long pid, char *buf, size_t n)
{
    json_t *th = mg_party_thread(party);
    if (!th) {
        snprintf(buf, n, "an unknown thread");
        return;
    }
    long long tid = mg_int(th, "tid", -1);
    const char *name = mg_str(th, "name");
    snprintf(buf, n, "%sthread %lld%s%s%s", tid == pid ? "main " : "", tid,
             name && *name ? " \"" : "", name && *name ? name : "", name && *name ? "\"" : "");
}

/* "gomap_get in reader (race.c:42)" for a party's call site; prefix is the
 * record's API's ("gomap_", "g_hash_table_"). */
static void party_call(json_t *party, const char *prefix, char *buf, size_t n)
{
    const char *op = mg_party_op(party);
    json_t *f0 = json_array_get(mg_party_stack(party), 0);
    char site[512];
    if (f0)
        mg_frame_site(f0, site, sizeof site);
    else
        snprintf(site, sizeof site, "an unknown place");
    const char *fn = mg_str(f0, "function");
    const char *file = mg_str(f0, "file");
    long long line = mg_int(f0, "line", 0);
    if (fn && file && line > 0)
        snprintf(site, sizeof site, "%s (%s:%lld)", fn, base_name(file), line);
    if (op)
        snprintf(buf, n, "%s%s in %s", prefix, op, site);
    else
        snprintf(buf, n, "%s", site);
}

static json_t *thread_flow(const ctx *c, json_t *party, const char *prefix, const char *role, const char *what,
                           long pid)
{
    json_t *stack = mg_party_stack(party);
    if (!stack || json_array_size(stack) == 0)
        return NULL;
    char th[256], text[512];
    thread_text(party, pid, th, sizeof th);
    const char *op = mg_party_op(party);
    if (op)
        snprintf(text, sizeof text, "%s: %s%s by %s", what, prefix, op, th);
    else
        snprintf(text, sizeof text, "%s by %s", what, th);

    json_t *locs = json_array();
    size_t n = json_array_size(stack);
    /* Execution order: the outermost caller first, the map call last. */
    for (size_t i = n; i-- > 0;) {
        json_t *fr = json_array_get(stack, i);
        const char *msg = i == 0 ? text : NULL;
        json_t *tfl = json_pack("{s:o, s:I}", "location", frame_location(c, fr, msg, NULL),
                                "nestingLevel", (json_int_t)(n - 1 - i));
        json_array_append_new(locs, tfl);
    }
    return json_pack("{s:s, s:{s:s}, s:o}", "id", role, "message", "text", text, "locations",
                     locs);
}

static uint64_t fnv1a(const char *s, uint64_t h)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static const char *party_fn(json_t *rec, const char *party)
{
    json_t *f0 = json_array_get(mg_party_stack(json_object_get(rec, party)), 0);
    const char *fn = mg_str(f0, "function");
    return fn ? fn : "";
}

/* kind + the function of each party's call site; the racing pair in a fixed
 * order, since either thread may be the one that detects the race. */
static char *fingerprint(json_t *rec)
{
    const char *kind = mg_str(rec, "kind");
    const char *a = party_fn(rec, "access"), *b = party_fn(rec, "conflict");
    if (mg_kind_is_concurrency(mg_kind_by_name(kind)) && strcmp(a, b) > 0) {
        const char *t = a;
        a = b;
        b = t;
    }
    const char *parts[] = {kind, a, b, party_fn(rec, "modification"), party_fn(rec, "iterator"),
                           party_fn(rec, "freed"),
                           mg_kind_by_name(kind) == MK_LEAK ? party_fn(rec, "map_created") : ""};
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        h = fnv1a(parts[i], h);
        h = fnv1a("\x1f", h);
    }
    char *out = malloc(24);
    if (out)
        snprintf(out, 24, "%016" PRIx64, h);
    return out;
}

/* Where a result points, for ordering twins: its primary location's file,
 * line and column. */
static int location_cmp(json_t *a, json_t *b)
{
    json_t *pa = json_object_get(json_array_get(json_object_get(a, "locations"), 0), "physicalLocation");
    json_t *pb = json_object_get(json_array_get(json_object_get(b, "locations"), 0), "physicalLocation");
    const char *ua = mg_str(json_object_get(pa, "artifactLocation"), "uri");
    const char *ub = mg_str(json_object_get(pb, "artifactLocation"), "uri");
    int c = strcmp(ua ? ua : "", ub ? ub : "");
    if (c)
        return c;
    json_t *ra = json_object_get(pa, "region"), *rb = json_object_get(pb, "region");
    json_int_t d = mg_int(ra, "startLine", 0) - mg_int(rb, "startLine", 0);
    if (!d)
        d = mg_int(ra, "startColumn", 0) - mg_int(rb, "startColumn", 0);
    return d < 0 ? -1 : d > 0;
}

#define FP_KEY "mapguardFindingHash/v1"

/* Results whose fingerprints are equal get ":N" after theirs, N their
 * rank by location among them from 2 on; the first keeps it as it was. */
static void number_twins(json_t *results)
{
    size_t n = json_array_size(results);
    char **base = calloc(n ? n : 1, sizeof *base);
    if (!base)
        return;
    for (size_t i = 0; i < n; i++) {
        const char *fp = mg_str(json_object_get(json_array_get(results, i), "partialFingerprints"), FP_KEY);
        base[i] = strdup(fp ? fp : "");
    }
    for (size_t i = 0; i < n; i++) {
        size_t rank = 1;
        bool twin = false;
        for (size_t j = 0; j < n; j++) {
            if (j == i || !base[i] || !base[j] || strcmp(base[i], base[j]))
                continue;
            twin = true;
            int c = location_cmp(json_array_get(results, j), json_array_get(results, i));
            rank += c < 0 || (c == 0 && j < i);
        }
        if (!twin || rank == 1)
            continue;
        char fp[64];
        snprintf(fp, sizeof fp, "%s:%zu", base[i], rank);
        json_object_set_new(json_object_get(json_array_get(results, i), "partialFingerprints"), FP_KEY,
                            json_string(fp));
    }
    for (size_t i = 0; i < n; i++)
        free(base[i]);
    free(base);
}

static size_t rule_index(ctx *c, const char *kind)
{
    size_t i;
    json_t *v;
    json_array_foreach(c->rule_ids, i, v) {
        if (strcmp(json_string_value(v), kind) == 0)
            return i;
    }
    json_array_append_new(c->rule_ids, json_string(kind));
    return json_array_size(c->rule_ids) - 1;
}

static json_t *rule_json(const char *kind)
{
    const mgc_rule *r = mgc_rule_for(kind);
    if (r) {
        return json_pack("{s:s, s:s, s:{s:s}, s:{s:s}, s:{s:s, s:s}, s:{s:s}, "
                         "s:{s:[s, s], s:s, s:s}}",
                         "id", r->kind, "name", r->name, "shortDescription", "text",
                         r->short_desc, "fullDescription", "text", r->full_desc, "help", "text",
                         r->help_text, "markdown", r->help_md, "defaultConfiguration", "level",
                         "error", "properties", "tags", "correctness", "concurrency",
                         "precision", "high", "problem.severity", "error");
    }
    /* A kind this version does not know: still a rule, so the result is valid. */
    return json_pack("{s:s, s:s, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "id", kind, "name",
                     "MapguardFinding", "shortDescription", "text",
                     "A map misuse found by mapguard.", "fullDescription", "text",
                     "A map misuse found by a newer mapguard detector than this command knows.",
                     "help", "text", "See the report's message and stacks.",
                     "defaultConfiguration", "level", "error");
}

static json_t *result_json(ctx *c, const mgc_finding *f)
{
    json_t *rec = f->rec;
    const char *kind = mg_str(rec, "kind");
    const char *msg = mg_str(rec, "message");
    const mgc_rule *rule = mgc_rule_for(kind);
    long pid = (long)mg_int(rec, "pid", -1);
    json_t *access = json_object_get(rec, "access");
    const char *prefix = mg_api_prefix(mg_str(rec, "api"));

    /* Message: what happened, where, and links to the related locations. */
    char call[700], text[4096];
    party_call(access, prefix, call, sizeof call);
    int len = snprintf(text, sizeof text, "%s: %s", msg ? msg : rule ? rule->message : kind, call);

    json_t *related = json_array();
    int next_id = 1;
    struct { const char *party, *label; } rel[] = {
        {"conflict", "the conflicting call"}, {"modification", "the modification"},
        {"iterator", "the iterator's creation"}, {"freed", "the free"},
        {"map_created", "the map's creation"},
    };
    for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
        json_t *party = json_object_get(rec, rel[i].party);
        json_t *stack = mg_party_stack(party);
        if (!stack || json_array_size(stack) == 0)
            continue;
        /* The related location is the party's first frame in the user's code. */
        json_t *fr = json_array_get(stack, 0);
        size_t j;
        json_t *cand;
        json_array_foreach(stack, j, cand) {
            if (frame_in_root(c, cand)) {
                fr = cand;
                break;
            }
        }
        char pc[700];
        party_call(party, prefix, pc, sizeof pc);
        json_t *loc = frame_location(c, fr, pc, NULL);
        json_object_set_new(loc, "id", json_integer(next_id));
        json_array_append_new(related, loc);
        if (len > 0 && (size_t)len < sizeof text)
            len += snprintf(text + len, sizeof text - (size_t)len, "; [%s](%d): %s", rel[i].label,
                            next_id, pc);
        next_id++;
    }
    if (len > 0 && (size_t)len < sizeof text - 1)
        snprintf(text + len, sizeof text - (size_t)len, ".");

    json_t *primary = frame_location(c, primary_frame(c, rec), NULL, NULL);
    json_object_del(primary, "message");
    /* Code scanning wants a region on the primary location; with no source
     * line known (a program without debug info) the whole artifact is meant. */
    json_t *ppl = json_object_get(primary, "physicalLocation");
    if (ppl && !json_object_get(ppl, "region"))
        json_object_set_new(ppl, "region", json_pack("{s:i}", "startLine", 1));

    json_t *flows = json_array();
    struct { const char *party, *what; } tf[] = {
        {"access", "access"}, {"conflict", "conflicting call"},
        {"modification", "modification"}, {"iterator", "iterator creation"},
    };
    for (size_t i = 0; i < sizeof tf / sizeof *tf; i++) {
        json_t *t = thread_flow(c, json_object_get(rec, tf[i].party), prefix, tf[i].party, tf[i].what, pid);
        if (t)
            json_array_append_new(flows, t);
    }
    json_t *freed_flow = thread_flow(c, json_object_get(rec, "freed"), prefix, "freed", "free", pid);
    if (freed_flow)
        json_array_append_new(flows, freed_flow);

    char *fp = fingerprint(rec);
    json_t *pids = json_array();
    for (size_t i = 0; i < f->npids; i++)
        json_array_append_new(pids, json_integer(f->pids[i]));

    json_t *res = json_pack("{s:s, s:I, s:s, s:{s:s}, s:[o]}", "ruleId", kind, "ruleIndex",
                            (json_int_t)rule_index(c, kind), "level", "error", "message", "text",
                            text, "locations", primary);
    if (json_array_size(related) > 0)
        json_object_set_new(res, "relatedLocations", related);
    else
        json_decref(related);
    if (json_array_size(flows) > 0)
        json_object_set_new(res, "codeFlows",
                            json_pack("[{s:{s:s}, s:o}]", "message", "text",
                                      msg ? msg : kind, "threadFlows", flows));
    else
        json_decref(flows);
    json_object_set_new(res, "partialFingerprints",
                        json_pack("{s:s}", FP_KEY, fp ? fp : ""));
    json_t *props = json_pack("{s:I, s:o}", "occurrences", (json_int_t)(f->count + f->recurred), "pids", pids);
    if (f->more_pids) /* pids holds the first few */
        json_object_set_new(props, "morePids", json_true());
    const char *evidence = mg_str(rec, "evidence");
    if (evidence) /* overlap or unordered: why the two calls race */
        json_object_set_new(props, "evidence", json_string(evidence));
    /* which map API the rule's help applies to: "gomap" or "ghashtable" */
    const char *api = mg_str(rec, "api");
    json_object_set_new(props, "api", json_string(api ? api : "gomap"));
    json_object_set_new(res, "properties", props);
    free(fp);
    return res;
}

/*
 * A deadly signal is no finding (no rule, no alert: the crash is not where
 * the bug is, and a crash that moves would open a new alert each run), but
 * the run must not look healthy: each unique crash is a toolExecutionNotification
 * of level error on the run's invocation, with the faulting thread's stack
 * as the notification's exception stack and its first frame in the source
 * root as its location.
 */
static json_t *crash_notification(const ctx *c, const mgc_finding *f, int index)
{
    json_t *rec = f->rec;
    json_t *stack = json_object_get(rec, "stack");
    json_t *th = json_object_get(rec, "thread");
    long pid = (long)mg_int(rec, "pid", -1);
    long long tid = mg_int(th, "tid", -1);
    const char *name = mg_str(th, "name");
    const char *sig = mg_str(rec, "signal");
    char signame[64], text[512];
    if (sig && *sig)
        snprintf(signame, sizeof signame, "%s", sig);
    else
        snprintf(signame, sizeof signame, "signal %lld", mg_int(rec, "signo", 0));
    char who[256];
    if (tid >= 0)
        snprintf(who, sizeof who, "thread %lld%s%s%s", tid, name && *name ? " \"" : "",
                 name && *name ? name : "", name && *name ? "\"" : "");
    else
        snprintf(who, sizeof who, "an unknown thread");
    json_t *in = json_object_get(rec, "in_call");
    const char *in_fn = mg_str(in, "function"), *in_map = mg_str(in, "map");
    if (in_fn)
        snprintf(text, sizeof text, "mapguard: deadly signal %s on %s (pid %ld) in %s on map %s", signame, who,
                 pid, in_fn, in_map ? in_map : "?");
    else
        snprintf(text, sizeof text, "mapguard: deadly signal %s on %s (pid %ld)", signame, who, pid);

    json_t *frames = json_array();
    json_t *where = NULL;
    size_t i;
    json_t *fr;
    json_array_foreach(stack, i, fr) {
        json_array_append_new(frames, json_pack("{s:o}", "location",
                                                frame_location(c, fr, NULL, NULL)));
        if (!where && frame_in_root(c, fr))
            where = fr;
    }
    if (!where)
        where = json_array_get(stack, 0);

    json_t *n = json_pack("{s:{s:s, s:i}, s:s, s:{s:s}, s:{s:s, s:s, s:{s:o}}}", "descriptor",
                          "id", MG_DEADLY_SIGNAL_KIND, "index", index, "level", "error", "message", "text",
                          text, "exception", "kind", signame, "message", text, "stack", "frames",
                          frames);
    if (where)
        json_object_set_new(n, "locations",
                            json_pack("[o]", frame_location(c, where, NULL, NULL)));
    if (tid >= 0)
        json_object_set_new(n, "threadId", json_integer(tid));
    json_t *props = json_pack("{s:I, s:s, s:I, s:I}", "pid", (json_int_t)pid, "signal", signame,
                              "signo", (json_int_t)mg_int(rec, "signo", 0), "count",
                              (json_int_t)f->count);
    if (mg_str(rec, "address"))
        json_object_set_new(props, "address", json_string(mg_str(rec, "address")));
    if (in_fn)
        json_object_set(props, "in_call", in);
    json_object_set_new(n, "properties", props);
    return n;
}

/* The run's other notifications: findings a process counted whose records
 * were lost, and a program whose end was --timeout's. Each tells a reader
 * of the SARIF that the results are not the whole story. */
static json_t *plain_notification(const char *id, int index, const char *text)
{
    return json_pack("{s:{s:s, s:i}, s:s, s:{s:s}}", "descriptor", "id", id, "index", index, "level", "error",
                     "message", "text", text);
}

static void add_notifications(const ctx *c, const mgc_reports *r, json_t *run)
{
    json_t *descriptors = json_array(), *notes = json_array();
    if (r->ncrashes > 0) {
        json_array_append_new(
            descriptors,
            json_pack("{s:s, s:s, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "id", MG_DEADLY_SIGNAL_KIND, "name",
                      "DeadlySignal", "shortDescription", "text", "The program died of a signal", "fullDescription",
                      "text",
                      "The program was killed by SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT; the "
                      "detector recorded the faulting thread's stack before the signal took effect.",
                      "help", "text",
                      "A crash inside a map library (gomap, or GLib's GHashTable) is often the "
                      "effect of a data race or a use after free on the map: the message names "
                      "the map call the thread was in (properties.in_call), and the "
                      "concurrency and use-after-free findings of the same run come first. The "
                      "stack is the faulting thread's.",
                      "defaultConfiguration", "level", "error"));
        for (size_t i = 0; i < r->ncrashes; i++)
            json_array_append_new(notes, crash_notification(c, &r->crashes[i], (int)json_array_size(descriptors) - 1));
    }
    if (r->nlost > 0) {
        json_array_append_new(
            descriptors,
            json_pack("{s:s, s:s, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "id", "findings-lost", "name",
                      "FindingsLost", "shortDescription", "text", "Findings were counted but not read",
                      "fullDescription", "text",
                      "A process's summary counted findings whose records could not be read (a log "
                      "cut short, or a record another writer's bytes garbled); they have no result.",
                      "help", "text",
                      "Run the program again under mapguard run: the findings are real, only their "
                      "records were lost. A process that writes to the detector's log file descriptor, "
                      "or a log_path on a full disk, can cause it.",
                      "defaultConfiguration", "level", "error"));
        char text[160];
        snprintf(text, sizeof text,
                 "mapguard: %zu finding%s counted by the detector but not read; the run failed as with findings",
                 r->nlost, r->nlost == 1 ? "" : "s");
        json_array_append_new(notes, plain_notification("findings-lost", (int)json_array_size(descriptors) - 1, text));
    }
    if (r->cut) {
        json_array_append_new(
            descriptors,
            json_pack("{s:s, s:s, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "id", "run-cut", "name", "RunCut",
                      "shortDescription", "text", "The program did not end by itself", "fullDescription",
                      "text",
                      "mapguard ended the program (--timeout) or it was stopped by a signal: the "
                      "results are what it found until then.",
                      "help", "text",
                      "A map call the program did not reach was not checked. Raise --timeout, or "
                      "find why the program hangs (a deadlock is often on the same lock as a race).",
                      "defaultConfiguration", "level", "error"));
        char text[512];
        snprintf(text, sizeof text, "mapguard: %s; the results are what it found until then", r->cut);
        json_array_append_new(notes, plain_notification("run-cut", (int)json_array_size(descriptors) - 1, text));
    }
    if (json_array_size(notes) == 0) {
        json_decref(descriptors);
        json_decref(notes);
        return;
    }
    json_object_set_new(json_object_get(json_object_get(run, "tool"), "driver"), "notifications", descriptors);
    /* executionSuccessful is about mapguard: it ran and wrote its report. */
    json_object_set_new(run, "invocations",
                        json_pack("[{s:b, s:o}]", "executionSuccessful", 1, "toolExecutionNotifications", notes));
}

json_t *mg_sarif_build(const mgc_reports *r, const char *source_root)
{
    char *root = NULL;
    if (source_root) {
        char cwd[4096];
        root = mg_normalize_path(source_root, getcwd(cwd, sizeof cwd) ? cwd : "/");
    } else {
        char *d = mg_default_source_root();
        root = d ? mg_normalize_path(d, NULL) : NULL;
        free(d);
    }
    ctx c = {root ? root : "/", json_array()};
    /* Every known kind is a rule, so ruleIndex values never shift between
     * runs that found different kinds. */
    for (size_t i = 0; i < mgc_nrules; i++)
        json_array_append_new(c.rule_ids, json_string(mgc_rules[i].kind));

    json_t *results = json_array();
    for (size_t i = 0; i < r->nfindings; i++)
        json_array_append_new(results, result_json(&c, &r->findings[i]));
    number_twins(results);

    json_t *rules = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(c.rule_ids, i, v) json_array_append_new(rules, rule_json(json_string_value(v)));

    char *root_uri_path = mg_uri_path(c.root);
    size_t n = strlen(root_uri_path ? root_uri_path : "/") + 16;
    char *root_uri = malloc(n);
    snprintf(root_uri, n, "file://%s%s", root_uri_path ? root_uri_path : "/",
             strcmp(c.root, "/") == 0 ? "" : "/");

    json_t *sarif = json_pack(
        "{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:o}}, s:{s:{s:s}}, s:o, s:s}]}",
        "$schema", "https://json.schemastore.org/sarif-2.1.0.json", "version", "2.1.0", "runs",
        "tool", "driver", "name", "mapguard", "version", MG_VERSION, "semanticVersion",
        MG_VERSION, "rules", rules, "originalUriBaseIds", SRCROOT, "uri", root_uri, "results",
        results, "columnKind", "utf16CodeUnits");
    if (sarif)
        add_notifications(&c, r, json_array_get(json_object_get(sarif, "runs"), 0));
    free(root_uri);
    free(root_uri_path);
    json_decref(c.rule_ids);
    free(root);
    return sarif;
}

int mg_write_sarif(const char *path, const mgc_reports *r, const char *source_root)
{
    json_t *s = mg_sarif_build(r, source_root);
    if (!s) {
        fprintf(stderr, "mapguard: internal error building SARIF\n");
        return -1;
    }
    int rc = json_dump_file(s, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(s);
    if (rc != 0) {
        fprintf(stderr, "mapguard: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}
