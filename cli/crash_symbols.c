/*
 * Names for the frames of crash records, and of findings written while the
 * process was crashing. The shim's deadly-signal handler may not symbolize
 * (libdw allocates and takes locks, and the process is dying), so it
 * writes module and offset only: for the crash, and for a finding still in
 * flight then (a race found while the other call was inside, whose report
 * was waiting for that call's stack: inflight.c writes it from the
 * handler). The names are filled in here, after the run, from the module
 * files themselves: each module path
 * is opened offline with libdwfl once, and an offset becomes frames with
 * shim/symbolize_dwarf.c, the code the detector's live symbolizer uses,
 * inlined calls expanded the same way.
 *
 * Offline, an ET_DYN module is laid out at an address of libdwfl's choosing
 * (dwfl_offline_section_address); the record's offset is relative to where
 * the module was loaded, so the address to look up is offset plus that
 * layout's bias. A module that cannot be opened, that is another build than
 * the one that crashed (its GNU build id differs from the record's; for a
 * record or a module without one, the file was modified after the log was
 * written), or that does not hold the offset, leaves the frame as it was:
 * no name beats a wrong one. So a log taken to another machine is named
 * only from the same builds there.
 */
#include "cli.h"
#include "symbolize_dwarf.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct module {
    struct module *next;
    char *path;
    Dwfl *dwfl;         /* NULL: the module could not be opened */
    Dwfl_Module *mod;
    GElf_Addr bias;     /* where libdwfl laid it out */
    Dwarf_Addr start, end;
    struct timespec mtime;
    char *build_id;     /* lower-case hex, NULL if it has none */
} module;

struct mgc_symbols {
    module *mods;
};

static char *debuginfo_path;
static const Dwfl_Callbacks offline = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

mgc_symbols *mg_symbols_new(void)
{
    return calloc(1, sizeof(mgc_symbols));
}

void mg_symbols_free(mgc_symbols *s)
{
    if (!s)
        return;
    for (module *m = s->mods, *next; m; m = next) {
        next = m->next;
        if (m->dwfl)
            dwfl_end(m->dwfl);
        free(m->path);
        free(m->build_id);
        free(m);
    }
    free(s);
}

static void open_module(module *m)
{
    struct stat st;
    if (stat(m->path, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    m->mtime = st.st_mtim;
    Dwfl *d = dwfl_begin(&offline);
    if (!d)
        return;
    dwfl_report_begin(d);
    Dwfl_Module *mod = dwfl_report_offline(d, m->path, m->path, -1);
    dwfl_report_end(d, NULL, NULL);
    if (!mod || !dwfl_module_getelf(mod, &m->bias)) {
        dwfl_end(d);
        return;
    }
    dwfl_module_info(mod, NULL, &m->start, &m->end, NULL, NULL, NULL, NULL);
    m->dwfl = d;
    m->mod = mod;
    const unsigned char *bits;
    GElf_Addr vaddr;
    int n = dwfl_module_build_id(mod, &bits, &vaddr);
    if (n > 0 && (m->build_id = malloc(2 * (size_t)n + 1)) != NULL) {
        for (int i = 0; i < n; i++)
            snprintf(m->build_id + 2 * i, 3, "%02x", bits[i]);
    }
}

/* The module at path, opened on first use; each path is tried once. */
static module *find_module(mgc_symbols *s, const char *path)
{
    for (module *m = s->mods; m; m = m->next)
        if (strcmp(m->path, path) == 0)
            return m;
    module *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(path))) {
        free(m);
        return NULL;
    }
    open_module(m);
    m->next = s->mods;
    s->mods = m;
    return m;
}

static bool newer(struct timespec a, struct timespec b)
{
    return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

static void keep_field(json_t *o, json_t *fr, const char *key)
{
    json_t *v = json_object_get(fr, key);
    if (v)
        json_object_set(o, key, v);
    else
        json_object_del(o, key);
}

/* The frames for fr (not stolen) as a new array, or NULL to leave it. */
static json_t *symbolize_frame(mgc_symbols *s, json_t *fr, const struct timespec *logged)
{
    const char *path = mg_str(fr, "module");
    json_t *fn = json_object_get(fr, "function");
    if (!path || (fn && !json_is_null(fn)))
        return NULL;
    char off[32];
    mg_hex_field(fr, "offset", off, sizeof off);
    char *end;
    unsigned long long offset = strtoull(off, &end, 16);
    if (end == off || *end)
        return NULL;
    module *m = find_module(s, path);
    if (!m || !m->mod)
        return NULL;
    /* The same build, or the record predates build ids and the file must
     * not be newer than the log. */
    const char *id = mg_str(fr, "build_id");
    if (id ? !m->build_id || strcmp(id, m->build_id) != 0 : logged && newer(m->mtime, *logged))
        return NULL;
    Dwarf_Addr addr = m->bias + offset;
    if (addr < m->start || addr >= m->end)
        return NULL;
    struct mg_frame frames[MG_MAX_INLINE];
    int n = mg_dwarf_resolve(m->mod, (uintptr_t)addr, frames, MG_MAX_INLINE);
    json_t *out = NULL;
    if (n > 0 && (frames[0].function || frames[0].file)) {
        out = json_array();
        for (int i = 0; i < n; i++) {
            json_t *o = mg_frame_json(&frames[i]);
            /* pc, module and offset as the record had them: the frames
             * gain names, the process's addresses stay. */
            keep_field(o, fr, "pc");
            keep_field(o, fr, "module");
            keep_field(o, fr, "offset");
            keep_field(o, fr, "build_id");
            json_array_append_new(out, o);
        }
    }
    mg_dwarf_free_frames(frames, n);
    return out;
}

static void symbolize_stack(mgc_symbols *s, json_t *stack, const struct timespec *logged)
{
    for (size_t i = 0; i < json_array_size(stack);) {
        json_t *frames = symbolize_frame(s, json_array_get(stack, i), logged);
        if (!frames) {
            i++;
            continue;
        }
        size_t n = json_array_size(frames);
        json_array_remove(stack, i);
        for (size_t j = 0; j < n; j++)
            json_array_insert(stack, i + j, json_array_get(frames, j));
        json_decref(frames);
        i += n;
    }
}

void mg_symbolize_crash(mgc_symbols *s, json_t *rec, const struct timespec *logged)
{
    json_t *stack = json_object_get(rec, "stack");
    if (s && json_is_array(stack))
        symbolize_stack(s, stack, logged);
}

/* Does this stack have a frame with a module and no function? */
static bool unnamed(json_t *stack)
{
    size_t i;
    json_t *fr;
    json_array_foreach(stack, i, fr) {
        json_t *fn = json_object_get(fr, "function");
        if (mg_str(fr, "module") && (!fn || json_is_null(fn)))
            return true;
    }
    return false;
}

/* Every stack of a finding (report-format.md): a party's or a site's
 * "stack", a thread's "created", at whatever depth ("modification" and
 * "iterator" hold a site, each site and party a thread). */
static void each_stack(json_t *obj, void (*fn)(json_t *stack, void *arg), void *arg)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        if (json_is_object(v))
            each_stack(v, fn, arg);
        else if (json_is_array(v) && (strcmp(key, "stack") == 0 || strcmp(key, "created") == 0))
            fn(v, arg);
    }
}

static void note_unnamed(json_t *stack, void *arg)
{
    if (unnamed(stack))
        *(bool *)arg = true;
}

bool mg_finding_unnamed(json_t *rec)
{
    bool any = false;
    each_stack(rec, note_unnamed, &any);
    return any;
}

struct named_by {
    mgc_symbols *s;
    const struct timespec *logged;
};

static void name_stack(json_t *stack, void *arg)
{
    const struct named_by *by = arg;
    if (unnamed(stack))
        symbolize_stack(by->s, stack, by->logged);
}

void mg_symbolize_finding(mgc_symbols *s, json_t *rec, const struct timespec *logged)
{
    if (!s)
        return;
    struct named_by by = {s, logged};
    each_stack(rec, name_stack, &by);
}
