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
