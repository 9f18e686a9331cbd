/*
 * The report stack: where a report's slow part runs (report_stack.c).
 */
#ifndef MAPGUARD_REPORT_STACK_H
#define MAPGUARD_REPORT_STACK_H

/* Runs fn(arg) on a stack of the shim's own, large enough for libdw, and
 * returns when it returns; on the caller's stack if none can be mapped,
 * or if that is a report stack already. Any thread, any lock held or none:
 * each thread's outermost call has a stack to itself. */
void mg_on_report_stack(void (*fn)(void *), void *arg);

/* On a report stack, the context (a ucontext_t) of the call that switched
 * to it, from which the program's frames can be unwound; else NULL. An
 * unwinder working from the current frame stops at the report stack's
 * first. */
void *mg_report_stack_caller(void);

#endif
