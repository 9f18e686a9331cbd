/*
 * Suppression rules: "kind:pattern" lines, as in ThreadSanitizer.
 *
 * The file is read whole with read(2) rather than line by line into a
 * fixed buffer, so a line of any length stays one line: with fgets into
 * 1024 bytes, the tail of a long commented-out rule became a rule of its
 * own. Only a regular file is read (a FIFO, /dev/zero or a directory named
 * by mistake would block, never end, or say nothing), up to MAX_FILE.
 *
 * A file that cannot be used -- missing, not a regular file, too large,
 * not text (a NUL byte, or not UTF-8), a line that is not kind:pattern or
 * names no known kind -- is named in one line on stderr at start, and no
 * rule of it applies. Not fatal: the shim never stops a program for its
 * options, and a file that hides nothing can only make a run report more,
 * never let a finding through. Half a file is not applied either: which
 * half the user meant is anyone's guess.
 *
 * Patterns are kept with their anchors turned into stars ("foo" becomes
 * "*foo*", "^foo" "foo*", "foo$" "*foo"), and matched by a glob with one
 * backtrack point, in time proportional to pattern times text at worst:
 * a pattern from a file must not make a report take exponential time.
 */
#include "suppress.h"
#include "jsonline.h"
#include "logfile.h"
#include "log.h"
#include "options.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE (4u << 20)

enum { KIND_RACE = MK_COUNT, KIND_ANY };

struct rule {
    int kind;      /* enum mg_kind, KIND_RACE or KIND_ANY */
    char *pattern; /* anchors turned into stars */
};

static struct rule *rules;
static size_t nrules;

static char *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        mg_log(0, "error: cannot read suppressions file '%s': %s; no suppressions apply", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    char *buf = NULL;
    size_t n = 0;
    if (fstat(fd, &st) != 0) {
        mg_log(0, "error: cannot read suppressions file '%s': %s; no suppressions apply", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        mg_log(0, "error: suppressions file '%s' is %s, not a regular file; no suppressions apply", path,
               mg_file_type_name(st.st_mode));
        goto fail;
    }
    /* st_size is only a hint: files in /proc say 0 */
    size_t cap = 4096;
    for (;;) {
        if (n == cap || !buf) {
            cap = buf ? cap * 2 : cap;
            char *b = realloc(buf, cap + 1);
            if (!b) {
                mg_log(0, "error: suppressions file '%s': out of memory; no suppressions apply", path);
                goto fail;
            }
            buf = b;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            mg_log(0, "error: cannot read suppressions file '%s': %s; no suppressions apply", path, strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > MAX_FILE) {
            mg_log(0, "error: suppressions file '%s' is larger than %u MiB; no suppressions apply", path,
                   MAX_FILE >> 20);
            goto fail;
        }
    }
    close(fd);
    buf[n] = 0;
    *len = n;
    return buf;
fail:
    close(fd);
    free(buf);
    return NULL;
}

static int kind_of(const char *name)
{
    if (!strcmp(name, "*"))
        return KIND_ANY;
    /* TSan's word for all three concurrency kinds */
    if (!strcmp(name, "race"))
        return KIND_RACE;
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

/* Parses every line into rules; false, with the line named on stderr, at
 * the first one that is not a rule. */
static bool parse(const char *path, char *text)
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
        if (!colon || colon == s || !colon[1]) {
            mg_log(0, "error: suppressions file '%s' line %u: want kind:pattern, got '%.80s'; no suppressions apply",
                   path, lineno, s);
            return false;
        }
        *colon = 0;
        int kind = kind_of(s);
        if (kind < 0) {
            mg_log(0,
                   "error: suppressions file '%s' line %u: unknown kind '%.80s' (want a finding's kind, race or *); "
                   "no suppressions apply",
                   path, lineno, s);
            return false;
        }
        if (nrules == cap) {
            cap = cap ? cap * 2 : 16;
            struct rule *r = realloc(rules, cap * sizeof *r);
            if (!r)
                goto oom;
            rules = r;
        }
        rules[nrules].kind = kind;
        if (!(rules[nrules].pattern = starred(colon + 1)))
            goto oom;
        nrules++;
    }
    return true;
oom:
    mg_log(0, "error: suppressions file '%s': out of memory; no suppressions apply", path);
    return false;
}

static void drop_rules(void)
{
    for (size_t i = 0; i < nrules; i++)
        free(rules[i].pattern);
    free(rules);
    rules = NULL;
    nrules = 0;
}

void mg_suppress_load(void)
{
    const char *path = mg_opt.suppressions;
    if (!path[0])
        return;
    size_t len;
    char *text = read_file(path, &len);
    if (!text)
        return;
    if (memchr(text, 0, len) || !mg_utf8_valid(text)) {
        mg_log(0, "error: suppressions file '%s' is not text (%s); no suppressions apply", path,
               memchr(text, 0, len) ? "it holds a NUL byte" : "it is not UTF-8");
    } else if (!parse(path, text)) {
        drop_rules();
    }
    free(text);
}

/* Does the whole of t match p, where '*' matches any run of characters?
 * On a mismatch only the latest star is backtracked to: an earlier star
 * could not do better, so this is O(|p| * |t|). */
static bool glob(const char *p, const char *t)
{
    const char *star = NULL, *resume = NULL;
    for (;;) {
        if (*p == '*') {
            star = ++p;
            resume = t;
        } else if (*t && *p == *t) {
            p++;
            t++;
        } else if (!*t && !*p) {
            return true;
        } else if (star && *resume) {
            p = star;
            t = ++resume;
        } else {
            return false;
        }
    }
}

static bool kind_matches(int rule, int kind)
{
    return rule == KIND_ANY || rule == kind ||
           (rule == KIND_RACE && mg_kind_is_concurrency(kind));
}

static bool frame_matches(const struct mg_frame *fr, int kind)
{
    for (size_t i = 0; i < nrules; i++) {
        if (!kind_matches(rules[i].kind, kind))
            continue;
        const char *p = rules[i].pattern;
        if ((fr->function && glob(p, fr->function)) || (fr->file && glob(p, fr->file)) ||
            (fr->module && glob(p, fr->module)))
            return true;
    }
    return false;
}

/* Every frame of a stack as the renderer shows it: a depot stack, or the
 * one call site pc, each address expanded into its inlined frames. */
static bool stack_matches(const struct mg_render_host *h, uint32_t stack, uintptr_t pc, int kind)
{
    const uintptr_t *pcs;
    int n;
    uintptr_t one[1] = {pc};
    if (!stack || !h->depot_get(stack, &pcs, &n)) {
        pcs = one;
        n = pc ? 1 : 0;
    }
    for (int i = 0; i < n; i++) {
        const struct mg_frame *fr;
        int k = h->symbolize(pcs[i], &fr);
        for (int j = 0; j < k; j++)
            if (frame_matches(&fr[j], kind))
                return true;
    }
    return false;
}

static bool party_matches(const struct mg_render_host *h, const struct mg_party *p, int kind)
{
    uint32_t tid, created;
    char name[64];
    h->thread(p->thread, &tid, &created, name, sizeof name);
    return stack_matches(h, p->stack, p->pc, kind) || (created && stack_matches(h, created, 0, kind));
}

bool mg_suppressed(const struct mg_finding *f, const struct mg_render_host *h)
{
    bool any = false;
    for (size_t i = 0; i < nrules && !any; i++)
        any = kind_matches(rules[i].kind, f->kind);
    if (!any)
        return false;
    /* the parties render.c shows for the kind */
    if (party_matches(h, &f->access, f->kind))
        return true;
    switch (f->kind) {
    case MK_READ_WRITE:
    case MK_WRITES:
    case MK_ITER_WRITE:
    case MK_USE_AFTER_FREE:
    case MK_DOUBLE_FREE:
        if (party_matches(h, &f->other, f->kind))
            return true;
        break;
    case MK_MOD_ITER:
        if (party_matches(h, &f->other, f->kind) || party_matches(h, &f->iter, f->kind))
            return true;
        break;
    default:
        break;
    }
    return f->made.present && party_matches(h, &f->made, f->kind);
}
