#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the imgbus kernels that have a libvips counterpart (gaussian_blur, sharpen, resize) and
# the matching vips commands on the same 2 and 12 megapixel images, with 1 and 2 threads, one
# after the other in one run. Prints the median of REPEATS runs of each, in milliseconds.
#   bench/compare_vips.sh BUILD_DIR [REPEATS]
set -euo pipefail

build=${1:?usage: bench/compare_vips.sh BUILD_DIR [REPEATS]}
repeats=${2:-5}
bench="$build/bench/imgbus_operations_bench"
source_image="$(dirname "$0")/../tests/data/test.jpg"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[[ -x "$bench" ]] || { echo "compare_vips: $bench not found; build imgbus_operations_bench" >&2; exit 1; }
command -v vips >/dev/null || { echo "compare_vips: vips not found; install libvips-tools" >&2; exit 1; }

# The benchmark scales test.jpg by nearest neighbour; ImageMagick's -sample does the same.
convert "$source_image" -sample '1920x1080!' "$work/2MP.png"
convert "$source_image" -sample '4000x3000!' "$work/12MP.png"
for size in 2MP 12MP; do vips copy "$work/$size.png" "$work/$size.v"; done

# Median wall time in ms of running "$@" REPEATS times.
median_ms() {
    local times=()
    for ((i = 0; i < repeats; i++)); do
        local start end
        start=$(date +%s%N)
        "$@" >/dev/null
        end=$(date +%s%N)
        times+=($(((end - start) / 1000)))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] / 1000 }'
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(nproc), vips $(vips --version)"
"$bench" --benchmark_filter='^(gaussian_blur|sharpen|resize)/' \
    --benchmark_repetitions="$repeats" --benchmark_report_aggregates_only=true \
    --benchmark_min_time=0.1 2>/dev/null | grep '_median'

# vips reads and writes its own .v format with mmap; the time of "vips copy" on the same file,
# subtracted below, removes start-up, load and save, which leaves the operation itself.
for size in 2MP 12MP; do
    for threads in 1 2; do
        export VIPS_CONCURRENCY=$threads
        in="$work/$size.v" out="$work/out.v"
        copy=$(median_ms vips copy "$in" "$out")
        blur=$(median_ms vips gaussblur "$in" "$out" 2)
        sharpen=$(median_ms vips sharpen "$in" "$out" --sigma 1)
        resize=$(median_ms vips resize "$in" "$out" 0.5 --kernel lanczos3)
        awk -v s="$size" -v t="$threads" -v c="$copy" -v b="$blur" -v sh="$sharpen" -v r="$resize" \
            'BEGIN { printf "vips %s threads:%s copy %.1f ms, gaussblur %.1f, sharpen %.1f, resize %.1f (each minus copy)\n", s, t, c, b - c, sh - c, r - c }'
    done
done
