/*
 * Calls gomap before any library constructor has run, mapguard's included:
 * functions in an executable's .preinit_array run first. The shim must start
 * lazily inside the wrapper and still report.
 */
#include <gomap.h>

#include <stdint.h>
#include <stdio.h>

static int early_result;

static void early(void)
{
    int64_t k = 1;
    early_result = gomap_set(NULL, &k, &k); /* @site:preinit_nil */
}

__attribute__((section(".preinit_array"), used)) static void (*const run_early)(void) = early;

int main(void)
{
    int64_t k = 2;
    gomap_assign(NULL, &k); /* @site:main_nil */
    printf("early=%d\n", early_result);
    return 0;
}
