/*
 * §4.3 fixed: give the map a hash and an equality that look at what the
 * pointer points to. Equal keys must hash alike, so both use the string's
 * contents and the year.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gomap.h"

typedef struct visit {
    const char *city;
    int64_t year;
} visit;

static uint64_t visit_hash(const void *key, size_t size, uint64_t seed)
{
    (void)size;
    const visit *v = key;
    uint64_t h = gomap_hash_bytes(v->city, strlen(v->city), seed);
    return gomap_hash_bytes(&v->year, sizeof v->year, h);
}

static bool visit_equal(const void *a, const void *b, size_t size)
{
    (void)size;
    const visit *x = a, *y = b;
    return x->year == y->year && strcmp(x->city, y->city) == 0;
}

int main(void)
{
    gomap_type type = {sizeof(visit), sizeof(long), visit_hash, visit_equal};
    gomap *visits = gomap_new(&type, 0);
    if (!visits)
        return 1;

    char city[] = "Paris";
    visit stored = {city, 2024};
    gomap_set(visits, &stored, &(long){3});

    char input[16];
    snprintf(input, sizeof input, "%s", "Paris");
    visit asked = {input, 2024};
    long n = 0;
    bool found = gomap_lookup(visits, &asked, &n);
    printf("visits[{\"Paris\", 2024}] with the name in another buffer: %s (%ld)\n",
           found ? "found" : "NOT FOUND", n);
    gomap_free(visits);
    return found && n == 3 ? 0 : 1;
}
