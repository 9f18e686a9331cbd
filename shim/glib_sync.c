/*
 * GLib's synchronization, told to the happens-before engine (issue 13,
 * item 4): GMutex, GCond, GAsyncQueue, GThreadPool, the main loop's
 * sources, GTask and g_once. docs/design-detector.md ("GLib
 * synchronization") says how each is modelled and what is not seen.
 *
 * The shim does not link GLib: these wrappers interpose GLib's exported
 * functions by name, for the calls that reach them through the PLT: the
 * program's, and those of other libraries (libgio and libgobject call
 * libglib through the PLT). Debian's libglib is linked with
 * -Bsymbolic-functions (its relocations name none of its own functions),
 * so GLib's calls into itself never come here: GAsyncQueue's own GMutex,
 * g_idle_add's call of g_source_set_callback. GLib's calls into libc do
 * (GRecMutex, GRWLock and GThread are pthread underneath, and
 * sync_intercept.c and threads.c see them).
 *
 * The real functions are found at start with dlsym(RTLD_NEXT) when libglib
 * (or libgio) is loaded then; otherwise by the first wrapper called, in
 * the library loaded since (mg_intercept_resolve_loaded, without the
 * loader's lock). A program without GLib only pays one failed dlsym per
 * library at start.
 *
 * GLib's types are not included: the ABI is spelled out here (gboolean is
 * int, every object a pointer). GThreadPool's two first fields (func,
 * user_data) and GSource's third (source_funcs) are public in GLib's
 * headers and read here.
 */
#include "happens_before.h"
#include "common.h"
#include "log.h"
#include "threads.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

_Static_assert(sizeof(uintptr_t) == 8, "synthetic keys use the top address bit");

typedef int gboolean;
typedef gboolean (*GSourceFunc)(void *data);
typedef void (*GSourceOnceFunc)(void *data);
typedef void (*GDestroyNotify)(void *data);
typedef void (*GFunc)(void *data, void *user_data);
typedef void *(*GThreadFunc)(void *data);
typedef void (*GAsyncReadyCallback)(void *source, void *res, void *data);

#define G_PRIORITY_DEFAULT 0
#define G_PRIORITY_DEFAULT_IDLE 200

/* public in gthreadpool.h and gmain.h */
struct g_thread_pool_head {
    GFunc func;
    void *user_data;
};
struct g_source_head {
    void *callback_data;
    void *callback_funcs;
    const void *source_funcs;
};

/* ---- finding the real functions ---- */

static void glib_resolve_late(void);

/* The real fn; found now if it was not at start (libglib came by dlopen). */
#define GREAL(fn)                                                                                                  \
    (MG_LIKELY(MG_REAL_LOAD(fn) != NULL) ? MG_REAL(fn)                                                             \
                                         : (glib_resolve_late(), (__typeof__(MG_REAL(fn)))need((void *)MG_REAL_LOAD(fn), #fn)))

/* A wrapper is called only by a program that has GLib: its real function
 * must exist somewhere. */
static void *need(void *p, const char *name)
{
    if (MG_LIKELY(p != NULL))
        return p;
    mg_log(0, "%s: GLib's function not found; cannot continue", name);
    abort();
}

/* Synthetic keys for per-item handoffs, hashed into a fixed number of
 * buckets so that the engine's table never holds more than that many of
 * them. Two items in one bucket share a clock: a pop then takes both
 * pushes' clocks, which hides races and never invents one. */
#define ITEM_BUCKETS 2048u
enum { K_QUEUE = 1, K_POOL, K_SOURCE, K_TASK };

static const volatile void *item_key(unsigned kind, const void *a, const void *b)
{
    uint64_t h = (uint64_t)(uintptr_t)a * 0x9e3779b97f4a7c15ull;
    h ^= ((uint64_t)(uintptr_t)b + kind) * 0xc2b2ae3d27d4eb4full;
    h ^= h >> 31;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 29;
    return MG_HB_SYNTHETIC_KEY(1 + (h % ITEM_BUCKETS));
}

#define AWAKE() mg_hb_is_awake()
#define IF_AWAKE(call)                                                                                             \
    do {                                                                                                           \
        if (AWAKE())                                                                                               \
            call;                                                                                                  \
    } while (0)

/* A callback record (a trampoline's data): allocated when a callback is
 * registered, so it must not change errno. NULL: no memory, the callback
 * is registered unwrapped. */
static void *rec_alloc(size_t n)
{
    int saved = errno;
    void *p = malloc(n);
    errno = saved;
    return p;
}

/* ---- GMutex: one holder at a time (GLib 2.74: an inline atomic and a
 * futex, no pthread underneath) ---- */

MG_DECLARE_REAL(void, g_mutex_lock, (void *m));
static __attribute__((noinline)) void g_mutex_lock_awake(void *m)
{
    GREAL(g_mutex_lock)(m);
    mg_hb_lock_acquired(m);
}
MG_INTERCEPTOR(void, g_mutex_lock, (void *m))
{
    if (MG_UNLIKELY(AWAKE())) {
        g_mutex_lock_awake(m);
        return;
    }
    GREAL(g_mutex_lock)(m);
}

MG_INTERCEPTOR(gboolean, g_mutex_trylock, (void *m))
{
    gboolean r = GREAL(g_mutex_trylock)(m);
    if (r)
        IF_AWAKE(mg_hb_lock_acquired(m));
    return r;
}

MG_INTERCEPTOR(void, g_mutex_unlock, (void *m))
{
    IF_AWAKE(mg_hb_lock_releasing(m));
    GREAL(g_mutex_unlock)(m);
}

MG_INTERCEPTOR(void, g_mutex_init, (void *m))
{
    IF_AWAKE(mg_hb_reset(m));
    GREAL(g_mutex_init)(m);
}

MG_INTERCEPTOR(void, g_mutex_clear, (void *m))
{
    GREAL(g_mutex_clear)(m);
    IF_AWAKE(mg_hb_reset(m));
}

/* ---- GCond: the wait lets the GMutex go and takes it again inside
 * GLib, out of our sight; whatever it returns, it holds the mutex ---- */

MG_INTERCEPTOR(void, g_cond_wait, (void *c, void *m))
{
    IF_AWAKE(mg_hb_lock_releasing(m));
    GREAL(g_cond_wait)(c, m);
    IF_AWAKE(mg_hb_lock_acquired(m));
}

MG_INTERCEPTOR(gboolean, g_cond_wait_until, (void *c, void *m, int64_t end_time))
{
    IF_AWAKE(mg_hb_lock_releasing(m));
    gboolean r = GREAL(g_cond_wait_until)(c, m, end_time);
    IF_AWAKE(mg_hb_lock_acquired(m));
    return r;
}

/* deprecated; calls g_cond_wait_until inside GLib, which we do not see */
MG_INTERCEPTOR(gboolean, g_cond_timed_wait, (void *c, void *m, void *abs_time))
{
    IF_AWAKE(mg_hb_lock_releasing(m));
    gboolean r = GREAL(g_cond_timed_wait)(c, m, abs_time);
    IF_AWAKE(mg_hb_lock_acquired(m));
    return r;
}

/* ---- GAsyncQueue: a push happens before the pop that returns its item.
 * GLib takes the queue's GMutex inside, unseen; the key is the pair
 * (queue, item). g_async_queue_lock/unlock are the user's own critical
 * sections on that mutex: a lock. ---- */

#define PUSH(fn, params, args)                                                                                     \
    MG_INTERCEPTOR(void, fn, params)                                                                               \
    {                                                                                                              \
        IF_AWAKE(mg_hb_release_merge(item_key(K_QUEUE, q, data)));                                               \
        GREAL(fn) args;                                                                                            \
    }

PUSH(g_async_queue_push, (void *q, void *data), (q, data))
PUSH(g_async_queue_push_unlocked, (void *q, void *data), (q, data))
PUSH(g_async_queue_push_front, (void *q, void *data), (q, data))
PUSH(g_async_queue_push_front_unlocked, (void *q, void *data), (q, data))
PUSH(g_async_queue_push_sorted, (void *q, void *data, void *cmp, void *user_data), (q, data, cmp, user_data))
PUSH(g_async_queue_push_sorted_unlocked, (void *q, void *data, void *cmp, void *user_data),
     (q, data, cmp, user_data))

#define POP(fn, params, args)                                                                                      \
    MG_INTERCEPTOR(void *, fn, params)                                                                             \
    {                                                                                                              \
        void *r = GREAL(fn) args;                                                                                  \
        if (r)                                                                                                     \
            IF_AWAKE(mg_hb_acquire(item_key(K_QUEUE, q, r)));                                                    \
        return r;                                                                                                  \
    }

POP(g_async_queue_pop, (void *q), (q))
POP(g_async_queue_pop_unlocked, (void *q), (q))
POP(g_async_queue_try_pop, (void *q), (q))
POP(g_async_queue_try_pop_unlocked, (void *q), (q))
POP(g_async_queue_timeout_pop, (void *q, uint64_t timeout), (q, timeout))
POP(g_async_queue_timeout_pop_unlocked, (void *q, uint64_t timeout), (q, timeout))
POP(g_async_queue_timed_pop, (void *q, void *end_time), (q, end_time))
POP(g_async_queue_timed_pop_unlocked, (void *q, void *end_time), (q, end_time))

MG_INTERCEPTOR(void, g_async_queue_lock, (void *q))
{
    GREAL(g_async_queue_lock)(q);
    IF_AWAKE(mg_hb_lock_acquired(q));
}

MG_INTERCEPTOR(void, g_async_queue_unlock, (void *q))
{
    IF_AWAKE(mg_hb_lock_releasing(q));
    GREAL(g_async_queue_unlock)(q);
}

/* ---- GThreadPool: a push happens before the run of its item (key: the
 * item); every run happens before g_thread_pool_free(pool, _, TRUE)
 * returns (key: the pool's record). The pool runs the user's function
 * through pool_run, whose user_data is the record. ---- */

struct pool_rec {
    GFunc func;
    void *user_data;
};

static void pool_run(void *data, void *user_data)
{
    struct pool_rec *p = user_data;
    IF_AWAKE(mg_hb_acquire(item_key(K_POOL, NULL, data)));
    p->func(data, p->user_data);
    IF_AWAKE(mg_hb_release_merge(p));
}

/* The record for a new pool, or NULL (no engine, no memory): then the
 * pool gets the user's function itself. */
static struct pool_rec *pool_rec_new(GFunc func, void *user_data)
{
    if (!mg_hb_enabled() || !func)
        return NULL;
    struct pool_rec *p = rec_alloc(sizeof *p);
    if (p)
        *p = (struct pool_rec){func, user_data};
    return p;
}

MG_INTERCEPTOR(void *, g_thread_pool_new, (GFunc func, void *user_data, int max_threads, gboolean exclusive, void **error))
{
    struct pool_rec *p = pool_rec_new(func, user_data);
    if (!p)
        return GREAL(g_thread_pool_new)(func, user_data, max_threads, exclusive, error);
    void *pool = GREAL(g_thread_pool_new)(pool_run, p, max_threads, exclusive, error);
    if (!pool)
        free(p);
    return pool;
}

MG_INTERCEPTOR(void *, g_thread_pool_new_full,
               (GFunc func, void *user_data, GDestroyNotify item_free, int max_threads, gboolean exclusive, void **error))
{
    struct pool_rec *p = pool_rec_new(func, user_data);
    if (!p)
        return GREAL(g_thread_pool_new_full)(func, user_data, item_free, max_threads, exclusive, error);
    void *pool = GREAL(g_thread_pool_new_full)(pool_run, p, item_free, max_threads, exclusive, error);
    if (!pool)
        free(p);
    return pool;
}

MG_INTERCEPTOR(gboolean, g_thread_pool_push, (void *pool, void *data, void **error))
{
    IF_AWAKE(mg_hb_release_merge(item_key(K_POOL, NULL, data)));
    return GREAL(g_thread_pool_push)(pool, data, error);
}

/* A pool the program sees with our function in it shows the user's (a
 * program may read the public fields; GLib itself never does). */
MG_INTERCEPTOR(void, g_thread_pool_free, (void *pool, gboolean immediate, gboolean wait))
{
    struct g_thread_pool_head *h = pool;
    struct pool_rec *p = h && h->func == pool_run ? h->user_data : NULL;
    GREAL(g_thread_pool_free)(pool, immediate, wait);
    if (!p)
        return;
    if (wait) {
        /* every run has ended: its end merged into p */
        IF_AWAKE(mg_hb_acquire(p));
        IF_AWAKE(mg_hb_reset(p));
        free(p);
    }
    /* without wait a worker may still be running p->func: p stays */
}

/* ---- the main loop: adding a source happens before each run of its
 * callback. The callback runs through src_run, whose data is a record
 * keyed by its own address; the record goes with the source's destroy
 * notify, so repeating sources keep one record and none leaks. ---- */

struct src_rec {
    GSourceFunc fn;
    void *data;
    GDestroyNotify notify;
    const void *source; /* g_source_set_callback: acquire on the source too */
};

static gboolean src_run(void *data)
{
    struct src_rec *s = data;
    IF_AWAKE(mg_hb_acquire(s));
    if (s->source)
        IF_AWAKE(mg_hb_acquire(item_key(K_SOURCE, s->source, NULL)));
    return s->fn(s->data);
}

/* GSourceOnceFunc: run once, then the source goes */
static gboolean src_run_once(void *data)
{
    struct src_rec *s = data;
    IF_AWAKE(mg_hb_acquire(s));
    ((GSourceOnceFunc)(void (*)(void))s->fn)(s->data);
    return 0;
}

static void src_done(void *data)
{
    struct src_rec *s = data;
    if (s->notify)
        s->notify(s->data);
    IF_AWAKE(mg_hb_reset(s));
    free(s);
}

/* The record for a callback being registered, released into; NULL (no
 * engine, no memory, no function): register the user's own. */
static struct src_rec *src_rec_new(GSourceFunc fn, void *data, GDestroyNotify notify, const void *source)
{
    if (!mg_hb_enabled() || !fn)
        return NULL;
    struct src_rec *s = rec_alloc(sizeof *s);
    if (!s)
        return NULL;
    *s = (struct src_rec){fn, data, notify, source};
    IF_AWAKE(mg_hb_release_merge(s));
    return s;
}

MG_DECLARE_REAL(unsigned, g_idle_add_full, (int priority, GSourceFunc fn, void *data, GDestroyNotify notify));
MG_DECLARE_REAL(unsigned, g_timeout_add_full,
                (int priority, unsigned interval, GSourceFunc fn, void *data, GDestroyNotify notify));
MG_DECLARE_REAL(unsigned, g_timeout_add_seconds_full,
                (int priority, unsigned interval, GSourceFunc fn, void *data, GDestroyNotify notify));
MG_DECLARE_REAL(gboolean, g_main_context_invoke_full,
                (void *ctx, int priority, GSourceFunc fn, void *data, GDestroyNotify notify));

/* The _full variant with the record, or the real fn as called. The short
 * variants are GLib's _full ones with their default priority and no
 * notify (gmain.c), so they become those. */
MG_INTERCEPTOR(unsigned, g_idle_add_full, (int priority, GSourceFunc fn, void *data, GDestroyNotify notify))
{
    struct src_rec *s = src_rec_new(fn, data, notify, NULL);
    if (!s)
        return GREAL(g_idle_add_full)(priority, fn, data, notify);
    return GREAL(g_idle_add_full)(priority, src_run, s, src_done);
}

MG_INTERCEPTOR(unsigned, g_idle_add, (GSourceFunc fn, void *data))
{
    struct src_rec *s = src_rec_new(fn, data, NULL, NULL);
    if (!s)
        return GREAL(g_idle_add)(fn, data);
    return GREAL(g_idle_add_full)(G_PRIORITY_DEFAULT_IDLE, src_run, s, src_done);
}

MG_INTERCEPTOR(unsigned, g_idle_add_once, (GSourceOnceFunc fn, void *data))
{
    struct src_rec *s = src_rec_new((GSourceFunc)(void (*)(void))fn, data, NULL, NULL);
    if (!s)
        return GREAL(g_idle_add_once)(fn, data);
    return GREAL(g_idle_add_full)(G_PRIORITY_DEFAULT_IDLE, src_run_once, s, src_done);
}

MG_INTERCEPTOR(unsigned, g_timeout_add_full,
               (int priority, unsigned interval, GSourceFunc fn, void *data, GDestroyNotify notify))
{
    struct src_rec *s = src_rec_new(fn, data, notify, NULL);
    if (!s)
        return GREAL(g_timeout_add_full)(priority, interval, fn, data, notify);
    return GREAL(g_timeout_add_full)(priority, interval, src_run, s, src_done);
}

MG_INTERCEPTOR(unsigned, g_timeout_add, (unsigned interval, GSourceFunc fn, void *data))
{
    struct src_rec *s = src_rec_new(fn, data, NULL, NULL);
    if (!s)
        return GREAL(g_timeout_add)(interval, fn, data);
    return GREAL(g_timeout_add_full)(G_PRIORITY_DEFAULT, interval, src_run, s, src_done);
}

MG_INTERCEPTOR(unsigned, g_timeout_add_once, (unsigned interval, GSourceOnceFunc fn, void *data))
{
    struct src_rec *s = src_rec_new((GSourceFunc)(void (*)(void))fn, data, NULL, NULL);
    if (!s)
        return GREAL(g_timeout_add_once)(interval, fn, data);
    return GREAL(g_timeout_add_full)(G_PRIORITY_DEFAULT, interval, src_run_once, s, src_done);
}

MG_INTERCEPTOR(unsigned, g_timeout_add_seconds_full,
               (int priority, unsigned interval, GSourceFunc fn, void *data, GDestroyNotify notify))
{
    struct src_rec *s = src_rec_new(fn, data, notify, NULL);
    if (!s)
        return GREAL(g_timeout_add_seconds_full)(priority, interval, fn, data, notify);
    return GREAL(g_timeout_add_seconds_full)(priority, interval, src_run, s, src_done);
}

MG_INTERCEPTOR(unsigned, g_timeout_add_seconds, (unsigned interval, GSourceFunc fn, void *data))
{
    struct src_rec *s = src_rec_new(fn, data, NULL, NULL);
    if (!s)
        return GREAL(g_timeout_add_seconds)(interval, fn, data);
    return GREAL(g_timeout_add_seconds_full)(G_PRIORITY_DEFAULT, interval, src_run, s, src_done);
}

/* May run fn at once in the caller (the context is ours): the record is
 * then acquired by the thread that released it, which changes nothing. */
MG_INTERCEPTOR(gboolean, g_main_context_invoke_full,
               (void *ctx, int priority, GSourceFunc fn, void *data, GDestroyNotify notify))
{
    struct src_rec *s = src_rec_new(fn, data, notify, NULL);
    if (!s)
        return GREAL(g_main_context_invoke_full)(ctx, priority, fn, data, notify);
    return GREAL(g_main_context_invoke_full)(ctx, priority, src_run, s, src_done);
}

MG_INTERCEPTOR(void, g_main_context_invoke, (void *ctx, GSourceFunc fn, void *data))
{
    struct src_rec *s = src_rec_new(fn, data, NULL, NULL);
    if (!s) {
        GREAL(g_main_context_invoke)(ctx, fn, data);
        return;
    }
    GREAL(g_main_context_invoke_full)(ctx, G_PRIORITY_DEFAULT, src_run, s, src_done);
}

/* A source made by hand: attaching it (and setting its callback) happens
 * before its callback runs. Only idle and timeout sources call their
 * callback as a GSourceFunc; other kinds (fd, child watch, I/O) call it
 * with other arguments, so their callbacks are not wrapped (a gap the
 * design doc lists). */
static const void *g_idle_funcs_addr, *g_timeout_funcs_addr;

static bool calls_source_func(const void *source)
{
    const void *f = ((const struct g_source_head *)source)->source_funcs;
    return f && (f == g_idle_funcs_addr || f == g_timeout_funcs_addr);
}

MG_INTERCEPTOR(unsigned, g_source_attach, (void *source, void *ctx))
{
    if (source)
        IF_AWAKE(mg_hb_release_merge(item_key(K_SOURCE, source, NULL)));
    return GREAL(g_source_attach)(source, ctx);
}

MG_INTERCEPTOR(void, g_source_set_callback, (void *source, GSourceFunc fn, void *data, GDestroyNotify notify))
{
    struct src_rec *s = source && calls_source_func(source) ? src_rec_new(fn, data, notify, source) : NULL;
    if (!s) {
        GREAL(g_source_set_callback)(source, fn, data, notify);
        return;
    }
    IF_AWAKE(mg_hb_release_merge(item_key(K_SOURCE, source, NULL)));
    GREAL(g_source_set_callback)(source, src_run, s, src_done);
}

/* ---- GTask (libgio): g_task_return_* happens before g_task_propagate_*
 * returns and before the completion callback runs (key: the task). The
 * work before g_task_run_in_thread is ordered before the task function by
 * GThreadPool: libgio runs it through a pool it makes and pushes to with
 * g_thread_pool_new and g_thread_pool_push, through the PLT. ---- */

struct task_rec {
    GAsyncReadyCallback cb;
    void *data;
};

/* res is the task. Called once; a task dropped without a return never
 * calls it, and its record stays (a few bytes, and GLib warns then). */
static void task_done(void *source, void *res, void *data)
{
    struct task_rec t = *(struct task_rec *)data;
    free(data);
    IF_AWAKE(mg_hb_acquire(item_key(K_TASK, res, NULL)));
    t.cb(source, res, t.data);
}

MG_INTERCEPTOR(void *, g_task_new, (void *source, void *cancellable, GAsyncReadyCallback cb, void *data))
{
    struct task_rec *t = mg_hb_enabled() && cb ? rec_alloc(sizeof *t) : NULL;
    if (!t)
        return GREAL(g_task_new)(source, cancellable, cb, data);
    *t = (struct task_rec){cb, data};
    return GREAL(g_task_new)(source, cancellable, task_done, t);
}

#define TASK_RETURN(fn, params, args)                                                                              \
    MG_INTERCEPTOR(void, fn, params)                                                                               \
    {                                                                                                              \
        IF_AWAKE(mg_hb_release_merge(item_key(K_TASK, task, NULL)));                                             \
        GREAL(fn) args;                                                                                            \
    }

TASK_RETURN(g_task_return_pointer, (void *task, void *result, GDestroyNotify notify), (task, result, notify))
TASK_RETURN(g_task_return_boolean, (void *task, gboolean result), (task, result))
TASK_RETURN(g_task_return_int, (void *task, intptr_t result), (task, result))
TASK_RETURN(g_task_return_error, (void *task, void *error), (task, error))
TASK_RETURN(g_task_return_value, (void *task, void *value), (task, value))

MG_INTERCEPTOR(gboolean, g_task_return_error_if_cancelled, (void *task))
{
    IF_AWAKE(mg_hb_release_merge(item_key(K_TASK, task, NULL)));
    return GREAL(g_task_return_error_if_cancelled)(task);
}

/* Variadic: done as GLib does it, an error made from the arguments and
 * g_task_return_error. */
MG_HIDDEN void *(*MG_REAL(g_error_new_valist))(uint32_t domain, int code, const char *format, va_list ap);
MG_WRAPPER(void, g_task_return_new_error, (void *task, uint32_t domain, int code, const char *format, ...))
{
    va_list ap;
    va_start(ap, format);
    void *error = GREAL(g_error_new_valist)(domain, code, format, ap);
    va_end(ap);
    IF_AWAKE(mg_hb_release_merge(item_key(K_TASK, task, NULL)));
    GREAL(g_task_return_error)(task, error);
}

#define TASK_PROPAGATE(type, fn, params, args)                                                                     \
    MG_INTERCEPTOR(type, fn, params)                                                                               \
    {                                                                                                              \
        type r = GREAL(fn) args;                                                                                   \
        IF_AWAKE(mg_hb_acquire(item_key(K_TASK, task, NULL)));                                                   \
        return r;                                                                                                  \
    }

TASK_PROPAGATE(void *, g_task_propagate_pointer, (void *task, void **error), (task, error))
TASK_PROPAGATE(gboolean, g_task_propagate_boolean, (void *task, void **error), (task, error))
TASK_PROPAGATE(intptr_t, g_task_propagate_int, (void *task, void **error), (task, error))
TASK_PROPAGATE(gboolean, g_task_propagate_value, (void *task, void *value, void **error), (task, value, error))

/* ---- g_once_init_enter/leave and g_once ----
 * The leave happens before every enter that returns FALSE (the value is
 * set: made by another thread, waited for, or seen set). The macro
 * g_once_init_enter calls the function only when its inline load reads 0;
 * a thread that reads the value set makes no call, so the leave is also a
 * broadcast (happens_before.h) that every thread takes at its next map
 * call. */

MG_INTERCEPTOR(gboolean, g_once_init_enter, (volatile void *location))
{
    gboolean r = GREAL(g_once_init_enter)(location);
    if (!r)
        IF_AWAKE(mg_hb_acquire(location));
    return r;
}

/* what programs built against GLib before 2.30 call */
MG_INTERCEPTOR(gboolean, g_once_init_enter_impl, (volatile size_t *location))
{
    gboolean r = GREAL(g_once_init_enter_impl)(location);
    if (!r)
        IF_AWAKE(mg_hb_acquire(location));
    return r;
}

MG_INTERCEPTOR(void, g_once_init_leave, (volatile void *location, size_t result))
{
    if (AWAKE()) {
        mg_hb_release_merge(location);
        mg_hb_release_broadcast();
    }
    GREAL(g_once_init_leave)(location, result);
}

/* g_once(once, func, arg): the macro calls g_once_impl unless once is
 * done. func runs through once_run, which finds it on this thread's stack
 * of g_once calls in progress (func may call g_once itself). */
struct once_frame {
    GThreadFunc fn;
    const void *once;
    struct once_frame *up;
};
static __thread struct once_frame *once_top __attribute__((tls_model("initial-exec")));

static void *once_run(void *arg)
{
    struct once_frame *f = once_top;
    void *r = f->fn(arg);
    if (AWAKE()) {
        mg_hb_release_merge(f->once);
        mg_hb_release_broadcast();
    }
    return r;
}

MG_INTERCEPTOR(void *, g_once_impl, (void *once, GThreadFunc fn, void *arg))
{
    if (!mg_hb_enabled() || mg_self.busy)
        return GREAL(g_once_impl)(once, fn, arg);
    struct once_frame f = {fn, once, once_top};
    once_top = &f;
    void *r = GREAL(g_once_impl)(once, once_run, arg);
    once_top = f.up;
    IF_AWAKE(mg_hb_acquire(once));
    return r;
}

/* ---- the tables ---- */

#define GLIB_TABLE                                                                                                 \
    MG_INTERCEPT(g_mutex_lock), MG_INTERCEPT(g_mutex_trylock), MG_INTERCEPT(g_mutex_unlock),                       \
        MG_INTERCEPT(g_mutex_init), MG_INTERCEPT(g_mutex_clear), MG_INTERCEPT(g_cond_wait),                        \
        MG_INTERCEPT(g_cond_wait_until), MG_INTERCEPT(g_cond_timed_wait), MG_INTERCEPT(g_async_queue_push),        \
        MG_INTERCEPT(g_async_queue_push_unlocked), MG_INTERCEPT(g_async_queue_push_front),                         \
        MG_INTERCEPT(g_async_queue_push_front_unlocked), MG_INTERCEPT(g_async_queue_push_sorted),                  \
        MG_INTERCEPT(g_async_queue_push_sorted_unlocked), MG_INTERCEPT(g_async_queue_pop),                         \
        MG_INTERCEPT(g_async_queue_pop_unlocked), MG_INTERCEPT(g_async_queue_try_pop),                             \
        MG_INTERCEPT(g_async_queue_try_pop_unlocked), MG_INTERCEPT(g_async_queue_timeout_pop),                     \
        MG_INTERCEPT(g_async_queue_timeout_pop_unlocked), MG_INTERCEPT(g_async_queue_timed_pop),                   \
        MG_INTERCEPT(g_async_queue_timed_pop_unlocked), MG_INTERCEPT(g_async_queue_lock),                          \
        MG_INTERCEPT(g_async_queue_unlock), MG_INTERCEPT(g_thread_pool_new), MG_INTERCEPT(g_thread_pool_new_full), \
        MG_INTERCEPT(g_thread_pool_push), MG_INTERCEPT(g_thread_pool_free), MG_INTERCEPT(g_idle_add_full),         \
        MG_INTERCEPT(g_idle_add), MG_INTERCEPT(g_idle_add_once), MG_INTERCEPT(g_timeout_add_full),                 \
        MG_INTERCEPT(g_timeout_add), MG_INTERCEPT(g_timeout_add_once), MG_INTERCEPT(g_timeout_add_seconds_full),   \
        MG_INTERCEPT(g_timeout_add_seconds), MG_INTERCEPT(g_main_context_invoke_full),                             \
        MG_INTERCEPT(g_main_context_invoke), MG_INTERCEPT(g_source_attach), MG_INTERCEPT(g_source_set_callback),   \
        MG_INTERCEPT(g_error_new_valist), MG_INTERCEPT(g_once_init_enter), MG_INTERCEPT(g_once_init_enter_impl),   \
        MG_INTERCEPT(g_once_init_leave), MG_INTERCEPT(g_once_impl)

#define GIO_TABLE                                                                                                  \
    MG_INTERCEPT(g_task_new), MG_INTERCEPT(g_task_return_pointer), MG_INTERCEPT(g_task_return_boolean),            \
        MG_INTERCEPT(g_task_return_int), MG_INTERCEPT(g_task_return_error), MG_INTERCEPT(g_task_return_value),     \
        MG_INTERCEPT(g_task_return_error_if_cancelled), MG_INTERCEPT(g_task_propagate_pointer),                    \
        MG_INTERCEPT(g_task_propagate_boolean), MG_INTERCEPT(g_task_propagate_int),                                \
        MG_INTERCEPT(g_task_propagate_value)

static const struct mg_intercept glib_table[] = {GLIB_TABLE};
static const struct mg_intercept gio_table[] = {GIO_TABLE};

/* GSource kinds whose callback is a GSourceFunc: exported data. */
static void find_source_funcs(void *(*look)(const char *))
{
    if (!__atomic_load_n(&g_idle_funcs_addr, __ATOMIC_ACQUIRE))
        __atomic_store_n(&g_idle_funcs_addr, look("g_idle_funcs"), __ATOMIC_RELEASE);
    if (!__atomic_load_n(&g_timeout_funcs_addr, __ATOMIC_ACQUIRE))
        __atomic_store_n(&g_timeout_funcs_addr, look("g_timeout_funcs"), __ATOMIC_RELEASE);
}

static void *look_next(const char *name) { return dlsym(RTLD_NEXT, name); }

void mg_glib_resolve(void)
{
    /* one lookup for a program without GLib */
    if (dlsym(RTLD_NEXT, "g_mutex_lock")) {
        mg_intercept_resolve(glib_table, MG_INTERCEPT_COUNT(glib_table));
        find_source_funcs(look_next);
    }
    if (dlsym(RTLD_NEXT, "g_task_new"))
        mg_intercept_resolve(gio_table, MG_INTERCEPT_COUNT(gio_table));
}

/* libglib (or libgio) loaded after start, by dlopen: its functions, read
 * from its own symbol table without the loader's lock. The late lookup
 * finds functions only, so g_idle_funcs and g_timeout_funcs stay unknown
 * and hand-made sources' callbacks go unwrapped (g_source_set_callback). */
static void glib_resolve_late(void)
{
    mg_intercept_resolve_loaded(glib_table, MG_INTERCEPT_COUNT(glib_table), "g_mutex_lock");
    mg_intercept_resolve_loaded(gio_table, MG_INTERCEPT_COUNT(gio_table), "g_task_new");
}
