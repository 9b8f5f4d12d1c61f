# SPDX-License-Identifier: MIT
"""--store-timeout: a store that accepts a request and never responds fails the request once no
data has moved for that many seconds. So the job ends `failed` instead of staying `processing`
for minutes.
"""
import os

import imgbus_server
from imgbus_server import Checks, Server
from tcp_proxy import TcpProxy
from worker_harness import Worker, amqp_port_of


def check_stalled_store(server):
    # The start-up check gets through; every later connection is read and never answered.
    proxy = TcpProxy(server.s3_port, mode="forward_once")
    worker = Worker(f"amqp://127.0.0.1:{amqp_port_of(server)}/%2F", proxy.url,
                    server.access_key, server.secret_key, "--store-timeout", "2",
                    "--max-attempts", "1")
    try:
        worker.start()
        proxy.mode = "stall"
        status, _, body = server.upload(os.path.join(imgbus_server.TEST_DATA, "test.jpg"))
        assert status == 202, f"upload answered {status}: {body}"
        job_id = body["jobs"][0]["id"]
        job = server.wait_for_jobs([job_id], timeout=40)[job_id]
        assert job["status"] == "failed", job
        assert "fetch failed" in job["error"], job["error"]
        assert "--store-timeout" in job["error"], job["error"]
    except AssertionError:
        print(worker.log()[-4000:])
        raise
    finally:
        worker.cleanup()
        proxy.close()


def main():
    imgbus_server.require_environment()
    checks = Checks()
    server = Server("--workers", "0").start()
    try:
        checks.run("a stalled store fails the job after --store-timeout", check_stalled_store,
                   server)
    finally:
        if checks.failed:
            print(server.log()[-4000:])
        server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
