/*
 * Writing the outputs a command asked for, from reports already loaded:
 * the text report and summary line, --json and --sarif. Shared by `mapguard
 * run` (run.c) and `mapguard report` (main.c), so both write the same.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Can path be written? An existing file is opened without truncating it,
 * and a new one is created and removed again: until the report is really
 * written, nothing changes, so a run aborted half way (killed, a timeout of
 * the CI job) leaves no empty file that would read as "no findings". */
static int check_writable(const char *flag, const char *path)
{
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    if (errno == ENOENT) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY | O_CLOEXEC, 0666);
        if (fd >= 0) {
            close(fd);
            unlink(path);
            return 0;
        }
    }
    fprintf(stderr, "mapguard: %s %s: cannot write it: %s\n", flag, path, strerror(errno));
    return -1;
}

/* Do a and b name one file? By inode where both exist, else by name. */
static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    return strcmp(a, b) == 0;
}

int mg_check_outputs(const mgc_options *o)
{
    int rc = 0;
    /* one would overwrite the other */
    if (o->json_out && o->sarif_out && same_file(o->json_out, o->sarif_out)) {
        fprintf(stderr, "mapguard: --json and --sarif both name %s: give each its own file\n", o->sarif_out);
        return -1;
    }
    if (o->json_out && check_writable("--json", o->json_out) != 0)
        rc = -1;
    if (o->sarif_out && check_writable("--sarif", o->sarif_out) != 0)
        rc = -1;
    return rc;
}

int mg_emit(const mgc_options *o, const mgc_reports *r, FILE *text_out, const char *note)
{
    int rc = 0;
    if (text_out) {
        if (!o->quiet)
            mg_render_text(text_out, r);
        if (!o->quiet || r->nfindings > 0 || r->nlost > 0 || r->ncrashes > 0)
            mg_render_summary(text_out, r, note);
        fflush(text_out);
    }
    if (o->json_out && mg_write_jsonl(o->json_out, r, o->json_all) != 0)
        rc = -1;
    if (o->sarif_out && mg_write_sarif(o->sarif_out, r, o->source_root) != 0)
        rc = -1;
    return rc;
}
