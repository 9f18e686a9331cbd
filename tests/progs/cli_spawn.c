/* mapguard CLI test: starts argv[1..] with posix_spawnp, as make or a test
 * runner might, waits for it and exits with its status. A child the
 * detector cannot load into must not pass unnoticed; a child's finding
 * must fail the run. */
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PROGRAM [ARGS...]\n", argv[0]);
        return 2;
    }
    pid_t pid;
    int e = posix_spawnp(&pid, argv[1], NULL, NULL, argv + 1, environ);
    if (e != 0) {
        fprintf(stderr, "cli_spawn: %s: %s\n", argv[1], strerror(e));
        return 127;
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid)
        return 126;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
