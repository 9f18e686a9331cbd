/*
 * Opening log_path.<pid> (logfile.c), for output.c and exec.c alike.
 */
#ifndef MAPGUARD_LOGFILE_H
#define MAPGUARD_LOGFILE_H

#include <sys/stat.h>

/* What mg_log_open refused, when it returns a negative number. */
enum {
    MG_LOGF_ERRNO = -1,       /* open failed: errno says why */
    MG_LOGF_NOT_REGULAR = -2, /* a FIFO, device, socket, directory or symlink: st->st_mode */
    MG_LOGF_NOT_OWNER = -3,   /* a file another user owns: st->st_uid */
    MG_LOGF_LINKED = -4,      /* a file with other hard links to it */
};

/* Opens path for appending reports: a descriptor (O_APPEND, close-on-exec,
 * blocking) on a regular file this user owns, created 0600 if need be, or
 * one of the codes above, with what was found in *st. Never blocks: the
 * path is opened O_NONBLOCK, so a FIFO there cannot hang the caller.
 * Async-signal-safe (exec.c calls it in a vfork child). */
int mg_log_open(const char *path, struct stat *st);
/* "a FIFO", "a directory", ... for a refused st_mode. */
const char *mg_file_type_name(mode_t mode);

#endif
