/*
 * A suppressions file into rules: "kind:pattern" lines, as in
 * ThreadSanitizer (suppress_file.h).
 *
 * The file is read whole with read(2) rather than line by line into a
 * fixed buffer, so a line of any length stays one line: with fgets into
 * 1024 bytes, the tail of a long commented-out rule became a rule of its
 * own. Only a regular file is read (a FIFO, /dev/zero or a directory named
 * by mistake would block, never end, or say nothing), up to MAX_FILE.
 *
 * A file that cannot be used -- missing, not a regular file, too large,
 * not text (a NUL byte, or not UTF-8), a line that is not kind:pattern or
 * names no known kind -- gives no rule at all: half a file is not applied,
 * since which half the user meant is anyone's guess.
 *
 * Patterns are kept with their anchors turned into stars ("foo" becomes
 * "*foo*", "^foo" "foo*", "foo$" "*foo") for suppress.c's glob.
 *
 * No mg_log here: the command links this file too, and says err its own way.
 */
#include "suppress_file.h"
#include "logfile.h"
#include "utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE (4u << 20)

static bool fail(char *err, size_t errn, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t errn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errn, fmt, ap);
    va_end(ap);
    return false;
}

/* The whole file, NUL-terminated, in *text (its length in *len). */
static bool read_file(const char *path, char **text, size_t *len, char *err, size_t errn)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, errn, "cannot read suppressions file '%s': %s", path, strerror(errno));
    struct stat st;
    char *buf = NULL;
    size_t n = 0;
    bool ok = false;
    if (fstat(fd, &st) != 0) {
        fail(err, errn, "cannot read suppressions file '%s': %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        fail(err, errn, "suppressions file '%s' is %s, not a regular file", path, mg_file_type_name(st.st_mode));
        goto done;
    }
    /* st_size is only a hint: files in /proc say 0 */
    size_t cap = 4096;
    for (;;) {
        if (n == cap || !buf) {
            cap = buf ? cap * 2 : cap;
            char *b = realloc(buf, cap + 1);
            if (!b) {
                fail(err, errn, "suppressions file '%s': out of memory", path);
                goto done;
            }
            buf = b;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            fail(err, errn, "cannot read suppressions file '%s': %s", path, strerror(errno));
            goto done;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > MAX_FILE) {
            fail(err, errn, "suppressions file '%s' is larger than %u MiB", path, MAX_FILE >> 20);
            goto done;
        }
    }
    buf[n] = 0;
    *text = buf;
    *len = n;
    buf = NULL;
    ok = true;
done:
    close(fd);
    free(buf);
    return ok;
}

static int kind_of(const char *name)
{
    if (!strcmp(name, "*"))
        return MG_SUPP_ANY;
    if (!strcmp(name, "race"))
        return MG_SUPP_RACE;
    return mg_kind_by_name(name);
}

/* "*pattern*" without the anchors it had; NULL when out of memory. */
static char *starred(const char *p)
{
    size_t n = strlen(p);
    bool head = p[0] == '^', tail = n > (size_t)head && p[n - 1] == '$';
    const char *core = p + head;
    size_t cn = n - head - tail;
    char *s = malloc(cn + 3), *q = s;
    if (!s)
        return NULL;
    if (!head)
        *q++ = '*';
    memcpy(q, core, cn);
    q += cn;
    if (!tail)
        *q++ = '*';
    *q = 0;
    return s;
}

/* Every line into rules; false, with the line in err, at the first one
 * that is not a rule. */
static bool parse(const char *path, char *text, struct mg_supp_rule **rules, size_t *nrules, char *err,
                  size_t errn)
{
    size_t cap = 0;
    unsigned lineno = 0;
    for (char *line = text, *next; line; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t n = strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
            s[--n] = 0;
        if (!*s || *s == '#')
            continue;
        char *colon = strchr(s, ':');
        if (!colon || colon == s || !colon[1])
            return fail(err, errn, "suppressions file '%s' line %u: want kind:pattern, got '%.80s'", path, lineno, s);
        *colon = 0;
        int kind = kind_of(s);
        if (kind < 0)
            return fail(err, errn,
                        "suppressions file '%s' line %u: unknown kind '%.80s' (want a finding's kind, race or *)", path,
                        lineno, s);
        if (*nrules == cap) {
            cap = cap ? cap * 2 : 16;
            struct mg_supp_rule *r = realloc(*rules, cap * sizeof *r);
            if (!r)
                return fail(err, errn, "suppressions file '%s': out of memory", path);
            *rules = r;
        }
        (*rules)[*nrules].kind = kind;
        if (!((*rules)[*nrules].pattern = starred(colon + 1)))
            return fail(err, errn, "suppressions file '%s': out of memory", path);
        (*nrules)++;
    }
    return true;
}

bool mg_supp_file_load(const char *path, struct mg_supp_rule **rules, size_t *n, char *err, size_t errn)
{
    *rules = NULL;
    *n = 0;
    char *text = NULL;
    size_t len = 0;
    if (!read_file(path, &text, &len, err, errn))
        return false;
    bool ok;
    if (memchr(text, 0, len))
        ok = fail(err, errn, "suppressions file '%s' is not text (it holds a NUL byte)", path);
    else if (!mg_utf8_valid(text))
        ok = fail(err, errn, "suppressions file '%s' is not text (it is not UTF-8)", path);
    else
        ok = parse(path, text, rules, n, err, errn);
    free(text);
    if (!ok) {
        mg_supp_rules_free(*rules, *n);
        *rules = NULL;
        *n = 0;
    }
    return ok;
}

void mg_supp_rules_free(struct mg_supp_rule *rules, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(rules[i].pattern);
    free(rules);
}
