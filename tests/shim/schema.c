/*
 * A JSON Schema validator for the subset docs/mapguard-report.schema.json
 * uses: type, enum, const, pattern, minimum, minItems, properties,
 * required, additionalProperties (false or a schema), items, allOf, anyOf,
 * oneOf and local $ref ("#/$defs/..."). Written against jansson so the
 * tests check every report in-process, with no other tool installed; a
 * keyword outside the subset fails validation, so the schema cannot
 * quietly grow past what is checked.
 */
#include "harness.h"

#include <regex.h>
#include <stdio.h>
#include <string.h>

static const char *const known[] = {
    "$schema", "$id", "title", "description", "$defs", "$ref", "type", "enum", "const", "pattern",
    "minimum", "minItems", "properties", "required", "additionalProperties", "items", "allOf", "anyOf",
    "oneOf", NULL,
};

static bool fail(char *err, size_t len, const char *path, const char *what)
{
    if (err && len)
        snprintf(err, len, "%s: %s", path[0] ? path : "(top)", what);
    return false;
}

static bool type_ok(const char *t, json_t *v)
{
    if (!strcmp(t, "object"))
        return json_is_object(v);
    if (!strcmp(t, "array"))
        return json_is_array(v);
    if (!strcmp(t, "string"))
        return json_is_string(v);
    if (!strcmp(t, "integer"))
        return json_is_integer(v);
    if (!strcmp(t, "number"))
        return json_is_number(v);
    if (!strcmp(t, "boolean"))
        return json_is_boolean(v);
    if (!strcmp(t, "null"))
        return json_is_null(v);
    return false;
}

static bool check(json_t *root, json_t *s, json_t *v, const char *path, char *err, size_t len);

static json_t *resolve(json_t *root, const char *ref)
{
    if (strncmp(ref, "#/", 2) != 0)
        return NULL;
    json_t *cur = root;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", ref + 2);
    for (char *save, *tok = strtok_r(buf, "/", &save); tok && cur; tok = strtok_r(NULL, "/", &save))
        cur = json_object_get(cur, tok);
    return cur;
}

static bool check(json_t *root, json_t *s, json_t *v, const char *path, char *err, size_t len)
{
    char sub[512];
    const char *key;
    json_t *val;
    json_object_foreach(s, key, val) {
        bool ok = false;
        for (int i = 0; known[i]; i++)
            ok |= !strcmp(key, known[i]);
        if (!ok)
            return fail(err, len, path, "schema uses a keyword the test validator does not implement");
    }
    json_t *k;
    if ((k = json_object_get(s, "$ref"))) {
        json_t *target = resolve(root, json_string_value(k));
        if (!target)
            return fail(err, len, path, "unresolvable $ref");
        if (!check(root, target, v, path, err, len))
            return false;
    }
    if ((k = json_object_get(s, "type"))) {
        bool ok = false;
        if (json_is_string(k)) {
            ok = type_ok(json_string_value(k), v);
        } else {
            size_t i;
            json_t *t;
            json_array_foreach(k, i, t) ok |= type_ok(json_string_value(t), v);
        }
        if (!ok)
            return fail(err, len, path, "wrong type");
    }
    if ((k = json_object_get(s, "enum"))) {
        bool ok = false;
        size_t i;
        json_t *e;
        json_array_foreach(k, i, e) ok |= json_equal(e, v);
        if (!ok)
            return fail(err, len, path, "not one of the enum values");
    }
    if ((k = json_object_get(s, "const")) && !json_equal(k, v))
        return fail(err, len, path, "not the const value");
    if ((k = json_object_get(s, "pattern")) && json_is_string(v)) {
        regex_t re;
        if (regcomp(&re, json_string_value(k), REG_EXTENDED | REG_NOSUB) != 0)
            return fail(err, len, path, "bad pattern in schema");
        int r = regexec(&re, json_string_value(v), 0, NULL, 0);
        regfree(&re);
        if (r != 0)
            return fail(err, len, path, "does not match pattern");
    }
    if ((k = json_object_get(s, "minimum")) && json_is_number(v) && json_number_value(v) < json_number_value(k))
        return fail(err, len, path, "below minimum");
    if ((k = json_object_get(s, "minItems")) && json_is_array(v) &&
        (json_int_t)json_array_size(v) < json_integer_value(k))
        return fail(err, len, path, "too few items");
    if (json_is_object(v)) {
        json_t *props = json_object_get(s, "properties");
        if ((k = json_object_get(s, "required"))) {
            size_t i;
            json_t *r;
            json_array_foreach(k, i, r) if (!json_object_get(v, json_string_value(r))) {
                snprintf(sub, sizeof sub, "missing required property '%s'", json_string_value(r));
                return fail(err, len, path, sub);
            }
        }
        json_t *extra = json_object_get(s, "additionalProperties");
        json_object_foreach(v, key, val) {
            snprintf(sub, sizeof sub, "%s.%s", path, key);
            json_t *ps = props ? json_object_get(props, key) : NULL;
            if (ps) {
                if (!check(root, ps, val, sub, err, len))
                    return false;
            } else if (json_is_false(extra)) {
                return fail(err, len, sub, "property not allowed");
            } else if (json_is_object(extra) && !check(root, extra, val, sub, err, len)) {
                return false;
            }
        }
    }
    if ((k = json_object_get(s, "items")) && json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            if (!check(root, k, item, sub, err, len))
                return false;
        }
    }
    if ((k = json_object_get(s, "allOf"))) {
        size_t i;
        json_t *x;
        json_array_foreach(k, i, x) if (!check(root, x, v, path, err, len)) return false;
    }
    if ((k = json_object_get(s, "anyOf"))) {
        size_t i;
        json_t *x;
        bool ok = false;
        json_array_foreach(k, i, x) ok |= check(root, x, v, path, NULL, 0);
        if (!ok)
            return fail(err, len, path, "matches none of anyOf");
    }
    if ((k = json_object_get(s, "oneOf"))) {
        size_t i;
        json_t *x;
        int n = 0;
        char first[512] = "";
        json_array_foreach(k, i, x) {
            char e[512] = "";
            if (check(root, x, v, path, e, sizeof e))
                n++;
            else if (!first[0])
                snprintf(first, sizeof first, "%s", e);
        }
        if (n != 1) {
            snprintf(sub, sizeof sub, "matches %d of oneOf (first failure: %s)", n, first);
            return fail(err, len, path, sub);
        }
    }
    return true;
}

static json_t *schema;

bool schema_validate(json_t *v, char *err, size_t len)
{
    if (!schema) {
        json_error_t je;
        schema = json_load_file(SRC_DIR "/docs/mapguard-report.schema.json", 0, &je);
        if (!schema) {
            snprintf(err, len, "cannot load schema: %s (line %d)", je.text, je.line);
            return false;
        }
    }
    return check(schema, schema, v, "", err, len);
}
