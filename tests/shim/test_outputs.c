/*
 * Where reports go, and what may stand in their way: whole lines on a pipe
 * shared by many processes, a log path someone else prepared (a FIFO, a
 * directory, another user's file), and suppressions files of every kind of
 * wrong.
 *
 * These runs need more than run_prog gives: stderr on a pipe, something
 * planted at log_path.<pid> before the program starts (the test forks, the
 * child plants at its own pid and execs: exec keeps the pid), another
 * shim, and a short timeout, so that a hang fails the test quickly rather
 * than stalling the suite.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define TIMEOUT_MS 20000
#define PROG "mg_outputs"

static const char *shim_path(void)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/lib/libmapguard.so", BUILD_DIR);
    return p;
}

/* The run's directory, before anything is launched into it. */
static void begin(struct run *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "/tmp/mgtest.XXXXXX");
    cr_assert(mkdtemp(r->dir), "mkdtemp: %s", strerror(errno));
    r->lines = json_array();
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
    *buf = realloc(*buf, *len + n + 1);
    memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = 0;
}

static char *slurp(const char *path)
{
    char *buf = NULL, chunk[4096];
    size_t len = 0;
    append(&buf, &len, "", 0);
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        return buf;
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        append(&buf, &len, chunk, (size_t)n);
    close(fd);
    return buf;
}

/* Every JSON line of text (lines not starting with '{' are the shim's
 * diagnostics), each checked against the schema and, when max is not 0,
 * for its length with the newline. */
static void take_lines(struct run *r, const char *what, char *text, size_t max)
{
    int lineno = 0;
    for (char *save, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (line[0] != '{')
            continue;
        if (max)
            cr_assert_leq(strlen(line) + 1, max, "%s:%d is %zu bytes, over %zu", what, lineno, strlen(line) + 1, max);
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        cr_assert(o, "%s:%d is not JSON (%s): %.300s", what, lineno, je.text, line);
        char err[1024];
        cr_assert(schema_validate(o, err, sizeof err), "%s:%d violates the schema: %s\n%.2000s", what, lineno, err,
                  line);
        json_array_append_new(r->lines, o);
    }
}

typedef void plant_fn(const char *dir, pid_t pid);

/*
 * Runs tests/progs/prog arg... under preload with MAPGUARD_OPTIONS=opts.
 * plant, if set, runs in the child before exec, with the pid the program
 * will have. err_pipe: stderr is a pipe read here, and every JSON line on it
 * must be at most PIPE_BUF bytes; otherwise stderr is a file. JSON lines of
 * log files in the run's directory are collected too.
 */
static void launch(struct run *r, const char *preload, const char *opts, plant_fn *plant, bool err_pipe,
                   const char *prog, const char *arg1, const char *arg2)
{
    char path[512], outp[256], errp[256], pre[600], mo[4200];
    snprintf(path, sizeof path, "%s/tests/progs/%s", BUILD_DIR, prog);
    snprintf(outp, sizeof outp, "%s/stdout", r->dir);
    snprintf(errp, sizeof errp, "%s/stderr", r->dir);
    snprintf(pre, sizeof pre, "LD_PRELOAD=%s", preload ? preload : shim_path());
    snprintf(mo, sizeof mo, "MAPGUARD_OPTIONS=%s", opts ? opts : "");
    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    char **env = calloc(nenv + 3, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < nenv; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) && strncmp(environ[i], "MAPGUARD_OPTIONS=", 17))
            env[k++] = environ[i];
    env[k++] = pre;
    env[k++] = mo;
    char *argv[] = {path, (char *)arg1, (char *)arg2, NULL};
    int p[2] = {-1, -1};
    if (err_pipe)
        cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        if (plant)
            plant(r->dir, getpid());
        int in = open("/dev/null", O_RDONLY), out = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = err_pipe ? p[1] : open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            _exit(127);
        if (err_pipe)
            close(p[0]);
        execve(path, argv, env);
        _exit(127);
    }
    free(env);
    r->pid = (int)pid;
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char *errtext = NULL;
    size_t errlen = 0;
    append(&errtext, &errlen, "", 0);
    if (err_pipe) {
        close(p[1]);
        for (;;) {
            struct pollfd pf = {.fd = p[0], .events = POLLIN};
            int ready = poll(&pf, 1, 100);
            if (ready > 0) {
                char chunk[65536];
                ssize_t n = read(p[0], chunk, sizeof chunk);
                if (n <= 0)
                    break;
                append(&errtext, &errlen, chunk, (size_t)n);
            }
            clock_gettime(CLOCK_MONOTONIC, &now);
            if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 > TIMEOUT_MS)
                break;
        }
        close(p[0]);
    }
    int status = 0;
    for (;;) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 > TIMEOUT_MS) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            cr_assert_fail("%s %s did not finish in %d ms", prog, arg1 ? arg1 : "", TIMEOUT_MS);
        }
        usleep(2000);
    }
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r->out = slurp(outp);
    if (err_pipe) {
        r->err = errtext;
        char *copy = strdup(errtext);
        take_lines(r, "stderr (a pipe)", copy, PIPE_BUF);
        free(copy);
    } else {
        free(errtext);
        r->err = slurp(errp);
    }
    DIR *d = opendir(r->dir);
    cr_assert(d);
    for (struct dirent *de; (de = readdir(d));) {
        if (strncmp(de->d_name, "log.", 4))
            continue;
        char lp[512];
        snprintf(lp, sizeof lp, "%s/%s", r->dir, de->d_name);
        struct stat st;
        if (lstat(lp, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        r->nfiles++;
        char *text = slurp(lp);
        take_lines(r, lp, text, 0);
        free(text);
    }
    closedir(d);
}

static size_t count_lines_with(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static json_t *stack_of(json_t *finding, const char *party)
{
    return json_object_get(json_object_get(finding, party), "stack");
}

/* ---- whole lines on a shared pipe ---- */

/* 16 children report a use-after-free some 10 KB long at once on the one
 * stderr pipe: each line must arrive whole (valid JSON, at most PIPE_BUF,
 * so that the kernel writes it atomically), with the frames that matter. */
static void sixteen_on_a_pipe(const char *opts, const char *uses, size_t want)
{
    struct run r;
    begin(&r);
    launch(&r, NULL, opts, NULL, true, PROG, "fork16", uses);
    cr_assert(strstr(r.out, "children not exiting 66: 0"), "stdout: %s", r.out);
    cr_assert_eq(count_kind(&r, "use-after-free"), want, "%zu findings on the pipe, want %zu",
                 count_kind(&r, "use-after-free"), want);
    cr_assert_eq(count_summaries(&r), 16, "one summary per child");
    for (size_t i = 0; i < want; i++) {
        json_t *f = find_kind(&r, "use-after-free", i);
        cr_assert(json_is_true(json_object_get(f, "truncated")), "frames were dropped: says so");
        assert_frame_at(stack_of(f, "access"), 0, PROG, "use");
        assert_frame_at(stack_of(f, "freed"), 0, PROG, "free");
        /* the free's stack gives way before the access's */
        cr_assert_eq(json_array_size(stack_of(f, "freed")), 1);
        cr_assert_gt(json_array_size(stack_of(f, "access")), 5);
    }
    run_free(&r);
}

Test(outputs, sixteen_processes_on_one_pipe_write_whole_lines)
{
    sixteen_on_a_pipe(NULL, NULL, 16);
}

Test(outputs, sixteen_processes_on_one_pipe_without_dedup)
{
    sixteen_on_a_pipe("dedup=0", "8", 16 * 8);
}

Test(outputs, text_reports_on_a_pipe_stay_within_pipe_buf)
{
    struct run r;
    begin(&r);
    launch(&r, NULL, "format=text", NULL, true, PROG, "fork16", NULL);
    cr_assert_eq(count_lines_with(r.err, "WARNING: mapguard: map used after free"), 16, "%s", r.err);
    /* each report is one write: from its "=====\nWARNING" to its closing "=====\n" */
    const char *p = r.err;
    for (int i = 0; i < 16; i++) {
        const char *a = strstr(p, "==================\nWARNING");
        cr_assert(a);
        const char *b = strstr(a + 19, "\n==================\n");
        cr_assert(b);
        size_t len = (size_t)(b + 20 - a);
        cr_assert_leq(len, PIPE_BUF, "report %d is %zu bytes", i, len);
        cr_assert(memmem(a, len, "frames dropped", 14), "report %d does not say frames were dropped", i);
        cr_assert_null(memmem(a + 26, len - 26, "WARNING", 7), "report %d has another inside it", i);
        p = b + 20;
    }
    run_free(&r);
}

/* 70 findings: the summary's recurrences would take some 8 KB */
Test(outputs, the_summary_on_a_pipe_stays_within_pipe_buf)
{
    struct run r;
    begin(&r);
    launch(&r, NULL, NULL, NULL, true, PROG, "many", NULL);
    cr_assert_eq(count_kind(&r, "nil-map-write"), 70);
    json_t *s = find_summary(&r, 0);
    cr_assert(s);
    cr_assert_eq(json_integer_value(json_object_get(s, "findings")), 70);
    cr_assert(json_is_true(json_object_get(s, "truncated")), "recurrences were left out: says so");
    size_t n = json_array_size(json_object_get(s, "recurrences"));
    cr_assert(n > 10 && n < 70, "%zu recurrences", n);
    run_free(&r);
    begin(&r);
    char opts[300];
    snprintf(opts, sizeof opts, "log_path=%s/log", r.dir);
    launch(&r, NULL, opts, NULL, false, PROG, "many", NULL);
    s = find_summary(&r, 0);
    cr_assert_eq(json_array_size(json_object_get(s, "recurrences")), 70, "a file gets them all");
    cr_assert_null(json_object_get(s, "truncated"));
    run_free(&r);
}

Test(outputs, a_log_file_gets_whole_lines_of_any_size)
{
    struct run r;
    begin(&r);
    char opts[300];
    snprintf(opts, sizeof opts, "log_path=%s/log", r.dir);
    launch(&r, NULL, opts, NULL, false, PROG, "fork16", NULL);
    cr_assert_eq(count_kind(&r, "use-after-free"), 16);
    json_t *f = find_kind(&r, "use-after-free", 0);
    cr_assert_null(json_object_get(f, "truncated"));
    /* the whole stack as captured: 40 calls deep, stack_depth (32) kept */
    cr_assert_geq(json_array_size(stack_of(f, "access")), 32);
    cr_assert_geq(json_array_size(stack_of(f, "freed")), 32);
    char *line = json_dumps(f, JSON_COMPACT);
    cr_assert_gt(strlen(line), PIPE_BUF, "the line is long: %zu bytes", strlen(line));
    free(line);
    run_free(&r);
}

/* ---- a log path someone else prepared ---- */

static void plant_fifo(const char *dir, pid_t pid)
{
    char p[300];
    snprintf(p, sizeof p, "%s/log.%d", dir, (int)pid);
    if (mkfifo(p, 0666) != 0)
        _exit(126);
}

/* the same, with a reader: the open succeeds, and only fstat can tell */
static void plant_fifo_with_reader(const char *dir, pid_t pid)
{
    char p[300];
    snprintf(p, sizeof p, "%s/log.%d", dir, (int)pid);
    if (mkfifo(p, 0666) != 0 || open(p, O_RDONLY | O_NONBLOCK) < 0)
        _exit(126);
}

/* a symlink to a file of ours, which must stay empty */
static void plant_symlink(const char *dir, pid_t pid)
{
    char p[300], target[300];
    snprintf(p, sizeof p, "%s/log.%d", dir, (int)pid);
    snprintf(target, sizeof target, "%s/target", dir);
    int fd = open(target, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || symlink(target, p) != 0)
        _exit(126);
    close(fd);
}

/* a hard link to a file of ours, which must stay empty */
static void plant_hard_link(const char *dir, pid_t pid)
{
    char p[300], target[300];
    snprintf(p, sizeof p, "%s/log.%d", dir, (int)pid);
    snprintf(target, sizeof target, "%s/target", dir);
    int fd = open(target, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || link(target, p) != 0)
        _exit(126);
    close(fd);
}

static void plant_dir(const char *dir, pid_t pid)
{
    char p[300];
    snprintf(p, sizeof p, "%s/log.%d", dir, (int)pid);
    if (mkdir(p, 0777) != 0)
        _exit(126);
}

/* a file nobody (uid 65534) owns, writable by all */
static void plant_others_file(const char *dir, pid_t pid)
{
    char p[300];
    snprintf(p, sizeof p, "%s/log.%d", dir, (int)pid);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0 || fchown(fd, 65534, 65534) != 0 || fchmod(fd, 0666) != 0)
        _exit(126);
    close(fd);
}

/* A clean program with something planted at its log path: it finishes,
 * exits 0, says so on stdout, and the shim says once what it found there. */
static void planted(plant_fn *plant, const char *what, const char *prog, const char *arg)
{
    struct run r;
    begin(&r);
    char opts[300];
    snprintf(opts, sizeof opts, "log_path=%s/log", r.dir);
    launch(&r, NULL, opts, plant, false, prog, arg, NULL);
    cr_assert_neq(r.status, 126, "could not plant %s", what);
    cr_assert_eq(r.status, 0, "status %d; stderr:\n%s", r.status, r.err);
    cr_assert_eq(count_lines_with(r.err, "\n"), 1, "want one warning line, got:\n%s", r.err);
    char want[300];
    snprintf(want, sizeof want, "log_path '%s/log.%d' %s", r.dir, r.pid, what);
    cr_assert(strstr(r.err, want), "want \"%s\" in:\n%s", want, r.err);
    cr_assert(strstr(r.err, "reporting to stderr"), "%s", r.err);
    cr_assert_eq(json_array_size(r.lines), 0, "nothing was written to what was planted");
    char target[300];
    snprintf(target, sizeof target, "%s/target", r.dir);
    struct stat st;
    cr_assert(stat(target, &st) != 0 || st.st_size == 0, "the symlink's target was written to");
    run_free(&r);
}

/* A log file whose open fails (here no such directory; in a sandbox, a
 * seccomp filter that refuses open: man-db runs its helpers so) is not
 * mentioned by a clean run, in either format: the process prints nothing
 * of ours, as any clean one. The reason comes with the first finding
 * (options/unwritable_log_path_falls_back_to_stderr). */
static void refused_log_in_a_clean_run(const char *format)
{
    char opts[100];
    snprintf(opts, sizeof opts, "log_path=/nonexistent/dir/mg:format=%s", format);
    struct run r;
    run_prog_raw(&r, PROG, "clean", opts);
    cr_assert_eq(r.status, 0, "status %d; stderr:\n%s", r.status, r.err);
    cr_assert_str_eq(r.err, "", "format=%s: nothing on stderr, got:\n%s", format, r.err);
    run_free(&r);
}

Test(outputs, a_log_file_that_cannot_be_opened_is_not_mentioned_by_a_clean_run)
{
    refused_log_in_a_clean_run("json");
    refused_log_in_a_clean_run("text");
}

Test(outputs, a_fifo_at_the_log_path_does_not_hang)
{
    planted(plant_fifo, "is a FIFO, not a regular file", PROG, "clean");
}

Test(outputs, a_fifo_with_a_reader_at_the_log_path_is_refused)
{
    planted(plant_fifo_with_reader, "is a FIFO, not a regular file", PROG, "clean");
}

/* exec.c opens the log file for each of its records: failed exec calls
 * with a FIFO there must not hang either, nor warn again */
Test(outputs, exec_records_with_a_fifo_at_the_log_path)
{
    planted(plant_fifo, "is a FIFO, not a regular file", "mg_exec", "fail");
}

Test(outputs, a_symlink_at_the_log_path_is_refused)
{
    planted(plant_symlink, "is a symbolic link, not a regular file", PROG, "clean");
}

Test(outputs, a_hard_link_at_the_log_path_is_refused)
{
    planted(plant_hard_link, "has other hard links to it", PROG, "clean");
}

Test(outputs, a_directory_at_the_log_path)
{
    planted(plant_dir, "is a directory, not a regular file", PROG, "clean");
}

Test(outputs, a_file_of_another_user_at_the_log_path_is_refused)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to give a file to another user");
    planted(plant_others_file, "belongs to another user (uid 65534)", PROG, "clean");
}

Test(outputs, a_finding_goes_to_stderr_when_the_log_path_is_refused)
{
    struct run r;
    begin(&r);
    char opts[300];
    snprintf(opts, sizeof opts, "log_path=%s/log", r.dir);
    launch(&r, NULL, opts, plant_fifo, false, "mg_misuse", "nil_set", NULL);
    cr_assert_eq(r.status, 66);
    cr_assert(strstr(r.err, "is a FIFO"), "%s", r.err);
    cr_assert(strstr(r.err, "\"kind\":\"nil-map-write\""), "%s", r.err);
    run_free(&r);
}

/* ---- suppressions files ---- */

static const char *supp_file(const char *name, const char *text, size_t len)
{
    const char *path = temp_path(name);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    cr_assert_eq(fwrite(text, 1, len, f), len);
    fclose(f);
    return path;
}

/* mg_misuse nil_set (one nil-map-write) or mg_outputs clean, with
 * suppressions=path, under preload (NULL: the build's shim). */
static void run_supp(struct run *r, const char *preload, const char *path, const char *prog, const char *scenario)
{
    begin(r);
    char opts[600];
    snprintf(opts, sizeof opts, "log_path=%s/log:suppressions=%s", r->dir, path);
    launch(r, preload, opts, NULL, false, prog, scenario, NULL);
}

static void assert_refused(struct run *r, const char *why, size_t findings)
{
    cr_assert(strstr(r->err, why), "want \"%s\" in:\n%s", why, r->err);
    cr_assert(strstr(r->err, "; no suppressions apply\n"), "%s", r->err);
    cr_assert_eq(count_lines_with(r->err, "\n"), 1, "one line:\n%s", r->err);
    cr_assert_eq(count_kind(r, NULL), findings, "%s", r->err);
    cr_assert_eq(r->status, findings ? 66 : 0);
}

Test(outputs, a_long_commented_out_suppression_suppresses_nothing)
{
    /* 1023 bytes of comment, then what fgets into 1 KiB made a rule of */
    char text[2048];
    text[0] = '#';
    memset(text + 1, 'x', 1022);
    strcpy(text + 1023, "nil-map-write:nil_set\n");
    struct run r;
    run_supp(&r, NULL, supp_file("long", text, strlen(text)), "mg_misuse", "nil_set");
    cr_assert_eq(count_kind(&r, "nil-map-write"), 1, "the comment hid the finding:\n%s", r.err);
    cr_assert_str_eq(r.err, "", "a comment is no error");
    run_free(&r);
    /* and a long rule is one rule */
    memcpy(text, "nil-map-write:", 14);
    memset(text + 14, 'y', 1500);
    strcpy(text + 1514, "*nil_set\n");
    run_supp(&r, NULL, supp_file("long", text, strlen(text)), "mg_misuse", "nil_set");
    cr_assert_eq(count_kind(&r, NULL), 1, "'yyy...*nil_set' matches no frame");
    run_free(&r);
    memset(text + 14, '*', 1500);
    run_supp(&r, NULL, supp_file("long", text, strlen(text)), "mg_misuse", "nil_set");
    cr_assert_eq(count_kind(&r, NULL), 0, "'****...*nil_set' matches nil_set");
    cr_assert_eq(r.status, 0);
    run_free(&r);
}

Test(outputs, an_unknown_kind_in_suppressions_is_an_error)
{
    struct run r;
    const char *text = "nil-map-write:nil_set\nnil-map-wirte:nil_set\n";
    run_supp(&r, NULL, supp_file("kind", text, strlen(text)), "mg_misuse", "nil_set");
    assert_refused(&r, "line 2: unknown kind 'nil-map-wirte'", 1);
    run_free(&r);
    text = "nil-map-write nil_set\n";
    run_supp(&r, NULL, supp_file("kind", text, strlen(text)), "mg_misuse", "nil_set");
    assert_refused(&r, "line 1: want kind:pattern", 1);
    run_free(&r);
}

Test(outputs, a_missing_suppressions_file_is_named_even_in_a_clean_run)
{
    struct run r;
    run_supp(&r, NULL, "/nonexistent/supp", PROG, "clean");
    assert_refused(&r, "cannot read suppressions file '/nonexistent/supp': No such file or directory", 0);
    run_free(&r);
}

Test(outputs, a_directory_as_suppressions_file_is_an_error)
{
    struct run r;
    run_supp(&r, NULL, "/tmp", PROG, "clean");
    assert_refused(&r, "suppressions file '/tmp' is a directory", 0);
    run_free(&r);
}

Test(outputs, dev_zero_as_suppressions_file_ends)
{
    struct run r;
    run_supp(&r, NULL, "/dev/zero", "mg_misuse", "nil_set");
    assert_refused(&r, "suppressions file '/dev/zero' is a character device", 1);
    run_free(&r);
}

Test(outputs, a_suppressions_file_that_is_not_text_is_an_error)
{
    struct run r;
    run_supp(&r, NULL, supp_file("nul", "nil-map-write:nil_set\n\0\n", 24), "mg_misuse", "nil_set");
    assert_refused(&r, "is not text (it holds a NUL byte)", 1);
    run_free(&r);
    run_supp(&r, NULL, supp_file("latin1", "nil-map-write:nil_set\n# caf\xe9\n", 28), "mg_misuse", "nil_set");
    assert_refused(&r, "is not text (it is not UTF-8)", 1);
    run_free(&r);
}

/* libmapguard.so alone in a directory: no symbolizer, no renderer, the
 * record is written by hand; a rule on the module still applies. */
Test(outputs, suppressions_apply_without_the_symbolizer)
{
    char dir[] = "/tmp/mgshim.XXXXXX", shim[256], cmd[1200];
    cr_assert(mkdtemp(dir));
    snprintf(shim, sizeof shim, "%s/libmapguard.so", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", shim_path(), shim);
    cr_assert_eq(system(cmd), 0);
    const char *text = "nil-map-write:/mg_misuse$\n";
    const char *supp = supp_file("module", text, strlen(text));
    struct run r;
    run_supp(&r, shim, supp, "mg_misuse", "nil_set");
    cr_assert(strstr(r.err, "cannot load the symbolizer"), "run without it: %s", r.err);
    cr_assert_eq(count_kind(&r, NULL), 0, "the rule did not apply to the record by hand");
    json_t *s = find_kind_of_pid(&r, "summary", r.pid);
    cr_assert(s);
    cr_assert_eq(json_integer_value(json_object_get(s, "suppressed")), 1);
    cr_assert_eq(r.status, 0);
    run_free(&r);
    /* the same rule on another kind leaves it */
    text = "double-free:/mg_misuse$\n";
    run_supp(&r, shim, supp_file("module", text, strlen(text)), "mg_misuse", "nil_set");
    cr_assert_eq(count_kind(&r, "nil-map-write"), 1);
    run_free(&r);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* An empty log_path is log_path unset, as ASan takes it: reports on stderr,
 * no warning (docs/options.md). */
Test(outputs, an_empty_log_path_is_stderr)
{
    struct run r;
    run_prog_raw(&r, "mg_misuse", "nil_set", "log_path=:format=json");
    cr_assert_eq(r.status, 66, "%d\n%s", r.status, r.err);
    cr_assert(strstr(r.err, "\"kind\":\"nil-map-write\""), "%s", r.err);
    cr_assert_null(strstr(r.err, "warning"), "%s", r.err);
    cr_assert_eq(r.nfiles, 0);
    run_free(&r);
}

/* ---- a program that owns its descriptor table ---- */

/* closefrom(3) closes the log file's descriptor and the program's next
 * file takes its number: the reports still reach the log (opened again),
 * never the program's file, and a forked child's descriptor is not closed
 * under it (the child's fork handler closes only what is still the log). */
Test(outputs, a_program_that_closes_every_descriptor_keeps_its_files_and_our_reports)
{
    struct run r;
    begin(&r);
    char opts[300];
    snprintf(opts, sizeof opts, "log_path=%s/log", r.dir);
    launch(&r, NULL, opts, NULL, false, PROG, "closefrom", NULL);
    cr_assert(strstr(r.out, "child ok"), "stdout: %s\nstderr: %s", r.out, r.err);
    cr_assert(strstr(r.out, "data intact"), "stdout: %s\nstderr: %s", r.out, r.err);
    cr_assert_eq(r.status, 66, "status %d\n%s", r.status, r.err);
    cr_assert_eq(r.nfiles, 2, "the parent's log and the child's");
    cr_assert_eq(count_kind(&r, "nil-map-write"), 2, "the parent's finding and the child's");
    for (size_t i = 0; i < 2; i++)
        assert_frame_at(stack_of(find_kind(&r, "nil-map-write", i), "access"), 0, PROG, "nil_set");
    cr_assert_eq(count_summaries(&r), 1, "the parent's (the child leaves by _exit, which writes none)");
    run_free(&r);
}

/* stderr a pipe nobody reads: the report's write fails (EPIPE) without
 * the SIGPIPE that would kill the program; the finding still sets the
 * exit status. */
Test(outputs, a_report_to_a_broken_stderr_pipe_does_not_kill_the_program)
{
    struct run r;
    begin(&r);
    launch(&r, NULL, NULL, NULL, false, PROG, "epipe", NULL);
    cr_assert(strstr(r.out, "survived"), "stdout: %s", r.out);
    cr_assert_eq(r.status, 66, "status %d (141: killed by SIGPIPE)", r.status);
    run_free(&r);
}

/* The log file is kept above the standard descriptors (fd_aside.h): a
 * program started with stdout closed got the log at number 1, and its own
 * output went into the log, glued to its finding, which was lost */
Test(outputs, a_program_started_with_stdout_closed_keeps_its_numbers_and_its_finding)
{
    struct run r;
    begin(&r);
    char opts[300];
    snprintf(opts, sizeof opts, "log_path=%s/log", r.dir);
    launch(&r, NULL, opts, NULL, false, PROG, "stdout_closed", NULL);
    cr_assert(strstr(r.err, "write=-1 first_open=1\n"), "stderr: %s", r.err);
    cr_assert_eq(count_kind(&r, "nil-map-write"), 1, "the finding is in the log, whole\nstderr: %s", r.err);
    run_free(&r);
}

/* A forked child that cannot open log_path.<pid> reports into its
 * parent's log file, which `mapguard run` reads, rather than to stderr,
 * which it does not. */
static void child_reports_in_parents_log(const char *scenario, bool symbolized)
{
    struct run r;
    begin(&r);
    char opts[300];
    snprintf(opts, sizeof opts, "log_path=%s/log", r.dir);
    launch(&r, NULL, opts, NULL, false, PROG, scenario, NULL);
    if (strstr(r.out, "not root")) {
        run_free(&r);
        cr_skip_test("needs root to drop privileges");
    }
    const char *c = strstr(r.out, "child ");
    cr_assert(c, "stdout: %s\nstderr: %s", r.out, r.err);
    long child = strtol(c + 6, NULL, 10);
    cr_assert_eq(r.status, 0, "status %d\n%s", r.status, r.err);
    cr_assert_eq(count_kind(&r, "nil-map-write"), 1, "the child's finding is in a log file\nstderr: %s", r.err);
    json_t *f = find_kind(&r, "nil-map-write", 0);
    cr_assert_eq(json_integer_value(json_object_get(f, "pid")), child);
    /* with no descriptor left the symbolizer cannot open the program:
     * module+offset frames, as docs/report-format.md says */
    if (symbolized)
        assert_frame_at(stack_of(f, "access"), 0, PROG, "nil_set");
    else
        cr_assert_str_eq(json_string_value(json_object_get(f, "kind")), "nil-map-write");
    cr_assert(strstr(r.err, "reporting to the log file inherited from the parent process"), "%s", r.err);
    run_free(&r);
}

Test(outputs, a_child_out_of_descriptors_reports_in_its_parents_log)
{
    child_reports_in_parents_log("fork_no_fds", false);
}

Test(outputs, a_child_that_dropped_privileges_reports_in_its_parents_log)
{
    child_reports_in_parents_log("setuid_fork", true);
}
