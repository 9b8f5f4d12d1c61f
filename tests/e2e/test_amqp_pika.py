# SPDX-License-Identifier: MIT
"""Drives the AMQP listener of `imgbus serve` with Debian's python3-pika."""
import datetime
import decimal
import time

import pika
import pika.exceptions

from amqp_harness import AmqpServer, pika_parameters, PASSWORD
from imgbus_server import Checks, require_environment


def connect(server, **kwargs):
    return pika.BlockingConnection(pika_parameters(server.amqp_port, **kwargs))


def check_bad_password_refused(server):
    try:
        connect(server, password=PASSWORD + "x")
    except pika.exceptions.ProbableAuthenticationError as error:
        assert "ACCESS_REFUSED" in str(error), error
        return
    raise AssertionError("a wrong password was accepted")


def check_publish_consume_ack(server):
    with connect(server) as connection:
        channel = connection.channel()
        channel.queue_declare("pika.basic", durable=True)
        for i in range(10):
            channel.basic_publish("", "pika.basic", f"m{i}".encode())
        received = []
        for method, _, body in channel.consume("pika.basic", inactivity_timeout=2):
            assert method is not None, f"only {len(received)} of 10 messages arrived"
            received.append(body.decode())
            channel.basic_ack(method.delivery_tag)
            if len(received) == 10:
                break
        channel.cancel()
        assert received == [f"m{i}" for i in range(10)], received
        declared = channel.queue_declare("pika.basic", passive=True)
        assert declared.method.message_count == 0, declared.method.message_count


def check_nack_requeue_sets_redelivered(server):
    with connect(server) as connection:
        channel = connection.channel()
        channel.queue_declare("pika.requeue")
        channel.basic_publish("", "pika.requeue", b"again")
        method, _, body = channel.basic_get("pika.requeue")
        assert body == b"again" and not method.redelivered
        channel.basic_nack(method.delivery_tag, requeue=True)
        method, _, body = channel.basic_get("pika.requeue")
        assert body == b"again", body
        assert method.redelivered, "requeued message lacks the redelivered flag"
        channel.basic_reject(method.delivery_tag, requeue=False)
        method, _, _ = channel.basic_get("pika.requeue")
        assert method is None, "a rejected message without requeue came back"


def check_unacked_return_when_connection_drops(server):
    first = connect(server)
    channel = first.channel()
    channel.queue_declare("pika.drop")
    channel.basic_publish("", "pika.drop", b"held")
    method, _, _ = channel.basic_get("pika.drop")
    assert method is not None
    first.close()  # never acked
    with connect(server) as second:
        method, _, body = second.channel().basic_get("pika.drop", auto_ack=True)
        assert body == b"held", "unacked message did not return after the connection closed"
        assert method.redelivered


def check_prefetch_limits_unacked(server):
    with connect(server) as connection:
        channel = connection.channel()
        channel.queue_declare("pika.qos")
        for i in range(5):
            channel.basic_publish("", "pika.qos", str(i).encode())
        channel.basic_qos(prefetch_count=2)
        got = []
        channel.basic_consume("pika.qos", lambda ch, m, p, b: got.append(m.delivery_tag))
        connection.process_data_events(time_limit=0.5)
        assert len(got) == 2, f"prefetch 2 delivered {len(got)}"
        channel.basic_ack(got[-1], multiple=True)
        connection.process_data_events(time_limit=0.5)
        assert len(got) == 4, f"after a multiple ack of 2, {len(got)} delivered in total"


def check_confirms_and_mandatory_return(server):
    with connect(server) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.queue_declare("pika.confirm")
        channel.basic_publish("", "pika.confirm", b"ok")  # raises on nack
        try:
            channel.basic_publish("", "no.such.queue", b"lost", mandatory=True)
        except pika.exceptions.UnroutableError as error:
            returned = error.messages[0]
            assert returned.method.reply_code == 312, returned.method
            assert returned.body == b"lost"
        else:
            raise AssertionError("an unroutable mandatory publish was not returned")


def check_confirm_nack_on_full_queue(server):
    with connect(server) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.queue_declare("pika.full", arguments={"x-max-length": 1,
                                                      "x-overflow": "reject-publish"})
        channel.basic_publish("", "pika.full", b"first")
        try:
            channel.basic_publish("", "pika.full", b"second")
        except pika.exceptions.NackError:
            return
        raise AssertionError("a publish to a full reject-publish queue was confirmed")


def check_missing_exchange_closes_channel(server):
    with connect(server) as connection:
        channel = connection.channel()
        try:
            channel.basic_publish("no.such.exchange", "x", b"")
            channel.queue_declare("pika.after")  # a round trip to receive the close
        except pika.exceptions.ChannelClosedByBroker as error:
            assert error.reply_code == 404, error
            assert "no.such.exchange" in error.reply_text, error.reply_text
        else:
            raise AssertionError("publishing to a missing exchange did not close the channel")
        assert connection.is_open, "a channel error closed the whole connection"
        connection.channel().queue_declare("pika.after")


def check_exchange_routing(server):
    with connect(server) as connection:
        channel = connection.channel()
        channel.exchange_declare("pika.topic", exchange_type="topic")
        channel.exchange_declare("pika.fanout", exchange_type="fanout")
        for name in ("pika.t.images", "pika.t.all", "pika.f1", "pika.f2"):
            channel.queue_declare(name)
        channel.queue_bind("pika.t.images", "pika.topic", "image.*.done")
        channel.queue_bind("pika.t.all", "pika.topic", "#")
        channel.queue_bind("pika.f1", "pika.fanout")
        channel.queue_bind("pika.f2", "pika.fanout")
        channel.basic_publish("pika.topic", "image.gray.done", b"a")
        channel.basic_publish("pika.topic", "text.done", b"b")
        channel.basic_publish("pika.fanout", "ignored", b"c")
        counts = {name: channel.queue_declare(name, passive=True).method.message_count
                  for name in ("pika.t.images", "pika.t.all", "pika.f1", "pika.f2")}
        assert counts == {"pika.t.images": 1, "pika.t.all": 2, "pika.f1": 1, "pika.f2": 1}, counts
        channel.queue_unbind("pika.t.all", "pika.topic", "#")
        channel.basic_publish("pika.topic", "x", b"d")
        assert channel.queue_declare("pika.t.all", passive=True).method.message_count == 2
        assert channel.queue_purge("pika.t.all").method.message_count == 2
        assert channel.queue_delete("pika.f2").method.message_count == 1


def check_properties_round_trip(server):
    # pika 1.2 encodes no float; the C++ codec tests cover f and d.
    headers = {"str": "text", "int": 7, "big": 2**40, "neg": -3, "bool": True,
               "dec": decimal.Decimal("3.14"), "none": None,
               "list": [1, "two", False], "table": {"nested": "yes"},
               "bytes": b"\x00\x01", "when": datetime.datetime(2024, 1, 2, 3, 4, 5)}
    properties = pika.BasicProperties(
        content_type="application/json", content_encoding="utf-8", headers=headers,
        delivery_mode=2, priority=5, correlation_id="corr-9", reply_to="replies",
        expiration="60000", message_id="id-1", timestamp=1700000000, type="job",
        user_id=None, app_id="tests")
    with connect(server) as connection:
        channel = connection.channel()
        channel.queue_declare("pika.props")
        channel.basic_publish("", "pika.props", b"{}", properties)
        _, got, _ = channel.basic_get("pika.props", auto_ack=True)
        for name in ("content_type", "content_encoding", "delivery_mode", "priority",
                     "correlation_id", "reply_to", "expiration", "message_id", "timestamp",
                     "type", "app_id"):
            assert getattr(got, name) == getattr(properties, name), \
                f"{name}: {getattr(got, name)!r} != {getattr(properties, name)!r}"
        for key, value in headers.items():
            assert got.headers.get(key) == value, f"header {key}: {got.headers.get(key)!r}"


def check_large_body_split_by_frame_max(server):
    body = bytes(range(256)) * 4096  # 1 MiB over frames of at most 4096 bytes
    with connect(server, frame_max=4096) as connection:
        channel = connection.channel()
        channel.queue_declare("pika.large")
        channel.basic_publish("", "pika.large", body)
        _, _, got = channel.basic_get("pika.large", auto_ack=True)
        assert got == body, f"{len(got)} bytes came back instead of {len(body)}"


def check_ttl_dead_lettering(server):
    with connect(server) as connection:
        channel = connection.channel()
        channel.exchange_declare("pika.dlx", exchange_type="fanout")
        channel.queue_declare("pika.dead")
        channel.queue_bind("pika.dead", "pika.dlx")
        channel.queue_declare("pika.ttl", arguments={"x-message-ttl": 100,
                                                     "x-dead-letter-exchange": "pika.dlx"})
        channel.basic_publish("", "pika.ttl", b"expires")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            method, props, body = channel.basic_get("pika.dead", auto_ack=True)
            if method is not None:
                death = props.headers["x-death"][0]
                assert death["reason"] == "expired", death
                assert death["queue"] == "pika.ttl", death
                assert body == b"expires"
                return
            time.sleep(0.05)
        raise AssertionError("the expired message never reached the dead-letter queue")


def check_heartbeats_keep_idle_connection(server):
    with connect(server, heartbeat=1) as connection:
        connection.process_data_events(time_limit=3.5)
        assert connection.is_open
        connection.channel().queue_declare("pika.heartbeat")


def check_generated_credentials_work():
    server = AmqpServer(credentials=False).start()
    try:
        user, password = server.stored_credentials()
        with connect(server, user=user, password=password) as connection:
            connection.channel().queue_declare("pika.generated")
    finally:
        server.cleanup()


def main():
    require_environment()
    checks = Checks()
    server = AmqpServer().start()
    try:
        for check in (check_bad_password_refused, check_publish_consume_ack,
                      check_nack_requeue_sets_redelivered,
                      check_unacked_return_when_connection_drops, check_prefetch_limits_unacked,
                      check_confirms_and_mandatory_return, check_confirm_nack_on_full_queue,
                      check_missing_exchange_closes_channel, check_exchange_routing,
                      check_properties_round_trip, check_large_body_split_by_frame_max,
                      check_ttl_dead_lettering, check_heartbeats_keep_idle_connection):
            checks.run(check.__name__, check, server)
        checks.run("generated credentials", check_generated_credentials_work)
    finally:
        server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
