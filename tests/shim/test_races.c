/*
 * Concurrency findings, each order of overlap, against mg_races.c.
 */
#include "harness.h"

#include <string.h>

#define PROG "mg_races"
/* generous: a parked thread is let go only after the detector asked */
#define OPTS "conflict_wait_ms=10000"

static json_t *one_finding(struct run *r, const char *kind)
{
    cr_assert_eq(count_kind(r, NULL), 1, "want exactly one finding, got %zu:\n%s", count_kind(r, NULL), r->err);
    json_t *f = find_kind(r, kind, 0);
    cr_assert(f, "no %s finding", kind);
    cr_assert_eq(r->status, 66, "exit status %d, want 66", r->status);
    if (!strncmp(kind, "concurrent-", 11)) {
        /* both calls were inside the map at once */
        const char *ev = json_string_value(json_object_get(f, "evidence"));
        cr_assert(ev && !strcmp(ev, "overlap"), "evidence %s, want overlap", ev ? ev : "(none)");
    }
    return f;
}

static void assert_op(json_t *party, const char *op)
{
    const char *got = json_string_value(json_object_get(party, "op"));
    cr_assert(got && !strcmp(got, op), "op %s, want %s", got ? got : "(none)", op);
}

static void assert_thread_name(json_t *party, const char *name)
{
    const char *got = json_string_value(json_object_get(json_object_get(party, "thread"), "name"));
    cr_assert(got && !strcmp(got, name), "thread name %s, want %s", got ? got : "(none)", name);
}

/* Threads made by the program were created at @site:create. */
static void assert_created_by_start(json_t *party)
{
    json_t *created = json_object_get(json_object_get(party, "thread"), "created");
    cr_assert(created, "thread has no creation stack");
    assert_frame_at(created, 0, PROG, "create");
}

static void assert_access(json_t *f, const char *op, const char *site)
{
    json_t *a = json_object_get(f, "access");
    if (op)
        assert_op(a, op);
    assert_frame_at(json_object_get(a, "stack"), 0, PROG, site);
}

static void assert_conflict(json_t *f, const char *op, const char *site, bool complete)
{
    json_t *c = json_object_get(f, "conflict");
    assert_op(c, op);
    assert_frame_at(json_object_get(c, "stack"), 0, PROG, site);
    cr_assert_eq(json_is_true(json_object_get(c, "stack_complete")), complete, "stack_complete is not %d",
                 complete);
    if (complete)
        cr_assert(json_array_size(json_object_get(c, "stack")) > 1, "a complete stack has more than the call site");
}

static void assert_map_created(json_t *f)
{
    assert_frame_at(json_object_get(json_object_get(f, "map_created"), "stack"), 0, PROG, "made");
}

Test(races, read_while_writer_inside)
{
    struct run r;
    run_prog(&r, PROG, "rw_writer_first", OPTS);
    json_t *f = one_finding(&r, "concurrent-read-write");
    json_t *a = json_object_get(f, "access");
    assert_access(f, "get", "get_signal");
    assert_thread_name(a, "reader");
    assert_created_by_start(a);
    assert_conflict(f, "set", "set_park1", true);
    assert_thread_name(json_object_get(f, "conflict"), "writer");
    assert_created_by_start(json_object_get(f, "conflict"));
    assert_map_created(f);
    run_free(&r);
}

Test(races, lookup_while_writer_inside)
{
    struct run r;
    run_prog(&r, PROG, "rw_lookup", OPTS);
    json_t *f = one_finding(&r, "concurrent-read-write");
    assert_access(f, "lookup", "lookup_signal");
    assert_conflict(f, "set", "set_park1", true);
    run_free(&r);
}

Test(races, write_while_reader_inside)
{
    struct run r;
    run_prog(&r, PROG, "rw_reader_first", OPTS);
    json_t *f = one_finding(&r, "concurrent-read-write");
    assert_access(f, "get", "get_park1");
    assert_conflict(f, "set", "set_park2", true);
    assert_thread_name(json_object_get(f, "conflict"), "writer");
    run_free(&r);
}

Test(races, write_came_and_went_while_reader_inside)
{
    struct run r;
    run_prog(&r, PROG, "rw_reader_first_gone", OPTS);
    json_t *f = one_finding(&r, "concurrent-read-write");
    assert_access(f, NULL, "get_park1");
    /* the writer left before the reader looked: its call site only */
    assert_conflict(f, "set", "main_set", false);
    run_free(&r);
}

Test(races, two_writers)
{
    struct run r;
    run_prog(&r, PROG, "ww", OPTS);
    json_t *f = one_finding(&r, "concurrent-writes");
    json_t *a = json_object_get(f, "access");
    assert_access(f, "set", "set_signal");
    assert_thread_name(a, "writer2");
    assert_conflict(f, "set", "set_park1", true);
    assert_thread_name(json_object_get(f, "conflict"), "writer1");
    assert_map_created(f);
    run_free(&r);
}

/* Creation stacks are kept raw and unwound for the report (the first 16
 * of a process), or captured at creation (later ones): the same frames.
 * Returns the writer2's creation stack; the caller frees r. */
static json_t *assert_ww_created(struct run *r, const char *scenario)
{
    run_prog(r, PROG, scenario, OPTS);
    json_t *f = one_finding(r, "concurrent-writes");
    json_t *a = json_object_get(f, "access"), *c = json_object_get(f, "conflict");
    assert_access(f, "set", "set_signal");
    assert_conflict(f, "set", "set_park1", true);
    assert_thread_name(a, "writer2");
    assert_thread_name(c, "writer1");
    assert_created_by_start(a);
    assert_created_by_start(c);
    return json_object_get(json_object_get(a, "thread"), "created");
}

Test(races, creation_stacks_saved_for_later_are_unwound_for_the_report)
{
    struct run r;
    assert_ww_created(&r, "ww");
    run_free(&r);
}

Test(races, creation_stacks_past_the_saved_ones_are_captured_at_creation)
{
    struct run r;
    assert_ww_created(&r, "ww_after_16");
    run_free(&r);
}

Test(races, creation_stacks_on_a_makecontext_stack_are_captured_at_creation)
{
    struct run r;
    assert_ww_created(&r, "ww_ucontext");
    run_free(&r);
}

Test(races, a_deep_creation_stack_keeps_its_innermost_frames)
{
    struct run r;
    json_t *created = assert_ww_created(&r, "ww_deep");
    /* start, ww, then deep's frames, but not main's: past the 32 KiB kept */
    bool deep = false, main_seen = false;
    for (size_t i = 0; i < json_array_size(created); i++) {
        const char *fn = json_string_value(json_object_get(json_array_get(created, i), "function"));
        deep |= fn && !strcmp(fn, "deep");
        main_seen |= fn && !strcmp(fn, "main");
    }
    cr_assert(deep && !main_seen, "%s", json_dumps(created, JSON_COMPACT));
    run_free(&r);
}

Test(races, two_writers_other_ops)
{
    struct run r;
    run_prog(&r, PROG, "ww_ops", OPTS);
    json_t *f = one_finding(&r, "concurrent-writes");
    assert_access(f, "assign", "assign_signal");
    assert_conflict(f, "delete", "delete_park1", true);
    run_free(&r);
}

Test(races, iteration_while_writer_inside)
{
    struct run r;
    run_prog(&r, PROG, "iter_writer_first", OPTS);
    json_t *f = one_finding(&r, "concurrent-iteration-write");
    assert_access(f, "iter_next", "iter_next");
    assert_conflict(f, "set", "set_park1", true);
    run_free(&r);
}

Test(races, write_while_iteration_inside)
{
    struct run r;
    run_prog(&r, PROG, "iter_first", OPTS);
    json_t *f = one_finding(&r, "concurrent-iteration-write");
    assert_access(f, "iter_next", "iter_next_grow");
    assert_conflict(f, "set", "set_park2", true);
    run_free(&r);
}

Test(races, free_while_reader_inside)
{
    struct run r;
    run_prog(&r, PROG, "free_during_read", OPTS);
    json_t *f = one_finding(&r, "concurrent-read-write");
    assert_access(f, NULL, "get_park1");
    assert_conflict(f, "free", "main_free", false);
    run_free(&r);
}

Test(races, overlapping_readers_are_fine)
{
    struct run r;
    run_prog(&r, PROG, "readers_overlap", OPTS);
    assert_watched_and_clean(&r, "readers only");
    cr_assert_eq(r.status, 0);
    run_free(&r);
}

Test(races, repeats_fold_into_one_report)
{
    struct run r;
    run_prog(&r, PROG, "ww_repeat", OPTS);
    json_t *f = one_finding(&r, "concurrent-writes");
    json_t *s = find_summary(&r, 0);
    cr_assert(s, "no summary");
    json_t *rec = json_array_get(json_object_get(s, "recurrences"), 0);
    cr_assert_eq(json_integer_value(json_object_get(rec, "count")), 4);
    cr_assert_eq(json_integer_value(json_object_get(rec, "records")), 1, "the repeats were folded");
    cr_assert_eq(json_integer_value(json_object_get(rec, "id")), json_integer_value(json_object_get(f, "id")));
    cr_assert_eq(json_integer_value(json_object_get(s, "findings")), 1);
    cr_assert_eq(json_integer_value(json_object_get(s, "repeats")), 3);
    run_free(&r);
}

Test(races, dedup_off_reports_every_time)
{
    struct run r;
    run_prog(&r, PROG, "ww_repeat", OPTS ":dedup=0");
    cr_assert_eq(count_kind(&r, "concurrent-writes"), 4);
    /* the summary's entry says all four were written: a reader folds none */
    json_t *rec = json_array_get(json_object_get(find_summary(&r, 0), "recurrences"), 0);
    cr_assert_eq(json_integer_value(json_object_get(rec, "count")), 4);
    cr_assert_eq(json_integer_value(json_object_get(rec, "records")), 4);
    run_free(&r);
}

/* Two reads at one line overlap one parked write; the second comes after
 * another writer left its site in the map's last-write word, so its claim
 * is made with the parked write's site unknown (mg_overlap_repeat.c). One
 * finding, one repeat: before the re-key, two records of the same pair. */
Test(races, a_pair_found_before_and_after_its_site_was_known_is_one_finding)
{
    struct run r;
    run_prog(&r, "mg_overlap_repeat", "two_reads_one_finding", OPTS ":happens_before=0");
    cr_assert_eq(count_kind(&r, "concurrent-read-write"), 1, "want one read-write finding:\n%s", r.err);
    json_t *f = find_kind(&r, "concurrent-read-write", 0);
    assert_frame_at(json_object_get(json_object_get(f, "access"), "stack"), 0, "mg_overlap_repeat", "reader_get");
    assert_frame_at(json_object_get(json_object_get(f, "conflict"), "stack"), 0, "mg_overlap_repeat", "parked_set");
    json_t *w = find_kind(&r, "concurrent-writes", 0);
    cr_assert(w, "the second writer's finding:\n%s", r.err);
    assert_frame_at(json_object_get(json_object_get(w, "access"), "stack"), 0, "mg_overlap_repeat", "second_set");
    cr_assert_eq(count_kind(&r, NULL), 2, "want two findings:\n%s", r.err);
    json_t *s = find_summary(&r, 0);
    cr_assert_eq(json_integer_value(json_object_get(s, "findings")), 2);
    cr_assert_eq(json_integer_value(json_object_get(s, "repeats")), 1);
    cr_assert_str_eq(r.out, "len 12\n");
    run_free(&r);
}

Test(races, c11_threads_carry_their_creation_stacks)
{
    struct run r;
    run_prog(&r, PROG, "ww_c11", OPTS);
    json_t *f = one_finding(&r, "concurrent-writes");
    json_t *a = json_object_get(f, "access"), *c = json_object_get(f, "conflict");
    assert_frame_at(json_object_get(json_object_get(a, "thread"), "created"), 0, PROG, "thrd_create2");
    assert_frame_at(json_object_get(json_object_get(c, "thread"), "created"), 0, PROG, "thrd_create1");
    assert_frame_at(json_object_get(c, "stack"), 0, PROG, "set_park1");
    assert_thread_name(c, "c11writer1");
    run_free(&r);
}

/* The same orders on a map with an equal callback, whose writes go the
 * shim's full path rather than the fast one. */
Test(races, full_path_read_while_writer_inside)
{
    struct run r;
    run_prog(&r, PROG, "rw_writer_first equal", OPTS);
    json_t *f = one_finding(&r, "concurrent-read-write");
    assert_access(f, NULL, "get_signal");
    assert_conflict(f, "set", "set_park1", true);
    run_free(&r);
}

Test(races, full_path_write_while_reader_inside)
{
    struct run r;
    run_prog(&r, PROG, "rw_reader_first equal", OPTS);
    json_t *f = one_finding(&r, "concurrent-read-write");
    assert_access(f, NULL, "get_park1");
    assert_conflict(f, "set", "set_park2", true);
    run_free(&r);
}

Test(races, full_path_two_writers)
{
    struct run r;
    run_prog(&r, PROG, "ww_ops equal", OPTS);
    json_t *f = one_finding(&r, "concurrent-writes");
    assert_access(f, NULL, "assign_signal");
    assert_conflict(f, "delete", "delete_park1", true);
    run_free(&r);
}
