/*
 * Parent and forked child both make a finding; with log_path each must
 * write its own file (".<pid>"), the child's without the parent's earlier
 * finding.
 */
#include <gomap.h>

#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    gomap *m = NULL;
    int64_t k = 1;
    gomap_set(m, &k, &k); /* @site:parent_nil */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        gomap_assign(m, &k); /* @site:child_nil */
        return 0;
    }
    int st = 0;
    waitpid(pid, &st, 0);
    printf("child=%d status=%d\n", (int)pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
