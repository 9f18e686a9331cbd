/*
 * libgomap opened with dlopen after start (not linked: the Makefile builds
 * this program without -lgomap). Run without the shim it prints the same.
 *
 *   mg_late fill         a library linked against libgomap, dlopen'ed; its
 *                        calls reach the wrappers through its PLT
 *   mg_late uaf          ... and they are checked: a use after free
 *   mg_late ctor_self    the map work in that library's constructor
 *   mg_late ctor_thread  ... on a thread the constructor joins
 *   mg_late handle       libgomap itself dlopen'ed, its functions taken with
 *                        dlsym(handle): these bypass the shim, unchecked
 *   mg_late default      ... taken with dlsym(RTLD_DEFAULT): the wrappers,
 *                        checked (a use after free)
 */
#include <gomap.h>
#include "scenario.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* libmg_late.so, beside this program. */
static void *open_lib(void)
{
    char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
    if (n <= 0)
        exit(3);
    path[n] = 0;
    strcpy(strrchr(path, '/') + 1, "libmg_late.so");
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        printf("dlopen: %s\n", dlerror());
        exit(3);
    }
    return h;
}

static void *sym(void *h, const char *name)
{
    void *p = dlsym(h, name);
    if (!p) {
        printf("dlsym %s: %s\n", name, dlerror());
        exit(3);
    }
    return p;
}

static void fill(void)
{
    void (*f)(int) = (void (*)(int))sym(open_lib(), "mg_late_fill");
    f(100);
}

static void uaf(void)
{
    void (*f)(void) = (void (*)(void))sym(open_lib(), "mg_late_use_after_free");
    f();
}

static void ctor_self(void)
{
    setenv("MG_LATE_CTOR", "self", 1);
    open_lib();
}

static void ctor_thread(void)
{
    setenv("MG_LATE_CTOR", "thread", 1);
    open_lib();
}

static void handle(void)
{
    void *h = dlopen("libgomap.so", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        printf("dlopen: %s\n", dlerror());
        exit(3);
    }
    gomap *(*new_)(const gomap_type *, size_t) = (gomap * (*)(const gomap_type *, size_t)) sym(h, "gomap_new");
    int (*set)(gomap *, const void *, const void *) = (int (*)(gomap *, const void *, const void *))sym(h, "gomap_set");
    size_t (*len)(const gomap *) = (size_t(*)(const gomap *))sym(h, "gomap_len");
    void (*free_)(gomap *) = (void (*)(gomap *))sym(h, "gomap_free");
    static const gomap_type I64 = {.key_size = 8, .val_size = 8};
    gomap *m = new_(&I64, 0);
    for (int64_t i = 0; i < 100; i++)
        set(m, &i, &i);
    int64_t k = 1;
    int nil = set(NULL, &k, &k); /* @site:handle_nil */
    printf("handle map=%s len=%zu nil_set=%s\n", m ? "ok" : "NULL", len(m), nil == GOMAP_ENIL ? "ENIL" : "?");
    free_(m);
}

static void by_default(void)
{
    if (!dlopen("libgomap.so", RTLD_NOW | RTLD_LOCAL)) {
        printf("dlopen: %s\n", dlerror());
        exit(3);
    }
    gomap *(*new_)(const gomap_type *, size_t) =
        (gomap * (*)(const gomap_type *, size_t)) sym(RTLD_DEFAULT, "gomap_new");
    int (*set)(gomap *, const void *, const void *) =
        (int (*)(gomap *, const void *, const void *))sym(RTLD_DEFAULT, "gomap_set");
    size_t (*len)(const gomap *) = (size_t(*)(const gomap *))sym(RTLD_DEFAULT, "gomap_len");
    void (*free_)(gomap *) = (void (*)(gomap *))sym(RTLD_DEFAULT, "gomap_free");
    static const gomap_type I64 = {.key_size = 8, .val_size = 8};
    gomap *m = new_(&I64, 0);
    for (int64_t i = 0; i < 100; i++)
        set(m, &i, &i);
    printf("default map=%s len=%zu\n", m ? "ok" : "NULL", len(m));
    free_(m);
    printf("len after free=%zu\n", len(m)); /* @site:default_uaf */
}

static const struct scenario scenarios[] = {
    {"fill", fill}, {"uaf", uaf}, {"ctor_self", ctor_self}, {"ctor_thread", ctor_thread}, {"handle", handle},
    {"default", by_default},
};

int main(int argc, char **argv)
{
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
