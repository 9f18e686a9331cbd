/*
 * gomap_shard under the detector: the stress program runs with
 * libmapguard.so preloaded and must produce zero reports (every map call is
 * made under a shard lock), while a program that leaks a sharded map must be
 * reported (so the shim does see the calls libgomapshard makes).
 *
 * Skipped, with a message, while build/lib/libmapguard.so is not built.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BUILD_DIR
#error "BUILD_DIR must be defined by the Makefile"
#endif

#define SHIM BUILD_DIR "/lib/libmapguard.so"
#define PROG BUILD_DIR "/tests/progs/demo_shard_stress"

extern char **environ;

typedef struct result {
    int status;           /* exit status, or 128 + signal */
    char out[4096];       /* the program's stdout */
    size_t nreports;      /* finding records (not summary, hello, exec...) */
    char kinds[512];      /* their kinds, space-separated */
    size_t nlines;        /* every JSON line, summaries and hellos included */
    size_t nhello, nsummary;
} result;

static void skip_without_shim(void)
{
    if (access(SHIM, R_OK) != 0)
        cr_skip_test("%s is not built yet (make shim): the under-shim run is skipped", SHIM);
    cr_assert(access(PROG, X_OK) == 0, "%s is not built (make tests)", PROG);
}

static void read_file(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    size_t got = f ? fread(buf, 1, n - 1, f) : 0;
    buf[got] = '\0';
    if (f)
        fclose(f);
}

/* Records that describe the run rather than a finding. */
static bool about_the_run(const char *kind)
{
    static const char *const kinds[] = {"summary", "hello", "exec", "exec-failed", "spawn"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kind, kinds[i]) == 0)
            return true;
    return false;
}

/* Every log file the shim wrote into dir (log_path gets ".<pid>"). */
static void collect_reports(const char *dir, result *r)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "log", 3) != 0)
            continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        cr_assert_not_null(f, "%s: %s", path, strerror(errno));
        char line[1 << 16];
        while (fgets(line, sizeof line, f)) {
            if (line[0] == '\n')
                continue;
            json_error_t jerr;
            json_t *rec = json_loads(line, 0, &jerr);
            cr_assert_not_null(rec, "%s: not JSON (%s): %.200s", path, jerr.text, line);
            r->nlines++;
            const char *kind = json_string_value(json_object_get(rec, "kind"));
            cr_assert_not_null(kind, "%s: a record without a kind: %.200s", path, line);
            r->nhello += strcmp(kind, "hello") == 0;
            r->nsummary += strcmp(kind, "summary") == 0;
            if (!about_the_run(kind)) {
                r->nreports++;
                size_t used = strlen(r->kinds);
                snprintf(r->kinds + used, sizeof r->kinds - used, "%s%s", used ? " " : "", kind);
            }
            json_decref(rec);
        }
        fclose(f);
        unlink(path);
    }
    closedir(d);
}

/* Runs PROG args... with the shim preloaded and MAPGUARD_OPTIONS=opts plus a
 * log_path in a fresh directory. */
static void run_under_shim(const char *opts, char *const argv[], result *r)
{
    memset(r, 0, sizeof *r);
    char dir[] = "/tmp/shard_shim_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char outpath[64], preload[600], options[800];
    snprintf(outpath, sizeof outpath, "%s/stdout", dir);
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", SHIM);
    snprintf(options, sizeof options, "MAPGUARD_OPTIONS=log_path=%s/log:%s", dir, opts);

    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 3, sizeof *env);
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0 &&
            strncmp(environ[i], "MAPGUARD_OPTIONS=", 17) != 0)
            env[j++] = environ[i];
    env[j++] = preload;
    env[j++] = options;
    env[j] = NULL;

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    int err = posix_spawn(&pid, argv[0], &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    cr_assert_eq(err, 0, "posix_spawn %s: %s", argv[0], strerror(err));
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    read_file(outpath, r->out, sizeof r->out);
    unlink(outpath);
    collect_reports(dir, r);
    rmdir(dir);
    cr_assert(strstr(r->out, "shim: loaded"),
              "the program did not see libmapguard.so mapped; its output:\n%s", r->out);
}

Test(shard_shim, stress_run_has_zero_reports, .timeout = 300)
{
    skip_without_shim();
    char *argv[] = {PROG, "16", "100000", NULL};
    result r;
    run_under_shim("detect_leaks=1", argv, &r);
    cr_assert_eq(r.nreports, 0, "%zu report(s) for correctly locked use: %s", r.nreports,
                 r.kinds);
    cr_assert(r.nhello == 1 && r.nsummary == 1,
              "a watched clean run leaves its hello and summary (%zu, %zu)", r.nhello, r.nsummary);
    cr_assert_eq(r.status, 0, "exit status %d; output:\n%s", r.status, r.out);
    cr_assert(strstr(r.out, "ok: 16 threads"), "output:\n%s", r.out);
}

Test(shard_shim, shim_sees_calls_made_inside_the_library, .timeout = 60)
{
    skip_without_shim();
    char *argv[] = {PROG, "--leak", NULL};
    result r;
    run_under_shim("detect_leaks=1", argv, &r);
    cr_assert(r.nreports > 0 && strstr(r.kinds, "leaked-map"),
              "a never-freed sharded map gave no leaked-map report (kinds: \"%s\"): the shim "
              "does not see libgomapshard's gomap_new calls",
              r.kinds);
}
