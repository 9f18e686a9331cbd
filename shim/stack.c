/*
 * Stack capture with libunwind: raw return addresses into a fixed buffer,
 * nothing else (no symbols, no allocation); the caller stores them in the
 * depot.
 *
 * A thread's first WALK_CAPTURES captures step through the frames with
 * unw_step (about 0.5 us a frame), and all of them on a thread created
 * with a small stack, where unw_backtrace overflows 16 KiB; later ones use
 * unw_backtrace, which
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
 *
 * libunwind is dlopen'd, not linked. Linked, it and liblzma are loaded,
 * relocated and initialized in every process the shim is preloaded into:
 * about 0.4 ms of a 1.5 ms /bin/true, and most processes under `mapguard
 * run` (the shell, make, the compiler) never capture a stack. A crash
 * inside a map call needs the unwinder already there, in the signal
 * handler, where nothing can be loaded. So it is loaded at start when
 * the process has libgomap then; in a GLib process, when the program makes
 * its first GHashTable of its own (mg_stack_preload, from ghash_detect.c):
 * GLib's tools make only GLib's own tables, and a crash inside a call on
 * one of those gets its faulting pc alone; otherwise by the first capture
 * (see unwinder below). The stacks kept for later (creation and free
 * stacks, stack_saved.c) capture nothing until a report needs them.
 */
#define UNW_LOCAL_ONLY
#include <errno.h>
#include <libunwind.h>

#include "no_cancel.h"
#include "stack.h"
#include "phdr.h"
#include "gomap_api.h"
#include "log.h"
#include "options.h"
#include "thread_table.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef MG_LIBUNWIND_SO
#define MG_LIBUNWIND_SO "libunwind.so.8"
#endif

/* ---- loading libunwind ---- */

/* libunwind.h's names are macros for the architecture's symbols
 * (unw_step is _ULx86_64_step): spelled through them, the names to dlsym
 * are right on every architecture. */
#define SYMNAME(x) SYMNAME_(x)
#define SYMNAME_(x) #x

static struct {
    int (*getcontext)(unw_context_t *);
    int (*init_local)(unw_cursor_t *, unw_context_t *);
    int (*init_local2)(unw_cursor_t *, unw_context_t *, int);
    int (*step)(unw_cursor_t *);
    int (*get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);
    int (*backtrace)(void **, int);
} unw; /* written before LIB_READY is published, never after */

enum { LIB_NONE, LIB_LOADING, LIB_READY, LIB_FAILED };
static int lib_state;
static bool lib_gave_up; /* a capture waited LOAD_WAIT_MS in vain */

/* Only the first capture of a multi-threaded process waits that long for
 * the helper (see unwinder); dlopen of libunwind takes about 1 ms. */
#define LOAD_WAIT_MS 1000

static void load_now(void)
{
    /* What libunwind's and liblzma's constructors call is the shim's doing. */
    mg_busy_enter();
    void *h = dlopen(MG_LIBUNWIND_SO, RTLD_NOW | RTLD_LOCAL);
    bool ok = h && (*(void **)&unw.getcontext = dlsym(h, SYMNAME(unw_tdep_getcontext))) &&
              (*(void **)&unw.init_local = dlsym(h, SYMNAME(unw_init_local))) &&
              (*(void **)&unw.init_local2 = dlsym(h, SYMNAME(unw_init_local2))) &&
              (*(void **)&unw.step = dlsym(h, SYMNAME(unw_step))) &&
              (*(void **)&unw.get_reg = dlsym(h, SYMNAME(unw_get_reg))) &&
              (*(void **)&unw.backtrace = dlsym(h, "unw_backtrace"));
    const char *why = h ? "a function is missing" : dlerror();
    mg_busy_leave();
    if (!ok) {
        mg_log(0, "cannot load %s: %s; stacks will be empty", MG_LIBUNWIND_SO, why ? why : "?");
        __atomic_store_n(&lib_state, LIB_FAILED, __ATOMIC_RELEASE);
        return;
    }
    __atomic_store_n(&lib_state, LIB_READY, __ATOMIC_RELEASE);
}

static void *load_thread(void *arg)
{
    (void)arg;
    load_now();
    return NULL;
}

/* The threads of this process, from /proc/self/stat; 0 if unknown. */
static long thread_count(void)
{
    char buf[512];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    /* after the command name, which may hold anything but ends at the last ')' */
    char *p = strrchr(buf, ')');
    for (int field = 2; p && field < 20; field++)
        p = strchr(p + 1, ' ');
    return p ? strtol(p + 1, NULL, 10) : 0;
}

static void start_helper(void)
{
    if (mg_spawn_helper(load_thread) != 0)
        load_now();
}

/* Starts loading libunwind unless someone has: here when the process has
 * one thread, else by a helper (unwinder says why). */
static void begin_loading(void)
{
    int none = LIB_NONE;
    if (!__atomic_compare_exchange_n(&lib_state, &none, LIB_LOADING, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
    if (thread_count() == 1)
        load_now();
    else
        start_helper();
}

/* Is libunwind there to use, loading it if not? Loading is a dlopen, which
 * takes the loader's lock. In a single-threaded process that lock is free
 * or held by this very thread (a capture from a constructor, or from a
 * dl_iterate_phdr callback): it is recursive, so the capturing thread
 * loads it itself. With other threads, one of them may hold the lock while
 * it waits for this thread (a library constructor run by dlopen that joins
 * it, or wants a mutex the program holds around its map call), and the
 * dlopen would never return: a detached helper thread loads it instead,
 * and the capture waits for the helper at most LOAD_WAIT_MS, then goes
 * without a stack; once one has waited in vain, later captures do not wait
 * (no stack) until the helper is done. */
static bool unwinder(void)
{
    int st = __atomic_load_n(&lib_state, __ATOMIC_ACQUIRE);
    if (__builtin_expect(st == LIB_READY, 1))
        return true;
    if (st == LIB_FAILED)
        return false;
    if (st == LIB_NONE)
        begin_loading();
    if (!__atomic_load_n(&lib_gave_up, __ATOMIC_RELAXED)) {
        struct timespec t0, now, pause = {0, 100 * 1000};
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
            st = __atomic_load_n(&lib_state, __ATOMIC_ACQUIRE);
            if (st != LIB_LOADING)
                break;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >= LOAD_WAIT_MS) {
                if (!__atomic_exchange_n(&lib_gave_up, true, __ATOMIC_RELAXED))
                    mg_log(0, "%s is still loading after %d ms (is the loader busy in a library constructor?); "
                              "stacks are empty until it is loaded",
                           MG_LIBUNWIND_SO, LOAD_WAIT_MS);
                break;
            }
            nanosleep(&pause, NULL);
        }
    }
    return __atomic_load_n(&lib_state, __ATOMIC_ACQUIRE) == LIB_READY;
}

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
    uintptr_t lo, hi;
    mg_phdr_span(info, &lo, &hi);
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
    mg_stack_saved_init();
    hidden[0] = object_of((const void *)(uintptr_t)mg_stack_init);
    hidden[1] = object_of((const void *)(uintptr_t)MG_REAL(gomap_get));
    /* Without libgomap, MG_REAL(gomap_get) is the shim's own stub. */
    if (mg_stack_knows_gomap())
        unwinder();
}

/* as unwinder does, without waiting for the helper */
void mg_stack_preload(void)
{
    if (__atomic_load_n(&lib_state, __ATOMIC_ACQUIRE) == LIB_NONE)
        begin_loading();
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
 * forking thread does not wait for its own captures, and no other forker
 * waits for them either (mg_stack_fork_begin). Dekker-style: each
 * side publishes its own flag, then reads the other's, all seq_cst. */
static int unwinding;      /* captures inside libunwind, every thread */
static int forking;        /* forks in fork_prepare..fork_parent */
static __thread int self_unwinding __attribute__((tls_model("initial-exec")));

/* The thread's own count covers its share of the shared one at every
 * instant a handler may land: raised before it, lowered after it. A fork
 * from a handler then never leaves its own capture counted for the other
 * forkers (mg_stack_fork_begin); in the one-instruction window where the
 * own count is raised and the shared one not yet, it takes away one too
 * many, and a fork at that moment may not wait for another thread's
 * capture (which only risks the child's first capture, as before the
 * gate). */
static void gate_enter(void)
{
    for (;;) {
        self_unwinding++;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        __atomic_add_fetch(&unwinding, 1, __ATOMIC_SEQ_CST);
        if (!__atomic_load_n(&forking, __ATOMIC_SEQ_CST))
            break;
        __atomic_sub_fetch(&unwinding, 1, __ATOMIC_SEQ_CST);
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        self_unwinding--;
        while (__atomic_load_n(&forking, __ATOMIC_ACQUIRE))
            sched_yield();
    }
}

static void gate_leave(void)
{
    __atomic_sub_fetch(&unwinding, 1, __ATOMIC_RELEASE);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    self_unwinding--;
}

/* A fork from a signal handler that interrupted a capture of its own
 * thread stops counting that capture before it asks for any lock: another
 * thread forking at the same moment holds the shim's locks and waits here
 * for the captures inside libunwind, while this one waits for those locks
 * (a held-out probe: SIGALRM forking while threads were being created,
 * their creation stacks captured, hung every run). Leaving it out is safe:
 * libunwind holds its lock with every signal blocked, so an interrupted
 * capture holds nothing the child could inherit. */
void mg_stack_fork_begin(void)
{
    if (self_unwinding)
        __atomic_sub_fetch(&unwinding, self_unwinding, __ATOMIC_SEQ_CST);
}

void mg_stack_fork_prepare(void)
{
    __atomic_add_fetch(&forking, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&unwinding, __ATOMIC_SEQ_CST) > 0)
        sched_yield();
}

void mg_stack_fork_parent(void)
{
    if (self_unwinding)
        __atomic_add_fetch(&unwinding, self_unwinding, __ATOMIC_SEQ_CST);
    __atomic_sub_fetch(&forking, 1, __ATOMIC_RELEASE);
}

/* The child has one thread: only its own captures, if it forked from one. */
void mg_stack_fork_child(void)
{
    /* A helper still loading libunwind did not come along: the child's
     * next capture tries afresh. */
    int loading = LIB_LOADING;
    if (__atomic_compare_exchange_n(&lib_state, &loading, LIB_NONE, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        __atomic_store_n(&lib_gave_up, false, __ATOMIC_RELAXED);
    __atomic_store_n(&unwinding, self_unwinding, __ATOMIC_RELAXED);
    __atomic_store_n(&forking, 0, __ATOMIC_RELEASE);
}

#define WALK_CAPTURES 32

static __thread unsigned captures __attribute__((tls_model("initial-exec")));

static int walk(void **raw, int max)
{
    unw_context_t uc;
    unw_cursor_t cur;
    if (unw.getcontext(&uc) != 0 || unw.init_local(&cur, &uc) != 0)
        return 0;
    int n = 0;
    unw_word_t ip;
    while (n < max && unw.step(&cur) > 0 && unw.get_reg(&cur, UNW_REG_IP, &ip) == 0)
        raw[n++] = (void *)(uintptr_t)ip;
    return n;
}

int mg_stack_drop_hidden(uintptr_t *pcs, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        if (pcs[i] && !is_hidden(pcs[i]))
            pcs[k++] = pcs[i];
    return k;
}

int mg_stack_capture(uintptr_t *pcs, int max)
{
    void *raw[MG_MAX_DEPTH + 64];
    int want = max + 64;
    if (want > (int)(sizeof raw / sizeof raw[0]))
        want = (int)(sizeof raw / sizeof raw[0]);
    int cancel = mg_cancel_off(); /* libunwind's probes: no_cancel.h */
    if (!unwinder()) {
        mg_cancel_restore(cancel);
        return 0;
    }
    gate_enter();
    int n = captures < WALK_CAPTURES || mg_self.small_stack ? (captures++, walk(raw, want)) : unw.backtrace(raw, want);
    gate_leave();
    mg_cancel_restore(cancel);
    int k = 0;
    for (int i = 0; i < n && k < max; i++) {
        uintptr_t pc = (uintptr_t)raw[i];
        if (pc && !is_hidden(pc))
            pcs[k++] = pc;
    }
    return k;
}

bool mg_stack_knows_gomap(void) { return hidden[1].hi && hidden[1].lo != hidden[0].lo; }

/* Out from cur to the first run of libgomap frames: true if the frame it
 * returns to has the stack pointer cfa, with that frame's pc in *pc. */
static bool gomap_caller_is(unw_cursor_t *cur, uintptr_t cfa, uintptr_t *pc)
{
    bool in = false;
    for (int i = 0; i < 4096; i++) {
        unw_word_t ip, sp;
        if (unw.get_reg(cur, UNW_REG_IP, &ip) != 0 || ip == 0)
            return false;
        bool g = ip >= hidden[1].lo && ip < hidden[1].hi;
        if (in && !g) {
            if (unw.get_reg(cur, UNW_REG_SP, &sp) != 0)
                return false;
            *pc = (uintptr_t)ip;
            return (uintptr_t)sp == cfa;
        }
        in = g;
        if (unw.step(cur) <= 0)
            return false;
    }
    return false;
}

bool mg_stack_gomap_in_flight(void *uc, uintptr_t cfa, uintptr_t *pc)
{
    if (!mg_stack_knows_gomap())
        return false;
    unw_cursor_t cur;
    if (uc) {
        /* a signal handler's: loads nothing, takes no lock of ours */
        return __atomic_load_n(&lib_state, __ATOMIC_ACQUIRE) == LIB_READY &&
               unw.init_local2(&cur, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) == 0 &&
               gomap_caller_is(&cur, cfa, pc);
    }
    int cancel = mg_cancel_off();
    bool found = false;
    if (unwinder()) {
        gate_enter();
        unw_context_t here;
        found = unw.getcontext(&here) == 0 && unw.init_local(&cur, &here) == 0 && gomap_caller_is(&cur, cfa, pc);
        gate_leave();
    }
    mg_cancel_restore(cancel);
    return found;
}

int mg_stack_depth(void)
{
    int depth = mg_opt.stack_depth;
    return depth < 1 ? 1 : depth > MG_MAX_DEPTH ? MG_MAX_DEPTH : depth;
}

/* errno kept: the first capture loads libunwind and sets it up (a pipe
 * that fails with EAGAIN on the way), and a report's capture runs before
 * the report's own save (a held-out probe: the first nil-map write or
 * use after free of a process left errno at EAGAIN). */
uint32_t mg_stack_capture_id(void)
{
    int saved = errno;
    uintptr_t pcs[MG_MAX_DEPTH];
    int n = mg_stack_capture(pcs, mg_stack_depth());
    uint32_t id = mg_depot_put(pcs, n);
    errno = saved;
    return id;
}

/* The faulting pc first, then the callers' return addresses, from the
 * context the kernel saved. Nothing is loaded here: without libunwind
 * (the process had no map library at start and has not captured since),
 * the faulting pc alone, from the context. */
int mg_stack_capture_signal(void *uc, uintptr_t *pcs, int max)
{
    if (max < 1)
        return 0;
    if (__atomic_load_n(&lib_state, __ATOMIC_ACQUIRE) != LIB_READY) {
        const mcontext_t *mc = &((const ucontext_t *)uc)->uc_mcontext;
#if defined(__x86_64__)
        pcs[0] = (uintptr_t)mc->gregs[REG_RIP];
#elif defined(__aarch64__)
        pcs[0] = (uintptr_t)mc->pc;
#else
        (void)mc;
        return 0;
#endif
        return pcs[0] ? 1 : 0;
    }
    unw_cursor_t cur;
    int n = 0;
    if (unw.init_local2(&cur, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) != 0)
        return 0;
    do {
        unw_word_t ip;
        if (unw.get_reg(&cur, UNW_REG_IP, &ip) != 0 || ip == 0)
            break;
        /* a return address points after the call: one byte back is in it */
        pcs[n] = n ? (uintptr_t)ip - 1 : (uintptr_t)ip;
        n++;
    } while (n < max && unw.step(&cur) > 0);
    return n;
}
