/*
 * libglib loaded after start: this program does not link GLib; it
 * dlopens libglib_late.so (linked against GLib), whose GMutex calls reach
 * the shim's wrappers before their real functions are known.
 *
 *   mg_late_glib clean   a map handed over under one GMutex: no finding
 *   mg_late_glib race    ... under two different GMutexes: one finding
 */
#include <gomap.h>
#include "scenario.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void run(int two)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8};
    gomap *m = gomap_new(&t, 0); /* @site:made */
    char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
    if (n <= 0)
        exit(3);
    path[n] = 0;
    strcpy(strrchr(path, '/') + 1, "libglib_late.so");
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        printf("dlopen: %s\n", dlerror());
        exit(3);
    }
    void (*handoff)(gomap *, int) = (void (*)(gomap *, int))dlsym(h, "glib_late_handoff");
    if (!handoff)
        exit(3);
    handoff(m, two);
}

static void clean(void) { run(0); }
static void race(void) { run(1); }

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {{"clean", clean}, {"race", race}};
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
