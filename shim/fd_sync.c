/*
 * Pipes, eventfds, sockets and epoll instances as synchronization, as
 * ThreadSanitizer follows them: a write to one releases into its clock
 * (a merge, as sem_post: every write before a read comes before it), a
 * read that got data acquires that clock; an epoll_ctl releases into its
 * instance's, a wait that returned events acquires it; a connect releases
 * into the sockets' clock, an accept that returned a connection acquires
 * it. A thread that fills a map and then wakes another through a
 * self-pipe or an eventfd, the other reading the map once its read
 * returns, is ordered; before, it was reported as a race
 * (docs/design-detector.md, "Pipes, eventfds and sockets").
 *
 * Which descriptors: those the program makes with pipe, pipe2, eventfd,
 * socketpair, socket, accept* and epoll_create* while the shim is loaded,
 * and their copies (dup, dup2, dup3, fcntl F_DUPFD and F_DUPFD_CLOEXEC).
 * Both ends of a pipe and of a socket pair share one clock, the object's;
 * a copy shares it too; all other sockets share one (sock_obj). Files,
 * and descriptors made before the shim or behind its back (a raw system
 * call, glibc's own internal calls: popen, stdio's reads and writes)
 * order nothing.
 *
 * An object is named by an id (1..OBJ_MAX), its clock by the synthetic key
 * FD_KEY(id); fd_obj[fd] names the object of descriptor fd (below
 * FD_MAX: higher ones are not followed), and refs[id] counts the
 * descriptors that name it. The last close resets the object's clock and
 * gives the id back, so a process that makes pipes by the million keeps a
 * few entries in the engine's table. Everything here is lock-free: close,
 * read and write are async-signal-safe, and a handler may call them while
 * its thread is inside this file.
 *
 * Every way this can go wrong orders more than the program did, never
 * less, so it may hide a race, never invent one: a descriptor closed
 * behind the shim's back (fclose of an fdopen'd pipe) keeps naming its
 * object until a pipe the shim sees takes its number again, and a file
 * opened at that number in between releases into and acquires the old
 * object's clock. A vfork child (same memory, another process) leaves the
 * table alone: its closes and copies are not its parent's.
 */
#include "happens_before.h"
#include "common.h"
#include "dense_index.h"
#include "inflight.h"
#include "intercept.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define FD_MAX 65536u
#define OBJ_MAX FD_MAX /* each object has a descriptor below FD_MAX when made */
#define FD_KEY(id) MG_HB_SYNTHETIC_KEY((5ull << 32) | (id))

static MG_LARGE_BSS uint32_t fd_obj[FD_MAX];     /* 0: not followed */
static MG_LARGE_BSS uint32_t refs[OBJ_MAX + 1];  /* by id */
static MG_LARGE_BSS uint32_t links[OBJ_MAX + 1]; /* the free ids' stack (dense_index.h) */
static uint64_t free_ids;
static uint32_t next_id = 1;
static uint32_t fd_top; /* 1 + the highest descriptor ever followed */

static inline uint32_t obj_of(int fd) { return (unsigned)fd < FD_MAX ? __atomic_load_n(&fd_obj[fd], __ATOMIC_ACQUIRE) : 0; }

/* A new object's id with n references, or 0 when all are in use. Its clock
 * is reset first: a write that read the id before its last close may have
 * released into it since. */
static uint32_t obj_new(uint32_t n)
{
    long id = mg_dx_pop_linked(&free_ids, links, 1);
    if (id < 0) {
        uint32_t at = __atomic_load_n(&next_id, __ATOMIC_RELAXED);
        do
            if (at > OBJ_MAX)
                return 0;
        while (!__atomic_compare_exchange_n(&next_id, &at, at + 1, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
        id = at;
    }
    mg_hb_reset(FD_KEY(id));
    __atomic_store_n(&refs[id], n, __ATOMIC_RELEASE);
    return (uint32_t)id;
}

static void obj_put(uint32_t id)
{
    if (id && __atomic_sub_fetch(&refs[id], 1, __ATOMIC_ACQ_REL) == 0) {
        mg_hb_reset(FD_KEY(id));
        mg_dx_push_linked(&free_ids, links, 1, id);
    }
}

/* One more reference to id, unless its last one went meanwhile (the
 * descriptor copied was closed at the same moment: then the copy is not
 * followed). */
static bool obj_get(uint32_t id)
{
    uint32_t n = id ? __atomic_load_n(&refs[id], __ATOMIC_ACQUIRE) : 0;
    while (n)
        if (__atomic_compare_exchange_n(&refs[id], &n, n + 1, true, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return true;
    return false;
}

/* fd names id from now on (0: nothing); what it named before loses a
 * reference. */
static void fd_name(int fd, uint32_t id)
{
    if ((unsigned)fd >= FD_MAX) {
        obj_put(id);
        return;
    }
    uint32_t top = __atomic_load_n(&fd_top, __ATOMIC_RELAXED);
    while (id && (unsigned)fd >= top &&
           !__atomic_compare_exchange_n(&fd_top, &top, (unsigned)fd + 1, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    obj_put(__atomic_exchange_n(&fd_obj[fd], id, __ATOMIC_ACQ_REL));
}

/* A new object for the n descriptors fds, made by the program. */
static void made(const int *fds, uint32_t n)
{
    if (!mg_inflight_owner())
        return;
    uint32_t id = obj_new(n);
    for (uint32_t i = 0; i < n; i++)
        fd_name(fds[i], id);
}

/* Every socket the program makes with socket, or gets from accept, names
 * one object, the sockets' (as ThreadSanitizer has it): what one socket
 * sends, another reads (the other end of a connection, the socket a
 * datagram was addressed to), and which one would take asking the kernel
 * on every call. The table holds a reference of its own, so the object
 * lives as long as the process. A socket pair keeps an object of its own
 * (made): its two ends talk only to each other. */
static uint32_t sock_id;

static uint32_t sock_obj(void)
{
    uint32_t id = __atomic_load_n(&sock_id, __ATOMIC_ACQUIRE);
    if (id)
        return id;
    uint32_t mine = obj_new(1);
    if (!mine || __atomic_compare_exchange_n(&sock_id, &id, mine, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return mine;
    obj_put(mine); /* another thread's came first */
    return id;
}

static void made_socket(int fd)
{
    if (!mg_inflight_owner())
        return;
    uint32_t id = sock_obj();
    fd_name(fd, obj_get(id) ? id : 0);
}

/* newfd is a copy of fd (and no longer what it was). */
static void copied(int fd, int newfd)
{
    uint32_t id = obj_of(fd);
    if (newfd < 0 || newfd == fd || (!id && !obj_of(newfd)) || !mg_inflight_owner())
        return;
    fd_name(newfd, obj_get(id) ? id : 0);
}

/* Before the real close: once it returns, another thread may be given
 * the number by a new pipe, whose entry this must not clear. */
static void closing(int fd)
{
    if (obj_of(fd) && mg_inflight_owner())
        fd_name(fd, 0);
}

static void closing_range(unsigned first, unsigned last)
{
    if (!mg_inflight_owner())
        return;
    unsigned top = __atomic_load_n(&fd_top, __ATOMIC_RELAXED);
    for (unsigned fd = first; fd < top && fd <= last; fd++)
        if (__atomic_load_n(&fd_obj[fd], __ATOMIC_RELAXED))
            fd_name((int)fd, 0);
}

/* Descriptors a recvmsg brought in (SCM_RIGHTS): new numbers for what
 * some process, this one or another, had open. Which object the original
 * named is not known, so each gets an object of its own, as
 * ThreadSanitizer gives it: threads that hand work over through the
 * received number are ordered, a write on it and a read on the original
 * are not (docs/design-detector.md, "What mapguard sees"). */
static void received(const struct msghdr *msg)
{
    if (msg->msg_controllen == 0)
        return;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const unsigned char *p = CMSG_DATA(c);
        for (size_t i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, p + i * sizeof fd, sizeof fd); /* CMSG_DATA need not be aligned for int */
            made(&fd, 1);
        }
    }
}

/* The engine, once it follows threads (happens_before.h): a write
 * releases before the real call (its reader may return before the call
 * does), a read that returned (ok) acquires after it. A read that returns
 * 0 acquires too, as under ThreadSanitizer: on a datagram socket that is
 * a message of no bytes, which a program may send as a wake-up; at the
 * end of a stream it takes only writes that came before it. */
static inline void writing(int fd)
{
    if (MG_UNLIKELY(mg_hb_sync_live())) {
        uint32_t id = obj_of(fd);
        if (id)
            mg_hb_release_merge(FD_KEY(id));
    }
}
static inline void got(int fd, bool ok)
{
    if (MG_UNLIKELY(mg_hb_sync_live()) && ok) {
        uint32_t id = obj_of(fd);
        if (id)
            mg_hb_acquire(FD_KEY(id));
    }
}

/* A connect happens before the accept that takes the connection: the
 * sockets' clock, whichever socket either names (a listening socket the
 * program was given, by systemd say, is not followed, and its accept
 * still orders). */
static inline void connecting(void)
{
    if (MG_UNLIKELY(mg_hb_sync_live())) {
        uint32_t id = sock_obj();
        if (id)
            mg_hb_release_merge(FD_KEY(id));
    }
}
static void accepted(int fd)
{
    if (fd < 0)
        return;
    made_socket(fd);
    if (MG_UNLIKELY(mg_hb_sync_live())) {
        uint32_t id = sock_obj();
        if (id)
            mg_hb_acquire(FD_KEY(id));
    }
}

/* Before start-up found the real function (another library's
 * constructor, or a signal handler then) the system call itself, which
 * needs no dlsym: these are async-signal-safe and must stay so. */
#define KSIGSET 8 /* the kernel's sigset_t, in bytes */
#define CALL(fn, sys, ...) (MG_LIKELY(MG_REAL_LOAD(fn) != NULL) ? MG_REAL(fn)(__VA_ARGS__) : syscall(sys, __VA_ARGS__))

/* ---- making and copying ---- */

MG_INTERCEPTOR(int, pipe, (int fds[2]))
{
    int r = MG_LIKELY(MG_REAL_LOAD(pipe) != NULL) ? MG_REAL(pipe)(fds) : (int)syscall(SYS_pipe2, fds, 0);
    if (r == 0)
        made(fds, 2);
    return r;
}

MG_INTERCEPTOR(int, pipe2, (int fds[2], int flags))
{
    int r = (int)CALL(pipe2, SYS_pipe2, fds, flags);
    if (r == 0)
        made(fds, 2);
    return r;
}

MG_INTERCEPTOR(int, socketpair, (int domain, int type, int protocol, int fds[2]))
{
    int r = (int)CALL(socketpair, SYS_socketpair, domain, type, protocol, fds);
    if (r == 0)
        made(fds, 2);
    return r;
}

MG_INTERCEPTOR(int, eventfd, (unsigned int count, int flags))
{
    int fd = (int)CALL(eventfd, SYS_eventfd2, count, flags);
    if (fd >= 0)
        made(&fd, 1);
    return fd;
}

MG_INTERCEPTOR(int, socket, (int domain, int type, int protocol))
{
    int fd = (int)CALL(socket, SYS_socket, domain, type, protocol);
    if (fd >= 0)
        made_socket(fd);
    return fd;
}

MG_INTERCEPTOR(int, accept, (int fd, __SOCKADDR_ARG addr, socklen_t *len))
{
    int r = MG_LIKELY(MG_REAL_LOAD(accept) != NULL) ? MG_REAL(accept)(fd, addr, len)
                                                    : (int)syscall(SYS_accept4, fd, addr.__sockaddr__, len, 0);
    accepted(r);
    return r;
}

MG_INTERCEPTOR(int, accept4, (int fd, __SOCKADDR_ARG addr, socklen_t *len, int flags))
{
    int r = (int)CALL(accept4, SYS_accept4, fd, addr.__sockaddr__, len, flags);
    accepted(r);
    return r;
}

MG_INTERCEPTOR(int, connect, (int fd, __CONST_SOCKADDR_ARG addr, socklen_t len))
{
    connecting();
    return (int)CALL(connect, SYS_connect, fd, addr.__sockaddr__, len);
}

/* An epoll instance is an object too, as ThreadSanitizer has it: a
 * registration (epoll_ctl) happens before a wait that returns events, so
 * a connection's record that one thread sets up and registers, with its
 * address in the event's data, and another thread gets from epoll_wait,
 * is ordered. */
MG_INTERCEPTOR(int, epoll_create, (int size))
{
    int fd;
    if (MG_LIKELY(MG_REAL_LOAD(epoll_create) != NULL))
        fd = MG_REAL(epoll_create)(size);
    else if (size <= 0) /* the check epoll_create1 lacks */
        fd = (errno = EINVAL, -1);
    else
        fd = (int)syscall(SYS_epoll_create1, 0);
    if (fd >= 0)
        made(&fd, 1);
    return fd;
}

MG_INTERCEPTOR(int, epoll_create1, (int flags))
{
    int fd = (int)CALL(epoll_create1, SYS_epoll_create1, flags);
    if (fd >= 0)
        made(&fd, 1);
    return fd;
}

MG_INTERCEPTOR(int, dup, (int fd))
{
    int r = (int)CALL(dup, SYS_dup, fd);
    copied(fd, r);
    return r;
}

MG_INTERCEPTOR(int, dup2, (int fd, int newfd))
{
    /* the real dup2 closes newfd itself: no other thread can be given
     * its number in between */
    int r = (int)CALL(dup2, SYS_dup2, fd, newfd);
    copied(fd, r);
    return r;
}

MG_INTERCEPTOR(int, dup3, (int fd, int newfd, int flags))
{
    int r = (int)CALL(dup3, SYS_dup3, fd, newfd, flags);
    copied(fd, r);
    return r;
}

/* fcntl's third argument is an int or a pointer, as the command says; it
 * goes on as a pointer-sized word, which the real function reads as what
 * it is. fcntl64 is the name a program built with _FILE_OFFSET_BITS=64
 * calls. */
static int fcntl_done(int fd, int cmd, int r)
{
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
        copied(fd, r);
    return r;
}

#define FCNTL(fn)                                                                                                      \
    MG_INTERCEPTOR(int, fn, (int fd, int cmd, ...))                                                                    \
    {                                                                                                                  \
        va_list ap;                                                                                                    \
        va_start(ap, cmd);                                                                                             \
        void *arg = va_arg(ap, void *);                                                                                \
        va_end(ap);                                                                                                    \
        return fcntl_done(fd, cmd, (int)CALL(fn, SYS_fcntl, fd, cmd, arg));                                            \
    }
FCNTL(fcntl)
FCNTL(fcntl64)

MG_INTERCEPTOR(int, close, (int fd))
{
    closing(fd);
    return (int)CALL(close, SYS_close, fd);
}

MG_INTERCEPTOR(int, close_range, (unsigned int first, unsigned int last, int flags))
{
    if (!(flags & CLOSE_RANGE_CLOEXEC))
        closing_range(first, last);
    return (int)CALL(close_range, SYS_close_range, first, last, flags);
}

MG_INTERCEPTOR(void, closefrom, (int lowfd))
{
    closing_range(lowfd < 0 ? 0 : (unsigned)lowfd, ~0u);
    if (MG_LIKELY(MG_REAL_LOAD(closefrom) != NULL))
        MG_REAL(closefrom)(lowfd);
    else
        syscall(SYS_close_range, lowfd < 0 ? 0u : (unsigned)lowfd, ~0u, 0);
}

/* ---- the handoffs ---- */

MG_INTERCEPTOR(ssize_t, write, (int fd, const void *buf, size_t n))
{
    writing(fd);
    return CALL(write, SYS_write, fd, buf, n);
}

MG_INTERCEPTOR(ssize_t, writev, (int fd, const struct iovec *iov, int n))
{
    writing(fd);
    return CALL(writev, SYS_writev, fd, iov, n);
}

/* pwritev2 and preadv2 at offset -1 write and read at the current
 * position, as writev and readv do, and so work on a pipe or a socket,
 * which has no other offset. The 64 names are glibc's other names for
 * the same functions, for a program that calls those. */
#define PWRITEV2(fn, off_t_)                                                                                           \
    MG_INTERCEPTOR(ssize_t, fn, (int fd, const struct iovec *iov, int n, off_t_ off, int flags))                       \
    {                                                                                                                  \
        writing(fd);                                                                                                   \
        if (MG_LIKELY(MG_REAL_LOAD(fn) != NULL))                                                                       \
            return MG_REAL(fn)(fd, iov, n, off, flags);                                                                \
        return syscall(SYS_pwritev2, fd, iov, n, (long)off, 0L, flags);                                                \
    }
PWRITEV2(pwritev2, off_t)
PWRITEV2(pwritev64v2, off64_t)

MG_INTERCEPTOR(ssize_t, send, (int fd, const void *buf, size_t n, int flags))
{
    writing(fd);
    if (MG_LIKELY(MG_REAL_LOAD(send) != NULL))
        return MG_REAL(send)(fd, buf, n, flags);
    return syscall(SYS_sendto, fd, buf, n, flags, NULL, 0);
}

/* glibc declares the address arguments as transparent unions (_GNU_SOURCE) */
MG_INTERCEPTOR(ssize_t, sendto, (int fd, const void *buf, size_t n, int flags, __CONST_SOCKADDR_ARG to, socklen_t tolen))
{
    writing(fd);
    return CALL(sendto, SYS_sendto, fd, buf, n, flags, to.__sockaddr__, tolen);
}

MG_INTERCEPTOR(ssize_t, sendmsg, (int fd, const struct msghdr *msg, int flags))
{
    writing(fd);
    return CALL(sendmsg, SYS_sendmsg, fd, msg, flags);
}

MG_INTERCEPTOR(int, sendmmsg, (int fd, struct mmsghdr *msgs, unsigned int n, int flags))
{
    writing(fd);
    return (int)CALL(sendmmsg, SYS_sendmmsg, fd, msgs, n, flags);
}

MG_INTERCEPTOR(int, epoll_ctl, (int epfd, int op, int fd, struct epoll_event *ev))
{
    writing(epfd);
    return (int)CALL(epoll_ctl, SYS_epoll_ctl, epfd, op, fd, ev);
}

MG_INTERCEPTOR(int, eventfd_write, (int fd, eventfd_t value))
{
    writing(fd);
    if (MG_LIKELY(MG_REAL_LOAD(eventfd_write) != NULL))
        return MG_REAL(eventfd_write)(fd, value);
    return syscall(SYS_write, fd, &value, sizeof value) == sizeof value ? 0 : -1;
}

MG_INTERCEPTOR(ssize_t, read, (int fd, void *buf, size_t n))
{
    ssize_t r = CALL(read, SYS_read, fd, buf, n);
    got(fd, r >= 0);
    return r;
}

MG_INTERCEPTOR(ssize_t, readv, (int fd, const struct iovec *iov, int n))
{
    ssize_t r = CALL(readv, SYS_readv, fd, iov, n);
    got(fd, r >= 0);
    return r;
}

#define PREADV2(fn, off_t_)                                                                                            \
    MG_INTERCEPTOR(ssize_t, fn, (int fd, const struct iovec *iov, int n, off_t_ off, int flags))                       \
    {                                                                                                                  \
        ssize_t r = MG_LIKELY(MG_REAL_LOAD(fn) != NULL) ? MG_REAL(fn)(fd, iov, n, off, flags)                          \
                                                        : syscall(SYS_preadv2, fd, iov, n, (long)off, 0L, flags);      \
        got(fd, r >= 0);                                                                                               \
        return r;                                                                                                      \
    }
PREADV2(preadv2, off_t)
PREADV2(preadv64v2, off64_t)

MG_INTERCEPTOR(ssize_t, recv, (int fd, void *buf, size_t n, int flags))
{
    ssize_t r = MG_LIKELY(MG_REAL_LOAD(recv) != NULL) ? MG_REAL(recv)(fd, buf, n, flags)
                                                      : syscall(SYS_recvfrom, fd, buf, n, flags, NULL, NULL);
    got(fd, r >= 0);
    return r;
}

MG_INTERCEPTOR(ssize_t, recvfrom, (int fd, void *buf, size_t n, int flags, __SOCKADDR_ARG from, socklen_t *fromlen))
{
    ssize_t r = CALL(recvfrom, SYS_recvfrom, fd, buf, n, flags, from.__sockaddr__, fromlen);
    got(fd, r >= 0);
    return r;
}

MG_INTERCEPTOR(ssize_t, recvmsg, (int fd, struct msghdr *msg, int flags))
{
    ssize_t r = CALL(recvmsg, SYS_recvmsg, fd, msg, flags);
    if (r >= 0)
        received(msg);
    got(fd, r >= 0);
    return r;
}

MG_INTERCEPTOR(int, recvmmsg, (int fd, struct mmsghdr *msgs, unsigned int n, int flags, struct timespec *timeout))
{
    int r = (int)CALL(recvmmsg, SYS_recvmmsg, fd, msgs, n, flags, timeout);
    for (int i = 0; i < r; i++)
        received(&msgs[i].msg_hdr);
    got(fd, r > 0);
    return r;
}

MG_INTERCEPTOR(int, eventfd_read, (int fd, eventfd_t *value))
{
    int r;
    if (MG_LIKELY(MG_REAL_LOAD(eventfd_read) != NULL))
        r = MG_REAL(eventfd_read)(fd, value);
    else
        r = syscall(SYS_read, fd, value, sizeof *value) == sizeof *value ? 0 : -1;
    got(fd, r == 0);
    return r;
}

MG_INTERCEPTOR(int, epoll_wait, (int epfd, struct epoll_event *ev, int n, int timeout))
{
    int r = MG_LIKELY(MG_REAL_LOAD(epoll_wait) != NULL)
                ? MG_REAL(epoll_wait)(epfd, ev, n, timeout)
                : (int)syscall(SYS_epoll_pwait, epfd, ev, n, timeout, NULL, KSIGSET);
    got(epfd, r > 0);
    return r;
}

MG_INTERCEPTOR(int, epoll_pwait, (int epfd, struct epoll_event *ev, int n, int timeout, const sigset_t *mask))
{
    int r = MG_LIKELY(MG_REAL_LOAD(epoll_pwait) != NULL)
                ? MG_REAL(epoll_pwait)(epfd, ev, n, timeout, mask)
                : (int)syscall(SYS_epoll_pwait, epfd, ev, n, timeout, mask, KSIGSET);
    got(epfd, r > 0);
    return r;
}

MG_INTERCEPTOR(int, epoll_pwait2,
               (int epfd, struct epoll_event *ev, int n, const struct timespec *timeout, const sigset_t *mask))
{
    int r = MG_LIKELY(MG_REAL_LOAD(epoll_pwait2) != NULL)
                ? MG_REAL(epoll_pwait2)(epfd, ev, n, timeout, mask)
                : (int)syscall(SYS_epoll_pwait2, epfd, ev, n, timeout, mask, KSIGSET);
    got(epfd, r > 0);
    return r;
}

/* _FORTIFY_SOURCE's checked reads, which call the unchecked ones inside
 * libc, out of sight: a Debian package's program calls these. */
MG_INTERCEPTOR(ssize_t, __read_chk, (int fd, void *buf, size_t n, size_t buflen))
{
    ssize_t r = MG_LIKELY(MG_REAL_LOAD(__read_chk) != NULL) ? MG_REAL(__read_chk)(fd, buf, n, buflen)
                                                          : syscall(SYS_read, fd, buf, n < buflen ? n : buflen);
    got(fd, r >= 0);
    return r;
}

MG_INTERCEPTOR(ssize_t, __recv_chk, (int fd, void *buf, size_t n, size_t buflen, int flags))
{
    ssize_t r = MG_LIKELY(MG_REAL_LOAD(__recv_chk) != NULL)
                    ? MG_REAL(__recv_chk)(fd, buf, n, buflen, flags)
                    : syscall(SYS_recvfrom, fd, buf, n < buflen ? n : buflen, flags, NULL, NULL);
    got(fd, r >= 0);
    return r;
}

MG_INTERCEPTOR(ssize_t, __recvfrom_chk,
               (int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *from, socklen_t *fromlen))
{
    ssize_t r = MG_LIKELY(MG_REAL_LOAD(__recvfrom_chk) != NULL)
                    ? MG_REAL(__recvfrom_chk)(fd, buf, n, buflen, flags, from, fromlen)
                    : syscall(SYS_recvfrom, fd, buf, n < buflen ? n : buflen, flags, from, fromlen);
    got(fd, r >= 0);
    return r;
}

void mg_fd_resolve(void)
{
    static const struct mg_intercept table[] = {
        MG_INTERCEPT(pipe),        MG_INTERCEPT(pipe2),         MG_INTERCEPT(socketpair),
        MG_INTERCEPT(eventfd),     MG_INTERCEPT(dup),           MG_INTERCEPT(dup2),
        MG_INTERCEPT(dup3),        MG_INTERCEPT(fcntl),         MG_INTERCEPT(fcntl64),
        MG_INTERCEPT(close),       MG_INTERCEPT(close_range),   MG_INTERCEPT(closefrom),
        MG_INTERCEPT(write),       MG_INTERCEPT(writev),        MG_INTERCEPT(send),
        MG_INTERCEPT(sendto),      MG_INTERCEPT(sendmsg),       MG_INTERCEPT(eventfd_write),
        MG_INTERCEPT(read),        MG_INTERCEPT(readv),         MG_INTERCEPT(recv),
        MG_INTERCEPT(recvfrom),    MG_INTERCEPT(recvmsg),       MG_INTERCEPT(eventfd_read),
        MG_INTERCEPT(__read_chk),  MG_INTERCEPT(__recv_chk),    MG_INTERCEPT(__recvfrom_chk),
        MG_INTERCEPT(epoll_create), MG_INTERCEPT(epoll_create1), MG_INTERCEPT(epoll_ctl),
        MG_INTERCEPT(epoll_wait),  MG_INTERCEPT(epoll_pwait),   MG_INTERCEPT(epoll_pwait2),
        MG_INTERCEPT(socket),      MG_INTERCEPT(accept),        MG_INTERCEPT(accept4),
        MG_INTERCEPT(connect),     MG_INTERCEPT(sendmmsg),      MG_INTERCEPT(recvmmsg),
        MG_INTERCEPT(pwritev2),    MG_INTERCEPT(pwritev64v2),   MG_INTERCEPT(preadv2),
        MG_INTERCEPT(preadv64v2),
    };
    mg_intercept_resolve(table, MG_INTERCEPT_COUNT(table));
}
