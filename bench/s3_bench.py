#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PUT and GET throughput and latency of imgbus's S3 API.

Starts `imgbus serve` on free loopback ports with a fresh data directory. Then, for each object
size and concurrency, it runs PUTs of distinct keys followed by GETs of the same keys and prints a
Markdown table. Each request is signed with SigV4 and opens its own connection. Uploads are sent
as UNSIGNED-PAYLOAD, so the client spends no time hashing.

    /usr/bin/python3 bench/s3_bench.py --imgbus build/imgbus
"""
import argparse
import concurrent.futures
import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
SIZES = {"4KiB": 4 << 10, "1MiB": 1 << 20, "64MiB": 64 << 20}


class Signer:
    def __init__(self, port, access_key, secret_key):
        self.port, self.access_key, self.secret_key = port, access_key, secret_key

    def headers(self, method, path, extra=None, payload_hash=EMPTY_SHA256):
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        headers = {"host": f"127.0.0.1:{self.port}", "x-amz-date": amz_date,
                   "x-amz-content-sha256": payload_hash, **(extra or {})}
        names = sorted(headers)
        canonical = "\n".join([method, path, "", "".join(f"{n}:{headers[n]}\n" for n in names),
                               ";".join(names), payload_hash])
        scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + self.secret_key).encode()
        for part in (amz_date[:8], "us-east-1", "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope},"
                                    f"SignedHeaders={';'.join(names)},Signature={signature}")
        return headers


def timed_request(signer, method, path, body_size=0, payload=None):
    """Sends one request on a new connection; returns (seconds, status, bytes received)."""
    extra = {"content-length": str(body_size)} if method == "PUT" else None
    headers = signer.headers(method, path, extra,
                             "UNSIGNED-PAYLOAD" if method == "PUT" else EMPTY_SHA256)
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", signer.port, timeout=600)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders()
    if method == "PUT":
        sent = 0
        while sent < body_size:
            piece = payload[:min(len(payload), body_size - sent)]
            connection.send(piece)
            sent += len(piece)
    response = connection.getresponse()
    received = 0
    while True:
        data = response.read(1 << 20)
        if not data:
            break
        received += len(data)
    connection.close()
    return time.perf_counter() - start, response.status, received


def run_step(signer, method, size, concurrency, count, payload, prefix):
    paths = [f"/bench/{prefix}-{i}" for i in range(count)]
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(lambda p: timed_request(signer, method, p, size, payload), paths))
    wall = time.perf_counter() - start
    failures = [status for _, status, _ in results if status != 200]
    if failures:
        raise SystemExit(f"{method} of {size} bytes: {len(failures)} failed, e.g. {failures[0]}")
    latencies = sorted(seconds for seconds, _, _ in results)
    return {"ops": count / wall, "mib_s": count * size / wall / (1 << 20),
            "p50_ms": statistics.median(latencies) * 1000,
            "p95_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))] * 1000}


def start_server(binary, data_dir):
    log_path = os.path.join(data_dir, "serve.log")
    log = open(log_path, "w")
    process = subprocess.Popen([binary, "serve", "--http", "127.0.0.1:0", "--s3", "127.0.0.1:0",
                                "--workers", "0", "--data-dir", data_dir],
                               stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "IMGBUS_AMQP": "127.0.0.1:0"})
    for _ in range(200):
        match = re.search(r"s3 listening on http://127\.0\.0\.1:(\d+)", open(log_path).read())
        if match:
            with open(os.path.join(data_dir, "credentials.json")) as file:
                pair = json.load(file)
            return process, int(match.group(1)), pair["access_key"], pair["secret_key"]
        if process.poll() is not None:
            raise SystemExit(open(log_path).read())
        time.sleep(0.1)
    raise SystemExit("imgbus serve did not start")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--imgbus", default="build/imgbus", help="the imgbus binary to start")
    parser.add_argument("--concurrency", default="1,16", help="comma-separated client threads")
    parser.add_argument("--sizes", default="4KiB,1MiB,64MiB", help=f"from {', '.join(SIZES)}")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="imgbus-s3-bench-")
    process, port, access_key, secret_key = start_server(args.imgbus, data_dir)
    print(f"imgbus serve with data in {data_dir} (fsync on, the default)")
    signer = Signer(port, access_key, secret_key)
    try:
        assert timed_request(signer, "PUT", "/bench")[1] == 200
        payload = os.urandom(1 << 20)
        print("| size | concurrency | op | requests | ops/s | MiB/s | p50 ms | p95 ms |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for size_name in args.sizes.split(","):
            size = SIZES[size_name]
            for concurrency in (int(c) for c in args.concurrency.split(",")):
                # Bounded counts: up to 2000 requests and 256 MiB per step, but at least 16.
                count = max(16, concurrency, min(2000, (256 << 20) // size))
                prefix = f"{size_name}-{concurrency}"
                for method in ("PUT", "GET"):
                    row = run_step(signer, method, size, concurrency, count, payload, prefix)
                    print(f"| {size_name} | {concurrency} | {method} | {count} | "
                          f"{row['ops']:.0f} | {row['mib_s']:.1f} | {row['p50_ms']:.2f} | "
                          f"{row['p95_ms']:.2f} |", flush=True)
                for i in range(count):
                    timed_request(signer, "DELETE", f"/bench/{prefix}-{i}")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
