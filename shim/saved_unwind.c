/*
 * Unwinding a saved stack (stack_saved.c), in the symbolizer's object: the
 * report that needs it has loaded this object anyway, and a process that
 * never reports never loads libunwind's remote half.
 *
 * libunwind's remote interface does the work: an address space whose
 * accessors read registers from the saved set and stack words from the
 * saved copy. Everything else libunwind reads while stepping is unwind
 * information (.eh_frame_hdr's table, .eh_frame's FDEs and CIEs) in the
 * objects loaded in this very process, which the local address space's
 * find_proc_info locates; those reads are served from memory, but only
 * inside a loaded object's segments: a word a corrupt or cut-off frame
 * points at elsewhere (past the copy's end, into the live stack, nowhere)
 * is refused, and the unwinding stops there instead of faulting.
 */
#include <libunwind.h>

#include "phdr.h"
#include "stack.h"

#include <string.h>

struct ctx {
    const struct mg_saved_stack *s;
    uintptr_t lo, hi; /* the last object segment a read fell in */
};

static unw_accessors_t *local;

struct seg_find {
    uintptr_t addr, lo, hi;
};

static int seg_of(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct seg_find *f = data;
    const ElfW(Phdr) *ph = mg_phdr_load_of(info, f->addr);
    /* the part backed by the file: unwind tables are never in .bss */
    uintptr_t lo = ph ? info->dlpi_addr + ph->p_vaddr : 0;
    if (!ph || !(ph->p_flags & PF_R) || f->addr - lo >= ph->p_filesz)
        return 0;
    f->lo = lo;
    f->hi = lo + ph->p_filesz;
    return 1;
}

static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write, void *arg)
{
    (void)as;
    struct ctx *c = arg;
    const struct mg_saved_stack *s = c->s;
    if (write)
        return -UNW_EINVAL;
    if (s->len >= sizeof *val && addr >= s->sp && addr - s->sp <= s->len - sizeof *val) {
        memcpy(val, s->bytes + (addr - s->sp), sizeof *val);
        return 0;
    }
    if (!(addr >= c->lo && addr + sizeof *val <= c->hi)) {
        struct seg_find f = {.addr = addr};
        if (!dl_iterate_phdr(seg_of, &f) || addr + sizeof *val > f.hi)
            return -UNW_EINVAL;
        c->lo = f.lo;
        c->hi = f.hi;
    }
    memcpy(val, (const void *)(uintptr_t)addr, sizeof *val);
    return 0;
}

static int access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write, void *arg)
{
    (void)as;
    const struct ctx *c = arg;
    if (write || reg < 0 || reg >= MG_SAVED_REGS)
        return -UNW_EBADREG;
    *val = c->s->regs[reg];
    return 0;
}

static int access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write, void *arg)
{
    (void)as, (void)reg, (void)val, (void)write, (void)arg;
    return -UNW_EBADREG;
}

static int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need_unwind_info,
                          void *arg)
{
    return local->find_proc_info(as, ip, pi, need_unwind_info, arg);
}

static void put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
    local->put_unwind_info(as, pi, arg);
}

/* No JIT-registered unwind tables: .eh_frame only. */
static int get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *addr, void *arg)
{
    (void)as, (void)addr, (void)arg;
    return -UNW_ENOINFO;
}

static int resume(unw_addr_space_t as, unw_cursor_t *cur, void *arg)
{
    (void)as, (void)cur, (void)arg;
    return -UNW_EINVAL;
}

static int get_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf, size_t len, unw_word_t *off, void *arg)
{
    (void)as, (void)addr, (void)buf, (void)len, (void)off, (void)arg;
    return -UNW_ENOINFO;
}

/* Called with the symbolization lock held, which guards the address space. */
int mg_saved_unwind(const struct mg_saved_stack *s, uintptr_t *pcs, int max)
{
    static unw_addr_space_t as;
    if (!as) {
        local = unw_get_accessors(unw_local_addr_space);
        if (!local)
            return 0;
        unw_accessors_t acc = {
            .find_proc_info = find_proc_info,
            .put_unwind_info = put_unwind_info,
            .get_dyn_info_list_addr = get_dyn_info_list_addr,
            .access_mem = access_mem,
            .access_reg = access_reg,
            .access_fpreg = access_fpreg,
            .resume = resume,
            .get_proc_name = get_proc_name,
        };
        as = unw_create_addr_space(&acc, 0);
        if (!as)
            return 0;
        /* A library may be unloaded and another mapped at its addresses
         * between two reports: nothing is kept from one unwinding to the
         * next. */
        unw_set_caching_policy(as, UNW_CACHE_NONE);
    }
    struct ctx c = {.s = s};
    unw_cursor_t cur;
    if (unw_init_remote(&cur, as, &c) < 0)
        return 0;
    int n = 0;
    unw_word_t ip;
    while (n < max && unw_step(&cur) > 0 && unw_get_reg(&cur, UNW_REG_IP, &ip) == 0 && ip)
        pcs[n++] = (uintptr_t)ip;
    return n;
}
