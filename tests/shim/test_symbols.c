/*
 * Symbolization of optimized and stripped programs, and fork; the
 * symbolizer loaded by the first report, and reports without it.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static json_t *access_stack(json_t *f) { return json_object_get(json_object_get(f, "access"), "stack"); }

Test(symbols, inlined_caller_is_a_frame_of_its_own)
{
    struct run r;
    run_prog(&r, "mg_inline_o2", NULL, NULL);
    json_t *f = find_kind(&r, "nil-map-write", 0);
    cr_assert(f);
    json_t *st = access_stack(f);
    assert_frame_at(st, 0, "mg_inline_o2", "inlined_set");
    assert_frame_at(st, 1, "mg_inline_o2", "inline_call");
    assert_frame_at(st, 2, "mg_inline_o2", "work_call");
    json_t *f0 = json_array_get(st, 0), *f1 = json_array_get(st, 1);
    cr_assert_str_eq(json_string_value(json_object_get(f0, "function")), "store");
    cr_assert(json_is_true(json_object_get(f0, "inlined")));
    cr_assert_str_eq(json_string_value(json_object_get(f1, "function")), "work");
    cr_assert_null(json_object_get(f1, "inlined"));
    /* one instruction, two frames */
    cr_assert(json_equal(json_object_get(f0, "pc"), json_object_get(f1, "pc")));
    run_free(&r);
}

Test(symbols, stripped_program_gives_module_and_offset)
{
    struct run r;
    run_prog(&r, "mg_symtab_strip", NULL, NULL);
    json_t *f = find_kind(&r, "nil-map-write", 0);
    cr_assert(f);
    unsigned long compare = 0;
    cr_assert(sscanf(r.out, "compare=0x%lx", &compare) == 1, "stdout: %s", r.out);
    json_t *f0 = json_array_get(access_stack(f), 0);
    const char *mod = json_string_value(json_object_get(f0, "module"));
    cr_assert(mod && strstr(mod, "/mg_symtab_strip"), "module %s", mod ? mod : "(null)");
    unsigned long off = strtoul(json_string_value(json_object_get(f0, "offset")), NULL, 16);
    cr_assert(off >= compare && off < compare + 0x100, "offset 0x%lx not in compare (0x%lx)", off, compare);
    cr_assert(json_is_null(json_object_get(f0, "file")));
    cr_assert(json_is_null(json_object_get(f0, "line")));
    /* libc's frame has its name from the symbol table (or debug info) */
    json_t *bs = frame_with_function(access_stack(f), "bsearch");
    cr_assert(bs, "no bsearch frame");
    cr_assert(strstr(json_string_value(json_object_get(bs, "module")), "libc.so"));
    run_free(&r);
}

Test(symbols, forked_child_writes_its_own_log)
{
    struct run r;
    run_prog(&r, "mg_fork", NULL, NULL);
    cr_assert_eq(r.nfiles, 2, "%d log files", r.nfiles);
    cr_assert_eq(count_kind(&r, "nil-map-write"), 2);
    cr_assert_eq(count_summaries(&r), 2);
    int child = 0, status = 0;
    cr_assert(sscanf(strstr(r.out, "child="), "child=%d status=%d", &child, &status) == 2, "%s", r.out);
    cr_assert_eq(status, 66, "the child's exit status shows its finding");
    for (size_t i = 0; i < 2; i++) {
        json_t *f = find_kind(&r, "nil-map-write", i);
        bool is_child = json_integer_value(json_object_get(f, "pid")) == child;
        const char *op = json_string_value(json_object_get(json_object_get(f, "access"), "op"));
        cr_assert_str_eq(op, is_child ? "assign" : "set");
        assert_frame_at(access_stack(f), 0, "mg_fork", is_child ? "child_nil" : "parent_nil");
        char name[256];
        snprintf(name, sizeof name, "%s/log.%d", r.dir, (int)json_integer_value(json_object_get(f, "pid")));
        FILE *fp = fopen(name, "r");
        cr_assert(fp, "no %s", name);
        fclose(fp);
    }
    for (size_t i = 0; i < 2; i++) {
        json_t *s = find_summary(&r, i);
        cr_assert_eq(json_integer_value(json_object_get(s, "findings")), 1, "each process counts its own");
    }
    cr_assert_eq(r.status, 66);
    run_free(&r);
}

Test(symbols, library_loaded_after_the_first_report)
{
    struct run r;
    run_prog(&r, "mg_dlopen", NULL, NULL);
    cr_assert_eq(count_kind(&r, "nil-map-write"), 2, "%s%s", r.out, r.err);
    json_t *st = access_stack(find_kind(&r, "nil-map-write", 1));
    assert_frame_at(st, 0, "mg_dlopen", "in_callback");
    json_t *lib = json_array_get(st, 1);
    const char *mod = json_string_value(json_object_get(lib, "module"));
    cr_assert(mod && strstr(mod, "libglib-2.0.so"), "frame 1 module %s", mod ? mod : "(null)");
    cr_assert(json_string_value(json_object_get(lib, "function")), "frame 1 has no function");
    json_t *app = NULL;
    for (size_t i = 1; i < json_array_size(st) && !app; i++) {
        const char *m = json_string_value(json_object_get(json_array_get(st, i), "module"));
        if (m && strstr(m, "/mg_dlopen"))
            app = json_array_get(st, i);
    }
    cr_assert(app, "no frame back in the program");
    cr_assert_eq(json_integer_value(json_object_get(app, "line")), site_line("mg_dlopen", "foreach"));
    run_free(&r);
}

/* ---- the symbolizer, libmapguard-symbolize.so ---- */

static char *slurp_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    int c;
    while (f && (c = fgetc(f)) != EOF)
        fputc(c, m);
    if (f)
        fclose(f);
    fclose(m);
    return buf;
}

/*
 * run_prog with a shim of our choosing (preload, as LD_PRELOAD spells it)
 * and working directory; the JSON lines are checked against the schema as
 * run_prog does.
 */
static void run_with_shim(struct run *r, const char *preload, const char *cwd, const char *prog, const char *arg)
{
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "/tmp/mgtest.XXXXXX");
    cr_assert(mkdtemp(r->dir), "mkdtemp: %s", strerror(errno));
    char path[512], outp[256], errp[256], pre[600], opts[300];
    snprintf(path, sizeof path, "%s/tests/progs/%s", BUILD_DIR, prog);
    snprintf(outp, sizeof outp, "%s/stdout", r->dir);
    snprintf(errp, sizeof errp, "%s/stderr", r->dir);
    snprintf(pre, sizeof pre, "LD_PRELOAD=%s", preload);
    snprintf(opts, sizeof opts, "MAPGUARD_OPTIONS=log_path=%s/log", r->dir);
    char *env[] = {pre, opts, NULL};
    char *argv[] = {path, (char *)arg, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (cwd)
        posix_spawn_file_actions_addchdir_np(&fa, cwd);
    pid_t pid;
    int e = posix_spawn(&pid, path, &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert(e == 0, "posix_spawn %s: %s", path, strerror(e));
    int status = 0;
    cr_assert(waitpid(pid, &status, 0) == pid);
    r->pid = (int)pid;
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r->out = slurp_file(outp);
    r->err = slurp_file(errp);
    r->lines = json_array();
    DIR *d = opendir(r->dir);
    cr_assert(d);
    for (struct dirent *de; (de = readdir(d));) {
        if (strncmp(de->d_name, "log.", 4))
            continue;
        char lp[512];
        snprintf(lp, sizeof lp, "%s/%s", r->dir, de->d_name);
        r->nfiles++;
        char *text = slurp_file(lp);
        for (char *save, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            json_error_t je;
            json_t *o = json_loads(line, 0, &je);
            cr_assert(o, "%s is not JSON (%s): %.200s", lp, je.text, line);
            char err[1024];
            cr_assert(schema_validate(o, err, sizeof err), "%s violates the schema: %s\n%.2000s", lp, err, line);
            json_array_append_new(r->lines, o);
        }
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

Test(symbols, symbolizer_is_loaded_by_the_first_report)
{
    struct run r;
    run_prog(&r, "mg_symload", NULL, NULL);
    cr_assert(strstr(r.out, "before: symbolizer=0 libdw=0 jansson=0\n"), "loaded before any report:\n%s", r.out);
    cr_assert(strstr(r.out, "after: symbolizer=1 libdw=1 jansson=1\n"), "not loaded by the report:\n%s%s", r.out, r.err);
    json_t *f = find_kind(&r, "nil-map-write", 0);
    cr_assert(f);
    assert_frame_at(access_stack(f), 0, "mg_symload", "nil");
    cr_assert_str_eq(r.err, "", "stderr: %s", r.err);
    run_free(&r);
}

Test(symbols, symbolizer_found_beside_a_relative_preload_after_chdir)
{
    struct run r;
    run_with_shim(&r, "./libmapguard.so", BUILD_DIR "/lib", "mg_symload", "chdir");
    json_t *f = find_kind(&r, "nil-map-write", 0);
    cr_assert(f, "no report; stdout:\n%s\nstderr:\n%s", r.out, r.err);
    assert_frame_at(access_stack(f), 0, "mg_symload", "nil");
    cr_assert_str_eq(r.err, "", "stderr: %s", r.err);
    run_free(&r);
}

Test(symbols, without_the_symbolizer_frames_have_module_and_offset)
{
    /* libmapguard.so alone in a directory: nothing to load beside it */
    char dir[] = "/tmp/mgshim.XXXXXX", shim[256], cmd[600];
    cr_assert(mkdtemp(dir));
    snprintf(shim, sizeof shim, "%s/libmapguard.so", dir);
    snprintf(cmd, sizeof cmd, "cp '%s/lib/libmapguard.so' '%s'", BUILD_DIR, shim);
    cr_assert_eq(system(cmd), 0);
    struct run r;
    run_with_shim(&r, shim, NULL, "mg_symload", NULL);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);

    cr_assert_eq(r.status, 66, "status %d; stderr:\n%s", r.status, r.err);
    cr_assert(strstr(r.out, "after: symbolizer=0 libdw=0 jansson=0\n"), "%s", r.out);
    cr_assert_eq(count_lines_with(r.err, "\n"), 1, "want one warning line, got:\n%s", r.err);
    cr_assert(strstr(r.err, "cannot load the symbolizer"), "stderr: %s", r.err);
    json_t *f = find_kind(&r, "nil-map-write", 0);
    cr_assert(f);
    json_t *f0 = json_array_get(access_stack(f), 0);
    const char *mod = json_string_value(json_object_get(f0, "module"));
    cr_assert(mod && strstr(mod, "/tests/progs/mg_symload"), "module %s", mod ? mod : "(null)");
    unsigned long fn = 0;
    cr_assert(strstr(r.out, "nil_write=") && sscanf(strstr(r.out, "nil_write="), "nil_write=0x%lx", &fn) == 1);
    unsigned long off = strtoul(json_string_value(json_object_get(f0, "offset")), NULL, 16);
    cr_assert(off >= fn && off < fn + 0x100, "offset 0x%lx not in nil_write (0x%lx)", off, fn);
    cr_assert(json_is_null(json_object_get(f0, "file")));
    cr_assert(json_is_null(json_object_get(f0, "function")));
    /* every frame has its module: the program's, libc's */
    size_t i;
    json_t *fr;
    json_array_foreach(access_stack(f), i, fr) {
        cr_assert(json_string_value(json_object_get(fr, "module")), "frame %zu has no module", i);
    }
    run_free(&r);
}

/* The thread that runs dlopen holds the loader's lock; its own dlopen of
 * the symbolizer goes through, so its report is symbolized at once. */
Test(symbols, report_from_a_constructor_run_by_dlopen)
{
    struct run r;
    run_prog(&r, "mg_ctor", "self", NULL);
    cr_assert(strstr(r.out, "done\n"), "stdout: %s\nstderr: %s", r.out, r.err);
    cr_assert_eq(count_kind(&r, "nil-map-write"), 2);
    assert_frame_at(access_stack(find_kind(&r, "nil-map-write", 0)), 0, "lib/mg_ctor", "ctor_self");
    assert_frame_at(access_stack(find_kind(&r, "nil-map-write", 1)), 0, "mg_ctor", "after");
    cr_assert_str_eq(r.err, "", "stderr: %s", r.err);
    run_free(&r);
}

/* A thread the constructor joins cannot have the symbolizer loaded until
 * the constructor is done: its report waits a bounded time, then goes out
 * with module and offset, and nothing deadlocks. */
Test(symbols, report_from_a_thread_a_constructor_waits_for)
{
    struct run r;
    run_prog(&r, "mg_ctor", "thread", NULL);
    cr_assert(strstr(r.out, "done\n"), "stdout: %s\nstderr: %s", r.out, r.err);
    cr_assert_eq(count_kind(&r, "nil-map-write"), 2);
    json_t *f0 = json_array_get(access_stack(find_kind(&r, "nil-map-write", 0)), 0);
    const char *mod = json_string_value(json_object_get(f0, "module"));
    cr_assert(mod && strstr(mod, "/libmg_ctor.so"), "module %s", mod ? mod : "(null)");
    cr_assert_eq(count_lines_with(r.err, "\n"), 1, "want one line on stderr, got:\n%s", r.err);
    cr_assert(strstr(r.err, "the symbolizer is still loading"), "stderr: %s", r.err);
    cr_assert_eq(r.status, 66);
    run_free(&r);
}
