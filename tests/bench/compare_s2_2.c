/*
 * The seed document's §2.2 program, ported to C for bench-compare's
 * detection table: one thread does 1000 reads while another does 1000
 * writes on the same map, with no synchronization. The Go original
 * (tests/bench/go/s2_2/main.go):
 *
 *   m := make(map[int]int)
 *   var wg sync.WaitGroup
 *   wg.Add(2)
 *   go func() { defer wg.Done(); for i := 0; i < 1000; i++ { _ = m[i] } }() // read
 *   go func() { defer wg.Done(); for i := 0; i < 1000; i++ { m[i] = i } }() // write
 *   wg.Wait()
 *
 * A plain port: the goroutines become pthread_create, wg.Wait becomes
 * pthread_join. Nothing holds either thread inside the map to force the
 * overlap, so every detector gets the same, unaided chance.
 *
 *   compare_s2_2 [N]
 *
 * N (default 1000, the document's count) is the number of reads and of
 * writes; compare.sh also runs N = 100000 to show how detection that
 * needs the calls to overlap in time depends on how long they run.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gomap.h"

static gomap *m;
static int64_t n = 1000;

static void *reader(void *arg)
{
    (void)arg;
    for (int64_t i = 0; i < n; i++)
        (void)gomap_get(m, &i); /* _ = m[i] */
    return NULL;
}

static void *writer(void *arg)
{
    (void)arg;
    for (int64_t i = 0; i < n; i++)
        gomap_set(m, &i, &i); /* m[i] = i */
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1 && (n = atoll(argv[1])) <= 0) {
        fprintf(stderr, "usage: %s [N]\n", argv[0]);
        return 2;
    }
    const gomap_type int_int = {sizeof(int64_t), sizeof(int64_t), NULL, NULL};
    m = gomap_new(&int_int, 0); /* make(map[int]int) */
    if (!m) {
        perror("gomap_new");
        return 1;
    }
    pthread_t r, w;
    if (pthread_create(&r, NULL, reader, NULL) || pthread_create(&w, NULL, writer, NULL)) {
        fputs("pthread_create failed\n", stderr);
        return 1;
    }
    pthread_join(r, NULL);
    pthread_join(w, NULL);
    gomap_free(m);
    return 0;
}
