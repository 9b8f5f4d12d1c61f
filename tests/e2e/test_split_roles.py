# SPDX-License-Identifier: MIT
"""An `imgbus serve` as broker and store only (--http off), a second `imgbus serve` as the only
frontend on it (--broker, --store, --s3 off, --amqp off) and one `imgbus worker`. Every job must
end done exactly once: a broker serve that still ran its own frontend would consume about half
of imgbus.events, and the real frontend would never see those jobs finish.

Also checks the rejections of role combinations that cannot work, through flags and IMGBUS_*
variables, and the --metrics-addr listener of a serve whose HTTP listener is off.
"""
import os
import re
import subprocess
import tempfile
import urllib.request

import pika

import imgbus_server
from imgbus_server import IMGBUS_BIN, Checks, Server
from worker_harness import (Worker, amqp_port_of, check_gray_results, metric_value, upload_jobs,
                            wait_until)

UPLOADS = 4
RUNS = 5  # 20 jobs
PASSES = 3


def start_topology():
    store_broker = Server("--http", "off", "--workers", "0").start()
    broker_url = f"amqp://127.0.0.1:{amqp_port_of(store_broker)}/%2F"
    keys = ["--access-key", store_broker.access_key, "--secret-key", store_broker.secret_key]
    frontend = Server("--workers", "0", "--broker", broker_url, "--store", store_broker.s3_url,
                      "--s3", "off", "--amqp", "off", *keys).start()
    # Two worker threads interleave the processing and done events irregularly.
    worker = Worker(broker_url, store_broker.s3_url, store_broker.access_key,
                    store_broker.secret_key, "--workers", "2").start()
    return store_broker, frontend, worker


def check_roles_logged(store_broker, frontend):
    log = store_broker.log()
    assert "http listening" not in log, "the broker and store serve opened an HTTP listener"
    assert re.search(r"imgbus serve roles: frontend off", log), log[-2000:]
    front_log = frontend.log()
    assert "s3 listening" not in front_log, "the frontend opened an S3 listener with --s3 off"
    assert re.search(r"imgbus serve roles: frontend on http://", front_log), front_log[-2000:]


def check_jobs_done_once(frontend, worker, ids):
    jobs = frontend.wait_for_jobs(ids, timeout=60)
    check_gray_results(frontend, jobs)
    _, _, body = frontend.get("/metrics")
    text = body.decode()
    done = metric_value(text, "frontend_processed_total", 'op="grayscale",status="done"')
    assert done == len(ids), f"frontend recorded {done} done jobs for {len(ids)} accepted"
    processed = worker.metric("grayscale_process_seconds_count")
    assert processed == len(ids), f"the worker processed {processed} jobs for {len(ids)}"


def check_one_event_consumer(store_broker):
    """Only the separate frontend consumes imgbus.events on the broker serve."""
    parameters = pika.ConnectionParameters(
        host="127.0.0.1", port=amqp_port_of(store_broker),
        credentials=pika.PlainCredentials(store_broker.access_key, store_broker.secret_key))
    with pika.BlockingConnection(parameters) as connection:
        declared = connection.channel().queue_declare("imgbus.events", passive=True)
    consumers = declared.method.consumer_count
    assert consumers == 1, f"imgbus.events has {consumers} consumers, not the frontend alone"


def rejected(args, env_extra=None):
    """Runs an `imgbus serve` that must reject its flags; returns its output."""
    with tempfile.TemporaryDirectory(prefix="imgbus-e2e-") as data_dir:
        env = dict(os.environ, **(env_extra or {}))
        result = subprocess.run([IMGBUS_BIN, "serve", "--data-dir", data_dir, *args],
                                capture_output=True, env=env, timeout=20)
        output = (result.stdout + result.stderr).decode(errors="replace")
        assert result.returncode != 0, f"imgbus serve {args} started:\n{output}"
        assert not os.path.exists(os.path.join(data_dir, "credentials.json")), \
            "a rejected serve wrote credentials.json"
        return output


def check_rejections():
    output = rejected(["--http", "off", "--s3", "off", "--amqp", "off", "--workers", "0"])
    for flag in ("--http off", "--s3 off", "--amqp off", "--workers"):
        assert flag in output, f"the rejection does not name {flag}:\n{output}"
    output = rejected([], {"IMGBUS_HTTP": "off", "IMGBUS_S3": "off", "IMGBUS_AMQP": "off",
                           "IMGBUS_WORKERS": "0"})
    assert "nothing to run" in output, f"variables set to off were not rejected:\n{output}"
    output = rejected(["--http", "127.0.0.1:0", "--s3", "127.0.0.1:0", "--amqp", "off",
                      "--workers", "0"])
    assert "--amqp off" in output, output
    assert "--workers" in output, output
    output = rejected(["--http", "127.0.0.1:0", "--s3", "of", "--amqp", "127.0.0.1:0"])
    assert "'of'" in output, f"a mistyped off was not named:\n{output}"
    assert "or off" in output, f"the message does not offer off:\n{output}"


def check_worker_needs_workers():
    """`imgbus worker` still rejects 0 workers, which `imgbus serve` accepts."""
    result = subprocess.run([IMGBUS_BIN, "worker", "--broker", "amqp://127.0.0.1:1/%2F",
                             "--store", "http://127.0.0.1:1", "--workers", "0"],
                            capture_output=True, timeout=20)
    output = (result.stdout + result.stderr).decode(errors="replace")
    assert result.returncode != 0, f"imgbus worker started with 0 workers:\n{output}"
    assert "--workers 0" in output, f"the message does not name --workers 0:\n{output}"


def check_metrics_without_http():
    server = Server("--http", "off", "--workers", "1", "--metrics-addr", "127.0.0.1:0").start()
    try:
        match = re.search(r"metrics listening on (http://127\.0\.0\.1:\d+)/metrics", server.log())
        assert match, "no metrics listener was logged:\n" + server.log()[-2000:]
        wait_until(lambda: urllib.request.urlopen(match.group(1) + "/healthz", timeout=5)
                   .status == 200, 20, "/healthz answering 200")
        with urllib.request.urlopen(match.group(1) + "/metrics", timeout=10) as response:
            text = response.read().decode()
        assert "imgbus_workers_busy" in text, "worker metrics missing:\n" + text[:1000]
        assert "grayscale_process_seconds" in text, "grayscale metrics missing"
    finally:
        server.cleanup()


def main():
    imgbus_server.require_environment()
    checks = Checks()
    checks.run("impossible role combinations rejected", check_rejections)
    checks.run("imgbus worker rejects 0 workers", check_worker_needs_workers)
    checks.run("--http off with workers serves /metrics on --metrics-addr",
               check_metrics_without_http)
    store_broker, frontend, worker = start_topology()
    try:
        ids = upload_jobs(frontend, UPLOADS, RUNS, PASSES)
        checks.run("each serve logs the roles it runs", check_roles_logged, store_broker, frontend)
        checks.run("the frontend is the only consumer of imgbus.events",
                   check_one_event_consumer, store_broker)
        checks.run("20 jobs through a separate frontend all end done exactly once",
                   check_jobs_done_once, frontend, worker, ids)
    finally:
        if checks.failed:
            for process in (store_broker, frontend, worker):
                print(process.log()[-3000:])
        worker.cleanup()
        frontend.cleanup()
        store_broker.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
