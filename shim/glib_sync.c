/*
 * GLib's synchronization, told to the happens-before engine (issue 13,
 * item 4): GMutex, GLib's bit locks, GCond, GAsyncQueue, GThreadPool, the
 * main loop (its sources, quit and run, a context's ownership), GTask,
 * GCancellable, g_once and the reference counts that end in a destroy
 * (GObject, atomic rc boxes). docs/design-detector.md ("GLib
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
 * sync_intercept.c and thread_table.c see them).
 *
 * The real functions are found at start with dlsym(RTLD_NEXT) when libglib
 * (or libgio) is loaded then; otherwise by the first wrapper called, in
 * the library loaded since (mg_intercept_resolve_loaded, without the
 * loader's lock). A program without GLib only pays one failed dlsym per
 * library at start.
 *
 * GLib's types are not included: the ABI is spelled out here (gboolean is
 * int, every object a pointer). GThreadPool's first field (func) is public
 * in GLib's headers and read here.
 */
#include "happens_before.h"
#include "common.h"
#include "log.h"
#include "thread_table.h"

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

#define G_PRIORITY_DEFAULT 0
#define G_PRIORITY_DEFAULT_IDLE 200

/* public in gthreadpool.h; a program that reads these fields sees
 * pool_run and its record (docs/design-detector.md) */
struct g_thread_pool_head {
    GFunc func;
    void *user_data;
};

/* ---- finding the real functions ---- */

static void glib_resolve_late(void);

/* The real fn; found now if it was not at start (libglib came by dlopen). */
#define GREAL(fn) MG_REAL_NEEDED(fn, glib_resolve_late, "GLib")

/* Synthetic keys for per-item handoffs, hashed into a fixed number of
 * buckets so that the engine's table never holds more than that many of
 * them. Two items in one bucket share a clock: a pop then takes both
 * pushes' clocks, which hides races and never invents one. */
#define ITEM_BUCKETS 2048u
enum { K_QUEUE = 1, K_POOL, K_SOURCE, K_TASK, K_CANCEL };

static const volatile void *item_key(unsigned kind, const void *a, const void *b)
{
    uint64_t h = (uint64_t)(uintptr_t)a * 0x9e3779b97f4a7c15ull;
    h ^= ((uint64_t)(uintptr_t)b + kind) * 0xc2b2ae3d27d4eb4full;
    h ^= h >> 31;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 29;
    return MG_HB_SYNTHETIC_KEY(1 + (h % ITEM_BUCKETS));
}

/* a map exists and the process has had a second thread: before that
 * GLib's own start-up synchronization (type registrations, GMutexes) is
 * skipped, happens_before.h says why that loses nothing */
#define AWAKE() mg_hb_sync_live()
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
    /* the engine woke while this thread waited (sync_intercept.c, TAKE) */
    IF_AWAKE(mg_hb_lock_acquired(m));
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

/* ---- bit locks: one bit of an int (g_bit_*) or of a pointer-sized word
 * (g_pointer_bit_*) is a lock one thread holds at a time. Each bit is a
 * lock of its own, so the key is the word's address and the bit, kept
 * apart from every real address (synthetic, happens_before.h): the word's
 * own address may also be a GMutex's or a neighbour's key. GLib 2.80's
 * g_pointer_bit_lock_and_get and g_pointer_bit_unlock_and_set are not
 * wrapped (docs/design-detector.md). ---- */

static const volatile void *bit_key(const volatile void *word, int bit)
{
    return MG_HB_SYNTHETIC_KEY(1ull << 56 | (uint64_t)(uintptr_t)word << 6 | ((unsigned)bit & 63u));
}

/* lock, trylock and unlock of one kind of word, PREFIX_lock and so on */
#define BIT_LOCK_WRAPPERS(prefix, word)                                                                            \
    MG_INTERCEPTOR(void, prefix##_lock, (word address, int lock_bit))                                              \
    {                                                                                                              \
        GREAL(prefix##_lock)(address, lock_bit);                                                                   \
        IF_AWAKE(mg_hb_lock_acquired(bit_key(address, lock_bit)));                                                 \
    }                                                                                                              \
    MG_INTERCEPTOR(gboolean, prefix##_trylock, (word address, int lock_bit))                                       \
    {                                                                                                              \
        gboolean r = GREAL(prefix##_trylock)(address, lock_bit);                                                   \
        if (r)                                                                                                     \
            IF_AWAKE(mg_hb_lock_acquired(bit_key(address, lock_bit)));                                             \
        return r;                                                                                                  \
    }                                                                                                              \
    MG_INTERCEPTOR(void, prefix##_unlock, (word address, int lock_bit))                                            \
    {                                                                                                              \
        IF_AWAKE(mg_hb_lock_releasing(bit_key(address, lock_bit)));                                                \
        GREAL(prefix##_unlock)(address, lock_bit);                                                                 \
    }

BIT_LOCK_WRAPPERS(g_bit, volatile int *)
BIT_LOCK_WRAPPERS(g_pointer_bit, volatile void *)

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

/* The compare function of push_sorted and sort runs in the caller's
 * thread, under the queue's mutex, on items other threads pushed and other
 * threads will pop: it reads an item after its push and before its pop, as
 * GLib's mutex guarantees. So each compared item's clock is taken before
 * the call and the compare's clock merged into it after: without that, a
 * compare that reads an item (a table) races with its pusher's writes and
 * with its popper's. */
typedef int (*GCompareDataFunc)(const void *a, const void *b, void *user_data);
struct queue_cmp {
    GCompareDataFunc cmp;
    void *user_data;
    void *q;
};

/* The user's compare of two queued items (kind, container q), between
 * their keys' acquire and release-merge: a queue's, and a pool's sort
 * function (below). */
static int compare_items(unsigned kind, const void *q, GCompareDataFunc cmp, void *user_data, const void *a,
                         const void *b)
{
    if (AWAKE()) {
        mg_hb_acquire(item_key(kind, q, a));
        mg_hb_acquire(item_key(kind, q, b));
    }
    int r = cmp(a, b, user_data);
    if (AWAKE()) {
        mg_hb_release_merge(item_key(kind, q, a));
        mg_hb_release_merge(item_key(kind, q, b));
    }
    return r;
}

static int queue_cmp_run(const void *a, const void *b, void *data)
{
    const struct queue_cmp *c = data;
    return compare_items(K_QUEUE, c->q, c->cmp, c->user_data, a, b);
}

#define PUSH_SORTED(fn)                                                                                            \
    MG_INTERCEPTOR(void, fn, (void *q, void *data, GCompareDataFunc cmp, void *user_data))                       \
    {                                                                                                              \
        struct queue_cmp c = {cmp, user_data, q};                                                                  \
        IF_AWAKE(mg_hb_release_merge(item_key(K_QUEUE, q, data)));                                               \
        if (cmp)                                                                                                   \
            GREAL(fn)(q, data, queue_cmp_run, &c);                                                                 \
        else                                                                                                       \
            GREAL(fn)(q, data, cmp, user_data);                                                                    \
    }

PUSH_SORTED(g_async_queue_push_sorted)
PUSH_SORTED(g_async_queue_push_sorted_unlocked)

#define SORT(fn)                                                                                                   \
    MG_INTERCEPTOR(void, fn, (void *q, GCompareDataFunc cmp, void *user_data))                                   \
    {                                                                                                              \
        struct queue_cmp c = {cmp, user_data, q};                                                                  \
        if (cmp)                                                                                                   \
            GREAL(fn)(q, queue_cmp_run, &c);                                                                       \
        else                                                                                                       \
            GREAL(fn)(q, cmp, user_data);                                                                          \
    }

SORT(g_async_queue_sort)
SORT(g_async_queue_sort_unlocked)

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
    GCompareDataFunc cmp; /* g_thread_pool_set_sort_function's */
    void *cmp_data;
    int serial; /* max_threads is 1: one item at a time, each run's end
                   happens before the next run's start (GLib hands the pool
                   from one worker to the next under its queue's lock) */
};

static void pool_run(void *data, void *user_data)
{
    struct pool_rec *p = user_data;
    if (AWAKE()) {
        mg_hb_acquire(item_key(K_POOL, NULL, data));
        if (__atomic_load_n(&p->serial, __ATOMIC_RELAXED))
            mg_hb_acquire(p);
    }
    p->func(data, p->user_data);
    IF_AWAKE(mg_hb_release_merge(p));
}

/* The record for a new pool, or NULL (no engine, no memory): then the
 * pool gets the user's function itself. */
static struct pool_rec *pool_rec_new(GFunc func, void *user_data, int max_threads)
{
    if (!mg_hb_enabled() || !func)
        return NULL;
    struct pool_rec *p = rec_alloc(sizeof *p);
    if (p)
        *p = (struct pool_rec){.func = func, .user_data = user_data, .serial = max_threads == 1};
    return p;
}

/* The pool is ours if its func (a public field) is pool_run; its
 * user_data is then the record. */
static struct pool_rec *pool_rec_of(void *pool)
{
    struct g_thread_pool_head *h = pool;
    return h && h->func == pool_run ? h->user_data : NULL;
}

MG_INTERCEPTOR(void *, g_thread_pool_new, (GFunc func, void *user_data, int max_threads, gboolean exclusive, void **error))
{
    struct pool_rec *p = pool_rec_new(func, user_data, max_threads);
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
    struct pool_rec *p = pool_rec_new(func, user_data, max_threads);
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

/* A pool's sort function runs in the pushing thread, under the pool's
 * queue lock, on queued items: as the queue's compare (above), each
 * compared item's clock is taken before it and merged into after. */
static int pool_cmp_run(const void *a, const void *b, void *data)
{
    const struct pool_rec *p = data;
    return compare_items(K_POOL, NULL, __atomic_load_n(&p->cmp, __ATOMIC_ACQUIRE), p->cmp_data, a, b);
}

MG_INTERCEPTOR(void, g_thread_pool_set_sort_function, (void *pool, GCompareDataFunc cmp, void *user_data))
{
    struct pool_rec *p = pool_rec_of(pool);
    if (!p || !cmp) {
        GREAL(g_thread_pool_set_sort_function)(pool, cmp, user_data);
        return;
    }
    p->cmp_data = user_data;
    __atomic_store_n(&p->cmp, cmp, __ATOMIC_RELEASE);
    GREAL(g_thread_pool_set_sort_function)(pool, pool_cmp_run, p);
}

MG_INTERCEPTOR(gboolean, g_thread_pool_set_max_threads, (void *pool, int max_threads, void **error))
{
    gboolean r = GREAL(g_thread_pool_set_max_threads)(pool, max_threads, error);
    struct pool_rec *p = pool_rec_of(pool);
    if (p && r)
        __atomic_store_n(&p->serial, max_threads == 1, __ATOMIC_RELAXED);
    return r;
}

MG_INTERCEPTOR(void, g_thread_pool_free, (void *pool, gboolean immediate, gboolean wait))
{
    struct pool_rec *p = pool_rec_of(pool);
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

/* ---- the main loop: adding a source (and attaching one, and setting its
 * callback) happens before each run of its callback.
 *
 * A source's callback is kept as GLib keeps it, behind three functions
 * (GSourceCallbackFuncs: ref, unref, get); g_source_set_callback_indirect
 * lets us give our own. GLib calls get in the dispatching thread just
 * before it runs the callback: there we acquire. The callback and its
 * data stay the user's, whatever the kind of source (an fd or child
 * watch's callback has other arguments), and GLib's lookups by data
 * (g_source_remove_by_user_data) still find them. The record is freed
 * on its last unref, with the user's destroy notify, as GLib's own is.
 *
 * g_idle_add*, g_timeout_add* and g_timeout_add_seconds* are done as GLib
 * does them (a new source, its priority, its callback, attach, unref),
 * with our callback functions. The _once variants and
 * g_main_context_invoke* call the real function with a trampoline as the
 * callback and a record as its data. ---- */

struct src_rec {
    uint32_t refs;
    bool once;        /* fn is a GSourceOnceFunc */
    GSourceFunc fn;
    void *data;
    GDestroyNotify notify;
};

/* GSourceCallbackFuncs */
struct g_source_callback_funcs {
    void (*ref)(void *cb_data);
    void (*unref)(void *cb_data);
    void (*get)(void *cb_data, void *source, GSourceFunc *func, void **data);
};

static void src_free(struct src_rec *s)
{
    if (s->notify)
        s->notify(s->data);
    IF_AWAKE(mg_hb_reset(s));
    free(s);
}

static void src_ref(void *p) { __atomic_add_fetch(&((struct src_rec *)p)->refs, 1, __ATOMIC_RELAXED); }

static void src_unref(void *p)
{
    if (__atomic_sub_fetch(&((struct src_rec *)p)->refs, 1, __ATOMIC_ACQ_REL) == 0)
        src_free(p);
}

static void src_get(void *p, void *source, GSourceFunc *fn, void **data)
{
    struct src_rec *s = p;
    if (AWAKE()) {
        mg_hb_acquire(s);
        if (source)
            mg_hb_acquire(item_key(K_SOURCE, source, NULL));
    }
    *fn = s->fn;
    *data = s->data;
}

static const struct g_source_callback_funcs src_funcs = {src_ref, src_unref, src_get};

/* The trampolines, for the calls that take only a function and data. */
static gboolean src_run(void *data)
{
    struct src_rec *s = data;
    IF_AWAKE(mg_hb_acquire(s));
    if (s->once) {
        ((GSourceOnceFunc)(void (*)(void))s->fn)(s->data);
        return 0;
    }
    return s->fn(s->data);
}

static void src_done(void *data) { src_free(data); }

/* The record for a callback being registered, released into; NULL (no
 * engine, no memory, no function): register the user's own. */
static struct src_rec *src_rec_new(GSourceFunc fn, void *data, GDestroyNotify notify, bool once)
{
    if (!mg_hb_enabled() || !fn)
        return NULL;
    struct src_rec *s = rec_alloc(sizeof *s);
    if (!s)
        return NULL;
    *s = (struct src_rec){1, once, fn, data, notify};
    IF_AWAKE(mg_hb_release_merge(s));
    return s;
}

/* Found, not wrapped: what GLib's adders call inside. */
static void *(*MG_REAL(g_idle_source_new))(void);
static void *(*MG_REAL(g_timeout_source_new))(unsigned interval);
static void *(*MG_REAL(g_timeout_source_new_seconds))(unsigned interval);
static void (*MG_REAL(g_source_set_priority))(void *source, int priority);
static void (*MG_REAL(g_source_set_callback_indirect))(void *source, void *cb_data, const void *cb_funcs);
static void (*MG_REAL(g_source_unref))(void *source);
MG_DECLARE_REAL(unsigned, g_source_attach, (void *source, void *ctx));

/* A new source with its priority and our callback, attached to the
 * default context; as GLib's adders. */
static unsigned add_source(void *source, int priority, struct src_rec *s)
{
    GREAL(g_source_set_priority)(source, priority);
    GREAL(g_source_set_callback_indirect)(source, s, &src_funcs);
    unsigned id = GREAL(g_source_attach)(source, NULL);
    GREAL(g_source_unref)(source);
    return id;
}

MG_INTERCEPTOR(unsigned, g_idle_add_full, (int priority, GSourceFunc fn, void *data, GDestroyNotify notify))
{
    struct src_rec *s = src_rec_new(fn, data, notify, false);
    if (!s)
        return GREAL(g_idle_add_full)(priority, fn, data, notify);
    return add_source(GREAL(g_idle_source_new)(), priority, s);
}

MG_INTERCEPTOR(unsigned, g_idle_add, (GSourceFunc fn, void *data))
{
    struct src_rec *s = src_rec_new(fn, data, NULL, false);
    if (!s)
        return GREAL(g_idle_add)(fn, data);
    return add_source(GREAL(g_idle_source_new)(), G_PRIORITY_DEFAULT_IDLE, s);
}

MG_INTERCEPTOR(unsigned, g_timeout_add_full,
               (int priority, unsigned interval, GSourceFunc fn, void *data, GDestroyNotify notify))
{
    struct src_rec *s = src_rec_new(fn, data, notify, false);
    if (!s)
        return GREAL(g_timeout_add_full)(priority, interval, fn, data, notify);
    return add_source(GREAL(g_timeout_source_new)(interval), priority, s);
}

MG_INTERCEPTOR(unsigned, g_timeout_add, (unsigned interval, GSourceFunc fn, void *data))
{
    struct src_rec *s = src_rec_new(fn, data, NULL, false);
    if (!s)
        return GREAL(g_timeout_add)(interval, fn, data);
    return add_source(GREAL(g_timeout_source_new)(interval), G_PRIORITY_DEFAULT, s);
}

MG_INTERCEPTOR(unsigned, g_timeout_add_seconds_full,
               (int priority, unsigned interval, GSourceFunc fn, void *data, GDestroyNotify notify))
{
    struct src_rec *s = src_rec_new(fn, data, notify, false);
    if (!s)
        return GREAL(g_timeout_add_seconds_full)(priority, interval, fn, data, notify);
    return add_source(GREAL(g_timeout_source_new_seconds)(interval), priority, s);
}

MG_INTERCEPTOR(unsigned, g_timeout_add_seconds, (unsigned interval, GSourceFunc fn, void *data))
{
    struct src_rec *s = src_rec_new(fn, data, NULL, false);
    if (!s)
        return GREAL(g_timeout_add_seconds)(interval, fn, data);
    return add_source(GREAL(g_timeout_source_new_seconds)(interval), G_PRIORITY_DEFAULT, s);
}

/* GSourceOnceFunc returns nothing: the trampoline returns FALSE for it,
 * and the source's data is the record */
MG_INTERCEPTOR(unsigned, g_idle_add_once, (GSourceOnceFunc fn, void *data))
{
    struct src_rec *s = src_rec_new((GSourceFunc)(void (*)(void))fn, data, NULL, true);
    if (!s)
        return GREAL(g_idle_add_once)(fn, data);
    return GREAL(g_idle_add_full)(G_PRIORITY_DEFAULT_IDLE, src_run, s, src_done);
}

MG_INTERCEPTOR(unsigned, g_timeout_add_once, (unsigned interval, GSourceOnceFunc fn, void *data))
{
    struct src_rec *s = src_rec_new((GSourceFunc)(void (*)(void))fn, data, NULL, true);
    if (!s)
        return GREAL(g_timeout_add_once)(interval, fn, data);
    return GREAL(g_timeout_add_full)(G_PRIORITY_DEFAULT, interval, src_run, s, src_done);
}

/* May run fn at once in the caller (it owns the context): the record is
 * then acquired by the thread that released it, which changes nothing. */
MG_INTERCEPTOR(gboolean, g_main_context_invoke_full,
               (void *ctx, int priority, GSourceFunc fn, void *data, GDestroyNotify notify))
{
    struct src_rec *s = src_rec_new(fn, data, notify, false);
    if (!s)
        return GREAL(g_main_context_invoke_full)(ctx, priority, fn, data, notify);
    return GREAL(g_main_context_invoke_full)(ctx, priority, src_run, s, src_done);
}

MG_INTERCEPTOR(void, g_main_context_invoke, (void *ctx, GSourceFunc fn, void *data))
{
    struct src_rec *s = src_rec_new(fn, data, NULL, false);
    if (!s) {
        GREAL(g_main_context_invoke)(ctx, fn, data);
        return;
    }
    GREAL(g_main_context_invoke_full)(ctx, G_PRIORITY_DEFAULT, src_run, s, src_done);
}

/* A source made by hand: attaching it happens before its callback runs
 * (src_get acquires on the source too). */
MG_INTERCEPTOR(unsigned, g_source_attach, (void *source, void *ctx))
{
    if (source)
        IF_AWAKE(mg_hb_release_merge(item_key(K_SOURCE, source, NULL)));
    return GREAL(g_source_attach)(source, ctx);
}

MG_INTERCEPTOR(void, g_source_set_callback, (void *source, GSourceFunc fn, void *data, GDestroyNotify notify))
{
    struct src_rec *s = source ? src_rec_new(fn, data, notify, false) : NULL;
    if (!s) {
        GREAL(g_source_set_callback)(source, fn, data, notify);
        return;
    }
    GREAL(g_source_set_callback_indirect)(source, s, &src_funcs);
}

/* ---- GTask (libgio): g_task_return_* happens before g_task_propagate_*
 * returns (key: the task). The rest is seen through libgio's own calls
 * into libglib, which go through the PLT: the work before
 * g_task_run_in_thread is ordered before the task function by the
 * GThreadPool libgio runs it on (g_thread_pool_new/push); a return from
 * another thread reaches the completion callback through an idle source
 * (g_source_set_callback, g_source_attach); run_in_thread_sync waits on a
 * GCond under a GMutex. The callback given to g_task_new is left as it is:
 * g_async_result_get_user_data must return the user's data. ---- */

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

/* ---- GCancellable (libgio): g_cancellable_cancel happens before a
 * g_cancellable_is_cancelled or g_cancellable_set_error_if_cancelled
 * that returns TRUE (key: the cancellable). GLib sets the flag under
 * GIO's lock and reads it with a plain load, so a thread that polls it
 * and then reads what the cancelling thread wrote is ordered by that
 * flag alone, which the shim cannot see. A handler of the "cancelled"
 * signal runs in the cancelling thread, and a cancellable's source or
 * descriptor wakes its waiter through GLib's wakeup eventfd
 * (fd_sync.c). ---- */

MG_INTERCEPTOR(void, g_cancellable_cancel, (void *c))
{
    if (c)
        IF_AWAKE(mg_hb_release_merge(item_key(K_CANCEL, c, NULL)));
    GREAL(g_cancellable_cancel)(c);
}

#define CANCEL_POLL(fn, params, args)                                                                              \
    MG_INTERCEPTOR(gboolean, fn, params)                                                                           \
    {                                                                                                              \
        gboolean r = GREAL(fn) args;                                                                               \
        if (r)                                                                                                     \
            IF_AWAKE(mg_hb_acquire(item_key(K_CANCEL, c, NULL)));                                                  \
        return r;                                                                                                  \
    }

CANCEL_POLL(g_cancellable_is_cancelled, (void *c), (c))
CANCEL_POLL(g_cancellable_set_error_if_cancelled, (void *c, void **error), (c, error))

/* ---- the main loop's end, and a context's owner ----
 * g_main_loop_quit happens before the return of g_main_loop_run it ends
 * (GLib sets the loop's flag and reads it under the context's lock):
 * release-merge on the loop before the quit, acquire after the run. A
 * context is owned by one thread at a time (g_main_context_acquire
 * succeeds only then; owned recursively): a lock on the context. NULL is
 * the default context. */

MG_INTERCEPTOR(void, g_main_loop_quit, (void *loop))
{
    if (loop)
        IF_AWAKE(mg_hb_release_merge(loop));
    GREAL(g_main_loop_quit)(loop);
}

MG_INTERCEPTOR(void, g_main_loop_run, (void *loop))
{
    GREAL(g_main_loop_run)(loop);
    if (loop)
        IF_AWAKE(mg_hb_acquire(loop));
}

static void *(*MG_REAL(g_main_context_default))(void); /* found, not wrapped */
static void *context_key(void *ctx) { return ctx ? ctx : GREAL(g_main_context_default)(); }

MG_INTERCEPTOR(gboolean, g_main_context_acquire, (void *ctx))
{
    gboolean r = GREAL(g_main_context_acquire)(ctx);
    if (r && AWAKE())
        mg_hb_acquire(context_key(ctx));
    return r;
}

MG_INTERCEPTOR(void, g_main_context_release, (void *ctx))
{
    IF_AWAKE(mg_hb_release_merge(context_key(ctx)));
    GREAL(g_main_context_release)(ctx);
}

/* ---- reference counts that end in a destroy ----
 * GLib drops a reference with an atomic decrement that is a full barrier,
 * and the last one runs the destroy (finalize, clear function): every
 * unref is a release and an acquire on the object, so the last one is
 * ordered after every earlier holder's calls. A GObject's count is public
 * (struct _GObject: the class pointer, then the count): an unref that
 * finds 1 is the last, and the object's clock goes with it (an object
 * resurrected in its dispose starts clean, which may report its earlier
 * holders against its later ones). An rc box's count is private: its
 * clock stays until the table's memory runs out (then boxes share the
 * fallback clock, which hides races). */

struct g_object_head {
    void *g_class;
    unsigned ref_count;
};

static void ref_drop(void *obj)
{
    mg_hb_release_merge(obj);
    mg_hb_acquire(obj);
}

MG_INTERCEPTOR(void, g_object_unref, (void *obj))
{
    if (!obj || !AWAKE()) {
        GREAL(g_object_unref)(obj);
        return;
    }
    bool last = __atomic_load_n(&((struct g_object_head *)obj)->ref_count, __ATOMIC_RELAXED) == 1;
    ref_drop(obj);
    GREAL(g_object_unref)(obj);
    if (last)
        mg_hb_reset(obj);
}

MG_INTERCEPTOR(void, g_atomic_rc_box_release, (void *mem))
{
    if (mem)
        IF_AWAKE(ref_drop(mem));
    GREAL(g_atomic_rc_box_release)(mem);
}

MG_INTERCEPTOR(void, g_atomic_rc_box_release_full, (void *mem, GDestroyNotify clear))
{
    if (mem)
        IF_AWAKE(ref_drop(mem));
    GREAL(g_atomic_rc_box_release_full)(mem, clear);
}

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
        MG_INTERCEPT(g_mutex_init), MG_INTERCEPT(g_mutex_clear), MG_INTERCEPT(g_bit_lock),                         \
        MG_INTERCEPT(g_bit_trylock), MG_INTERCEPT(g_bit_unlock), MG_INTERCEPT(g_pointer_bit_lock),                 \
        MG_INTERCEPT(g_pointer_bit_trylock), MG_INTERCEPT(g_pointer_bit_unlock), MG_INTERCEPT(g_cond_wait),                        \
        MG_INTERCEPT(g_cond_wait_until), MG_INTERCEPT(g_cond_timed_wait), MG_INTERCEPT(g_async_queue_push),        \
        MG_INTERCEPT(g_async_queue_push_unlocked), MG_INTERCEPT(g_async_queue_push_front),                         \
        MG_INTERCEPT(g_async_queue_push_front_unlocked), MG_INTERCEPT(g_async_queue_push_sorted),                  \
        MG_INTERCEPT(g_async_queue_push_sorted_unlocked), MG_INTERCEPT(g_async_queue_sort),                         \
        MG_INTERCEPT(g_async_queue_sort_unlocked), MG_INTERCEPT(g_async_queue_pop),                                \
        MG_INTERCEPT(g_async_queue_pop_unlocked), MG_INTERCEPT(g_async_queue_try_pop),                             \
        MG_INTERCEPT(g_async_queue_try_pop_unlocked), MG_INTERCEPT(g_async_queue_timeout_pop),                     \
        MG_INTERCEPT(g_async_queue_timeout_pop_unlocked), MG_INTERCEPT(g_async_queue_timed_pop),                   \
        MG_INTERCEPT(g_async_queue_timed_pop_unlocked), MG_INTERCEPT(g_async_queue_lock),                          \
        MG_INTERCEPT(g_async_queue_unlock), MG_INTERCEPT(g_thread_pool_new), MG_INTERCEPT(g_thread_pool_new_full), \
        MG_INTERCEPT(g_thread_pool_push), MG_INTERCEPT(g_thread_pool_set_max_threads),                             \
        MG_INTERCEPT(g_thread_pool_set_sort_function),                                                             \
        MG_INTERCEPT(g_thread_pool_free), MG_INTERCEPT(g_idle_add_full),                                           \
        MG_INTERCEPT(g_idle_add), MG_INTERCEPT(g_idle_add_once), MG_INTERCEPT(g_timeout_add_full),                 \
        MG_INTERCEPT(g_timeout_add), MG_INTERCEPT(g_timeout_add_once), MG_INTERCEPT(g_timeout_add_seconds_full),   \
        MG_INTERCEPT(g_timeout_add_seconds), MG_INTERCEPT(g_main_context_invoke_full),                             \
        MG_INTERCEPT(g_main_context_invoke), MG_INTERCEPT(g_source_attach), MG_INTERCEPT(g_source_set_callback),   \
        MG_INTERCEPT(g_idle_source_new), MG_INTERCEPT(g_timeout_source_new),                                       \
        MG_INTERCEPT(g_timeout_source_new_seconds), MG_INTERCEPT(g_source_set_priority),                           \
        MG_INTERCEPT(g_source_set_callback_indirect), MG_INTERCEPT(g_source_unref),                                \
        MG_INTERCEPT(g_error_new_valist), MG_INTERCEPT(g_once_init_enter), MG_INTERCEPT(g_once_init_enter_impl),   \
        MG_INTERCEPT(g_once_init_leave), MG_INTERCEPT(g_once_impl), MG_INTERCEPT(g_main_loop_quit),                \
        MG_INTERCEPT(g_main_loop_run), MG_INTERCEPT(g_main_context_acquire), MG_INTERCEPT(g_main_context_release), \
        MG_INTERCEPT(g_main_context_default), MG_INTERCEPT(g_atomic_rc_box_release),                               \
        MG_INTERCEPT(g_atomic_rc_box_release_full)

#define GOBJECT_TABLE MG_INTERCEPT(g_object_unref)

#define GIO_TABLE                                                                                                  \
    MG_INTERCEPT(g_task_return_pointer), MG_INTERCEPT(g_task_return_boolean),            \
        MG_INTERCEPT(g_task_return_int), MG_INTERCEPT(g_task_return_error), MG_INTERCEPT(g_task_return_value),     \
        MG_INTERCEPT(g_task_return_error_if_cancelled), MG_INTERCEPT(g_task_propagate_pointer),                    \
        MG_INTERCEPT(g_task_propagate_boolean), MG_INTERCEPT(g_task_propagate_int),                                \
        MG_INTERCEPT(g_task_propagate_value), MG_INTERCEPT(g_cancellable_cancel),                                  \
        MG_INTERCEPT(g_cancellable_is_cancelled), MG_INTERCEPT(g_cancellable_set_error_if_cancelled)

static const struct mg_intercept glib_table[] = {GLIB_TABLE};
static const struct mg_intercept gio_table[] = {GIO_TABLE};
static const struct mg_intercept gobject_table[] = {GOBJECT_TABLE};

void mg_glib_resolve(void)
{
    /* one lookup for a program without GLib */
    if (dlsym(RTLD_NEXT, "g_mutex_lock")) {
        mg_intercept_resolve(glib_table, MG_INTERCEPT_COUNT(glib_table));
    }
    if (dlsym(RTLD_NEXT, "g_task_return_pointer"))
        mg_intercept_resolve(gio_table, MG_INTERCEPT_COUNT(gio_table));
    if (dlsym(RTLD_NEXT, "g_object_unref"))
        mg_intercept_resolve(gobject_table, MG_INTERCEPT_COUNT(gobject_table));
}

/* libglib (or libgio) loaded after start, by dlopen: its functions, read
 * from its own symbol table without the loader's lock. */
static void glib_resolve_late(void)
{
    mg_intercept_resolve_loaded(glib_table, MG_INTERCEPT_COUNT(glib_table), "g_mutex_lock");
    mg_intercept_resolve_loaded(gio_table, MG_INTERCEPT_COUNT(gio_table), "g_task_return_pointer");
    mg_intercept_resolve_loaded(gobject_table, MG_INTERCEPT_COUNT(gobject_table), "g_object_unref");
}
