/*
 * The engine used from several real threads at once (stress.c), shared by
 * the Criterion test and the ThreadSanitizer driver (tsan/, Criterion does
 * not run under TSan).
 */
#ifndef HB_STRESS_H
#define HB_STRESS_H

#define HB_STRESS_THREADS 4

struct hb_stress_out {
    int first_races;   /* want HB_STRESS_THREADS - 1 */
    int locked_races;  /* want 0 from here on */
    int read_races;
    int child_races;
    int after_races;
    int read_clock;    /* want 1: the unordered readers share a read clock */
    unsigned live;     /* want 1: only the shared mutex is left in the table */
    int full;          /* want 1: then the table fills to its capacity, every entry once */
};

/* overflow: the workers share the overflow record (every ordinary slot is
 * taken first), whose clock they update under its lock while reading it
 * in their checks. Only the outcomes that stay exact there are counted:
 * races between overflow threads are missed by design, so first_races is
 * then 0, and ordered calls must still never race. */
void hb_stress(struct hb_stress_out *out, int overflow);

#endif
