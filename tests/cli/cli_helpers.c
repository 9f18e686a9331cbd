/*
 * Helpers for the mapguard CLI tests (see cli_helpers.h).
 */
#include "cli_helpers.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    cr_assert(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

char *test_tmpdir(void)
{
    char tmpl[] = "/tmp/mapguard-cli-test.XXXXXX";
    cr_assert(mkdtemp(tmpl), "mkdtemp: %s", strerror(errno));
    return strdup(tmpl);
}

void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char *sub = path_join(path, e->d_name);
                rm_rf(sub);
                free(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, fp)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    fclose(fp);
    if (buf)
        buf[len] = '\0';
    return buf;
}

char *copy_fixture(const char *dir, const char *fixture, const char *name)
{
    char *text = slurp(fixture);
    cr_assert(text, "read %s", fixture);
    char *path = path_join(dir, name);
    FILE *f = fopen(path, "w");
    cr_assert(f && fputs(text, f) >= 0 && fclose(f) == 0, "write %s", path);
    free(text);
    return path;
}

static bool env_dropped(const char *entry, const char *const env[])
{
    static const char *const always[] = {"LD_PRELOAD=", "MAPGUARD_OPTIONS=", "MAPGUARD_SHIM="};
    for (size_t i = 0; i < sizeof always / sizeof *always; i++)
        if (strncmp(entry, always[i], strlen(always[i])) == 0)
            return true;
    for (size_t i = 0; env && env[i]; i++) {
        const char *eq = strchr(env[i], '=');
        size_t n = eq ? (size_t)(eq - env[i]) : strlen(env[i]);
        if (strncmp(entry, env[i], n) == 0 && entry[n] == '=')
            return true;
    }
    return false;
}

cmd_result run_cmd(const char *const argv[], const char *const env[])
{
    cmd_result r = {0};
    size_t n = 0, extra = 0;
    while (environ[n])
        n++;
    while (env && env[extra])
        extra++;
    char **envp = calloc(n + extra + 1, sizeof *envp);
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (!env_dropped(environ[i], env))
            envp[j++] = environ[i];
    for (size_t i = 0; i < extra; i++)
        if (strchr(env[i], '='))
            envp[j++] = (char *)env[i];

    char *dir = test_tmpdir();
    char *out = path_join(dir, "stdout"), *err = path_join(dir, "stderr");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, envp);
    cr_assert_eq(rc, 0, "posix_spawn %s: %s", argv[0], strerror(rc));
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r.seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.out = slurp(out);
    r.err = slurp(err);
    if (!r.out)
        r.out = strdup("");
    if (!r.err)
        r.err = strdup("");
    posix_spawn_file_actions_destroy(&fa);
    free(envp);
    free(out);
    free(err);
    rm_rf(dir);
    free(dir);
    return r;
}

void cmd_result_free(cmd_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

json_t *load_jsonl(const char *path)
{
    FILE *fp = fopen(path, "r");
    cr_assert(fp, "cannot open %s: %s", path, strerror(errno));
    json_t *arr = json_array();
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0;
    while ((len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        if (len <= 1)
            continue;
        json_error_t e;
        json_t *rec = json_loadb(line, (size_t)len, 0, &e);
        cr_assert(json_is_object(rec), "%s:%d: not a JSON object: %s", path, lineno, e.text);
        json_array_append_new(arr, rec);
    }
    free(line);
    fclose(fp);
    return arr;
}

json_t *load_json(const char *path)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    cr_assert(j, "%s: %s (line %d)", path, e.text, e.line);
    return j;
}

bool is_finding(json_t *rec)
{
    const char *kind = json_string_value(json_object_get(rec, "kind"));
    return kind && strcmp(kind, "summary") != 0 && json_object_get(rec, "access");
}

static json_t *stack_of(json_t *party)
{
    if (json_is_array(party))
        return party;
    json_t *s = json_object_get(party, "stack");
    if (json_is_array(s))
        return s;
    json_t *c = json_object_get(party, "created");
    return c ? stack_of(c) : NULL;
}

static void assert_stack_in_text(const char *text, json_t *stack, const char *what)
{
    size_t i;
    json_t *fr;
    json_array_foreach(stack, i, fr) {
        const char *fn = json_string_value(json_object_get(fr, "function"));
        const char *file = json_string_value(json_object_get(fr, "file"));
        json_int_t line = json_integer_value(json_object_get(fr, "line"));
        if (fn)
            cr_assert(strstr(text, fn), "%s frame #%zu: function %s missing from the text report",
                      what, i, fn);
        if (file && line > 0) {
            char site[4096];
            snprintf(site, sizeof site, "%s:%lld", file, (long long)line);
            cr_assert(strstr(text, site), "%s frame #%zu: %s missing from the text report", what,
                      i, site);
        }
    }
}

void assert_text_covers(const char *text, json_t *records)
{
    static const char *const parties[] = {"access", "conflict", "modification", "iterator",
                                          "freed", "map_created"};
    size_t i;
    json_t *rec;
    size_t nfind = 0;
    json_array_foreach(records, i, rec) {
        if (!is_finding(rec))
            continue;
        nfind++;
        const char *kind = json_string_value(json_object_get(rec, "kind"));
        cr_assert(strstr(text, kind), "kind %s missing from the text report", kind);
        for (size_t p = 0; p < sizeof parties / sizeof *parties; p++) {
            json_t *party = json_object_get(rec, parties[p]);
            if (!party)
                continue;
            char what[128];
            snprintf(what, sizeof what, "%s %s", kind, parties[p]);
            assert_stack_in_text(text, stack_of(party), what);
            json_t *th = json_object_get(party, "thread");
            if (!th && json_object_get(party, "created"))
                th = json_object_get(json_object_get(party, "created"), "thread");
            json_t *created = json_object_get(th, "created");
            if (created) {
                snprintf(what, sizeof what, "%s %s thread creation", kind, parties[p]);
                assert_stack_in_text(text, stack_of(created), what);
            }
        }
    }
    cr_assert_gt(nfind, 0, "no finding records to compare with");
}

void require_shim(void)
{
    cr_assert(access(SHIM_PATH, R_OK) == 0,
              "%s is missing: the end-to-end tests run programs under the real detector "
              "(make shim)",
              SHIM_PATH);
}

json_t *sarif_notifications(json_t *sarif)
{
    json_t *run = json_array_get(json_object_get(sarif, "runs"), 0);
    return json_object_get(json_array_get(json_object_get(run, "invocations"), 0), "toolExecutionNotifications");
}

void assert_sarif_valid(const char *sarif_path)
{
    char out[4096];
    snprintf(out, sizeof out, "%s.validation.sarif", sarif_path);
    const char *argv[] = {"sh", SRC_DIR "/tools/sarif-validate.sh", sarif_path, out, NULL};
    cmd_result r = run_cmd(argv, NULL);
    if (r.status == 77)
        cr_skip_test("SARIF validation skipped: node/npm not installed (%s)", r.err);
    cr_assert_eq(r.status, 0, "the SARIF multitool failed (%d):\n%s%s", r.status, r.out, r.err);
    json_t *v = load_json(out);
    json_t *results = json_object_get(json_array_get(json_object_get(v, "runs"), 0), "results");
    cr_assert(json_is_array(results), "the validator wrote no results array:\n%s", r.out);
    size_t i;
    json_t *res;
    size_t errors = 0;
    json_array_foreach(results, i, res) {
        const char *level = json_string_value(json_object_get(res, "level"));
        if (level && strcmp(level, "error") == 0)
            errors++;
    }
    cr_assert_eq(errors, 0, "the SARIF multitool found %zu error(s) in %s:\n%s", errors,
                 sarif_path, r.out);
    json_decref(v);
    cmd_result_free(&r);
}

json_t *first_of_kind(json_t *recs, const char *kind)
{
    size_t i;
    json_t *rec;
    json_array_foreach(recs, i, rec) {
        const char *k = json_string_value(json_object_get(rec, "kind"));
        if (k && strcmp(k, kind) == 0)
            return rec;
    }
    return NULL;
}
