/*
 * mapguard internals shared by the shim's files.
 *
 * The path of one call: the application calls gomap_x, which resolves to
 * the wrapper in interpose.c (the shim is preloaded, so its definitions win
 * over libgomap's). The wrapper asks the detectors (detect_*.c) to check the
 * call against the map's state (mapstate.h, kept inside the map object),
 * calls the real gomap_x found with dlsym(RTLD_NEXT), and lets the
 * detectors check again on the way out. A finding goes to report.c, which
 * captures and symbolizes stacks (stack.c, depot.c, symbolize.c) and writes
 * one JSON line.
 */
#ifndef MAPGUARD_H
#define MAPGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gomap.h"
#include "options_syntax.h"

/* In the hello record; the same as the mapguard command's: both come from
 * the file VERSION, passed by the Makefile. */
#define MG_SHIM_VERSION MG_VERSION

#define MG_EXPORT __attribute__((visibility("default")))
#define MG_LIKELY(x) __builtin_expect(!!(x), 1)
#define MG_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define MG_NOINLINE __attribute__((noinline))
#define MG_COLD __attribute__((cold, noinline))

/* enum mg_op, op names, the real gomap functions (gomap_api.inc) */
#include "gomap_api.h"

/* ---- options (options.c) ---- */

/* format's values, in the order of its choices in options.inc. */
enum mg_format { MG_FORMAT_JSON, MG_FORMAT_TEXT };

/* One field per line of options.inc; bool, int and choice options are
 * ints, string options char[MG_OPTION_STR_CAP]. */
struct mg_options {
#define MG_OPTION_BOOL(n, d, h) int n;
#define MG_OPTION_INT(n, d, lo, hi, h) int n;
#define MG_OPTION_STR(n, d, max, h) char n[MG_OPTION_STR_CAP];
#define MG_OPTION_CHOICE(n, d, c, h) int n;
#include "options.inc"
#undef MG_OPTION_BOOL
#undef MG_OPTION_INT
#undef MG_OPTION_STR
#undef MG_OPTION_CHOICE
};
extern struct mg_options mg_opt;
/* Parses the string (MAPGUARD_OPTIONS); complains on stderr about what it
 * cannot use and keeps the default for it. With help=1 it then prints
 * every option on stderr, and with verbosity>=1 the options in effect. */
void mg_options_parse(const char *s);
/* MAPGUARD_OPTIONS, also before libc has set up environ. */
const char *mg_options_env(void);
/* Does log_path name a file (not stderr, not stdout)? Only then does the
 * shim write the records that describe the run rather than a finding
 * (hello, exec, a summary with nothing found): nobody reads them on a
 * terminal. Async-signal-safe. */
bool mg_log_to_file(void);

/* ---- exec and posix_spawn (exec.c) ---- */

/* Looks up the real exec functions while that is still safe (at start). */
void mg_exec_resolve(void);
/* Before an exec call (exit.c): writes the findings in flight and, when
 * this image found anything, hands the count to the new image through its
 * environment; environ-based calls get it here, envp-based ones through
 * mg_exec_env. Undone when the call returns. Async-signal-safe. */
void mg_exec_handoff(void);
char *const *mg_exec_env(char *const *envp);
void mg_exec_handoff_undo(void);

/* ---- runtime (runtime.c) ---- */

extern int mg_ready; /* 2 once mg_init has finished */
void mg_init_slow(void);
static inline void mg_init(void)
{
    if (MG_UNLIKELY(__atomic_load_n(&mg_ready, __ATOMIC_ACQUIRE) != 2))
        mg_init_slow();
}
/* Prints a diagnostic line on stderr when verbosity >= level. */
void mg_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* halt_on_error: summary, flush, _exit(exitcode). */
void mg_halt(void) __attribute__((noreturn));

/* ---- threads (threads.c) ---- */

/* Per-thread state. busy is the recursion guard: set while the shim runs
 * its own slow path (reporting, unwinding, symbolizing), so that a gomap
 * call made underneath, e.g. by an allocator the application replaced,
 * goes straight to the library instead of re-entering the detector. */
struct mg_thread {
    uint32_t fast;          /* idx when started, registered and not busy, else 0:
                               the one word the wrappers' fast paths test */
    uint32_t idx;           /* index in the thread table, 0: not yet registered */
    uint32_t tid;
    uint32_t created_stack; /* depot id of the pthread_create/thrd_create call */
    uint32_t busy;
};
extern __thread struct mg_thread mg_self __attribute__((tls_model("initial-exec")));

/* Brackets the shim's own slow work (see busy above). */
static inline void mg_busy_enter(void)
{
    mg_self.busy++;
    mg_self.fast = 0;
}
static inline void mg_busy_leave(void)
{
    if (--mg_self.busy == 0 && __atomic_load_n(&mg_ready, __ATOMIC_ACQUIRE) == 2)
        mg_self.fast = mg_self.idx;
}

#define MG_MAX_THREADS 65536u
#define MG_THREAD_OVERFLOW 0xffffu /* shared index once the table is full */

uint32_t mg_thread_register(void);
static inline uint32_t mg_self_idx(void)
{
    uint32_t i = mg_self.idx;
    return MG_LIKELY(i) ? i : mg_thread_register();
}
/* What the table remembers about a thread index. */
uint32_t mg_thread_tid(uint32_t idx);
uint32_t mg_thread_created(uint32_t idx);
/* The thread's name into buf (may be empty); len >= 17. */
void mg_thread_name(uint32_t idx, char *buf, size_t len);
/* Stores the calling thread's current name in its slot. */
void mg_thread_remember_name(void);
/* Did the index belong to a thread that did not survive a fork into this
 * process? Its writer marks may still sit on maps (threads.c). */
bool mg_thread_gone(uint32_t idx);
void mg_threads_lock(void);
void mg_threads_unlock(void);
void mg_threads_atfork_child(void);

#endif
