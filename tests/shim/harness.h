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

/* prog: a name in BUILD_DIR/tests/progs, or an absolute path.
 * options are appended after log_path=...; NULL for none. opts_raw, when
 * set, replaces MAPGUARD_OPTIONS entirely (no log_path added). */
void run_prog(struct run *r, const char *prog, const char *scenario, const char *options);
void run_prog_raw(struct run *r, const char *prog, const char *scenario, const char *opts_raw);
void run_free(struct run *r);

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

/* The line of "@site:name" in tests/progs/<src>.c. */
int site_line(const char *src, const char *name);

/* Asserts stack[idx] is file tests/progs/<src>.c at the @site line. */
void assert_frame_at(json_t *stack, size_t idx, const char *src, const char *site);
/* The first frame whose function is fn, or NULL. */
json_t *frame_with_function(json_t *stack, const char *fn);

/* Schema check (schema.c). */
bool schema_validate(json_t *v, char *err, size_t len);

/* Writes text to a file in the run's directory-to-be; returns its path. */
const char *write_temp(const char *name, const char *text);

#endif
