/*
 * One text renderer (shim/finding_text.c): the same finding reads the same,
 * line for line, whether the detector writes it (format=text), `mapguard
 * run` prints it, or `mapguard report` renders it from the JSON record --
 * once the numbers that differ between runs (pids, thread ids, the map's
 * address) are normalized. That holds for every kind, and for the records
 * the detector writes by hand when its symbolizer cannot be loaded, whose
 * frames (module+offset) `mapguard run` and `mapguard report` name offline
 * (cli/crash_symbols.c): there the layout is the same, frame for frame,
 * and the commands' frames have names. Every output ends with a newline.
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

/* The finding blocks in text, each from its banner and WARNING line to the
 * closing banner, in order, normalized; without the "  Reported N times"
 * lines, which only `mapguard report` can add (it merges records). */
static char *finding_blocks(const char *text, const char *what, size_t *count)
{
    size_t cap = strlen(text) + 1, n = 0;
    char *all = malloc(cap);
    all[0] = 0;
    *count = 0;
    for (const char *a = text; (a = strstr(a, "==================\nWARNING: mapguard:")) != NULL;) {
        const char *b = strstr(a + 19, "\n==================\n");
        cr_assert(b, "%s: a block is not closed:\n%s", what, text);
        for (const char *line = a; line < b + 20;) {
            const char *end = strchr(line, '\n') + 1;
            if (strncmp(line, "  Reported ", 11) != 0) {
                memcpy(all + n, line, (size_t)(end - line));
                n += (size_t)(end - line);
            }
            line = end;
        }
        all[n] = 0;
        (*count)++;
        a = b + 20;
    }
    cr_assert_gt(*count, 0, "%s: no finding block in:\n%s", what, text);
    char *norm = normalize(all);
    free(all);
    return norm;
}

/* Blocks with each frame line reduced to its module+offset, "    #
 * <unknown> (module+0x...)", and a frame repeated for inlined calls (the
 * same module+offset) kept once: a record written by hand, before and
 * after the command named its frames, then reads the same. */
static char *unnamed(const char *blocks)
{
    char *out = malloc(strlen(blocks) + 1), *o = out, prev[512] = "";
    for (const char *line = blocks; *line;) {
        const char *end = strchr(line, '\n');
        end = end ? end + 1 : line + strlen(line);
        const char *hash = line;
        while (hash < end && *hash == ' ')
            hash++;
        const char *site = NULL;
        if (*hash == '#' && isdigit((unsigned char)hash[1]))
            for (const char *p = end - 1; p > hash; p--)
                if (p[0] == '(' && p[-1] == ' ') {
                    site = p;
                    break;
                }
        if (!site) {
            memcpy(o, line, (size_t)(end - line));
            o += end - line;
            prev[0] = 0;
        } else {
            char frame[512];
            const char *close = strchr(site, ')');
            snprintf(frame, sizeof frame, "%.*s# <unknown> %.*s\n", (int)(hash - line), line,
                     (int)(close ? close + 1 - site : end - site), site);
            if (strcmp(frame, prev) != 0) {
                o += sprintf(o, "%s", frame);
                snprintf(prev, sizeof prev, "%s", frame);
            }
        }
        line = end;
    }
    *o = 0;
    return out;
}

static bool ends_in_newline(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && s[n - 1] == '\n';
}

/* A program whose findings are all of one kind (prog, with scenario as its
 * argument unless NULL; leaks: with detect_leaks), three ways, with the
 * detector at shim; returns the detector's blocks (normalized) after
 * asserting the other two print the same. by_hand: the detector writes
 * its records by hand, and the commands name the frames it could not:
 * theirs are the same as each other's, and the detector's the same but
 * for the names. */
static char *findings_three_ways(const char *shim, const char *prog, const char *scenario, bool leaks,
                                 const char *kind, bool by_hand)
{
    char env_shim[512], env_preload[512];
    snprintf(env_shim, sizeof env_shim, "MAPGUARD_SHIM=%s", shim);
    snprintf(env_preload, sizeof env_preload, "LD_PRELOAD=%s", shim);

    /* the detector alone, format=text on stderr */
    const char *prog_argv[] = {prog, scenario, NULL};
    const char *env_text[] = {env_preload,
                              leaks ? "MAPGUARD_OPTIONS=format=text:detect_leaks=1" : "MAPGUARD_OPTIONS=format=text",
                              NULL};
    cmd_result d = run_cmd(prog_argv, env_text);
    cr_assert_eq(d.status, 66, "%s: detector alone: status %d\n%s", kind, d.status, d.err);
    cr_assert(ends_in_newline(d.err), "the detector's text must end with a newline:\n%s", d.err);

    /* mapguard run: its text on stderr, the JSON records in a file */
    char *dir = test_tmpdir();
    char *json = path_join(dir, "run.jsonl");
    const char *run_argv[] = {MAPGUARD, "run", "--json", json, leaks ? "--detect-leaks" : "--", leaks ? "--" : prog,
                              leaks ? prog : scenario, leaks ? scenario : NULL, NULL};
    const char *env_run[] = {env_shim, NULL};
    cmd_result r = run_cmd(run_argv, env_run);
    cr_assert_eq(r.status, 66, "%s: mapguard run: status %d\n%s", kind, r.status, r.err);
    cr_assert(ends_in_newline(r.err), "mapguard run's text must end with a newline:\n%s", r.err);

    /* mapguard report on that JSON */
    const char *rep_argv[] = {MAPGUARD, "report", json, NULL};
    cmd_result p = run_cmd(rep_argv, NULL);
    cr_assert_eq(p.status, 66, "mapguard report: status %d\n%s", p.status, p.err);
    cr_assert(ends_in_newline(p.out), "mapguard report's output must end with a newline:\n%s", p.out);

    size_t nd, nr, np;
    char *bd = finding_blocks(d.err, "detector", &nd), *br = finding_blocks(r.err, "mapguard run", &nr),
         *bp = finding_blocks(p.out, "mapguard report", &np);
    cr_assert(nd == np && nr == np, "%s: %zu, %zu and %zu findings", kind, nd, nr, np);
    if (by_hand) {
        char *ud = unnamed(bd), *up = unnamed(bp), unknown[256];
        cr_assert_str_eq(ud, up, "%s: the detector's text and mapguard report's differ but for names:\n%s\n---\n%s",
                         kind, ud, up);
        free(ud);
        free(up);
        const char *base = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
        snprintf(unknown, sizeof unknown, "<unknown> (%s+", base);
        cr_assert(strstr(bd, unknown), "%s: the detector by hand names no frame:\n%s", kind, bd);
        cr_assert_null(strstr(bp, unknown), "%s: mapguard report left a frame of %s unnamed:\n%s", kind, base, bp);
    } else {
        cr_assert_str_eq(bd, bp, "%s: the detector's text and mapguard report's differ:\n%s\n---\n%s", kind, bd, bp);
    }
    cr_assert_str_eq(br, bp, "%s: mapguard run's text and mapguard report's differ:\n%s\n---\n%s", kind, br, bp);
    /* the lines report adds come after the findings */
    char summary[128];
    snprintf(summary, sizeof summary, "\nSUMMARY: mapguard: %zu finding%s (%zu %s)", np, np == 1 ? "" : "s", np, kind);
    cr_assert(strstr(p.out, summary), "%s", p.out);
    char head[128];
    snprintf(head, sizeof head, " (%s) on map 0x", kind);
    cr_assert(strstr(bd, head), "%s", bd);

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
    char *b = findings_three_ways(SHIM_PATH, PROG("cli_race"), NULL, false, "concurrent-read-write", false);
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
 * (module+offset frames), and the text by hand has the same layout; the
 * commands name the frames offline. */
Test(text_same, the_block_by_hand_is_the_same_too, .timeout = 120)
{
    require_shim();
    char *dir = test_tmpdir();
    char *shim = path_join(dir, "libmapguard.so"), cmd[1200];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", SHIM_PATH, shim);
    cr_assert_eq(system(cmd), 0);
    char *b = findings_three_ways(shim, PROG("cli_race"), NULL, false, "concurrent-read-write", true);
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

/* The other kinds' parties (freed, modification and iterator, the leak's
 * count), with the symbolizer and by hand. */
static const struct {
    const char *scenario, *kind;
    bool leaks;
} misuse[] = {
    {"nil_set", "nil-map-write", false},       {"use_after_free", "use-after-free", false},
    {"double_free", "double-free", false},     {"iter_insert", "modified-during-iteration", false},
    {"irreflexive", "irreflexive-key", false}, {"leak", "leaked-map", true},
};

static void every_misuse(const char *shim, bool by_hand)
{
    for (size_t i = 0; i < sizeof misuse / sizeof *misuse; i++)
        free(findings_three_ways(shim, PROG("mg_misuse"), misuse[i].scenario, misuse[i].leaks, misuse[i].kind,
                                 by_hand));
}

Test(text_same, every_kind_prints_one_block, .timeout = 300)
{
    require_shim();
    every_misuse(SHIM_PATH, false);
}

Test(text_same, every_kind_prints_one_block_by_hand, .timeout = 300)
{
    require_shim();
    char *dir = test_tmpdir();
    char *shim = path_join(dir, "libmapguard.so"), cmd[1200];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", SHIM_PATH, shim);
    cr_assert_eq(system(cmd), 0);
    every_misuse(shim, true);
    rm_rf(dir);
    free(shim);
    free(dir);
}
