#!/bin/sh
# Installs the Debian packages the build needs, but only those missing.
# As root it runs apt-get; otherwise it prints the one line to run and fails,
# so `make test` stops with an actionable message instead of a compiler error.
#
# usage: tools/deps.sh [extra-package ...]
set -eu

# pkg-config module -> Debian package
need=""
check_pc() {
    pkg-config --exists "$1" 2>/dev/null || need="$need $2"
}
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
if command -v pkg-config >/dev/null 2>&1; then
    check_pc libunwind libunwind-dev
    check_pc libdw libdw-dev
    check_pc jansson libjansson-dev
    check_pc criterion libcriterion-dev
    check_pc glib-2.0 libglib2.0-dev
    check_pc htslib libhts-dev
fi
# GLib's tools (gio, gsettings, gdbus): the GHashTable tests run them.
command -v gio >/dev/null 2>&1 || need="$need libglib2.0-bin"
command -v cc >/dev/null 2>&1 || need="$need gcc"
# LLVM's OpenMP runtime, for the test program clang builds with -fopenmp.
[ -e /usr/lib/llvm-14/lib/libomp.so ] || need="$need libomp-14-dev"
command -v make >/dev/null 2>&1 || need="$need make"
# Extra tools named by the caller (e.g. valgrind for bench-compare),
# given as command:package pairs (the command may be an absolute path).
for pair in "$@"; do
    cmd=${pair%%:*}; pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || need="$need $pkg"
done

[ -z "$need" ] && exit 0

if [ "$(id -u)" = 0 ]; then
    echo "deps: installing$need" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $need >&2
else
    echo "deps: missing packages; run:" >&2
    echo "  sudo apt-get install -y$need" >&2
    exit 1
fi
