/*
 * The ways out of a process image that skip the atexit handler (runtime.c),
 * and what crosses an exec.
 *
 * _exit, _Exit and quick_exit (a forked child's usual end, or a program in
 * a hurry) and abort: the findings still in flight are written first (inflight.c),
 * and with _exit the status becomes exitcode if this process image found
 * anything, as it does at exit. In a vfork child (same memory, another pid)
 * these calls are passed straight on: the findings are the parent's.
 *
 * exec: findings in flight are written before the image is replaced (the
 * new image shares the pid and the log file). Under `mapguard run` the CLI
 * reads the logs; a raw preload has only the exit status, which the new
 * image alone decides. So when this image found anything, the count goes
 * into the new image's environment as MAPGUARD_CARRIED_FINDINGS; the new
 * image takes it out of its environment at start (its own children must
 * not inherit it) and counts it at exit as its own. Built in static arrays:
 * exec must stay async-signal-safe (exec.c).
 *
 * LeakSanitizer: its leak check runs from an atexit handler registered
 * before the shim's (ASan starts first), which the shim's _exit(exitcode)
 * at exit would skip, and its report with it. So before ending the process
 * that way, the shim runs __lsan_do_recoverable_leak_check itself if the
 * process has it: LSan's report is printed, then the process exits with
 * mapguard's exitcode. When mapguard found nothing it does not end the
 * process, and LSan's own check runs as it would have.
 */
#include "exit.h"
#include "inflight.h"
#include "intercept.h"
#include "jsonline.h"
#include "options.h"
#include "runtime.h"
#include "thread_table.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

/* ---- _exit, _Exit, abort ---- */

MG_DECLARE_REAL(void, _exit, (int status));

/* The real _exit, found at start (mg_intercept_start). Before that (a
 * library constructor that ends the process), or if it is not found, the
 * system call itself: no dlsym here, which takes the loader's lock and
 * may be called in a vfork child or a signal handler. */
void mg_real_exit(int status)
{
    void (*f)(int) = MG_REAL_LOAD(_exit);
    if (f)
        f(status);
    for (;;)
        syscall(SYS_exit_group, status);
}

/* Not an interceptor: LeakSanitizer's entry point, if the program has it. */
void mg_sanitizers_before_exit(void)
{
    int (*check)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "__lsan_do_recoverable_leak_check");
    if (check)
        check();
}

/* close: the process ends now (not abort: its signal handler still writes
 * the deadly-signal record). */
static int leaving(int status, bool close)
{
    if (__atomic_load_n(&mg_ready, __ATOMIC_ACQUIRE) != 2 || !mg_inflight_owner())
        return status;
    mg_busy_enter();
    mg_inflight_flush(200, 200);
    if (mg_inflight_findings() > 0 && mg_opt.exitcode != 0)
        status = mg_opt.exitcode;
    if (close)
        mg_inflight_close();
    mg_busy_leave();
    return status;
}

MG_INTERCEPTOR(void, _exit, (int status)) { mg_real_exit(leaving(status, true)); }

/* glibc's _Exit is _exit: the same real function. */
MG_WRAPPER(void, _Exit, (int status)) { mg_real_exit(leaving(status, true)); }

/* quick_exit runs the at_quick_exit handlers, last registered first, then
 * calls _exit inside libc. This one was registered at start, before the
 * program's, so it runs after them: it writes the findings in flight and,
 * if the process found anything, ends it with exitcode, as _exit does.
 * Otherwise it returns and quick_exit ends the process with the program's
 * own status. A handler registered before the shim started (by another
 * library's constructor) is skipped when the process ends here. */
void mg_at_quick_exit(void)
{
    int status = leaving(INT_MIN, true);
    if (status != INT_MIN)
        mg_real_exit(status);
}

MG_INTERCEPTOR(void, abort, (void))
{
    /* The status is the signal's: only the lines. */
    leaving(0, false);
    void (*f)(void) = MG_REAL_LOAD(abort);
    if (!f) {
        /* called before start-up (another library's constructor,
         * .preinit_array): the process is still starting, so the lookup
         * is made now */
        mg_exit_resolve();
        f = MG_REAL_LOAD(abort);
    }
    if (f)
        f();
    for (;;)
        syscall(SYS_exit_group, 134);
}

void mg_exit_resolve(void)
{
    static const struct mg_intercept table[] = {MG_INTERCEPT(_exit), MG_INTERCEPT(abort)};
    mg_intercept_resolve(table, MG_INTERCEPT_COUNT(table));
}

/* ---- across exec ---- */

void mg_carry_read(void)
{
    if (!environ)
        return;
    const char *v = getenv(MG_CARRY_ENV);
    if (!v)
        return;
    unsigned n = 0;
    for (; *v >= '0' && *v <= '9' && n < 100000000u; v++)
        n = n * 10 + (unsigned)(*v - '0');
    mg_carried = n;
    unsetenv(MG_CARRY_ENV);
}

#define CARRY_MAX 8192

struct carry {
    int busy;
    char var[64];
    char *env[CARRY_MAX];
};
static MG_LARGE_BSS struct carry for_envp, for_environ;
static char **saved_environ;

/* env plus MAPGUARD_CARRIED_FINDINGS=n (an old one left out), in c; NULL
 * when it does not fit or c is in use by another thread's exec. */
static char **with_count(struct carry *c, char *const *env, unsigned n)
{
    if (__atomic_exchange_n(&c->busy, 1, __ATOMIC_ACQUIRE))
        return NULL;
    static const char name[] = MG_CARRY_ENV "=";
    char d[24];
    const char *num = mg_decimal(d, n);
    memcpy(c->var, name, sizeof name - 1);
    memcpy(c->var + sizeof name - 1, num, strlen(num) + 1);
    size_t k = 0;
    for (size_t i = 0; env && env[i]; i++) {
        if (!strncmp(env[i], name, sizeof name - 1))
            continue;
        if (k + 2 >= CARRY_MAX) {
            __atomic_store_n(&c->busy, 0, __ATOMIC_RELEASE);
            return NULL;
        }
        c->env[k++] = env[i];
    }
    c->env[k++] = c->var;
    c->env[k] = NULL;
    /* left busy: the array is in use until the exec succeeds (and the
     * process is gone) or fails (mg_exec_handoff_undo) */
    return c->env;
}

/* How many findings to hand over, 0 for none. */
static unsigned to_carry(void)
{
    if (__atomic_load_n(&mg_ready, __ATOMIC_ACQUIRE) != 2 || !mg_inflight_owner() || mg_opt.exitcode == 0)
        return 0;
    return mg_inflight_findings();
}

void mg_exec_handoff(void)
{
    if (__atomic_load_n(&mg_ready, __ATOMIC_ACQUIRE) != 2 || !mg_inflight_owner())
        return;
    mg_busy_enter();
    mg_inflight_flush(200, 200);
    mg_busy_leave();
    unsigned n = to_carry();
    char **env = n ? with_count(&for_environ, environ, n) : NULL;
    if (env) {
        saved_environ = environ;
        environ = env;
    }
}

char *const *mg_exec_env(char *const *envp)
{
    unsigned n = to_carry();
    char **env = n && envp ? with_count(&for_envp, envp, n) : NULL;
    return env ? env : envp;
}

void mg_exec_handoff_undo(void)
{
    mg_inflight_resume();
    if (saved_environ && __atomic_load_n(&for_environ.busy, __ATOMIC_ACQUIRE)) {
        if (environ == for_environ.env)
            environ = saved_environ;
        saved_environ = NULL;
        __atomic_store_n(&for_environ.busy, 0, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&for_envp.busy, 0, __ATOMIC_RELEASE);
}
