#!/bin/sh
# Issue 13, item 5: real GLib tools under the shim keep their output and
# exit status, make no finding, and take at most 1.2x the time. Each
# command is run plain and under LD_PRELOAD=libmapguard.so, alternating
# (tools_timer.c), RUNS times per side; the medians and their ratio are
# printed. /bin/true is the shim's bare start-up and exit cost (no budget).
# Before timing, each command is run once per side to compare stdout and
# the exit status, the shim's run with log_path in a temporary directory:
# its logs must hold a summary with "findings":0 and no finding.
#
# usage: tests/bench/tools_overhead.sh [BUILD_DIR] [RUNS]
#   RUNS     runs per side and command (default 21)
#   WRITE=1  also replace the tools-bench section of docs/performance.md
#   MAPGUARD_SHIM=PATH  the libmapguard.so to measure instead of
#            BUILD_DIR/lib/libmapguard.so
# Commands whose program is missing (no libglib2.0-bin) are skipped.
# POSIX sh and awk only.
set -eu

build=${1:-build}
runs=${2:-21}
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/bench/lib.sh"
timer=$build/bench/tools_timer
bench_shim "$build"
for f in "$timer" "$shim"; do
    if [ ! -e "$f" ]; then
        echo "tools_overhead.sh: $f is not built; run: make shim $timer" >&2
        exit 1
    fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset LD_PRELOAD MAPGUARD_OPTIONS 2>/dev/null || true
# no session bus: gdbus's run is the error it makes without one, every time
DBUS_SESSION_BUS_ADDRESS=unix:path=$tmp/no-bus
export DBUS_SESSION_BUS_ADDRESS

# one command per line: budget, then the command
cmds='- /bin/true
1.2 gio info /etc/hostname
1.2 gsettings list-schemas
1.2 gdbus introspect --session --dest org.example --object-path /'

bench_machine
failed=0
table=$tmp/table.md
{
    echo "| command | plain (ms) | mapguard (ms) | ratio | budget | result | output, status, findings |"
    echo "|---|---|---|---|---|---|---|"
} >"$table"
echo "$cmds" | while read -r budget cmd; do
    # shellcheck disable=SC2086 # the command's words
    set -- $cmd
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "| \`$cmd\` | - | - | - | ${budget}x | skipped: no $1 | - |" >>"$table"
        continue
    fi
    st=0
    "$@" >"$tmp/out.plain" 2>/dev/null || st=$?
    rm -rf "$tmp/log" && mkdir "$tmp/log"
    sst=0
    MAPGUARD_OPTIONS=log_path=$tmp/log/mg LD_PRELOAD=$shim "$@" >"$tmp/out.shim" 2>/dev/null || sst=$?
    same=same
    if [ "$st" != "$sst" ]; then
        same="**status $sst, plain $st**"
    elif ! cmp -s "$tmp/out.plain" "$tmp/out.shim"; then
        same="**output differs**"
    elif [ -z "$(ls "$tmp/log")" ] || ! cat "$tmp/log"/* | grep -q '"kind":"summary".*"findings":0,' ||
        cat "$tmp/log"/* | grep -v '"kind":"\(hello\|summary\|exec\|exec-failed\|spawn\)"' | grep -q .; then
        same="**findings or no summary**"
    else
        same="same (status $st), 0 findings"
    fi
    times=$("$timer" "$runs" "$shim" "$@")
    p=${times%%"	"*}
    s=${times#*"	"}
    cells=$(awk -v a="$s" -v b="$p" -v lim="$budget" 'BEGIN {
        r = a / b
        res = lim == "-" ? "-" : (sprintf("%.2f", r) + 0 <= lim + 0 ? "within" : "**over**")
        printf "%.2fx | %s | %s", r, lim == "-" ? "-" : lim "x", res
    }')
    echo "| \`$cmd\` | $p | $s | $cells | $same |" >>"$table"
done
cat "$table"
# a time over budget is reported, not failed (a shared machine's load);
# a changed output or status, or a finding, fails the run
grep -q '\*\*\(status\|output\|findings\)' "$table" && failed=1

if [ "${WRITE:-0}" = 1 ]; then
    sec=$tmp/section.md
    {
        echo "<!-- BEGIN tools-bench -->"
        echo "## Real GLib tools under mapguard (issue 13)"
        echo
        echo "Medians of $runs alternating runs per side, wall time of fork+exec+wait"
        echo "(\`tests/bench/tools_timer.c\`), $date_utc, $ncpu CPUs ($cpu), a shared VM,"
        echo "load average $load; $kernel, $glibc. Produced by \`make bench\`"
        echo "(\`tests/bench/tools_overhead.sh $build $runs\`); plain is the command alone,"
        echo "mapguard the same command under \`LD_PRELOAD=${shim#"$root"/}\`. The last column"
        echo "compares one run per side: stdout and exit status, and the shim's logs"
        echo "(\`log_path\`) hold a summary with 0 findings and no finding. No session bus:"
        echo "\`gdbus\` exits with its error, as it does plain."
        echo
        cat "$table"
        echo "<!-- END tools-bench -->"
    } >"$sec"
    bench_write_section tools-bench "$sec" "$root/docs/performance.md"
    echo "wrote $root/docs/performance.md"
fi
exit "$failed"
