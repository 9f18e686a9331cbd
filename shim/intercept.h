/*
 * The interception layer: one way to wrap a function of another library.
 *
 * A wrapped function is an exported definition under the function's own
 * name (preloaded, it comes first in symbol lookup) and a pointer to the
 * real one, found behind us in load order:
 *
 *   MG_INTERCEPTOR(int, execve, (const char *path, char *const argv[], char *const envp[]))
 *   {
 *       ... MG_REAL(execve)(path, argv, envp) ...
 *   }
 *
 * and one line in its file's table, which mg_intercept_start resolves at
 * start-up, while calling dlsym is safe (it takes the loader's lock, which
 * a wrapper called from a signal handler, a vfork child or a thread a
 * library constructor waits for must never wait for):
 *
 *   const struct mg_intercept mg_exec_intercepts[] = { MG_INTERCEPT(execve), ... };
 *
 * MG_INTERCEPT_VER names a symbol version, for a function glibc exports in
 * several (pthread_cond_wait@GLIBC_2.3.2 beside @GLIBC_2.2.5): dlsym would
 * return the default one, which is not always the one the program linked.
 * A wrapper that calls another function's real (execl calls execve's) is
 * declared with MG_WRAPPER and needs no table line.
 *
 * The gomap API is listed once, in gomap_api.inc (see gomap_api.h); its
 * real functions start as nil stubs and may be found later, without the
 * loader's lock, when libgomap arrives by dlopen (mg_intercept_resolve_loaded).
 */
#ifndef MAPGUARD_INTERCEPT_H
#define MAPGUARD_INTERCEPT_H

#include "common.h"

#define MG_HIDDEN __attribute__((visibility("hidden")))

/* The pointer to the real fn. */
#define MG_REAL(fn) mg_real_##fn

/* Declares MG_REAL(fn) for files other than the wrapper's. */
#define MG_DECLARE_REAL(ret, fn, params) extern MG_HIDDEN ret(*MG_REAL(fn)) params

/* Opens the definition of the exported wrapper fn. */
#define MG_WRAPPER(ret, fn, params) MG_EXPORT ret fn params

/* Defines MG_REAL(fn), unresolved (NULL), and opens the wrapper. */
#define MG_INTERCEPTOR(ret, fn, params)                                                                            \
    MG_HIDDEN ret(*MG_REAL(fn)) params;                                                                            \
    MG_WRAPPER(ret, fn, params)

/* The real fn, loaded with acquire order: for wrappers that may run while
 * another thread resolves (a call made before start-up finished). */
#define MG_REAL_LOAD(fn) __atomic_load_n(&MG_REAL(fn), __ATOMIC_ACQUIRE)

/* One line of a table of real functions to find. */
struct mg_intercept {
    const char *name;
    const char *version; /* NULL: the default version (dlsym) */
    void **real;         /* where the address goes */
};
#define MG_INTERCEPT(fn) {#fn, NULL, (void **)(void *)&MG_REAL(fn)}
#define MG_INTERCEPT_VER(fn, ver) {#fn, ver, (void **)(void *)&MG_REAL(fn)}
#define MG_INTERCEPT_COUNT(t) (sizeof(t) / sizeof((t)[0]))

/* Looks up every line with dlsym(RTLD_NEXT) or dlvsym(RTLD_NEXT) and stores
 * what it finds with release order; a line not found keeps its value.
 * Returns how many were not found. Takes the loader's lock. */
size_t mg_intercept_resolve(const struct mg_intercept *t, size_t n);

/* The same, in the first object loaded after libmapguard.so that defines
 * the function anchor and has been relocated, without the loader's lock: only the lock
 * that guards the list of objects (dl_iterate_phdr), which no library
 * constructor runs under, and only in objects whose relocation is done
 * (_dl_find_object knows an object once dlopen has relocated it). For a
 * library that arrives by dlopen after start: a wrapper may then run on a
 * thread that a constructor, with the loader's lock held, waits for.
 * Unversioned symbols only. Returns how many were not found (n when no
 * such object is loaded yet). */
size_t mg_intercept_resolve_loaded(const struct mg_intercept *t, size_t n, const char *anchor);

/* The real fn of a library the program must have loaded for fn's wrapper
 * to be called at all (GLib's, libgomp's): found now by resolve_late if it
 * was not at start (the library came by dlopen); missing, the wrapper
 * cannot go on, and mg_intercept_need says so and aborts. */
#define MG_REAL_NEEDED(fn, resolve_late, lib)                                                                      \
    (MG_LIKELY(MG_REAL_LOAD(fn) != NULL)                                                                           \
         ? MG_REAL(fn)                                                                                             \
         : (resolve_late(), (__typeof__(MG_REAL(fn)))mg_intercept_need((void *)MG_REAL_LOAD(fn), lib, #fn)))
void *mg_intercept_need(void *p, const char *lib, const char *name);

/* Resolves every table, once, at start-up (runtime.c). A file with a new
 * table adds its resolver here. */
void mg_intercept_start(void);

/* Each wrapper file's resolver of its table: gomap's (interpose.c,
 * mg_resolve_real in gomap_api.h), and: */
void mg_exec_resolve(void);    /* exec.c: the exec family, posix_spawn */
void mg_threads_resolve(void); /* thread_table.c: pthread_create, thrd_create */
void mg_notify_resolve(void);  /* sigev_notify.c: timer_create, timer_settime, mq_notify */
void mg_exit_resolve(void);    /* exit.c: _exit, _Exit, abort */
void mg_deadly_resolve(void);  /* deadly.c: sigaction, signal */
void mg_sync_resolve(void);    /* sync_intercept.c: locks, condition variables, semaphores, barriers, once */
void mg_fd_resolve(void);      /* fd_sync.c: pipes, eventfds and socket pairs */
void mg_glib_resolve(void);    /* glib_sync.c: GLib's locks, queues, pools, main loop, GTask, once */
void mg_omp_resolve(void);     /* omp_sync.c: libgomp's parallel regions, barriers, critical, locks */
void mg_omp_llvm_resolve(void); /* omp_llvm.c: libomp's critical and ordered (the rest: OMPT) */
/* omp_llvm.c: libomp started the shim's OMPT tool, whose task callbacks
 * order a detached task's fulfill where it belongs */
bool mg_omp_llvm_started(void);
void mg_gh_resolve(void);      /* ghash_intercept.c: GLib's g_hash_table_*, if loaded */

#endif
