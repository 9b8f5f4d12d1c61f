# SPDX-License-Identifier: MIT
"""A client that subscribes to /api/events?batch=ID after the batch finished still receives the
final state of every job, because a batch stream starts with the batch's current state."""
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


def main():
    imgbus_server.require_environment()
    checks = Checks()
    server = Server("--workers", "1").start()
    try:
        checks.run("late subscriber sees the finished batch", check_late_subscriber_sees_done,
                   server)
    finally:
        if checks.failed:
            print(server.log()[-4000:])
        server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
