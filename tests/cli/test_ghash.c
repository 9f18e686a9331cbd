/*
 * GHashTable findings ("api": "ghashtable") through the CLI: the text
 * report and SARIF name GLib's function (g_hash_table_lookup), not
 * gomap's. The fixture is a real run of tests/progs/gh_races read_write.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cli_helpers.h"

Test(ghash_cli, text_names_the_glib_functions)
{
    const char *argv[] = {MAPGUARD, "report", FIXTURE("ghash_race.jsonl"), NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "exit %d\n%s", r.status, r.err);
    cr_assert(strstr(r.out, "\n  Read (g_hash_table_lookup) by main thread 1088 \"gh_races\":\n"), "%s", r.out);
    cr_assert(strstr(r.out, "\n  Concurrent write (g_hash_table_insert) by thread "), "%s", r.out);
    cr_assert(!strstr(r.out, "(gomap_"), "%s", r.out);
    cr_assert(strstr(r.out, "\n  Fix: guard every call on this GHashTable with one lock"), "%s", r.out);
    cr_assert(!strstr(r.out, "api:"), "api is a known field, not an extra line: %s", r.out);
    cmd_result_free(&r);
}

Test(ghash_cli, sarif_names_the_glib_functions)
{
    char *dir = test_tmpdir();
    char *out = path_join(dir, "out.sarif");
    const char *argv[] = {MAPGUARD, "report", "--sarif", out, "--source-root", FIXTURE_ROOT,
                          FIXTURE("ghash_race.jsonl"), NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "exit %d\n%s", r.status, r.err);
    char *s = slurp(out);
    cr_assert(s);
    cr_assert(strstr(s, "g_hash_table_lookup in read_write (gh_races.c:71)"), "%s", s);
    cr_assert(strstr(s, "access: g_hash_table_lookup by main thread"), "%s", s);
    cr_assert(strstr(s, "g_hash_table_insert in writer (gh_races.c:39)"), "%s", s);
    cr_assert(!strstr(s, "gomap_lookup in"), "%s", s);
    free(s);
    cmd_result_free(&r);
    free(out);
    rm_rf(dir);
    free(dir);
}

/* The result carries the finding's API, and the rule it points at speaks
 * of GHashTable (the help names GLib's locks and functions), as every rule
 * must, for both APIs. */
Test(ghash_cli, sarif_rule_and_api_for_a_ghashtable_finding)
{
    char *dir = test_tmpdir();
    char *out = path_join(dir, "out.sarif");
    const char *argv[] = {MAPGUARD, "report", "--sarif", out, "--source-root", FIXTURE_ROOT,
                          FIXTURE("ghash_race.jsonl"), FIXTURE("race.jsonl"), NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "exit %d\n%s", r.status, r.err);
    json_error_t err;
    json_t *s = json_load_file(out, 0, &err);
    cr_assert(s, "%s", err.text);
    json_t *run = json_array_get(json_object_get(s, "runs"), 0);
    json_t *rules = json_object_get(json_object_get(json_object_get(run, "tool"), "driver"), "rules");
    json_t *results = json_object_get(run, "results");
    size_t i, nghash = 0, ngomap = 0;
    json_t *res;
    json_array_foreach(results, i, res) {
        const char *api = json_string_value(json_object_get(json_object_get(res, "properties"), "api"));
        cr_assert(api, "result %zu has no properties.api", i);
        const char *text = json_string_value(json_object_get(json_object_get(res, "message"), "text"));
        json_t *rule = json_array_get(rules, (size_t)json_integer_value(json_object_get(res, "ruleIndex")));
        cr_assert_str_eq(json_string_value(json_object_get(rule, "id")),
                         json_string_value(json_object_get(res, "ruleId")));
        if (!strcmp(api, "ghashtable")) {
            nghash++;
            cr_assert_str_eq(json_string_value(json_object_get(res, "ruleId")), "concurrent-read-write");
            cr_assert(strstr(text, "g_hash_table_lookup"), "%s", text);
        } else {
            cr_assert_str_eq(api, "gomap");
            ngomap++;
            cr_assert(strstr(text, "gomap_"), "%s", text);
        }
    }
    cr_assert_eq(nghash, 1);
    cr_assert_geq(ngomap, 1);
    /* every rule's descriptions and help fit both APIs */
    json_t *rule;
    json_array_foreach(rules, i, rule) {
        const char *id = json_string_value(json_object_get(rule, "id"));
        const char *full = json_string_value(json_object_get(json_object_get(rule, "fullDescription"), "text"));
        const char *help = json_string_value(json_object_get(json_object_get(rule, "help"), "text"));
        const char *md = json_string_value(json_object_get(json_object_get(rule, "help"), "markdown"));
        const char *shortd = json_string_value(json_object_get(json_object_get(rule, "shortDescription"), "text"));
        cr_assert(full && help && md && shortd, "rule %s", id);
        cr_assert(!strstr(shortd, "gomap"), "rule %s: short description names one API: %s", id, shortd);
        if (!strcmp(id, "nil-map-write"))
            continue; /* gomap only: a NULL GHashTable is GLib's own g_return_if_fail */
        cr_assert((strstr(full, "GHashTable") || strstr(full, "g_hash_table_")) && strstr(full, "gomap"), "rule %s: %s",
                  id, full);
        cr_assert(strstr(help, "g_hash_table_") || strstr(help, "GHashTable"), "rule %s: %s", id, help);
        cr_assert(strstr(help, "gomap"), "rule %s: %s", id, help);
        cr_assert(strstr(md, "g_hash_table_") || strstr(md, "GHashTable"), "rule %s: %s", id, md);
    }
    json_t *ghrule = json_array_get(rules, 0);
    cr_assert_str_eq(json_string_value(json_object_get(ghrule, "id")), "concurrent-read-write");
    cr_assert(strstr(json_string_value(json_object_get(json_object_get(ghrule, "help"), "text")), "GRWLock") ||
              strstr(json_string_value(json_object_get(json_object_get(ghrule, "help"), "text")), "g_rw_lock"));
    json_decref(s);
    cmd_result_free(&r);
    free(out);
    rm_rf(dir);
    free(dir);
}
