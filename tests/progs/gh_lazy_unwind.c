/*
 * A GLib program and what waits for its first table of its own: GLib's
 * own tables (here libgobject's param-spec pool) do not load libunwind
 * (shim/stack.c) nor wake the happens-before engine (happens_before.c);
 * the program's first table does both, before any stack is captured, so
 * that a crash inside a call on it has the unwinder ready
 * (tests/progs/gh_crash_in_call.c). Prints whether libunwind is mapped at
 * start, after GLib's table, and after the program's, on stderr, where
 * the shim's log lines (verbosity=1) fall in between.
 */
#include "mapped.h"

#include <glib-object.h>
#include <stdio.h>

static int unwind_mapped(void) { return lib_mapped("/libunwind"); }

int main(void)
{
    fprintf(stderr, "start=%d\n", unwind_mapped());
    GParamSpecPool *pool = g_param_spec_pool_new(FALSE);
    fprintf(stderr, "glib_table=%d\n", unwind_mapped());
    GHashTable *t = g_hash_table_new(g_direct_hash, NULL);
    fprintf(stderr, "own_table=%d\n", unwind_mapped());
    g_hash_table_unref(t);
    (void)pool; /* g_param_spec_pool_free is GLib 2.80's */
    return 0;
}
