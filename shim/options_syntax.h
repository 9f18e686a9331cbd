/*
 * The syntax of MAPGUARD_OPTIONS, shared by the shim (options.c) and the
 * mapguard command (cli/shimopts.c): the separators, the table of options
 * expanded from options.inc, and the one function that decides whether a
 * value is valid. The command checks its flags and --options with the same
 * code the shim will run, so a value one accepts the other accepts.
 *
 * Header-only and free of the shim's types: the command includes it too.
 * Nothing here allocates, locks or calls into libc beyond memcmp/strlen, so
 * the shim may use it before libc is fully set up.
 */
#ifndef MG_OPTIONS_SYNTAX_H
#define MG_OPTIONS_SYNTAX_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Between key=value pairs; a value cannot contain any of them. */
#define MG_OPTION_SEPARATORS ": ,\t\n\r"

/* Every string option's storage; options.inc's maxlen stays below it. */
#define MG_OPTION_STR_CAP 4096

enum mg_option_type { MG_OPTION_TYPE_BOOL, MG_OPTION_TYPE_INT, MG_OPTION_TYPE_STR, MG_OPTION_TYPE_CHOICE };

struct mg_option_spec {
    const char *name;
    enum mg_option_type type;
    long dflt;           /* bool, int, choice (an index) */
    const char *dflt_str; /* str */
    long lo, hi;         /* int: the range; str: 0 and the longest length */
    const char *choices; /* choice: "a|b" */
    const char *help;
};

static const struct mg_option_spec mg_option_specs[] = {
#define MG_OPTION_BOOL(n, d, h) {#n, MG_OPTION_TYPE_BOOL, d, NULL, 0, 1, NULL, h},
#define MG_OPTION_INT(n, d, lo, hi, h) {#n, MG_OPTION_TYPE_INT, d, NULL, lo, hi, NULL, h},
#define MG_OPTION_STR(n, d, max, h) {#n, MG_OPTION_TYPE_STR, 0, d, 0, max, NULL, h},
#define MG_OPTION_CHOICE(n, d, c, h) {#n, MG_OPTION_TYPE_CHOICE, d, NULL, 0, 0, c, h},
#include "options.inc"
#undef MG_OPTION_BOOL
#undef MG_OPTION_INT
#undef MG_OPTION_STR
#undef MG_OPTION_CHOICE
};
#define MG_OPTION_COUNT (sizeof mg_option_specs / sizeof mg_option_specs[0])

static inline bool mg_option_is_sep(char c)
{
    return c && strchr(MG_OPTION_SEPARATORS, c) != NULL;
}

/* The option named by the n bytes at k, or NULL. */
static inline const struct mg_option_spec *mg_option_find(const char *k, size_t n)
{
    for (size_t i = 0; i < MG_OPTION_COUNT; i++)
        if (strlen(mg_option_specs[i].name) == n && memcmp(mg_option_specs[i].name, k, n) == 0)
            return &mg_option_specs[i];
    return NULL;
}

/* The nth word of a choice list into *w, *wn; false past the last. */
static inline bool mg_option_choice(const char *choices, long nth, const char **w, size_t *wn)
{
    const char *p = choices;
    for (long i = 0;; i++) {
        size_t len = strcspn(p, "|");
        if (i == nth) {
            *w = p;
            *wn = len;
            return true;
        }
        if (!p[len])
            return false;
        p += len + 1;
    }
}

/* Is the n-byte value v valid for the option? For bool, int and choice the
 * number it stands for goes to *num; a string is valid up to its maxlen. */
static inline bool mg_option_value(const struct mg_option_spec *s, const char *v, size_t n, long *num)
{
    switch (s->type) {
    case MG_OPTION_TYPE_BOOL:
        if ((n == 1 && v[0] == '1') || (n == 4 && !memcmp(v, "true", 4)))
            return *num = 1, true;
        if ((n == 1 && v[0] == '0') || (n == 5 && !memcmp(v, "false", 5)))
            return *num = 0, true;
        return false;
    case MG_OPTION_TYPE_INT: {
        size_t i = 0;
        bool neg = n > 0 && v[0] == '-';
        if (n > 0 && (v[0] == '-' || v[0] == '+'))
            i++;
        if (i == n)
            return false;
        long x = 0;
        for (; i < n; i++) {
            if (v[i] < '0' || v[i] > '9')
                return false;
            x = x * 10 + (v[i] - '0');
            if (x > 1000000000L) /* past any range, and far from overflow */
                return false;
        }
        x = neg ? -x : x;
        if (x < s->lo || x > s->hi)
            return false;
        return *num = x, true;
    }
    case MG_OPTION_TYPE_STR:
        return (long)n <= s->hi;
    case MG_OPTION_TYPE_CHOICE: {
        const char *w;
        size_t wn;
        for (long i = 0; mg_option_choice(s->choices, i, &w, &wn); i++)
            if (wn == n && !memcmp(w, v, n))
                return *num = i, true;
        return false;
    }
    }
    return false;
}

#endif
