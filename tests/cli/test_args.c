/*
 * The command line: every way mapguard itself cannot work exits 2 with a
 * message that says why, so a CI script with a typo never passes as clean.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_helpers.h"

static void expect_2(const char *const argv[], const char *const env[], const char *msg)
{
    cmd_result r = run_cmd(argv, env);
    cr_assert_eq(r.status, 2, "%s: want exit 2, got %d\nstderr: %s", argv[1], r.status, r.err);
    cr_assert(strstr(r.err, msg), "stderr should say \"%s\":\n%s", msg, r.err);
    cmd_result_free(&r);
}

Test(args, help_exits_zero)
{
    const char *argv[] = {MAPGUARD, "--help", NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, "mapguard run [options] [--] PROGRAM"), "%s", r.out);
    cmd_result_free(&r);
}

Test(args, bad_options_exit_2)
{
    const char *a1[] = {MAPGUARD, NULL};
    expect_2(a1, NULL, "no command given");
    const char *a2[] = {MAPGUARD, "frobnicate", NULL};
    expect_2(a2, NULL, "unknown command 'frobnicate'");
    const char *a3[] = {MAPGUARD, "run", "--bogus", "--", "true", NULL};
    expect_2(a3, NULL, "unknown option '--bogus'");
    const char *a4[] = {MAPGUARD, "run", "--timeout", "soon", "--", "true", NULL};
    expect_2(a4, NULL, "--timeout 'soon'");
    const char *a5[] = {MAPGUARD, "run", "--exitcode", "256", "--", "true", NULL};
    expect_2(a5, NULL, "--exitcode '256': expected a number from 0 to 255");
    const char *a6[] = {MAPGUARD, "run", NULL};
    expect_2(a6, NULL, "no program given");
    const char *a7[] = {MAPGUARD, "run", "--json", NULL};
    expect_2(a7, NULL, "--json needs an argument");
    /* a forgotten file name: "--" would have been taken for it, and the
     * program run (a held-out probe) */
    const char *a10[] = {MAPGUARD, "run", "--json", "--", "true", NULL};
    expect_2(a10, NULL, "--json needs a file name, not '--'");
    const char *a11[] = {MAPGUARD, "report", "--sarif", "--", "x.jsonl", NULL};
    expect_2(a11, NULL, "--sarif needs a file name, not '--'");
    const char *a12[] = {MAPGUARD, "run", "--sarif", "", "--", "true", NULL};
    expect_2(a12, NULL, "--sarif needs a file name, not ''");
    /* '-' is not stdout: a run's stdout is the program's (a CI user's
     * probe got a file named '-') */
    const char *a13[] = {MAPGUARD, "run", "--json", "-", "--", "true", NULL};
    expect_2(a13, NULL, "--json needs a file name, not '-' (stdout is the program's)");
    const char *a14[] = {MAPGUARD, "report", "--sarif", "-", "x.jsonl", NULL};
    expect_2(a14, NULL, "--sarif needs a file name, not '-' (stdout is the text report's)");
    const char *a9[] = {MAPGUARD, "report", "--source-root", "/nonexistent", "x.jsonl", NULL};
    expect_2(a9, NULL, "--source-root '/nonexistent': not a directory");
    const char *a8[] = {MAPGUARD, "report", "--timeout", "3", "x.jsonl", NULL};
    expect_2(a8, NULL, "--timeout is an option of 'mapguard run'");
}

Test(args, bad_shim_options_exit_2)
{
    const char *argv[] = {MAPGUARD, "run", "--options", "stack_depth", "--", "true", NULL};
    const char *env[] = {"MAPGUARD_SHIM=" SHIM_PATH, NULL};
    require_shim();
    expect_2(argv, env, "\"stack_depth\" is not key=value");
}

Test(args, missing_shim_exit_2)
{
    const char *argv[] = {MAPGUARD, "run", "--", "true", NULL};
    const char *env[] = {"MAPGUARD_SHIM=/nonexistent/libmapguard.so", NULL};
    expect_2(argv, env, "cannot find the detector libmapguard.so");
}

Test(args, command_not_found_exit_2)
{
    require_shim();
    const char *argv[] = {MAPGUARD, "run", "--", "mapguard-no-such-command", NULL};
    expect_2(argv, NULL, "mapguard-no-such-command: command not found");
    const char *argv2[] = {MAPGUARD, "run", "--", "/nonexistent/prog", NULL};
    expect_2(argv2, NULL, "/nonexistent/prog: No such file or directory");
}

Test(args, shim_that_cannot_load_exit_2)
{
    /* ld.so would only warn and run the program unwatched. */
    char *dir = test_tmpdir();
    char *fake = path_join(dir, "libmapguard.so");
    FILE *fp = fopen(fake, "w");
    fputs("not a shared library\n", fp);
    fclose(fp);
    char env0[4200];
    snprintf(env0, sizeof env0, "MAPGUARD_SHIM=%s", fake);
    const char *env[] = {env0, NULL};
    const char *argv[] = {MAPGUARD, "run", "--", "true", NULL};
    expect_2(argv, env, "the detector cannot be loaded");
    rm_rf(dir);
    free(fake);
    free(dir);
}

/* A program that leaves DIR/ran behind when it runs. */
static char *marker_script(const char *dir)
{
    char *ran = path_join(dir, "ran");
    size_t n = strlen(ran) + 16;
    char *s = malloc(n);
    cr_assert(s);
    snprintf(s, n, "touch %s", ran);
    free(ran);
    return s;
}

static bool exists(const char *dir, const char *name)
{
    char *p = path_join(dir, name);
    bool e = access(p, F_OK) == 0;
    free(p);
    return e;
}

/* --json and --sarif are checked before the program runs, not after a test
 * suite of an hour; the check leaves no file behind and an old one as it
 * was, so a run that never gets to write cannot pass as "no findings". */
Test(args, unwritable_outputs_exit_2_before_running, .timeout = 60)
{
    require_shim();
    char *dir = test_tmpdir();
    char *script = marker_script(dir);
    char *missing = path_join(dir, "no/such/dir/out");
    const char *flags[] = {"--json", "--sarif"};
    for (size_t i = 0; i < 2; i++) {
        const char *argv[] = {MAPGUARD, "run", flags[i], missing, "--", "/bin/sh", "-c", script, NULL};
        char msg[1024];
        snprintf(msg, sizeof msg, "mapguard: %s %s: cannot write it: No such file or directory", flags[i], missing);
        expect_2(argv, NULL, msg);
        cr_assert_not(exists(dir, "ran"), "%s: the program ran", flags[i]);
        const char *argv2[] = {MAPGUARD, "report", flags[i], missing, FIXTURE("crash.jsonl"), NULL};
        expect_2(argv2, NULL, msg);
    }

    /* Writable: nothing created by the check, nothing changed. */
    char *fresh = path_join(dir, "fresh.jsonl"), *old = path_join(dir, "old.sarif");
    FILE *fp = fopen(old, "w");
    fputs("old\n", fp);
    fclose(fp);
    const char *argv3[] = {MAPGUARD, "run", "--json", fresh, "--sarif", old, "--", "/nonexistent/prog", NULL};
    expect_2(argv3, NULL, "/nonexistent/prog: No such file or directory");
    cr_assert_not(exists(dir, "fresh.jsonl"), "the check left an empty --json file");
    char *text = slurp(old);
    cr_assert_str_eq(text, "old\n");
    free(text);

    free(fresh);
    free(old);
    free(missing);
    free(script);
    rm_rf(dir);
    free(dir);
}

/* --json and --sarif naming one file: one would overwrite the other. */
Test(args, json_and_sarif_to_one_file_exit_2_before_running, .timeout = 60)
{
    require_shim();
    char *dir = test_tmpdir();
    char *script = marker_script(dir);
    char *out = path_join(dir, "out");
    char msg[1024];
    snprintf(msg, sizeof msg, "mapguard: --json and --sarif both name %s: give each its own file", out);
    const char *argv[] = {MAPGUARD, "run", "--json", out, "--sarif", out, "--", "/bin/sh", "-c", script, NULL};
    expect_2(argv, NULL, msg);
    cr_assert_not(exists(dir, "ran"), "the program ran");
    const char *argv2[] = {MAPGUARD, "report", "--json", out, "--sarif", out, FIXTURE("crash.jsonl"), NULL};
    expect_2(argv2, NULL, msg);
    free(out);
    free(script);
    rm_rf(dir);
    free(dir);
}

/* A suppressions file that does not exist stops mapguard run before the
 * program, however it is named. */
Test(args, missing_suppressions_exit_2_before_running, .timeout = 60)
{
    require_shim();
    char *dir = test_tmpdir();
    char *script = marker_script(dir);
    char *none = path_join(dir, "none.supp");
    char opt[1024], env_opt[1024], msg[1024];
    snprintf(opt, sizeof opt, "suppressions=%s", none);
    snprintf(env_opt, sizeof env_opt, "MAPGUARD_OPTIONS=suppressions=%s", none);

    const char *a1[] = {MAPGUARD, "run", "--suppressions", none, "--", "/bin/sh", "-c", script, NULL};
    snprintf(msg, sizeof msg, "mapguard: --suppressions %s: cannot read it", none);
    expect_2(a1, NULL, msg);
    const char *a2[] = {MAPGUARD, "run", "--options", opt, "--", "/bin/sh", "-c", script, NULL};
    snprintf(msg, sizeof msg, "mapguard: --options: suppressions=%s: cannot read it", none);
    expect_2(a2, NULL, msg);
    const char *a3[] = {MAPGUARD, "run", "--", "/bin/sh", "-c", script, NULL};
    const char *env[] = {env_opt, NULL};
    snprintf(msg, sizeof msg, "mapguard: MAPGUARD_OPTIONS: suppressions=%s: cannot read it", none);
    expect_2(a3, env, msg);
    cr_assert_not(exists(dir, "ran"), "the program ran");

    free(none);
    free(script);
    rm_rf(dir);
    free(dir);
}

/* So does one the detector would refuse (and then apply none of, in every
 * process): a line that is not a rule, a kind that does not exist, a
 * directory; named with the shim's own reason. A good file runs. */
Test(args, a_malformed_suppressions_file_exits_2_before_running, .timeout = 60)
{
    require_shim();
    char *dir = test_tmpdir();
    char *script = marker_script(dir);
    char *bad = path_join(dir, "bad.supp");
    FILE *f = fopen(bad, "w");
    cr_assert(f);
    fputs("# ok so far\nrace:libvendor.so\nnil-map-wirte:legacy\n", f);
    fclose(f);
    char opt[1024], env_opt[1024], msg[1024];

    const char *a1[] = {MAPGUARD, "run", "--suppressions", bad, "--", "/bin/sh", "-c", script, NULL};
    snprintf(msg, sizeof msg,
             "mapguard: --suppressions: suppressions file '%s' line 3: unknown kind 'nil-map-wirte' (want a finding's "
             "kind, race or *)",
             bad);
    expect_2(a1, NULL, msg);
    snprintf(opt, sizeof opt, "suppressions=%s", dir);
    const char *a2[] = {MAPGUARD, "run", "--options", opt, "--", "/bin/sh", "-c", script, NULL};
    snprintf(msg, sizeof msg, "mapguard: --options: suppressions file '%s' is a directory, not a regular file", dir);
    expect_2(a2, NULL, msg);
    f = fopen(bad, "w");
    cr_assert(f);
    fputs("race libvendor.so\n", f);
    fclose(f);
    snprintf(env_opt, sizeof env_opt, "MAPGUARD_OPTIONS=suppressions=%s", bad);
    const char *a3[] = {MAPGUARD, "run", "--", "/bin/sh", "-c", script, NULL};
    const char *env[] = {env_opt, NULL};
    snprintf(msg, sizeof msg,
             "mapguard: MAPGUARD_OPTIONS: suppressions file '%s' line 1: want kind:pattern, got 'race libvendor.so'", bad);
    expect_2(a3, env, msg);
    cr_assert_not(exists(dir, "ran"), "the program ran");

    f = fopen(bad, "w");
    cr_assert(f);
    fputs("race:libvendor.so\n", f);
    fclose(f);
    cmd_result r = run_cmd(a1, NULL);
    cr_assert_eq(r.status, 0, "a good file: %s", r.err);
    cr_assert(exists(dir, "ran"), "the program did not run");
    cmd_result_free(&r);

    free(bad);
    free(script);
    rm_rf(dir);
    free(dir);
}
