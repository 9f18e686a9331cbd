# Shared by the benchmark scripts (sourced, POSIX sh): what machine the
# numbers came from, and how a script replaces its own marked section of
# docs/performance.md without touching the others.

# Sets date_utc, ncpu, cpu, kernel, glibc, load for the report header.
bench_machine() {
    date_utc=$(date -u '+%Y-%m-%d %H:%M UTC')
    ncpu=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')
    cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
    [ -n "$cpu" ] || cpu=$(uname -p)
    kernel=$(uname -srm)
    glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null || echo 'glibc ?')
    load=$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo '?')
}

# bench_shim BUILD_DIR
# Sets shim to the absolute path of the libmapguard.so measured: MAPGUARD_SHIM
# if set, else BUILD_DIR/lib/libmapguard.so; and libpath to the directory
# of a MAPGUARD_SHIM that holds its own libgomap.so (a shim is built for its
# own libgomap's tool words, so both sides must load that one), else empty.
bench_shim() {
    if [ -n "${MAPGUARD_SHIM:-}" ]; then
        shim=$(cd "$(dirname "$MAPGUARD_SHIM")" && pwd)/$(basename "$MAPGUARD_SHIM")
    else
        shim=$(cd "$1/lib" && pwd)/libmapguard.so
    fi
    libpath=
    if [ -n "${MAPGUARD_SHIM:-}" ] && [ -e "$(dirname "$shim")/libgomap.so" ]; then
        libpath=$(dirname "$shim")
    fi
}

# bench_write_section NAME SECTION_FILE DOC
# Replaces the lines from "<!-- BEGIN NAME -->" to "<!-- END NAME -->" in
# DOC with SECTION_FILE (which carries the markers itself), or appends it
# if DOC has no such section; creates DOC with its preamble if missing.
bench_write_section() {
    name=$1 secfile=$2 docfile=$3
    mkdir -p "$(dirname "$docfile")"
    if [ ! -f "$docfile" ]; then
        cat > "$docfile" <<'PREAMBLE'
# Performance

Benchmark results for mapguard. Each section between `<!-- BEGIN name -->`
and `<!-- END name -->` markers is written by a script and replaced on every
run; edit only outside the markers.
PREAMBLE
    fi
    awk -v secfile="$secfile" -v name="$name" '
    BEGIN { while ((getline l < secfile) > 0) s = s l "\n"; close(secfile) }
    $0 == "<!-- BEGIN " name " -->" { printf "%s", s; skip = 1; done = 1; next }
    skip && $0 == "<!-- END " name " -->" { skip = 0; next }
    !skip { print }
    END {
        if (skip) { print "no END " name " marker after BEGIN" > "/dev/stderr"; exit 1 }
        if (!done) { print ""; printf "%s", s }
    }' "$docfile" > "$docfile.tmp.$$"
    mv "$docfile.tmp.$$" "$docfile"
}
