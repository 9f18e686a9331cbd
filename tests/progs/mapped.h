/*
 * Whether a library is mapped into this process, from /proc/self/maps:
 * for the tests of the shim's lazy loading of libunwind.
 */
#ifndef MG_TEST_MAPPED_H
#define MG_TEST_MAPPED_H

#include <stdio.h>
#include <string.h>

static inline int lib_mapped(const char *name)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    int found = 0;
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, name))
            found = 1;
    if (f)
        fclose(f);
    return found;
}

#endif
