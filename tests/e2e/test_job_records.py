# SPDX-License-Identifier: MIT
"""Job records end to end: GET /api/jobs and GET /api/jobs/{id} show a pipeline's steps; a record
that is corrupt on disk shows its job as failed after a restart instead of 404; and with a tiny
--job-retention the sweep deletes finished jobs (record, result, input) but keeps a queued one."""
import json
import os
import time

import imgbus_server
from imgbus_server import Checks, Server
from s3_tools import boto3_client

PIPELINE = "resize:width=8,grayscale"
CORRUPT_ID = "0123456789abcdef0123456789abcdef"
RETENTION_SECONDS = 3

state = {}


def get_json(server, path):
    status, _, body = server.get(path)
    return status, json.loads(body) if body else None


def check_pipeline_steps(server):
    status, _, body = server.upload(os.path.join(imgbus_server.TEST_DATA, "test.jpg"),
                                    op=PIPELINE)
    assert status == 202, body
    job_id = body["jobs"][0]["id"]
    state["done_job"] = job_id
    state["batch"] = body["batch"]
    job = server.wait_for_jobs([job_id])[job_id]
    assert job["status"] == "done", job
    expected = [{"op": "resize", "params": {"width": "8"}}, {"op": "grayscale", "params": {}}]
    assert job["op"] == "pipeline", job
    assert job["steps"] == expected, job
    listed = server.get_json("/api/jobs")
    mine = [item for item in listed["jobs"] if item["id"] == job_id]
    assert len(mine) == 1, listed
    assert mine[0]["steps"] == expected, mine
    assert listed["count"] == len(listed["jobs"]), listed
    done = server.get_json("/api/jobs?status=done&limit=1")
    assert [item["id"] for item in done["jobs"]] == [job_id], done
    assert server.get_json("/api/jobs?status=queued")["jobs"] == [], "no job is queued"
    for bad in ("limit=0", "limit=x", "status=lost"):
        status, body = get_json(server, f"/api/jobs?{bad}")
        assert status == 400, (bad, status, body)
        assert body["error"] == "bad_request", (bad, body)


def store_keys(server):
    client = boto3_client(server)
    listed = client.list_objects_v2(Bucket="imgbus")
    return {item["Key"] for item in listed.get("Contents", [])}


def plant_corrupt_record(server):
    client = boto3_client(server)
    client.put_object(Bucket="imgbus", Key=f"jobs/{CORRUPT_ID}.json", Body=b'{"record_ver')
    keys = store_keys(server)
    job = state["done_job"]
    state["job_keys"] = {key for key in keys if job in key or state["batch"] in key}
    assert f"jobs/{job}.json" in state["job_keys"], keys
    assert any(key.startswith("processed/") for key in state["job_keys"]), keys
    assert any(key.startswith(f"uploads/{state['batch']}/input") for key in keys), keys


def check_corrupt_record_shown_failed(server):
    status, job = get_json(server, f"/api/jobs/{CORRUPT_ID}")
    assert status == 200, f"a job with an unreadable record answered {status}: {job}"
    assert job["status"] == "failed", job
    assert "could not be read" in job["error"], job
    assert f"jobs/{CORRUPT_ID}.json" in job["error"], job
    assert f"job record jobs/{CORRUPT_ID}.json: unreadable" in server.log(), server.log()


def check_retention_sweep(server):
    # Queued forever: this server has no workers. Its age passes the retention below.
    status, _, body = server.upload(os.path.join(imgbus_server.TEST_DATA, "test.jpg"))
    assert status == 202, body
    queued = body["jobs"][0]["id"]
    deadline = time.monotonic() + 30
    done_job = state["done_job"]
    while time.monotonic() < deadline:
        gone = [get_json(server, f"/api/jobs/{job}")[0] for job in (done_job, CORRUPT_ID)]
        if gone == [404, 404]:
            break
        time.sleep(0.5)
    assert gone == [404, 404], f"finished jobs still answer {gone} after the retention"
    left = store_keys(server)
    assert not (state["job_keys"] & left), f"not deleted: {state['job_keys'] & left}"
    assert f"jobs/{CORRUPT_ID}.json" not in left, left
    assert "job retention: deleted" in server.log(), server.log()
    time.sleep(RETENTION_SECONDS + 2)  # the queued job is now older than the retention
    status, job = get_json(server, f"/api/jobs/{queued}")
    assert status == 200, (status, job)
    assert job["status"] == "queued", job
    assert f"jobs/{queued}.json" in store_keys(server), "the queued job's record was deleted"


def check_retention_flag_errors():
    bad = Server("--job-retention", "7 days")
    try:
        try:
            bad.start(timeout=5)
        except AssertionError as error:
            message = str(error)
        else:
            raise AssertionError("imgbus serve started with --job-retention '7 days'")
        assert "--job-retention" in message, message
        assert "7d" in message, message
    finally:
        bad.cleanup()


def main():
    imgbus_server.require_environment()
    checks = Checks()
    servers = [Server("--workers", "1", "--job-retention", "0")]
    data_dir = servers[0].data_dir

    def restart(*args):
        assert servers[-1].stop() == 0, servers[-1].log()
        servers.append(Server(*args, data_dir=data_dir))
        return servers[-1].start()

    try:
        first = servers[0].start()
        checks.run("jobs list and job show a pipeline's steps", check_pipeline_steps, first)
        checks.run("a corrupt record is planted through S3", plant_corrupt_record, first)
        # No retention here, so that the sweep cannot delete the record before it is read.
        second = restart("--workers", "0", "--job-retention", "0")
        checks.run("a corrupt record shows its job failed", check_corrupt_record_shown_failed,
                   second)
        third = restart("--workers", "0", "--job-retention", f"{RETENTION_SECONDS}s")
        checks.run("the retention sweep deletes finished jobs only", check_retention_sweep,
                   third)
        checks.run("a bad --job-retention names the flag", check_retention_flag_errors)
    finally:
        for server in reversed(servers):
            server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
