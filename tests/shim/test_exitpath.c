/*
 * A finding is on disk before the process can end, whatever ends it, and
 * the exit status counts it (tests/progs/mg_exitpath.c). Most scenarios
 * hold a race finding in flight that cannot be finished (the writer it
 * overlaps never leaves its call) and then leave the process one way or
 * another; on the old shim each of these lost the finding.
 */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define PROG "mg_exitpath"
/* the reporter must not give up waiting for the parked writer's stack
 * before the process ends, or the test would not need the exit path */
#define HOLD "conflict_wait_ms=60000"

static const char *str(json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }
static long long num(json_t *o, const char *key) { return json_integer_value(json_object_get(o, key)); }

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = s ? strlen(s) : 0, b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* The one finding of the run: kind, and the access's op; its first frame
 * is in the program (by module, or file when symbolized). */
static json_t *assert_one_finding(const struct run *r, const char *kind, const char *op)
{
    cr_assert_eq(count_kind(r, NULL), 1, "findings: %zu, status %d\n%s\n%.3000s", count_kind(r, NULL), r->status,
                 r->err, json_dumps(r->lines, JSON_COMPACT));
    json_t *f = find_kind(r, kind, 0);
    cr_assert(f, "no %s: %.3000s", kind, json_dumps(r->lines, JSON_COMPACT));
    json_t *access = json_object_get(f, "access");
    cr_assert_str_eq(str(access, "op"), op);
    json_t *fr = json_array_get(json_object_get(access, "stack"), 0);
    cr_assert(fr, "no frame");
    cr_assert(ends_with(str(fr, "module"), "/tests/progs/" PROG), "frame 0 in %s", str(fr, "module"));
    cr_assert_gt(num(f, "id"), 0);
    return f;
}

/* The summary counts the finding, never "findings 0" with occurrences. */
static void assert_summary_counts(const struct run *r)
{
    json_t *s = find_kind_of_pid(r, "summary", r->pid);
    cr_assert(s, "no summary");
    cr_assert_eq(num(s, "findings"), (long long)count_kind(r, NULL), "%s", json_dumps(s, JSON_COMPACT));
    cr_assert_eq(num(s, "occurrences"), num(s, "findings") + num(s, "repeats") + num(s, "suppressed"), "%s",
                 json_dumps(s, JSON_COMPACT));
    /* every record is in recurrences, those an exit path wrote plain
     * while their reporter waited included (a held-out probe: 2 findings,
     * 1 counted there) */
    json_t *rec = json_object_get(s, "recurrences"), *e;
    size_t i;
    long long records = 0;
    json_array_foreach(rec, i, e) records += num(e, "records");
    cr_assert_eq(records, num(s, "findings"), "records in recurrences: %s", json_dumps(s, JSON_COMPACT));
}

Test(exitpath, finding_5ms_before_main_returns)
{
    struct run r;
    run_prog(&r, PROG, "late_nil", NULL);
    cr_assert_eq(r.status, 66, "status %d\n%s", r.status, r.err);
    assert_one_finding(&r, "nil-map-write", "set");
    assert_summary_counts(&r);
    run_free(&r);
}

/* Raw preload, reports on stderr: the status and the report both. */
Test(exitpath, finding_5ms_before_main_returns_raw)
{
    struct run r;
    run_prog_raw(&r, PROG, "late_nil", NULL);
    cr_assert_eq(r.status, 66, "status %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "\"kind\":\"nil-map-write\""), "%s", r.err);
    run_free(&r);
}

Test(exitpath, race_in_flight_when_main_returns)
{
    struct run r;
    run_prog(&r, PROG, "race_then_return", HOLD);
    cr_assert_eq(r.status, 66, "status %d\n%s", r.status, r.err);
    json_t *f = assert_one_finding(&r, "concurrent-writes", "set");
    cr_assert_str_eq(str(json_object_get(f, "conflict"), "op"), "set");
    cr_assert(json_is_false(json_object_get(json_object_get(f, "conflict"), "stack_complete")));
    assert_summary_counts(&r);
    run_free(&r);
}

Test(exitpath, race_in_flight_at_exit)
{
    struct run r;
    run_prog(&r, PROG, "race_then_exit", HOLD);
    cr_assert_eq(r.status, 66, "status %d\n%s", r.status, r.err);
    assert_one_finding(&r, "concurrent-writes", "set");
    assert_summary_counts(&r);
    run_free(&r);
}

Test(exitpath, race_in_flight_at__exit)
{
    struct run r;
    run_prog(&r, PROG, "race_then__exit", HOLD);
    cr_assert_eq(r.status, 66, "_exit(0) after a finding: status %d\n%s", r.status, r.err);
    assert_one_finding(&r, "concurrent-writes", "set");
    run_free(&r);
}

/* quick_exit ends the process with libc's own _exit, after the program's
 * at_quick_exit handlers: the finding in flight is written and counted
 * by the shim's handler, which runs after the program's. */
Test(exitpath, race_in_flight_at_quick_exit)
{
    struct run r;
    run_prog(&r, PROG, "race_then_quick_exit", HOLD);
    cr_assert_eq(r.status, 66, "quick_exit(0) after a finding: status %d\n%s", r.status, r.err);
    cr_assert(strstr(r.out, "quick_exit handler ran"), "the program's handler ran first: %s", r.out);
    assert_one_finding(&r, "concurrent-writes", "set");
    run_free(&r);
}

Test(exitpath, clean_quick_exit_keeps_its_status)
{
    struct run r;
    run_prog(&r, PROG, "clean_quick_exit", NULL);
    cr_assert_eq(r.status, 5, "status %d\n%s", r.status, r.err);
    cr_assert(strstr(r.out, "quick_exit handler ran"), "%s", r.out);
    cr_assert_eq(count_kind(&r, NULL), 0);
    run_free(&r);
}

/* exit(3) from one thread while 8 others keep finding things: every line
 * valid (harness), the findings on disk, counted, exit 66. */
Test(exitpath, exit_while_eight_threads_report)
{
    for (int i = 0; i < 3; i++) {
        struct run r;
        run_prog(&r, PROG, "exit_storm", NULL);
        cr_assert_eq(r.status, 66, "run %d: status %d\n%s", i, r.status, r.err);
        size_t n = count_kind(&r, "nil-map-write");
        cr_assert(n >= 1 && n == count_kind(&r, NULL), "run %d: %zu findings", i, n);
        json_t *s = find_kind_of_pid(&r, "summary", r.pid);
        cr_assert(s, "run %d: no summary", i);
        cr_assert_geq(num(s, "findings"), 1, "%s", json_dumps(s, JSON_COMPACT));
        run_free(&r);
    }
}

static json_t *assert_deadly(const struct run *r, const char *sig, int signo, bool address)
{
    cr_assert_eq(count_kind(r, "deadly-signal"), 1, "%.3000s", json_dumps(r->lines, JSON_COMPACT));
    json_t *d = find_kind(r, "deadly-signal", 0);
    cr_assert_str_eq(str(d, "signal"), sig);
    cr_assert_eq(num(d, "signo"), signo);
    cr_assert_eq(num(d, "pid"), r->pid);
    char msg[64];
    snprintf(msg, sizeof msg, "mapguard: deadly signal %s", sig);
    cr_assert_str_eq(str(d, "message"), msg);
    cr_assert_eq(json_object_get(d, "address") != NULL, address);
    json_t *t = json_object_get(d, "thread");
    cr_assert_eq(num(t, "tid"), r->pid, "the main thread got it");
    cr_assert_gt(json_array_size(json_object_get(d, "stack")), 0);
    /* after the finding it explains */
    size_t i, at_finding = (size_t)-1, at_deadly = (size_t)-1;
    json_t *o;
    json_array_foreach(r->lines, i, o) {
        const char *k = str(o, "kind");
        if (!strcmp(k, "deadly-signal"))
            at_deadly = i;
        else if (!strcmp(k, "concurrent-writes"))
            at_finding = i;
    }
    cr_assert_lt(at_finding, at_deadly, "the finding comes first");
    return d;
}

Test(exitpath, race_in_flight_then_sigsegv)
{
    struct run r;
    run_prog(&r, PROG, "race_then_segv", HOLD);
    cr_assert_eq(r.status, 128 + SIGSEGV, "still dies of SIGSEGV: status %d\n%s", r.status, r.err);
    assert_one_finding(&r, "concurrent-writes", "set");
    json_t *d = assert_deadly(&r, "SIGSEGV", SIGSEGV, true);
    cr_assert_str_eq(str(d, "address"), "0x10");
    json_t *fr = json_array_get(json_object_get(d, "stack"), 0);
    cr_assert(ends_with(str(fr, "module"), "/tests/progs/" PROG), "the faulting frame: %s",
              json_dumps(fr, JSON_COMPACT));
    run_free(&r);
}

Test(exitpath, race_in_flight_then_abort)
{
    struct run r;
    run_prog(&r, PROG, "race_then_abort", HOLD);
    cr_assert_eq(r.status, 128 + SIGABRT, "status %d\n%s", r.status, r.err);
    assert_one_finding(&r, "concurrent-writes", "set");
    assert_deadly(&r, "SIGABRT", SIGABRT, false);
    run_free(&r);
}

/* abort() from the program's handler on its own 8 KiB alternate stack:
 * the shim's record is made on a stack of its own, and the process dies of
 * SIGABRT as without the shim (it died of SIGSEGV, overflowing that
 * alternate stack in the shim's handler). */
Test(exitpath, abort_on_a_small_program_altstack_keeps_sigabrt)
{
    struct run r;
    run_prog(&r, PROG, "small_altstack_abort", NULL);
    cr_assert_eq(r.status, 128 + SIGABRT, "status %d\n%s", r.status, r.err);
    cr_assert_eq(count_kind(&r, "deadly-signal"), 1, "%.3000s", json_dumps(r.lines, JSON_COMPACT));
    json_t *d = find_kind(&r, "deadly-signal", 0);
    cr_assert_str_eq(str(d, "signal"), "SIGABRT");
    cr_assert_gt(json_array_size(json_object_get(d, "stack")), 0);
    run_free(&r);
}

/* The program's handler, set after the shim's: it runs, a query returns
 * it, and when it lets the fault kill the process the record is written. */
Test(exitpath, program_handler_is_chained)
{
    struct run r;
    run_prog(&r, PROG, "own_handler", HOLD);
    cr_assert(strstr(r.out, "query=own"), "sigaction returns the program's own handler: %s", r.out);
    cr_assert(strstr(r.out, "program handler ran"), "%s", r.out);
    cr_assert_eq(r.status, 128 + SIGSEGV, "status %d\n%s", r.status, r.err);
    assert_one_finding(&r, "concurrent-writes", "set");
    assert_deadly(&r, "SIGSEGV", SIGSEGV, true);
    run_free(&r);
}

/* ...and with the mask it asked for: the shim's handler is in between */
Test(exitpath, program_handler_runs_with_its_own_mask)
{
    struct run r;
    run_prog(&r, PROG, "handler_mask", NULL);
    cr_assert_eq(r.status, 0, "status %d\n%s", r.status, r.err);
    cr_assert(strstr(r.out, "usr1=1 segv=1\nusr1=1 segv=0\n"), "sa_mask, then SA_NODEFER:\n%s", r.out);
    cr_assert_eq(count_kind(&r, "deadly-signal"), 0);
    run_free(&r);
}

Test(exitpath, handle_segv_0_installs_nothing)
{
    struct run r;
    run_prog(&r, PROG, "own_handler", HOLD ":handle_segv=0");
    cr_assert(strstr(r.out, "query=own") && strstr(r.out, "program handler ran"), "%s", r.out);
    cr_assert_eq(r.status, 128 + SIGSEGV, "status %d\n%s", r.status, r.err);
    cr_assert_eq(count_kind(&r, "deadly-signal"), 0);
    run_free(&r);
}

Test(exitpath, deadly_signal_in_text_format)
{
    struct run r;
    run_prog_raw(&r, PROG, "race_then_segv", HOLD ":format=text");
    cr_assert_eq(r.status, 128 + SIGSEGV, "status %d\n%s", r.status, r.err);
    const char *w = strstr(r.err, "WARNING: mapguard: concurrent map writes");
    const char *d = strstr(r.err, "WARNING: mapguard: deadly signal SIGSEGV");
    cr_assert(w && d && w < d, "%s", r.err);
    cr_assert(strstr(d, "at address 0x10:"), "%s", d);
    run_free(&r);
}

/* A raw preload: the finding before the exec decides the status, though
 * the new image finds nothing and exits 0. */
Test(exitpath, finding_before_exec_raw)
{
    struct run r;
    run_prog_raw(&r, PROG, "nil_then_exec", NULL);
    cr_assert(strstr(r.out, "clean image"), "the new image ran: %s\n%s", r.out, r.err);
    cr_assert_eq(r.status, 66, "status %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "\"kind\":\"nil-map-write\""), "%s", r.err);
    run_free(&r);
}

/* The same with a log file; the new image's environment no longer holds
 * the count once it started, so what it runs next is not affected. */
Test(exitpath, finding_before_exec_log)
{
    struct run r;
    run_prog(&r, PROG, "nil_then_exec", NULL);
    cr_assert(strstr(r.out, "clean image"), "%s", r.out);
    cr_assert_eq(r.status, 66, "status %d\n%s", r.status, r.err);
    assert_one_finding(&r, "nil-map-write", "set");
    cr_assert_eq(count_kind(&r, "hello"), 2);
    run_free(&r);
}

/* LeakSanitizer's exit-time check still runs when the shim ends the
 * process with exitcode. */
Test(exitpath, leak_sanitizer_check_runs_before_exitcode)
{
    struct run r;
    run_prog(&r, PROG, "nil_with_lsan", NULL);
    cr_assert(strstr(r.out, "fake LeakSanitizer: leak check ran"), "%s\n%s", r.out, r.err);
    cr_assert_eq(r.status, 66, "status %d\n%s", r.status, r.err);
    assert_one_finding(&r, "nil-map-write", "set");
    run_free(&r);
}

/* 64 threads race on one map until it breaks: the race is on disk whether
 * the program crashes (then with the deadly-signal record after it) or
 * not. */
Test(exitpath, race_that_crashes_is_reported)
{
    struct run r;
    run_prog(&r, PROG, "race64", NULL);
    cr_assert(r.status == 128 + SIGSEGV || r.status == 128 + SIGBUS || r.status == 128 + SIGABRT ||
                  r.status == 66,
              "status %d\n%s", r.status, r.err);
    cr_assert_geq(count_kind(&r, "concurrent-writes"), 1, "%.2000s", json_dumps(r.lines, JSON_COMPACT));
    cr_assert_eq(count_kind(&r, "deadly-signal"), r.status == 66 ? 0 : 1);
    run_free(&r);
}

/* More races held at exit than inflight.c's table has entries (270, each
 * waiting for a parked writer's stack): every one is written. Those that
 * found the table full were reported at once, without the other stack. */
Test(exitpath, more_races_held_at_exit_than_entries, .timeout = 120)
{
    struct run r;
    run_prog(&r, PROG, "races_held_at_exit", "dedup=0:" HOLD);
    cr_assert_eq(r.status, 66, "status %d\n%.2000s", r.status, r.err);
    cr_assert_eq(count_kind(&r, "concurrent-read-write"), 270, "%zu of 270 written",
                 count_kind(&r, "concurrent-read-write"));
    assert_summary_counts(&r);
    run_free(&r);
}

/* The real LeakSanitizer, in a program built with -fsanitize=leak. */
Test(exitpath, leak_sanitizer_report_survives_exitcode)
{
    struct run r;
    run_prog(&r, "mg_leak_lsan", NULL, NULL);
    cr_assert(strstr(r.err, "ERROR: LeakSanitizer: detected memory leaks"), "%s", r.err);
    cr_assert(strstr(r.err, "1234 byte(s) leaked"), "%s", r.err);
    cr_assert_eq(r.status, 66, "status %d\n%s", r.status, r.err);
    cr_assert_eq(count_kind(&r, "nil-map-write"), 1);
    run_free(&r);
}

Test(exitpath, handled_sigsegv_writes_nothing)
{
    struct run r;
    run_prog(&r, PROG, "survives_segv", NULL);
    cr_assert(strstr(r.out, "recovered"), "%s\n%s", r.out, r.err);
    cr_assert_eq(r.status, 0, "status %d\n%s", r.status, r.err);
    cr_assert_eq(count_kind(&r, "deadly-signal"), 0);
    assert_watched_and_clean(&r, "a SIGSEGV the program handles");
    run_free(&r);
}

/* A SIGSEGV the program sends itself (timeout(1) mirroring its child's
 * death) is not a crash to explain: no record, the same death. */
Test(exitpath, sent_sigsegv_writes_no_record)
{
    struct run r;
    run_prog(&r, PROG, "reraise_segv", NULL);
    cr_assert(strstr(r.out, "mirroring"), "%s\n%s", r.out, r.err);
    cr_assert_eq(r.status, 128 + SIGSEGV, "status %d\n%s", r.status, r.err);
    cr_assert_eq(count_kind(&r, "deadly-signal"), 0, "%.3000s", json_dumps(r.lines, JSON_COMPACT));
    cr_assert_eq(count_kind(&r, NULL), 0, "no finding either");
    cr_assert(find_kind_of_pid(&r, "hello", r.pid), "the process was watched");
    run_free(&r);
}

/* The exit-path wrappers called before the shim started (.preinit_array,
 * before every constructor): each finds its real function itself, and an
 * action set then is the program's once the shim has started. */
Test(exitpath, sigaction_before_start_is_kept)
{
    const char *modes[] = {"sigaction", "signal"};
    for (size_t i = 0; i < 2; i++) {
        struct run r;
        run_prog(&r, "mg_early_exitpath", modes[i], NULL);
        cr_assert(strstr(r.out, "early=0 query=own"), "%s: %s\n%s", modes[i], r.out, r.err);
        cr_assert(strstr(r.out, "program handler ran: SIGSEGV"), "%s: %s", modes[i], r.out);
        cr_assert_eq(r.status, 41, "%s: status %d\n%s", modes[i], r.status, r.err);
        cr_assert_eq(count_kind(&r, "deadly-signal"), 0, "%s", modes[i]);
        run_free(&r);
    }
}

Test(exitpath, abort_before_start_raises_sigabrt)
{
    /* the real abort, not the system call the shim falls back on: the
     * program's SIGABRT handler runs */
    struct run r;
    run_prog(&r, "mg_early_exitpath", "abort", NULL);
    cr_assert(strstr(r.out, "program handler ran: SIGABRT"), "%s\n%s", r.out, r.err);
    cr_assert_eq(r.status, 42, "status %d\n%s", r.status, r.err);
    run_free(&r);
}

Test(exitpath, _exit_before_start_keeps_its_status)
{
    struct run r;
    run_prog(&r, "mg_early_exitpath", "_exit", NULL);
    cr_assert_eq(r.status, 7, "status %d\n%s", r.status, r.err);
    cr_assert(!strstr(r.out, "early="), "main never ran: %s", r.out);
    run_free(&r);
}
