# SPDX-License-Identifier: MIT
"""The S3 client: a second `imgbus serve --store http://...` keeps its uploads and results in
the first server's S3 API instead of its own store, and processes a job through it."""
import os

import imgbus_server
from imgbus_server import Checks, Server
from s3_tools import boto3_client


def check_job_through_remote_store(backend, frontend):
    source = os.path.join(imgbus_server.TEST_DATA, "test.jpg")
    status, _, body = frontend.upload(source, threads="1")
    assert status == 202, body
    job_id = body["jobs"][0]["id"]
    job = frontend.wait_for_jobs([job_id])[job_id]
    assert job["status"] == "done", job

    s3 = boto3_client(backend)
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="imgbus"):
        keys += [item["Key"] for item in page.get("Contents", [])]
    assert any(key.startswith("uploads/") for key in keys), keys
    # The empty object that marks a batch as queued, written with an empty PUT.
    assert f"uploads/{body['batch']}/published" in keys, keys
    processed = [key for key in keys if key.startswith("processed/")]
    assert len(processed) == 1, keys
    status, _, result = frontend.get(f"/api/jobs/{job_id}/result")
    assert status == 200, status
    stored = s3.get_object(Bucket="imgbus", Key=processed[0])["Body"].read()
    assert stored == result, "the result served by the frontend differs from the stored object"
    with open(source, "rb") as file:
        original = file.read()
    uploaded = [key for key in keys if key.startswith("uploads/")][0]
    assert s3.get_object(Bucket="imgbus", Key=uploaded)["Body"].read() == original


def check_wrong_credentials_fail(backend):
    bad = Server("--workers", "0", "--store", backend.s3_url, "--access-key", "nobody",
                 "--secret-key", "wrong")
    try:
        bad.start(timeout=15)
        status, _, _ = bad.get("/readyz")
        uploaded, _, _ = bad.upload(os.path.join(imgbus_server.TEST_DATA, "test.jpg"))
        assert uploaded != 202, "an upload was accepted by a store that rejects the credentials"
    except AssertionError as error:
        # Refusing to start is also correct; the log must name the S3 error.
        assert "InvalidAccessKeyId" in str(error) or "failed" in str(error), str(error)[-500:]
    finally:
        bad.cleanup()


def main():
    imgbus_server.require_environment()
    os.environ.setdefault("IMGBUS_AMQP", "127.0.0.1:0")  # the AMQP listener's port, where built
    backend = Server("--workers", "0", "--fsync", "false").start()
    frontend = Server("--workers", "1", "--store", backend.s3_url, "--access-key",
                      backend.access_key, "--secret-key", backend.secret_key).start()
    checks = Checks()
    try:
        checks.run("job runs with its data in another imgbus", check_job_through_remote_store,
                   backend, frontend)
        checks.run("wrong credentials are reported", check_wrong_credentials_fail, backend)
    finally:
        frontend.cleanup()
        backend.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
