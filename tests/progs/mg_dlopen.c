/*
 * A library loaded after the first report: its frames must still be
 * symbolized, so the shim has to notice the dlopen and reread the module
 * list. GLib's g_slist_foreach calls back into this program, which then
 * writes to the nil map.
 */
#include <gomap.h>

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>

typedef void *(*prepend_fn)(void *list, void *data);
typedef void (*foreach_fn)(void *list, void (*fn)(void *data, void *user), void *user);

static void visit(void *data, void *user)
{
    (void)user;
    int64_t k = (int64_t)(intptr_t)data;
    gomap_set(NULL, &k, &k); /* @site:in_callback */
}

int main(void)
{
    int64_t k = 1;
    gomap_set(NULL, &k, &k); /* @site:before */
    void *glib = dlopen("libglib-2.0.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!glib) {
        printf("no glib: %s\n", dlerror());
        return 3;
    }
    prepend_fn prepend = (prepend_fn)dlsym(glib, "g_slist_prepend");
    foreach_fn foreach = (foreach_fn)dlsym(glib, "g_slist_foreach");
    if (!prepend || !foreach)
        return 3;
    void *list = prepend(NULL, (void *)(intptr_t)7);
    foreach(list, visit, NULL); /* @site:foreach */
    return 0;
}
