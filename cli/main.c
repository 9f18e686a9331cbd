/*
 * mapguard: the command line. Parses the subcommand and its options, then
 * hands over to run.c (run a program under the detector) or renders saved
 * reports (report). Every problem with the command line itself exits 2, the
 * status that means "mapguard could not work", so a typo in a CI script can
 * never be mistaken for a clean run or for a finding.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage_text[] =
    "usage: mapguard run [options] [--] PROGRAM [ARGS...]\n"
    "       mapguard report [--text] [--json OUT] [--sarif OUT] [options] FILE...\n"
    "       mapguard --help | --version\n"
    "\n"
    "run: runs PROGRAM with the map detector (libmapguard.so) preloaded into it and into\n"
    "every process it forks or execs, prints a report of each finding on stderr (in the\n"
    "style of ThreadSanitizer) and a one-line summary, and exits with:\n"
    "  the program's own status   no findings (128+N if it was killed by signal N)\n"
    "  --exitcode (default 66)    findings\n"
    "  124                        --timeout expired and nothing was found\n"
    "  2                          mapguard could not work: the detector cannot load into\n"
    "                             the program (static or setuid binary), the command\n"
    "                             does not exist, bad options\n"
    "\n"
    "report: renders saved JSON Lines reports (from --json or the detector's log_path),\n"
    "merging many files and removing duplicates. Text goes to stdout when --text is\n"
    "given or no other output is asked for. Exits --exitcode when there are findings,\n"
    "0 when there are none, 2 on errors, among them a FILE that is a directory or holds\n"
    "no report record (lines that are not records among records are skipped).\n"
    "\n"
    "options:\n"
    "  --json FILE           write the reports as JSON Lines (run: every record from every\n"
    "                        process; report: each unique finding once)\n"
    "  --sarif FILE          write the findings as SARIF 2.1.0 for code scanning\n"
    "  --source-root DIR     SARIF paths are relative to DIR (default: the git top above\n"
    "                        the current directory, else the current directory)\n"
    "  --exitcode N          exit status when something was found (default 66); 0: the\n"
    "                        program's own status even then\n"
    "  -q, --quiet           no per-finding report; only the summary line, and only if\n"
    "                        something was found\n"
    "  --text                (report) print the text report\n"
    "run only:\n"
    "  --halt-on-error       stop each process at its own first finding (the others, and\n"
    "                        a script that runs it, go on, as for a crash)\n"
    "  --suppressions FILE   kind:pattern lines, matched against stack frames\n"
    "  --detect-leaks        report maps still allocated at exit\n"
    "  --options \"k=v:...\"   more detector options (MAPGUARD_OPTIONS syntax), e.g.\n"
    "                        stack_depth=64:dedup=0; see docs/options.md\n"
    "  --timeout SECONDS     kill the program and every process it started (also those\n"
    "                        that called setsid) after SECONDS; report what was found.\n"
    "                        Processes left when the program exits are waited for\n"
    "                        until then (without it, 2 seconds)\n"
    "\n"
    "environment: MAPGUARD_SHIM overrides the detector's path (default ../lib/libmapguard.so\n"
    "next to this binary); MAPGUARD_OPTIONS is merged under --options.\n";

enum {
    OPT_JSON = 256, OPT_SARIF, OPT_HALT, OPT_SUPP, OPT_OPTIONS, OPT_LEAKS, OPT_TIMEOUT,
    OPT_ROOT, OPT_EXITCODE, OPT_TEXT, OPT_HELP, OPT_VERSION,
};

static const struct option long_opts[] = {
    {"json", required_argument, NULL, OPT_JSON},
    {"sarif", required_argument, NULL, OPT_SARIF},
    {"halt-on-error", no_argument, NULL, OPT_HALT},
    {"suppressions", required_argument, NULL, OPT_SUPP},
    {"options", required_argument, NULL, OPT_OPTIONS},
    {"detect-leaks", no_argument, NULL, OPT_LEAKS},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"source-root", required_argument, NULL, OPT_ROOT},
    {"exitcode", required_argument, NULL, OPT_EXITCODE},
    {"text", no_argument, NULL, OPT_TEXT},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static int bad_usage(const char *fmt, const char *arg)
{
    fputs("mapguard: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nmapguard: try 'mapguard --help'\n", stderr);
    return MG_EXIT_TOOL;
}

/* The index of an earlier argument naming the same file as the i-th (the
 * same device and inode, whatever the path), or -1: a log named twice,
 * by two paths or a glob that overlaps another, is read once, so that
 * its findings are not counted twice as if two runs had found them. */
static int same_file_as_earlier(const struct stat *seen, const bool *have, int i)
{
    for (int j = 0; j < i; j++)
        if (have[j] && have[i] && seen[j].st_dev == seen[i].st_dev && seen[j].st_ino == seen[i].st_ino)
            return j;
    return -1;
}

static int cmd_report(const mgc_options *o, int nfiles, char **files)
{
    if (nfiles == 0)
        return bad_usage("report: no report files given%s", "");
    struct stat *seen = calloc((size_t)nfiles, sizeof *seen);
    bool *have = calloc((size_t)nfiles, sizeof *have);
    if (!seen || !have) {
        free(seen);
        free(have);
        fprintf(stderr, "mapguard: out of memory\n");
        return MG_EXIT_TOOL;
    }
    for (int i = 0; i < nfiles; i++)
        have[i] = stat(files[i], &seen[i]) == 0;
    mgc_reports r;
    mg_reports_init(&r);
    int rc = 0, unusable = 0, read = 0;
    /* Every input must be a report: a directory, random bytes or a file with
     * no record in it is a mistake in the command line (a wrong path, a glob
     * that matched the wrong files), and must not pass as "no findings". The
     * other inputs are still rendered. */
    for (int i = 0; i < nfiles; i++) {
        int j = same_file_as_earlier(seen, have, i);
        if (j >= 0) {
            fprintf(stderr, "mapguard: %s is the same file as %s; read once\n", files[i], files[j]);
            continue;
        }
        read++;
        size_t bad = r.nbad;
        long n = mg_reports_load(&r, files[i]);
        if (n == 0)
            fprintf(stderr, "mapguard: %s holds no mapguard report record (%s)\n", files[i],
                    r.nbad > bad ? "none of its lines is one" : "it is empty");
        if (n <= 0) {
            unusable++;
            rc = MG_EXIT_TOOL;
        }
    }
    free(seen);
    free(have);
    mg_reports_apply_summaries(&r);
    mg_reports_symbolize_crashes(&r);
    /* Nothing read at all: no report, not even an empty one, can be true. */
    if (r.nrecords == 0) {
        mg_reports_free(&r);
        return MG_EXIT_TOOL;
    }
    bool text = o->text || (!o->json_out && !o->sarif_out);
    char note[128];
    int n = snprintf(note, sizeof note, "%d file%s", read, read == 1 ? "" : "s");
    if (unusable > 0)
        snprintf(note + n, sizeof note - (size_t)n, ", %d of them unusable (see above)", unusable);
    if (mg_emit(o, &r, text ? stdout : NULL, note) != 0)
        rc = MG_EXIT_TOOL;
    if (rc == 0 && (r.nfindings > 0 || r.nlost > 0))
        rc = o->exitcode;
    mg_reports_free(&r);
    return rc;
}

int main(int argc, char **argv)
{
    mg_ignore_sigpipe();
    if (argc < 2)
        return bad_usage("no command given (run or report)%s", "");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("mapguard %s\n", MG_VERSION);
        return 0;
    }
    bool run = strcmp(cmd, "run") == 0;
    if (!run && strcmp(cmd, "report") != 0)
        return bad_usage("unknown command '%s' (expected run or report)", cmd);

    mgc_options o = {.exitcode = (int)mg_option_default("exitcode"), .json_all = run};
    /* '+': stop at PROGRAM, so its own options are left alone. */
    optind = 2;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+:qh", long_opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case OPT_JSON:
        case OPT_SARIF:
            /* "--json -- ./app" would write the JSON to a file named "--"
             * and run the program: the file name was forgotten */
            if (!optarg[0] || strcmp(optarg, "--") == 0)
                return bad_usage(c == OPT_JSON ? "--json needs a file name, not '%s'" : "--sarif needs a file name, not '%s'",
                                 optarg);
            /* not stdout: in a run it is the program's, and the reports
             * would mix with its output; a report's FILE '-' is stdin */
            if (strcmp(optarg, "-") == 0)
                return bad_usage(run ? "%s needs a file name, not '-' (stdout is the program's)"
                                     : "%s needs a file name, not '-' (stdout is the text report's)",
                                 c == OPT_JSON ? "--json" : "--sarif");
            *(c == OPT_JSON ? &o.json_out : &o.sarif_out) = optarg;
            break;
        case OPT_ROOT: {
            struct stat st;
            if (stat(optarg, &st) != 0 || !S_ISDIR(st.st_mode))
                return bad_usage("--source-root '%s': not a directory", optarg);
            o.source_root = optarg;
            break;
        }
        case 'q': o.quiet = true; break;
        case OPT_TEXT:
            if (run)
                return bad_usage("--text is an option of 'report'; run always prints text%s", "");
            o.text = true;
            break;
        case OPT_EXITCODE: {
            long v;
            char why[256];
            if (mg_check_flag_value("--exitcode", optarg, &v, why, sizeof why) != 0)
                return bad_usage("%s", why);
            o.exitcode = (int)v;
            break;
        }
        case OPT_HALT:
        case OPT_SUPP:
        case OPT_OPTIONS:
        case OPT_LEAKS:
        case OPT_TIMEOUT:
            if (!run) {
                const char *name = "?";
                for (const struct option *lo = long_opts; lo->name; lo++)
                    if (lo->val == c)
                        name = lo->name;
                fprintf(stderr, "mapguard: --%s is an option of 'mapguard run'\n", name);
                return bad_usage("report takes --text, --json, --sarif, --source-root, "
                                 "--exitcode and -q%s", "");
            }
            if (c == OPT_HALT) {
                o.halt_on_error = true;
            } else if (c == OPT_SUPP) {
                o.suppressions = optarg;
            } else if (c == OPT_OPTIONS) {
                o.shim_options = optarg;
            } else if (c == OPT_LEAKS) {
                o.detect_leaks = true;
            } else {
                errno = 0;
                double v = strtod(optarg, &end);
                if (errno || end == optarg || *end || !(v > 0) || !isfinite(v) || v > 1e7)
                    return bad_usage("--timeout '%s': expected a positive number of seconds",
                                     optarg);
                o.timeout = v;
            }
            break;
        case OPT_HELP:
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case OPT_VERSION:
            printf("mapguard %s\n", MG_VERSION);
            return 0;
        case ':':
            return bad_usage("%s needs an argument", argv[optind - 1]);
        default:
            return bad_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (run && optind >= argc)
        return bad_usage("run: no program given (mapguard run [options] -- PROGRAM [ARGS...])%s",
                         "");
    /* Not after a test suite of an hour: an output in a directory that does
     * not exist is a typo to report now. */
    if (mg_check_outputs(&o) != 0)
        return MG_EXIT_TOOL;
    if (!run)
        return cmd_report(&o, argc - optind, argv + optind);
    return mg_run(&o, argv + optind);
}
