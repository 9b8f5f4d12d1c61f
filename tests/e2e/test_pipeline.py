# SPDX-License-Identifier: MIT
"""End to end: uploads real photos with curl, waits for the jobs and checks the results, the
timings, the event stream and /metrics (with promtool)."""
import json
import os
import re
import subprocess
import tempfile
import urllib.request

import imgbus_server
from imgbus_server import Checks, Server, gray_pixels, image_shape


def check_jpeg_multipart(server):
    source = os.path.join(imgbus_server.TEST_DATA, "test.jpg")
    status, _, body = server.upload(source, threads="1,2", passes=2)
    assert status == 202, f"upload answered {status}: {body}"
    assert [job["threads"] for job in body["jobs"]] == [1, 2], body
    assert body["input"]["width"] == 1920, body["input"]
    assert body["input"]["height"] == 1080, body["input"]
    jobs = server.wait_for_jobs([job["id"] for job in body["jobs"]])
    reference = gray_pixels(os.path.join(imgbus_server.TEST_DATA, "test_gray.png"))
    for job in jobs.values():
        assert job["status"] == "done", f"job failed: {job}"
        timings = job["timings"]
        for name in ("queue_wait_ms", "decode_ms", "kernel_ms", "encode_ms", "total_ms"):
            assert timings[name] >= 0, f"{name} missing or negative: {timings}"
        assert timings["kernel_ms"] > 0, timings
        assert timings["total_ms"] >= timings["kernel_ms"], timings
        status, headers, data = server.get(job["result_url"])
        assert status == 200, f"result answered {status}"
        assert headers["Content-Type"] == "image/jpeg", headers
        assert image_shape(data) == ("jpeg", 1920, 1080, 1), image_shape(data)
        with tempfile.NamedTemporaryFile(suffix=".jpg") as result_file:
            result_file.write(data)
            result_file.flush()
            pixels = gray_pixels(result_file.name)
        assert len(pixels) == len(reference)
        mean_error = sum(abs(a - b) for a, b in zip(pixels[::97], reference[::97])) / len(pixels[::97])
        assert mean_error < 2.5, f"result differs from the BT.601 reference by {mean_error:.2f} levels"


def check_png_raw_body(server):
    source = os.path.join(imgbus_server.TEST_DATA, "test_gray.png")
    status, _, body = server.upload(source, raw=True, threads="1,2")
    assert status == 202, f"upload answered {status}: {body}"
    jobs = server.wait_for_jobs([job["id"] for job in body["jobs"]])
    for job in jobs.values():
        assert job["status"] == "done", f"job failed: {job}"
        status, headers, data = server.get(job["result_url"])
        assert headers["Content-Type"] == "image/png", headers
        assert image_shape(data)[:3] == ("png", 1920, 1080), image_shape(data)
        with tempfile.NamedTemporaryFile(suffix=".png") as result_file:
            result_file.write(data)
            result_file.flush()
            assert gray_pixels(result_file.name) == gray_pixels(source), \
                "grayscale of a gray PNG changed its pixels"


def check_batch_and_input(server):
    source = os.path.join(imgbus_server.TEST_DATA, "hostile", "17x17-420.jpg")
    status, _, body = server.upload(source, threads="1", runs=3)
    assert status == 202, body
    assert len(body["jobs"]) == 3 and [job["run"] for job in body["jobs"]] == [1, 2, 3]
    server.wait_for_jobs([job["id"] for job in body["jobs"]])
    batch = server.get_json(f"/api/batches/{body['batch']}")
    assert len(batch["jobs"]) == 3 and all(job["status"] == "done" for job in batch["jobs"])
    status, _, data = server.get(f"/api/batches/{body['batch']}/input")
    with open(source, "rb") as original:
        assert status == 200, f"GET input returned {status}"
        assert data == original.read(), "the stored input differs from the upload"


def check_event_stream(server):
    """A client that subscribes after the upload first gets the batch's current state, then
    each change, so it never misses the end of a fast job."""
    source = os.path.join(imgbus_server.TEST_DATA, "test.jpg")
    status, _, body = server.upload(source, threads="1,2", passes=20)
    assert status == 202, body
    expected = {job["id"] for job in body["jobs"]}
    finished = {}
    seen = []
    request = urllib.request.Request(f"{server.url}/api/events?batch={body['batch']}")
    with urllib.request.urlopen(request, timeout=60) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream"), stream.headers
        for raw in stream:
            line = raw.decode().rstrip("\n")
            if not line.startswith("data:"):
                continue
            job = json.loads(line[5:])
            seen.append(job)
            if job["status"] in ("done", "failed"):
                finished[job["id"]] = job["status"]
            if set(finished) == expected:
                break
    assert all(status == "done" for status in finished.values()), finished
    assert all(job["batch"] == body["batch"] for job in seen), "the batch filter leaked"


def metric_value(text, name, labels=""):
    pattern = re.escape(name) + (re.escape("{" + labels + "}") if labels else "") + r" (\S+)"
    match = re.search(r"^" + pattern + r"$", text, re.MULTILINE)
    assert match, f"{name}{{{labels}}} not in /metrics"
    return float(match.group(1))


def check_metrics(server):
    status, headers, body = server.get("/metrics")
    assert status == 200, status
    assert headers["Content-Type"].startswith("text/plain"), headers
    text = body.decode()
    promtool = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True)
    report = f"promtool check metrics: {promtool.stdout.decode()}{promtool.stderr.decode()}"
    assert promtool.returncode == 0, report
    assert not promtool.stdout.strip(), report
    assert not promtool.stderr.strip(), report
    published = metric_value(text, "frontend_publish_total", 'op="grayscale"')
    done = metric_value(text, "frontend_processed_total", 'op="grayscale",status="done"')
    accepted = server.jobs_accepted
    assert published == done == accepted, \
        f"published {published}, processed {done}; expected {accepted} each"
    assert metric_value(text, "grayscale_process_seconds_count") == accepted
    assert metric_value(text, "grayscale_queue_wait_seconds_count") == accepted
    assert metric_value(text, "grayscale_startup_seconds_count") == 1
    assert metric_value(text, "frontend_request_seconds_count", 'op="grayscale"') == accepted
    assert metric_value(text, "grayscale_failures_total", 'reason="decode"') == 0
    assert metric_value(text, "grayscale_reconnect_attempts_total") == 0
    assert metric_value(text, "imgbus_queue_messages_ready", 'queue="imgbus.jobs"') == 0


def check_api_documents(server):
    operations = server.get_json("/api/operations")["operations"]
    assert "grayscale" in [operation["name"] for operation in operations], operations
    config = server.get_json("/api/config")
    assert config["hardware_threads"] >= 1, config
    assert config["limits"]["max_threads_per_job"] >= 1, config
    queues = server.get_json("/api/ui/queues")
    jobs_queue = next(queue for queue in queues if queue["name"] == "imgbus.jobs")
    for field in ("messages", "messages_ready", "messages_unacknowledged", "consumers"):
        assert isinstance(jobs_queue[field], int), f"{field} in {jobs_queue}"
    assert jobs_queue["consumers"] == 2, jobs_queue
    status, _, _ = server.get("/readyz")
    assert status == 200, f"/readyz answered {status}"
    status, headers, page = server.get("/")
    assert status == 200, f"GET / returned {status}"
    assert headers["Content-Type"].startswith("text/html"), headers
    status, _, _ = server.get("/vendor/chart.min.js")
    assert status == 200, "Chart.js is not served"


def check_clean_exit(server):
    exit_code = server.stop()
    assert exit_code == 0, f"imgbus serve exited with {exit_code} after SIGTERM"
    log = server.log()
    for phase in ("shutdown 1/3", "shutdown 2/3", "shutdown 3/3", "imgbus stopped"):
        assert phase in log, f"the log lacks '{phase}'"


def main():
    imgbus_server.require_environment()
    checks = Checks()
    server = Server("--workers", "2").start()
    try:
        checks.run("JPEG multipart upload, threads 1,2", check_jpeg_multipart, server)
        checks.run("PNG raw body upload", check_png_raw_body, server)
        checks.run("batch of runs and stored input", check_batch_and_input, server)
        checks.run("server-sent events of one batch", check_event_stream, server)
        checks.run("metrics pass promtool and count jobs", check_metrics, server)
        checks.run("operations, config, queues, health", check_api_documents, server)
        checks.run("SIGTERM stops the server cleanly", check_clean_exit, server)
    finally:
        if checks.failed:
            print(server.log()[-6000:])
        server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
