#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Measures the start-up of imgbus, then times `imgbus process` (luma-stream) next to the
# djpeg | cjpeg pipe on a 12 megapixel baseline JPEG made like the one of compare_pipeline.sh.
# Start-up is measured twice: `imgbus --version`, and `imgbus process` of a missing file, which
# parses its options and stops at the first read. perf stat gives wall time and page faults,
# callgrind the instructions, which do not depend on the load of the machine. Under a minute.
#   bench/startup.sh [BUILD_DIR] [RUNS]
set -euo pipefail

build=${1:-build}
runs=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
imgbus="$build/imgbus"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "startup: $*" >&2; exit 1; }
[[ -x "$imgbus" ]] || fail "$imgbus not found; build it with ninja -C $build imgbus"
for tool in perf valgrind hyperfine djpeg cjpeg; do
    command -v "$tool" >/dev/null || fail "$tool not found; run scripts/install-deps.sh --test"
done
magick=/usr/bin/convert
[[ -x "$magick" ]] || fail "$magick not found; install imagemagick"

in="$work/photo-12MP.jpg"
"$magick" "$here/../tests/data/test.jpg" -resize '4000x3000!' -quality 92 -interlace none \
    -sampling-factor 2x2 "$in"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "shared libraries loaded at start: $(ldd "$imgbus" | wc -l)"

# Prints wall time, page faults and instructions of one command. Its exit status is ignored,
# because the second command fails on purpose.
measure() {
    echo "--- $*"
    { perf stat -r "$runs" -e task-clock,page-faults "$@" 2>&1 >/dev/null || true; } |
        grep -E 'page-faults|elapsed'
    { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null || true; } |
        grep -o 'Collected : [0-9]*' | sed 's/Collected :/instructions:/'
}
measure "$imgbus" --version
# The missing input makes the command exit 1 at its first read, right after start-up.
measure "$imgbus" process "$work/missing.jpg" "$work/out.jpg"

echo
hyperfine --warmup 3 --runs "$runs" --style basic --export-markdown "$work/table.md" \
    -n "imgbus process (luma-stream)" "$imgbus process $in $work/a.jpg --quality 90 --path auto" \
    -n "djpeg -grayscale | cjpeg -grayscale" \
    "djpeg -grayscale $in | cjpeg -grayscale -quality 90 > $work/b.jpg" >/dev/null
cat "$work/table.md"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
