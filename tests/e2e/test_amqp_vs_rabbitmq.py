# SPDX-License-Identifier: MIT
"""Runs one pika scenario against a real RabbitMQ and against `imgbus serve`, and compares.

Each scenario returns what a client can observe (flags, reply codes, header fields) as a plain
dict. The test passes when both brokers return the same dict, with Debian's RabbitMQ 3.10 as the
reference. If RabbitMQ fails to start, the test fails and prints the RabbitMQ log.
"""
import time

import pika
import pika.exceptions

from amqp_harness import AmqpServer, USER, PASSWORD
from imgbus_server import Checks, require_environment
from rabbitmq_harness import RabbitMQ


def parameters(port, user, password):
    return pika.ConnectionParameters(
        host="127.0.0.1", port=port, virtual_host="/",
        credentials=pika.PlainCredentials(user, password),
        connection_attempts=1, socket_timeout=5, blocked_connection_timeout=10)


def reply_class(text):
    """Returns the symbolic name that starts a reply text, such as NOT_FOUND."""
    return text.split(" - ", 1)[0].strip()


def scenario_redelivered_after_nack(connection):
    channel = connection.channel()
    channel.queue_declare("cmp.nack")
    channel.basic_publish("", "cmp.nack", b"one")
    first, _, _ = channel.basic_get("cmp.nack")
    channel.basic_nack(first.delivery_tag, requeue=True)
    second, _, body = channel.basic_get("cmp.nack", auto_ack=True)
    return {"first": first.redelivered, "second": second.redelivered, "body": body}


def scenario_redelivered_after_channel_close(connection):
    holder = connection.channel()
    holder.queue_declare("cmp.close")
    holder.basic_publish("", "cmp.close", b"held")
    first, _, _ = holder.basic_get("cmp.close")
    holder.close()
    second, _, body = connection.channel().basic_get("cmp.close", auto_ack=True)
    return {"first": first.redelivered, "second": second is not None and second.redelivered,
            "body": body}


def scenario_mandatory_unroutable(connection):
    channel = connection.channel()
    returned = []
    channel.add_on_return_callback(lambda _ch, method, _props, body: returned.append(
        (method.reply_code, reply_class(method.reply_text), method.exchange,
         method.routing_key, body)))
    channel.basic_publish("amq.direct", "cmp.nowhere", b"lost", mandatory=True)
    deadline = time.monotonic() + 5
    while not returned and time.monotonic() < deadline:
        connection.process_data_events(time_limit=0.1)
    confirmed = connection.channel()
    confirmed.confirm_delivery()
    try:
        confirmed.basic_publish("amq.direct", "cmp.nowhere", b"lost", mandatory=True)
        outcome = "confirmed without return"
    except pika.exceptions.UnroutableError as error:
        outcome = ("returned", error.messages[0].method.reply_code)
    except pika.exceptions.NackError:
        outcome = "nacked"
    return {"return": returned, "with confirms": outcome}


def scenario_confirm_nack_full_queue(connection):
    channel = connection.channel()
    channel.confirm_delivery()
    channel.queue_declare("cmp.full", arguments={"x-max-length": 1,
                                                 "x-overflow": "reject-publish"})
    outcomes = []
    for body in (b"first", b"second", b"third"):
        try:
            channel.basic_publish("", "cmp.full", body)
            outcomes.append("ack")
        except pika.exceptions.NackError:
            outcomes.append("nack")
    depth = channel.queue_declare("cmp.full", passive=True).method.message_count
    head, _, body = channel.basic_get("cmp.full", auto_ack=True)
    return {"outcomes": outcomes, "depth": depth, "head": body}


def scenario_x_death_after_ttl(connection):
    channel = connection.channel()
    channel.exchange_declare("cmp.dlx", exchange_type="direct")
    channel.queue_declare("cmp.dead")
    channel.queue_bind("cmp.dead", "cmp.dlx", routing_key="cmp.ttl")
    channel.queue_declare("cmp.ttl", arguments={"x-message-ttl": 100,
                                                "x-dead-letter-exchange": "cmp.dlx"})
    channel.basic_publish("", "cmp.ttl", b"expires",
                          pika.BasicProperties(headers={"app": "imgbus"}))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        method, props, body = channel.basic_get("cmp.dead", auto_ack=True)
        if method is not None:
            headers = props.headers or {}
            deaths = headers.get("x-death") or [{}]
            death = deaths[0]
            return {
                "deaths": len(deaths),
                "count": (type(death.get("count")).__name__, death.get("count")),
                "reason": death.get("reason"),
                "queue": death.get("queue"),
                "exchange": death.get("exchange"),
                "routing-keys": death.get("routing-keys"),
                "has time": "time" in death,
                "first death": (headers.get("x-first-death-reason"),
                                headers.get("x-first-death-queue"),
                                headers.get("x-first-death-exchange")),
                "kept header": headers.get("app"),
                "delivery": (method.exchange, method.routing_key, body),
            }
        time.sleep(0.05)
    return {"dead-lettered": False}


def scenario_passive_declare_missing(connection):
    channel = connection.channel()
    try:
        channel.queue_declare("cmp.missing", passive=True)
        result = {"closed": False}
    except pika.exceptions.ChannelClosedByBroker as error:
        result = {"closed": True, "code": error.reply_code,
                  "class": reply_class(error.reply_text)}
    result["channel open"] = channel.is_open
    result["connection open"] = connection.is_open
    return result


def scenario_delete_if_empty(connection):
    channel = connection.channel()
    channel.queue_declare("cmp.nonempty")
    channel.basic_publish("", "cmp.nonempty", b"stay")
    try:
        channel.queue_delete("cmp.nonempty", if_empty=True)
        result = {"closed": False}
    except pika.exceptions.ChannelClosedByBroker as error:
        result = {"closed": True, "code": error.reply_code,
                  "class": reply_class(error.reply_text)}
    result["connection open"] = connection.is_open
    depth = connection.channel().queue_declare("cmp.nonempty", passive=True)
    result["still there"] = depth.method.message_count
    return result


def scenario_delete_missing_queue(connection):
    """Clients delete a queue before declaring it; RabbitMQ answers delete-ok with 0."""
    channel = connection.channel()
    try:
        answer = channel.queue_delete("cmp.never-declared")
        result = {"closed": False, "message_count": answer.method.message_count}
    except pika.exceptions.ChannelClosedByBroker as error:
        result = {"closed": True, "code": error.reply_code}
    result["connection open"] = connection.is_open
    return result


SCENARIOS = (scenario_redelivered_after_nack, scenario_redelivered_after_channel_close,
             scenario_mandatory_unroutable, scenario_confirm_nack_full_queue,
             scenario_x_death_after_ttl, scenario_passive_declare_missing,
             scenario_delete_if_empty, scenario_delete_missing_queue)


def observe(scenario, port, user, password):
    with pika.BlockingConnection(parameters(port, user, password)) as connection:
        return scenario(connection)


def compare(scenario, rabbit, imgbus):
    expected = observe(scenario, rabbit.amqp_port, "guest", "guest")
    actual = observe(scenario, imgbus.amqp_port, USER, PASSWORD)
    print(f"    rabbitmq: {expected}\n    imgbus:   {actual}", flush=True)
    differing = sorted(key for key in set(expected) | set(actual)
                       if expected.get(key) != actual.get(key))
    assert not differing, "differs from RabbitMQ in " + ", ".join(
        f"{key}: rabbitmq {expected.get(key)!r}, imgbus {actual.get(key)!r}" for key in differing)


def main():
    require_environment()
    checks = Checks()
    rabbit = RabbitMQ()
    imgbus = None
    try:
        rabbit.start(timeout=45)
        imgbus = AmqpServer().start()
        for scenario in SCENARIOS:
            checks.run(scenario.__name__.removeprefix("scenario_"), compare, scenario,
                       rabbit, imgbus)
    finally:
        try:
            if imgbus is not None:
                imgbus.cleanup()
        finally:
            rabbit.stop()
    checks.finish()


if __name__ == "__main__":
    main()
