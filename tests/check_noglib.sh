#!/bin/sh
# libmapguard.so interposes GLib's functions by name and finds the real ones
# at run time (shim/glib_sync.c): it must never link GLib, or every process
# it is preloaded into would load GLib. Fail if it needs any GLib library.
set -eu
lib=${1:-build/lib/libmapguard.so}
[ -f "$lib" ] || { echo "check_noglib: $lib not built" >&2; exit 1; }
bad=$(readelf -dW "$lib" | grep NEEDED | grep -E 'lib(glib|gobject|gio|gthread|gmodule)-2\.0' || true)
if [ -n "$bad" ]; then
    echo "check_noglib: FAIL: $lib links GLib:" >&2
    echo "$bad" >&2
    exit 1
fi
n=$(readelf -W --dyn-syms "$lib" | awk '$5=="GLOBAL" && $7!="UND" && $8 ~ /^g_(mutex|cond|async_queue|thread_pool|idle|timeout|main_context|source|task|once)_/' | wc -l)
[ "$n" -ge 50 ] || { echo "check_noglib: FAIL: only $n GLib wrappers exported" >&2; exit 1; }
echo "check_noglib: ok: $n GLib wrappers exported, no GLib library needed"
