/*
 * JSON lines formatted by hand into a caller's buffer (jsonline.c), for the
 * few fixed records that must not touch stdio, malloc or jansson: exec's
 * records, hello, and the summary of a clean run.
 */
#ifndef MAPGUARD_JSONLINE_H
#define MAPGUARD_JSONLINE_H

#include <stdbool.h>
#include <stddef.h>

#include "utf8.h" /* mg_utf8_valid, for the callers that check a string first */

#define MG_LINE_CAP 4096
/* room mg_put_str leaves for the fields after the string and the closing
 * brace */
#define MG_LINE_TAIL_ROOM 256

struct mg_line {
    char buf[MG_LINE_CAP];
    size_t n;
};

/* Raw text, cut to keep two bytes for mg_line_end. */
void mg_put(struct mg_line *l, const char *s);
void mg_put_int(struct mg_line *l, long long v);
/* A JSON string. Bytes that are not UTF-8 become U+FFFD. Returns false
 * when the string had to be cut to leave MG_LINE_TAIL_ROOM. */
bool mg_put_str(struct mg_line *l, const char *s);
/* The closing "}\n". */
void mg_line_end(struct mg_line *l);
/* v in decimal, in d; returns where it starts. */
const char *mg_decimal(char d[24], long long v);
/* "<log_path>.<pid>" into out, which has room for strlen(mg_opt.log_path)
 * + 26 bytes. */
void mg_log_file_name(char *out, long long pid);

#endif
