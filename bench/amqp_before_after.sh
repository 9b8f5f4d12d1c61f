#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Compares two imgbus binaries (before and after a change) on the AMQP path: both serve on
# 127.0.0.1 at once, and bench/amqp_client_bench.c runs against each in turn for ROUNDS rounds,
# so both see the same machine load. Prints each figure's median over the rounds, and the
# server's CPU time per round (utime + stime from /proc, in clock ticks), which varies less
# with the load than the rates do. Both servers are stopped by PID on exit.
#
#   bench/amqp_before_after.sh CLIENT BEFORE_BIN AFTER_BIN [messages 50000] [seconds 15] [rounds 10]
#
# With FRESH=1 both servers are restarted before every round, so that each round meets a new
# process, as bench/amqp_compare.sh does. Without it, later rounds reuse the memory that the
# earlier rounds' queues freed.
set -euo pipefail

client=${1:?usage: $0 CLIENT BEFORE_BIN AFTER_BIN [messages] [seconds] [rounds]}
before_bin=${2:?missing BEFORE_BIN}
after_bin=${3:?missing AFTER_BIN}
messages=${4:-50000}
seconds=${5:-15}
rounds=${6:-10}
for program in "$client" "$before_bin" "$after_bin"; do
    [[ -x $program ]] || { echo "missing $program: build it first" >&2; exit 1; }
done

dir=$(mktemp -d "${TMPDIR:-/var/tmp}/imgbus-before-after.XXXXXX")
pids=()
stop_all() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    rm -rf "$dir"
    return 0
}
trap stop_all EXIT

password=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
port=""
start() {  # start NAME BINARY: appends the server's PID to pids and sets port
    "$2" serve --http 127.0.0.1:0 --s3 127.0.0.1:0 --amqp 127.0.0.1:0 --workers 0 \
        --data-dir "$dir/$1" --access-key bench --secret-key "$password" > "$dir/$1.log" 2>&1 &
    pids+=($!)
    local attempt
    for attempt in $(seq 150); do
        grep -qs 'amqp listening' "$dir/$1.log" && break
        sleep 0.2
    done
    port=$(grep -o 'amqp listening on amqp://127.0.0.1:[0-9]*' "$dir/$1.log" | head -1 |
           sed 's/.*://')
    [[ -n $port ]] || { echo "$2 logged no AMQP address:" >&2; cat "$dir/$1.log" >&2; exit 1; }
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

start_both() {  # sets before_port, after_port and pids (before first)
    pids=()
    start before "$before_bin"
    before_port=$port
    start after "$after_bin"
    after_port=$port
}
restart_both() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" && wait "$pid" 2>/dev/null || true; done
    rm -rf "$dir/before" "$dir/after" "$dir/before.log" "$dir/after.log"
    start_both
}
start_both

run() {  # run NAME PORT PID ROUND
    local start_ticks
    start_ticks=$(cpu_ticks "$3")
    timeout 600 "$client" "amqp://bench:$password@127.0.0.1:$2/%2F" "$messages" "$seconds" \
        > "$dir/$1.$4"
    echo "server_cpu_ticks $(($(cpu_ticks "$3") - start_ticks))" >> "$dir/$1.$4"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
    if [[ ${FRESH:-0} == 1 && $round -gt 1 ]]; then restart_both; fi
    run before "$before_port" "${pids[0]}" "$round"
    run after "$after_port" "${pids[1]}" "$round"
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

median() {  # median FIGURE NAME: the median of FIGURE over the rounds of NAME
    cat "$dir/$2".* | awk -v key="$1" '$1 == key { print $2 }' | sort -g |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
printf '\n| %-24s | %12s | %12s |\n' "median of $rounds rounds" before after
printf '| %-24s | %12s | %12s |\n' --- --- ---
for figure in $(awk '{ print $1 }' "$dir/before.1"); do
    printf '| %-24s | %12s | %12s |\n' "$figure" "$(median "$figure" before)" \
        "$(median "$figure" after)"
done
