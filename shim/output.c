/*
 * The report descriptor: stderr, stdout, or log_path.<pid> (opened with
 * logfile.c's checks; refused, the reports go to stderr and a line says
 * why).
 *
 * Every report is one write(2) to an O_APPEND descriptor, so lines from
 * threads and forked children never interleave and a program that crashes
 * right afterwards still leaves it behind. On a descriptor that is not a
 * regular file (a pipe shared by forked children) only a write of at most
 * PIPE_BUF bytes is whole, so lines there are cut to that by dropping
 * frames (mg_out_line_max).
 *
 * The program owns its descriptor table: it may close the log file's
 * descriptor (closefrom(3) at start is ordinary daemon hygiene) and get
 * the same number back for a file or socket of its own. So the log file is
 * known by its identity (device and inode), checked before every use: a
 * descriptor that is no longer it is left alone, never written to or
 * closed, and the file is opened again. On a pipe (stderr, stdout), a
 * reader that has gone must not kill the program with a SIGPIPE it would
 * not have had: the write's SIGPIPE is blocked and taken back
 * (write_quietly).
 */
#include "output.h"
#include "jsonline.h"
#include "log.h"
#include "fd_aside.h"
#include "logfile.h"
#include "options.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int fd = -1;
static bool fd_is_file; /* fd is log_path.<pid>, not stderr or stdout */
static dev_t file_dev;  /* with fd_is_file: the file fd was opened on */
static ino_t file_ino;
/* In a forked child, until its own log file is open: the parent's, its
 * fallback when log_path.<pid> cannot be opened (mg_out_atfork_child). */
static int inherited = -1;
static dev_t inherited_dev;
static ino_t inherited_ino;
/* Lines longer than this are cut (by dropping frames) on the way to fd: 0
 * when fd is a regular file, where one write(2) of any size lands whole;
 * otherwise PIPE_BUF, the most a pipe or FIFO writes atomically, so lines
 * from forked children sharing a pipe cannot interleave. Set with fd. */
static size_t line_max;

/* A log file that could not be opened (the open itself failed: errno), and
 * where the reports go instead. Said on stderr only when a record that
 * reports something goes there (mg_out_write), not when the process
 * starts or ends clean: a sandboxed process whose open is refused (man-db
 * runs its helpers under a seccomp filter that fails open with ENOSYS)
 * then prints nothing of ours unless it has a finding to show, and that
 * finding comes with the reason it is not in the file. What is found
 * planted at the path (a FIFO, a link, another user's file) is said at
 * once: someone else put it there, which a clean run is worth telling. */
static struct {
    bool on;
    int err;
    const char *to;
} unsaid;

static void warn_refused(const char *path, int why, const struct stat *st, const char *to)
{
    if (why == MG_LOGF_NOT_REGULAR)
        mg_log(0, "log_path '%s' is %s, not a regular file; reporting to %s", path,
               mg_file_type_name(st->st_mode), to);
    else if (why == MG_LOGF_NOT_OWNER)
        mg_log(0, "log_path '%s' belongs to another user (uid %ld); reporting to %s", path, (long)st->st_uid, to);
    else if (why == MG_LOGF_LINKED)
        mg_log(0, "log_path '%s' has other hard links to it; reporting to %s", path, to);
    else
        mg_log(0, "cannot open log_path '%s': %s; reporting to %s", path, strerror(errno), to);
}

static void refused(const char *path, int why, const struct stat *st, const char *to)
{
    if (why != MG_LOGF_ERRNO) {
        warn_refused(path, why, st, to);
        return;
    }
    unsaid.err = errno;
    unsaid.to = to;
    unsaid.on = true;
}

/* The reason, once, before the first record that reports something. The
 * path is this process's (a forked child forgets its parent's reason). */
static void say_refused(void)
{
    if (!unsaid.on)
        return;
    unsaid.on = false;
    char path[sizeof mg_opt.log_path + 32];
    mg_log_file_name(path, (long long)getpid());
    int saved = errno;
    errno = unsaid.err;
    warn_refused(path, MG_LOGF_ERRNO, NULL, unsaid.to);
    errno = saved;
}

/* The log file, once open, set aside (fd_aside.h); refused when no number
 * above the standard three is free: among them it would take the
 * program's output (and the program's writes would take our lines). */
static int log_aside(int d)
{
    d = mg_fd_aside(d);
    if (d >= 0 && d <= 2) {
        close(d);
        errno = EMFILE;
        return MG_LOGF_ERRNO;
    }
    return d;
}

/* d still the file of that identity (async-signal-safe) */
static bool still_the_file(int d, dev_t dev, ino_t ino)
{
    struct stat st;
    return d >= 0 && fstat(d, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

static bool file_still_ours(void) { return still_the_file(fd, file_dev, file_ino); }

static void drop_inherited(void)
{
    if (still_the_file(inherited, inherited_dev, inherited_ino))
        close(inherited);
    inherited = -1;
}

/* The descriptor, opened or chosen on first use. check: make sure a log
 * file's descriptor is still the file (an fstat), which only the write
 * needs; a descriptor found replaced is opened again there. */
static int out_fd(bool check)
{
    if (fd >= 0) {
        if (!check || !fd_is_file || file_still_ours())
            return fd;
        fd = -1; /* closed or replaced by the program: not ours to touch */
    }
    const char *p = mg_opt.log_path;
    fd_is_file = false;
    if (!p[0] || !strcmp(p, "stderr")) {
        fd = 2;
    } else if (!strcmp(p, "stdout")) {
        fd = 1;
    } else {
        /* not snprintf: a clean run would pay for libc's printf machinery
         * just to name its file (jsonline.c) */
        char path[sizeof mg_opt.log_path + 32];
        mg_log_file_name(path, (long long)getpid());
        struct stat st;
        fd = log_aside(mg_log_open(path, &st));
        if (fd >= 0) {
            drop_inherited();
            fd_is_file = true;
            file_dev = st.st_dev;
            file_ino = st.st_ino;
        } else if (still_the_file(inherited, inherited_dev, inherited_ino)) {
            /* a child that dropped privileges, chrooted or used up its
             * descriptors: its lines go to its parent's log, where they
             * are still its own (every record has its pid) */
            refused(path, fd, &st, "the log file inherited from the parent process");
            fd = inherited;
            inherited = -1;
            fd_is_file = true;
            file_dev = inherited_dev;
            file_ino = inherited_ino;
        } else {
            refused(path, fd, &st, "stderr");
            fd = 2;
        }
    }
    struct stat st;
    line_max = fd_is_file || (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) ? 0 : PIPE_BUF;
    return fd;
}

int mg_out_fd(void) { return out_fd(true); }

bool mg_out_to_file(void)
{
    if (!mg_log_to_file())
        return false;
    out_fd(false);
    return fd_is_file;
}

size_t mg_out_line_max(void)
{
    out_fd(false);
    return line_max;
}

static void write_all(int d, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(d, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        buf += w;
        n -= (size_t)w;
    }
}

/* A write to a pipe or socket whose reader has gone raises SIGPIPE in the
 * writing thread, and its default action kills the program: blocked for
 * the write, and taken back if the write raised it (a SIGPIPE already
 * pending stays the program's). Async-signal-safe; errno is the caller's
 * to keep. */
static void write_quietly(int d, const char *buf, size_t n)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    if (pthread_sigmask(SIG_BLOCK, &pipe_set, &old) != 0) {
        write_all(d, buf, n);
        return;
    }
    bool was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
    errno = 0;
    write_all(d, buf, n);
    if (errno == EPIPE && !was_pending) {
        static const struct timespec now = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &now) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void write_to(int d, const char *buf, size_t n)
{
    if (fd_is_file)
        write_all(d, buf, n);
    else
        write_quietly(d, buf, n);
}

void mg_out_write(const char *buf, size_t n)
{
    int d = mg_out_fd();
    say_refused();
    write_to(d, buf, n);
}

void mg_out_write_quiet(const char *buf, size_t n) { write_to(mg_out_fd(), buf, n); }

void mg_out_atfork_child(void)
{
    /* The parent's log stays open until the child's own is: a child that
     * cannot open log_path.<pid> (privileges dropped, chroot, no
     * descriptors left) reports there instead of to stderr, which
     * `mapguard run` does not read. */
    if (fd_is_file && file_still_ours()) {
        drop_inherited();
        inherited = fd;
        inherited_dev = file_dev;
        inherited_ino = file_ino;
    } /* else a parent that never opened its own passes its own parent's on */
    fd = -1;
    fd_is_file = false;
    unsaid.on = false; /* the child tries its own file */
}
