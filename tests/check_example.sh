#!/bin/sh
# The README's usage example (examples/wordcount.c) must build and print
# each word's count, in whatever order the map iterates.
set -eu
out=$("$1" | sort)
want=$(printf 'map 3\nread 1\nwrite 1')
if [ "$out" != "$want" ]; then
    echo "check_example: FAIL: $1 printed:" >&2
    echo "$out" >&2
    exit 1
fi
echo "check_example: ok: the README example counts words"
