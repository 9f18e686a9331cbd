/*
 * The exec family and posix_spawn under the shim. Each scenario replaces
 * or starts process images, so the tests can check the exec, exec-failed
 * and spawn records, and that every call behaves as it does without the
 * shim (arguments, environment, errno). argv[0] must be this program's
 * path; argv[1] is the scenario. The scenario "image" is what the others
 * exec: it prints its arguments and MG_EXEC_VAR, and exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *self;

static int image(int argc, char **argv)
{
    printf("image");
    for (int i = 2; i < argc; i++)
        printf("%s%s", i == 2 ? " args=" : "|", argv[i]);
    const char *v = getenv("MG_EXEC_VAR");
    printf(" var=%s\n", v ? v : "-");
    return 0;
}

/* environ plus MG_EXEC_VAR=value, for the calls that take an envp. */
static char **env_with_var(const char *value)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    memcpy(env, environ, n * sizeof *env);
    static char var[64];
    snprintf(var, sizeof var, "MG_EXEC_VAR=%s", value);
    env[n] = var;
    return env;
}

/* A directory in PATH holding this program, for the calls that search. */
static void path_to_self(void)
{
    static char dir[4096];
    snprintf(dir, sizeof dir, "%s", self);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    setenv("PATH", dir, 1);
}

static const char *base(void)
{
    const char *s = strrchr(self, '/');
    return s ? s + 1 : self;
}

static int replace(const char *how)
{
    char *const argv[] = {(char *)self, "image", "a", "b c", NULL};
    fflush(stdout);
    if (!strcmp(how, "execve"))
        execve(self, argv, env_with_var("ve"));
    else if (!strcmp(how, "execv"))
        execv(self, argv);
    else if (!strcmp(how, "execvp")) {
        path_to_self();
        execvp(base(), argv);
    } else if (!strcmp(how, "execvpe")) {
        path_to_self();
        execvpe(base(), argv, env_with_var("vpe"));
    } else if (!strcmp(how, "execl"))
        execl(self, self, "image", "a", "b c", (char *)NULL);
    else if (!strcmp(how, "execle"))
        execle(self, self, "image", "a", "b c", (char *)NULL, env_with_var("le"));
    else if (!strcmp(how, "execlp")) {
        path_to_self();
        execlp(base(), self, "image", "a", "b c", (char *)NULL);
    } else if (!strcmp(how, "fexecve")) {
        int fd = open(self, O_RDONLY);
        fexecve(fd, argv, environ);
    } else {
        return 2;
    }
    printf("%s failed: %s\n", how, strerror(errno));
    return 1;
}

/* Every exec function on a program that is not there; prints the errno
 * each one left, by name. */
static int fail(void)
{
    const char *missing = "/nonexistent/mg-no-such-program";
    char *const argv[] = {(char *)missing, NULL};
    int e[8];
    errno = 0, execve(missing, argv, environ), e[0] = errno;
    errno = 0, execv(missing, argv), e[1] = errno;
    setenv("PATH", "/nonexistent", 1);
    errno = 0, execvp("mg-no-such-program", argv), e[2] = errno;
    errno = 0, execvpe("mg-no-such-program", argv, environ), e[3] = errno;
    errno = 0, execl(missing, missing, (char *)NULL), e[4] = errno;
    errno = 0, execle(missing, missing, (char *)NULL, environ), e[5] = errno;
    errno = 0, execlp("mg-no-such-program", "x", (char *)NULL), e[6] = errno;
    int fd = open("/dev/null", O_RDONLY); /* not executable */
    errno = 0, fexecve(fd, argv, environ), e[7] = errno;
    const char *names[] = {"execve", "execv", "execvp", "execvpe", "execl", "execle", "execlp", "fexecve"};
    for (int i = 0; i < 8; i++)
        printf("%s=%s%s", names[i], strerrorname_np(e[i]), i < 7 ? " " : "\n");
    return 0;
}

/* Paths a JSON string must escape: quotes, backslash, control characters,
 * bytes that are not UTF-8; and one too long for the record. */
static int odd_paths(void)
{
    char *const argv[] = {"x", NULL};
    execve("/nonexistent/q\"b\\s\nn\tt\x01" "c\xff" "x\xc3\xa9", argv, environ);
    char longp[3100] = "/nonexistent/";
    memset(longp + 13, '"', 3000);
    longp[3013] = 0;
    execve(longp, argv, environ);
    printf("odd paths done\n");
    return 0;
}

/* A copy of this program under each name, started and waited for: the
 * hello record's "program" (from /proc/self/exe, which resolves links,
 * hence copies) must escape the first name and be null for the second,
 * which is not UTF-8. Prints the children's pids and the names. */
static int odd_images(void)
{
    static const char *const names[] = {"q\"b\\s\nn\tt\x01" "c" "x\xc3\xa9", "bad\xff" "x"};
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", self);
    char *slash = strrchr(dir, '/');
    snprintf(slash ? slash + 1 : dir, sizeof dir - (size_t)(slash ? slash + 1 - dir : 0), "odd.XXXXXX");
    if (!mkdtemp(dir)) {
        printf("mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    for (int i = 0; i < 2; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        int in = open(self, O_RDONLY), out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0700);
        char buf[65536];
        ssize_t n;
        while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
            if (write(out, buf, (size_t)n) != n)
                break;
        close(in);
        close(out);
        char *const argv[] = {path, "image", NULL};
        pid_t pid = 0;
        int st = -1;
        fflush(stdout);
        if (posix_spawn(&pid, path, NULL, NULL, argv, environ) == 0)
            waitpid(pid, &st, 0);
        unlink(path);
        printf("odd_image%d=%d status=%d\n", i, (int)pid, st);
    }
    printf("dir=%s\n", dir);
    rmdir(dir);
    return 0;
}

static int spawn(void)
{
    char *const argv[] = {(char *)self, "image", "spawned", NULL};
    pid_t pid = 0;
    int r = posix_spawn(&pid, self, NULL, NULL, argv, environ);
    int st = 0;
    waitpid(pid, &st, 0);
    printf("spawn=%d pid=%d status=%d\n", r, (int)pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    fflush(stdout);
    /* no pid wanted: the record still names the child */
    r = posix_spawn(NULL, self, NULL, NULL, argv, environ);
    pid_t w = wait(&st);
    printf("spawn_nopid=%d waited=%d\n", r, (int)w);
    setenv("PATH", "/nonexistent", 1);
    pid = 0;
    r = posix_spawnp(&pid, "mg-no-such-program", NULL, NULL, argv, environ);
    printf("spawnp=%s\n", r ? strerrorname_np(r) : "0");
    return 0;
}

/* vfork: the child runs on the parent's memory until it execs, so the
 * exec wrapper must neither allocate nor touch the shim's state. */
static int with_vfork(void)
{
    char *const argv[] = {(char *)self, "image", "vforked", NULL};
    char *const bad[] = {"x", NULL};
    fflush(stdout);
    pid_t ok = vfork();
    if (ok == 0) {
        execve(self, argv, environ);
        _exit(127);
    }
    int st1 = 0, st2 = 0;
    waitpid(ok, &st1, 0);
    pid_t failing = vfork();
    if (failing == 0) {
        execve("/nonexistent/mg-vfork", bad, environ);
        _exit(errno == ENOENT ? 9 : 10);
    }
    waitpid(failing, &st2, 0);
    printf("vfork ok=%d status=%d failing=%d status=%d\n", (int)ok, WEXITSTATUS(st1), (int)failing,
           WEXITSTATUS(st2));
    return 0;
}

int main(int argc, char **argv)
{
    self = argv[0];
    if (argc < 2) {
        fprintf(stderr, "usage: %s scenario\n", argv[0]);
        return 2;
    }
    if (!strcmp(argv[1], "image"))
        return image(argc, argv);
    if (!strcmp(argv[1], "fail"))
        return fail();
    if (!strcmp(argv[1], "odd_paths"))
        return odd_paths();
    if (!strcmp(argv[1], "odd_images"))
        return odd_images();
    if (!strcmp(argv[1], "spawn"))
        return spawn();
    if (!strcmp(argv[1], "vfork"))
        return with_vfork();
    return replace(argv[1]);
}
