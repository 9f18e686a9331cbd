/*
 * The gomap_shard stress workload as a program, so tests/shard can run it
 * under the preloaded detector and expect zero reports.
 *
 *   demo_shard_stress [THREADS [ITERS]]   the workload; exit 0 when correct
 *   demo_shard_stress --leak              makes a sharded map and never frees
 *                                         it: the shim must see the gomap_new
 *                                         calls made inside libgomapshard
 *
 * It prints whether libmapguard.so is mapped, so a test can tell "no
 * reports" from "the shim never loaded".
 */
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stress_workload.h"

static int find_shim(struct dl_phdr_info *info, size_t size, void *found)
{
    (void)size;
    if (info->dlpi_name && strstr(info->dlpi_name, "libmapguard.so"))
        *(int *)found = 1;
    return 0;
}

int main(int argc, char **argv)
{
    int shim = 0;
    dl_iterate_phdr(find_shim, &shim);
    printf("shim: %s\n", shim ? "loaded" : "not loaded");

    if (argc > 1 && strcmp(argv[1], "--leak") == 0) {
        gomap_type type = {.key_size = sizeof(uint64_t), .val_size = sizeof(uint64_t)};
        gomap_shard *m = gomap_shard_new(&type, 0, 0);
        for (uint64_t k = 0; m && k < 100; k++)
            gomap_shard_set(m, &k, &k);
        printf("leaked a sharded map of %zu entries\n", gomap_shard_len(m));
        return m ? 0 : 1;
    }

    sw_config cfg = {.threads = 16, .iters = 20000};
    if (argc > 1)
        cfg.threads = atoi(argv[1]);
    if (argc > 2)
        cfg.iters = atol(argv[2]);
    char why[256];
    if (!sw_run_all(&cfg, why, sizeof why)) {
        printf("FAILED: %s\n", why);
        return 1;
    }
    printf("ok: %d threads x %ld operations\n", cfg.threads, cfg.iters);
    return 0;
}
