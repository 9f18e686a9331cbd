/*
 * Single-thread misuse: iteration, nil writes, freed maps, irreflexive
 * keys, leaks; against mg_misuse.c.
 */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define PROG "mg_misuse"

static json_t *access_stack(json_t *f) { return json_object_get(json_object_get(f, "access"), "stack"); }

static const char *op_of(json_t *party) { return json_string_value(json_object_get(party, "op")); }

static void check_mod_iter(const char *scenario, const char *pre, const char *mod_site, const char *mod_op)
{
    struct run r;
    run_prog(&r, PROG, scenario, NULL);
    cr_assert_eq(count_kind(&r, NULL), 1, "%s: %zu findings", scenario, count_kind(&r, NULL));
    json_t *f = find_kind(&r, "modified-during-iteration", 0);
    cr_assert(f);
    cr_assert_str_eq(op_of(json_object_get(f, "access")), "iter_next");
    char next[32], init[32];
    snprintf(next, sizeof next, "%s_next", pre);
    snprintf(init, sizeof init, "%s_init", pre);
    assert_frame_at(access_stack(f), 0, PROG, next);
    json_t *mod = json_object_get(f, "modification");
    cr_assert_str_eq(op_of(mod), mod_op);
    assert_frame_at(json_object_get(json_object_get(mod, "created"), "stack"), 0, PROG, mod_site);
    json_t *it = json_object_get(json_object_get(f, "iterator"), "created");
    assert_frame_at(json_object_get(it, "stack"), 0, PROG, init);
    assert_frame_at(json_object_get(json_object_get(f, "map_created"), "stack"), 0, PROG, "made");
    cr_assert_eq(r.status, 66);
    run_free(&r);
}

Test(misuse, insert_while_ranging) { check_mod_iter("iter_insert", "ins", "mod_insert", "set"); }
Test(misuse, delete_while_ranging) { check_mod_iter("iter_delete_other", "del", "mod_delete", "delete"); }
Test(misuse, clear_while_ranging) { check_mod_iter("iter_clear", "clr", "mod_clear", "clear"); }

static void check_nil(const char *scenario, const char *op, const char *site, const char *stdout_text)
{
    struct run r;
    run_prog(&r, PROG, scenario, NULL);
    json_t *f = find_kind(&r, "nil-map-write", 0);
    cr_assert(f, "no nil-map-write");
    cr_assert_eq(count_kind(&r, NULL), 1);
    cr_assert_str_eq(json_string_value(json_object_get(f, "map")), "0x0");
    cr_assert_str_eq(op_of(json_object_get(f, "access")), op);
    assert_frame_at(access_stack(f), 0, PROG, site);
    /* the call still behaves as on the nil map */
    cr_assert(strstr(r.out, stdout_text), "stdout: %s", r.out);
    run_free(&r);
}

Test(misuse, set_on_nil_map) { check_nil("nil_set", "set", "nil_set", "set=-1"); }
Test(misuse, assign_on_nil_map) { check_nil("nil_assign", "assign", "nil_assign", "assign=(nil)"); }

Test(misuse, every_op_on_a_freed_map)
{
    static const char *ops[][2] = {
        {"get", "uaf_get"},       {"lookup", "uaf_lookup"}, {"len", "uaf_len"},
        {"set", "uaf_set"},       {"assign", "uaf_assign"}, {"delete", "uaf_delete"},
        {"clear", "uaf_clear"},   {"iter_init", "uaf_iter_init"},
    };
    struct run r;
    run_prog(&r, PROG, "use_after_free", NULL);
    size_t n = sizeof ops / sizeof ops[0];
    cr_assert_eq(count_kind(&r, "use-after-free"), n, "%zu use-after-free findings", count_kind(&r, "use-after-free"));
    for (size_t i = 0; i < n; i++) {
        json_t *f = find_kind(&r, "use-after-free", i);
        cr_assert_str_eq(op_of(json_object_get(f, "access")), ops[i][0]);
        assert_frame_at(access_stack(f), 0, PROG, ops[i][1]);
        assert_frame_at(json_object_get(json_object_get(f, "freed"), "stack"), 0, PROG, "uaf_free");
        assert_frame_at(json_object_get(json_object_get(f, "map_created"), "stack"), 0, PROG, "made");
    }
    /* and every call acted as on the nil map */
    cr_assert(strstr(r.out, "get=(nil) lookup=0 v=5 len=0 set=-1 assign=(nil) delete=0 next=0"), "%s", r.out);
    run_free(&r);
}

Test(misuse, iterating_a_map_freed_meanwhile)
{
    struct run r;
    run_prog(&r, PROG, "iter_after_free", NULL);
    json_t *f = find_kind(&r, "use-after-free", 0);
    cr_assert(f);
    cr_assert_str_eq(op_of(json_object_get(f, "access")), "iter_next");
    assert_frame_at(access_stack(f), 0, PROG, "uaf_iter_next");
    assert_frame_at(json_object_get(json_object_get(f, "freed"), "stack"), 0, PROG, "iaf_free");
    cr_assert(strstr(r.out, "next=0"));
    run_free(&r);
}

Test(misuse, double_free)
{
    struct run r;
    run_prog(&r, PROG, "double_free", NULL);
    cr_assert_eq(count_kind(&r, NULL), 1);
    json_t *f = find_kind(&r, "double-free", 0);
    cr_assert(f);
    cr_assert_str_eq(op_of(json_object_get(f, "access")), "free");
    assert_frame_at(access_stack(f), 0, PROG, "double_free");
    assert_frame_at(json_object_get(json_object_get(f, "freed"), "stack"), 0, PROG, "df_free");
    run_free(&r);
}

Test(misuse, nan_key)
{
    struct run r;
    run_prog(&r, PROG, "irreflexive", NULL);
    cr_assert_eq(count_kind(&r, NULL), 1);
    json_t *f = find_kind(&r, "irreflexive-key", 0);
    cr_assert(f);
    cr_assert_str_eq(op_of(json_object_get(f, "access")), "set");
    assert_frame_at(access_stack(f), 0, PROG, "nan_set");
    assert_frame_at(json_object_get(json_object_get(f, "map_created"), "stack"), 0, PROG, "made_f64");
    cr_assert(strstr(r.out, "len=4"), "NaN inserts still happen: %s", r.out);
    json_t *s = find_summary(&r, 0);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(json_object_get(s, "recurrences"), 0), "count")), 3);
    run_free(&r);
}

Test(misuse, leaks_grouped_by_creation_stack)
{
    struct run r;
    run_prog(&r, PROG, "leak", "detect_leaks=1");
    cr_assert_eq(count_kind(&r, "leaked-map"), 2, "%s", json_dumps(r.lines, JSON_INDENT(1)));
    json_t *reset = NULL, *other = NULL;
    for (size_t i = 0; i < 2; i++) {
        json_t *f = find_kind(&r, "leaked-map", i);
        json_t *st = json_object_get(json_object_get(f, "map_created"), "stack");
        int line = (int)json_integer_value(json_object_get(json_array_get(st, 0), "line"));
        if (line == site_line(PROG, "leak_new"))
            reset = f;
        else
            other = f;
    }
    cr_assert(reset && other);
    cr_assert_eq(json_integer_value(json_object_get(reset, "count")), 3);
    cr_assert_eq(json_integer_value(json_object_get(reset, "entries")), 6);
    cr_assert_str_eq(op_of(json_object_get(reset, "access")), "new");
    json_t *st = json_object_get(json_object_get(reset, "access"), "stack");
    assert_frame_at(st, 0, PROG, "leak_new");
    cr_assert(json_array_size(st) > 2, "leaks carry the full creation stack");
    cr_assert_eq(json_integer_value(json_object_get(other, "count")), 1);
    cr_assert_eq(json_integer_value(json_object_get(other, "entries")), 0);
    assert_frame_at(json_object_get(json_object_get(other, "access"), "stack"), 0, PROG, "leak_other");
    run_free(&r);
}

Test(misuse, leaks_unreported_by_default)
{
    struct run r;
    run_prog(&r, PROG, "leak", NULL);
    assert_watched_and_clean(&r, "leaks without detect_leaks");
    cr_assert_eq(r.status, 0);
    run_free(&r);
}

Test(misuse, calls_from_a_hash_callback)
{
    struct run r;
    run_prog(&r, PROG, "nested", NULL);
    /* the same map read by its own writer's callback is no race; the nil
     * map written from the callback is found, with the callback first and
     * the application's outer call next (library and shim frames dropped) */
    cr_assert_eq(count_kind(&r, NULL), 1, "%s", json_dumps(r.lines, JSON_INDENT(1)));
    json_t *f = find_kind(&r, "nil-map-write", 0);
    cr_assert(f);
    assert_frame_at(access_stack(f), 0, PROG, "nested_nil");
    assert_frame_at(access_stack(f), 1, PROG, "nested_outer");
    cr_assert(strstr(r.out, "len=1"), "%s", r.out);
    run_free(&r);
}

/* The first reports of a process load libunwind and the symbolizer: errno
 * stays the program's, and the files the symbolizer keeps open (the
 * modules, their debug files) are close-on-exec and kept above half the
 * descriptor limit, out of the numbers the program's own open() returns.
 * (libunwind's two pipes, close-on-exec, are where libunwind puts them.) */
Test(misuse, first_reports_keep_errno_and_the_programs_descriptors)
{
    struct run r;
    run_prog(&r, PROG, "errno_and_fds", NULL);
    cr_assert_eq(count_kind(&r, "nil-map-write"), 1, "%s", r.err);
    cr_assert_eq(count_kind(&r, "use-after-free"), 1, "%s", r.err);
    cr_assert(strstr(r.out, "errno after nil=4242\n"), "stdout: %s", r.out);
    cr_assert(strstr(r.out, "errno after uaf=4343\n"), "stdout: %s", r.out);
    cr_assert(strstr(r.out, ".debug") || strstr(r.out, "libc.so"), "the symbolizer's files are listed: %s", r.out);
    cr_assert_null(strstr(r.out, "cloexec=0"), "a descriptor of ours would outlive an exec:\n%s", r.out);
    cr_assert_null(strstr(r.out, "low_file=1"), "a file of ours among the low numbers:\n%s", r.out);
    run_free(&r);
}
