/*
 * Writing the outputs a command asked for, from reports already loaded:
 * the text report and summary line, --json and --sarif. Shared by `mapguard
 * run` (run.c) and `mapguard report` (main.c), so both write the same.
 */
#include "cli.h"

int mg_emit(const mgc_options *o, const mgc_reports *r, FILE *text_out, const char *note)
{
    int rc = 0;
    if (text_out) {
        if (!o->quiet)
            mg_render_text(text_out, r);
        if (!o->quiet || r->nfindings > 0 || r->ncrashes > 0)
            mg_render_summary(text_out, r, note);
        fflush(text_out);
    }
    if (o->json_out && mg_write_jsonl(o->json_out, r, o->json_all) != 0)
        rc = -1;
    if (o->sarif_out && mg_write_sarif(o->sarif_out, r, o->source_root) != 0)
        rc = -1;
    return rc;
}
