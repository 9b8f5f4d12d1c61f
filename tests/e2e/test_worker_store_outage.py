# SPDX-License-Identifier: MIT
"""A store outage: an `imgbus worker` whose store (reached through a proxy) goes down after the
worker has started, so each connection is closed at once. The job must fail on every try, be tried exactly --max-attempts times, end `failed` with a reason
in the frontend, land in imgbus.jobs.dead with its try count, and leave the job queue empty
(no endless loop).
"""
import json
import os

import pika

import imgbus_server
from amqp_harness import pika_parameters
from imgbus_server import Checks, Server
from tcp_proxy import TcpProxy
from worker_harness import Worker, amqp_port_of, wait_until

MAX_ATTEMPTS = 3


def check_job_dead_lettered(server, worker):
    source = os.path.join(imgbus_server.TEST_DATA, "test.jpg")
    status, _, body = server.upload(source)
    assert status == 202, f"upload answered {status}: {body}"
    job_id = body["jobs"][0]["id"]
    job = server.wait_for_jobs([job_id], timeout=60)[job_id]
    assert job["status"] == "failed", f"the job ended {job['status']}"
    assert "fetch failed" in job["error"], job["error"]
    assert f"all {MAX_ATTEMPTS} tries" in job["error"], job["error"]
    assert "imgbus.jobs.dead" in job["error"], job["error"]

    log = worker.log()
    for attempt in range(1, MAX_ATTEMPTS):
        assert f"failed on try {attempt} of {MAX_ATTEMPTS}" in log, log[-3000:]
    assert f"failed on try {MAX_ATTEMPTS} of" not in log, "a try beyond the last was made"
    wait_until(lambda: worker.metric("grayscale_failures_total", 'reason="fetch"') == 1, 10,
               "the worker counting one fetch failure")

    connection = pika.BlockingConnection(pika_parameters(
        amqp_port_of(server), user=server.access_key, password=server.secret_key))
    try:
        channel = connection.channel()
        jobs = channel.queue_declare("imgbus.jobs", passive=True).method
        assert jobs.message_count == 0, f"{jobs.message_count} messages left in imgbus.jobs"
        method, properties, dead_body = channel.basic_get("imgbus.jobs.dead", auto_ack=True)
        assert method is not None, "imgbus.jobs.dead is empty"
        assert json.loads(dead_body)["id"] == job_id, dead_body[:200]
        assert properties.headers["imgbus-attempt"] == MAX_ATTEMPTS, properties.headers
        assert "fetch failed" in properties.headers["imgbus-error"], properties.headers
        assert channel.basic_get("imgbus.jobs.dead")[0] is None, "more than one dead letter"
    finally:
        connection.close()


def main():
    imgbus_server.require_environment()
    checks = Checks()
    server = Server("--workers", "0").start()
    worker = None
    proxy = None
    try:
        # The worker checks its store at start, so the store goes down once the worker runs.
        proxy = TcpProxy(server.s3_port)
        worker = Worker(f"amqp://127.0.0.1:{amqp_port_of(server)}/%2F", proxy.url,
                        server.access_key, server.secret_key,
                        "--max-attempts", str(MAX_ATTEMPTS)).start()
        proxy.mode = "reset"
        checks.run("store outage: tried 3 times, then dead-lettered and failed",
                   check_job_dead_lettered, server, worker)
    finally:
        if checks.failed:
            print(server.log()[-4000:])
            if worker:
                print(worker.log()[-4000:])
        if worker:
            worker.cleanup()
        if proxy:
            proxy.close()
        server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
