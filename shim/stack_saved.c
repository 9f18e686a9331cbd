/*
 * Saved stacks: a thread's stack copied raw, to be unwound only if a report
 * ever shows it.
 *
 * Why: some stacks are kept for a report that may come later: where each
 * thread was created (every pthread_create), and where each map or
 * GHashTable was freed (for a use after the free). In most processes no
 * report ever shows them, yet unwinding them is the costliest thing the
 * shim does in a short-lived process: the first unw_step of a process sets
 * libunwind up (about 250 us on a VM: its caches, a pipe and mincore probes
 * for safe reads), and the first frame in each library reads that
 * library's .eh_frame_hdr and .eh_frame, pages nothing else touches, so
 * each step faults one in. `gdbus introspect` spent about 0.7 ms in its
 * first creation stack, a tenth of its run. Copying the stack and the
 * registers costs one getcontext and a memcpy of a few KiB; the unwinding
 * happens at report time, in the symbolizer's object (saved_unwind.c),
 * with libunwind's remote interface reading the copy instead of the live
 * stack. A report's own stacks, and a stack handed over to a report in
 * the making, are captured at once as before.
 *
 * What is kept: the registers getcontext saves, and the stack from the
 * capturing frame up to the thread's stack top or MG_SAVED_BYTES, whichever
 * is nearer. A deeper stack loses its outermost frames (main and above),
 * never the innermost, which are the ones a reader needs.
 *
 * Bounded: the first MG_SAVED_MAX saves of a process are kept, never
 * freed, so a report long after still finds them; later ones, and any the
 * copy cannot serve (a stack the shim cannot bound, such as one made with
 * makecontext or a signal stack, or an architecture whose registers it
 * does not map), are captured the usual way. A program that creates
 * threads all day long pays for a live capture per thread, as before; a
 * program with a few threads pays for none unless it reports.
 *
 * Ids: a saved stack's id is MG_STACK_SAVED | its index, in the same
 * uint32_t as a depot id (depot ids stay far below bit 31).
 * mg_stack_resolve turns one into a depot id the first time a report needs
 * it (report.c's depot_get, through which every stack of a full report
 * goes); a plain record (inflight.c, a deadly signal) cannot unwind and
 * shows none.
 */
#include "stack.h"
#include "thread_table.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#define MG_SAVED_MAX 16u
#define MG_SAVED_BYTES (32u * 1024u)

struct saved {
    struct mg_saved_stack s;
    uint32_t depot; /* the unwound stack's id, 0 until a report asked */
    _Alignas(uintptr_t) unsigned char bytes[];
};

static struct saved *saved[MG_SAVED_MAX];
static unsigned nsaved;

/* The top of the calling thread's stack, 0 if unknown: the main thread's
 * from the loader (pthread_getattr_np reads /proc/self/maps for it), the
 * others' from their attributes. The main thread is the one that ran
 * mg_stack_init, at start; not "tid == pid", which also holds in the child
 * of a fork made by another thread, whose stack is that thread's. */
extern void *__libc_stack_end;
static pthread_t main_thread;
static bool main_known;

void mg_stack_saved_init(void)
{
    if ((pid_t)gettid() == getpid()) {
        main_thread = pthread_self();
        main_known = true;
    }
}

static uintptr_t stack_top(uintptr_t sp)
{
    if (main_known && pthread_equal(pthread_self(), main_thread)) {
        uintptr_t top = (uintptr_t)__libc_stack_end;
        /* not on the main stack: a makecontext stack or a signal stack */
        return sp < top && top - sp < 256u * 1024 * 1024 ? top : 0;
    }
    pthread_attr_t a;
    void *lo;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &a) != 0)
        return 0;
    bool ok = pthread_attr_getstack(&a, &lo, &size) == 0;
    pthread_attr_destroy(&a);
    uintptr_t top = ok ? (uintptr_t)lo + size : 0;
    return ok && sp >= (uintptr_t)lo && sp < top ? top : 0;
}

#if defined(__x86_64__)
/* libunwind's numbering (DWARF's): rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip */
static const int greg_of[MG_SAVED_REGS] = {REG_RAX, REG_RDX, REG_RCX, REG_RBX, REG_RSI, REG_RDI,
                                            REG_RBP, REG_RSP, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                            REG_R12, REG_R13, REG_R14, REG_R15, REG_RIP};

/* noinline: the frame getcontext describes must be this one, which the
 * copy below holds, and whose caller's frames follow it in the copy. */
static __attribute__((noinline)) uint32_t save(void)
{
    if (__atomic_load_n(&nsaved, __ATOMIC_RELAXED) >= MG_SAVED_MAX)
        return 0;
    ucontext_t uc;
    if (getcontext(&uc) != 0)
        return 0;
    uintptr_t sp = (uintptr_t)uc.uc_mcontext.gregs[REG_RSP];
    uintptr_t top = stack_top(sp);
    if (!top)
        return 0;
    size_t len = (top - sp < MG_SAVED_BYTES ? top - sp : MG_SAVED_BYTES) & ~(sizeof(uintptr_t) - 1);
    unsigned i = __atomic_fetch_add(&nsaved, 1, __ATOMIC_RELAXED);
    if (i >= MG_SAVED_MAX)
        return 0;
    struct saved *s = malloc(sizeof *s + len);
    if (!s)
        return 0;
    for (int r = 0; r < MG_SAVED_REGS; r++)
        s->s.regs[r] = (uintptr_t)uc.uc_mcontext.gregs[greg_of[r]];
    s->s.sp = sp;
    s->s.len = len;
    s->s.bytes = s->bytes;
    s->depot = 0;
    /* Everything from sp up is the callers' and this frame's, which
     * nothing below (stack_top, malloc) writes. Word by word, not memcpy:
     * in a program built with ASan, memcpy is ASan's, and the stack's
     * redzones would be a "stack-buffer-overflow" in the shim. */
    uintptr_t *dst = (uintptr_t *)(void *)s->bytes;
    const uintptr_t *src = (const uintptr_t *)sp;
    for (size_t w = 0; w < len / sizeof *src; w++)
        dst[w] = __atomic_load_n(&src[w], __ATOMIC_RELAXED);
    __atomic_store_n(&saved[i], s, __ATOMIC_RELEASE);
    return MG_STACK_SAVED | i;
}
#else
static uint32_t save(void) { return 0; }
#endif

uint32_t mg_stack_save(void)
{
    uint32_t id = save();
    return id ? id : mg_stack_capture_id();
}

uint32_t mg_stack_resolve(uint32_t id)
{
    if (!(id & MG_STACK_SAVED))
        return id;
    unsigned i = id & ~MG_STACK_SAVED;
    struct saved *s = i < MG_SAVED_MAX ? __atomic_load_n(&saved[i], __ATOMIC_ACQUIRE) : NULL;
    if (!s)
        return 0;
    uint32_t d = __atomic_load_n(&s->depot, __ATOMIC_ACQUIRE);
    if (d)
        return d;
    uintptr_t pcs[MG_MAX_DEPTH];
    int depth = mg_stack_depth();
    int n = mg_unwind_saved(&s->s, pcs, MG_MAX_DEPTH);
    n = mg_stack_drop_hidden(pcs, n);
    d = mg_depot_put(pcs, n < depth ? n : depth);
    /* two reports at once unwind it alike and store the same id */
    __atomic_store_n(&s->depot, d, __ATOMIC_RELEASE);
    return d;
}
