/*
 * Findings and how they leave the process (report.c; dedup.h for the
 * findings so far, output.h for where they go). docs/report-format.md
 * is the contract with the tools that read the output.
 */
#ifndef MAPGUARD_REPORT_H
#define MAPGUARD_REPORT_H

#include "common.h"
#include "kinds.h"


/* One party to a finding: the call that found it, the other thread's
 * call, the modification, the iterator's init, the free, the creation. */
struct mg_party {
    bool present;
    unsigned op;      /* MG_OP_NONE: not shown */
    uint32_t thread;  /* thread index, for tid, name and creation stack */
    uint32_t stack;   /* depot id of a full stack, or 0 */
    uintptr_t pc;     /* otherwise the call site (a return address) */
    bool complete;    /* stack holds the full stack */
};

/* What shows a concurrency finding's two calls race: both were inside
 * the map at once (detect_race.c), or no synchronization the shim saw
 * orders them (the happens-before engine, happens_before.c). */
enum mg_evidence { MG_EVIDENCE_OVERLAP, MG_EVIDENCE_UNORDERED };

struct mg_finding {
    int kind;
    int evidence; /* enum mg_evidence, for the concurrency kinds */
    const void *map;
    struct mg_party access, other, iter, made;
    size_t count, entries; /* leaked-map: maps in the group, their entries */
};

/* Symbolizes, applies suppressions, writes one line with one write(2),
 * and halts if halt_on_error. slot comes from mg_report_claim (dedup.h). */
void mg_report(struct mg_finding *f, int slot);
/* mg_report for a finding whose plain line is already in flight (handle
 * h from mg_inflight_begin, 0 for none). */
void mg_report_inflight(struct mg_finding *f, int slot, int h);
/* The finding as a JSON line without "id" (or text), with module+offset
 * frames only: formatted without the symbolizer and without any lock. */
struct mg_line;
void mg_report_plain(struct mg_line *l, const struct mg_finding *f);
/* Writes a finished line to the log, without the report lock (exit paths). */
void mg_report_emit(const char *buf, size_t n);

/* ---- the records about the run (summary.c) ---- */

/* The summary record, at exit or before halting: always when the log is a
 * file, otherwise only when something was found (or verbosity >= 1). */
void mg_report_summary(void);
/* The hello record a process image writes at start when the log is a file:
 * proof for a tool reading the logs that this image was watched. */
void mg_report_hello(void);

/* Fills f->made from the map's words (party.c). */
void mg_party_made(struct mg_party *p, const gomap *m);

#endif
