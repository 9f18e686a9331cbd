#!/bin/sh
# Validates a SARIF file with Microsoft's SARIF multitool (npm package
# @microsoft/sarif-multitool, command `validate`), with GitHub code
# scanning's ingestion rules (GH1xxx) on top of the SARIF schema and the
# SARIF2xxx rules, so what passes here is what upload-sarif accepts.
#
# The multitool is installed on first use into the project's node_modules
# (git-ignored), under a lock so parallel tests install it once.
#
# usage: tools/sarif-validate.sh FILE.sarif OUT.sarif
#        tools/sarif-validate.sh --install
# OUT.sarif receives the validator's findings as SARIF: the caller decides
# (the validator exits 0 even when it reports errors). Exit status: the
# validator's; 77 when node/npm are missing (callers skip); 3 when the
# install failed.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
pkg="@microsoft/sarif-multitool"
bin="$root/node_modules/.bin/sarif-multitool"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "sarif-validate: node and npm are needed for $pkg (apt-get install nodejs npm)" >&2
    exit 77
fi

install() {
    [ -x "$bin" ] && return 0
    mkdir -p "$root/node_modules"
    (
        # One installer at a time; the others wait, then find it installed.
        if command -v flock >/dev/null 2>&1; then flock 9; fi
        if [ ! -x "$bin" ]; then
            echo "sarif-validate: installing $pkg into $root/node_modules" >&2
            npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
                --prefix "$root" "$pkg@^5" >&2
            # npm 11 skips unapproved install scripts; the package's only one
            # makes the native binary executable.
            for f in "$root"/node_modules/@microsoft/sarif-multitool-*/Sarif.Multitool; do
                [ -f "$f" ] && chmod u+x "$f"
            done
        fi
    ) 9>"$root/node_modules/.sarif-multitool.lock"
    [ -x "$bin" ] || { echo "sarif-validate: could not install $pkg" >&2; exit 3; }
}

if [ "${1:-}" = "--install" ]; then
    install
    exit 0
fi
[ $# -eq 2 ] || { echo "usage: $0 FILE.sarif OUT.sarif | --install" >&2; exit 2; }

install
in=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
out=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
rm -f "$out"
# The .NET runtime inside needs ICU unless told not to; CI images lack it.
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
export DOTNET_CLI_TELEMETRY_OPTOUT=1
cd "$root"
# The npm wrapper passes its arguments through a shell: quote the ';' list
# and the paths.
if command -v npx >/dev/null 2>&1; then
    exec npx --no-install "$pkg" validate --rule-kind "'Gh;Sarif'" -o "'$out'" "'$in'"
fi
exec "$bin" validate --rule-kind "'Gh;Sarif'" -o "'$out'" "'$in'"
