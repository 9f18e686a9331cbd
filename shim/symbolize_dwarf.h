/*
 * From a libdwfl module and an address in it to frames with function, file
 * and line, inlined calls expanded (symbolize_dwarf.c). Shared by the live
 * symbolizer (symbolize.c, in libmapguard-symbolize.so), which finds the
 * module in the running process, and the CLI (cli/crash_symbols.c), which
 * opens it offline from a crash record's module path: both then print the
 * same frames for the same code.
 */
#ifndef MAPGUARD_SYMBOLIZE_DWARF_H
#define MAPGUARD_SYMBOLIZE_DWARF_H

#include "stack.h"

#include <elfutils/libdwfl.h>

/* The most frames one address gives (inlined bodies and their caller). */
#define MG_MAX_INLINE 16

/* Fills out[0..max) for addr, an address of mod's (already moved back into
 * the call instruction for a return address): one frame per function
 * active there, innermost first, each inlined body at its caller's call
 * site, as addr2line -i does; without debug info, one frame named from the
 * ELF symbol table. pc is addr, offset addr minus the module's load bias.
 * The strings are malloc'd copies the caller frees (mg_dwarf_free_frames).
 * Returns the number of frames, at least 1. */
int mg_dwarf_resolve(Dwfl_Module *mod, uintptr_t addr, struct mg_frame *out, int max);
/* Frees the strings of frames[0..n). */
void mg_dwarf_free_frames(struct mg_frame *frames, int n);

#endif
