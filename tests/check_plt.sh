#!/bin/sh
# The shim interposes every exported gomap_* symbol. If libgomap.so called
# its own exports through the PLT, one user call would look like several
# nested calls to the shim. Fail if any JUMP_SLOT (or GLOB_DAT) relocation
# names a gomap_* symbol.
set -eu
lib=${1:-build/lib/libgomap.so}
[ -f "$lib" ] || { echo "check_plt: $lib not built" >&2; exit 1; }
bad=$(readelf -rW "$lib" | grep -E 'JUMP_SLOT|GLOB_DAT' | grep -E '[[:space:]]gomap_' || true)
if [ -n "$bad" ]; then
    echo "check_plt: FAIL: $lib calls its own exports through the PLT/GOT:" >&2
    echo "$bad" >&2
    exit 1
fi
n=$(readelf -W --dyn-syms "$lib" | awk '$5=="GLOBAL" && $7!="UND" && $8 ~ /^gomap_/' | wc -l)
[ "$n" -ge 18 ] || { echo "check_plt: FAIL: only $n exported gomap_* symbols" >&2; exit 1; }
echo "check_plt: ok: $n exported gomap_* symbols, none called through the PLT"
