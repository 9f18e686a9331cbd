/*
 * bench-compare's runner: runs one command and reports its wall time and
 * peak resident set size, without needing /usr/bin/time.
 *
 *   compare_runner OUT ERR CMD [ARG...]
 *
 * The command's stdout goes to the file OUT and its stderr to ERR. When it
 * ends, one line goes to our stdout:
 *   status=S wall_ns=W maxrss_kb=R utime_us=U stime_us=T
 * S is the exit status, or 128+signal. R is the child's own ru_maxrss from
 * wait4 (the process's peak RSS across any exec, so `env VAR=x prog` and
 * `valgrind prog` both measure the program, valgrind's own memory
 * included). Exits 0 when the command ran, whatever its status.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int redirect(const char *path, int fd)
{
    int f = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f < 0)
        return -1;
    if (dup2(f, fd) < 0)
        return -1;
    close(f);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s OUT ERR CMD [ARG...]\n", argv[0]);
        return 2;
    }
    fflush(stdout);
    uint64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        if (redirect(argv[1], 1) || redirect(argv[2], 2)) {
            perror("compare_runner: redirect");
            _exit(127);
        }
        execvp(argv[3], argv + 3);
        fprintf(stderr, "compare_runner: %s: %s\n", argv[3], strerror(errno));
        _exit(127);
    }
    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &st, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("wait4");
            return 2;
        }
    }
    uint64_t t1 = now_ns();
    int status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 255;
    printf("status=%d wall_ns=%" PRIu64 " maxrss_kb=%ld utime_us=%" PRIu64 " stime_us=%" PRIu64 "\n", status,
           t1 - t0, ru.ru_maxrss,
           (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec,
           (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec);
    return 0;
}
