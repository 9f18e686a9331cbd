/*
 * The two environment variables that put the detector into the program.
 *
 * MAPGUARD_OPTIONS: k=v pairs between the detector's separators
 * (MG_OPTION_SEPARATORS). mapguard merges the user's inherited variable,
 * then --options, then its own flags, last one winning per key, and writes
 * the result back with ':' so the detector sees each key once. Every key
 * and value is checked first with the detector's own table and parser
 * (shim/options_syntax.h, expanded from shim/options.inc): what the
 * detector would refuse, and only that, is refused here, up front, as a
 * command-line error. log_path and format belong to mapguard: reports must
 * land, as JSON, in the private directory the runner reads afterwards; and
 * exitcode is --exitcode's, the status mapguard itself returns. Given in
 * --options or the inherited variable, each gets a warning and is ignored.
 *
 * LD_PRELOAD: the shim is appended to whatever the user already preloads
 * (an allocator, a sanitizer runtime that insists on coming first), and the
 * variable is exported so every exec'd child inherits it.
 */
#include "cli.h"
#include "options_syntax.h"
#include "suppress_file.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define SEPS MG_OPTION_SEPARATORS

/* The flags of mapguard run that stand for a detector option. */
static const struct {
    const char *flag, *option;
} flag_options[] = {
    {"--halt-on-error", "halt_on_error"},
    {"--detect-leaks", "detect_leaks"},
    {"--suppressions", "suppressions"},
    {"--exitcode", "exitcode"},
};

/* What the option takes, in words, for an error message. */
static void expected(const struct mg_option_spec *s, char *buf, size_t n)
{
    switch (s->type) {
    case MG_OPTION_TYPE_BOOL:
        snprintf(buf, n, "0, 1, false or true");
        break;
    case MG_OPTION_TYPE_INT:
        snprintf(buf, n, "a number from %ld to %ld", s->lo, s->hi);
        break;
    case MG_OPTION_TYPE_STR:
        snprintf(buf, n, "at most %ld bytes without ':', ',' or whitespace", s->hi);
        break;
    case MG_OPTION_TYPE_CHOICE:
        snprintf(buf, n, "one of %s", s->choices);
        break;
    }
}

long mg_option_default(const char *option)
{
    const struct mg_option_spec *s = mg_option_find(option, strlen(option));
    if (!s)
        abort(); /* a name in mapguard's own code, not the user's */
    return s->dflt;
}

int mg_check_flag_value(const char *flag, const char *value, long *num, char *err, size_t n)
{
    const char *option = NULL;
    for (size_t i = 0; i < sizeof flag_options / sizeof flag_options[0]; i++)
        if (strcmp(flag_options[i].flag, flag) == 0)
            option = flag_options[i].option;
    const struct mg_option_spec *s = option ? mg_option_find(option, strlen(option)) : NULL;
    if (!s) {
        snprintf(err, n, "internal: %s stands for no detector option", flag);
        return -1;
    }
    long dummy;
    if (strpbrk(value, SEPS) || !mg_option_value(s, value, strlen(value), num ? num : &dummy)) {
        char what[128];
        expected(s, what, sizeof what);
        snprintf(err, n, "%s '%s': expected %s", flag, value, what);
        return -1;
    }
    return 0;
}

typedef struct kv { char *k, *v; } kv;
typedef struct kvlist { kv *a; size_t n, cap; } kvlist;

static void kv_set(kvlist *l, const char *k, size_t kl, const char *v, size_t vl)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strlen(l->a[i].k) == kl && strncmp(l->a[i].k, k, kl) == 0) {
            free(l->a[i].v);
            l->a[i].v = strndup(v, vl);
            return;
        }
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        kv *p = realloc(l->a, l->cap * sizeof *p);
        if (!p)
            abort();
        l->a = p;
    }
    l->a[l->n].k = strndup(k, kl);
    l->a[l->n].v = strndup(v, vl);
    l->n++;
}

static void kv_free(kvlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->a[i].k);
        free(l->a[i].v);
    }
    free(l->a);
}

/* Splits "k=v:k=v" into the list; -1 with err for a token without '='.
 * *supp_from: origin, when this string set suppressions. */
static int parse_into(kvlist *l, const char *s, const char *origin, bool user, const char **supp_from,
                      char *err, size_t n)
{
    while (s && *s) {
        s += strspn(s, SEPS);
        size_t len = strcspn(s, SEPS);
        if (len == 0)
            break;
        const char *eq = memchr(s, '=', len);
        if (!eq || eq == s) {
            snprintf(err, n, "%s: \"%.*s\" is not key=value", origin, (int)len, s);
            return -1;
        }
        size_t kl = (size_t)(eq - s);
        const struct mg_option_spec *spec = mg_option_find(s, kl);
        long num;
        if (!spec) {
            snprintf(err, n, "%s: unknown option \"%.*s\" (see docs/options.md)", origin, (int)kl, s);
            return -1;
        }
        if (!mg_option_value(spec, eq + 1, len - kl - 1, &num)) {
            char what[128];
            expected(spec, what, sizeof what);
            snprintf(err, n, "%s: bad value \"%.*s\": %.*s takes %s", origin, (int)len, s, (int)kl, s,
                     what);
            return -1;
        }
        if (user && ((kl == 8 && strncmp(s, "log_path", 8) == 0) ||
                     (kl == 6 && strncmp(s, "format", 6) == 0))) {
            fprintf(stderr,
                    "mapguard: warning: %s: %.*s is managed by mapguard run (reports are "
                    "collected as JSON); ignored\n",
                    origin, (int)kl, s);
        } else if (user && kl == 8 && strncmp(s, "exitcode", 8) == 0) {
            /* mapguard's status is --exitcode's, and the detector's must
             * match it (see below): a silent override would look obeyed. */
            fprintf(stderr,
                    "mapguard: warning: %s: exitcode is managed by mapguard run (use "
                    "--exitcode N); ignored\n",
                    origin);
        } else {
            kv_set(l, s, kl, eq + 1, len - kl - 1);
            if (kl == 12 && strncmp(s, "suppressions", 12) == 0)
                *supp_from = origin;
        }
        s += len;
    }
    return 0;
}

static bool has_sep(const char *s)
{
    return strpbrk(s, SEPS) != NULL;
}

char *mg_build_shim_options(const mgc_options *o, const char *inherited, bool from_outer_run,
                            const char *log_path, char *err, size_t n)
{
    kvlist l = {0};
    char *out = NULL;
    const char *supp_from = NULL;
    /* an outer run's variable holds its own log_path, format and exitcode,
     * which ours replace below: no word about those */
    if (parse_into(&l, inherited, "MAPGUARD_OPTIONS", !from_outer_run, &supp_from, err, n) != 0 ||
        parse_into(&l, o->shim_options, "--options", true, &supp_from, err, n) != 0)
        goto done;
    if (o->halt_on_error)
        kv_set(&l, "halt_on_error", 13, "1", 1);
    if (o->detect_leaks)
        kv_set(&l, "detect_leaks", 12, "1", 1);
    /* A suppressions file that is not there would leave the program to run
     * with one error line of the shim's and every finding unsuppressed:
     * refused up front, from --options as from --suppressions. */
    char supp_what[64];
    const char *supp = o->suppressions;
    snprintf(supp_what, sizeof supp_what, "--suppressions");
    if (!supp && supp_from) {
        for (size_t i = 0; i < l.n; i++)
            if (strcmp(l.a[i].k, "suppressions") == 0 && l.a[i].v[0])
                supp = l.a[i].v;
        snprintf(supp_what, sizeof supp_what, "%s: suppressions=", supp_from);
    }
    if (supp) {
        char abs[PATH_MAX];
        if (!realpath(supp, abs)) {
            snprintf(err, n, "%s%s%s: cannot read it", supp_what, o->suppressions ? " " : "", supp);
            goto done;
        }
        if (has_sep(abs)) {
            snprintf(err, n,
                     "%s%s%s: the path contains ':', ',' or whitespace, which "
                     "MAPGUARD_OPTIONS cannot carry; move or link the file",
                     supp_what, o->suppressions ? " " : "", abs);
            goto done;
        }
        if (mg_check_flag_value("--suppressions", abs, NULL, err, n) != 0)
            goto done; /* longer than the detector keeps */
        /* a file every process of the run would name on stderr, and apply
         * none of: why, now, once */
        struct mg_supp_rule *rules;
        size_t nrules;
        char why[PATH_MAX + 200];
        if (!mg_supp_file_load(abs, &rules, &nrules, why, sizeof why)) {
            snprintf(err, n, "%s: %s", o->suppressions ? "--suppressions" : supp_from, why);
            goto done;
        }
        mg_supp_rules_free(rules, nrules);
        /* absolute: the program's processes may change directory */
        kv_set(&l, "suppressions", 12, abs, strlen(abs));
    }
    if (has_sep(log_path)) {
        snprintf(err, n, "internal: temporary path %s contains a separator", log_path);
        goto done;
    }
    /* --exitcode is the detector's exitcode too: with 0 the program's
     * processes keep their own status, which mapguard then returns. */
    char code[16];
    snprintf(code, sizeof code, "%d", o->exitcode);
    kv_set(&l, "exitcode", 8, code, strlen(code));
    kv_set(&l, "log_path", 8, log_path, strlen(log_path));
    kv_set(&l, "format", 6, "json", 4);

    size_t total = 1;
    for (size_t i = 0; i < l.n; i++)
        total += strlen(l.a[i].k) + strlen(l.a[i].v) + 2;
    out = malloc(total);
    if (!out)
        goto done;
    size_t pos = 0;
    for (size_t i = 0; i < l.n; i++)
        pos += (size_t)snprintf(out + pos, total - pos, "%s%s=%s", i ? ":" : "", l.a[i].k,
                                l.a[i].v);
    out[pos] = '\0';
done:
    kv_free(&l);
    return out;
}

char *mg_build_ld_preload(const char *inherited, const char *shim)
{
    size_t n = (inherited ? strlen(inherited) : 0) + strlen(shim) + 2;
    char *out = malloc(n);
    if (!out)
        return NULL;
    /* Already there (mapguard run inside mapguard run, say): leave it once. */
    if (inherited && *inherited) {
        const char *p = inherited;
        size_t sl = strlen(shim);
        while ((p = strstr(p, shim)) != NULL) {
            bool start = p == inherited || p[-1] == ':' || p[-1] == ' ';
            bool end = p[sl] == '\0' || p[sl] == ':' || p[sl] == ' ';
            if (start && end) {
                snprintf(out, n, "%s", inherited);
                return out;
            }
            p += sl;
        }
        snprintf(out, n, "%s:%s", inherited, shim);
    } else {
        snprintf(out, n, "%s", shim);
    }
    return out;
}
