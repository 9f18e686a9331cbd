/*
 * Running a test program under the shim and reading what it reported.
 *
 * run_prog spawns BUILD_DIR/tests/progs/<prog> with LD_PRELOAD set to the
 * shim and MAPGUARD_OPTIONS pointing log_path into a fresh directory, waits
 * for it (killing it after a timeout), and collects every JSON line from
 * every log file there (one per process: forked children write their own).
 * Each line is validated against docs/mapguard-report.schema.json before
 * any test looks at it.
 *
 * Expected lines are named in the program's source with a comment
 * "@site:name"; site_line finds the line number, so the sources may change
 * without breaking the tests.
 */
#ifndef SHIM_HARNESS_H
#define SHIM_HARNESS_H

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct run {
    int pid;          /* the program's process */
    int status;       /* exit status, or 128 + signal */
    char dir[128];    /* the run's temporary directory */
    char *out, *err;  /* the program's stdout and stderr */
    json_t *lines;    /* every JSON line, in file order, files by pid */
    int nfiles;       /* log files written */
};

/* A program that is not one of ours (a system tool, a shell script), run
 * the same way: in its own process group, killed with the whole group and
 * failing the test if it does not finish in timeout_ms (0: 60 s). With
 * preload, the shim is preloaded and log_path points into r->dir as for
 * run_prog; without, neither LD_PRELOAD nor MAPGUARD_OPTIONS is passed on,
 * so the run is the program's own behaviour to compare with. */
struct cmd {
    const char *const *argv; /* argv[0]: an absolute path */
    const char *const *env;  /* NAME=value added (replacing the same NAME); NULL-terminated, or NULL */
    const char *cwd;         /* NULL: the test's own */
    const char *in;          /* stdin from this file; NULL: /dev/null */
    bool preload;
    const char *options;     /* more MAPGUARD_OPTIONS after log_path, or NULL */
    int timeout_ms;
};
void run_cmd(struct run *r, const struct cmd *c);

/* prog: a name in BUILD_DIR/tests/progs, or an absolute path.
 * options are appended after log_path=...; NULL for none. opts_raw, when
 * set, replaces MAPGUARD_OPTIONS entirely (no log_path added). */
void run_prog(struct run *r, const char *prog, const char *scenario, const char *options);
void run_prog_raw(struct run *r, const char *prog, const char *scenario, const char *opts_raw);
/* run_prog without options, for a program that takes long by design (a
 * sweep single-stepping its child): killed after timeout_ms, not 60 s */
void run_prog_long(struct run *r, const char *prog, const char *scenario, int timeout_ms);
void run_free(struct run *r);

/* o[key] is the string want. */
void assert_str(json_t *o, const char *key, const char *want);

/* r holds exactly one finding, of kind, with evidence "unordered": the
 * later call's op at access_site and the earlier call's op at
 * conflict_site (its call site only), made by two different threads, the
 * map made at the site "made" (site names are @site markers in prog's
 * source). Returns the finding, for more checks. */
json_t *assert_one_unordered(const struct run *r, const char *prog, const char *scenario, const char *kind,
                             const char *access_op, const char *access_site, const char *conflict_op,
                             const char *conflict_site);

/* prog's scenario under the shim (the default options): one unordered
 * finding as assert_one_unordered says, and exit status 66. A prog named
 * NAME_llvm is NAME.c built by clang: its lines are NAME.c's. */
void assert_scenario_unordered(const char *prog, const char *scenario, const char *kind, const char *access_op,
                               const char *access_site, const char *conflict_op, const char *conflict_site);
/* ... watched, no finding, exit status 0; hint, if not NULL, says what
 * another status means. */
void assert_scenario_clean(const char *prog, const char *scenario, const char *hint);

/* Records of a kind, or for NULL every finding: every record but those
 * about the run itself (summary, hello, exec, exec-failed, spawn,
 * deadly-signal). */
size_t count_kind(const struct run *r, const char *kind);
json_t *find_kind(const struct run *r, const char *kind, size_t nth);
json_t *find_summary(const struct run *r, size_t nth);
size_t count_summaries(const struct run *r);
/* The record of a kind written by process pid, or NULL. */
json_t *find_kind_of_pid(const struct run *r, const char *kind, long pid);

/* A run with a log file that found nothing, and can prove it watched: no
 * finding, not even a suppressed or repeated detection, and the program's
 * own process said hello and wrote its summary. */
void assert_watched_and_clean(const struct run *r, const char *what);
/* The same, for a program whose own process may end by _exit (a shell,
 * say), which writes no summary: every summary there is found nothing. */
void assert_watched_no_finding(const struct run *r, const char *what);

#include "site_line.h"

/* Asserts stack[idx] is file tests/progs/<src>.c at the @site line. */
void assert_frame_at(json_t *stack, size_t idx, const char *src, const char *site);
/* The first frame whose function is fn, or NULL. */
json_t *frame_with_function(json_t *stack, const char *fn);

/* Schema check (schema.c). */
bool schema_validate(json_t *v, char *err, size_t len);

/* /tmp/mgtest-PID-name, removed when the test's process exits. */
const char *temp_path(const char *name);
/* Writes text to temp_path(name); returns the path. */
const char *write_temp(const char *name, const char *text);

#endif
