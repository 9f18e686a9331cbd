/*
 * Shape-tolerant accessors for one JSON report record (record_json.c), and
 * the JSON of one frame, shared by the text renderer (finding_text.c), the
 * detector's JSON (render.c) and the CLI. jansson only: nothing of the
 * shim's runtime.
 */
#ifndef MAPGUARD_RECORD_JSON_H
#define MAPGUARD_RECORD_JSON_H

#include <jansson.h>
#include <stddef.h>

const char *mg_str(json_t *obj, const char *key); /* NULL if absent */
long long mg_int(json_t *obj, const char *key, long long dflt);
/* A "party" is access, conflict, modification, iterator, freed, map_created
 * or a thread's created: an object with a stack (possibly under "created"),
 * or a bare array of frames. These accept all of those shapes. */
json_t *mg_party_stack(json_t *party);
json_t *mg_party_thread(json_t *party);
const char *mg_party_op(json_t *party);
/* The frame's offset/pc as text, whatever JSON type the detector used. */
void mg_hex_field(json_t *frame, const char *key, char *buf, size_t n);

/* One symbolized frame as the report format writes it: the detector's
 * findings (render.c) and the CLI's symbolized crash frames, so both have
 * the same fields. */
struct mg_frame; /* stack.h */
json_t *mg_frame_json(const struct mg_frame *f);

#endif
