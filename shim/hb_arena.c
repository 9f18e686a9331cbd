/*
 * Happens-before engine: the clock arena (hb_arena.h).
 */
#include "hb_arena.h"

MG_LARGE_BSS uint64_t hb_arena[HB_ARENA_WORDS] __attribute__((aligned(64)));

#define NCLASS 7 /* 8 << 0 .. 8 << 6 words */

static uint32_t bump = HB_ARENA_MIN; /* offset 0 stays "none" */
/* Free stacks: tag:32 | offset:32. The link of a free block is kept
 * beside the array, not in the block, so that a lock-free reader still
 * looking at a freed block reads only clock values. */
static uint64_t heads[NCLASS];
static MG_LARGE_BSS uint32_t links[HB_ARENA_WORDS / HB_ARENA_MIN];

static unsigned class_of(uint32_t words)
{
    unsigned c = 0;
    while ((HB_ARENA_MIN << c) < words)
        c++;
    return c;
}

uint32_t hb_arena_alloc(uint32_t words, uint32_t *cap)
{
    if (words == 0 || words > HB_ARENA_MAX)
        return 0;
    unsigned c = class_of(words);
    uint32_t size = HB_ARENA_MIN << c;
    uint32_t off = 0;
    uint64_t h = __atomic_load_n(&heads[c], __ATOMIC_ACQUIRE);
    while ((uint32_t)h) {
        uint32_t top = (uint32_t)h;
        uint64_t next = (h & ~0xffffffffull) + (1ull << 32) + HB_LD(links[top / HB_ARENA_MIN]);
        if (__atomic_compare_exchange_n(&heads[c], &h, next, true, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
            off = top;
            break;
        }
    }
    if (!off) {
        uint32_t b = HB_LD(bump);
        do {
            if (b > HB_ARENA_WORDS - size)
                return 0;
        } while (!__atomic_compare_exchange_n(&bump, &b, b + size, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
        off = b;
    }
    for (uint32_t i = 0; i < size; i++)
        HB_ST(hb_arena[off + i], 0);
    *cap = size;
    return off;
}

void hb_arena_free(uint32_t off, uint32_t cap)
{
    if (!off)
        return;
    unsigned c = class_of(cap);
    uint64_t h = __atomic_load_n(&heads[c], __ATOMIC_RELAXED);
    do {
        HB_ST(links[off / HB_ARENA_MIN], (uint32_t)h);
    } while (!__atomic_compare_exchange_n(&heads[c], &h, ((h & ~0xffffffffull) + (1ull << 32)) | off, true,
                                          __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

uint32_t hb_arena_used(void) { return HB_LD(bump) - HB_ARENA_MIN; }
