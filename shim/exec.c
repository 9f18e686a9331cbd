/*
 * The exec family and posix_spawn: a record before a process image is
 * replaced, and after a call that failed or started a child.
 *
 * A program the detector cannot load into (static, setuid, or started
 * without LD_PRELOAD in its environment) reports nothing, exactly like a
 * clean one. Every image the shim loads into says "hello" in the log file
 * (report.c); these records say when an image is about to be replaced, or
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
 * a stack buffer (with the JSON escaping done here) and written with one
 * write(2) to a file opened for this record alone: the shim's own report
 * descriptor belongs to whichever process opened it, which in a vfork
 * child is the parent. The real functions are looked up once at start-up
 * (mg_exec_resolve), since dlsym takes the loader's lock.
 *
 * The wrappers are otherwise transparent: same arguments to the real call,
 * errno as the real call left it, and, for execl/execle/execlp, the
 * argument list gathered into an array on the stack, as glibc does.
 */
#include "mapguard.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);
typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
                        char *const[], char *const[]);

static struct {
    execve_fn execve, execvpe;
    execv_fn execv, execvp;
    fexecve_fn fexecve;
    spawn_fn posix_spawn, posix_spawnp;
} real;

#define RESOLVE(field, name)                                                                                       \
    do {                                                                                                           \
        void *p = dlsym(RTLD_NEXT, name);                                                                          \
        if (p)                                                                                                     \
            __atomic_store_n((void **)(void *)&real.field, p, __ATOMIC_RELEASE);                                   \
    } while (0)

void mg_exec_resolve(void)
{
    RESOLVE(execve, "execve");
    RESOLVE(execvpe, "execvpe");
    RESOLVE(execv, "execv");
    RESOLVE(execvp, "execvp");
    RESOLVE(fexecve, "fexecve");
    RESOLVE(posix_spawn, "posix_spawn");
    RESOLVE(posix_spawnp, "posix_spawnp");
}

/* Only a call made before the shim started (another library's constructor)
 * finds a pointer unset; the process is then still single-threaded in
 * practice, and dlsym is safe enough. */
#define REAL(field)                                                                                                \
    (__atomic_load_n((void **)(void *)&real.field, __ATOMIC_ACQUIRE) ? real.field : (mg_exec_resolve(), real.field))

/* ---- one JSON line, by hand ---- */

#define LINE_CAP 4096
/* room kept for the fields after "path" and the closing brace */
#define TAIL_ROOM 256

struct line {
    char buf[LINE_CAP];
    size_t n;
};

/* Keeps two bytes free for the closing "}\n" (emit). */
static void put(struct line *l, const char *s)
{
    size_t k = strlen(s), room = LINE_CAP - 2 - l->n;
    if (k > room)
        k = room;
    memcpy(l->buf + l->n, s, k);
    l->n += k;
}

/* v in decimal, in d (24 bytes); returns where it starts. */
static const char *decimal(char d[24], long long v)
{
    int i = 23;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    d[i] = 0;
    do
        d[--i] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        d[--i] = '-';
    return d + i;
}

static void put_int(struct line *l, long long v)
{
    char d[24];
    put(l, decimal(d, v));
}

/* Length of the valid UTF-8 sequence at s, or 0 (JSON text must be UTF-8,
 * and a path is any bytes but '/' and NUL). */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

/* A JSON string. Bytes that are not UTF-8 become U+FFFD. Returns false
 * when the string had to be cut to leave room for the rest of the line. */
static bool put_str(struct line *l, const char *str)
{
    static const char hexd[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    bool whole = true;
    l->buf[l->n++] = '"';
    while (*s) {
        char esc[6];
        const char *piece = esc;
        size_t k, adv = 1;
        if (*s == '"' || *s == '\\') {
            esc[0] = '\\', esc[1] = (char)*s, k = 2;
        } else if (*s < 0x20) {
            esc[0] = '\\', esc[1] = 'u', esc[2] = '0', esc[3] = '0';
            esc[4] = hexd[*s >> 4], esc[5] = hexd[*s & 15], k = 6;
        } else if (*s < 0x80) {
            piece = (const char *)s, k = 1;
        } else if ((adv = utf8_len(s)) != 0) {
            piece = (const char *)s, k = adv;
        } else {
            piece = "\\ufffd", k = 6, adv = 1;
        }
        if (l->n + k + TAIL_ROOM > LINE_CAP) {
            whole = false;
            break;
        }
        memcpy(l->buf + l->n, piece, k);
        l->n += k;
        s += adv;
    }
    l->buf[l->n++] = '"';
    return whole;
}

/* Appends the record to log_path.<pid>: opened for this record alone, one
 * write(2), closed. Nothing when the log is not a file, or the shim has not
 * read its options yet. */
static void emit(struct line *l)
{
    if (__atomic_load_n(&mg_ready, __ATOMIC_ACQUIRE) != 2 || !mg_log_to_file() ||
        mg_opt.format != MG_FORMAT_JSON)
        return;
    l->buf[l->n++] = '}';
    l->buf[l->n++] = '\n';
    size_t plen = strlen(mg_opt.log_path);
    char path[plen + 26], d[24];
    const char *pid = decimal(d, (long long)getpid());
    memcpy(path, mg_opt.log_path, plen);
    path[plen] = '.';
    memcpy(path + plen + 1, pid, strlen(pid) + 1);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    ssize_t w;
    do
        w = write(fd, l->buf, l->n);
    while (w < 0 && errno == EINTR);
    close(fd);
}

static void begin(struct line *l, const char *kind, const char *call, const char *path)
{
    l->n = 0;
    put(l, "{\"kind\":\"");
    put(l, kind);
    put(l, "\",\"pid\":");
    put_int(l, (long long)getpid());
    put(l, ",\"call\":\"");
    put(l, call);
    put(l, "\",\"path\":");
    if (!put_str(l, path ? path : ""))
        put(l, ",\"path_truncated\":true");
}

/* Before an exec call. Keeps errno as it was. */
static void record_exec(const char *call, const char *path)
{
    if (!mg_log_to_file())
        return;
    int saved = errno;
    struct line l;
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
    struct line l;
    begin(&l, "exec-failed", call, path);
    put(&l, ",\"errno\":");
    put_int(&l, err);
    const char *name = strerrorname_np(err);
    if (name) {
        put(&l, ",\"error\":");
        put_str(&l, name);
    }
    emit(&l);
    errno = saved;
}

static void record_spawn(const char *call, const char *path, pid_t child)
{
    if (!mg_log_to_file())
        return;
    int saved = errno;
    struct line l;
    begin(&l, "spawn", call, path);
    put(&l, ",\"child\":");
    put_int(&l, (long long)child);
    emit(&l);
    errno = saved;
}

/* An exec call's result: it only returns on failure. */
static int failed(const char *call, const char *path, int r)
{
    int err = errno;
    record_failed(call, path, err);
    errno = err;
    return r;
}

/* ---- the exec family ---- */

MG_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    execve_fn f = REAL(execve);
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    record_exec("execve", path);
    return failed("execve", path, f(path, argv, envp));
}

MG_EXPORT int execv(const char *path, char *const argv[])
{
    execv_fn f = REAL(execv);
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    record_exec("execv", path);
    return failed("execv", path, f(path, argv));
}

MG_EXPORT int execvp(const char *file, char *const argv[])
{
    execv_fn f = REAL(execvp);
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    record_exec("execvp", file);
    return failed("execvp", file, f(file, argv));
}

MG_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    execve_fn f = REAL(execvpe);
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    record_exec("execvpe", file);
    return failed("execvpe", file, f(file, argv, envp));
}

/* "/proc/self/fd/N" names what the descriptor was opened as. */
MG_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    fexecve_fn f = REAL(fexecve);
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    char target[PATH_MAX] = "", link[64] = "/proc/self/fd/", d[24];
    if (mg_log_to_file()) {
        int saved = errno;
        const char *num = decimal(d, fd);
        memcpy(link + 14, num, strlen(num) + 1);
        ssize_t n = readlink(link, target, sizeof target - 1);
        target[n > 0 ? n : 0] = 0;
        errno = saved;
    }
    const char *path = target[0] ? target : link;
    record_exec("fexecve", path);
    return failed("fexecve", path, f(fd, argv, envp));
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

MG_EXPORT int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    GATHER(arg, ap, argv);
    va_end(ap);
    execve_fn f = REAL(execve);
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    record_exec("execl", path);
    return failed("execl", path, f(path, argv, environ));
}

MG_EXPORT int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    GATHER(arg, ap, argv);
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    execve_fn f = REAL(execve);
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    record_exec("execle", path);
    return failed("execle", path, f(path, argv, envp));
}

MG_EXPORT int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    GATHER(arg, ap, argv);
    va_end(ap);
    execv_fn f = REAL(execvp);
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

MG_EXPORT int posix_spawn(pid_t *restrict pid, const char *restrict path,
                          const posix_spawn_file_actions_t *file_actions, const posix_spawnattr_t *restrict attrp,
                          char *const argv[restrict], char *const envp[restrict])
{
    spawn_fn f = REAL(posix_spawn);
    if (!f)
        return ENOSYS;
    pid_t child = 0;
    int r = f(&child, path, file_actions, attrp, argv, envp);
    return spawned("posix_spawn", path, r, child, pid);
}

MG_EXPORT int posix_spawnp(pid_t *restrict pid, const char *restrict file,
                           const posix_spawn_file_actions_t *file_actions, const posix_spawnattr_t *restrict attrp,
                           char *const argv[restrict], char *const envp[restrict])
{
    spawn_fn f = REAL(posix_spawnp);
    if (!f)
        return ENOSYS;
    pid_t child = 0;
    int r = f(&child, file, file_actions, attrp, argv, envp);
    return spawned("posix_spawnp", file, r, child, pid);
}
