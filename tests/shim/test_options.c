/*
 * MAPGUARD_OPTIONS: halt_on_error, exitcode, format, log_path, dedup,
 * stack_depth, suppressions, and what happens with bad ones.
 */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define PROG "mg_misuse"

Test(options, halt_on_error_stops_at_the_first_report)
{
    struct run r;
    run_prog(&r, PROG, "two_findings", "halt_on_error=1");
    cr_assert_eq(count_kind(&r, NULL), 1);
    assert_frame_at(json_object_get(json_object_get(find_kind(&r, NULL, 0), "access"), "stack"), 0, PROG, "first");
    cr_assert_eq(count_summaries(&r), 1, "the summary is written before halting");
    cr_assert_eq(r.status, 66);
    cr_assert(strstr(r.out, "after first") == NULL, "stdout: %s", r.out);
    run_free(&r);
}

Test(options, without_halt_the_program_goes_on)
{
    struct run r;
    run_prog(&r, PROG, "two_findings", NULL);
    cr_assert_eq(count_kind(&r, NULL), 2);
    cr_assert(strstr(r.out, "after second"), "stdout: %s", r.out);
    cr_assert_eq(r.status, 66);
    run_free(&r);
}

Test(options, exitcode)
{
    struct run r;
    run_prog(&r, PROG, "two_findings", "halt_on_error=1:exitcode=7");
    cr_assert_eq(r.status, 7);
    run_free(&r);
    run_prog(&r, PROG, "two_findings", "exitcode=9");
    cr_assert_eq(r.status, 9);
    run_free(&r);
}

Test(options, dedup)
{
    struct run r;
    run_prog(&r, PROG, "dedup", NULL);
    cr_assert_eq(count_kind(&r, NULL), 2, "one per call site");
    json_t *s = find_summary(&r, 0);
    cr_assert_eq(json_integer_value(json_object_get(s, "occurrences")), 6);
    cr_assert_eq(json_integer_value(json_object_get(s, "repeats")), 4);
    run_free(&r);
    /* spaces and commas separate options too */
    run_prog(&r, PROG, "dedup", "dedup=0, stack_depth=1 exitcode=5");
    cr_assert_eq(count_kind(&r, NULL), 6);
    cr_assert_eq(json_array_size(json_object_get(json_object_get(find_kind(&r, NULL, 0), "access"), "stack")), 1);
    cr_assert_eq(r.status, 5);
    run_free(&r);
}

Test(options, text_format)
{
    struct run r;
    run_prog_raw(&r, PROG, "nil_set", "format=text");
    cr_assert(strstr(r.err, "WARNING: mapguard: assignment to entry in nil map"), "%s", r.err);
    char want[64];
    snprintf(want, sizeof want, "mg_misuse.c:%d", site_line(PROG, "nil_set"));
    cr_assert(strstr(r.err, want), "%s", r.err);
    cr_assert(strstr(r.err, "SUMMARY: mapguard: nil-map-write"), "%s", r.err);
    cr_assert_eq(r.status, 66);
    run_free(&r);
}

Test(options, default_is_json_on_stderr)
{
    struct run r;
    run_prog_raw(&r, PROG, "nil_set", NULL);
    json_error_t je;
    json_t *o = json_loads(r.err, JSON_DISABLE_EOF_CHECK, &je);
    cr_assert(o, "stderr does not start with JSON: %s", r.err);
    cr_assert_str_eq(json_string_value(json_object_get(o, "kind")), "nil-map-write");
    json_decref(o);
    run_free(&r);
}

Test(options, unwritable_log_path_falls_back_to_stderr)
{
    struct run r;
    run_prog_raw(&r, PROG, "nil_set", "log_path=/nonexistent/dir/mg");
    cr_assert(strstr(r.err, "cannot open log_path '/nonexistent/dir/mg."), "%s", r.err);
    cr_assert(strstr(r.err, "\"kind\":\"nil-map-write\""), "%s", r.err);
    cr_assert_null(strstr(r.err, "\"kind\":\"hello\""), "only a log file gets the hello: %s", r.err);
    run_free(&r);
}

Test(options, bad_options_are_named_and_defaults_used)
{
    struct run r;
    run_prog(&r, PROG, "two_findings", "bogus=1:halt_on_error=maybe:exitcode=300:noequals");
    cr_assert(strstr(r.err, "unknown option 'bogus'"), "%s", r.err);
    cr_assert(strstr(r.err, "bad value for option 'halt_on_error=maybe'"), "%s", r.err);
    cr_assert(strstr(r.err, "bad value for option 'exitcode=300'"), "%s", r.err);
    cr_assert(strstr(r.err, "'noequals'"), "%s", r.err);
    /* defaults: no halt, exit code 66; the good option (log_path) applies */
    cr_assert_eq(count_kind(&r, NULL), 2);
    cr_assert_eq(r.status, 66);
    run_free(&r);
}

static void suppressed(const char *prog, const char *scenario, const char *rules, size_t left)
{
    char opts[512];
    snprintf(opts, sizeof opts, "suppressions=%s", write_temp("supp", rules));
    struct run r;
    run_prog(&r, prog, scenario, opts);
    cr_assert_eq(count_kind(&r, NULL), left, "%s with '%s': %zu findings", scenario, rules, count_kind(&r, NULL));
    if (left == 0) {
        cr_assert_eq(r.status, 0, "nothing reported, nothing to fail for");
        json_t *s = find_kind_of_pid(&r, "summary", r.pid);
        cr_assert(s, "a log file always gets the summary");
        cr_assert_eq(json_integer_value(json_object_get(s, "findings")), 0);
        cr_assert_geq(json_integer_value(json_object_get(s, "suppressed")), 1, "the summary counts what was suppressed");
    }
    run_free(&r);
}

Test(options, suppressions)
{
    suppressed(PROG, "nil_set", "# a comment\n\nnil-map-write:nil_set\n", 0);
    suppressed(PROG, "nil_set", "nil-map-write:^nil_s*t$\n", 0);
    suppressed(PROG, "nil_set", "nil-map-write:mg_misuse.c\n", 0);     /* file */
    suppressed(PROG, "nil_set", "*:mg_misuse\n", 0);                   /* module */
    suppressed(PROG, "nil_set", "double-free:nil_set\n", 1);           /* other kind */
    suppressed(PROG, "nil_set", "nil-map-write:^il_set\n", 1);         /* anchored */
    suppressed("mg_races", "ww", "race:set_park1\n", 0);               /* the conflict's stack */
    suppressed("mg_races", "ww", "concurrent-read-write:set_park1\n", 1);
}

Test(options, started_lazily_before_any_constructor)
{
    /* the first call comes from .preinit_array, before the shim's own
     * constructor and before libc has set up environ: the options must
     * still apply (the log goes to log_path) and the call be checked */
    struct run r;
    run_prog(&r, "mg_preinit", NULL, NULL);
    cr_assert_eq(count_kind(&r, "nil-map-write"), 2, "%s", r.err);
    json_t *st = json_object_get(json_object_get(find_kind(&r, NULL, 0), "access"), "stack");
    assert_frame_at(st, 0, "mg_preinit", "preinit_nil");
    cr_assert(strstr(r.out, "early=-1"), "the nil map still refused the write: %s", r.out);
    cr_assert_eq(r.status, 66);
    run_free(&r);
}
