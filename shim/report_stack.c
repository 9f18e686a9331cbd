/*
 * A stack for a report.
 *
 * A report renders its in-flight record by hand (PATH_MAX buffers), then
 * symbolizes with libdw (line tables, DWARF scopes for inline frames) and
 * renders with jansson: about 150 KiB of stack when the frames are in a
 * library with debug info, such as libc with libc6-dbg installed. A
 * program may run its threads on 64 KiB stacks, or on PTHREAD_STACK_MIN,
 * and make map calls there: a finding on such a thread overflowed its
 * stack and crashed the program the shim promised to leave alone. So a
 * report runs on a stack of the shim's: mapped MAP_NORESERVE (only the
 * pages touched count), with a guard page below. One spare is kept for the
 * next report; a report made while another holds it (reports run
 * concurrently up to the symbolization lock) maps one of its own.
 *
 * swapcontext, not a hand-written switch: it is glibc's, on every
 * architecture. It saves and restores the signal mask, two system calls
 * each way, next to milliseconds of symbolization. Both contexts live in
 * the mapped region, not on the small stack being left. The new stack's
 * frames end at the trampoline: an unwinder walking them stops there (a
 * deadly signal's record shows the report's frames only). A cancellation
 * must not unwind through it: mg_report disables cancellation.
 */
#include "report_stack.h"
#include "common.h"

#include <stdint.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define STACK_SIZE (1u << 20)

struct region {
    ucontext_t caller, callee;
    void (*fn)(void *);
    void *arg;
    /* then, page-aligned: the guard page and the stack */
};

static struct region *spare;
/* makecontext passes ints only: the trampoline finds its region here */
static __thread struct region *running __attribute__((tls_model("initial-exec")));

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

static size_t header_size(void) { return (sizeof(struct region) + page_size() - 1) / page_size() * page_size(); }
static size_t region_size(void) { return header_size() + page_size() + STACK_SIZE; }

static struct region *map_region(void)
{
    char *p = mmap(NULL, region_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
                   -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    /* an overflow faults on the guard instead of writing into the header */
    if (mprotect(p + header_size(), page_size(), PROT_NONE) != 0) {
        munmap(p, region_size());
        return NULL;
    }
    return (struct region *)(void *)p;
}

/* Apart, so that no variable of the caller's lives across a function that
 * returns twice (getcontext is one; its context is never resumed as it
 * is: makecontext replaces it). */
static MG_NOINLINE bool prepare(struct region *r, void (*fn)(void *), void *arg);

static void trampoline(void)
{
    struct region *r = running;
    r->fn(r->arg);
}

void mg_on_report_stack(void (*fn)(void *), void *arg)
{
    if (running) { /* on one already (or in a handler that interrupted it) */
        fn(arg);
        return;
    }
    struct region *r = __atomic_exchange_n(&spare, NULL, __ATOMIC_ACQ_REL);
    if (!r)
        r = map_region();
    if (!r || !prepare(r, fn, arg)) {
        if (r)
            munmap(r, region_size());
        fn(arg);
        return;
    }
    running = r;
    if (swapcontext(&r->caller, &r->callee) != 0)
        fn(arg);
    running = NULL;
    struct region *none = NULL;
    if (!__atomic_compare_exchange_n(&spare, &none, r, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        munmap(r, region_size());
}

void *mg_report_stack_caller(void) { return running ? &running->caller : NULL; }

static bool prepare(struct region *r, void (*fn)(void *), void *arg)
{
    if (getcontext(&r->callee) != 0)
        return false;
    r->callee.uc_stack.ss_sp = (char *)r + header_size() + page_size();
    r->callee.uc_stack.ss_size = STACK_SIZE;
    r->callee.uc_link = &r->caller;
    r->fn = fn;
    r->arg = arg;
    makecontext(&r->callee, trampoline, 0);
    return true;
}
