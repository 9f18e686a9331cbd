/*
 * A race found by ordering (happens-before, "evidence": "unordered") goes
 * through `mapguard run` as an overlap race does: exit status, the text
 * report's sentence, the JSON record, SARIF with the evidence.
 */
#include <criterion/criterion.h>

#include "cli_helpers.h"

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
