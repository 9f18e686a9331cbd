/*
 * See harness.h.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define TIMEOUT_MS 60000

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, 4096, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = 0;
    return buf;
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

static void collect(struct run *r)
{
    r->lines = json_array();
    struct dirent **names;
    int n = scandir(r->dir, &names, NULL, by_name);
    for (int i = 0; i < n; i++) {
        if (!strncmp(names[i]->d_name, "log.", 4)) {
            char path[512];
            snprintf(path, sizeof path, "%s/%s", r->dir, names[i]->d_name);
            r->nfiles++;
            char *text = slurp(path);
            int lineno = 0;
            for (char *save, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                lineno++;
                json_error_t je;
                json_t *o = json_loads(line, 0, &je);
                cr_assert(o, "%s:%d is not JSON (%s): %.200s", path, lineno, je.text, line);
                char err[1024];
                cr_assert(schema_validate(o, err, sizeof err), "%s:%d violates the schema: %s\n%.2000s", path,
                          lineno, err, line);
                json_array_append_new(r->lines, o);
            }
            free(text);
        }
        free(names[i]);
    }
    free(names);
}

/* with_log: MAPGUARD_OPTIONS is log_path=<dir>/log, then mgopts. */
static void spawn(struct run *r, const char *prog, const char *scenario, const char *mgopts, bool with_log,
                  int timeout_ms)
{
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "/tmp/mgtest.XXXXXX");
    cr_assert(mkdtemp(r->dir), "mkdtemp: %s", strerror(errno));

    char path[512], outp[256], errp[256];
    if (prog[0] == '/') /* a program of the system's */
        snprintf(path, sizeof path, "%s", prog);
    else
        snprintf(path, sizeof path, "%s/tests/progs/%s", BUILD_DIR, prog);
    snprintf(outp, sizeof outp, "%s/stdout", r->dir);
    snprintf(errp, sizeof errp, "%s/stderr", r->dir);

    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    char **env = calloc(nenv + 3, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < nenv; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) && strncmp(environ[i], "MAPGUARD_OPTIONS=", 17))
            env[k++] = environ[i];
    char preload[512], opts[4096];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s/lib/libmapguard.so", BUILD_DIR);
    env[k++] = preload;
    if (with_log) {
        snprintf(opts, sizeof opts, "MAPGUARD_OPTIONS=log_path=%s/log%s%s", r->dir, mgopts ? ":" : "",
                 mgopts ? mgopts : "");
        env[k++] = opts;
    } else if (mgopts) {
        snprintf(opts, sizeof opts, "MAPGUARD_OPTIONS=%s", mgopts);
        env[k++] = opts;
    }
    env[k] = NULL;

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    /* "scenario arg" passes two arguments */
    char scen[256] = "", *extra = NULL;
    if (scenario) {
        snprintf(scen, sizeof scen, "%s", scenario);
        extra = strchr(scen, ' ');
        if (extra)
            *extra++ = 0;
    }
    char *argv[] = {path, scenario ? scen : NULL, extra, NULL};
    pid_t pid;
    int e = posix_spawn(&pid, path, &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    cr_assert(e == 0, "posix_spawn %s: %s", path, strerror(e));
    r->pid = (int)pid;

    int status = 0;
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms > timeout_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            cr_assert_fail("%s %s did not finish in %d ms", prog, scenario ? scenario : "", timeout_ms);
        }
        usleep(2000);
    }
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r->out = slurp(outp);
    r->err = slurp(errp);
    collect(r);
}

void run_prog(struct run *r, const char *prog, const char *scenario, const char *options)
{
    spawn(r, prog, scenario, options, true, TIMEOUT_MS);
}

void run_prog_long(struct run *r, const char *prog, const char *scenario, int timeout_ms)
{
    spawn(r, prog, scenario, NULL, true, timeout_ms);
}

void run_prog_raw(struct run *r, const char *prog, const char *scenario, const char *opts_raw)
{
    spawn(r, prog, scenario, opts_raw, false, TIMEOUT_MS);
}

void run_free(struct run *r)
{
    json_decref(r->lines);
    free(r->out);
    free(r->err);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", r->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", r->dir);
}

static bool is_kind(json_t *o, const char *kind)
{
    static const char *const about_the_run[] = {"summary", "hello", "exec", "exec-failed", "spawn",
                                                  "deadly-signal"};
    const char *k = json_string_value(json_object_get(o, "kind"));
    if (!k)
        return false;
    if (kind)
        return !strcmp(k, kind);
    for (size_t i = 0; i < sizeof about_the_run / sizeof about_the_run[0]; i++)
        if (!strcmp(k, about_the_run[i]))
            return false;
    return true;
}

size_t count_kind(const struct run *r, const char *kind)
{
    size_t n = 0, i;
    json_t *o;
    json_array_foreach(r->lines, i, o) n += is_kind(o, kind);
    return n;
}

json_t *find_kind(const struct run *r, const char *kind, size_t nth)
{
    size_t i;
    json_t *o;
    json_array_foreach(r->lines, i, o) if (is_kind(o, kind) && nth-- == 0) return o;
    return NULL;
}

json_t *find_summary(const struct run *r, size_t nth) { return find_kind(r, "summary", nth); }
size_t count_summaries(const struct run *r) { return count_kind(r, "summary"); }

json_t *find_kind_of_pid(const struct run *r, const char *kind, long pid)
{
    size_t i;
    json_t *o;
    json_array_foreach(r->lines, i, o) if (is_kind(o, kind) && json_integer_value(json_object_get(o, "pid")) == pid)
        return o;
    return NULL;
}

void assert_watched_and_clean(const struct run *r, const char *what)
{
    assert_watched_no_finding(r, what);
    cr_assert(find_kind_of_pid(r, "summary", r->pid), "%s: no summary from the program (pid %d)", what, r->pid);
}

void assert_watched_no_finding(const struct run *r, const char *what)
{
    cr_assert_eq(count_kind(r, NULL), 0, "%s: unexpected finding(s):\n%.4000s", what,
                 json_dumps(r->lines, JSON_INDENT(1)));
    cr_assert(find_kind_of_pid(r, "hello", r->pid), "%s: no hello from the program (pid %d): was it watched?\n%.4000s",
              what, r->pid, json_dumps(r->lines, JSON_INDENT(1)));
    size_t i;
    json_t *s;
    json_array_foreach(r->lines, i, s) {
        if (!is_kind(s, "summary"))
            continue;
        cr_assert_eq(json_integer_value(json_object_get(s, "findings")), 0, "%s: %s", what,
                     json_dumps(s, JSON_COMPACT));
        cr_assert_eq(json_integer_value(json_object_get(s, "occurrences")), 0, "%s: detections: %s", what,
                     json_dumps(s, JSON_COMPACT));
        cr_assert_eq(json_array_size(json_object_get(s, "recurrences")), 0, "%s", what);
    }
}

void assert_frame_at(json_t *stack, size_t idx, const char *src, const char *site)
{
    cr_assert(json_is_array(stack), "no stack");
    json_t *fr = json_array_get(stack, idx);
    cr_assert(fr, "stack has no frame %zu (has %zu)", idx, json_array_size(stack));
    const char *file = json_string_value(json_object_get(fr, "file"));
    char want[256];
    snprintf(want, sizeof want, "tests/progs/%s.c", src);
    cr_assert(file, "frame %zu has no file: %s", idx, json_dumps(fr, JSON_COMPACT));
    size_t fl = strlen(file), wl = strlen(want);
    cr_assert(fl >= wl && !strcmp(file + fl - wl, want), "frame %zu file %s, want ...%s", idx, file, want);
    int line = (int)json_integer_value(json_object_get(fr, "line"));
    int expect = site_line(src, site);
    cr_assert_eq(line, expect, "frame %zu of %s is line %d, want %d (@site:%s)", idx, src, line, expect, site);
}

json_t *frame_with_function(json_t *stack, const char *fn)
{
    size_t i;
    json_t *fr;
    json_array_foreach(stack, i, fr) {
        const char *f = json_string_value(json_object_get(fr, "function"));
        if (f && !strcmp(f, fn))
            return fr;
    }
    return NULL;
}

/* The test's temporary files go when its process does. */
static char temp_paths[8][256];
static int temp_count;

static void remove_temps(void)
{
    for (int i = 0; i < temp_count; i++)
        unlink(temp_paths[i]);
}

const char *temp_path(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "/tmp/mgtest-%d-%s", (int)getpid(), name);
    for (int i = 0; i < temp_count; i++)
        if (!strcmp(temp_paths[i], path))
            return path;
    cr_assert(temp_count < 8, "too many temporary files in one test");
    if (temp_count == 0)
        atexit(remove_temps);
    snprintf(temp_paths[temp_count++], sizeof temp_paths[0], "%s", path);
    return path;
}

const char *write_temp(const char *name, const char *text)
{
    const char *path = temp_path(name);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Is entry NAME=... named in add (NULL-terminated NAME=value list)? */
static bool env_replaced(const char *entry, const char *const *add)
{
    for (; add && *add; add++) {
        size_t n = strcspn(*add, "=") + 1;
        if (!strncmp(entry, *add, n))
            return true;
    }
    return false;
}

void run_cmd(struct run *r, const struct cmd *c)
{
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "/tmp/mgtest.XXXXXX");
    cr_assert(mkdtemp(r->dir), "mkdtemp: %s", strerror(errno));
    char outp[256], errp[256];
    snprintf(outp, sizeof outp, "%s/stdout", r->dir);
    snprintf(errp, sizeof errp, "%s/stderr", r->dir);

    size_t nenv = 0, nadd = 0;
    while (environ[nenv])
        nenv++;
    while (c->env && c->env[nadd])
        nadd++;
    char **env = calloc(nenv + nadd + 3, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < nenv; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) && strncmp(environ[i], "MAPGUARD_OPTIONS=", 17) &&
            !env_replaced(environ[i], c->env))
            env[k++] = environ[i];
    for (size_t i = 0; i < nadd; i++)
        env[k++] = (char *)c->env[i];
    char preload[512], opts[4096];
    if (c->preload) {
        snprintf(preload, sizeof preload, "LD_PRELOAD=%s/lib/libmapguard.so", BUILD_DIR);
        snprintf(opts, sizeof opts, "MAPGUARD_OPTIONS=log_path=%s/log%s%s", r->dir, c->options ? ":" : "",
                 c->options ? c->options : "");
        env[k++] = preload;
        env[k++] = opts;
    }
    env[k] = NULL;

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, c->in ? c->in : "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (c->cwd)
        posix_spawn_file_actions_addchdir_np(&fa, c->cwd);
    /* its own group: a hung run is killed with every process it started */
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&at, 0);
    pid_t pid;
    int e = posix_spawn(&pid, c->argv[0], &fa, &at, (char *const *)c->argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    free(env);
    cr_assert(e == 0, "posix_spawn %s: %s", c->argv[0], strerror(e));
    r->pid = (int)pid;

    int timeout_ms = c->timeout_ms ? c->timeout_ms : TIMEOUT_MS;
    int status = 0;
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms > timeout_ms) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            cr_assert_fail("%s%s did not finish in %d ms (killed; stderr in %s)", c->argv[0],
                           c->preload ? " under the shim" : "", timeout_ms, errp);
        }
        usleep(2000);
    }
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r->out = slurp(outp);
    r->err = slurp(errp);
    collect(r);
}

void assert_str(json_t *o, const char *key, const char *want)
{
    const char *got = json_string_value(json_object_get(o, key));
    cr_assert(got && !strcmp(got, want), "%s is %s, want %s", key, got ? got : "(none)", want);
}

json_t *assert_one_unordered(const struct run *r, const char *prog, const char *scenario, const char *kind,
                             const char *access_op, const char *access_site, const char *conflict_op,
                             const char *conflict_site)
{
    cr_assert_eq(count_kind(r, NULL), 1, "%s: want one finding, got %zu (exit status %d):\n%s", scenario,
                 count_kind(r, NULL), r->status, r->err);
    json_t *f = find_kind(r, kind, 0);
    cr_assert(f, "%s: no %s finding:\n%s", scenario, kind, r->err);
    assert_str(f, "evidence", "unordered");
    json_t *a = json_object_get(f, "access"), *c = json_object_get(f, "conflict");
    assert_str(a, "op", access_op);
    assert_frame_at(json_object_get(a, "stack"), 0, prog, access_site);
    assert_str(c, "op", conflict_op);
    assert_frame_at(json_object_get(c, "stack"), 0, prog, conflict_site);
    cr_assert(json_is_false(json_object_get(c, "stack_complete")), "the earlier call has its call site only");
    json_int_t ctid = json_integer_value(json_object_get(json_object_get(c, "thread"), "tid"));
    json_int_t atid = json_integer_value(json_object_get(json_object_get(a, "thread"), "tid"));
    cr_assert(ctid > 0, "%s: the earlier call's thread", scenario);
    /* a thread is always ordered with itself: the two calls are two
     * threads', even when the earlier one ended and another thread came */
    cr_assert_neq(ctid, atid, "%s: the earlier call is named by the later call's thread %lld", scenario,
                  (long long)atid);
    assert_frame_at(json_object_get(json_object_get(f, "map_created"), "stack"), 0, prog, "made");
    return f;
}

void assert_scenario_unordered(const char *prog, const char *scenario, const char *kind, const char *access_op,
                               const char *access_site, const char *conflict_op, const char *conflict_site)
{
    struct run r;
    run_prog(&r, prog, scenario, NULL); /* happens_before is on by default */
    /* mg_omp_llvm is mg_omp.c built by clang (Makefile) */
    char src[128];
    size_t n = strlen(prog);
    snprintf(src, sizeof src, "%.*s", (int)(n > 5 && !strcmp(prog + n - 5, "_llvm") ? n - 5 : n), prog);
    assert_one_unordered(&r, src, scenario, kind, access_op, access_site, conflict_op, conflict_site);
    cr_assert_eq(r.status, 66, "%s: exit status %d", scenario, r.status);
    run_free(&r);
}

void assert_scenario_clean(const char *prog, const char *scenario, const char *hint)
{
    struct run r;
    run_prog(&r, prog, scenario, NULL);
    assert_watched_and_clean(&r, scenario);
    cr_assert_eq(r.status, 0, "%s: exit status %d%s%s\n%s", scenario, r.status, hint ? " " : "", hint ? hint : "",
                 r.err);
    run_free(&r);
}
