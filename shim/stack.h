/*
 * Stacks: capture (stack.c), a deduplicated store (depot.c) and
 * symbolization (symbolize_load.c, which loads symbolize.c's object).
 * Stacks are plain arrays of return addresses until a report needs them;
 * only then are they turned into frames.
 */
#ifndef MAPGUARD_STACK_H
#define MAPGUARD_STACK_H

#include "common.h"

#define MG_MAX_DEPTH 256

/* ---- capture (stack.c) ---- */

/* Learns where the shim and libgomap are mapped, so their frames can be
 * dropped: stack[0] must be the application's call into the map API. */
void mg_stack_init(void);
/* Starts loading libunwind, if it is not, without waiting for it: a map
 * library whose crashes need the unwinder ready has come into use. */
void mg_stack_preload(void);
/* Return addresses of the calling thread, outermost last, without the
 * shim's and libgomap's frames; at most max. */
int mg_stack_capture(uintptr_t *pcs, int max);
/* Where libgomap is mapped was learnt at start (libgomap loaded then). */
bool mg_stack_knows_gomap(void);
/* Is the thread inside the bare solo call whose wrapper's frame address
 * was cfa (in_call.h)? The nearest run of libgomap frames on its stack
 * must return to a frame with that stack pointer, whose pc goes in *pc.
 * uc: a signal handler's context (async-signal-safe then, and false
 * while libunwind is not loaded), or NULL for the calling thread's own
 * stack. False when libgomap's place is not known. */
bool mg_stack_gomap_in_flight(void *uc, uintptr_t cfa, uintptr_t *pc);
/* The frames a stored stack keeps: the stack_depth option, within
 * 1..MG_MAX_DEPTH. */
int mg_stack_depth(void);
/* The same, stored in the depot; 0 when nothing could be captured. */
uint32_t mg_stack_capture_id(void);
/* Drops the shim's and libgomap's frames from pcs[0..n); the new n. */
int mg_stack_drop_hidden(uintptr_t *pcs, int n);
/* For a signal handler: the interrupted pc, then its callers' return
 * addresses minus one, from the handler's ucontext_t; async-signal-safe,
 * loads nothing (without libunwind loaded: the pc alone). */
int mg_stack_capture_signal(void *uc, uintptr_t *pcs, int max);
/* Around fork (runtime.c): prepare, called after every other lock of the
 * shim's is taken, returns once no other thread's capture is inside
 * libunwind, and holds new ones back until parent or child. */
void mg_stack_fork_begin(void); /* first in fork_prepare, before any lock */
void mg_stack_fork_prepare(void);
void mg_stack_fork_parent(void);
void mg_stack_fork_child(void);

/* ---- saved stacks (stack_saved.c; unwound by saved_unwind.c) ---- */

/* A stack saved raw, for a report to unwind if it ever needs it. */
#define MG_SAVED_REGS 17 /* x86_64, libunwind's numbering: rax .. r15, rip */
struct mg_saved_stack {
    uintptr_t regs[MG_SAVED_REGS]; /* at the saving frame, as getcontext saw them */
    uintptr_t sp;                  /* where bytes[0] was */
    size_t len;
    const unsigned char *bytes;    /* the stack from sp up, len bytes */
};
/* Set in the id of a saved stack; never in a depot id. */
#define MG_STACK_SAVED 0x80000000u

/* Learns which thread is the main one (mg_stack_init, at start). */
void mg_stack_saved_init(void);
/* The calling thread's stack, for later: a saved stack's id (its first
 * MG_SAVED_MAX calls in a process), else captured now like
 * mg_stack_capture_id. */
uint32_t mg_stack_save(void);
/* The depot id for any stack id: a saved stack is unwound the first time
 * (symbolization lock held: the unwinder is in the symbolizer's object);
 * 0 if it cannot be. */
uint32_t mg_stack_resolve(uint32_t id);
/* Unwinds a saved stack into return addresses, outermost last, shim frames
 * included (symbolize_load.c; symbolization lock held); 0 without the
 * symbolizer. */
int mg_unwind_saved(const struct mg_saved_stack *s, uintptr_t *pcs, int max);

/* ---- depot (depot.c) ---- */

/* Stores a stack once and returns its id (never 0 for a stored stack).
 * Lock-free for stacks already stored; inserts take a lock. */
uint32_t mg_depot_put(const uintptr_t *pcs, int n);
/* The stack for an id; false for 0 or an id the depot never gave out. */
bool mg_depot_get(uint32_t id, const uintptr_t **pcs, int *n);
void mg_depot_lock(void);
void mg_depot_unlock(void);
void mg_depot_atfork_child(void);

/* ---- symbolization (symbolize_load.c; symbolize.c) ---- */

struct mg_frame {
    uintptr_t pc;         /* the call instruction: return address - 1 */
    const char *module;   /* path of the ELF object, or NULL */
    uintptr_t offset;     /* pc relative to the module's load bias */
    const char *function; /* NULL when unknown */
    const char *file;     /* NULL without debug info */
    int line;             /* 0 when unknown */
    int column;           /* 0 when unknown */
    bool inlined;         /* this frame was inlined into the next one */
};

/* Frames for one return address: one, or more when inlined functions sit at
 * that address (innermost first). Call with the lock held; the frames stay
 * valid until the next call or mg_symbolize_unlock, whichever comes first.
 * The first call loads libmapguard-symbolize.so; without it, each address
 * gets one frame with module and offset only. */
int mg_symbolize(uintptr_t ret_addr, const struct mg_frame **frames);
/* One frame with module and offset for addr (an exact pc, not a return
 * address), into the caller's frame and name buffer (len >= 1): no lock
 * of the shim's, no allocation, callable from a signal handler. */
void mg_symbolize_plain(uintptr_t addr, struct mg_frame *f, char *name, size_t len);
/* The GNU build id of the object holding addr, in lower-case hex, in hex
 * (len bytes, 2 per byte of the id and the NUL); false if it has none.
 * Async-signal-safe, as mg_symbolize_plain. */
bool mg_module_build_id(uintptr_t addr, char *hex, size_t len);
void mg_symbolize_lock(void);
void mg_symbolize_unlock(void);
/* Is it held by the calling thread (which a signal handler interrupted)? */
bool mg_symbolize_lock_held_here(void);
void mg_symbolize_atfork_child(void);

/* What libmapguard-symbolize.so exports, as the data symbol
 * MG_SYMBOLIZER_ENTRY. The version is in the name: change it whenever
 * struct mg_frame or this struct change, so that a symbolizer left over
 * from another build is refused rather than misread. */
#define MG_SYMBOLIZER_SO "libmapguard-symbolize.so"
#define MG_SYMBOLIZER_ENTRY "mg_symbolizer_v2"
struct mg_symbolizer {
    size_t frame_size; /* sizeof(struct mg_frame) where it was built */
    /* mg_symbolize, minus the loading; the frames stay valid until the
     * module list changes (a dlopen or dlclose), the cache with them. */
    int (*symbolize)(uintptr_t ret_addr, const struct mg_frame **frames);
    /* mg_unwind_saved, likewise */
    int (*unwind_saved)(const struct mg_saved_stack *s, uintptr_t *pcs, int max);
};
/* The symbolizer object's unwind_saved (saved_unwind.c). */
int mg_saved_unwind(const struct mg_saved_stack *s, uintptr_t *pcs, int max);

#endif
