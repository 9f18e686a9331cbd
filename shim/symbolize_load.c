/*
 * Symbolization, loaded when the first report needs it.
 *
 * Why the symbolizer is an object of its own: libdw and the libraries it
 * pulls in (libelf, libz, liblzma, libbz2) cost every process the shim is
 * preloaded into about half a megabyte of resident memory, for relocations
 * and constructors that touch their pages, and most processes never report
 * anything. So symbolize.c is built as libmapguard-symbolize.so, and the
 * first mg_symbolize call dlopen()s it from the directory libmapguard.so
 * was loaded from.
 *
 * Why a helper thread makes that dlopen call: dlopen takes the loader's
 * lock, and another thread may hold it for as long as a library
 * constructor runs. If that constructor waits for the reporting thread
 * (joins it, wants a mutex the application holds around its map call, or
 * reports too and wants the symbolization lock held here), a dlopen made by
 * the reporting thread would never return. The reporting thread therefore
 * waits for the helper at most LOAD_WAIT_MS; past that, its report goes out
 * with module+offset frames, and the helper finishes whenever the loader
 * lets it. Creating the helper takes no loader lock. A thread that is
 * itself inside the loader (a constructor run by dlopen, a destructor run by
 * dlclose) may hold that lock, which would keep the helper waiting until the
 * report is done; it calls dlopen itself, and the lock lets it in again.
 *
 * Without the symbolizer (missing, not loadable, from another build, or not
 * loaded in time) every address gets one frame with module and offset,
 * found with dl_iterate_phdr: it takes only the lock that guards the list
 * of objects, which no constructor runs under. dladdr would add a name from
 * .dynsym, but takes the loader's lock, the one that may be held.
 */
#include "render.h"
#include "phdr.h"
#include "report_stack.h"
#include "stack.h"
#include "log.h"
#include "owned_lock.h"
#include "thread_table.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

/* Loading takes a few milliseconds; the limit only matters when the loader
 * lock is held by someone who will not let go before we do. Once a report
 * has waited that long in vain, later ones wait a tenth of it: enough for a
 * helper that has just got the lock, not a second per report for one that
 * never will. */
#define LOAD_WAIT_MS 1000

enum { SYM_NONE, SYM_LOADING, SYM_READY, SYM_FAILED };

static struct mg_owned_lock lock = MG_OWNED_LOCK_INIT(MG_LOCK_SYMBOLIZE);
static int state; /* SYM_*, written by the loader, read under the lock */
static const struct mg_symbolizer *sym; /* published before SYM_READY */
static const struct mg_renderer *rend; /* the same object's renderer, likewise */
static bool gave_up; /* a report has waited LOAD_WAIT_MS in vain */
static bool waited; /* ... and so has the holder of the lock: no more waits */
static int warned; /* the failure has been told on stderr */

void mg_symbolize_lock(void)
{
    mg_owned_lock(&lock);
    waited = false;
}
void mg_symbolize_unlock(void) { mg_owned_unlock(&lock); }
bool mg_symbolize_lock_held_here(void) { return mg_owned_held_here(&lock); }

void mg_symbolize_atfork_child(void)
{
    mg_owned_reinit(&lock);
    /* A helper still loading did not come along: the child tries afresh. */
    if (__atomic_load_n(&state, __ATOMIC_ACQUIRE) == SYM_LOADING) {
        __atomic_store_n(&state, SYM_NONE, __ATOMIC_RELEASE);
        gave_up = false;
    }
}

/* ---- finding and loading the object ---- */

/* The absolute path of the file mapped at addr, from this thread's maps
 * file: the name the loader keeps may be relative to a directory we have
 * left. /proc/self/maps is empty once the main thread has ended
 * (symbolize.c). */
static bool mapped_path(uintptr_t addr, char *out, size_t len)
{
    FILE *f = fopen("/proc/thread-self/maps", "re");
    if (!f)
        f = fopen("/proc/self/maps", "re");
    if (!f)
        return false;
    char *line = NULL;
    size_t cap = 0;
    bool found = false;
    while (!found && getline(&line, &cap, f) > 0) {
        unsigned long lo, hi;
        int pos = 0;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &pos) < 2 || pos == 0)
            continue;
        if (addr < lo || addr >= hi || line[pos] != '/')
            continue;
        line[strcspn(line, "\n")] = 0;
        found = strlen(line + pos) < len;
        if (found)
            strcpy(out, line + pos);
    }
    free(line);
    fclose(f);
    return found;
}

/* MG_SYMBOLIZER_SO in the directory libmapguard.so came from. */
static bool symbolizer_path(char *out, size_t len)
{
    Dl_info info;
    char self[PATH_MAX];
    if (!dladdr((const void *)(uintptr_t)mg_symbolize, &info) || !info.dli_fname)
        return false;
    if (info.dli_fname[0] == '/' || !mapped_path((uintptr_t)mg_symbolize, self, sizeof self)) {
        if (strlen(info.dli_fname) >= sizeof self)
            return false;
        strcpy(self, info.dli_fname);
    }
    char *slash = strrchr(self, '/');
    int n = slash ? snprintf(out, len, "%.*s/%s", (int)(slash - self), self, MG_SYMBOLIZER_SO)
                  : snprintf(out, len, "%s", MG_SYMBOLIZER_SO);
    return n > 0 && (size_t)n < len;
}

static void load(void)
{
    char path[PATH_MAX] = MG_SYMBOLIZER_SO;
    const char *why = NULL;
    const struct mg_symbolizer *s = NULL;
    const struct mg_renderer *r = NULL;
    void *h = NULL;
    if (!symbolizer_path(path, sizeof path))
        why = "cannot tell which directory libmapguard.so was loaded from";
    else if (!(h = dlopen(path, RTLD_NOW | RTLD_LOCAL)))
        why = dlerror();
    else if (!(s = dlsym(h, MG_SYMBOLIZER_ENTRY)) || s->frame_size != sizeof(struct mg_frame) ||
             !(r = dlsym(h, MG_RENDERER_ENTRY)))
        why = "it is from another build of mapguard";
    if (why) {
        if (h)
            dlclose(h);
        if (!__atomic_exchange_n(&warned, 1, __ATOMIC_ACQ_REL))
            mg_log(0,
                   "cannot load the symbolizer %s: %s; findings will be plainer records with module and offset "
                   "frames only",
                   path, why);
        __atomic_store_n(&state, SYM_FAILED, __ATOMIC_RELEASE);
        return;
    }
    __atomic_store_n(&sym, s, __ATOMIC_RELEASE);
    __atomic_store_n(&rend, r, __ATOMIC_RELEASE);
    __atomic_store_n(&state, SYM_READY, __ATOMIC_RELEASE);
}

static void *load_thread(void *arg)
{
    (void)arg;
    /* What the loaded libraries' constructors call is the shim's doing,
     * not the program's: keep the detector out of it. */
    mg_busy_enter();
    load();
    return NULL;
}

static void start_loading(void)
{
    __atomic_store_n(&state, SYM_LOADING, __ATOMIC_RELEASE);
    /* No thread to spare: load here, unbounded, rather than not at all. */
    if (mg_spawn_helper(load_thread) != 0)
        load();
}

struct range {
    uintptr_t base, lo, hi;
};

static int find_loader(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct range *r = data;
    if (info->dlpi_addr != r->base)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            r->lo = info->dlpi_addr + ph->p_vaddr;
            r->hi = r->lo + ph->p_memsz;
            return 1;
        }
    }
    return 0;
}

/* Does the calling thread have a frame in the dynamic loader? A report
 * runs on a stack of its own: the program's frames are below the switch. */
static bool in_loader(void)
{
    struct range r = {.base = getauxval(AT_BASE)};
    if (!r.base)
        return false;
    dl_iterate_phdr(find_loader, &r);
    uintptr_t pcs[MG_MAX_DEPTH];
    void *caller = mg_report_stack_caller();
    int n = caller ? mg_stack_capture_signal(caller, pcs, MG_MAX_DEPTH) : mg_stack_capture(pcs, MG_MAX_DEPTH);
    for (int i = 0; i < n; i++)
        if (pcs[i] >= r.lo && pcs[i] < r.hi)
            return true;
    return false;
}

static long ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The symbolizer, or NULL to fall back. Called with the lock held. */
static const struct mg_symbolizer *symbolizer(void)
{
    int st = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
    if (st == SYM_NONE || st == SYM_LOADING) {
        if (in_loader()) {
            /* Even with a helper at work: it may be waiting for us. */
            __atomic_store_n(&state, SYM_LOADING, __ATOMIC_RELEASE);
            load();
        } else if (st == SYM_NONE) {
            start_loading();
        }
        st = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
    }
    if (st == SYM_LOADING && !waited) {
        long limit = gave_up ? LOAD_WAIT_MS / 10 : LOAD_WAIT_MS;
        struct timespec t0, pause = {0, 200 * 1000};
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while ((st = __atomic_load_n(&state, __ATOMIC_ACQUIRE)) == SYM_LOADING && ms_since(&t0) < limit)
            nanosleep(&pause, NULL);
        waited = st == SYM_LOADING;
        if (st == SYM_LOADING && !gave_up) {
            gave_up = true;
            mg_log(0, "the symbolizer is still loading after %d ms (is the loader busy in a library "
                      "constructor?); stack frames have module and offset until it is loaded",
                   LOAD_WAIT_MS);
        }
    }
    return st == SYM_READY ? __atomic_load_n(&sym, __ATOMIC_ACQUIRE) : NULL;
}

/* ---- module and offset only ---- */

struct where {
    uintptr_t addr;
    bool found;
    uintptr_t bias;
    char name[PATH_MAX];
};

/* Async-signal-safe (no snprintf): a finding in flight and a deadly
 * signal's record are written with it too. The name is copied: the loader
 * frees its own when the object is unloaded. */
static int find_module(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct where *w = data;
    if (!mg_phdr_load_of(info, w->addr))
        return 0;
    w->found = true;
    w->bias = info->dlpi_addr;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    if (!name[0]) {
        /* the thread's own link: the process's is gone with its main thread */
        ssize_t n = readlink("/proc/thread-self/exe", w->name, sizeof w->name - 1);
        if (n <= 0)
            n = readlink("/proc/self/exe", w->name, sizeof w->name - 1);
        w->name[n > 0 ? n : 0] = 0;
    } else {
        size_t n = strnlen(name, sizeof w->name - 1);
        memcpy(w->name, name, n);
        w->name[n] = 0;
    }
    return 1;
}

/* module_and_offset without its static buffers: the caller's frame and name
 * buffer, no lock, no stdio beyond the copy; what a finding still in flight
 * and a deadly signal's record are written with. dl_iterate_phdr takes
 * only the lock that guards the list of objects. */
void mg_symbolize_plain(uintptr_t addr, struct mg_frame *f, char *name, size_t len)
{
    *f = (struct mg_frame){.pc = addr, .offset = addr};
    struct where w = {.addr = addr};
    if (addr)
        dl_iterate_phdr(find_module, &w);
    if (w.found) {
        f->offset = addr - w.bias;
        size_t n = strnlen(w.name, len - 1);
        memcpy(name, w.name, n);
        name[n] = 0;
        f->module = name[0] ? name : NULL;
    }
}

struct build_id {
    uintptr_t addr;
    char *hex;
    size_t len;
};

static int find_build_id(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct build_id *b = data;
    if (!mg_phdr_load_of(info, b->addr))
        return 0;
    const unsigned char *id;
    size_t n = mg_phdr_build_id(info, &id);
    if (n == 0 || 2 * n + 1 > b->len)
        return 1;
    for (size_t i = 0; i < n; i++) {
        b->hex[2 * i] = "0123456789abcdef"[id[i] >> 4];
        b->hex[2 * i + 1] = "0123456789abcdef"[id[i] & 15];
    }
    b->hex[2 * n] = 0;
    return 1;
}

bool mg_module_build_id(uintptr_t addr, char *hex, size_t len)
{
    struct build_id b = {.addr = addr, .hex = hex, .len = len};
    if (len)
        hex[0] = 0;
    if (addr)
        dl_iterate_phdr(find_build_id, &b);
    return len && hex[0];
}

static int module_and_offset(uintptr_t addr, const struct mg_frame **frames)
{
    static MG_LARGE_BSS struct where w;
    static struct mg_frame f;
    w = (struct where){.addr = addr};
    f = (struct mg_frame){.pc = addr, .offset = addr};
    if (addr)
        dl_iterate_phdr(find_module, &w);
    if (w.found) {
        f.offset = addr - w.bias;
        f.module = w.name[0] ? w.name : NULL;
    }
    *frames = &f;
    return 1;
}

int mg_symbolize(uintptr_t ret_addr, const struct mg_frame **frames)
{
    const struct mg_symbolizer *s = symbolizer();
    if (s)
        return s->symbolize(ret_addr, frames);
    /* A return address points after the call; the call is one byte back. */
    return module_and_offset(ret_addr ? ret_addr - 1 : 0, frames);
}

int mg_unwind_saved(const struct mg_saved_stack *saved, uintptr_t *pcs, int max)
{
    const struct mg_symbolizer *s = symbolizer();
    return s ? s->unwind_saved(saved, pcs, max) : 0;
}

const struct mg_renderer *mg_renderer(void)
{
    return symbolizer() ? __atomic_load_n(&rend, __ATOMIC_ACQUIRE) : NULL;
}
