/*
 * MAPGUARD_OPTIONS: halt_on_error, exitcode, format, log_path, dedup,
 * stack_depth, suppressions, and what happens with bad ones; help=1, and
 * docs/options.md's table checked against the shim: names, defaults (as
 * help=1 prints them and as they are in effect) and ranges.
 */
#include "harness.h"
#include "../docs_options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "mg_misuse"

Test(options, halt_on_error_stops_at_the_first_report)
{
    struct run r;
    run_prog(&r, PROG, "two_findings", "halt_on_error=1");
    cr_assert_eq(count_kind(&r, NULL), 1);
    assert_frame_at(json_object_get(json_object_get(find_kind(&r, NULL, 0), "access"), "stack"), 0, PROG, "first");
    cr_assert_eq(count_summaries(&r), 1, "the summary is written before halting");
    cr_assert_eq(r.status, 66);
    cr_assert(strstr(r.out, "after first") == NULL, "stdout: %s", r.out);
    run_free(&r);
}

Test(options, without_halt_the_program_goes_on)
{
    struct run r;
    run_prog(&r, PROG, "two_findings", NULL);
    cr_assert_eq(count_kind(&r, NULL), 2);
    cr_assert(strstr(r.out, "after second"), "stdout: %s", r.out);
    cr_assert_eq(r.status, 66);
    run_free(&r);
}

Test(options, exitcode)
{
    struct run r;
    run_prog(&r, PROG, "two_findings", "halt_on_error=1:exitcode=7");
    cr_assert_eq(r.status, 7);
    run_free(&r);
    run_prog(&r, PROG, "two_findings", "exitcode=9");
    cr_assert_eq(r.status, 9);
    run_free(&r);
}

Test(options, dedup)
{
    struct run r;
    run_prog(&r, PROG, "dedup", NULL);
    cr_assert_eq(count_kind(&r, NULL), 2, "one per call site");
    json_t *s = find_summary(&r, 0);
    cr_assert_eq(json_integer_value(json_object_get(s, "occurrences")), 6);
    cr_assert_eq(json_integer_value(json_object_get(s, "repeats")), 4);
    run_free(&r);
    /* spaces and commas separate options too */
    run_prog(&r, PROG, "dedup", "dedup=0, stack_depth=1 exitcode=5");
    cr_assert_eq(count_kind(&r, NULL), 6);
    cr_assert_eq(json_array_size(json_object_get(json_object_get(find_kind(&r, NULL, 0), "access"), "stack")), 1);
    cr_assert_eq(r.status, 5);
    run_free(&r);
}

Test(options, text_format)
{
    struct run r;
    run_prog_raw(&r, PROG, "nil_set", "format=text");
    cr_assert(strstr(r.err, "WARNING: mapguard: assignment to entry in nil map"), "%s", r.err);
    char want[64];
    snprintf(want, sizeof want, "mg_misuse.c:%d", site_line(PROG, "nil_set"));
    cr_assert(strstr(r.err, want), "%s", r.err);
    /* the kind by name, the access and the fix, in the CLI's words
     * (shim/finding_text.c) */
    cr_assert(strstr(r.err, "assignment to entry in nil map (nil-map-write) on map 0x0 (pid "), "%s", r.err);
    cr_assert(strstr(r.err, "\n  Write to the nil map (gomap_set) by main thread "), "%s", r.err);
    cr_assert(strstr(r.err, "\n  Fix: create the map with gomap_new"), "%s", r.err);
    cr_assert_eq(r.status, 66);
    run_free(&r);
}

Test(options, default_is_json_on_stderr)
{
    struct run r;
    run_prog_raw(&r, PROG, "nil_set", NULL);
    json_error_t je;
    json_t *o = json_loads(r.err, JSON_DISABLE_EOF_CHECK, &je);
    cr_assert(o, "stderr does not start with JSON: %s", r.err);
    cr_assert_str_eq(json_string_value(json_object_get(o, "kind")), "nil-map-write");
    json_decref(o);
    run_free(&r);
}

Test(options, unwritable_log_path_falls_back_to_stderr)
{
    struct run r;
    run_prog_raw(&r, PROG, "nil_set", "log_path=/nonexistent/dir/mg");
    const char *why = strstr(r.err, "cannot open log_path '/nonexistent/dir/mg."),
               *finding = strstr(r.err, "\"kind\":\"nil-map-write\"");
    cr_assert(why, "%s", r.err);
    cr_assert(finding, "%s", r.err);
    cr_assert(why < finding, "the reason comes before the first finding: %s", r.err);
    cr_assert_null(strstr(why + 1, "cannot open log_path"), "said once: %s", r.err);
    cr_assert_null(strstr(r.err, "\"kind\":\"hello\""), "only a log file gets the hello: %s", r.err);
    run_free(&r);
}

Test(options, bad_options_are_named_and_defaults_used)
{
    struct run r;
    run_prog(&r, PROG, "two_findings", "bogus=1:halt_on_error=maybe:exitcode=300:noequals");
    cr_assert(strstr(r.err, "unknown option 'bogus'"), "%s", r.err);
    cr_assert(strstr(r.err, "bad value for option 'halt_on_error=maybe'"), "%s", r.err);
    cr_assert(strstr(r.err, "bad value for option 'exitcode=300'"), "%s", r.err);
    cr_assert(strstr(r.err, "'noequals'"), "%s", r.err);
    /* defaults: no halt, exit code 66; the good option (log_path) applies */
    cr_assert_eq(count_kind(&r, NULL), 2);
    cr_assert_eq(r.status, 66);
    run_free(&r);
}

static void suppressed(const char *prog, const char *scenario, const char *rules, size_t left)
{
    char opts[512];
    snprintf(opts, sizeof opts, "suppressions=%s", write_temp("supp", rules));
    struct run r;
    run_prog(&r, prog, scenario, opts);
    cr_assert_eq(count_kind(&r, NULL), left, "%s with '%s': %zu findings", scenario, rules, count_kind(&r, NULL));
    if (left == 0) {
        cr_assert_eq(r.status, 0, "nothing reported, nothing to fail for");
        json_t *s = find_kind_of_pid(&r, "summary", r.pid);
        cr_assert(s, "a log file always gets the summary");
        cr_assert_eq(json_integer_value(json_object_get(s, "findings")), 0);
        cr_assert_geq(json_integer_value(json_object_get(s, "suppressed")), 1, "the summary counts what was suppressed");
    }
    run_free(&r);
}

Test(options, suppressions)
{
    suppressed(PROG, "nil_set", "# a comment\n\nnil-map-write:nil_set\n", 0);
    suppressed(PROG, "nil_set", "nil-map-write:^nil_s*t$\n", 0);
    suppressed(PROG, "nil_set", "nil-map-write:mg_misuse.c\n", 0);     /* file */
    suppressed(PROG, "nil_set", "*:mg_misuse\n", 0);                   /* module */
    suppressed(PROG, "nil_set", "double-free:nil_set\n", 1);           /* other kind */
    suppressed(PROG, "nil_set", "nil-map-write:^il_set\n", 1);         /* anchored */
    suppressed("mg_races", "ww", "race:set_park1\n", 0);               /* the conflict's stack */
    suppressed("mg_races", "ww", "concurrent-read-write:set_park1\n", 1);
}

Test(options, started_lazily_before_any_constructor)
{
    /* the first call comes from .preinit_array, before the shim's own
     * constructor and before libc has set up environ: the options must
     * still apply (the log goes to log_path) and the call be checked */
    struct run r;
    run_prog(&r, "mg_preinit", NULL, NULL);
    cr_assert_eq(count_kind(&r, "nil-map-write"), 2, "%s", r.err);
    json_t *st = json_object_get(json_object_get(find_kind(&r, NULL, 0), "access"), "stack");
    assert_frame_at(st, 0, "mg_preinit", "preinit_nil");
    cr_assert(strstr(r.out, "early=-1"), "the nil map still refused the write: %s", r.out);
    cr_assert_eq(r.status, 66);
    run_free(&r);
}

/* ---------------------------------------------- docs/options.md vs the shim */

#define MAX_OPTS 64

/* help=1's lines "  name default help" after its heading. */
static size_t help_lines(const char *err, struct doc_option *out, size_t max)
{
    const char *p = strstr(err, "mapguard: MAPGUARD_OPTIONS=name=value");
    cr_assert(p, "no help heading on stderr: %s", err);
    size_t n = 0;
    for (p = strchr(p, '\n'); p && !strncmp(p, "\n  ", 3); p = strchr(p + 1, '\n')) {
        cr_assert(n < max);
        int used = 0;
        cr_assert_eq(sscanf(p + 3, "%63s %63s%n", out[n].name, out[n].dflt, &used), 2, "help line: %.80s", p + 3);
        const char *help = p + 3 + used;
        cr_assert(*help == ' ' && help[strspn(help, " ")] != '\n', "%s has no help text", out[n].name);
        n++;
    }
    return n;
}

Test(options, help_prints_the_documented_names_and_defaults)
{
    struct doc_option doc[MAX_OPTS], help[MAX_OPTS];
    size_t nd = doc_options(doc, MAX_OPTS);
    struct run r;
    run_prog_raw(&r, "mg_clean", "nil_reads", "help=1");
    size_t nh = help_lines(r.err, help, MAX_OPTS);
    for (size_t i = 0; i < nh; i++)
        cr_expect_str_eq(doc_option(doc, nd, help[i].name)->dflt, help[i].dflt,
                         "%s: docs/options.md says %s, help=1 says %s", help[i].name,
                         doc_option(doc, nd, help[i].name)->dflt, help[i].dflt);
    for (size_t i = 0; i < nd; i++)
        cr_expect(doc_option(help, nh, doc[i].name), "help=1 lacks %s", doc[i].name);
    cr_assert_eq(nh, nd, "help=1 has %zu options, the table %zu", nh, nd);
    cr_assert_eq(r.status, 0, "the program ran on and exited 0: %d", r.status);
    cr_assert_null(strstr(r.err, "in MAPGUARD_OPTIONS"), "help is an option, not a complaint: %s", r.err);
    run_free(&r);
}

Test(options, help_lets_the_program_run_as_usual)
{
    struct run r;
    run_prog(&r, "mg_defaults", "deep 3", "help=1");
    cr_assert(strstr(r.err, "\n  help "), "help printed: %s", r.err);
    cr_assert(strstr(r.out, "deep=2\n"), "the program ran to its end: %s", r.out);
    cr_assert_eq(count_kind(&r, "nil-map-write"), 1, "and was checked");
    cr_assert_eq(r.status, 66, "its status is what it is without help=1");
    run_free(&r);
}

Test(options, documented_defaults_are_in_effect)
{
    /* verbosity=1 logs every option's value after parsing: with nothing
     * else set, each must be the table's default */
    struct doc_option doc[MAX_OPTS];
    size_t nd = doc_options(doc, MAX_OPTS);
    struct run r;
    run_prog_raw(&r, "mg_clean", "nil_reads", "verbosity=1");
    const char *p = strstr(r.err, "options in effect: ");
    cr_assert(p, "%s", r.err);
    p += strlen("options in effect: ");
    size_t seen = 0;
    while (*p && *p != '\n') {
        size_t len = strcspn(p, ":\n");
        char pair[256];
        snprintf(pair, sizeof pair, "%.*s", (int)len, p);
        char *eq = strchr(pair, '=');
        cr_assert(eq, "%s", pair);
        *eq = 0;
        const char *want = strcmp(pair, "verbosity") ? doc_option(doc, nd, pair)->dflt : "1";
        cr_expect_str_eq(eq + 1, want, "%s in effect is %s, docs/options.md says %s", pair, eq + 1, want);
        seen++;
        p += len + (p[len] == ':');
    }
    cr_assert_eq(seen, nd, "%zu options in effect, %zu documented", seen, nd);
    cr_assert_eq(r.status, 0);
    run_free(&r);
}

Test(options, documented_stack_depth_caps_the_stack)
{
    struct doc_option doc[MAX_OPTS];
    long depth = strtol(doc_option(doc, doc_options(doc, MAX_OPTS), "stack_depth")->dflt, NULL, 10);
    char scen[64];
    snprintf(scen, sizeof scen, "deep %ld", depth + 8); /* deeper than the cap */
    struct run r;
    run_prog(&r, "mg_defaults", scen, NULL);
    json_t *st = json_object_get(json_object_get(find_kind(&r, "nil-map-write", 0), "access"), "stack");
    cr_assert_eq((long)json_array_size(st), depth, "stack of %zu frames, stack_depth's default is %ld",
                 json_array_size(st), depth);
    assert_frame_at(st, 0, "mg_defaults", "deep_set");
    run_free(&r);
}

Test(options, documented_quarantine_size_is_kept)
{
    /* the first freed map is still in the quarantine after default - 1
     * more frees, so its second free is caught (past the default it would
     * really be freed, and the program's second free undefined) */
    struct doc_option doc[MAX_OPTS];
    long q = strtol(doc_option(doc, doc_options(doc, MAX_OPTS), "quarantine_size")->dflt, NULL, 10);
    char scen[64];
    snprintf(scen, sizeof scen, "quarantine %ld", q - 1);
    struct run r;
    run_prog(&r, "mg_defaults", scen, NULL);
    cr_assert_eq(count_kind(&r, "double-free"), 1, "%s", r.err);
    assert_frame_at(json_object_get(json_object_get(find_kind(&r, "double-free", 0), "access"), "stack"), 0,
                    "mg_defaults", "q_double_free");
    run_free(&r);
}

Test(options, documented_ranges_are_enforced)
{
    /* every "lo–hi" of the table: lo and hi accepted, lo-1 and hi+1 named
     * and refused (the CLI's twin is in tests/cli/test_options.c) */
    struct doc_option doc[MAX_OPTS];
    size_t nd = doc_options(doc, MAX_OPTS), nr = 0;
    char opts[4096] = "";
    size_t o = 0;
    for (size_t i = 0; i < nd; i++) {
        if (!doc[i].has_range)
            continue;
        nr++;
        o += (size_t)snprintf(opts + o, sizeof opts - o, "%s=%ld:%s=%ld:%s=%ld:%s=%ld:", doc[i].name,
                              doc[i].lo - 1, doc[i].name, doc[i].hi + 1, doc[i].name, doc[i].lo,
                              doc[i].name, doc[i].hi);
    }
    cr_assert_geq(nr, 5, "exitcode, stack_depth, quarantine_size, verbosity, conflict_wait_ms");
    struct run r;
    run_prog_raw(&r, "mg_clean", "nil_reads", opts);
    for (size_t i = 0; i < nd; i++) {
        if (!doc[i].has_range)
            continue;
        long v[4] = {doc[i].lo - 1, doc[i].hi + 1, doc[i].lo, doc[i].hi};
        for (int j = 0; j < 4; j++) {
            char want[128];
            snprintf(want, sizeof want, "bad value for option '%.63s=%ld'", doc[i].name, v[j]);
            if (j < 2)
                cr_expect(strstr(r.err, want), "%s=%ld accepted: %s", doc[i].name, v[j], r.err);
            else
                cr_expect_null(strstr(r.err, want), "%s=%ld refused", doc[i].name, v[j]);
        }
    }
    run_free(&r);
}

Test(options, every_separator_separates)
{
    /* MG_OPTION_SEPARATORS, which mapguard run splits --options on too */
    const char seps[] = ": ,\t\n\r";
    for (const char *s = seps; *s; s++) {
        char opts[64];
        snprintf(opts, sizeof opts, "dedup=0%cexitcode=5", *s);
        struct run r;
        run_prog(&r, PROG, "dedup", opts);
        cr_assert_eq(count_kind(&r, NULL), 6, "separator 0x%02x: %s", *s, r.err);
        cr_assert_eq(r.status, 5, "separator 0x%02x: %s", *s, r.err);
        run_free(&r);
    }
}
