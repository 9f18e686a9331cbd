/*
 * What a record is (a finding, a crash, a record about the run), and a
 * frame's site for keys and messages. The accessors every reader uses are
 * shim/record_json.c.
 */
#include "cli.h"
#include "kinds.h"

#include <stdio.h>
#include <string.h>

/* Records that describe the run rather than a problem. */
static const char *const meta_kinds[] = {
    "summary", "hello", "init", "start", "exit", "exec", "exec-failed", "spawn", "marker", "info",
    "warning", "error", MG_DEADLY_SIGNAL_KIND,
};

bool mg_record_is_finding(json_t *rec)
{
    const char *kind = mg_str(rec, "kind");
    if (!kind)
        return false;
    if (mg_kind_by_name(kind) >= 0)
        return true;
    for (size_t i = 0; i < sizeof meta_kinds / sizeof *meta_kinds; i++)
        if (strcmp(kind, meta_kinds[i]) == 0)
            return false;
    /* A kind this version does not know (the planned happens-before engine
     * will add some) still counts when it looks like a finding: failing the
     * gate on an unknown problem beats passing it silently. */
    return json_object_get(rec, "access") != NULL;
}

bool mg_record_is_crash(json_t *rec)
{
    const char *kind = mg_str(rec, "kind");
    return kind && strcmp(kind, MG_DEADLY_SIGNAL_KIND) == 0;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

void mg_frame_site(json_t *frame, char *buf, size_t n)
{
    const char *fn = mg_str(frame, "function");
    const char *file = mg_str(frame, "file");
    long long line = mg_int(frame, "line", 0);
    if (file && line > 0) {
        snprintf(buf, n, "%s %s:%lld", fn ? fn : "??", file, line);
        return;
    }
    const char *mod = mg_str(frame, "module");
    char off[32];
    mg_hex_field(frame, "offset", off, sizeof off);
    snprintf(buf, n, "%s (%s+%s)", fn ? fn : "??", mod ? base_name(mod) : "?", off);
}
