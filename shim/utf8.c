/*
 * UTF-8 validity, for text that must be UTF-8: JSON strings (jsonline.c)
 * and suppressions files (suppress_file.c, also in the mapguard command).
 */
#include "utf8.h"

/* RFC 3629's table of well-formed sequences: the second byte's range
 * depends on the first. */
size_t mg_utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

bool mg_utf8_valid(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        size_t k = *s < 0x80 ? 1 : mg_utf8_len(s);
        if (!k)
            return false;
        s += k;
    }
    return true;
}
