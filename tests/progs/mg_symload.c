/*
 * The symbolizer (libmapguard-symbolize.so, and libdw and jansson with it)
 * is loaded by the first report, not at start. The program prints whether
 * each is mapped before and after a nil-map write, and the offset of the writing
 * function in the executable, so that a test can check a frame that has
 * only module and offset.
 *
 *   mg_symload [chdir]
 *
 * chdir: moves to / first, so a shim preloaded by a relative path must
 * still find the symbolizer beside it.
 */
#include <gomap.h>

#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct look {
    const char *needle;
    bool found;
};

static int look(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct look *l = data;
    if (info->dlpi_name && strstr(info->dlpi_name, l->needle))
        l->found = true;
    return 0;
}

static int mapped(const char *needle)
{
    struct look l = {needle, false};
    dl_iterate_phdr(look, &l);
    return l.found;
}

static int first_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    *(uintptr_t *)data = info->dlpi_addr;
    return 1;
}

__attribute__((noinline)) static void nil_write(void)
{
    int64_t k = 1;
    gomap_set(NULL, &k, &k); /* @site:nil */
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "chdir") && chdir("/") != 0)
        return 3;
    printf("before: symbolizer=%d libdw=%d jansson=%d\n", mapped("libmapguard-symbolize.so"), mapped("libdw.so"),
           mapped("libjansson.so"));
    fflush(stdout);
    nil_write();
    printf("after: symbolizer=%d libdw=%d jansson=%d\n", mapped("libmapguard-symbolize.so"), mapped("libdw.so"),
           mapped("libjansson.so"));
    uintptr_t bias = 0;
    dl_iterate_phdr(first_object, &bias);
    printf("nil_write=0x%lx\n", (unsigned long)((uintptr_t)nil_write - bias));
    return 0;
}
