# SPDX-License-Identifier: MIT
"""Every metric family that `imgbus serve` exposes on /metrics is named in docs/metrics.md, so the
documentation cannot fall behind the code again."""
import os
import re

import imgbus_server
from imgbus_server import Checks, Server

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "metrics.md")


def exposed_families(server):
    status, _, body = server.get("/metrics")
    assert status == 200, status
    families = re.findall(r"^# TYPE (\S+) \S+$", body.decode(), re.MULTILINE)
    assert len(families) >= 20, f"only {len(families)} families exposed: {families}"
    return families


def check_every_family_documented(server):
    with open(DOCS) as docs:
        text = docs.read()
    documented = set(re.findall(r"^\| `([a-z_:]+)` \|", text, re.MULTILINE))
    missing = [name for name in exposed_families(server) if name not in documented]
    assert not missing, f"families on /metrics without a row in docs/metrics.md: {missing}"


def main():
    imgbus_server.require_environment()
    checks = Checks()
    server = Server("--workers", "1")
    try:
        server.start()
        status, _, body = server.upload(os.path.join(imgbus_server.TEST_DATA, "test.jpg"))
        assert status == 202, body
        server.wait_for_jobs([job["id"] for job in body["jobs"]])
        checks.run("every family on /metrics has a row in docs/metrics.md",
                   check_every_family_documented, server)
    finally:
        server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
