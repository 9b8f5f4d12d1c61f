# SPDX-License-Identifier: MIT
"""End to end: a job's result and a batch's input are streamed from the store.

A 12 MP noise PNG (36 MB, which no compression shrinks) is uploaded and turned gray. A client
that reads the input and then the result slowly, over a small receive window, must not make the
server's resident memory grow by anything near the object's size, and must still get every byte.
HEAD, If-None-Match (304) and Range (206, 416) are checked on the same objects with curl."""
import hashlib
import os
import socket
import struct
import subprocess
import tempfile
import time
import zlib

from imgbus_server import Checks, Server, image_shape

WIDTH, HEIGHT = 4000, 3000


def write_noise_png(path):
    """An RGB PNG of random pixels, stored (zlib level 0) so that writing it is quick."""
    row_bytes = WIDTH * 3
    rows = os.urandom(row_bytes * HEIGHT)
    raw = b"".join(b"\x00" + rows[y * row_bytes:(y + 1) * row_bytes] for y in range(HEIGHT))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                  + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b""))


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


def slow_get(server, path, pause_after, on_pause):
    """GETs `path` over a socket with a small receive buffer, stops reading after `pause_after`
    bytes for two seconds while calling on_pause(), then reads the rest. Returns the headers and
    the body."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
    sock.settimeout(60)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    received = bytearray()
    paused = False
    while True:
        if not paused and len(received) >= pause_after:
            paused = True
            time.sleep(2)
            on_pause()
        piece = sock.recv(64 * 1024)
        if not piece:
            break
        received += piece
        if not paused:
            time.sleep(0.01)
    sock.close()
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip()
               for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def check_slow_reader(server, path, expected, label):
    """The server's RSS grows by less than a quarter of the object while a slow client reads it,
    and the client gets the object's exact bytes."""
    time.sleep(0.5)
    before = rss_mib(server.process.pid)
    during = []
    status, headers, body = slow_get(server, path, 1 << 20,
                                     lambda: during.append(rss_mib(server.process.pid)))
    assert status == 200, f"{label}: GET answered {status}"
    assert int(headers["content-length"]) == len(expected), headers
    assert len(body) == len(expected), f"{label}: got {len(body)} of {len(expected)} bytes"
    assert hashlib.sha256(body).digest() == hashlib.sha256(expected).digest(), \
        f"{label}: the bytes differ from the stored object"
    object_mib = len(expected) / (1 << 20)
    growth = during[0] - before
    print(f"{label}: {object_mib:.1f} MiB object, server RSS {before:.1f} MiB before, "
          f"{during[0]:.1f} MiB while a slow client reads it (growth {growth:.1f} MiB)")
    assert growth < object_mib / 4, \
        f"{label}: RSS grew by {growth:.1f} MiB while streaming a {object_mib:.1f} MiB object"


def curl_head(url, *headers):
    args = ["curl", "-sS", "-o", "/dev/null", "-D", "-", "--max-time", "30"]
    for header in headers:
        args += ["-H", header]
    result = subprocess.run(args + [url], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    fields = {name.strip().lower(): value.strip()
              for name, _, value in (line.partition(":") for line in lines[1:] if line)}
    return int(lines[0].split()[1]), fields


def curl_body(url, *headers):
    args = ["curl", "-sS", "--max-time", "30"]
    for header in headers:
        args += ["-H", header]
    result = subprocess.run(args + [url], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def check_conditional_and_ranges(server, path, expected):
    url = server.url + path
    status, fields = curl_head(url)
    etag = fields.get("etag", "")
    assert status == 200, (status, fields)
    assert etag == f"\"{hashlib.md5(expected).hexdigest()}\"", fields
    assert fields.get("accept-ranges") == "bytes", fields

    head = subprocess.run(["curl", "-sS", "-I", "--max-time", "30", url],
                          capture_output=True, text=True, timeout=60)
    assert f"content-length: {len(expected)}" in head.stdout.lower(), head.stdout

    status, _ = curl_head(url, f"If-None-Match: {etag}")
    assert status == 304, f"If-None-Match with the ETag answered {status}"
    status, _ = curl_head(url, "If-None-Match: \"0123\"")
    assert status == 200, f"If-None-Match with another ETag answered {status}"

    assert curl_body(url, "Range: bytes=100-199") == expected[100:200]
    assert curl_body(url, "Range: bytes=-10") == expected[-10:]
    status, fields = curl_head(url, "Range: bytes=5-")
    assert status == 206, (status, fields)
    assert fields["content-range"] == f"bytes 5-{len(expected) - 1}/{len(expected)}", fields
    status, fields = curl_head(url, f"Range: bytes={len(expected)}-")
    assert status == 416, (status, fields)
    assert fields.get("content-range") == f"bytes */{len(expected)}", fields


def check_other_connections_answer(server, path):
    """A slow reader keeps one connection busy while another is served."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    sock.recv(1024)
    try:
        status, _, _ = server.get("/healthz", timeout=10)
        assert status == 200, f"/healthz answered {status} while a download stalled"
    finally:
        sock.close()


def main():
    checks = Checks()
    workdir = tempfile.mkdtemp(prefix="imgbus-stream-")
    png = os.path.join(workdir, "noise.png")
    write_noise_png(png)
    with open(png, "rb") as file:
        original = file.read()
    server = Server("--workers", "1").start()
    try:
        status, _, body = server.upload(png, raw=True)
        assert status == 202, f"upload answered {status}: {body}"
        job_id, batch = body["jobs"][0]["id"], body["batch"]
        job = server.wait_for_jobs([job_id], timeout=120)[job_id]
        assert job["status"] == "done", job
        _, _, result = server.get(f"/api/jobs/{job_id}/result", timeout=60)
        assert image_shape(result) == ("png", WIDTH, HEIGHT, 1), image_shape(result)

        input_path = f"/api/batches/{batch}/input"
        result_path = f"/api/jobs/{job_id}/result"
        checks.run("slow reader of the 36 MB input", check_slow_reader, server, input_path,
                   original, "input")
        checks.run("slow reader of the result", check_slow_reader, server, result_path, result,
                   "result")
        checks.run("HEAD, ETag, If-None-Match and Range on the result",
                   check_conditional_and_ranges, server, result_path, result)
        checks.run("other connections answer while a download stalls",
                   check_other_connections_answer, server, input_path)
    finally:
        server.cleanup()
        for name in os.listdir(workdir):
            os.remove(os.path.join(workdir, name))
        os.rmdir(workdir)
    checks.finish()


if __name__ == "__main__":
    main()
