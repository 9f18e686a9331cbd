/*
 * The rule catalogue: one SARIF rule per finding kind. The help text is the
 * fix, taken from the Go map pitfalls guide the project follows
 * (chapter 1's strategy table and chapter 4's practices: RWMutex for
 * read-mostly maps, a mutex with a preallocated map for stable keys, sharded
 * maps for dynamic keys, sync.Map only for read-mostly sparse keys; collect
 * then delete instead of deleting inside range; make before writing;
 * comparable, reflexive key types), translated to gomap's C API and to this
 * project's sharded map (gomap_shard). Code scanning shows the help next to
 * each alert, so it says what to change.
 */
#include "mapguard.h"

#include <string.h>

#define LOCK_FIX_TEXT                                                                        \
    "Every write to a gomap must exclude every other call on the same map. Pick the "      \
    "lock by workload, as the Go map guide's table advises: read-mostly maps take a "      \
    "pthread_rwlock_t (pthread_rwlock_rdlock around gomap_get/gomap_lookup/gomap_len and " \
    "iteration, pthread_rwlock_wrlock around gomap_set/gomap_assign/gomap_delete/"         \
    "gomap_clear/gomap_free); maps with a stable, predictable key set take a "              \
    "pthread_mutex_t and are preallocated with gomap_new's hint; maps with dynamic keys "  \
    "under heavy contention are sharded (N maps, each with its own lock, chosen by key "   \
    "hash: gomap_shard in shard/gomap_shard.h does this). A lock-free concurrent map "    \
    "(Go's sync.Map) only pays off for read-mostly, "                                      \
    "sparse keys. Never do slow I/O while holding the lock."

#define LOCK_FIX_MD                                                                          \
    "Every write to a gomap must exclude every other call on the same map. Pick the "      \
    "lock by workload:\n\n"                                                                \
    "| workload | fix | note |\n|---|---|---|\n"                                            \
    "| read-mostly | `pthread_rwlock_t` + gomap | `rdlock` around `gomap_get`, "             \
    "`gomap_lookup`, `gomap_len` and iteration; `wrlock` around `gomap_set`, "             \
    "`gomap_assign`, `gomap_delete`, `gomap_clear`, `gomap_free` |\n"                      \
    "| stable, predictable keys | `pthread_mutex_t` + gomap | preallocate: "                \
    "`gomap_new(&type, 1024)` |\n"                                                         \
    "| dynamic keys, heavy contention | sharded map: `gomap_shard` "                         \
    "(`shard/gomap_shard.h`) | N maps each under its own rwlock, picked by key hash |\n\n"  \
    "A lock-free concurrent map (Go's `sync.Map`) only pays off for read-mostly, sparse "  \
    "keys. Never do slow I/O while holding the lock."

const mg_rule mg_rules[] = {
    {
        "concurrent-read-write", "ConcurrentMapReadWrite",
        "concurrent map read and map write",
        "A map was read while another thread wrote it.",
        "A read (gomap_get, gomap_lookup, gomap_len) overlapped in time with a write "
        "(gomap_set, gomap_assign, gomap_delete, gomap_clear, gomap_iter_delete, "
        "gomap_free) on the same map from another thread. Like Go's map, a gomap is not "
        "safe for concurrent use when any thread writes: the reader can see a half-moved "
        "bucket, return a wrong value or crash. Go's runtime aborts with \"concurrent map "
        "read and map write\".",
        LOCK_FIX_TEXT, LOCK_FIX_MD,
        "guard every call on this map with one lock: a pthread_rwlock_t (read lock for reads) if reads dominate, else a pthread_mutex_t; or use the sharded gomap_shard.",
    },
    {
        "concurrent-writes", "ConcurrentMapWrites",
        "concurrent map writes",
        "Two threads wrote the same map at the same time.",
        "Two writes (gomap_set, gomap_assign, gomap_delete, gomap_clear, "
        "gomap_iter_delete, gomap_free) overlapped in time on the same map. Concurrent "
        "writers corrupt the buckets, lose entries and can loop forever during growth. "
        "Go's runtime aborts with \"concurrent map writes\".",
        LOCK_FIX_TEXT, LOCK_FIX_MD,
        "guard every call on this map with one lock (pthread_mutex_t, or a pthread_rwlock_t write lock); or use the sharded gomap_shard.",
    },
    {
        "concurrent-iteration-write", "ConcurrentMapIterationWrite",
        "concurrent map iteration and map write",
        "A map was iterated while another thread wrote it.",
        "gomap_iter_init or gomap_iter_next overlapped in time with a write on the same map "
        "from another thread. The iterator can skip or repeat entries or follow freed "
        "buckets. Go's runtime aborts with \"concurrent map iteration and map write\".",
        LOCK_FIX_TEXT " Hold the read lock for the whole iteration, from gomap_iter_init "
        "to the last gomap_iter_next, not per step.",
        LOCK_FIX_MD "\n\nHold the read lock for the **whole** iteration, from "
        "`gomap_iter_init` to the last `gomap_iter_next`, not per step.",
        "hold a read lock for the whole iteration and the write lock for every write; or use the sharded gomap_shard.",
    },
    {
        "modified-during-iteration", "MapModifiedDuringIteration",
        "map modified during iteration",
        "The map was structurally changed while an iterator over it was in use.",
        "An iterator was advanced after a key was inserted, a present key deleted or the "
        "map cleared since the iterator's previous step, other than through the iterator's "
        "own gomap_iter_delete. This is deleting inside `range` (the Go map guide's 2.3): "
        "entries may be skipped or seen twice, and the result depends on the random "
        "iteration order.",
        "Do not insert or delete through the map while ranging over it. Either delete the "
        "current entry with gomap_iter_delete(&it), which keeps the iterator valid, or use "
        "two phases: collect the keys to delete in a first pass, then delete them after "
        "the iteration ends (the guide's init / traverse / delete pattern). Updating the "
        "value of an existing key in place is fine.",
        "Do not insert or delete through the map while ranging over it. Either:\n\n"
        "* delete the current entry with `gomap_iter_delete(&it)`, which keeps the "
        "iterator valid, or\n"
        "* use two phases: collect the keys in a first pass, then `gomap_delete` them after "
        "the iteration ends (init, traverse, then delete).\n\n"
        "Updating the value of an existing key in place is fine.",
        "delete the current entry with gomap_iter_delete, or collect the keys and delete them after the loop.",
    },
    {
        "nil-map-write", "NilMapWrite",
        "assignment to entry in nil map",
        "A write was attempted on the nil map (NULL).",
        "gomap_set or gomap_assign was called with a NULL map, Go's nil map (the guide's "
        "2.4, a zero-value map used without make). The write fails with GOMAP_ENIL (or "
        "NULL) and changes nothing; code that ignores the status silently loses the "
        "data. Go panics with \"assignment to entry in nil map\".",
        "Create the map before writing to it: m = gomap_new(&type, hint) (Go's make), and "
        "check the result. A nil map may only be read. Check the return value of gomap_set "
        "and gomap_assign.",
        "Create the map before writing to it:\n\n"
        "```c\ngomap *m = gomap_new(&type, hint); /* Go's make(map[K]V, hint) */\n"
        "if (!m) { /* ENOMEM / EINVAL */ }\n```\n\n"
        "A nil map may only be read. Check the return value of `gomap_set` and "
        "`gomap_assign`.",
        "create the map with gomap_new before writing to it, and check the result of gomap_set/gomap_assign.",
    },
    {
        "use-after-free", "MapUseAfterFree",
        "map used after free",
        "A map was used after gomap_free.",
        "A gomap function was called on a map after gomap_free released it. The memory "
        "may already belong to another object.",
        "Give each map one owner that frees it, after every other user is done (join the "
        "threads first), and set the pointer to NULL right after gomap_free so a later use "
        "reads the nil map instead of freed memory.",
        "Give each map one owner that frees it after every other user is done (join the "
        "threads first), and clear the pointer:\n\n"
        "```c\ngomap_free(m);\nm = NULL; /* later reads see the nil map */\n```",
        "free the map once, after every user is done, and set the pointer to NULL after gomap_free.",
    },
    {
        "double-free", "MapDoubleFree",
        "map freed twice",
        "gomap_free was called twice on the same map.",
        "gomap_free was called on a map that had already been freed. A double free "
        "corrupts the allocator and can free another object that reused the address.",
        "Free each map exactly once, from its one owner, and set the pointer to NULL "
        "after gomap_free (gomap_free(NULL) is harmless).",
        "Free each map exactly once, from its one owner, and clear the pointer:\n\n"
        "```c\ngomap_free(m);\nm = NULL; /* gomap_free(NULL) is harmless */\n```",
        "free the map exactly once, from its owner, and set the pointer to NULL after gomap_free.",
    },
    {
        "irreflexive-key", "IrreflexiveMapKey",
        "key is not equal to itself",
        "A key was inserted whose equality function says it is not equal to itself.",
        "A new key was inserted for which the map's equal(k, k) is false, such as a NaN "
        "double key. The entry can never be found or deleted, every such insert adds a "
        "new entry, and the map grows without bound (the guide's 4.3 on choosing key "
        "types).",
        "Use key types whose equality is reflexive: integers, strings, structs of "
        "comparable fields. For double keys, reject NaN or canonicalize it before "
        "inserting; compare struct keys field by field, not by bytes that include padding "
        "or pointers to mutable data.",
        "Use key types whose equality is reflexive: integers, strings, structs of "
        "comparable fields.\n\n"
        "```c\nif (isnan(key)) return GOMAP_EINVAL; /* or map every NaN to one key */\n"
        "gomap_set(m, &key, &val);\n```\n\n"
        "Compare struct keys field by field, not by bytes that include padding or pointers "
        "to mutable data.",
        "use keys whose equality is reflexive; reject or canonicalize NaN before inserting.",
    },
    {
        "leaked-map", "MapLeaked",
        "map never freed",
        "A map was still allocated when the program exited.",
        "A map created here was never passed to gomap_free. A common cause is the guide's "
        "2.5: a function assigns a new map to its map parameter, so the caller never sees "
        "it (and keeps writing its own map).",
        "Free every map with gomap_free when done. A function that creates a map for its "
        "caller must return it or take a gomap ** and store through it; assigning to a "
        "gomap * parameter changes only the function's copy.",
        "Free every map with `gomap_free` when done. A function that creates a map for its "
        "caller must return it or store it through a `gomap **`:\n\n"
        "```c\nvoid reset(gomap **m) { gomap_free(*m); *m = gomap_new(&type, 0); }\n```\n\n"
        "Assigning to a `gomap *` parameter changes only the function's copy.",
        "gomap_free every map; return a new map or store it through a gomap ** instead of assigning a parameter.",
    },
};

const size_t mg_nrules = sizeof mg_rules / sizeof *mg_rules;

const mg_rule *mg_rule_for(const char *kind)
{
    if (!kind)
        return NULL;
    for (size_t i = 0; i < mg_nrules; i++)
        if (strcmp(mg_rules[i].kind, kind) == 0)
            return &mg_rules[i];
    return NULL;
}
