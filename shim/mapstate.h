/*
 * Per-map and per-iterator detector state, kept inside the objects.
 *
 * libgomap reserves 12 zeroed words at the start of every map and 4 words in
 * every iterator for a tool (gomap.h). Keeping all state there means the
 * fast path needs no side table, no allocation and no lock: a read is two
 * loads of the sync word; a write is plain stores, no locked instruction:
 * the sync word on entry (its mark) and on exit (the mark cleared), and
 * lastw. Compare-and-swap is left to the slow paths (detect_race.c), run
 * only when the word shows another thread.
 *
 * Map words:
 *   0 hdr     magic:24 | state:8 | created stack id:32
 *   1 sync    gen:32 | spare:7 | REQ:1 | last write op:4 | writer op:4 | writer thread:16
 *   2 equal   the type's equal function when it may be irreflexive, else 0
 *   3 lastw   call site of the latest write: pc:48 | thread:16
 *   4 lastmod call site of the latest structural change: pc:48 | thread:16;
 *             after gomap_free: the free's stack id
 *   5 shape   structural generation:32 | ever iterated:1 | last structural op:7 |
 *             key size:24
 *   6 made    call site of gomap_new: pc:48 | thread:16
 *   7 pub     a stack handed over on request: 1:1 | thread:16 | ... | stack id:32
 *   8-11 hb   the happens-before engine's access history (struct hb_access,
 *             happens_before.c); zero while it is off or dormant
 *
 * Thread numbers are indexes into thread_table.c's table (0 = none), not tids:
 * a tid needs 22 bits, a pc 47, and both must share a word.
 *
 * Iterator words:
 *   0 map     the map the iterator walks (0 for the nil map)
 *   1 gen     structural generation seen at init or the last step:32 |
 *             init thread:16 | magic:16
 *   2 site    call site of gomap_iter_init
 *   3         reserved for the happens-before engine
 */
#ifndef MAPGUARD_MAPSTATE_H
#define MAPGUARD_MAPSTATE_H

#include "common.h"

enum {
    MW_HDR, MW_SYNC, MW_EQUAL, MW_LASTW, MW_LASTMOD, MW_SHAPE, MW_MADE, MW_PUB,
    MW_HB, /* words 8-11: the happens-before access history (hb_access.h) */
};
enum { IW_MAP, IW_GEN, IW_SITE, IW_SPARE };

#define MG_MAGIC 0x6d6731u /* "mg1" */
enum { MS_LIVE = 1, MS_FREED = 2 };

#define MG_RD(w) __atomic_load_n(&(w), __ATOMIC_RELAXED)
#define MG_WR(w, v) __atomic_store_n(&(w), (v), __ATOMIC_RELAXED)

static inline uint64_t *mg_words(const gomap *m) { return GOMAP_MAP_TOOL_WORDS(m); }

/* ---- hdr ---- */
static inline uint64_t hdr_make(unsigned state, uint32_t created)
{
    return (uint64_t)MG_MAGIC << 40 | (uint64_t)state << 32 | created;
}
static inline unsigned hdr_state(uint64_t h)
{
    return (h >> 40) == MG_MAGIC ? (unsigned)(h >> 32) & 0xff : 0;
}
static inline uint32_t hdr_created(uint64_t h) { return (uint32_t)h; }

/* ---- sync ---- */
#define SY_WIDX_MASK 0xffffull
#define SY_WOP_SHIFT 16
#define SY_LOP_SHIFT 20
#define SY_REQ (1ull << 24)
#define SY_GEN1 (1ull << 32)
static inline uint32_t sy_writer(uint64_t s) { return (uint32_t)(s & SY_WIDX_MASK); }
static inline unsigned sy_op(uint64_t s) { return (unsigned)(s >> SY_WOP_SHIFT) & 0xf; }
static inline unsigned sy_lastop(uint64_t s) { return (unsigned)(s >> SY_LOP_SHIFT) & 0xf; }
/* The writer's entry: next generation, this thread and op as the writer. */
static inline uint64_t sy_enter(uint64_t s, uint32_t self, unsigned op)
{
    s &= ~(SY_WIDX_MASK | 0xffull << SY_WOP_SHIFT | SY_REQ);
    return (s + SY_GEN1) | self | (uint64_t)op << SY_WOP_SHIFT | (uint64_t)op << SY_LOP_SHIFT;
}
/* The writer's exit: no writer, generation and last op kept. */
static inline uint64_t sy_leave(uint64_t s)
{
    return s & ~(SY_WIDX_MASK | 0xfull << SY_WOP_SHIFT | SY_REQ);
}

/* ---- call sites: pc:48 | thread:16 ---- */
static inline uint64_t site_make(uintptr_t pc, uint32_t idx)
{
    return (uint64_t)pc << 16 | (idx & 0xffff);
}
static inline uintptr_t site_pc(uint64_t s) { return (uintptr_t)(s >> 16); }
static inline uint32_t site_thread(uint64_t s) { return (uint32_t)(s & 0xffff); }

/* ---- shape ---- */
#define SH_ITERATED (1ull << 31)
/* Set at gomap_new, never changed: the map's solo calls keep a frame and
 * an exit (detect.h, the solo path). Its type has a hash or equal
 * function of the program's, which may make a thread inside a call and
 * sync after it, or an equal function that can say a key is not itself;
 * or libgomap's place was not known (loaded by a dlopen), so a bare
 * call's word could not be told from a stale one (in_call.h). */
#define SH_FRAMED (1ull << 30)
static inline uint32_t shape_gen(uint64_t s) { return (uint32_t)(s >> 32); }
static inline unsigned shape_op(uint64_t s) { return (unsigned)(s >> 24) & 0x3f; }
static inline size_t shape_ksize(uint64_t s) { return (size_t)(s & 0xffffff); }
static inline uint64_t shape_make(uint32_t gen, unsigned op, size_t ksize)
{
    return (uint64_t)gen << 32 | (uint64_t)(op & 0x3f) << 24 | (ksize & 0xffffff);
}

/* ---- pub ---- */
#define PUB_VALID (1ull << 63)
static inline uint64_t pub_make(uint32_t idx, uint32_t stack)
{
    return PUB_VALID | (uint64_t)(idx & 0xffff) << 32 | stack;
}
static inline uint32_t pub_thread(uint64_t p) { return (uint32_t)(p >> 32) & 0xffff; }

/* ---- iterators ---- */
#define IT_MAGIC 0x4d49u
static inline uint64_t it_gen_make(uint32_t gen, uint32_t idx)
{
    return (uint64_t)gen << 32 | (uint64_t)(idx & 0xffff) << 16 | IT_MAGIC;
}
static inline bool it_valid(uint64_t g) { return (g & 0xffff) == IT_MAGIC; }
static inline uint32_t it_gen(uint64_t g) { return (uint32_t)(g >> 32); }
static inline uint32_t it_thread(uint64_t g) { return (uint32_t)(g >> 16) & 0xffff; }

#endif
