/*
 * A party to a finding read from a map's own words (mapstate.h): who made
 * the map, and where. Every finding about a map carries it.
 */
#include "gomap_api.h"
#include "mapstate.h"
#include "report.h"

void mg_party_made(struct mg_party *p, const gomap *m)
{
    const uint64_t *w = mg_words(m);
    uint64_t made = MG_RD(w[MW_MADE]);
    uint32_t stack = hdr_created(MG_RD(w[MW_HDR]));
    *p = (struct mg_party){
        .present = made != 0 || stack != 0,
        .op = MG_OP_NEW,
        .thread = site_thread(made),
        .stack = stack,
        .pc = site_pc(made),
        .complete = stack != 0,
    };
}
