/*
 * Opening the log file without trusting what is already at its path.
 *
 * log_path is often a shared directory (/tmp/mg), and anyone who can create
 * files there can plant something at log_path.<pid> for a pid to come:
 *
 *  - a FIFO: open(O_WRONLY) would block until someone reads it, and the
 *    shim opens its log in the constructor, so every watched process would
 *    hang before main. O_NONBLOCK makes that open return at once (ENXIO
 *    without a reader; with one, fstat says FIFO and it is closed);
 *  - a symlink to a file of ours: O_NOFOLLOW;
 *  - a device, socket or directory: only a regular file is used;
 *  - a regular file of their own, to read our reports or feed us lies:
 *    refused unless we own it, and unless it has a single link (a hard
 *    link to one of our files would make us append to that file).
 *
 * Why not O_EXCL: the same pid legitimately opens the same file more than
 * once. exec keeps the pid, so the new image appends its hello to the file
 * the old image wrote its exec record to; exec.c opens the file for each of
 * its records. The owner check gives what O_EXCL would, against another
 * user, without refusing our own earlier image.
 */
#include "logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int mg_log_open(const char *path, struct stat *st)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0600);
    if (fd < 0) {
        /* ENXIO (a FIFO nobody reads), ELOOP (a symlink), EISDIR: say what
         * is there rather than what open made of it */
        int e = errno;
        if (lstat(path, st) == 0 && !S_ISREG(st->st_mode))
            return MG_LOGF_NOT_REGULAR;
        errno = e;
        return MG_LOGF_ERRNO;
    }
    int r = fd;
    if (fstat(fd, st) != 0)
        r = MG_LOGF_ERRNO;
    else if (!S_ISREG(st->st_mode))
        r = MG_LOGF_NOT_REGULAR;
    else if (st->st_uid != geteuid())
        r = MG_LOGF_NOT_OWNER;
    else if (st->st_nlink != 1)
        r = MG_LOGF_LINKED;
    else {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
            r = MG_LOGF_ERRNO;
    }
    if (r < 0) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return r;
}

const char *mg_file_type_name(mode_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFIFO:
        return "a FIFO";
    case S_IFDIR:
        return "a directory";
    case S_IFSOCK:
        return "a socket";
    case S_IFCHR:
        return "a character device";
    case S_IFBLK:
        return "a block device";
    case S_IFLNK:
        return "a symbolic link";
    default:
        return "not a regular file";
    }
}
