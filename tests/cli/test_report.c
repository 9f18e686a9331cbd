/*
 * `mapguard report` on saved JSON Lines (hand-written fixtures in issue 3's
 * format): merging, deduplication, text rendering, JSON output, exit codes.
 * These need no detector, so they pin down the rendering independently of
 * the end-to-end runs.
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

Test(report, text_names_every_kind_and_frame)
{
    const char *argv[] = {MAPGUARD, "report", FIXTURE("race.jsonl"), FIXTURE("misuse.jsonl"),
                          NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "findings must exit 66, got %d\n%s", r.status, r.err);
    json_t *all = json_array();
    json_array_extend(all, load_jsonl(FIXTURE("race.jsonl")));
    json_array_extend(all, load_jsonl(FIXTURE("misuse.jsonl")));
    assert_text_covers(r.out, all);
    /* TSan's shape: a banner per finding, both threads, creation sites. */
    cr_assert(strstr(r.out, "WARNING: mapguard: concurrent map read and map write"));
    cr_assert(strstr(r.out, "Read (gomap_get) by thread 4244 \"reader\""), "%s", r.out);
    cr_assert(strstr(r.out, "Concurrent write (gomap_set) by main thread 4242"), "%s", r.out);
    cr_assert(strstr(r.out, "Thread 4244 \"reader\" created at:"), "%s", r.out);
    cr_assert(strstr(r.out, "Map created by main thread 4242 \"cli_race\" at:"), "%s", r.out);
    cr_assert(strstr(r.out, "[inlined]"), "inlined frames are marked");
    /* The last line is the one-line summary. */
    cr_assert(strstr(r.out, "SUMMARY: mapguard: 5 findings ("), "%s", r.out);
    json_decref(all);
    cmd_result_free(&r);
}

Test(report, merges_files_and_removes_duplicates)
{
    /* The same race twice in one file (each thread detected the other) and
     * the same file twice: one finding. */
    const char *argv[] = {MAPGUARD, "report", "--text", FIXTURE("race.jsonl"),
                          FIXTURE("race.jsonl"), NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66);
    cr_assert_eq(count_str(r.out, "WARNING: mapguard:"), 1, "%s", r.out);
    /* 2 records x 2 files, plus the repeats the detector folded (count 3
     * for id 1 in each file's summary): 4 + 2 x 2. */
    cr_assert(strstr(r.out, "Reported 8 times by pid 4242"), "%s", r.out);
    cr_assert(strstr(r.out, "SUMMARY: mapguard: 1 finding (1 concurrent-read-write) from 4 reports"),
              "%s", r.out);
    cmd_result_free(&r);
}

Test(report, json_output_has_each_finding_once)
{
    char *dir = test_tmpdir();
    char *out = path_join(dir, "merged.jsonl");
    const char *argv[] = {MAPGUARD, "report", "--json", out, FIXTURE("race.jsonl"),
                          FIXTURE("misuse.jsonl"), FIXTURE("race.jsonl"), NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "%s", r.err);
    cr_assert_str_empty(r.out, "no text unless --text: %s", r.out);
    json_t *recs = load_jsonl(out);
    cr_assert_eq(json_array_size(recs), 5);
    const char *kinds[] = {"concurrent-read-write", "modified-during-iteration", "use-after-free",
                           "nil-map-write", "leaked-map"};
    for (size_t i = 0; i < 5; i++)
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(recs, i), "kind")),
                         kinds[i]);
    /* What report --json writes, report reads back to the same findings. */
    const char *again[] = {MAPGUARD, "report", out, NULL};
    cmd_result r2 = run_cmd(again, NULL);
    cr_assert_eq(r2.status, 66);
    cr_assert(strstr(r2.out, "SUMMARY: mapguard: 5 findings"), "%s", r2.out);
    json_decref(recs);
    cmd_result_free(&r);
    cmd_result_free(&r2);
    rm_rf(dir);
    free(out);
    free(dir);
}

Test(report, no_findings_exit_zero_and_exitcode_option)
{
    char *dir = test_tmpdir();
    char *clean = path_join(dir, "clean.jsonl");
    FILE *fp = fopen(clean, "w");
    fputs("{\"kind\":\"summary\",\"pid\":7,\"findings\":0}\n", fp);
    fclose(fp);
    const char *argv[] = {MAPGUARD, "report", clean, NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "SUMMARY: mapguard: no findings"), "%s", r.out);
    cmd_result_free(&r);

    const char *argv2[] = {MAPGUARD, "report", "--exitcode", "9", "-q", FIXTURE("race.jsonl"),
                           NULL};
    r = run_cmd(argv2, NULL);
    cr_assert_eq(r.status, 9);
    cr_assert_null(strstr(r.out, "WARNING"), "-q prints no per-finding report");
    cr_assert(strstr(r.out, "SUMMARY: mapguard: 1 finding"), "-q keeps the summary line");
    cmd_result_free(&r);
    rm_rf(dir);
    free(clean);
    free(dir);
}

Test(report, truncated_line_is_skipped_not_fatal)
{
    /* A program that crashed mid-write leaves a partial last line. */
    char *dir = test_tmpdir();
    char *f = path_join(dir, "cut.jsonl");
    char *race = slurp(FIXTURE("race.jsonl"));
    FILE *fp = fopen(f, "w");
    fputs(race, fp);
    fputs("{\"kind\":\"concurrent-writes\",\"message\":\"concurrent map wr", fp);
    fclose(fp);
    const char *argv[] = {MAPGUARD, "report", f, NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66);
    cr_assert(strstr(r.err, "cut.jsonl:4: not a mapguard report record"), "%s", r.err);
    cr_assert(strstr(r.out, "1 finding"), "%s", r.out);
    cmd_result_free(&r);
    rm_rf(dir);
    free(f);
    free(race);
    free(dir);
}

Test(report, unreadable_file_is_exit_2)
{
    const char *argv[] = {MAPGUARD, "report", "/nonexistent/reports.jsonl", NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "cannot read /nonexistent/reports.jsonl"), "%s", r.err);
    cmd_result_free(&r);
}
