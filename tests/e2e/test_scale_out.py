# SPDX-License-Identifier: MIT
"""End to end: imgbus scaled out over processes, with faults injected while jobs run.

RabbitMQ: Debian's rabbitmq-server as the broker, an `imgbus serve` as the S3 store only, an
`imgbus serve --workers 0 --broker amqp://... --store http://...` as the frontend and two
`imgbus worker` processes. 50 jobs go through the frontend while one worker is killed with
SIGKILL in the middle of a job and RabbitMQ is stopped and started again. Every job must end done
exactly once in the frontend with a correct result object, and the surviving worker must count
its reconnects.

imgbus broker: an `imgbus serve --workers 0` is frontend and broker (an imgbus serve always runs
a frontend that consumes imgbus.events, so it cannot be a broker for another frontend), with its
objects in a second `imgbus serve`, and two workers. It is stopped and started again on the same
data directory and ports while 20 jobs run. test_worker_scale_out.py covers a worker killed under
an imgbus broker.
"""
import io
import json
import os
import re
import subprocess
import tempfile
import threading
import urllib.request

from PIL import Image

import imgbus_server
from imgbus_server import Checks, Server, free_port, require_environment
from rabbitmq_harness import RabbitMQ
from worker_harness import Worker, metric_value, upload_jobs, wait_until

ACCESS_KEY = "scale-out-test"
SECRET_KEY = "scale-out-secret-0123456789"
PASSES = 100  # tens of milliseconds of kernel per job, so that a worker is caught mid-job
RUNS_PER_UPLOAD = 10


class EventStream:
    """A reader of the frontend's /api/events in a thread that counts each job's status changes."""

    def __init__(self, server):
        self.counts = {}  # job id -> {status: count}
        self.lock = threading.Lock()
        self.response = urllib.request.urlopen(f"{server.url}/api/events", timeout=300)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if not line.startswith("data:"):
                    continue
                job = json.loads(line[5:])
                with self.lock:
                    statuses = self.counts.setdefault(job["id"], {})
                    statuses[job["status"]] = statuses.get(job["status"], 0) + 1
        except (OSError, ValueError):
            pass  # closed by close() or by the server stopping

    def done_counts(self, job_ids):
        with self.lock:
            return {job_id: self.counts.get(job_id, {}).get("done", 0) for job_id in job_ids}

    def close(self):
        self.response.close()


def store_server():
    return Server("--workers", "0", "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY)


def start_workers(broker_url, store, count=2, **broker_credentials):
    """Start `count` workers with the store key pair in their environment."""
    return [Worker(broker_url, store.s3_url, ACCESS_KEY, SECRET_KEY, **broker_credentials)
            .start(timeout=60) for _ in range(count)]


def count_done(stream, job_ids):
    return sum(1 for count in stream.done_counts(job_ids).values() if count > 0)


def wait_until_done(stream, job_ids, count, timeout=90):
    wait_until(lambda: count_done(stream, job_ids) >= count, timeout,
               f"{count} of {len(job_ids)} jobs done (done: {count_done(stream, job_ids)})")


def kill_mid_job(worker):
    """SIGKILL the worker while it runs a job (imgbus_workers_busy is 1)."""
    wait_until(lambda: worker.metric("imgbus_workers_busy") >= 1, 60, "a worker taking a job")
    worker.kill()


def reference_pixels():
    """Return the pixels of the expected result: `imgbus process` of test.jpg on the whole-image
    path, the one that jobs of more than one pass take."""
    with tempfile.TemporaryDirectory() as folder:
        target = os.path.join(folder, "gray.jpg")
        result = subprocess.run([imgbus_server.IMGBUS_BIN, "process", "--path", "whole-image",
                                 os.path.join(imgbus_server.TEST_DATA, "test.jpg"), target],
                                capture_output=True, timeout=60)
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        with Image.open(target) as image:
            return image.tobytes()


def check_results(frontend, job_ids, reference):
    """Every job is done and its result object decodes to the pixels of `imgbus process`."""
    for job_id in job_ids:
        job = frontend.get_json(f"/api/jobs/{job_id}")
        assert job["status"] == "done", f"job {job_id} is {job['status']}: {job['error']}"
        status, headers, data = frontend.get(f"/api/jobs/{job_id}/result")
        assert status == 200, f"result of job {job_id} answered {status}"
        assert headers["Content-Type"] == "image/jpeg", headers
        with Image.open(io.BytesIO(data)) as result:
            pixels = result.tobytes()
        assert pixels == reference, f"result of job {job_id} differs from imgbus process"


def check_done_events(streams, job_ids, exactly_once):
    """Each job's done event reached the frontend's event streams once (or at most once, when
    a restart closed a stream and may have cut one off)."""
    done = {job_id: sum(stream.done_counts([job_id])[job_id] for stream in streams)
            for job_id in job_ids}
    repeated = {job_id: count for job_id, count in done.items() if count > 1}
    assert not repeated, f"jobs with more than one done event: {repeated}"
    if exactly_once:
        missing = [job_id for job_id, count in done.items() if count == 0]
        assert not missing, f"jobs without a done event: {missing}"


def check_frontend_counts(frontend, job_ids):
    """frontend_processed_total counts each job done once and none failed."""
    text = frontend.get("/metrics")[2].decode()
    done = metric_value(text, "frontend_processed_total", 'op="grayscale",status="done"')
    failed = metric_value(text, "frontend_processed_total", 'op="grayscale",status="failed"')
    assert done == len(job_ids), f"frontend_processed_total done is {done}, not {len(job_ids)}"
    assert failed == 0, f"frontend_processed_total failed is {failed}"


def check_redelivered(frontend, job_ids):
    redelivered = [job_id for job_id in job_ids
                   if frontend.get_json(f"/api/jobs/{job_id}")["redelivered"]]
    assert redelivered, "no job was marked redelivered, yet a worker died in the middle of one"


def check_reconnects(worker):
    attempts = worker.metric("grayscale_reconnect_attempts_total")
    assert attempts > 0, f"grayscale_reconnect_attempts_total is {attempts}"
    assert worker.health() == 200, "the worker's /healthz is not 200 after the broker came back"


def rabbitmq_faults(stream, job_ids, victim, rabbitmq):
    """Kill a worker mid-job after a fifth of the jobs and restart RabbitMQ after half."""
    wait_until_done(stream, job_ids, len(job_ids) // 5)
    kill_mid_job(victim)
    wait_until_done(stream, job_ids, len(job_ids) // 2)
    rabbitmq.stop_node()
    rabbitmq.start(timeout=60)
    wait_until_done(stream, job_ids, len(job_ids))


def rabbitmq_topology(checks, reference):
    rabbitmq, store, frontend, stream, workers = RabbitMQ(), store_server(), None, None, []
    try:
        rabbitmq.start()
        store.start()
        frontend = Server("--workers", "0", "--store", store.s3_url, "--access-key", ACCESS_KEY,
                          "--secret-key", SECRET_KEY, "--broker",
                          f"amqp://guest:guest@127.0.0.1:{rabbitmq.amqp_port}/%2F").start(60)
        stream = EventStream(frontend)
        workers = start_workers(f"amqp://127.0.0.1:{rabbitmq.amqp_port}/%2F", store,
                                broker_user="guest", broker_password="guest")
        job_ids = upload_jobs(frontend, 5, RUNS_PER_UPLOAD, PASSES)
        checks.run("rabbitmq: 50 jobs through a kill and a broker restart", rabbitmq_faults,
                   stream, job_ids, workers[0], rabbitmq)
        checks.run("rabbitmq: results correct", check_results, frontend, job_ids, reference)
        checks.run("rabbitmq: one done event per job", check_done_events, [stream], job_ids,
                   True)
        checks.run("rabbitmq: frontend counts each job once", check_frontend_counts, frontend,
                   job_ids)
        checks.run("rabbitmq: killed worker's job redelivered", check_redelivered, frontend,
                   job_ids)
        checks.run("rabbitmq: survivor counted reconnects", check_reconnects, workers[1])
    finally:
        if checks.failed:
            print_logs(frontend, workers, "rabbitmq", rabbitmq.log())
        stop_all([stream], workers, [frontend, store])
        rabbitmq.stop()


def restart_broker(streams, job_ids, broker):
    """Stop the frontend-and-broker after a fifth of the jobs, start it again on the same data
    directory and AMQP port, follow it with a new event stream and wait for every job."""
    wait_until_done(streams[0], job_ids, len(job_ids) // 5)
    broker.stop()
    broker.log_file.close()
    broker.start()
    streams.append(EventStream(broker))
    wait_until(lambda: all(broker.get_json(f"/api/jobs/{job_id}")["status"] == "done"
                           for job_id in job_ids), 90, "every job done after the restart")


def imgbus_broker_topology(checks, reference):
    store, broker, streams, workers = store_server(), None, [], []
    amqp_port = free_port()
    try:
        store.start()
        broker = Server("--workers", "0", "--amqp", f"127.0.0.1:{amqp_port}", "--store",
                        store.s3_url, "--access-key", ACCESS_KEY, "--secret-key",
                        SECRET_KEY).start()
        streams.append(EventStream(broker))
        workers = start_workers(f"amqp://127.0.0.1:{amqp_port}/%2F", store)
        job_ids = upload_jobs(broker, 2, RUNS_PER_UPLOAD, PASSES)
        checks.run("imgbus broker: 20 jobs through a broker restart", restart_broker, streams,
                   job_ids, broker)
        checks.run("imgbus broker: results correct", check_results, broker, job_ids, reference)
        checks.run("imgbus broker: at most one done event per job", check_done_events, streams,
                   job_ids, False)
        checks.run("imgbus broker: restart did not publish jobs again",
                   check_not_published_again, broker)
        for index, worker in enumerate(workers):
            checks.run(f"imgbus broker: worker {index} counted reconnects", check_reconnects,
                       worker)
    finally:
        if checks.failed:
            print_logs(broker, workers, "store", store.log())
        stop_all(streams, workers, [broker, store])


def check_not_published_again(broker):
    """The restarted frontend left unfinished jobs to the durable job queue, because each batch
    has its published marker in the store."""
    match = re.search(r"recovered \d+ job records; (\d+) unfinished jobs wait in the durable "
                      r"queue, (\d+) were published again", broker.log())
    assert match, "the restarted frontend logged no recovery line"
    assert match.group(2) == "0", f"the restart published jobs again: {match.group(0)}"


def print_logs(frontend, workers, name, other_log):
    if frontend:
        print("--- frontend\n" + frontend.log()[-5000:])
    for index, worker in enumerate(workers):
        print(f"--- worker {index}\n" + worker.log()[-4000:])
    print(f"--- {name}\n" + other_log[-4000:])


def stop_all(streams, workers, servers):
    for stream in streams:
        if stream:
            stream.close()
    for worker in workers:
        worker.cleanup()  # SIGTERM, or nothing for a killed worker
    for server in servers:
        if server and server.process:
            server.cleanup()


def main():
    require_environment()
    checks = Checks()
    reference = reference_pixels()
    rabbitmq_topology(checks, reference)
    imgbus_broker_topology(checks, reference)
    checks.finish()


if __name__ == "__main__":
    main()
