/*
 * Times a short command plain and under LD_PRELOAD=SHIM, RUNS times each,
 * alternating the two (and which goes first) so that load from other
 * processes hits both alike; prints "plain_ms<TAB>shim_ms", the medians of
 * the wall times of fork+exec+wait. Output goes to /dev/null: the script
 * (tools_overhead.sh) compares it separately. A tiny program rather than
 * perf stat, which a fresh Debian does not have.
 *
 * usage: tools_timer RUNS SHIM CMD [ARGS...]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double run_once(char **argv, const char *shim)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (shim)
            setenv("LD_PRELOAD", shim, 1);
        else
            unsetenv("LD_PRELOAD");
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        ;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
        fprintf(stderr, "tools_timer: cannot run %s\n", argv[0]);
        exit(1);
    }
    return (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: tools_timer RUNS SHIM CMD [ARGS...]\n");
        return 2;
    }
    int runs = atoi(argv[1]);
    if (runs < 1 || runs > 10000) {
        fprintf(stderr, "tools_timer: RUNS must be 1..10000\n");
        return 2;
    }
    const char *shim = argv[2];
    double *plain = malloc(sizeof(double) * (size_t)runs), *shimmed = malloc(sizeof(double) * (size_t)runs);
    if (!plain || !shimmed)
        return 1;
    /* one of each first, unmeasured: page cache and dynamic loader caches */
    run_once(argv + 3, NULL);
    run_once(argv + 3, shim);
    for (int i = 0; i < runs; i++) {
        if (i % 2 == 0) {
            plain[i] = run_once(argv + 3, NULL);
            shimmed[i] = run_once(argv + 3, shim);
        } else {
            shimmed[i] = run_once(argv + 3, shim);
            plain[i] = run_once(argv + 3, NULL);
        }
    }
    printf("%.2f\t%.2f\n", median(plain, runs), median(shimmed, runs));
    free(plain);
    free(shimmed);
    return 0;
}
