#!/bin/sh
# The detector's overhead against issue 3's budget: runs each workload of
# shim_overhead plain and under LD_PRELOAD=libmapguard.so, alternating the
# two so that load from other processes hits both alike, and prints the
# medians and their ratios.
#
# usage: tests/bench/shim_overhead.sh [BUILD_DIR] [RUNS] [SCALE]
#   RUNS   runs per side and workload (default 5, at least 5 for the docs)
#   SCALE  multiplies the work per run (default 1)
#   WRITE=1  also replace the shim-bench section of docs/performance.md
# POSIX sh and awk only.
set -eu

build=${1:-build}
runs=${2:-5}
scale=${3:-1}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$build/bench/shim_overhead
shim=$(cd "$build/lib" && pwd)/libmapguard.so

for f in "$bin" "$shim"; do
    if [ ! -e "$f" ]; then
        echo "shim_overhead.sh: $f is not built; run: make shim $bin" >&2
        exit 1
    fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for w in mixed1k mixed1m mutex2 maps1m; do
    i=0
    while [ "$i" -lt "$runs" ]; do
        "$bin" "$w" "$scale" >>"$tmp/$w.plain"
        LD_PRELOAD=$shim "$bin" "$w" "$scale" >>"$tmp/$w.shim"
        i=$((i + 1))
    done
done

# median of column $2 of a file
median() {
    sort -t "$(printf '\t')" -k"$2","$2"n "$1" | awk -F'\t' -v c="$2" '{ v[NR] = $c }
        END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# "ratio | budget | result" cells for mapguard's figure a against plain b
verdict() {
    awk -v a="$1" -v b="$2" -v lim="$3" 'BEGIN {
        r = a / b
        res = lim == "-" ? "-" : (sprintf("%.2f", r) + 0 <= lim + 0 ? "within" : "**over**")
        printf "%.2fx | %sx | %s", r, lim, res
    }'
}

table=$tmp/table.md
{
    echo "| workload | plain | mapguard | ratio | budget | result |"
    echo "|---|---|---|---|---|---|"
    for w in mixed1k mixed1m mutex2 maps1m; do
        case $w in
        mixed1k) what="one thread, mixed get/set/delete, 1,000-key map (ns/op)"; budget=1.5 ;;
        mixed1m) what="one thread, mixed get/set/delete, 1,000,000-key map (ns/op)"; budget=1.2 ;;
        mutex2) what="two threads, each with a mutex-protected map (ns/op)"; budget=1.3 ;;
        maps1m) what="a million small maps: time per map (ns)"; budget="-" ;;
        esac
        p=$(median "$tmp/$w.plain" 2)
        s=$(median "$tmp/$w.shim" 2)
        echo "| $what | $p | $s | $(verdict "$s" "$p" "$budget") |"
    done
    for w in mixed1m maps1m; do
        p=$(median "$tmp/$w.plain" 3)
        s=$(median "$tmp/$w.shim" 3)
        echo "| peak RSS, $w (KiB) | $p | $s | $(verdict "$s" "$p" 1.2) |"
    done
} >"$table"

cat "$table"

if [ "${WRITE:-0}" = 1 ]; then
    doc=$root/docs/performance.md
    sec=$tmp/section.md
    {
        echo "<!-- BEGIN shim-bench -->"
        echo "## mapguard's overhead"
        echo
        echo "Medians of $runs alternating runs per side (scale $scale), $(date -u '+%Y-%m-%d'),"
        echo "$(nproc) CPUs ($(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)); a shared machine."
        echo "Produced by \`tests/bench/shim_overhead.sh\`; plain is the program alone,"
        echo "mapguard the same binary under \`LD_PRELOAD=build/lib/libmapguard.so\`."
        echo
        cat "$table"
        echo "<!-- END shim-bench -->"
    } >"$sec"
    if [ -f "$doc" ] && grep -q '<!-- BEGIN shim-bench -->' "$doc"; then
        awk -v secfile="$sec" '
            /<!-- BEGIN shim-bench -->/ { while ((getline l < secfile) > 0) print l; skip = 1; next }
            /<!-- END shim-bench -->/ { skip = 0; next }
            !skip { print }' "$doc" >"$tmp/doc" && cat "$tmp/doc" >"$doc"
    else
        { echo; cat "$sec"; } >>"$doc"
    fi
    echo "wrote $doc"
fi
