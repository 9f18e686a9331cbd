/*
 * The finding kinds are listed once, in shim/kinds.inc. What is written
 * about them elsewhere for readers -- the JSON schema of the report and the
 * README's table -- is checked against that list here, and the CLI's rule
 * catalogue (SARIF) is checked to be generated from it.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cli_helpers.h"

static const struct {
    const char *name, *message;
    int concurrency;
} kinds[] = {
#define MG_KIND(ID, kind, message, concurrency, ...) {kind, message, concurrency},
#include "kinds.inc"
};
#define NKINDS (sizeof kinds / sizeof *kinds)

static size_t find_kind(const char *name)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (name && strcmp(kinds[i].name, name) == 0)
            return i;
    return NKINDS;
}

static json_t *finding_def(json_t *schema)
{
    json_t *f = json_object_get(json_object_get(schema, "$defs"), "finding");
    cr_assert(json_is_object(f), "the schema has no $defs.finding");
    return f;
}

/* Every string of a JSON array, or the one string, seen at most once: the
 * list's kinds in order. */
static void expect_exactly(json_t *list, int want_concurrency, const char *what)
{
    bool seen[NKINDS] = {false};
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        size_t k = find_kind(json_string_value(v));
        cr_assert(k < NKINDS, "%s: \"%s\" is not a kind of shim/kinds.inc", what, json_string_value(v));
        cr_assert(!seen[k], "%s: \"%s\" twice", what, kinds[k].name);
        seen[k] = true;
    }
    for (size_t k = 0; k < NKINDS; k++)
        if (want_concurrency < 0 || kinds[k].concurrency == want_concurrency)
            cr_assert(seen[k], "%s: kind \"%s\" of shim/kinds.inc is missing", what, kinds[k].name);
}

Test(kinds, schema_kind_enum_is_the_list)
{
    json_t *schema = load_json(SRC_DIR "/docs/mapguard-report.schema.json");
    json_t *f = finding_def(schema);
    json_t *all = json_object_get(json_object_get(json_object_get(json_array_get(json_object_get(f, "allOf"), 0),
                                                                  "properties"),
                                                  "kind"),
                                  "enum");
    cr_assert(json_is_array(all), "$defs.finding.allOf[0].properties.kind.enum missing");
    expect_exactly(all, -1, "finding kind enum");
    json_decref(schema);
}

/* The oneOf branches: the concurrency kinds share one branch (kind and
 * message enums, in the same order); every other kind has its own, with
 * its message as a const. */
Test(kinds, schema_branches_name_each_kind_and_message)
{
    json_t *schema = load_json(SRC_DIR "/docs/mapguard-report.schema.json");
    json_t *one_of = json_object_get(json_array_get(json_object_get(finding_def(schema), "allOf"), 1), "oneOf");
    cr_assert(json_is_array(one_of));
    bool seen[NKINDS] = {false};
    size_t i;
    json_t *br;
    json_array_foreach(one_of, i, br) {
        json_t *props = json_object_get(br, "properties");
        json_t *kind = json_object_get(props, "kind"), *msg = json_object_get(props, "message");
        json_t *kenum = json_object_get(kind, "enum");
        if (kenum) {
            expect_exactly(kenum, 1, "concurrency branch");
            json_t *menum = json_object_get(msg, "enum");
            cr_assert_eq(json_array_size(menum), json_array_size(kenum));
            size_t j;
            json_t *k;
            json_array_foreach(kenum, j, k) {
                size_t n = find_kind(json_string_value(k));
                cr_assert_str_eq(json_string_value(json_array_get(menum, j)), kinds[n].message);
                seen[n] = true;
            }
            continue;
        }
        size_t n = find_kind(json_string_value(json_object_get(kind, "const")));
        cr_assert(n < NKINDS, "branch %zu names no kind of shim/kinds.inc", i);
        cr_assert(!kinds[n].concurrency, "%s has a branch of its own", kinds[n].name);
        cr_assert_str_eq(json_string_value(json_object_get(msg, "const")), kinds[n].message);
        seen[n] = true;
    }
    for (size_t k = 0; k < NKINDS; k++)
        cr_assert(seen[k], "no schema branch for \"%s\"", kinds[k].name);
    json_decref(schema);
}

/* The README's table of kinds: its first column names each kind once, in
 * backticks, possibly two to a row. */
Test(kinds, readme_table_names_every_kind)
{
    char *readme = slurp(SRC_DIR "/README.md");
    cr_assert(readme);
    const char *t = strstr(readme, "\n| kind | what it means |");
    cr_assert(t, "the README's kinds table is gone");
    bool seen[NKINDS] = {false};
    for (const char *line = strchr(t + 1, '\n'); line && line[1] == '|'; line = strchr(line + 1, '\n')) {
        const char *cell_end = strchr(line + 2, '|');
        for (const char *p = line + 2; (p = strchr(p, '`')) && p < cell_end;) {
            const char *q = strchr(p + 1, '`');
            cr_assert(q);
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(q - p - 1), p + 1);
            size_t k = find_kind(name);
            cr_assert(k < NKINDS, "README names a kind \"%s\" that shim/kinds.inc does not list", name);
            cr_assert(!seen[k], "README lists \"%s\" twice", name);
            seen[k] = true;
            p = q + 1;
        }
    }
    for (size_t k = 0; k < NKINDS; k++)
        cr_assert(seen[k], "the README's table misses \"%s\"", kinds[k].name);
    free(readme);
}

/* The SARIF output lists a rule per kind, in the list's order: the
 * catalogue is generated from it, not kept beside it. */
Test(kinds, sarif_rules_are_the_list)
{
    char *dir = test_tmpdir();
    char *sarif = path_join(dir, "out.sarif");
    const char *argv[] = {MAPGUARD, "report", "--sarif", sarif, FIXTURE("race.jsonl"), NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "%s", r.err);
    json_t *doc = load_json(sarif);
    json_t *rules = json_object_get(json_object_get(json_object_get(json_array_get(json_object_get(doc, "runs"), 0),
                                                                    "tool"),
                                                    "driver"),
                                    "rules");
    cr_assert(json_array_size(rules) >= NKINDS, "%zu rules", json_array_size(rules));
    for (size_t k = 0; k < NKINDS; k++) {
        json_t *rule = json_array_get(rules, k);
        cr_assert_str_eq(json_string_value(json_object_get(rule, "id")), kinds[k].name);
        cr_assert(json_string_value(json_object_get(json_object_get(rule, "help"), "text")));
    }
    json_decref(doc);
    cmd_result_free(&r);
    rm_rf(dir);
    free(sarif);
    free(dir);
}
