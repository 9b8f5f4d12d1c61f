# SPDX-License-Identifier: MIT
"""Pausing intake holds AMQP publishes to imgbus.jobs: a pika publisher gets connection.blocked
and its publish waits, unconfirmed and not queued, while publishes to other queues go on and
uploads answer 503; resuming sends connection.unblocked and the held message is queued and
confirmed. The imgbus_intake_paused gauge follows."""
import os
import threading
import time

import pika

import imgbus_server
from amqp_harness import PASSWORD, USER, AmqpServer, pika_parameters
from imgbus_server import Checks
from management_client import Api

server = None
api = None


def job_queue_ready():
    return api.get("/api/queues/%2F/imgbus.jobs")["messages_ready"]


def gauge():
    status, _, body = server.get("/metrics")
    assert status == 200, status
    for line in body.decode().splitlines():
        if line.startswith("imgbus_intake_paused "):
            return float(line.split()[1])
    raise AssertionError("imgbus_intake_paused is missing from /metrics")


def connection_states():
    return [connection["state"] for connection in api.get("/api/connections")]


def set_paused(paused):
    status, _, body = api.call("POST", f"/api/admin/intake?paused={'true' if paused else 'false'}")
    assert status == 200, (status, body)
    assert body["paused"] is paused, body


class Publisher(threading.Thread):
    """Publishes one persistent message to imgbus.jobs with confirms on its own connection."""

    def __init__(self):
        super().__init__(daemon=True)
        self.events = []
        self.outcome = None
        # No blocked_connection_timeout: pika would drop a connection blocked for longer.
        self.connection = pika.BlockingConnection(pika.ConnectionParameters(
            host="127.0.0.1", port=server.amqp_port, virtual_host="/",
            credentials=pika.PlainCredentials(USER, PASSWORD), connection_attempts=1,
            socket_timeout=5))
        self.connection.add_on_connection_blocked_callback(
            lambda _conn, frame: self.events.append(("blocked", frame.method.reason)))
        self.connection.add_on_connection_unblocked_callback(
            lambda _conn, _frame: self.events.append(("unblocked", None)))
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()

    def run(self):
        try:
            self.channel.basic_publish("", "imgbus.jobs", b'{"held": true}',
                                       pika.BasicProperties(delivery_mode=2))
            self.outcome = "confirmed"
            self.connection.process_data_events(time_limit=0.2)  # the unblocked notice
        except Exception as error:  # reported by the check below
            self.outcome = f"failed: {error!r}"


def check_hold_and_release():
    before = job_queue_ready()
    set_paused(True)
    assert gauge() == 1, "the gauge does not show the pause"
    publisher = Publisher()
    publisher.start()

    other = pika.BlockingConnection(pika_parameters(server.amqp_port))
    channel = other.channel()
    channel.confirm_delivery()
    channel.queue_declare("not-the-job-queue")
    channel.basic_publish("", "not-the-job-queue", b"free")  # raises unless confirmed

    # pika's BlockingConnection queues the blocked notice until the publish returns, so the
    # hold shows in the server's view of the connection first.
    deadline = time.monotonic() + 10
    while "blocked" not in connection_states() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "blocked" in connection_states(), connection_states()
    assert publisher.outcome is None, f"the held publish ended: {publisher.outcome}"
    assert job_queue_ready() == before, "the held message reached the job queue"
    status, _, body = server.upload(os.path.join(imgbus_server.TEST_DATA, "test.jpg"))
    assert status == 503, (status, body)
    assert body["error"] == "intake_paused", body

    set_paused(False)
    publisher.join(timeout=15)
    assert publisher.outcome == "confirmed", publisher.outcome
    assert [event for event, _ in publisher.events] == ["blocked", "unblocked"], publisher.events
    assert "intake paused" in publisher.events[0][1], publisher.events
    assert job_queue_ready() == before + 1, "the released message is not in the job queue"
    assert gauge() == 0, "the gauge still shows the pause"
    publisher.connection.close()
    other.close()


def main():
    global server, api
    imgbus_server.require_environment()
    checks = Checks()
    server = AmqpServer()
    try:
        server.start()
        api = Api(server.url, USER, PASSWORD)
        checks.run("a paused intake holds AMQP publishes to the job queue",
                   check_hold_and_release)
    finally:
        server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
