/*
 * The two symbols of an OpenMP runtime the shim looks up when a program
 * has one (shim/omp_sync.c): the team's size, which its barriers are
 * counted in, and GOMP_parallel, by which it knows the runtime is there.
 * mg_ompt_fake links this in place of libomp and plays libomp's part
 * itself, through the shim's OMPT tool.
 */
#include <stdlib.h>

int omp_get_num_threads(void);
void GOMP_parallel(void (*fn)(void *), void *data, unsigned n, unsigned flags);

int omp_get_num_threads(void) { return 2; }

void GOMP_parallel(void (*fn)(void *), void *data, unsigned n, unsigned flags)
{
    (void)fn, (void)data, (void)n, (void)flags;
    abort(); /* never called: mg_ompt_fake opens no region of libgomp's */
}
