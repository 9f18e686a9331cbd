/*
 * Calls the libc functions the shim wraps for its exit paths (sigaction,
 * signal, abort, _exit) from .preinit_array: before any library constructor
 * has run, so before the shim has started (none of these wrappers starts
 * it). Each wrapper must then find the real function by itself.
 *   sigaction  a SIGSEGV handler set early; main asks for it, then raises
 *              SIGSEGV: the handler runs and exits 41
 *   signal     the same with signal()
 *   abort      a SIGABRT handler set early, then abort() early: the handler
 *              runs and exits 42
 *   _exit      _exit(7) early
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int early_rc = -2;

static void on_signal(int sig)
{
    const char *m = sig == SIGSEGV ? "program handler ran: SIGSEGV\n" : "program handler ran: SIGABRT\n";
    (void)!write(1, m, strlen(m));
    _exit(sig == SIGSEGV ? 41 : 42);
}

static void early(int argc, char **argv, char **envp)
{
    (void)envp;
    const char *mode = argc > 1 ? argv[1] : "";
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    if (!strcmp(mode, "sigaction"))
        early_rc = sigaction(SIGSEGV, &sa, NULL);
    else if (!strcmp(mode, "signal"))
        early_rc = signal(SIGSEGV, on_signal) == SIG_ERR ? -1 : 0;
    else if (!strcmp(mode, "abort") && sigaction(SIGABRT, &sa, NULL) == 0)
        abort();
    else if (!strcmp(mode, "_exit"))
        _exit(7);
}

__attribute__((section(".preinit_array"), used)) static void (*const run_early)(int, char **, char **) = early;

int main(void)
{
    struct sigaction now;
    sigaction(SIGSEGV, NULL, &now);
    printf("early=%d query=%s\n", early_rc, now.sa_handler == on_signal ? "own" : "other");
    fflush(stdout);
    raise(SIGSEGV);
    return 0;
}
