/*
 * Diagnostics on stderr. One write(2) per line, so that lines from threads
 * and forked children do not interleave, and no stdio stream of the
 * program's is touched (its buffering, its lock).
 */
#include "no_cancel.h"
#include "log.h"
#include "options.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void mg_log(int level, const char *fmt, ...)
{
    if (mg_opt.verbosity < level)
        return;
    char line[1024];
    int n = snprintf(line, sizeof line, "mapguard[%d]: ", (int)getpid());
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    size_t len = strlen(line);
    line[len++] = '\n';
    int cancel = mg_cancel_off(); /* no_cancel.h */
    (void)!write(2, line, len);
    mg_cancel_restore(cancel);
}
