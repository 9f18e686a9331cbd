/*
 * The alternate signal stack the shim gives the thread that starts it.
 * argv[1]:
 *   onstack   what the program sees must be what it sees without the shim:
 *             no alternate stack, a SA_ONSTACK handler that needs 256 KiB
 *             runs (on the thread's stack without the shim), and the
 *             program's own sigaltstack finds none before it. Prints the
 *             same three lines either way.
 *   overflow  unbounded recursion: the shim's record of the SIGSEGV is
 *             written from that alternate stack.
 */
#include <gomap.h>
#include "scenario.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int handled;

static void big_handler(int sig)
{
    (void)sig;
    volatile char buf[256 * 1024];
    memset((char *)buf, 1, sizeof buf);
    handled = buf[sizeof buf - 1];
}

static const char *flags(const stack_t *s) { return s->ss_flags & SS_DISABLE ? "none" : "present"; }

static void onstack(void)
{
    stack_t cur;
    sigaltstack(NULL, &cur);
    printf("alternate stack: %s\n", flags(&cur));
    struct sigaction sa = {.sa_handler = big_handler, .sa_flags = SA_ONSTACK};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("handler: %d\n", handled);
    static char own[64 * 1024];
    stack_t ss = {.ss_sp = own, .ss_size = sizeof own}, old;
    sigaltstack(&ss, &old);
    printf("before the program's own: %s\n", flags(&old));
}

/* bounded only by a limit no stack reaches, so that the compiler sees an
 * end */
static volatile long limit = 1L << 40;
static long depth(long n)
{
    volatile char pad[512];
    pad[0] = (char)n;
    return n < limit ? depth(n + 1) + pad[0] : n;
}

static void overflow(void) { printf("%ld\n", depth(0)); }

int main(int argc, char **argv)
{
    static const struct scenario table[] = {{"onstack", onstack}, {"overflow", overflow}};
    void (*fn)(void) = scenario_find(table, SCENARIO_COUNT(table), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    gomap_free(gomap_new(&(gomap_type){.key_size = 8, .val_size = 8}, 0));
    fn();
    return 0;
}
