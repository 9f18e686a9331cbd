/*
 * Loading JSON Lines reports and merging them into unique findings.
 *
 * One run writes a file per process (log_path.<pid>), and `mapguard report`
 * merges files from many runs, so the same bug arrives many times: from the
 * parent and a forked child, from both threads of a race (each may detect the
 * other), from yesterday's and today's CI job. Findings are merged by kind
 * plus the call sites of every party involved, the detector's own dedup rule
 * ("the same kind at the same pair of call sites"), with the two sides of a
 * race ordered so that A-vs-B and B-vs-A are one finding.
 *
 * Records are streamed: each line is parsed, folded into its finding (or its
 * crash, or the process bookkeeping) and freed. What stays is one record per
 * distinct finding and crash, counters, and a few ids per process and finding
 * to fold the summaries' repeat counts, so a log of any size fits (issue 11:
 * holding every record took 5.5 GB for a 682 MB log). `run --json`, which
 * wants every record, reads the files a second time (mg_write_jsonl).
 */
#include "cli.h"
#include "kinds.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The detector's lines are a few KB. A longer line is skipped as bad without
 * being held, so a file with no newline at all (or /dev/zero behind a pipe)
 * cannot take unbounded memory. */
#define MAX_LINE ((size_t)16 << 20)
/* Bad lines named on stderr per file; the rest are only counted. */
#define BAD_LINES_NAMED 5
/* Record ids remembered per (process, finding) to fold the summary's repeat
 * counts. With dedup=1 (the default) a process prints each finding once, so
 * one id is the norm; with dedup=0 every record has an id of its own, and the
 * summary names only the first (its entry says every detection was written:
 * nothing to fold), so the cap loses nothing there and keeps a dedup=0 log
 * from growing a table per record. */
#define IDS_PER_PROCESS_FINDING 8

/* ------------------------------------------------------------ hash tables */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* (a, b) -> val, open addressing. */
typedef struct pair_slot {
    long long a, b;
    size_t val;
    bool used;
} pair_slot;

typedef struct pair_map {
    pair_slot *slots;
    size_t cap, n;
} pair_map;

static size_t pair_home(const pair_map *m, long long a, long long b)
{
    return (size_t)mix64((uint64_t)a * 0x9e3779b97f4a7c15ULL ^ (uint64_t)b) & (m->cap - 1);
}

static pair_slot *pair_get(const pair_map *m, long long a, long long b)
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = pair_home(m, a, b);; i = (i + 1) & (m->cap - 1)) {
        pair_slot *s = &m->slots[i];
        if (!s->used)
            return NULL;
        if (s->a == a && s->b == b)
            return s;
    }
}

/* The slot for (a, b), made (val 0, *fresh) when absent. */
static pair_slot *pair_put(pair_map *m, long long a, long long b, bool *fresh)
{
    if ((m->n + 1) * 2 > m->cap) {
        pair_map g = {calloc(m->cap ? m->cap * 2 : 64, sizeof *g.slots), m->cap ? m->cap * 2 : 64,
                      0};
        if (!g.slots)
            abort();
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slots[i].used)
                continue;
            size_t j = pair_home(&g, m->slots[i].a, m->slots[i].b);
            while (g.slots[j].used)
                j = (j + 1) & (g.cap - 1);
            g.slots[j] = m->slots[i];
            g.n++;
        }
        free(m->slots);
        *m = g;
    }
    *fresh = false;
    for (size_t i = pair_home(m, a, b);; i = (i + 1) & (m->cap - 1)) {
        pair_slot *s = &m->slots[i];
        if (!s->used) {
            *s = (pair_slot){a, b, 0, true};
            m->n++;
            *fresh = true;
            return s;
        }
        if (s->a == a && s->b == b)
            return s;
    }
}

/* A list of unique findings (or crashes) with a hash index on their keys. */
typedef struct key_index {
    size_t *slots; /* index into the list + 1; 0 = empty */
    size_t cap;
} key_index;

typedef struct finding_list {
    mgc_finding **items;
    size_t *n, *cap;
    key_index *ix;
} finding_list;

static void index_insert(key_index *ix, const mgc_finding *items, size_t idx)
{
    size_t i = (size_t)hash_str(items[idx].key) & (ix->cap - 1);
    while (ix->slots[i])
        i = (i + 1) & (ix->cap - 1);
    ix->slots[i] = idx + 1;
}

/* The index of the finding with this key, or SIZE_MAX. */
static size_t list_find(const finding_list *l, const char *key)
{
    key_index *ix = l->ix;
    if (ix->cap == 0)
        return SIZE_MAX;
    for (size_t i = (size_t)hash_str(key) & (ix->cap - 1); ix->slots[i];
         i = (i + 1) & (ix->cap - 1))
        if (strcmp((*l->items)[ix->slots[i] - 1].key, key) == 0)
            return ix->slots[i] - 1;
    return SIZE_MAX;
}

static void note_pid(mgc_finding *f, long pid)
{
    for (size_t i = 0; i < f->npids; i++)
        if (f->pids[i] == pid)
            return;
    if (f->npids < sizeof f->pids / sizeof *f->pids)
        f->pids[f->npids++] = pid;
    else
        f->more_pids = true;
}

/* Folds rec (stolen) with key (stolen) into the list; returns its index. */
static size_t list_merge(finding_list *l, json_t *rec, char *key, long pid)
{
    size_t idx = list_find(l, key);
    if (idx != SIZE_MAX) {
        mgc_finding *f = &(*l->items)[idx];
        f->count++;
        note_pid(f, pid);
        free(key);
        json_decref(rec);
        return idx;
    }
    if (*l->n == *l->cap) {
        size_t cap = *l->cap ? *l->cap * 2 : 16;
        mgc_finding *p = realloc(*l->items, cap * sizeof *p);
        if (!p)
            abort();
        *l->items = p;
        *l->cap = cap;
    }
    idx = (*l->n)++;
    mgc_finding *f = &(*l->items)[idx];
    memset(f, 0, sizeof *f);
    f->rec = rec;
    f->key = key;
    f->count = 1;
    note_pid(f, pid);
    key_index *ix = l->ix;
    if (*l->n * 2 > ix->cap) {
        free(ix->slots);
        ix->cap = ix->cap ? ix->cap * 2 : 64;
        ix->slots = calloc(ix->cap, sizeof *ix->slots);
        if (!ix->slots)
            abort();
        for (size_t i = 0; i < *l->n; i++)
            index_insert(ix, *l->items, i);
    } else {
        index_insert(ix, *l->items, idx);
    }
    return idx;
}

/* ------------------------------------------------------------ the state */

typedef struct recurrence {
    long long pid, id, unwritten; /* detections the process did not write as records */
} recurrence;

struct mgc_reports_index {
    key_index findings, crashes;
    pair_map ids;          /* (pid, id) -> index of the finding the record went to */
    pair_map ids_per_pf;   /* (pid, finding index) -> how many ids remembered */
    recurrence *pending;   /* summaries' counts above 1, folded at the end */
    size_t npending, pendcap;
    /* What each process's summaries counted against what was read of it:
     * (pid, id) for every finding record read, (pid, SEEN) the number of
     * those, (pid, CLAIMED) the most findings one of its summaries
     * counted (an exec'd image counts its own from id 1 again); the pids
     * with a summary, in order. */
    pair_map counted;
    long long *summed;
    size_t nsummed, sumcap;
    char **sources;        /* files loaded, for mg_write_jsonl(all) */
    size_t nsources;
    struct timespec loading; /* the mtime of the file being loaded, 0 for stdin */
    mgc_symbols *symbols;  /* set by mg_reports_symbolize_crashes */
};

void mg_reports_init(mgc_reports *r)
{
    memset(r, 0, sizeof *r);
    r->pids = json_object();
    r->spawns = json_array();
    r->open_execs = json_object();
    r->index = calloc(1, sizeof *r->index);
    if (!r->index)
        abort();
}

static void free_list(mgc_finding *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_decref(items[i].rec);
        free(items[i].key);
    }
    free(items);
}

void mg_reports_free(mgc_reports *r)
{
    free_list(r->findings, r->nfindings);
    free_list(r->crashes, r->ncrashes);
    json_decref(r->pids);
    json_decref(r->spawns);
    json_decref(r->open_execs);
    struct mgc_reports_index *x = r->index;
    if (x) {
        free(x->findings.slots);
        free(x->crashes.slots);
        free(x->ids.slots);
        free(x->ids_per_pf.slots);
        free(x->pending);
        free(x->counted.slots);
        free(x->summed);
        for (size_t i = 0; i < x->nsources; i++)
            free(x->sources[i]);
        mg_symbols_free(x->symbols);
        free(x->sources);
        free(x);
    }
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------ keys */

/* A growable string, just for building keys. */
typedef struct sbuf { char *s; size_t len, cap; } sbuf;

static void sb_add(sbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p)
            abort();
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n + 1);
    b->len += n;
}

/* The call site of a party: its innermost frame. */
static void party_site(json_t *party, char *buf, size_t n)
{
    json_t *stack = mg_party_stack(party);
    json_t *f0 = json_array_get(stack, 0);
    if (!f0) {
        snprintf(buf, n, "-");
        return;
    }
    mg_frame_site(f0, buf, n);
}

static char *finding_key(json_t *rec)
{
    const char *kind = mg_str(rec, "kind");
    char a[1024], b[1024], m[1024], it[1024], fr[1024], mc[1024];
    party_site(json_object_get(rec, "access"), a, sizeof a);
    party_site(json_object_get(rec, "conflict"), b, sizeof b);
    party_site(json_object_get(rec, "modification"), m, sizeof m);
    party_site(json_object_get(rec, "iterator"), it, sizeof it);
    party_site(json_object_get(rec, "freed"), fr, sizeof fr);
    mc[0] = '\0';
    /* Leaks have no racing party: the creation site is what tells them apart. */
    if (mg_kind_by_name(kind) == MK_LEAK)
        party_site(json_object_get(rec, "map_created"), mc, sizeof mc);

    const char *first = a, *second = b;
    if (mg_kind_is_concurrency(mg_kind_by_name(kind)) && strcmp(a, b) > 0) {
        first = b;
        second = a;
    }
    sbuf k = {0};
    sb_add(&k, kind ? kind : "?");
    const char *parts[] = {first, second, m, it, fr, mc};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        sb_add(&k, "\x1f");
        sb_add(&k, parts[i]);
    }
    return k.s;
}

/* One crash per signal and faulting call site: the same crash in the same
 * code from many processes (or the same log given twice) is one block. */
static char *crash_key(json_t *rec)
{
    char site[1024], sig[64];
    party_site(json_object_get(rec, "stack"), site, sizeof site);
    const char *name = mg_str(rec, "signal");
    if (name)
        snprintf(sig, sizeof sig, "%s", name);
    else
        snprintf(sig, sizeof sig, "%lld", mg_int(rec, "signo", 0));
    sbuf k = {0};
    sb_add(&k, MG_DEADLY_SIGNAL_KIND "\x1f");
    sb_add(&k, sig);
    sb_add(&k, "\x1f");
    sb_add(&k, site);
    return k.s;
}

/* ------------------------------------------------------------ adding */

static void pid_key(long pid, char *buf, size_t n)
{
    snprintf(buf, n, "%ld", pid);
}

/* For mapguard run's check that the detector followed every exec and spawn
 * (run.c): the spawns, and the execs no later record of the same process
 * followed. Records of one pid are in its own file in write order. */
static void track_process(mgc_reports *r, json_t *rec, long pid)
{
    char k[32];
    pid_key(pid, k, sizeof k);
    if (json_object_get(r->open_execs, k))
        json_object_del(r->open_execs, k);
    const char *kind = mg_str(rec, "kind");
    if (strcmp(kind, "exec") == 0)
        json_object_set(r->open_execs, k, rec);
    else if (strcmp(kind, "spawn") == 0)
        json_array_append(r->spawns, rec);
}

/* The summary's repeat counts, folded once every file is in: the record an
 * entry names may come from another file given later. An entry counts the
 * detections of one kind at one pair of call sites, and how many of them
 * the process wrote as records (1 with dedup=1, every one with dedup=0,
 * where each record is counted as it is read): only the rest are folded.
 * A log from before "records" existed wrote one. */
static void note_recurrences(mgc_reports *r, json_t *sum, long pid)
{
    struct mgc_reports_index *x = r->index;
    size_t j;
    json_t *ent;
    json_array_foreach(json_object_get(sum, "recurrences"), j, ent) {
        long long id = mg_int(ent, "id", -1);
        long long n = mg_int(ent, "count", 0) - mg_int(ent, "records", 1);
        if (id < 0 || n <= 0)
            continue;
        if (x->npending == x->pendcap) {
            size_t cap = x->pendcap ? x->pendcap * 2 : 16;
            recurrence *p = realloc(x->pending, cap * sizeof *p);
            if (!p)
                abort();
            x->pending = p;
            x->pendcap = cap;
        }
        x->pending[x->npending++] = (recurrence){pid, id, n};
    }
}

static void remember_id(mgc_reports *r, long pid, long long id, size_t idx)
{
    struct mgc_reports_index *x = r->index;
    bool fresh;
    pair_slot *pf = pair_put(&x->ids_per_pf, pid, (long long)idx, &fresh);
    if (pf->val >= IDS_PER_PROCESS_FINDING)
        return;
    pf->val++;
    pair_slot *s = pair_put(&x->ids, pid, id, &fresh);
    if (fresh)
        s->val = idx; /* the first record with this id wins, as it was written first */
}

static const struct timespec *known_time(const struct timespec *t)
{
    return t->tv_sec || t->tv_nsec ? t : NULL;
}

enum { SEEN = -4, CLAIMED = -3 }; /* below every id; -2 is the summary's own */

static void note_claim(mgc_reports *r, long pid, long long findings)
{
    struct mgc_reports_index *x = r->index;
    bool fresh;
    pair_slot *c = pair_put(&x->counted, pid, CLAIMED, &fresh);
    if (fresh) {
        c->val = 0;
        if (x->nsummed == x->sumcap) {
            size_t cap = x->sumcap ? x->sumcap * 2 : 16;
            long long *p = realloc(x->summed, cap * sizeof *p);
            if (!p)
                abort();
            x->summed = p;
            x->sumcap = cap;
        }
        x->summed[x->nsummed++] = pid;
    }
    if (findings > (long long)c->val)
        c->val = (size_t)findings;
}

/* a record without an id counts once for each time it is read */
static void note_read(mgc_reports *r, long pid, long long id)
{
    struct mgc_reports_index *x = r->index;
    bool fresh = true;
    if (id >= 0)
        pair_put(&x->counted, pid, id, &fresh);
    if (!fresh)
        return;
    pair_slot *n = pair_put(&x->counted, pid, SEEN, &fresh);
    n->val = fresh ? 1 : n->val + 1;
}

void mg_reports_add(mgc_reports *r, json_t *rec)
{
    long pid = (long)mg_int(rec, "pid", -1);
    r->nrecords++;
    if (pid >= 0) {
        char k[32];
        pid_key(pid, k, sizeof k);
        json_object_set_new(r->pids, k, json_true());
    }
    const char *kind = mg_str(rec, "kind");
    if (r->track_processes && kind)
        track_process(r, rec, pid);
    if (kind && strcmp(kind, "summary") == 0) {
        note_recurrences(r, rec, pid);
        note_claim(r, pid, mg_int(rec, "findings", 0));
        /* a process's suppressed detections, once however often its log
         * is given (id -2: no finding's) */
        bool fresh;
        pair_put(&r->index->ids, pid, -2, &fresh);
        if (fresh)
            r->nsuppressed += (size_t)mg_int(rec, "suppressed", 0);
        json_decref(rec);
        return;
    }
    if (mg_record_is_crash(rec)) {
        finding_list l = {&r->crashes, &r->ncrashes, &r->crashcap, &r->index->crashes};
        size_t idx = list_merge(&l, rec, crash_key(rec), pid);
        if (r->crashes[idx].count == 1)
            r->crashes[idx].logged = r->index->loading;
        return;
    }
    if (!mg_record_is_finding(rec)) {
        json_decref(rec);
        return;
    }
    r->nreports++;
    long long id = mg_int(rec, "id", -1);
    note_read(r, pid, id);
    /* A finding written while the process crashed has module and offset
     * only (crash_symbols.c): named before it is keyed, so that it merges
     * with the same finding from a process that did not crash, and its
     * SARIF location is a file and a line, not the executable. */
    if (mg_finding_unnamed(rec)) {
        if (!r->index->symbols)
            r->index->symbols = mg_symbols_new();
        mg_symbolize_finding(r->index->symbols, rec, known_time(&r->index->loading));
    }
    finding_list l = {&r->findings, &r->nfindings, &r->cap, &r->index->findings};
    size_t idx = list_merge(&l, rec, finding_key(rec), pid);
    if (id >= 0)
        remember_id(r, pid, id, idx);
}

void mg_reports_apply_summaries(mgc_reports *r)
{
    struct mgc_reports_index *x = r->index;
    for (size_t i = 0; i < x->npending; i++) {
        pair_slot *s = pair_get(&x->ids, x->pending[i].pid, x->pending[i].id);
        if (s && s->val < r->nfindings)
            r->findings[s->val].recurred += (unsigned long)x->pending[i].unwritten;
    }
    x->npending = 0;
    for (size_t i = 0; i < x->nsummed; i++) {
        pair_slot *claimed = pair_get(&x->counted, x->summed[i], CLAIMED);
        pair_slot *seen = pair_get(&x->counted, x->summed[i], SEEN);
        size_t have = seen ? seen->val : 0;
        if (claimed && claimed->val > have)
            r->nlost += claimed->val - have;
    }
    x->nsummed = 0;
}

/* After loading, not while: the key that merges a crash from many
 * processes is the raw record's module+offset, and a module is opened
 * once for all the crashes in it. */
void mg_reports_symbolize_crashes(mgc_reports *r)
{
    struct mgc_reports_index *x = r->index;
    if (r->ncrashes == 0)
        return;
    if (!x->symbols)
        x->symbols = mg_symbols_new();
    for (size_t i = 0; i < r->ncrashes; i++)
        mg_symbolize_crash(x->symbols, r->crashes[i].rec, known_time(&r->crashes[i].logged));
}

/* ------------------------------------------------------------ reading */

/* Lines of any length, read in blocks; one longer than MAX_LINE is reported
 * as overlong and not kept. */
typedef struct line_reader {
    FILE *fp;
    char *blk;
    size_t pos, end;
    char *line;
    size_t cap, len;
    bool overlong;
} line_reader;

#define BLOCK ((size_t)1 << 16)

static void reserve(line_reader *rd, size_t need)
{
    if (need <= rd->cap)
        return;
    size_t cap = rd->cap ? rd->cap : 4096;
    while (cap < need)
        cap *= 2;
    char *p = realloc(rd->line, cap);
    if (!p)
        abort();
    rd->line = p;
    rd->cap = cap;
}

/* 1 with a line in rd->line (NUL-terminated, rd->len bytes, no newline), 0 at
 * the end, -1 on a read error. */
static int next_line(line_reader *rd)
{
    rd->len = 0;
    rd->overlong = false;
    reserve(rd, 1);
    bool any = false;
    for (;;) {
        if (rd->pos == rd->end) {
            rd->pos = 0;
            rd->end = fread(rd->blk, 1, BLOCK, rd->fp);
            if (rd->end == 0) {
                if (ferror(rd->fp))
                    return -1;
                rd->line[rd->len] = '\0';
                return any ? 1 : 0;
            }
        }
        any = true;
        char *start = rd->blk + rd->pos;
        size_t avail = rd->end - rd->pos;
        char *nl = memchr(start, '\n', avail);
        size_t take = nl ? (size_t)(nl - start) : avail;
        if (!rd->overlong) {
            if (rd->len + take > MAX_LINE) {
                rd->overlong = true;
            } else {
                reserve(rd, rd->len + take + 1);
                memcpy(rd->line + rd->len, start, take);
                rd->len += take;
            }
        }
        rd->pos += take + (nl ? 1 : 0);
        if (nl) {
            rd->line[rd->len] = '\0';
            return 1;
        }
    }
}

/* A record of the detector's: a JSON object with a string "kind" and an
 * integer "pid" (every record has both, docs/report-format.md). */
static bool is_record(json_t *rec)
{
    return json_is_object(rec) && mg_str(rec, "kind") &&
           json_is_integer(json_object_get(rec, "pid"));
}

/* Opens a report file, refusing what cannot hold one: a directory (fopen
 * succeeds, reading fails, and it used to pass as "no findings") and a
 * device (/dev/zero would never end). */
static FILE *open_report(const char *path)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *fp = is_stdin ? stdin : fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "mapguard: cannot read %s: %s\n", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    const char *why = NULL;
    if (fstat(fileno(fp), &st) == 0) {
        if (S_ISDIR(st.st_mode))
            why = "it is a directory (name the report files in it, e.g. DIR/*)";
        else if ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) && !isatty(fileno(fp)))
            why = "it is a device, not a file of reports";
    }
    if (why) {
        fprintf(stderr, "mapguard: cannot read %s: %s\n", path, why);
        if (!is_stdin)
            fclose(fp);
        return NULL;
    }
    return fp;
}

long mg_reports_load(mgc_reports *r, const char *path)
{
    FILE *fp = open_report(path);
    if (!fp)
        return -1;
    bool is_stdin = fp == stdin;
    struct stat st;
    r->index->loading = (struct timespec){0};
    if (!is_stdin && fstat(fileno(fp), &st) == 0)
        r->index->loading = st.st_mtim;
    if (!is_stdin) {
        struct mgc_reports_index *x = r->index;
        char **p = realloc(x->sources, (x->nsources + 1) * sizeof *p);
        char *copy = strdup(path);
        if (!p || !copy)
            abort();
        x->sources = p;
        x->sources[x->nsources++] = copy;
    }
    line_reader rd = {.fp = fp, .blk = malloc(BLOCK)};
    if (!rd.blk)
        abort();
    unsigned long lineno = 0, bad = 0;
    long nrec = 0;
    int got;
    while ((got = next_line(&rd)) > 0) {
        lineno++;
        size_t len = rd.len;
        while (len > 0 && rd.line[len - 1] == '\r')
            rd.line[--len] = '\0';
        size_t sp = strspn(rd.line, " \t");
        if (sp == len && !rd.overlong)
            continue;
        json_error_t err;
        json_t *rec = rd.overlong ? NULL : json_loadb(rd.line, len, 0, &err);
        if (!is_record(rec) && !rd.overlong) {
            /* Another writer's bytes before a record (a program that
             * wrote into the log's descriptor, output with no newline):
             * the record is whole after them, one write(2) of the shim's,
             * and a finding is not dropped for what came before it. */
            const char *at = strstr(rd.line + 1, "{\"kind\":");
            json_t *salvaged = at ? json_loadb(at, len - (size_t)(at - rd.line), 0, NULL) : NULL;
            if (is_record(salvaged)) {
                fprintf(stderr, "mapguard: %s:%lu: %zu bytes that are not mapguard's before a report record, skipped\n",
                        path, lineno, (size_t)(at - rd.line));
                json_decref(rec);
                rec = salvaged;
            } else {
                json_decref(salvaged);
            }
        }
        if (!is_record(rec)) {
            r->nbad++;
            if (++bad <= BAD_LINES_NAMED)
                fprintf(stderr, "mapguard: %s:%lu: not a mapguard report record%s%s\n", path,
                        lineno, rec ? "" : ": ",
                        rd.overlong ? "line longer than 16 MiB" : rec ? "" : err.text);
            json_decref(rec);
            continue;
        }
        nrec++;
        mg_reports_add(r, rec);
    }
    if (got < 0)
        fprintf(stderr, "mapguard: error reading %s: %s\n", path, strerror(errno));
    if (bad > BAD_LINES_NAMED)
        fprintf(stderr, "mapguard: %s: %lu more lines that are not mapguard report records were "
                        "skipped\n", path, bad - BAD_LINES_NAMED);
    free(rd.blk);
    free(rd.line);
    if (!is_stdin)
        fclose(fp);
    return got < 0 ? -1 : nrec;
}

size_t mg_reports_npids(const mgc_reports *r)
{
    return json_object_size(r->pids);
}

bool mg_reports_has_pid(const mgc_reports *r, long pid)
{
    char k[32];
    pid_key(pid, k, sizeof k);
    return json_object_get(r->pids, k) != NULL;
}

/* Every record of one source file, again, one at a time; crash records
 * and findings written during a crash symbolized as the unique ones were
 * (symbols: when they were). */
static int copy_records(FILE *out, const char *path, size_t flags, mgc_symbols *symbols)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "mapguard: cannot read %s again: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    bool dated = fstat(fileno(fp), &st) == 0;
    line_reader rd = {.fp = fp, .blk = malloc(BLOCK)};
    if (!rd.blk)
        abort();
    int rc = 0, got;
    while ((got = next_line(&rd)) > 0) {
        if (rd.overlong)
            continue;
        json_t *rec = json_loadb(rd.line, rd.len, 0, NULL);
        if (symbols && is_record(rec) && mg_record_is_crash(rec))
            mg_symbolize_crash(symbols, rec, dated ? &st.st_mtim : NULL);
        else if (symbols && is_record(rec) && mg_record_is_finding(rec) && mg_finding_unnamed(rec))
            mg_symbolize_finding(symbols, rec, dated ? &st.st_mtim : NULL);
        if (is_record(rec) && (json_dumpf(rec, out, flags) != 0 || fputc('\n', out) == EOF))
            rc = -1;
        json_decref(rec);
    }
    if (got < 0)
        rc = -1;
    free(rd.blk);
    free(rd.line);
    fclose(fp);
    return rc;
}

int mg_write_jsonl(const char *path, const mgc_reports *r, bool all)
{
    FILE *fp = fopen(path, "w");
    if (!fp) {
        fprintf(stderr, "mapguard: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
    int rc = 0;
    if (all) {
        for (size_t i = 0; i < r->index->nsources; i++)
            if (copy_records(fp, r->index->sources[i], flags, r->index->symbols) != 0)
                rc = -1;
    } else {
        for (size_t i = 0; i < r->nfindings; i++)
            if (json_dumpf(r->findings[i].rec, fp, flags) != 0 || fputc('\n', fp) == EOF)
                rc = -1;
        for (size_t i = 0; i < r->ncrashes; i++)
            if (json_dumpf(r->crashes[i].rec, fp, flags) != 0 || fputc('\n', fp) == EOF)
                rc = -1;
    }
    if (fclose(fp) != 0)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "mapguard: error writing %s: %s\n", path, strerror(errno));
    return rc;
}
