# SPDX-License-Identifier: MIT
"""Starts a real `imgbus serve` for an end-to-end test and talks to it with curl.

Uses only Debian's python3 standard library and the curl command line client.
"""
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

IMGBUS_BIN = os.environ.get("IMGBUS_BIN", "")
TEST_DATA = os.environ.get("IMGBUS_TEST_DATA", "")


def require_environment():
    if not IMGBUS_BIN or not os.access(IMGBUS_BIN, os.X_OK):
        sys.exit(f"IMGBUS_BIN is {IMGBUS_BIN!r}; set it to the built imgbus binary (ctest does)")
    if not TEST_DATA or not os.path.isdir(TEST_DATA):
        sys.exit(f"IMGBUS_TEST_DATA is {TEST_DATA!r}; set it to the tests/data folder")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One `imgbus serve` process on a free loopback port with its own data directory."""

    def __init__(self, *extra_args, data_dir=None):
        self.owns_data_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="imgbus-e2e-")
        self.extra_args = list(extra_args)
        self.port = None
        self.process = None
        self.jobs_accepted = 0  # jobs in 202 answers to upload()
        self.log_path = os.path.join(self.data_dir, f"serve-{time.time_ns()}.log")
        self.s3_port = None
        self.access_key = self.secret_key = None  # read from credentials.json after start

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def flag(self, name):
        """The value of `name` in the extra arguments, or None."""
        for index, arg in enumerate(self.extra_args):
            if arg == name and index + 1 < len(self.extra_args):
                return self.extra_args[index + 1]
            if arg.startswith(name + "="):
                return arg.partition("=")[2]
        return None

    def start(self, timeout=20):
        args = [IMGBUS_BIN, "serve", "--data-dir", self.data_dir, *self.extra_args]
        if self.flag("--http") is None:
            self.port = free_port()
            args += ["--http", f"127.0.0.1:{self.port}"]
        if not any(arg == "--s3" or arg.startswith("--s3=") for arg in self.extra_args):
            args += ["--s3", "127.0.0.1:0"]  # never the fixed default, which tests would share
        if not any(arg == "--amqp" or arg.startswith("--amqp=") for arg in self.extra_args):
            args += ["--amqp", "127.0.0.1:0"]
        self.log_file = open(self.log_path, "w")
        self.process = subprocess.Popen(args, stdout=self.log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"imgbus serve exited with {self.process.returncode}:\n"
                                     + self.log())
            if self.flag("--http") == "off":
                # No /healthz to poll: the roles line comes after every listener is up.
                if "imgbus serve roles:" in self.log() and self._read_s3_endpoint():
                    return self
                time.sleep(0.1)
                continue
            try:
                status, _, _ = self.get("/healthz")
                if status == 200 and self._read_s3_endpoint():
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"imgbus serve did not answer /healthz in {timeout} s:\n" + self.log())

    def _read_s3_endpoint(self):
        """Finds the S3 port in the log and the credentials in the data directory."""
        match = re.search(r"s3 listening on http://127\.0\.0\.1:(\d+)", self.log())
        if not match and self.flag("--s3") != "off":
            return False
        self.s3_port = int(match.group(1)) if match else None
        credentials = os.path.join(self.data_dir, "credentials.json")
        if os.path.exists(credentials):
            with open(credentials) as file:
                pair = json.load(file)
            self.access_key, self.secret_key = pair["access_key"], pair["secret_key"]
        return True

    @property
    def s3_url(self):
        return f"http://127.0.0.1:{self.s3_port}"

    def log(self):
        self.log_file.flush()
        with open(self.log_path, errors="replace") as log:
            return log.read()

    def stop(self, timeout=15):
        """Sends SIGTERM and waits; returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("imgbus serve did not stop within "
                                 f"{timeout} s of SIGTERM:\n" + self.log())

    def kill(self):
        """Kills the process with SIGKILL, as a crash would."""
        self.process.kill()
        self.process.wait()

    def cleanup(self):
        try:
            self.stop()
        finally:
            self.log_file.close()
            if self.owns_data_dir:
                shutil.rmtree(self.data_dir, ignore_errors=True)

    def peak_rss_mib(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0

    def get(self, path, timeout=10):
        """Returns (status, headers, body bytes) of a GET."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def get_json(self, path):
        status, _, body = self.get(path)
        assert status == 200, f"GET {path} answered {status}: {body[:300]!r}"
        return json.loads(body)

    def upload(self, image_path, raw=False, **params):
        """Uploads with curl, as multipart (like a browser form) or as a raw body.

        Returns (status, headers, parsed JSON body).
        """
        query = "&".join(f"{name}={value}" for name, value in params.items())
        args = ["curl", "-sS", "-i", "-X", "POST"]
        if raw:
            args += ["--data-binary", f"@{image_path}", "-H", "Content-Type: application/octet-stream",
                     f"{self.url}/api/jobs?{query}"]
        else:
            args += ["-F", f"image=@{image_path}"]
            for name, value in params.items():
                args += ["-F", f"{name}={value}"]
            args.append(f"{self.url}/api/jobs")
        result = subprocess.run(args, capture_output=True, timeout=60)
        assert result.returncode == 0, f"curl failed: {result.stderr.decode(errors='replace')}"
        status, headers, body = parse_http_response(result.stdout)
        if status == 202:
            self.jobs_accepted += len(body["jobs"])
        return status, headers, body

    def wait_for_jobs(self, job_ids, timeout=90):
        """Polls until every job is done or failed; returns the job objects by id."""
        deadline = time.monotonic() + timeout
        finished = {}
        while time.monotonic() < deadline:
            for job_id in job_ids:
                if job_id in finished:
                    continue
                job = self.get_json(f"/api/jobs/{job_id}")
                if job["status"] in ("done", "failed"):
                    finished[job_id] = job
            if len(finished) == len(job_ids):
                return finished
            time.sleep(0.1)
        pending = [job_id for job_id in job_ids if job_id not in finished]
        raise AssertionError(f"jobs {pending} not finished after {timeout} s:\n" + self.log())


def parse_http_response(raw):
    """Splits curl -i output into (status, headers, JSON or bytes)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    while head.startswith(b"HTTP/1.1 100"):
        head, _, body = body.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("content-type", "").startswith("application/json"):
        return status, headers, json.loads(body)
    return status, headers, body


def image_shape(data):
    """Returns (format, width, height, channels) read from a JPEG SOF or a PNG IHDR."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        width, height, _depth, color_type = struct.unpack(">IIBB", data[16:26])
        channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}[color_type]
        return "png", width, height, channels
    if data[:2] == b"\xff\xd8":
        offset = 2
        while offset + 4 <= len(data):
            marker = data[offset + 1]
            length = struct.unpack(">H", data[offset + 2:offset + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width, components = struct.unpack(">HHB", data[offset + 5:offset + 10])
                return "jpeg", width, height, components
            offset += 2 + length
    raise AssertionError(f"not a JPEG or PNG: {data[:16]!r}")


def gray_pixels(path):
    """Decodes an image to 8-bit gray bytes with ImageMagick (a decoder we did not write)."""
    result = subprocess.run(["convert", path, "-colorspace", "gray", "-depth", "8", "gray:-"],
                            capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


class Checks:
    """Collects named checks and prints the closing line that ctest logs show."""

    def __init__(self):
        self.passed = 0
        self.failed = []

    def run(self, name, function, *args):
        print(f"--- {name}", flush=True)
        try:
            function(*args)
            self.passed += 1
            print(f"ok  {name}", flush=True)
        except AssertionError as error:
            self.failed.append(name)
            print(f"FAIL {name}: {error}", flush=True)

    def finish(self):
        print(f"{self.passed} passed, {len(self.failed)} failed")
        if self.failed:
            print("failed: " + ", ".join(self.failed))
        sys.exit(1 if self.failed else 0)
