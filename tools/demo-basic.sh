#!/bin/sh
# `make demo` before demo/ exists: build and run the README's example.
set -eu
build=${1:-build}
mkdir -p "$build/examples"
cc -std=c11 -Wall -Wextra -Werror -Isrc -o "$build/examples/wordcount" examples/wordcount.c \
    -L"$build/lib" -lgomap -Wl,-rpath,"$(cd "$build/lib" && pwd)"
echo "== examples/wordcount.c (iteration order is random, as in Go)"
"$build/examples/wordcount"
