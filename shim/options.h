/*
 * The options (options.c), declared in options.inc: the struct generated
 * from that list, and the parser of MAPGUARD_OPTIONS.
 */
#ifndef MAPGUARD_OPTIONS_H
#define MAPGUARD_OPTIONS_H

#include "common.h"
#include "options_syntax.h"

/* format's values, in the order of its choices in options.inc. */
enum mg_format { MG_FORMAT_JSON, MG_FORMAT_TEXT };

/* One field per line of options.inc; bool, int and choice options are
 * ints, string options char[MG_OPTION_STR_CAP]. */
struct mg_options {
#define MG_OPTION_BOOL(n, d, h) int n;
#define MG_OPTION_INT(n, d, lo, hi, h) int n;
#define MG_OPTION_STR(n, d, max, h) char n[MG_OPTION_STR_CAP];
#define MG_OPTION_CHOICE(n, d, c, h) int n;
#include "options.inc"
#undef MG_OPTION_BOOL
#undef MG_OPTION_INT
#undef MG_OPTION_STR
#undef MG_OPTION_CHOICE
};
extern struct mg_options mg_opt;
/* Parses the string (MAPGUARD_OPTIONS); complains on stderr about what it
 * cannot use and keeps the default for it. With help=1 it then prints
 * every option on stderr, and with verbosity>=1 the options in effect. */
void mg_options_parse(const char *s);
/* MAPGUARD_OPTIONS, also before libc has set up environ. */
const char *mg_options_env(void);
/* Does log_path name a file (not stderr, not stdout)? Only then does the
 * shim write the records that describe the run rather than a finding
 * (hello, exec, a summary with nothing found): nobody reads them on a
 * terminal. Async-signal-safe. */
bool mg_log_to_file(void);

#endif
