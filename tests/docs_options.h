/*
 * docs/options.md's options table, read by the shim's and the CLI's tests
 * to check the code against it: the rows "| `name` | default | values |
 * meaning |", with the backticks taken off the first three cells.
 */
#ifndef TESTS_DOCS_OPTIONS_H
#define TESTS_DOCS_OPTIONS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct doc_option {
    char name[64], dflt[64], values[64];
    long lo, hi; /* from a values cell "lo–hi"; has_range when it is one */
    int has_range;
};

/* Copies a cell without its spaces and backticks. */
static inline void doc_cell(const char *from, size_t n, char *to, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; i < n && j + 1 < cap; i++)
        if (from[i] != '`' && from[i] != ' ')
            to[j++] = from[i];
    to[j] = 0;
}

/* Fills opts (room for max) from the table; returns the row count. */
static inline size_t doc_options(struct doc_option *opts, size_t max)
{
    FILE *fp = fopen(SRC_DIR "/docs/options.md", "r");
    cr_assert(fp, "cannot open docs/options.md");
    char line[8192];
    size_t n = 0;
    int in_table = 0;
    while (fgets(line, sizeof line, fp)) {
        if (!strncmp(line, "| option | default |", 20)) {
            in_table = 1;
            continue;
        }
        if (!in_table || !strncmp(line, "|---", 4))
            continue;
        if (line[0] != '|')
            break; /* the table ended */
        cr_assert(n < max, "more rows than expected");
        const char *c[4];
        const char *p = line;
        for (int i = 0; i < 4; i++) {
            p = strchr(p, '|');
            cr_assert(p, "row without four cells: %s", line);
            c[i] = ++p;
        }
        struct doc_option *o = &opts[n++];
        doc_cell(c[0], (size_t)(c[1] - c[0] - 1), o->name, sizeof o->name);
        doc_cell(c[1], (size_t)(c[2] - c[1] - 1), o->dflt, sizeof o->dflt);
        doc_cell(c[2], (size_t)(c[3] - c[2] - 1), o->values, sizeof o->values);
        char *dash = strstr(o->values, "–"); /* an en dash, as the table writes ranges */
        o->has_range = 0;
        if (dash && o->values[0] >= '0' && o->values[0] <= '9') {
            o->lo = strtol(o->values, NULL, 10);
            o->hi = strtol(dash + strlen("–"), NULL, 10);
            o->has_range = 1;
        }
    }
    fclose(fp);
    cr_assert(n > 0, "no options table in docs/options.md");
    return n;
}

/* The row of an option, or fails the test. */
static inline const struct doc_option *doc_option(const struct doc_option *opts, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(opts[i].name, name))
            return &opts[i];
    cr_assert_fail("docs/options.md has no row for %s", name);
    return NULL;
}

#endif
