# SPDX-License-Identifier: MIT
"""Sends malformed and hostile AMQP frames to `imgbus serve` over raw sockets.

Each case must close only the offending connection with the right reply code, while a pika
connection opened beforehand keeps working and the process stays up.
"""
import struct
import time

import pika

from amqp_harness import (AmqpServer, RawClient, frame, method, pika_parameters, shortstr,
                          PROTOCOL_HEADER)
from imgbus_server import Checks, require_environment


def check_wrong_protocol_header(server):
    client = RawClient(server.amqp_port)
    client.send(b"AMQP\x01\x01\x00\x09")
    reply = client.sock.recv(8)
    assert reply == PROTOCOL_HEADER, f"server sent {reply!r} instead of its protocol header"
    assert client.read_frame() is None, "socket stayed open after a wrong protocol header"


def check_bad_password_is_403(server):
    client = RawClient(server.amqp_port)
    got = client.handshake(password="wrong")
    assert got[1:3] == (10, 50), f"expected connection.close, got {got}"
    assert struct.unpack(">H", got[3][:2])[0] == 403


def check_oversized_frame_is_501(server):
    client = RawClient(server.amqp_port)
    client.open(frame_max=4096)
    client.open_channel(1)
    client.send(struct.pack(">BHI", 1, 1, 1 << 30))  # announces a 1 GiB frame
    client.expect_close(501)


def check_bad_frame_end_is_501(server):
    client = RawClient(server.amqp_port)
    client.open()
    client.send(frame(1, 1, method(20, 10, shortstr("")), end=b"\x00"))
    client.expect_close(501)


def check_unknown_frame_type_is_501(server):
    client = RawClient(server.amqp_port)
    client.open()
    client.send(frame(9, 1, b"x"))
    client.expect_close(501)


def check_unknown_method_is_540(server):
    client = RawClient(server.amqp_port)
    client.open()
    client.open_channel(1)
    client.send(frame(1, 1, method(90, 10)))  # tx.select
    client.expect_close(540)


def check_truncated_field_table_is_502(server):
    client = RawClient(server.amqp_port)
    client.open()
    client.open_channel(1)
    arguments = struct.pack(">H", 0) + shortstr("q") + b"\x00" + struct.pack(">I", 500) + b"\x01x"
    client.send(frame(1, 1, method(50, 10, arguments)))
    client.expect_close(502)


def check_content_without_publish_is_505(server):
    client = RawClient(server.amqp_port)
    client.open()
    client.open_channel(1)
    client.send(frame(3, 1, b"body"))
    client.expect_close(505)


def check_method_on_closed_channel_is_504(server):
    client = RawClient(server.amqp_port)
    client.open()
    client.send(frame(1, 7, method(50, 10, struct.pack(">H", 0) + shortstr("q") + b"\x00"
                                   + struct.pack(">I", 0))))
    client.expect_close(504)


def check_passive_declare_of_missing_queue_is_404(server):
    client = RawClient(server.amqp_port)
    client.open()
    client.open_channel(1)
    client.send(frame(1, 1, method(50, 10, struct.pack(">H", 0) + shortstr("absent") + b"\x01"
                                   + struct.pack(">I", 0))))
    client.expect_close(404, class_id=20, method_id=40)


def check_duplicate_consumer_tag_is_530(server):
    client = RawClient(server.amqp_port)
    client.open()
    client.open_channel(1)
    declare = struct.pack(">H", 0) + shortstr("hostile.tags") + b"\x00" + struct.pack(">I", 0)
    client.send(frame(1, 1, method(50, 10, declare)))
    assert client.read_method()[1:3] == (50, 11)
    consume = struct.pack(">H", 0) + shortstr("hostile.tags") + shortstr("same") + b"\x00" \
        + struct.pack(">I", 0)
    client.send(frame(1, 1, method(60, 20, consume)))
    assert client.read_method()[1:3] == (60, 21)
    client.send(frame(1, 1, method(60, 20, consume)))
    client.expect_close(530)


def check_garbage_flood_does_not_hurt_others(server, bystander):
    for _ in range(20):
        client = RawClient(server.amqp_port)
        client.send(bytes(range(256)) * 64)
        client.close()
    channel = bystander.channel()
    channel.queue_declare("hostile.bystander")
    channel.basic_publish("", "hostile.bystander", b"still here")
    _, _, body = channel.basic_get("hostile.bystander", auto_ack=True)
    assert body == b"still here"


def check_unconfirmed_flood_is_bounded(server):
    """Publishes 20000 messages in confirm mode without reading; the server pauses or keeps up."""
    client = RawClient(server.amqp_port)
    client.open()
    client.open_channel(1)
    client.send(frame(1, 1, method(85, 10, b"\x00")))
    assert client.read_method()[1:3] == (85, 11)
    declare = struct.pack(">H", 0) + shortstr("hostile.flood") + b"\x00" + struct.pack(">I", 0)
    client.send(frame(1, 1, method(50, 10, declare)))
    publish = frame(1, 1, method(60, 40, struct.pack(">H", 0) + shortstr("")
                                 + shortstr("hostile.flood") + b"\x00"))
    header = frame(2, 1, struct.pack(">HHQH", 60, 0, 4, 0))
    body = frame(3, 1, b"data")
    batch = (publish + header + body) * 1000
    client.sock.settimeout(10)
    for _ in range(20):
        client.send(batch)
    acks = 0
    deadline = time.monotonic() + 20
    while acks < 20000 and time.monotonic() < deadline:
        got = client.read_method()
        assert got is not None, "server closed the connection during a confirm flood"
        if got[1:3] == (60, 80):
            acks += 1
    assert acks == 20000, f"{acks} of 20000 confirms arrived"
    client.close()


def check_survivors(server, bystander):
    assert bystander.is_open, "the bystander connection was closed"
    bystander.channel().queue_declare("hostile.survivor")
    assert server.process.poll() is None, "imgbus serve exited"


def main():
    require_environment()
    checks = Checks()
    server = AmqpServer().start()
    bystander = pika.BlockingConnection(pika_parameters(server.amqp_port))
    try:
        for check in (check_wrong_protocol_header, check_bad_password_is_403,
                      check_oversized_frame_is_501, check_bad_frame_end_is_501,
                      check_unknown_frame_type_is_501, check_unknown_method_is_540,
                      check_truncated_field_table_is_502, check_content_without_publish_is_505,
                      check_method_on_closed_channel_is_504,
                      check_passive_declare_of_missing_queue_is_404,
                      check_duplicate_consumer_tag_is_530, check_unconfirmed_flood_is_bounded):
            checks.run(check.__name__, check, server)
        checks.run("garbage flood spares others", check_garbage_flood_does_not_hurt_others,
                   server, bystander)
        checks.run("bystander and server survive", check_survivors, server, bystander)
        bystander.close()
    finally:
        server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
