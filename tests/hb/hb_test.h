/*
 * Helpers for the happens-before engine's unit tests.
 *
 * The engine takes the thread as an argument, so most tests play several
 * threads from one OS thread, in the order they choose: every interleaving
 * is exact and no test depends on timing. Criterion runs each test in a
 * process of its own, so each starts with empty tables.
 */
#ifndef HB_TEST_H
#define HB_TEST_H

#include <criterion/criterion.h>

#include "gomap_api.h"
#include "hb_access.h"
#include "hb_clock.h"
#include "hb_sync.h"

/* ops, as the wrappers will pass them (gomap_api.h's enum mg_op) */
#define OP_GET MG_OP_GET
#define OP_SET MG_OP_SET
#define OP_NEXT MG_OP_ITER_NEXT

static inline int rd(struct hb_thr *t, struct hb_access *h, uintptr_t pc, struct hb_conflict *c)
{
    return hb_access(h, t, HB_READ, OP_GET, pc, c);
}
static inline int wr(struct hb_thr *t, struct hb_access *h, uintptr_t pc, struct hb_conflict *c)
{
    return hb_access(h, t, HB_WRITE, OP_SET, pc, c);
}
static inline int it(struct hb_thr *t, struct hb_access *h, uintptr_t pc, struct hb_conflict *c)
{
    return hb_access(h, t, HB_ITER, OP_NEXT, pc, c);
}

/* A sync object's address: any distinct, aligned address will do. */
#define OBJ(n) ((uintptr_t)0x10000 + (uintptr_t)(n) * 64)

#define assert_none(expr) cr_assert_eq((expr), HB_RACE_NONE, "%s: want no race", #expr)
#define assert_race(expr, kind) cr_assert_eq((expr), (kind), "%s: want %s", #expr, #kind)

#endif
