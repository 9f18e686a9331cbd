/*
 * A crash two calls below main, built -O2 (the name's _o2): part of main
 * goes to .text.startup, and libdw's address lookup then gives this unit
 * for addresses in none, crt1's _start among them. The record's bottom
 * frame, _start, must get no file or line of this unit. argv[1]: "abort"
 * or "segv".
 */
#include <gomap.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) void do_segv(int *p) { *p = 1; }
__attribute__((noinline)) void do_abort(void) { abort(); }

int main(int argc, char **argv)
{
    gomap_type t = {4, 4, 0, 0};
    gomap *m = gomap_new(&t, 0);
    int k = 1;
    gomap_set(m, &k, &k);
    if (argc > 1 && strcmp(argv[1], "abort") == 0)
        do_abort(); /* @site:abort */
    else
        do_segv(NULL);
    printf("not reached\n");
    return 0;
}
