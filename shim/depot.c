/*
 * The stack depot: every distinct stack is stored once and named by a
 * 32-bit id, as in sanitizer_common. Map words then hold an id instead of
 * a stack, and a stack captured a million times (a map created in a loop)
 * costs memory once.
 *
 * Lookups walk a hash bucket's list with acquire loads and take no lock;
 * an insert takes the lock, looks again, and publishes the new entry with a
 * release store. Entries are never freed. Memory comes from mmap'd chunks,
 * not malloc, so the depot works even when the application replaced malloc
 * with something that calls back into gomap.
 */
#include "owned_lock.h"
#include "stack.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

struct entry {
    struct entry *next;
    uint32_t hash;
    uint32_t id;
    int n;
    uintptr_t pcs[];
};

/* Two bucket arrays. The first SMALL_STACKS stacks go into a one-page
 * array, the rest into a big one: a short-lived process (a GLib tool under
 * `mapguard run`) stores a few dozen stacks, and hashed into 128 KiB they
 * would each fault in a page of their own. Entries never move, so a lookup
 * walks its bucket in both arrays (the big one only once it is in use);
 * the small array's chains stay short because it stops taking entries. */
#define NSMALL 512u
#define SMALL_STACKS 1024u
#define NBUCKETS 16384u
#define CHUNK_IDS 4096u
#define MAX_CHUNKS 4096u /* 16M distinct stacks */
#define ARENA_CHUNK (1u << 20)

static MG_LARGE_BSS struct entry *small[NSMALL];
static MG_LARGE_BSS struct entry *buckets[NBUCKETS];
static MG_LARGE_BSS struct entry **ids[MAX_CHUNKS];
static uint32_t next_id = 1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *arena, *arena_end;

static uint32_t hash_stack(const uintptr_t *pcs, int n)
{
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)n;
    for (int i = 0; i < n; i++) {
        h ^= pcs[i];
        h *= 0x100000001b3ull;
        h ^= h >> 29;
    }
    return (uint32_t)(h ^ h >> 32);
}

static void *arena_alloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!arena || (size_t)(arena_end - arena) < n) {
        size_t sz = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        void *p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return NULL;
        arena = p;
        arena_end = arena + sz;
    }
    void *r = arena;
    arena += n;
    return r;
}

static struct entry *find(struct entry *e, uint32_t h, const uintptr_t *pcs, int n)
{
    for (; e; e = __atomic_load_n(&e->next, __ATOMIC_ACQUIRE))
        if (e->hash == h && e->n == n && memcmp(e->pcs, pcs, (size_t)n * sizeof *pcs) == 0)
            return e;
    return NULL;
}

/* The stack in either bucket array; the big one is looked at only once
 * ids past SMALL_STACKS were handed out (next_id is stored after the
 * entry is published, so a lookup that sees it low finds every entry in
 * the small array). */
static struct entry *lookup(uint32_t h, const uintptr_t *pcs, int n)
{
    struct entry *e = find(__atomic_load_n(&small[h % NSMALL], __ATOMIC_ACQUIRE), h, pcs, n);
    if (!e && __atomic_load_n(&next_id, __ATOMIC_ACQUIRE) > SMALL_STACKS)
        e = find(__atomic_load_n(&buckets[h % NBUCKETS], __ATOMIC_ACQUIRE), h, pcs, n);
    return e;
}

uint32_t mg_depot_put(const uintptr_t *pcs, int n)
{
    if (n <= 0)
        return 0;
    uint32_t h = hash_stack(pcs, n);
    struct entry *e = lookup(h, pcs, n);
    if (e)
        return e->id;

    uint32_t id = 0;
    /* held with the asynchronous signals blocked: a handler that forks
     * would wait in the fork's prepare handler (runtime.c) for the report
     * lock, which the forking thread of another handler holds while it
     * waits for this one (a held-out probe: SIGALRM forking while threads
     * were being created, their creation stacks going in, hung every run) */
    sigset_t old;
    mg_block_async_signals(&old);
    pthread_mutex_lock(&lock);
    e = lookup(h, pcs, n);
    if (e) {
        id = e->id;
    } else if (next_id / CHUNK_IDS < MAX_CHUNKS) {
        uint32_t c = next_id / CHUNK_IDS;
        if (!ids[c])
            __atomic_store_n(&ids[c], arena_alloc(CHUNK_IDS * sizeof(struct entry *)), __ATOMIC_RELEASE);
        e = ids[c] ? arena_alloc(sizeof *e + (size_t)n * sizeof *pcs) : NULL;
        if (e) {
            id = next_id;
            struct entry **b = id <= SMALL_STACKS ? &small[h % NSMALL] : &buckets[h % NBUCKETS];
            e->hash = h;
            e->id = id;
            e->n = n;
            memcpy(e->pcs, pcs, (size_t)n * sizeof *pcs);
            e->next = *b;
            __atomic_store_n(&ids[c][id % CHUNK_IDS], e, __ATOMIC_RELEASE);
            __atomic_store_n(b, e, __ATOMIC_RELEASE);
            __atomic_store_n(&next_id, id + 1, __ATOMIC_RELEASE);
        }
    }
    pthread_mutex_unlock(&lock);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return id;
}

bool mg_depot_get(uint32_t id, const uintptr_t **pcs, int *n)
{
    if (id == 0 || id / CHUNK_IDS >= MAX_CHUNKS)
        return false;
    struct entry **chunk = __atomic_load_n(&ids[id / CHUNK_IDS], __ATOMIC_ACQUIRE);
    if (!chunk)
        return false;
    struct entry *e = __atomic_load_n(&chunk[id % CHUNK_IDS], __ATOMIC_ACQUIRE);
    if (!e)
        return false;
    *pcs = e->pcs;
    *n = e->n;
    return true;
}

void mg_depot_lock(void) { pthread_mutex_lock(&lock); }
void mg_depot_unlock(void) { pthread_mutex_unlock(&lock); }
void mg_depot_atfork_child(void) { pthread_mutex_init(&lock, NULL); }
