/*
 * Findings as text: the JSON object of a finding, its ThreadSanitizer-style
 * rendering (finding_text.c, the CLI's) and the summary with recurrences
 * (render.c). Built with jansson into libmapguard-symbolize.so, never into
 * libmapguard.so, so that jansson is mapped only once a process has
 * something to report; report.c and summary.c reach it through mg_renderer()
 * (symbolize_load.c), and report.c writes a plainer record by hand
 * (finding_plain.c), in the same layout, when the object could not be loaded.
 *
 * render.c may call nothing in libmapguard.so directly (its symbols are
 * hidden): whatever it needs from the shim comes through struct
 * mg_render_host, or is linked into both (kinds.c).
 */
#ifndef MAPGUARD_RENDER_H
#define MAPGUARD_RENDER_H

#include "report.h"
#include "stack.h"

struct mg_render_host {
    const char *(*op_name)(unsigned op);
    bool (*depot_get)(uint32_t id, const uintptr_t **pcs, int *n);
    /* tid (0: unknown), creation stack id (0: none), name */
    void (*thread)(uint32_t idx, uint32_t *tid, uint32_t *created, char *name, size_t len);
    /* mg_symbolize itself: the caller of render holds its lock */
    int (*symbolize)(uintptr_t ret_addr, const struct mg_frame **frames);
};

/* One summary recurrence, in report order. */
struct mg_recurrence {
    unsigned id, count, records;
    const char *kind, *where;
};

#define MG_RENDERER_ENTRY "mg_renderer_v4"
struct mg_renderer {
    /* The finding without its "id": NULL when memory ran out. JSON (text
     * false) is one line ending in "}\n" and the caller inserts
     * ",\"id\":N" before the brace. max_len, unless 0, bounds the length
     * of what is returned: frames are dropped until it fits, and the
     * finding says "truncated":true. *where: "function file:line" of the
     * access, for the summary (malloc'd, may be NULL). Suppressions are
     * the caller's (suppress.h). Call with the symbolization lock held. */
    char *(*finding)(const struct mg_render_host *h, const struct mg_finding *f, bool text, size_t max_len,
                     char **where);
    /* The summary record, JSON, with its recurrences; one line. */
    char *(*summary)(long long pid, unsigned findings, unsigned occurrences, unsigned repeats, unsigned suppressed,
                     const struct mg_recurrence *rec, size_t nrec);
};

/* The renderer of libmapguard-symbolize.so, loading it if need be as
 * mg_symbolize does; NULL when it is not (yet) loaded. Call with the
 * symbolization lock held. */
const struct mg_renderer *mg_renderer(void);

#endif
