/*
 * Findings in flight (inflight.c): a finding is on record, as a plain line
 * with module+offset frames, from the moment it is found until its full
 * report is written, so that any path out of the process (return from
 * main, exit from any thread, _exit, abort, a deadly signal, exec) can
 * write it first. Exactly one of the reporter and an exit path writes it.
 */
#ifndef MAPGUARD_INFLIGHT_H
#define MAPGUARD_INFLIGHT_H

#include "report.h"

/* A dedup slot was granted (mg_report_claim): a finding is coming, not yet
 * on record. Settled by a successful mg_inflight_begin or by
 * mg_inflight_unclaim. */
void mg_inflight_claimed(void);
void mg_inflight_unclaim(void);
/* Formats f's plain line into a free entry and publishes it; the handle
 * (> 0), or 0 when every entry is taken. Settles one claim on success.
 * slot: the finding's dedup slot (dedup.c), or -1. */
int mg_inflight_begin(const struct mg_finding *f, int slot);
/* The finding's dedup slot changed (mg_report_rekey). */
void mg_inflight_slot(int h, int slot);
/* For the summary: calls credit(slot, id) once for each finding an exit
 * path wrote plain, whose reporter has not said so (it may still be
 * waiting for a stack when the summary is made), so that the summary's
 * recurrences count it (a held-out probe: 2 findings, 1 listed). */
void mg_inflight_credit_flushed(void (*credit)(int slot, unsigned id));
/* Replaces the line with one from a fuller finding (once, from mg_report,
 * when the stacks are captured). */
void mg_inflight_update(int h, const struct mg_finding *f);
/* The reporter is about to write the full report: true if it is still its
 * to write (no exit path took it); h 0: true. */
bool mg_inflight_take(int h);
/* When take said no: the id the exit path wrote the line with. */
unsigned mg_inflight_id(int h);
/* A finding that found every entry busy: its plain line, written now with
 * a fresh id (returned), rather than held off the record while its full
 * report waits for symbols. */
unsigned mg_inflight_write_plain(const struct mg_finding *f);
/* After the reporter wrote the report it took: the entry is free again. */
void mg_inflight_done(int h);
/* The finding was suppressed: withdraws the line unless already written. */
void mg_inflight_drop(int h);
/* Writes h's plain line now, if nobody has (a report begun while exiting). */
void mg_inflight_write_now(int h);
/* An exec that failed: the process goes on, and so does reporting. */
void mg_inflight_resume(void);
/* Has an exit path begun flushing? Later findings skip the symbolizer. */
bool mg_inflight_exiting(void);

/* Writes every line still in flight, one write(2) each, with its id.
 * Waits up to settle_ms for other threads to publish the findings they
 * claimed (and for lines being written to be written), and up to full_ms
 * of that for reporters to write their full reports themselves.
 * Async-signal-safe: no lock, no allocation. Returns the lines written. */
unsigned mg_inflight_flush(int settle_ms, int full_ms);
/* Brackets every write of a finding or record: false when the log is
 * closed (skip the write). mg_inflight_close, just before the shim ends
 * the process with _exit, waits (100 ms at most) for writes under way:
 * exit_group would otherwise cut a line another thread is writing. */
bool mg_inflight_write_begin(void);
void mg_inflight_write_end(void);
void mg_inflight_close(void);
/* Findings this process image counted and never withdrew: written,
 * flushed, or claimed and still unwritten, plus those an earlier image of
 * this process carried over an exec. What the exit status goes by. */
unsigned mg_inflight_findings(void);

/* The process that owns the counts: a vfork child (same memory, other pid)
 * must neither flush its parent's findings nor exit with their status. */
bool mg_inflight_owner(void);
/* At start and in a forked child. */
void mg_inflight_reset(void);

#endif
