/*
 * The rule catalogue: one SARIF rule per finding kind, from the one list of
 * kinds (shim/kinds.inc, which also says where the fixes come from). Code
 * scanning shows the help next to each alert, so it says what to change.
 */
#include "cli.h"
#include "kinds.h"

#include <string.h>

const mgc_rule mgc_rules[] = {
#define MG_KIND(ID, kind_, message_, concurrency, heading, fix, sarif_name, short_, full, text, md) \
    {.kind = kind_, .name = sarif_name, .message = message_, .short_desc = short_, .full_desc = full, \
     .help_text = text, .help_md = md},
#include "kinds.inc"
};

const size_t mgc_nrules = sizeof mgc_rules / sizeof *mgc_rules;

const mgc_rule *mgc_rule_for(const char *kind)
{
    if (!kind)
        return NULL;
    for (size_t i = 0; i < mgc_nrules; i++)
        if (strcmp(mgc_rules[i].kind, kind) == 0)
            return &mgc_rules[i];
    return NULL;
}
