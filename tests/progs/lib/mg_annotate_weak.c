/*
 * A library annotated the way libraries annotated for ThreadSanitizer are:
 * weak declarations of AnnotateHappensBefore/AnnotateHappensAfter, called
 * only when some loaded object defines them. Without a detector they are
 * null and the library runs as if unannotated; preloaded, libmapguard.so
 * defines them. Its one job: a channel of one flag, handed over with C11
 * atomics (tests/progs/mg_annotate_lib.c).
 */
#include <sched.h>
#include <stdatomic.h>

void AnnotateHappensBefore(const char *file, int line, const volatile void *addr) __attribute__((weak));
void AnnotateHappensAfter(const char *file, int line, const volatile void *addr) __attribute__((weak));

void chan_send(atomic_int *flag);
void chan_recv(atomic_int *flag);

void chan_send(atomic_int *flag)
{
    if (AnnotateHappensBefore)
        AnnotateHappensBefore(__FILE__, __LINE__, flag);
    atomic_store_explicit(flag, 1, memory_order_release);
}

void chan_recv(atomic_int *flag)
{
    while (!atomic_load_explicit(flag, memory_order_acquire))
        sched_yield();
    if (AnnotateHappensAfter)
        AnnotateHappensAfter(__FILE__, __LINE__, flag);
}
