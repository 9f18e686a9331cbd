/*
 * `mapguard report` on saved JSON Lines (hand-written fixtures in issue 3's
 * format): merging, deduplication, text rendering, JSON output, exit codes.
 * These need no detector, so they pin down the rendering independently of
 * the end-to-end runs.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_helpers.h"

static size_t count_str(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

Test(report, text_names_every_kind_and_frame)
{
    const char *argv[] = {MAPGUARD, "report", FIXTURE("race.jsonl"), FIXTURE("misuse.jsonl"),
                          NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "findings must exit 66, got %d\n%s", r.status, r.err);
    json_t *all = json_array();
    json_array_extend(all, load_jsonl(FIXTURE("race.jsonl")));
    json_array_extend(all, load_jsonl(FIXTURE("misuse.jsonl")));
    assert_text_covers(r.out, all);
    /* TSan's shape: a banner per finding, both threads, creation sites. */
    cr_assert(strstr(r.out, "WARNING: mapguard: concurrent map read and map write"));
    cr_assert(strstr(r.out, "Read (gomap_get) by thread 4244 \"reader\""), "%s", r.out);
    cr_assert(strstr(r.out, "Concurrent write (gomap_set) by main thread 4242"), "%s", r.out);
    cr_assert(strstr(r.out, "Thread 4244 \"reader\" created at:"), "%s", r.out);
    cr_assert(strstr(r.out, "Map created by main thread 4242 \"cli_race\" at:"), "%s", r.out);
    cr_assert(strstr(r.out, "[inlined]"), "inlined frames are marked");
    /* The last line is the one-line summary. */
    cr_assert(strstr(r.out, "SUMMARY: mapguard: 5 findings ("), "%s", r.out);
    json_decref(all);
    cmd_result_free(&r);
}

Test(report, merges_files_and_removes_duplicates)
{
    /* The same race twice in one file (each thread detected the other) and
     * a second file with the same records: one finding, seen in both. */
    char *dir = test_tmpdir();
    char *again = copy_fixture(dir, FIXTURE("race.jsonl"), "again.jsonl");
    const char *argv[] = {MAPGUARD, "report", "--text", FIXTURE("race.jsonl"), again, NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66);
    cr_assert_eq(count_str(r.out, "WARNING: mapguard:"), 1, "%s", r.out);
    /* 2 records x 2 files, plus the repeats the detector folded (count 3
     * for id 1 in each file's summary): 4 + 2 x 2. */
    cr_assert(strstr(r.out, "Reported 8 times by pid 4242"), "%s", r.out);
    cr_assert(strstr(r.out, "SUMMARY: mapguard: 1 finding (1 concurrent-read-write) from 4 reports"),
              "%s", r.out);
    cr_assert(strstr(r.out, "; 2 files"), "%s", r.out);
    cmd_result_free(&r);
    free(again);
    rm_rf(dir);
    free(dir);
}

/* The same finding from ten processes: the first eight pids are named,
 * and "and others" says the list stops there (SARIF: morePids). */
Test(report, a_finding_from_many_processes_says_the_pid_list_is_cut)
{
    char *dir = test_tmpdir();
    char *text = slurp(FIXTURE("race.jsonl"));
    cr_assert(text);
    const char *argv[16] = {MAPGUARD, "report", "--text"};
    int argc = 3;
    char *names[10];
    for (int i = 0; i < 10; i++) {
        char name[32], pid[16];
        snprintf(name, sizeof name, "p%d.jsonl", i);
        snprintf(pid, sizeof pid, "%d", 5000 + i);
        names[i] = path_join(dir, name);
        FILE *f = fopen(names[i], "w");
        cr_assert(f);
        for (const char *t = text, *at; *t; t = at + 4) {
            at = strstr(t, "4242");
            if (!at) {
                fputs(t, f);
                break;
            }
            fwrite(t, 1, (size_t)(at - t), f);
            fputs(pid, f);
        }
        fclose(f);
        argv[argc++] = names[i];
    }
    argv[argc] = NULL;
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "%s", r.err);
    cr_assert(strstr(r.out, "by pids 5000, 5001, 5002, 5003, 5004, 5005, 5006, 5007 and others\n"), "%s", r.out);
    cmd_result_free(&r);

    char *sarif = path_join(dir, "out.sarif");
    const char *argv2[16] = {MAPGUARD, "report", "--sarif", sarif};
    for (int i = 0; i < 10; i++)
        argv2[4 + i] = names[i];
    r = run_cmd(argv2, NULL);
    cr_assert_eq(r.status, 66, "%s", r.err);
    json_t *doc = json_load_file(sarif, 0, NULL);
    cr_assert(doc);
    json_t *props = json_object_get(json_array_get(json_object_get(json_array_get(json_object_get(doc, "runs"), 0),
                                                                   "results"),
                                                   0),
                                    "properties");
    cr_assert(json_is_true(json_object_get(props, "morePids")), "%s", json_dumps(props, 0));
    cr_assert_eq(json_array_size(json_object_get(props, "pids")), 8);
    json_decref(doc);
    cmd_result_free(&r);

    for (int i = 0; i < 10; i++)
        free(names[i]);
    free(sarif);
    free(text);
    rm_rf(dir);
    free(dir);
}

Test(report, the_same_file_named_twice_is_read_once)
{
    /* By the same path, and by another path to it (a glob that overlaps a
     * named file): its findings are not counted again. */
    const char *same = SRC_DIR "/tests/cli/fixtures/../fixtures/race.jsonl";
    const char *argv[] = {MAPGUARD, "report", "--text", FIXTURE("race.jsonl"), same, FIXTURE("race.jsonl"), NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66);
    cr_assert_eq(count_str(r.out, "WARNING: mapguard:"), 1, "%s", r.out);
    cr_assert(strstr(r.out, "Reported 4 times by pid 4242"), "%s", r.out);
    cr_assert(strstr(r.out, "from 2 reports in 1 process; 1 file\n"), "%s", r.out);
    cr_assert(strstr(r.err, "fixtures/race.jsonl is the same file as "), "%s", r.err);
    cr_assert_eq(count_str(r.err, "read once"), 2, "%s", r.err);
    cmd_result_free(&r);
}

Test(report, json_output_has_each_finding_once)
{
    char *dir = test_tmpdir();
    char *out = path_join(dir, "merged.jsonl");
    const char *argv[] = {MAPGUARD, "report", "--json", out, FIXTURE("race.jsonl"),
                          FIXTURE("misuse.jsonl"), FIXTURE("race.jsonl"), NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "%s", r.err);
    cr_assert_str_empty(r.out, "no text unless --text: %s", r.out);
    json_t *recs = load_jsonl(out);
    cr_assert_eq(json_array_size(recs), 5);
    const char *kinds[] = {"concurrent-read-write", "modified-during-iteration", "use-after-free",
                           "nil-map-write", "leaked-map"};
    for (size_t i = 0; i < 5; i++)
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(recs, i), "kind")),
                         kinds[i]);
    /* What report --json writes, report reads back to the same findings. */
    const char *again[] = {MAPGUARD, "report", out, NULL};
    cmd_result r2 = run_cmd(again, NULL);
    cr_assert_eq(r2.status, 66);
    cr_assert(strstr(r2.out, "SUMMARY: mapguard: 5 findings"), "%s", r2.out);
    json_decref(recs);
    cmd_result_free(&r);
    cmd_result_free(&r2);
    rm_rf(dir);
    free(out);
    free(dir);
}

Test(report, no_findings_exit_zero_and_exitcode_option)
{
    char *dir = test_tmpdir();
    char *clean = path_join(dir, "clean.jsonl");
    FILE *fp = fopen(clean, "w");
    fputs("{\"kind\":\"summary\",\"pid\":7,\"findings\":0}\n", fp);
    fclose(fp);
    const char *argv[] = {MAPGUARD, "report", clean, NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "SUMMARY: mapguard: no findings"), "%s", r.out);
    cmd_result_free(&r);

    const char *argv2[] = {MAPGUARD, "report", "--exitcode", "9", "-q", FIXTURE("race.jsonl"),
                           NULL};
    r = run_cmd(argv2, NULL);
    cr_assert_eq(r.status, 9);
    cr_assert_null(strstr(r.out, "WARNING"), "-q prints no per-finding report");
    cr_assert(strstr(r.out, "SUMMARY: mapguard: 1 finding"), "-q keeps the summary line");
    cmd_result_free(&r);
    rm_rf(dir);
    free(clean);
    free(dir);
}

Test(report, truncated_line_is_skipped_not_fatal)
{
    /* A program that crashed mid-write leaves a partial last line. */
    char *dir = test_tmpdir();
    char *f = path_join(dir, "cut.jsonl");
    char *race = slurp(FIXTURE("race.jsonl"));
    FILE *fp = fopen(f, "w");
    fputs(race, fp);
    fputs("{\"kind\":\"concurrent-writes\",\"message\":\"concurrent map wr", fp);
    fclose(fp);
    const char *argv[] = {MAPGUARD, "report", f, NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66);
    cr_assert(strstr(r.err, "cut.jsonl:4: not a mapguard report record"), "%s", r.err);
    cr_assert(strstr(r.out, "1 finding"), "%s", r.out);
    cmd_result_free(&r);
    rm_rf(dir);
    free(f);
    free(race);
    free(dir);
}

/* Another writer's bytes before a record on one line (a program that
 * wrote into the log's descriptor): the record after them is read, and
 * the bytes are named. A CI user's probe lost a race so before the log
 * was set aside above the standard descriptors. */
Test(report, a_record_after_another_writers_bytes_is_read)
{
    char *dir = test_tmpdir();
    char *f = path_join(dir, "glued.jsonl");
    char *race = slurp(FIXTURE("race.jsonl"));
    FILE *fp = fopen(f, "w");
    fputs("progress: ", fp);
    fputs(race, fp);
    fclose(fp);
    const char *argv[] = {MAPGUARD, "report", f, NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "%s", r.err);
    cr_assert(strstr(r.err, "glued.jsonl:1: 10 bytes that are not mapguard's before a report record, skipped"), "%s",
              r.err);
    cr_assert(strstr(r.out, "SUMMARY: mapguard: 1 finding (1 concurrent-read-write)"), "%s", r.out);
    cmd_result_free(&r);
    rm_rf(dir);
    free(f);
    free(race);
    free(dir);
}

/* A summary that counts findings none of whose records was read (a log
 * cut short, a record garbled beyond reading): they are lost, said so,
 * and the report fails as one with findings; a record read for one of
 * them leaves the rest lost. */
Test(report, findings_a_summary_counts_but_no_record_shows_are_lost)
{
    char *dir = test_tmpdir();
    char *f = path_join(dir, "lost.jsonl");
    FILE *fp = fopen(f, "w");
    fputs("{\"kind\":\"summary\",\"pid\":4242,\"findings\":3,\"suppressed\":0}\n", fp);
    fclose(fp);
    const char *argv[] = {MAPGUARD, "report", f, NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "%s", r.err);
    cr_assert(strstr(r.out, "SUMMARY: mapguard: 3 findings lost (a process counted them whose record could not be read)"),
              "%s", r.out);
    cmd_result_free(&r);

    /* SARIF has no result for them, so its invocation says so, after a
     * crash's notification, each pointing at its own descriptor */
    char *sarif = path_join(dir, "out.sarif");
    const char *argv_s[] = {MAPGUARD, "report", "--sarif", sarif, f, FIXTURE("crash.jsonl"), NULL};
    r = run_cmd(argv_s, NULL);
    cr_assert_eq(r.status, 66, "%s", r.err);
    json_t *doc = load_json(sarif);
    json_t *run = json_array_get(json_object_get(doc, "runs"), 0);
    json_t *descs = json_object_get(json_object_get(json_object_get(run, "tool"), "driver"), "notifications");
    json_t *notes = sarif_notifications(doc);
    cr_assert_eq(json_array_size(notes), 2, "%s", json_dumps(notes, 0));
    json_t *lost = json_array_get(notes, 1);
    json_t *d = json_object_get(lost, "descriptor");
    cr_assert_str_eq(json_string_value(json_object_get(d, "id")), "findings-lost");
    json_t *desc = json_array_get(descs, (size_t)json_integer_value(json_object_get(d, "index")));
    cr_assert_str_eq(json_string_value(json_object_get(desc, "id")), "findings-lost");
    cr_assert_str_eq(json_string_value(json_object_get(lost, "level")), "error");
    cr_assert(strstr(json_string_value(json_object_get(json_object_get(lost, "message"), "text")),
                     "3 findings counted by the detector but not read"),
              "%s", json_dumps(lost, 0));
    json_decref(doc);
    assert_sarif_valid(sarif);
    cmd_result_free(&r);
    free(sarif);

    char *race = slurp(FIXTURE("race.jsonl"));
    fp = fopen(f, "w");
    fputs(race, fp);
    fputs("{\"kind\":\"summary\",\"pid\":4242,\"findings\":3,\"suppressed\":0}\n", fp);
    fclose(fp);
    r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "%s", r.err);
    cr_assert(strstr(r.out, "1 finding (1 concurrent-read-write)"), "%s", r.out);
    cr_assert(strstr(r.out, "more lost"), "%s", r.out);
    cmd_result_free(&r);
    rm_rf(dir);
    free(f);
    free(race);
    free(dir);
}

Test(report, unreadable_file_is_exit_2)
{
    const char *argv[] = {MAPGUARD, "report", "/nonexistent/reports.jsonl", NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "cannot read /nonexistent/reports.jsonl"), "%s", r.err);
    cmd_result_free(&r);
}

/* ---------------------------------------------------------------- issue 11:
 * an input that holds no report must never pass as "no findings". */

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "w");
    cr_assert(fp, "cannot create %s", path);
    cr_assert_eq(fwrite(data, 1, n, fp), n);
    fclose(fp);
}

Test(report, directory_is_exit_2)
{
    char *dir = test_tmpdir();
    const char *argv[] = {MAPGUARD, "report", dir, NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 2, "a directory must exit 2, got %d\n%s%s", r.status, r.out, r.err);
    cr_assert(strstr(r.err, "is a directory"), "%s", r.err);
    cr_assert_null(strstr(r.out, "no findings"), "%s", r.out);
    cmd_result_free(&r);
    rm_rf(dir);
    free(dir);
}

Test(report, random_bytes_are_exit_2)
{
    char *dir = test_tmpdir();
    char *f = path_join(dir, "random.bin");
    static unsigned char buf[256 * 1024];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    write_file(f, buf, sizeof buf);
    const char *argv[] = {MAPGUARD, "report", f, NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 2, "random bytes must exit 2, got %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "random.bin holds no mapguard report record"), "%s", r.err);
    /* About a thousand bad lines: the first few are named, the rest counted,
     * so the message that matters is not buried. */
    cr_assert_eq(count_str(r.err, "not a mapguard report record"), 5, "%s", r.err);
    cr_assert(strstr(r.err, "more lines that are not mapguard report records were skipped"), "%s",
              r.err);
    cmd_result_free(&r);
    rm_rf(dir);
    free(f);
    free(dir);
}

Test(report, file_without_records_is_exit_2)
{
    char *dir = test_tmpdir();
    char *empty = path_join(dir, "empty.jsonl"), *other = path_join(dir, "other.jsonl");
    write_file(empty, "", 0);
    /* JSON Lines, but not the detector's: no kind, or no pid. */
    const char *json = "{\"a\":1}\n[1,2]\n{\"kind\":\"summary\"}\n\n";
    write_file(other, json, strlen(json));
    const char *argv[] = {MAPGUARD, "report", empty, NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 2, "an empty file must exit 2, got %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "empty.jsonl holds no mapguard report record (it is empty)"), "%s",
              r.err);
    cmd_result_free(&r);

    /* With a good file beside it: still 2, and the good file is rendered. */
    const char *argv2[] = {MAPGUARD, "report", other, FIXTURE("race.jsonl"), NULL};
    r = run_cmd(argv2, NULL);
    cr_assert_eq(r.status, 2, "got %d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "other.jsonl holds no mapguard report record"), "%s", r.err);
    cr_assert(strstr(r.out, "SUMMARY: mapguard: 1 finding"), "%s", r.out);
    cmd_result_free(&r);
    rm_rf(dir);
    free(empty);
    free(other);
    free(dir);
}

Test(report, bad_lines_among_records_are_skipped_with_a_count)
{
    char *dir = test_tmpdir();
    char *f = path_join(dir, "mixed.jsonl");
    char *race = slurp(FIXTURE("race.jsonl"));
    FILE *fp = fopen(f, "w");
    for (int i = 0; i < 8; i++)
        fprintf(fp, "garbage line %d\n", i);
    fputs(race, fp);
    fclose(fp);
    const char *argv[] = {MAPGUARD, "report", f, NULL};
    cmd_result r = run_cmd(argv, NULL);
    cr_assert_eq(r.status, 66, "valid records with some bad lines: the findings count, got %d\n%s",
                 r.status, r.err);
    cr_assert_eq(count_str(r.err, "not a mapguard report record"), 5, "%s", r.err);
    cr_assert(strstr(r.err, "mixed.jsonl:1: not a mapguard report record"), "%s", r.err);
    cr_assert(strstr(r.err, "mixed.jsonl: 3 more lines that are not mapguard report records"),
              "%s", r.err);
    cr_assert(strstr(r.out, "Reported 4 times by pid 4242"), "%s", r.out);
    cmd_result_free(&r);
    rm_rf(dir);
    free(f);
    free(race);
    free(dir);
}

Test(report, output_ends_with_a_newline)
{
    const char *const cases[][6] = {
        {MAPGUARD, "report", FIXTURE("race.jsonl"), NULL},
        {MAPGUARD, "report", "-q", FIXTURE("misuse.jsonl"), NULL},
        {MAPGUARD, "report", FIXTURE("crash.jsonl"), NULL},
        {MAPGUARD, "report", "-q", FIXTURE("crash.jsonl"), NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cmd_result r = run_cmd(cases[i], NULL);
        size_t n = strlen(r.out);
        cr_assert_gt(n, 0, "case %zu printed nothing", i);
        cr_assert_eq(r.out[n - 1], '\n', "case %zu: the last line has no newline:\n%s", i, r.out);
        cmd_result_free(&r);
    }
}

/* Peak resident memory (KB) of `mapguard report -q FILE`. */
static long report_maxrss_kb(const char *file)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        /* A small quarantine, so that under ASan freed records are not all
         * kept alive and counted. */
        setenv("ASAN_OPTIONS", "detect_leaks=0:quarantine_size_mb=1", 1);
        execl(MAPGUARD, MAPGUARD, "report", "-q", file, (char *)NULL);
        _exit(127);
    }
    int st;
    struct rusage ru;
    cr_assert_eq(wait4(pid, &st, 0, &ru), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 66, "report %s: wait status 0x%x", file, st);
    return ru.ru_maxrss;
}

Test(report, memory_stays_bounded_on_a_large_log, .timeout = 60)
{
    /* The same finding 16,000 times (24 MB) from a few processes: reading it
     * must cost about what reading a handful of records costs. Holding every
     * record took about 9 bytes of memory per byte of log. */
    char *dir = test_tmpdir();
    char *small = path_join(dir, "small.jsonl"), *large = path_join(dir, "large.jsonl");
    char *race = slurp(FIXTURE("race.jsonl"));
    size_t first = strcspn(race, "\n");
    const char *rest = strstr(race, "\"pid\":4242,");
    cr_assert(rest && (size_t)(rest - race) < first);
    const char *after_pid = rest + strlen("\"pid\":4242,");
    /* skip "map":...,"id":N, in the fixture line, to put our own id there */
    const char *tail = strstr(after_pid, "\"access\"");
    cr_assert(tail && (size_t)(tail - race) < first);
    size_t head_len = (size_t)(rest - race), tail_len = first - (size_t)(tail - race);
    FILE *fs = fopen(small, "w"), *fl = fopen(large, "w");
    cr_assert(fs && fl);
    size_t bytes = 0;
    for (long i = 1; i <= 16000; i++) {
        char mid[128];
        int m = snprintf(mid, sizeof mid, "\"pid\":%ld,\"map\":\"0x55d0c0a012a0\",\"id\":%ld,",
                         4000 + i % 4, i);
        for (FILE *fp = fl;; fp = fs) {
            fwrite(race, 1, head_len, fp);
            fwrite(mid, 1, (size_t)m, fp);
            fwrite(tail, 1, tail_len, fp);
            fputc('\n', fp);
            if (fp == fs || i > 10)
                break;
        }
        bytes += head_len + (size_t)m + tail_len + 1;
    }
    fclose(fs);
    fclose(fl);
    cr_assert_gt(bytes, (size_t)20 << 20);
    long base = report_maxrss_kb(small), big = report_maxrss_kb(large);
    cr_log_info("maxrss: %ld KB for 11 records, %ld KB for %zu bytes of records", base, big, bytes);
    cr_assert_lt(big - base, 16 * 1024,
                 "a 24 MB log took %ld KB more than 11 records (%ld KB): records are held, not "
                 "streamed", big - base, base);
    rm_rf(dir);
    free(small);
    free(large);
    free(race);
    free(dir);
}
