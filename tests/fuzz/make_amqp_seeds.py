#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes seed inputs for fuzz_amqp_frame and fuzz_field_table: well-formed AMQP 0-9-1 frames
and field tables, built here from the specification, one file per seed.

    /usr/bin/python3 tests/fuzz/make_amqp_seeds.py OUT_DIR

creates OUT_DIR/frames and OUT_DIR/tables.
"""
import pathlib
import struct
import sys


def shortstr(text: bytes) -> bytes:
    return struct.pack(">B", len(text)) + text


def longstr(text: bytes) -> bytes:
    return struct.pack(">I", len(text)) + text


def value(kind: str, payload: bytes) -> bytes:
    return kind.encode() + payload


def table(entries) -> bytes:
    body = b"".join(shortstr(name) + encoded for name, encoded in entries)
    return struct.pack(">I", len(body)) + body


def every_type_table() -> bytes:
    nested = table([(b"inner", value("S", longstr(b"x")))])
    array = struct.pack(">I", 10) + value("I", struct.pack(">i", 7)) + value("t", b"\x01") + \
        value("V", b"") + value("b", b"\x05")
    return table([
        (b"bool", value("t", b"\x01")),
        (b"i8", value("b", struct.pack(">b", -3))),
        (b"u8", value("B", struct.pack(">B", 200))),
        (b"i16", value("s", struct.pack(">h", -300))),
        (b"u16", value("u", struct.pack(">H", 60000))),
        (b"i32", value("I", struct.pack(">i", -70000))),
        (b"u32", value("i", struct.pack(">I", 4000000000))),
        (b"i64", value("l", struct.pack(">q", -(1 << 40)))),
        (b"f", value("f", struct.pack(">f", 1.5))),
        (b"d", value("d", struct.pack(">d", -2.25))),
        (b"dec", value("D", struct.pack(">Bi", 2, 12345))),
        (b"str", value("S", longstr(b"hello"))),
        (b"bytes", value("x", longstr(b"\x00\xff"))),
        (b"ts", value("T", struct.pack(">Q", 1700000000))),
        (b"table", value("F", nested)),
        (b"array", value("A", array)),
        (b"void", value("V", b"")),
    ])


def frame(kind: int, channel: int, payload: bytes) -> bytes:
    return struct.pack(">BHI", kind, channel, len(payload)) + payload + b"\xce"


def method(class_id: int, method_id: int, arguments: bytes) -> bytes:
    return struct.pack(">HH", class_id, method_id) + arguments


def content_header(body_size: int, all_properties: bool) -> bytes:
    if not all_properties:
        return struct.pack(">HHQH", 60, 0, body_size, 0x1000) + b"\x02"
    flags = 0xFFFC  # the 14 properties
    properties = (shortstr(b"application/json") + shortstr(b"gzip") + every_type_table() +
                  b"\x02" + b"\x05" + shortstr(b"corr") + shortstr(b"reply") +
                  shortstr(b"60000") + shortstr(b"id-1") + struct.pack(">Q", 1700000000) +
                  shortstr(b"type") + shortstr(b"guest") + shortstr(b"app") + shortstr(b""))
    return struct.pack(">HHQH", 60, 0, body_size, flags) + properties


def frames() -> dict:
    capabilities = table([(b"publisher_confirms", value("t", b"\x01"))])
    client = table([(b"product", value("S", longstr(b"seed"))),
                    (b"capabilities", value("F", capabilities))])
    queue_arguments = table([(b"x-max-length", value("l", struct.pack(">q", 1000))),
                             (b"x-dead-letter-exchange", value("S", longstr(b"dlx")))])
    publish = method(60, 40, b"\x00\x00" + shortstr(b"") + shortstr(b"jobs") + b"\x01")
    seeds = {
        "start_ok": frame(1, 0, method(10, 11, client + shortstr(b"PLAIN") +
                                       longstr(b"\x00guest\x00guest") + shortstr(b"en_US"))),
        "tune_ok": frame(1, 0, method(10, 31, struct.pack(">HIH", 2047, 131072, 60))),
        "open": frame(1, 0, method(10, 40, shortstr(b"/") + shortstr(b"") + b"\x00")),
        "close": frame(1, 0, method(10, 50, struct.pack(">H", 200) + shortstr(b"bye") +
                                    struct.pack(">HH", 0, 0))),
        "channel_open": frame(1, 1, method(20, 10, shortstr(b""))),
        "queue_declare": frame(1, 1, method(50, 10, b"\x00\x00" + shortstr(b"jobs") + b"\x02" +
                                            queue_arguments)),
        "queue_bind": frame(1, 1, method(50, 20, b"\x00\x00" + shortstr(b"jobs") +
                                         shortstr(b"amq.topic") + shortstr(b"a.*") + b"\x00" +
                                         table([]))),
        "exchange_declare": frame(1, 1, method(40, 10, b"\x00\x00" + shortstr(b"logs") +
                                               shortstr(b"fanout") + b"\x02" + table([]))),
        "qos": frame(1, 1, method(60, 10, struct.pack(">IHB", 0, 100, 0))),
        "consume": frame(1, 1, method(60, 20, b"\x00\x00" + shortstr(b"jobs") + shortstr(b"") +
                                      b"\x00" + table([]))),
        "ack": frame(1, 1, method(60, 80, struct.pack(">QB", 42, 1))),
        "nack": frame(1, 1, method(60, 120, struct.pack(">QB", 7, 3))),
        "confirm_select": frame(1, 1, method(85, 10, b"\x00")),
        "heartbeat": frame(8, 0, b""),
        "publish_all_properties": frame(1, 1, publish) + frame(2, 1, content_header(5, True)) +
        frame(3, 1, b"hello"),
        "publish_persistent": frame(1, 1, publish) + frame(2, 1, content_header(1024, False)) +
        frame(3, 1, b"x" * 1024),
    }
    return seeds


def tables() -> dict:
    return {
        "every_type": every_type_table(),
        "empty": table([]),
        "nested": table([(b"a", value("F", table([(b"b", value("F", every_type_table()))])))]),
        "x_death": table([(b"x-death", value("A", struct.pack(">I", 0)))]),
    }


def main() -> int:
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} OUT_DIR", file=sys.stderr)
        return 2
    out = pathlib.Path(sys.argv[1])
    for folder, seeds in (("frames", frames()), ("tables", tables())):
        (out / folder).mkdir(parents=True, exist_ok=True)
        for name, data in seeds.items():
            (out / folder / name).write_bytes(data)
    print(f"wrote {len(frames())} frame seeds and {len(tables())} table seeds under {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
