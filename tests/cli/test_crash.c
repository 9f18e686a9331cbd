/*
 * deadly-signal records (issue 11): the shim writes one when the program
 * dies of SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT. `mapguard report` (and
 * run, which renders the same way) shows it in an ASan-style ERROR block,
 * keeps it in --json and turns it into a SARIF notification; it is not a
 * finding, so it alone does not fail the gate. Fixture: fixtures/crash.jsonl.
 * Its unnamed libc frame names a module under /crashed-host/, a path no test
 * machine has: the command symbolizes frames from the module files it finds
 * (test_crash_symbols.c), and this machine's libc is not the crashed one's.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cli_helpers.h"

static size_t count_str(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

Test(crash, text_block_names_signal_thread_and_stack)
{
    const char *argv[] = {MAPGUARD, "report", FIXTURE("crash.jsonl"), NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 0, "a crash alone is no finding: want 0, got %d\n%s", r.status, r.err);
    const char *block = strstr(r.out, "==================\n"
                                      "ERROR: mapguard: deadly signal SIGSEGV on thread 4243 "
                                      "\"worker\" (pid 4242)\n");
    cr_assert(block, "no ERROR block:\n%s", r.out);
    cr_assert(strstr(block, "  Address: 0x10\n"), "%s", r.out);
    /* Frames in order, symbolized or module+offset only. */
    const char *f0 = strstr(block, "#0 gm_copy /work/main/src/map.c:413 (libgomap.so+0x2a10)");
    const char *f1 = strstr(block, "#1 crash_worker /work/main/tests/progs/cli_crash.c:31");
    const char *f2 = strstr(block, "#2 <unknown> (libc.so.6+0x89fd4)\n==================\n");
    cr_assert(f0 && f1 && f2 && f0 < f1 && f1 < f2, "frames missing or out of order:\n%s", r.out);
    cr_assert(strstr(r.out, "SUMMARY: mapguard: no findings, 1 deadly signal (SIGSEGV) in 1 "
                            "process; 1 file\n"),
              "%s", r.out);
    cr_assert_null(strstr(r.out, "WARNING"), "%s", r.out);
    cmd_result_free(&r);

    /* -q still says that the program crashed. */
    const char *argv2[] = {MAPGUARD, "report", "-q", FIXTURE("crash.jsonl"), NULL};
    r = run_cmd(argv2, NULL);
    cr_assert_eq(r.status, 0);
    cr_assert_null(strstr(r.out, "ERROR:"), "-q prints no blocks:\n%s", r.out);
    cr_assert(strstr(r.out, "1 deadly signal (SIGSEGV)"), "%s", r.out);
    cmd_result_free(&r);
}

Test(crash, with_findings_merged_after_them)
{
    /* The same crash twice (in two logs) is one block, after the findings
     * that may explain it; findings still decide the status. */
    char *dir = test_tmpdir();
    char *again = copy_fixture(dir, FIXTURE("crash.jsonl"), "again.jsonl");
    const char *argv[] = {MAPGUARD, "report", FIXTURE("crash.jsonl"), FIXTURE("race.jsonl"), again, NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "%s", r.err);
    cr_assert_eq(count_str(r.out, "ERROR: mapguard: deadly signal"), 1, "%s", r.out);
    const char *warn = strstr(r.out, "WARNING: mapguard:");
    const char *err = strstr(r.out, "ERROR: mapguard:");
    cr_assert(warn && err && warn < err, "%s", r.out);
    cr_assert(strstr(err, "Reported 2 times by pid 4242"), "%s", r.out);
    cr_assert(strstr(r.out, "SUMMARY: mapguard: 1 finding (1 concurrent-read-write) from 2 "
                            "reports, 2 deadly signals (SIGSEGV) in 1 process"),
              "%s", r.out);
    cmd_result_free(&r);
    free(again);
    rm_rf(dir);
    free(dir);
}

Test(crash, kept_in_json_output)
{
    char *dir = test_tmpdir();
    char *out = path_join(dir, "out.jsonl");
    const char *argv[] = {MAPGUARD, "report", "--json", out, FIXTURE("race.jsonl"),
                          FIXTURE("crash.jsonl"), NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "%s", r.err);
    json_t *recs = load_jsonl(out);
    cr_assert_eq(json_array_size(recs), 2, "the finding and the crash");
    json_t *crash = json_array_get(recs, 1);
    cr_assert_str_eq(json_string_value(json_object_get(crash, "kind")), "deadly-signal");
    cr_assert_eq(json_integer_value(json_object_get(crash, "signo")), 11);
    cr_assert_eq(json_array_size(json_object_get(crash, "stack")), 3);
    json_decref(recs);
    cmd_result_free(&r);
    rm_rf(dir);
    free(out);
    free(dir);
}

Test(crash, sarif_notification_not_result, .timeout = 300)
{
    char *dir = test_tmpdir();
    char *out = path_join(dir, "out.sarif");
    const char *argv[] = {MAPGUARD, "report", "--sarif", out, "--source-root", FIXTURE_ROOT,
                          FIXTURE("crash.jsonl"), NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    json_t *s = load_json(out);
    json_t *run = json_array_get(json_object_get(s, "runs"), 0);
    cr_assert_eq(json_array_size(json_object_get(run, "results")), 0, "a crash is no alert");
    json_t *inv = json_array_get(json_object_get(run, "invocations"), 0);
    cr_assert(json_is_true(json_object_get(inv, "executionSuccessful")));
    json_t *n = json_array_get(sarif_notifications(s), 0);
    cr_assert(n, "no toolExecutionNotifications");
    cr_assert_str_eq(json_string_value(json_object_get(n, "level")), "error");
    cr_assert_str_eq(
        json_string_value(json_object_get(json_object_get(n, "descriptor"), "id")),
        "deadly-signal");
    cr_assert(strstr(json_string_value(json_object_get(json_object_get(n, "message"), "text")),
                     "deadly signal SIGSEGV on thread 4243 \"worker\" (pid 4242)"));
    cr_assert_eq(json_integer_value(json_object_get(n, "threadId")), 4243);
    /* Its location is the first frame in the source root: src/map.c:413. */
    json_t *pl = json_object_get(json_array_get(json_object_get(n, "locations"), 0),
                                 "physicalLocation");
    cr_assert_str_eq(
        json_string_value(json_object_get(json_object_get(pl, "artifactLocation"), "uri")),
        "src/map.c");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(pl, "region"), "startLine")),
                 413);
    json_t *frames =
        json_object_get(json_object_get(json_object_get(n, "exception"), "stack"), "frames");
    cr_assert_eq(json_array_size(frames), 3, "the whole faulting stack");
    json_decref(s);
    assert_sarif_valid(out);
    cmd_result_free(&r);
    rm_rf(dir);
    free(out);
    free(dir);
}

/* A crash inside a map call: the text block and the SARIF notification
 * name the call in flight (the record's in_call). */
Test(crash, in_call_named_in_text_and_sarif)
{
    const char *argv[] = {MAPGUARD, "report", FIXTURE("crash_in_call.jsonl"), NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 0, "%d\n%s", r.status, r.err);
    const char *block = strstr(r.out, "ERROR: mapguard: deadly signal SIGSEGV on thread 4243 ");
    cr_assert(block, "%s", r.out);
    const char *in = strstr(block, "\n  In call: g_hash_table_insert on map 0x5573205e40c0 (api ghashtable)\n");
    const char *f0 = strstr(block, "#0 gm_copy");
    cr_assert(in && f0 && in < f0, "the call before the stack:\n%s", r.out);
    cmd_result_free(&r);

    char *dir = test_tmpdir();
    char *out = path_join(dir, "out.sarif");
    const char *argv2[] = {MAPGUARD, "report", "--sarif", out, FIXTURE("crash_in_call.jsonl"), NULL};
    r = run_cmd(argv2, NULL);
    cr_assert_eq(r.status, 0, "%d\n%s", r.status, r.err);
    json_error_t err;
    json_t *s = json_load_file(out, 0, &err);
    cr_assert(s, "%s", err.text);
    json_t *n = json_array_get(sarif_notifications(s), 0);
    const char *text = json_string_value(json_object_get(json_object_get(n, "message"), "text"));
    cr_assert(text && strstr(text, " in g_hash_table_insert on map 0x5573205e40c0"), "%s", text);
    json_t *ic = json_object_get(json_object_get(n, "properties"), "in_call");
    cr_assert_str_eq(json_string_value(json_object_get(ic, "api")), "ghashtable");
    cr_assert_str_eq(json_string_value(json_object_get(ic, "op")), "insert");
    json_decref(s);
    cmd_result_free(&r);
    free(out);
    rm_rf(dir);
    free(dir);
}
