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
    json_t *run = json_array_get(json_object_get(s, "runs"), 0);
    json_t *n = json_array_get(
        json_object_get(json_array_get(json_object_get(run, "invocations"), 0), "toolExecutionNotifications"), 0);
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
    json_decref(recs);

    cmd_result_free(&r);
    free(json);
    free(sarif);
    rm_rf(dir);
    free(dir);
}

/* The raw record the shim writes, from its own log (log_path), with the
 * program's frames pointed at module (a copy of the program). */
static char *raw_log_with_module(const char *dir, const char *module)
{
    char opts[1024];
    char *log = path_join(dir, "log");
    snprintf(opts, sizeof opts, "MAPGUARD_OPTIONS=log_path=%s:format=json", log);
    const char *env[] = {"LD_PRELOAD=" SHIM_PATH, opts, NULL};
    const char *argv[] = {PROG(CRASH_PROG), "set", NULL};
    cmd_result r = run_cmd(argv, env);
    cr_assert_eq(r.status, 128 + 11, "%d\n%s", r.status, r.err);
    cmd_result_free(&r);

    /* log.<pid>: the only file named so */
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cat %s.* > %s/raw.jsonl", log, dir);
    cr_assert_eq(system(cmd), 0);
    char *raw = path_join(dir, "raw.jsonl");
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

Test(crash_symbols, report_leaves_a_changed_or_missing_module_alone, .timeout = 120)
{
    require_shim();
    char *dir = test_tmpdir();
    char *copy = path_join(dir, "crasher");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp %s %s", PROG(CRASH_PROG), copy);
    cr_assert_eq(system(cmd), 0);
    char *raw = raw_log_with_module(dir, copy);
    int fault = site_line(CRASH_PROG, "fault");
    char want[1024];
    snprintf(want, sizeof want, "#0 hash_cb %s:%d", CRASH_SRC, fault);

    /* The module as it was at the crash: `mapguard report` names it too. */
    set_mtime(copy, time(NULL) - 3600);
    set_mtime(raw, time(NULL));
    char *text = report_text(raw);
    cr_assert(strstr(text, want), "%s", text);
    free(text);

    /* Rebuilt after the log was written: its offsets may mean other code. */
    set_mtime(copy, time(NULL) + 3600);
    text = report_text(raw);
    cr_assert_null(strstr(text, "hash_cb"), "%s", text);
    cr_assert(strstr(text, "#0 <unknown> (crasher+0x"), "%s", text);
    free(text);

    /* Gone. */
    cr_assert_eq(unlink(copy), 0);
    text = report_text(raw);
    cr_assert(strstr(text, "#0 <unknown> (crasher+0x"), "%s", text);
    free(text);

    free(raw);
    free(copy);
    rm_rf(dir);
    free(dir);
}
