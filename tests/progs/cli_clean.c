/* mapguard CLI test: correct map use, then the exit status asked for on the
 * command line (default 3), so the test sees whether `mapguard run` passes
 * the program's own status through. "abort" ends it with SIGABRT instead;
 * "sigpipe" exits 0 when SIGPIPE's disposition is the default, 9 when not
 * (the command ignores SIGPIPE itself, not for the program). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "gomap.h"

int main(int argc, char **argv)
{
    gomap_type t = {sizeof(int), sizeof(int), NULL, NULL};
    gomap *m = gomap_new(&t, 0);
    for (int i = 0; i < 100; i++)
        gomap_set(m, &i, &i);
    gomap_iter it;
    const void *k;
    void *v;
    long sum = 0;
    for (gomap_iter_init(&it, m); gomap_iter_next(&it, &k, &v);)
        sum += *(const int *)v;
    gomap_free(m);
    if (sum != 4950)
        return 1;
    if (argc > 1 && strcmp(argv[1], "abort") == 0)
        abort();
    if (argc > 1 && strcmp(argv[1], "sigpipe") == 0) {
        struct sigaction sa;
        return sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL ? 0 : 9;
    }
    return argc > 1 ? atoi(argv[1]) : 3;
}
