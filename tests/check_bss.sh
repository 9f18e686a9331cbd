#!/bin/sh
# libmapguard.so's small zero-initialized variables must come before its
# large tables in .bss (MG_LARGE_BSS in shim/common.h, --sort-section=name
# in the Makefile): start-up writes the small ones in every process, and
# a table of 4 KiB or more left among them (one defined without
# MG_LARGE_BSS) spreads them over more pages, each a page fault. Fail if a
# .bss object of 4 KiB or more lies below a smaller one.
set -eu
lib=${1:-build/lib/libmapguard.so}
[ -f "$lib" ] || { echo "check_bss: $lib not built" >&2; exit 1; }
# the .bss section's address and size (hex), from the section headers
set -- $(readelf -SW "$lib" | sed -n 's/.*\] \.bss  *NOBITS  *\([0-9a-f]*\) [0-9a-f]* \([0-9a-f]*\) .*/\1 \2/p')
[ $# -eq 2 ] || { echo "check_bss: FAIL: no .bss in $lib" >&2; exit 1; }
lo=$((0x$1)) hi=$((0x$1 + 0x$2))
# nm: address size type name, by address; the objects inside .bss (not
# .tbss's, whose addresses are offsets), sizes in decimal
nm -S -n "$lib" | while read -r addr size type name; do
    case $type in b | B) ;; *) continue ;; esac
    a=$((0x$addr))
    [ "$a" -ge "$lo" ] && [ "$a" -lt "$hi" ] && echo "$((0x$size)) $name"
done | awk -v lib="$lib" '
    {
        n++
        if ($1 >= 4096) { if (first_big == "") first_big = $2 }
        else if (first_big != "" && nlate++ < 10) late = late " " $2
    }
    END {
        if (!n) { print "check_bss: FAIL: no .bss objects found in " lib; exit 1 }
        if (late != "") {
            print "check_bss: FAIL: " nlate " small variables after the large table " first_big ", among them" late
            exit 1
        }
        print "check_bss: ok: " n " .bss objects, the small ones before the first large table (" first_big ")"
    }'
