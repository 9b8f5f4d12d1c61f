#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Times, in one hyperfine run on the same 12 megapixel baseline JPEG, a colour JPEG to gray JPEG
# conversion at quality 90 by `imgbus process` on each of its paths and by the tools a user could
# pick instead: the djpeg | cjpeg pipe of libjpeg-turbo, vips, GraphicsMagick and ImageMagick.
# A second run does the same from the 12 megapixel PNG of that photo to a gray PNG, with imgbus's
# default PNG settings and with zlib level 6 and adaptive filters, and vips with each.
# Prints the load average, hyperfine's tables, and imgbus's own stage times. About 2 minutes.
#   bench/compare_pipeline.sh [BUILD_DIR] [RUNS]
set -euo pipefail

build=${1:-build}
runs=${2:-10}
here=$(cd "$(dirname "$0")" && pwd)
imgbus="$build/imgbus"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "compare_pipeline: $*" >&2; exit 1; }
[[ -x "$imgbus" ]] || fail "$imgbus not found; build it with ninja -C $build imgbus"
for tool in hyperfine djpeg cjpeg vips gm; do
    command -v "$tool" >/dev/null || fail "$tool not found; run scripts/install-deps.sh --test"
done
# ImageMagick 6 itself, not a wrapper script that may sit earlier on PATH.
magick=/usr/bin/convert
[[ -x "$magick" ]] || fail "$magick not found; install imagemagick"

in="$work/photo-12MP.jpg"
png="$work/photo-12MP.png"
"$magick" "$here/../tests/data/test.jpg" -resize '4000x3000!' -quality 92 -interlace none \
    -sampling-factor 2x2 "$in"
"$magick" "$in" "$png"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "input: $(identify -format '%wx%h %m, %b' "$in" 2>/dev/null || stat -c '%s bytes' "$in")"
echo "versions: $(vips --version), $(gm version | head -1), $("$magick" -version | head -1)"
echo

hyperfine --warmup 2 --runs "$runs" --style basic \
    --export-markdown "$work/table.md" \
    -n "imgbus luma-stream" "$imgbus process $in $work/a.jpg --quality 90 --path auto" \
    -n "imgbus stream (RGB + kernel)" "$imgbus process $in $work/b.jpg --quality 90 --path stream" \
    -n "imgbus whole-image, 2 threads" \
    "$imgbus process $in $work/c.jpg --quality 90 --path whole-image --threads 2" \
    -n "djpeg -grayscale | cjpeg -grayscale" \
    "djpeg -grayscale $in | cjpeg -grayscale -quality 90 > $work/d.jpg" \
    -n "vips colourspace b-w" "vips colourspace $in '$work/e.jpg[Q=90]' b-w" \
    -n "GraphicsMagick" "gm convert $in -colorspace gray -quality 90 $work/f.jpg" \
    -n "ImageMagick" "$magick $in -colorspace gray -quality 90 $work/g.jpg" >/dev/null
cat "$work/table.md"
echo
echo "PNG input: $(stat -c '%s bytes' "$png")"
hyperfine --warmup 1 --runs 5 --style basic \
    --export-markdown "$work/png.md" \
    -n "imgbus PNG (level 1, sub)" "$imgbus process $png $work/a.png" \
    -n "imgbus PNG (level 6, adaptive)" \
    "$imgbus process $png $work/b.png --png-level 6 --png-filter adaptive" \
    -n "vips PNG (compression 1, sub)" \
    "vips colourspace $png '$work/c.png[compression=1,filter=sub]' b-w" \
    -n "vips PNG (compression 6, default filter)" "vips colourspace $png $work/d.png b-w" \
    >/dev/null
cat "$work/png.md"
for file in a b c d; do
    echo "$file.png: $(stat -c '%s bytes' "$work/$file.png")"
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
for path in auto stream whole-image; do
    echo "--- imgbus process --path $path"
    "$imgbus" process "$in" "$work/x.jpg" --quality 90 --path "$path" --threads 2 |
        grep -v '^input\|^output'
done
echo "--- imgbus process 12 MP PNG to gray PNG (level 1, sub)"
"$imgbus" process "$png" "$work/x.png" --threads 2 | grep -v '^input\|^output'
