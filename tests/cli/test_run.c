/*
 * `mapguard run` end to end: the built command, the real detector
 * (build/lib/libmapguard.so) and the tests/progs/cli_* programs.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#include "cli_helpers.h"


static bool ends_with(const char *s, const char *suffix)
{
    size_t a = s ? strlen(s) : 0, b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

Test(run, racy_program_is_reported, .timeout = 300)
{
    require_shim();
    char *dir = test_tmpdir();
    char *json = path_join(dir, "r.jsonl"), *sarif = path_join(dir, "r.sarif");
    const char *argv[] = {MAPGUARD, "run", "--json", json, "--sarif", sarif, "--source-root",
                          SRC_DIR, "--", PROG("cli_race"), NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "a race must exit 66, got %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "WARNING: mapguard: concurrent map read and map write"), "%s", r.err);
    cr_assert(strstr(r.err, "SUMMARY: mapguard: 1 finding (1 concurrent-read-write)"), "%s",
              r.err);
    /* the 66 is the detector's, and the summary says so */
    cr_assert(strstr(r.err, "exited with status 66 (the status --exitcode gives a process with findings)"), "%s",
              r.err);

    /* The JSON: the race, with the reading call in cli_reader_step. */
    json_t *recs = load_jsonl(json);
    json_t *race = first_of_kind(recs, "concurrent-read-write");
    cr_assert(race, "no concurrent-read-write record in %s", json);
    json_t *access = json_object_get(race, "access");
    json_t *conflict = json_object_get(race, "conflict");
    cr_assert(access && conflict);
    json_t *read_side = strcmp(json_string_value(json_object_get(access, "op")), "get") == 0
                            ? access
                            : conflict;
    json_t *f0 = json_array_get(json_object_get(read_side, "stack"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(f0, "function")), "cli_reader_step");
    cr_assert(ends_with(json_string_value(json_object_get(f0, "file")), "tests/progs/cli_race.h"));

    /* The text report names every kind and frame the JSON has. */
    assert_text_covers(r.err, recs);

    /* The SARIF points at the test program's source, relative to the root. */
    json_t *s = load_json(sarif);
    json_t *res = json_array_get(
        json_object_get(json_array_get(json_object_get(s, "runs"), 0), "results"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(res, "ruleId")), "concurrent-read-write");
    json_t *art = json_object_get(
        json_object_get(json_array_get(json_object_get(res, "locations"), 0), "physicalLocation"),
        "artifactLocation");
    cr_assert_str_eq(json_string_value(json_object_get(art, "uri")), "tests/progs/cli_race.h");
    json_decref(s);
    assert_sarif_valid(sarif);

    json_decref(recs);
    cmd_result_free(&r);
    rm_rf(dir);
    free(json);
    free(sarif);
    free(dir);
}

Test(run, clean_program_keeps_its_status, .timeout = 60)
{
    require_shim();
    const char *argv[] = {MAPGUARD, "run", "--", PROG("cli_clean"), NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 3, "want the program's own 3, got %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "SUMMARY: mapguard: no findings"), "%s", r.err);
    cr_assert(strstr(r.err, "exited with status 3"), "%s", r.err);
    cmd_result_free(&r);

    const char *argv0[] = {MAPGUARD, "run", "-q", "--", PROG("cli_clean"), "0", NULL};
    r = run_cmd(argv0, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_str_empty(r.err, "-q and nothing found: silence, got:\n%s", r.err);
    cmd_result_free(&r);
}

/* `mapguard run ... | head`: the reader of the command's output goes away.
 * The command must still write --json and --sarif and exit with the
 * findings' status, not die of SIGPIPE; the program it runs keeps the
 * default SIGPIPE. */
Test(run, a_closed_output_pipe_still_gets_the_files_and_the_status, .timeout = 120)
{
    require_shim();
    char *dir = test_tmpdir();
    char *json = path_join(dir, "r.jsonl"), *sarif = path_join(dir, "r.sarif");
    const char *argv[] = {MAPGUARD, "run", "--json", json, "--sarif", sarif, "--", PROG("cli_race"), NULL};
    int p[2];
    cr_assert_eq(pipe(p), 0);
    close(p[0]); /* nobody will read */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    pid_t pid;
    cr_assert_eq(posix_spawn(&pid, MAPGUARD, &fa, NULL, (char *const *)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st), "killed by signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    cr_assert_eq(WEXITSTATUS(st), 66);
    json_t *recs = load_jsonl(json);
    cr_assert(first_of_kind(recs, "concurrent-read-write"), "no race in %s", json);
    json_decref(recs);
    assert_sarif_valid(sarif);

    const char *argv2[] = {MAPGUARD, "run", "-q", "--", PROG("cli_clean"), "sigpipe", NULL};
    cmd_result r = run_cmd(argv2, NULL);
    cr_assert_eq(r.status, 0, "the program's SIGPIPE is not the default: %d\n%s", r.status, r.err);
    cmd_result_free(&r);
    rm_rf(dir);
    free(json);
    free(sarif);
    free(dir);
}

/* A program that rewrites MAPGUARD_OPTIONS (another log_path and format)
 * before exec'ing: the new image still reports to the command, which
 * counts the finding; nothing lands at the program's log_path. */
Test(run, a_program_that_rewrites_the_options_still_reports_to_the_command, .timeout = 60)
{
    require_shim();
    char *dir = test_tmpdir();
    char *json = path_join(dir, "r.jsonl");
    const char *argv[] = {MAPGUARD, "run", "--json", json, "--", PROG("cli_options_rewrite"), dir, NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "status %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "MAPGUARD_RUN_LOG"), "the program is told its log_path is ignored:\n%s", r.err);
    json_t *recs = load_jsonl(json);
    json_t *f = first_of_kind(recs, "nil-map-write");
    cr_assert(f, "no nil-map-write in %s\n%s", json, r.err);
    json_t *f0 = json_array_get(json_object_get(json_object_get(f, "access"), "stack"), 0);
    cr_assert(ends_with(json_string_value(json_object_get(f0, "file")), "tests/progs/cli_options_rewrite.c"));
    DIR *d = opendir(dir);
    cr_assert(d);
    for (struct dirent *e; (e = readdir(d));)
        cr_assert(strncmp(e->d_name, "elsewhere", 9) != 0, "a report went to the program's log_path: %s", e->d_name);
    closedir(d);
    json_decref(recs);
    cmd_result_free(&r);
    rm_rf(dir);
    free(json);
    free(dir);
}

/* A program that clears MAPGUARD_OPTIONS, or sets options other than
 * log_path and format, hears nothing about MAPGUARD_RUN_LOG: the line is
 * for one whose own log_path or format is overridden. And the command's
 * check that the detector loads leaves no file at a MAPGUARD_RUN_LOG the
 * caller's environment happens to hold. */
Test(run, the_run_log_is_silent_unless_it_overrides_something, .timeout = 60)
{
    require_shim();
    char *dir = test_tmpdir();
    char cmd[512], stale[600];
    snprintf(cmd, sizeof cmd, "unset MAPGUARD_OPTIONS; %s 0 && MAPGUARD_OPTIONS=halt_on_error=1 %s 0",
             PROG("cli_clean"), PROG("cli_clean"));
    snprintf(stale, sizeof stale, "MAPGUARD_RUN_LOG=%s/stale", dir);
    const char *argv[] = {MAPGUARD, "run", "-q", "--", "/bin/sh", "-c", cmd, NULL};
    const char *env[] = {stale, NULL};
    cmd_result r = run_cmd(argv, env);
    cr_assert_eq(r.status, 0, "status %d\n%s", r.status, r.err);
    cr_assert_str_empty(r.err, "a clean run says nothing:\n%s", r.err);
    DIR *d = opendir(dir);
    cr_assert(d);
    for (struct dirent *e; (e = readdir(d));)
        cr_assert(e->d_name[0] == '.', "a file at the caller's MAPGUARD_RUN_LOG: %s", e->d_name);
    closedir(d);
    cmd_result_free(&r);
    rm_rf(dir);
    free(dir);
}

Test(run, program_killed_by_signal_is_128_plus_sig, .timeout = 60)
{
    require_shim();
    const char *argv[] = {MAPGUARD, "run", "--", PROG("cli_clean"), "abort", NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 128 + SIGABRT, "got %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "killed by signal 6 (SIGABRT"), "%s", r.err);
    cmd_result_free(&r);
}

Test(run, static_binary_is_refused, .timeout = 120)
{
    require_shim();
    char *dir = test_tmpdir();
    char *bin = path_join(dir, "cli_static");
    const char *cc = getenv("CC") && *getenv("CC") ? getenv("CC") : "cc";
    const char *ccv[] = {cc, "-static", "-o", bin, SRC_DIR "/tests/progs/cli_static.c", NULL};
    cmd_result c = run_cmd(ccv, NULL);
    cr_assert_eq(c.status, 0, "cannot link a static test program (is libc6-dev installed?):\n%s",
                 c.err);
    cmd_result_free(&c);

    const char *argv[] = {MAPGUARD, "run", "--", bin, NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 2, "a static program must be refused with 2, got %d\n%s", r.status,
                 r.err);
    cr_assert(strstr(r.err, "statically linked"), "%s", r.err);
    cr_assert_null(strstr(r.out, "static program ran"), "it must not run unwatched");
    cmd_result_free(&r);

    rm_rf(dir);
    free(bin);
    free(dir);
}

/* Links tests/progs/cli_static.c statically into dir. */
static char *static_program(const char *dir)
{
    char *bin = path_join(dir, "cli_static");
    const char *cc = getenv("CC") && *getenv("CC") ? getenv("CC") : "cc";
    const char *ccv[] = {cc, "-static", "-o", bin, SRC_DIR "/tests/progs/cli_static.c", NULL};
    cmd_result c = run_cmd(ccv, NULL);
    cr_assert_eq(c.status, 0, "cannot link a static test program:\n%s", c.err);
    cmd_result_free(&c);
    return bin;
}

Test(run, exec_of_static_binary_is_refused, .timeout = 120)
{
    require_shim();
    /* Through a shell that execs it: the shell is watched, the static
     * program it becomes is not, and that must not pass as clean either.
     * The detector's "exec" record, with no record after it, shows it. */
    char *dir = test_tmpdir();
    char *bin = static_program(dir);
    char script[4096];
    snprintf(script, sizeof script, "exec %s", bin);
    const char *argv2[] = {MAPGUARD, "run", "--", "sh", "-c", script, NULL};
    cmd_result r = run_cmd(argv2, NULL);
    cr_assert_eq(r.status, 2, "exec of a static program must give 2, got %d\n%s", r.status,
                 r.err);
    cr_assert(strstr(r.err, "which the detector could not load into"), "%s", r.err);
    cmd_result_free(&r);
    rm_rf(dir);
    free(bin);
    free(dir);
}

Test(run, exec_without_ld_preload_is_refused, .timeout = 60)
{
    require_shim();
    /* env is watched; the program it execs with LD_PRELOAD removed is not. */
    const char *argv[] = {MAPGUARD, "run", "--", "env", "-u", "LD_PRELOAD", PROG("cli_clean"), "0", NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 2, "an unwatched exec must give 2, got %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "exec'd " PROG("cli_clean") ", which the detector could not load into"),
              "%s", r.err);
    cmd_result_free(&r);
}

Test(run, spawned_static_child_is_named, .timeout = 120)
{
    require_shim();
    char *dir = test_tmpdir();
    char *bin = static_program(dir);
    /* The program is watched and clean; the child it posix_spawns is not
     * watched, which a descendant's warning says. */
    const char *argv[] = {MAPGUARD, "run", "--", PROG("cli_spawn"), bin, NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 0, "the program's own status, got %d\n%s", r.status, r.err);
    cr_assert(strstr(r.out, "static program ran"), "%s", r.out);
    cr_assert(strstr(r.err, "warning: process ") && strstr(r.err, "started ") &&
                  strstr(r.err, "cli_static (pid ") && strstr(r.err, "which the detector could not load into"),
              "%s", r.err);
    cmd_result_free(&r);
    rm_rf(dir);
    free(bin);
    free(dir);
}

Test(run, race_in_spawned_child_is_reported, .timeout = 60)
{
    require_shim();
    const char *argv[] = {MAPGUARD, "run", "--", PROG("cli_spawn"), PROG("cli_race"), NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "got %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "concurrent-read-write"), "%s", r.err);
    cr_assert_null(strstr(r.err, "could not load"), "%s", r.err);
    cmd_result_free(&r);
}

Test(run, setuid_binary_is_refused, .timeout = 60)
{
    require_shim();
    if (geteuid() != 0)
        cr_skip_test("needs root to make a program setuid to another user");
    char *dir = test_tmpdir();
    struct statvfs vfs;
    if (statvfs(dir, &vfs) == 0 && (vfs.f_flag & ST_NOSUID)) {
        rm_rf(dir);
        cr_skip_test("/tmp is mounted nosuid: the kernel ignores set-id bits there");
    }
    chmod(dir, 0755);
    char *bin = path_join(dir, "cli_clean");
    const char *cp[] = {"cp", PROG("cli_clean"), bin, NULL};
    cmd_result c = run_cmd(cp, NULL);
    cr_assert_eq(c.status, 0);
    cmd_result_free(&c);
    cr_assert_eq(chown(bin, 65534, 65534), 0, "chown: %s", strerror(errno));
    cr_assert_eq(chmod(bin, 04755), 0);

    const char *argv[] = {MAPGUARD, "run", "--", bin, NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 2, "a setuid program must be refused with 2, got %d\n%s", r.status,
                 r.err);
    cr_assert(strstr(r.err, "setuid"), "%s", r.err);
    cmd_result_free(&r);
    rm_rf(dir);
    free(bin);
    free(dir);
}

Test(run, race_in_forked_child_is_reported, .timeout = 60)
{
    require_shim();
    char *dir = test_tmpdir();
    char *json = path_join(dir, "r.jsonl");
    const char *argv[] = {MAPGUARD, "run", "--json", json, "--", PROG("cli_fork_race"), NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "the child's race must fail the run, got %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "concurrent-read-write"), "%s", r.err);
    json_t *recs = load_jsonl(json);
    cr_assert(first_of_kind(recs, "concurrent-read-write"));
    assert_text_covers(r.err, recs);
    json_decref(recs);
    cmd_result_free(&r);
    rm_rf(dir);
    free(json);
    free(dir);
}

Test(run, race_in_execd_child_is_reported, .timeout = 60)
{
    require_shim();
    /* sh forks and execs the racy program; LD_PRELOAD must follow it. */
    const char *argv[] = {MAPGUARD, "run", "--", "sh", "-c", PROG("cli_race") "; exit 0", NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "got %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "concurrent-read-write"), "%s", r.err);
    cmd_result_free(&r);
}

Test(run, timeout_kills_the_tree_and_reports, .timeout = 120)
{
    require_shim();
    /* The race itself takes about a second (the detector waits up to
     * conflict_wait_ms for the parked writer's stack), so 4 seconds. */
    const char *argv[] = {MAPGUARD, "run", "--timeout", "4", "--", PROG("cli_hang"), "race", NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "findings before the timeout give 66, got %d\n%s", r.status, r.err);
    cr_assert_lt(r.seconds, 20.0, "took %.1fs", r.seconds);
    cr_assert(strstr(r.err, "did not finish within 4 seconds"), "%s", r.err);
    cr_assert(strstr(r.err, "concurrent-read-write"), "%s", r.err);
    /* The program's forked child was killed with it. */
    long child = strtol(r.out, NULL, 10);
    cr_assert_gt(child, 0, "cli_hang printed no child pid: %s", r.out);
    cr_assert(kill((pid_t)child, 0) != 0 && errno == ESRCH, "child %ld survived the timeout",
              child);
    cmd_result_free(&r);

    /* SARIF, with no result, still tells that the program was cut short */
    char *dir = test_tmpdir();
    char *sarif = path_join(dir, "out.sarif");
    const char *argv2[] = {MAPGUARD, "run", "--timeout", "0.5", "--sarif", sarif, "--", PROG("cli_hang"), NULL};
    r = run_cmd(argv2, NULL);
    cr_assert_eq(r.status, 124, "a timeout with nothing found gives 124, got %d\n%s", r.status,
                 r.err);
    cr_assert(strstr(r.err, "SUMMARY: mapguard: no findings"), "%s", r.err);
    json_t *doc = load_json(sarif);
    json_t *run = json_array_get(json_object_get(doc, "runs"), 0);
    cr_assert_eq(json_array_size(json_object_get(run, "results")), 0);
    json_t *n = json_array_get(sarif_notifications(doc), 0);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(n, "descriptor"), "id")), "run-cut");
    cr_assert(strstr(json_string_value(json_object_get(json_object_get(n, "message"), "text")),
                     "was killed when --timeout expired; the results are what it found until then"),
              "%s", json_dumps(n, 0));
    json_decref(doc);
    assert_sarif_valid(sarif);
    cmd_result_free(&r);
    rm_rf(dir);
    free(sarif);
    free(dir);
}

Test(run, options_reach_the_detector, .timeout = 60)
{
    require_shim();
    char *dir = test_tmpdir();
    char *supp = path_join(dir, "supp.txt"), *json = path_join(dir, "r.jsonl");

    /* --suppressions: the race suppressed, the program's own 0 comes back. */
    FILE *fp = fopen(supp, "w");
    fputs("concurrent-read-write:cli_reader_step\n", fp);
    fclose(fp);
    const char *argv[] = {MAPGUARD, "run", "--suppressions", supp, "--", PROG("cli_race"), NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 0, "suppressed race: want 0, got %d\n%s", r.status, r.err);
    /* and the summary line says that something was suppressed */
    cr_assert(strstr(r.err, "SUMMARY: mapguard: no findings, 1 suppressed in 1 process"), "%s", r.err);
    cmd_result_free(&r);

    /* --options: stack_depth=2 caps every stack at 2 frames. */
    const char *argv2[] = {MAPGUARD, "run", "--options", "stack_depth=2", "--json", json, "--",
                           PROG("cli_race"), NULL};
    r = run_cmd(argv2, NULL);
    cr_assert_eq(r.status, 66, "%s", r.err);
    json_t *recs = load_jsonl(json);
    json_t *race = first_of_kind(recs, "concurrent-read-write");
    cr_assert(race);
    cr_assert_leq(json_array_size(json_object_get(json_object_get(race, "access"), "stack")), 2);
    json_decref(recs);
    cmd_result_free(&r);

    /* --detect-leaks: only with it is the leak a finding. */
    const char *argv3[] = {MAPGUARD, "run", "--", PROG("cli_leak"), NULL};
    r = run_cmd(argv3, NULL);
    cr_assert_eq(r.status, 0, "no leak check by default, got %d\n%s", r.status, r.err);
    cmd_result_free(&r);
    const char *argv4[] = {MAPGUARD, "run", "--detect-leaks", "--", PROG("cli_leak"), NULL};
    r = run_cmd(argv4, NULL);
    cr_assert_eq(r.status, 66, "got %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "leaked-map"), "%s", r.err);
    cr_assert(strstr(r.err, "reset"), "the leak's creation stack names reset():\n%s", r.err);
    cmd_result_free(&r);

    /* --halt-on-error: still a finding, still 66. */
    const char *argv5[] = {MAPGUARD, "run", "--halt-on-error", "--exitcode", "42", "--",
                           PROG("cli_race"), NULL};
    r = run_cmd(argv5, NULL);
    cr_assert_eq(r.status, 42, "got %d\n%s", r.status, r.err);
    cmd_result_free(&r);

    rm_rf(dir);
    free(supp);
    free(json);
    free(dir);
}

Test(run, sigterm_is_forwarded_to_the_program, .timeout = 60)
{
    /* A CI runner cancelling the job signals mapguard; the program and its
     * children must get it too, and the status must say what happened. */
    require_shim();
    char *dir = test_tmpdir();
    char *out = path_join(dir, "out"), *err = path_join(dir, "err");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char *argv[] = {MAPGUARD, "run", "--", PROG("cli_hang"), NULL};
    pid_t pid;
    cr_assert_eq(posix_spawn(&pid, MAPGUARD, &fa, NULL, argv, environ), 0);
    /* cli_hang prints its child's pid once it is running. */
    long child = 0;
    for (int i = 0; i < 1000 && child <= 0; i++) {
        char *text = slurp(out);
        if (text)
            child = strtol(text, NULL, 10);
        free(text);
        if (child <= 0)
            usleep(10000);
    }
    cr_assert_gt(child, 0, "cli_hang never started");
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    char *e = slurp(err);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGTERM, "want 143, wait status 0x%x\n%s",
              st, e);
    cr_assert(strstr(e, "forwarded signal 15 (SIGTERM)"), "%s", e);
    cr_assert(kill((pid_t)child, 0) != 0 && errno == ESRCH, "the program's child survived");
    posix_spawn_file_actions_destroy(&fa);
    free(e);
    rm_rf(dir);
    free(out);
    free(err);
    free(dir);
}

Test(run, timeout_kills_a_child_that_called_setsid, .timeout = 60)
{
    /* setsid() takes the child out of the program's process group, which
     * is all that killing the group reached (issue 11). */
    require_shim();
    const char *argv[] = {MAPGUARD, "run", "--timeout", "2", "--", PROG("cli_hang"), "setsid",
                          NULL};
    cmd_result r = run_cmd(argv, NULL);
    long child = strtol(r.out, NULL, 10);
    cr_assert_gt(child, 0, "cli_hang printed no child pid: %s\n%s", r.out, r.err);
    bool gone = kill((pid_t)child, 0) != 0 && errno == ESRCH;
    if (!gone)
        kill((pid_t)child, SIGKILL); /* do not leave it behind ourselves */
    cr_assert(gone, "the child that called setsid() survived --timeout (pid %ld)\n%s", child,
              r.err);
    cr_assert_eq(r.status, 124, "got %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "did not finish within 2 seconds"), "%s", r.err);
    cr_assert_null(strstr(r.err, "still running"), "%s", r.err);
    cr_assert_lt(r.seconds, 10.0, "took %.1fs", r.seconds);
    cmd_result_free(&r);
}

/* A daemon the program leaves behind races after the program exited (and
 * after the 2 seconds mapguard waits without --timeout), then sleeps for
 * good: with --timeout it is waited for until then, its race reported,
 * and it is killed at the deadline (a CI user's probe lost such a race,
 * and found the daemon still running after the run). The status is the
 * detector's exitcode for the race, not 124: the program itself ended. */
Test(run, timeout_waits_for_a_daemon_and_kills_it_at_the_deadline, .timeout = 60)
{
    require_shim();
    const char *argv[] = {MAPGUARD, "run", "--timeout", "6", "--", PROG("cli_hang"), "daemon", NULL};
    cmd_result r = run_cmd(argv, NULL);
    long child = strtol(r.out, NULL, 10);
    cr_assert_gt(child, 0, "cli_hang printed no child pid: %s\n%s", r.out, r.err);
    bool gone = kill((pid_t)child, 0) != 0 && errno == ESRCH;
    if (!gone)
        kill((pid_t)child, SIGKILL);
    cr_assert(gone, "the daemon survived --timeout (pid %ld)\n%s", child, r.err);
    cr_assert_eq(r.status, 66, "got %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "SUMMARY: mapguard: 1 finding"), "%s", r.err);
    cr_assert(strstr(r.err, "were still running when --timeout expired; killed them"), "%s", r.err);
    cr_assert_lt(r.seconds, 15.0, "took %.1fs", r.seconds);
    cmd_result_free(&r);
}

/* A run inside a run (a test suite under the gate that runs `mapguard run`
 * itself): the inner run reports as usual, and hands its records on to
 * the outer one, which counts the finding and the processes the inner run
 * watched. Neither warns of options it manages itself, nor of an exec the
 * detector did not load into. */
Test(run, a_run_inside_a_run_reports_to_both, .timeout = 120)
{
#ifdef MG_CLI_SANITIZED
    /* the inner command is then an ASan program with the shim preloaded
     * before ASan's runtime, which ASan refuses */
    cr_skip_test("the mapguard command is built with a sanitizer");
#endif
    require_shim();
    char *dir = test_tmpdir();
    char *json = path_join(dir, "outer.jsonl");
    const char *argv[] = {MAPGUARD, "run", "--json", json, "--", MAPGUARD, "run", "--", PROG("cli_race"), NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "got %d\n%s", r.status, r.err);
    const char *inner = strstr(r.err, "SUMMARY: mapguard: 1 finding (1 concurrent-read-write) in 1 process");
    cr_assert(inner, "the inner run's summary:\n%s", r.err);
    cr_assert(strstr(inner + 1, "SUMMARY: mapguard: 1 finding (1 concurrent-read-write) in 2 processes"),
              "the outer run's summary counts the inner run's finding:\n%s", r.err);
    cr_assert_null(strstr(r.err, "managed by mapguard run"), "%s", r.err);
    cr_assert_null(strstr(r.err, "could not load into"), "%s", r.err);
    json_t *recs = load_jsonl(json);
    cr_assert(first_of_kind(recs, "concurrent-read-write"), "the outer --json has the finding");
    json_decref(recs);

    /* clean inside: the program's own status through both */
    const char *clean[] = {MAPGUARD, "run", "--", MAPGUARD, "run", "--", PROG("cli_clean"), NULL};
    cmd_result c = run_cmd(clean, NULL);
    cr_assert_eq(c.status, 3, "cli_clean exits 3 through both runs, got %d\n%s", c.status, c.err);
    cr_assert(strstr(c.err, "SUMMARY: mapguard: no findings in 2 processes"), "%s", c.err);
    cr_assert_null(strstr(c.err, "warning"), "%s", c.err);
    cmd_result_free(&c);
    cmd_result_free(&r);
    rm_rf(dir);
    free(json);
    free(dir);
}
