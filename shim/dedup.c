/*
 * Deduplication: before anything is captured, mg_report_claim checks the
 * (kind, call site, other call site) triple against the findings so far. A
 * repeat only bumps a counter, which the summary record at exit shows
 * (dedup=0 reports repeats too; a suppressed finding's repeats never are).
 *
 * The table is open-addressed and never shrinks: a program has few distinct
 * findings, and a full table only means the rest are reported without a
 * slot (never deduplicated, never in the summary's recurrences).
 */
#include "dedup.h"
#include "inflight.h"
#include "options.h"
#include "owned_lock.h"

#include <pthread.h>
#include <stdlib.h>

#define NSLOTS 4096

struct slot {
    bool used, suppressed, reported;
    int kind;
    uintptr_t site, other;
    unsigned count;   /* detections */
    unsigned records; /* of them written as records: 1 with dedup=1, all with dedup=0 */
    unsigned id;
    char *where; /* "function file:line" of the access, for the summary */
};

static MG_LARGE_BSS struct slot slots[NSLOTS];
/* the slots in use, in the order they were taken: a forked child clears
 * those alone, without reading the 160 KiB table (whose untouched pages it
 * would each fault in: 15% of a fork loop's time, perf) */
static MG_LARGE_BSS unsigned short used_slots[NSLOTS];
static unsigned nused;
_Static_assert(NSLOTS <= 65536, "a slot's index fits used_slots");
static unsigned nreports, nsuppressed, noccur, nrepeats;
static struct mg_owned_lock lock = MG_OWNED_LOCK_INIT(MG_LOCK_REPORT);

void mg_report_lock(void) { mg_owned_lock(&lock); }
void mg_report_unlock(void) { mg_owned_unlock(&lock); }
bool mg_report_lock_held_here(void) { return mg_owned_held_here(&lock); }
unsigned mg_report_count(void) { return __atomic_load_n(&nreports, __ATOMIC_RELAXED); }
unsigned mg_report_next_id(void) { return __atomic_add_fetch(&nreports, 1, __ATOMIC_RELAXED); }

/* The child of a fork starts afresh: its own findings and its own summary
 * (and its own log file, output.c). */
void mg_dedup_atfork_child(void)
{
    mg_owned_reinit(&lock);
    for (unsigned j = 0; j < nused; j++) {
        struct slot *s = &slots[used_slots[j]];
        free(s->where);
        *s = (struct slot){0};
    }
    nused = 0;
    nreports = nsuppressed = noccur = nrepeats = 0;
}

static unsigned home(int kind, uintptr_t site, uintptr_t other)
{
    uint64_t h = ((uint64_t)site * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)other * 0xc2b2ae3d27d4eb4full) ^ (uint64_t)kind;
    return (unsigned)(h ^ h >> 29) % NSLOTS;
}

/* A slot given up by mg_report_rekey: it keeps its place in the probe
 * sequences of others, and matches nothing. */
#define KIND_NONE (-1)

/* The slot of (kind, site, other), taken for it with count detections
 * when there is none yet (*found false), or with count more (*found
 * true); NSLOTS when the table is full. Lock held. */
static unsigned find_or_take(int kind, uintptr_t site, uintptr_t other, unsigned count, bool *found)
{
    unsigned i = home(kind, site, other);
    for (unsigned probe = 0; probe < NSLOTS; probe++, i = (i + 1) % NSLOTS) {
        struct slot *s = &slots[i];
        if (!s->used) {
            *s = (struct slot){.used = true, .kind = kind, .site = site, .other = other, .count = count};
            used_slots[nused++] = (unsigned short)i;
            *found = false;
            return i;
        }
        if (s->kind == kind && s->site == site && s->other == other) {
            s->count += count;
            *found = true;
            return i;
        }
    }
    return NSLOTS;
}

/* A detection of slot i's finding, which is there already: -1 when it is
 * not to be reported again (dedup, or suppressed), else i. Lock held. */
static int again(unsigned i)
{
    if (slots[i].suppressed || mg_opt.dedup) {
        nrepeats++;
        return -1;
    }
    return (int)i;
}

int mg_report_claim(int kind, uintptr_t site, uintptr_t other)
{
    /* busy while the lock is held: a map call from a signal handler that
     * interrupts us here goes straight to the library, rather than to
     * this lock, held by the thread it interrupted */
    mg_busy_enter();
    mg_report_lock();
    noccur++;
    bool found;
    unsigned i = find_or_take(kind, site, other, 1, &found);
    int r = i == NSLOTS ? NSLOTS /* table full: report, without a slot */ : found ? again(i) : (int)i;
    mg_report_unlock();
    mg_busy_leave();
    if (r >= 0)
        mg_inflight_claimed();
    return r;
}

static struct slot *slot_of(int slot) { return slot >= 0 && slot < NSLOTS ? &slots[slot] : NULL; }

int mg_report_rekey(int slot, int kind, uintptr_t site, uintptr_t other)
{
    struct slot *s = slot_of(slot);
    if (!s || !other)
        return slot;
    int r = slot;
    mg_busy_enter();
    mg_report_lock();
    /* not yet reported: its repeats so far (claims with the same unsure
     * site) go with it */
    if (s->used && s->kind == kind && s->site == site && s->other != other && !s->reported) {
        bool found;
        unsigned i = find_or_take(kind, site, other, s->count, &found);
        if (i != NSLOTS) {
            r = found ? again(i) : (int)i;
            s->kind = KIND_NONE;
            s->count = 0;
        }
    }
    mg_report_unlock();
    mg_busy_leave();
    return r;
}

void mg_dedup_suppressed(int slot)
{
    struct slot *s = slot_of(slot);
    nsuppressed++;
    if (s)
        s->suppressed = true;
}

void mg_dedup_reported(int slot, unsigned id, char **where)
{
    struct slot *s = slot_of(slot);
    if (!s)
        return;
    s->reported = true;
    s->records++;
    if (!s->id) {
        s->id = id;
        s->where = *where;
        *where = NULL;
    }
}

struct mg_dedup_counts mg_dedup_counts(void)
{
    return (struct mg_dedup_counts){
        .reports = nreports, .occurrences = noccur, .repeats = nrepeats, .suppressed = nsuppressed};
}

static int by_id(const void *a, const void *b)
{
    unsigned x = slots[*(const int *)a].id, y = slots[*(const int *)b].id;
    return x < y ? -1 : x > y;
}

size_t mg_dedup_recurrences(const struct mg_recurrence **out)
{
    /* in report order: slots sit in hash order */
    static MG_LARGE_BSS int order[NSLOTS];
    static MG_LARGE_BSS struct mg_recurrence rec[NSLOTS];
    int n = 0;
    for (unsigned j = 0; j < nused; j++)
        if (slots[used_slots[j]].reported)
            order[n++] = used_slots[j];
    qsort(order, (size_t)n, sizeof order[0], by_id);
    for (int j = 0; j < n; j++) {
        struct slot *sl = &slots[order[j]];
        rec[j] = (struct mg_recurrence){
            .id = sl->id, .count = sl->count, .records = sl->records, .kind = mg_kind_name(sl->kind), .where = sl->where};
    }
    *out = rec;
    return (size_t)n;
}
