/*
 * Findings in flight: on record from the moment they are found.
 *
 * Why: a full report symbolizes its stacks, and the first one loads the
 * symbolizer (about 100 ms, longer on a busy machine), while the race
 * detector may first wait up to conflict_wait_ms for the other thread's
 * stack. A process that ends meanwhile (main returns, another thread calls
 * exit, a thread crashes, the process execs) used to take the finding with
 * it: counted, never written.
 *
 * So the finding's plain line (module+offset frames, formatted without the
 * symbolizer or any lock, report.c) goes into an entry of a preallocated
 * table first: when the race detector claims it, or as mg_report starts.
 * The entry's state decides who writes it, with one compare-and-swap:
 *
 *   FREE -> FILLING -> PENDING -> TAKEN   the reporter writes the full
 *                                 (FREE)  report, then frees the entry
 *                      PENDING -> FLUSHED an exit path wrote the plain line
 *                      PENDING -> FREE    suppressed: withdrawn
 *
 * An exit path (runtime.c's atexit handler, _exit, abort, a deadly signal,
 * exec) calls mg_inflight_flush: it waits a bounded time for claimed
 * findings to be published and, at a normal exit, for reporters to finish
 * on their own, then writes every PENDING line with one write(2), with an
 * id from the same counter as full reports. Nothing here allocates or
 * locks, so a signal handler and a vfork child may call it.
 *
 * The lines of the table's entries are 8 KiB each and in .bss: pages never
 * touched cost nothing, and a process that finds nothing touches none.
 * That includes the state words, one per 16 KiB entry: start, fork and
 * every exit path visit only the entries below `used`, the high-water
 * mark of entries ever filled, so a process that finds nothing pays no
 * page fault here (a short tool's start and exit used to fault in all of them).
 */
#include "inflight.h"
#include "dedup.h"
#include "exit.h"
#include "jsonline.h"
#include "options.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

/* Findings being reported at once; past that, a race is reported without
 * waiting for the other stack (detect_race.c), so that it is not held off
 * the record. */
#define ENTRIES 256

enum { FREE, FILLING, PENDING, TAKEN, FLUSHED };

struct entry {
    int state;
    pid_t tid;              /* the reporter */
    int cur;                /* which line is the one to write */
    unsigned id;            /* the id an exit path wrote the line with */
    int slot1;              /* the finding's dedup slot + 1 (0: none), for the summary */
    struct mg_line line[2]; /* [0] at begin, [1] after the one update */
};

static MG_LARGE_BSS struct entry table[ENTRIES];
/* Entries [used, ENTRIES) have never left FREE. Raised (never lowered
 * while threads run) before an entry's line is published, so whoever sees
 * the entry PENDING, or sees its claim settled, sees it counted. */
static int used;
static unsigned unsettled; /* claims not yet in the table nor withdrawn */
static unsigned flushed;
static int exiting;
static pid_t owner;
static int closed;        /* the process is being ended: no more writes */
static unsigned writers;  /* writes under way */
unsigned mg_carried;

void mg_inflight_reset(void)
{
    /* A forked child starts with counts of its own (dedup.c), and none of
     * its parent's findings: those are the parent's to write. */
    int n = __atomic_load_n(&used, __ATOMIC_RELAXED);
    for (int i = 0; i < n; i++)
        if (table[i].state != FREE)
            table[i].state = FREE;
    /* one thread left (start, or a forked child): nothing to race with */
    used = 0;
    unsettled = flushed = 0;
    exiting = closed = 0;
    writers = 0;
    mg_carried = 0;
    owner = getpid();
}

bool mg_inflight_owner(void) { return getpid() == __atomic_load_n(&owner, __ATOMIC_RELAXED); }

void mg_inflight_claimed(void) { __atomic_add_fetch(&unsettled, 1, __ATOMIC_ACQ_REL); }

void mg_inflight_unclaim(void) { __atomic_sub_fetch(&unsettled, 1, __ATOMIC_ACQ_REL); }

void mg_inflight_resume(void) { __atomic_store_n(&exiting, 0, __ATOMIC_RELEASE); }

bool mg_inflight_exiting(void) { return __atomic_load_n(&exiting, __ATOMIC_ACQUIRE); }

int mg_inflight_begin(const struct mg_finding *f, int slot)
{
    for (int i = 0; i < ENTRIES; i++) {
        struct entry *e = &table[i];
        int want = FREE;
        if (!__atomic_compare_exchange_n(&e->state, &want, FILLING, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            continue;
        int u = __atomic_load_n(&used, __ATOMIC_ACQUIRE);
        while (u <= i && !__atomic_compare_exchange_n(&used, &u, i + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            ;
        e->tid = gettid();
        e->cur = 0;
        e->id = 0;
        e->slot1 = slot >= 0 ? slot + 1 : 0;
        mg_report_plain(&e->line[0], f);
        __atomic_store_n(&e->state, PENDING, __ATOMIC_RELEASE);
        mg_inflight_unclaim();
        return i + 1;
    }
    return 0;
}

void mg_inflight_slot(int h, int slot)
{
    if (h > 0)
        __atomic_store_n(&table[h - 1].slot1, slot >= 0 ? slot + 1 : 0, __ATOMIC_RELEASE);
}

void mg_inflight_credit_flushed(void (*credit)(int slot, unsigned id))
{
    int u = __atomic_load_n(&used, __ATOMIC_ACQUIRE);
    for (int i = 0; i < u; i++) {
        struct entry *e = &table[i];
        if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != FLUSHED)
            continue;
        unsigned id = __atomic_load_n(&e->id, __ATOMIC_ACQUIRE);
        int s1 = id ? __atomic_exchange_n(&e->slot1, 0, __ATOMIC_ACQ_REL) : 0;
        if (s1 > 0)
            credit(s1 - 1, id);
    }
}

void mg_inflight_update(int h, const struct mg_finding *f)
{
    if (h <= 0)
        return;
    struct entry *e = &table[h - 1];
    /* Line 1 is read by nobody until cur says so, and written only once:
     * a flusher that read cur as 0 writes line 0, untouched. */
    if (__atomic_load_n(&e->cur, __ATOMIC_ACQUIRE) != 0 || __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != PENDING)
        return;
    mg_report_plain(&e->line[1], f);
    __atomic_store_n(&e->cur, 1, __ATOMIC_RELEASE);
}

static bool swap(struct entry *e, int from, int to)
{
    return __atomic_compare_exchange_n(&e->state, &from, to, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

bool mg_inflight_take(int h) { return h <= 0 || swap(&table[h - 1], PENDING, TAKEN); }

unsigned mg_inflight_id(int h)
{
    if (h <= 0)
        return 0;
    /* the flusher stores it right after taking the entry */
    struct timespec pause = {0, 100 * 1000};
    unsigned id;
    for (int k = 0; (id = __atomic_load_n(&table[h - 1].id, __ATOMIC_ACQUIRE)) == 0 && k < 1000; k++)
        nanosleep(&pause, NULL);
    return id;
}

void mg_inflight_done(int h)
{
    if (h > 0)
        __atomic_store_n(&table[h - 1].state, FREE, __ATOMIC_RELEASE);
}

void mg_inflight_drop(int h)
{
    if (h > 0)
        swap(&table[h - 1], PENDING, FREE);
}

static void emit(const struct mg_line *l, unsigned id);

/* The entry's line, with ",\"id\":N" before the closing brace in JSON. The
 * caller has moved it to FLUSHED. */
static void write_line(struct entry *e)
{
    const struct mg_line *l = &e->line[__atomic_load_n(&e->cur, __ATOMIC_ACQUIRE)];
    unsigned id = mg_report_next_id();
    __atomic_store_n(&e->id, id, __ATOMIC_RELEASE);
    emit(l, id);
}

unsigned mg_inflight_write_plain(const struct mg_finding *f)
{
    struct mg_line l;
    mg_report_plain(&l, f);
    unsigned id = mg_report_next_id();
    emit(&l, id);
    return id;
}

static void emit(const struct mg_line *l, unsigned id)
{
    __atomic_add_fetch(&flushed, 1, __ATOMIC_RELAXED);
    if (mg_opt.format == MG_FORMAT_TEXT || l->n < 2) {
        mg_report_emit(l->buf, l->n);
        return;
    }
    char buf[MG_LINE_CAP + 32], d[24];
    const char *num = mg_decimal(d, id);
    size_t k = l->n - 2, m = strlen(num);
    memcpy(buf, l->buf, k);
    memcpy(buf + k, ",\"id\":", 6);
    memcpy(buf + k + 6, num, m);
    memcpy(buf + k + 6 + m, "}\n", 2);
    mg_report_emit(buf, k + 8 + m);
}

void mg_inflight_write_now(int h)
{
    if (h > 0 && swap(&table[h - 1], PENDING, FLUSHED))
        write_line(&table[h - 1]);
}

bool mg_inflight_write_begin(void)
{
    __atomic_add_fetch(&writers, 1, __ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&closed, __ATOMIC_SEQ_CST))
        return true;
    __atomic_sub_fetch(&writers, 1, __ATOMIC_SEQ_CST);
    return false;
}

void mg_inflight_write_end(void) { __atomic_sub_fetch(&writers, 1, __ATOMIC_SEQ_CST); }

void mg_inflight_close(void)
{
    __atomic_store_n(&closed, 1, __ATOMIC_SEQ_CST);
    struct timespec pause = {0, 200 * 1000};
    for (int k = 0; k < 500 && __atomic_load_n(&writers, __ATOMIC_SEQ_CST) > 0; k++)
        nanosleep(&pause, NULL);
}

static long ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Is another thread still to publish, or in the middle of writing? With
 * full, also: is a reporter still to write its full report? */
static bool others_busy(pid_t self, bool full)
{
    if (__atomic_load_n(&unsettled, __ATOMIC_ACQUIRE) > 0)
        return true;
    int n = __atomic_load_n(&used, __ATOMIC_ACQUIRE);
    for (int i = 0; i < n; i++) {
        int st = __atomic_load_n(&table[i].state, __ATOMIC_ACQUIRE);
        if (table[i].tid == self)
            continue;
        if (st == FILLING || st == TAKEN || (full && st == PENDING))
            return true;
    }
    return false;
}

unsigned mg_inflight_flush(int settle_ms, int full_ms)
{
    if (!mg_inflight_owner())
        return 0;
    __atomic_store_n(&exiting, 1, __ATOMIC_RELEASE);
    pid_t self = gettid();
    struct timespec t0, pause = {0, 500 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        long ms = ms_since(&t0);
        if (!others_busy(self, ms < full_ms) || ms >= settle_ms)
            break;
        nanosleep(&pause, NULL);
    }
    unsigned n = 0;
    int u = __atomic_load_n(&used, __ATOMIC_ACQUIRE);
    for (int i = 0; i < u; i++)
        if (swap(&table[i], PENDING, FLUSHED)) {
            write_line(&table[i]);
            n++;
        }
    return n;
}

unsigned mg_inflight_findings(void)
{
    return mg_report_count() + __atomic_load_n(&unsettled, __ATOMIC_ACQUIRE) + mg_carried;
}
