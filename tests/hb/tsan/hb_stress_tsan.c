/*
 * stress.c without Criterion, which does not run under ThreadSanitizer:
 * make test-tsan builds this with -fsanitize=thread, so TSan watches the
 * engine's concurrent tables while the same outcomes are checked.
 */
#include "../stress.h"

#include <stdio.h>

static int run(int overflow)
{
    struct hb_stress_out o;
    hb_stress(&o, overflow);
    int ok = o.first_races == (overflow ? 0 : HB_STRESS_THREADS - 1) && o.locked_races == 0 &&
             o.read_races == 0 && o.child_races == 0 && o.after_races == 0 &&
             o.read_clock == !overflow && o.live == 1 && o.full == 1;
    printf("hb_stress_tsan%s: %s: first=%d locked=%d read=%d child=%d after=%d read_clock=%d live=%u full=%d\n",
           overflow ? " (overflow slot)" : "", ok ? "ok" : "FAILED", o.first_races, o.locked_races, o.read_races,
           o.child_races, o.after_races, o.read_clock, o.live, o.full);
    return ok;
}

/* The second run uses the tables the first left behind: its workers'
 * slots are free, so main fills every slot again to overflow. */
int main(void) { return run(0) && run(1) ? 0 : 1; }
