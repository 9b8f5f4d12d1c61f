# SPDX-License-Identifier: MIT
"""`imgbus worker` and `imgbus serve --broker` start while the broker refuses them or is down.

A refused login must be logged as the broker's readable reason (403 ACCESS_REFUSED ...), with no
bytes from freed memory in the log. A serve whose broker is down must still open its HTTP listener
(/healthz 200, /readyz and uploads 503 with Retry-After). A worker must open its /healthz (503).
Once an `imgbus serve` listens on that AMQP port, the queues are declared and an upload is
processed.
Unfinished jobs that a restarted serve cannot publish again while its broker is down are
published once the broker is up.
"""
import hashlib
import os
import re
import shutil
import subprocess
import tempfile

import imgbus_server
from imgbus_server import IMGBUS_BIN, Checks, Server, free_port
from worker_harness import Worker, amqp_port_of, check_gray_results, wait_until


def read_bytes(path):
    with open(path, "rb") as file:
        return file.read()


def check_refused_login_logged():
    broker = Server("--http", "off", "--workers", "0").start()
    handle, log_path = tempfile.mkstemp(prefix="imgbus-worker-", suffix=".log")
    os.close(handle)
    worker = None
    try:
        url = f"amqp://127.0.0.1:{amqp_port_of(broker)}/%2F"
        env = dict(os.environ, IMGBUS_ACCESS_KEY=broker.access_key,
                   IMGBUS_SECRET_KEY=broker.secret_key, IMGBUS_BROKER_USER=broker.access_key,
                   IMGBUS_BROKER_PASSWORD="not-the-secret")
        with open(log_path, "wb") as log_file:
            worker = subprocess.Popen(
                [IMGBUS_BIN, "worker", "--broker", url, "--store", broker.s3_url,
                 "--metrics-addr", "127.0.0.1:0"], env=env, stdout=log_file,
                stderr=subprocess.STDOUT)
        # Two refusals, so that the second one runs on a heap the first one freed memory in.
        wait_until(lambda: read_bytes(log_path).count(b" failed: ") >= 2 or
                   worker.poll() is not None, 40, "two refused logins in the worker's log")
        log = read_bytes(log_path)
        text = log.decode(errors="replace")
        assert b"403 ACCESS_REFUSED" in log, "the refusal is not readable:\n" + text[-3000:]
        control = re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", log)
        assert control is None, f"the log holds control byte {control.group(0)!r}:\n{text[-3000:]}"
        assert b"not-the-secret" not in log, "the broker password is in the log"
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        os.unlink(log_path)
        broker.cleanup()


def status_of(server, path):
    return server.get(path)[0]


def check_start_while_broker_down():
    port = free_port()  # nothing listens here until the broker serve starts
    url = f"amqp://127.0.0.1:{port}/%2F"
    frontend = Server("--workers", "0", "--broker", url, "--amqp", "off").start()
    worker = broker = None
    try:
        assert status_of(frontend, "/healthz") == 200
        assert status_of(frontend, "/readyz") == 503, "/readyz is not 503 without the broker"
        source = os.path.join(imgbus_server.TEST_DATA, "test.jpg")
        status, headers, body = frontend.upload(source)
        assert status == 503, f"an upload without the broker answered {status}: {body}"
        assert "retry-after" in headers, f"the 503 has no Retry-After: {headers}"

        worker = Worker(url, frontend.s3_url, frontend.access_key, frontend.secret_key)
        worker.start(until_working=False)
        assert worker.health() == 503, "the worker's /healthz is not 503 without the broker"

        broker = Server("--http", "off", "--workers", "0", "--s3", "off", "--amqp",
                        f"127.0.0.1:{port}", "--access-key", frontend.access_key,
                        "--secret-key", frontend.secret_key).start()
        wait_until(lambda: status_of(frontend, "/readyz") == 200, 40, "/readyz answering 200")
        wait_until(lambda: worker.health() == 200, 40, "the worker's /healthz answering 200")
        status, _, body = frontend.upload(source)
        assert status == 202, f"the upload after the broker came up answered {status}: {body}"
        jobs = frontend.wait_for_jobs([job["id"] for job in body["jobs"]], timeout=40)
        check_gray_results(frontend, jobs)
    finally:
        if worker is not None and worker.process is not None:
            worker.cleanup()
        frontend.cleanup()
        if broker is not None:
            broker.cleanup()


KEYS = ["--access-key", "AKIDRECOVERTEST", "--secret-key", "recover/test+secret"]


def broker_on(port):
    return Server("--http", "off", "--workers", "0", "--s3", "off", "--amqp",
                  f"127.0.0.1:{port}", *KEYS).start()


def remove_published_marker(data_dir, batch):
    """As if the frontend had crashed between publishing a batch and writing its marker.

    The embedded store keeps each object in a file named by the SHA-256 of its key.
    """
    name = hashlib.sha256(f"uploads/{batch}/published".encode()).hexdigest()
    for folder, _, files in os.walk(data_dir):
        if name in files:
            os.unlink(os.path.join(folder, name))
            return True
    return False


def check_recovered_jobs_published_when_broker_comes_up():
    port = free_port()
    url = f"amqp://127.0.0.1:{port}/%2F"
    data_dir = tempfile.mkdtemp(prefix="imgbus-e2e-")
    servers = []
    worker = None
    try:
        servers.append(broker_on(port))
        frontend = Server("--workers", "0", "--broker", url, "--amqp", "off", *KEYS,
                          data_dir=data_dir).start()
        servers.append(frontend)
        wait_until(lambda: status_of(frontend, "/readyz") == 200, 40, "/readyz answering 200")
        status, _, body = frontend.upload(os.path.join(imgbus_server.TEST_DATA, "test.jpg"))
        assert status == 202, f"the upload answered {status}: {body}"
        ids = [job["id"] for job in body["jobs"]]
        frontend.stop()
        servers[0].cleanup()  # its queue, which held the job, is gone with it
        assert remove_published_marker(data_dir, body["batch"]), "no published marker was found"

        restarted = Server("--workers", "0", "--broker", url, "--amqp", "off", *KEYS,
                           data_dir=data_dir).start()
        servers.append(restarted)
        wait_until(lambda: re.search(r"publish\w* again", restarted.log()), 20,
                   "the restarted frontend trying to publish the job again")
        servers.append(broker_on(port))
        worker = Worker(url, restarted.s3_url, "AKIDRECOVERTEST", "recover/test+secret").start()
        jobs = restarted.wait_for_jobs(ids, timeout=40)
        check_gray_results(restarted, jobs)
    finally:
        if worker is not None and worker.process is not None:
            worker.cleanup()
        for server in reversed(servers):
            server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


def main():
    imgbus_server.require_environment()
    checks = Checks()
    checks.run("a refused broker login is logged readably", check_refused_login_logged)
    checks.run("serve and worker start while the broker is down", check_start_while_broker_down)
    checks.run("recovered jobs are published once the broker is up",
               check_recovered_jobs_published_when_broker_comes_up)
    checks.finish()


if __name__ == "__main__":
    main()
