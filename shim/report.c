/*
 * Reports: one JSON object per finding, one line, one write(2).
 *
 * A report is written the moment it is made, with a single write to an
 * O_APPEND descriptor, so lines from threads and forked children never
 * interleave and a program that crashes right afterwards still leaves it
 * behind. On a descriptor that is not a regular file (a pipe shared by
 * forked children) only a write of at most PIPE_BUF bytes is whole, so
 * lines there are cut to that by dropping frames. format=text renders the
 * same object in ThreadSanitizer's style.
 *
 * Before anything is captured, mg_report_claim checks the (kind, call
 * site, other call site) triple against the findings so far: a repeat only
 * bumps a counter, which the summary record at exit shows.
 *
 * Suppressions (suppress.c) are matched before anything is rendered, on
 * the same frames whichever way the finding is then written.
 */
#include "report.h"
#include "inflight.h"
#include "render.h"
#include "jsonline.h"
#include "logfile.h"
#include "mapstate.h"
#include "stack.h"
#include "suppress.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *name, *message;
} kinds[MK_COUNT] = {
    [MK_READ_WRITE] = {"concurrent-read-write", "concurrent map read and map write"},
    [MK_WRITES] = {"concurrent-writes", "concurrent map writes"},
    [MK_ITER_WRITE] = {"concurrent-iteration-write", "concurrent map iteration and map write"},
    [MK_MOD_ITER] = {"modified-during-iteration", "map modified during iteration"},
    [MK_NIL_WRITE] = {"nil-map-write", "assignment to entry in nil map"},
    [MK_USE_AFTER_FREE] = {"use-after-free", "map used after free"},
    [MK_DOUBLE_FREE] = {"double-free", "map freed twice"},
    [MK_IRREFLEXIVE] = {"irreflexive-key", "key is not equal to itself"},
    [MK_LEAK] = {"leaked-map", "map never freed"},
};

const char *mg_kind_name(int kind) { return kind >= 0 && kind < MK_COUNT ? kinds[kind].name : "?"; }

/* ---- deduplication table ---- */

#define NSLOTS 4096

struct slot {
    bool used, suppressed, reported;
    int kind;
    uintptr_t site, other;
    unsigned count;
    unsigned id;
    char *where; /* "function file:line" of the access, for the summary */
};

static struct slot slots[NSLOTS];
static unsigned nreports, nsuppressed, noccur, nrepeats;
static int fd = -1;
static bool fd_is_file; /* fd is log_path.<pid>, not stderr or stdout */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void mg_report_lock(void) { pthread_mutex_lock(&lock); }
void mg_report_unlock(void) { pthread_mutex_unlock(&lock); }
unsigned mg_report_count(void) { return __atomic_load_n(&nreports, __ATOMIC_RELAXED); }

/* The child of a fork starts afresh: its own log file (".<pid>"), its own
 * findings and its own summary. */
void mg_report_atfork_child(void)
{
    pthread_mutex_init(&lock, NULL);
    if (fd_is_file)
        close(fd);
    fd = -1;
    fd_is_file = false;
    /* Only used slots are written: the table is 160 KiB, mostly pages
     * never touched, and zeroing them would make every forked child pay
     * for all of it. */
    for (int i = 0; i < NSLOTS; i++) {
        if (!slots[i].used)
            continue;
        free(slots[i].where);
        slots[i] = (struct slot){0};
    }
    nreports = nsuppressed = noccur = nrepeats = 0;
}

int mg_report_claim(int kind, uintptr_t site, uintptr_t other)
{
    uint64_t h = ((uint64_t)site * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)other * 0xc2b2ae3d27d4eb4full) ^ (uint64_t)kind;
    unsigned i = (unsigned)(h ^ h >> 29) % NSLOTS;
    int r = NSLOTS; /* table full: report, without a slot */
    pthread_mutex_lock(&lock);
    noccur++;
    for (unsigned probe = 0; probe < NSLOTS; probe++, i = (i + 1) % NSLOTS) {
        struct slot *s = &slots[i];
        if (!s->used) {
            *s = (struct slot){.used = true, .kind = kind, .site = site, .other = other, .count = 1};
            r = (int)i;
            break;
        }
        if (s->kind == kind && s->site == site && s->other == other) {
            s->count++;
            if (s->suppressed || mg_opt.dedup) {
                nrepeats++;
                r = -1;
            } else {
                r = (int)i;
            }
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    if (r >= 0)
        mg_inflight_claimed();
    return r;
}

/* ---- building the object ---- */

/* ---- output ---- */

/* Lines longer than this are cut (by dropping frames) on the way to fd: 0
 * when fd is a regular file, where one write(2) of any size lands whole;
 * otherwise PIPE_BUF, the most a pipe or FIFO writes atomically, so lines
 * from forked children sharing a pipe cannot interleave. Set with fd. */
static size_t line_max;

static void warn_refused(const char *path, int why, const struct stat *st)
{
    if (why == MG_LOGF_NOT_REGULAR)
        mg_log(0, "log_path '%s' is %s, not a regular file; reporting to stderr", path,
               mg_file_type_name(st->st_mode));
    else if (why == MG_LOGF_NOT_OWNER)
        mg_log(0, "log_path '%s' belongs to another user (uid %ld); reporting to stderr", path, (long)st->st_uid);
    else if (why == MG_LOGF_LINKED)
        mg_log(0, "log_path '%s' has other hard links to it; reporting to stderr", path);
    else
        mg_log(0, "cannot open log_path '%s': %s; reporting to stderr", path, strerror(errno));
}

static int out_fd(void)
{
    if (fd >= 0)
        return fd;
    const char *p = mg_opt.log_path;
    fd_is_file = false;
    if (!p[0] || !strcmp(p, "stderr")) {
        fd = 2;
    } else if (!strcmp(p, "stdout")) {
        fd = 1;
    } else {
        /* not snprintf: a clean run would pay for libc's printf machinery
         * just to name its file (jsonline.c) */
        char path[sizeof mg_opt.log_path + 32];
        mg_log_file_name(path, (long long)getpid());
        struct stat st;
        fd = mg_log_open(path, &st);
        if (fd < 0) {
            warn_refused(path, fd, &st);
            fd = 2;
        }
        fd_is_file = fd != 2;
    }
    struct stat st;
    line_max = fd_is_file || (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) ? 0 : PIPE_BUF;
    return fd;
}

/* Records that only prove the process was watched go to a log file, never
 * to the terminal, not even when the file could not be opened. Call with
 * the lock held. */
static bool logging_to_file(void)
{
    if (!mg_log_to_file())
        return false;
    out_fd();
    return fd_is_file;
}

static void write_all(const char *buf, size_t n)
{
    int d = out_fd();
    while (n > 0) {
        ssize_t w = write(d, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        buf += w;
        n -= (size_t)w;
    }
}

/* ---- what the renderer needs from the shim (render.h) ---- */

static const char *kind_message(int kind) { return kind >= 0 && kind < MK_COUNT ? kinds[kind].message : "?"; }

static void thread_info(uint32_t idx, uint32_t *tid, uint32_t *created, char *name, size_t len)
{
    *tid = idx == mg_self.idx ? mg_self.tid : mg_thread_tid(idx);
    *created = idx == mg_self.idx ? mg_self.created_stack : mg_thread_created(idx);
    mg_thread_name(idx, name, len);
}

static const struct mg_render_host host = {
    .kind_name = mg_kind_name,
    .kind_message = kind_message,
    .op_name = mg_op_name,
    .depot_get = mg_depot_get,
    .thread = thread_info,
    .symbolize = mg_symbolize,
};

/* ---- without the renderer: a plainer record by hand ---- */

static void put_hex(struct mg_line *l, uintptr_t v)
{
    char b[2 + 2 * sizeof v + 1], *p = b + sizeof b;
    *--p = 0;
    do
        *--p = "0123456789abcdef"[v & 15];
    while (v >>= 4);
    *--p = 'x';
    *--p = '0';
    mg_put(l, "\"");
    mg_put(l, p);
    mg_put(l, "\"");
}

/* Frames with module and offset only (what mg_symbolize gives without the
 * symbolizer), as many as leave room for the rest of the line; the first
 * always. Call with the symbolization lock held. */
static void put_stack(struct mg_line *l, uint32_t stack, uintptr_t pc, bool text, bool plain)
{
    struct mg_frame pf;
    char pname[PATH_MAX];
    const uintptr_t *pcs;
    int n;
    uintptr_t one[1] = {pc};
    if (!stack || !mg_depot_get(stack, &pcs, &n)) {
        pcs = one;
        n = pc ? 1 : 0;
    }
    if (!text)
        mg_put(l, "[");
    for (int i = 0; i < n && (i == 0 || l->n < MG_LINE_CAP / 2); i++) {
        const struct mg_frame *fr = &pf;
        if (plain)
            mg_symbolize_plain(pcs[i] ? pcs[i] - 1 : 0, &pf, pname, sizeof pname);
        else
            mg_symbolize(pcs[i], &fr);
        if (text) {
            mg_put(l, "    #");
            mg_put_int(l, i);
            mg_put(l, " <unknown> (");
            mg_put(l, fr->module ? fr->module : "?");
            mg_put(l, "+");
            char b[24];
            mg_put(l, "0x");
            size_t k = sizeof b;
            uintptr_t v = fr->offset;
            b[--k] = 0;
            do
                b[--k] = "0123456789abcdef"[v & 15];
            while (v >>= 4);
            mg_put(l, b + k);
            mg_put(l, ")\n");
            continue;
        }
        mg_put(l, i ? ",{\"pc\":" : "{\"pc\":");
        put_hex(l, fr->pc);
        mg_put(l, ",\"module\":");
        size_t before = l->n;
        if (!fr->module || !mg_utf8_valid(fr->module) || !mg_put_str(l, fr->module)) {
            l->n = before;
            mg_put(l, "null");
        }
        mg_put(l, ",\"offset\":");
        put_hex(l, fr->offset);
        mg_put(l, ",\"function\":null,\"file\":null,\"line\":null}");
    }
    if (!text)
        mg_put(l, "]");
}

/* {op?, thread, stack, stack_complete?}, thread creation left out */
static void put_party(struct mg_line *l, const char *key, const struct mg_party *p, bool with_op, bool with_complete,
                      bool plain)
{
    uint32_t tid, created;
    char name[64];
    thread_info(p->thread, &tid, &created, name, sizeof name);
    mg_put(l, key);
    mg_put(l, "{");
    if (with_op && p->op != MG_OP_NONE) {
        mg_put(l, "\"op\":\"");
        mg_put(l, mg_op_name(p->op));
        mg_put(l, "\",");
    }
    mg_put(l, "\"thread\":{\"tid\":");
    if (tid)
        mg_put_int(l, tid);
    else
        mg_put(l, "null");
    mg_put(l, ",\"name\":");
    size_t before = l->n;
    if (!mg_put_str(l, name)) {
        l->n = before;
        mg_put(l, "\"\"");
    }
    mg_put(l, "},\"stack\":");
    put_stack(l, p->stack, p->pc, false, plain);
    if (with_complete)
        mg_put(l, p->complete && p->stack ? ",\"stack_complete\":true" : ",\"stack_complete\":false");
    mg_put(l, "}");
}

/* The finding without "id", as render.h's finding() gives it. Call with the
 * symbolization lock held, unless plain (module+offset frames without
 * mg_symbolize, which needs no lock). */
static void finding_by_hand(struct mg_line *l, const struct mg_finding *f, bool text, bool plain)
{
    if (text) {
        mg_put(l, "==================\nWARNING: mapguard: ");
        mg_put(l, kinds[f->kind].message);
        mg_put(l, " (");
        mg_put(l, kinds[f->kind].name);
        mg_put(l, ") (pid=");
        mg_put_int(l, getpid());
        mg_put(l, ")\n  ");
        mg_put(l, f->access.op != MG_OP_NONE ? mg_op_name(f->access.op) : "access");
        mg_put(l, ":\n");
        put_stack(l, f->access.stack, f->access.pc, true, plain);
        mg_put(l, "\nSUMMARY: mapguard: ");
        mg_put(l, kinds[f->kind].name);
        mg_put(l, "\n==================\n");
        return;
    }
    mg_put(l, "{\"kind\":\"");
    mg_put(l, kinds[f->kind].name);
    mg_put(l, "\",\"message\":\"");
    mg_put(l, kinds[f->kind].message);
    mg_put(l, "\",\"pid\":");
    mg_put_int(l, getpid());
    mg_put(l, ",\"map\":");
    put_hex(l, (uintptr_t)f->map);
    put_party(l, ",\"access\":", &f->access, true, false, plain);
    switch (f->kind) {
    case MK_READ_WRITE:
    case MK_WRITES:
    case MK_ITER_WRITE:
        put_party(l, ",\"conflict\":", &f->other, true, true, plain);
        mg_put(l, f->evidence == MG_EVIDENCE_UNORDERED ? ",\"evidence\":\"unordered\"" : ",\"evidence\":\"overlap\"");
        break;
    case MK_MOD_ITER:
        mg_put(l, ",\"modification\":{\"op\":\"");
        mg_put(l, mg_op_name(f->other.op));
        put_party(l, "\",\"created\":", &f->other, false, false, plain);
        put_party(l, "},\"iterator\":{\"created\":", &f->iter, false, false, plain);
        mg_put(l, "}");
        break;
    case MK_USE_AFTER_FREE:
    case MK_DOUBLE_FREE:
        put_party(l, ",\"freed\":", &f->other, false, false, plain);
        break;
    case MK_LEAK:
        mg_put(l, ",\"count\":");
        mg_put_int(l, (long long)f->count);
        mg_put(l, ",\"entries\":");
        mg_put_int(l, (long long)f->entries);
        break;
    default:
        break;
    }
    mg_line_end(l);
}

void mg_report_plain(struct mg_line *l, const struct mg_finding *f)
{
    l->n = 0;
    finding_by_hand(l, f, mg_opt.format == MG_FORMAT_TEXT, true);
}

unsigned mg_report_next_id(void) { return __atomic_add_fetch(&nreports, 1, __ATOMIC_RELAXED); }

void mg_report_emit(const char *buf, size_t n)
{
    if (!mg_inflight_write_begin())
        return;
    write_all(buf, n);
    mg_inflight_write_end();
}

void mg_report(struct mg_finding *f, int slot) { mg_report_inflight(f, slot, 0); }

void mg_report_inflight(struct mg_finding *f, int slot, int h)
{
    int saved = errno;
    mg_busy_enter();
    /* On record before anything slow (suppressions, the symbolizer's
     * loading, libdw): whatever ends the process from here on writes this
     * line if the full report is not out yet (inflight.c). */
    if (h)
        mg_inflight_update(h, f);
    else
        h = mg_inflight_begin(f);
    if (mg_inflight_exiting()) {
        /* The process is on its way out: no time for symbols. */
        if (h)
            mg_inflight_write_now(h);
        else
            mg_inflight_unclaim();
        mg_busy_leave();
        errno = saved;
        return;
    }
    pthread_mutex_lock(&lock);
    out_fd();
    /* room for the ",\"id\":N" inserted below */
    size_t max_len = line_max ? line_max - 24 : 0;
    pthread_mutex_unlock(&lock);
    bool text = mg_opt.format == MG_FORMAT_TEXT;
    char *where = NULL, *out = NULL;
    static struct mg_line by_hand; /* under the symbolization lock */
    mg_symbolize_lock();
    const struct mg_renderer *r = mg_renderer();
    bool suppressed = mg_suppressed(f, &host);
    if (!suppressed && r) {
        out = r->finding(&host, f, text, max_len, &where);
    } else if (!suppressed) {
        by_hand.n = 0;
        finding_by_hand(&by_hand, f, text, false);
        out = malloc(by_hand.n + 1);
        if (out) {
            memcpy(out, by_hand.buf, by_hand.n);
            out[by_hand.n] = 0;
        }
        /* "? (module+offset)" of the access, as render.c's where_of says
         * it without symbols */
        const uintptr_t *pcs;
        int n;
        uintptr_t pc = f->access.pc;
        if (f->access.stack && mg_depot_get(f->access.stack, &pcs, &n) && n > 0)
            pc = pcs[0];
        const struct mg_frame *fr;
        if (pc && mg_symbolize(pc, &fr) > 0) {
            char b[PATH_MAX + 64];
            snprintf(b, sizeof b, "? (%s+0x%" PRIxPTR ")", fr->module ? fr->module : "?", fr->offset);
            where = strdup(b);
        }
    }
    mg_symbolize_unlock();
    bool halt = false;
    pthread_mutex_lock(&lock);
    struct slot *s = slot >= 0 && slot < NSLOTS ? &slots[slot] : NULL;
    if (suppressed) {
        nsuppressed++;
        if (s)
            s->suppressed = true;
        mg_inflight_drop(h);
    } else {
        /* false: an exit path wrote the plain line already, and counted it */
        bool mine = mg_inflight_take(h);
        unsigned id = mine ? mg_report_next_id() : mg_inflight_id(h);
        if (s) {
            s->reported = true;
            if (!s->id) {
                s->id = id;
                s->where = where;
                where = NULL;
            }
        }
        if (out && mine && mg_inflight_write_begin()) {
            size_t n = strlen(out);
            if (text || n < 2) {
                write_all(out, n);
            } else {
                /* ",\"id\":N" before the closing "}\n", one write */
                char d[24], *t = malloc(n + 32);
                if (t) {
                    const char *num = mg_decimal(d, id);
                    size_t k = n - 2, m = strlen(num);
                    memcpy(t, out, k);
                    memcpy(t + k, ",\"id\":", 6);
                    memcpy(t + k + 6, num, m);
                    memcpy(t + k + 6 + m, "}\n", 2);
                    write_all(t, k + 8 + m);
                    free(t);
                }
            }
            mg_inflight_write_end();
        }
        if (mine)
            mg_inflight_done(h);
        halt = mg_opt.halt_on_error;
    }
    pthread_mutex_unlock(&lock);
    if (!h)
        mg_inflight_unclaim();
    free(out);
    free(where);
    if (halt)
        mg_halt();
    mg_busy_leave();
    errno = saved;
}

static int by_id(const void *a, const void *b)
{
    unsigned x = slots[*(const int *)a].id, y = slots[*(const int *)b].id;
    return x < y ? -1 : x > y;
}

/* "mapguard: N finding(s) reported, R repeat(s), S suppressed" */
static void put_counts(struct mg_line *l, const char *reported, const char *repeats, const char *suppressed)
{
    mg_put_int(l, nreports);
    mg_put(l, reported);
    mg_put_int(l, nrepeats);
    mg_put(l, repeats);
    mg_put_int(l, nsuppressed);
    mg_put(l, suppressed);
}

/* The summary with no recurrences, written by hand (jsonline.c): most
 * processes end this way, and would otherwise load jansson at exit for it.
 * Text format too, for the same reason. */
static void summary_by_hand(const struct mg_recurrence *rec, size_t nrec)
{
    struct mg_line l = {.n = 0};
    if (mg_opt.format == MG_FORMAT_TEXT) {
        mg_put(&l, "mapguard: reported ");
        put_counts(&l, " warning(s) (", " repeat(s) folded, ", " suppressed)\n");
        write_all(l.buf, l.n);
        return;
    }
    mg_put(&l, "{\"kind\":\"summary\",\"message\":\"mapguard: ");
    put_counts(&l, " finding(s) reported, ", " repeat(s), ", " suppressed\"");
    mg_put(&l, ",\"pid\":");
    mg_put_int(&l, getpid());
    mg_put(&l, ",\"findings\":");
    mg_put_int(&l, nreports);
    mg_put(&l, ",\"occurrences\":");
    mg_put_int(&l, noccur);
    mg_put(&l, ",\"repeats\":");
    mg_put_int(&l, nrepeats);
    mg_put(&l, ",\"suppressed\":");
    mg_put_int(&l, nsuppressed);
    /* as many recurrences as the line has room for: this is also the
     * fallback when the renderer could not be loaded */
    mg_put(&l, ",\"recurrences\":[");
    size_t j = 0;
    for (; j < nrec && l.n < MG_LINE_CAP - 2 * MG_LINE_TAIL_ROOM; j++) {
        size_t before = l.n;
        mg_put(&l, j ? ",{\"id\":" : "{\"id\":");
        mg_put_int(&l, rec[j].id);
        mg_put(&l, ",\"kind\":\"");
        mg_put(&l, rec[j].kind);
        mg_put(&l, "\",\"count\":");
        mg_put_int(&l, rec[j].count);
        mg_put(&l, ",\"where\":");
        if (!mg_put_str(&l, rec[j].where ? rec[j].where : "?")) {
            l.n = before;
            break;
        }
        mg_put(&l, "}");
    }
    mg_put(&l, "]");
    if (j < nrec)
        mg_put(&l, ",\"truncated\":true");
    mg_line_end(&l);
    write_all(l.buf, l.n);
}

void mg_report_summary(void)
{
    pthread_mutex_lock(&lock);
    /* With nothing found, stderr stays the program's own; a log file gets
     * the summary anyway, so "watched, and clean" is on record. */
    if (nreports == 0 && mg_opt.verbosity < 1 && !logging_to_file()) {
        pthread_mutex_unlock(&lock);
        return;
    }
    if (nreports == 0 || mg_opt.format == MG_FORMAT_TEXT) {
        summary_by_hand(NULL, 0);
        pthread_mutex_unlock(&lock);
        return;
    }
    /* in report order: slots sit in hash order */
    static int order[NSLOTS];
    static struct mg_recurrence rec[NSLOTS];
    int n = 0;
    for (int i = 0; i < NSLOTS; i++)
        if (slots[i].used && slots[i].reported)
            order[n++] = i;
    qsort(order, (size_t)n, sizeof order[0], by_id);
    for (int j = 0; j < n; j++) {
        struct slot *sl = &slots[order[j]];
        rec[j] = (struct mg_recurrence){
            .id = sl->id, .count = sl->count, .kind = kinds[sl->kind].name, .where = sl->where};
    }
    /* on a pipe, the line by hand: it stays within PIPE_BUF (line_max) */
    out_fd();
    mg_symbolize_lock();
    const struct mg_renderer *r = line_max ? NULL : mg_renderer();
    char *text = r ? r->summary(getpid(), nreports, noccur, nrepeats, nsuppressed, rec, (size_t)n) : NULL;
    mg_symbolize_unlock();
    if (text) {
        write_all(text, strlen(text));
        free(text);
    } else {
        summary_by_hand(rec, (size_t)n);
    }
    pthread_mutex_unlock(&lock);
}

/* JSON only: in a text log meant for people the summary line says enough.
 * Written by hand (jsonline.c): every watched image writes one, and most
 * never report anything, so jansson would be loaded for this line alone. */
void mg_report_hello(void)
{
    if (mg_opt.format != MG_FORMAT_JSON)
        return;
    pthread_mutex_lock(&lock);
    bool to_file = logging_to_file();
    pthread_mutex_unlock(&lock);
    if (!to_file)
        return;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    struct mg_line l = {.n = 0};
    mg_put(&l, "{\"kind\":\"hello\",\"pid\":");
    mg_put_int(&l, getpid());
    mg_put(&l, ",\"ppid\":");
    mg_put_int(&l, getppid());
    mg_put(&l, ",\"program\":");
    /* The format says null, not a path with U+FFFD in it or cut short,
     * when the program's real name cannot be given. */
    size_t before = l.n;
    if (n <= 0 || !mg_utf8_valid(exe) || !mg_put_str(&l, exe)) {
        l.n = before;
        mg_put(&l, "null");
    }
    mg_put(&l, ",\"version\":\"" MG_SHIM_VERSION "\"");
    mg_line_end(&l);
    pthread_mutex_lock(&lock);
    write_all(l.buf, l.n);
    pthread_mutex_unlock(&lock);
}

void mg_party_made(struct mg_party *p, const gomap *m)
{
    const uint64_t *w = mg_words(m);
    uint64_t made = MG_RD(w[MW_MADE]);
    uint32_t stack = hdr_created(MG_RD(w[MW_HDR]));
    *p = (struct mg_party){
        .present = made != 0 || stack != 0,
        .op = MG_OP_NEW,
        .thread = site_thread(made),
        .stack = stack,
        .pc = site_pc(made),
        .complete = stack != 0,
    };
}
