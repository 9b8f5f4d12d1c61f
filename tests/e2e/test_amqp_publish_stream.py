# SPDX-License-Identifier: MIT
"""Streams publishes to `imgbus serve` over a raw socket and checks that none waits forever.

While a connection streams publishes, the listener reads it in batches. It sets SO_RCVLOWAT so
that the kernel reports the socket readable only once many bytes are buffered, and a timer ends
each wait. These checks send a burst that puts the connection in that mode, then a tail far
smaller than a batch, and expect the tail to be read without further traffic on that connection.
"""
import struct
import time

import pika

from amqp_harness import RawClient, frame, method, pika_parameters, run_checks, shortstr


def declare(client, queue, passive=False):
    """Sends queue.declare and returns the message count of its declare-ok."""
    flags = b"\x01" if passive else b"\x00"
    arguments = struct.pack(">H", 0) + shortstr(queue) + flags + struct.pack(">I", 0)
    client.send(frame(1, 1, method(50, 10, arguments)))
    got = client.read_method()
    assert got is not None and got[1:3] == (50, 11), f"expected queue.declare-ok, got {got}"
    arguments = got[3]
    name_length = arguments[0]
    return struct.unpack(">I", arguments[1 + name_length:5 + name_length])[0]


def publishes(queue, first, count):
    """`count` publishes to `queue` on channel 1, numbered from `first`, as one byte string."""
    data = b""
    for number in range(first, first + count):
        body = f"message {number}".encode()
        data += frame(1, 1, method(60, 40, struct.pack(">H", 0) + shortstr("")
                                   + shortstr(queue) + b"\x00"))
        data += frame(2, 1, struct.pack(">HHQH", 60, 0, len(body), 0))
        data += frame(3, 1, body)
    return data


def open_publisher(server, queue):
    client = RawClient(server.amqp_port)
    client.open()
    client.open_channel(1)
    declare(client, queue)
    return client


def send_burst_and_tail(server, queue, burst, tail):
    """Opens a publisher, sends `burst` publishes in one write, then `tail` more in another."""
    publisher = open_publisher(server, queue)
    publisher.send(publishes(queue, 0, burst))
    time.sleep(0.05)
    publisher.send(publishes(queue, burst, tail))
    return publisher


def get_all(channel, queue, expected, seconds=10):
    """Gets messages from `queue` until `expected` arrived or `seconds` passed."""
    bodies = []
    deadline = time.monotonic() + seconds
    while len(bodies) < expected and time.monotonic() < deadline:
        _, _, body = channel.basic_get(queue, auto_ack=True)
        if body is None:
            time.sleep(0.01)
            continue
        bodies.append(body)
    return bodies


def check_tail_of_a_burst_arrives(server):
    queue = "stream.tail"
    publisher = send_burst_and_tail(server, queue, 20, 3)
    consumer = pika.BlockingConnection(pika_parameters(server.amqp_port))
    try:
        bodies = get_all(consumer.channel(), queue, 23)
    finally:
        consumer.close()
        publisher.close()
    assert len(bodies) == 23, f"{len(bodies)} of 23 messages arrived"
    assert bodies[-1] == b"message 22", f"the last message was {bodies[-1]!r}"


def check_rpc_after_a_burst_is_answered(server):
    queue = "stream.rpc"
    publisher = send_burst_and_tail(server, queue, 50, 2)
    count = declare(publisher, queue, passive=True)
    publisher.close()
    assert count == 52, f"queue.declare-ok counted {count} messages, expected 52"


def check_stream_of_single_writes_arrives(server):
    queue = "stream.single"
    publisher = open_publisher(server, queue)
    for number in range(2000):
        publisher.send(publishes(queue, number, 1))
    count = declare(publisher, queue, passive=True)
    publisher.close()
    assert count == 2000, f"queue.declare-ok counted {count} messages, expected 2000"


def main():
    run_checks(check_tail_of_a_burst_arrives, check_rpc_after_a_burst_is_answered,
               check_stream_of_single_writes_arrives)


if __name__ == "__main__":
    main()
