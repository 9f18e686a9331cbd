/*
 * The CLI's checks of detector options, against docs/options.md's table
 * and the shim: --options and --exitcode take exactly the values the shim
 * takes (the shim's twin is tests/shim/test_options.c), split on the same
 * separators, and --exitcode 0 leaves the program's status alone.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_helpers.h"
#include "../docs_options.h"

#define MAX_OPTS 64

static cmd_result run_with(const char *flag, const char *value, const char *prog)
{
    const char *argv[] = {MAPGUARD, "run", flag, value, "--", prog, NULL};
    const char *env[] = {"MAPGUARD_SHIM=" SHIM_PATH, NULL};
    return run_cmd(argv, env);
}

Test(cli_options, documented_ranges_are_enforced_as_the_shim_does, .timeout = 60)
{
    require_shim();
    struct doc_option doc[MAX_OPTS];
    size_t nd = doc_options(doc, MAX_OPTS), nr = 0;
    for (size_t i = 0; i < nd; i++) {
        if (!doc[i].has_range)
            continue;
        nr++;
        char opt[256], want[256];
        snprintf(want, sizeof want, "takes a number from %ld to %ld", doc[i].lo, doc[i].hi);
        long bad[2] = {doc[i].lo - 1, doc[i].hi + 1};
        for (int j = 0; j < 2; j++) {
            snprintf(opt, sizeof opt, "%.63s=%ld", doc[i].name, bad[j]);
            cmd_result r = run_with("--options", opt, PROG("cli_clean"));
            cr_expect_eq(r.status, 2, "%s: want 2, got %d\n%s", opt, r.status, r.err);
            cr_expect(strstr(r.err, want), "%s: stderr should say \"%s\":\n%s", opt, want, r.err);
            cmd_result_free(&r);
        }
        snprintf(opt, sizeof opt, "%.63s=%ld:%.63s=%ld", doc[i].name, doc[i].lo, doc[i].name, doc[i].hi);
        cmd_result r = run_with("--options", opt, PROG("cli_clean"));
        cr_expect_eq(r.status, 3, "%s: want cli_clean's own 3, got %d\n%s", opt, r.status, r.err);
        cr_expect_null(strstr(r.err, "bad value"), "%s\n%s", opt, r.err);
        cmd_result_free(&r);
    }
    cr_assert_geq(nr, 5);
}

Test(cli_options, unknown_options_and_bad_values_exit_2)
{
    require_shim();
    cmd_result r = run_with("--options", "stack_depht=8", PROG("cli_clean"));
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "unknown option \"stack_depht\""), "%s", r.err);
    cmd_result_free(&r);
    r = run_with("--options", "format=xml", PROG("cli_clean"));
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "format takes one of json|text"), "%s", r.err);
    cmd_result_free(&r);
    r = run_with("--options", "dedup=yes", PROG("cli_clean"));
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "dedup takes 0, 1, false or true"), "%s", r.err);
    cmd_result_free(&r);
    /* the inherited variable is checked as --options is */
    const char *argv[] = {MAPGUARD, "run", "--", PROG("cli_clean"), NULL};
    const char *env[] = {"MAPGUARD_SHIM=" SHIM_PATH, "MAPGUARD_OPTIONS=verbosity=4", NULL};
    r = run_cmd(argv, env);
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "MAPGUARD_OPTIONS: bad value \"verbosity=4\""), "%s", r.err);
    cmd_result_free(&r);
}

Test(cli_options, exitcode_flag_has_the_options_range)
{
    require_shim();
    struct doc_option doc[MAX_OPTS];
    const struct doc_option *e = doc_option(doc, doc_options(doc, MAX_OPTS), "exitcode");
    char v[32], want[128];
    snprintf(want, sizeof want, "expected a number from %ld to %ld", e->lo, e->hi);
    long bad[2] = {e->lo - 1, e->hi + 1};
    for (int j = 0; j < 2; j++) {
        snprintf(v, sizeof v, "%ld", bad[j]);
        cmd_result r = run_with("--exitcode", v, PROG("cli_clean"));
        cr_assert_eq(r.status, 2, "--exitcode %s: %d\n%s", v, r.status, r.err);
        cr_assert(strstr(r.err, want), "%s", r.err);
        cmd_result_free(&r);
    }
    snprintf(v, sizeof v, "%ld", e->hi);
    cmd_result r = run_with("--exitcode", v, PROG("cli_race"));
    cr_assert_eq(r.status, e->hi, "findings exit --exitcode: %d\n%s", r.status, r.err);
    cmd_result_free(&r);
}

Test(cli_options, exitcode_0_keeps_the_programs_status, .timeout = 60)
{
    require_shim();
    cmd_result r = run_with("--exitcode", "0", PROG("cli_race"));
    cr_assert(strstr(r.err, "concurrent-read-write") || strstr(r.err, "data race"),
              "the race is still reported:\n%s", r.err);
    cr_assert_eq(r.status, 0, "cli_race's own status is 0, got %d\n%s", r.status, r.err);
    cmd_result_free(&r);
}

/* exitcode is --exitcode's under run, like log_path and format are the
 * command's: from --options or MAPGUARD_OPTIONS it is ignored, and said so,
 * rather than silently overridden. */
Test(cli_options, exitcode_in_options_is_ignored_with_a_note, .timeout = 60)
{
    require_shim();
    static const char note[] = "exitcode is managed by mapguard run (use --exitcode N); ignored\n";
    cmd_result r = run_with("--options", "exitcode=0", PROG("cli_race"));
    cr_assert_eq(r.status, 66, "--exitcode's default, got %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "mapguard: warning: --options: ") && strstr(r.err, note), "%s", r.err);
    cmd_result_free(&r);

    const char *argv[] = {MAPGUARD, "run", "--exitcode", "42", "--", PROG("cli_race"), NULL};
    const char *env[] = {"MAPGUARD_SHIM=" SHIM_PATH, "MAPGUARD_OPTIONS=exitcode=3", NULL};
    r = run_cmd(argv, env);
    cr_assert_eq(r.status, 42, "got %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "mapguard: warning: MAPGUARD_OPTIONS: ") && strstr(r.err, note), "%s", r.err);
    cmd_result_free(&r);

    /* log_path and format, the same way */
    r = run_with("--options", "log_path=/tmp/x:format=text", PROG("cli_clean"));
    cr_assert_eq(r.status, 3, "cli_clean's own status: %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "--options: log_path is managed by mapguard run"), "%s", r.err);
    cr_assert(strstr(r.err, "--options: format is managed by mapguard run"), "%s", r.err);
    cmd_result_free(&r);
}

Test(cli_options, the_shims_separators)
{
    /* each separator of MAPGUARD_OPTIONS splits --options too: stack_depth
     * and dedup both reach the check (a bad value after it is named) */
    require_shim();
    const char seps[] = ": ,\t\n\r";
    for (const char *s = seps; *s; s++) {
        char opt[64];
        snprintf(opt, sizeof opt, "stack_depth=8%cdedup=2", *s);
        cmd_result r = run_with("--options", opt, PROG("cli_clean"));
        cr_assert_eq(r.status, 2, "separator 0x%02x: %d\n%s", *s, r.status, r.err);
        cr_assert(strstr(r.err, "bad value \"dedup=2\""), "separator 0x%02x:\n%s", *s, r.err);
        cmd_result_free(&r);
    }
}

Test(cli_options, version_is_the_VERSION_file)
{
    char *want = slurp(SRC_DIR "/VERSION");
    cr_assert(want);
    want[strcspn(want, "\n")] = 0;
    const char *argv[] = {MAPGUARD, "--version", NULL};
    cmd_result r = run_cmd(argv, NULL);
    char line[128];
    snprintf(line, sizeof line, "mapguard %s\n", want);
    cr_assert_str_eq(r.out, line);
    cmd_result_free(&r);
    free(want);
}

/* dedup=0 is the detector's: every detection is its own record, while the
 * command's text report groups identical findings and counts them
 * (docs/options.md). race.jsonl holds one race twice, as a dedup=0 log
 * holds each repeat. */
Test(cli_options, identical_findings_are_grouped_whatever_dedup_wrote)
{
    const char *argv[] = {MAPGUARD, "report", FIXTURE("race.jsonl"), NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "%d\n%s", r.status, r.err);
    const char *first = strstr(r.out, "WARNING: mapguard:");
    cr_assert(first && !strstr(first + 1, "WARNING: mapguard:"), "one block:\n%s", r.out);
    cr_assert(strstr(r.out, "SUMMARY: mapguard: 1 finding (1 concurrent-read-write) from 2 reports"), "%s", r.out);
    cmd_result_free(&r);
}

/* The count of a finding is the program's detections, whatever dedup
 * wrote: with dedup=0 each repeat is a record of its own and the summary
 * says so (its "records"), so nothing is counted twice (a held-out probe:
 * "Reported 21 times" for 11 nil-map writes). cli_repeats makes one nil-map
 * write five times at one site and once at another. */
Test(cli_options, repeat_counts_are_the_detections_with_dedup_on_or_off, .timeout = 60)
{
    require_shim();
    for (int dedup = 0; dedup <= 1; dedup++) {
        char *dir = test_tmpdir();
        char *sarif = path_join(dir, "out.sarif");
        const char *opts = dedup ? "dedup=1" : "dedup=0";
        const char *argv[] = {MAPGUARD, "run", "--options", opts, "--sarif", sarif, "--", PROG("cli_repeats"), NULL};
        const char *env[] = {"MAPGUARD_SHIM=" SHIM_PATH, NULL};
        cmd_result r = run_cmd(argv, env);
        cr_assert_eq(r.status, 66, "%s: %d\n%s", opts, r.status, r.err);
        const char *five = strstr(r.err, "Reported 5 times by pid");
        cr_assert(five && !strstr(five + 1, "Reported "), "%s: one finding five times, the other once:\n%s", opts,
                  r.err);
        /* the reports the log holds: named when they are not one per finding */
        bool named = strstr(r.err, "2 findings (2 nil-map-write) from 6 reports in 1 process") != NULL;
        cr_assert(dedup ? !strstr(r.err, " from ") : named, "%s:\n%s", opts, r.err);
        json_t *s = load_json(sarif);
        json_t *results = json_object_get(json_array_get(json_object_get(s, "runs"), 0), "results");
        cr_assert_eq(json_array_size(results), 2, "%s", opts);
        json_int_t occ[2];
        for (size_t i = 0; i < 2; i++)
            occ[i] = json_integer_value(
                json_object_get(json_object_get(json_array_get(results, i), "properties"), "occurrences"));
        cr_assert((occ[0] == 5 && occ[1] == 1) || (occ[0] == 1 && occ[1] == 5), "%s: occurrences %lld and %lld",
                  opts, (long long)occ[0], (long long)occ[1]);
        json_decref(s);
        cmd_result_free(&r);
        free(sarif);
        rm_rf(dir);
        free(dir);
    }
}
