# SPDX-License-Identifier: MIT
"""End to end: `imgbus load` and `imgbus bench` against a real `imgbus serve` on a free loopback
port. Checks that the client's results match the server's /metrics, that uploads rejected with 503
are retried after Retry-After, that --min-success sets the exit status, and that the benchmark PNG, JSON and
CSV are written and the PNG's panels are drawn."""
import csv
import json
import os
import re
import subprocess
import tempfile
import urllib.error
import urllib.request

import imgbus_server
from imgbus_server import Checks, Server

# Bounds for every command this test starts.
COMMAND_TIMEOUT = 240


def image():
    return os.path.join(imgbus_server.TEST_DATA, "test.jpg")


def run_imgbus(*args, cwd=None):
    result = subprocess.run([imgbus_server.IMGBUS_BIN, *args], capture_output=True, text=True,
                            timeout=COMMAND_TIMEOUT, cwd=cwd)
    return result.returncode, result.stdout, result.stderr


def metric_sum(server, name, **labels):
    """Sum of the samples of one metric whose labels include the given ones."""
    _, _, body = server.get("/metrics")
    total = 0.0
    for line in body.decode().splitlines():
        match = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)', line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(key) == value for key, value in labels.items()):
            total += float(match.group(3))
    return total


def load_json(path):
    with open(path) as file:
        return json.load(file)


def check_load_matches_metrics(server, workdir):
    before = metric_sum(server, "frontend_processed_total", op="grayscale")
    report_path = os.path.join(workdir, "load.json")
    # whole-image, so that every job runs the kernel and reports its time.
    code, out, err = run_imgbus("load", image(), "--url", server.url, "--count", "6",
                                "--concurrency", "3", "--timeout", "60", "--json", report_path,
                                "--path", "whole-image")
    assert code == 0, f"imgbus load exited {code}:\n{out}\n{err}"
    assert "sent 6, succeeded 6, failed 0, success rate 100.0%" in out, out
    report = load_json(report_path)
    requests = report["requests"]
    assert len(requests) == 6, requests
    assert all(r["ok"] and r["job_status"] == "done" for r in requests), requests
    assert all(r["followed_by"] == "events" for r in requests), requests
    assert len({r["job"] for r in requests}) == 6, "job ids repeat"
    for r in requests:
        # The client starts timing before the upload reaches the server, so its latency is at
        # least the server's upload-to-done time (with 5 ms for clock reading differences).
        assert r["latency_ms"] + 5 >= r["server_timings_ms"]["total"], r
        assert r["server_timings_ms"]["kernel"] > 0, r
    processed = metric_sum(server, "frontend_processed_total", op="grayscale") - before
    assert processed == report["summary"]["succeeded"] == 6, \
        f"/metrics counted {processed} processed jobs, the client {report['summary']['succeeded']}"
    summary = report["summary"]
    for key in ("avg", "p50", "p95", "p99", "max"):
        assert summary["latency_ms"][key] > 0, summary
    assert summary["latency_ms"]["p50"] <= summary["latency_ms"]["p95"] <= summary["latency_ms"]["max"]
    assert summary["throughput_jobs_per_second"] > 0, summary


def check_polling_fallback(server, workdir):
    report_path = os.path.join(workdir, "poll.json")
    code, out, err = run_imgbus("load", image(), "--url", server.url, "--count", "2",
                                "--no-events", "--timeout", "60", "--json", report_path)
    assert code == 0, f"imgbus load --no-events exited {code}:\n{out}\n{err}"
    requests = load_json(report_path)["requests"]
    assert [r["followed_by"] for r in requests] == ["polling", "polling"], requests
    assert all(r["ok"] for r in requests), requests


def check_unreachable_server(workdir):
    port = imgbus_server.free_port()
    code, out, err = run_imgbus("load", image(), "--url", f"http://127.0.0.1:{port}", "--count",
                                "1", "--retries", "1", "--timeout", "10")
    assert code != 0, f"load against a closed port exited 0:\n{out}"
    assert "failed with connection: 1" in out, out
    assert "--min-success" in err, err


def slow_tiny_server():
    """A server whose job queue has room for one message and whose jobs are slow, so uploads
    overflow."""
    return Server("--workers", "1", "--queue-max-length", "1", "--retry-after", "1",
                  "--max-passes", "2000").start()


def check_503_retried_with_backoff(workdir):
    server = slow_tiny_server()
    try:
        rejected_before = metric_sum(server, "frontend_rejected_total")
        report_path = os.path.join(workdir, "retry.json")
        code, out, err = run_imgbus("load", image(), "--url", server.url, "--count", "5",
                                    "--concurrency", "4", "--passes", "300", "--retries", "15",
                                    "--timeout", "120", "--json", report_path)
        assert code == 0, f"imgbus load exited {code}:\n{out}\n{err}"
        report = load_json(report_path)
        retried = [r for r in report["requests"] if r["attempts"] > 1]
        assert retried, f"no upload was rejected with 503; the test server is not saturated: {out}"
        for r in retried:
            # Every retry waited at least the server's Retry-After of 1 s.
            assert r["retry_wait_seconds"] >= r["attempts"] - 1 - 1e-6, r
        assert all(r["ok"] for r in report["requests"]), report["requests"]
        rejected = metric_sum(server, "frontend_rejected_total") - rejected_before
        assert rejected == report["summary"]["retries"], \
            f"/metrics counted {rejected} rejected uploads, the client {report['summary']['retries']} retries"
    finally:
        server.cleanup()


def check_min_success_fails(workdir):
    server = slow_tiny_server()
    try:
        args = ["load", image(), "--url", server.url, "--count", "6", "--concurrency", "4",
                "--passes", "300", "--retries", "0", "--timeout", "120"]
        code, out, err = run_imgbus(*args)
        assert code != 0, f"load with rejected uploads exited 0:\n{out}"
        assert "failed with http_503" in out, out
        assert "under --min-success 100%" in err, err
        code, out, err = run_imgbus(*args, "--min-success", "0")
        assert code == 0, f"load with --min-success 0 exited {code}:\n{out}\n{err}"
    finally:
        server.cleanup()


def ink_fraction(png, width, height, x, y):
    """Share of non-white pixels in one rectangle of the PNG, measured by ImageMagick."""
    result = subprocess.run(["convert", png, "-crop", f"{width}x{height}+{x}+{y}", "+repage",
                             "-colorspace", "gray", "-threshold", "94%", "-format", "%[fx:mean]",
                             "info:"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return 1.0 - float(result.stdout)


def png_size(png):
    result = subprocess.run(["identify", "-format", "%w %h %m", png], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, f"identify cannot decode {png}: {result.stderr}"
    width, height, kind = result.stdout.split()
    assert kind == "PNG", result.stdout
    return int(width), int(height)


def check_bench_thread_sweep(server, workdir):
    before = metric_sum(server, "frontend_processed_total", op="grayscale")
    png = os.path.join(workdir, "sweep.png")
    code, out, err = run_imgbus("bench", image(), "--url", server.url, "--counts", "1,3",
                                "--concurrency", "2", "--threads", "1,2", "--timeout", "60",
                                "--output", png)
    assert code == 0, f"imgbus bench exited {code}:\n{out}\n{err}"
    assert png_size(png) == (1600, 1460), png_size(png)
    panels = [(780, 450, 10, 80), (780, 450, 810, 80), (780, 450, 10, 540), (780, 450, 810, 540),
              (1580, 450, 10, 1000)]
    for panel in panels:
        ink = ink_fraction(png, *panel)
        assert 0.01 < ink < 0.6, f"panel {panel} has {ink:.3f} ink; it looks blank or filled"

    report = load_json(os.path.join(workdir, "sweep.json"))
    steps = report["steps"]
    assert [(s["threads"], s["count"]) for s in steps] == [(1, 1), (1, 3), (2, 1), (2, 3)], steps
    for step in steps:
        assert step["succeeded"] == step["count"], step
        assert step["server"]["scraped"], step
        assert step["server"]["processed"] == step["count"], step
        assert step["server"]["total_ms_avg"] > 0, step
        assert step["server"]["process_ms_avg"] > 0, step
    assert [p["threads"] for p in report["speedup"]] == [1, 2], report["speedup"]
    assert report["speedup"][0]["speedup"] == 1.0, report["speedup"]
    processed = metric_sum(server, "frontend_processed_total", op="grayscale") - before
    assert processed == sum(s["succeeded"] for s in steps) == 8, processed

    published = server.get_json("/api/benchmarks/latest")
    assert published["generated_at"] == report["generated_at"], published
    assert published["steps"] == report["steps"], "the server holds another report"

    with open(os.path.join(workdir, "sweep.csv")) as file:
        rows = list(csv.DictReader(file))
    assert [(int(r["threads"]), int(r["count"])) for r in rows] == [(1, 1), (1, 3), (2, 1), (2, 3)]
    assert all(float(r["latency_avg_ms"]) > 0 for r in rows), rows


def put_json(server, path, body):
    request = urllib.request.Request(server.url + path, data=body, method="PUT",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def check_benchmark_route_validates(server, workdir):
    status, body = put_json(server, "/api/benchmarks/latest", b'{"steps": 3}')
    assert status == 400, (status, body)
    assert "imgbus-bench/1" in body["message"], body
    status, body = put_json(server, "/api/benchmarks/latest", b"not json")
    assert status == 400, (status, body)
    status, body = put_json(server, "/api/benchmarks/latest", b" " * (5 << 20))
    assert status == 413, (status, body)


def check_bench_safer(server, workdir):
    code, out, err = run_imgbus("bench", image(), "--url", server.url, "--counts", "1,2",
                                "--concurrency", "8", "--safer", "--timeout", "60", cwd=workdir)
    assert code == 0, f"imgbus bench --safer exited {code}:\n{out}\n{err}"
    assert "cannot read the depth" not in err, f"--safer did not wait for the queue:\n{err}"
    png = os.path.join(workdir, "benchmark_safe.png")
    assert png_size(png) == (1600, 1000), png_size(png)
    for panel in [(780, 450, 10, 80), (780, 450, 810, 80), (780, 450, 10, 540),
                  (780, 450, 810, 540)]:
        ink = ink_fraction(png, *panel)
        assert 0.01 < ink < 0.6, f"panel {panel} has {ink:.3f} ink; it looks blank or filled"
    settings = load_json(os.path.join(workdir, "benchmark_safe.json"))["settings"]
    assert settings["safer"], settings
    assert settings["concurrency"] == 2, settings
    assert settings["delay_seconds"] >= 0.5, settings


def check_bench_rejects_bad_counts(workdir):
    code, _, err = run_imgbus("bench", image(), "--url", "http://127.0.0.1:1", "--counts",
                              "10000,10000,10000", cwd=workdir)
    assert code != 0
    assert "over the limit" in err, err


def main():
    imgbus_server.require_environment()
    checks = Checks()
    workdir = tempfile.mkdtemp(prefix="imgbus-load-bench-")
    server = Server("--workers", "2").start()
    try:
        checks.run("load matches /metrics", check_load_matches_metrics, server, workdir)
        checks.run("load polling fallback", check_polling_fallback, server, workdir)
        checks.run("bench thread sweep", check_bench_thread_sweep, server, workdir)
        checks.run("bench safer mode", check_bench_safer, server, workdir)
        checks.run("benchmark route validates", check_benchmark_route_validates, server, workdir)
    finally:
        server.cleanup()
    checks.run("load unreachable server", check_unreachable_server, workdir)
    checks.run("load retries 503", check_503_retried_with_backoff, workdir)
    checks.run("load min-success", check_min_success_fails, workdir)
    checks.run("bench bounded counts", check_bench_rejects_bad_counts, workdir)
    checks.finish()


if __name__ == "__main__":
    main()
