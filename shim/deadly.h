/*
 * Deadly signals (deadly.c): the findings in flight and a deadly-signal
 * record before SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT ends the process.
 */
#ifndef MAPGUARD_DEADLY_H
#define MAPGUARD_DEADLY_H

/* At start, with handle_segv=1. */
void mg_deadly_install(void);

#endif
