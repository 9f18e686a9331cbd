/*
 * Chapter 1, fixed: the same counter and reader, each map call under one
 * pthread_mutex (the document's "map + sync.Mutex"). The loops are bounded
 * so the program ends and the count can be checked.
 */
#include <pthread.h>
#include <stdio.h>

#include "gomap.h"

enum { N = 1000000 };

static gomap *m; /* map[string]int */
static const char *const key = "key";
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *writer(void *arg)
{
    (void)arg;
    for (int i = 0; i < N; i++) {
        pthread_mutex_lock(&mu);
        long *v = gomap_assign(m, &key); /* m["key"]++ */
        if (v)
            ++*v;
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

static void *reader(void *arg)
{
    long last = 0;
    for (int i = 0; i < N; i++) {
        pthread_mutex_lock(&mu);
        gomap_lookup(m, &key, &last); /* v := m["key"] */
        pthread_mutex_unlock(&mu);
    }
    *(long *)arg = last;
    return NULL;
}

int main(void)
{
    gomap_type type = {sizeof(const char *), sizeof(long), gomap_hash_cstr, gomap_equal_cstr};
    m = gomap_new(&type, 0);
    if (!m)
        return 1;

    long seen = 0, final = 0;
    pthread_t w, r;
    pthread_create(&w, NULL, writer, NULL);
    pthread_create(&r, NULL, reader, &seen);
    pthread_join(w, NULL);
    pthread_join(r, NULL);

    gomap_lookup(m, &key, &final);
    printf("m[\"key\"] = %ld after %d increments (the reader last saw %ld)\n", final, N, seen);
    gomap_free(m);
    return final == N ? 0 : 1;
}
