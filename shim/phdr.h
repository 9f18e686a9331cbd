/*
 * Where a loaded object's segments are, from dl_iterate_phdr's program
 * headers: for the callbacks that ask "is this address in that object"
 * (intercept.c, stack.c, happens_before.c, symbolize_load.c) and "may it
 * be read" (saved_unwind.c). Header-only: saved_unwind.c is in the
 * symbolizer's object, the others in libmapguard.so.
 */
#ifndef MAPGUARD_PHDR_H
#define MAPGUARD_PHDR_H

#include <link.h>
#include <stddef.h>
#include <stdint.h>

/* The PT_LOAD segment of the object that holds addr (within its memory
 * size), or NULL. */
static inline const ElfW(Phdr) *mg_phdr_load_of(const struct dl_phdr_info *info, uintptr_t addr)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && addr >= lo && addr - lo < ph->p_memsz)
            return ph;
    }
    return NULL;
}

/* From the start of the object's lowest PT_LOAD segment to the end of its
 * highest; lo > hi if it has none. */
static inline void mg_phdr_span(const struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi)
{
    *lo = UINTPTR_MAX;
    *hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (a < *lo)
            *lo = a;
        if (a + ph->p_memsz > *hi)
            *hi = a + ph->p_memsz;
    }
}

#endif
