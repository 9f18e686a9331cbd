/*
 * Findings as JSON objects built with jansson, their text rendering
 * (finding_text.c, the CLI's; shortened to a bound when asked, by dropping
 * frames), and the summary
 * with recurrences: the part of reporting that needs jansson, built into
 * libmapguard-symbolize.so so that libmapguard.so does not link it
 * (render.h says why). Everything
 * from the shim comes through struct mg_render_host; calls come with the
 * symbolization lock held, which also guards H.
 */
#include "render.h"
#include "gomap_api.h"
#include "ghash_ops.h"
#include "finding_text.h"
#include "record_json.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct mg_render_host *H;

static json_t *hex(uintptr_t v)
{
    char b[32];
    snprintf(b, sizeof b, "0x%" PRIxPTR, v);
    return json_string(b);
}

/* Call with the symbolizer lock held. */
static json_t *stack_json(uint32_t stack, uintptr_t pc)
{
    json_t *a = json_array();
    const uintptr_t *pcs;
    int n;
    uintptr_t one[1] = {pc};
    if (!stack || !H->depot_get(stack, &pcs, &n)) {
        if (!pc)
            return a;
        pcs = one;
        n = 1;
    }
    for (int i = 0; i < n; i++) {
        const struct mg_frame *fr;
        int k = H->symbolize(pcs[i], &fr);
        for (int j = 0; j < k; j++)
            json_array_append_new(a, mg_frame_json(&fr[j]));
    }
    return a;
}

static json_t *thread_json(uint32_t idx)
{
    uint32_t tid, created;
    char name[64];
    H->thread(idx, &tid, &created, name, sizeof name);
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
        json_object_set_new(o, "op", json_string(H->op_name(p->op)));
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
    json_object_set_new(o, "kind", json_string(mg_kind_name(f->kind)));
    json_object_set_new(o, "message", json_string(mg_kinds[f->kind].message));
    json_object_set_new(o, "pid", json_integer(getpid()));
    json_object_set_new(o, "map", hex((uintptr_t)f->map));
    json_object_set_new(o, "api", json_string(mg_op_api(f->access.op)));
    json_object_set_new(o, "access", party_json(&f->access, true, false));
    switch (f->kind) {
    case MK_READ_WRITE:
    case MK_WRITES:
    case MK_ITER_WRITE:
        json_object_set_new(o, "conflict", party_json(&f->other, true, true));
        json_object_set_new(o, "evidence", json_string(f->evidence == MG_EVIDENCE_UNORDERED ? "unordered" : "overlap"));
        break;
    case MK_MOD_ITER: {
        json_t *mod = created_json(&f->other);
        json_object_set_new(mod, "op", json_string(H->op_name(f->other.op)));
        json_object_set_new(o, "modification", mod);
        json_t *it = created_json(&f->iter);
        if (mg_op_is_ghash(f->iter.op)) /* GLib's iterations start in several ways */
            json_object_set_new(it, "op", json_string(H->op_name(f->iter.op)));
        json_object_set_new(o, "iterator", it);
        break;
    }
    case MK_USE_AFTER_FREE:
    case MK_DOUBLE_FREE:
        /* GLib frees by destroy or the last unref: named */
        json_object_set_new(o, "freed", party_json(&f->other, mg_op_is_ghash(f->other.op), false));
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
    return o;
}

/* The finding's block as the CLI prints it (finding_text.c). */
static char *render_text(json_t *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out)
        return NULL;
    mg_text_finding(out, o, NULL);
    if (fclose(out) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
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


/* o as one line of JSON ending in "\n"; NULL when memory ran out. */
static char *json_line(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        return NULL;
    }
    t[n] = '\n';
    t[n + 1] = 0;
    return t;
}

/* One line of JSON ending in "\n", or the text rendering. */
static char *render(json_t *o, bool text) { return text ? render_text(o) : json_line(o); }

/* The stacks of o that may lose frames, in the order they lose them: the
 * threads' creation stacks, then the sites and the other party, the access
 * last, since it says where the application went wrong. */
static size_t stacks_in_order(json_t *o, json_t **out)
{
    json_t *parties[] = {
        json_object_get(o, "map_created"),
        json_object_get(o, "freed"),
        json_object_get(json_object_get(o, "iterator"), "created"),
        json_object_get(json_object_get(o, "modification"), "created"),
        json_object_get(o, "conflict"),
        json_object_get(o, "access"),
    };
    size_t n = 0, np = sizeof parties / sizeof parties[0];
    for (size_t i = 0; i < np; i++) {
        json_t *c = json_object_get(json_object_get(parties[i], "thread"), "created");
        if (json_is_array(c))
            out[n++] = c;
    }
    for (size_t i = 0; i < np; i++) {
        json_t *st = json_object_get(parties[i], "stack");
        if (json_is_array(st))
            out[n++] = st;
    }
    return n;
}

/* Drops the deepest frames of the stacks, in order, keeping each stack's
 * first, until about excess bytes are gone; false when none was left to
 * drop. */
static bool drop_frames(json_t **stacks, size_t n, size_t excess)
{
    bool dropped = false;
    for (size_t i = 0; i < n && excess > 0; i++) {
        size_t k;
        while (excess > 0 && (k = json_array_size(stacks[i])) > 1) {
            size_t fs = json_dumpb(json_array_get(stacks[i], k - 1), NULL, 0, JSON_COMPACT) + 1;
            json_array_remove(stacks[i], k - 1);
            excess = fs >= excess ? 0 : excess - fs;
            dropped = true;
        }
    }
    return dropped;
}

/* Last resort, when the first frames alone are too long (names of
 * kilobytes): they keep their addresses only. */
static void strip_names(json_t **stacks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t j;
        json_t *fr;
        json_array_foreach(stacks[i], j, fr) {
            json_object_set_new(fr, "module", json_null());
            json_object_set_new(fr, "function", json_null());
            json_object_set_new(fr, "file", json_null());
            json_object_set_new(fr, "line", json_null());
            json_object_del(fr, "column");
        }
    }
}

static char *finding(const struct mg_render_host *h, const struct mg_finding *f, bool text, size_t max_len,
                     char **where)
{
    H = h;
    *where = NULL;
    json_t *o = build(f);
    if (!o)
        return NULL;
    char *s = render(o, text);
    if (s)
        *where = where_of(o);
    if (s && max_len && strlen(s) > max_len) {
        json_object_set_new(o, "truncated", json_true());
        json_t *stacks[12];
        size_t n = stacks_in_order(o, stacks);
        bool stripped = false;
        for (size_t len; s && (len = strlen(s)) > max_len;) {
            if (!drop_frames(stacks, n, len - max_len)) {
                if (stripped)
                    break;
                strip_names(stacks, n);
                stripped = true;
            }
            free(s);
            s = render(o, text);
        }
    }
    json_decref(o);
    if (!s) {
        free(*where);
        *where = NULL;
    }
    return s;
}

static char *summary(long long pid, unsigned findings, unsigned occurrences, unsigned repeats, unsigned suppressed,
                     const struct mg_recurrence *rec, size_t nrec)
{
    json_t *o = json_object();
    char msg[128];
    snprintf(msg, sizeof msg, "mapguard: %u finding(s) reported, %u repeat(s), %u suppressed", findings, repeats,
             suppressed);
    json_object_set_new(o, "kind", json_string("summary"));
    json_object_set_new(o, "message", json_string(msg));
    json_object_set_new(o, "pid", json_integer(pid));
    json_object_set_new(o, "findings", json_integer(findings));
    json_object_set_new(o, "occurrences", json_integer(occurrences));
    json_object_set_new(o, "repeats", json_integer(repeats));
    json_object_set_new(o, "suppressed", json_integer(suppressed));
    json_t *a = json_array();
    for (size_t j = 0; j < nrec; j++) {
        json_t *r = json_object();
        json_object_set_new(r, "id", json_integer(rec[j].id));
        json_object_set_new(r, "kind", json_string(rec[j].kind));
        json_object_set_new(r, "count", json_integer(rec[j].count));
        json_object_set_new(r, "records", json_integer(rec[j].records));
        json_object_set_new(r, "where", json_string(rec[j].where ? rec[j].where : "?"));
        json_array_append_new(a, r);
    }
    json_object_set_new(o, "recurrences", a);
    char *t = json_line(o);
    json_decref(o);
    return t;
}

MG_EXPORT const struct mg_renderer mg_renderer_v4 = {
    .finding = finding,
    .summary = summary,
};
