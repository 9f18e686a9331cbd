/*
 * One text renderer (shim/finding_text.c): the same race reads the same,
 * line for line, whether the detector writes it (format=text), `mapguard
 * run` prints it, or `mapguard report` renders it from the JSON record --
 * once the numbers that differ between runs (pids, thread ids, addresses)
 * are normalized. The same holds for the record the detector writes by
 * hand when its symbolizer cannot be loaded. Every output ends with a
 * newline.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_helpers.h"

/* Digits after "pid ", "thread " (or "Thread ") and "map 0x" (and the hex digits of the
 * latter) become "N": they differ between two runs of the same program. */
static char *normalize(const char *s)
{
    static const char *const marks[] = {"pid ", "thread ", "map 0x"};
    char *out = malloc(strlen(s) + 1), *o = out;
    while (*s) {
        size_t m = 0;
        for (size_t i = 0; i < sizeof marks / sizeof *marks && !m; i++)
            if (strncasecmp(s, marks[i], strlen(marks[i])) == 0 && isxdigit((unsigned char)s[strlen(marks[i])]))
                m = strlen(marks[i]);
        if (!m) {
            *o++ = *s++;
            continue;
        }
        memcpy(o, s, m);
        o += m;
        s += m;
        bool hex = s[-1] == 'x';
        while (hex ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s))
            s++;
        *o++ = 'N';
    }
    *o = 0;
    return out;
}

/* The one finding block in text: from its banner and WARNING line to the
 * closing banner, inclusive. */
static char *finding_block(const char *text, const char *what)
{
    const char *a = strstr(text, "==================\nWARNING: mapguard:");
    cr_assert(a, "%s: no finding block in:\n%s", what, text);
    cr_assert_null(strstr(a + 1, "==================\nWARNING: mapguard:"), "%s: more than one finding:\n%s", what,
                   text);
    const char *b = strstr(a + 19, "\n==================\n");
    cr_assert(b, "%s: the block is not closed:\n%s", what, text);
    size_t n = (size_t)(b - a) + 20;
    char *blk = malloc(n + 1);
    memcpy(blk, a, n);
    blk[n] = 0;
    char *norm = normalize(blk);
    free(blk);
    return norm;
}

static bool ends_in_newline(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && s[n - 1] == '\n';
}

/* The race of tests/progs/cli_race three ways, with the detector at shim;
 * returns the detector's own block (normalized) after asserting the other
 * two equal it. */
static char *same_three_ways(const char *shim)
{
    char env_shim[512], env_preload[512];
    snprintf(env_shim, sizeof env_shim, "MAPGUARD_SHIM=%s", shim);
    snprintf(env_preload, sizeof env_preload, "LD_PRELOAD=%s", shim);

    /* the detector alone, format=text on stderr */
    const char *prog[] = {PROG("cli_race"), NULL};
    const char *env_text[] = {env_preload, "MAPGUARD_OPTIONS=format=text", NULL};
    cmd_result d = run_cmd(prog, env_text);
    cr_assert_eq(d.status, 66, "detector alone: status %d\n%s", d.status, d.err);
    cr_assert(ends_in_newline(d.err), "the detector's text must end with a newline:\n%s", d.err);

    /* mapguard run: its text on stderr, the JSON records in a file */
    char *dir = test_tmpdir();
    char *json = path_join(dir, "run.jsonl");
    const char *run_argv[] = {MAPGUARD, "run", "--json", json, "--", PROG("cli_race"), NULL};
    const char *env_run[] = {env_shim, NULL};
    cmd_result r = run_cmd(run_argv, env_run);
    cr_assert_eq(r.status, 66, "mapguard run: status %d\n%s", r.status, r.err);
    cr_assert(ends_in_newline(r.err), "mapguard run's text must end with a newline:\n%s", r.err);

    /* mapguard report on that JSON */
    const char *rep_argv[] = {MAPGUARD, "report", json, NULL};
    cmd_result p = run_cmd(rep_argv, NULL);
    cr_assert_eq(p.status, 66, "mapguard report: status %d\n%s", p.status, p.err);
    cr_assert(ends_in_newline(p.out), "mapguard report's output must end with a newline:\n%s", p.out);

    char *bd = finding_block(d.err, "detector"), *br = finding_block(r.err, "mapguard run"),
         *bp = finding_block(p.out, "mapguard report");
    cr_assert_str_eq(bd, bp, "the detector's text and mapguard report's differ:\n%s\n---\n%s", bd, bp);
    cr_assert_str_eq(br, bp, "mapguard run's text and mapguard report's differ:\n%s\n---\n%s", br, bp);
    /* the lines report adds come after the findings */
    cr_assert(strstr(p.out, "\nSUMMARY: mapguard: 1 finding (1 concurrent-read-write)"), "%s", p.out);

    free(br);
    free(bp);
    cmd_result_free(&d);
    cmd_result_free(&r);
    cmd_result_free(&p);
    rm_rf(dir);
    free(json);
    free(dir);
    return bd;
}

Test(text_same, the_detector_run_and_report_print_one_block, .timeout = 120)
{
    require_shim();
    char *b = same_three_ways(SHIM_PATH);
    /* the block is the rich one: op and thread names, file:line:column,
     * the writer's creation, the map's creation and the fix */
    cr_assert(strstr(b, "WARNING: mapguard: concurrent map read and map write (concurrent-read-write) on map 0xN (pid N)\n"),
              "%s", b);
    cr_assert(strstr(b, "\n  Read (gomap_get) by main thread N \"cli_race\":\n    #0 cli_reader_step "), "%s", b);
    cr_assert(strstr(b, "cli_race.h:64:"), "%s", b);
    cr_assert(strstr(b, "\n  Concurrent write (gomap_set) by thread N \"writer\":\n    #0 cli_writer "), "%s", b);
    cr_assert(strstr(b, "\n  Thread N \"writer\" created at:\n"), "%s", b);
    cr_assert(strstr(b, "\n  Map created by main thread N \"cli_race\" at:\n"), "%s", b);
    cr_assert(strstr(b, "\n  Fix: guard every call on this map with one lock"), "%s", b);
    free(b);
}

/* libmapguard.so alone in a directory: the records are written by hand
 * (module+offset frames), and the text by hand has the same layout. */
Test(text_same, the_block_by_hand_is_the_same_too, .timeout = 120)
{
    require_shim();
    char *dir = test_tmpdir();
    char *shim = path_join(dir, "libmapguard.so"), cmd[1200];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", SHIM_PATH, shim);
    cr_assert_eq(system(cmd), 0);
    char *b = same_three_ways(shim);
    cr_assert(strstr(b, "\n  Read (gomap_get) by main thread N \"cli_race\":\n    #0 <unknown> (cli_race+0x"), "%s",
              b);
    cr_assert(strstr(b, "\n  Concurrent write (gomap_set) by thread N \"writer\":\n    #0 <unknown> (cli_race+0x"),
              "%s", b);
    cr_assert(strstr(b, "\n  Fix: guard every call on this map with one lock"), "%s", b);
    free(b);
    rm_rf(dir);
    free(shim);
    free(dir);
}
