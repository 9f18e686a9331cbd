#include "site_line.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

int site_line(const char *src, const char *name)
{
    char path[512], tag[128];
    snprintf(path, sizeof path, "%s/tests/progs/%s.c", SRC_DIR, src);
    snprintf(tag, sizeof tag, "@site:%s */", name);
    FILE *f = fopen(path, "r");
    cr_assert(f, "cannot open %s", path);
    char line[1024];
    int n = 0, found = 0, hits = 0;
    while (fgets(line, sizeof line, f)) {
        n++;
        if (strstr(line, tag)) {
            found = n;
            hits++;
        }
    }
    fclose(f);
    cr_assert(hits == 1, "%s: @site:%s found %d times", path, name, hits);
    return found;
}
