/*
 * A crash inside a map call names the call in flight: the deadly-signal
 * record's "in_call" (api, op, function, map) for gomap
 * (tests/progs/mg_crash_in_call.c) and GHashTable
 * (tests/progs/gh_crash_in_call.c), whose hash callbacks fault inside the
 * library. The record's frames are module+offset; addr2line turns the ones
 * that matter into file:line: the fault in the callback, and the program's
 * call into the map.
 */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* "file.c:LINE" of module+offset, the file's base name and the line. */
static int line_of(json_t *frame, char *file, size_t n)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "addr2line -e '%s' %s", str(frame, "module"), str(frame, "offset"));
    FILE *p = popen(cmd, "r");
    cr_assert(p, "%s", cmd);
    char out[1024] = "";
    cr_assert(fgets(out, sizeof out, p), "%s", cmd);
    pclose(p);
    char *colon = strrchr(out, ':');
    cr_assert(colon, "%s: %s", cmd, out);
    *colon = 0;
    const char *base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
    snprintf(file, n, "%s", base);
    return atoi(colon + 1);
}

static bool in_prog(json_t *frame, const char *prog)
{
    const char *m = str(frame, "module");
    size_t lm = m ? strlen(m) : 0, lp = strlen(prog);
    return lm > lp && m[lm - lp - 1] == '/' && !strcmp(m + lm - lp, prog);
}

/* The record's in_call names api's function (op) on the map the program
 * printed ("map=..."). */
static void assert_in_call(const struct run *r, json_t *d, const char *api, const char *op, const char *function)
{
    json_t *in = json_object_get(d, "in_call");
    cr_assert(in, "no in_call: %s", json_dumps(d, JSON_COMPACT));
    cr_assert_str_eq(str(in, "api"), api);
    cr_assert_str_eq(str(in, "op"), op);
    cr_assert_str_eq(str(in, "function"), function);
    char want[64];
    const char *m = strstr(r->out, "map=");
    cr_assert(m, "%s", r->out);
    snprintf(want, sizeof want, "%.*s", (int)strcspn(m + 4, "\n"), m + 4);
    cr_assert_str_eq(str(in, "map"), want, "the map the call was on");
}

/* The line of the stack's first frame in prog, its file's base name in
 * file; 0 if none is. */
static int first_line_in(json_t *stack, const char *prog, char *file, size_t n)
{
    size_t i;
    json_t *fr;
    json_array_foreach(stack, i, fr) {
        if (in_prog(fr, prog))
            return line_of(fr, file, n);
    }
    return 0;
}

/* A crash (SIGSEGV) that names no call. */
static void assert_none(const char *prog, const char *scenario, const char *opts)
{
    struct run r;
    run_prog(&r, prog, scenario, opts);
    cr_assert_eq(r.status, 128 + SIGSEGV, "%s %s: status %d\n%s", prog, scenario, r.status, r.err);
    json_t *d = find_kind(&r, "deadly-signal", 0);
    cr_assert(d, "%s %s: %s", prog, scenario, r.err);
    cr_assert_null(json_object_get(d, "in_call"), "%s", json_dumps(d, JSON_COMPACT));
    run_free(&r);
}

static void check(const char *prog, const char *scenario, const char *api, const char *op, const char *function)
{
    struct run r;
    run_prog(&r, prog, scenario, NULL);
    cr_assert_eq(r.status, 128 + SIGSEGV, "%s %s: status %d\n%s", prog, scenario, r.status, r.err);
    cr_assert_eq(count_kind(&r, "deadly-signal"), 1, "%s", r.err);
    json_t *d = find_kind(&r, "deadly-signal", 0);
    assert_in_call(&r, d, api, op, function);

    json_t *stack = json_object_get(d, "stack");
    char src[64], file[256];
    snprintf(src, sizeof src, "%s.c", prog);
    json_t *f0 = json_array_get(stack, 0);
    cr_assert(in_prog(f0, prog), "%s", json_dumps(f0, JSON_COMPACT));
    int l0 = line_of(f0, file, sizeof file);
    cr_assert_str_eq(file, src);
    cr_assert_eq(l0, site_line(prog, "fault"), "the faulting line");
    /* then the library, then the program's call into the map */
    size_t i;
    json_t *fr;
    int call = 0;
    bool lib = false;
    json_array_foreach(stack, i, fr) {
        if (i == 0)
            continue;
        if (!in_prog(fr, prog)) {
            lib = true;
            continue;
        }
        call = line_of(fr, file, sizeof file);
        break;
    }
    cr_assert(lib, "frames of the library between the fault and the call");
    cr_assert_str_eq(file, src);
    cr_assert_eq(call, site_line(prog, op), "the program's %s call", function);
    run_free(&r);
}

Test(deadly_in_call, gomap_set) { check("mg_crash_in_call", "set", "gomap", "set", "gomap_set"); }
Test(deadly_in_call, gomap_get) { check("mg_crash_in_call", "get", "gomap", "get", "gomap_get"); }
Test(deadly_in_call, ghashtable_insert)
{
    check("gh_crash_in_call", "insert", "ghashtable", "insert", "g_hash_table_insert");
}
Test(deadly_in_call, ghashtable_lookup)
{
    check("gh_crash_in_call", "lookup", "ghashtable", "lookup", "g_hash_table_lookup");
}

/* gomap_free's release of the map is inside the call too: glibc aborts in
 * the free of a value whose heap header the program overwrote, and the
 * record names gomap_free on that map (with quarantine_size=0 the release
 * is the call's own; with a quarantine, the call that evicts it). */
Test(deadly_in_call, gomap_free)
{
    const char *prog = "mg_crash_in_call";
    struct run r;
    run_prog(&r, prog, "free", "quarantine_size=0");
    cr_assert_eq(r.status, 128 + SIGABRT, "status %d\n%s", r.status, r.err);
    json_t *d = find_kind(&r, "deadly-signal", 0);
    cr_assert(d, "%s", r.err);
    assert_in_call(&r, d, "gomap", "free", "gomap_free");
    /* glibc's abort, under its free, under the library's release, under
     * the program's call: seven frames of glibc's before the library's,
     * and the record still reaches the program */
    json_t *stack = json_object_get(d, "stack");
    size_t i;
    json_t *fr;
    bool gomap = false;
    int call = 0;
    char file[256] = "";
    json_array_foreach(stack, i, fr) {
        const char *mod = str(fr, "module");
        gomap = gomap || (mod && strstr(mod, "/libgomap.so"));
        if (in_prog(fr, prog)) {
            call = line_of(fr, file, sizeof file);
            break;
        }
    }
    cr_assert(strstr(str(json_array_get(stack, 0), "module"), "/libc.so"), "%s", json_dumps(stack, JSON_COMPACT));
    cr_assert(gomap, "the release's frames in libgomap: %s", json_dumps(stack, JSON_COMPACT));
    cr_assert_str_eq(file, "mg_crash_in_call.c", "%s", json_dumps(stack, JSON_COMPACT));
    cr_assert_eq(call, site_line(prog, "free"), "the program's gomap_free call");
    run_free(&r);
}

/* The word's op is cleared when a call leaves: a crash after the map
 * calls returned names none (mg_exitpath race_then_segv faults outside
 * any, after calls from two threads; mg_crash_in_call after, after calls
 * on the single-threaded path). */
Test(deadly_in_call, none_outside_a_call) { assert_none("mg_exitpath", "race_then_segv", "conflict_wait_ms=60000"); }

Test(deadly_in_call, none_after_single_threaded_calls) { assert_none("mg_crash_in_call", "after", NULL); }

/* A map with no callback: the call's wrapper is not on the stack, and its
 * word outlives it (in_call.h). A fault inside libgomap names the call;
 * one after the calls returned names none. */
Test(deadly_in_call, a_bare_solo_call_is_named_while_in_flight)
{
    const char *prog = "mg_crash_in_call";
    struct run r;
    run_prog(&r, prog, "bare_set", NULL);
    cr_assert_eq(r.status, 128 + SIGSEGV, "status %d\n%s", r.status, r.err);
    json_t *d = find_kind(&r, "deadly-signal", 0);
    cr_assert(d, "%s", r.err);
    assert_in_call(&r, d, "gomap", "set", "gomap_set");
    json_t *stack = json_object_get(d, "stack");
    cr_assert(strstr(str(json_array_get(stack, 0), "module"), "/libgomap.so"), "%s",
              json_dumps(stack, JSON_COMPACT));
    char file[256] = "";
    int call = first_line_in(stack, prog, file, sizeof file);
    cr_assert_str_eq(file, "mg_crash_in_call.c", "%s", json_dumps(stack, JSON_COMPACT));
    cr_assert_eq(call, site_line(prog, "bare_set"), "the program's gomap_set call");
    run_free(&r);
    assert_none(prog, "bare_after", NULL);
}

Test(deadly_in_call, text_format_names_the_call)
{
    struct run r;
    run_prog_raw(&r, "gh_crash_in_call", "insert", "format=text");
    cr_assert_eq(r.status, 128 + SIGSEGV, "status %d\n%s", r.status, r.err);
    const char *d = strstr(r.err, "WARNING: mapguard: deadly signal SIGSEGV");
    cr_assert(d, "%s", r.err);
    cr_assert(strstr(d, "\n  in g_hash_table_insert on map 0x"), "%s", d);
    cr_assert(strstr(d, " (api ghashtable)\n"), "%s", d);
    run_free(&r);
}
