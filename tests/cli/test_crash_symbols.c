/*
 * Crash records get names after the run. The shim's deadly-signal handler
 * writes module and offset only (symbolizing in a signal handler is not
 * safe); the command opens the modules offline and fills in function, file
 * and line (cli/crash_symbols.c), in the text, the SARIF notification and
 * --json. A real crash: tests/progs/mg_crash_in_call.c faults in its hash
 * callback, called from gomap_set.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_helpers.h"

#define CRASH_PROG "mg_crash_in_call"
#define CRASH_SRC SRC_DIR "/tests/progs/" CRASH_PROG ".c"

/* The frame line "#<i> <fn> <file>:<line>" in text, after from; its start. */
static const char *frame_line(const char *from, const char *fn, const char *file, int line)
{
    char want[1024];
    snprintf(want, sizeof want, " %s %s:%d", fn, file, line);
    for (const char *p = from; (p = strstr(p, want)) != NULL; p++) {
        char next = p[strlen(want)];
        const char *hash = p;
        while (hash > from && hash[-1] != '\n')
            hash--;
        if ((next == ':' || next == ' ' || next == '\n') && strncmp(hash, "    #", 5) == 0)
            return hash;
    }
    return NULL;
}

/* The build id readelf prints for path, or "" (static: one at a time). */
static const char *readelf_build_id(const char *path)
{
    static char id[160];
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "readelf -n '%s' | sed -n 's/.*Build ID: *//p'", path);
    FILE *p = popen(cmd, "r");
    cr_assert(p, "readelf");
    if (!fgets(id, sizeof id, p))
        id[0] = 0;
    pclose(p);
    id[strcspn(id, "\n")] = 0;
    return id;
}

Test(crash_symbols, run_names_the_faulting_line, .timeout = 120)
{
    require_shim();
    char *dir = test_tmpdir();
    char *json = path_join(dir, "out.jsonl");
    char *sarif = path_join(dir, "out.sarif");
    const char *argv[] = {MAPGUARD, "run", "--json", json, "--sarif", sarif, "--source-root", SRC_DIR,
                          "--", PROG(CRASH_PROG), "set", NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 128 + 11, "killed by SIGSEGV: got %d\n%s", r.status, r.err);
    int fault = site_line(CRASH_PROG, "fault"), set = site_line(CRASH_PROG, "set");

    const char *block = strstr(r.err, "ERROR: mapguard: deadly signal SIGSEGV");
    cr_assert(block, "%s", r.err);
    const char *f0 = frame_line(block, "hash_cb", CRASH_SRC, fault);
    cr_assert(f0 && strncmp(f0, "    #0 hash_cb ", 15) == 0, "#0 is not hash_cb at %s:%d:\n%s", CRASH_SRC,
              fault, r.err);
    const char *fs = frame_line(f0, "set", CRASH_SRC, set);
    cr_assert(fs, "no frame of set at line %d:\n%s", set, r.err);
    cr_assert_null(strstr(block, "<unknown> (" CRASH_PROG "+"), "a frame of the program left unnamed:\n%s",
                   r.err);

    /* SARIF: the notification's location is the first frame in the source
     * root, hash_cb's line, relative to the root. */
    json_t *s = load_json(sarif);
    json_t *n = json_array_get(sarif_notifications(s), 0);
    json_t *pl = json_object_get(json_array_get(json_object_get(n, "locations"), 0), "physicalLocation");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(pl, "artifactLocation"), "uri")),
                     "tests/progs/" CRASH_PROG ".c");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(pl, "region"), "startLine")), fault);
    json_decref(s);

    /* --json: the crash record symbolized, its addresses kept. */
    json_t *recs = load_jsonl(json);
    json_t *crash = first_of_kind(recs, "deadly-signal");
    cr_assert(crash, "no deadly-signal record in --json");
    json_t *top = json_array_get(json_object_get(crash, "stack"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(top, "function")), "hash_cb");
    cr_assert_str_eq(json_string_value(json_object_get(top, "file")), CRASH_SRC);
    cr_assert_eq(json_integer_value(json_object_get(top, "line")), fault);
    cr_assert_str_eq(json_string_value(json_object_get(top, "module")), PROG(CRASH_PROG));
    const char *off = json_string_value(json_object_get(top, "offset"));
    const char *pc = json_string_value(json_object_get(top, "pc"));
    cr_assert(off && pc && strncmp(off, "0x", 2) == 0 && strncmp(pc, "0x", 2) == 0 && strcmp(off, pc) != 0,
              "pc and offset as the shim wrote them: %s %s", pc, off);
    const char *want_id = readelf_build_id(PROG(CRASH_PROG));
    cr_assert(want_id[0], "the test program has a build id");
    cr_assert_str_eq(json_string_value(json_object_get(top, "build_id")), want_id);
    json_decref(recs);

    cmd_result_free(&r);
    free(json);
    free(sarif);
    rm_rf(dir);
    free(dir);
}


/* A finding still in flight when the process crashes (its report waiting
 * for the other call's stack: mg_exitpath race_then_segv, held there by
 * conflict_wait_ms) is written by the crash handler, with module and
 * offset only. The command names its frames as it names the crash's, and
 * SARIF places it at its line, not at the executable (a held-out probe
 * found "<unknown> (held+0x11cf)" and a result on the binary's line 1). */
#define EXIT_PROG "mg_exitpath"
#define EXIT_SRC SRC_DIR "/tests/progs/" EXIT_PROG ".c"

static void assert_named_at(json_t *party, const char *fn, int line)
{
    json_t *top = json_array_get(json_object_get(party, "stack"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(top, "function")), fn);
    cr_assert_str_eq(json_string_value(json_object_get(top, "file")), EXIT_SRC);
    cr_assert_eq(json_integer_value(json_object_get(top, "line")), line);
}

Test(crash_symbols, a_finding_written_by_the_crash_handler_is_named_too, .timeout = 120)
{
    require_shim();
    char *dir = test_tmpdir();
    char *json = path_join(dir, "out.jsonl");
    char *sarif = path_join(dir, "out.sarif");
    const char *argv[] = {MAPGUARD, "run", "--json", json, "--sarif", sarif, "--source-root", SRC_DIR,
                          "--options", "conflict_wait_ms=60000", "--", PROG(EXIT_PROG), "race_then_segv", NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "a finding: got %d\n%s", r.status, r.err);
    int overlap = site_line(EXIT_PROG, "set_overlap"), park = site_line(EXIT_PROG, "set_park");
    cr_assert_null(strstr(r.err, "<unknown> (" EXIT_PROG "+"), "a frame of the program left unnamed:\n%s", r.err);

    json_t *recs = load_jsonl(json);
    json_t *f = first_of_kind(recs, "concurrent-writes");
    cr_assert(f, "no concurrent-writes record in --json:\n%s", r.err);
    assert_named_at(json_object_get(f, "access"), "set_overlap", overlap);
    assert_named_at(json_object_get(f, "conflict"), "set_park", park);
    json_decref(recs);

    json_t *s = load_json(sarif);
    json_t *results = json_object_get(json_array_get(json_object_get(s, "runs"), 0), "results");
    cr_assert_eq(json_array_size(results), 1, "one result");
    json_t *pl = json_object_get(json_array_get(json_object_get(json_array_get(results, 0), "locations"), 0),
                                 "physicalLocation");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(pl, "artifactLocation"), "uri")),
                     "tests/progs/" EXIT_PROG ".c");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(pl, "region"), "startLine")), overlap);
    json_decref(s);

    cmd_result_free(&r);
    free(json);
    free(sarif);
    rm_rf(dir);
    free(dir);
}

/* The raw record the shim writes, from its own log (log_path), with the
 * program's frames pointed at module (a copy of the program) and their
 * build ids as written (id NULL), taken out (""), or replaced by id. */
static char *raw_log_with_module(const char *dir, const char *module, const char *id)
{
    static int seq; /* each call its own log and record */
    char opts[1024], name[32];
    snprintf(name, sizeof name, "log%d", ++seq);
    char *log = path_join(dir, name);
    snprintf(opts, sizeof opts, "MAPGUARD_OPTIONS=log_path=%s:format=json", log);
    const char *env[] = {"LD_PRELOAD=" SHIM_PATH, opts, NULL};
    const char *argv[] = {PROG(CRASH_PROG), "set", NULL};
    cmd_result r = run_cmd(argv, env);
    cr_assert_eq(r.status, 128 + 11, "%d\n%s", r.status, r.err);
    cmd_result_free(&r);

    /* logN.<pid>: the only file named so */
    char cmd[2048];
    snprintf(name, sizeof name, "raw%d.jsonl", seq);
    char *raw = path_join(dir, name);
    snprintf(cmd, sizeof cmd, "cat %s.* > %s", log, raw);
    cr_assert_eq(system(cmd), 0);
    json_t *recs = load_jsonl(raw);
    FILE *out = fopen(raw, "w");
    cr_assert(out);
    size_t i, j;
    json_t *rec, *fr;
    bool seen = false;
    json_array_foreach(recs, i, rec) {
        json_array_foreach(json_object_get(rec, "stack"), j, fr) {
            const char *m = json_string_value(json_object_get(fr, "module"));
            if (m && strcmp(m, PROG(CRASH_PROG)) == 0 && json_is_null(json_object_get(fr, "function"))) {
                json_object_set_new(fr, "module", json_string(module));
                if (id && !id[0])
                    json_object_del(fr, "build_id");
                else if (id)
                    json_object_set_new(fr, "build_id", json_string(id));
                seen = true;
            }
        }
        cr_assert_eq(json_dumpf(rec, out, JSON_COMPACT), 0);
        fputc('\n', out);
    }
    cr_assert(seen, "the shim's record has no unnamed frame of the program");
    fclose(out);
    json_decref(recs);
    free(log);
    return raw;
}

static void set_mtime(const char *path, time_t when)
{
    struct timespec ts[2] = {{.tv_sec = when}, {.tv_sec = when}};
    cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0, "utimensat %s", path);
}

static char *report_text(const char *raw)
{
    const char *argv[] = {MAPGUARD, "report", raw, NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 0, "%d\n%s", r.status, r.err);
    char *out = r.out;
    r.out = NULL;
    cmd_result_free(&r);
    return out;
}

static void assert_named(const char *raw, bool named, const char *what)
{
    char want[1024];
    snprintf(want, sizeof want, "#0 hash_cb %s:%d", CRASH_SRC, site_line(CRASH_PROG, "fault"));
    char *text = report_text(raw);
    if (named) {
        cr_assert(strstr(text, want), "%s: want %s\n%s", what, want, text);
    } else {
        cr_assert_null(strstr(text, "hash_cb"), "%s: named\n%s", what, text);
        cr_assert(strstr(text, "#0 <unknown> (crasher+0x"), "%s\n%s", what, text);
    }
    free(text);
}

Test(crash_symbols, report_leaves_another_build_or_a_missing_module_alone, .timeout = 120)
{
    require_shim();
    char *dir = test_tmpdir();
    char *copy = path_join(dir, "crasher");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp %s %s", PROG(CRASH_PROG), copy);
    cr_assert_eq(system(cmd), 0);
    char *same = raw_log_with_module(dir, copy, NULL);
    char *other = raw_log_with_module(dir, copy, "00ff00ff");
    char *none = raw_log_with_module(dir, copy, "");
    time_t now = time(NULL);
    set_mtime(same, now);
    set_mtime(other, now);
    set_mtime(none, now);

    /* The build that crashed: named, whatever the file's time. */
    set_mtime(copy, now - 3600);
    assert_named(same, true, "same build, older file");
    set_mtime(copy, now + 3600);
    assert_named(same, true, "same build, newer file");
    /* Another build: its offsets may mean other code. */
    set_mtime(copy, now - 3600);
    assert_named(other, false, "another build id");
    /* A record without build ids: a file newer than the log is a rebuild. */
    assert_named(none, true, "no build id, older file");
    set_mtime(copy, now + 3600);
    assert_named(none, false, "no build id, newer file");
    /* Gone. */
    cr_assert_eq(unlink(copy), 0);
    assert_named(same, false, "module gone");

    free(same);
    free(other);
    free(none);
    free(copy);
    rm_rf(dir);
    free(dir);
}

/* A unit built -O2 has part of main in .text.startup, and libdw's lookup
 * by address then answers with it for addresses in no unit: crt1's _start
 * got a line of the program. The bottom frame is _start, with no file. */
Test(crash_symbols, a_frame_in_no_unit_gets_no_line, .timeout = 120)
{
    require_shim();
    const char *argv[] = {MAPGUARD, "run", "--", PROG("mg_crash_o2"), "abort", NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 128 + 6, "killed by SIGABRT: got %d\n%s", r.status, r.err);
    char want[1024];
    snprintf(want, sizeof want, " main %s/tests/progs/mg_crash_o2.c:%d", SRC_DIR, site_line("mg_crash_o2", "abort"));
    cr_assert(strstr(r.err, want), "want%s\n%s", want, r.err);
    const char *start = strstr(r.err, " _start ");
    cr_assert(start, "no _start frame:\n%s", r.err);
    cr_assert(strncmp(start, " _start (mg_crash_o2+0x", 22) == 0, "_start has a file:\n%s", r.err);
    cmd_result_free(&r);
}
