/*
 * stress.c under Criterion; tsan/hb_stress_tsan.c runs the same under
 * ThreadSanitizer (make test-tsan).
 */
#include "hb_test.h"
#include "stress.h"

Test(hb_stress, real_threads)
{
    struct hb_stress_out o;
    hb_stress(&o, 0);
    cr_assert_eq(o.first_races, HB_STRESS_THREADS - 1);
    cr_assert_eq(o.locked_races, 0, "a write under the mutex raced");
    cr_assert_eq(o.read_races, 0, "a read of a read-only map raced");
    cr_assert_eq(o.child_races, 0, "a joined child raced");
    cr_assert_eq(o.after_races, 0, "main raced after joining everyone");
    cr_assert_eq(o.read_clock, 1, "unordered readers share a read clock");
    cr_assert_eq(o.live, 1, "only the shared mutex is left in the table");
    cr_assert_eq(o.full, 1, "an entry was lost or given out twice");
}

Test(hb_stress, real_threads_in_the_overflow_slot)
{
    struct hb_stress_out o;
    hb_stress(&o, 1);
    cr_assert_eq(o.first_races, 0, "overflow threads look ordered with each other");
    cr_assert_eq(o.locked_races, 0, "a write under the mutex raced");
    cr_assert_eq(o.read_races, 0, "a read of a read-only map raced");
    cr_assert_eq(o.child_races, 0, "a joined child raced");
    cr_assert_eq(o.after_races, 0, "main raced after joining everyone");
    cr_assert_eq(o.live, 1, "only the shared mutex is left in the table");
    cr_assert_eq(o.full, 1, "an entry was lost or given out twice");
}
