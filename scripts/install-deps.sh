#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages that imgbus needs. Run as root (or with sudo).
#   scripts/install-deps.sh          build and run dependencies
#   scripts/install-deps.sh --test   also the real clients the test suite drives
set -euo pipefail

build_packages=(
    build-essential cmake ninja-build pkg-config git ca-certificates
    libboost1.81-dev libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev
    prometheus-cpp-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev
    libssl-dev libjs-chart.js catch2 libbenchmark-dev libcairo2-dev fonts-dejavu-core
    libcurl4-openssl-dev libexpat1-dev librabbitmq-dev libexif-dev
)
test_packages=(
    curl prometheus /usr/bin/python3 python3-selenium chromium chromium-driver
    libjpeg-turbo-progs imagemagick libvips-tools awscli s3cmd rclone python3-boto3
    python3-pika python3-kombu python3-pil python3-yaml amqp-tools rabbitmq-server systemd
    hyperfine graphicsmagick
)

wanted=("${build_packages[@]}")
if [[ "${1:-}" == "--test" ]]; then
    wanted+=("${test_packages[@]}")
fi

missing=()
for package in "${wanted[@]}"; do
    if [[ "$package" == /* ]]; then
        [[ -x "$package" ]] || missing+=(python3)
        continue
    fi
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" ||
        missing+=("$package")
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#wanted[@]} packages are installed"
    exit 0
fi

sudo_cmd=()
if ((EUID != 0)); then
    command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
    sudo_cmd=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
