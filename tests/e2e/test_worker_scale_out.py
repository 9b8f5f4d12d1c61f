# SPDX-License-Identifier: MIT
"""Scale-out on imgbus alone: a frontend (`imgbus serve --workers 0`, whose embedded broker and
S3 store are reached over AMQP and S3) and two `imgbus worker` processes. One worker is killed
with SIGKILL while it processes a job; every accepted job must still end done exactly once with
a correct grayscale result, the killed worker's job redelivered to the other one.
"""
import imgbus_server
from imgbus_server import Checks, Server
from worker_harness import (Worker, amqp_port_of, check_gray_results, metric_value, upload_jobs,
                            wait_until)

UPLOADS = 6
RUNS = 5  # 30 jobs
PASSES = 100  # long enough kernels that a worker is caught mid-job


def start_workers(server):
    broker = f"amqp://127.0.0.1:{amqp_port_of(server)}/%2F"
    workers = []
    for _ in range(2):
        # No user in the URL: the worker falls back to the store key pair, which is also the
        # AMQP user of imgbus serve.
        workers.append(Worker(broker, server.s3_url, server.access_key, server.secret_key,
                              "--prefetch", "2").start())
    return workers


def check_kill_mid_job(server, workers, ids):
    victim, survivor = workers
    wait_until(lambda: victim.metric("imgbus_workers_busy") >= 1 and
               victim.metric("grayscale_process_seconds_count") >= 2,
               60, "the first worker taking a job")
    victim.kill()
    jobs = server.wait_for_jobs(ids, timeout=120)
    check_gray_results(server, jobs)
    redelivered = [job["id"] for job in jobs.values() if job["redelivered"]]
    assert redelivered, "no job was redelivered after the worker died holding one"
    survivor_done = survivor.metric("grayscale_process_seconds_count")
    assert survivor_done >= 1, "the surviving worker processed nothing"


def check_done_exactly_once(server, ids):
    status, _, body = server.get("/metrics")
    text = body.decode()
    done = metric_value(text, "frontend_processed_total", 'op="grayscale",status="done"')
    failed = metric_value(text, "frontend_processed_total", 'op="grayscale",status="failed"')
    assert done == len(ids), f"frontend recorded {done} done jobs for {len(ids)} accepted"
    assert failed == 0, f"frontend recorded {failed} failed jobs"


def check_worker_stops_cleanly(workers):
    survivor = workers[1]
    assert survivor.health() == 200, "the surviving worker's /healthz is not 200"
    exit_code = survivor.stop()
    assert exit_code == 0, f"imgbus worker exited with {exit_code} after SIGTERM"
    assert "imgbus worker stopped" in survivor.log(), survivor.log()[-2000:]


def main():
    imgbus_server.require_environment()
    checks = Checks()
    server = Server("--workers", "0").start()
    workers = []
    try:
        workers = start_workers(server)
        ids = upload_jobs(server, UPLOADS, RUNS, PASSES)
        checks.run("a worker killed mid-job: every job done, results correct",
                   check_kill_mid_job, server, workers, ids)
        checks.run("the frontend records each job done exactly once",
                   check_done_exactly_once, server, ids)
        checks.run("SIGTERM stops a worker with exit code 0", check_worker_stops_cleanly, workers)
    finally:
        if checks.failed:
            print(server.log()[-4000:])
            for worker in workers:
                print(worker.log()[-4000:])
        for worker in workers:
            worker.cleanup()
        server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
