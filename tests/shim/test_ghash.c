/*
 * GLib's GHashTable under the shim (shim/ghash_*.c), against
 * tests/progs/gh_misuse.c, gh_races.c and late_glib.c: every wrapped
 * function in a correct program (no report), each detection with its
 * kind, ops, "api" and the file:line of the frames that matter, and GLib
 * arriving by a dlopen after start.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define MISUSE "gh_misuse"
#define RACES "gh_races"

static json_t *party(json_t *f, const char *name) { return json_object_get(f, name); }
static json_t *stack_of(json_t *p) { return json_object_get(p, "stack"); }
static const char *op_of(json_t *p) { return json_string_value(json_object_get(p, "op")); }

/* The one finding of a run: its kind, api "ghashtable", the access's op
 * and its top frame at the @site access_site of src. */
static json_t *the_finding(const struct run *r, const char *kind, const char *src, const char *op,
                           const char *access_site)
{
    cr_assert_eq(count_kind(r, NULL), 1, "%zu findings\n%s", count_kind(r, NULL), r->err);
    json_t *f = find_kind(r, kind, 0);
    cr_assert(f, "no %s", kind);
    cr_assert_str_eq(json_string_value(json_object_get(f, "api")), "ghashtable");
    cr_assert_str_eq(op_of(party(f, "access")), op);
    assert_frame_at(stack_of(party(f, "access")), 0, src, access_site);
    return f;
}

Test(ghash, every_wrapped_function_in_a_correct_program)
{
    struct run r;
    run_prog(&r, MISUSE, "clean", "detect_leaks=1");
    cr_assert_eq(r.status, 0, "status %d\n%s", r.status, r.err);
    cr_assert_str_eq(r.out, "size=3 lookup=1bis contains=1 extended=1 foreach=3\n"
                            "keys=3 values=3 array=3\n"
                            "find=3\n"
                            "foreach_remove=5 foreach_steal=1\n"
                            "same=1 left=1\n"
                            "done\n");
    assert_watched_and_clean(&r, "clean");
    run_free(&r);
}

/* The shim exports a wrapper for every g_hash_table_* function the
 * installed GLib exports, and links no GLib. */
static char *command_output(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    cr_assert(p, "%s", cmd);
    static char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    buf[n] = 0;
    pclose(p);
    return strdup(buf);
}

Test(ghash, every_exported_function_is_wrapped)
{
    char *glib = command_output("nm -D --defined-only $(pkg-config --variable=libdir glib-2.0)/libglib-2.0.so.0 "
                                "| awk '$3 ~ /^g_hash_table_/ {print $3}' | sort");
    char *shim = command_output("nm -D --defined-only " BUILD_DIR "/lib/libmapguard.so "
                                "| awk '$3 ~ /^g_hash_table_/ {print $3}' | sort");
    cr_assert(strstr(glib, "g_hash_table_insert\n"), "%s", glib);
    for (char *line = strtok(glib, "\n"); line; line = strtok(NULL, "\n")) {
        char want[128];
        snprintf(want, sizeof want, "%s\n", line);
        cr_assert(strstr(shim, want), "%s is not wrapped", line);
    }
    char *needed = command_output("readelf -d " BUILD_DIR "/lib/libmapguard.so");
    cr_assert(!strstr(needed, "glib"), "libmapguard.so links GLib:\n%s", needed);
    free(glib), free(shim), free(needed);
}

/* ---- modified during iteration ---- */

static void check_iter(const char *scenario, const char *pre, const char *mod_op, const char *mod_site)
{
    struct run r;
    run_prog(&r, MISUSE, scenario, NULL);
    char next[32], init[32];
    snprintf(next, sizeof next, "%s_next", pre);
    snprintf(init, sizeof init, "%s_init", pre);
    json_t *f = the_finding(&r, "modified-during-iteration", MISUSE, "iter_next", next);
    json_t *mod = party(f, "modification");
    cr_assert_str_eq(op_of(mod), mod_op);
    assert_frame_at(stack_of(party(mod, "created")), 0, MISUSE, mod_site);
    json_t *it = party(f, "iterator");
    cr_assert_str_eq(op_of(it), "iter_init");
    assert_frame_at(stack_of(party(it, "created")), 0, MISUSE, init);
    assert_frame_at(stack_of(party(f, "map_created")), 0, MISUSE, "made");
    cr_assert_eq(r.status, 66);
    run_free(&r);
}

Test(ghash, insert_during_an_iterator) { check_iter("iter_insert", "ins", "insert", "mod_insert"); }
Test(ghash, remove_of_another_key_during_an_iterator) { check_iter("iter_remove_other", "rem", "remove", "mod_remove"); }

static void check_callback(const char *scenario, const char *op, const char *site, const char *iter_op,
                           const char *iter_site)
{
    struct run r;
    run_prog(&r, MISUSE, scenario, NULL);
    json_t *f = the_finding(&r, "modified-during-iteration", MISUSE, op, site);
    json_t *mod = party(f, "modification");
    cr_assert_str_eq(op_of(mod), op);
    assert_frame_at(stack_of(party(mod, "created")), 0, MISUSE, site);
    json_t *it = party(f, "iterator");
    cr_assert_str_eq(op_of(it), iter_op);
    assert_frame_at(stack_of(party(it, "created")), 0, MISUSE, iter_site);
    /* the callback runs inside GLib's foreach/find, called at iter_site */
    cr_assert(frame_with_function(stack_of(party(f, "access")), iter_op[0] == 'f' && iter_op[1] == 'o'
                                                                     ? "g_hash_table_foreach"
                                                                     : "g_hash_table_find"));
    run_free(&r);
}

Test(ghash, remove_from_a_foreach_callback) { check_callback("foreach_remove_cb", "remove", "cb_remove", "foreach", "cb_foreach"); }
Test(ghash, insert_from_a_find_callback) { check_callback("find_insert_cb", "insert", "cb_insert", "find", "cb_find"); }

/* ---- lifetime ---- */

static void check_freed(const char *scenario, const char *kind, const char *op, const char *site,
                        const char *free_op, const char *free_site)
{
    struct run r;
    run_prog(&r, MISUSE, scenario, NULL);
    json_t *f = the_finding(&r, kind, MISUSE, op, site);
    json_t *freed = party(f, "freed");
    cr_assert_str_eq(op_of(freed), free_op);
    assert_frame_at(stack_of(freed), 0, MISUSE, free_site);
    assert_frame_at(stack_of(party(f, "map_created")), 0, MISUSE, "made");
    cr_assert_eq(r.status, 66);
    run_free(&r);
}

Test(ghash, lookup_after_destroy)
{
    check_freed("use_after_destroy", "use-after-free", "lookup", "uaf_lookup", "destroy", "destroyed");
}

Test(ghash, size_after_the_last_unref)
{
    check_freed("use_after_unref", "use-after-free", "size", "uaf_size", "unref", "last_unref");
}

Test(ghash, destroy_twice) { check_freed("double_destroy", "double-free", "destroy", "second_destroy", "destroy", "first_destroy"); }

/* The freed table never reaches GLib: the lookup returns NULL. */
Test(ghash, a_freed_table_is_not_touched)
{
    struct run r;
    run_prog(&r, MISUSE, "use_after_destroy", NULL);
    cr_assert_str_eq(r.out, "lookup=(nil)\n");
    run_free(&r);
}

/* Every wrapper that touches a table checks it: each call on a destroyed
 * table is reported with its own op, and none reaches GLib. */
Test(ghash, every_op_on_a_destroyed_table)
{
    static const char *const uaf[] = {
        "lookup", "lookup_extended", "contains", "size", "get_keys", "get_values", "get_keys_as_array",
        "new_similar", "insert", "replace", "add", "remove", "steal", "steal_extended", "remove_all",
        "steal_all", "foreach", "find", "foreach_remove", "foreach_steal", "iter_next", "iter_remove",
        "iter_replace", "iter_steal", "iter_init", "ref",
    };
    static const char *const df[] = {"unref", "destroy"};
    struct run r;
    run_prog(&r, MISUSE, "every_op_after_destroy", NULL);
    size_t n_uaf = sizeof uaf / sizeof *uaf, n_df = sizeof df / sizeof *df;
    cr_assert_eq(count_kind(&r, "use-after-free"), n_uaf, "%zu use-after-free\n%s", count_kind(&r, "use-after-free"),
                 r.err);
    cr_assert_eq(count_kind(&r, "double-free"), n_df);
    cr_assert_eq(count_kind(&r, NULL), n_uaf + n_df);
    for (size_t i = 0; i < n_uaf; i++)
        cr_assert_str_eq(op_of(party(find_kind(&r, "use-after-free", i), "access")), uaf[i]);
    for (size_t i = 0; i < n_df; i++) {
        json_t *f = find_kind(&r, "double-free", i);
        cr_assert_str_eq(op_of(party(f, "access")), df[i]);
        cr_assert_str_eq(json_string_value(json_object_get(f, "api")), "ghashtable");
    }
    /* only iter_get_hash_table and ref returned anything */
    cr_assert_str_eq(r.out, "n=2\n");
    run_free(&r);
}

Test(ghash, iterator_on_a_destroyed_table)
{
    struct run r;
    run_prog(&r, MISUSE, "iter_after_destroy", NULL);
    cr_assert_eq(count_kind(&r, "use-after-free"), 2, "%s", r.err);
    cr_assert_str_eq(op_of(party(find_kind(&r, "use-after-free", 0), "access")), "iter_init");
    assert_frame_at(stack_of(party(find_kind(&r, "use-after-free", 0), "access")), 0, MISUSE, "uaf_iter_init");
    cr_assert_str_eq(op_of(party(find_kind(&r, "use-after-free", 1), "access")), "iter_next");
    cr_assert_str_eq(r.out, "steps=0\n");
    run_free(&r);
}

/* ---- keys ---- */

Test(ghash, nan_key_with_g_double_equal)
{
    struct run r;
    run_prog(&r, MISUSE, "nan_key", NULL);
    json_t *f = the_finding(&r, "irreflexive-key", MISUSE, "insert", "nan_insert");
    assert_frame_at(stack_of(party(f, "map_created")), 0, MISUSE, "nan_made");
    run_free(&r);
}

Test(ghash, equal_function_that_says_a_key_differs_from_itself)
{
    struct run r;
    run_prog(&r, MISUSE, "user_irreflexive", NULL);
    the_finding(&r, "irreflexive-key", MISUSE, "add", "irr_add");
    run_free(&r);
}

/* ---- leaks ---- */

Test(ghash, leaked_table_with_detect_leaks)
{
    struct run r;
    run_prog(&r, MISUSE, "leak", "detect_leaks=1");
    json_t *f = the_finding(&r, "leaked-map", MISUSE, "new", "leak_made");
    cr_assert_eq(json_integer_value(json_object_get(f, "count")), 1);
    cr_assert_eq(json_integer_value(json_object_get(f, "entries")), 2);
    run_free(&r);
}

Test(ghash, no_leak_report_without_detect_leaks)
{
    struct run r;
    run_prog(&r, MISUSE, "leak", NULL);
    assert_watched_and_clean(&r, "leak");
    run_free(&r);
}

/* ---- races, made deterministic by a hash function that parks ---- */

static void check_race(const char *scenario, const char *kind, const char *op, const char *site)
{
    struct run r;
    run_prog(&r, RACES, scenario, NULL);
    json_t *f = the_finding(&r, kind, RACES, op, site);
    json_t *c = party(f, "conflict");
    cr_assert_str_eq(op_of(c), "insert");
    assert_frame_at(stack_of(c), 0, RACES, "w_insert");
    /* the writer, still inside, handed its full stack over on its way out */
    cr_assert(json_is_true(json_object_get(c, "stack_complete")), "%s", json_dumps(c, 0));
    cr_assert(frame_with_function(stack_of(c), "start_thread"), "%s", json_dumps(c, 0));
    cr_assert_eq(r.status, 66);
    run_free(&r);
}

Test(ghash, lookup_while_another_thread_inserts, .timeout = 30)
{
    check_race("read_write", "concurrent-read-write", "lookup", "r_lookup");
}

Test(ghash, remove_while_another_thread_inserts, .timeout = 30)
{
    check_race("write_write", "concurrent-writes", "remove", "w_remove");
}

Test(ghash, foreach_while_another_thread_inserts, .timeout = 30)
{
    check_race("iter_write", "concurrent-iteration-write", "foreach", "i_foreach");
}

Test(ghash, the_same_calls_one_after_the_other, .timeout = 30)
{
    struct run r;
    run_prog(&r, RACES, "serial", NULL);
    cr_assert_eq(r.status, 0);
    assert_watched_and_clean(&r, "serial");
    run_free(&r);
}

/* The text report names GLib's function. */
Test(ghash, text_report_names_the_glib_function, .timeout = 30)
{
    struct run r;
    run_prog_raw(&r, RACES, "read_write", "format=text");
    char want[64];
    snprintf(want, sizeof want, "gh_races.c:%d", site_line(RACES, "r_lookup"));
    cr_assert(strstr(r.err, want), "%s", r.err);
    cr_assert(strstr(r.err, "\n  Read (g_hash_table_lookup) by main thread "), "%s", r.err);
    cr_assert(strstr(r.err, "\n  Concurrent write (g_hash_table_insert) by thread "), "%s", r.err);
    /* the fix in GLib's terms */
    cr_assert(strstr(r.err, "\n  Fix: guard every call on this GHashTable with one lock: a GRWLock"), "%s", r.err);
    run_free(&r);
}

/* ---- GLib loaded by a dlopen after start ---- */

Test(ghash, glib_loaded_late_correct_plugin)
{
    struct run r;
    run_prog(&r, "late_glib", "clean", NULL);
    cr_assert_eq(r.status, 0);
    cr_assert_str_eq(r.out, "run=2\n");
    assert_watched_and_clean(&r, "late clean");
    run_free(&r);
}

Test(ghash, glib_loaded_late_calls_are_checked)
{
    struct run r;
    run_prog(&r, "late_glib", "misuse", NULL);
    json_t *f = the_finding(&r, "use-after-free", "lib/gh_plugin", "contains", "plugin_uaf");
    cr_assert_str_eq(op_of(party(f, "freed")), "destroy");
    assert_frame_at(stack_of(party(f, "freed")), 0, "lib/gh_plugin", "plugin_destroy");
    run_free(&r);
}

/* ---- options work unchanged ---- */

static void check_suppressed(const char *prog, const char *scenario, const char *rules, size_t left)
{
    struct run r;
    char opts[512];
    snprintf(opts, sizeof opts, "suppressions=%s", write_temp("supp", rules));
    run_prog(&r, prog, scenario, opts);
    cr_assert_eq(count_kind(&r, NULL), left, "%s with %s: %zu findings", scenario, rules, count_kind(&r, NULL));
    json_t *s = find_summary(&r, 0);
    cr_assert(s);
    if (!left)
        cr_assert_geq(json_integer_value(json_object_get(s, "suppressed")), 1);
    run_free(&r);
}

Test(ghash, suppressions, .timeout = 60)
{
    check_suppressed(MISUSE, "use_after_destroy", "use-after-free:use_after_destroy\n", 0);
    check_suppressed(MISUSE, "use_after_destroy", "double-free:use_after_destroy\n", 1);
    check_suppressed(RACES, "read_write", "race:writer\n", 0); /* the conflict's frame */
    check_suppressed(RACES, "read_write", "concurrent-writes:writer\n", 1);
}

Test(ghash, halt_on_error_stops_at_the_first_report)
{
    struct run r;
    run_prog(&r, MISUSE, "iter_after_destroy", "halt_on_error=1");
    cr_assert_eq(count_kind(&r, NULL), 1);
    cr_assert_str_eq(op_of(party(find_kind(&r, NULL, 0), "access")), "iter_init");
    cr_assert_eq(r.status, 66);
    cr_assert(!strstr(r.out, "steps="), "stdout: %s", r.out);
    run_free(&r);
}

/* ---- the side table's bound ---- */

Test(ghash, more_tables_than_the_bound, .timeout = 60)
{
    struct run r;
    run_prog(&r, MISUSE, "many_tables", "detect_leaks=1:verbosity=1");
    cr_assert_eq(r.status, 0, "status %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "GHashTable side table full"), "the bound was not reached: %s", r.err);
    cr_assert_str_eq(r.out, "found=120000\n");
    assert_watched_and_clean(&r, "many_tables");
    run_free(&r);
}

Test(ghash, tables_past_the_bound_and_gone_leave_room, .timeout = 60)
{
    check_freed("many_tables_then_use_after_destroy", "use-after-free", "lookup", "uaf_lookup", "destroy",
                "destroyed");
}

Test(ghash, threads_with_tables_of_their_own, .timeout = 60)
{
    struct run r;
    run_prog(&r, RACES, "threads_own_tables", NULL);
    cr_assert_eq(r.status, 0, "status %d\n%s", r.status, r.err);
    cr_assert_str_eq(r.out, "done\n");
    assert_watched_and_clean(&r, "threads_own_tables");
    run_free(&r);
}

/* ---- GLib's own tools ---- */

/* Output and status as without the shim, and no finding, not even a
 * leak: libgio's and libgobject's tables are checked, and the ones they
 * keep for the process's lifetime are not leaks. */
static void check_tool(const char *tool, const char *args)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s %s 2>/dev/null", tool, args);
    FILE *p = popen(cmd, "r");
    cr_assert(p, "%s", cmd);
    static char plain[1 << 16];
    size_t n = fread(plain, 1, sizeof plain - 1, p);
    plain[n] = 0;
    int st = pclose(p);
    struct run r;
    run_prog(&r, tool, args, "detect_leaks=1");
    cr_assert_eq(r.status, WEXITSTATUS(st), "%s: status %d, %d without the shim\n%s", cmd, r.status, WEXITSTATUS(st),
                 r.err);
    cr_assert_str_eq(r.out, plain, "%s: the output differs from the run without the shim", cmd);
    assert_watched_and_clean(&r, cmd);
    run_free(&r);
}

Test(ghash, glib_tools_run_as_without_the_shim, .timeout = 120)
{
    check_tool("/usr/bin/gio", "info /etc/hostname");
    check_tool("/usr/bin/gio", "list /usr/share/glib-2.0/schemas");
    check_tool("/usr/bin/gsettings", "list-schemas");
    check_tool("/usr/bin/gsettings", "list-recursively org.gnome.desktop.a11y");
    check_tool("/usr/bin/gdbus", "introspect --session --dest org.example --object-path /"); /* no bus: an error */
}
