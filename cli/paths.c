/*
 * Paths for SARIF. Code scanning maps an alert to a file in the repository by
 * a path relative to the checkout, so frames must be made relative to the
 * source root (the git top by default), and only frames inside it count as
 * "the user's code" for an alert's primary location.
 */
#include "cli.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *mg_normalize_path(const char *path, const char *base)
{
    size_t n = strlen(path) + (base ? strlen(base) : 0) + 2;
    char *joined = malloc(n);
    char *out = malloc(n + 1);
    if (!joined || !out) {
        free(joined);
        free(out);
        return NULL;
    }
    if (path[0] == '/' || !base)
        snprintf(joined, n, "%s", path);
    else
        snprintf(joined, n, "%s/%s", base, path);

    /* Lexical: drop "." and empty components, let ".." eat one. Symlinks are
     * left alone on purpose; mg_relative_to also compares resolved paths. */
    size_t len = 0;
    out[len++] = '/';
    char *save = NULL;
    for (char *tok = strtok_r(joined, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
        if (strcmp(tok, ".") == 0)
            continue;
        if (strcmp(tok, "..") == 0) {
            if (len > 1) {
                len--; /* the trailing slash */
                while (len > 1 && out[len - 1] != '/')
                    len--;
            }
            continue;
        }
        size_t tl = strlen(tok);
        memcpy(out + len, tok, tl);
        len += tl;
        out[len++] = '/';
    }
    if (len > 1)
        len--; /* no trailing slash */
    out[len] = '\0';
    free(joined);
    return out;
}

static char *cwd_dup(void)
{
    char buf[PATH_MAX];
    return getcwd(buf, sizeof buf) ? strdup(buf) : strdup("/");
}

char *mg_default_source_root(void)
{
    char *dir = cwd_dup();
    if (!dir)
        return NULL;
    /* The same answer as `git rev-parse --show-toplevel` for ordinary
     * checkouts and worktrees (.git is a directory or a file), without
     * needing git installed on the machine that runs the tests. */
    char *p = strdup(dir);
    while (p) {
        char probe[PATH_MAX];
        struct stat st;
        snprintf(probe, sizeof probe, "%s/.git", strcmp(p, "/") == 0 ? "" : p);
        if (stat(probe, &st) == 0) {
            free(dir);
            return p;
        }
        if (strcmp(p, "/") == 0)
            break;
        char *slash = strrchr(p, '/');
        if (slash == p)
            p[1] = '\0';
        else
            *slash = '\0';
    }
    free(p);
    return dir;
}

static char *inside(const char *root, const char *file)
{
    size_t rl = strlen(root);
    if (strcmp(root, "/") == 0)
        return file[1] ? strdup(file + 1) : NULL;
    if (strncmp(file, root, rl) == 0 && file[rl] == '/' && file[rl + 1])
        return strdup(file + rl + 1);
    return NULL;
}

char *mg_relative_to(const char *root, const char *file)
{
    if (!root || !file || !*file)
        return NULL;
    char *nroot = mg_normalize_path(root, NULL);
    /* A relative file name from the debug info is taken as relative to the
     * root, as when the program was compiled from the repository top. */
    char *nfile = mg_normalize_path(file, nroot);
    char *rel = NULL;
    if (nroot && nfile) {
        if (file[0] != '/') {
            struct stat st;
            if (stat(nfile, &st) == 0)
                rel = inside(nroot, nfile);
        } else {
            rel = inside(nroot, nfile);
        }
    }
    if (!rel && file[0] == '/') {
        /* The root or the file may sit behind a symlink (/tmp -> /private/tmp,
         * a bind-mounted checkout): compare the resolved paths too. */
        char rr[PATH_MAX], rf[PATH_MAX];
        if (realpath(root, rr) && realpath(file, rf))
            rel = inside(rr, rf);
    }
    free(nroot);
    free(nfile);
    return rel;
}

char *mg_uri_path(const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(path);
    char *out = malloc(3 * n + 1);
    if (!out)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
        if (keep) {
            out[j++] = (char)c;
        } else {
            out[j++] = '%';
            out[j++] = hex[c >> 4];
            out[j++] = hex[c & 15];
        }
    }
    out[j] = '\0';
    return out;
}
