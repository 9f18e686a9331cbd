/*
 * Descriptors the shim keeps open for itself (the log file, the modules
 * the symbolizer reads) are not the program's. At the lowest free number
 * they showed: the program's next open() returned 4 where it returns 3
 * alone, and a program started with stdout or stderr closed found the
 * log at number 1 or 2, so its own output went into the log, glued to a
 * finding's record, which `mapguard run` then dropped as a garbage line.
 * Each is moved to a number at least half the descriptor limit,
 * close-on-exec (an exec'd image opens its own).
 */
#ifndef MAPGUARD_FD_ASIDE_H
#define MAPGUARD_FD_ASIDE_H

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

/* fd moved up (the old number closed), or where it was when no number is
 * free up there; close-on-exec either way. */
static inline int mg_fd_aside(int fd)
{
    if (fd < 0)
        return fd;
    struct rlimit rl;
    int base = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (int)(rl.rlim_cur / 2) : 512;
    if (base < 3)
        base = 3;
    int moved = base > fd ? fcntl(fd, F_DUPFD_CLOEXEC, base) : -1;
    if (moved < 0 && fd <= 2) /* never among the standard three */
        moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (moved < 0) {
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        return fd;
    }
    close(fd);
    return moved;
}

#endif
