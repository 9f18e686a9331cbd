/*
 * leaked-map: with detect_leaks=1, the maps still alive at exit, grouped by
 * creation stack, with their number and total entries (the document's
 * §2.5: a function that reassigns its map parameter to a new map loses the
 * caller's map, or the new one).
 *
 * Finding the live maps at exit needs a registry of all maps. It is the
 * one side table in the shim, and it exists only when leak detection is
 * on: an open-addressing set of map addresses under a lock, touched at
 * gomap_new and gomap_free only, never on a map's per-call path.
 */
#include "detect.h"
#include "ghash_detect.h"
#include "dedup.h"
#include "report.h"

#include <pthread.h>
#include <stdlib.h>

#define TOMB ((uintptr_t)1)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t *set;
static size_t cap, used, live;

void mg_leak_lock(void) { pthread_mutex_lock(&lock); }
void mg_leak_unlock(void) { pthread_mutex_unlock(&lock); }
void mg_leak_atfork_child(void) { pthread_mutex_init(&lock, NULL); }

static size_t hash_ptr(uintptr_t p) { return (size_t)((p >> 4) * 0x9e3779b97f4a7c15ull >> 17); }

static bool grow(void)
{
    size_t ncap = cap ? cap * 2 : 4096;
    if (live * 4 < cap)
        ncap = cap; /* mostly tombstones: rehash in place size */
    uintptr_t *n = calloc(ncap, sizeof *n);
    if (!n)
        return false;
    for (size_t i = 0; i < cap; i++) {
        uintptr_t p = set[i];
        if (p > TOMB) {
            size_t j = hash_ptr(p) & (ncap - 1);
            while (n[j])
                j = (j + 1) & (ncap - 1);
            n[j] = p;
        }
    }
    free(set);
    set = n;
    cap = ncap;
    used = live;
    return true;
}

/* The lock is taken busy (track, untrack), as every lock of the shim's
 * on a map call's path: a signal handler's map call goes straight to the
 * library instead of waiting for the lock its own thread holds. */
void mg_leak_track(gomap *m)
{
    mg_self.busy++;
    pthread_mutex_lock(&lock);
    if ((used + 1) * 2 > cap && !grow()) {
        pthread_mutex_unlock(&lock);
        mg_self.busy--;
        return;
    }
    size_t j = hash_ptr((uintptr_t)m) & (cap - 1);
    while (set[j] > TOMB)
        j = (j + 1) & (cap - 1);
    if (!set[j])
        used++;
    set[j] = (uintptr_t)m;
    live++;
    pthread_mutex_unlock(&lock);
    mg_self.busy--;
}

void mg_leak_untrack(gomap *m)
{
    mg_self.busy++;
    pthread_mutex_lock(&lock);
    if (cap) {
        size_t j = hash_ptr((uintptr_t)m) & (cap - 1);
        while (set[j]) {
            if (set[j] == (uintptr_t)m) {
                set[j] = TOMB;
                live--;
                break;
            }
            j = (j + 1) & (cap - 1);
        }
    }
    pthread_mutex_unlock(&lock);
    mg_self.busy--;
}

struct leak {
    uint32_t stack;
    uintptr_t site; /* creation call site, when no stack was captured */
    uint32_t thread;
    gomap *m;
};

static int by_origin(const void *a, const void *b)
{
    const struct leak *x = a, *y = b;
    if (x->stack != y->stack)
        return x->stack < y->stack ? -1 : 1;
    if (x->site != y->site)
        return x->site < y->site ? -1 : 1;
    return (uintptr_t)x->m < (uintptr_t)y->m ? -1 : (uintptr_t)x->m > (uintptr_t)y->m;
}

void mg_leak_report(void)
{
    pthread_mutex_lock(&lock);
    struct leak *v = live ? malloc(live * sizeof *v) : NULL;
    size_t n = 0;
    for (size_t i = 0; v && i < cap && n < live; i++) {
        gomap *m = (gomap *)set[i];
        if (set[i] <= TOMB)
            continue;
        const uint64_t *w = mg_words(m);
        uint64_t h = MG_RD(w[MW_HDR]);
        if (hdr_state(h) != MS_LIVE)
            continue;
        uint64_t made = MG_RD(w[MW_MADE]);
        v[n++] = (struct leak){.stack = hdr_created(h), .site = site_pc(made), .thread = site_thread(made), .m = m};
    }
    pthread_mutex_unlock(&lock);
    if (!v) {
        mg_gh_leak_report();
        return;
    }
    qsort(v, n, sizeof *v, by_origin);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        size_t entries = 0;
        while (j < n && v[j].stack == v[i].stack && v[j].site == v[i].site)
            entries += MG_REAL(gomap_len)(v[j++].m);
        int slot = mg_report_claim(MK_LEAK, v[i].site, v[i].stack);
        if (slot >= 0) {
            struct mg_finding f = {.kind = MK_LEAK, .map = v[i].m, .count = j - i, .entries = entries};
            mg_party_made(&f.made, v[i].m);
            f.access = f.made;
            mg_report(&f, slot);
        }
        i = j;
    }
    free(v);
    /* GLib's tables the program made (ghash_detect.c), after gomap's */
    mg_gh_leak_report();
}
