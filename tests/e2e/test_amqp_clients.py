# SPDX-License-Identifier: MIT
"""Drives the AMQP listener with clients other than pika: python3-kombu, the amqp-tools command
line programs and a small C client built here against librabbitmq."""
import os
import subprocess
import tempfile

import kombu

from amqp_harness import PASSWORD, USER, run_checks

C_CLIENT = os.path.join(os.path.dirname(__file__), "..", "amqp", "clients",
                        "rabbitmq_c_client.c")


def check_kombu_publish_consume(server):
    with kombu.Connection(server.amqp_url, connect_timeout=5) as connection:
        exchange = kombu.Exchange("kombu.direct", type="direct")
        queue = kombu.Queue("kombu.jobs", exchange, routing_key="jobs")
        producer = connection.Producer()
        for i in range(5):
            producer.publish({"job": i}, exchange=exchange, routing_key="jobs",
                             declare=[queue], serializer="json", retry=False)
        received = []

        def on_message(body, message):
            received.append(body["job"])
            message.ack()

        with connection.Consumer(queue, callbacks=[on_message]):
            while len(received) < 5:
                connection.drain_events(timeout=5)
        assert received == list(range(5)), received


def check_kombu_simple_queue_reject(server):
    with kombu.Connection(server.amqp_url, connect_timeout=5) as connection:
        simple = connection.SimpleQueue("kombu.simple")
        simple.put("payload")
        message = simple.get(block=True, timeout=5)
        assert message.payload == "payload"
        message.requeue()
        again = simple.get(block=True, timeout=5)
        assert again.delivery_info["redelivered"], again.delivery_info
        again.ack()
        simple.close()


def run_tool(args, **kwargs):
    result = subprocess.run(args, capture_output=True, timeout=30, **kwargs)
    assert result.returncode == 0, \
        f"{args[0]} exited {result.returncode}: {result.stderr.decode(errors='replace')}"
    return result.stdout.decode()


def check_amqp_tools(server):
    url = ["--url", server.amqp_url]
    queue = run_tool(["amqp-declare-queue", *url, "-d", "-q", "tools.jobs"]).strip()
    assert queue == "tools.jobs", queue
    for i in range(3):
        run_tool(["amqp-publish", *url, "-r", "tools.jobs", "-p", "-C", "text/plain",
                  "-b", f"tools-{i}"])
    body = run_tool(["amqp-get", *url, "-q", "tools.jobs"])
    assert body == "tools-0", body
    # amqp-consume runs `cat` once per message and exits after -c messages.
    out = run_tool(["amqp-consume", *url, "-q", "tools.jobs", "-c", "2", "cat"])
    assert out == "tools-1tools-2", out
    missing = subprocess.run(["amqp-get", *url, "-q", "tools.jobs"], capture_output=True,
                             timeout=30)
    assert missing.returncode != 0, "amqp-get on an empty queue succeeded"


def check_rabbitmq_c_client(server):
    with tempfile.TemporaryDirectory() as build:
        binary = os.path.join(build, "rabbitmq_c_client")
        compiled = subprocess.run(["cc", "-O2", "-Wall", "-o", binary, C_CLIENT, "-lrabbitmq"],
                                  capture_output=True, timeout=120)
        assert compiled.returncode == 0, compiled.stderr.decode(errors="replace")
        out = run_tool([binary, str(server.amqp_port), USER, PASSWORD, "c.client", "500"])
        assert "500 messages" in out, out


def main():
    run_checks(check_kombu_publish_consume, check_kombu_simple_queue_reject, check_amqp_tools,
               check_rabbitmq_c_client)


if __name__ == "__main__":
    main()
