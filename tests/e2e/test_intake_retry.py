# SPDX-License-Identifier: MIT
"""A paused intake holds new jobs, not the retry of a job a worker already took. The worker's
store fails the first try, so the worker publishes the job again to imgbus.jobs with
imgbus-attempt 2 while intake is paused. That publish must go through: the worker's connection
is never blocked, the job ends done during the pause, and after the resume nothing runs it again.
"""
import os

import imgbus_server
from imgbus_server import Checks, Server
from management_client import Api
from tcp_proxy import TcpProxy
from worker_harness import Worker, amqp_port_of, wait_until


def set_paused(api, paused):
    status, _, body = api.call("POST", f"/api/admin/intake?paused={'true' if paused else 'false'}")
    assert status == 200, (status, body)


def check_retry_not_held(server, api):
    source = os.path.join(imgbus_server.TEST_DATA, "test.jpg")
    status, _, body = server.upload(source)
    assert status == 202, f"upload answered {status}: {body}"
    job_id = body["jobs"][0]["id"]
    set_paused(api, True)

    # The worker's start-up check of the store gets through; the job's fetch then fails.
    proxy = TcpProxy(server.s3_port, mode="forward_once")
    worker = Worker(f"amqp://127.0.0.1:{amqp_port_of(server)}/%2F", proxy.url,
                    server.access_key, server.secret_key, "--log-level", "debug")
    try:
        worker.start()
        wait_until(lambda: "failed on try 1 of 3" in worker.log(), 30, "the first try failing")
        proxy.mode = "forward"
        job = server.wait_for_jobs([job_id], timeout=30)[job_id]
        assert job["status"] == "done", f"the job is {job['status']} while intake is paused"
        states = [connection["state"] for connection in api.get("/api/connections")]
        assert "blocked" not in states, states

        set_paused(api, False)
        queue = api.get("/api/queues/%2F/imgbus.jobs")
        assert queue["messages_ready"] == 0, queue
        assert queue["messages_unacknowledged"] == 0, queue
        log = worker.log()
        assert log.count(f"job {job_id} done") == 1, "the job did not run to done exactly once"
        assert "requeued as it was" not in log, log[-3000:]
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
        api = Api(server.url, server.access_key, server.secret_key)
        checks.run("a paused intake lets a worker publish its retry", check_retry_not_held,
                   server, api)
    finally:
        if checks.failed:
            print(server.log()[-4000:])
        server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
