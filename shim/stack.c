/*
 * Stack capture with libunwind: raw return addresses into a fixed buffer,
 * nothing else (no symbols, no allocation); the caller stores them in the
 * depot.
 *
 * A thread's first WALK_CAPTURES captures step through the frames with
 * unw_step (about 0.5 us a frame); later ones use unw_backtrace, which
 * replays frame layouts from a cache and costs well under a microsecond
 * for a whole stack. That cache is per thread, 256 KiB, and zeroed on the
 * thread's first unw_backtrace: 64 page faults (about 100 us) and 256 KiB
 * of resident memory. A thread that captures a few times -- the one that
 * starts the workers (pthread_create), one that frees a few maps -- would
 * pay both for nothing, and the wait would delay the very thread it
 * creates; a thread that frees maps in a loop pays it once and then needs
 * the speed (every gomap_free captures while the quarantine is on).
 *
 * Frames inside the shim and inside libgomap are dropped wherever they
 * appear, so stack[0] is the application's own call into the map API, and
 * a call made from a user hash callback shows the callback followed by the
 * application frames that called the outer map function.
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "stack.h"
#include "gomap_api.h"
#include "options.h"

#include <dlfcn.h>
#include <link.h>

struct range {
    uintptr_t lo, hi;
};

/* [0]: this library, [1]: libgomap */
static struct range hidden[2];

struct find {
    uintptr_t addr;
    struct range r;
};

static int find_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct find *f = data;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (a < lo)
            lo = a;
        if (a + ph->p_memsz > hi)
            hi = a + ph->p_memsz;
    }
    if (f->addr >= lo && f->addr < hi) {
        f->r.lo = lo;
        f->r.hi = hi;
        return 1;
    }
    return 0;
}

static struct range object_of(const void *addr)
{
    struct find f = {.addr = (uintptr_t)addr};
    if (addr)
        dl_iterate_phdr(find_object, &f);
    return f.r;
}

void mg_stack_init(void)
{
    hidden[0] = object_of((const void *)(uintptr_t)mg_stack_init);
    hidden[1] = object_of((const void *)(uintptr_t)MG_REAL(gomap_get));
}

static bool is_hidden(uintptr_t pc)
{
    for (int i = 0; i < 2; i++)
        if (pc >= hidden[i].lo && pc < hidden[i].hi)
            return true;
    return false;
}

#define WALK_CAPTURES 32

static __thread unsigned captures __attribute__((tls_model("initial-exec")));

static int walk(void **raw, int max)
{
    unw_context_t uc;
    unw_cursor_t cur;
    if (unw_getcontext(&uc) != 0 || unw_init_local(&cur, &uc) != 0)
        return 0;
    int n = 0;
    unw_word_t ip;
    while (n < max && unw_step(&cur) > 0 && unw_get_reg(&cur, UNW_REG_IP, &ip) == 0)
        raw[n++] = (void *)(uintptr_t)ip;
    return n;
}

int mg_stack_capture(uintptr_t *pcs, int max)
{
    void *raw[MG_MAX_DEPTH + 64];
    int want = max + 64;
    if (want > (int)(sizeof raw / sizeof raw[0]))
        want = (int)(sizeof raw / sizeof raw[0]);
    int n = captures < WALK_CAPTURES ? (captures++, walk(raw, want)) : unw_backtrace(raw, want);
    int k = 0;
    for (int i = 0; i < n && k < max; i++) {
        uintptr_t pc = (uintptr_t)raw[i];
        if (pc && !is_hidden(pc))
            pcs[k++] = pc;
    }
    return k;
}

uint32_t mg_stack_capture_id(void)
{
    uintptr_t pcs[MG_MAX_DEPTH];
    int depth = mg_opt.stack_depth;
    if (depth < 1)
        depth = 1;
    if (depth > MG_MAX_DEPTH)
        depth = MG_MAX_DEPTH;
    int n = mg_stack_capture(pcs, depth);
    return mg_depot_put(pcs, n);
}
