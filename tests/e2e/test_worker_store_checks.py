# SPDX-License-Identifier: MIT
"""An `imgbus worker` checks its store before it takes jobs. A store URL that cannot be parsed
and a key pair the store rejects stop it at start with a non-zero exit. While the store does not
respond yet, the worker waits and reports not ready on /healthz until the store is back. During a job, a
store that refuses a request (403) fails the job at once instead of retrying it.
"""
import os
import subprocess

import pika

import imgbus_server
from amqp_harness import pika_parameters
from imgbus_server import IMGBUS_BIN, Checks, Server
from tcp_proxy import TcpProxy
from worker_harness import Worker, amqp_port_of, wait_until


def run_worker_once(server, store_url, secret_key):
    """Runs a worker that is expected to exit at start; returns its exit code and output."""
    env = dict(os.environ, IMGBUS_ACCESS_KEY=server.access_key, IMGBUS_SECRET_KEY=secret_key)
    done = subprocess.run(
        [IMGBUS_BIN, "worker", "--broker", f"amqp://127.0.0.1:{amqp_port_of(server)}/%2F",
         "--store", store_url, "--metrics-addr", "127.0.0.1:0"],
        env=env, capture_output=True, text=True, timeout=30)
    return done.returncode, done.stdout + done.stderr


def check_bad_url(server):
    code, output = run_worker_once(server, "s3://[::1", server.secret_key)
    assert code != 0, "the worker started with an unparsable store URL:\n" + output
    assert "[::1" in output, output
    assert "fix --store" in output, output


def check_wrong_secret(server):
    wrong = "x" * len(server.secret_key)
    code, output = run_worker_once(server, server.s3_url, wrong)
    assert code != 0, "the worker started with a wrong secret key:\n" + output
    assert "refused the key pair" in output, output
    assert "SignatureDoesNotMatch" in output, output
    assert wrong not in output, "the wrong secret was logged"
    assert server.secret_key not in output, "the server's secret was logged"


def dead_letters(server):
    connection = pika.BlockingConnection(pika_parameters(
        amqp_port_of(server), user=server.access_key, password=server.secret_key))
    try:
        return connection.channel().queue_declare("imgbus.jobs.dead", passive=True) \
            .method.message_count
    finally:
        connection.close()


def check_wait_then_refusal(server):
    proxy = TcpProxy(server.s3_port, mode="reset")
    worker = Worker(f"amqp://127.0.0.1:{amqp_port_of(server)}/%2F", proxy.url,
                    server.access_key, server.secret_key, "--max-attempts", "3")
    try:
        worker.start(until_working=False)
        wait_until(lambda: "takes no jobs" in worker.log(), 20, "the worker reporting the wait")
        assert worker.health() == 503, "/healthz is ready while the store does not answer"
        assert "started 1 workers" not in worker.log(), "workers started without a store"

        proxy.mode = "forward"
        wait_until(lambda: "started 1 workers" in worker.log(), 30, "the workers starting")
        assert worker.health() == 200, "/healthz is not ready once the store answers"
        source = os.path.join(imgbus_server.TEST_DATA, "test.jpg")
        status, _, body = server.upload(source)
        assert status == 202, f"upload answered {status}: {body}"
        job_id = body["jobs"][0]["id"]
        job = server.wait_for_jobs([job_id], timeout=30)[job_id]
        assert job["status"] == "done", job

        proxy.mode = "forbid"
        status, _, body = server.upload(source)
        assert status == 202, f"upload answered {status}: {body}"
        job_id = body["jobs"][0]["id"]
        job = server.wait_for_jobs([job_id], timeout=30)[job_id]
        assert job["status"] == "failed", job
        assert "AccessDenied" in job["error"], job["error"]
        assert "tries" not in job["error"], job["error"]
        assert "failed on try" not in worker.log(), "a refused request was retried"
        assert dead_letters(server) == 0, "a refused job went to imgbus.jobs.dead"
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
        checks.run("a store URL that cannot be parsed stops the worker at start",
                   check_bad_url, server)
        checks.run("a key pair the store refuses stops the worker at start",
                   check_wrong_secret, server)
        checks.run("a store down at start: not ready until it answers; a 403 is not retried",
                   check_wait_then_refusal, server)
    finally:
        if checks.failed:
            print(server.log()[-4000:])
        server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
