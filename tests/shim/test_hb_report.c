/*
 * An unordered race (happens-before) is handled as an overlap race is:
 * halt_on_error stops at it, suppressions drop it (by the later call's
 * stack and by the earlier call's site), dedup keeps one report per pair
 * of sites, and the text format says why it is a race.
 */
#include "harness.h"

#include <string.h>

#define PROG "mg_hb"

Test(hb_report, halt_on_error_stops_at_an_unordered_race)
{
    struct run r;
    run_prog(&r, PROG, "s22", "halt_on_error=1");
    cr_assert_eq(count_kind(&r, NULL), 1, "%s", r.err);
    cr_assert_eq(count_summaries(&r), 1, "the summary is written before halting");
    cr_assert_eq(r.status, 66, "exit status %d", r.status);
    run_free(&r);
}

static void suppressed(const char *rules, size_t left)
{
    char opts[512];
    snprintf(opts, sizeof opts, "suppressions=%s", write_temp("supp", rules));
    struct run r;
    run_prog(&r, PROG, "s22", opts);
    cr_assert_eq(count_kind(&r, NULL), left, "'%s': %zu findings\n%s", rules, count_kind(&r, NULL), r.err);
    cr_assert_eq(r.status, left ? 66 : 0, "'%s': exit status %d", rules, r.status);
    run_free(&r);
}

Test(hb_report, suppressions_apply_to_unordered_races)
{
    suppressed("concurrent-read-write:s22_writer\n", 0); /* the later call's stack */
    suppressed("race:s22_writer\n", 0);
    suppressed("concurrent-writes:s22_writer\n", 1);     /* another kind */
}

/* 1000 reads then 1000 writes: one report for the pair of sites, however
 * many calls repeat it. */
Test(hb_report, one_report_per_pair_of_sites)
{
    struct run r;
    run_prog(&r, PROG, "s22", NULL);
    cr_assert_eq(count_kind(&r, NULL), 1, "%s", r.err);
    run_free(&r);
}

Test(hb_report, text_format_says_no_synchronization_ordered_the_calls)
{
    struct run r;
    run_prog_raw(&r, PROG, "s22", "format=text");
    cr_assert(strstr(r.err, "was not ordered before this write by any lock, join or other synchronization mapguard saw"),
              "%s", r.err);
    run_free(&r);
}
