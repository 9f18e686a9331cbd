/*
 * Stripped after linking: no debug info and no .symtab. A nil-map write
 * from a bsearch comparator gives a stack of the stripped program's frames
 * (module and offset only) around libc's bsearch (a name from .dynsym).
 * The program prints its comparator's offset in the executable so the test
 * can check the frame's offset lands in it.
 */
#include <gomap.h>

#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static gomap *volatile M;

static int compare(const void *a, const void *b)
{
    int64_t k = *(const int *)a;
    gomap_set(M, &k, &k);
    return *(const int *)a - *(const int *)b;
}

static int first_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    *(uintptr_t *)data = info->dlpi_addr;
    return 1;
}

int main(void)
{
    uintptr_t bias = 0;
    dl_iterate_phdr(first_object, &bias);
    printf("compare=0x%lx\n", (unsigned long)((uintptr_t)compare - bias));
    fflush(stdout);
    static const int sorted[] = {1, 2, 3, 4, 5, 6, 7, 8};
    int key = 3;
    const int *hit = bsearch(&key, sorted, 8, sizeof sorted[0], compare);
    return hit ? 0 : 1;
}
