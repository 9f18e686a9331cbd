/*
 * One finding as text (finding_text.c): the block the shim writes with
 * format=text and `mapguard run`/`mapguard report` print, from the
 * finding's JSON record, so the two read the same line for line. Built into
 * libmapguard-symbolize.so and the CLI (jansson); libmapguard.so writes the
 * same layout by hand when the symbolizer cannot be loaded (report.c).
 */
#ifndef MAPGUARD_FINDING_TEXT_H
#define MAPGUARD_FINDING_TEXT_H

#include <jansson.h>
#include <stdio.h>

#include "kinds.h" /* MG_TEXT_*: its fixed lines */

/* What the CLI knows of a finding beyond its record, after merging logs:
 * how often it was reported and by which processes. */
struct mg_text_tally {
    unsigned long count, recurred;
    const long *pids;
    size_t npids;
    bool more_pids; /* others reported it too, past pids */
};

/* "  Reported N times by pids A, B and others\n", when there is more than
 * one report or process to tell of. */
void mg_text_reported(FILE *out, const struct mg_text_tally *t);

/* The block, from its "==================" banner to the closing one, each
 * line ending in '\n'. tally: NULL for a single record (the shim). */
void mg_text_finding(FILE *out, json_t *rec, const struct mg_text_tally *tally);
/* A stack's frames, "    #N function file:line:column (module+0xoffset)". */
void mg_text_stack(FILE *out, json_t *stack);

#endif
