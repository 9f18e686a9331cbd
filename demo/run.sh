#!/bin/sh
# Runs every pitfall demo under mapguard, then its fix; see README.md.
#
# usage: demo/run.sh BUILD_DIR     (make -C demo BUILD=... calls it)
#        DEMO_MODE=preload demo/run.sh BUILD_DIR   forces a mode (cli, preload, none)
#
# Each pitfall runs under `BUILD/bin/mapguard run`; while the CLI is not
# built, under LD_PRELOAD=BUILD/lib/libmapguard.so with format=text. A
# pitfall passes when the report has its expected kind; a fix passes when
# it exits 0 with no report at all. Exit status 0 only when all pass.
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
bin=$build/demo
cli=$build/bin/mapguard
shim=$build/lib/libmapguard.so
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mapguard-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

KINDS='concurrent-read-write concurrent-writes concurrent-iteration-write
modified-during-iteration nil-map-write use-after-free double-free
irreflexive-key leaked-map'

if [ -n "${DEMO_MODE:-}" ]; then
    mode=$DEMO_MODE # cli, preload or none: to try a mode by hand
elif [ -x "$cli" ] && [ -f "$shim" ]; then
    mode=cli
elif [ -f "$shim" ]; then
    mode=preload
else
    mode=none
fi

npit=0 ncaught=0 nfix=0 nclean=0
failed=''
rule='==============================================================================='
thin='-------------------------------------------------------------------------------'

# run NAME FLAGS [ARGS...]: runs BUILD/demo/NAME under the detector.
# FLAGS are mapguard run options, space-separated ("-" for none). Sets
# $out (stdout and stderr, the report included), $json (JSON Lines, CLI
# mode only) and $status.
run() {
    name=$1 flags=$2
    shift 2
    [ "$flags" = - ] && flags=''
    out=$tmp/$name.out json=$tmp/$name.jsonl
    rm -f "$out" "$json" "$tmp/$name.log".*
    case $mode in
    cli)
        echo "\$ mapguard run${flags:+ $flags} -- $name${*:+ $*}"
        # shellcheck disable=SC2086  # flags is a word list
        "$cli" run --timeout 60 --json "$json" $flags -- "$bin/$name" "$@" >"$out" 2>&1
        status=$?
        ;;
    preload)
        opts="format=text:log_path=$tmp/$name.log" next=''
        for f in $flags; do
            case $next$f in
            --halt-on-error) opts="$opts:halt_on_error=1" ;;
            --detect-leaks) opts="$opts:detect_leaks=1" ;;
            --options) next=--options= ;;
            --options=*) opts="$opts:${f}" next='' ;;
            esac
        done
        echo "\$ LD_PRELOAD=libmapguard.so MAPGUARD_OPTIONS=$opts $name${*:+ $*}"
        # env after timeout, so that only the demo gets the shim
        timeout 60 env LD_PRELOAD="$shim" MAPGUARD_OPTIONS="$opts" "$bin/$name" "$@" >"$out" 2>&1
        status=$?
        cat "$tmp/$name.log".* >>"$out" 2>/dev/null
        ;;
    none)
        echo "\$ $name${*:+ $*}   (no detector: build/lib/libmapguard.so is not built)"
        timeout 60 "$bin/$name" "$@" >"$out" 2>&1
        status=$?
        ;;
    esac
    sed 's/^/    /' "$out"
}

# Did the last run report KIND?
reported() {
    if [ "$mode" = cli ]; then
        grep -Eq "\"kind\" *: *\"$1\"" "$json" 2>/dev/null
    else
        grep -q -- "$1" "$out"
    fi
}

# Did the detector provably run in the last run's process? With a log
# file it always leaves a record: in JSON a "hello" when each process image
# starts (mapguard run itself exits 2 when the program's is missing), in
# text the summary line at exit.
watched() {
    if [ "$mode" = cli ]; then
        grep -Eq '"kind" *: *"hello"' "$json" 2>/dev/null
    else
        ls "$tmp/$name.log".* >/dev/null 2>&1
    fi
}

# Did the last run report anything at all? Records about the run itself
# (hello, exec, exec-failed, spawn, summary) are not reports.
reported_any() {
    if [ "$mode" = cli ]; then
        grep -E '"kind" *:' "$json" 2>/dev/null |
            grep -Evq '"kind" *: *"(summary|hello|exec|exec-failed|spawn)"'
        return $?
    fi
    for k in $KINDS; do
        grep -q -- "$k" "$out" && return 0
    done
    return 1
}

# section N ZH EN FILE GO: the heading of one pitfall.
section() {
    echo
    echo "$rule"
    echo " $1. $2"
    echo "    $3"
    echo "    demo/$4.c"
    echo "    Go would say: $5"
    echo "$thin"
}

# pitfall NAME KIND FLAGS [ARGS...]: runs the pitfall, expects KIND.
pitfall() {
    name=$1 kind=$2
    shift 2
    npit=$((npit + 1))
    if [ "$mode" = none ]; then
        echo ">> NOT CHECKED: the detector is not built (make shim)"
        failed="$failed $name"
        return
    fi
    run "$name" "$@"
    if reported "$kind"; then
        echo ">> caught: $kind (exit status $status)"
        ncaught=$((ncaught + 1))
    else
        echo ">> MISSED: no $kind report (exit status $status)"
        failed="$failed $name"
    fi
}

# evidence: after a race pitfall, says what caught it: "unordered" (no
# synchronization mapguard saw orders the two calls: the happens-before
# check, every run) or "overlap" (both calls were inside the map at once).
evidence() {
    [ "$mode" = none ] && return
    if [ "$mode" = cli ]; then
        ev=$(grep -Eo '"evidence" *: *"[a-z]+"' "$json" 2>/dev/null | head -n 1 | grep -Eo '[a-z]+"$' | tr -d '"')
    elif grep -q 'was not ordered before this' "$out"; then
        ev=unordered
    else
        ev=overlap
    fi
    case $ev in
    unordered) echo ">> evidence: unordered - no lock, join or other synchronization orders the two calls;" \
        "caught by ordering, not by luck: the calls never had to meet" ;;
    overlap) echo ">> evidence: overlap - both calls were inside the map at the same moment" ;;
    esac
}

# again NAME KIND FLAGS [ARGS...]: the same pitfall run another way; a
# miss fails the demo, a catch is not counted twice.
again() {
    [ "$mode" = none ] && return
    name=$1 kind=$2
    shift 2
    run "$name" "$@"
    if reported "$kind"; then
        echo ">> caught: $kind (exit status $status)"
    else
        echo ">> MISSED: no $kind report (exit status $status)"
        failed="$failed $name"
    fi
}

# shown NAME TEXT: a pitfall no detector can see; the program's own output
# must show it, and mapguard must stay quiet.
shown() {
    name=$1 text=$2
    npit=$((npit + 1))
    run "$name" -
    if [ "$status" -eq 0 ] && grep -q -- "$text" "$out" && ! reported_any &&
        { [ "$mode" = none ] || watched; }; then
        echo ">> shown by the program itself; mapguard rightly has nothing to say"
        ncaught=$((ncaught + 1))
    else
        echo ">> NOT SHOWN: expected \"$text\" in the output and no report"
        failed="$failed $name"
    fi
}

# fix NAME WHAT FLAGS: runs a fixed version, expects exit 0, no report,
# and the detector's record that it watched the program (see watched).
fix() {
    name=$1 what=$2 flags=$3
    nfix=$((nfix + 1))
    echo "$thin"
    echo "fix: demo/$name.c - $what"
    run "$name" "$flags"
    if [ "$mode" = none ]; then
        echo ">> ran (exit status $status), but with no detector this proves nothing"
        failed="$failed $name"
    elif [ "$status" -eq 0 ] && ! reported_any && watched; then
        echo ">> clean"
        nclean=$((nclean + 1))
    elif [ "$status" -eq 0 ] && ! reported_any; then
        echo ">> NOT PROVEN CLEAN: the detector left no record of the program, so it may not have run"
        failed="$failed $name"
    else
        echo ">> NOT CLEAN (exit status $status)"
        failed="$failed $name"
    fi
}

case $mode in
cli) echo "Running each demo under $cli" ;;
preload) echo "Running each demo with LD_PRELOAD=$shim (build/bin/mapguard is not built yet)" ;;
none) echo "mapguard's detector is not built yet (make shim): only the fixes can run" ;;
esac

section 1 "第一章 并发读写 map 的致命行为" \
    "The fatal behaviour of concurrent map reads and writes: m[\"key\"]++ against _ = m[\"key\"], forever, with a retry that never gives up" \
    ch1_counter_race \
    "fatal error: concurrent map read and map write (a fatal error: recover cannot catch it)"
pitfall ch1_counter_race concurrent-read-write --halt-on-error
echo "$thin"
echo "The same loops without halt_on_error, for 2 seconds: one report, and a count of"
echo "how often the race came back (dedup), rather than a report per iteration."
again ch1_counter_race concurrent-read-write - 2
fix ch1_counter_race_fix "every map call under one pthread_mutex" -

section 2 "第一章 真实泄漏场景: sync.Map 的误用误区" \
    "A real leak: sync.Map's LoadOrStore with unique keys (timestamps) that are never deleted" \
    ch1_syncmap_leak \
    "nothing; the map grows with every request until the heap profile shows it"
pitfall ch1_syncmap_leak leaked-map --detect-leaks
fix ch1_syncmap_leak_fix "delete each entry when its request is done; free the map at shutdown" \
    --detect-leaks

section 3 "2.2 并发读写panic的底层原理与复现代码" \
    "Why concurrent reads and writes crash, and the code that reproduces it: 1000 reads race 1000 writes" \
    s2_2_read_write \
    "fatal error: concurrent map read and map write (only when the two loops happen to overlap)"
pitfall s2_2_read_write concurrent-read-write --halt-on-error
evidence
fix s2_2_read_write_fix_rwlock \
    "§4.2 基于RWMutex的手动同步map封装 (the map wrapped in a pthread_rwlock)" -
fix s2_2_read_write_fix_shard \
    "第一章 分片 map / sharded map (gomap_shard: 32 maps, each under its own rwlock)" -

section 4 "2.3 range遍历中delete导致的迭代器失效现象" \
    "Deleting inside a range loop invalidates the iteration" \
    s2_3_delete_in_range \
    "nothing (Go's spec allows it; the document calls the result undefined)"
pitfall s2_3_delete_in_range modified-during-iteration -
fix s2_3_delete_in_range_fix_keys "collect the keys first, delete after the range" -
fix s2_3_delete_in_range_fix_iter "delete through the iterator: gomap_iter_delete" -

section 5 "2.4 零值map未make直接赋值的静默失败" \
    "Assigning to a zero-value (nil) map that was never made, the error ignored" \
    s2_4_nil_map \
    "panic: assignment to entry in nil map"
pitfall s2_4_nil_map nil-map-write -
fix s2_4_nil_map_fix "gomap_new first (Go's make), and check the return codes" -

section 6 "2.5 map作为函数参数传递时的引用语义误区" \
    "A map passed to a function that reassigns its parameter: the caller never sees the new map" \
    s2_5_map_param \
    "nothing; the caller keeps its old map and the new one is garbage-collected"
pitfall s2_5_map_param leaked-map --detect-leaks
fix s2_5_map_param_fix "pass a gomap ** or return the new map; free the old one" --detect-leaks

section 7 "4.3 map键类型选择陷阱: NaN 键" \
    "Key type traps: a NaN float key is not equal to itself" \
    s4_3_nan_key \
    "nothing; the map grows, and the NaN entries can never be found or deleted"
pitfall s4_3_nan_key irreflexive-key -
fix s4_3_nan_key_fix "check isnan() before the value becomes a key" -

section 8 "4.3 map键类型选择陷阱: 自定义结构体相等性实现" \
    "Key type traps: a struct key with a pointer field compares the address, not the contents" \
    s4_3_struct_ptr_key \
    "nothing; m[k] quietly returns the zero value"
shown s4_3_struct_ptr_key "NOT FOUND"
fix s4_3_struct_ptr_key_fix "a custom hash and equal that compare what the pointer points to" -

section 9 "GLib: 2.2 并发读写panic的底层原理与复现代码" \
    "§2.2 with GHashTable and GThread: 1000 g_hash_table_lookup race 1000 g_hash_table_insert" \
    gh_s2_2_read_write \
    "fatal error: concurrent map read and map write (only when the two loops happen to overlap)"
pitfall gh_s2_2_read_write concurrent-read-write --halt-on-error
evidence
fix gh_s2_2_read_write_fix_rwlock \
    "§4.2 基于RWMutex的手动同步map封装 with GLib: the table under a GRWLock" -

section 10 "GLib: 2.3 range遍历中delete导致的迭代器失效现象" \
    "§2.3 with GHashTable: g_hash_table_remove inside a GHashTableIter loop" \
    gh_s2_3_delete_in_range \
    "nothing (Go's spec allows it); GLib prints one GLib-CRITICAL line with no stack and ends the loop early"
pitfall gh_s2_3_delete_in_range modified-during-iteration -
fix gh_s2_3_delete_in_range_fix_iter "remove through the iterator: g_hash_table_iter_remove" -
fix gh_s2_3_delete_in_range_fix_foreach "let GLib remove during its walk: g_hash_table_foreach_remove" -

echo
echo "$rule"
echo "make demo: $ncaught of $npit pitfalls caught, $nclean of $nfix fixes clean ($mode mode)"
if [ -n "$failed" ]; then
    echo "FAILED:$failed"
    exit 1
fi
exit 0
