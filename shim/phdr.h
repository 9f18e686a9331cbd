/*
 * Where a loaded object's segments are, from dl_iterate_phdr's program
 * headers: for the callbacks that ask "is this address in that object"
 * (intercept.c, stack.c, happens_before.c, symbolize_load.c) and "may it
 * be read" (saved_unwind.c). Header-only: saved_unwind.c is in the
 * symbolizer's object, the others in libmapguard.so.
 */
#ifndef MAPGUARD_PHDR_H
#define MAPGUARD_PHDR_H

#include <elf.h>
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

/* The object's GNU build id (NT_GNU_BUILD_ID, in a PT_NOTE segment), as
 * the linker wrote it: its length, 0 if it has none. Reads only the mapped
 * notes: async-signal-safe. */
static inline size_t mg_phdr_build_id(const struct dl_phdr_info *info, const unsigned char **id)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        /* entries are aligned to the segment's alignment, 4 or 8 */
        size_t align = ph->p_align == 8 ? 8 : 4;
        const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        const unsigned char *end = p + ph->p_filesz;
        while ((size_t)(end - p) >= sizeof(ElfW(Nhdr))) {
            const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)(const void *)p;
            size_t name = (n->n_namesz + align - 1) & ~(align - 1);
            size_t desc = (n->n_descsz + align - 1) & ~(align - 1);
            if (name > (size_t)(end - p) - sizeof *n)
                break;
            const unsigned char *d = p + sizeof *n + name;
            if (desc > (size_t)(end - d))
                break;
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && !__builtin_memcmp(p + sizeof *n, "GNU", 4)) {
                *id = d;
                return n->n_descsz;
            }
            p = d + desc;
        }
    }
    return 0;
}

#endif
