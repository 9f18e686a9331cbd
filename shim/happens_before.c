/*
 * The happens-before engine wired into the shim (happens_before.h): the option,
 * each thread's record, the map-call check and its report, and the entry
 * points the synchronization wrappers call.
 */
#include "happens_before.h"

#include "detect.h"
#include "ghash_detect.h"
#include "hb_access.h"
#include "hb_lockpath.h"
#include "phdr.h"
#include "hb_sync.h"
#include "report.h"
#include "dedup.h"
#include "log.h"
#include "options.h"
#include "stack.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int mg_hb_awake;
int mg_solo_over;
static int hb_enabled; /* happens_before=1, and the tool words agree or GLib is loaded */
static int hb_gomap;   /* the tool words agree: gomap's maps are followed */

/* The calling thread's record; done once it ended (a lock taken by a TLS
 * destructor after that must not make a new record). */
static __thread struct hb_thr *me_rec __attribute__((tls_model("initial-exec")));
static __thread uint32_t me_tagged __attribute__((tls_model("initial-exec")));
static __thread uint32_t me_done __attribute__((tls_model("initial-exec")));
/* This thread met the engine without its creation being seen, after
 * another thread did: its first acquire joins solo_epoch (solo_join). */
static __thread uint32_t me_solo_pending __attribute__((tls_model("initial-exec")));
/* The epoch of the first thread the engine met (the solo thread), as it
 * was while the process had one thread: every release skipped while
 * single-threaded (mg_hb_sync_live) was made by that thread at this epoch,
 * since nothing ticks a clock but a release. 0 until that thread's record. */
static hb_epoch solo_epoch;
#define SOLO_NONE HB_EPOCH_MASK /* no slot's epoch: slot 255, the overflow record's, never a first record's */
__thread uint32_t mg_hb_solo_skipped __attribute__((tls_model("initial-exec")));

/* me_rec once tagged, for the lock wrappers' inline path (hb_lockpath.h)
 * and the map hooks' (ready). Not while a solo join is pending: that
 * thread's first acquire must go through mg_hb_lock_acquired_slow, which
 * makes it (the inline acquire of a handoff does not). */
static inline void set_ready(void)
{
    /* the own-mutex hints (hb_lockpath.h) hold only under the record they
     * were made with: gone first, so that a signal handler's lock wrapper
     * never finds a hint without its record */
    mg_self.own_mutex = 0;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    mg_self.hb_ready = me_tagged && !me_solo_pending ? me_rec : NULL;
}

/* The shim's own image: its internal locks (thread table, reports, depot)
 * are called through the same exported wrappers as the program's, and must
 * not order the program's threads. */
static uintptr_t self_lo, self_hi;

_Static_assert(MW_HB + 4 <= GOMAP_TOOL_WORDS, "the access history needs four tool words");
_Static_assert(MG_HB_ITER_FLAG == HB_R_ITER, "the hooks' same-epoch test knows the iteration flag");
_Static_assert(sizeof(struct hb_access) == 4 * sizeof(uint64_t), "struct hb_access is four words");

static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size, (void)arg;
    uintptr_t lo, hi, me = (uintptr_t)&hb_enabled;
    mg_phdr_span(info, &lo, &hi);
    if (me < lo || me >= hi)
        return 0;
    self_lo = lo;
    self_hi = hi;
    return 1;
}

void mg_hb_start(void)
{
    if (!mg_opt.happens_before) {
        /* before any thread but this one can have registered */
        __atomic_store_n(&mg_hb_idle_epoch, 0, __ATOMIC_RELAXED);
        mg_self.hb_epoch = 0;
        return;
    }
    /* libgomap tells the count of tool words it zeroes and leaves alone; a
     * library built with fewer would have its own fields under our history. */
    const uint32_t *words = dlsym(RTLD_NEXT, "gomap_tool_words");
    /* a GHashTable's history is the shim's own (its side-table entry) */
    bool glib = dlsym(RTLD_NEXT, "g_hash_table_new_full") != NULL;
    if (words && *words != GOMAP_TOOL_WORDS)
        mg_log(0, "happens_before=1 is off for gomap: libgomap has %u tool words, the shim needs %u", *words,
               (unsigned)GOMAP_TOOL_WORDS);
    hb_gomap = words && *words == GOMAP_TOOL_WORDS;
    if (!hb_gomap && !glib) {
        /* most processes the shim is preloaded into (a shell, a compiler)
         * have neither; one that dlopens one later runs without ordering */
        mg_log(1, "happens_before=1 is off: neither libgomap nor libglib was loaded at start");
        return;
    }
    dl_iterate_phdr(find_self, NULL);
    __atomic_store_n(&hb_enabled, 1, __ATOMIC_RELEASE);
}

/* GLib came by a later dlopen (ghash_intercept.c found it): its tables
 * get ordering from now on. Safe while other threads run: the engine stays
 * dormant until the first table is made (mg_hb_awake), so a lock wrapper
 * that saw the flag off skips nothing that matters; the image bounds are
 * stored before the flag is published, and racing callers store the same.
 * Threads created before the switch get their records on first use
 * (me_first). gomap's maps stay as mg_hb_start left them (hb_gomap). */
void mg_hb_glib_arrived(void)
{
    static int once;
    if (!mg_opt.happens_before || __atomic_load_n(&hb_enabled, __ATOMIC_ACQUIRE) ||
        __atomic_exchange_n(&once, 1, __ATOMIC_ACQ_REL))
        return;
    dl_iterate_phdr(find_self, NULL);
    __atomic_store_n(&hb_enabled, 1, __ATOMIC_RELEASE);
    mg_log(1, "happens_before=1 is on: libglib was loaded after start");
}

bool mg_hb_enabled(void) { return __atomic_load_n(&hb_enabled, __ATOMIC_ACQUIRE); }

void mg_hb_map_created(uint64_t *w)
{
    if (!mg_hb_enabled())
        return;
    if (MG_UNLIKELY(!(__atomic_load_n(&mg_hb_awake, __ATOMIC_RELAXED) & MG_HB_MAPS)) &&
        !(__atomic_fetch_or(&mg_hb_awake, MG_HB_MAPS, __ATOMIC_RELEASE) & MG_HB_MAPS))
        mg_log(1, "happens-before: awake, the first map to order was made");
    (void)w; /* libgomap zeroes a new map's words: no history */
}

void mg_hb_table_created(void) { mg_hb_map_created(NULL); }

void mg_hb_map_freed(uint64_t *w)
{
    if (!hb_gomap)
        return;
    mg_hb_history_free((struct hb_access *)(void *)&w[MW_HB]);
}

/* The mark of the engine's own code (mg_thread.in_engine): raised before
 * the guard and lowered after it, so that a handler that finds the guard
 * up finds the mark up too. ENGINE_IN/OUT are the mark and the bare busy
 * count; ENGINE_BUSY_ENTER/LEAVE the mark and mg_busy_enter, which also
 * turns the map wrappers' fast path off (the thread records, the rwlocks,
 * the barriers). */
#define ENGINE_MARK() (mg_self.in_engine++, __atomic_signal_fence(__ATOMIC_SEQ_CST))
#define ENGINE_UNMARK() (__atomic_signal_fence(__ATOMIC_SEQ_CST), mg_self.in_engine--)
#define ENGINE_IN() (ENGINE_MARK(), mg_self.busy++)
#define ENGINE_OUT() (mg_self.busy--, ENGINE_UNMARK())
#define ENGINE_BUSY_ENTER() (ENGINE_MARK(), mg_busy_enter())
#define ENGINE_BUSY_LEAVE() (mg_busy_leave(), ENGINE_UNMARK())

void mg_hb_history_free(struct hb_access *h)
{
    if (!mg_hb_enabled())
        return;
    ENGINE_BUSY_ENTER();
    hb_access_free(h);
    ENGINE_BUSY_LEAVE();
}

/* The calling thread's record, made on first use for a thread whose
 * creation the engine did not see (main, or one created while dormant).
 * Call under the recursion guard. */
/* Threads made through pthread_create/thrd_create whose start routine has
 * not run yet. A signal delivered to such a thread before our start
 * routine gives it its record (glibc delivers a signal the thread's
 * attributes leave unblocked inside start_thread) runs its handler on a
 * thread the engine would otherwise take for one it never saw made, with a
 * clock of its own: every call there would look unordered with its
 * creator's, and the thread would have two identities. */
static uint32_t pending_starts;

static MG_COLD struct hb_thr *me_first(void);
static MG_COLD void solo_join_slow(struct hb_thr *t);
static inline struct hb_thr *me(void)
{
    struct hb_thr *t = me_rec;
    return MG_LIKELY(t != NULL) || me_done ? t : me_first();
}

static struct hb_thr *me_first(void)
{
    /* A thread that is not main while a start is pending is taken for that
     * thread (above): no record, so its calls go unchecked by ordering (never
     * reported wrongly) until its start routine hands it its own. */
    if (__atomic_load_n(&pending_starts, __ATOMIC_ACQUIRE) && (pid_t)syscall(SYS_gettid) != getpid())
        return NULL;
    struct hb_thr *t = hb_thread_create(NULL, mg_thread_ref(mg_self.idx));
    hb_thread_set_handle(t, (uintptr_t)pthread_self());
    hb_epoch none = 0;
    /* A first record made once the process already had a second thread
     * (main's at its first pthread_create): nothing was skipped that
     * carried a map call, so there is no epoch to join (SOLO_NONE). */
    hb_epoch solo = __atomic_load_n(&mg_hb_awake, __ATOMIC_RELAXED) & MG_HB_THREADS ? SOLO_NONE : hb_thr_epoch(t);
    if (!__atomic_compare_exchange_n(&solo_epoch, &none, solo, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        /* Not the first: a thread whose creation the engine did not see
         * (raw clone, glibc's own helper threads, or one made while the
         * shim was inside itself). The process is multi-threaded from now
         * on, and what the solo thread released while it was alone was
         * not recorded: this thread takes it at its first acquire. */
        mg_hb_second_thread();
        me_solo_pending = 1;
        /* It may be libc's thread for a notification a wrapped call asked
         * for (sigev_notify.c): ordered after every such call so far.
         * More than one notification's call, perhaps, or one for another
         * thread: that hides races, never invents one. */
        hb_acquire(t, (uintptr_t)MG_HB_UNSEEN_KEY);
        /* It may already have taken a lock the solo thread let go, unseen
         * (the wrappers skipped it, the process looking single-threaded):
         * that acquire is made up for now. */
        if (mg_hb_solo_skipped)
            solo_join_slow(t);
    }
    me_rec = t;
    me_tagged = mg_self.idx != 0;
    set_ready();
    return t;
}

/* A thread the engine met without seeing its creation, at its first
 * acquire (or creation of a thread, whose child copies its clock), or at
 * once if it skipped a synchronization before it met the engine: every
 * release the solo thread skipped while it was alone published its clock
 * at solo_epoch, its only entry then (a fresh record, never ticked), so
 * taking that epoch covers whatever object this thread acquires through.
 * More ordering than the program may have made (it hides races with the
 * solo thread's calls from before the second thread, never invents one);
 * without it such a thread could be unordered with calls a lock did order.
 * Under the guard. */
static MG_COLD void solo_join_slow(struct hb_thr *t)
{
    me_solo_pending = 0;
    set_ready();
    hb_epoch e = __atomic_load_n(&solo_epoch, __ATOMIC_ACQUIRE);
    uint32_t s = hb_epoch_slot(e);
    if (!e || e == SOLO_NONE || s == t->slot)
        return;
    uint64_t vc[HB_SLOTS] = {0};
    vc[s] = hb_epoch_clock(e);
    hb_thr_acquire(t, vc, s + 1);
}
static inline void solo_join(struct hb_thr *t)
{
    if (MG_UNLIKELY(me_solo_pending))
        solo_join_slow(t);
}

/* The bare solo call the creating thread is inside (happens_before.h):
 * the call its in-call word names, if a run of libgomap frames on the
 * stack returns to the frame that made it (in_call.h). Otherwise the word
 * is left from a call that returned, and nothing is recorded. */
void mg_solo_in_flight(void)
{
    if (mg_self.busy)
        return;
    uintptr_t word = __atomic_load_n(&mg_self.in_call, __ATOMIC_RELAXED), pc = 0;
    mg_busy_enter();
    bool live = mg_stack_gomap_in_flight(NULL, mg_self.in_call_cfa, &pc);
    mg_busy_leave();
    if (!live)
        return;
    mg_self.solo_pending_pc = pc;
    mg_self.solo_pending = word;
}

void mg_solo_record_slow(void)
{
    uintptr_t word = mg_self.solo_pending;
    mg_self.solo_pending = 0;
    if (!mg_hb_is_awake())
        return;
    uint64_t *w = mg_words((const gomap *)mg_in_call_map(word));
    unsigned op = mg_in_call_op(word);
    mg_hb_enter(w, op, mg_self.solo_pending_pc);
    mg_hb_leave(w, op, mg_self.solo_pending_pc);
}

/* May the engine run on this thread now? Threads are followed from the
 * start (a creation is rare and slow anyway, and a thread created while
 * the engine sleeps may touch a map once it woke); everything else waits
 * for the first map. */
static bool usable(void) { return mg_hb_sync_live() && !mg_self.busy; }
static bool following_threads(void) { return mg_hb_enabled() && !mg_self.busy; }

static int kind_of(int race)
{
    switch (race) {
    case HB_RACE_WRITES:
        return MK_WRITES;
    case HB_RACE_ITER_WRITE:
        return MK_ITER_WRITE;
    default:
        return MK_READ_WRITE;
    }
}

/* GHashTable's ops by their ghash_api.inc access: new_similar reads the
 * table it copies; destroy and the last unref write. */
static unsigned gh_class_of(unsigned op)
{
    switch (mg_gh_op_access(op)) {
    case MG_GH_READ:
    case MG_GH_COPY:
        return HB_READ;
    case MG_GH_ITER:
        return HB_ITER;
    default:
        return HB_WRITE;
    }
}

static unsigned class_of(unsigned op)
{
    switch (mg_op_access(op)) {
    case MG_ACCESS_READ:
        return HB_READ;
    case MG_ACCESS_ITER:
        /* iter_init and iter_next, as the overlap detector counts them:
         * a write against either is concurrent-iteration-write */
        return HB_ITER;
    default:
        return HB_WRITE;
    }
}

/* The thread's epoch for the hooks' same-epoch test (happens_before.h):
 * published after a tick, withdrawn by anything that may move it. A
 * thread in the shared overflow slot never publishes: its epoch moves with
 * the other overflow threads' releases. */
static inline hb_epoch publish(struct hb_thr *t)
{
    hb_epoch e = hb_thr_now(t);
    mg_self.hb_epoch = hb_thr_shared(t) ? MG_HB_EPOCH_NONE : e;
    return e;
}
static inline void withdraw(void) { mg_self.hb_epoch = __atomic_load_n(&mg_hb_idle_epoch, __ATOMIC_RELAXED); }

/* The thread's record when the engine may run on it without more ado
 * (made, tagged, not inside the shim), else NULL. */
static inline struct hb_thr *ready(void)
{
    struct hb_thr *t = mg_self.hb_ready;
    return MG_LIKELY(t && !mg_self.busy) ? t : NULL;
}

static MG_COLD void enter_slow(struct hb_access *h, const void *map, unsigned cls, unsigned op, uintptr_t pc);
static MG_COLD void leave_slow(struct hb_access *h, unsigned cls, unsigned op, uintptr_t pc);

/* Broadcasts (mg_hb_release_broadcast): how many so far, and how many
 * this thread has taken. */
static uint64_t broadcast_gen;
static __thread uint64_t broadcast_seen __attribute__((tls_model("initial-exec")));
static MG_COLD void broadcast_catch_up(void);

/* The rest of an entry that the inline test below left open: the check
 * without the record's lock, then enter_slow for a race. Out of line, so
 * that enter saves no registers of its own. */
static MG_NOINLINE void enter_check(struct hb_access *h, const void *map, unsigned cls, unsigned op, uintptr_t pc,
                                    struct hb_thr *t)
{
    struct hb_conflict c;
    if (t && hb_access_check_unlocked(h, t, cls, &c) == HB_RACE_NONE)
        return;
    enter_slow(h, map, cls, op, pc);
}

/* A record under the guard: a signal handler's map call on this map must
 * not spin on the record's lock its own thread holds. */
static MG_NOINLINE void record_guarded(struct hb_access *h, struct hb_thr *t, unsigned cls, unsigned op, uintptr_t pc)
{
    ENGINE_IN();
    hb_access_record_slow(h, t, cls, op, pc);
    ENGINE_OUT();
}

/* A call in the same epoch as its thread's last one of its class on this
 * map needs no check and no record: no lock, no errno, no guard. Nor does
 * a call ordered after the last write (and, for a write, after a last
 * read that is one epoch) need more than the loads of hb_access_clean.
 * These are the paths of a map call after a lock handoff, inside the
 * program's critical section; the rest goes out of line. */
MG_ALWAYS_INLINE void enter(struct hb_access *h, const void *map, unsigned cls, unsigned op, uintptr_t pc)
{
    if (MG_UNLIKELY(__atomic_load_n(&broadcast_gen, __ATOMIC_RELAXED) != broadcast_seen))
        broadcast_catch_up();
    struct hb_thr *t = ready();
    if (MG_LIKELY(t != NULL)) {
        hb_tick(t);
        if (hb_same_epoch_at(h, t, cls, publish(t)) || hb_access_clean(h, t, cls))
            return;
    }
    enter_check(h, map, cls, op, pc, t);
}

MG_ALWAYS_INLINE void leave(struct hb_access *h, unsigned cls, unsigned op, uintptr_t pc)
{
    struct hb_thr *t = ready();
    if (MG_LIKELY(t != NULL)) {
        hb_tick(t);
        if (hb_same_epoch_at(h, t, cls, publish(t)))
            return;
        if (MG_LIKELY(!mg_opt.conflict_stack)) {
            record_guarded(h, t, cls, op, pc);
            return;
        }
    }
    leave_slow(h, cls, op, pc);
}

/* gomap: the history is in the map's tool words, which are the map's
 * first (GOMAP_MAP_TOOL_WORDS), when libgomap agrees on their number. */
void mg_hb_enter(uint64_t *w, unsigned op, uintptr_t pc)
{
    if (MG_LIKELY(hb_gomap))
        enter((struct hb_access *)(void *)&w[MW_HB], w, class_of(op), op, pc);
}

void mg_hb_leave(uint64_t *w, unsigned op, uintptr_t pc)
{
    if (MG_LIKELY(hb_gomap))
        leave((struct hb_access *)(void *)&w[MW_HB], class_of(op), op, pc);
}

void mg_hb_enter_at(struct hb_access *h, const void *map, unsigned op, uintptr_t pc)
{
    enter(h, map, gh_class_of(op), op, pc);
}

void mg_hb_leave_at(struct hb_access *h, unsigned op, uintptr_t pc) { leave(h, gh_class_of(op), op, pc); }

/* A thread without its record yet, or inside the shim. */
static void leave_slow(struct hb_access *h, unsigned cls, unsigned op, uintptr_t pc)
{
    if (mg_self.busy || !mg_self.idx)
        return;
    int saved = errno;
    mg_busy_enter();
    struct hb_thr *t = me();
    if (t) {
        hb_tick(t);
        if (!hb_same_epoch(h, t, cls)) {
            uint32_t stack = mg_opt.conflict_stack ? mg_stack_capture_id() : 0;
            hb_access_record_slow(h, t, cls, op, stack ? HB_PC_STACK | stack : pc);
        }
    }
    mg_busy_leave();
    errno = saved;
}

static void enter_slow(struct hb_access *h, const void *map, unsigned cls, unsigned op, uintptr_t pc)
{
    uint32_t self = mg_self.idx;
    if (mg_self.busy || !self)
        return;
    int saved = errno;
    mg_busy_enter();
    struct hb_thr *t = me();
    int race = HB_RACE_NONE;
    struct hb_conflict c;
    if (t) {
        if (MG_UNLIKELY(!me_tagged)) {
            hb_thread_set_tag(t, mg_thread_ref(self));
            me_tagged = 1;
            set_ready();
        }
        race = hb_access_check(h, t, cls, &c);
    }
    if (race == HB_RACE_NONE) {
        mg_busy_leave();
        errno = saved;
        return;
    }
    int kind = kind_of(race);
    int slot = mg_report_claim(kind, pc, c.pc);
    if (slot < 0) {
        mg_busy_leave();
        errno = saved;
        return;
    }
    struct mg_finding f = {.kind = kind, .map = map, .evidence = MG_EVIDENCE_UNORDERED};
    f.access = (struct mg_party){
        .present = true, .op = op, .thread = self, .stack = mg_stack_capture_id(), .pc = pc, .complete = true,
    };
    f.other = (struct mg_party){
        .present = true,
        .op = c.op,
        .thread = mg_thread_of_ref(hb_slot_tag(c.slot, c.clock)),
        .pc = c.pc,
        .complete = false,
    };
    const uintptr_t *pcs;
    int n;
    if ((c.pc & HB_PC_STACK) && mg_depot_get((uint32_t)c.pc, &pcs, &n) && n > 0) {
        /* conflict_stack=1: the earlier call's whole stack */
        f.other.stack = (uint32_t)c.pc;
        f.other.pc = pcs[0];
        f.other.complete = true;
    } else if (c.pc & HB_PC_STACK) {
        f.other.pc = 0;
    }
    if (mg_op_is_ghash(op))
        mg_gh_party_made(&f.made, map);
    else
        mg_party_made(&f.made, map);
    mg_busy_leave();
    mg_report(&f, slot);
    errno = saved;
}

/* ---- threads ---- */

void *mg_hb_thread_creating(void)
{
    withdraw();
    if (!following_threads())
        return NULL;
    ENGINE_BUSY_ENTER();
    struct hb_thr *parent = me();
    if (parent)
        solo_join(parent);
    struct hb_thr *child = parent ? hb_thread_create(parent, 0) : NULL;
    if (child)
        __atomic_add_fetch(&pending_starts, 1, __ATOMIC_RELEASE);
    ENGINE_BUSY_LEAVE();
    return child;
}

void mg_hb_thread_created(void *rec, uintptr_t handle, bool ok, bool detached)
{
    withdraw();
    if (!rec)
        return;
    ENGINE_BUSY_ENTER();
    if (!ok) {
        __atomic_sub_fetch(&pending_starts, 1, __ATOMIC_RELEASE);
        /* never ran: finished and detached, its slot is free again */
        hb_thread_detach(rec);
        hb_thread_finish(rec);
    } else {
        hb_thread_set_handle(rec, handle);
        if (detached)
            hb_thread_detach(rec);
    }
    ENGINE_BUSY_LEAVE();
}

void mg_hb_thread_start(void *rec)
{
    withdraw();
    if (!rec)
        return;
    me_rec = rec;
    me_tagged = 0;
    set_ready();
    __atomic_sub_fetch(&pending_starts, 1, __ATOMIC_RELEASE);
    ENGINE_BUSY_ENTER();
    hb_thread_set_handle(rec, (uintptr_t)pthread_self());
    ENGINE_BUSY_LEAVE();
}

static void settle_one(struct hb_thr *t, uintptr_t addr);
static void settle_all(struct hb_thr *t);

void mg_hb_thread_end(void)
{
    withdraw();
    struct hb_thr *t = me_rec;
    if (!t || mg_self.busy)
        return;
    ENGINE_BUSY_ENTER();
    if (mg_self.robust_held)
        hb_release_merge(t, (uintptr_t)MG_HB_ENDED_KEY);
    /* its handlers' noted releases, which no later synchronization of its
     * own will settle: done now, or every lock would take the full path
     * for good (a held-out probe: 4.7x on a lock loop after eight
     * signalled threads ended) */
    if (hb_leaked(t))
        hb_leak_settle(t, settle_one, settle_all);
    me_done = 1;
    me_rec = NULL;
    set_ready();
    hb_thread_finish(t);
    ENGINE_BUSY_LEAVE();
}

void *mg_hb_join_prepare(uintptr_t handle)
{
    if (!following_threads())
        return NULL;
    ENGINE_BUSY_ENTER();
    void *r = hb_thread_find(handle);
    ENGINE_BUSY_LEAVE();
    /* no record: the engine's join takes the overflow clock, if any */
    return r ? r : (void *)&hb_enabled;
}

void mg_hb_join_done(void *rec, uintptr_t handle, bool ok)
{
    withdraw();
    if (!rec || !ok || mg_self.busy)
        return;
    ENGINE_BUSY_ENTER();
    struct hb_thr *t = me();
    /* A thread the engine met only after the join began (created before
     * start, it made its record at its first call) is still unjoined
     * under its handle. */
    if (rec == (void *)&hb_enabled)
        rec = hb_thread_find(handle);
    if (t) {
        solo_join(t);
        hb_thread_join(t, rec);
    }
    ENGINE_BUSY_LEAVE();
}

void mg_hb_detach(uintptr_t handle)
{
    withdraw();
    if (!following_threads())
        return;
    ENGINE_BUSY_ENTER();
    struct hb_thr *t = handle == (uintptr_t)pthread_self() ? me() : hb_thread_find(handle);
    if (t)
        hb_thread_detach(t);
    ENGINE_BUSY_LEAVE();
}

/* ---- synchronization objects ----
 *
 * These run around every lock and unlock of the program, so they keep
 * errno by making no call that sets it (the engine's only library call is
 * sched_yield, which does not fail) rather than saving it. */

static bool ours(const volatile void *addr) { return (uintptr_t)addr - self_lo < self_hi - self_lo; }

/* Releases lost to the guard (hb_clock.h, "releases lost to the recursion
 * guard"): a signal handler's release while its thread is inside the
 * engine is noted, and settled by the thread at its next synchronization
 * outside it; an acquire while notes are out also takes the noting
 * threads' clocks. */
static MG_NOINLINE void lost_release(const volatile void *addr)
{
    struct hb_thr *t = mg_self.hb_ready;
    if (t && mg_self.busy && mg_self.in_engine &&
        __atomic_load_n(&mg_hb_awake, __ATOMIC_RELAXED) == (MG_HB_MAPS | MG_HB_THREADS))
        hb_leak(t, (uintptr_t)addr);
}

static void settle_one(struct hb_thr *t, uintptr_t addr) { hb_release_merge(t, addr); }
/* More than a thread can note: a release to every thread, as a broadcast
 * (mg_hb_release_broadcast) does. */
static void settle_all(struct hb_thr *t)
{
    hb_release_merge(t, (uintptr_t)MG_HB_SYNTHETIC_KEY(0));
    __atomic_add_fetch(&broadcast_gen, 1, __ATOMIC_RELEASE);
}
static inline bool leaks_out(void) { return MG_UNLIKELY(__atomic_load_n(&hb_leaks_out, __ATOMIC_ACQUIRE) != 0); }

enum { SYNC_ACQ, SYNC_REL };
#define SYNC_OP(name, kind, call)                                                                                  \
    void name(const volatile void *addr)                                                                           \
    {                                                                                                              \
        withdraw();                                                                                                \
        if (ours(addr))                                                                                            \
            return;                                                                                                \
        if (!usable()) {                                                                                           \
            if ((kind) == SYNC_REL && mg_self.busy)                                                                \
                lost_release(addr);                                                                                \
            return;                                                                                                \
        }                                                                                                          \
        /* the guard alone: the map hooks test busy themselves, so the                                         \
         * fast paths need not be turned off and on around every lock */                                        \
        ENGINE_IN();                                                                                               \
        if ((kind) == SYNC_ACQ)                                                                                    \
            mg_in_call_prefetch_last();                                                                            \
        struct hb_thr *t = me();                                                                                   \
        if (t) {                                                                                                   \
            if (leaks_out() && hb_leaked(t))                                                                       \
                hb_leak_settle(t, settle_one, settle_all);                                                         \
            call;                                                                                                  \
            if ((kind) == SYNC_ACQ && leaks_out())                                                                 \
                hb_leak_join(t, (uintptr_t)addr);                                                                  \
        }                                                                                                          \
        ENGINE_OUT();                                                                                              \
    }

SYNC_OP(mg_hb_acquire, SYNC_ACQ, (solo_join(t), hb_acquire(t, (uintptr_t)addr)))
/* hb_released: a tick before the next access that no relock takes back */
static SYNC_OP(owner_died, SYNC_ACQ, (solo_join(t), hb_released(t), hb_acquire(t, (uintptr_t)addr)))
void mg_hb_owner_died(void) { owner_died(MG_HB_ENDED_KEY); }
SYNC_OP(mg_hb_release, SYNC_REL, hb_release(t, (uintptr_t)addr))
/* hb_lockpath.h's way out once its inline path declined */
SYNC_OP(mg_hb_lock_acquired_slow, SYNC_ACQ, if ((solo_join(t), hb_acquire_excl(t, (uintptr_t)addr))) publish(t))
SYNC_OP(mg_hb_lock_releasing_slow, SYNC_REL, hb_release_excl(t, (uintptr_t)addr))

void mg_hb_program_handles_signals(void) { hb_sync_handlers_seen(); }

void mg_hb_exit_note(void)
{
    /* once: a forked child has its own exit, and its own copy of the flag */
    static int said;
    if (hb_sync_spilled() && !__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
        mg_log(0,
               "happens-before: more than %u synchronization objects were in use at once; the rest shared one "
               "clock, which orders more than the program did: races between their users may have been missed",
               (unsigned)HB_SYNC_CAP);
}

/* ---- clocks of the caller's (happens_before.h) ---- */

struct mg_hb_clock {
    uint32_t width, cap;
    uint32_t heap; /* malloc'd here, not placed */
    uint64_t vc[];
};

#define CLOCK_MIN 4u

static uint32_t width_now(void) { return me_rec ? hb_thr_width(me_rec) : 1; }

size_t mg_hb_clock_bytes(void)
{
    uint32_t w = width_now();
    return sizeof(struct mg_hb_clock) + (w < CLOCK_MIN ? CLOCK_MIN : w) * sizeof(uint64_t);
}

struct mg_hb_clock *mg_hb_clock_place(void *mem, size_t bytes)
{
    struct mg_hb_clock *k = mem;
    k->width = 0;
    k->heap = 0;
    k->cap = (uint32_t)((bytes - sizeof *k) / sizeof k->vc[0]);
    memset(k->vc, 0, k->cap * sizeof k->vc[0]);
    return k;
}

/* *c with room for need entries, or NULL without memory (*c unchanged) */
static struct mg_hb_clock *clock_room(struct mg_hb_clock **c, uint32_t need)
{
    struct mg_hb_clock *k = *c;
    if (k && k->cap >= need)
        return k;
    uint32_t cap = need < CLOCK_MIN ? CLOCK_MIN : need;
    struct mg_hb_clock *n = malloc(sizeof *n + cap * sizeof n->vc[0]);
    if (!n)
        return NULL;
    n->width = k ? k->width : 0;
    n->cap = cap;
    n->heap = 1;
    memset(n->vc, 0, cap * sizeof n->vc[0]);
    if (k)
        memcpy(n->vc, k->vc, k->width * sizeof k->vc[0]);
    mg_hb_clock_free(k);
    return *c = n;
}

void mg_hb_clock_release(struct mg_hb_clock **c)
{
    withdraw();
    if (!usable())
        return;
    for (;;) {
        /* memory first, outside the engine's mark: the width only grows,
         * and is looked at again under it */
        struct mg_hb_clock *k = clock_room(c, width_now());
        if (!k)
            return;
        ENGINE_IN();
        struct hb_thr *t = me();
        bool done = !t || hb_thr_width(t) <= k->cap;
        if (t && done) {
            solo_join(t);
            k->width = hb_thr_merge_to(t, k->vc, k->width);
            hb_released(t);
        }
        ENGINE_OUT();
        if (done)
            return;
    }
}

void mg_hb_clock_acquire(const struct mg_hb_clock *c)
{
    withdraw();
    if (!c || !c->width || !usable())
        return;
    ENGINE_IN();
    struct hb_thr *t = me();
    if (t) {
        solo_join(t);
        hb_thr_acquire(t, c->vc, c->width);
    }
    ENGINE_OUT();
}

void mg_hb_clock_free(struct mg_hb_clock *c)
{
    if (c && c->heap)
        free(c);
}

bool mg_hb_leak_diverts(struct hb_thr *t, const volatile void *addr)
{
    return hb_leaked(t) || hb_leak_noted((uintptr_t)addr);
}

/* hb_lockpath.h's handoffs, under the guard: the loop rewrites the
 * thread's clock entry by entry, and a signal handler's lock wrapper must
 * pass straight through rather than run in the middle of it. */
bool mg_hb_lock_take_handoff(struct hb_thr *t)
{
    int r;
    /* the lines of the map this thread called last, which the thread the
     * lock comes from most likely wrote: fetched alongside the lock's clock
     * (in_call.h) */
    mg_in_call_prefetch_last();
    /* the mark alone: the guard is the busy count the loop raises */
    ENGINE_MARK();
    r = hb_handoff_take_guarded(t, &mg_self.busy);
    ENGINE_UNMARK();
    if (r > 0) /* back in its epoch */
        mg_self.hb_epoch = t->cur;
    return r >= 0;
}

bool mg_hb_lock_give_handoff(struct hb_thr *t, const volatile void *addr)
{
    bool given;
    ENGINE_MARK();
    given = hb_handoff_give_guarded(t, (uintptr_t)addr, &mg_self.busy);
    ENGINE_UNMARK();
    if (!given)
        return false;
    mg_self.hb_epoch = MG_HB_EPOCH_NONE;
    return true;
}

/* For callers that do not inline hb_lockpath.h (glib_sync.c, the
 * condition waits): the same two steps behind one call. */
void mg_hb_lock_acquired(const volatile void *addr) { MG_HB_LOCK_ACQUIRED(addr); }
void mg_hb_lock_releasing(const volatile void *addr) { MG_HB_LOCK_RELEASING(addr); }

SYNC_OP(mg_hb_release_merge, SYNC_REL, hb_release_merge(t, (uintptr_t)addr))
/* Not gated on the process having a second thread: a barrier's entry is
 * made at its init while the process is still single-threaded
 * (mg_hb_barrier_init), and goes at its destroy. Other objects have no
 * entry then, and their wrappers skip the call. */
void mg_hb_reset(const volatile void *addr)
{
    withdraw();
    /* an init may make a remembered mutex one of another kind */
    mg_self.own_mutex = 0;
    if (mg_self.plain_mutex == (const void *)addr)
        mg_self.plain_mutex = NULL;
    if (!following_threads() || ours(addr))
        return;
    ENGINE_IN();
    hb_sync_reset((uintptr_t)addr);
    ENGINE_OUT();
}
SYNC_OP(mg_hb_rw_release, SYNC_REL, hb_rw_release(t, (uintptr_t)addr, false))
SYNC_OP(mg_hb_rw_release_writer, SYNC_REL, hb_rw_release(t, (uintptr_t)addr, true))

void mg_hb_release_broadcast(void)
{
    if (!usable())
        return;
    mg_hb_release_merge(MG_HB_SYNTHETIC_KEY(0));
    /* after the merge: a thread that sees the new count finds it there */
    __atomic_add_fetch(&broadcast_gen, 1, __ATOMIC_RELEASE);
}

static void broadcast_catch_up(void)
{
    if (!usable())
        return; /* taken at a later call */
    broadcast_seen = __atomic_load_n(&broadcast_gen, __ATOMIC_ACQUIRE);
    mg_hb_acquire(MG_HB_SYNTHETIC_KEY(0));
}

void mg_hb_rw_acquire(const volatile void *addr, bool write)
{
    withdraw();
    if (!usable() || ours(addr))
        return;
    ENGINE_BUSY_ENTER();
    struct hb_thr *t = me();
    if (t) {
        solo_join(t);
        hb_rw_acquire(t, (uintptr_t)addr, write);
        if (leaks_out())
            hb_leak_join(t, (uintptr_t)addr);
    }
    ENGINE_BUSY_LEAVE();
}

void mg_hb_barrier_init(const volatile void *addr, unsigned count)
{
    if (!following_threads() || ours(addr))
        return;
    ENGINE_BUSY_ENTER();
    hb_barrier_init((uintptr_t)addr, count);
    ENGINE_BUSY_LEAVE();
}

/* From the second thread on, the first map or not (sync_intercept.c says
 * why): the threads' records exist from their creation. */
uint64_t mg_hb_barrier_arrive(const volatile void *addr, bool *involved)
{
    withdraw();
    *involved = false;
    if (!following_threads() || !(__atomic_load_n(&mg_hb_awake, __ATOMIC_RELAXED) & MG_HB_THREADS) || ours(addr))
        return 0;
    int saved = errno;
    ENGINE_BUSY_ENTER();
    struct hb_thr *t = me();
    uint64_t round = 0;
    if (t) {
        round = hb_barrier_arrive(t, (uintptr_t)addr);
        *involved = true;
    }
    ENGINE_BUSY_LEAVE();
    errno = saved;
    return round;
}

void mg_hb_barrier_depart(const volatile void *addr, uint64_t round)
{
    withdraw();
    if (mg_self.busy)
        return;
    int saved = errno;
    ENGINE_BUSY_ENTER();
    struct hb_thr *t = me();
    if (t) {
        solo_join(t);
        hb_barrier_depart(t, (uintptr_t)addr, round);
    }
    ENGINE_BUSY_LEAVE();
    errno = saved;
}

/* ---- fork ---- */

static void fork_child(void)
{
    withdraw();
    if (!mg_hb_enabled())
        return;
    hb_atfork_child(me_rec);
    hb_sync_atfork_child();
    hb_access_atfork_child();
}

__attribute__((constructor)) static void register_fork(void) { pthread_atfork(NULL, NULL, fork_child); }
