/*
 * UTF-8 validity (utf8.c): JSON text must be UTF-8, and so must a
 * suppressions file; a path is any bytes but '/' and NUL.
 */
#ifndef MAPGUARD_UTF8_H
#define MAPGUARD_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence of two bytes or more at s, or 0 (an
 * ASCII byte, a stray continuation byte, an overlong form, a surrogate). */
size_t mg_utf8_len(const unsigned char *s);
/* Is s UTF-8 throughout? */
bool mg_utf8_valid(const char *s);

#endif
