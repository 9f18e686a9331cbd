/*
 * What every file of the shim uses: the standard integer and bool types,
 * gomap's types, and the attributes below. Each module's functions are
 * declared in its own header (options.h, runtime.h, thread_table.h, ...);
 * docs/design-detector.md has the map of the files.
 *
 * The path of one call: the application calls gomap_x, which resolves to
 * the wrapper in interpose.c (the shim is preloaded, so its definitions win
 * over libgomap's). The gomap API is listed once, in gomap_api.inc, from
 * which come the pointers to the real functions (MG_REAL(gomap_x),
 * gomap_api.h), their nil stubs, and their table, resolved at start-up by
 * the interception layer (intercept.h: mg_intercept_start), or later, when
 * libgomap arrives by dlopen. The wrapper asks the detectors (detect.h,
 * detect_*.c) to check the call against the map's state (mapstate.h, kept
 * inside the map object), enters through mg_hook_enter, calls
 * MG_REAL(gomap_x), leaves through mg_hook_leave, and lets the detectors
 * check again on the way out. A finding is claimed (dedup.c) and goes to
 * report.c, which captures and symbolizes stacks (stack.c, depot.c,
 * symbolize_load.c), applies suppressions (suppress.c), renders it
 * (render.c) and writes one line with one write(2) (output.c).
 */
#ifndef MAPGUARD_COMMON_H
#define MAPGUARD_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gomap.h"

#define MG_EXPORT __attribute__((visibility("default")))
#define MG_LIKELY(x) __builtin_expect(!!(x), 1)
/* A large zero-initialized table (a few KiB or more). Interleaved with the
 * small variables that every process's start-up writes, the tables spread
 * those over a dozen pages, and each first write is a page fault (12-15 us
 * on the benchmark VM). In a section of their own, which the link sorts
 * after plain .bss (-Wl,--sort-section=name, Makefile), the small ones
 * share a few pages; a table's pages are touched only when it is used.
 * tests/check_bss.sh (make test) fails on a table left without it. */
#define MG_LARGE_BSS __attribute__((section(".bss.~large")))
#define MG_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define MG_NOINLINE __attribute__((noinline))
#define MG_COLD __attribute__((cold, noinline))
/* For the small helpers of paths that are rare in some programs and
 * frequent in others (a map call after a lock handoff runs through MG_COLD
 * functions): GCC compiles a cold function for size and would call them
 * there instead of inlining them. */
#define MG_ALWAYS_INLINE static inline __attribute__((always_inline))

#endif
