/*
 * The shim's own diagnostics (log.c): lines on stderr, "mapguard[pid]: ...",
 * for the user running the program, not records for tools (those are the
 * reports).
 */
#ifndef MAPGUARD_LOG_H
#define MAPGUARD_LOG_H

/* Prints a diagnostic line on stderr when verbosity >= level. */
void mg_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
