/*
 * The shim's life cycle: lazy start, fork, exit.
 *
 * Start is lazy and happens in whichever comes first, the constructor or
 * the first wrapper call: another library's constructor may call gomap
 * before ours has run. The constructor still starts it early so that our
 * atexit handler is registered before the application's and therefore
 * runs after them, when maps freed by those handlers are gone.
 *
 * Fork: the prepare handler takes the shim's locks so no child inherits
 * one held mid-update; the child re-creates them, learns its new tid,
 * starts a log file of its own (log_path gets ".<pid>"), and remembers the
 * threads that did not come along, whose writer marks may still be on maps
 * (thread_table.c).
 *
 * Start, when the log is a file: a hello record, so that whoever reads the
 * logs knows this process image was watched even if it finds nothing.
 *
 * Exit: the findings still in flight (inflight.c), leak report
 * (detect_leaks=1), summary record, and, as TSan does, the exit status
 * becomes exitcode if anything was found. Before the handler ends the
 * process with _exit, LeakSanitizer's check runs (exit.c): its own atexit
 * handler would be skipped.
 */
#include "no_cancel.h"
#include "runtime.h"
#include "deadly.h"
#include "dedup.h"
#include "detect.h"
#include "exit.h"
#include "inflight.h"
#include "intercept.h"
#include "log.h"
#include "options.h"
#include "output.h"
#include "report.h"
#include "stack.h"
#include "suppress.h"
#include "thread_table.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int mg_ready;
static uint32_t init_tid;

/* How long the exit waits for reports other threads are making: they
 * go out with symbols if done in time, otherwise with module+offset. */
#define EXIT_WAIT_MS 500

static void at_exit(void)
{
    mg_busy_enter();
    mg_inflight_flush(EXIT_WAIT_MS, EXIT_WAIT_MS);
    /* Findings made from here on (other threads still run) are written at
     * once, plain (report.c); the leak report comes after the flush, so
     * its findings are full ones. */
    mg_inflight_resume();
    /* not from a handler that interrupted one of this thread's reports:
     * a report would wait for the locks it holds */
    if (mg_opt.detect_leaks && !mg_report_lock_held_here() && !mg_symbolize_lock_held_here())
        mg_leak_report();
    mg_inflight_flush(EXIT_WAIT_MS, 0);
    mg_report_summary();
    if (mg_inflight_findings() > 0 && mg_opt.exitcode != 0) {
        mg_sanitizers_before_exit();
        fflush(NULL);
        mg_inflight_close();
        mg_real_exit(mg_opt.exitcode);
    }
    mg_busy_leave();
}

void mg_halt(void)
{
    mg_inflight_flush(EXIT_WAIT_MS, 0);
    mg_report_summary();
    mg_sanitizers_before_exit();
    fflush(NULL);
    mg_inflight_close();
    mg_real_exit(mg_opt.exitcode);
}

static void fork_prepare(void)
{
    mg_stack_fork_begin();
    mg_report_lock();
    mg_symbolize_lock();
    mg_depot_lock();
    mg_leak_lock();
    /* last: no thread holds it while taking any of the others */
    mg_threads_lock();
    /* after every lock: a capture waiting at the gate holds none of them */
    mg_stack_fork_prepare();
}

static void fork_parent(void)
{
    mg_stack_fork_parent();
    mg_threads_unlock();
    mg_leak_unlock();
    mg_depot_unlock();
    mg_symbolize_unlock();
    mg_report_unlock();
}

static void fork_child(void)
{
    mg_stack_fork_child();
    mg_inflight_reset();
    mg_leak_atfork_child();
    mg_depot_atfork_child();
    mg_symbolize_atfork_child();
    mg_dedup_atfork_child();
    mg_out_atfork_child();
    mg_threads_atfork_child();
}

void mg_init_slow(void)
{
    int expected = 0;
    if (!__atomic_compare_exchange_n(&mg_ready, &expected, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        /* Being started: by this thread (a call made while starting goes
         * straight through, mg_self.busy is set) or by another one. */
        if (init_tid == (uint32_t)gettid())
            return;
        while (__atomic_load_n(&mg_ready, __ATOMIC_ACQUIRE) != 2)
            sched_yield();
        return;
    }
    init_tid = (uint32_t)gettid();
    /* start reads files (options, suppressions) and opens the log, on
     * whichever thread came first: no_cancel.h */
    int cancel = mg_cancel_off();
    mg_busy_enter();
    mg_options_parse(mg_options_env());
    mg_suppress_load();
    mg_intercept_start();
    mg_inflight_reset();
    mg_carry_read();
    mg_stack_init();
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    atexit(at_exit);
    at_quick_exit(mg_at_quick_exit);
    mg_deadly_install();
    mg_log(1, "started: log_path=%s format=%s halt_on_error=%d", mg_opt.log_path[0] ? mg_opt.log_path : "stderr",
           mg_opt.format == MG_FORMAT_TEXT ? "text" : "json", mg_opt.halt_on_error);
    mg_report_hello();
    mg_busy_leave();
    mg_cancel_restore(cancel);
    __atomic_store_n(&mg_ready, 2, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void mg_constructor(void) { mg_init(); }
