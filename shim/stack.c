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
#include <sched.h>

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

/* The fork gate. libunwind's unw_step takes a lock of libunwind's own
 * (its register-state cache, shared by every thread). A fork while another
 * thread holds it leaves it held for ever in the child, whose first
 * capture (the creation stack of its first pthread_create) then never
 * returns. So fork_prepare (runtime.c), once it holds every other lock of
 * the shim's, closes the gate and waits until no capture is inside
 * libunwind; captures that arrive meanwhile wait at the gate. Not a
 * pthread lock: those may be wrapped, and the gate must not deadlock a
 * fork made by a signal handler that interrupted a capture on the forking
 * thread itself (between two steps, where libunwind holds nothing), so the
 * forking thread does not wait for its own captures. Dekker-style: each
 * side publishes its own flag, then reads the other's, all seq_cst. */
static int unwinding;      /* captures inside libunwind, every thread */
static int forking;        /* forks in fork_prepare..fork_parent */
static __thread int self_unwinding __attribute__((tls_model("initial-exec")));

static void gate_enter(void)
{
    for (;;) {
        __atomic_add_fetch(&unwinding, 1, __ATOMIC_SEQ_CST);
        if (!__atomic_load_n(&forking, __ATOMIC_SEQ_CST))
            break;
        __atomic_sub_fetch(&unwinding, 1, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&forking, __ATOMIC_ACQUIRE))
            sched_yield();
    }
    self_unwinding++;
}

static void gate_leave(void)
{
    self_unwinding--;
    __atomic_sub_fetch(&unwinding, 1, __ATOMIC_RELEASE);
}

void mg_stack_fork_prepare(void)
{
    __atomic_add_fetch(&forking, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&unwinding, __ATOMIC_SEQ_CST) > self_unwinding)
        sched_yield();
}

void mg_stack_fork_parent(void) { __atomic_sub_fetch(&forking, 1, __ATOMIC_RELEASE); }

/* The child has one thread: only its own captures, if it forked from one. */
void mg_stack_fork_child(void)
{
    __atomic_store_n(&unwinding, self_unwinding, __ATOMIC_RELAXED);
    __atomic_store_n(&forking, 0, __ATOMIC_RELEASE);
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
    gate_enter();
    int n = captures < WALK_CAPTURES ? (captures++, walk(raw, want)) : unw_backtrace(raw, want);
    gate_leave();
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
