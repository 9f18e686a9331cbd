/*
 * MAPGUARD_OPTIONS, in the sanitizers' "key=value:key=value" form; spaces,
 * commas, tabs, carriage returns and newlines separate too
 * (MG_OPTION_SEPARATORS). The options themselves are declared in
 * options.inc; docs/options.md lists them.
 *
 * A tool preloaded into someone else's program must not be the reason it
 * fails: an unknown key or a bad value gets one line on stderr naming it,
 * that option keeps its default, and the rest still apply. help=1, for
 * the same reason, prints the options and lets the program run, as the
 * sanitizers' help=1 does.
 */
#include "options.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct mg_options mg_opt = {
#define MG_OPTION_BOOL(n, d, h) .n = d,
#define MG_OPTION_INT(n, d, lo, hi, h) .n = d,
#define MG_OPTION_STR(n, d, max, h) .n = d,
#define MG_OPTION_CHOICE(n, d, c, h) .n = d,
#include "options.inc"
#undef MG_OPTION_BOOL
#undef MG_OPTION_INT
#undef MG_OPTION_STR
#undef MG_OPTION_CHOICE
};

/* Where each option of mg_option_specs lives in mg_opt, in the same order. */
static const size_t field_offset[] = {
#define MG_OPTION_BOOL(n, d, h) offsetof(struct mg_options, n),
#define MG_OPTION_INT(n, d, lo, hi, h) offsetof(struct mg_options, n),
#define MG_OPTION_STR(n, d, max, h) offsetof(struct mg_options, n),
#define MG_OPTION_CHOICE(n, d, c, h) offsetof(struct mg_options, n),
#include "options.inc"
#undef MG_OPTION_BOOL
#undef MG_OPTION_INT
#undef MG_OPTION_STR
#undef MG_OPTION_CHOICE
};
_Static_assert(sizeof field_offset / sizeof field_offset[0] == MG_OPTION_COUNT, "one offset per option");

/* A string option's maxlen must leave room for its terminator. */
#define MG_OPTION_BOOL(n, d, h)
#define MG_OPTION_INT(n, d, lo, hi, h)
#define MG_OPTION_STR(n, d, max, h) _Static_assert((max) < MG_OPTION_STR_CAP, #n " fits");
#define MG_OPTION_CHOICE(n, d, c, h)
#include "options.inc"
#undef MG_OPTION_BOOL
#undef MG_OPTION_INT
#undef MG_OPTION_STR
#undef MG_OPTION_CHOICE

static void *field(size_t i) { return (char *)&mg_opt + field_offset[i]; }

static void complain(const char *what, const char *key, size_t klen, const char *val, size_t vlen)
{
    char line[512];
    int n = snprintf(line, sizeof line, "mapguard: %s '%.*s%s%.*s' in MAPGUARD_OPTIONS; using the default\n",
                     what, (int)(klen > 100 ? 100 : klen), key, val ? "=" : "",
                     (int)(vlen > 200 ? 200 : vlen), val ? val : "");
    if (n > 0)
        (void)!write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void apply(const char *k, size_t kn, const char *v, size_t vn)
{
    const struct mg_option_spec *s = mg_option_find(k, kn);
    if (!s) {
        complain("unknown option", k, kn, NULL, 0);
        return;
    }
    long num;
    if (!mg_option_value(s, v, vn, &num)) {
        complain("bad value for option", k, kn, v, vn);
        return;
    }
    void *f = field((size_t)(s - mg_option_specs));
    if (s->type == MG_OPTION_TYPE_STR) {
        memcpy(f, v, vn);
        ((char *)f)[vn] = 0;
    } else {
        *(int *)f = (int)num;
    }
}

/* Option i's value as MAPGUARD_OPTIONS would write it; an empty string as
 * "none", so that every value is one word. dflt: the default rather than
 * the value in effect. */
static void value_text(size_t i, bool dflt, char *buf, size_t cap)
{
    const struct mg_option_spec *s = &mg_option_specs[i];
    const char *w;
    size_t wn;
    switch (s->type) {
    case MG_OPTION_TYPE_BOOL:
    case MG_OPTION_TYPE_INT:
        snprintf(buf, cap, "%ld", dflt ? s->dflt : (long)*(int *)field(i));
        break;
    case MG_OPTION_TYPE_STR: {
        const char *v = dflt ? s->dflt_str : (const char *)field(i);
        snprintf(buf, cap, "%s", v[0] ? v : "none");
        break;
    }
    case MG_OPTION_TYPE_CHOICE:
        if (mg_option_choice(s->choices, dflt ? s->dflt : *(int *)field(i), &w, &wn))
            snprintf(buf, cap, "%.*s", (int)wn, w);
        else
            snprintf(buf, cap, "?");
        break;
    }
}

/* help=1: one line per option, "name default help", on stderr. */
static void print_help(void)
{
    char line[512];
    int n = snprintf(line, sizeof line, "mapguard: MAPGUARD_OPTIONS=name=value:..., "
                     "separated by any of ':', ',' or whitespace; name, default, meaning:\n");
    (void)!write(2, line, (size_t)n);
    for (size_t i = 0; i < MG_OPTION_COUNT; i++) {
        char d[64];
        value_text(i, true, d, sizeof d);
        n = snprintf(line, sizeof line, "  %-17s %-7s %s\n", mg_option_specs[i].name, d,
                     mg_option_specs[i].help);
        if (n > 0)
            (void)!write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    }
}

/* verbosity>=1: every option's value in effect, on one line. */
static void log_in_effect(void)
{
    if (mg_opt.verbosity < 1)
        return;
    char line[900];
    size_t n = 0;
    for (size_t i = 0; i < MG_OPTION_COUNT && n < sizeof line; i++) {
        char v[200];
        value_text(i, false, v, sizeof v);
        int m = snprintf(line + n, sizeof line - n, "%s%s=%s", i ? ":" : "", mg_option_specs[i].name, v);
        if (m > 0)
            n += (size_t)m;
    }
    mg_log(1, "options in effect: %s", line);
}

bool mg_log_to_file(void)
{
    const char *p = mg_opt.log_path;
    return p[0] && strcmp(p, "stderr") != 0 && strcmp(p, "stdout") != 0;
}

/* A relative log_path is taken from the directory the process started in:
 * a later chdir must not split one process's records (its hello and an
 * exec record, say) over two files. */
static void anchor_log_path(void)
{
    if (!mg_log_to_file() || mg_opt.log_path[0] == '/')
        return;
    char cwd[sizeof mg_opt.log_path];
    if (!getcwd(cwd, sizeof cwd))
        return;
    size_t c = strlen(cwd), p = strlen(mg_opt.log_path);
    if (c + 1 + p >= sizeof mg_opt.log_path - 32)
        return;
    memmove(mg_opt.log_path + c + 1, mg_opt.log_path, p + 1);
    memcpy(mg_opt.log_path, cwd, c);
    mg_opt.log_path[c] = '/';
}

static const char *env_value(const char *name);

/* Under `mapguard run` the command's log is also in MAPGUARD_RUN_LOG, which
 * wins over MAPGUARD_OPTIONS' log_path and format: a program that rewrites
 * MAPGUARD_OPTIONS for its children (a test runner with options of its
 * own) must not take their findings out of the command's sight. */
static void run_log(void)
{
    const char *r = env_value("MAPGUARD_RUN_LOG");
    if (!r || !r[0])
        return;
    size_t n = strlen(r);
    if (r[0] != '/' || n >= sizeof mg_opt.log_path - 32) {
        mg_log(0, "MAPGUARD_RUN_LOG must be an absolute path of at most %zu bytes; ignored",
               sizeof mg_opt.log_path - 33);
        return;
    }
    /* a word only to a program whose own MAPGUARD_OPTIONS chose otherwise */
    bool own_log = mg_opt.log_path[0] && strcmp(mg_opt.log_path, "stderr") != 0 && strcmp(mg_opt.log_path, r) != 0;
    if (own_log || mg_opt.format != MG_FORMAT_JSON)
        mg_log(0, "log_path and format are mapguard run's (MAPGUARD_RUN_LOG); those of MAPGUARD_OPTIONS are "
                  "ignored");
    memcpy(mg_opt.log_path, r, n + 1);
    mg_opt.format = MG_FORMAT_JSON;
}

void mg_options_parse(const char *s)
{
    while (s && *s) {
        while (*s && mg_option_is_sep(*s))
            s++;
        if (!*s)
            break;
        const char *k = s;
        while (*s && !mg_option_is_sep(*s) && *s != '=')
            s++;
        size_t kn = (size_t)(s - k);
        if (*s != '=') {
            complain("option without a value", k, kn, NULL, 0);
            continue;
        }
        const char *v = ++s;
        while (*s && !mg_option_is_sep(*s))
            s++;
        size_t vn = (size_t)(s - v);
        apply(k, kn, v, vn);
    }
    run_log();
    anchor_log_path();
    if (mg_opt.help)
        print_help();
    log_in_effect();
}

/* Before libc's own initializer has run (a call from an executable's
 * .preinit_array) environ is not set up yet and getenv finds nothing; the
 * kernel's copy in /proc/self/environ is there from the start. */
static const char *from_proc(const char *name)
{
    static MG_LARGE_BSS char buf[1 << 17];
    int fd = open("/proc/self/environ", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    buf[n] = 0;
    size_t len = strlen(name);
    for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
        if (!strncmp(buf + i, name, len) && buf[i + len] == '=')
            return buf + i + len + 1;
    return NULL;
}

static const char *env_value(const char *name)
{
    extern char **environ;
    const char *s = getenv(name);
    return s || environ ? s : from_proc(name);
}

/* from_proc's buffer is shared: the options are parsed before run_log
 * looks up its variable. */
const char *mg_options_env(void) { return env_value("MAPGUARD_OPTIONS"); }
