#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Throughput and CPU cost per job of `imgbus worker` and of the Python example worker.

For each worker kind and process count it starts a fresh `imgbus serve --workers 0` on free
loopback ports, starts the workers against its AMQP and S3 listeners, uploads tests/data/test.jpg
as --jobs grayscale jobs and waits until every job is done. It prints a Markdown table: jobs a
second from the first upload to the last done job, the mean of the workers' process time per job
(from the job timings) and the workers' CPU time (user + system, from /proc) per job.

    /usr/bin/python3 bench/worker_throughput.py --imgbus build/imgbus --jobs 40
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON_WORKER = os.path.join(ROOT, "docs", "examples", "python_worker.py")
RUNS_PER_UPLOAD = 10


def cpu_seconds(pid):
    """Return the user + system CPU time of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_imgbus_workers(server, count):
    broker = f"amqp://127.0.0.1:{server.amqp_port}/%2F"
    workers = [Worker(broker, server.s3_url, USER, PASSWORD).start() for _ in range(count)]
    return [worker.process for worker in workers], workers


def start_python_workers(server, count):
    env = dict(os.environ, IMGBUS_BROKER=f"amqp://127.0.0.1:{server.amqp_port}/%2F",
               IMGBUS_BROKER_USER=USER, IMGBUS_BROKER_PASSWORD=PASSWORD,
               IMGBUS_STORE=server.s3_url, IMGBUS_ACCESS_KEY=USER, IMGBUS_SECRET_KEY=PASSWORD,
               AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    processes = [subprocess.Popen(["/usr/bin/python3", PYTHON_WORKER], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for _ in range(count)]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        queues = {queue["name"]: queue for queue in server.get_json("/api/ui/queues")}
        if queues["imgbus.jobs"]["consumers"] >= count:
            break
        time.sleep(0.1)
    return processes, []


def measure(kind, count, jobs):
    server = AmqpServer().start()
    processes, workers = [], []
    try:
        start = start_imgbus_workers if kind == "imgbus worker" else start_python_workers
        processes, workers = start(server, count)
        cpu_before = sum(cpu_seconds(process.pid) for process in processes)
        source = os.path.join(imgbus_server.TEST_DATA, "test.jpg")
        began = time.monotonic()
        ids = []
        while len(ids) < jobs:
            status, _, body = server.upload(source, runs=min(RUNS_PER_UPLOAD, jobs - len(ids)))
            assert status == 202, body
            ids += [job["id"] for job in body["jobs"]]
        finished = server.wait_for_jobs(ids, timeout=600)
        elapsed = time.monotonic() - began
        cpu = sum(cpu_seconds(process.pid) for process in processes) - cpu_before
        failed = [job["id"] for job in finished.values() if job["status"] != "done"]
        assert not failed, f"{len(failed)} jobs failed"
        process_ms = statistics.mean(job["timings"]["process_ms"] for job in finished.values())
        return jobs / elapsed, process_ms, cpu / jobs * 1000
    finally:
        for worker in workers:
            worker.cleanup()
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(30)
        server.cleanup()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--imgbus", required=True, help="path of the imgbus binary")
    parser.add_argument("--jobs", type=int, default=40, help="jobs per configuration")
    arguments = parser.parse_args()
    # The test helpers read these when they are imported.
    os.environ["IMGBUS_BIN"] = os.path.abspath(arguments.imgbus)
    os.environ["IMGBUS_TEST_DATA"] = os.path.join(ROOT, "tests", "data")
    sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
    global imgbus_server, PASSWORD, USER, AmqpServer, Worker
    import imgbus_server
    from amqp_harness import PASSWORD, USER, AmqpServer
    from worker_harness import Worker

    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print("| worker | processes | jobs/s | process ms per job (mean) | worker CPU ms per job |")
    print("| --- | --- | --- | --- | --- |")
    for count in (1, 2):
        for kind in ("imgbus worker", "python worker"):
            rate, process_ms, cpu_ms = measure(kind, count, arguments.jobs)
            print(f"| {kind} | {count} | {rate:.1f} | {process_ms:.1f} | {cpu_ms:.1f} |",
                  flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
