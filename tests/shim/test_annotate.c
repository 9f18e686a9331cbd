/*
 * The annotations: shim/mapguard_annotate.h (MAPGUARD_HAPPENS_BEFORE/AFTER)
 * and the exported AnnotateHappensBefore/AnnotateHappensAfter, against
 * tests/progs/mg_annotate.c (a PIE, and mg_annotate_nopie built from the
 * same source as a non-PIE executable) and tests/progs/mg_annotate_lib.c
 * (a library with weak declarations, as libraries annotated for
 * ThreadSanitizer have). Each hands a map from one thread to another
 * through a C11 atomic flag, which the shim cannot see, after the writer
 * has left the map: no overlap, so every outcome is the same on every run.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUTPUT "handed over: 100 of 100 keys\n"

/* Runs a shell command; its stdout (caller frees) and exit status. */
static char *capture(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    cr_assert(p, "popen %s", cmd);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (n + 1 >= cap)
            buf = realloc(buf, cap *= 2);
    }
    buf[n] = 0;
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    return buf;
}

static void prog_path(char *buf, size_t len, const char *prog)
{
    snprintf(buf, len, "%s/tests/progs/%s", BUILD_DIR, prog);
}

/* Without the shim: the program's own output and exit status, unchanged. */
static void assert_runs_unchanged(const char *prog, const char *scenario)
{
    char path[512], cmd[1024];
    prog_path(path, sizeof path, prog);
    snprintf(cmd, sizeof cmd, "env -u LD_PRELOAD -u MAPGUARD_OPTIONS '%s' %s 2>&1", path, scenario);
    int status;
    char *out = capture(cmd, &status);
    cr_assert_eq(status, 0, "%s %s without the shim: exit status %d\n%s", prog, scenario, status, out);
    cr_assert_str_eq(out, OUTPUT, "%s %s without the shim", prog, scenario);
    free(out);
}

/* readelf -d: no NEEDED entry names libmapguard. */
static void assert_no_link_to_libmapguard(const char *path)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "readelf -d '%s'", path);
    int status;
    char *out = capture(cmd, &status);
    cr_assert_eq(status, 0, "readelf -d %s failed", path);
    cr_assert(strstr(out, "(NEEDED)"), "readelf -d %s lists no NEEDED entry at all:\n%s", path, out);
    cr_assert(!strstr(out, "libmapguard"), "%s is linked against libmapguard:\n%s", path, out);
    free(out);
}

/* readelf -h: the ELF type, DYN for a PIE, EXEC for a non-PIE executable. */
static void assert_elf_type(const char *prog, const char *type)
{
    char path[512], cmd[1024];
    prog_path(path, sizeof path, prog);
    snprintf(cmd, sizeof cmd, "readelf -h '%s'", path);
    int status;
    char *out = capture(cmd, &status);
    char *t = strstr(out, "Type:");
    cr_assert(t, "readelf -h %s: no type", path);
    t += strlen("Type:");
    t += strspn(t, " ");
    cr_assert(!strncmp(t, type, strlen(type)), "%s is %.20s, want %s", prog, t, type);
    free(out);
}

/* Under the shim: the annotated handoff is clean. */
static void assert_annotated_clean(const char *prog)
{
    struct run r;
    run_prog(&r, prog, "annotated", NULL);
    assert_watched_and_clean(&r, prog);
    cr_assert_eq(r.status, 0, "%s annotated: exit status %d", prog, r.status);
    cr_assert_str_eq(r.out, OUTPUT);
    run_free(&r);
}

/* Under the shim: the same handoff unannotated is one unordered
 * concurrent-read-write, the reader's get against the writer's set. */
static void assert_plain_races(const char *prog, const char *src)
{
    struct run r;
    run_prog(&r, prog, "plain", NULL);
    cr_assert_eq(count_kind(&r, NULL), 1, "%s plain: want one finding, got %zu:\n%s", prog, count_kind(&r, NULL),
                 r.err);
    json_t *f = find_kind(&r, "concurrent-read-write", 0);
    cr_assert(f, "%s plain: no concurrent-read-write", prog);
    cr_assert_str_eq(json_string_value(json_object_get(f, "evidence")), "unordered");
    json_t *a = json_object_get(f, "access"), *c = json_object_get(f, "conflict");
    cr_assert_str_eq(json_string_value(json_object_get(a, "op")), "get");
    assert_frame_at(json_object_get(a, "stack"), 0, src, "read");
    cr_assert_str_eq(json_string_value(json_object_get(c, "op")), "set");
    assert_frame_at(json_object_get(c, "stack"), 0, src, "write");
    cr_assert_str_eq(r.out, OUTPUT, "%s plain: the program's own output", prog);
    run_free(&r);
}

Test(annotate, builds_are_pie_and_non_pie)
{
    assert_elf_type("mg_annotate", "DYN");
    assert_elf_type("mg_annotate_nopie", "EXEC");
}

Test(annotate, programs_need_no_link_to_libmapguard)
{
    static const char *const progs[] = {"mg_annotate", "mg_annotate_nopie", "mg_annotate_lib",
                                        "libmg_annotate_weak.so"};
    for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
        char path[512];
        prog_path(path, sizeof path, progs[i]);
        assert_no_link_to_libmapguard(path);
    }
}

Test(annotate, run_unchanged_without_the_shim)
{
    static const char *const progs[] = {"mg_annotate", "mg_annotate_nopie", "mg_annotate_lib"};
    for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
        assert_runs_unchanged(progs[i], "annotated");
        assert_runs_unchanged(progs[i], "plain");
    }
}

Test(annotate, pie_annotated_handoff_is_clean) { assert_annotated_clean("mg_annotate"); }
Test(annotate, non_pie_annotated_handoff_is_clean) { assert_annotated_clean("mg_annotate_nopie"); }
Test(annotate, pie_unannotated_handoff_races) { assert_plain_races("mg_annotate", "mg_annotate"); }
Test(annotate, non_pie_unannotated_handoff_races) { assert_plain_races("mg_annotate_nopie", "mg_annotate"); }

/* A library calling AnnotateHappensBefore/After through weak declarations
 * is ordered by them under the shim, and races without them. */
Test(annotate, weak_annotations_in_a_library_order_the_handoff) { assert_annotated_clean("mg_annotate_lib"); }
Test(annotate, same_handoff_without_the_library_races) { assert_plain_races("mg_annotate_lib", "mg_annotate_lib"); }

/* make install puts the header where a user's compiler finds it, and a
 * program built against the installed files alone (header, libgomap) runs
 * unchanged without the shim. */
Test(annotate, make_install_installs_the_header, .timeout = 120)
{
    char dest[] = "/tmp/mgtest-install.XXXXXX";
    cr_assert(mkdtemp(dest));
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory -C '%s' install BUILD='%s' "
             "PREFIX=/usr DESTDIR='%s' 2>&1",
             SRC_DIR, BUILD_DIR, dest);
    int status;
    char *out = capture(cmd, &status);
    cr_assert_eq(status, 0, "make install failed:\n%s", out);
    free(out);
    char hdr[512];
    snprintf(hdr, sizeof hdr, "%s/usr/include/mapguard_annotate.h", dest);
    cr_assert_eq(access(hdr, R_OK), 0, "make install did not install %s", hdr);

    snprintf(cmd, sizeof cmd,
             "cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I'%s/usr/include' -o '%s/prog' '%s/tests/progs/mg_annotate.c' "
             "-L'%s/usr/lib' -lgomap -Wl,-rpath,'%s/usr/lib' -lpthread 2>&1 && "
             "env -u LD_PRELOAD -u MAPGUARD_OPTIONS '%s/prog' annotated 2>&1",
             dest, dest, SRC_DIR, dest, dest, dest);
    out = capture(cmd, &status);
    cr_assert_eq(status, 0, "building or running against the installed header failed:\n%s", out);
    cr_assert_str_eq(out, OUTPUT);
    free(out);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dest);
    cr_assert_eq(system(cmd), 0);
}
