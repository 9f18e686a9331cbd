/*
 * Happens-before engine: the memory for variable-size clocks (sync
 * objects' clocks, maps' read clocks), out of one fixed array.
 *
 * Blocks come in seven sizes, 8 to 512 words; a block is named by its
 * offset in the array (0 is "none"), so a reference fits 32 bits. Freed
 * blocks go onto a lock-free stack per size (a tagged head against ABA)
 * and are reused before the array grows. No lock anywhere: a forked child
 * inherits a consistent arena whatever the other threads were doing.
 *
 * The array is HB_ARENA_WORDS words of zero-fill-on-demand memory (.bss):
 * pages are only resident once used. When it is full, allocation fails and
 * the callers fall back to something conservative (hb_sync.c,
 * hb_access.c).
 */
#ifndef MAPGUARD_HB_ARENA_H
#define MAPGUARD_HB_ARENA_H

#include "hb_clock.h"

#define HB_ARENA_WORDS (1u << 20) /* 8 MiB of address space */
#define HB_ARENA_MIN 8u
#define HB_ARENA_MAX 512u

extern uint64_t hb_arena[HB_ARENA_WORDS];

static inline uint64_t *hb_arena_at(uint32_t off) { return &hb_arena[off]; }

/* A zeroed block of at least words words (<= HB_ARENA_MAX); its offset, and
 * its size in *cap; 0 when the arena is full. */
uint32_t hb_arena_alloc(uint32_t words, uint32_t *cap);
/* Gives back a block of cap words. Lock-free readers may still load from
 * it (their loads are atomic, and they check afterwards that it was still
 * theirs). */
void hb_arena_free(uint32_t off, uint32_t cap);
/* Words handed out from the array so far (free blocks included). */
uint32_t hb_arena_used(void);

#endif
