/* mapguard CLI test: a program that gives its child options of its own,
 * as a test runner with its own MAPGUARD_OPTIONS might: it rewrites
 * MAPGUARD_OPTIONS with another log_path and format, then execs itself;
 * the new image makes a nil-map write. `mapguard run` must still see the
 * finding. argv[1]: the directory for the other log_path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gomap.h"

int main(int argc, char **argv)
{
    if (argc == 2) {
        char opts[4200];
        snprintf(opts, sizeof opts, "log_path=%s/elsewhere:format=text", argv[1]);
        setenv("MAPGUARD_OPTIONS", opts, 1);
        execl(argv[0], argv[0], argv[1], "child", (char *)NULL);
        perror("execl");
        return 1;
    }
    int k = 1;
    gomap_set(NULL, &k, &k); /* @site:rewrite_nil */
    return 0;
}
