# SPDX-License-Identifier: MIT
"""Starts Debian's rabbitmq-server on loopback, with private state, ports and epmd.

The tests that compare `imgbus serve` with RabbitMQ use it as the reference broker. The Erlang
cookie (HOME), mnesia, logs and config file are in a temporary directory. The node gets a
private epmd port, so the epmd it starts belongs to this test and is stopped by its PID.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from imgbus_server import free_port

RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
ERL_DIST_ARGS = "-kernel inet_dist_use_interface {127,0,0,1}"


class RabbitMQ:
    """A rabbitmq-server node listening on 127.0.0.1, with the user guest/guest."""

    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="imgbus-rabbitmq-")
        self.amqp_port = free_port()
        self.dist_port = free_port()
        self.epmd_port = free_port()
        self.nodename = f"imgbus-test-{os.getpid()}@localhost"
        self.process = None
        self.epmd_pid = None
        self.log_path = os.path.join(self.base, "stdout.log")

    def environment(self):
        env = {key: value for key, value in os.environ.items() if not key.startswith("RABBITMQ_")}
        env.update({
            "HOME": self.base,
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_USE_LONGNAME": "false",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": os.path.join(self.base, "mnesia"),
            "RABBITMQ_LOG_BASE": os.path.join(self.base, "log"),
            "RABBITMQ_PID_FILE": os.path.join(self.base, "rabbitmq.pid"),
            "RABBITMQ_CONFIG_FILE": os.path.join(self.base, "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(self.base, "enabled_plugins"),
            "RABBITMQ_CONF_ENV_FILE": os.path.join(self.base, "rabbitmq-env.conf"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": ERL_DIST_ARGS,
            "RABBITMQ_CTL_ERL_ARGS": ERL_DIST_ARGS,
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": str(self.epmd_port),
        })
        return env

    def start(self, timeout=30):
        with open(os.path.join(self.base, "rabbitmq.conf"), "w") as conf:
            conf.write(f"listeners.tcp.default = 127.0.0.1:{self.amqp_port}\n"
                       "loopback_users.guest = true\n")
        with open(os.path.join(self.base, "enabled_plugins"), "w") as plugins:
            plugins.write("[].\n")
        open(os.path.join(self.base, "rabbitmq-env.conf"), "w").close()
        self.log_file = open(self.log_path, "w")
        self.process = subprocess.Popen([RABBITMQ_SERVER], env=self.environment(),
                                        stdout=self.log_file, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.epmd_pid is None:
                self.epmd_pid = self._find_epmd()
            if self.process.poll() is not None:
                raise AssertionError(f"rabbitmq-server exited with {self.process.returncode}:\n"
                                     + self.log())
            try:
                with socket.create_connection(("127.0.0.1", self.amqp_port), timeout=1):
                    pass
                if self.epmd_pid is None:
                    self.epmd_pid = self._find_epmd()
                return self
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"rabbitmq-server timed out: port {self.amqp_port} not open "
                             f"after {timeout} s:\n" + self.log())

    def _find_epmd(self):
        """Returns the PID of the epmd whose environment contains this node's epmd port, or None."""
        marker = f"ERL_EPMD_PORT={self.epmd_port}".encode()
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/comm", "rb") as comm:
                    if comm.read().strip() != b"epmd":
                        continue
                with open(f"/proc/{entry}/environ", "rb") as environ:
                    if marker in environ.read().split(b"\0"):
                        return int(entry)
            except OSError:
                continue
        return None

    def log(self):
        text = ""
        if self.process is not None:
            self.log_file.flush()
            with open(self.log_path, errors="replace") as log:
                text = log.read()
        log_dir = os.path.join(self.base, "log")
        if os.path.isdir(log_dir):
            for name in sorted(os.listdir(log_dir)):
                with open(os.path.join(log_dir, name), errors="replace") as log:
                    text += f"\n--- {name} (last 6000 characters)\n" + log.read()[-6000:]
        return text

    def stop_node(self, timeout=20):
        """Stops the node by its PID with SIGTERM and keeps its data, ports and epmd, so that
        start() brings the same node back with its durable queues and persistent messages."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None:
            self.log_file.close()

    def stop(self, timeout=20):
        """Sends SIGTERM to the node and then to its epmd, each by its recorded PID."""
        try:
            self.stop_node(timeout)
        finally:
            if self.epmd_pid is None:
                self.epmd_pid = self._find_epmd()
            if self.epmd_pid is not None:
                try:
                    os.kill(self.epmd_pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            shutil.rmtree(self.base, ignore_errors=True)
