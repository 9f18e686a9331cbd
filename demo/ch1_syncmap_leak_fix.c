/*
 * Chapter 1's sync.Map misuse, fixed: the entry is deleted when its request
 * is done, so the map holds only requests in flight, and the map is freed
 * at shutdown.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "gomap_shard.h"

typedef struct request {
    uint64_t client;
    char path[24];
} request;

static gomap_shard *inflight;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void handle(uint64_t id, const request *r)
{
    gomap_shard_load_or_store(inflight, &id, r, NULL);
    /* ... serve the request ... */
    gomap_shard_delete(inflight, &id); /* done: forget it */
}

int main(void)
{
    gomap_type type = {sizeof(uint64_t), sizeof(request), NULL, NULL};
    inflight = gomap_shard_new(&type, 0, 0);
    if (!inflight)
        return 1;

    uint64_t last = 0;
    for (int i = 0; i < 100000; i++) {
        uint64_t id = now_ns();
        if (id <= last)
            id = last + 1;
        last = id;
        request r = {.client = (uint64_t)i % 50, .path = "/api/orders"};
        handle(id, &r);
    }
    size_t left = gomap_shard_len(inflight);
    printf("served 100000 requests; the map holds %zu\n", left);
    gomap_shard_free(inflight); /* shutdown */
    return left == 0 ? 0 : 1;
}
