/*
 * Deadly signals: SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT.
 *
 * A race that crashes the program is the one most in need of explaining,
 * and the crash usually comes while the finding is still in flight (the
 * reporter waiting for the other thread's stack, or inside libdw). So the
 * shim installs a handler for these signals at start (handle_segv=1, the
 * default) that writes every finding still in flight (inflight.c), then a
 * deadly-signal record with the faulting thread's stack and the map call
 * it was inside (in_call.h: gomap or GHashTable, op, map), as ASan writes
 * one, and lets the signal do what it would have done without the shim:
 * the disposition goes back to SIG_DFL and the signal comes again (a fault
 * re-executes the instruction; a sent signal is raised again), so the exit
 * status and the core dump are unchanged.
 *
 * The program's own handlers. sigaction and signal are wrapped for these
 * five signals while the shim's handler is installed: the program's action
 * is remembered, not installed, and a query returns it, so the program
 * sees exactly what it set. When the signal comes, the shim calls the
 * program's handler, as the kernel would have (SA_SIGINFO or not,
 * SA_RESETHAND honoured), and writes nothing: the findings in flight and
 * the deadly-signal record are written only when the program's action is
 * the default (or
 * SIG_IGN for a fault, which the kernel does not let ignore), that is when
 * the signal is about to end the process: a program that handles SIGSEGV
 * on purpose (a garbage collector's write barrier) gets no false record.
 * An action set before the shim started (another library's constructor)
 * is taken over the same way.
 *
 * A deadly signal that was sent rather than caused (kill, or raise of
 * anything but SIGABRT) gets no record: the findings in flight are still
 * written, and the signal still kills the process.
 *
 * Everything in the handler is async-signal-safe: a stack buffer, one
 * write(2) per line, libunwind's local unwinding from the signal's context
 * (stack.c; when libunwind is not loaded, the faulting pc alone),
 * dl_iterate_phdr for module and offset. The first thread that starts the
 * shim (usually the main thread) gets an alternate signal stack if it has
 * none, so a stack overflow is recorded too (give_altstack: the program
 * does not see it); other threads' handlers run on their own stacks.
 */
#include "report_stack.h"
#include "deadly.h"
#include "ghash_ops.h"
#include "gomap_api.h"
#include "happens_before.h"
#include "in_call.h"
#include "inflight.h"
#include "intercept.h"
#include "jsonline.h"
#include "options.h"
#include "report.h"
#include "stack.h"
#include "thread_table.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static const struct {
    int signo;
    const char *name;
} deadly[] = {
    {SIGSEGV, "SIGSEGV"}, {SIGBUS, "SIGBUS"}, {SIGFPE, "SIGFPE"}, {SIGILL, "SIGILL"}, {SIGABRT, "SIGABRT"},
};
#define NDEADLY (int)(sizeof deadly / sizeof deadly[0])

typedef void (*handler_fn)(int);

MG_DECLARE_REAL(int, sigaction, (int, const struct sigaction *, struct sigaction *));
MG_DECLARE_REAL(handler_fn, signal, (int, handler_fn));

static int installed[NDEADLY];         /* the shim's handler is the kernel's action */
static struct sigaction program[NDEADLY]; /* what the program set (or had) */

static int recording;                   /* a thread is writing the record */
static int recorded;                    /* ... and has written it */

static int index_of(int sig)
{
    for (int i = 0; i < NDEADLY; i++)
        if (deadly[i].signo == sig)
            return i;
    return -1;
}

/* Found at start (mg_intercept_start); a call made before, by another
 * library's constructor, finds them itself. signal's is stored first, so
 * once sigaction's is there both are. */
static void resolve_early(void)
{
    if (!MG_REAL_LOAD(sigaction))
        mg_deadly_resolve();
}

/* ---- the record ---- */

static void put_hex(struct mg_line *l, uintptr_t v)
{
    char b[2 + 2 * sizeof v + 3], *p = b + sizeof b;
    *--p = 0;
    *--p = '"';
    do
        *--p = "0123456789abcdef"[v & 15];
    while (v >>= 4);
    *--p = 'x';
    *--p = '0';
    *--p = '"';
    mg_put(l, p);
}

/* As many frames as the one line holds (one write(2), at most PIPE_BUF),
 * less the room its closing needs: a frame that would not fit whole is
 * taken back, and the ones after it left out. A crash under abort() spends
 * seven frames in glibc before the program's own (a held-out probe: a
 * record cut at half the line stopped inside libgomap). */
static void put_frames(struct mg_line *l, const uintptr_t *pcs, int n, bool text)
{
    for (int i = 0; i < n; i++) {
        size_t start = l->n;
        if (i > 0 && start >= MG_LINE_CAP - MG_LINE_TAIL_ROOM)
            break;
        struct mg_frame f;
        char name[PATH_MAX];
        mg_symbolize_plain(pcs[i], &f, name, sizeof name);
        if (text) {
            mg_put(l, "    #");
            mg_put_int(l, i);
            mg_put(l, " <unknown> (");
            mg_put(l, f.module ? f.module : "?");
            mg_put(l, "+");
            size_t before = l->n;
            put_hex(l, f.offset);
            /* the hex without its quotes */
            memmove(l->buf + before, l->buf + before + 1, l->n - before - 2);
            l->n -= 2;
            mg_put(l, ")\n");
            if (i > 0 && l->n > MG_LINE_CAP - MG_LINE_TAIL_ROOM) {
                l->n = start;
                break;
            }
            continue;
        }
        mg_put(l, i ? ",{\"pc\":" : "{\"pc\":");
        put_hex(l, f.pc);
        mg_put(l, ",\"module\":");
        size_t before = l->n;
        if (!f.module || !mg_utf8_valid(f.module) || !mg_put_str(l, f.module)) {
            l->n = before;
            mg_put(l, "null");
        }
        mg_put(l, ",\"offset\":");
        put_hex(l, f.offset);
        /* so that the module found later can be told from a rebuild */
        char id[2 * 64 + 1];
        if (f.module && mg_module_build_id(pcs[i], id, sizeof id)) {
            mg_put(l, ",\"build_id\":\"");
            mg_put(l, id);
            mg_put(l, "\"");
        }
        mg_put(l, ",\"function\":null,\"file\":null,\"line\":null}");
        if (i > 0 && l->n > MG_LINE_CAP - MG_LINE_TAIL_ROOM) {
            l->n = start;
            break;
        }
    }
}

static void write_record(int i, siginfo_t *si, void *uc)
{
    int sig = deadly[i].signo;
    bool has_addr = sig != SIGABRT;
    uintptr_t pcs[MG_MAX_DEPTH];
    int depth = mg_opt.stack_depth < 1 ? 1 : mg_opt.stack_depth > MG_MAX_DEPTH ? MG_MAX_DEPTH : mg_opt.stack_depth;
    int n = mg_stack_capture_signal(uc, pcs, depth);
    char tname[17] = "";
    prctl(PR_GET_NAME, tname, 0, 0, 0);
    tname[16] = 0;
    /* the map call this thread was inside when it crashed (in_call.h) */
    uintptr_t in_word = __atomic_load_n(&mg_self.in_call, __ATOMIC_RELAXED);
    unsigned in_op = mg_in_call_op(in_word);
    uintptr_t in_map = in_op ? mg_in_call_map(in_word) : 0;
    /* a bare solo call's word stays after it returned (in_call.h) */
    uintptr_t caller;
    if (in_map && (in_word & MG_IN_CALL_SOLO) && !mg_stack_gomap_in_flight(uc, mg_self.in_call_cfa, &caller))
        in_map = 0;
    struct mg_line l = {.n = 0};
    if (mg_opt.format == MG_FORMAT_TEXT) {
        mg_put(&l, "==================\nWARNING: mapguard: deadly signal ");
        mg_put(&l, deadly[i].name);
        mg_put(&l, " (pid=");
        mg_put_int(&l, getpid());
        mg_put(&l, ")\n  in thread T");
        mg_put_int(&l, gettid());
        if (has_addr) {
            mg_put(&l, " at address ");
            size_t before = l.n;
            put_hex(&l, (uintptr_t)si->si_addr);
            memmove(l.buf + before, l.buf + before + 1, l.n - before - 2);
            l.n -= 2;
        }
        mg_put(&l, ":\n");
        if (in_map) {
            mg_put(&l, "  in ");
            mg_put(&l, mg_op_prefix(in_op));
            mg_put(&l, mg_op_name(in_op));
            mg_put(&l, " on map ");
            size_t at = l.n;
            put_hex(&l, in_map);
            memmove(l.buf + at, l.buf + at + 1, l.n - at - 2);
            l.n -= 2;
            mg_put(&l, " (api ");
            mg_put(&l, mg_op_api(in_op));
            mg_put(&l, ")\n");
        }
        put_frames(&l, pcs, n, true);
        mg_put(&l, "\nSUMMARY: mapguard: deadly signal ");
        mg_put(&l, deadly[i].name);
        mg_put(&l, "\n==================\n");
        mg_report_emit(l.buf, l.n);
        return;
    }
    mg_put(&l, "{\"kind\":\"" MG_DEADLY_SIGNAL_KIND "\",\"message\":\"mapguard: deadly signal ");
    mg_put(&l, deadly[i].name);
    mg_put(&l, "\",\"pid\":");
    mg_put_int(&l, getpid());
    mg_put(&l, ",\"signal\":\"");
    mg_put(&l, deadly[i].name);
    mg_put(&l, "\",\"signo\":");
    mg_put_int(&l, sig);
    if (has_addr) {
        mg_put(&l, ",\"address\":");
        put_hex(&l, (uintptr_t)si->si_addr);
    }
    mg_put(&l, ",\"thread\":{\"tid\":");
    mg_put_int(&l, gettid());
    mg_put(&l, ",\"name\":");
    size_t before = l.n;
    if (!mg_put_str(&l, tname)) {
        l.n = before;
        mg_put(&l, "\"\"");
    }
    mg_put(&l, "}");
    if (in_map) {
        mg_put(&l, ",\"in_call\":{\"api\":\"");
        mg_put(&l, mg_op_api(in_op));
        mg_put(&l, "\",\"op\":\"");
        mg_put(&l, mg_op_name(in_op));
        mg_put(&l, "\",\"function\":\"");
        mg_put(&l, mg_op_prefix(in_op));
        mg_put(&l, mg_op_name(in_op));
        mg_put(&l, "\",\"map\":");
        put_hex(&l, in_map);
        mg_put(&l, "}");
    }
    mg_put(&l, ",\"stack\":[");
    put_frames(&l, pcs, n, false);
    mg_put(&l, "]");
    mg_line_end(&l);
    mg_report_emit(l.buf, l.n);
}

/* ---- the handler ---- */

/* The mask the kernel would have given the program's handler: the
 * interrupted code's, its sa_mask, and the signal itself unless
 * SA_NODEFER. The kernel gave ours the interrupted code's and the signal
 * (its sa_mask is empty); the return from ours restores the interrupted
 * code's whatever the program's did. One system call, only when the
 * program's handler asked for more than ours got (a held-out probe: a
 * handler's sa_mask and SA_NODEFER had no effect under the shim). */
static void program_mask(int sig, const struct sigaction *p, const ucontext_t *uc)
{
    sigset_t want = uc->uc_sigmask;
    bool differs = false;
    for (int s = 1; s < NSIG; s++)
        if (s != sig && sigismember(&p->sa_mask, s) == 1 && sigismember(&want, s) != 1) {
            sigaddset(&want, s);
            differs = true;
        }
    if (p->sa_flags & SA_NODEFER) {
        sigdelset(&want, sig);
        differs = true;
    } else {
        sigaddset(&want, sig);
    }
    if (differs)
        pthread_sigmask(SIG_SETMASK, &want, NULL);
}

static void wait_recorded(void)
{
    struct timespec pause = {0, 1000 * 1000};
    for (int k = 0; k < 500 && !__atomic_load_n(&recorded, __ATOMIC_ACQUIRE); k++)
        nanosleep(&pause, NULL);
}

struct deadly_job {
    int i;
    siginfo_t *si;
    void *uc;
    bool crash;
};

/* On a stack of the shim's (report_stack.c): the handler may run on the
 * program's own alternate stack, which is as small as the program chose
 * (Rust gives each thread 8 KiB for its stack-overflow handler, and that
 * handler calls abort there), and a line and the capture take more (a
 * held-out probe: a Rust program's stack overflow ended in SIGSEGV, not
 * SIGABRT, under the shim). */
static void deadly_work(void *arg)
{
    struct deadly_job *j = arg;
    /* Short waits: another thread may be crashing too, or holding what we
     * would wait for. */
    mg_inflight_flush(100, 0);
    if (j->crash && mg_inflight_owner()) {
        if (!__atomic_exchange_n(&recording, 1, __ATOMIC_ACQ_REL)) {
            write_record(j->i, j->si, j->uc);
            __atomic_store_n(&recorded, 1, __ATOMIC_RELEASE);
        } else {
            wait_recorded();
        }
    }
}

static void on_deadly(int sig, siginfo_t *si, void *uc)
{
    int saved = errno;
    int i = index_of(sig);
    if (i < 0)
        return;
    struct sigaction p = program[i];
    if (p.sa_handler != SIG_DFL && p.sa_handler != SIG_IGN) {
        /* The program's handler, as the kernel would have called it. Nothing
         * is flushed yet: the program may handle the signal and go on (then
         * reports in flight finish with their symbols); if it ends the
         * process instead, that is by exit, _exit, abort or this signal
         * again with the default action, and each writes them. */
        if (p.sa_flags & SA_RESETHAND)
            program[i] = (struct sigaction){.sa_handler = SIG_DFL};
        program_mask(sig, &p, uc);
        errno = saved;
        if (p.sa_flags & SA_SIGINFO)
            p.sa_sigaction(sig, si, uc);
        else
            p.sa_handler(sig);
        return;
    }
    bool sent = si->si_code <= 0;
    if (p.sa_handler == SIG_IGN && sent) {
        /* ignored, as without the shim */
        errno = saved;
        return;
    }
    mg_busy_enter();
    /* A fault, or abort() (SIGABRT raised by this process on itself), is a
     * crash to explain. Any other signal that was sent, not caused, is not:
     * timeout(1) re-raises its child's SIGSEGV on itself to die the same
     * way, and a record there would blame the wrong program. The findings
     * in flight are written all the same. */
    struct deadly_job job = {i, si, uc, !sent || (sig == SIGABRT && si->si_pid == getpid())};
    mg_on_report_stack(deadly_work, &job);
    /* As without the shim from here: the default action, by the fault
     * coming again or the signal raised again (it is blocked until we
     * return). */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    __atomic_store_n(&installed[i], 0, __ATOMIC_RELEASE);
    __typeof__(MG_REAL(sigaction)) real = MG_REAL_LOAD(sigaction);
    if (real)
        real(sig, &dfl, NULL);
    if (sent)
        raise(sig);
    mg_busy_leave();
    errno = saved;
}

/* The alternate stack given to the thread that starts the shim, so that
 * a stack overflow there still gets its record. The program did not ask
 * for it, and must not notice it: a handler of its own installed with
 * SA_ONSTACK runs on it where it would have run on the thread's stack, so
 * it is as large as that stack may grow (RLIMIT_STACK, within bounds),
 * mapped MAP_NORESERVE so that only the pages a handler touches count,
 * with a guard page; and sigaltstack (below) reports none. */
#define ALT_MIN (64u * 1024)
#define ALT_MAX (64u * 1024 * 1024)
static void *alt_sp;

/* Ours is reported as none, which is what the program would have seen;
 * once the program sets its own, ours is gone. */
MG_INTERCEPTOR(int, sigaltstack, (const stack_t *restrict ss, stack_t *restrict old))
{
    resolve_early();
    __typeof__(MG_REAL(sigaltstack)) real = MG_REAL_LOAD(sigaltstack);
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    int r = real(ss, old);
    void *ours = __atomic_load_n(&alt_sp, __ATOMIC_ACQUIRE);
    if (r == 0 && old && ours && old->ss_sp == ours && !(old->ss_flags & SS_DISABLE))
        *old = (stack_t){.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
    return r;
}

static void give_altstack(void)
{
    stack_t old;
    if (MG_REAL(sigaltstack)(NULL, &old) != 0 || !(old.ss_flags & SS_DISABLE))
        return; /* the program's own */
    struct rlimit rl;
    size_t size = ALT_MAX;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < ALT_MAX)
        size = rl.rlim_cur < ALT_MIN ? ALT_MIN : (size_t)rl.rlim_cur;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size = (size + page - 1) / page * page;
    char *p = mmap(NULL, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
                   -1, 0);
    if (p == MAP_FAILED)
        return;
    stack_t ss = {.ss_sp = p + page, .ss_size = size};
    if (mprotect(p, page, PROT_NONE) != 0 || MG_REAL(sigaltstack)(&ss, NULL) != 0) {
        munmap(p, size + page);
        return;
    }
    __atomic_store_n(&alt_sp, ss.ss_sp, __ATOMIC_RELEASE);
}

void mg_deadly_install(void)
{
    if (!mg_opt.handle_segv)
        return;
    resolve_early();
    if (!MG_REAL(sigaction))
        return;
    if (MG_REAL(sigaltstack))
        give_altstack();
    for (int i = 0; i < NDEADLY; i++) {
        struct sigaction sa = {.sa_sigaction = on_deadly, .sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART};
        sigemptyset(&sa.sa_mask);
        if (MG_REAL(sigaction)(deadly[i].signo, &sa, &program[i]) == 0)
            __atomic_store_n(&installed[i], 1, __ATOMIC_RELEASE);
    }
}

/* ---- the program's view ---- */

/* A handler of the program's: the engine's locks that a handler could
 * wait on across threads are held with signals blocked from now on
 * (happens_before.h). */
static void handler_seen(handler_fn h)
{
    if (h != SIG_DFL && h != SIG_IGN && h != SIG_ERR)
        mg_hb_program_handles_signals();
}

MG_INTERCEPTOR(int, sigaction, (int sig, const struct sigaction *act, struct sigaction *old))
{
    resolve_early();
    if (act)
        handler_seen(act->sa_handler); /* sa_sigaction shares its word */
    int i = index_of(sig);
    if (i < 0 || !__atomic_load_n(&installed[i], __ATOMIC_ACQUIRE)) {
        __typeof__(MG_REAL(sigaction)) real = MG_REAL_LOAD(sigaction);
        if (!real) {
            errno = ENOSYS;
            return -1;
        }
        return real(sig, act, old);
    }
    struct sigaction was = program[i];
    if (act)
        program[i] = *act;
    if (old)
        *old = was;
    return 0;
}

MG_INTERCEPTOR(handler_fn, signal, (int sig, handler_fn h))
{
    resolve_early();
    handler_seen(h);
    int i = index_of(sig);
    if (i < 0 || !__atomic_load_n(&installed[i], __ATOMIC_ACQUIRE)) {
        __typeof__(MG_REAL(signal)) real = MG_REAL_LOAD(signal);
        if (!real) {
            errno = ENOSYS;
            return SIG_ERR;
        }
        return real(sig, h);
    }
    /* signal() is BSD semantics in glibc: SA_RESTART, the handler stays */
    struct sigaction sa = {.sa_handler = h, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    struct sigaction was;
    sigaction(sig, &sa, &was);
    return was.sa_handler;
}

void mg_deadly_resolve(void)
{
    static const struct mg_intercept table[] = {MG_INTERCEPT(signal), MG_INTERCEPT(sigaction),
                                                MG_INTERCEPT(sigaltstack)};
    mg_intercept_resolve(table, MG_INTERCEPT_COUNT(table));
}
