/*
 * mapguard run: the program under the detector, and its reports collected.
 *
 * How the pieces fit, and why:
 *  - Every report goes to a private directory (mkdtemp) through the shim's
 *    log_path; the shim appends ".<pid>", so the program and everything it
 *    forks or execs (LD_PRELOAD is exported, so exec'd children load the shim
 *    too) write their own files, and the runner reads them all at the end. No
 *    pipes to keep open, nothing lost when a child outlives its parent's
 *    stderr, and a crash still leaves whatever was written (the shim writes
 *    each report with one write(2)).
 *  - The program runs in its own process group, so --timeout and forwarded
 *    signals reach every process it started, not just the first. When our
 *    stdin is the foreground terminal, the terminal is handed to that group so
 *    an interactive program still reads it and gets ^C.
 *  - mapguard becomes a child subreaper: orphaned grandchildren are reparented
 *    to it, so it can tell when the whole tree has finished writing.
 *  - Signals are blocked and taken synchronously with sigtimedwait: no async
 *    handlers, and the timeout is the same wait.
 *  - The shim not loading must never look like a clean run: preload.c rejects
 *    the known cases first, and after the run the program's process must have
 *    reported in (see check_shim).
 *  - A run inside another (a test suite under `mapguard run` that runs
 *    `mapguard run` itself) hands its records on to the outer run's log
 *    (forward_to_outer): the outer gate then sees what its descendants
 *    found, and the processes the inner run watched.
 */
#include "cli.h"
#include "options_syntax.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* After SIGTERM on timeout, how long the program gets to exit before SIGKILL. */
#define KILL_GRACE_S 2.0
/* After the program exits, how long its remaining descendants get to finish. */
#define LINGER_S 2.0

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ locating */

/* The shim: $MAPGUARD_SHIM, else ../lib/libmapguard.so next to this binary
 * (build/bin -> build/lib, and PREFIX/bin -> PREFIX/lib after install). */
static int find_shim(char out[PATH_MAX])
{
    const char *env = getenv("MAPGUARD_SHIM");
    char cand[PATH_MAX];
    if (env && *env) {
        snprintf(cand, sizeof cand, "%s", env);
    } else {
        char self[PATH_MAX];
        ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
        if (len < 0) {
            fprintf(stderr, "mapguard: cannot locate myself (/proc/self/exe): %s\n",
                    strerror(errno));
            return -1;
        }
        self[len] = '\0';
        char *slash = strrchr(self, '/');
        if (slash)
            *slash = '\0';
        if (snprintf(cand, sizeof cand, "%s/../lib/libmapguard.so", self) >= (int)sizeof cand) {
            fprintf(stderr, "mapguard: path too long: %s\n", self);
            return -1;
        }
    }
    errno = 0;
    if (!realpath(cand, out) || access(out, R_OK) != 0) {
        fprintf(stderr,
                "mapguard: cannot find the detector libmapguard.so at %s%s%s\n"
                "mapguard: build it (make shim) or point MAPGUARD_SHIM at it\n",
                cand, errno ? ": " : "", errno ? strerror(errno) : "");
        return -1;
    }
    /* ld.so splits LD_PRELOAD on ':' and whitespace. */
    if (strpbrk(out, ": \t\n")) {
        fprintf(stderr, "mapguard: the detector's path %s contains ':' or whitespace, which "
                        "LD_PRELOAD cannot carry\n", out);
        return -1;
    }
    return 0;
}

/* PROGRAM as execvp would find it; the name is needed up front to inspect the
 * file (static? setuid?) and to say "command not found" precisely. */
static int resolve_program(const char *name, char *out, size_t n)
{
    struct stat st;
    if (strchr(name, '/')) {
        if (stat(name, &st) != 0) {
            fprintf(stderr, "mapguard: %s: %s\n", name, strerror(errno));
            return -1;
        }
        if (S_ISDIR(st.st_mode)) {
            fprintf(stderr, "mapguard: %s: is a directory\n", name);
            return -1;
        }
        if (access(name, X_OK) != 0) {
            fprintf(stderr, "mapguard: %s: %s\n", name, strerror(errno));
            return -1;
        }
        snprintf(out, n, "%s", name);
        return 0;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    bool denied = false;
    for (const char *p = path;;) {
        size_t len = strcspn(p, ":");
        char cand[PATH_MAX];
        if (len == 0)
            snprintf(cand, sizeof cand, "%s", name); /* empty entry = cwd */
        else
            snprintf(cand, sizeof cand, "%.*s/%s", (int)len, p, name);
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(cand, X_OK) == 0) {
                snprintf(out, n, "%s", cand);
                return 0;
            }
            denied = true;
        }
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    if (denied)
        fprintf(stderr, "mapguard: %s: permission denied\n", name);
    else
        fprintf(stderr, "mapguard: %s: command not found\n", name);
    return -1;
}

/* ------------------------------------------------------------ environment */

/* The program's environment: ours, with the shim preloaded, its options,
 * and the log again in MAPGUARD_RUN_LOG, which the shim puts above
 * MAPGUARD_OPTIONS' log_path (a program may rewrite MAPGUARD_OPTIONS for
 * its children). */
#define OWN_ENV 3 /* the entries child_environ adds, at the end */

static char **child_environ(const char *opts, const char *preload, const char *log_path)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 4, sizeof *env);
    if (!env)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "MAPGUARD_OPTIONS=", 17) == 0 || strncmp(environ[i], "LD_PRELOAD=", 11) == 0 ||
            strncmp(environ[i], "MAPGUARD_RUN_LOG=", 17) == 0)
            continue;
        env[j++] = environ[i];
    }
    size_t ol = strlen(opts) + 18, pl = strlen(preload) + 12, ll = strlen(log_path) + 18;
    env[j] = malloc(ol);
    env[j + 1] = malloc(pl);
    env[j + 2] = malloc(ll);
    if (!env[j] || !env[j + 1] || !env[j + 2])
        return NULL;
    snprintf(env[j], ol, "MAPGUARD_OPTIONS=%s", opts);
    snprintf(env[j + 1], pl, "LD_PRELOAD=%s", preload);
    snprintf(env[j + 2], ll, "MAPGUARD_RUN_LOG=%s", log_path);
    env[j + 3] = NULL;
    return env;
}

/* A temp directory whose path MAPGUARD_OPTIONS can carry. */
static int make_report_dir(char *out, size_t n)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || tmp[0] != '/' || strpbrk(tmp, MG_OPTION_SEPARATORS) || strlen(tmp) > 200)
        tmp = "/tmp";
    snprintf(out, n, "%s/mapguard.XXXXXX", tmp);
    if (mkdtemp(out))
        return 0;
    int first = errno;
    if (strcmp(tmp, "/tmp") != 0) {
        snprintf(out, n, "/tmp/mapguard.XXXXXX");
        if (mkdtemp(out))
            return 0;
        /* both refused: each named with its own reason */
        fprintf(stderr, "mapguard: cannot create a temporary directory in %s (%s) nor in /tmp (%s)\n", tmp,
                strerror(first), strerror(errno));
        return -1;
    }
    fprintf(stderr, "mapguard: cannot create a temporary directory in /tmp: %s\n", strerror(first));
    return -1;
}

static void remove_report_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            unlinkat(dirfd(d), e->d_name, 0);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* ------------------------------------------------------------ spawning */

typedef struct child {
    pid_t pid;
    int status;          /* waitpid status once exited */
    bool exited;
    bool timed_out;
    double deadline;     /* when --timeout expires, 0 without one */
    bool stragglers;     /* descendants left at the deadline were killed */
    int forwarded;       /* last signal we forwarded, 0 if none */
    bool tty;            /* the terminal was handed to the child's group */
} child;

static const int waited_signals[] = {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static void waited_set(sigset_t *s)
{
    sigemptyset(s);
    for (size_t i = 0; i < sizeof waited_signals / sizeof *waited_signals; i++)
        sigaddset(s, waited_signals[i]);
}

static struct sigaction given_sigpipe;

void mg_ignore_sigpipe(void)
{
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &given_sigpipe);
}

/* Runs in the child between fork and exec: only async-signal-safe calls. */
static void child_exec(const char *prog, char **argv, char **envp, const sigset_t *oldmask,
                       bool tty, int errfd)
{
    setpgid(0, 0);
    sigaction(SIGPIPE, &given_sigpipe, NULL);
    if (tty) {
        /* A background group may only take the terminal with SIGTTOU ignored. */
        signal(SIGTTOU, SIG_IGN);
        tcsetpgrp(STDIN_FILENO, getpid());
        signal(SIGTTOU, SIG_DFL);
    }
    sigprocmask(SIG_SETMASK, oldmask, NULL);
    execve(prog, argv, envp);
    int err = errno;
    if (err == ENOEXEC) {
        /* No #! line: run it with the shell, as execvp and shells do. */
        size_t n = 0;
        while (argv[n])
            n++;
        char *sh_argv[n + 2];
        sh_argv[0] = (char *)"sh";
        sh_argv[1] = (char *)prog;
        for (size_t i = 1; i <= n; i++)
            sh_argv[i + 1] = argv[i];
        execve("/bin/sh", sh_argv, envp);
        err = errno;
    }
    ssize_t w = write(errfd, &err, sizeof err);
    (void)w;
    _exit(127);
}

/* Takes every exited child (the program, and orphans we adopted as subreaper);
 * records the program's status. */
static void reap(child *c)
{
    for (;;) {
        int st;
        pid_t p = waitpid(-1, &st, WNOHANG | WUNTRACED);
        if (p <= 0)
            return;
        if (p != c->pid)
            continue;
        if (WIFSTOPPED(st)) {
            if (c->tty) {
                /* ^Z: give the terminal back, stop like a job, resume it on fg. */
                signal(SIGTTOU, SIG_IGN);
                tcsetpgrp(STDIN_FILENO, getpgrp());
                kill(getpid(), SIGSTOP);
                tcsetpgrp(STDIN_FILENO, c->pid);
                signal(SIGTTOU, SIG_DFL);
                kill(-c->pid, SIGCONT);
            }
            continue;
        }
        c->status = st;
        c->exited = true;
    }
}

/*
 * Every process below us, from /proc. The program's process group misses
 * those that called setsid() or setpgid() (a daemonizing test server, a
 * shell's job): --timeout promises to kill them too. As a child subreaper we
 * adopt each of them once its parent dies, so walking the parent links from
 * our pid reaches all of them, zombies included. Returns how many there
 * were, after sending sig (0: just count) to each.
 *
 * A pid is signalled only if its parent chain led to us when /proc was read;
 * it could be reaped and reused before the kill, but not by a process that
 * is no descendant of ours within the same few microseconds in practice.
 */
typedef struct proc_link {
    pid_t pid, ppid;
    signed char below; /* 1 descendant of ours, 0 not, -1 not known yet */
} proc_link;

static int by_pid(const void *a, const void *b)
{
    pid_t x = ((const proc_link *)a)->pid, y = ((const proc_link *)b)->pid;
    return (x > y) - (x < y);
}

static proc_link *parent_of(proc_link *ps, size_t n, const proc_link *p)
{
    proc_link key = {.pid = p->ppid};
    return p->ppid > 0 ? bsearch(&key, ps, n, sizeof *ps, by_pid) : NULL;
}

/* Up the parent links until us (yes), an answer already known, or a dead
 * end (no); then again, to remember the answer along the way. At most n
 * steps each, in case /proc changed under us and made a loop. */
static bool is_below(proc_link *ps, size_t n, size_t i, pid_t self)
{
    signed char verdict = 0;
    proc_link *p = &ps[i];
    for (size_t steps = 0; p && steps <= n; steps++) {
        if (p->below >= 0) {
            verdict = p->below;
            break;
        }
        if (p->ppid == self) {
            verdict = 1;
            break;
        }
        p = parent_of(ps, n, p);
    }
    p = &ps[i];
    for (size_t steps = 0; p && p->below < 0 && steps <= n; steps++) {
        p->below = verdict;
        p = p->ppid == self ? NULL : parent_of(ps, n, p);
    }
    return verdict == 1;
}

static size_t signal_descendants(int sig)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    proc_link *ps = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0)
            continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t len = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (len <= 0)
            continue;
        buf[len] = '\0';
        /* "pid (comm) state ppid ...": comm may hold spaces and parentheses. */
        char *rp = strrchr(buf, ')');
        char state;
        int ppid;
        if (!rp || sscanf(rp + 1, " %c %d", &state, &ppid) != 2)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            proc_link *p = realloc(ps, ncap * sizeof *p);
            if (!p)
                break;
            ps = p;
            cap = ncap;
        }
        ps[n++] = (proc_link){(pid_t)pid, (pid_t)ppid, -1};
    }
    closedir(d);
    qsort(ps, n, sizeof *ps, by_pid);
    size_t found = 0;
    pid_t self = getpid();
    for (size_t i = 0; i < n; i++) {
        if (!is_below(ps, n, i, self))
            continue;
        found++;
        if (sig)
            kill(ps[i].pid, sig);
    }
    free(ps);
    return found;
}

/* The program's group and every other descendant. */
static void signal_tree(const child *c, int sig)
{
    kill(-c->pid, sig);
    signal_descendants(sig);
}

/* The first step of --timeout's end, for the program and for what it left
 * running: SIGTERM, and SIGCONT, since a stopped process cannot die of
 * it; SIGKILL follows KILL_GRACE_S later. */
static void terminate_tree(const child *c)
{
    signal_tree(c, SIGTERM);
    signal_tree(c, SIGCONT);
}

static void wait_for_program(child *c, double timeout)
{
    sigset_t set;
    waited_set(&set);
    double deadline = timeout > 0 ? now_s() + timeout : 0;
    c->deadline = deadline;
    double kill_at = 0;
    while (!c->exited) {
        reap(c);
        if (c->exited)
            break;
        double wait = 3600;
        double t = now_s();
        if (deadline > 0 && !c->timed_out) {
            if (t >= deadline) {
                c->timed_out = true;
                terminate_tree(c);
                kill_at = t + KILL_GRACE_S;
                continue;
            }
            wait = deadline - t;
        } else if (kill_at > 0) {
            if (t >= kill_at) {
                signal_tree(c, SIGKILL);
                kill_at = 0;
                continue;
            }
            wait = kill_at - t;
        }
        struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
        siginfo_t si;
        int sig = sigtimedwait(&set, &si, &ts);
        if (sig > 0 && sig != SIGCHLD) {
            /* Someone is stopping us (CI cancel, ^C without a tty handoff):
             * pass it on to the whole program, then report what was found. */
            c->forwarded = sig;
            kill(-c->pid, sig);
        }
    }
}

/* After the program exits, its descendants may still be writing reports
 * (a forked child's exit summary, a daemon's race). Wait for them all (the
 * group, and those that left it with setsid): with --timeout until it
 * expires, then they are killed as the program would have been, so that
 * nothing of the program's outlives `mapguard run --timeout` and a daemon
 * that races after its parent's exit is still heard; without it a little
 * while, and never kill them. Every one killed is reaped: it is ours to
 * wait for once its parent is gone (subreaper), and an unreaped zombie
 * would outlive us under a PID 1 that does not reap. */
static bool tree_alive(const child *c)
{
    return kill(-c->pid, 0) == 0 || signal_descendants(0) > 0;
}

static void wait_for_descendants(child *c)
{
    double t = now_s();
    /* timed out, the tree has had SIGTERM: SIGKILL it every round */
    bool killing = c->timed_out;
    double end = killing ? t + KILL_GRACE_S : c->deadline > 0 ? c->deadline : t + LINGER_S;
    for (;;) {
        if (killing)
            signal_tree(c, SIGKILL);
        reap(c);
        if (!tree_alive(c))
            break;
        t = now_s();
        if (t >= end && c->deadline > 0 && !c->timed_out && !c->stragglers) {
            /* --timeout expired after the program's own exit */
            c->stragglers = true;
            terminate_tree(c);
            end = t + KILL_GRACE_S;
        } else if (t >= end && c->stragglers && !killing) {
            killing = true;
            end = t + KILL_GRACE_S;
        } else if (t >= end) {
            break;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    reap(c);
    if (tree_alive(c))
        fprintf(stderr,
                "mapguard: note: processes started by the program are still running; reports "
                "they write from now on are not included\n");
    else if (c->stragglers)
        fprintf(stderr, "mapguard: note: processes started by the program were still running when "
                        "--timeout expired; killed them\n");
}

/* ------------------------------------------------------------ collecting */

typedef struct collected {
    long *pids;          /* pids that left a log file */
    size_t npids;
} collected;

static int load_dir(const char *dir, mgc_reports *r, collected *col)
{
    struct dirent **ents = NULL;
    int n = scandir(dir, &ents, NULL, versionsort);
    if (n < 0) {
        fprintf(stderr, "mapguard: cannot read %s: %s\n", dir, strerror(errno));
        return -1;
    }
    col->pids = calloc((size_t)n + 1, sizeof *col->pids);
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        if (name[0] != '.') {
            char path[PATH_MAX];
            if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
                free(ents[i]);
                continue;
            }
            const char *dot = strrchr(name, '.');
            if (dot && col->pids)
                col->pids[col->npids++] = strtol(dot + 1, NULL, 10);
            mg_reports_load(r, path); /* says why on stderr when it cannot */
        }
        free(ents[i]);
    }
    free(ents);
    mg_reports_apply_summaries(r);
    mg_reports_symbolize_crashes(r);
    return 0;
}

/* ------------------------------------------------------------ nesting */

/* The log of the `mapguard run` this one runs under, if any: what it put
 * in our environment, when that has the shape of one (make_report_dir's
 * directory, "mapguard.XXXXXX", and "report" in it) and names a directory
 * of ours that exists. A variable the caller's environment merely holds,
 * pointing elsewhere, is left alone. */
static bool outer_log(char *out, size_t n)
{
    const char *o = getenv("MAPGUARD_RUN_LOG");
    if (!o || o[0] != '/' || strlen(o) >= n)
        return false;
    snprintf(out, n, "%s", o);
    char *slash = strrchr(out, '/');
    if (slash == out || strcmp(slash, "/report") != 0)
        return false;
    *slash = 0;
    const char *base = strrchr(out, '/') + 1;
    struct stat st;
    bool ok = strncmp(base, "mapguard.", 9) == 0 && strlen(base) == 15 && stat(out, &st) == 0 &&
              S_ISDIR(st.st_mode) && st.st_uid == geteuid();
    *slash = '/';
    return ok;
}

/* Appends every log file of this run's directory to the outer run's log
 * under the same pid (the shim's name for it: the log path, a dot, the
 * pid), where the outer run reads it as its own descendants' records. */
static void forward_to_outer(const char *dir, const char *outer)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char buf[1 << 15];
    while ((e = readdir(d)) != NULL) {
        const char *dot = strrchr(e->d_name, '.');
        if (e->d_name[0] == '.' || !dot || dot[1] < '0' || dot[1] > '9')
            continue;
        char to[PATH_MAX];
        if (snprintf(to, sizeof to, "%s%s", outer, dot) >= (int)sizeof to)
            continue;
        int in = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC);
        int out = open(to, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        ssize_t got;
        while (in >= 0 && out >= 0 && (got = read(in, buf, sizeof buf)) > 0)
            if (write(out, buf, (size_t)got) != got) {
                fprintf(stderr, "mapguard: cannot hand records on to the outer run's %s: %s\n", to,
                        strerror(errno));
                break;
            }
        if (in >= 0)
            close(in);
        if (out >= 0)
            close(out);
    }
    closedir(d);
}

/*
 * Did the shim load into the program, and into what it exec'd or spawned? A
 * run the detector did not watch reports nothing, exactly like a clean run,
 * so this must be proved, not assumed.
 *
 * Up front, preload.c proves ld.so will preload the shim into the program.
 * After the run the records prove the rest (the shim writes them because
 * log_path is a file):
 *  - a start record ("hello") from every process image it loads into: the
 *    program's own pid must have reported in, else the preload did not
 *    happen (exit 2);
 *  - an "exec" record written just before a process execs: when no record
 *    from the same pid follows it, the new image did not load the shim (a
 *    static or setuid program, or an environment without LD_PRELOAD). For
 *    the program itself the run proves nothing (exit 2); for a descendant
 *    it is a warning naming the program;
 *  - a "spawn" record after posix_spawn started a child: the child's pid
 *    must have reported in, else the same warning.
 * The exit summary cannot serve: shells and forked children leave with
 * _exit() and never write one.
 */
typedef enum { SHIM_OK, SHIM_ABSENT, SHIM_LOST_BY_EXEC } shim_verdict;

static const char *exec_target(json_t *rec)
{
    const char *t = mg_str(rec, "path");
    if (!t)
        t = mg_str(rec, "file");
    if (!t)
        t = mg_str(rec, "exe");
    return t ? t : "a program";
}

/* Did process pid leave a record, or at least a log file? */
static bool reported_in(const mgc_reports *r, const collected *col, long pid)
{
    if (mg_reports_has_pid(r, pid))
        return true;
    for (size_t i = 0; i < col->npids; i++)
        if (col->pids[i] == pid)
            return true;
    return false;
}

static shim_verdict check_shim(const mgc_reports *r, const collected *col, const child *c,
                               char *lost, size_t n)
{
    long pid = (long)c->pid;
    shim_verdict v = SHIM_OK;
    size_t i;
    json_t *rec;
    json_array_foreach(r->spawns, i, rec) {
        long long cpid = mg_int(rec, "child", -1);
        if (cpid > 0 && !reported_in(r, col, (long)cpid))
            fprintf(stderr,
                    "mapguard: warning: process %lld started %s (pid %lld), which the detector "
                    "could not load into (static or setuid, or LD_PRELOAD dropped from its "
                    "environment?); it was not watched\n",
                    mg_int(rec, "pid", -1), exec_target(rec), cpid);
    }
    /* An exec no later record of the same pid followed: the new image did
     * not load the shim (a failed exec writes "exec-failed" after it). */
    const char *k;
    json_object_foreach(r->open_execs, k, rec) {
        long long epid = mg_int(rec, "pid", -1);
        if (epid == pid) {
            v = SHIM_LOST_BY_EXEC;
            snprintf(lost, n, "%s", exec_target(rec));
        } else {
            fprintf(stderr,
                    "mapguard: warning: process %lld exec'd %s, which the detector could not load "
                    "into (static or setuid, or LD_PRELOAD dropped from its environment?); it was "
                    "not watched\n",
                    epid, exec_target(rec));
        }
    }
    if (!reported_in(r, col, pid))
        return SHIM_ABSENT;
    return v;
}

/* ------------------------------------------------------------ run */

/* exitcode: what the detector makes a process with findings exit with
 * (--exitcode, passed on): said, so that a 66 is not taken for the
 * program's own status */
static void describe_status(const child *c, const char *prog, int exitcode, bool found, char *note, size_t n)
{
    if (c->timed_out) {
        snprintf(note, n, "%s was killed when --timeout expired", prog);
    } else if (WIFEXITED(c->status)) {
        int st = WEXITSTATUS(c->status);
        snprintf(note, n, "%s exited with status %d%s", prog, st,
                 found && exitcode != 0 && st == exitcode ? " (the status --exitcode gives a process with findings)" : "");
    } else if (WIFSIGNALED(c->status)) {
        int sig = WTERMSIG(c->status);
        const char *abbrev = sigabbrev_np(sig);
        snprintf(note, n, "%s was killed by signal %d (SIG%s: %s)%s", prog, sig,
                 abbrev ? abbrev : "?", strsignal(sig),
                 WCOREDUMP(c->status) ? ", core dumped" : "");
    } else {
        snprintf(note, n, "%s ended with wait status 0x%x", prog, (unsigned)c->status);
    }
}

int mg_run(const mgc_options *o, char **argv)
{
    char shim[PATH_MAX], prog[PATH_MAX], dir[PATH_MAX], why[1024], outer[PATH_MAX];
    bool nested = outer_log(outer, sizeof outer);
    if (find_shim(shim) != 0)
        return MG_EXIT_TOOL;
    if (resolve_program(argv[0], prog, sizeof prog) != 0)
        return MG_EXIT_TOOL;
    if (mg_check_shim_loads(shim, why, sizeof why) != 0) {
        fprintf(stderr, "mapguard: %s\n", why);
        return MG_EXIT_TOOL;
    }
    int pre = mg_check_preloadable(prog, shim, why, sizeof why);
    if (pre < 0) {
        fprintf(stderr, "mapguard: cannot examine %s: %s\n", prog, strerror(errno));
        return MG_EXIT_TOOL;
    }
    if (pre > 0) {
        fprintf(stderr, "mapguard: cannot watch %s: %s\n", prog, why);
        return MG_EXIT_TOOL;
    }
    if (make_report_dir(dir, sizeof dir) != 0)
        return MG_EXIT_TOOL;

    int rc = MG_EXIT_TOOL;
    char **envp = NULL;
    char *opts = NULL, *preload = NULL;
    char log_path[PATH_MAX + 16], err[1024] = "";
    snprintf(log_path, sizeof log_path, "%s/report", dir);
    opts = mg_build_shim_options(o, getenv("MAPGUARD_OPTIONS"), nested, log_path, err, sizeof err);
    if (!opts) {
        fprintf(stderr, "mapguard: %s\n", err[0] ? err : "out of memory");
        goto out;
    }
    preload = mg_build_ld_preload(getenv("LD_PRELOAD"), shim);
    envp = preload ? child_environ(opts, preload, log_path) : NULL;
    if (!envp) {
        fprintf(stderr, "mapguard: out of memory\n");
        goto out;
    }

    /* Orphans come to us, so we know when the whole tree is done. */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    /* An inherited SIG_IGN for SIGCHLD would make the kernel reap for us. */
    struct sigaction old_chld, dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGCHLD, &dfl, &old_chld);
    sigset_t set, oldmask;
    waited_set(&set);
    sigprocmask(SIG_BLOCK, &set, &oldmask);

    child c = {0};
    c.tty = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) != 0) {
        fprintf(stderr, "mapguard: pipe: %s\n", strerror(errno));
        goto out_sig;
    }
    fflush(NULL);
    c.pid = fork();
    if (c.pid < 0) {
        fprintf(stderr, "mapguard: fork: %s\n", strerror(errno));
        close(errpipe[0]);
        close(errpipe[1]);
        goto out_sig;
    }
    if (c.pid == 0) {
        close(errpipe[0]);
        if (old_chld.sa_handler == SIG_IGN)
            signal(SIGCHLD, SIG_IGN);
        child_exec(prog, argv, envp, &oldmask, c.tty, errpipe[1]);
    }
    setpgid(c.pid, c.pid); /* also here: whichever runs first, the group exists */
    close(errpipe[1]);
    int exec_err = 0;
    ssize_t got;
    do
        got = read(errpipe[0], &exec_err, sizeof exec_err);
    while (got < 0 && errno == EINTR);
    close(errpipe[0]);

    wait_for_program(&c, o->timeout);
    if (got == (ssize_t)sizeof exec_err) {
        fprintf(stderr, "mapguard: cannot execute %s: %s\n", prog, strerror(exec_err));
        goto out_tty;
    }
    wait_for_descendants(&c);

    mgc_reports r;
    mg_reports_init(&r);
    r.track_processes = true;
    collected col = {0};
    if (load_dir(dir, &r, &col) != 0) {
        mg_reports_free(&r);
        goto out_tty;
    }
    char note[512];
    bool found = r.nfindings > 0 || r.nlost > 0;
    describe_status(&c, argv[0], o->exitcode, found, note, sizeof note);
    /* SARIF's invocation says when the program did not end by itself (a
     * crash says so in its own notification) */
    if (c.timed_out || (WIFSIGNALED(c.status) && r.ncrashes == 0))
        r.cut = note;
    else if (c.stragglers)
        r.cut = "processes the program started were still running when --timeout expired, and were killed";

    char lost[1024] = "";
    shim_verdict v = check_shim(&r, &col, &c, lost, sizeof lost);
    if (!found && v != SHIM_OK) {
        if (v == SHIM_ABSENT)
            fprintf(stderr,
                    "mapguard: the detector did not load into %s (pid %ld): the program's process "
                    "never reported in, so this run proves nothing (%s)\n",
                    argv[0], (long)c.pid, note);
        else
            fprintf(stderr,
                    "mapguard: %s (pid %ld) exec'd %s, which the detector could not load into "
                    "(static or setuid, or LD_PRELOAD dropped from its environment?), so this run "
                    "proves nothing (%s)\n",
                    argv[0], (long)c.pid, lost, note);
        rc = MG_EXIT_TOOL;
    } else {
        if (c.timed_out)
            fprintf(stderr, "mapguard: %s did not finish within %g second%s; killed it\n",
                    argv[0], o->timeout, o->timeout == 1 ? "" : "s");
        else if (WIFSIGNALED(c.status))
            fprintf(stderr, "mapguard: %s\n", note);
        if (c.forwarded)
            fprintf(stderr, "mapguard: forwarded signal %d (SIG%s) to the program\n", c.forwarded,
                    sigabbrev_np(c.forwarded) ? sigabbrev_np(c.forwarded) : "?");
        int emit = mg_emit(o, &r, stderr, note);
        if (found && o->exitcode != 0)
            rc = o->exitcode;
        else if (c.timed_out)
            rc = MG_EXIT_TIMEOUT;
        else if (WIFEXITED(c.status))
            rc = WEXITSTATUS(c.status);
        else if (WIFSIGNALED(c.status))
            rc = 128 + WTERMSIG(c.status);
        if (emit != 0 && r.nfindings == 0)
            rc = MG_EXIT_TOOL; /* an output the user asked for is missing */
    }
    free(col.pids);
    mg_reports_free(&r);
    if (nested)
        forward_to_outer(dir, outer);

out_tty:
    if (c.tty) {
        signal(SIGTTOU, SIG_IGN);
        tcsetpgrp(STDIN_FILENO, getpgrp());
        signal(SIGTTOU, SIG_DFL);
    }
out_sig:
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    sigaction(SIGCHLD, &old_chld, NULL);
out:
    remove_report_dir(dir);
    if (envp) {
        size_t n = 0;
        while (envp[n])
            n++;
        for (size_t i = n >= OWN_ENV ? n - OWN_ENV : 0; i < n; i++)
            free(envp[i]); /* child_environ's own, last */
        free(envp);
    }
    free(opts);
    free(preload);
    return rc;
}
