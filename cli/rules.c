/*
 * The rule catalogue: one SARIF rule per finding kind, from the one list of
 * kinds (shim/kinds.inc, which also says where the fixes come from). Code
 * scanning shows the help next to each alert, so it says what to change.
 */
#include "mapguard.h"
#include "kinds.h"

#include <string.h>

const mg_rule mg_rules[] = {
#define MG_KIND(ID, kind_, message_, concurrency, heading, fix_, sarif_name, short_, full, text, md) \
    {.kind = kind_, .name = sarif_name, .message = message_, .short_desc = short_, .full_desc = full,  \
     .help_text = text, .help_md = md, .fix = fix_},
#include "kinds.inc"
};

const size_t mg_nrules = sizeof mg_rules / sizeof *mg_rules;

const mg_rule *mg_rule_for(const char *kind)
{
    if (!kind)
        return NULL;
    for (size_t i = 0; i < mg_nrules; i++)
        if (strcmp(mg_rules[i].kind, kind) == 0)
            return &mg_rules[i];
    return NULL;
}
