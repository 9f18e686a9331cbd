/*
 * A libdwfl module and an address in it, to frames (symbolize_dwarf.h).
 * DWARF scopes (dwarf_getscopes_die) give the inlined subroutines at the
 * address, each of which becomes a frame of its own located at its
 * caller's DW_AT_call_file and DW_AT_call_line, as addr2line -i does.
 * Without debug info the frame falls back to the ELF symbol table (for a
 * stripped binary, .dynsym), plus module and offset, which is what a user
 * can feed to addr2line later. No state: where the module comes from (the
 * live process, or a file opened offline) is the caller's business.
 */
#include "symbolize_dwarf.h"

#include <dwarf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dupstr(const char *s) { return s ? strdup(s) : NULL; }

/* DW_AT_comp_dir + name, when the line table gives a relative name. */
static char *full_path(Dwarf_Die *cu, const char *name)
{
    if (!name)
        return NULL;
    if (name[0] == '/' || !cu)
        return strdup(name);
    Dwarf_Attribute a;
    const char *dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &a));
    if (!dir)
        return strdup(name);
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute a;
    const char *n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
    if (!n)
        n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
    return n;
}

static int udata(Dwarf_Die *die, int at)
{
    Dwarf_Attribute a;
    Dwarf_Word w;
    if (dwarf_formudata(dwarf_attr(die, at, &a), &w) != 0)
        return 0;
    return (int)w;
}

static const char *call_file(Dwarf_Die *cu, Dwarf_Die *die)
{
    Dwarf_Attribute a;
    Dwarf_Word idx;
    Dwarf_Files *files;
    size_t nfiles;
    if (dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &a), &idx) != 0)
        return NULL;
    if (dwarf_getsrcfiles(cu, &files, &nfiles) != 0 || idx >= nfiles)
        return NULL;
    return dwarf_filesrc(files, idx, NULL, NULL);
}

/* The compile unit holding addr. libdw looks it up in .debug_aranges,
 * which clang does not emit; then the units' own ranges are searched. */
static Dwarf_Die *find_cu(Dwfl_Module *mod, Dwarf_Addr addr, Dwarf_Addr *bias)
{
    Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, bias);
    /* Not when the unit's own ranges say no: the aranges may give the
     * nearest unit for an address in none (crt1's _start after an -O2
     * unit), and its line table then its nearest line, a wrong one. */
    if (cu && dwarf_haspc(cu, addr - *bias) != 0)
        return cu;
    cu = NULL;
    while ((cu = dwfl_module_nextcu(mod, cu, bias)) != NULL)
        if (dwarf_haspc(cu, addr - *bias) == 1)
            return cu;
    return NULL;
}

int mg_dwarf_resolve(Dwfl_Module *mod, uintptr_t addr, struct mg_frame *out, int max)
{
    struct mg_frame base = {.pc = addr, .offset = addr};
    const char *mainfile = NULL;
    const char *mname = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &mainfile, NULL);
    GElf_Addr bias = 0;
    dwfl_module_getelf(mod, &bias);
    base.module = mainfile ? mainfile : mname;
    base.offset = addr - bias;

    GElf_Off soff;
    GElf_Sym sym;
    base.function = dwfl_module_addrinfo(mod, addr, &soff, &sym, NULL, NULL, NULL);

    Dwarf_Addr dbias = 0;
    Dwarf_Die *cu = find_cu(mod, addr, &dbias);
    Dwarf_Line *line = cu ? dwarf_getsrc_die(cu, addr - dbias) : NULL;
    if (line) {
        base.file = dwarf_linesrc(line, NULL, NULL);
        dwarf_lineno(line, &base.line);
        dwarf_linecol(line, &base.column);
    }

    /* dwarf_getscopes gives the innermost scope at addr; its concrete
     * parents (an inlined body inside its caller, and so on up to the real
     * function) come from dwarf_getscopes_die on that scope. */
    Dwarf_Die *inner = NULL, *scopes = NULL;
    int nscopes = 0;
    if (cu && dwarf_getscopes(cu, addr - dbias, &inner) > 0)
        nscopes = dwarf_getscopes_die(&inner[0], &scopes);
    free(inner);
    int n = 0;
    const char *file = base.file;
    int lineno = base.line, col = base.column;
    for (int i = 0; i < nscopes && n < max; i++) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
            continue;
        struct mg_frame f = base;
        const char *fn = die_name(&scopes[i]);
        if (fn)
            f.function = fn;
        f.file = file;
        f.line = lineno;
        f.column = col;
        f.inlined = tag == DW_TAG_inlined_subroutine;
        out[n++] = f;
        if (!f.inlined)
            break;
        /* The caller's frame sits where this inlined body was called. */
        file = call_file(cu, &scopes[i]);
        lineno = udata(&scopes[i], DW_AT_call_line);
        col = udata(&scopes[i], DW_AT_call_column);
    }
    free(scopes);
    if (n == 0)
        out[n++] = base;
    /* The strings belong to libdwfl, whose caller may end it: copy them. */
    for (int i = 0; i < n; i++) {
        out[i].module = dupstr(out[i].module);
        out[i].function = dupstr(out[i].function);
        out[i].file = full_path(cu, out[i].file);
    }
    return n;
}

void mg_dwarf_free_frames(struct mg_frame *frames, int n)
{
    for (int i = 0; i < n; i++) {
        free((char *)frames[i].module);
        free((char *)frames[i].function);
        free((char *)frames[i].file);
    }
}
