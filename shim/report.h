/*
 * Findings and how they leave the process (report.c). docs/report-format.md
 * is the contract with the tools that read the output.
 */
#ifndef MAPGUARD_REPORT_H
#define MAPGUARD_REPORT_H

#include "mapguard.h"

enum mg_kind {
    MK_READ_WRITE,   /* concurrent-read-write */
    MK_WRITES,       /* concurrent-writes */
    MK_ITER_WRITE,   /* concurrent-iteration-write */
    MK_MOD_ITER,     /* modified-during-iteration */
    MK_NIL_WRITE,    /* nil-map-write */
    MK_USE_AFTER_FREE,
    MK_DOUBLE_FREE,
    MK_IRREFLEXIVE,  /* irreflexive-key */
    MK_LEAK,         /* leaked-map */
    MK_COUNT,
};
const char *mg_kind_name(int kind);

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

/* Deduplication: the same kind at the same pair of call sites is one
 * finding. Returns a slot for a finding to report, or -1 for a repeat
 * (counted for the summary). Cheap enough to call before capturing
 * anything. */
int mg_report_claim(int kind, uintptr_t site, uintptr_t other_site);
/* Symbolizes, applies suppressions, writes one line with one write(2),
 * and halts if halt_on_error. */
void mg_report(struct mg_finding *f, int slot);
/* mg_report for a finding whose plain line is already in flight (handle
 * h from mg_inflight_begin, 0 for none). */
void mg_report_inflight(struct mg_finding *f, int slot, int h);
/* The finding as a JSON line without "id" (or text), with module+offset
 * frames only: formatted without the symbolizer and without any lock. */
struct mg_line;
void mg_report_plain(struct mg_line *l, const struct mg_finding *f);
/* The next report id; the count of findings written (mg_report_count). */
unsigned mg_report_next_id(void);
/* Writes a finished line to the log, without the report lock (exit paths). */
void mg_report_emit(const char *buf, size_t n);
/* The summary record, at exit or before halting: always when the log is a
 * file, otherwise only when something was found (or verbosity >= 1). */
void mg_report_summary(void);
/* The hello record a process image writes at start when the log is a file:
 * proof for a tool reading the logs that this image was watched. */
void mg_report_hello(void);
/* Reports written so far (suppressed ones excluded). */
unsigned mg_report_count(void);

void mg_report_lock(void);
void mg_report_unlock(void);
void mg_report_atfork_child(void);

/* Fills f->made from the map's words. */
void mg_party_made(struct mg_party *p, const gomap *m);

#endif
