/*
 * A race found by ordering (happens-before, "evidence": "unordered") goes
 * through `mapguard run` as an overlap race does: exit status, the text
 * report's sentence, the JSON record, SARIF with the evidence.
 */
#include <criterion/criterion.h>

#include "cli_helpers.h"
#include "kinds.h"

#include <string.h>

Test(unordered, the_document_program_is_reported_by_the_cli, .timeout = 120)
{
    require_shim();
    char *dir = test_tmpdir();
    char *json = path_join(dir, "r.jsonl"), *sarif = path_join(dir, "r.sarif");
    const char *argv[] = {MAPGUARD, "run", "--json", json, "--sarif", sarif, "--source-root", SRC_DIR,
                          "--", PROG("mg_hb"), "s22", NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "a race must exit 66, got %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "WARNING: mapguard: concurrent map read and map write"), "%s", r.err);
    cr_assert(strstr(r.err, "was not ordered before this write by any lock, join or other synchronization"), "%s",
              r.err);

    json_t *recs = load_jsonl(json);
    json_t *race = first_of_kind(recs, "concurrent-read-write");
    cr_assert(race, "no concurrent-read-write record in %s", json);
    cr_assert_str_eq(json_string_value(json_object_get(race, "evidence")), "unordered");
    assert_text_covers(r.err, recs);

    json_t *s = load_json(sarif);
    json_t *res = json_array_get(json_object_get(json_array_get(json_object_get(s, "runs"), 0), "results"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(res, "ruleId")), "concurrent-read-write");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(res, "properties"), "evidence")), "unordered");
    json_decref(s);
    assert_sarif_valid(sarif);

    json_decref(recs);
    cmd_result_free(&r);
    rm_rf(dir);
    free(json);
    free(sarif);
    free(dir);
}

/* The earlier call of an unordered race has its call site only by design
 * (conflict_stack=0, the default), not for lack of time: the text says so,
 * and says nothing with conflict_stack=1, where the stack is whole. An
 * overlap race's conflict without its stack keeps the timing reason. */
Test(unordered, call_site_only_line_gives_the_reason, .timeout = 120)
{
    require_shim();
    const char *argv[] = {MAPGUARD, "run", "--", PROG("mg_hb"), "s22", NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "%d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, MG_TEXT_CALL_SITE_ONLY_UNORDERED), "%s", r.err);
    cr_assert_null(strstr(r.err, MG_TEXT_CALL_SITE_ONLY), "%s", r.err);
    cmd_result_free(&r);

    const char *argv2[] = {MAPGUARD, "run", "--options", "conflict_stack=1", "--", PROG("mg_hb"), "s22", NULL};
    r = run_cmd(argv2, NULL);
    cr_assert_eq(r.status, 66, "%d\n%s", r.status, r.err);
    cr_assert_null(strstr(r.err, MG_TEXT_CALL_SITE_ONLY_UNORDERED), "%s", r.err);
    cr_assert_null(strstr(r.err, MG_TEXT_CALL_SITE_ONLY), "%s", r.err);
    cmd_result_free(&r);

    const char *argv3[] = {MAPGUARD, "report", FIXTURE("ghash_race.jsonl"), NULL};
    r = run_cmd(argv3, NULL);
    cr_assert(strstr(r.out, MG_TEXT_CALL_SITE_ONLY), "%s", r.out);
    cr_assert_null(strstr(r.out, MG_TEXT_CALL_SITE_ONLY_UNORDERED), "%s", r.out);
    cmd_result_free(&r);
}
