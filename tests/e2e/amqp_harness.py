# SPDX-License-Identifier: MIT
"""Starts `imgbus serve` with its AMQP listener on a free port, for the test_amqp_* scripts.

The credentials are passed as flags, so every test knows the AMQP user and password.
"""
import json
import os
import re
import secrets
import socket
import struct
import time

from imgbus_server import Checks, Server, free_port, require_environment

USER = "amqp-test-" + secrets.token_hex(4)
PASSWORD = secrets.token_hex(16)


class AmqpServer(Server):
    """`imgbus serve` with --amqp on a free loopback port and known credentials."""

    def __init__(self, *extra_args, credentials=True):
        self.amqp_port = free_port()
        args = ["--amqp", f"127.0.0.1:{self.amqp_port}", "--workers", "0",
                "--s3", "127.0.0.1:0", *extra_args]
        if credentials:
            args += ["--access-key", USER, "--secret-key", PASSWORD]
        super().__init__(*args)

    def start(self, timeout=20):
        super().start(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if f"amqp listening on amqp://127.0.0.1:{self.amqp_port}" in self.log():
                return self
            time.sleep(0.05)
        raise AssertionError("imgbus serve did not log its AMQP address:\n" + self.log())

    @property
    def amqp_url(self):
        return f"amqp://{USER}:{PASSWORD}@127.0.0.1:{self.amqp_port}/%2F"

    def stored_credentials(self):
        with open(os.path.join(self.data_dir, "credentials.json")) as stored:
            pair = json.load(stored)
        return pair["access_key"], pair["secret_key"]


def run_checks(*checks):
    """Runs each check(server) against one AmqpServer, then exits with the summary."""
    require_environment()
    results = Checks()
    server = AmqpServer().start()
    try:
        for check in checks:
            results.run(check.__name__, check, server)
    finally:
        server.cleanup()
    results.finish()


def pika_parameters(port, user=USER, password=PASSWORD, **kwargs):
    import pika
    return pika.ConnectionParameters(
        host="127.0.0.1", port=port, virtual_host="/",
        credentials=pika.PlainCredentials(user, password),
        connection_attempts=1, socket_timeout=5, blocked_connection_timeout=10, **kwargs)


# --- raw frames, for hostile-input tests ---------------------------------------------------

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"


def frame(frame_type, channel, payload, end=b"\xce"):
    return struct.pack(">BHI", frame_type, channel, len(payload)) + payload + end


def shortstr(text):
    data = text.encode()
    return struct.pack(">B", len(data)) + data


def longstr(data):
    return struct.pack(">I", len(data)) + data


def method(class_id, method_id, arguments=b""):
    return struct.pack(">HH", class_id, method_id) + arguments


class RawClient:
    """A hand-driven AMQP client socket that completes the handshake and reads frames."""

    def __init__(self, port, timeout=5):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data)

    def read_frame(self):
        """Returns (type, channel, payload), or None when the server closed the socket."""
        while True:
            if len(self.buffer) >= 7:
                frame_type, channel, size = struct.unpack(">BHI", self.buffer[:7])
                if len(self.buffer) >= 8 + size:
                    payload = self.buffer[7:7 + size]
                    self.buffer = self.buffer[8 + size:]
                    return frame_type, channel, payload
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                return None
            if not data:
                return None
            self.buffer += data

    def read_method(self):
        """Returns (channel, class_id, method_id, arguments), skipping heartbeats."""
        while True:
            got = self.read_frame()
            if got is None:
                return None
            frame_type, channel, payload = got
            if frame_type == 1:
                class_id, method_id = struct.unpack(">HH", payload[:4])
                return channel, class_id, method_id, payload[4:]

    def handshake(self, user=USER, password=PASSWORD):
        self.send(PROTOCOL_HEADER)
        assert self.read_method()[1:3] == (10, 10), "expected connection.start"
        response = b"\x00" + user.encode() + b"\x00" + password.encode()
        capabilities = shortstr("authentication_failure_close") + b"t\x01"
        client_properties = longstr(shortstr("capabilities") + b"F" + longstr(capabilities))
        self.send(frame(1, 0, method(10, 11, client_properties + shortstr("PLAIN")
                                     + longstr(response) + shortstr("en_US"))))
        return self.read_method()

    def open(self, frame_max=131072, heartbeat=0):
        tune = self.handshake()
        assert tune[1:3] == (10, 30), f"expected connection.tune, got {tune}"
        self.send(frame(1, 0, method(10, 31, struct.pack(">HIH", 2047, frame_max, heartbeat))))
        self.send(frame(1, 0, method(10, 40, shortstr("/") + shortstr("") + b"\x00")))
        assert self.read_method()[1:3] == (10, 41), "expected connection.open-ok"

    def open_channel(self, channel):
        self.send(frame(1, channel, method(20, 10, shortstr(""))))
        assert self.read_method()[1:3] == (20, 11), "expected channel.open-ok"

    def expect_close(self, reply_code, class_id=10, method_id=50):
        """Reads until connection.close (or channel.close) and checks its reply code."""
        got = self.read_method()
        assert got is not None, f"socket closed; expected close with {reply_code}"
        _, klass, meth, args = got
        assert (klass, meth) == (class_id, method_id), f"expected close, got {klass}.{meth}"
        code = struct.unpack(">H", args[:2])[0]
        text = args[3:3 + args[2]].decode(errors="replace")
        assert code == reply_code, f"reply code {code} ({text}), expected {reply_code}"
        return text

    def close(self):
        self.sock.close()


def reply_text_matches(text, pattern):
    return re.search(pattern, text) is not None
