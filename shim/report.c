/*
 * Reports: one JSON object (or text block) per finding, one line, one
 * write(2), the moment it is made.
 *
 * mg_report is the orchestration: the finding goes on record in flight
 * (inflight.c) before anything slow, suppressions are matched (suppress.c)
 * on the same frames whichever way the finding is then written, the
 * renderer of libmapguard-symbolize.so builds the line (render.c), or,
 * without it, the plainer record by hand below; the dedup slot (dedup.c)
 * learns its id, and the line goes out (output.c) under the report lock,
 * so ids appear in the log in order. halt_on_error ends the process after.
 *
 * The kinds' names and messages, and the record by hand, are also here.
 */
#include "no_cancel.h"
#include "report.h"
#include "dedup.h"
#include "finding_plain.h"
#include "gomap_api.h"
#include "inflight.h"
#include "jsonline.h"
#include "options.h"
#include "output.h"
#include "owned_lock.h"
#include "render.h"
#include "report_stack.h"
#include "runtime.h"
#include "stack.h"
#include "suppress.h"
#include "thread_table.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* ---- what the renderer needs from the shim (render.h) ---- */

static void thread_info(uint32_t idx, uint32_t *tid, uint32_t *created, char *name, size_t len)
{
    *tid = idx == mg_self.idx ? mg_self.tid : mg_thread_tid(idx);
    *created = idx == mg_self.idx ? mg_self.created_stack : mg_thread_created(idx);
    mg_thread_name(idx, name, len);
}

/* A full report's stacks, with the symbolization lock held: a stack saved
 * for later (stack_saved.c) is unwound here. */
static bool depot_get_resolved(uint32_t id, const uintptr_t **pcs, int *n)
{
    return mg_depot_get(mg_stack_resolve(id), pcs, n);
}

static const struct mg_render_host host = {
    .op_name = mg_op_name,
    .depot_get = depot_get_resolved,
    .thread = thread_info,
    .symbolize = mg_symbolize,
};

/* A plain record's, made where the process may be dying: nothing is
 * unwound, and a saved creation stack is left out as if there were none
 * (mg_depot_get knows no saved stack's id: another saved stack shows as
 * one that could not be captured). */
static void thread_info_plain(uint32_t idx, uint32_t *tid, uint32_t *created, char *name, size_t len)
{
    thread_info(idx, tid, created, name, len);
    if (*created & MG_STACK_SAVED)
        *created = 0;
}

static const struct mg_render_host plain_host = {
    .op_name = mg_op_name,
    .depot_get = mg_depot_get,
    .thread = thread_info_plain,
    .symbolize = mg_symbolize,
};

struct plain_job {
    struct mg_line *l;
    const struct mg_finding *f;
};

static void plain_now(void *job)
{
    struct plain_job *j = job;
    j->l->n = 0;
    mg_finding_by_hand(j->l, &plain_host, j->f, mg_opt.format == MG_FORMAT_TEXT, true);
}

/* On the report stack too: a race's record goes in flight (inflight.c)
 * before its report starts, and module paths take PATH_MAX buffers. */
void mg_report_plain(struct mg_line *l, const struct mg_finding *f)
{
    struct plain_job j = {l, f};
    int cancel = mg_cancel_off(); /* it names threads from /proc: no_cancel.h */
    mg_on_report_stack(plain_now, &j);
    mg_cancel_restore(cancel);
}

void mg_report_emit(const char *buf, size_t n)
{
    if (!mg_inflight_write_begin())
        return;
    int cancel = mg_cancel_off();
    mg_out_write(buf, n);
    mg_cancel_restore(cancel);
    mg_inflight_write_end();
}

void mg_report(struct mg_finding *f, int slot) { mg_report_inflight(f, slot, 0); }

struct report_job {
    struct mg_finding *f;
    int slot, h;
};

static void report_now(void *job);

/* On the report stack (report_stack.c): the program's may be small. With
 * cancellation off: libdw opens and reads files, cancellation points, and
 * a thread cancelled there would leave the symbolization lock held and
 * unwind off the report stack. */
void mg_report_inflight(struct mg_finding *f, int slot, int h)
{
    int saved = errno;
    sigset_t mask;
    mg_block_async_signals(&mask); /* owned_lock.h says why */
    int cancel = mg_cancel_off();
    struct report_job job = {f, slot, h};
    mg_on_report_stack(report_now, &job);
    mg_cancel_restore(cancel);
    pthread_sigmask(SIG_SETMASK, &mask, NULL);
    errno = saved;
}

static void report_now(void *job)
{
    struct report_job *j = job;
    struct mg_finding *f = j->f;
    int slot = j->slot, h = j->h;
    mg_busy_enter();
    /* On record before anything slow (suppressions, the symbolizer's
     * loading, libdw): whatever ends the process from here on writes this
     * line if the full report is not out yet (inflight.c). */
    if (h)
        mg_inflight_update(h, f);
    else
        h = mg_inflight_begin(f, slot);
    if (!h) {
        /* Every entry busy: off the record, the full report could be
         * taken by an exit while it waits for symbols. The plain line goes
         * out now instead (no suppressions: it has no names to match). */
        mg_report_lock();
        unsigned id = mg_inflight_write_plain(f);
        char *where = NULL;
        mg_dedup_reported(slot, id, &where);
        bool halt = mg_opt.halt_on_error;
        mg_report_unlock();
        mg_inflight_unclaim();
        if (halt)
            mg_halt();
        mg_busy_leave();
        return;
    }
    if (mg_inflight_exiting()) {
        /* The process is on its way out: no time for symbols. */
        if (h)
            mg_inflight_write_now(h);
        else
            mg_inflight_unclaim();
        mg_busy_leave();
        return;
    }
    mg_report_lock();
    size_t line_max = mg_out_line_max();
    mg_report_unlock();
    /* room for the ",\"id\":N" inserted below */
    size_t max_len = line_max ? line_max - 24 : 0;
    bool text = mg_opt.format == MG_FORMAT_TEXT;
    char *where = NULL, *out = NULL;
    mg_symbolize_lock();
    const struct mg_renderer *r = mg_renderer();
    bool suppressed = mg_suppressed(f, &host);
    if (!suppressed && r) {
        out = r->finding(&host, f, text, max_len, &where);
    } else if (!suppressed) {
        out = mg_finding_by_hand_alloc(&host, f, text, &where);
    }
    mg_symbolize_unlock();
    bool halt = false;
    mg_report_lock();
    if (suppressed) {
        mg_dedup_suppressed(slot);
        mg_inflight_drop(h);
    } else {
        /* false: an exit path wrote the plain line already, and counted it */
        bool mine = mg_inflight_take(h);
        unsigned id = mine ? mg_report_next_id() : mg_inflight_id(h);
        mg_dedup_reported(slot, id, &where);
        if (out && mine && mg_inflight_write_begin()) {
            size_t n = strlen(out);
            if (text || n < 2) {
                mg_out_write(out, n);
            } else {
                /* ",\"id\":N" before the closing "}\n", one write */
                char d[24], *t = malloc(n + 32);
                if (t) {
                    const char *num = mg_decimal(d, id);
                    size_t k = n - 2, m = strlen(num);
                    memcpy(t, out, k);
                    memcpy(t + k, ",\"id\":", 6);
                    memcpy(t + k + 6, num, m);
                    memcpy(t + k + 6 + m, "}\n", 2);
                    mg_out_write(t, k + 8 + m);
                    free(t);
                }
            }
            mg_inflight_write_end();
        }
        if (mine)
            mg_inflight_done(h);
        halt = mg_opt.halt_on_error;
    }
    mg_report_unlock();
    if (!h)
        mg_inflight_unclaim();
    free(out);
    free(where);
    if (halt)
        mg_halt();
    mg_busy_leave();
}
