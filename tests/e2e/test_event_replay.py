# SPDX-License-Identifier: MIT
"""A client that subscribes to /api/events?batch=ID after the batch finished still receives the
final state of every job, because a batch stream starts with the batch's current state. A client
that closes its stream gives its slot back at once, even when its batch has gone quiet."""
import http.client
import json
import os
import time
import urllib.request

import imgbus_server
from imgbus_server import Checks, Server


def check_late_subscriber_sees_done(server):
    source = os.path.join(imgbus_server.TEST_DATA, "hostile", "17x17-420.jpg")
    status, _, body = server.upload(source, threads="1,2")
    assert status == 202, body
    expected = {job["id"] for job in body["jobs"]}
    server.wait_for_jobs(sorted(expected))

    seen = {}
    deadline = time.monotonic() + 20
    request = urllib.request.Request(f"{server.url}/api/events?batch={body['batch']}")
    with urllib.request.urlopen(request, timeout=20) as stream:
        for raw in stream:
            if time.monotonic() > deadline:
                break
            line = raw.decode().rstrip("\n")
            if line.startswith("data:"):
                job = json.loads(line[5:])
                assert job["batch"] == body["batch"], f"event of another batch: {job}"
                seen[job["id"]] = job["status"]
                if set(seen) == expected:
                    break
    assert seen == {job_id: "done" for job_id in expected}, seen


def open_and_close_stream(server, batch):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", f"/api/events?batch={batch}")
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", "")
    finally:
        connection.close()


def check_closed_streams_free_their_slots(server):
    # The server allows 256 event streams (a quarter of its 1,024 connections). Each stream below
    # follows a batch that never sends an event, so only the client's close can end it. A server
    # that missed the close would return 503 from the 257th stream on.
    for index in range(320):
        status, content_type = open_and_close_stream(server, f"quiet-batch-{index}")
        assert status == 200, f"stream {index} was refused with {status} ({content_type})"
        assert content_type.startswith("text/event-stream"), content_type


def main():
    imgbus_server.require_environment()
    checks = Checks()
    server = Server("--workers", "1").start()
    try:
        checks.run("late subscriber sees the finished batch", check_late_subscriber_sees_done,
                   server)
        checks.run("closed streams free their slots", check_closed_streams_free_their_slots,
                   server)
    finally:
        if checks.failed:
            print(server.log()[-4000:])
        server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
