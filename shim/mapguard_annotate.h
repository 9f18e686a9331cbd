/*
 * mapguard_annotate.h: tell mapguard about synchronization it cannot see.
 *
 * mapguard's happens-before check (happens_before=1) orders map calls by
 * the locks, joins, condition variables and other library calls it
 * intercepts. C11 atomics compile to plain instructions and futex-based
 * custom locks make no call a preloaded library could wrap; a map handed
 * from one thread to another through them looks unsynchronized. Mark the
 * handoff:
 *
 *     gomap_set(m, &k, &v);
 *     MAPGUARD_HAPPENS_BEFORE(&ready);      // before the releasing store
 *     atomic_store_explicit(&ready, 1, memory_order_release);
 *
 *     while (!atomic_load_explicit(&ready, memory_order_acquire)) ;
 *     MAPGUARD_HAPPENS_AFTER(&ready);       // after the acquiring load
 *     gomap_get(m, &k);
 *
 * Everything the first thread did before MAPGUARD_HAPPENS_BEFORE(addr) is
 * then ordered before everything the second does after a
 * MAPGUARD_HAPPENS_AFTER(addr) with the same address. Several BEFOREs on
 * one address all order before a later AFTER.
 *
 * No link to libmapguard is needed, and a program built with these macros
 * runs unchanged without the shim: the first use looks up
 * AnnotateHappensBefore/AnnotateHappensAfter (the names Valgrind's and
 * ThreadSanitizer's annotations use, which the shim exports) with
 * dlsym(RTLD_DEFAULT), in libc since glibc 2.34 (link -ldl before that),
 * and the macros do nothing when they are not found.
 */
#ifndef MAPGUARD_ANNOTATE_H
#define MAPGUARD_ANNOTATE_H

#include <dlfcn.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*mapguard_annotate_fn_)(const char *file, int line, const volatile void *addr);

/* which: 0 before, 1 after. One lookup per translation unit; a lookup
 * that finds nothing is remembered too. */
static inline void mapguard_annotate_(int which, const char *file, int line, const volatile void *addr)
{
    static mapguard_annotate_fn_ fns[2];
    static int looked; /* 0: not yet, 1: done */
    if (!__atomic_load_n(&looked, __ATOMIC_ACQUIRE)) {
#ifdef RTLD_DEFAULT
        void *h = RTLD_DEFAULT;
#else
        void *h = (void *)0; /* glibc's RTLD_DEFAULT, which needs _GNU_SOURCE */
#endif
        void *b = dlsym(h, "AnnotateHappensBefore"), *a = dlsym(h, "AnnotateHappensAfter");
        __atomic_store_n(&fns[0], __extension__(mapguard_annotate_fn_)b, __ATOMIC_RELAXED);
        __atomic_store_n(&fns[1], __extension__(mapguard_annotate_fn_)a, __ATOMIC_RELAXED);
        __atomic_store_n(&looked, 1, __ATOMIC_RELEASE);
    }
    mapguard_annotate_fn_ f = __atomic_load_n(&fns[which], __ATOMIC_RELAXED);
    if (f)
        f(file, line, addr);
}

#define MAPGUARD_HAPPENS_BEFORE(addr) mapguard_annotate_(0, __FILE__, __LINE__, (addr))
#define MAPGUARD_HAPPENS_AFTER(addr) mapguard_annotate_(1, __FILE__, __LINE__, (addr))

#ifdef __cplusplus
}
#endif
#endif
