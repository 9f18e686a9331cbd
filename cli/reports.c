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
 */
#include "mapguard.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void mg_reports_init(mg_reports *r)
{
    memset(r, 0, sizeof *r);
    r->records = json_array();
    r->pids = json_object();
}

void mg_reports_free(mg_reports *r)
{
    for (size_t i = 0; i < r->nfindings; i++) {
        json_decref(r->findings[i].rec);
        free(r->findings[i].key);
    }
    free(r->findings);
    json_decref(r->records);
    json_decref(r->pids);
    memset(r, 0, sizeof *r);
}

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
    if (kind && strcmp(kind, "leaked-map") == 0)
        party_site(json_object_get(rec, "map_created"), mc, sizeof mc);

    const char *first = a, *second = b;
    if (mg_kind_is_concurrency(kind) && strcmp(a, b) > 0) {
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

static void note_pid(mg_finding *f, long pid)
{
    for (size_t i = 0; i < f->npids; i++)
        if (f->pids[i] == pid)
            return;
    if (f->npids < sizeof f->pids / sizeof *f->pids)
        f->pids[f->npids++] = pid;
}

void mg_reports_add(mg_reports *r, json_t *rec)
{
    long pid = (long)mg_int(rec, "pid", -1);
    if (pid >= 0) {
        char k[32];
        snprintf(k, sizeof k, "%ld", pid);
        json_object_set_new(r->pids, k, json_true());
    }
    json_array_append(r->records, rec);
    if (!mg_record_is_finding(rec)) {
        json_decref(rec);
        return;
    }
    r->nreports++;
    char *key = finding_key(rec);
    for (size_t i = 0; i < r->nfindings; i++) {
        if (strcmp(r->findings[i].key, key) == 0) {
            r->findings[i].count++;
            note_pid(&r->findings[i], pid);
            free(key);
            json_decref(rec);
            return;
        }
    }
    if (r->nfindings == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        mg_finding *p = realloc(r->findings, cap * sizeof *p);
        if (!p)
            abort();
        r->findings = p;
        r->cap = cap;
    }
    mg_finding *f = &r->findings[r->nfindings++];
    memset(f, 0, sizeof *f);
    f->rec = rec; /* the reference we were given */
    f->key = key;
    f->count = 1;
    note_pid(f, pid);
}

int mg_reports_load(mg_reports *r, const char *path)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!fp)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    while ((len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        size_t sp = strspn(line, " \t");
        if (line[sp] == '\0')
            continue;
        json_error_t err;
        json_t *rec = json_loadb(line, (size_t)len, 0, &err);
        if (!json_is_object(rec) || !mg_str(rec, "kind")) {
            r->nbad++;
            fprintf(stderr, "mapguard: %s:%lu: not a mapguard report record%s%s\n", path,
                    lineno, rec ? "" : ": ", rec ? "" : err.text);
            json_decref(rec);
            continue;
        }
        mg_reports_add(r, rec);
    }
    free(line);
    if (fp != stdin)
        fclose(fp);
    return 0;
}

/*
 * With dedup=1 the detector prints a finding once per process and counts the
 * repeats in its exit summary: {"kind":"summary", "pid", "recurrences":
 * [{"id", "kind", "count", "where"}]}, where id is the "id" of the finding
 * record from the same process. The repeats are folded into the finding that
 * record was merged into, so the text can say how often a bug fired.
 */
static mg_finding *finding_of_record(mg_reports *r, json_t *rec)
{
    char *key = finding_key(rec);
    mg_finding *hit = NULL;
    for (size_t i = 0; i < r->nfindings && !hit; i++)
        if (strcmp(r->findings[i].key, key) == 0)
            hit = &r->findings[i];
    free(key);
    return hit;
}

void mg_reports_apply_summaries(mg_reports *r)
{
    size_t i;
    json_t *sum;
    json_array_foreach(r->records, i, sum) {
        const char *kind = mg_str(sum, "kind");
        if (!kind || strcmp(kind, "summary") != 0)
            continue;
        long long pid = mg_int(sum, "pid", -1);
        json_t *arr = json_object_get(sum, "recurrences");
        size_t j;
        json_t *ent;
        json_array_foreach(arr, j, ent) {
            long long id = mg_int(ent, "id", -1);
            long long n = mg_int(ent, "count", 0);
            if (id < 0 || n <= 1)
                continue;
            size_t k;
            json_t *rec;
            json_array_foreach(r->records, k, rec) {
                if (mg_int(rec, "pid", -2) == pid && mg_int(rec, "id", -2) == id &&
                    mg_record_is_finding(rec)) {
                    mg_finding *f = finding_of_record(r, rec);
                    if (f)
                        f->recurred += (unsigned long)(n - 1);
                    break;
                }
            }
        }
    }
}

size_t mg_reports_npids(const mg_reports *r)
{
    return json_object_size(r->pids);
}

bool mg_reports_has_pid(const mg_reports *r, long pid)
{
    char k[32];
    snprintf(k, sizeof k, "%ld", pid);
    return json_object_get(r->pids, k) != NULL;
}

int mg_write_jsonl(const char *path, const mg_reports *r, bool all)
{
    FILE *fp = fopen(path, "w");
    if (!fp) {
        fprintf(stderr, "mapguard: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
    int rc = 0;
    if (all) {
        size_t i;
        json_t *rec;
        json_array_foreach(r->records, i, rec) {
            if (json_dumpf(rec, fp, flags) != 0 || fputc('\n', fp) == EOF)
                rc = -1;
        }
    } else {
        for (size_t i = 0; i < r->nfindings; i++)
            if (json_dumpf(r->findings[i].rec, fp, flags) != 0 || fputc('\n', fp) == EOF)
                rc = -1;
    }
    if (fclose(fp) != 0)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "mapguard: error writing %s: %s\n", path, strerror(errno));
    return rc;
}
