/*
 * Accessors for one report record. The detector's format (issue 3) fixes the
 * field names, but a few nested shapes are loose ("created" under a thread,
 * modification/iterator wrapping {thread, stack} in "created"), and frames may
 * carry pc/offset as numbers or "0x..." strings. Every reader -- the text
 * renderer in either library, the CLI's merging and SARIF -- goes through
 * these functions so the tolerance lives in one place and a missing field
 * never crashes the renderer: a report is most needed when something is off.
 */
#include "record_json.h"
#include "stack.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *mg_str(json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

long long mg_int(json_t *obj, const char *key, long long dflt)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        return (long long)json_real_value(v);
    return dflt;
}

json_t *mg_party_stack(json_t *party)
{
    if (json_is_array(party))
        return party;
    if (!json_is_object(party))
        return NULL;
    json_t *s = json_object_get(party, "stack");
    if (json_is_array(s))
        return s;
    json_t *c = json_object_get(party, "created");
    if (json_is_object(c) || json_is_array(c))
        return mg_party_stack(c);
    return NULL;
}

json_t *mg_party_thread(json_t *party)
{
    if (!json_is_object(party))
        return NULL;
    json_t *t = json_object_get(party, "thread");
    if (json_is_object(t))
        return t;
    json_t *c = json_object_get(party, "created");
    return json_is_object(c) ? mg_party_thread(c) : NULL;
}

const char *mg_party_op(json_t *party)
{
    const char *op = mg_str(party, "op");
    if (!op && json_is_object(party))
        op = mg_str(json_object_get(party, "created"), "op");
    return op;
}

void mg_hex_field(json_t *frame, const char *key, char *buf, size_t n)
{
    json_t *v = json_is_object(frame) ? json_object_get(frame, key) : NULL;
    if (json_is_string(v))
        snprintf(buf, n, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, n, "0x%" PRIx64, (uint64_t)json_integer_value(v));
    else
        snprintf(buf, n, "?");
}

static json_t *hex(uintptr_t v)
{
    char b[32];
    snprintf(b, sizeof b, "0x%" PRIxPTR, v);
    return json_string(b);
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

json_t *mg_frame_json(const struct mg_frame *f)
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
