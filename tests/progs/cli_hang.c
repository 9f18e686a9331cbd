/* mapguard CLI test for --timeout: optionally races ("race"), then forks a
 * child that sleeps, prints the child's pid, and sleeps itself. The timeout
 * must kill both and still report the race. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_race.h"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "race") == 0)
        cli_race();
    pid_t pid = fork();
    if (pid == 0) {
        for (;;)
            pause();
    }
    printf("%ld\n", (long)pid);
    fflush(stdout);
    for (;;)
        pause();
}
