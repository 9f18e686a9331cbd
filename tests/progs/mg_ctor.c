/*
 * A report made while dlopen runs a library's constructor
 * (tests/progs/lib/mg_ctor.c), then one from main once dlopen is back.
 *
 *   mg_ctor self|thread
 */
#include <gomap.h>

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2 || setenv("MG_CTOR_MODE", argv[1], 1) != 0)
        return 2;
    char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
    if (n <= 0)
        return 3;
    path[n] = 0;
    strcpy(strrchr(path, '/') + 1, "libmg_ctor.so");
    if (!dlopen(path, RTLD_NOW)) {
        printf("dlopen: %s\n", dlerror());
        return 3;
    }
    int64_t k = 2;
    gomap_assign(NULL, &k); /* @site:after */
    printf("done\n");
    return 0;
}
