/*
 * The records that let a tool tell which process images were watched,
 * against mg_exec.c: hello at the start of every image, exec before an
 * image is replaced, exec-failed when an exec call returns, spawn when
 * posix_spawn starts a child. And the wrappers stay transparent: the new
 * image gets its arguments and environment, a failed call its errno.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "mg_exec"

static const char *kind_of(json_t *o) { return json_string_value(json_object_get(o, "kind")); }
static const char *str(json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }
static long long num(json_t *o, const char *key) { return json_integer_value(json_object_get(o, key)); }

/* The kinds process pid wrote, in order, space-separated. */
static void kinds_of_pid(const struct run *r, long pid, char *buf, size_t len)
{
    size_t i, used = 0;
    json_t *o;
    buf[0] = 0;
    json_array_foreach(r->lines, i, o) if (num(o, "pid") == pid && used < len)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? " " : "", kind_of(o));
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = s ? strlen(s) : 0, b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* One exec function replaces the image: the old image's hello, its exec
 * record, then the new image's hello and its summary, all in one file. */
static void assert_replaced(const char *call, const char *path_suffix, const char *output)
{
    struct run r;
    run_prog(&r, PROG, call, NULL);
    cr_assert_eq(r.status, 0, "%s: status %d\n%s%s", call, r.status, r.out, r.err);
    cr_assert(strstr(r.out, output), "%s: the new image got other arguments or environment: %s", call, r.out);
    char kinds[256];
    kinds_of_pid(&r, r.pid, kinds, sizeof kinds);
    cr_assert_str_eq(kinds, "hello exec hello summary", "%s", call);
    cr_assert_eq(r.nfiles, 1, "%s: %d log files", call, r.nfiles);
    json_t *e = find_kind(&r, "exec", 0);
    cr_assert_str_eq(str(e, "call"), call);
    cr_assert(ends_with(str(e, "path"), path_suffix), "%s: path %s", call, str(e, "path"));
    json_t *h = find_kind(&r, "hello", 1);
    cr_assert(ends_with(str(h, "program"), "/tests/progs/" PROG), "program %s", str(h, "program"));
    cr_assert_str_eq(str(h, "version"), MG_VERSION);
    cr_assert_gt(num(h, "ppid"), 0);
    assert_watched_and_clean(&r, call);
    run_free(&r);
}

Test(exec, execve) { assert_replaced("execve", "/tests/progs/" PROG, "image args=a|b c var=ve"); }
Test(exec, execv) { assert_replaced("execv", "/tests/progs/" PROG, "image args=a|b c var=-"); }
/* the searching calls record the name they were given */
Test(exec, execvp) { assert_replaced("execvp", PROG, "image args=a|b c var=-"); }
Test(exec, execvpe) { assert_replaced("execvpe", PROG, "image args=a|b c var=vpe"); }
Test(exec, execl) { assert_replaced("execl", "/tests/progs/" PROG, "image args=a|b c var=-"); }
Test(exec, execle) { assert_replaced("execle", "/tests/progs/" PROG, "image args=a|b c var=le"); }
Test(exec, execlp) { assert_replaced("execlp", PROG, "image args=a|b c var=-"); }
/* what the descriptor was opened as */
Test(exec, fexecve) { assert_replaced("fexecve", "/tests/progs/" PROG, "image args=a|b c var=-"); }

Test(exec, failed_exec_keeps_errno_and_is_recorded)
{
    struct run r;
    run_prog(&r, PROG, "fail", NULL);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    /* what each call left in errno, as without the shim */
    cr_assert(strstr(r.out, "execve=ENOENT execv=ENOENT execvp=ENOENT execvpe=ENOENT execl=ENOENT "
                            "execle=ENOENT execlp=ENOENT fexecve=EACCES"),
              "%s", r.out);
    static const char *const calls[] = {"execve", "execv", "execvp", "execvpe", "execl", "execle", "execlp", "fexecve"};
    cr_assert_eq(count_kind(&r, "exec"), 8);
    cr_assert_eq(count_kind(&r, "exec-failed"), 8);
    for (size_t i = 0; i < 8; i++) {
        json_t *e = find_kind(&r, "exec", i), *f = find_kind(&r, "exec-failed", i);
        cr_assert_str_eq(str(e, "call"), calls[i]);
        cr_assert_str_eq(str(f, "call"), calls[i]);
        cr_assert_str_eq(str(f, "path"), str(e, "path"));
        bool fexec = !strcmp(calls[i], "fexecve");
        cr_assert_eq(num(f, "errno"), fexec ? 13 : 2, "%s", calls[i]);
        cr_assert_str_eq(str(f, "error"), fexec ? "EACCES" : "ENOENT");
    }
    cr_assert_str_eq(str(find_kind(&r, "exec", 7), "path"), "/dev/null");
    /* each exec record comes right before its exec-failed */
    char kinds[512];
    kinds_of_pid(&r, r.pid, kinds, sizeof kinds);
    cr_assert(strstr(kinds, "hello exec exec-failed exec exec-failed"), "%s", kinds);
    assert_watched_and_clean(&r, "failed execs");
    run_free(&r);
}

Test(exec, paths_are_escaped_and_long_ones_cut)
{
    struct run r;
    run_prog(&r, PROG, "odd_paths", NULL);
    cr_assert(strstr(r.out, "odd paths done"), "%s%s", r.out, r.err);
    /* every line parsed as JSON and passed the schema (harness); the
     * string came back, with the byte that is not UTF-8 as U+FFFD */
    json_t *f = find_kind(&r, "exec-failed", 0);
    cr_assert_str_eq(str(f, "path"), "/nonexistent/q\"b\\s\nn\tt\x01"
                                     "c\xef\xbf\xbd"
                                     "x\xc3\xa9");
    cr_assert_null(json_object_get(f, "path_truncated"));
    json_t *l = find_kind(&r, "exec-failed", 1);
    cr_assert(json_is_true(json_object_get(l, "path_truncated")));
    const char *p = str(l, "path");
    cr_assert(!strncmp(p, "/nonexistent/\"\"\"", 16) && strlen(p) > 1000 && strlen(p) < 3013, "%zu", strlen(p));
    cr_assert_eq(num(l, "errno"), 2, "/nonexistent is looked up first");
    run_free(&r);
}

/* hello's program is written by hand too (summary.c): escaped like exec's
 * paths, but null, not U+FFFD, when the name is not UTF-8. */
Test(exec, hello_escapes_the_program_or_gives_null)
{
    struct run r;
    run_prog(&r, PROG, "odd_images", NULL);
    int pid[2] = {0, 0}, st[2] = {-1, -1};
    const char *d = strstr(r.out, "dir="), *o0 = strstr(r.out, "odd_image0="), *o1 = strstr(r.out, "odd_image1=");
    cr_assert(d && o0 && o1 && sscanf(o0, "odd_image0=%d status=%d", &pid[0], &st[0]) == 2 &&
                  sscanf(o1, "odd_image1=%d status=%d", &pid[1], &st[1]) == 2,
              "%s%s", r.out, r.err);
    cr_assert(st[0] == 0 && st[1] == 0, "%s", r.out);
    char want[4200];
    snprintf(want, sizeof want, "%.*s/q\"b\\s\nn\tt\x01" "c" "x\xc3\xa9", (int)strcspn(d + 4, "\n"), d + 4);
    json_t *h0 = find_kind_of_pid(&r, "hello", pid[0]), *h1 = find_kind_of_pid(&r, "hello", pid[1]);
    cr_assert(h0 && h1, "a hello from each copy");
    cr_assert_str_eq(str(h0, "program"), want);
    cr_assert(json_is_null(json_object_get(h1, "program")), "not UTF-8: null");
    cr_assert_str_eq(str(h1, "version"), MG_VERSION);
    cr_assert_eq(num(h1, "ppid"), r.pid);
    run_free(&r);
}

Test(exec, posix_spawn_records_the_child)
{
    struct run r;
    run_prog(&r, PROG, "spawn", NULL);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    int ret = -1, child = 0, st = -1, w = 0;
    cr_assert(sscanf(strstr(r.out, "spawn="), "spawn=%d pid=%d status=%d", &ret, &child, &st) == 3, "%s", r.out);
    cr_assert(sscanf(strstr(r.out, "spawn_nopid="), "spawn_nopid=%d waited=%d", &ret, &w) == 2, "%s", r.out);
    cr_assert(strstr(r.out, "spawnp=ENOENT"), "the error number comes back: %s", r.out);
    cr_assert_eq(count_kind(&r, "spawn"), 2);
    json_t *s0 = find_kind(&r, "spawn", 0), *s1 = find_kind(&r, "spawn", 1);
    cr_assert_eq(num(s0, "pid"), r.pid);
    cr_assert_str_eq(str(s0, "call"), "posix_spawn");
    cr_assert(ends_with(str(s0, "path"), "/tests/progs/" PROG));
    cr_assert_eq(num(s0, "child"), child);
    cr_assert_eq(num(s1, "child"), w, "the child of a call that wanted no pid is named too");
    /* each child, watched, said hello in its own file */
    for (int i = 0; i < 2; i++) {
        json_t *h = find_kind_of_pid(&r, "hello", i ? w : child);
        cr_assert(h, "no hello from spawned child %d", i ? w : child);
        cr_assert_eq(num(h, "ppid"), r.pid);
    }
    json_t *f = find_kind(&r, "exec-failed", 0);
    cr_assert_str_eq(str(f, "call"), "posix_spawnp");
    cr_assert_str_eq(str(f, "path"), "mg-no-such-program");
    cr_assert_eq(num(f, "errno"), 2);
    cr_assert_eq(count_kind(&r, "exec"), 0, "posix_spawn does not replace the caller");
    assert_watched_and_clean(&r, "spawn");
    run_free(&r);
}

Test(exec, vfork_child_records_its_own_exec)
{
    struct run r;
    run_prog(&r, PROG, "vfork", NULL);
    int ok = 0, st1 = -1, failing = 0, st2 = -1;
    const char *v = strstr(r.out, "vfork ok=");
    cr_assert(v && sscanf(v, "vfork ok=%d status=%d failing=%d status=%d", &ok, &st1, &failing, &st2) == 4, "%s%s",
              r.out, r.err);
    cr_assert_eq(st1, 0);
    cr_assert_eq(st2, 9, "the vfork child's failed execve left ENOENT in errno");
    char kinds[256];
    kinds_of_pid(&r, r.pid, kinds, sizeof kinds);
    cr_assert_str_eq(kinds, "hello summary", "the parent's log has none of its vfork children's records");
    kinds_of_pid(&r, ok, kinds, sizeof kinds);
    cr_assert_str_eq(kinds, "exec hello summary");
    kinds_of_pid(&r, failing, kinds, sizeof kinds);
    cr_assert_str_eq(kinds, "exec exec-failed");
    cr_assert_eq(r.status, 0);
    run_free(&r);
}

/* Without a log file none of this is written: the terminal stays the
 * program's. */
Test(exec, nothing_on_stderr)
{
    struct run r;
    run_prog_raw(&r, PROG, "fail", NULL);
    cr_assert_str_empty(r.err, "%s", r.err);
    cr_assert(strstr(r.out, "execve=ENOENT"), "%s", r.out);
    run_free(&r);
    run_prog_raw(&r, PROG, "spawn", NULL);
    cr_assert_str_empty(r.err, "%s", r.err);
    run_free(&r);
}
