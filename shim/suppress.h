/*
 * Suppressions (suppress.c): the rules of the file the suppressions option
 * names, read once at start, and the matching of a finding against them.
 * Both live in libmapguard.so, so that a finding is matched the same way
 * whether the renderer of libmapguard-symbolize.so writes it or report.c
 * writes it by hand.
 */
#ifndef MAPGUARD_SUPPRESS_H
#define MAPGUARD_SUPPRESS_H

#include "render.h"

/* Reads the file, at start (runtime.c), so that a file that cannot be used
 * is named at once, even in a run that reports nothing. Such a file gets
 * one line on stderr and none of its rules applies. */
void mg_suppress_load(void);
/* Does a rule hide the finding? Its kind is checked first; only then are
 * the frames of every stack the finding shows (each party's, and the
 * creation stacks of their threads) symbolized through h and matched by
 * function, file and module. Call with the symbolization lock held. */
bool mg_suppressed(const struct mg_finding *f, const struct mg_render_host *h);

#endif
