/*
 * Helpers for the mapguard CLI tests: run the built command as a user would
 * (posix_spawn, output captured to files), read JSON Lines and SARIF with
 * jansson, and compare the text report with the JSON it came from.
 */
#ifndef CLI_HELPERS_H
#define CLI_HELPERS_H

#include <jansson.h>
#include <stdbool.h>

#ifndef BUILD_DIR
#error "BUILD_DIR must be defined (the Makefile passes it)"
#endif
#ifndef SRC_DIR
#error "SRC_DIR must be defined (the Makefile passes it)"
#endif

#define MAPGUARD BUILD_DIR "/bin/mapguard"
#define SHIM_PATH BUILD_DIR "/lib/libmapguard.so"
#define PROG(name) BUILD_DIR "/tests/progs/" name
#define FIXTURE(name) SRC_DIR "/tests/cli/fixtures/" name
/* The fixtures were written for a checkout at this path; SARIF tests pass it
 * as --source-root so they do not depend on where the tests run. */
#define FIXTURE_ROOT "/work/main"

typedef struct cmd_result {
    int status;      /* exit status, or 128 + signal */
    char *out, *err; /* everything written to stdout and stderr */
    double seconds;  /* wall time */
} cmd_result;

/* Runs argv (NULL-terminated) with stdin from /dev/null. env: NULL or a
 * NULL-terminated list of "NAME=value" to set and "NAME" to unset, applied
 * to the test's environment minus LD_PRELOAD, MAPGUARD_OPTIONS and
 * MAPGUARD_SHIM (so the caller's shell cannot leak into a test). */
cmd_result run_cmd(const char *const argv[], const char *const env[]);
void cmd_result_free(cmd_result *r);

char *test_tmpdir(void);           /* a fresh directory; free + rm_rf it */
void rm_rf(const char *path);
char *path_join(const char *dir, const char *name);
char *slurp(const char *path);     /* NULL if unreadable */
/* A copy of a fixture under a new name in dir: another file with the same
 * records, as if a second run had found the same things (`report` reads a
 * file named twice once). */
char *copy_fixture(const char *dir, const char *fixture, const char *name);
json_t *load_jsonl(const char *path); /* array of every record; asserts each line is JSON */
json_t *first_of_kind(json_t *recs, const char *kind); /* the first record of kind, or NULL */
json_t *load_json(const char *path);
/* runs[0].invocations[0].toolExecutionNotifications of a SARIF document
 * (borrowed), NULL if it has none. */
json_t *sarif_notifications(json_t *sarif);

#include "site_line.h"

bool is_finding(json_t *rec);
/* Asserts that the text names every finding record's kind and every frame
 * (function, and file:line when known) of every stack in it. */
void assert_text_covers(const char *text, json_t *records);

/* The e2e tests need the real detector; fails the test when it is missing. */
void require_shim(void);

/* Validates a SARIF file with the multitool (tools/sarif-validate.sh) and
 * asserts no error-level result. Skips the test only when node/npm are
 * missing. */
void assert_sarif_valid(const char *sarif_path);

#endif
