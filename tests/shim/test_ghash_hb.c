/*
 * GHashTable under happens-before (on by default), against
 * tests/progs/gh_hb.c: races whose calls never overlap in time, in both
 * orders, reported with evidence "unordered", api "ghashtable", both
 * calls' ops and lines; and programs ordered by a pthread mutex, a
 * GRecMutex and g_thread_join, which stay clean. The racy threads hand
 * over with an atomic flag the shim cannot see, so every outcome is the
 * same on every run.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#define PROG "gh_hb"

static void assert_unordered(const char *scenario, const char *kind, const char *access_op, const char *access_site,
                             const char *conflict_op, const char *conflict_site)
{
    struct run r;
    run_prog(&r, PROG, scenario, NULL);
    json_t *f = assert_one_unordered(&r, PROG, scenario, kind, access_op, access_site, conflict_op, conflict_site);
    assert_str(f, "api", "ghashtable");
    cr_assert_eq(r.status, 66, "%s: exit status %d", scenario, r.status);
    run_free(&r);
}

static void assert_clean(const char *scenario)
{
    for (int i = 0; i < 3; i++) {
        struct run r;
        run_prog(&r, PROG, scenario, NULL);
        assert_watched_and_clean(&r, scenario);
        cr_assert_eq(r.status, 0, "%s: exit status %d", scenario, r.status);
        run_free(&r);
    }
}

Test(ghash_hb, lookup_then_insert)
{
    assert_unordered("lookup_then_insert", "concurrent-read-write", "insert", "insert_b", "lookup", "lookup_a");
}

Test(ghash_hb, insert_then_lookup)
{
    assert_unordered("insert_then_lookup", "concurrent-read-write", "lookup", "lookup_b", "insert", "insert_a");
}

Test(ghash_hb, insert_then_insert)
{
    assert_unordered("insert_then_insert", "concurrent-writes", "insert", "insert_b", "insert", "insert_a");
}

/* the first iteration step of the walk in its epoch is the one remembered */
Test(ghash_hb, iteration_then_insert)
{
    assert_unordered("iter_then_insert", "concurrent-iteration-write", "insert", "insert_b", "iter_init",
                     "iter_init_a");
}

Test(ghash_hb, insert_then_iteration)
{
    assert_unordered("insert_then_iter", "concurrent-iteration-write", "iter_init", "iter_init_b", "insert",
                     "insert_a");
}

Test(ghash_hb, foreach_then_remove)
{
    assert_unordered("foreach_then_remove", "concurrent-iteration-write", "remove", "remove_b", "foreach",
                     "foreach_a");
}

Test(ghash_hb, remove_then_foreach)
{
    assert_unordered("remove_then_foreach", "concurrent-iteration-write", "foreach", "foreach_b", "remove",
                     "remove_a");
}

Test(ghash_hb, detached_thread_fills_table_main_reads)
{
    assert_unordered("detached", "concurrent-read-write", "lookup", "det_lookup", "insert", "det_insert");
}

/* The text report says which GLib functions and that nothing ordered them. */
Test(ghash_hb, text_report)
{
    struct run r;
    run_prog_raw(&r, PROG, "insert_then_lookup", "format=text");
    cr_assert(strstr(r.err, "\n  Read (g_hash_table_lookup) by thread "), "%s", r.err);
    cr_assert(strstr(r.err, "\n  The earlier write was not ordered before this read by any lock, join"), "%s",
              r.err);
    run_free(&r);
}

Test(ghash_hb, off_leaves_overlap_only)
{
    struct run r;
    run_prog(&r, PROG, "lookup_then_insert", "happens_before=0");
    assert_watched_and_clean(&r, "lookup_then_insert with happens_before=0");
    run_free(&r);
}

Test(ghash_hb, pthread_mutex_and_grecmutex_are_clean) { assert_clean("mutexes"); }
Test(ghash_hb, g_thread_join_is_clean) { assert_clean("gthread_joined"); }
Test(ghash_hb, a_reference_per_worker_is_clean) { assert_clean("one_ref_per_worker"); }
/* a destroy that is not the last reference merges into the count too */
Test(ghash_hb, destroy_then_another_threads_last_unref_is_clean) { assert_clean("destroy_first"); }
Test(ghash_hb, unref_then_another_threads_last_destroy_is_clean) { assert_clean("destroy_last"); }

/* ---- GLib arriving by dlopen after start (tests/progs/late_glib_hb.c) ----
 * The program does not link GLib: at start the engine has nothing to
 * order, and switches on when the shim first finds GLib late. The worker
 * thread was created before that (its record is made on first use). */

Test(ghash_hb, glib_dlopened_late_is_ordered)
{
    struct run r;
    run_prog(&r, "late_glib_hb", "race", NULL);
    json_t *f = assert_one_unordered(&r, "late_glib_hb", "race", "concurrent-read-write", "lookup", "lookup", "insert",
                                     "insert");
    assert_str(f, "api", "ghashtable");
    cr_assert_eq(r.status, 66, "exit status %d", r.status);
    run_free(&r);
}

Test(ghash_hb, glib_dlopened_late_gmutex_orders)
{
    for (int i = 0; i < 3; i++) {
        struct run r;
        run_prog(&r, "late_glib_hb", "mutex", NULL);
        assert_watched_and_clean(&r, "late_glib_hb mutex");
        cr_assert_eq(r.status, 0, "exit status %d", r.status);
        cr_assert_str_eq(r.out, "found=42\n");
        run_free(&r);
    }
}

/* A table's record is reused by the next table at its address (and, from
 * the pool, by any later table): it starts with no history, so calls on
 * the new table are not ordered against the old one's. */
Test(ghash_hb, a_new_table_at_a_freed_ones_address_starts_clean)
{
    /* GLib's slice allocator on malloc, which hands the freed table's
     * memory to the next one (the test runs in a process of its own) */
    setenv("G_SLICE", "always-malloc", 1);
    struct run r;
    run_prog(&r, PROG, "same_address_starts_clean", "quarantine_size=0");
    cr_assert_eq(r.status, 0, "exit status %d\n%s", r.status, r.err);
    cr_assert_str_eq(r.out, "same=1 size=1\n", "the new table is not at the old one's address: %s", r.out);
    assert_watched_and_clean(&r, "same_address_starts_clean");
    run_free(&r);
}
