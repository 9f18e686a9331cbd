/* mapguard CLI test: the race happens only in a forked child; the parent
 * itself is clean and exits 0. `mapguard run` must still report the child's
 * finding (each process writes its own log file). */
#include <sys/wait.h>
#include <unistd.h>

#include "cli_race.h"

int main(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0)
        return cli_race() == 1 ? 0 : 1;
    int st;
    waitpid(pid, &st, 0);
    return 0;
}
