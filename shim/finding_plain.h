/*
 * A finding's record by hand (finding_plain.c): without jansson, for when
 * the renderer is not loaded, and for the plain line of a finding in
 * flight. Frames are module+offset; the host is report.c's, the one the
 * renderer gets (render.h).
 */
#ifndef MAPGUARD_FINDING_PLAIN_H
#define MAPGUARD_FINDING_PLAIN_H

#include "jsonline.h"
#include "render.h"

/* Appends f to l: the JSON line without "id" (render.h's finding() without
 * symbols) or, with text, the text block. plain: frames from
 * mg_symbolize_plain, which needs no lock (signal handlers, exit paths);
 * otherwise through h->symbolize, with the symbolization lock held. */
void mg_finding_by_hand(struct mg_line *l, const struct mg_render_host *h, const struct mg_finding *f, bool text,
                        bool plain);
/* The renderer's finding() without the renderer: the malloc'd line (NULL
 * when memory ran out) and, in *where, the access's "? (module+0xoffset)"
 * for the summary (malloc'd, may be NULL). Symbolization lock held. */
char *mg_finding_by_hand_alloc(const struct mg_render_host *h, const struct mg_finding *f, bool text, char **where);

#endif
