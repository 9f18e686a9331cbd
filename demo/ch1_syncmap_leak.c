/*
 * Chapter 1, sync.Map misuse: LoadOrStore with unique keys (timestamps,
 * UUIDs) that are never deleted.
 *
 *     var inflight sync.Map
 *     func handle(id int64, r Request) {
 *         inflight.LoadOrStore(id, r) // id is a fresh timestamp: always stored
 *         ...                         // and never Deleted
 *     }
 *
 * Nothing fails; the map just grows with every request, forever. Here the
 * thread-safe map is gomap_shard (gomap_shard_load_or_store is LoadOrStore),
 * the request IDs are timestamps, and the map lives as long as the server.
 * With detect_leaks=1 mapguard reports, at exit, the maps still alive and
 * the entries they hold: every request ever served.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "gomap_shard.h"

typedef struct request {
    uint64_t client;
    char path[24];
} request;

static gomap_shard *inflight; /* the server's global: never freed */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void handle(uint64_t id, const request *r)
{
    gomap_shard_load_or_store(inflight, &id, r, NULL);
    /* ... serve the request; nobody deletes the entry afterwards ... */
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
        if (id <= last) /* keep IDs unique on a coarse clock */
            id = last + 1;
        last = id;
        request r = {.client = (uint64_t)i % 50, .path = "/api/orders"};
        handle(id, &r);
    }
    printf("served 100000 requests; the map still holds %zu of them\n",
           gomap_shard_len(inflight));
    return 0;
}
