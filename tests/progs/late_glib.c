/*
 * libglib-2.0 loaded after start: this program does not link GLib; it
 * dlopens a plugin that does (lib/gh_plugin.c). argv[1]: "clean" or
 * "misuse" (a use after destroy inside the plugin).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
    if (n <= 0)
        return 2;
    path[n] = 0;
    strcpy(strrchr(path, '/') + 1, "libgh_plugin.so");
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        printf("dlopen: %s\n", dlerror());
        return 3;
    }
    int (*run)(int) = (int (*)(int))dlsym(h, "gh_plugin_run");
    printf("run=%d\n", run(!strcmp(argv[1], "misuse")));
    return 0;
}
