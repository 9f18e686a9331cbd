/*
 * Reports: one JSON object per finding, one line, one write(2).
 *
 * A report is written the moment it is made, with a single write to an
 * O_APPEND descriptor, so lines from threads and forked children never
 * interleave and a program that crashes right afterwards still leaves it
 * behind. format=text renders the same object in ThreadSanitizer's style.
 *
 * Before anything is captured, mg_report_claim checks the (kind, call
 * site, other call site) triple against the findings so far: a repeat only
 * bumps a counter, which the summary record at exit shows.
 *
 * Suppressions (TSan-style "kind:pattern" lines) are matched against every
 * frame's function, file and module in the finished object.
 */
#include "report.h"
#include "jsonline.h"
#include "mapstate.h"
#include "stack.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

struct rule {
    char *kind, *pattern;
    unsigned hits;
};
static struct rule *rules;
static size_t nrules;
static bool rules_loaded;

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
    return r;
}

/* ---- building the object ---- */

static json_t *hex(uintptr_t v)
{
    char b[32];
    snprintf(b, sizeof b, "0x%" PRIxPTR, v);
    return json_string(b);
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *frame_json(const struct mg_frame *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "pc", hex(f->pc));
    json_object_set_new(o, "module", str_or_null(f->module));
    json_object_set_new(o, "offset", hex(f->offset));
    json_object_set_new(o, "function", str_or_null(f->function));
    json_object_set_new(o, "file", str_or_null(f->file));
    json_object_set_new(o, "line", f->file && f->line > 0 ? json_integer(f->line) : json_null());
    if (f->file && f->column > 0)
        json_object_set_new(o, "column", json_integer(f->column));
    if (f->inlined)
        json_object_set_new(o, "inlined", json_true());
    return o;
}

/* Call with the symbolizer lock held. */
static json_t *stack_json(uint32_t stack, uintptr_t pc)
{
    json_t *a = json_array();
    const uintptr_t *pcs;
    int n;
    uintptr_t one[1] = {pc};
    if (!stack || !mg_depot_get(stack, &pcs, &n)) {
        if (!pc)
            return a;
        pcs = one;
        n = 1;
    }
    for (int i = 0; i < n; i++) {
        const struct mg_frame *fr;
        int k = mg_symbolize(pcs[i], &fr);
        for (int j = 0; j < k; j++)
            json_array_append_new(a, frame_json(&fr[j]));
    }
    return a;
}

static json_t *thread_json(uint32_t idx)
{
    uint32_t tid = idx == mg_self.idx ? mg_self.tid : mg_thread_tid(idx);
    uint32_t created = idx == mg_self.idx ? mg_self.created_stack : mg_thread_created(idx);
    char name[64];
    mg_thread_name(idx, name, sizeof name);
    json_t *o = json_object();
    json_object_set_new(o, "tid", tid ? json_integer(tid) : json_null());
    json_object_set_new(o, "name", json_string(name));
    if (created)
        json_object_set_new(o, "created", stack_json(created, 0));
    return o;
}

/* {op?, thread, stack, stack_complete?} */
static json_t *party_json(const struct mg_party *p, bool with_op, bool with_complete)
{
    json_t *o = json_object();
    if (with_op && p->op != MG_OP_NONE)
        json_object_set_new(o, "op", json_string(mg_op_name(p->op)));
    json_object_set_new(o, "thread", thread_json(p->thread));
    json_object_set_new(o, "stack", stack_json(p->stack, p->pc));
    if (with_complete)
        json_object_set_new(o, "stack_complete", json_boolean(p->complete && p->stack));
    return o;
}

static json_t *created_json(const struct mg_party *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "created", party_json(p, false, false));
    return o;
}

static json_t *build(const struct mg_finding *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(kinds[f->kind].name));
    json_object_set_new(o, "message", json_string(kinds[f->kind].message));
    json_object_set_new(o, "pid", json_integer(getpid()));
    json_object_set_new(o, "map", hex((uintptr_t)f->map));
    mg_symbolize_lock();
    json_object_set_new(o, "access", party_json(&f->access, true, false));
    switch (f->kind) {
    case MK_READ_WRITE:
    case MK_WRITES:
    case MK_ITER_WRITE:
        json_object_set_new(o, "conflict", party_json(&f->other, true, true));
        break;
    case MK_MOD_ITER: {
        json_t *mod = created_json(&f->other);
        json_object_set_new(mod, "op", json_string(mg_op_name(f->other.op)));
        json_object_set_new(o, "modification", mod);
        json_object_set_new(o, "iterator", created_json(&f->iter));
        break;
    }
    case MK_USE_AFTER_FREE:
    case MK_DOUBLE_FREE:
        json_object_set_new(o, "freed", party_json(&f->other, false, false));
        break;
    case MK_LEAK:
        json_object_set_new(o, "count", json_integer((json_int_t)f->count));
        json_object_set_new(o, "entries", json_integer((json_int_t)f->entries));
        break;
    default:
        break;
    }
    if (f->made.present)
        json_object_set_new(o, "map_created", party_json(&f->made, false, false));
    mg_symbolize_unlock();
    return o;
}

/* ---- suppressions ---- */

static void load_rules(void)
{
    rules_loaded = true;
    if (!mg_opt.suppressions[0])
        return;
    FILE *fp = fopen(mg_opt.suppressions, "re");
    if (!fp) {
        mg_log(0, "cannot read suppressions file '%s': %s", mg_opt.suppressions, strerror(errno));
        return;
    }
    char line[1024];
    size_t cap = 0;
    while (fgets(line, sizeof line, fp)) {
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        s[strcspn(s, "\r\n")] = 0;
        size_t n = strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            s[--n] = 0;
        if (!*s || *s == '#')
            continue;
        char *colon = strchr(s, ':');
        if (!colon || colon == s || !colon[1]) {
            mg_log(0, "ignoring malformed suppression '%s' (want kind:pattern)", s);
            continue;
        }
        *colon = 0;
        if (nrules == cap) {
            cap = cap ? cap * 2 : 16;
            struct rule *r = realloc(rules, cap * sizeof *r);
            if (!r)
                break;
            rules = r;
        }
        rules[nrules].kind = strdup(s);
        rules[nrules].pattern = strdup(colon + 1);
        rules[nrules].hits = 0;
        if (rules[nrules].kind && rules[nrules].pattern)
            nrules++;
    }
    fclose(fp);
}

/* '*' matches any run of characters. A pattern matches anywhere in the
 * text unless anchored with a leading '^' or a trailing '$'. */
static bool glob_prefix(const char *p, const char *t)
{
    for (;; p++, t++) {
        if (!*p)
            return true;
        if (*p == '$' && !p[1])
            return !*t;
        if (*p == '*') {
            for (;; t++) {
                if (glob_prefix(p + 1, t))
                    return true;
                if (!*t)
                    return false;
            }
        }
        if (!*t || *p != *t)
            return false;
    }
}

static bool pattern_match(const char *pat, const char *text)
{
    if (!text)
        return false;
    if (pat[0] == '^')
        return glob_prefix(pat + 1, text);
    for (const char *t = text;; t++) {
        if (glob_prefix(pat, t))
            return true;
        if (!*t)
            return false;
    }
}

static bool kind_match(const char *rule, int kind)
{
    if (!strcmp(rule, "*") || !strcmp(rule, kinds[kind].name))
        return true;
    /* TSan's word for all three concurrency kinds */
    return !strcmp(rule, "race") && (kind == MK_READ_WRITE || kind == MK_WRITES || kind == MK_ITER_WRITE);
}

static bool stack_matches(json_t *stack, const char *pat)
{
    size_t i;
    json_t *fr;
    json_array_foreach(stack, i, fr) {
        const char *keys[] = {"function", "file", "module"};
        for (int k = 0; k < 3; k++)
            if (pattern_match(pat, json_string_value(json_object_get(fr, keys[k]))))
                return true;
    }
    return false;
}

static bool any_stack_matches(json_t *o, const char *pat)
{
    /* every "stack" array anywhere in the object, thread creation included */
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        if (!strcmp(key, "stack") || !strcmp(key, "created")) {
            if (json_is_array(v) && stack_matches(v, pat))
                return true;
        }
        if (json_is_object(v) && any_stack_matches(v, pat))
            return true;
    }
    return false;
}

static bool suppressed(json_t *o, int kind)
{
    if (!rules_loaded)
        load_rules();
    for (size_t i = 0; i < nrules; i++)
        if (kind_match(rules[i].kind, kind) && any_stack_matches(o, rules[i].pattern)) {
            rules[i].hits++;
            return true;
        }
    return false;
}

/* ---- output ---- */

static int out_fd(void)
{
    if (fd >= 0)
        return fd;
    const char *p = mg_opt.log_path;
    if (!p[0] || !strcmp(p, "stderr"))
        return fd = 2;
    if (!strcmp(p, "stdout"))
        return fd = 1;
    /* not snprintf: a clean run would pay for libc's printf machinery
     * just to name its file (jsonline.c) */
    char path[sizeof mg_opt.log_path + 32];
    mg_log_file_name(path, (long long)getpid());
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        mg_log(0, "cannot open log_path '%s': %s; reporting to stderr", path, strerror(errno));
        fd = 2;
    }
    fd_is_file = fd != 2;
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

static void emit_frames(FILE *out, json_t *stack)
{
    size_t i;
    json_t *fr;
    json_array_foreach(stack, i, fr) {
        const char *fn = json_string_value(json_object_get(fr, "function"));
        const char *file = json_string_value(json_object_get(fr, "file"));
        const char *mod = json_string_value(json_object_get(fr, "module"));
        const char *base = mod ? strrchr(mod, '/') : NULL;
        fprintf(out, "    #%zu %s", i, fn ? fn : "<unknown>");
        if (file)
            fprintf(out, " %s:%" JSON_INTEGER_FORMAT, file, json_integer_value(json_object_get(fr, "line")));
        fprintf(out, " (%s+%s)%s\n", base ? base + 1 : mod ? mod : "?",
                json_string_value(json_object_get(fr, "offset")),
                json_is_true(json_object_get(fr, "inlined")) ? " [inlined]" : "");
    }
}

static void emit_thread(FILE *out, json_t *t)
{
    const char *name = json_string_value(json_object_get(t, "name"));
    fprintf(out, "thread tid=%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(t, "tid")));
    if (name && *name)
        fprintf(out, " (%s)", name);
}

static void emit_party(FILE *out, const char *title, json_t *p)
{
    if (!p)
        return;
    json_t *t = json_object_get(p, "thread");
    const char *op = json_string_value(json_object_get(p, "op"));
    fprintf(out, "  %s%s%s by ", title, op ? " " : "", op ? op : "");
    emit_thread(out, t);
    if (json_is_false(json_object_get(p, "stack_complete")))
        fprintf(out, " [call site only]");
    fprintf(out, ":\n");
    emit_frames(out, json_object_get(p, "stack"));
    json_t *c = json_object_get(t, "created");
    if (c) {
        fprintf(out, "  (tid=%" JSON_INTEGER_FORMAT " created at:)\n", json_integer_value(json_object_get(t, "tid")));
        emit_frames(out, c);
    }
    fprintf(out, "\n");
}

static char *render_text(json_t *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out)
        return NULL;
    fprintf(out, "==================\nWARNING: mapguard: %s (%s) on map %s (pid=%" JSON_INTEGER_FORMAT ")\n",
            json_string_value(json_object_get(o, "message")), json_string_value(json_object_get(o, "kind")),
            json_string_value(json_object_get(o, "map")), json_integer_value(json_object_get(o, "pid")));
    emit_party(out, "", json_object_get(o, "access"));
    emit_party(out, "Concurrent", json_object_get(o, "conflict"));
    json_t *mod = json_object_get(o, "modification");
    if (mod) {
        fprintf(out, "  Modified (%s) ", json_string_value(json_object_get(mod, "op")));
        emit_party(out, "", json_object_get(mod, "created"));
    }
    json_t *it = json_object_get(o, "iterator");
    if (it)
        emit_party(out, "Iterator initialized", json_object_get(it, "created"));
    emit_party(out, "Freed", json_object_get(o, "freed"));
    emit_party(out, "Map created", json_object_get(o, "map_created"));
    if (json_object_get(o, "count"))
        fprintf(out, "  %" JSON_INTEGER_FORMAT " map(s) with %" JSON_INTEGER_FORMAT " entries in total\n\n",
                json_integer_value(json_object_get(o, "count")), json_integer_value(json_object_get(o, "entries")));
    json_t *top = json_array_get(json_object_get(json_object_get(o, "access"), "stack"), 0);
    const char *fn = json_string_value(json_object_get(top, "function"));
    const char *file = json_string_value(json_object_get(top, "file"));
    fprintf(out, "SUMMARY: mapguard: %s", json_string_value(json_object_get(o, "kind")));
    if (file)
        fprintf(out, " %s:%" JSON_INTEGER_FORMAT, file, json_integer_value(json_object_get(top, "line")));
    if (fn)
        fprintf(out, " in %s", fn);
    fprintf(out, "\n==================\n");
    fclose(out);
    return buf;
}

static void emit(json_t *o)
{
    char *s = mg_opt.format == MG_FORMAT_TEXT ? render_text(o) : json_dumps(o, JSON_COMPACT);
    if (!s)
        return;
    size_t n = strlen(s);
    if (mg_opt.format == MG_FORMAT_JSON) {
        char *t = realloc(s, n + 2);
        if (!t) {
            free(s);
            return;
        }
        s = t;
        s[n++] = '\n';
        s[n] = 0;
    }
    write_all(s, n);
    free(s);
}

static char *where_of(json_t *o)
{
    json_t *top = json_array_get(json_object_get(json_object_get(o, "access"), "stack"), 0);
    const char *fn = json_string_value(json_object_get(top, "function"));
    const char *file = json_string_value(json_object_get(top, "file"));
    char buf[1024];
    if (file)
        snprintf(buf, sizeof buf, "%s %s:%" JSON_INTEGER_FORMAT, fn ? fn : "?", file,
                 json_integer_value(json_object_get(top, "line")));
    else
        snprintf(buf, sizeof buf, "%s (%s+%s)", fn ? fn : "?",
                 json_string_value(json_object_get(top, "module")) ? json_string_value(json_object_get(top, "module")) : "?",
                 json_string_value(json_object_get(top, "offset")) ? json_string_value(json_object_get(top, "offset")) : "?");
    return strdup(buf);
}

void mg_report(struct mg_finding *f, int slot)
{
    int saved = errno;
    mg_busy_enter();
    json_t *o = build(f);
    bool halt = false;
    pthread_mutex_lock(&lock);
    struct slot *s = slot >= 0 && slot < NSLOTS ? &slots[slot] : NULL;
    if (suppressed(o, f->kind)) {
        nsuppressed++;
        if (s)
            s->suppressed = true;
    } else {
        unsigned id = ++nreports;
        json_object_set_new(o, "id", json_integer(id));
        if (s) {
            s->reported = true;
            if (!s->id) {
                s->id = id;
                s->where = where_of(o);
            }
        }
        emit(o);
        halt = mg_opt.halt_on_error;
    }
    pthread_mutex_unlock(&lock);
    json_decref(o);
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
static void summary_by_hand(void)
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
    mg_put(&l, ",\"recurrences\":[]");
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
        summary_by_hand();
        pthread_mutex_unlock(&lock);
        return;
    }
    json_t *o = json_object();
    char msg[128];
    snprintf(msg, sizeof msg, "mapguard: %u finding(s) reported, %u repeat(s), %u suppressed", nreports, nrepeats,
             nsuppressed);
    json_object_set_new(o, "kind", json_string("summary"));
    json_object_set_new(o, "message", json_string(msg));
    json_object_set_new(o, "pid", json_integer(getpid()));
    json_object_set_new(o, "findings", json_integer(nreports));
    json_object_set_new(o, "occurrences", json_integer(noccur));
    json_object_set_new(o, "repeats", json_integer(nrepeats));
    json_object_set_new(o, "suppressed", json_integer(nsuppressed));
    json_t *rec = json_array();
    /* in report order: slots sit in hash order */
    int order[NSLOTS], n = 0;
    for (int i = 0; i < NSLOTS; i++)
        if (slots[i].used && slots[i].reported)
            order[n++] = i;
    qsort(order, (size_t)n, sizeof order[0], by_id);
    for (int j = 0; j < n; j++) {
        struct slot *s = &slots[order[j]];
        json_t *r = json_object();
        json_object_set_new(r, "id", json_integer(s->id));
        json_object_set_new(r, "kind", json_string(kinds[s->kind].name));
        json_object_set_new(r, "count", json_integer(s->count));
        json_object_set_new(r, "where", json_string(s->where ? s->where : "?"));
        json_array_append_new(rec, r);
    }
    json_object_set_new(o, "recurrences", rec);
    emit(o);
    json_decref(o);
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
