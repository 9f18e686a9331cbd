/* The test programs run one named scenario, chosen by argv[1], so a test
 * can start exactly the interleaving it asserts on. */
#ifndef TESTS_PROGS_SCENARIO_H
#define TESTS_PROGS_SCENARIO_H

#include <stdio.h>
#include <string.h>

struct scenario {
    const char *name;
    void (*fn)(void);
};

#define SCENARIO_COUNT(t) (sizeof(t) / sizeof((t)[0]))

/* The scenario called name, or NULL after a usage line on stderr. */
static inline void (*scenario_find(const struct scenario *t, size_t n, const char *name,
                                   const char *prog))(void)
{
    for (size_t i = 0; name && i < n; i++)
        if (!strcmp(name, t[i].name))
            return t[i].fn;
    fprintf(stderr, "usage: %s scenario\n", prog);
    return NULL;
}

#endif
