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

/* In the hello record; the same as the mapguard command's. */
#define MG_SHIM_VERSION "0.1.0"

#define MG_EXPORT __attribute__((visibility("default")))
#define MG_LIKELY(x) __builtin_expect(!!(x), 1)
#define MG_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define MG_NOINLINE __attribute__((noinline))
#define MG_COLD __attribute__((cold, noinline))

/* The map operations, as reports name them. Fits in 4 bits (mapstate.h). */
enum mg_op {
    MG_OP_NONE = 0,
    MG_OP_GET, MG_OP_LOOKUP, MG_OP_LEN,
    MG_OP_SET, MG_OP_ASSIGN, MG_OP_DELETE, MG_OP_CLEAR,
    MG_OP_ITER_INIT, MG_OP_ITER_NEXT, MG_OP_ITER_DELETE,
    MG_OP_FREE, MG_OP_NEW,
};
const char *mg_op_name(unsigned op);

/* ---- the real library (interpose.c) ---- */

struct mg_real {
    uint64_t (*hash_bytes)(const void *, size_t, uint64_t);
    uint64_t (*hash_cstr)(const void *, size_t, uint64_t);
    bool (*equal_cstr)(const void *, const void *, size_t);
    uint64_t (*hash_f64)(const void *, size_t, uint64_t);
    bool (*equal_f64)(const void *, const void *, size_t);
    gomap *(*new_)(const gomap_type *, size_t);
    void (*free_)(gomap *);
    size_t (*len)(const gomap *);
    void *(*get)(const gomap *, const void *);
    bool (*lookup)(const gomap *, const void *, void *);
    int (*set)(gomap *, const void *, const void *);
    void *(*assign)(gomap *, const void *);
    bool (*delete_)(gomap *, const void *);
    void (*clear)(gomap *);
    void (*iter_init)(gomap_iter *, gomap *);
    bool (*iter_next)(gomap_iter *, const void **, void **);
    bool (*iter_delete)(gomap_iter *);
    const char *(*strerror_)(int);
};
extern struct mg_real mg_real;
/* Fills mg_real; false when libgomap is not loaded. */
bool mg_resolve_real(void);

/* ---- options (options.c) ---- */

enum mg_format { MG_FORMAT_JSON, MG_FORMAT_TEXT };

struct mg_options {
    int halt_on_error;
    int exitcode;
    char log_path[4096]; /* empty: stderr */
    int format;
    int dedup;
    int stack_depth;
    int detect_leaks;
    char suppressions[4096];
    int quarantine_size;
    int verbosity;
    int conflict_wait_ms;
    int handle_segv;
};
extern struct mg_options mg_opt;
/* Parses the string (MAPGUARD_OPTIONS); complains on stderr about what it
 * cannot use and keeps the default for it. */
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
