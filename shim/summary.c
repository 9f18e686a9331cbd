/*
 * The records that describe a run rather than a finding: the summary at
 * exit (or before halting) and the hello at start.
 *
 * Both are written by hand (jsonline.c) whenever they can be: every watched
 * image writes a hello and most end with nothing found, and jansson
 * (libmapguard-symbolize.so) would otherwise be loaded for those lines
 * alone. Only a summary with findings in it, in JSON, to a regular file, is
 * rendered by render.c, with every recurrence.
 */
#include "dedup.h"
#include "happens_before.h"
#include "inflight.h"
#include "jsonline.h"
#include "options.h"
#include "output.h"
#include "report_stack.h"
#include "stack.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "mapguard: N finding(s) reported, R repeat(s), S suppressed" */
static void put_counts(struct mg_line *l, const struct mg_dedup_counts *c, const char *reported, const char *repeats,
                       const char *suppressed)
{
    mg_put_int(l, c->reports);
    mg_put(l, reported);
    mg_put_int(l, c->repeats);
    mg_put(l, repeats);
    mg_put_int(l, c->suppressed);
    mg_put(l, suppressed);
}

/* The summary by hand: with nothing found (no recurrences), in text, on a
 * pipe (where the line must stay within PIPE_BUF), or when the renderer
 * could not be loaded. Then it lists as many recurrences as the line has
 * room for. Call with the report lock held. */
static void summary_by_hand(const struct mg_recurrence *rec, size_t nrec)
{
    struct mg_dedup_counts c = mg_dedup_counts();
    /* a clean run's summary only proves the process was watched */
    void (*out)(const char *, size_t) = c.reports ? mg_out_write : mg_out_write_quiet;
    struct mg_line l = {.n = 0};
    if (mg_opt.format == MG_FORMAT_TEXT) {
        mg_put(&l, "mapguard: reported ");
        put_counts(&l, &c, " warning(s) (", " repeat(s) folded, ", " suppressed)\n");
        out(l.buf, l.n);
        return;
    }
    mg_put(&l, "{\"kind\":\"summary\",\"message\":\"mapguard: ");
    put_counts(&l, &c, " finding(s) reported, ", " repeat(s), ", " suppressed\"");
    mg_put(&l, ",\"pid\":");
    mg_put_int(&l, getpid());
    mg_put(&l, ",\"findings\":");
    mg_put_int(&l, c.reports);
    mg_put(&l, ",\"occurrences\":");
    mg_put_int(&l, c.occurrences);
    mg_put(&l, ",\"repeats\":");
    mg_put_int(&l, c.repeats);
    mg_put(&l, ",\"suppressed\":");
    mg_put_int(&l, c.suppressed);
    mg_put(&l, ",\"recurrences\":[");
    size_t j = 0;
    for (; j < nrec && l.n < MG_LINE_CAP - 2 * MG_LINE_TAIL_ROOM; j++) {
        size_t before = l.n;
        mg_put(&l, j ? ",{\"id\":" : "{\"id\":");
        mg_put_int(&l, rec[j].id);
        mg_put(&l, ",\"kind\":\"");
        mg_put(&l, rec[j].kind);
        mg_put(&l, "\",\"count\":");
        mg_put_int(&l, rec[j].count);
        mg_put(&l, ",\"records\":");
        mg_put_int(&l, rec[j].records);
        mg_put(&l, ",\"where\":");
        if (!mg_put_str(&l, rec[j].where ? rec[j].where : "?")) {
            l.n = before;
            break;
        }
        mg_put(&l, "}");
    }
    mg_put(&l, "]");
    if (j < nrec)
        mg_put(&l, ",\"truncated\":true");
    mg_line_end(&l);
    out(l.buf, l.n);
}

struct summary_job {
    const struct mg_dedup_counts *c;
    const struct mg_recurrence *rec;
    size_t n;
    char *text;
};

static void summary_job_run(void *p)
{
    struct summary_job *j = p;
    const struct mg_renderer *r = mg_renderer();
    if (r)
        j->text = r->summary(getpid(), j->c->reports, j->c->occurrences, j->c->repeats, j->c->suppressed, j->rec,
                             j->n);
}

/* A finding an exit path wrote plain, with its line's id (lock held). */
static void credit_flushed(int slot, unsigned id)
{
    char *where = NULL; /* "?": the line had no symbols */
    mg_dedup_reported(slot, id, &where);
}

void mg_report_summary(void)
{
    /* The process is ending from a signal handler that interrupted one of
     * this thread's reports: the counts are half made, and waiting for the
     * lock would be waiting for ourselves. The findings in flight are
     * written by the exit path, plain. */
    if (mg_report_lock_held_here())
        return;
    mg_hb_exit_note();
    mg_report_lock();
    mg_inflight_credit_flushed(credit_flushed);
    struct mg_dedup_counts c = mg_dedup_counts();
    /* With nothing found, stderr stays the program's own; a log file gets
     * the summary anyway, so "watched, and clean" is on record. */
    if (c.reports == 0 && mg_opt.verbosity < 1 && !mg_out_to_file()) {
        mg_report_unlock();
        return;
    }
    if (c.reports == 0 || mg_opt.format == MG_FORMAT_TEXT) {
        summary_by_hand(NULL, 0);
        mg_report_unlock();
        return;
    }
    const struct mg_recurrence *rec;
    size_t n = mg_dedup_recurrences(&rec);
    /* on a pipe, the line by hand: it stays within PIPE_BUF */
    size_t line_max = mg_out_line_max();
    struct summary_job job = {.c = &c, .rec = rec, .n = n};
    if (!line_max && !mg_symbolize_lock_held_here()) { /* else by hand, as above */
        mg_symbolize_lock();
        mg_on_report_stack(summary_job_run, &job); /* as a report's: libdw, jansson */
        mg_symbolize_unlock();
    }
    char *text = job.text;
    if (text) {
        mg_out_write(text, strlen(text));
        free(text);
    } else {
        summary_by_hand(rec, n);
    }
    mg_report_unlock();
}

/* JSON only: in a text log meant for people the summary line says enough. */
void mg_report_hello(void)
{
    if (mg_opt.format != MG_FORMAT_JSON)
        return;
    mg_report_lock();
    bool to_file = mg_out_to_file();
    mg_report_unlock();
    if (!to_file)
        return;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    struct mg_line l = {.n = 0};
    mg_put(&l, "{\"kind\":\"hello\",\"pid\":");
    mg_put_int(&l, getpid());
    mg_put(&l, ",\"ppid\":");
    mg_put_int(&l, getppid());
    mg_put(&l, ",\"program\":");
    /* The format says null, not a path with U+FFFD in it or cut short,
     * when the program's real name cannot be given. */
    size_t before = l.n;
    if (n <= 0 || !mg_utf8_valid(exe) || !mg_put_str(&l, exe)) {
        l.n = before;
        mg_put(&l, "null");
    }
    /* the same version as the mapguard command's: both come from the file
     * VERSION, passed by the Makefile */
    mg_put(&l, ",\"version\":\"" MG_VERSION "\"");
    mg_line_end(&l);
    mg_report_lock();
    mg_out_write_quiet(l.buf, l.n);
    mg_report_unlock();
}
