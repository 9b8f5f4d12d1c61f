# SPDX-License-Identifier: MIT
"""Streams single acks to `imgbus serve` over a raw socket and checks that none waits forever.

While a consumer's connection sends only basic.ack of single delivery tags, the listener reads
its acks in batches. It sets SO_RCVLOWAT to the size of a quarter of the consumer's prefetch
window in acks, and a timer ends each wait. These checks fill the window, send a burst of acks
that puts the connection in that mode, then a tail of acks smaller than a batch. The tail frees
room in the window, so the server must send the next deliveries without further traffic.
"""
import struct

from amqp_harness import RawClient, frame, method, run_checks, shortstr

PREFETCH = 40


def declare(client, queue):
    arguments = struct.pack(">H", 0) + shortstr(queue) + b"\x00" + struct.pack(">I", 0)
    client.send(frame(1, 1, method(50, 10, arguments)))
    got = client.read_method()
    assert got is not None and got[1:3] == (50, 11), f"expected queue.declare-ok, got {got}"


def publish(client, queue, count):
    data = b""
    for number in range(count):
        body = f"message {number}".encode()
        data += frame(1, 1, method(60, 40, struct.pack(">H", 0) + shortstr("")
                                   + shortstr(queue) + b"\x00"))
        data += frame(2, 1, struct.pack(">HHQH", 60, 0, len(body), 0))
        data += frame(3, 1, body)
    client.send(data)


def consume(client, queue, prefetch):
    client.send(frame(1, 1, method(60, 10, struct.pack(">IHB", 0, prefetch, 0))))
    got = client.read_method()
    assert got is not None and got[1:3] == (60, 11), f"expected basic.qos-ok, got {got}"
    arguments = (struct.pack(">H", 0) + shortstr(queue) + shortstr("") + b"\x00"
                 + struct.pack(">I", 0))
    client.send(frame(1, 1, method(60, 20, arguments)))
    got = client.read_method()
    assert got is not None and got[1:3] == (60, 21), f"expected basic.consume-ok, got {got}"


def read_deliveries(client, count):
    """Reads `count` basic.deliver methods and returns their delivery tags."""
    tags = []
    while len(tags) < count:
        got = client.read_method()
        assert got is not None, f"socket closed after {len(tags)} of {count} deliveries"
        assert got[1:3] == (60, 60), f"expected basic.deliver, got {got[1:3]}"
        arguments = got[3]
        tag_offset = 1 + arguments[0]
        tags.append(struct.unpack(">Q", arguments[tag_offset:tag_offset + 8])[0])
    return tags


def acks(tags):
    return b"".join(frame(1, 1, method(60, 80, struct.pack(">QB", tag, 0))) for tag in tags)


def open_consumer(server, queue, messages):
    client = RawClient(server.amqp_port)
    client.open()
    client.open_channel(1)
    declare(client, queue)
    publish(client, queue, messages)
    consume(client, queue, PREFETCH)
    return client


def check_tail_of_acks_frees_the_window(server):
    client = open_consumer(server, "acks.tail", 100)
    try:
        first = read_deliveries(client, PREFETCH)
        assert first == list(range(1, PREFETCH + 1)), f"first window had tags {first}"
        client.send(acks(first[:30]))
        refill = read_deliveries(client, 30)
        assert refill == list(range(41, 71)), f"the 30 acks brought tags {refill}"
        # Three acks, far below a batch of ten: each frees a place for one more delivery.
        client.send(acks(first[30:33]))
        tail = read_deliveries(client, 3)
        assert tail == [71, 72, 73], f"the tail of acks brought tags {tail}"
    finally:
        client.close()


def check_bursts_of_acks_drain_the_queue(server):
    """Acks the oldest deliveries in writes of varying size until all 300 messages arrived."""
    client = open_consumer(server, "acks.bursts", 300)
    try:
        delivered = read_deliveries(client, PREFETCH)
        acked = 0
        sizes = [40, 3, 17, 1, 25, 2, 9]
        while acked < 300:
            count = min(sizes[len(delivered) % len(sizes)], len(delivered) - acked)
            client.send(acks(delivered[acked:acked + count]))
            acked += count
            delivered += read_deliveries(client, min(count, 300 - len(delivered)))
        assert delivered == list(range(1, 301)), "delivery tags were not 1 to 300 in order"
    finally:
        client.close()


def main():
    run_checks(check_tail_of_acks_frees_the_window, check_bursts_of_acks_drain_the_queue)


if __name__ == "__main__":
    main()
