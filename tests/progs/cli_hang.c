/* mapguard CLI test for --timeout: optionally races ("race"), then forks a
 * child that sleeps, prints the child's pid, and sleeps itself. The timeout
 * must kill both and still report the race. With "setsid" the child first
 * leaves the program's session and process group, as a daemon does; the
 * pid is printed only once it has. With "daemon" the program exits once
 * the child has left, and the child races 3 seconds later (past the 2
 * seconds mapguard waits after a normal exit) and then sleeps for good:
 * within --timeout its race is reported, and at it the child is killed. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_race.h"

int main(int argc, char **argv)
{
    int daemon = argc > 1 && strcmp(argv[1], "daemon") == 0;
    int detach = daemon || (argc > 1 && strcmp(argv[1], "setsid") == 0);
    if (argc > 1 && strcmp(argv[1], "race") == 0)
        cli_race();
    int done[2];
    if (pipe(done) != 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        if (detach && setsid() < 0)
            _exit(1);
        close(done[1]);
        if (daemon) {
            sleep(3);
            cli_race();
        }
        for (;;)
            pause();
    }
    close(done[1]);
    char c;
    if (read(done[0], &c, 1) < 0) /* EOF once the child has detached */
        return 1;
    printf("%ld\n", (long)pid);
    fflush(stdout);
    if (daemon)
        return 0;
    for (;;)
        pause();
}
