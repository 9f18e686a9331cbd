/*
 * Where reports go (output.c): stderr, stdout, or log_path.<pid>, opened on
 * first use. Every function here is called with the report lock held
 * (dedup.h).
 */
#ifndef MAPGUARD_OUTPUT_H
#define MAPGUARD_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

/* The report descriptor, opened (or chosen) on first use. */
int mg_out_fd(void);
/* Is the descriptor log_path.<pid>? Records that only prove the process
 * was watched go there, never to the terminal, not even when the file
 * could not be opened. */
bool mg_out_to_file(void);
/* The longest line that lands whole on the descriptor: 0 (no bound) on a
 * regular file, PIPE_BUF on anything else. */
size_t mg_out_line_max(void);
/* All of buf, retrying short writes and EINTR; one write(2) when it can.
 * A record that reports something: a log file that could not be opened
 * is said on stderr first, once (output.c). */
void mg_out_write(const char *buf, size_t n);
/* The same for a record that only proves the process was watched (the
 * hello, the summary of a clean run): it says nothing on stderr. */
void mg_out_write_quiet(const char *buf, size_t n);
/* The child of a fork opens a log file of its own (".<pid>"). */
void mg_out_atfork_child(void);

#endif
