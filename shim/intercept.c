/*
 * Finding the real functions behind the wrappers (intercept.h).
 *
 * At start-up: dlsym/dlvsym(RTLD_NEXT), every table at once, while taking
 * the loader's lock is harmless.
 *
 * Later, for a library that arrives by dlopen (libgomap brought in by a
 * plugin): the loader's lock may then be held by a thread running that
 * plugin's constructor, and the constructor may be waiting for the very
 * thread that is in our wrapper (it joins a worker that uses a map). So
 * the late lookup reads the object's dynamic symbol table itself: the
 * objects come from dl_iterate_phdr, which takes only the lock that guards
 * the list of objects, never held while a constructor runs; an object is
 * used only once _dl_find_object knows it, which dlopen arranges after the
 * object's relocation and before its constructors run, so we never call
 * into a library whose own calls are not yet bound. dlsym(RTLD_NEXT)
 * would not do in any case: it searches the objects loaded at start and
 * with RTLD_GLOBAL, and a plugin's dependencies are loaded RTLD_LOCAL.
 */
#include "gomap_api.h"
#include "intercept.h"
#include "phdr.h"
#include "happens_before.h"
#include "log.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

size_t mg_intercept_resolve(const struct mg_intercept *t, size_t n)
{
    size_t missing = 0;
    for (size_t i = 0; i < n; i++) {
        void *p = t[i].version ? dlvsym(RTLD_NEXT, t[i].name, t[i].version) : dlsym(RTLD_NEXT, t[i].name);
        if (p)
            __atomic_store_n(t[i].real, p, __ATOMIC_RELEASE);
        else
            missing++;
    }
    return missing;
}

void mg_intercept_start(void)
{
    if (!mg_resolve_real())
        mg_log(1, "libgomap is not loaded (yet): looked for again by the first call that needs it");
    mg_exec_resolve();
    mg_threads_resolve();
    mg_notify_resolve();
    mg_exit_resolve();
    mg_deadly_resolve();
    mg_sync_resolve();
    mg_fd_resolve();
    mg_glib_resolve();
    mg_omp_resolve();
    mg_omp_llvm_resolve();
    mg_hb_start();
    mg_gh_resolve();
}

/* ---- the late lookup, without the loader's lock ---- */

#if __ELF_NATIVE_CLASS == 64
#define ST_TYPE ELF64_ST_TYPE
#define ST_BIND ELF64_ST_BIND
#define ST_VISIBILITY ELF64_ST_VISIBILITY
#else
#define ST_TYPE ELF32_ST_TYPE
#define ST_BIND ELF32_ST_BIND
#define ST_VISIBILITY ELF32_ST_VISIBILITY
#endif

/* An object's dynamic symbol table. */
struct dynsym {
    const ElfW(Sym) *sym;
    const char *str;
    const uint32_t *gnu_hash, *sysv_hash;
};

/* glibc rewrites the pointers in a writable dynamic section to absolute
 * addresses when it loads the object; a read-only one keeps them relative. */
static uintptr_t dyn_ptr(ElfW(Addr) base, ElfW(Addr) v) { return v < base ? base + v : v; }

static bool read_dynamic(const struct dl_phdr_info *info, struct dynsym *d)
{
    memset(d, 0, sizeof *d);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type != PT_DYNAMIC)
            continue;
        for (const ElfW(Dyn) *e = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
             e->d_tag != DT_NULL; e++) {
            uintptr_t p = dyn_ptr(info->dlpi_addr, e->d_un.d_ptr);
            switch (e->d_tag) {
            case DT_SYMTAB: d->sym = (const ElfW(Sym) *)p; break;
            case DT_STRTAB: d->str = (const char *)p; break;
            case DT_GNU_HASH: d->gnu_hash = (const uint32_t *)p; break;
            case DT_HASH: d->sysv_hash = (const uint32_t *)p; break;
            }
        }
    }
    return d->sym && d->str && (d->gnu_hash || d->sysv_hash);
}

/* A function this object defines and exports under name. */
static bool usable(const struct dynsym *d, uint32_t i, const char *name)
{
    const ElfW(Sym) *s = &d->sym[i];
    return s->st_shndx != SHN_UNDEF && s->st_value != 0 && ST_TYPE(s->st_info) == STT_FUNC &&
           ST_BIND(s->st_info) != STB_LOCAL && ST_VISIBILITY(s->st_other) == STV_DEFAULT &&
           !strcmp(d->str + s->st_name, name);
}

static const ElfW(Sym) *lookup(const struct dynsym *d, const char *name)
{
    if (d->gnu_hash) {
        const uint32_t *h = d->gnu_hash;
        uint32_t nbuckets = h[0], symoffset = h[1], bloom_size = h[2];
        const uint32_t *buckets = (const uint32_t *)(const void *)((const ElfW(Addr) *)(const void *)&h[4] + bloom_size);
        const uint32_t *chain = buckets + nbuckets;
        uint32_t hash = 5381;
        for (const unsigned char *c = (const unsigned char *)name; *c; c++)
            hash = hash * 33 + *c;
        if (nbuckets == 0)
            return NULL;
        uint32_t i = buckets[hash % nbuckets];
        if (i < symoffset)
            return NULL;
        for (;; i++) {
            uint32_t ch = chain[i - symoffset];
            if ((ch | 1) == (hash | 1) && usable(d, i, name))
                return &d->sym[i];
            if (ch & 1)
                return NULL;
        }
    }
    const uint32_t *h = d->sysv_hash;
    uint32_t nbucket = h[0], hash = 0;
    const uint32_t *bucket = h + 2, *chain = bucket + nbucket;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        hash = (hash << 4) + *c;
        uint32_t g = hash & 0xf0000000u;
        hash ^= g >> 24;
        hash &= ~g;
    }
    for (uint32_t i = nbucket ? bucket[hash % nbucket] : 0; i != STN_UNDEF; i = chain[i])
        if (usable(d, i, name))
            return &d->sym[i];
    return NULL;
}

static bool contains(const struct dl_phdr_info *info, uintptr_t addr) { return mg_phdr_load_of(info, addr) != NULL; }

struct search {
    const struct mg_intercept *t;
    size_t n, missing;
    const char *anchor;
    bool past_self;
};

static int search_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct search *s = arg;
    if (!s->past_self) {
        /* as RTLD_NEXT: only objects after ours */
        s->past_self = contains(info, (uintptr_t)&mg_intercept_resolve_loaded);
        return 0;
    }
    struct dynsym d;
    if (!read_dynamic(info, &d))
        return 0;
    const ElfW(Sym) *anchor = lookup(&d, s->anchor);
    if (!anchor)
        return 0;
    struct dl_find_object found;
    if (_dl_find_object((void *)(info->dlpi_addr + anchor->st_value), &found) != 0)
        return 1; /* still being loaded: not yet */
    s->missing = 0;
    for (size_t i = 0; i < s->n; i++) {
        const ElfW(Sym) *e = lookup(&d, s->t[i].name);
        if (e)
            __atomic_store_n(s->t[i].real, (void *)(info->dlpi_addr + e->st_value), __ATOMIC_RELEASE);
        else
            s->missing++;
    }
    return 1;
}

size_t mg_intercept_resolve_loaded(const struct mg_intercept *t, size_t n, const char *anchor)
{
    struct search s = {.t = t, .n = n, .missing = n, .anchor = anchor};
    if (n)
        dl_iterate_phdr(search_object, &s);
    return s.missing;
}

void *mg_intercept_need(void *p, const char *lib, const char *name)
{
    if (MG_LIKELY(p != NULL))
        return p;
    mg_log(0, "%s: %s's function not found; cannot continue", name, lib);
    abort();
}
