/*
 * Where reports go: many processes sharing one descriptor, and a clean run
 * for the log path tests. One scenario per run, named by argv[1].
 *
 *   fork16      16 forked children, released together, each frees a map
 *               and uses it, both 40 calls deep: use-after-free reports of
 *               some 10 KB with full stacks. "fork16 8": each child uses
 *               it 8 times at the same call site (for dedup=0).
 *   many        70 nil-map-writes, each at a call site of its own: a
 *               summary with 70 recurrences, some 8 KB.
 *   clean       a correct program: one map, made, used, freed; exit 0.
 *   closefrom   closes every descriptor from 3 up (the log file's too),
 *               opens a data file of its own (it gets the log's number),
 *               makes a nil-map write, forks a child that checks its
 *               descriptor survived and makes one too, then checks its
 *               data file holds only its own 5 bytes: prints "data
 *               intact", "child ok"; exits 3 when anything is wrong.
 *   epipe       stderr a pipe with no reader, then a nil-map write (the
 *               report goes to stderr): prints "survived".
 *   fork_no_fds a forked child uses up its descriptors (RLIMIT_NOFILE
 *               64), then makes a nil-map write: it cannot open a log
 *               file of its own. Prints "child <pid>".
 *   setuid_fork as root: drops to uid and gid 65534, then a forked child
 *               makes a nil-map write (it may not create files in the
 *               log directory). Prints "child <pid>", or "not root".
 */
#include <gomap.h>
#include "scenario.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const gomap_type I64 = {.key_size = 8, .val_size = 8};

#define CHILDREN 16
#define DEPTH 40

static int uses = 1;

static void free_deep(gomap *m, int depth)
{
    if (depth > 0) {
        free_deep(m, depth - 1);
        return;
    }
    gomap_free(m); /* @site:free */
}

static void use_deep(gomap *m, int depth)
{
    if (depth > 0) {
        use_deep(m, depth - 1);
        return;
    }
    int64_t k = 1;
    for (int i = 0; i < uses; i++)
        (void)gomap_get(m, &k); /* @site:use */
}

static void fork16(void)
{
    int gate[2];
    if (pipe(gate) != 0)
        exit(3);
    for (int c = 0; c < CHILDREN; c++) {
        pid_t pid = fork();
        if (pid < 0)
            exit(3);
        if (pid == 0) {
            close(gate[1]);
            gomap *m = gomap_new(&I64, 0);
            int64_t k = 1;
            gomap_set(m, &k, &k);
            free_deep(m, DEPTH);
            /* all children report at once: the parent closes the gate */
            char b;
            (void)!read(gate[0], &b, 1);
            use_deep(m, DEPTH);
            exit(0);
        }
    }
    close(gate[0]);
    close(gate[1]);
    int failed = 0, st;
    while (wait(&st) > 0)
        failed += !WIFEXITED(st) || WEXITSTATUS(st) != 66;
    printf("children not exiting 66: %d\n", failed);
}

#define NIL gomap_set(NULL, &k, &k);
#define NIL10 NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL

static void many(void)
{
    int64_t k = 1;
    /* one per line: the call sites differ */
    NIL10
    NIL10
    NIL10
    NIL10
    NIL10
    NIL10
    NIL10
}

static void clean(void)
{
    gomap *m = gomap_new(&I64, 0);
    int64_t k = 7;
    gomap_set(m, &k, &k);
    printf("len=%zu\n", gomap_len(m));
    gomap_free(m);
}

static void die(const char *what)
{
    printf("%s\n", what);
    fflush(stdout);
    exit(3);
}

static void nil_write(void)
{
    int64_t k = 1;
    gomap_set(NULL, &k, &k); /* @site:nil_set */
}

static void closefrom_scenario(void)
{
    clean(); /* the log file is open by now */
    fflush(stdout);
    if (close_range(3, ~0u, 0) != 0)
        die("close_range failed");
    char path[] = "/tmp/mg-outputs-XXXXXX";
    int d = mkstemp(path);
    if (d < 0)
        die("mkstemp failed");
    unlink(path);
    if (write(d, "hello", 5) != 5)
        die("write failed");
    nil_write();
    pid_t pid = fork();
    if (pid == 0) {
        if (fcntl(d, F_GETFD) < 0)
            _exit(4); /* the fork closed our descriptor */
        nil_write();
        _exit(0);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) == 4)
        die("child's descriptor closed");
    printf("child ok\n");
    struct stat sb;
    if (fstat(d, &sb) != 0 || sb.st_size != 5)
        die("data file written to");
    printf("data intact\n");
}

static void epipe(void)
{
    int p[2];
    if (pipe(p) != 0 || dup2(p[1], 2) < 0)
        die("pipe failed");
    close(p[0]);
    close(p[1]);
    nil_write();
    printf("survived\n");
}

static void fork_and_report(void (*before)(void))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        before();
        nil_write();
        _exit(0);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        die("fork failed");
    printf("child %d\n", (int)pid);
}

static void use_up_descriptors(void)
{
    struct rlimit rl = {64, 64};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        _exit(5);
    while (dup(0) >= 0)
        ;
}

static void fork_no_fds(void)
{
    clean(); /* the parent's log file is open */
    fork_and_report(use_up_descriptors);
}

static void no_op(void) {}

static void setuid_fork(void)
{
    if (geteuid() != 0) {
        printf("not root\n");
        return;
    }
    clean();
    if (setgid(65534) != 0 || setuid(65534) != 0)
        die("cannot drop privileges");
    fork_and_report(no_op);
}

/* Started with stdout closed (the scenario execs itself without number 1,
 * so that the shim starts in the new image with it free): the log file
 * must not take it. The image's own write to stdout fails, as alone; its
 * first open() gets 1, as alone; its finding is in the log, whole. */
static void stdout_closed(void)
{
    if (getenv("MG_OUTPUTS_STDOUT_CLOSED")) {
        ssize_t w = write(1, "progress: ", 10);
        int fd = open("/dev/null", O_RDONLY);
        dprintf(2, "write=%d first_open=%d\n", (int)w, fd);
        nil_write();
        return;
    }
    if (setenv("MG_OUTPUTS_STDOUT_CLOSED", "1", 1) != 0 || close(1) != 0)
        die("cannot close stdout");
    execl("/proc/self/exe", "mg_outputs", "stdout_closed", (char *)NULL);
    die("cannot exec");
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {{"fork16", fork16}, {"many", many},    {"clean", clean},
                                                {"closefrom", closefrom_scenario}, {"epipe", epipe},
                                                {"fork_no_fds", fork_no_fds}, {"setuid_fork", setuid_fork},
                                                {"stdout_closed", stdout_closed}};
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    if (argc > 2)
        uses = atoi(argv[2]);
    fn();
    return 0;
}
