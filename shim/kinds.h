/*
 * The finding kinds (kinds.inc) and the words reports use for them and for
 * the gomap ops (kinds.c). Stand-alone: libmapguard.so,
 * libmapguard-symbolize.so and the CLI all include it, and it includes no
 * other shim header.
 */
#ifndef MAPGUARD_KINDS_H
#define MAPGUARD_KINDS_H

#include <stdbool.h>
#include <stddef.h>

enum mg_kind {
#define MG_KIND(ID, ...) MK_##ID,
#include "kinds.inc"
    MK_COUNT,
};

struct mg_kind_info {
    const char *name, *message;
    const char *heading; /* NULL: the access is named by its op's class */
    const char *fix;
    bool concurrency;
};

extern const struct mg_kind_info mg_kinds[MK_COUNT];

/* "?" for a number out of range. */
const char *mg_kind_name(int kind);
/* The kind named so, or -1. */
int mg_kind_by_name(const char *name);
/* false for an unknown kind. */
bool mg_kind_is_concurrency(int kind);

/* The kind of the record a deadly signal leaves (deadly.c): not a finding,
 * so not in kinds.inc, but named here once for every reader. */
#define MG_DEADLY_SIGNAL_KIND "deadly-signal"

/* What a gomap op ("get", "set", ...) does to the map, in the text
 * report's words: "read", "write", "iteration", "free", "creation"; "call"
 * for NULL or an op this version does not know. */
const char *mg_op_class(const char *op);

/* The text report's one-line fix for kind on a map of api ("gomap",
 * "ghashtable", NULL for gomap): GLib's words for a GHashTable. */
const char *mg_kind_fix(int kind, const char *api);

/* Fixed lines of a finding's text block (finding_text.c), which report.c's
 * block by hand writes too. When frames were dropped to fit a pipe's
 * PIPE_BUF ("truncated": true in the record): */
#define MG_TEXT_TRUNCATED "  (frames dropped to keep the report within PIPE_BUF bytes)\n"
/* When only the call site of a party was captured ("stack_complete":
 * false): for overlap evidence the other thread left its call (or took
 * longer than conflict_wait_ms) before handing over its stack; for
 * unordered evidence that is by design, the history keeping call sites
 * unless conflict_stack=1. The reader is told which, and what to change. */
#define MG_TEXT_CALL_SITE_ONLY \
    "    (only the call site was captured: the full stack was not available in time)\n"
#define MG_TEXT_CALL_SITE_ONLY_UNORDERED \
    "    (only the call site is recorded for the earlier call; conflict_stack=1 records its full stack)\n"
#define MG_TEXT_BANNER "==================\n"

#endif
