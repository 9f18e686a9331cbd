/*
 * SARIF from saved reports: the shape GitHub code scanning needs (one result
 * per unique finding, ruleId = kind, rules with help, locations[0] in the
 * user's code relative to the source root, a threadFlow per thread,
 * fingerprints that survive a re-run) and the SARIF multitool's verdict.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cli_helpers.h"

static json_t *sarif_of(const char *const files[], const char *root, char **path_out)
{
    char *dir = test_tmpdir();
    char *out = path_join(dir, "out.sarif");
    const char *argv[16] = {MAPGUARD, "report", "--sarif", out, "--source-root", root};
    size_t n = 6;
    for (size_t i = 0; files[i]; i++)
        argv[n++] = files[i];
    argv[n] = NULL;
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "report exit %d: %s", r.status, r.err);
    json_t *s = load_json(out);
    cmd_result_free(&r);
    if (path_out) {
        *path_out = out; /* the caller removes its directory */
    } else {
        free(out);
        rm_rf(dir);
    }
    free(dir);
    return s;
}

static json_t *run0(json_t *s)
{
    return json_array_get(json_object_get(s, "runs"), 0);
}

static const char *str_at(json_t *o, const char *path)
{
    /* "a.b.c" with numeric parts indexing arrays */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = o;
    for (char *save, *tok = strtok_r(buf, ".", &save); tok && cur;
         tok = strtok_r(NULL, ".", &save)) {
        if (json_is_array(cur))
            cur = json_array_get(cur, strtoul(tok, NULL, 10));
        else
            cur = json_object_get(cur, tok);
    }
    return json_string_value(cur);
}

Test(sarif, shape_for_code_scanning)
{
    const char *files[] = {FIXTURE("race.jsonl"), FIXTURE("misuse.jsonl"), FIXTURE("race.jsonl"),
                           NULL};
    json_t *s = sarif_of(files, FIXTURE_ROOT, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(s, "version")), "2.1.0");
    json_t *run = run0(s);
    cr_assert_str_eq(str_at(run, "tool.driver.name"), "mapguard");
    cr_assert_str_eq(str_at(run, "originalUriBaseIds.%SRCROOT%.uri"), "file:///work/main/");

    json_t *rules = json_object_get(json_object_get(json_object_get(run, "tool"), "driver"), "rules");
    cr_assert_geq(json_array_size(rules), 9);
    size_t i;
    json_t *rule;
    json_array_foreach(rules, i, rule) {
        cr_assert(str_at(rule, "id") && str_at(rule, "name"));
        cr_assert(str_at(rule, "shortDescription.text"));
        cr_assert(str_at(rule, "fullDescription.text"));
        cr_assert(str_at(rule, "help.text"), "rule %s has no help", str_at(rule, "id"));
        cr_assert_str_eq(str_at(rule, "defaultConfiguration.level"), "error");
    }

    json_t *results = json_object_get(run, "results");
    cr_assert_eq(json_array_size(results), 5, "one result per unique finding");
    json_t *res;
    json_array_foreach(results, i, res) {
        const char *id = str_at(res, "ruleId");
        size_t idx = (size_t)json_integer_value(json_object_get(res, "ruleIndex"));
        cr_assert_str_eq(str_at(json_array_get(rules, idx), "id"), id);
        cr_assert_str_eq(str_at(res, "level"), "error");
        cr_assert(json_object_size(json_object_get(res, "partialFingerprints")) > 0);
    }

    /* The race: locations[0] is reader() in the test program, relative. */
    json_t *race = json_array_get(results, 0);
    cr_assert_str_eq(str_at(race, "ruleId"), "concurrent-read-write");
    cr_assert_str_eq(str_at(race, "locations.0.physicalLocation.artifactLocation.uri"),
                     "tests/progs/cli_race.c");
    cr_assert_str_eq(str_at(race, "locations.0.physicalLocation.artifactLocation.uriBaseId"),
                     "%SRCROOT%");
    cr_assert_eq(json_integer_value(json_object_get(
                     json_object_get(json_object_get(json_array_get(json_object_get(race, "locations"), 0),
                                                     "physicalLocation"),
                                     "region"),
                     "startLine")),
                 40);
    /* Two threads: the access and the conflicting write, outermost first. */
    json_t *tfs = json_object_get(json_array_get(json_object_get(race, "codeFlows"), 0), "threadFlows");
    cr_assert_eq(json_array_size(tfs), 2);
    cr_assert_str_eq(str_at(tfs, "0.id"), "access");
    cr_assert_str_eq(str_at(tfs, "1.id"), "conflict");
    json_t *acc_locs = json_object_get(json_array_get(tfs, 0), "locations");
    cr_assert_eq(json_array_size(acc_locs), 3);
    cr_assert_str_eq(str_at(acc_locs, "2.location.logicalLocations.0.name"), "reader");
    cr_assert_str_eq(str_at(acc_locs, "0.location.logicalLocations.0.name"), "__clone3");

    /* Modified during iteration: access, modification, iterator creation. */
    json_t *mdi = json_array_get(results, 1);
    cr_assert_str_eq(str_at(mdi, "ruleId"), "modified-during-iteration");
    tfs = json_object_get(json_array_get(json_object_get(mdi, "codeFlows"), 0), "threadFlows");
    cr_assert_eq(json_array_size(tfs), 3);
    cr_assert_str_eq(str_at(tfs, "1.id"), "modification");
    cr_assert_str_eq(str_at(tfs, "2.id"), "iterator");
    json_decref(s);
}

Test(sarif, primary_location_skips_frames_outside_the_root)
{
    /* stack[0] in a system header (an inlined helper), stack[1] in the
     * user's file: the alert belongs on the user's line. */
    json_t *recs = load_jsonl(FIXTURE("race.jsonl"));
    json_t *rec = json_array_get(recs, 0);
    json_t *stack = json_object_get(json_object_get(rec, "access"), "stack");
    json_array_insert_new(stack, 0,
                          json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:b}", "pc", "0x1", "module",
                                    "/work/main/build/tests/progs/cli_race", "offset", "0x1",
                                    "function", "helper", "file", "/usr/include/x86_64/helper.h",
                                    "line", 12, "inlined", 1));
    char *dir = test_tmpdir();
    char *f = path_join(dir, "sys.jsonl");
    FILE *fp = fopen(f, "w");
    json_dumpf(rec, fp, JSON_COMPACT);
    fputc('\n', fp);
    fclose(fp);
    const char *files[] = {f, NULL};
    json_t *s = sarif_of(files, FIXTURE_ROOT, NULL);
    json_t *res = json_array_get(json_object_get(run0(s), "results"), 0);
    cr_assert_str_eq(str_at(res, "locations.0.physicalLocation.artifactLocation.uri"),
                     "tests/progs/cli_race.c");
    cr_assert_str_eq(str_at(res, "locations.0.logicalLocations.0.name"), "reader");
    /* The header frame is still in the flow, with an absolute file URI. */
    json_t *locs = json_object_get(
        json_array_get(json_object_get(json_array_get(json_object_get(res, "codeFlows"), 0),
                                       "threadFlows"),
                       0),
        "locations");
    const char *last = str_at(locs, "3.location.physicalLocation.artifactLocation.uri");
    cr_assert_str_eq(last, "file:///usr/include/x86_64/helper.h");
    json_decref(s);
    json_decref(recs);
    rm_rf(dir);
    free(f);
    free(dir);
}

/* a result's primary location's line */
static long start_line(json_t *res)
{
    json_t *loc = json_array_get(json_object_get(res, "locations"), 0);
    json_t *region = json_object_get(json_object_get(loc, "physicalLocation"), "region");
    return (long)json_integer_value(json_object_get(region, "startLine"));
}

/* Two races in the same two functions, on two maps (the second at the
 * next line of each): the same kind and functions, so the same base
 * fingerprint; code scanning would take them for one alert. The one
 * further down the file gets ":2" (a CI user's probe had six results of
 * three programs under one fingerprint). */
Test(sarif, twin_findings_get_numbered_fingerprints)
{
    json_t *recs = load_jsonl(FIXTURE("race.jsonl"));
    json_t *first = json_array_get(recs, 0), *second = json_deep_copy(first);
    json_object_set_new(second, "map", json_string("0x55d0c0a0beef"));
    json_object_set_new(second, "id", json_integer(99));
    const char *parties[] = {"access", "conflict"};
    for (size_t p = 0; p < 2; p++) {
        json_t *f0 = json_array_get(json_object_get(json_object_get(second, parties[p]), "stack"), 0);
        json_object_set_new(f0, "line", json_integer(json_integer_value(json_object_get(f0, "line")) + 1));
        json_object_set_new(f0, "pc", json_string("0x55d0bfe0ffff"));
    }
    char *dir = test_tmpdir();
    char *f = path_join(dir, "twins.jsonl");
    FILE *fp = fopen(f, "w");
    json_dumpf(second, fp, JSON_COMPACT); /* the later one first: order is by location */
    fputc('\n', fp);
    json_dumpf(first, fp, JSON_COMPACT);
    fputc('\n', fp);
    fclose(fp);
    const char *files[] = {f, NULL};
    json_t *s = sarif_of(files, FIXTURE_ROOT, NULL);
    json_t *results = json_object_get(run0(s), "results");
    cr_assert_eq(json_array_size(results), 2);
    const char *fa = str_at(json_array_get(results, 0), "partialFingerprints.mapguardFindingHash/v1");
    const char *fb = str_at(json_array_get(results, 1), "partialFingerprints.mapguardFindingHash/v1");
    long la = start_line(json_array_get(results, 0)), lb = start_line(json_array_get(results, 1));
    const char *upper = la < lb ? fa : fb, *lower = la < lb ? fb : fa;
    cr_assert_null(strchr(upper, ':'), "the first keeps its fingerprint: %s", upper);
    size_t n = strlen(upper);
    cr_assert(strncmp(lower, upper, n) == 0 && strcmp(lower + n, ":2") == 0, "%s then %s", upper, lower);
    json_decref(second);
    json_decref(s);
    json_decref(recs);
    rm_rf(dir);
    free(f);
    free(dir);
}

/* Rewrites every address, pid, tid and line: what differs between two runs. */
static void perturb(json_t *j)
{
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) {
            if (!strcmp(k, "pc") || !strcmp(k, "map") || !strcmp(k, "offset"))
                json_object_set_new(j, k, json_string("0x7777"));
            else if (!strcmp(k, "pid") || !strcmp(k, "tid") || !strcmp(k, "line"))
                json_object_set_new(j, k, json_integer(json_integer_value(v) + 17));
            else
                perturb(v);
        }
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) perturb(v);
    }
}

Test(sarif, fingerprints_are_stable_across_runs)
{
    json_t *recs = load_jsonl(FIXTURE("misuse.jsonl"));
    json_array_extend(recs, load_jsonl(FIXTURE("race.jsonl")));
    perturb(recs);
    char *dir = test_tmpdir();
    char *f = path_join(dir, "rerun.jsonl");
    FILE *fp = fopen(f, "w");
    /* Race first this time, and with the second (reversed) record first:
     * the other thread detected it in this run. */
    size_t n = json_array_size(recs);
    json_dumpf(json_array_get(recs, n - 2), fp, JSON_COMPACT);
    fputc('\n', fp);
    for (size_t i = 0; i < n; i++) {
        if (i == n - 2)
            continue;
        json_dumpf(json_array_get(recs, i), fp, JSON_COMPACT);
        fputc('\n', fp);
    }
    fclose(fp);

    const char *a[] = {FIXTURE("race.jsonl"), FIXTURE("misuse.jsonl"), NULL};
    const char *b[] = {f, NULL};
    json_t *sa = sarif_of(a, FIXTURE_ROOT, NULL), *sb = sarif_of(b, FIXTURE_ROOT, NULL);
    json_t *ra = json_object_get(run0(sa), "results"), *rb = json_object_get(run0(sb), "results");
    cr_assert_eq(json_array_size(ra), json_array_size(rb));
    size_t i;
    json_t *x;
    json_array_foreach(ra, i, x) {
        const char *id = str_at(x, "ruleId");
        json_t *match = NULL, *y;
        size_t j;
        json_array_foreach(rb, j, y) if (!strcmp(str_at(y, "ruleId"), id)) match = y;
        cr_assert(match, "no %s in the second run", id);
        cr_assert(json_equal(json_object_get(x, "partialFingerprints"),
                             json_object_get(match, "partialFingerprints")),
                  "%s: fingerprint changed between runs", id);
    }
    /* Different findings get different fingerprints. */
    for (size_t p = 0; p < json_array_size(ra); p++)
        for (size_t q = p + 1; q < json_array_size(ra); q++)
            cr_assert_not(json_equal(json_object_get(json_array_get(ra, p), "partialFingerprints"),
                                     json_object_get(json_array_get(ra, q), "partialFingerprints")));
    json_decref(sa);
    json_decref(sb);
    json_decref(recs);
    rm_rf(dir);
    free(f);
    free(dir);
}

Test(sarif, multitool_validates_it, .timeout = 300)
{
    char *path = NULL;
    const char *files[] = {FIXTURE("race.jsonl"), FIXTURE("misuse.jsonl"), NULL};
    json_t *s = sarif_of(files, FIXTURE_ROOT, &path);
    json_decref(s);
    assert_sarif_valid(path);
    *strrchr(path, '/') = '\0';
    rm_rf(path);
    free(path);
}
