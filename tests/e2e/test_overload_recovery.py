# SPDX-License-Identifier: MIT
"""Back-pressure and crash recovery of a real server: a full job queue returns 503 with
Retry-After, a burst of uploads never gets anything but 202 or 503, and jobs accepted before a
kill -9 finish after a restart on the same data directory."""
import os
import time
from concurrent.futures import ThreadPoolExecutor

import imgbus_server
from imgbus_server import Checks, Server

JPEG = None


def check_full_queue_answers_503(server):
    status, _, body = server.upload(JPEG, threads="1,2")
    assert status == 202, body
    status, headers, body = server.upload(JPEG, threads="1,2")
    assert status == 503, f"a second upload into a queue of 3 answered {status}: {body}"
    assert int(headers.get("retry-after", "0")) >= 1, f"no Retry-After: {headers}"
    assert "queue" in body["message"], body
    status, _, body = server.upload(JPEG, threads="1")
    assert status == 202, f"one job still fits the queue, but the upload answered {status}: {body}"
    text = server.get("/metrics")[2].decode()
    assert 'frontend_rejected_total{reason="queue_full"} 1' in text, \
        "frontend_rejected_total did not count the 503"
    queue = next(q for q in server.get_json("/api/ui/queues") if q["name"] == "imgbus.jobs")
    assert queue["messages_ready"] == 3, queue


def check_queued_jobs_survive_kill(server):
    accepted = [job["id"] for batch in server.batches for job in batch]
    server.kill()
    restarted = Server("--workers", "1", data_dir=server.data_dir).start()
    try:
        jobs = restarted.wait_for_jobs(accepted, timeout=120)
        assert all(job["status"] == "done" for job in jobs.values()), jobs
        for job_id in accepted:
            status, _, _ = restarted.get(f"/api/jobs/{job_id}/result")
            assert status == 200, f"no result for recovered job {job_id}"
    finally:
        restarted.cleanup()


def check_job_in_progress_survives_kill():
    # Enough kernel passes that the job is still running when the test reads "processing".
    server = Server("--workers", "1", "--max-passes", "4000").start()
    try:
        status, _, body = server.upload(JPEG, threads="1", passes=4000)
        assert status == 202, body
        job_id = body["jobs"][0]["id"]
        deadline = time.monotonic() + 30
        while server.get_json(f"/api/jobs/{job_id}")["status"] != "processing":
            assert time.monotonic() < deadline, "the job never started processing"
            time.sleep(0.05)
        server.kill()
        restarted = Server("--workers", "1", "--max-passes", "4000",
                           data_dir=server.data_dir).start()
        try:
            job = restarted.wait_for_jobs([job_id], timeout=180)[job_id]
            assert job["status"] == "done", job
        finally:
            restarted.cleanup()
    finally:
        server.cleanup()


def check_burst_gets_202_or_503():
    server = Server("--workers", "1", "--queue-max-length", "5").start()
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(lambda _: server.upload(JPEG, threads="1"), range(48)))
        statuses = [status for status, _, _ in answers]
        assert set(statuses) <= {202, 503}, f"unexpected statuses {sorted(set(statuses))}"
        assert 202 in statuses, f"no upload was accepted: {statuses}"
        assert 503 in statuses, f"no upload was rejected: {statuses}"
        accepted = [body["jobs"][0]["id"] for status, _, body in answers if status == 202]
        jobs = server.wait_for_jobs(accepted, timeout=120)
        assert all(job["status"] == "done" for job in jobs.values())
        print(f"    {len(accepted)} accepted, {statuses.count(503)} refused with 503")
    finally:
        server.cleanup()


class RecordingServer(Server):
    """Remembers the jobs of every accepted upload."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.batches = []

    def upload(self, *args, **kwargs):
        status, headers, body = super().upload(*args, **kwargs)
        if status == 202:
            self.batches.append(body["jobs"])
        return status, headers, body


def main():
    global JPEG
    imgbus_server.require_environment()
    JPEG = os.path.join(imgbus_server.TEST_DATA, "test.jpg")
    checks = Checks()
    server = RecordingServer("--workers", "0", "--queue-max-length", "3").start()
    try:
        checks.run("full queue answers 503 with Retry-After", check_full_queue_answers_503, server)
        checks.run("queued jobs survive kill -9", check_queued_jobs_survive_kill, server)
    finally:
        if checks.failed:
            print(server.log()[-6000:])
        server.cleanup()
    checks.run("job in progress survives kill -9", check_job_in_progress_survives_kill)
    checks.run("burst of uploads gets 202 or 503", check_burst_gets_202_or_503)
    checks.finish()


if __name__ == "__main__":
    main()
