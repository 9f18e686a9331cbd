/*
 * The dense index (shim/dense_index.h) on its own: ids come in order, a
 * small set stays in the one-page first level, a large one reaches the
 * second, every key is found until removed, removed ids come back, and
 * the bound holds.
 */
#include "hb_test.h"
#include "dense_index.h"

#include <stdlib.h>

#define CAP 4096u

static uintptr_t keys[CAP];
static uint32_t mem[MG_DX_WORDS(CAP)];

static uintptr_t key_of(const void *ctx, uint32_t id) { return ((const uintptr_t *)ctx)[id]; }

static long add(struct mg_dx *x, uintptr_t key, bool *fresh)
{
    long id = mg_dx_alloc(x, fresh);
    if (id >= 0) {
        keys[id] = key;
        cr_assert(mg_dx_insert(x, key, (uint32_t)id), "no slot for key %#lx", (unsigned long)key);
    }
    return id;
}

static bool l1_touched(void)
{
    for (size_t i = MG_DX_SLOTS0; i < MG_DX_SLOTS0 + 2 * CAP; i++)
        if (mem[i])
            return true;
    return false;
}

Test(dense_index, ids_in_order_found_removed_reused_bounded)
{
    struct mg_dx x = MG_DX_STATIC(mem, CAP);
    bool fresh;
    /* a few: in order, fresh, found, level 1 untouched */
    for (uintptr_t i = 0; i < 50; i++) {
        cr_assert_eq(add(&x, 0x10000 + 96 * i, &fresh), (long)i);
        cr_assert(fresh);
    }
    for (uintptr_t i = 0; i < 50; i++)
        cr_assert_eq(mg_dx_find(&x, 0x10000 + 96 * i, key_of, keys), (long)i);
    cr_assert_eq(mg_dx_find(&x, 0x10000 + 96 * 50, key_of, keys), -1);
    cr_assert(!x.l1_used && !l1_touched());
    /* up to the bound: the first level overflows into the second */
    for (uintptr_t i = 50; i < CAP; i++)
        cr_assert_eq(add(&x, 0x10000 + 96 * i, &fresh), (long)i);
    cr_assert(x.l1_used && l1_touched());
    cr_assert_eq(mg_dx_alloc(&x, &fresh), -1, "past the bound");
    for (uintptr_t i = 0; i < CAP; i++)
        cr_assert_eq(mg_dx_find(&x, 0x10000 + 96 * i, key_of, keys), (long)i);
    /* removed: not found, the others still are, the ids come back */
    for (uintptr_t i = 0; i < CAP; i += 2) {
        uint32_t id;
        uint32_t *slot = mg_dx_find_slot(&x, 0x10000 + 96 * i, key_of, keys, &id);
        cr_assert(slot && id == i);
        mg_dx_remove(slot);
        mg_dx_release(&x, id);
    }
    for (uintptr_t i = 0; i < CAP; i++)
        cr_assert_eq(mg_dx_find(&x, 0x10000 + 96 * i, key_of, keys), i % 2 ? (long)i : -1);
    for (uintptr_t i = 0; i < CAP / 2; i++) {
        long id = add(&x, 0x900000 + 64 * i, &fresh);
        cr_assert(id >= 0 && id % 2 == 0 && !fresh, "id %ld", id);
    }
    cr_assert_eq(mg_dx_alloc(&x, &fresh), -1);
    for (uintptr_t i = 0; i < CAP / 2; i++)
        cr_assert_geq(mg_dx_find(&x, 0x900000 + 64 * i, key_of, keys), 0);
    cr_assert_eq(mg_dx_used(&x), CAP);
}
