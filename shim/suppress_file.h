/*
 * Reading a suppressions file into rules (suppress_file.c): in the shim at
 * start (suppress.c), and in the mapguard command before it runs anything
 * (cli/shimopts.c), so that a file the shim would refuse stops the run at
 * once, for the same reason in the same words.
 */
#ifndef MAPGUARD_SUPPRESS_FILE_H
#define MAPGUARD_SUPPRESS_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "kinds.h"

/* A rule's kind: enum mg_kind, or one of these. */
enum { MG_SUPP_RACE = MK_COUNT, /* TSan's word for the concurrency kinds */
       MG_SUPP_ANY };           /* "*" */

struct mg_supp_rule {
    int kind;
    char *pattern; /* anchors turned into stars: "foo" is "*foo*", "^foo" "foo*" */
};

/* The rules of the file at path, every line of it, in *rules and *n (NULL
 * and 0 for a file of comments). False when the file cannot be used, with
 * why in err, naming the file ("suppressions file 'x' line 3: unknown kind
 * 'y' (...)", "cannot read suppressions file 'x': ..."; room for a path
 * and 200 bytes is enough), and no rules. */
bool mg_supp_file_load(const char *path, struct mg_supp_rule **rules, size_t *n, char *err, size_t errn);
void mg_supp_rules_free(struct mg_supp_rule *rules, size_t n);

#endif
