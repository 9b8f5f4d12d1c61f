# SPDX-License-Identifier: MIT
"""Scale-out on a real RabbitMQ: Debian's rabbitmq-server on loopback as the broker, one
`imgbus serve` used only as the S3 store, a frontend `imgbus serve --broker amqp://...
--store http://... --workers 0` with both services external, and two `imgbus worker`
processes. RabbitMQ is stopped (by its PID) in the middle of the run and started again. Every
accepted job must end done exactly once with a correct result, the workers must count their
reconnect attempts, and the frontend must answer 503 with Retry-After while the broker is down
and accept uploads again on its own afterwards.
"""
import os
import time

import imgbus_server
from imgbus_server import Checks, Server
from rabbitmq_harness import RabbitMQ
from worker_harness import (Worker, check_gray_results, metric_value, upload_jobs, wait_until)

UPLOADS = 6
RUNS = 5  # 30 jobs before the outage
PASSES = 300  # slow enough that jobs are still queued when RabbitMQ stops
MAX_PASSES = ["--max-passes", "300"]


class Run:
    def __init__(self, rabbit, server, workers):
        self.rabbit, self.server, self.workers = rabbit, server, workers
        self.ids = []
        self.outage_answers = []


def check_outage(run):
    run.ids = upload_jobs(run.server, UPLOADS, RUNS, PASSES)
    wait_until(lambda: sum(w.metric("grayscale_process_seconds_count") for w in run.workers) >= 3,
               60, "the workers finishing their first jobs")
    run.rabbit.stop_node()
    unfinished = [i for i in run.ids
                  if run.server.get_json(f"/api/jobs/{i}")["status"] not in ("done", "failed")]
    print(f"{len(unfinished)} of {len(run.ids)} jobs unfinished when RabbitMQ stopped", flush=True)
    source = os.path.join(imgbus_server.TEST_DATA, "test.jpg")
    # The frontend notices the loss at its next request; give it a few tries.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status, headers, body = run.server.upload(source)
        if status == 202:
            run.ids += [job["id"] for job in body["jobs"]]
        else:
            run.outage_answers.append((status, headers))
            break
        time.sleep(0.2)
    assert run.outage_answers, "the frontend accepted uploads for 20 s with RabbitMQ stopped"
    status, headers = run.outage_answers[0]
    assert status == 503, f"upload with RabbitMQ stopped answered {status}"
    assert "retry-after" in headers, headers
    wait_until(lambda: all(w.health() == 503 for w in run.workers), 20,
               "the workers' /healthz reporting the lost broker")
    status, _, body = run.server.get("/readyz")
    assert status == 503, f"the frontend's /readyz answered {status} with RabbitMQ stopped"
    assert b"disconnected" in body, body[:300]


def check_recovery(run):
    run.rabbit.start()
    wait_until(lambda: all(w.health() == 200 for w in run.workers), 60,
               "the workers reconnecting")
    for worker in run.workers:
        attempts = worker.metric("grayscale_reconnect_attempts_total")
        assert attempts > 0, "a worker reconnected without counting attempts"
    source = os.path.join(imgbus_server.TEST_DATA, "test.jpg")
    deadline = time.monotonic() + 60
    status = None
    while time.monotonic() < deadline:
        status, _, body = run.server.upload(source)
        if status == 202:
            run.ids += [job["id"] for job in body["jobs"]]
            break
        time.sleep(0.5)
    assert status == 202, f"the frontend still answers {status} after RabbitMQ came back"
    status, _, body = run.server.get("/readyz")
    assert status == 200, f"the frontend's /readyz answered {status}: {body[:300]!r}"


def check_every_job_once(run):
    jobs = run.server.wait_for_jobs(run.ids, timeout=90)
    check_gray_results(run.server, jobs)
    _, _, body = run.server.get("/metrics")
    done = metric_value(body.decode(), "frontend_processed_total",
                        'op="grayscale",status="done"')
    assert done == len(run.ids), f"frontend recorded {done} done jobs for {len(run.ids)} accepted"


def main():
    imgbus_server.require_environment()
    checks = Checks()
    rabbit = RabbitMQ().start()
    broker = f"amqp://127.0.0.1:{rabbit.amqp_port}/%2F"
    store = server = workers = None
    try:
        # Its own frontend and broker stay idle: jobs and events go through RabbitMQ.
        store = Server("--workers", "0").start()
        server = Server("--workers", "0", *MAX_PASSES, "--broker",
                        f"amqp://guest:guest@127.0.0.1:{rabbit.amqp_port}/%2F",
                        "--store", store.s3_url, "--access-key", store.access_key,
                        "--secret-key", store.secret_key).start()
        workers = [Worker(broker, store.s3_url, store.access_key, store.secret_key,
                          "--prefetch", "2", *MAX_PASSES, broker_user="guest", broker_password="guest").start()
                   for _ in range(2)]
        run = Run(rabbit, server, workers)
        checks.run("RabbitMQ stopped: 503 with Retry-After, workers unhealthy", check_outage, run)
        checks.run("RabbitMQ back: workers reconnect, uploads accepted", check_recovery, run)
        checks.run("every accepted job done once, results correct", check_every_job_once, run)
    finally:
        if checks.failed:
            for process in [store, server, *(workers or [])]:
                if process:
                    print(process.log()[-4000:])
        for worker in workers or []:
            worker.cleanup()
        for process in (server, store):
            if process:
                process.cleanup()
        rabbit.stop()
    checks.finish()


if __name__ == "__main__":
    main()
