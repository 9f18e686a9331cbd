/*
 * §4.3: a struct key with a pointer field.
 *
 *     type visit struct { city *string; year int }
 *
 * Go compares the pointer, not the string it points to, and so does
 * gomap's default equality (the key's bytes): two keys with equal contents
 * in different buffers are different keys. Nothing is misused as far as a
 * detector can tell, so mapguard stays quiet; the program shows the miss.
 */
#include <stdint.h>
#include <stdio.h>

#include "gomap.h"

typedef struct visit {
    const char *city; /* compared by address */
    int64_t year;
} visit;

int main(void)
{
    gomap_type type = {sizeof(visit), sizeof(long), NULL, NULL};
    gomap *visits = gomap_new(&type, 0); /* map[visit]int */
    if (!visits)
        return 1;

    char city[] = "Paris";
    visit stored = {city, 2024};
    gomap_set(visits, &stored, &(long){3});

    char input[16];
    snprintf(input, sizeof input, "%s", "Paris"); /* the same name, read again */
    visit asked = {input, 2024};
    long n = 0;
    bool found = gomap_lookup(visits, &asked, &n);
    printf("visits[{\"Paris\", 2024}] with the name in another buffer: %s\n",
           found ? "found" : "NOT FOUND (equal contents, different pointer)");
    gomap_free(visits);
    return 0;
}
