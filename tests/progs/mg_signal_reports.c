/*
 * Findings made by a signal handler that interrupted the thread's own
 * report, and an exit from such a handler. The shim's locks are held by
 * the interrupted code on the same thread: the handler's map calls must
 * not wait for them (they go straight to the library while the shim is
 * busy), nor must the exit path. A timer fires every 200 us while the
 * thread makes nil-map writes at many call sites; where each signal lands
 * is the timer's business, and the program must end either way.
 *   nested   the handler makes nil-map writes too; prints "done"
 *   exit     the handler calls exit(5) at its 50th signal
 */
#include <gomap.h>
#include "scenario.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

static volatile sig_atomic_t signals;
static int exit_at; /* 0: never */

/* distinct call sites, each its own finding: every call a report */
#define NIL(i) gomap_set(NULL, &(int64_t){i}, &(int64_t){i})
#define NIL8(b) (NIL(b), NIL(b + 1), NIL(b + 2), NIL(b + 3), NIL(b + 4), NIL(b + 5), NIL(b + 6), NIL(b + 7))

static void on_alarm(int sig)
{
    (void)sig;
    if (++signals == exit_at)
        exit(5);
    NIL8(100);
}

static void start_timer(void)
{
    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 200}, {0, 200}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static void stop_timer(void)
{
    struct itimerval none = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &none, NULL);
}

static void nested(void)
{
    start_timer();
    for (int r = 0; r < 200; r++) {
        NIL8(0);
        NIL8(8);
        NIL8(16);
        NIL8(24);
    }
    stop_timer();
    printf("done\n");
}

static void exit_in_handler(void)
{
    exit_at = 50;
    start_timer();
    for (;;) {
        NIL8(0);
        NIL8(8);
        NIL8(16);
        NIL8(24);
    }
}

int main(int argc, char **argv)
{
    static const struct scenario table[] = {{"nested", nested}, {"exit", exit_in_handler}};
    void (*fn)(void) = scenario_find(table, SCENARIO_COUNT(table), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
