# SPDX-License-Identifier: MIT
"""Management-API helpers shared by the test_management_* scripts: basic-auth requests with
urllib, a RabbitMQ node with the management plugin, and runs of the imgbus CLI."""
import base64
import json
import os
import subprocess
import time
import urllib.error
import urllib.request

from imgbus_server import IMGBUS_BIN, free_port
from rabbitmq_harness import RabbitMQ

RABBITMQADMIN = "/usr/bin/rabbitmqadmin"


def request(url, method="GET", user=None, password=None, body=None, timeout=10):
    """Returns (status, headers, parsed JSON or raw bytes) of one request."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if user is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        req.add_header("Authorization", "Basic " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            status, headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, dict(error.headers), error.read()
    try:
        return status, headers, json.loads(raw) if raw else None
    except ValueError:
        return status, headers, raw


class Api:
    """A management API at a base URL with one user."""

    def __init__(self, base, user, password):
        self.base, self.user, self.password = base, user, password

    def call(self, method, path, body=None):
        return request(self.base + path, method, self.user, self.password, body)

    def get(self, path):
        status, _, body = self.call("GET", path)
        assert status == 200, f"GET {self.base}{path} answered {status}: {body}"
        return body


class ManagedRabbitMQ(RabbitMQ):
    """The reference node of rabbitmq_harness with the management plugin on a loopback port."""

    def __init__(self):
        super().__init__()
        self.management_port = free_port()
        self.config_path = os.path.join(self.base, "managed.conf")
        self.plugins_path = os.path.join(self.base, "managed_plugins")
        with open(self.config_path, "w") as conf:
            conf.write(f"listeners.tcp.default = 127.0.0.1:{self.amqp_port}\n"
                       "loopback_users.guest = true\n"
                       "management.tcp.ip = 127.0.0.1\n"
                       f"management.tcp.port = {self.management_port}\n"
                       "collect_statistics_interval = 1000\n")
        with open(self.plugins_path, "w") as plugins:
            plugins.write("[rabbitmq_management].\n")

    def environment(self):
        env = super().environment()
        env["RABBITMQ_CONFIG_FILE"] = self.config_path
        env["RABBITMQ_ENABLED_PLUGINS_FILE"] = self.plugins_path
        return env

    def start(self, timeout=60):
        super().start(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                status, _, _ = request(self.management_url + "/api/overview", user="guest",
                                       password="guest", timeout=2)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.25)
        raise AssertionError("the management plugin did not answer in time:\n" + self.log())

    @property
    def management_url(self):
        return f"http://127.0.0.1:{self.management_port}"


def imgbus_cli(*args, timeout=60, stdin=subprocess.DEVNULL):
    """Runs the imgbus binary; returns (exit code, stdout, stderr)."""
    result = subprocess.run([IMGBUS_BIN, *args], capture_output=True, text=True, timeout=timeout,
                            stdin=stdin)
    return result.returncode, result.stdout, result.stderr


def rabbitmqadmin(port, user, password, *args):
    """Runs Debian's rabbitmqadmin with Debian's python3 against 127.0.0.1:port."""
    result = subprocess.run(["/usr/bin/python3", RABBITMQADMIN, "-H", "127.0.0.1", "-P",
                             str(port), "-u", user, "-p", password, *args],
                            capture_output=True, text=True, timeout=30)
    return result.returncode, result.stdout + result.stderr
