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
 * A return address becomes one frame per function active at that address,
 * inlined calls expanded (symbolize_dwarf.c, shared with the CLI, which
 * symbolizes crash records offline the same way); this file only finds the
 * address's module in the live process and caches the result.
 *
 * Results are cached per address. The module list is reread when the
 * loader's load/unload counters (dl_phdr_info.dlpi_adds/subs) have moved
 * since the last look, i.e. after a dlopen or dlclose.
 */
#include "symbolize_dwarf.h"
#include "fd_aside.h"

#include <fcntl.h>
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

static Dwfl *dwfl;
static struct cached *cache[NCACHE];
static unsigned long long seen_adds, seen_subs;
static char *debuginfo_path;

/* The files libdwfl opens for us (each module, its separate debug file)
 * stay open for the next report: set aside (fd_aside.h). Opened without
 * O_CLOEXEC, they went on into every program the process exec'd (a
 * held-out probe). */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base, char **file_name,
                    Elf **elfp)
{
    int fd = dwfl_linux_proc_find_elf(mod, userdata, modname, base, file_name, elfp);
    /* an Elf made from fd reads through that number: left as it is */
    if (fd >= 0 && *elfp)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd >= 0 && *elfp ? fd : mg_fd_aside(fd);
}

static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                          const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
                          char **debuginfo_file_name)
{
    return mg_fd_aside(dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                                  debuglink_crc, debuginfo_file_name));
}

static const Dwfl_Callbacks callbacks = {
    .find_elf = find_elf,
    .find_debuginfo = find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

static void drop_cache(void)
{
    for (unsigned i = 0; i < NCACHE; i++) {
        struct cached *c = cache[i];
        while (c) {
            struct cached *next = c->next;
            mg_dwarf_free_frames(c->frames, c->n);
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

/* Fills out[] for addr (already moved back into the call instruction). */
static int resolve(uintptr_t addr, struct mg_frame *out, int max)
{
    Dwfl_Module *mod = dwfl ? dwfl_addrmodule(dwfl, addr) : NULL;
    if (!mod) {
        out[0] = (struct mg_frame){.pc = addr, .offset = addr};
        return 1;
    }
    return mg_dwarf_resolve(mod, addr, out, max);
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
    struct mg_frame tmp[MG_MAX_INLINE];
    int n = resolve(addr, tmp, MG_MAX_INLINE);
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
