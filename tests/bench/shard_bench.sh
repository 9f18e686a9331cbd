#!/bin/sh
# Runs shard_bench and rewrites its section of docs/performance.md.
#
# usage: tests/bench/shard_bench.sh BUILD_DIR [shard_bench options...]
#   SHARD_BENCH_ARGS  more shard_bench options, so make can pass them:
#                     make bench-shard SHARD_BENCH_ARGS=--quick
#
# Only the section between "<!-- BEGIN shard-bench -->" and
# "<!-- END shard-bench -->" is replaced; the rest of the file (the
# gomap-bench section included) is kept. The raw TSV is kept in
# BUILD_DIR/bench/shard_bench.tsv. POSIX sh and awk only.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [shard_bench options...]" >&2
    exit 2
fi
build=$1
shift
# shellcheck disable=SC2086  # a word list on purpose
set -- ${SHARD_BENCH_ARGS:-} "$@"

root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/bench/lib.sh"
doc=$root/docs/performance.md
bin=$build/bench/shard_bench
out=$build/bench/shard_bench.tsv
sec=$build/bench/shard_bench.section.md

if [ ! -x "$bin" ]; then
    echo "shard_bench.sh: $bin is not built; run: make $bin" >&2
    exit 1
fi

bench_machine
rev=$(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo '?')
cmd="$bin${*:+ $*}"
quick=no
for a in "$@"; do [ "$a" = --quick ] && quick=yes; done

echo "shard_bench.sh: $cmd > $out" >&2
"$bin" "$@" > "$out.tmp"
mv "$out.tmp" "$out"

awk -F '\t' -v date_utc="$date_utc" -v ncpu="$ncpu" -v cpu="$cpu" -v kernel="$kernel" \
    -v glibc="$glibc" -v load="$load" -v rev="$rev" -v cmd="$cmd" -v quick="$quick" '
function fmt(x) { return x == "" ? "–" : sprintf("%.1f", x) }
function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "–" : sprintf("%.2f", a / b) }
NR == 1 { next }
NF >= 8 {
    med[$1, $2, $3] = $4; lo[$1, $2, $3] = $5; hi[$1, $2, $3] = $6; reps = $7; ops = $8
    if (!(($2) in mixseen)) { mixseen[$2] = 1; mixes[++nmix] = $2 }
    if (!(($2, $3) in thseen)) { thseen[$2, $3] = 1; ths[$2, ++nth[$2]] = $3 }
    raw = raw $0 "\n"
}
END {
    print "<!-- BEGIN shard-bench -->"
    print "## Sharing one map between threads (the document'"'"'s §4.1)"
    print ""
    print "_Written by `tests/bench/shard_bench.sh` (`make bench` or `make bench-shard`);"
    print "everything between the shard-bench markers is replaced on each run._"
    print ""
    print "- Date: " date_utc "; mapguard at commit " rev
    print "- Machine: **" ncpu " CPU cores**, " cpu ", " kernel ", " glibc \
        "; load average at start " load
    print "- Command: `" cmd "`"
    print "- 10,000 int64 keys, prefilled; each operation picks a random key. A read"
    print "  copies the value out under the read lock, a write stores the key (an"
    print "  update: the size stays 10,000). ns/op = wall time / all threads'"'"' operations"
    print "  (throughput, as Go'"'"'s `b.RunParallel` reports), " ops " operations per"
    print "  measurement, median of " reps " measurements; lower is better."
    print "- mutex: one gomap under a `pthread_mutex`; rwlock: one gomap under a"
    print "  `pthread_rwlock` (glibc default, reader-preferring); shard: `gomap_shard`,"
    print "  32 gomaps each under its own rwlock."
    split(load, la, " ")
    if (la[1] + 0 >= 0.75 * ncpu) {
        print "- The machine was busy (load average " la[1] " on " ncpu " cores): other"
        print "  work took CPU time, so the threads often ran in turns rather than at"
        print "  once, and the rows compare each way'"'"'s per-operation cost (1 thread is"
        print "  the uncontended baseline) more than how it scales."
    }
    if (ncpu + 0 < 16) {
        print "- With " ncpu " cores, 16 threads mostly measure time-slicing and lock"
        print "  hand-off between descheduled threads, not 16-way parallelism; rerun on a"
        print "  machine with 16 or more cores before drawing conclusions from that row."
    }
    print ""
    if (quick == "yes") {
        print "> **Quick run (`--quick`)**: a smoke test of the harness. These numbers"
        print "> are not the published result."
        print ""
    }
    print "| mix (read/write) | threads | mutex+gomap | rwlock+gomap | gomap_shard | mutex/shard | rwlock/shard |"
    print "|---|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= nmix; i++) {
        m = mixes[i]
        for (j = 1; j <= nth[m]; j++) {
            t = ths[m, j]
            printf "| %d/%d | %s | %s | %s | %s | %s | %s |\n", m, 100 - m, t,
                fmt(med["mutex", m, t]), fmt(med["rwlock", m, t]), fmt(med["shard", m, t]),
                ratio(med["mutex", m, t], med["shard", m, t]),
                ratio(med["rwlock", m, t], med["shard", m, t])
        }
    }
    print ""
    print "ns/op medians; the last two columns are how many times faster gomap_shard"
    print "is (above 1: faster). The spread (min–max over the measurements) is in the"
    print "raw TSV below; on a shared machine it is wide."
    print ""
    print "### The document'"'"'s own numbers (illustrative)"
    print ""
    print "The seed document gives these without code, machine, Go version or run"
    print "count, so they are illustrative only and not comparable to the table above"
    print "(different language, units and workload)."
    print ""
    print "§4.1, \"100 goroutines reading and writing 10k keys\", average time in **ms**:"
    print ""
    print "| mix | sync.Map | map + RWMutex | map + Mutex |"
    print "|---|---:|---:|---:|"
    print "| 90% read + 10% write | 12.3 | 48.7 | 156.2 |"
    print "| 50% read + 50% write | 89.6 | 62.1 | 183.4 |"
    print ""
    print "§4.2, \"10k operations\", **ns/op**:"
    print ""
    print "| operation | sync.Mutex | sync.RWMutex |"
    print "|---|---:|---:|"
    print "| read | 820 | 210 |"
    print "| write | 950 | 930 |"
    print ""
    print "The document measured `sync.Map` where this table has `gomap_shard`; both"
    print "exist to stop every thread from serializing on one lock."
    print ""
    print "<details><summary>Raw TSV</summary>"
    print ""
    print "```"
    print "impl\tread_pct\tthreads\tns_per_op_median\tns_per_op_min\tns_per_op_max\treps\tops"
    printf "%s", raw
    print "```"
    print ""
    print "</details>"
    print "<!-- END shard-bench -->"
}' "$out" > "$sec"

bench_write_section shard-bench "$sec" "$doc"
rm -f "$sec"
echo "shard_bench.sh: wrote $doc" >&2
