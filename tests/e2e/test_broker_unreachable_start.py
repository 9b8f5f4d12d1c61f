# SPDX-License-Identifier: MIT
"""`imgbus worker` and `imgbus serve --broker` start while the broker refuses them or is down.

A refused login must be logged as the broker's readable reason (403 ACCESS_REFUSED ...), with no
bytes from freed memory in the log.
"""
import os
import re
import subprocess
import tempfile

import imgbus_server
from imgbus_server import IMGBUS_BIN, Checks, Server
from worker_harness import amqp_port_of, wait_until


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


def main():
    imgbus_server.require_environment()
    checks = Checks()
    checks.run("a refused broker login is logged readably", check_refused_login_logged)
    checks.finish()


if __name__ == "__main__":
    main()
