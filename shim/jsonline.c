/*
 * A hand-written JSON writer, for a few records of fixed shape.
 *
 * Findings are built with jansson: they are rare, their stacks and names
 * are of any size, and memory is then not the concern. These records are
 * different:
 *
 *  - exec, exec-failed and spawn (exec.c) are written in a forked or
 *    vforked child, where only async-signal-safe calls are allowed: no
 *    malloc, no jansson, no stdio.
 *  - hello and the summary of a clean run are written by every process
 *    under `mapguard run`, most of which never report anything. The first
 *    use of jansson and snprintf touches their code and data and libc's
 *    printf and locale machinery, about 400 KiB of resident memory that a
 *    program paid for nothing it was told.
 *
 * So these go into a stack buffer, with their one string field escaped
 * here, and leave with one write(2) as every report does.
 */
#include "jsonline.h"
#include "options.h"
#include "utf8.h"

#include <string.h>

void mg_put(struct mg_line *l, const char *s)
{
    size_t k = strlen(s), room = MG_LINE_CAP - 2 - l->n;
    if (k > room)
        k = room;
    memcpy(l->buf + l->n, s, k);
    l->n += k;
}

const char *mg_decimal(char d[24], long long v)
{
    int i = 23;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    d[i] = 0;
    do
        d[--i] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        d[--i] = '-';
    return d + i;
}

void mg_put_int(struct mg_line *l, long long v)
{
    char d[24];
    mg_put(l, mg_decimal(d, v));
}

void mg_line_end(struct mg_line *l)
{
    l->buf[l->n++] = '}';
    l->buf[l->n++] = '\n';
}

bool mg_put_str(struct mg_line *l, const char *str)
{
    static const char hexd[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    bool whole = true;
    l->buf[l->n++] = '"';
    while (*s) {
        char esc[6];
        const char *piece = esc;
        size_t k, adv = 1;
        if (*s == '"' || *s == '\\') {
            esc[0] = '\\', esc[1] = (char)*s, k = 2;
        } else if (*s < 0x20) {
            esc[0] = '\\', esc[1] = 'u', esc[2] = '0', esc[3] = '0';
            esc[4] = hexd[*s >> 4], esc[5] = hexd[*s & 15], k = 6;
        } else if (*s < 0x80) {
            piece = (const char *)s, k = 1;
        } else if ((adv = mg_utf8_len(s)) != 0) {
            piece = (const char *)s, k = adv;
        } else {
            piece = "\\ufffd", k = 6, adv = 1;
        }
        if (l->n + k + MG_LINE_TAIL_ROOM > MG_LINE_CAP) {
            whole = false;
            break;
        }
        memcpy(l->buf + l->n, piece, k);
        l->n += k;
        s += adv;
    }
    l->buf[l->n++] = '"';
    return whole;
}

void mg_log_file_name(char *out, long long pid)
{
    size_t plen = strlen(mg_opt.log_path);
    char d[24];
    const char *num = mg_decimal(d, pid);
    memcpy(out, mg_opt.log_path, plen);
    out[plen] = '.';
    memcpy(out + plen + 1, num, strlen(num) + 1);
}
