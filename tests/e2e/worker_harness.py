# SPDX-License-Identifier: MIT
"""Starts `imgbus worker` processes for the scale-out tests and checks their results.

Each worker gets a free metrics port (127.0.0.1:0, read back from its log), its broker URL and
its store URL; the store key pair travels in IMGBUS_ACCESS_KEY/IMGBUS_SECRET_KEY, never in argv.
"""
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import imgbus_server
from imgbus_server import IMGBUS_BIN, gray_pixels


def amqp_port_of(server):
    """The port of an `imgbus serve --amqp 127.0.0.1:0`, read from its log."""
    match = re.search(r"amqp listening on amqp://127\.0\.0\.1:(\d+)", server.log())
    assert match, "imgbus serve did not log its AMQP port:\n" + server.log()[-3000:]
    return int(match.group(1))


class Worker:
    """One `imgbus worker` process."""

    def __init__(self, broker_url, store_url, access_key, secret_key, *extra_args,
                 broker_user=None, broker_password=None):
        self.args = [IMGBUS_BIN, "worker", "--broker", broker_url, "--store", store_url,
                     "--metrics-addr", "127.0.0.1:0", *extra_args]
        self.env = dict(os.environ, IMGBUS_ACCESS_KEY=access_key, IMGBUS_SECRET_KEY=secret_key)
        if broker_user is not None:
            self.env.update(IMGBUS_BROKER_USER=broker_user, IMGBUS_BROKER_PASSWORD=broker_password)
        handle, self.log_path = tempfile.mkstemp(prefix="imgbus-worker-", suffix=".log")
        os.close(handle)
        self.process = None
        self.metrics_url = None

    def start(self, timeout=20, until_working=True):
        """Waits for the metrics listener and, with until_working, for the started workers."""
        self.log_file = open(self.log_path, "w")
        self.process = subprocess.Popen(self.args, env=self.env, stdout=self.log_file,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"imgbus worker exited with {self.process.returncode}:\n"
                                     + self.log())
            log = self.log()
            match = re.search(r"metrics listening on (http://127\.0\.0\.1:\d+)/metrics", log)
            if match and (not until_working or re.search(r"started \d+ workers", log)):
                self.metrics_url = match.group(1)
                return self
            time.sleep(0.1)
        raise AssertionError(f"imgbus worker did not start in {timeout} s:\n" + self.log())

    def log(self):
        with open(self.log_path, errors="replace") as log:
            return log.read()

    def metrics(self):
        with urllib.request.urlopen(self.metrics_url + "/metrics", timeout=10) as response:
            return response.read().decode()

    def health(self):
        try:
            with urllib.request.urlopen(self.metrics_url + "/healthz", timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def metric(self, name, labels=""):
        return metric_value(self.metrics(), name, labels)

    def kill(self):
        """SIGKILL, as a crash would."""
        self.process.kill()
        self.process.wait()

    def stop(self, timeout=30):
        """SIGTERM and wait; returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"imgbus worker ignored SIGTERM for {timeout} s:\n" + self.log())

    def cleanup(self):
        try:
            self.stop()
        finally:
            self.log_file.close()
            os.unlink(self.log_path)


def metric_value(text, name, labels=""):
    """The value of one series in Prometheus text, 0 when it is absent."""
    wanted = f"{name}{{{labels}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.split()[-1])
    return 0.0


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def upload_jobs(server, uploads, runs, passes):
    """Uploads test.jpg `uploads` times with `runs` runs each; returns the accepted job ids."""
    source = os.path.join(imgbus_server.TEST_DATA, "test.jpg")
    ids = []
    for _ in range(uploads):
        status, _, body = server.upload(source, runs=runs, passes=passes)
        assert status == 202, f"upload answered {status}: {body}"
        ids += [job["id"] for job in body["jobs"]]
    return ids


def check_gray_results(server, jobs):
    """Every job is done and its result matches tests/data/test_gray.png."""
    reference = gray_pixels(os.path.join(imgbus_server.TEST_DATA, "test_gray.png"))
    for job in jobs.values():
        assert job["status"] == "done", f"job {job['id']} ended {job['status']}: {job['error']}"
        status, _, data = server.get(job["result_url"])
        assert status == 200, f"result of {job['id']} answered {status}"
        with tempfile.NamedTemporaryFile(suffix=".jpg") as result_file:
            result_file.write(data)
            result_file.flush()
            pixels = gray_pixels(result_file.name)
        assert len(pixels) == len(reference), f"result of {job['id']} has another size"
        sample = range(0, len(pixels), 97)
        error = sum(abs(pixels[i] - reference[i]) for i in sample) / len(sample)
        assert error < 2.5, f"result of {job['id']} differs from the reference by {error:.2f}"
