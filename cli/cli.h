/*
 * mapguard CLI: what the command's source files share.
 *
 *   main.c         argument parsing, the `run` and `report` subcommands
 *   emit.c         writing the text, --json and --sarif outputs of either
 *   run.c          spawning the program under libmapguard.so, timeout, signals
 *   preload.c      up-front checks that the shim can load (static, setuid, ABI)
 *   shimopts.c     building MAPGUARD_OPTIONS and LD_PRELOAD for the child
 *   reports.c      loading JSON Lines reports, merging and deduplicating them
 *   record.c       what a record is (finding, crash); a frame's site
 *   crash_symbols.c  names for crash records' frames, offline, with libdwfl
 *   render_text.c  the text report (each finding's block from
 *                  shim/finding_text.c, the crashes) and the one-line summary
 *   sarif.c        SARIF 2.1.0 for GitHub code scanning
 *   rules.c        the rule (kind) catalogue: names, descriptions, fixes
 *   paths.c        source root discovery, relative paths, file URIs
 *
 * Shared with the detector (shim/, built into the command too): the kinds
 * (kinds.inc, kinds.c), a record's accessors and a frame's JSON
 * (record_json.c), the text of one finding (finding_text.c) and the DWARF
 * lookup of one address (symbolize_dwarf.c), so both print the same.
 *
 * The report format is the detector's (issue 3, docs/report-format.md); every
 * JSON byte is read and written with jansson.
 */
#ifndef MAPGUARD_CLI_H
#define MAPGUARD_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "record_json.h" /* mg_str, mg_int, mg_party_*: a record's fields */

/* From the file VERSION, passed by the Makefile (-DMG_VERSION). */
#ifndef MG_VERSION
#error "MG_VERSION is not defined: build with make, which reads it from VERSION"
#endif

/* Exit statuses of the command itself. */
#define MG_EXIT_TOOL 2             /* mapguard could not do its job */
#define MG_EXIT_TIMEOUT 124        /* --timeout fired and nothing was found (timeout(1)) */

/* ------------------------------------------------------------ options */
typedef struct mgc_options {
    const char *json_out;      /* --json FILE */
    const char *sarif_out;     /* --sarif FILE */
    const char *suppressions;  /* --suppressions FILE */
    const char *shim_options;  /* --options "k=v:..." */
    const char *source_root;   /* --source-root DIR (NULL: git top, else cwd) */
    bool halt_on_error;
    bool detect_leaks;
    bool quiet;                /* -q */
    bool text;                 /* report --text */
    bool json_all;             /* --json gets every record (run), not one per finding */
    int exitcode;              /* --exitcode N */
    double timeout;            /* --timeout SECONDS, 0 = none */
} mgc_options;

/* ------------------------------------------------------------ reports.c */
typedef struct mgc_finding {
    json_t *rec;               /* the first record of this finding (own ref) */
    char *key;                 /* deduplication key */
    unsigned long count;       /* records merged into it */
    unsigned long recurred;    /* repeats the detector counted but did not print */
    long pids[8];              /* the first few processes that reported it */
    size_t npids;
    bool more_pids;            /* and others, past those */
    struct timespec logged;    /* crashes: when the log it came from was last
                                * written; 0 when unknown (stdin) */
} mgc_finding;

struct mgc_reports_index;       /* reports.c's hash tables, pending repeats, sources */

/*
 * Reports are streamed, never held: memory grows with the number of distinct
 * findings (one record each, plus counters), distinct crashes and processes,
 * not with the size of the logs (issue 11: a 682 MB log took 5.5 GB).
 */
typedef struct mgc_reports {
    mgc_finding *findings;      /* unique findings in order of first appearance */
    size_t nfindings, cap;
    mgc_finding *crashes;       /* unique "deadly-signal" records, merged like findings */
    size_t ncrashes, crashcap;
    size_t nreports;           /* finding records before deduplication */
    size_t nsuppressed;        /* detections suppressed, from the summaries */
    size_t nlost;              /* findings a process's summary counted whose records
                                * were not read (a log cut short, a record garbled):
                                * known only by their number, and a run with any
                                * fails as one with findings does */
    const char *cut;           /* run: why the program's end was not its own
                                * ("was killed when --timeout expired", ...), for
                                * SARIF's invocation; NULL when it ended itself */
    size_t nrecords;           /* valid records read, of every kind */
    size_t nbad;               /* lines that were not JSON objects with a kind */
    json_t *pids;              /* object: pid (string) -> true, for every record */
    /* Only with track_processes (mapguard run sets it before loading): */
    bool track_processes;
    json_t *spawns;            /* every "spawn" record, in order */
    json_t *open_execs;        /* pid -> its last "exec" record, when no later
                                * record of that pid followed it */
    struct mgc_reports_index *index;
} mgc_reports;

void mg_reports_init(mgc_reports *r);
void mg_reports_free(mgc_reports *r);
/* Streams one JSON Lines file ("-" is stdin) into r. Returns the number of
 * valid records it held, or -1 when it cannot be read (a directory, a
 * device, an open error), with the reason printed on stderr. Bad lines are
 * counted in nbad and the first few named on stderr, never fatal: a crashing
 * program can leave a truncated last line. A file holding no valid record at
 * all is for the caller to judge (0). */
long mg_reports_load(mgc_reports *r, const char *path);
/* Adds one record (steals the reference). */
void mg_reports_add(mgc_reports *r, json_t *rec);
/* The detector's per-process summary records carry recurrence counts; this
 * folds them into the findings once every file is loaded. */
void mg_reports_apply_summaries(mgc_reports *r);
/* Fills in the function, file and line of the unique crashes' frames
 * (crash_symbols.c), once every file is loaded; mg_write_jsonl(all) then
 * does the same to every crash record it copies. */
void mg_reports_symbolize_crashes(mgc_reports *r);
size_t mg_reports_npids(const mgc_reports *r);
bool mg_reports_has_pid(const mgc_reports *r, long pid);
/* Writes records as JSON Lines: every record of every loaded file, read
 * again from the files (all = true), or each unique finding and crash once.
 * 0, or -1 with a message on stderr. */
int mg_write_jsonl(const char *path, const mgc_reports *r, bool all);

/* ------------------------------------------------------------ record.c */
bool mg_record_is_finding(json_t *rec);
/* A "deadly-signal" record: the program died of SIGSEGV, SIGBUS, ... Not a
 * finding (it alone does not fail the gate) but always shown. */
bool mg_record_is_crash(json_t *rec);
/* "function file:line" of a frame, or "module+0xoffset" without debug info. */
void mg_frame_site(json_t *frame, char *buf, size_t n);

/* ------------------------------------------------------------ crash_symbols.c */
typedef struct mgc_symbols mgc_symbols; /* modules opened so far */
mgc_symbols *mg_symbols_new(void);      /* NULL when memory ran out */
void mg_symbols_free(mgc_symbols *s);
/* Replaces each frame of a crash record's stack that has a module and no
 * function with the frames libdwfl finds at its offset (more than one
 * where calls were inlined), keeping pc, module and offset. A frame whose
 * module cannot be opened, does not hold the offset, or was modified after
 * logged (NULL: unknown) is left as it was. */
void mg_symbolize_crash(mgc_symbols *s, json_t *rec, const struct timespec *logged);
/* The same for a finding's stacks (its parties' and their threads'
 * creation stacks): a finding written while the process crashed has module
 * and offset only. mg_finding_unnamed tells whether it has such a frame. */
bool mg_finding_unnamed(json_t *rec);
void mg_symbolize_finding(mgc_symbols *s, json_t *rec, const struct timespec *logged);

/* ------------------------------------------------------------ rules.c */
typedef struct mgc_rule {
    const char *kind;          /* the ruleId */
    const char *name;          /* PascalCase, SARIF rule name */
    const char *message;       /* the detector's message for the kind */
    const char *short_desc;
    const char *full_desc;
    const char *help_text;     /* the fix, plain text */
    const char *help_md;       /* the fix, Markdown */
} mgc_rule;

extern const mgc_rule mgc_rules[];
extern const size_t mgc_nrules;
const mgc_rule *mgc_rule_for(const char *kind);   /* NULL for an unknown kind */

/* ------------------------------------------------------------ render_text.c */
void mg_render_text(FILE *out, const mgc_reports *r);
/* One line: how many findings of which kinds, from how many processes, and
 * the note (e.g. how the program ended). */
void mg_render_summary(FILE *out, const mgc_reports *r, const char *note);

/* ------------------------------------------------------------ sarif.c */
json_t *mg_sarif_build(const mgc_reports *r, const char *source_root);
int mg_write_sarif(const char *path, const mgc_reports *r, const char *source_root);

/* ------------------------------------------------------------ paths.c */
/* The git top above the current directory, else the current directory. */
char *mg_default_source_root(void);
/* Lexically normalized absolute path; relative ones are taken from base. */
char *mg_normalize_path(const char *path, const char *base);
/* file relative to root when it lies inside it, else NULL. */
char *mg_relative_to(const char *root, const char *file);
/* RFC 3986 percent-encoding of a path for a URI (slashes kept). */
char *mg_uri_path(const char *path);

/* ------------------------------------------------------------ preload.c */
/* Can the dynamic loader preload the shim into this program? 0 yes; 1 no,
 * with the reason in why; -1 the file could not be examined (errno). */
int mg_check_preloadable(const char *prog, const char *shim, char *why, size_t n);
/* Does the shim itself load (its own dependencies present)? 0 yes; 1 no,
 * with the loader's reason in why. */
int mg_check_shim_loads(const char *shim, char *why, size_t n);

/* ------------------------------------------------------------ shimopts.c */
/* MAPGUARD_OPTIONS for the child: the inherited variable, then --options,
 * then what mapguard itself needs (log_path, format) last so it wins.
 * from_outer_run: the inherited variable is an outer `mapguard run`'s,
 * whose own log_path, format and exitcode are replaced without a warning.
 * NULL with a message in err when a value cannot be expressed. */
char *mg_build_shim_options(const mgc_options *o, const char *inherited, bool from_outer_run,
                            const char *log_path, char *err, size_t n);
char *mg_build_ld_preload(const char *inherited, const char *shim);
/* Checks a flag's value (flag: "--exitcode", ...) with the type and range
 * of the detector option it stands for (shim/options.inc), so the command
 * and the detector accept the same values. 0 with the number in *num (may
 * be NULL), or -1 with a message naming the flag and what it takes. */
int mg_check_flag_value(const char *flag, const char *value, long *num, char *err, size_t n);
/* A bool, int or choice option's default, from shim/options.inc (--exitcode's
 * default is exitcode's). */
long mg_option_default(const char *option);

/* ------------------------------------------------------------ run.c */
int mg_run(const mgc_options *o, char **argv);
/* The command ignores SIGPIPE (mg_ignore_sigpipe, first thing in main): a
 * reader of its output that goes away (| head) must not kill it before
 * --json and --sarif are written; write errors are reported instead. The
 * program it runs gets the disposition the command was given. */
void mg_ignore_sigpipe(void);

/* ------------------------------------------------------------ emit.c */
/* Renders and writes everything the options ask for; 0 or -1 when an output
 * file could not be written. */
int mg_emit(const mgc_options *o, const mgc_reports *r, FILE *text_out, const char *note);
/* Before the work: can --json and --sarif be written? 0, or -1 with each
 * problem on stderr. Leaves the files as they were. */
int mg_check_outputs(const mgc_options *o);

#endif
