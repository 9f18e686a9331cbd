/*
 * Introspection for tests and benchmarks: the map's internal state, so tests
 * can assert Go's growth rules and catch a map mid-evacuation. Not part of
 * the map API; the name has no "gomap_" prefix so the detector, which
 * interposes every gomap_* export, has nothing to wrap here.
 */
#ifndef GOMAP_DEBUG_H
#define GOMAP_DEBUG_H

#include "gomap.h"

typedef struct gomapdebug_stats {
    size_t count;           /* live entries */
    unsigned B;             /* log2 of the bucket count */
    bool growing;           /* an evacuation is in progress */
    bool same_size_grow;    /* ... and it keeps B (too many overflow buckets) */
    size_t nevacuate;       /* old buckets below this index are evacuated */
    size_t noverflow;       /* overflow buckets in use by the current array */
    size_t nretained;       /* retired bucket arrays kept for iterators */
    size_t retained_bytes;  /* their size */
    size_t bucket_bytes;    /* size of one bucket */
    size_t array_bytes;     /* size of the current bucket array */
    bool indirect_key;      /* keys over 128 bytes are stored by pointer */
    bool indirect_val;
    uint64_t seed;
} gomapdebug_stats;

/* Fills *out; false for the nil map. */
GOMAP_API bool gomapdebug_stats_get(const gomap *m, gomapdebug_stats *out);

/* Checks the invariants that are cheap to state and costly to check
 * (a pass over every bucket): that the tophash index agrees with the
 * buckets of the current and the old array. True for the nil map. */
GOMAP_API bool gomapdebug_check(const gomap *m);

#endif
