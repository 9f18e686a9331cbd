/*
 * The exec family and posix_spawn: a record before a process image is
 * replaced, and after a call that failed or started a child.
 *
 * A program the detector cannot load into (static, setuid, or started
 * without LD_PRELOAD in its environment) reports nothing, exactly like a
 * clean one. Every image the shim loads into says "hello" in the log file
 * (summary.c); these records say when an image is about to be replaced, or
 * a child started, so a tool reading the logs (mapguard run) can tell that
 * the next image never said hello. Only when log_path names a file: on
 * stderr the records would be noise on the user's terminal.
 *
 *   exec         {"kind":"exec","pid","path","call"}, just before the real
 *                exec call; in the same file the new image's hello follows
 *   exec-failed  {"kind":"exec-failed","pid","path","call","errno","error"},
 *                when the exec call returned, or posix_spawn failed
 *   spawn        {"kind":"spawn","pid","child","path","call"}, after
 *                posix_spawn started a child: the child's own log (its pid)
 *                must have a hello. posix_spawn gets no "exec" record
 *                before the call, since the calling process is not replaced.
 *
 * Why no jansson, no malloc, no lock here: exec is what a forked child of a
 * multithreaded program calls, and a vfork child (or a program's own
 * clone(CLONE_VM)) calls it on its parent's memory. Another thread may
 * have held malloc's or jansson's or the shim's lock at the fork, and a
 * vfork child that allocates corrupts its parent's heap. POSIX allows only
 * async-signal-safe calls there, so each record is formatted by hand into
 * a stack buffer (jsonline.c, with the JSON escaping) and written with one
 * write(2) to a file opened for this record alone: the shim's own report
 * descriptor belongs to whichever process opened it, which in a vfork
 * child is the parent. The real functions are looked up once at start-up
 * (mg_exec_resolve, intercept.h), since dlsym takes the loader's lock.
 *
 * The wrappers are otherwise transparent: same arguments to the real call,
 * errno as the real call left it, and, for execl/execle/execlp, the
 * argument list gathered into an array on the stack, as glibc does.
 */
#include "no_cancel.h"
#include "jsonline.h"
#include "logfile.h"
#include "exit.h"
#include "intercept.h"
#include "options.h"
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

/* The real functions, looked up at start (mg_exec_resolve). Only a call
 * made before the shim started (another library's constructor) finds one
 * unset; the process is then still single-threaded in practice, and dlsym
 * is safe enough. */
#define REAL(fn) (MG_REAL_LOAD(fn) ? MG_REAL(fn) : (mg_exec_resolve(), MG_REAL(fn)))

/* ---- one JSON line, by hand (jsonline.c) ---- */

/* Appends the record to log_path.<pid>: opened for this record alone, one
 * write(2), closed. Nothing when the log is not a file, or the shim has not
 * read its options yet. */
static void emit(struct mg_line *l)
{
    if (__atomic_load_n(&mg_ready, __ATOMIC_ACQUIRE) != 2 || !mg_log_to_file() ||
        mg_opt.format != MG_FORMAT_JSON)
        return;
    mg_line_end(l);
    char path[strlen(mg_opt.log_path) + 26];
    mg_log_file_name(path, (long long)getpid());
    struct stat st;
    int fd = mg_log_open(path, &st); /* never blocks on a FIFO planted there */
    if (fd < 0)
        return;
    ssize_t w;
    int cancel = mg_cancel_off(); /* no_cancel.h */
    do
        w = write(fd, l->buf, l->n);
    while (w < 0 && errno == EINTR);
    close(fd);
    mg_cancel_restore(cancel);
}

static void begin(struct mg_line *l, const char *kind, const char *call, const char *path)
{
    l->n = 0;
    mg_put(l, "{\"kind\":\"");
    mg_put(l, kind);
    mg_put(l, "\",\"pid\":");
    mg_put_int(l, (long long)getpid());
    mg_put(l, ",\"call\":\"");
    mg_put(l, call);
    mg_put(l, "\",\"path\":");
    if (!mg_put_str(l, path ? path : ""))
        mg_put(l, ",\"path_truncated\":true");
}

/* Before an exec call. Keeps errno as it was. */
static void record_exec(const char *call, const char *path)
{
    mg_exec_handoff();
    if (!mg_log_to_file())
        return;
    int saved = errno;
    struct mg_line l;
    begin(&l, "exec", call, path);
    emit(&l);
    errno = saved;
}

/* After an exec call that returned, or a failed posix_spawn. */
static void record_failed(const char *call, const char *path, int err)
{
    if (!mg_log_to_file())
        return;
    int saved = errno;
    struct mg_line l;
    begin(&l, "exec-failed", call, path);
    mg_put(&l, ",\"errno\":");
    mg_put_int(&l, err);
    const char *name = strerrorname_np(err);
    if (name) {
        mg_put(&l, ",\"error\":");
        mg_put_str(&l, name);
    }
    emit(&l);
    errno = saved;
}

static void record_spawn(const char *call, const char *path, pid_t child)
{
    if (!mg_log_to_file())
        return;
    int saved = errno;
    struct mg_line l;
    begin(&l, "spawn", call, path);
    mg_put(&l, ",\"child\":");
    mg_put_int(&l, (long long)child);
    emit(&l);
    errno = saved;
}

/* An exec call's result: it only returns on failure. */
static int failed(const char *call, const char *path, int r)
{
    int err = errno;
    mg_exec_handoff_undo();
    record_failed(call, path, err);
    errno = err;
    return r;
}

/* ---- the exec family ---- */

MG_INTERCEPTOR(int, execve, (const char *path, char *const argv[], char *const envp[]))
{
    __typeof__(MG_REAL(execve)) f = REAL(execve);
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    record_exec("execve", path);
    return failed("execve", path, f(path, argv, mg_exec_env(envp)));
}

MG_INTERCEPTOR(int, execv, (const char *path, char *const argv[]))
{
    __typeof__(MG_REAL(execv)) f = REAL(execv);
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    record_exec("execv", path);
    return failed("execv", path, f(path, argv));
}

MG_INTERCEPTOR(int, execvp, (const char *file, char *const argv[]))
{
    __typeof__(MG_REAL(execvp)) f = REAL(execvp);
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    record_exec("execvp", file);
    return failed("execvp", file, f(file, argv));
}

MG_INTERCEPTOR(int, execvpe, (const char *file, char *const argv[], char *const envp[]))
{
    __typeof__(MG_REAL(execvpe)) f = REAL(execvpe);
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    record_exec("execvpe", file);
    return failed("execvpe", file, f(file, argv, mg_exec_env(envp)));
}

/* "/proc/self/fd/N" names what the descriptor was opened as. */
MG_INTERCEPTOR(int, fexecve, (int fd, char *const argv[], char *const envp[]))
{
    __typeof__(MG_REAL(fexecve)) f = REAL(fexecve);
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    char target[PATH_MAX] = "", link[64] = "/proc/self/fd/", d[24];
    if (mg_log_to_file()) {
        int saved = errno;
        const char *num = mg_decimal(d, fd);
        memcpy(link + 14, num, strlen(num) + 1);
        ssize_t n = readlink(link, target, sizeof target - 1);
        target[n > 0 ? n : 0] = 0;
        errno = saved;
    }
    const char *path = target[0] ? target : link;
    record_exec("fexecve", path);
    return failed("fexecve", path, f(fd, argv, mg_exec_env(envp)));
}

/* The variadic forms, gathered into an argv on the stack. glibc's own
 * execl* call execve/execvp inside libc, where no wrapper sees them, so
 * they are wrapped too. */
#define GATHER(arg, ap, argv)                                                                                      \
    size_t argc_ = 1;                                                                                              \
    va_start(ap, arg);                                                                                             \
    while (va_arg(ap, char *))                                                                                     \
        argc_++;                                                                                                   \
    va_end(ap);                                                                                                    \
    char *argv[argc_ + 1];                                                                                         \
    argv[0] = (char *)(arg);                                                                                       \
    va_start(ap, arg);                                                                                             \
    for (size_t i_ = 1; i_ <= argc_; i_++)                                                                         \
        argv[i_] = va_arg(ap, char *)

MG_WRAPPER(int, execl, (const char *path, const char *arg, ...))
{
    va_list ap;
    GATHER(arg, ap, argv);
    va_end(ap);
    __typeof__(MG_REAL(execve)) f = REAL(execve);
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    record_exec("execl", path);
    return failed("execl", path, f(path, argv, environ));
}

MG_WRAPPER(int, execle, (const char *path, const char *arg, ...))
{
    va_list ap;
    GATHER(arg, ap, argv);
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    __typeof__(MG_REAL(execve)) f = REAL(execve);
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    record_exec("execle", path);
    return failed("execle", path, f(path, argv, mg_exec_env(envp)));
}

MG_WRAPPER(int, execlp, (const char *file, const char *arg, ...))
{
    va_list ap;
    GATHER(arg, ap, argv);
    va_end(ap);
    __typeof__(MG_REAL(execvp)) f = REAL(execvp);
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    record_exec("execlp", file);
    return failed("execlp", file, f(file, argv));
}

/* ---- posix_spawn ---- */

static int spawned(const char *call, const char *path, int r, pid_t child, pid_t *pid)
{
    if (r == 0) {
        if (pid)
            *pid = child;
        record_spawn(call, path, child);
    } else {
        record_failed(call, path, r);
    }
    return r;
}

MG_INTERCEPTOR(int, posix_spawn,
               (pid_t *restrict pid, const char *restrict path, const posix_spawn_file_actions_t *file_actions,
                const posix_spawnattr_t *restrict attrp, char *const argv[restrict], char *const envp[restrict]))
{
    __typeof__(MG_REAL(posix_spawn)) f = REAL(posix_spawn);
    if (!f)
        return ENOSYS;
    pid_t child = 0;
    int r = f(&child, path, file_actions, attrp, argv, envp);
    return spawned("posix_spawn", path, r, child, pid);
}

MG_INTERCEPTOR(int, posix_spawnp,
               (pid_t *restrict pid, const char *restrict file, const posix_spawn_file_actions_t *file_actions,
                const posix_spawnattr_t *restrict attrp, char *const argv[restrict], char *const envp[restrict]))
{
    __typeof__(MG_REAL(posix_spawnp)) f = REAL(posix_spawnp);
    if (!f)
        return ENOSYS;
    pid_t child = 0;
    int r = f(&child, file, file_actions, attrp, argv, envp);
    return spawned("posix_spawnp", file, r, child, pid);
}

void mg_exec_resolve(void)
{
    static const struct mg_intercept table[] = {
        MG_INTERCEPT(execve),  MG_INTERCEPT(execvpe),     MG_INTERCEPT(execv),        MG_INTERCEPT(execvp),
        MG_INTERCEPT(fexecve), MG_INTERCEPT(posix_spawn), MG_INTERCEPT(posix_spawnp),
    };
    mg_intercept_resolve(table, MG_INTERCEPT_COUNT(table));
}
