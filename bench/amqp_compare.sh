#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs bench/amqp_client_bench.c against RabbitMQ and `imgbus serve` in one run and prints the
# figures side by side. Both brokers listen on 127.0.0.1 only, on free ports, with private state
# in one temporary directory on the same filesystem, and both are stopped by PID on exit.
#
#   bench/amqp_compare.sh BUILD_DIR [messages, default 50000] [seconds per phase, default 20]
#
# IMGBUS_BIN overrides the imgbus binary (default BUILD_DIR/imgbus).
set -euo pipefail

build_dir=${1:?usage: $0 BUILD_DIR [messages] [seconds per phase]}
messages=${2:-50000}
seconds=${3:-20}
client="$build_dir/bench/imgbus_amqp_client_bench"
imgbus=${IMGBUS_BIN:-$build_dir/imgbus}
[[ -x $client ]] || { echo "missing $client: build the imgbus_amqp_client_bench target" >&2; exit 1; }
[[ -x $imgbus ]] || { echo "missing $imgbus: build the imgbus target or set IMGBUS_BIN" >&2; exit 1; }

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

base=$(mktemp -d "${TMPDIR:-/var/tmp}/imgbus-amqp-compare.XXXXXX")
rabbit_pid="" epmd_pid="" imgbus_pid=""
epmd_port=$(free_port)

find_epmd() {
    # The epmd that this node started: the one whose environment contains our private port.
    local dir
    for dir in /proc/[0-9]*; do
        [[ $(cat "$dir/comm" 2>/dev/null) == epmd ]] || continue
        if tr '\0' '\n' < "$dir/environ" 2>/dev/null | grep -qx "ERL_EPMD_PORT=$epmd_port"; then
            echo "${dir#/proc/}"
            return
        fi
    done
}

stop_all() {
    [[ -n $imgbus_pid ]] && kill "$imgbus_pid" 2>/dev/null && wait "$imgbus_pid" 2>/dev/null
    [[ -n $rabbit_pid ]] && kill "$rabbit_pid" 2>/dev/null && wait "$rabbit_pid" 2>/dev/null
    [[ -z $epmd_pid ]] && epmd_pid=$(find_epmd)
    [[ -n $epmd_pid ]] && kill "$epmd_pid" 2>/dev/null
    rm -rf "$base"
    return 0
}
trap stop_all EXIT

wait_for() {  # wait_for SECONDS COMMAND...: polls every 0.2 s until COMMAND succeeds
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- RabbitMQ, with private HOME, mnesia, logs, ports, node name and epmd ------------------
rabbit_port=$(free_port)
mkdir -p "$base/rabbitmq"
printf 'listeners.tcp.default = 127.0.0.1:%s\nloopback_users.guest = true\n' "$rabbit_port" \
    > "$base/rabbitmq/rabbitmq.conf"
echo '[].' > "$base/rabbitmq/enabled_plugins"
: > "$base/rabbitmq/rabbitmq-env.conf"
erl_args='-kernel inet_dist_use_interface {127,0,0,1}'
env HOME="$base/rabbitmq" \
    RABBITMQ_NODENAME="imgbus-bench-$$@localhost" RABBITMQ_USE_LONGNAME=false \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$rabbit_port" \
    RABBITMQ_DIST_PORT="$(free_port)" \
    RABBITMQ_MNESIA_BASE="$base/rabbitmq/mnesia" RABBITMQ_LOG_BASE="$base/rabbitmq/log" \
    RABBITMQ_PID_FILE="$base/rabbitmq/pid" RABBITMQ_CONFIG_FILE="$base/rabbitmq/rabbitmq.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$base/rabbitmq/enabled_plugins" \
    RABBITMQ_CONF_ENV_FILE="$base/rabbitmq/rabbitmq-env.conf" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="$erl_args" RABBITMQ_CTL_ERL_ARGS="$erl_args" \
    ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT="$epmd_port" \
    /usr/lib/rabbitmq/bin/rabbitmq-server > "$base/rabbitmq.log" 2>&1 < /dev/null &
rabbit_pid=$!
if ! wait_for 60 port_open "$rabbit_port"; then
    echo "rabbitmq-server timed out: port $rabbit_port not open after 60 s. Its log:" >&2
    cat "$base/rabbitmq.log" >&2
    exit 1
fi
epmd_pid=$(find_epmd)

# --- imgbus serve ----------------------------------------------------------------------------
user="bench-$$"
password=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$imgbus" serve --http 127.0.0.1:0 --s3 127.0.0.1:0 --amqp 127.0.0.1:0 --workers 0 \
    --data-dir "$base/imgbus" --access-key "$user" --secret-key "$password" \
    > "$base/imgbus.log" 2>&1 &
imgbus_pid=$!
imgbus_listening() { grep -qs 'amqp listening on amqp://127.0.0.1:' "$base/imgbus.log"; }
if ! wait_for 30 imgbus_listening; then
    echo "imgbus serve timed out: no AMQP address logged after 30 s. Its log:" >&2
    cat "$base/imgbus.log" >&2
    exit 1
fi
imgbus_port=$(grep -o 'amqp listening on amqp://127.0.0.1:[0-9]*' "$base/imgbus.log" | head -1 |
              sed 's/.*://')

# --- the same client against both ----------------------------------------------------------
echo "commit: $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), $messages messages, at most $seconds s per phase"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
timeout 600 "$client" "amqp://guest:guest@127.0.0.1:$rabbit_port/%2F" "$messages" "$seconds" \
    > "$base/rabbitmq.out"
timeout 600 "$client" "amqp://$user:$password@127.0.0.1:$imgbus_port/%2F" "$messages" "$seconds" \
    > "$base/imgbus.out"
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

printf '\n| %-24s | %12s | %12s |\n' figure RabbitMQ imgbus
printf '| %-24s | %12s | %12s |\n' --- --- ---
while read -r name value; do
    other=$(awk -v key="$name" '$1 == key { print $2 }' "$base/imgbus.out")
    printf '| %-24s | %12s | %12s |\n' "$name" "$value" "${other:-missing}"
done < "$base/rabbitmq.out"
