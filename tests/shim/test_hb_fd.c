/*
 * Pipes, eventfds and sockets as synchronization (shim/fd_sync.c),
 * against tests/progs/mg_hb_fd.c: a map handed from one thread to another
 * by a byte through each kind of descriptor, and each way of copying one,
 * is clean, and so are a connection's accept after its connect and a
 * record registered with epoll and taken from epoll_wait; a read before
 * the handoff (through a pipe, through a connection), a write after the registration,
 * a pipe closed and made again at the same numbers, and a race after more
 * pipes than the engine's table holds are still reported, with both
 * lines.
 */
#include "harness.h"

#define PROG "mg_hb_fd"

static void clean(const char *scenario) { assert_scenario_clean(PROG, scenario, "(2: a system call failed)"); }

Test(hb_fd, a_pipe_orders_its_reader_after_its_writer) { clean("pipe_clean"); }
Test(hb_fd, pipe2_with_writev_and_readv_orders) { clean("pipe2_iov_clean"); }
Test(hb_fd, an_eventfd_orders_through_eventfd_write_and_eventfd_read) { clean("eventfd_clean"); }
Test(hb_fd, an_eventfd_orders_through_write_and_read) { clean("eventfd_read_write_clean"); }
Test(hb_fd, a_socket_pair_orders_through_send_and_recv) { clean("socketpair_clean"); }
Test(hb_fd, a_socket_pair_orders_through_sendmsg_and_recvmsg) { clean("socketpair_msg_clean"); }
Test(hb_fd, a_socket_pair_orders_through_sendto_and_recvfrom) { clean("socketpair_to_from_clean"); }
Test(hb_fd, a_pipe_orders_through_pwritev2_and_preadv2_at_the_current_position) { clean("pipe_pv2_clean"); }
Test(hb_fd, a_datagram_of_no_bytes_orders_its_receiver) { clean("empty_datagram_clean"); }
Test(hb_fd, an_eventfd_received_over_a_unix_socket_orders) { clean("received_eventfd_clean"); }
Test(hb_fd, a_unix_stream_connection_orders_its_two_ends) { clean("unix_stream_clean"); }
Test(hb_fd, unix_datagrams_order_through_sendmmsg_and_recvmmsg) { clean("unix_dgram_mmsg_clean"); }
Test(hb_fd, a_connect_orders_the_accept_that_takes_it) { clean("connect_accept_clean"); }
Test(hb_fd, a_dup_of_the_read_end_orders) { clean("dup_clean"); }
Test(hb_fd, a_dup2_over_another_followed_descriptor_orders) { clean("dup2_clean"); }
Test(hb_fd, an_fcntl_dupfd_of_the_read_end_orders) { clean("fcntl_dupfd_clean"); }
Test(hb_fd, a_vfork_child_closing_the_read_end_leaves_the_parents_alone) { clean("vfork_close_clean"); }

Test(hb_fd, an_epoll_registration_orders_the_wait_that_returns_its_event) { clean("epoll_clean"); }

Test(hb_fd, a_write_after_the_epoll_registration_races_with_the_waiter)
{
    assert_scenario_unordered(PROG, "epoll_race", "concurrent-read-write", "get", "fd_get", "set", "fd_set");
}

Test(hb_fd, a_read_of_the_map_before_the_handoff_races)
{
    assert_scenario_unordered(PROG, "pipe_race", "concurrent-read-write", "set", "fd_late_set", "get",
                              "fd_early_get");
}

Test(hb_fd, a_read_of_the_map_before_a_socket_handoff_races)
{
    assert_scenario_unordered(PROG, "unix_stream_race", "concurrent-read-write", "set", "fd_late_set", "get",
                              "fd_early_get");
}

Test(hb_fd, a_pipe_made_again_at_the_same_numbers_starts_with_no_clock)
{
    assert_scenario_unordered(PROG, "closed_pipe_race", "concurrent-read-write", "get", "fd_get", "set", "fd_set");
}

/* 70,000 pipes made, written and closed first: without their entries given
 * back the table would fill, the shim would say so at exit, and the
 * shared fallback clock would hide this race; without their ids given
 * back, the next pipe would not be followed and its handoff reported. */
Test(hb_fd, pipes_by_the_thousand_leave_the_table_empty)
{
    struct run r;
    run_prog(&r, PROG, "many_pipes_race", NULL);
    assert_one_unordered(&r, PROG, "many_pipes_race", "concurrent-read-write", "set", "fd_late_set", "get",
                         "fd_early_get");
    cr_assert_null(strstr(r.err, "synchronization objects"), "the table filled:\n%s", r.err);
    run_free(&r);
}

Test(hb_fd, pipes_by_the_thousand_leave_ids_for_the_next) { clean("many_pipes_clean"); }
