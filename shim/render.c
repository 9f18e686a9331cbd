/*
 * Findings as JSON objects built with jansson, their text rendering
 * (shortened to a bound when asked, by dropping frames), and the summary
 * with recurrences: the part of reporting that needs jansson, built into
 * libmapguard-symbolize.so so that libmapguard.so does not link it
 * (render.h says why). Everything
 * from the shim comes through struct mg_render_host; calls come with the
 * symbolization lock held, which also guards H.
 */
#include "render.h"

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
            json_array_append_new(a, frame_json(&fr[j]));
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
    json_object_set_new(o, "kind", json_string(H->kind_name(f->kind)));
    json_object_set_new(o, "message", json_string(H->kind_message(f->kind)));
    json_object_set_new(o, "pid", json_integer(getpid()));
    json_object_set_new(o, "map", hex((uintptr_t)f->map));
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
    return o;
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
    if (json_is_true(json_object_get(o, "truncated")))
        fprintf(out, "  (frames dropped to keep the report within PIPE_BUF bytes)\n\n");
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


/* One line of JSON ending in "\n", or the text rendering. */
static char *render(json_t *o, bool text)
{
    char *s = text ? render_text(o) : json_dumps(o, JSON_COMPACT);
    if (!s || text)
        return s;
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
        json_object_set_new(r, "where", json_string(rec[j].where ? rec[j].where : "?"));
        json_array_append_new(a, r);
    }
    json_object_set_new(o, "recurrences", a);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
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

MG_EXPORT const struct mg_renderer mg_renderer_v2 = {
    .finding = finding,
    .summary = summary,
};
