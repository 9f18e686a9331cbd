/*
 * §2.4 fixed: make the map first (gomap_new is Go's make), and check what
 * the calls return.
 */
#include <stdio.h>

#include "gomap.h"

int main(void)
{
    gomap_type type = {sizeof(const char *), sizeof(long), gomap_hash_cstr, gomap_equal_cstr};
    gomap *m = gomap_new(&type, 0); /* m := make(map[string]int) */
    if (!m) {
        perror("gomap_new");
        return 1;
    }
    const char *key = "answer";
    long val = 42;
    int rc = gomap_set(m, &key, &val);
    if (rc != GOMAP_OK) {
        fprintf(stderr, "gomap_set: %s\n", gomap_strerror(rc));
        return 1;
    }

    long got = 0;
    gomap_lookup(m, &key, &got);
    printf("m[\"answer\"] = %ld, len(m) = %zu\n", got, gomap_len(m));
    gomap_free(m);
    return got == 42 ? 0 : 1;
}
