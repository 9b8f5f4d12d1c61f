# SPDX-License-Identifier: MIT
"""A job message published by hand may aim its output key out of its folder with ".." segments,
as in "zz/../../imgbus/jobs/ID.json". It must not overwrite another object. The S3 client sends
the key as written and the store refuses it, so the job fails and the record stays unchanged.
"""
import json
import os

import pika

import imgbus_server
from amqp_harness import pika_parameters
from imgbus_server import Checks, Server
from s3_tools import boto3_client
from worker_harness import Worker, amqp_port_of, wait_until


def publish_job(server, message):
    connection = pika.BlockingConnection(pika_parameters(
        amqp_port_of(server), user=server.access_key, password=server.secret_key))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish("", "imgbus.jobs", json.dumps(message).encode(),
                              pika.BasicProperties(delivery_mode=2,
                                                   content_type="application/json"))
    finally:
        connection.close()


def check_escape_refused(server, worker):
    source = os.path.join(imgbus_server.TEST_DATA, "test.jpg")
    status, _, body = server.upload(source)
    assert status == 202, f"upload answered {status}: {body}"
    victim = body["jobs"][0]["id"]
    assert server.wait_for_jobs([victim], timeout=60)[victim]["status"] == "done"
    s3 = boto3_client(server)
    record_key = f"jobs/{victim}.json"
    before = s3.get_object(Bucket="imgbus", Key=record_key)["Body"].read()
    json.loads(before)  # a job record, not an image

    failures_before = worker.metric("grayscale_failures_total", 'reason="store"')
    publish_job(server, {
        "version": 1, "id": "escape-1", "op": "grayscale", "params": {}, "threads": 1,
        "input": {"bucket": "imgbus", "key": f"uploads/{body['batch']}/input.jpg"},
        "output": {"bucket": "imgbus", "key": f"zz/../../imgbus/{record_key}"}})
    wait_until(lambda: worker.metric("grayscale_failures_total", 'reason="store"')
               > failures_before, 60, "the worker failing to store the escaping job")

    after = s3.get_object(Bucket="imgbus", Key=record_key)["Body"].read()
    assert after == before, "the job record was overwritten through a '..' key"
    assert "escape-1" in worker.log(), "the worker log does not name the failed job"


def main():
    imgbus_server.require_environment()
    checks = Checks()
    server = Server("--workers", "0").start()
    worker = None
    try:
        store = f"http://127.0.0.1:{server.s3_port}"
        worker = Worker(f"amqp://127.0.0.1:{amqp_port_of(server)}/%2F", store,
                        server.access_key, server.secret_key, "--max-attempts", "1").start()
        checks.run("a '..' output key is refused, not resolved", check_escape_refused,
                   server, worker)
    finally:
        if checks.failed:
            print(server.log()[-4000:])
            if worker:
                print(worker.log()[-4000:])
        if worker:
            worker.cleanup()
        server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
