# SPDX-License-Identifier: MIT
"""Hostile and hand-made requests to the S3 API: bad signatures, path tricks in keys, broken
lengths, truncated and altered bodies, malformed XML, aws-chunked uploads signed chunk by chunk as
AWS's streaming example does, and memory use under concurrent large transfers. After each attack
the previously stored object must still be intact."""
import os
import concurrent.futures
import hashlib
import http.client
import socket

import imgbus_server
from imgbus_server import Checks, Server
from s3_tools import (EMPTY_SHA256, chunked_body, request, sign_headers)

BUCKET = "hostile"
ORIGINAL = b"original content that every attack must leave in place"


def assert_error(status, body, expected_status, code):
    assert status == expected_status, f"status {status}, expected {expected_status}: {body[:300]!r}"
    assert f"<Code>{code}</Code>".encode() in body, body[:400]


def assert_intact(server):
    status, _, body = request(server, "GET", f"/{BUCKET}/victim")
    assert status == 200, status
    assert body == ORIGINAL, body[:100]


def raw_exchange(server, data, shutdown=False):
    """Sends raw bytes and returns the status line and the rest of what the server sent."""
    with socket.create_connection(("127.0.0.1", server.s3_port), timeout=10) as connection:
        connection.sendall(data)
        if shutdown:
            connection.shutdown(socket.SHUT_WR)
        received = b""
        while True:
            try:
                piece = connection.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not piece:
                break
            received += piece
    return received


def check_setup(server):
    status, _, body = request(server, "PUT", f"/{BUCKET}")
    assert status == 200, body
    status, _, body = request(server, "PUT", f"/{BUCKET}/victim", body=ORIGINAL)
    assert status == 200, body


def check_authentication(server):
    status, headers, body = request(server, "GET", f"/{BUCKET}/victim", sign=False)
    assert_error(status, body, 403, "AccessDenied")
    assert ORIGINAL not in body
    assert headers.get("x-amz-request-id"), headers
    status, _, body = request(server, "GET", f"/{BUCKET}/victim", secret="wrong-secret")
    assert_error(status, body, 403, "SignatureDoesNotMatch")
    assert ORIGINAL not in body
    status, _, body = request(server, "PUT", f"/{BUCKET}/victim", body=b"evil",
                              secret="wrong-secret")
    assert_error(status, body, 403, "SignatureDoesNotMatch")
    assert_intact(server)


def check_names(server):
    status, _, body = request(server, "PUT", "/Bad_Bucket")
    assert_error(status, body, 400, "InvalidBucketName")
    status, _, body = request(server, "PUT", "/ab")
    assert_error(status, body, 400, "InvalidBucketName")
    status, _, body = request(server, "PUT", "/192.168.1.1")
    assert_error(status, body, 400, "InvalidBucketName")
    for key in ("a/../victim", "..", "./x", "a/%00b"):
        status, _, body = request(server, "PUT", f"/{BUCKET}/{key}", body=b"evil")
        assert status == 400, (key, status, body[:200])
    status, _, body = request(server, "PUT", f"/{BUCKET}/" + "k" * 1025, body=b"evil")
    assert_error(status, body, 400, "KeyTooLongError")
    status, _, body = request(server, "PUT", f"/{BUCKET}/a//b", body=b"double slash")
    assert status == 200, body
    status, _, body = request(server, "GET", f"/{BUCKET}/a//b")
    assert body == b"double slash", body
    assert_intact(server)


def check_lengths(server):
    for length in ("-1", "99999999999999999999999", "12abc"):
        reply = raw_exchange(server, (f"PUT /{BUCKET}/victim HTTP/1.1\r\nHost: x\r\n"
                                      f"Content-Length: {length}\r\n\r\n").encode())
        assert reply.startswith(b"HTTP/1.1 400"), (length, reply[:200])
    headers, *_ = sign_headers(server, "PUT", f"/{BUCKET}/victim",
                               headers={"content-length": str(10 << 30)},
                               payload_hash="UNSIGNED-PAYLOAD")
    connection = http.client.HTTPConnection("127.0.0.1", server.s3_port, timeout=10)
    connection.putrequest("PUT", f"/{BUCKET}/victim", skip_host=True, skip_accept_encoding=True)
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    assert_error(response.status, response.read(), 400, "EntityTooLarge")
    connection.close()
    assert_intact(server)


def check_truncated_body(server):
    headers, *_ = sign_headers(server, "PUT", f"/{BUCKET}/victim",
                               headers={"content-length": "100000"},
                               payload_hash="UNSIGNED-PAYLOAD")
    head = f"PUT /{BUCKET}/victim HTTP/1.1\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    raw_exchange(server, head.encode() + b"only ten b", shutdown=True)
    assert_intact(server)


def check_altered_body(server):
    status, _, body = request(server, "PUT", f"/{BUCKET}/victim", body=b"evil body",
                              payload_hash=hashlib.sha256(b"signed body").hexdigest())
    assert_error(status, body, 400, "XAmzContentSHA256Mismatch")
    status, _, body = request(server, "PUT", f"/{BUCKET}/victim", body=b"evil body",
                              headers={"content-md5": "1B2M2Y8AsgTpgAmY7PhCfg=="})
    assert_error(status, body, 400, "BadDigest")
    status, _, body = request(server, "PUT", f"/{BUCKET}/victim", body=b"evil body",
                              headers={"content-md5": "not base64!"})
    assert_error(status, body, 400, "InvalidDigest")
    assert_intact(server)


def check_malformed_xml(server):
    documents = [b"", b"<Delete>", b"<Delete><Object><Key>victim</Key></Object>",
                 b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'victim'>]>"
                 b"<Delete><Object><Key>&a;</Key></Object></Delete>",
                 b"<Other><Object><Key>victim</Key></Object></Other>"]
    for document in documents:
        status, _, body = request(server, "POST", f"/{BUCKET}", query=[("delete", "")],
                                  body=document)
        assert_error(status, body, 400, "MalformedXML")
    status, _, body = request(server, "POST", f"/{BUCKET}/big", query=[("uploads", "")])
    upload_id = body.split(b"<UploadId>")[1].split(b"</UploadId>")[0].decode()
    status, _, body = request(server, "POST", f"/{BUCKET}/big", query=[("uploadId", upload_id)],
                              body=b"<CompleteMultipartUpload><Part>")
    assert_error(status, body, 400, "MalformedXML")
    status, _, body = request(server, "POST", f"/{BUCKET}/big", query=[("uploadId", "../../x")],
                              body=b"<CompleteMultipartUpload/>")
    assert_error(status, body, 404, "NoSuchUpload")
    assert_intact(server)


def streaming_put(server, key, chunks, tamper=False):
    total = sum(len(chunk) for chunk in chunks)
    fixed = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(total)}
    encoded_length = len(chunked_body(chunks, b"k" * 32, "d", "s", "0" * 64))
    fixed["content-length"] = str(encoded_length)
    headers, key_bytes, amz_date, scope, seed = sign_headers(
        server, "PUT", f"/{BUCKET}/{key}", headers=fixed,
        payload_hash="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    body = chunked_body(chunks, key_bytes, amz_date, scope, seed)
    if tamper:
        body = body.replace(b"aaaa", b"aaab", 1)
    connection = http.client.HTTPConnection("127.0.0.1", server.s3_port, timeout=30)
    connection.request("PUT", f"/{BUCKET}/{key}", body=body, headers=headers)
    response = connection.getresponse()
    result = response.status, response.read()
    connection.close()
    return result


def check_aws_chunked(server):
    chunks = [b"a" * 65536, b"b" * 1024, b"c" * 10]
    status, body = streaming_put(server, "streamed", chunks)
    assert status == 200, body
    status, _, body = request(server, "GET", f"/{BUCKET}/streamed")
    assert body == b"".join(chunks), len(body)
    status, body = streaming_put(server, "victim", [b"a" * 65536, b"b" * 1024], tamper=True)
    assert_error(status, body, 403, "SignatureDoesNotMatch")
    assert_intact(server)


def check_flat_memory(server):
    """Eight concurrent 32 MiB uploads and downloads must not grow the server by their size."""
    size = 32 * 1024 * 1024
    piece = bytes(range(256)) * 4096  # 1 MiB
    before = server.peak_rss_mib()

    def upload(index):
        headers, *_ = sign_headers(server, "PUT", f"/{BUCKET}/large-{index}",
                                   headers={"content-length": str(size)},
                                   payload_hash="UNSIGNED-PAYLOAD")
        connection = http.client.HTTPConnection("127.0.0.1", server.s3_port, timeout=120)
        connection.putrequest("PUT", f"/{BUCKET}/large-{index}", skip_host=True,
                              skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        for _ in range(size // len(piece)):
            connection.send(piece)
        response = connection.getresponse()
        response.read()
        connection.close()
        return response.status

    def download(index):
        headers, *_ = sign_headers(server, "GET", f"/{BUCKET}/large-{index}")
        connection = http.client.HTTPConnection("127.0.0.1", server.s3_port, timeout=120)
        connection.request("GET", f"/{BUCKET}/large-{index}", headers=headers)
        response = connection.getresponse()
        digest = hashlib.md5()
        while True:
            data = response.read(1 << 20)
            if not data:
                break
            digest.update(data)
        connection.close()
        return digest.hexdigest()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert list(pool.map(upload, range(8))) == [200] * 8
        expected = hashlib.md5(piece * (size // len(piece))).hexdigest()
        assert list(pool.map(download, range(8))) == [expected] * 8
    growth = server.peak_rss_mib() - before
    # 256 MiB went through the server; flat means a small multiple of the 64 KiB buffers.
    assert growth < 64, f"peak RSS grew by {growth:.0f} MiB during 256 MiB of transfers"


def main():
    imgbus_server.require_environment()
    os.environ.setdefault("IMGBUS_AMQP", "127.0.0.1:0")  # the AMQP listener's port, where built
    server = Server("--workers", "0", "--fsync", "false").start()
    checks = Checks()
    try:
        checks.run("bucket and victim object", check_setup, server)
        checks.run("anonymous and wrong signatures", check_authentication, server)
        checks.run("hostile bucket names and keys", check_names, server)
        checks.run("negative, huge and oversized lengths", check_lengths, server)
        checks.run("truncated body", check_truncated_body, server)
        checks.run("altered body and digests", check_altered_body, server)
        checks.run("malformed XML and upload ids", check_malformed_xml, server)
        checks.run("aws-chunked upload with chunk signatures", check_aws_chunked, server)
        checks.run("memory stays flat under large transfers", check_flat_memory, server)
    finally:
        server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
