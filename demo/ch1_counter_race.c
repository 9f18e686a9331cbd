/*
 * Chapter 1: one thread runs m["key"]++ forever while another reads
 * m["key"] forever.
 *
 *     go func() { for { m["key"]++ } }()   // write
 *     go func() { for { _ = m["key"] } }() // read
 *
 * Go kills the program with "fatal error: concurrent map read and map
 * write". The document adds a twist: if that error were recovered and the
 * loop retried, nothing would ever stop it. In C nothing stops these loops
 * in the first place; the writer even retries whenever the map call fails.
 * Under mapguard, halt_on_error=1 ends the program at the first report, and
 * without it the race is reported once, with a count of how often it came
 * back (dedup).
 *
 * The loops stop on their own after a few seconds (argv[1], default 10) so
 * that a run without the detector finishes too.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gomap.h"

static gomap *m; /* map[string]int */
static const char *const key = "key";

static void *writer(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "writer"); /* the name reports show */
    for (;;) {
        long *v = gomap_assign(m, &key); /* m["key"]++ */
        if (!v)
            continue; /* the twist: retry on error, forever */
        ++*v;
    }
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "reader"); /* the name reports show */
    for (;;)
        (void)gomap_get(m, &key); /* _ = m["key"] */
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned seconds = argc > 1 ? (unsigned)atoi(argv[1]) : 10;
    gomap_type type = {sizeof(const char *), sizeof(long), gomap_hash_cstr, gomap_equal_cstr};
    m = gomap_new(&type, 0);
    if (!m)
        return 1;

    pthread_t w, r;
    pthread_create(&w, NULL, writer, NULL);
    pthread_create(&r, NULL, reader, NULL);
    sleep(seconds);
    printf("after %u s nothing had stopped the two loops\n", seconds);
    return 0; /* ends both threads mid-loop */
}
