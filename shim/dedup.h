/*
 * The findings so far (dedup.c): which (kind, call site, other call site)
 * triples were found, how often, what became of each, and the counters the
 * summary record shows. Also the report lock.
 */
#ifndef MAPGUARD_DEDUP_H
#define MAPGUARD_DEDUP_H

#include "render.h"

/* The report lock: guards the table and counters here and the report
 * descriptor (output.c). mg_report_claim takes it itself; the functions
 * below that say so must be called with it held. */
void mg_report_lock(void);
void mg_report_unlock(void);
/* Is it held by the calling thread (which a signal handler interrupted)? */
bool mg_report_lock_held_here(void);

/* Deduplication: the same kind at the same pair of call sites is one
 * finding. Returns a slot for a finding to report, or -1 for a repeat
 * (counted for the summary). Cheap enough to call before capturing
 * anything. */
int mg_report_claim(int kind, uintptr_t site, uintptr_t other_site);

/* A finding claimed before the other call's site was known for sure (a
 * writer still inside its call: its site as the map's last-write word
 * said at the time, 0 or the writer's previous call), now that it is:
 * the slot to report it under, or -1 when that pair is already a finding
 * (a repeat, counted there; the finding is dropped). An overlap's other
 * site is known only once the writer hands over its stack, and claims of
 * one pair made before and after it had stored its site were two findings
 * with the same two call sites in the log (a held-out probe). */
int mg_report_rekey(int slot, int kind, uintptr_t site, uintptr_t other_site);

/* The finding of slot (from mg_report_claim; out of range: none) was
 * suppressed: counted, and its repeats are not reported either. Lock held. */
void mg_dedup_suppressed(int slot);
/* The finding of slot was written with id. The first report of a slot
 * keeps its id and *where ("function file:line" of the access, malloc'd),
 * for the summary, and sets *where to NULL. Lock held. */
void mg_dedup_reported(int slot, unsigned id, char **where);

/* The next report id; the count of findings written (mg_report_count). */
unsigned mg_report_next_id(void);
/* Reports written so far (suppressed ones excluded). */
unsigned mg_report_count(void);

/* The counters of the summary record. Lock held. */
struct mg_dedup_counts {
    unsigned reports, occurrences, repeats, suppressed;
};
struct mg_dedup_counts mg_dedup_counts(void);
/* The findings reported, in report order, with how often each was found;
 * valid until the next call. Lock held. */
size_t mg_dedup_recurrences(const struct mg_recurrence **rec);

/* The child of a fork starts with no findings. */
void mg_dedup_atfork_child(void);

#endif
