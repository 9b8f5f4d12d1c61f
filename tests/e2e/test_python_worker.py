# SPDX-License-Identifier: MIT
"""End to end: the example worker docs/examples/python_worker.py (pika, boto3, Pillow) joins an
`imgbus serve --workers 0` over its AMQP and S3 listeners and completes the frontend's jobs, and
then a frontend on Debian's RabbitMQ."""
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import pika
from PIL import Image

import imgbus_server
from amqp_harness import PASSWORD, USER, AmqpServer, pika_parameters
from imgbus_server import Checks, Server, free_port, image_shape, require_environment
from rabbitmq_harness import RabbitMQ

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                      "examples", "python_worker.py")


class PythonWorker:
    """The example worker as a child process, configured through the environment only."""

    def __init__(self, server, log_dir, store_url=None, extra_args=(), broker=None):
        """`broker` is (URL, user, password); the default is the server's AMQP listener."""
        broker_url, user, password = broker or (f"amqp://127.0.0.1:{server.amqp_port}/%2F",
                                                USER, PASSWORD)
        self.log_path = os.path.join(log_dir, f"python-worker-{time.time_ns()}.log")
        env = dict(os.environ)
        env.update({
            "IMGBUS_BROKER": broker_url,
            "IMGBUS_BROKER_USER": user,
            "IMGBUS_BROKER_PASSWORD": password,
            "IMGBUS_STORE": store_url or server.s3_url,
            "IMGBUS_ACCESS_KEY": server.access_key or USER,
            "IMGBUS_SECRET_KEY": server.secret_key or PASSWORD,
            # Keep botocore away from any other credential source or the metadata service.
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        })
        self.log_file = open(self.log_path, "w")
        self.process = subprocess.Popen([sys.executable, WORKER, "--prefetch", "2",
                                         "--name", "test/python/w0", *extra_args],
                                        env=env, stdout=self.log_file, stderr=subprocess.STDOUT)

    def log(self):
        self.log_file.flush()
        with open(self.log_path, errors="replace") as log:
            return log.read()

    def wait_for_log(self, text, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited with {self.process.returncode}:\n"
                                     + self.log())
            time.sleep(0.1)
        raise AssertionError(f"the worker did not log {text!r} in {timeout} s:\n" + self.log())

    def stop(self, timeout=15):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"the worker ignored SIGTERM for {timeout} s:\n" + self.log())
        return self.process.returncode


def result_image(server, job):
    status, headers, data = server.get(job["result_url"])
    assert status == 200, f"GET {job['result_url']} answered {status}"
    return headers["Content-Type"], data


def luma(red, green, blue):
    """BT.601 in 8.8 fixed point, as docs/imaging.md defines imgbus's grayscale."""
    return (77 * red + 150 * green + 29 * blue + 128) >> 8


def reference_pixels():
    with Image.open(os.path.join(imgbus_server.TEST_DATA, "test_gray.png")) as reference:
        return reference.convert("L").tobytes()


def level_differences(pixels, reference):
    assert len(pixels) == len(reference), f"{len(pixels)} pixels, expected {len(reference)}"
    return [abs(a - b) for a, b in zip(pixels, reference)]


def wait_for_job_queue(server, field, value, timeout=10):
    """Poll the queue list until imgbus.jobs has `field` equal to `value`; return the queue."""
    deadline = time.monotonic() + timeout
    while True:
        queues = server.get_json("/api/ui/queues")
        jobs_queue = next(queue for queue in queues if queue["name"] == "imgbus.jobs")
        if jobs_queue[field] == value or time.monotonic() > deadline:
            return jobs_queue
        time.sleep(0.1)


def check_jpeg_jobs_done(server, worker):
    source = os.path.join(imgbus_server.TEST_DATA, "test.jpg")
    status, _, body = server.upload(source, runs=3)
    assert status == 202, f"upload answered {status}: {body}"
    jobs = server.wait_for_jobs([job["id"] for job in body["jobs"]])
    reference = reference_pixels()
    for job in jobs.values():
        assert job["status"] == "done", f"job {job['id']} ended {job['status']}: {job['error']}"
        assert (job["width"], job["height"]) == (1920, 1080), job
        timings = job["timings"]
        for stage in ("fetch_ms", "decode_ms", "kernel_ms", "encode_ms", "store_ms"):
            assert timings[stage] > 0, f"{stage} missing from the done event: {timings}"
        assert timings["process_ms"] >= timings["decode_ms"], timings
        content_type, data = result_image(server, job)
        assert content_type == "image/jpeg", content_type
        assert image_shape(data) == ("jpeg", 1920, 1080, 1), image_shape(data)
        with Image.open(io.BytesIO(data)) as result:
            differences = level_differences(result.tobytes(), reference)
        # Encoding at JPEG quality 90 moves single pixels by several levels, so the check is on
        # the mean and the share within 5 levels. BT.709 weights give a mean of 3.0 here.
        mean = sum(differences) / len(differences)
        within = sum(1 for d in differences if d <= 5) / len(differences)
        assert mean < 1.5, f"mean difference {mean:.2f} levels from test_gray.png"
        assert within > 0.99, f"only {within:.2%} of pixels within 5 levels of test_gray.png"


def imgbus_process(source, target):
    """Convert an image with `imgbus process`, imgbus's own decoder, kernel and encoder."""
    result = subprocess.run([imgbus_server.IMGBUS_BIN, "process", source, target],
                            capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode(errors="replace")


def check_png_pixels_exact(server, worker):
    """A lossless RGB input gives the same pixels as `imgbus process` and as the BT.601 formula,
    and stays close to test_gray.png."""
    with Image.open(os.path.join(imgbus_server.TEST_DATA, "test.jpg")) as photo:
        rgb = photo.convert("RGB")
    with tempfile.TemporaryDirectory() as folder:
        source, expected = os.path.join(folder, "rgb.png"), os.path.join(folder, "gray.png")
        rgb.save(source, "PNG", compress_level=1)
        imgbus_process(source, expected)
        with Image.open(expected) as reference:
            expected_pixels = reference.tobytes()
        status, _, body = server.upload(source, raw=True)
    assert status == 202, f"upload answered {status}: {body}"
    jobs = server.wait_for_jobs([job["id"] for job in body["jobs"]])
    job = next(iter(jobs.values()))
    assert job["status"] == "done", f"job {job['id']} ended {job['status']}: {job['error']}"
    content_type, data = result_image(server, job)
    assert content_type == "image/png", content_type
    with Image.open(io.BytesIO(data)) as result:
        assert result.mode == "L", f"result mode {result.mode}, expected one gray channel"
        pixels = result.tobytes()
    mismatches = sum(1 for a, b in zip(pixels, expected_pixels) if a != b)
    assert len(pixels) == len(expected_pixels), f"{len(pixels)} pixels from the worker"
    assert mismatches == 0, f"{mismatches} pixels differ from `imgbus process`"

    source_bytes = rgb.tobytes()
    for index in range(0, len(pixels), 997):
        red, green, blue = source_bytes[3 * index:3 * index + 3]
        assert pixels[index] == luma(red, green, blue), \
            f"pixel {index}: {pixels[index]}, BT.601 gives {luma(red, green, blue)}"

    # imgbus's own result differs from test_gray.png by up to 3 levels, in 5 of its 2,073,600
    # pixels, so the reference is close but not exact.
    differences = level_differences(pixels, reference_pixels())
    within = sum(1 for d in differences if d <= 2) / len(differences)
    assert max(differences) <= 3, f"a pixel is {max(differences)} levels from test_gray.png"
    assert within > 0.999, f"only {within:.3%} of pixels within 2 levels of test_gray.png"


def check_unsupported_op_failed(server, worker):
    source = os.path.join(imgbus_server.TEST_DATA, "hostile", "17x17-420.jpg")
    status, _, body = server.upload(source, op="invert")
    assert status == 202, f"upload answered {status}: {body}"
    job = next(iter(server.wait_for_jobs([job["id"] for job in body["jobs"]]).values()))
    assert job["status"] == "failed", f"an invert job ended {job['status']}"
    assert job["error"].startswith("operation failed: "), job["error"]
    assert "only op 'grayscale'" in job["error"], job["error"]
    assert "'invert'" in job["error"], job["error"]


def check_newer_version_rejected(server, worker):
    """A job message of protocol version 2 is rejected without requeue and not processed."""
    body = (b'{"version": 2, "id": "j-python-v2", "op": "grayscale", '
            b'"input": {"bucket": "imgbus", "key": "missing.jpg"}, '
            b'"output": {"bucket": "imgbus", "key": "never.jpg"}}')
    with pika.BlockingConnection(pika_parameters(server.amqp_port)) as connection:
        channel = connection.channel()
        channel.basic_publish("", "imgbus.jobs", body,
                              pika.BasicProperties(content_type="application/json",
                                                   delivery_mode=2))
    worker.wait_for_log("job j-python-v2: message rejected: protocol version 2")
    jobs_queue = wait_for_job_queue(server, "messages", 0)
    assert jobs_queue["messages"] == 0, f"imgbus.jobs still holds the message: {jobs_queue}"


def check_killed_worker_jobs_redelivered(server, worker):
    """Jobs delivered to a worker that dies before acknowledging them go to the next worker,
    which marks them redelivered."""
    try:
        worker.wait_for_log("consuming imgbus.jobs")
        os.kill(worker.process.pid, signal.SIGSTOP)  # deliveries reach it but are not processed
        source = os.path.join(imgbus_server.TEST_DATA, "hostile", "17x17-420.jpg")
        status, _, body = server.upload(source, runs=2)
        assert status == 202, f"upload answered {status}: {body}"
        ids = [job["id"] for job in body["jobs"]]
        jobs_queue = wait_for_job_queue(server, "messages_unacknowledged", 2)
        assert jobs_queue["messages_unacknowledged"] == 2, \
            f"the jobs were not delivered to the stopped worker: {jobs_queue}"
    finally:
        worker.process.kill()  # SIGKILL also ends a stopped process
        worker.process.wait()

    successor = PythonWorker(server, server.data_dir)
    try:
        successor.wait_for_log("consuming imgbus.jobs")
        for job in server.wait_for_jobs(ids).values():
            assert job["status"] == "done", f"job {job['id']} ended {job['status']}: {job['error']}"
            assert job["redelivered"], f"job {job['id']} was not marked redelivered"
    finally:
        successor.stop()


def check_unreachable_store_dead_lettered(server):
    """A job whose store cannot be reached is tried --max-attempts times, then goes to
    imgbus.jobs.dead with its try count and error, and ends failed saying so."""
    unreachable = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    worker = PythonWorker(server, server.data_dir, store_url=unreachable,
                          extra_args=("--max-attempts", "2"))
    try:
        worker.wait_for_log("consuming imgbus.jobs")
        source = os.path.join(imgbus_server.TEST_DATA, "hostile", "17x17-420.jpg")
        status, _, body = server.upload(source)
        assert status == 202, f"upload answered {status}: {body}"
        job_id = body["jobs"][0]["id"]
        job = server.wait_for_jobs([job_id], timeout=60)[job_id]
    finally:
        worker.stop()
    assert job["status"] == "failed", f"job ended {job['status']}"
    assert job["error"].startswith("fetch failed: "), job["error"]
    assert job["error"].endswith("(failed on all 2 tries; the job is in imgbus.jobs.dead)"), \
        job["error"]
    with pika.BlockingConnection(pika_parameters(server.amqp_port)) as connection:
        method, properties, dead = connection.channel().basic_get("imgbus.jobs.dead",
                                                                   auto_ack=True)
    assert method is not None, "imgbus.jobs.dead is empty"
    assert json.loads(dead)["id"] == job_id, dead
    assert properties.headers["imgbus-attempt"] == 2, properties.headers
    assert properties.headers["imgbus-error"].startswith("fetch failed: "), properties.headers


def check_worker_stops_on_sigterm(server, worker):
    exit_code = worker.stop()
    assert exit_code == 0, f"the worker exited with {exit_code}:\n" + worker.log()
    assert "stopped" in worker.log(), worker.log()
    assert PASSWORD not in worker.log(), "the worker logged the broker password"


def check_jobs_done_on_rabbitmq(folder):
    """The worker joins a frontend on Debian's RabbitMQ, which checks queue arguments strictly."""
    rabbitmq = RabbitMQ()
    frontend = worker = None
    try:
        rabbitmq.start()
        frontend = Server("--workers", "0", "--broker",
                          f"amqp://guest:guest@127.0.0.1:{rabbitmq.amqp_port}/%2F").start(60)
        worker = PythonWorker(frontend, folder, broker=(
            f"amqp://127.0.0.1:{rabbitmq.amqp_port}/%2F", "guest", "guest"))
        worker.wait_for_log("consuming imgbus.jobs", timeout=60)
        source = os.path.join(imgbus_server.TEST_DATA, "hostile", "17x17-420.jpg")
        status, _, body = frontend.upload(source, runs=3)
        assert status == 202, f"upload answered {status}: {body}"
        jobs = frontend.wait_for_jobs([job["id"] for job in body["jobs"]], timeout=60)
        for job in jobs.values():
            assert job["status"] == "done", f"job {job['id']} ended {job['status']}: {job['error']}"
            assert (job["width"], job["height"]) == (17, 17), job
    finally:
        if worker is not None:
            worker.stop()
        if frontend is not None:
            frontend.cleanup()
        rabbitmq.stop()


def main():
    require_environment()
    server = AmqpServer()
    server.start()
    worker = None
    checks = Checks()
    try:
        worker = PythonWorker(server, server.data_dir)
        worker.wait_for_log("consuming imgbus.jobs")
        checks.run("jpeg jobs done", check_jpeg_jobs_done, server, worker)
        checks.run("png pixels exact", check_png_pixels_exact, server, worker)
        checks.run("unsupported op failed", check_unsupported_op_failed, server, worker)
        checks.run("newer version rejected", check_newer_version_rejected, server, worker)
        checks.run("worker stops on SIGTERM", check_worker_stops_on_sigterm, server, worker)
        checks.run("killed worker jobs redelivered", check_killed_worker_jobs_redelivered,
                   server, PythonWorker(server, server.data_dir))
        checks.run("unreachable store dead-lettered", check_unreachable_store_dead_lettered,
                   server)
        checks.run("jobs done on rabbitmq", check_jobs_done_on_rabbitmq, server.data_dir)
        if checks.failed:
            print("--- python worker log\n" + worker.log()[-6000:])
            print("--- imgbus serve log\n" + server.log()[-6000:])
    finally:
        if worker is not None and worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait()
        server.cleanup()
    checks.finish()


if __name__ == "__main__":
    main()
