/*
 * MAPGUARD_OPTIONS, in the sanitizers' "key=value:key=value" form; spaces,
 * commas, tabs and newlines separate too. docs/options.md lists them.
 *
 * A tool preloaded into someone else's program must not be the reason it
 * fails: an unknown key or a bad value gets one line on stderr naming it,
 * that option keeps its default, and the rest still apply.
 */
#include "mapguard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct mg_options mg_opt = {
    .halt_on_error = 0,
    .exitcode = 66,
    .log_path = "",
    .format = MG_FORMAT_JSON,
    .dedup = 1,
    .stack_depth = 32,
    .detect_leaks = 0,
    .suppressions = "",
    .quarantine_size = 256,
    .verbosity = 0,
    .conflict_wait_ms = 1000,
    .handle_segv = 1,
};

static void complain(const char *what, const char *key, size_t klen, const char *val, size_t vlen)
{
    char line[512];
    int n = snprintf(line, sizeof line, "mapguard: %s '%.*s%s%.*s' in MAPGUARD_OPTIONS; using the default\n",
                     what, (int)(klen > 100 ? 100 : klen), key, val ? "=" : "",
                     (int)(vlen > 200 ? 200 : vlen), val ? val : "");
    if (n > 0)
        (void)!write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static bool parse_int(const char *v, size_t n, long lo, long hi, int *out)
{
    char buf[32];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, v, n);
    buf[n] = 0;
    char *end;
    errno = 0;
    long x = strtol(buf, &end, 10);
    if (errno || *end || x < lo || x > hi)
        return false;
    *out = (int)x;
    return true;
}

static bool parse_bool(const char *v, size_t n, int *out)
{
    if ((n == 1 && v[0] == '1') || (n == 4 && !strncmp(v, "true", 4))) {
        *out = 1;
        return true;
    }
    if ((n == 1 && v[0] == '0') || (n == 5 && !strncmp(v, "false", 5))) {
        *out = 0;
        return true;
    }
    return false;
}

static bool parse_str(const char *v, size_t n, char *out, size_t cap)
{
    if (n >= cap)
        return false;
    memcpy(out, v, n);
    out[n] = 0;
    return true;
}

static bool apply(const char *k, size_t kn, const char *v, size_t vn)
{
#define IS(name) (kn == sizeof(name) - 1 && !strncmp(k, name, kn))
    if (IS("halt_on_error"))
        return parse_bool(v, vn, &mg_opt.halt_on_error);
    if (IS("exitcode"))
        return parse_int(v, vn, 0, 255, &mg_opt.exitcode);
    if (IS("log_path"))
        return parse_str(v, vn, mg_opt.log_path, sizeof mg_opt.log_path - 32);
    if (IS("format")) {
        if (vn == 4 && !strncmp(v, "json", 4))
            mg_opt.format = MG_FORMAT_JSON;
        else if (vn == 4 && !strncmp(v, "text", 4))
            mg_opt.format = MG_FORMAT_TEXT;
        else
            return false;
        return true;
    }
    if (IS("dedup"))
        return parse_bool(v, vn, &mg_opt.dedup);
    if (IS("stack_depth"))
        return parse_int(v, vn, 1, 256, &mg_opt.stack_depth);
    if (IS("detect_leaks"))
        return parse_bool(v, vn, &mg_opt.detect_leaks);
    if (IS("suppressions"))
        return parse_str(v, vn, mg_opt.suppressions, sizeof mg_opt.suppressions);
    if (IS("quarantine_size"))
        return parse_int(v, vn, 0, 1 << 20, &mg_opt.quarantine_size);
    if (IS("verbosity"))
        return parse_int(v, vn, 0, 3, &mg_opt.verbosity);
    if (IS("conflict_wait_ms"))
        return parse_int(v, vn, 0, 60000, &mg_opt.conflict_wait_ms);
    if (IS("handle_segv"))
        return parse_bool(v, vn, &mg_opt.handle_segv);
#undef IS
    complain("unknown option", k, kn, NULL, 0);
    return true; /* already reported */
}

bool mg_log_to_file(void)
{
    const char *p = mg_opt.log_path;
    return p[0] && strcmp(p, "stderr") != 0 && strcmp(p, "stdout") != 0;
}

static bool is_sep(char c) { return c == ':' || c == ' ' || c == ',' || c == '\t' || c == '\n'; }

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

void mg_options_parse(const char *s)
{
    if (!s)
        return;
    while (*s) {
        while (*s && is_sep(*s))
            s++;
        if (!*s)
            break;
        const char *k = s;
        while (*s && !is_sep(*s) && *s != '=')
            s++;
        size_t kn = (size_t)(s - k);
        if (*s != '=') {
            complain("option without a value", k, kn, NULL, 0);
            continue;
        }
        const char *v = ++s;
        while (*s && !is_sep(*s))
            s++;
        size_t vn = (size_t)(s - v);
        if (!apply(k, kn, v, vn))
            complain("bad value for option", k, kn, v, vn);
    }
    anchor_log_path();
}

/* Before libc's own initializer has run (a call from an executable's
 * .preinit_array) environ is not set up yet and getenv finds nothing; the
 * kernel's copy in /proc/self/environ is there from the start. */
static const char *from_proc(const char *name)
{
    static char buf[1 << 17];
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

const char *mg_options_env(void)
{
    extern char **environ;
    const char *s = getenv("MAPGUARD_OPTIONS");
    return s || environ ? s : from_proc("MAPGUARD_OPTIONS");
}
