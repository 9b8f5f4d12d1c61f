# SPDX-License-Identifier: MIT
"""`imgbus serve --bucket NAME`: uploads, results and job records go to that bucket, as the aws
cli lists them through the serve's S3 API, an `imgbus worker` without any bucket setting processes
the jobs (their messages name the bucket), and the results are served. A name that S3 would
reject stops the serve with a message naming the value, given as a flag or as IMGBUS_BUCKET.
"""
import os
import subprocess
import tempfile

import imgbus_server
import s3_tools
from imgbus_server import IMGBUS_BIN, Checks, Server
from worker_harness import Worker, amqp_port_of, check_gray_results, upload_jobs

BUCKET = "imgbus-other.e2e"


def check_jobs_done(server, ids):
    jobs = server.wait_for_jobs(ids, timeout=60)
    check_gray_results(server, jobs)


def check_objects_in_bucket(server, ids):
    tools = s3_tools.Tools(server)
    buckets = tools.aws("s3api", "list-buckets").stdout.decode()
    assert f'"Name": "{BUCKET}"' in buckets, f"bucket {BUCKET} not listed:\n{buckets}"
    assert '"Name": "imgbus"' not in buckets, f"the default bucket was created:\n{buckets}"
    listing = tools.aws("s3", "ls", "--recursive", f"s3://{BUCKET}").stdout.decode()
    keys = [line.split()[-1] for line in listing.splitlines()]
    assert any(key.startswith("uploads/") for key in keys), f"no upload in {BUCKET}:\n{listing}"
    results = [key for key in keys if key.startswith("processed/")]
    assert len(results) == len(ids), f"{len(results)} results in {BUCKET} for {len(ids)} jobs"
    for job_id in ids:
        assert f"jobs/{job_id}.json" in keys, f"no record of job {job_id} in {BUCKET}"


def rejected(args, env_extra, bad_value):
    with tempfile.TemporaryDirectory(prefix="imgbus-e2e-") as data_dir:
        result = subprocess.run(
            [IMGBUS_BIN, "serve", "--data-dir", data_dir, "--http", "127.0.0.1:0", "--s3",
             "127.0.0.1:0", "--amqp", "127.0.0.1:0", *args],
            capture_output=True, env=dict(os.environ, **env_extra), timeout=20)
    output = (result.stdout + result.stderr).decode(errors="replace")
    assert result.returncode != 0, f"imgbus serve started with bucket {bad_value!r}:\n{output}"
    assert f"--bucket: invalid bucket name '{bad_value}'" in output, output
    assert "lowercase letters" in output, f"the rejection gives no fix:\n{output}"


def check_bad_names_rejected():
    rejected(["--bucket", "Upper_Case"], {}, "Upper_Case")
    rejected([], {"IMGBUS_BUCKET": "ab"}, "ab")


def main():
    imgbus_server.require_environment()
    checks = Checks()
    checks.run("invalid bucket name rejected", check_bad_names_rejected)
    server = Server("--workers", "0", "--bucket", BUCKET).start()
    worker = None
    try:
        worker = Worker(f"amqp://127.0.0.1:{amqp_port_of(server)}/%2F", server.s3_url,
                        server.access_key, server.secret_key).start()
        ids = upload_jobs(server, 2, 2, 1)
        checks.run("jobs finish and their results are served", check_jobs_done, server, ids)
        checks.run(f"uploads, results and records are in {BUCKET}", check_objects_in_bucket,
                   server, ids)
    finally:
        if checks.failed:
            print(server.log()[-3000:])
            if worker:
                print(worker.log()[-3000:])
        if worker:
            worker.cleanup()
        server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
