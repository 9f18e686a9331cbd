/*
 * Pipes, eventfds, sockets and epoll as synchronization
 * (shim/fd_sync.c): a map filled, then a byte written to a descriptor;
 * another thread reads that byte, then the map (or a map registered with
 * epoll, and taken from epoll_wait). Each *_clean scenario must stay clean; each
 * *_race one is a race the handoff does not cover, which must still be
 * reported.
 *
 * As in mg_hb_more.c, racy scenarios sequence their threads with C11
 * atomics, which the shim cannot see, so the outcome is the same on every
 * run. One scenario per run, named by argv[1]. Lines the tests look for
 * carry an @site comment.
 */
#include <gomap.h>
#include "scenario.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static gomap *M;
static atomic_int flag;
static int fds[2];

static void signal_flag(void) { atomic_store_explicit(&flag, 1, memory_order_release); }
static void wait_flag(void)
{
    while (!atomic_load_explicit(&flag, memory_order_acquire))
        sched_yield();
}

static void make_map(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8};
    M = gomap_new(&t, 0); /* @site:made */
}

static void must(int ok, const char *what)
{
    if (!ok) {
        perror(what);
        exit(2);
    }
}

static void put(void)
{
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:fd_set */
}

static void look(void)
{
    int64_t k = 1;
    gomap_get(M, &k); /* @site:fd_get */
}

/* How the byte goes, and how it comes back: one pair per scenario. */
static void (*send_byte)(void);
static void (*take_byte)(void);

static void pipe_send(void) { must(write(fds[1], "x", 1) == 1, "write"); }
static void pipe_take(void)
{
    char c;
    must(read(fds[0], &c, 1) == 1, "read");
}

/* The consumer: it takes the byte, then reads the map. */
static void *consumer(void *p)
{
    take_byte();
    look();
    return p;
}

/* main fills the map and sends; the consumer, started before the map was
 * filled, is ordered after the fill only by the byte. make makes the
 * descriptors in fds. */
static void handoff(void (*make)(void))
{
    make_map();
    make();
    pthread_t t;
    pthread_create(&t, NULL, consumer, NULL);
    put();
    send_byte();
    pthread_join(t, NULL);
    gomap_free(M);
}

/* A clean scenario: a handoff through what make makes, by send and take. */
#define HANDOFF(name, make, send, take)                                                                                \
    static void name(void)                                                                                             \
    {                                                                                                                  \
        send_byte = send, take_byte = take;                                                                            \
        handoff(make);                                                                                                 \
    }

static void make_pipe(void) { must(pipe(fds) == 0, "pipe"); }
HANDOFF(pipe_clean, make_pipe, pipe_send, pipe_take)

static void make_pipe2(void) { must(pipe2(fds, O_CLOEXEC) == 0, "pipe2"); }
static void iov_send(void)
{
    struct iovec v = {.iov_base = "x", .iov_len = 1};
    must(writev(fds[1], &v, 1) == 1, "writev");
}
static void iov_take(void)
{
    char c;
    struct iovec v = {.iov_base = &c, .iov_len = 1};
    must(readv(fds[0], &v, 1) == 1, "readv");
}
HANDOFF(pipe2_iov_clean, make_pipe2, iov_send, iov_take)

static void make_eventfd(void)
{
    fds[0] = eventfd(0, 0);
    must(fds[0] >= 0, "eventfd");
}
static void efd_send(void) { must(eventfd_write(fds[0], 1) == 0, "eventfd_write"); }
static void efd_take(void)
{
    eventfd_t v;
    must(eventfd_read(fds[0], &v) == 0, "eventfd_read");
}
HANDOFF(eventfd_clean, make_eventfd, efd_send, efd_take)

/* an eventfd written and read with write and read, as libuv does */
static void efd_write(void)
{
    uint64_t v = 1;
    must(write(fds[0], &v, sizeof v) == sizeof v, "write");
}
static void efd_read(void)
{
    uint64_t v;
    must(read(fds[0], &v, sizeof v) == sizeof v, "read");
}
HANDOFF(eventfd_read_write_clean, make_eventfd, efd_write, efd_read)

static void make_socketpair(void) { must(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0, "socketpair"); }
static void sock_send(void) { must(send(fds[0], "x", 1, 0) == 1, "send"); }
static void sock_take(void)
{
    char c;
    must(recv(fds[1], &c, 1, 0) == 1, "recv");
}
HANDOFF(socketpair_clean, make_socketpair, sock_send, sock_take)

static void msg_send(void)
{
    struct iovec v = {.iov_base = "x", .iov_len = 1};
    struct msghdr h = {.msg_iov = &v, .msg_iovlen = 1};
    must(sendmsg(fds[1], &h, 0) == 1, "sendmsg");
}
static void msg_take(void)
{
    char c;
    struct iovec v = {.iov_base = &c, .iov_len = 1};
    struct msghdr h = {.msg_iov = &v, .msg_iovlen = 1};
    must(recvmsg(fds[0], &h, 0) == 1, "recvmsg");
}
HANDOFF(socketpair_msg_clean, make_socketpair, msg_send, msg_take)

static void to_send(void) { must(sendto(fds[0], "x", 1, 0, NULL, 0) == 1, "sendto"); }
static void from_take(void)
{
    char c;
    must(recvfrom(fds[1], &c, 1, 0, NULL, NULL) == 1, "recvfrom");
}
HANDOFF(socketpair_to_from_clean, make_socketpair, to_send, from_take)

/* pwritev2 and preadv2 at offset -1: the current position, as writev
 * and readv, which is how they work on a pipe */
static void pv2_send(void)
{
    struct iovec v = {.iov_base = "x", .iov_len = 1};
    must(pwritev2(fds[1], &v, 1, -1, 0) == 1, "pwritev2");
}
static void pv2_take(void)
{
    char c;
    struct iovec v = {.iov_base = &c, .iov_len = 1};
    must(preadv2(fds[0], &v, 1, -1, 0) == 1, "preadv2");
}
HANDOFF(pipe_pv2_clean, make_pipe, pv2_send, pv2_take)

/* A datagram of no bytes is a message: the wake-up of some event loops */
static void make_dgram_pair(void) { must(socketpair(AF_UNIX, SOCK_DGRAM, 0, fds) == 0, "socketpair"); }
static void empty_send(void) { must(send(fds[0], "", 0, 0) == 0, "send"); }
static void empty_take(void)
{
    char c;
    must(recv(fds[1], &c, 1, 0) == 0, "recv");
}
HANDOFF(empty_datagram_clean, make_dgram_pair, empty_send, empty_take)

/* An eventfd that came in over a Unix socket (SCM_RIGHTS): the handoff
 * through the received number is ordered; the number it was sent from is
 * closed first, so only the received one is used */
static void make_received_eventfd(void)
{
    int ctl[2], e = eventfd(0, 0);
    must(e >= 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, ctl) == 0, "eventfd");
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(int))];
    } u;
    memset(&u, 0, sizeof u);
    struct iovec v = {.iov_base = "x", .iov_len = 1};
    struct msghdr h = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = u.space, .msg_controllen = sizeof u.space};
    struct cmsghdr *c = CMSG_FIRSTHDR(&h);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &e, sizeof e);
    must(sendmsg(ctl[0], &h, 0) == 1 && close(e) == 0, "sendmsg");
    char b;
    struct iovec w = {.iov_base = &b, .iov_len = 1};
    memset(&u, 0, sizeof u);
    struct msghdr r = {.msg_iov = &w, .msg_iovlen = 1, .msg_control = u.space, .msg_controllen = sizeof u.space};
    must(recvmsg(ctl[1], &r, 0) == 1 && (c = CMSG_FIRSTHDR(&r)) != NULL && c->cmsg_type == SCM_RIGHTS, "recvmsg");
    memcpy(&fds[0], CMSG_DATA(c), sizeof fds[0]);
    must(close(ctl[0]) == 0 && close(ctl[1]) == 0, "close");
}
HANDOFF(received_eventfd_clean, make_received_eventfd, efd_send, efd_take)

/* Sockets the program makes with socket and gets from accept: both ends
 * of a connection, and a datagram's sender and receiver, are different
 * sockets, ordered through the one clock all sockets share. Unix sockets
 * at abstract addresses (no file, no network needed), named by the pid so
 * that parallel runs do not meet. */
static socklen_t sock_addr(struct sockaddr_un *a, const char *tag)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "mg_hb_fd.%d.%s", (int)getpid(), tag);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

static int listener(struct sockaddr_un *a, socklen_t *len)
{
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    *len = sock_addr(a, "stream");
    must(l >= 0 && bind(l, (struct sockaddr *)a, *len) == 0 && listen(l, 1) == 0, "listen");
    return l;
}

/* fds[0] the accepted end (read), fds[1] the connecting one (written) */
static void make_stream(void)
{
    struct sockaddr_un a;
    socklen_t len;
    int l = listener(&a, &len);
    fds[1] = socket(AF_UNIX, SOCK_STREAM, 0);
    must(fds[1] >= 0 && connect(fds[1], (struct sockaddr *)&a, len) == 0, "connect");
    fds[0] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    must(fds[0] >= 0 && close(l) == 0, "accept4");
}
HANDOFF(unix_stream_clean, make_stream, pipe_send, pipe_take)

/* fds[0] bound, read; fds[1] connected to it, written */
static void make_dgram(void)
{
    struct sockaddr_un a;
    socklen_t len = sock_addr(&a, "dgram");
    fds[0] = socket(AF_UNIX, SOCK_DGRAM, 0);
    fds[1] = socket(AF_UNIX, SOCK_DGRAM, 0);
    must(fds[0] >= 0 && fds[1] >= 0 && bind(fds[0], (struct sockaddr *)&a, len) == 0 &&
             connect(fds[1], (struct sockaddr *)&a, len) == 0,
         "dgram");
}
static void mmsg_send(void)
{
    struct iovec v = {.iov_base = "x", .iov_len = 1};
    struct mmsghdr h = {.msg_hdr = {.msg_iov = &v, .msg_iovlen = 1}};
    must(sendmmsg(fds[1], &h, 1, 0) == 1, "sendmmsg");
}
static void mmsg_take(void)
{
    char c;
    struct iovec v = {.iov_base = &c, .iov_len = 1};
    struct mmsghdr h = {.msg_hdr = {.msg_iov = &v, .msg_iovlen = 1}};
    must(recvmmsg(fds[0], &h, 1, 0, NULL) == 1, "recvmmsg");
}
HANDOFF(unix_dgram_mmsg_clean, make_dgram, mmsg_send, mmsg_take)

/* The connection itself: main fills the map and connects; the consumer,
 * waiting in accept, reads the map once it has the connection. */
static void *acceptor(void *p)
{
    int c = accept((int)(intptr_t)p, NULL, NULL);
    must(c >= 0, "accept");
    look();
    must(close(c) == 0, "close");
    return NULL;
}
static void connect_accept_clean(void)
{
    make_map();
    struct sockaddr_un a;
    socklen_t len;
    int l = listener(&a, &len);
    pthread_t t;
    pthread_create(&t, NULL, acceptor, (void *)(intptr_t)l);
    put();
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    must(c >= 0 && connect(c, (struct sockaddr *)&a, len) == 0, "connect");
    pthread_join(t, NULL);
    must(close(c) == 0 && close(l) == 0, "close");
    gomap_free(M);
}

/* The read end read through copies of it: dup, dup2 to a number of the
 * program's choosing (replacing what was there), fcntl F_DUPFD_CLOEXEC.
 * The original is closed first, so only the copy names the pipe. */
static void pipe_dup(void)
{
    make_pipe();
    int c = dup(fds[0]);
    must(c >= 0 && close(fds[0]) == 0, "dup");
    fds[0] = c;
}
HANDOFF(dup_clean, pipe_dup, pipe_send, pipe_take)

static void pipe_dup2(void)
{
    make_pipe();
    int other = eventfd(0, 0); /* a followed object at the number first, replaced */
    must(other >= 0 && dup2(fds[0], 100) == 100 && dup2(other, 100) == 100 && dup2(fds[0], 100) == 100, "dup2");
    must(close(fds[0]) == 0 && close(other) == 0, "close");
    fds[0] = 100;
}
HANDOFF(dup2_clean, pipe_dup2, pipe_send, pipe_take)

static void pipe_fcntl(void)
{
    make_pipe();
    int c = fcntl(fds[0], F_DUPFD_CLOEXEC, 200);
    must(c >= 200 && close(fds[0]) == 0, "fcntl");
    fds[0] = c;
}
HANDOFF(fcntl_dupfd_clean, pipe_fcntl, pipe_send, pipe_take)

/* A vfork child that closes the pipe's read end (as a child does before
 * exec) shares its parent's memory, not its descriptors: the parent's read
 * end must still be followed. */
static void pipe_vfork(void)
{
    make_pipe();
    pid_t pid = vfork();
    if (pid == 0) {
        close(fds[0]);
        _exit(0);
    }
    must(pid > 0 && waitpid(pid, NULL, 0) == pid, "vfork");
}
HANDOFF(vfork_close_clean, pipe_vfork, pipe_send, pipe_take)

/* The consumer reads the map before it takes the byte: the handoff orders
 * nothing before it. */
static void *early_reader(void *p)
{
    int64_t k = 1;
    gomap_get(M, &k); /* @site:fd_early_get */
    signal_flag();
    pipe_take();
    return p;
}
static void race_on(void (*make)(void))
{
    make();
    pthread_t t;
    pthread_create(&t, NULL, early_reader, NULL);
    wait_flag();
    int64_t k = 1;
    gomap_set(M, &k, &k); /* @site:fd_late_set */
    pipe_send();
    pthread_join(t, NULL);
    gomap_free(M);
}
static void pipe_race(void)
{
    make_map();
    race_on(make_pipe);
}

/* Sockets share one clock, but a read of the map before the byte is
 * taken is still before it. */
static void unix_stream_race(void)
{
    make_map();
    race_on(make_stream);
}

/* A pipe written and closed, then a new pipe at the same numbers: the new
 * one starts with no clock. The writer of the first is ordered with no
 * one; the reader of the second only with main. */
static void *old_pipe_writer(void *p)
{
    put();
    pipe_send();
    must(close(fds[0]) == 0 && close(fds[1]) == 0, "close");
    signal_flag();
    return p;
}
static void closed_pipe_race(void)
{
    make_map();
    make_pipe();
    int first[2] = {fds[0], fds[1]};
    pthread_t w, t;
    pthread_create(&w, NULL, old_pipe_writer, NULL);
    wait_flag();
    make_pipe();
    must(fds[0] == first[0] && fds[1] == first[1], "the new pipe took the old numbers");
    take_byte = pipe_take;
    pthread_create(&t, NULL, consumer, NULL);
    pipe_send();
    pthread_join(t, NULL);
    pthread_join(w, NULL);
    gomap_free(M);
}

/* A record set up by one thread and registered with epoll, its address in
 * the event's data, then taken by another thread from epoll_wait (a
 * server's acceptor and worker): the registration orders the worker's
 * reads. The descriptor registered is an eventfd made readable when it
 * was made, so no write to it orders anything. */
static int epfd;
static int wait_events(void)
{
    struct epoll_event ev;
    int n = epoll_wait(epfd, &ev, 1, -1);
    must(n == 1 && ev.data.ptr == M, "epoll_wait");
    return n;
}
static void *epoll_worker(void *p)
{
    wait_events();
    look();
    return p;
}
static void register_map(void)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = M};
    must(epoll_ctl(epfd, EPOLL_CTL_ADD, fds[0], &ev) == 0, "epoll_ctl");
}
static void epoll_setup(int create1)
{
    make_map();
    epfd = create1 ? epoll_create1(EPOLL_CLOEXEC) : epoll_create(1);
    fds[0] = eventfd(1, 0);
    must(epfd >= 0 && fds[0] >= 0, "epoll_create");
}
static void epoll_clean(void)
{
    epoll_setup(0);
    pthread_t t;
    pthread_create(&t, NULL, epoll_worker, NULL);
    put();
    register_map();
    pthread_join(t, NULL);
    gomap_free(M);
}

/* epoll_pwait, and a map write after the registration: not ordered
 * before the worker's read. The worker reads once main has written
 * (atomics), so the read is the later call. */
static void *epoll_late_worker(void *p)
{
    struct epoll_event ev;
    must(epoll_pwait(epfd, &ev, 1, -1, NULL) == 1, "epoll_pwait");
    wait_flag();
    look();
    return p;
}
static void epoll_race(void)
{
    epoll_setup(1);
    pthread_t t;
    pthread_create(&t, NULL, epoll_late_worker, NULL);
    register_map();
    put();
    signal_flag();
    pthread_join(t, NULL);
    gomap_free(M);
}

/* More pipes made, written and closed than the engine's table of sync
 * objects holds (16384) and than the shim has ids for pipes (65536),
 * while threads are followed: each last close gives the pipe's entry and
 * id back, so the table never fills (which would order every unknown
 * object after every other and hide a race) and a new pipe is still
 * followed (or its handoff would be reported). */
static void *idle(void *p)
{
    wait_flag();
    return p;
}
static void many_pipes(void)
{
    make_map();
    pthread_t t;
    pthread_create(&t, NULL, idle, NULL);
    for (int i = 0; i < 70000; i++) {
        make_pipe();
        pipe_send();
        must(close(fds[0]) == 0 && close(fds[1]) == 0, "close");
    }
    signal_flag();
    pthread_join(t, NULL);
    atomic_store(&flag, 0);
}
static void many_pipes_race(void)
{
    many_pipes();
    race_on(make_pipe);
}
static void many_pipes_clean(void)
{
    many_pipes();
    gomap_free(M);
    pipe_clean();
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {
        {"pipe_clean", pipe_clean},
        {"pipe2_iov_clean", pipe2_iov_clean},
        {"eventfd_clean", eventfd_clean},
        {"eventfd_read_write_clean", eventfd_read_write_clean},
        {"socketpair_clean", socketpair_clean},
        {"socketpair_msg_clean", socketpair_msg_clean},
        {"socketpair_to_from_clean", socketpair_to_from_clean},
        {"pipe_pv2_clean", pipe_pv2_clean},
        {"empty_datagram_clean", empty_datagram_clean},
        {"received_eventfd_clean", received_eventfd_clean},
        {"unix_stream_clean", unix_stream_clean},
        {"unix_dgram_mmsg_clean", unix_dgram_mmsg_clean},
        {"connect_accept_clean", connect_accept_clean},
        {"unix_stream_race", unix_stream_race},
        {"dup_clean", dup_clean},
        {"dup2_clean", dup2_clean},
        {"fcntl_dupfd_clean", fcntl_dupfd_clean},
        {"vfork_close_clean", vfork_close_clean},
        {"epoll_clean", epoll_clean},
        {"epoll_race", epoll_race},
        {"pipe_race", pipe_race},
        {"closed_pipe_race", closed_pipe_race},
        {"many_pipes_race", many_pipes_race},
        {"many_pipes_clean", many_pipes_clean},
    };
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
