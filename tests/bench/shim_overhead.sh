#!/bin/sh
# The detector's overhead against the budgets of issue 3 and issue 12: runs
# each workload of shim_overhead plain and under LD_PRELOAD=libmapguard.so,
# alternating the two so that load from other processes hits both alike,
# and prints the medians and their ratios.
#
# usage: tests/bench/shim_overhead.sh [BUILD_DIR] [RUNS] [SCALE]
#   RUNS   runs per side and workload (default 5, at least 5 for the docs)
#   SCALE  multiplies the work per run (default 1)
#   WRITE=1  also replace the shim-bench section of docs/performance.md
#   WORKLOADS="shared1k locks"  run only these workloads (default: all)
#   MAPGUARD_SHIM=PATH  the libmapguard.so to measure instead of
#            BUILD_DIR/lib/libmapguard.so, e.g. another worktree's build.
#            If its directory also holds libgomap.so, both sides (plain
#            and mapguard) load that libgomap.so (LD_LIBRARY_PATH; the
#            binary's RUNPATH yields to it), since a shim is built for its
#            own libgomap's tool words.
#   MAPGUARD_SHIM_OPTIONS=OPTS  MAPGUARD_OPTIONS for the mapguard runs
#            only, e.g. happens_before=1
# With mixed1m, a line under the table gives wrapper_ab's measure of the
# same loop in one process (tests/bench/wrapper_ab.c), when it is built.
# POSIX sh and awk only.
set -eu

build=${1:-build}
runs=${2:-5}
scale=${3:-1}
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/bench/lib.sh"
bin=$build/bench/shim_overhead
bench_shim "$build"
shimopts=${MAPGUARD_SHIM_OPTIONS:-}
all="mixed1k mixed1m mutex2 maps1m shared1k locks mutexes ghash1k"
workloads=${WORKLOADS:-$all}
bench_machine # the load before the runs
for w in $workloads; do
    case " $all " in *" $w "*) ;; *) echo "shim_overhead.sh: unknown workload '$w' (known: $all)" >&2; exit 2 ;; esac
done

for f in "$bin" "$shim"; do
    if [ ! -e "$f" ]; then
        echo "shim_overhead.sh: $f is not built; run: make shim $bin" >&2
        exit 1
    fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Nothing from the caller's environment changes what the runs do, apart
# from the variables above.
unset LD_PRELOAD MAPGUARD_OPTIONS 2>/dev/null || true
if [ -n "$libpath" ]; then
    LD_LIBRARY_PATH=$libpath${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export LD_LIBRARY_PATH
fi
run_plain() { "$bin" "$w" "$scale" >>"$tmp/$w.plain"; }
run_shim() {
    if [ -n "$shimopts" ]; then
        MAPGUARD_OPTIONS=$shimopts LD_PRELOAD=$shim "$bin" "$w" "$scale" >>"$tmp/$w.shim"
    else
        LD_PRELOAD=$shim "$bin" "$w" "$scale" >>"$tmp/$w.shim"
    fi
}
# Which side goes first alternates too, so that neither always runs right
# after the other (warm caches, a load burst that starts mid-pair).
for w in $workloads; do
    i=0
    while [ "$i" -lt "$runs" ]; do
        if [ $((i % 2)) = 0 ]; then run_plain; run_shim; else run_shim; run_plain; fi
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
    for w in $workloads; do
        case $w in
        mixed1k) what="one thread, mixed get/set/delete, 1,000-key map (ns/op)"; budget=1.5 ;;
        mixed1m) what="one thread, mixed get/set/delete, 1,000,000-key map (ns/op)"; budget=1.2 ;;
        mutex2) what="two threads, each with a mutex-protected map (ns/op)"; budget=1.3 ;;
        maps1m) what="a million small maps: time per map (ns)"; budget="-" ;;
        shared1k) what="map under a mutex: two threads, one 1,000-key map, lock, get or set, unlock (ns/op)"; budget=1.5 ;;
        locks) what="locks, no map: mutex, condvar ping-pong, rwlock, semaphore (ms, whole workload)"; budget=1.1 ;;
        mutexes) what="a mutex made for each operation: two threads, init, lock, set, unlock, destroy (ns/round)"; budget="-" ;;
        ghash1k) what="GLib GHashTable, one thread, mixed lookup/insert/remove, 1,000 keys (ns/op)"; budget=1.3 ;;
        esac
        p=$(median "$tmp/$w.plain" 2)
        s=$(median "$tmp/$w.shim" 2)
        echo "| $what | $p | $s | $(verdict "$s" "$p" "$budget") |"
        [ "$w" = locks ] || continue
        # where the locks row's time goes; no budget of their own
        c=4
        for what in "uncontended mutex lock+unlock" "condvar ping-pong round trip" \
            "rwlock rdlock+unlock+wrlock+unlock" "sem_post+sem_wait"; do
            p=$(median "$tmp/$w.plain" $c)
            s=$(median "$tmp/$w.shim" $c)
            echo "| - of which: $what (ns) | $p | $s | $(verdict "$s" "$p" -) |"
            c=$((c + 1))
        done
    done
    for w in mixed1m maps1m; do
        case " $workloads " in *" $w "*) ;; *) continue ;; esac
        p=$(median "$tmp/$w.plain" 3)
        s=$(median "$tmp/$w.shim" 3)
        echo "| peak RSS, $w (KiB) | $p | $s | $(verdict "$s" "$p" 1.2) |"
    done
} >"$table"

# mixed1m's loop once more, both sides in one process (wrapper_ab.c): the
# wrappers' own cost, without the drift of the machine between processes
ab=$tmp/ab.md
: >"$ab"
case " $workloads " in
*" mixed1m "*)
    if [ -x "$build/bench/wrapper_ab" ]; then
        env ${shimopts:+MAPGUARD_OPTIONS=$shimopts} LD_PRELOAD=$shim "$build/bench/wrapper_ab" | awk -F'\t' '{
            split($1, d, " "); split($2, w, " "); split($3, r, " ")
            printf "\nThe same 1,000,000-key loop in one process, in alternating chunks through the\n"
            printf "wrappers and through libgomap'"'"'s own functions (`wrapper_ab`): %s against %s\n", w[2], d[2]
            printf "ns/op, %.2fx.\n", r[2]
        }' >"$ab"
        # the same with a thread started and joined first: the fast path of
        # a process that has had a second thread, not the solo path
        env ${shimopts:+MAPGUARD_OPTIONS=$shimopts} LD_PRELOAD=$shim "$build/bench/wrapper_ab" 1000000 30 1 | awk -F'\t' '{
            split($1, d, " "); split($2, w, " "); split($3, r, " ")
            printf "In a process that has had a second thread (`wrapper_ab 1000000 30 1`: the fast\n"
            printf "path, not the single-threaded one): %s against %s ns/op, %.2fx.\n", w[2], d[2], r[2]
        }' >>"$ab"
    fi
    ;;
esac
cat "$ab" >>"$table"

cat "$table"

if [ "${WRITE:-0}" = 1 ]; then
    shimrel=${shim#"$root"/}
    doc=$root/docs/performance.md
    sec=$tmp/section.md
    {
        echo "<!-- BEGIN shim-bench -->"
        echo "## mapguard's overhead"
        echo
        echo "Medians of $runs alternating runs per side (scale $scale), $date_utc,"
        echo "$ncpu CPUs ($cpu), a shared machine, load average $load; $kernel, $glibc."
        echo "Produced by \`tests/bench/shim_overhead.sh\`; plain is the program alone,"
        optdesc=
        [ -z "$shimopts" ] || optdesc=" with \`MAPGUARD_OPTIONS=$shimopts\`"
        if [ -n "$libpath" ]; then
            echo "mapguard the same binary under \`LD_PRELOAD=$shimrel\`$optdesc;"
            echo "both sides with the \`libgomap.so\` of \`${libpath#"$root"/}\` (LD_LIBRARY_PATH)."
        else
            echo "mapguard the same binary under \`LD_PRELOAD=$shimrel\`$optdesc."
        fi
        echo
        cat "$table"
        echo "<!-- END shim-bench -->"
    } >"$sec"
    bench_write_section shim-bench "$sec" "$doc"
    echo "wrote $doc"
fi
