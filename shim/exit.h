/*
 * The ways out of a process image that skip the atexit handler, and what
 * crosses an exec (exit.c).
 */
#ifndef MAPGUARD_EXIT_H
#define MAPGUARD_EXIT_H

#include "common.h"

/* Runs LeakSanitizer's check, if it is in the process, before the shim
 * ends the process with _exit: its own atexit check would never run. */
void mg_sanitizers_before_exit(void);
/* The real _exit: the shim's own wrapper would flush again. */
void mg_real_exit(int status) __attribute__((noreturn));
/* Registered with at_quick_exit at start (runtime.c), so it runs after the
 * program's own handlers: quick_exit ends the process with libc's internal
 * _exit, which no wrapper sees. */
void mg_at_quick_exit(void);

/* ---- exec hand-over ---- */

/* Findings carried over an exec by MG_CARRY_ENV, read at start. */
#define MG_CARRY_ENV "MAPGUARD_CARRIED_FINDINGS"
extern unsigned mg_carried;
void mg_carry_read(void);
/* Before an exec call (exec.c): writes the findings in flight and, when
 * this image found anything, hands the count to the new image through its
 * environment; environ-based calls get it here, envp-based ones through
 * mg_exec_env. Undone when the call returns. Async-signal-safe. */
void mg_exec_handoff(void);
char *const *mg_exec_env(char *const *envp);
void mg_exec_handoff_undo(void);

#endif
