/*
 * Symbolization with elfutils' libdwfl, built as libmapguard-symbolize.so:
 * not part of libmapguard.so, which dlopen()s it the first time a report
 * needs symbols (symbolize_load.c says why and how). Its one export is
 * mg_symbolizer_v2 (stack.h); the caller holds the symbolization lock, which
 * lives in libmapguard.so so that fork can take it whether or not this
 * object was ever loaded.
 *
 * The process's modules come from the calling thread's maps file
 * (dwfl_linux_proc_maps_report on /proc/thread-self/maps): once the main
 * thread has ended (pthread_exit or thrd_exit from main), /proc/PID/maps,
 * which dwfl_linux_proc_report reads, is empty, and no frame would get a
 * module, a function or a line.
 * A return address becomes one frame per function active at that address:
 * DWARF scopes (dwarf_getscopes_die) give the inlined subroutines, each of
 * which becomes a frame of its own located at its caller's DW_AT_call_file
 * and DW_AT_call_line, as addr2line -i does. Without debug info the frame
 * falls back to the ELF symbol table (for a stripped binary, .dynsym), plus
 * module and offset, which is what a user can feed to addr2line later.
 *
 * Results are cached per address. The module list is reread when the
 * loader's load/unload counters (dl_phdr_info.dlpi_adds/subs) have moved
 * since the last look, i.e. after a dlopen or dlclose.
 */
#include "stack.h"

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cached {
    struct cached *next;
    uintptr_t addr;
    int n;
    struct mg_frame frames[];
};

#define NCACHE 1024u
#define MAX_INLINE 16

static Dwfl *dwfl;
static struct cached *cache[NCACHE];
static unsigned long long seen_adds, seen_subs;
static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

static void free_frame_strings(struct cached *c)
{
    for (int i = 0; i < c->n; i++) {
        free((char *)c->frames[i].module);
        free((char *)c->frames[i].function);
        free((char *)c->frames[i].file);
    }
}

static void drop_cache(void)
{
    for (unsigned i = 0; i < NCACHE; i++) {
        struct cached *c = cache[i];
        while (c) {
            struct cached *next = c->next;
            free_frame_strings(c);
            free(c);
            c = next;
        }
        cache[i] = NULL;
    }
}

static int counters(struct dl_phdr_info *info, size_t size, void *data)
{
    unsigned long long *out = data;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        out[0] = info->dlpi_adds;
        out[1] = info->dlpi_subs;
    }
    return 1;
}

/* (Re)reads the module list when it is missing or the loader changed. */
static bool refresh(void)
{
    unsigned long long c[2] = {0, 0};
    dl_iterate_phdr(counters, c);
    if (dwfl && c[0] == seen_adds && c[1] == seen_subs)
        return true;
    if (!dwfl) {
        dwfl = dwfl_begin(&callbacks);
        if (!dwfl)
            return false;
    }
    /* thread-self: since Linux 3.17 */
    FILE *maps = fopen("/proc/thread-self/maps", "re");
    if (!maps)
        maps = fopen("/proc/self/maps", "re");
    if (!maps)
        return false;
    dwfl_report_begin(dwfl);
    int err = dwfl_linux_proc_maps_report(dwfl, maps);
    dwfl_report_end(dwfl, NULL, NULL);
    fclose(maps);
    if (err != 0) {
        dwfl_end(dwfl);
        dwfl = NULL;
        return false;
    }
    seen_adds = c[0];
    seen_subs = c[1];
    drop_cache();
    return true;
}

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
    if (cu)
        return cu;
    while ((cu = dwfl_module_nextcu(mod, cu, bias)) != NULL)
        if (dwarf_haspc(cu, addr - *bias) == 1)
            return cu;
    return NULL;
}

/* Fills out[] for addr (already moved back into the call instruction). */
static int resolve(uintptr_t addr, struct mg_frame *out, int max)
{
    struct mg_frame base = {.pc = addr, .offset = addr};
    Dwfl_Module *mod = dwfl ? dwfl_addrmodule(dwfl, addr) : NULL;
    if (!mod) {
        out[0] = base;
        return 1;
    }
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
    /* The strings belong to libdwfl until the next refresh: copy them. */
    for (int i = 0; i < n; i++) {
        out[i].module = dupstr(out[i].module);
        out[i].function = dupstr(out[i].function);
        out[i].file = full_path(cu, out[i].file);
    }
    return n;
}

static int symbolize(uintptr_t ret_addr, const struct mg_frame **frames)
{
    /* A return address points after the call; the call is one byte back. */
    uintptr_t addr = ret_addr ? ret_addr - 1 : 0;
    static struct mg_frame unknown;
    refresh();
    unsigned b = (unsigned)((addr >> 4) ^ (addr >> 16)) % NCACHE;
    for (struct cached *c = cache[b]; c; c = c->next)
        if (c->addr == addr) {
            *frames = c->frames;
            return c->n;
        }
    struct mg_frame tmp[MAX_INLINE];
    int n = resolve(addr, tmp, MAX_INLINE);
    struct cached *c = malloc(sizeof *c + (size_t)n * sizeof tmp[0]);
    if (!c) {
        unknown = (struct mg_frame){.pc = addr, .offset = addr};
        *frames = &unknown;
        return 1;
    }
    c->addr = addr;
    c->n = n;
    memcpy(c->frames, tmp, (size_t)n * sizeof tmp[0]);
    c->next = cache[b];
    cache[b] = c;
    *frames = c->frames;
    return n;
}

MG_EXPORT const struct mg_symbolizer mg_symbolizer_v2 = {
    .frame_size = sizeof(struct mg_frame),
    .symbolize = symbolize,
    .unwind_saved = mg_saved_unwind,
};
