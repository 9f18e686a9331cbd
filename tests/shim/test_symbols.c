/*
 * Symbolization of optimized and stripped programs, and fork.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
