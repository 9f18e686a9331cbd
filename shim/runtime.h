/*
 * The shim's life cycle (runtime.c): lazy start, fork, exit, halt.
 */
#ifndef MAPGUARD_RUNTIME_H
#define MAPGUARD_RUNTIME_H

#include "common.h"

extern int mg_ready; /* 2 once mg_init has finished */
void mg_init_slow(void);
static inline void mg_init(void)
{
    if (MG_UNLIKELY(__atomic_load_n(&mg_ready, __ATOMIC_ACQUIRE) != 2))
        mg_init_slow();
}
/* halt_on_error: summary, flush, _exit(exitcode). */
void mg_halt(void) __attribute__((noreturn));

#endif
