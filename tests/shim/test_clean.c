/*
 * Correct programs produce no finding and keep their exit status. With a
 * log file, the log holds only the records that prove the program was
 * watched (hello, and the summary with nothing found); on stderr, the
 * default, the shim writes nothing at all.
 */
#include "harness.h"

static void assert_silent(const char *scenario, const char *opts)
{
    struct run r;
    run_prog(&r, "mg_clean", scenario, opts);
    assert_watched_and_clean(&r, scenario);
    cr_assert_eq(r.status, 0, "%s: exit status %d\n%s", scenario, r.status, r.err);
    cr_assert_str_empty(r.err, "%s: stderr: %s", scenario, r.err);
    run_free(&r);
}

Test(clean, mutex) { assert_silent("mutex", NULL); }
Test(clean, rwlock_with_overlapping_readers) { assert_silent("rwlock", NULL); }
Test(clean, c11_mtx_and_thrd_create) { assert_silent("c11", NULL); }
Test(clean, fork) { assert_silent("fork", NULL); }
Test(clean, threads64) { assert_silent("threads64", NULL); }
Test(clean, create_join_handoff) { assert_silent("handoff", NULL); }
Test(clean, iter_delete_while_ranging) { assert_silent("iter_delete", NULL); }
Test(clean, value_updates_while_ranging) { assert_silent("value_updates", NULL); }
Test(clean, break_then_modify) { assert_silent("break_then_modify", NULL); }
Test(clean, an_ended_iteration_asked_again_after_a_write) { assert_silent("ended_then_write", NULL); }
Test(clean, nil_map_reads) { assert_silent("nil_reads", NULL); }
Test(clean, key_helpers_pass_through) { assert_silent("helpers", NULL); }
Test(clean, map_churn_through_quarantine) { assert_silent("churn", NULL); }
Test(clean, map_churn_without_quarantine) { assert_silent("churn", "quarantine_size=0"); }
Test(clean, leak_check_on_a_program_that_frees) { assert_silent("handoff", "detect_leaks=1"); }

/* Without log_path the shim is invisible in a clean run: not a byte on
 * stderr or stdout, no file. */
Test(clean, nothing_at_all_on_stderr_or_stdout)
{
    const char *opts[] = {NULL, "log_path=stderr", "log_path=stdout"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        struct run r;
        run_prog_raw(&r, "mg_clean", "fork", opts[i]);
        cr_assert_str_empty(r.err, "%s: stderr: %s", opts[i] ? opts[i] : "default", r.err);
        cr_assert_str_empty(r.out, "%s: stdout: %s", opts[i] ? opts[i] : "default", r.out);
        cr_assert_eq(r.nfiles, 0);
        cr_assert_eq(r.status, 0);
        run_free(&r);
    }
}
