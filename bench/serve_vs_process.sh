#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Throughput of `imgbus serve` against the codecs alone, side by side in one run: JOBS images
# through two parallel loops of `imgbus process` (JOBS/2 each, one kernel thread), then JOBS
# uploads by `imgbus load --concurrency 4` to a new server with two workers (WORKERS=N for
# another count), then the two loops again. ROUNDS=N (default 1) repeats the serve run and the
# loops after it, so N serve runs sit between N + 1 process runs. Prints images per second of
# each, the ratio of each serve run to the mean of the process runs on either side, their median,
# where a job's time went on the server, and the load average. Every round keeps its files until
# the end, because on ext4 without a journal, freshly deleted inodes slow down file creation in
# the same block group for a minute or more.
#   bench/serve_vs_process.sh BUILD_DIR [JOBS] [IMAGE] [-- extra serve flags]
set -euo pipefail

build=${1:?usage: bench/serve_vs_process.sh BUILD_DIR [JOBS] [IMAGE] [-- SERVE_FLAGS...]}
jobs=${2:-200}
image=${3:-"$(dirname "$0")/../tests/data/test.jpg"}
shift $(($# < 3 ? $# : 3))
[[ "${1:-}" == "--" ]] && shift
serve_flags=("$@")
workers=${WORKERS:-2}
rounds=${ROUNDS:-1}
((rounds >= 1)) || { echo "serve_vs_process: ROUNDS must be at least 1" >&2; exit 1; }
imgbus="$build/imgbus"
[[ -x "$imgbus" ]] || { echo "serve_vs_process: $imgbus not found; build the imgbus target" >&2; exit 1; }
((jobs >= 2)) || { echo "serve_vs_process: JOBS must be at least 2" >&2; exit 1; }

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

seconds_since() { awk -v s="$1" -v e="$(date +%s%N)" 'BEGIN { printf "%.3f", (e - s) / 1e9 }'; }

# Two loops of `imgbus process`, each over half the images, at the same time.
process_run() {
    local half=$((jobs / 2)) start
    start=$(date +%s%N)
    for loop in a b; do
        (for ((i = 0; i < half; i++)); do
            "$imgbus" process --threads 1 "$image" "$work/out-$loop.jpg" >/dev/null
        done) &
    done
    wait
    local took
    took=$(seconds_since "$start")
    awk -v n=$((half * 2)) -v t="$took" 'BEGIN { printf "%.2f", n / t }'
}

start_server() {
    local port
    port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    url="http://127.0.0.1:$port"
    "$imgbus" serve --http "127.0.0.1:$port" --s3 127.0.0.1:0 --amqp 127.0.0.1:0 \
        --data-dir "$work/data-$1" --workers "$workers" --log-level warn "${serve_flags[@]}" \
        >"$work/serve.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
        curl -sf "$url/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "serve_vs_process: the server did not start:" >&2
    cat "$work/serve.log" >&2
    exit 1
}

# Mean in milliseconds of the histogram series NAME{LABELS} on /metrics: its sum / its count.
metric_mean_ms() {
    curl -sf "$url/metrics" | awk -v sum_of="$1_sum{$2}" -v count_of="$1_count{$2}" '
        $1 == sum_of { sum = $2 }
        $1 == count_of { count = $2 }
        END { if (count > 0) printf "%.2f", 1000 * sum / count; else printf "n/a" }'
}

# Counts the objects of data folder $1 whose ETag is still a deferred placeholder.
pending_etags() {
    /usr/bin/python3 - "$1" <<'PY'
import os, re, sys
placeholder = re.compile(rb'"etag":"[g-v]{32}"')
count = 0
for folder, _, files in os.walk(os.path.join(sys.argv[1], "store")):
    for name in files:
        with open(os.path.join(folder, name), "rb") as f:
            count += bool(placeholder.search(f.read(2048)))
print(count)
PY
}

# Waits until the server has computed every deferred ETag of data folder $1, polling at idle
# priority so as not to take CPU from it. Prints the count left when the load ended and the
# seconds the rest took.
drain_etags() {
    local start left
    start=$(date +%s%N)
    left=$(chrt --idle 0 bash -c "$(declare -f pending_etags); pending_etags '$1'")
    local at_end=$left
    for _ in $(seq 600); do
        ((left == 0)) && break
        sleep 0.05
        left=$(chrt --idle 0 bash -c "$(declare -f pending_etags); pending_etags '$1'")
    done
    echo "$at_end $(seconds_since "$start")"
}

# One serve run on a new server and data folder: sets $serve to its images per second, and
# $serve_hashed to the same count over the load's time plus the time the server then took to
# compute the ETags it had deferred (its backfill starts 250 ms after the last put).
serve_run() {
    start_server "$1"
    "$imgbus" load "$image" --url "$url" --count 8 --concurrency 4 --progress none >/dev/null
    load_out=$("$imgbus" load "$image" --url "$url" --count "$jobs" --concurrency 4 --threads 1 \
        --timeout 120 --progress none)
    serve=$(sed -n 's/.*throughput \([0-9.]*\) jobs\/s.*/\1/p' <<<"$load_out")
    [[ -n "$serve" ]] || { echo "serve_vs_process: no throughput in the load output:" >&2; echo "$load_out" >&2; exit 1; }
    echo "imgbus serve, load -c 4, $workers workers: $serve images/s"
    read -r deferred drain_seconds < <(drain_etags "$work/data-$1")
    serve_hashed=$(awk -v n="$jobs" -v r="$serve" -v d="$drain_seconds" \
        'BEGIN { printf "%.2f", n / (n / r + d) }')
    echo "  deferred ETags left at the end: $deferred, computed in $drain_seconds s after it;" \
        "counting that time: $serve_hashed images/s"
    for stage in fetch decode kernel encode store; do
        printf '  stage %-8s %s ms\n' "$stage" \
            "$(metric_mean_ms imgbus_job_stage_seconds "op=\"grayscale\",stage=\"$stage\"")"
    done
    printf '  queue wait     %s ms\n' "$(metric_mean_ms imgbus_job_queue_wait_seconds 'op="grayscale"')"
    printf '  POST /api/jobs %s ms\n' \
        "$(metric_mean_ms imgbus_http_request_seconds 'method="POST",route="/api/jobs",status="202"')"
    printf '  upload to done %s ms\n' "$(metric_mean_ms frontend_request_seconds 'op="grayscale"')"
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(nproc), $jobs images of $(basename "$image")"
process_before=$(process_run)
echo "imgbus process, 2 loops:        $process_before images/s"
ratios=()
hashed_ratios=()
for ((round = 1; round <= rounds; round++)); do
    serve_run "$round"
    process_after=$(process_run)
    echo "imgbus process, 2 loops again:  $process_after images/s"
    ratio=$(awk -v s="$serve" -v a="$process_before" -v b="$process_after" \
        'BEGIN { printf "%.3f", s / ((a + b) / 2) }')
    hashed_ratio=$(awk -v s="$serve_hashed" -v a="$process_before" -v b="$process_after" \
        'BEGIN { printf "%.3f", s / ((a + b) / 2) }')
    echo "ratio serve / process, round $round: $ratio ($hashed_ratio counting the deferred ETags)"
    ratios+=("$ratio")
    hashed_ratios+=("$hashed_ratio")
    process_before=$process_after
done
median() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
        END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo "ratio serve / process: median $(median "${ratios[@]}") over $rounds round(s): ${ratios[*]}"
echo "counting the deferred ETags: median $(median "${hashed_ratios[@]}"): ${hashed_ratios[*]}"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
